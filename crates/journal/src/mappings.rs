//! Mappings people set between the names two systems use for the same thing
//! (a store SKU ↔ an ERP item code, an ERP warehouse ↔ a store location),
//! and the values the engine met that have no mapping yet.

use crate::error::Result;
use crate::time::{format_ts, parse_ts};
use crate::Journal;
use chrono::{DateTime, Utc};
use rusqlite::{params, Row};
use std::collections::HashMap;

/// One mapping: `source` (as the first system names it) → `target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingRow {
    pub kind: String,
    pub source: String,
    pub target: String,
    pub updated_at: DateTime<Utc>,
}

/// A value the engine met with no mapping, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmappedRow {
    pub kind: String,
    pub value: String,
    pub connection_id: Option<String>,
    /// What happened because of it, in words.
    pub detail: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub seen: u64,
}

/// What else setting a mapping does, in the same transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MappingFollowups<'a> {
    /// Dead-lettered writes to put back in the queue (the orders that name
    /// the SKU just mapped).
    pub replay: &'a [i64],
    /// Forget the cursors of this entity so the next runs read it all again
    /// (stock skipped for an unmapped warehouse).
    pub reread_entity: Option<&'a str>,
}

/// What setting a mapping did besides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MappingEffect {
    pub replayed: u64,
    pub cursors_reset: u64,
}

fn row_to_mapping(r: &Row<'_>) -> Result<MappingRow> {
    Ok(MappingRow {
        kind: r.get(0)?,
        source: r.get(1)?,
        target: r.get(2)?,
        updated_at: parse_ts(&r.get::<_, String>(3)?)?,
    })
}

fn row_to_unmapped(r: &Row<'_>) -> Result<UnmappedRow> {
    Ok(UnmappedRow {
        kind: r.get(0)?,
        value: r.get(1)?,
        connection_id: r.get(2)?,
        detail: r.get(3)?,
        first_seen: parse_ts(&r.get::<_, String>(4)?)?,
        last_seen: parse_ts(&r.get::<_, String>(5)?)?,
        seen: r.get::<_, i64>(6)?.max(0) as u64,
    })
}

