//! Links: which record in one system is which in another (a store customer
//! and its ERP customer), with the snapshot both last agreed on.

use crate::error::Result;
use crate::time::format_ts;
use crate::Journal;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

impl Journal {
    /// The target system's key for `source_key`, if they are linked.
    pub fn link_target_key(
        &self,
        entity: &str,
        source_id: &str,
        source_key: &str,
        target_id: &str,
    ) -> Result<Option<String>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT target_key FROM links WHERE entity = ?1 AND source_id = ?2 AND source_key = ?3 AND target_id = ?4",
                params![entity, source_id, source_key, target_id],
                |r| r.get(0),
            )
            .optional()?)
        })
    }

    /// The source system's key linked to `target_key`, if any.
    pub fn link_source_key(
        &self,
        entity: &str,
        source_id: &str,
        target_id: &str,
        target_key: &str,
    ) -> Result<Option<String>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT source_key FROM links WHERE entity = ?1 AND source_id = ?2 AND target_id = ?3 AND target_key = ?4",
                params![entity, source_id, target_id, target_key],
                |r| r.get(0),
            )
            .optional()?)
        })
    }

    /// Links `source_key` to `target_key`, keeping any snapshot.
    pub fn set_link(
        &self,
        entity: &str,
        source_id: &str,
        source_key: &str,
        target_id: &str,
        target_key: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO links (entity, source_id, source_key, target_id, target_key, snapshot, synced_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6)
                 ON CONFLICT(entity, source_id, source_key, target_id) DO UPDATE SET target_key = ?5, synced_at = ?6",
            )?
            .execute(params![entity, source_id, source_key, target_id, target_key, format_ts(now)])?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_found_from_both_ends_and_keeps_its_snapshot() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::open_in(dir.path()).expect("open");
        let now = Utc::now();
        j.set_link("customer", "shop", "C1", "erp", "Ada Lovelace", now).expect("link");
        j.set_link_snapshot("customer", "shop", "C1", "erp", &serde_json::json!({ "email": "a@b.c" }), now)
            .expect("snapshot");
        j.set_link("customer", "shop", "C1", "erp", "Ada Lovelace-1", now).expect("relink");
        assert_eq!(
            j.link_target_key("customer", "shop", "C1", "erp").expect("read").as_deref(),
            Some("Ada Lovelace-1")
        );
        assert_eq!(
            j.link_source_key("customer", "shop", "erp", "Ada Lovelace-1").expect("read").as_deref(),
            Some("C1")
        );
        assert_eq!(j.link_source_key("customer", "shop", "erp", "Ada Lovelace").expect("read"), None);
        let snap = j.link_snapshot("customer", "shop", "C1", "erp").expect("read").expect("kept");
        assert_eq!(snap["email"], "a@b.c");
    }
}
