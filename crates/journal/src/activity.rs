//! The journal as people read it: events newest first, filtered and
//! searched, one page at a time by id (a keyset, so a page is as quick at
//! the millionth row as at the first).

use crate::error::Result;
use crate::runs::{EventRow, Level};
use crate::Journal;
use rusqlite::types::Value;

/// What to show. Every field narrows; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityFilter {
    pub connection_id: Option<String>,
    pub entity: Option<String>,
    pub level: Option<Level>,
    /// Matched anywhere in the record's key or the message (an order
    /// number, a SKU, a customer's email).
    pub search: Option<String>,
    /// Only events older than this id (the previous page's last).
    pub before_id: Option<i64>,
}

impl Journal {
    /// One page of events, newest first.
    pub fn activity(&self, filter: &ActivityFilter, limit: u32) -> Result<Vec<EventRow>> {
        let mut sql = String::from(
            "SELECT id, at, run_id, connection_id, level, entity, entity_key, message FROM events WHERE 1 = 1",
        );
        let mut args: Vec<Value> = Vec::new();
        if let Some(c) = &filter.connection_id {
            sql.push_str(" AND connection_id = ?");
            args.push(Value::Text(c.clone()));
        }
        if let Some(e) = &filter.entity {
            sql.push_str(" AND entity = ?");
            args.push(Value::Text(e.clone()));
        }
        if let Some(l) = filter.level {
            sql.push_str(" AND level = ?");
            args.push(Value::Text(l.as_str().to_owned()));
        }
        if let Some(s) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            // LIKE with the wildcards of the search itself escaped.
            let pattern = format!("%{}%", s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            sql.push_str(" AND (entity_key LIKE ? ESCAPE '\\' OR message LIKE ? ESCAPE '\\')");
            args.push(Value::Text(pattern.clone()));
            args.push(Value::Text(pattern));
        }
        if let Some(b) = filter.before_id {
            sql.push_str(" AND id < ?");
            args.push(Value::Integer(b));
        }
        sql.push_str(" ORDER BY id DESC LIMIT ?");
        args.push(Value::Integer(i64::from(limit.min(1000))));
        self.read(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(crate::runs::event_from_row(r)?);
            }
            Ok(out)
        })
    }
}

impl Journal {
    /// Everything the journal says about one record, on every system,
    /// oldest first: its own events, and those of the records it is linked
    /// to (the ERP's document for a store order, and back).
    pub fn record_history(&self, entity: &str, key: &str, limit: u32) -> Result<Vec<EventRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "WITH keys(k) AS (
                    SELECT ?2
                    UNION SELECT target_key FROM links WHERE entity = ?1 AND source_key = ?2
                    UNION SELECT source_key FROM links WHERE entity = ?1 AND target_key = ?2
                 )
                 SELECT id, at, run_id, connection_id, level, entity, entity_key, message FROM (
                    SELECT * FROM events WHERE entity = ?1 AND entity_key IN (SELECT k FROM keys)
                    ORDER BY id DESC LIMIT ?3
                 ) ORDER BY id",
            )?;
            let mut rows = stmt.query(rusqlite::params![entity, key, i64::from(limit.min(5000))])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(crate::runs::event_from_row(r)?);
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runs::NewEvent;
    use chrono::Utc;

    #[test]
    fn pages_filter_and_search_and_stay_quick_over_many_rows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::open_in(dir.path()).expect("open");
        let now = Utc::now();
        j.write(|tx| {
            for i in 0..50_000 {
                let (entity, key, level) = if i % 10 == 0 {
                    ("stock", format!("MUG-{i}"), Level::Warn)
                } else {
                    ("order", format!("#{i}"), Level::Info)
                };
                let e = NewEvent::new(level, entity, &key, format!("Order {key} posted 100%_done")).on("erp");
                crate::runs::insert_event(tx, None, &e, &crate::time::format_ts(now))?;
            }
            Ok(())
        })
        .expect("seeded");
        let first = j.activity(&ActivityFilter::default(), 100).expect("page");
        assert_eq!(first.len(), 100);
        assert!(first.windows(2).all(|w| w[0].id > w[1].id), "newest first");
        let next = j
            .activity(&ActivityFilter { before_id: first.last().map(|e| e.id), ..Default::default() }, 100)
            .expect("next page");
        assert!(next[0].id < first[99].id, "the next page starts where the first ended");
        let stock =
            j.activity(&ActivityFilter { entity: Some("stock".into()), ..Default::default() }, 1000).expect("stock");
        assert_eq!(stock.len(), 1000, "capped at 1000 a page");
        assert!(stock.iter().all(|e| e.entity.as_deref() == Some("stock") && e.level == Level::Warn));
        let found =
            j.activity(&ActivityFilter { search: Some("#4242".into()), ..Default::default() }, 50).expect("search");
        let keys: Vec<String> = found.iter().map(|e| e.entity_key.clone().unwrap_or_default()).collect();
        assert_eq!(keys.len(), 10, "#4242 and #42421..#42429 (#42420 is a stock event): {keys:?}");
        assert!(keys.iter().all(|k| k.contains("#4242")) && keys.contains(&"#4242".to_owned()));
        let literal =
            j.activity(&ActivityFilter { search: Some("0%_d".into()), ..Default::default() }, 10).expect("literal");
        assert!(literal.iter().all(|e| e.message.contains("0%_d")), "% and _ are searched as themselves");
        let none = j.activity(&ActivityFilter { search: Some("x%".into()), ..Default::default() }, 10).expect("none");
        assert!(none.is_empty(), "a search's % is not a wildcard");
    }

    #[test]
    fn a_records_history_follows_its_links_across_systems() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::open_in(dir.path()).expect("open");
        let now = Utc::now();
        j.set_link("order", "shop", "1021", "erp", "SO-0007", now).expect("link");
        j.write(|tx| {
            let ts = crate::time::format_ts(now);
            for (conn, key, msg) in [
                ("shop", "1021", "read order #1021"),
                ("shop", "1022", "read order #1022"),
                ("erp", "SO-0007", "SO-0007 submitted"),
                ("erp", "1021", "order #1021 posted as SO-0007"),
            ] {
                crate::runs::insert_event(tx, None, &NewEvent::new(Level::Info, "order", key, msg).on(conn), &ts)?;
            }
            crate::runs::insert_event(
                tx,
                None,
                &NewEvent::new(Level::Info, "stock", "1021", "not an order").on("erp"),
                &ts,
            )?;
            Ok(())
        })
        .expect("seeded");
        let from_store: Vec<String> =
            j.record_history("order", "1021", 100).expect("history").into_iter().map(|e| e.message).collect();
        assert_eq!(
            from_store,
            vec!["read order #1021", "SO-0007 submitted", "order #1021 posted as SO-0007"],
            "oldest first"
        );
        let from_erp = j.record_history("order", "SO-0007", 100).expect("history");
        assert_eq!(from_erp.len(), 3, "the same history from the ERP's key");
        assert_eq!(j.record_history("order", "1021", 2).expect("capped").len(), 2, "the newest, when capped");
    }
}
