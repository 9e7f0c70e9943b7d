//! Runs (one execution of one flow for one connection) and events (the
//! activity log: what changed, where, why).

use crate::error::{JournalError, Result};
use crate::time::{format_ts, parse_ts};
use crate::Journal;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row, Transaction};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        match s {
            "info" => Ok(Level::Info),
            "warn" => Ok(Level::Warn),
            "error" => Ok(Level::Error),
            other => Err(JournalError::BadValue(format!("event level {other:?}"))),
        }
    }
}

/// An event to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub level: Level,
    pub connection_id: Option<String>,
    pub entity: Option<String>,
    pub entity_key: Option<String>,
    pub message: String,
}

impl NewEvent {
    pub fn new(level: Level, entity: &str, key: &str, message: impl Into<String>) -> Self {
        Self {
            level,
            connection_id: None,
            entity: Some(entity.into()),
            entity_key: Some(key.into()),
            message: message.into(),
        }
    }

    pub fn on(mut self, connection_id: &str) -> Self {
        self.connection_id = Some(connection_id.into());
        self
    }
}

/// A logged event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub run_id: Option<i64>,
    pub connection_id: Option<String>,
    pub level: Level,
    pub entity: Option<String>,
    pub entity_key: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    Ok,
    Partial,
    Failed,
}

impl RunOutcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Ok => "ok",
            RunOutcome::Partial => "partial",
            RunOutcome::Failed => "failed",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        match s {
            "ok" => Ok(Self::Ok),
            "partial" => Ok(Self::Partial),
            "failed" => Ok(Self::Failed),
            other => Err(JournalError::BadValue(format!("run outcome {other:?}"))),
        }
    }
}

/// What a connection's runs did in a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunTotals {
    pub runs: u64,
    pub fetched: u64,
    pub written: u64,
    pub failed: u64,
}

/// One run as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    pub id: i64,
    pub connection_id: String,
    pub flow: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: Option<RunOutcome>,
    pub fetched: u64,
    pub queued: u64,
    pub written: u64,
    pub failed: u64,
    pub message: Option<String>,
}

pub(crate) fn insert_event(tx: &Transaction<'_>, run_id: Option<i64>, e: &NewEvent, ts: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO events (at, run_id, connection_id, level, entity, entity_key, message)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![ts, run_id, e.connection_id, e.level.as_str(), e.entity, e.entity_key, e.message])?;
    Ok(())
}

fn run_from_row(r: &Row<'_>) -> Result<RunRow> {
    Ok(RunRow {
        id: r.get(0)?,
        connection_id: r.get(1)?,
        flow: r.get(2)?,
        started_at: parse_ts(&r.get::<_, String>(3)?)?,
        finished_at: r.get::<_, Option<String>>(4)?.as_deref().map(parse_ts).transpose()?,
        outcome: r.get::<_, Option<String>>(5)?.as_deref().map(RunOutcome::parse).transpose()?,
        fetched: r.get::<_, i64>(6)? as u64,
        queued: r.get::<_, i64>(7)? as u64,
        written: r.get::<_, i64>(8)? as u64,
        failed: r.get::<_, i64>(9)? as u64,
        message: r.get(10)?,
    })
}

const SELECT_RUN: &str =
    "SELECT id, connection_id, flow, started_at, finished_at, outcome, fetched, queued, written, failed, message FROM runs";

impl Journal {
    pub fn start_run(&self, connection_id: &str, flow: &str, at: DateTime<Utc>) -> Result<i64> {
        self.write(|tx| {
            tx.prepare_cached("INSERT INTO runs (connection_id, flow, started_at) VALUES (?1, ?2, ?3)")?
                .execute(params![connection_id, flow, format_ts(at)])?;
            Ok(tx.last_insert_rowid())
        })
    }

