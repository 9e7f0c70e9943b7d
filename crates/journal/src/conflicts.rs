//! Conflicts: a field changed differently on both sides since they last
//! agreed. Held until a person decides; the decision is kept with who,
//! when and why, and its writes are queued in the same transaction.

use crate::error::{JournalError, Result};
use crate::outbox::NewWrite;
use crate::time::{format_ts, parse_ts};
use crate::Journal;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};

/// A conflict to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConflict {
    pub source_id: String,
    pub target_id: String,
    pub entity: String,
    pub entity_key: String,
    pub field: String,
    pub base: Option<String>,
    pub store_value: Option<String>,
    pub erp_value: Option<String>,
}

/// A conflict as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictRow {
    pub id: i64,
    pub source_id: String,
    pub target_id: String,
    pub entity: String,
    pub entity_key: String,
    pub field: String,
    pub base: Option<String>,
    pub store_value: Option<String>,
    pub erp_value: Option<String>,
    pub open: bool,
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub resolution: Option<String>,
    pub reason: Option<String>,
}

const SELECT: &str = "SELECT id, source_id, target_id, entity, entity_key, field, base_value, store_value, erp_value,
    state, opened_at, resolved_at, resolved_by, resolution, reason FROM conflicts";

fn from_row(r: &Row<'_>) -> Result<ConflictRow> {
    Ok(ConflictRow {
        id: r.get(0)?,
        source_id: r.get(1)?,
        target_id: r.get(2)?,
        entity: r.get(3)?,
        entity_key: r.get(4)?,
        field: r.get(5)?,
        base: r.get(6)?,
        store_value: r.get(7)?,
        erp_value: r.get(8)?,
        open: r.get::<_, String>(9)? == "open",
        opened_at: parse_ts(&r.get::<_, String>(10)?)?,
        resolved_at: r.get::<_, Option<String>>(11)?.as_deref().map(parse_ts).transpose()?,
        resolved_by: r.get(12)?,
        resolution: r.get(13)?,
        reason: r.get(14)?,
    })
}

fn collect(mut rows: rusqlite::Rows<'_>) -> Result<Vec<ConflictRow>> {
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(from_row(r)?);
    }
    Ok(out)
}

impl Journal {
    /// Opens a conflict unless one is already open for the same field.
    /// Returns the new id, or `None` when it was already open.
    pub fn open_conflict(&self, c: &NewConflict, now: DateTime<Utc>) -> Result<Option<i64>> {
        self.write(|tx| {
            let open: bool = tx.query_row(
                "SELECT count(*) > 0 FROM conflicts WHERE state = 'open' AND source_id = ?1 AND target_id = ?2
                 AND entity = ?3 AND entity_key = ?4 AND field = ?5",
                params![c.source_id, c.target_id, c.entity, c.entity_key, c.field],
                |r| r.get(0),
            )?;
            if open {
                return Ok(None);
            }
            tx.prepare_cached("INSERT INTO conflicts (source_id, target_id, entity, entity_key, field, base_value, store_value, erp_value, state, opened_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', ?9)")?.execute(
                params![c.source_id, c.target_id, c.entity, c.entity_key, c.field, c.base, c.store_value, c.erp_value, format_ts(now)],
            )?;
            Ok(Some(tx.last_insert_rowid()))
        })
    }

