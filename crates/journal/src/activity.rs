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
        let search = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let mut args: Vec<Value> = Vec::new();
        // Three characters or more: found through the trigram index, newest
        // first, stopping at the page's end. Shorter: read line by line.
        // (A journal that cannot be written, read-only, is read line by line.)
        let indexed = search.filter(|s| s.chars().count() >= 3).filter(|_| self.index_new_lines().is_ok());
        let mut sql = match indexed {
            Some(s) => {
                args.push(Value::Text(format!("\"{}\"", s.replace('"', "\"\""))));
                String::from(
                    "SELECT e.id, e.at, e.run_id, e.connection_id, e.level, e.entity, e.entity_key, e.message
                     FROM events_search JOIN events e ON e.id = events_search.rowid
                     WHERE events_search MATCH ?",
                )
            }
            None => String::from(
                "SELECT e.id, e.at, e.run_id, e.connection_id, e.level, e.entity, e.entity_key, e.message
                 FROM events e WHERE 1 = 1",
            ),
        };
        if let Some(c) = &filter.connection_id {
            sql.push_str(" AND e.connection_id = ?");
            args.push(Value::Text(c.clone()));
        }
        if let Some(e) = &filter.entity {
            sql.push_str(" AND e.entity = ?");
            args.push(Value::Text(e.clone()));
        }
        if let Some(l) = filter.level {
            sql.push_str(" AND e.level = ?");
            args.push(Value::Text(l.as_str().to_owned()));
        }
        if let Some(s) = search.filter(|_| indexed.is_none()) {
            // LIKE with the wildcards of the search itself escaped.
            let pattern = format!("%{}%", s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            sql.push_str(" AND (e.entity_key LIKE ? ESCAPE '\\' OR e.message LIKE ? ESCAPE '\\')");
            args.push(Value::Text(pattern.clone()));
            args.push(Value::Text(pattern));
        }
        if let Some(b) = filter.before_id {
            sql.push_str(if indexed.is_some() { " AND events_search.rowid < ?" } else { " AND e.id < ?" });
            args.push(Value::Integer(b));
        }
        sql.push_str(if indexed.is_some() {
            " ORDER BY events_search.rowid DESC LIMIT ?"
        } else {
            " ORDER BY e.id DESC LIMIT ?"
        });
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
    /// Adds the lines written since the last search to the search index
    /// (one transaction; nothing to do when none were).
    fn index_new_lines(&self) -> Result<()> {
        let newest: i64 =
            self.read(|c| Ok(c.query_row("SELECT coalesce(max(id), 0) FROM events", [], |r| r.get(0))?))?;
        let done: i64 = self.read(|c| Ok(c.query_row("SELECT indexed_to FROM search_progress", [], |r| r.get(0))?))?;
        if newest <= done {
            return Ok(());
        }
        self.write(|tx| {
            let done: i64 = tx.query_row("SELECT indexed_to FROM search_progress", [], |r| r.get(0))?;
            tx.prepare_cached(
                "INSERT INTO events_search (rowid, entity_key, message)
                 SELECT id, coalesce(entity_key, ''), message FROM events WHERE id > ?1 AND id <= ?2",
            )?
            .execute(rusqlite::params![done, newest.max(done)])?;
            tx.prepare_cached("UPDATE search_progress SET indexed_to = max(indexed_to, ?1)")?.execute([newest])?;
            Ok(())
        })
    }

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
        // The index's search pages and filters as the plain one does.
        let mugs = |before_id| ActivityFilter {
            search: Some("mug-4".into()),
            level: Some(Level::Warn),
            before_id,
            ..Default::default()
        };
        let page1 = j.activity(&mugs(None), 100).expect("search page");
        assert_eq!(page1.len(), 100);
        assert!(page1.iter().all(|e| e.level == Level::Warn && e.message.to_lowercase().contains("mug-4")));
        assert!(page1.windows(2).all(|w| w[0].id > w[1].id), "newest first");
        let page2 = j.activity(&mugs(page1.last().map(|e| e.id)), 1000).expect("next search page");
        assert!(page2.first().is_some_and(|e| e.id < page1[99].id));
        let page3 = j.activity(&mugs(page2.last().map(|e| e.id)), 1000).expect("last search page");
        // Stock keys (multiples of ten) after "MUG-4": MUG-40, MUG-400..490, MUG-4000..4990, MUG-40000..49990.
        assert_eq!((page2.len(), page1.len() + page2.len() + page3.len()), (1000, 1 + 10 + 100 + 1000));
        let quoted = j
            .activity(&ActivityFilter { search: Some("\"x\" OR y".into()), ..Default::default() }, 10)
            .expect("quotes");
        assert!(quoted.is_empty(), "a search's quotes and words are text, not a query");
        // Lines written after a search are found by the next one.
        j.write(|tx| {
            let e = NewEvent::new(Level::Info, "order", "#99999", "Order #99999 came late").on("erp");
            crate::runs::insert_event(tx, None, &e, &crate::time::format_ts(now))
        })
        .expect("one more line");
        let late = j.activity(&ActivityFilter { search: Some("came late".into()), ..Default::default() }, 10);
        assert_eq!(late.expect("search").len(), 1);
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
