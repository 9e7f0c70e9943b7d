//! The watchdog: what no single run notices. A connection with no
//! successful run for too long raises one alert (again only after it has
//! recovered and gone stale anew), and orders are reconciled once a day.

use crate::api::{ApiResult, Inner};
use chrono::Duration;
use ferry_domain::AlertKind;

/// How long without a successful run before people are told.
pub const STALE_AFTER: Duration = Duration::hours(2);
/// How often orders are reconciled on their own, and the digest is written.
pub const RECONCILE_EVERY: Duration = Duration::hours(24);

/// What one check did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthCheck {
    /// Connections newly reported as stale.
    pub stale: Vec<String>,
    /// Whether a reconciliation ran.
    pub reconciled: bool,
    /// Whether the daily digest was written.
    pub digest: bool,
}

pub(crate) async fn check(inner: &Inner) -> ApiResult<HealthCheck> {
    let now = inner.now();
    let mut out = HealthCheck::default();
    for c in inner.journal.connections()? {
        if c.paused_reason.is_some() {
            continue; // a paused connection already said why
        }
        let (_, ok) = inner.journal.last_runs(&c.id)?;
        let since = ok.and_then(|r| r.finished_at).unwrap_or(c.created_at);
        let stale = now - since > STALE_AFTER;
        let already = inner.live.get(&c.id).stale_alerted;
        if stale && !already {
            let hours = (now - since).num_hours();
            crate::alerts::raise(
                inner,
                AlertKind::NoRecentSuccess,
                Some(&c.id),
                &format!("stale since {since}"),
                format!("{} has not synced for {hours} hours", c.name),
                format!(
                    "The last successful run with {} was at {}. Check its recent failures; Ferry keeps trying.",
                    c.name,
                    since.format("%Y-%m-%d %H:%M UTC")
                ),
            )?;
            out.stale.push(c.id.clone());
        }
        inner.live.update(&c.id, |l| l.stale_alerted = stale);
    }
    let last_reconcile = inner
        .journal
        .flows()?
        .iter()
        .filter(|f| f.enabled && f.flow == "orders")
        .map(|f| inner.journal.last_run_of(&f.target_id, "reconcile"))
        .collect::<Result<Vec<_>, _>>()?;
    let due = last_reconcile.iter().any(|r| r.as_ref().is_none_or(|r| now - r.started_at >= RECONCILE_EVERY));
    if due && !last_reconcile.is_empty() {
        let today = now.date_naive();
        for flow in inner.journal.flows()?.into_iter().filter(|f| f.enabled && f.flow == "orders") {
            let (store, erp) = crate::flows::ends(inner, &flow)?;
            if let Err(e) = crate::flows::reconcile_orders(inner, &store, &erp, today - Duration::days(2), today).await
            {
                tracing::warn!("scheduled reconciliation failed: {e}");
            }
        }
        out.reconciled = true;
    }
    out.digest = digest(inner)?;
    Ok(out)
}

/// Once a day, one line on what Ferry did: writes per kind, failures, alerts.
fn digest(inner: &Inner) -> ApiResult<bool> {
    let now = inner.now();
    let since = now - RECONCILE_EVERY;
    let log = inner.journal.alerts_since(since)?;
    if log.iter().any(|a| a.kind == AlertKind::Digest) {
        return Ok(false);
    }
    let activity = inner.journal.outbox_activity_since(since)?;
    let mut parts: Vec<String> = activity
        .iter()
        .map(|(entity, done, _)| match entity.as_str() {
            "order" => format!("{done} orders posted"),
            "stock" => format!("{done} stock levels written"),
            other => format!("{done} {other} writes"),
        })
        .collect();
    if parts.is_empty() {
        parts.push("nothing written".into());
    }
    let failed: u64 = activity.iter().map(|(_, _, dead)| dead).sum();
    let shown = log.iter().filter(|a| a.delivery == ferry_domain::Delivery::Shown).count();
    crate::alerts::raise(
        inner,
        AlertKind::Digest,
        None,
        &format!("digest {}", now.date_naive()),
        format!("Ferry's day: {}, {failed} failed", parts.join(", ")),
        format!("In the last 24 hours: {}; {failed} writes failed; {shown} alerts were shown.", parts.join(", ")),
    )?;
    Ok(true)
}
