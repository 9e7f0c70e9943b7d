//! Cursors per connection × entity. They are written only by
//! `Journal::commit_page`, in the same transaction as the page's rows.

use crate::error::Result;
use crate::time::format_ts;
use crate::Journal;
use chrono::{DateTime, Utc};
use ferry_domain::CursorState;
use rusqlite::{params, OptionalExtension};

impl Journal {
    /// The committed cursor, or the empty one for a first run.
    pub fn cursor(&self, connection_id: &str, entity: &str) -> Result<CursorState> {
        let raw: Option<String> = self.read(|c| {
            Ok(c.query_row(
                "SELECT state FROM cursors WHERE connection_id = ?1 AND entity = ?2",
                [connection_id, entity],
                |r| r.get(0),
            )
            .optional()?)
        })?;
        Ok(match raw {
            Some(s) => serde_json::from_str(&s)?,
            None => CursorState::default(),
        })
    }

    /// Every cursor of a connection: (entity, state).
    pub fn cursors_of(&self, connection_id: &str) -> Result<Vec<(String, CursorState)>> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT entity, state FROM cursors WHERE connection_id = ?1 ORDER BY entity")?;
            let mut rows = stmt.query([connection_id])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let raw: String = r.get(1)?;
                out.push((r.get(0)?, serde_json::from_str(&raw)?));
            }
            Ok(out)
        })
    }

    /// Moves every cursor's watermark back to `to` (never forward), so the
    /// next runs read again from there. Safe at any time: what was already
    /// queued or posted is recognised and not written twice. Returns how
    /// many cursors moved.
    pub fn rewind_cursors(&self, to: DateTime<Utc>, now: DateTime<Utc>) -> Result<u64> {
        self.write(|tx| {
            let rows: Vec<(String, String, String)> = {
                let mut stmt = tx.prepare("SELECT connection_id, entity, state FROM cursors")?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut moved = 0;
            for (conn, entity, raw) in rows {
                let mut state: CursorState = serde_json::from_str(&raw)?;
                if state.watermark.is_some_and(|w| w > to) {
                    state.watermark = Some(to);
                    tx.prepare_cached(
                        "UPDATE cursors SET state = ?3, updated_at = ?4 WHERE connection_id = ?1 AND entity = ?2",
                    )?
                    .execute(params![
                        conn,
                        entity,
                        serde_json::to_string(&state)?,
                        format_ts(now)
                    ])?;
                    moved += 1;
                }
            }
            Ok(moved)
        })
    }
}
