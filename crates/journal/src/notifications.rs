//! The alert log: every alert the engine raised, with how it was delivered
//! (shown, grouped, suppressed) and whether a person has read it.

use crate::error::{JournalError, Result};
use crate::time::{format_ts, parse_ts};
use crate::Journal;
use chrono::{DateTime, Utc};
use ferry_domain::{AlertKind, Delivery, PastAlert};
use rusqlite::{params, Row};

/// An alert to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub kind: AlertKind,
    pub connection_id: Option<String>,
    pub subject: String,
    pub title: String,
    pub body: String,
    pub delivery: Delivery,
}

/// A logged alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub kind: AlertKind,
    pub connection_id: Option<String>,
    pub subject: String,
    pub title: String,
    pub body: String,
    pub delivery: Delivery,
    pub read: bool,
}

fn delivery_str(d: Delivery) -> &'static str {
    match d {
        Delivery::Shown => "shown",
        Delivery::Grouped => "grouped",
        Delivery::Suppressed => "suppressed",
    }
}

fn parse_delivery(s: &str) -> Result<Delivery> {
    match s {
        "shown" => Ok(Delivery::Shown),
        "grouped" => Ok(Delivery::Grouped),
        "suppressed" => Ok(Delivery::Suppressed),
        other => Err(JournalError::BadValue(format!("delivery {other:?}"))),
    }
}

fn parse_kind(s: &str) -> Result<AlertKind> {
    AlertKind::parse(s).ok_or_else(|| JournalError::BadValue(format!("alert kind {s:?}")))
}

fn from_row(r: &Row<'_>) -> Result<NotificationRow> {
    Ok(NotificationRow {
        id: r.get(0)?,
        at: parse_ts(&r.get::<_, String>(1)?)?,
        kind: parse_kind(&r.get::<_, String>(2)?)?,
        connection_id: r.get(3)?,
        subject: r.get(4)?,
        title: r.get(5)?,
        body: r.get(6)?,
        delivery: parse_delivery(&r.get::<_, String>(7)?)?,
        read: r.get(8)?,
    })
}

const SELECT: &str = "SELECT id, at, kind, connection_id, subject, title, body, delivery, read FROM notifications";

impl Journal {
    pub fn log_notification(&self, n: &NewNotification, at: DateTime<Utc>) -> Result<i64> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO notifications (at, kind, connection_id, subject, title, body, delivery, read)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                format_ts(at),
                n.kind.as_str(),
                n.connection_id,
                n.subject,
                n.title,
                n.body,
                delivery_str(n.delivery),
                // Suppressed alerts were never put in front of anyone.
                n.delivery == Delivery::Suppressed
            ])?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Alerts logged at or after `since`, for the alert policy.
    pub fn alerts_since(&self, since: DateTime<Utc>) -> Result<Vec<PastAlert>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!("{SELECT} WHERE at >= ?1 ORDER BY id"))?;
            let mut rows = stmt.query([format_ts(since)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let n = from_row(r)?;
                out.push(PastAlert {
                    at: n.at,
                    kind: n.kind,
                    connection_id: n.connection_id,
                    subject: n.subject,
                    delivery: n.delivery,
                });
            }
            Ok(out)
        })
    }

    /// The newest alerts first.
    pub fn notifications(&self, limit: u32) -> Result<Vec<NotificationRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!("{SELECT} ORDER BY id DESC LIMIT ?1"))?;
            let mut rows = stmt.query([limit])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(from_row(r)?);
            }
            Ok(out)
        })
    }

    /// Marks one alert (or all) as read. Returns how many changed.
    pub fn mark_read(&self, id: Option<i64>) -> Result<u64> {
        self.write(|tx| {
            Ok(tx
                .execute("UPDATE notifications SET read = 1 WHERE read = 0 AND (?1 IS NULL OR id = ?1)", params![id])?
                as u64)
        })
    }

    pub fn unread_notifications(&self) -> Result<u64> {
        self.read(|c| {
            Ok(c.query_row("SELECT count(*) FROM notifications WHERE read = 0", [], |r| r.get::<_, i64>(0))? as u64)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn alerts_are_logged_listed_and_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::open_in(dir.path()).expect("open");
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).single().expect("valid");
        let n = |delivery, subject: &str| NewNotification {
            kind: AlertKind::DeadLetter,
            connection_id: Some("erp".into()),
            subject: subject.into(),
            title: "3 orders could not be posted to ERPNext".into(),
            body: "Could not find Item Code: X".into(),
            delivery,
        };
        let shown = j.log_notification(&n(Delivery::Shown, "run 1"), t).expect("log");
        j.log_notification(&n(Delivery::Suppressed, "run 1"), t).expect("log");
        assert_eq!(j.unread_notifications().expect("unread"), 1, "a suppressed alert is not waiting to be read");
        let past = j.alerts_since(t).expect("since");
        assert_eq!(past.len(), 2);
        assert_eq!(past[0].delivery, Delivery::Shown);
        assert_eq!(j.notifications(10).expect("list")[0].delivery, Delivery::Suppressed, "newest first");
        assert_eq!(j.mark_read(Some(shown)).expect("read"), 1);
        assert_eq!(j.unread_notifications().expect("unread"), 0);
    }
}