    /// Open conflicts of one record.
    pub fn open_conflicts_of(
        &self,
        source_id: &str,
        target_id: &str,
        entity: &str,
        key: &str,
    ) -> Result<Vec<ConflictRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "{SELECT} WHERE state = 'open' AND source_id = ?1 AND target_id = ?2 AND entity = ?3 AND entity_key = ?4 ORDER BY id"
            ))?;
            let rows = collect(stmt.query(params![source_id, target_id, entity, key])?);
            rows
        })
    }

    /// Conflicts, newest first; only open ones unless `all`.
    pub fn conflicts(&self, all: bool, limit: u32) -> Result<Vec<ConflictRow>> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached(&format!("{SELECT} WHERE ?1 OR state = 'open' ORDER BY id DESC LIMIT ?2"))?;
            let rows = collect(stmt.query(params![all, limit])?);
            rows
        })
    }

    pub fn conflict(&self, id: i64) -> Result<Option<ConflictRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!("{SELECT} WHERE id = ?1"))?;
            stmt.query_row([id], |r| Ok(from_row(r))).optional()?.transpose()
        })
    }

    /// Open conflicts touching a connection.
    pub fn open_conflicts_on(&self, connection_id: &str) -> Result<u64> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM conflicts WHERE state = 'open' AND (source_id = ?1 OR target_id = ?1)",
                [connection_id],
                |r| r.get::<_, i64>(0),
            )? as u64)
        })
    }

    /// Closes a conflict with a decision and queues the writes that carry
    /// it out, in one transaction. Fails if it is not open any more.
    pub fn resolve_conflict(
        &self,
        id: i64,
        resolution: &str,
        who: &str,
        reason: Option<&str>,
        writes: &[NewWrite],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let ts = format_ts(now);
        self.write(|tx| {
            let changed = tx.prepare_cached("UPDATE conflicts SET state = 'resolved', resolved_at = ?2, resolved_by = ?3, resolution = ?4, reason = ?5
                 WHERE id = ?1 AND state = 'open'")?.execute(
                params![id, ts, who, resolution, reason],
            )?;
            if changed == 0 {
                return Err(JournalError::BadValue(format!("conflict {id} is not open")));
            }
            crate::outbox::queue(tx, writes, &ts)?;
            Ok(())
        })
    }

    /// The snapshot both sides last agreed on (the merge base).
    pub fn link_snapshot(
        &self,
        entity: &str,
        source_id: &str,
        key: &str,
        target_id: &str,
    ) -> Result<Option<serde_json::Value>> {
        let raw: Option<Option<String>> = self.read(|c| {
            Ok(c.query_row(
                "SELECT snapshot FROM links WHERE entity = ?1 AND source_id = ?2 AND source_key = ?3 AND target_id = ?4",
                params![entity, source_id, key, target_id],
                |r| r.get(0),
            )
            .optional()?)
        })?;
        Ok(raw.flatten().map(|s| serde_json::from_str(&s)).transpose()?)
    }

    pub fn set_link_snapshot(
        &self,
        entity: &str,
        source_id: &str,
        key: &str,
        target_id: &str,
        snapshot: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO links (entity, source_id, source_key, target_id, target_key, snapshot, synced_at)
                 VALUES (?1, ?2, ?3, ?4, ?3, ?5, ?6)
                 ON CONFLICT(entity, source_id, source_key, target_id) DO UPDATE SET snapshot = ?5, synced_at = ?6",
            )?
            .execute(params![entity, source_id, key, target_id, snapshot.to_string(), format_ts(now)])?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_conflict_opens_once_and_resolves_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::open_in(dir.path()).expect("open");
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).single().expect("valid");
        let c = NewConflict {
            source_id: "shop".into(),
            target_id: "erp".into(),
            entity: "catalog".into(),
            entity_key: "MUG".into(),
            field: "price".into(),
            base: Some("10".into()),
            store_value: Some("11".into()),
            erp_value: Some("12".into()),
        };
        let id = j.open_conflict(&c, t).expect("open").expect("new");
        assert_eq!(j.open_conflict(&c, t).expect("again"), None, "one open conflict per field");
        assert_eq!(j.open_conflicts_on("erp").expect("count"), 1);
        j.resolve_conflict(id, "keep ERP", "ada", Some("list price"), &[], t).expect("resolve");
        assert!(j.resolve_conflict(id, "keep store", "bob", None, &[], t).is_err(), "a decision is not taken twice");
        let row = j.conflict(id).expect("read").expect("exists");
        assert_eq!(
            (row.open, row.resolved_by.as_deref(), row.reason.as_deref()),
            (false, Some("ada"), Some("list price"))
        );
        assert_eq!(j.conflicts(false, 10).expect("open list").len(), 0);
        assert_eq!(j.conflicts(true, 10).expect("history").len(), 1, "resolved conflicts are kept as history");
    }
}
