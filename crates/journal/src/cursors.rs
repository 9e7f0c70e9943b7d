//! Cursors per connection × entity. They are written only by
//! `Journal::commit_page`, in the same transaction as the page's rows.

use crate::error::Result;
use crate::Journal;
use ferry_domain::CursorState;
use rusqlite::OptionalExtension;

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
}