    pub fn finish_run(&self, id: i64, outcome: RunOutcome, message: Option<&str>, at: DateTime<Utc>) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached("UPDATE runs SET finished_at = ?2, outcome = ?3, message = ?4 WHERE id = ?1")?
                .execute(params![id, format_ts(at), outcome.as_str(), message])?;
            Ok(())
        })
    }

    pub fn log_event(&self, run_id: Option<i64>, event: &NewEvent, at: DateTime<Utc>) -> Result<()> {
        self.write(|tx| insert_event(tx, run_id, event, &format_ts(at)))
    }

    /// The latest finished run of a connection, and its latest successful one.
    pub fn last_runs(&self, connection_id: &str) -> Result<(Option<RunRow>, Option<RunRow>)> {
        self.read(|c| {
            let mut last = c.prepare_cached(&format!(
                "{SELECT_RUN} WHERE connection_id = ?1 AND finished_at IS NOT NULL ORDER BY id DESC LIMIT 1"
            ))?;
            let last = last.query_row([connection_id], |r| Ok(run_from_row(r))).optional()?.transpose()?;
            let mut ok = c.prepare_cached(&format!(
                "{SELECT_RUN} WHERE connection_id = ?1 AND outcome = 'ok' ORDER BY id DESC LIMIT 1"
            ))?;
            let ok = ok.query_row([connection_id], |r| Ok(run_from_row(r))).optional()?.transpose()?;
            Ok((last, ok))
        })
    }

    /// What the runs of a connection that started at or after `since` did.
    pub fn run_totals_since(&self, connection_id: &str, since: DateTime<Utc>) -> Result<RunTotals> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT count(*), COALESCE(sum(fetched), 0), COALESCE(sum(written), 0), COALESCE(sum(failed), 0)
                 FROM runs WHERE connection_id = ?1 AND started_at >= ?2",
            )?;
            Ok(stmt.query_row(params![connection_id, format_ts(since)], |r| {
                let n = |i| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
                Ok(RunTotals { runs: n(0)?, fetched: n(1)?, written: n(2)?, failed: n(3)? })
            })?)
        })
    }

    /// The newest run of one flow (e.g. `reconcile`) for a connection.
    pub fn last_run_of(&self, connection_id: &str, flow: &str) -> Result<Option<RunRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "{SELECT_RUN} WHERE connection_id = ?1 AND flow = ?2 ORDER BY id DESC LIMIT 1"
            ))?;
            stmt.query_row(params![connection_id, flow], |r| Ok(run_from_row(r))).optional()?.transpose()
        })
    }

    /// The newest warnings and errors about a connection.
    pub fn recent_failures(&self, connection_id: &str, limit: u32) -> Result<Vec<EventRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, at, run_id, connection_id, level, entity, entity_key, message FROM events
                 WHERE connection_id = ?1 AND level = 'error' ORDER BY id DESC LIMIT ?2",
            )?;
            let mut rows = stmt.query(params![connection_id, limit])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(event_from_row(r)?);
            }
            Ok(out)
        })
    }
}

/// An `events` row read as `SELECT id, at, run_id, connection_id, level, entity, entity_key, message`.
pub(crate) fn event_from_row(r: &Row<'_>) -> Result<EventRow> {
    Ok(EventRow {
        id: r.get(0)?,
        at: parse_ts(&r.get::<_, String>(1)?)?,
        run_id: r.get(2)?,
        connection_id: r.get(3)?,
        level: Level::parse(&r.get::<_, String>(4)?)?,
        entity: r.get(5)?,
        entity_key: r.get(6)?,
        message: r.get(7)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn runs_and_failures_are_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::open_in(dir.path()).expect("open");
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).single().expect("valid");
        let a = j.start_run("erp", "orders", t).expect("run a");
        j.finish_run(a, RunOutcome::Ok, None, t).expect("finish a");
        let b = j.start_run("erp", "orders", t).expect("run b");
        j.log_event(Some(b), &NewEvent::new(Level::Error, "order", "7", "502 from ERP").on("erp"), t).expect("event");
        j.finish_run(b, RunOutcome::Failed, Some("502 from ERP"), t).expect("finish b");
        let (last, ok) = j.last_runs("erp").expect("last runs");
        assert_eq!(last.map(|r| r.id), Some(b), "the failed run is the latest");
        assert_eq!(ok.map(|r| r.id), Some(a), "the last success is remembered separately");
        let failures = j.recent_failures("erp", 5).expect("failures");
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].message, "502 from ERP");
    }
}
