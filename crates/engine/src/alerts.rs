//! Raising alerts: the policy decides (shown, grouped, suppressed), the
//! journal keeps every one, and shown ones go to listeners (the desktop
//! shell turns them into desktop notifications).

use crate::api::{ApiResult, EngineEvent, Inner};
use ferry_domain::{AlertKind, Delivery};
use ferry_journal::NewNotification;
use serde::Serialize;

/// An alert that was put in front of people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub id: i64,
    pub kind: AlertKind,
    pub connection_id: Option<String>,
    pub title: String,
    pub body: String,
}

pub(crate) fn raise(
    inner: &Inner,
    kind: AlertKind,
    connection_id: Option<&str>,
    subject: &str,
    title: String,
    body: String,
) -> ApiResult<Delivery> {
    let now = inner.now();
    let log = inner.journal.alerts_since(now - inner.alert_policy.window)?;
    let delivery = inner.alert_policy.decide(kind, connection_id, subject, now, &log);
    let id = inner.journal.log_notification(
        &NewNotification {
            kind,
            connection_id: connection_id.map(str::to_owned),
            subject: subject.to_owned(),
            title: title.clone(),
            body: body.clone(),
            delivery,
        },
        now,
    )?;
    if delivery == Delivery::Shown {
        let _ = inner.events.send(EngineEvent::Alert(Alert {
            id,
            kind,
            connection_id: connection_id.map(str::to_owned),
            title,
            body,
        }));
    }
    Ok(delivery)
}