impl Journal {
    /// Sets `kind` `source` → `target` (replacing an earlier one), forgets
    /// it as unmapped, and carries out `then`, all in one transaction.
    pub fn set_mapping(
        &self,
        kind: &str,
        source: &str,
        target: &str,
        then: MappingFollowups<'_>,
        now: DateTime<Utc>,
    ) -> Result<MappingEffect> {
        let ts = format_ts(now);
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO mappings (kind, source, target, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(kind, source) DO UPDATE SET target = ?3, updated_at = ?4",
            )?
            .execute(params![kind, source, target, ts])?;
            tx.prepare_cached("DELETE FROM unmapped WHERE kind = ?1 AND value = ?2")?.execute(params![kind, source])?;
            let mut effect = MappingEffect::default();
            for id in then.replay {
                effect.replayed += tx
                    .prepare_cached(
                        "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?2, updated_at = ?2
                     WHERE state = 'dead' AND id = ?1",
                    )?
                    .execute(params![id, ts])? as u64;
            }
            if let Some(entity) = then.reread_entity {
                effect.cursors_reset =
                    tx.prepare_cached("DELETE FROM cursors WHERE entity = ?1")?.execute([entity])? as u64;
            }
            Ok(effect)
        })
    }

    /// Removes a mapping; true when there was one.
    pub fn remove_mapping(&self, kind: &str, source: &str) -> Result<bool> {
        self.write(|tx| {
            Ok(tx
                .prepare_cached("DELETE FROM mappings WHERE kind = ?1 AND source = ?2")?
                .execute(params![kind, source])?
                > 0)
        })
    }

    /// Every mapping, by kind then source.
    pub fn mappings(&self) -> Result<Vec<MappingRow>> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT kind, source, target, updated_at FROM mappings ORDER BY kind, source")?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(row_to_mapping(r)?);
            }
            Ok(out)
        })
    }

    /// The mappings of one kind as source → target.
    pub fn mapping_table(&self, kind: &str) -> Result<HashMap<String, String>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT source, target FROM mappings WHERE kind = ?1")?;
            let rows = stmt.query_map([kind], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Records that `value` of `kind` was met with no mapping (counting
    /// repeats). Nothing is recorded when a mapping exists meanwhile.
    pub fn note_unmapped(
        &self,
        kind: &str,
        value: &str,
        connection_id: Option<&str>,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let ts = format_ts(now);
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO unmapped (kind, value, connection_id, detail, first_seen, last_seen, seen)
                 SELECT ?1, ?2, ?3, ?4, ?5, ?5, 1
                 WHERE NOT EXISTS (SELECT 1 FROM mappings WHERE kind = ?1 AND source = ?2)
                 ON CONFLICT(kind, value) DO UPDATE SET detail = ?4, last_seen = ?5, seen = seen + 1,
                    connection_id = COALESCE(?3, connection_id)",
            )?
            .execute(params![kind, value, connection_id, detail, ts])?;
            Ok(())
        })
    }

    /// Values met with no mapping, most recently met first.
    pub fn unmapped(&self) -> Result<Vec<UnmappedRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT kind, value, connection_id, detail, first_seen, last_seen, seen FROM unmapped
                 ORDER BY last_seen DESC, kind, value",
            )?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(row_to_unmapped(r)?);
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewWrite, PageCommit};

    fn at(s: u32) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + i64::from(s), 0).expect("time")
    }

    #[test]
    fn an_unmapped_value_is_counted_then_forgotten_once_mapped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::open_in(dir.path()).expect("open");
        j.note_unmapped("warehouse", "Stores - X", Some("erp"), "stock not sent", at(1)).expect("note");
        j.note_unmapped("warehouse", "Stores - X", None, "stock still not sent", at(2)).expect("note again");
        let u = j.unmapped().expect("list");
        assert_eq!(u.len(), 1);
        assert_eq!(
            (u[0].seen, u[0].detail.as_str(), u[0].connection_id.as_deref()),
            (2, "stock still not sent", Some("erp"))
        );
        assert_eq!((u[0].first_seen, u[0].last_seen), (at(1), at(2)));

        let effect =
            j.set_mapping("warehouse", "Stores - X", "shop-floor", MappingFollowups::default(), at(3)).expect("map");
        assert_eq!(effect, MappingEffect::default());
        assert!(j.unmapped().expect("list").is_empty(), "mapping it clears it");
        j.note_unmapped("warehouse", "Stores - X", None, "late report", at(4)).expect("note after");
        assert!(j.unmapped().expect("list").is_empty(), "a mapped value is not reported again");
        assert_eq!(
            j.mapping_table("warehouse").expect("table").get("Stores - X").map(String::as_str),
            Some("shop-floor")
        );
        assert!(j.remove_mapping("warehouse", "Stores - X").expect("remove"));
        assert!(!j.remove_mapping("warehouse", "Stores - X").expect("remove again"));
        assert!(j.mappings().expect("list").is_empty());
    }

    #[test]
    fn mapping_replays_only_the_dead_writes_it_is_given_and_resets_cursors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::open_in(dir.path()).expect("open");
        let run = j.start_run("store", "orders", at(0)).expect("run");
        let write = |key: &str| NewWrite {
            idempotency_key: format!("order:{key}"),
            source_id: "store".into(),
            target_id: "erp".into(),
            entity: "order".into(),
            entity_key: key.into(),
            op: "create".into(),
            payload: serde_json::json!({}),
            supersedes: false,
        };
        let cursor = ferry_domain::CursorState::default();
        j.commit_page(
            PageCommit {
                run_id: run,
                source_id: "store",
                entity: "stock",
                cursor: &cursor,
                writes: vec![write("1"), write("2")],
                events: vec![],
                fetched: 2,
            },
            at(1),
        )
        .expect("commit");
        let rows = j.due_writes("erp", "order", at(2), 10).expect("due");
        let event = |m: &str| crate::NewEvent::new(crate::Level::Error, "order", "x", m.to_owned());
        j.start_write(rows[0].id, at(2)).expect("start");
        j.dead_letter_write(rows[0].id, "Could not find Item Code: GIFT_50%", &event("dead"), None, at(2))
            .expect("dead");
        j.start_write(rows[1].id, at(2)).expect("start");
        j.dead_letter_write(rows[1].id, "Could not find Item Code: GIFTX50", &event("dead"), None, at(2))
            .expect("dead");

        let effect = j
            .set_mapping(
                "sku",
                "GIFT_50%",
                "GIFT-CARD",
                MappingFollowups { replay: &[rows[0].id], reread_entity: Some("stock") },
                at(3),
            )
            .expect("map");
        assert_eq!(effect, MappingEffect { replayed: 1, cursors_reset: 1 });
        assert_eq!(j.dead_writes(10).expect("dead").len(), 1, "the other dead write stays");
        assert!(j.cursors_of("store").expect("cursors").is_empty());
    }
}
