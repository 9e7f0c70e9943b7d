//! Ferry's journal: one SQLite file (WAL) holding everything Ferry saw and
//! did. One writer connection owns every transaction (`write`), one reader
//! serves queries (`read`). No SQL lives outside this crate.

mod activity;
pub mod backup;
mod conflicts;
mod connections;
mod cursors;
mod error;
mod links;
mod mappings;
mod notifications;
mod outbox;
mod parcels;
mod runs;
pub mod schema;
mod time;

pub use activity::ActivityFilter;
pub use conflicts::{ConflictRow, NewConflict};
pub use connections::{ConnectionRow, FlowRow, Role};
pub use error::{JournalError, Result};
pub use mappings::{MappingEffect, MappingFollowups, MappingRow, UnmappedRow};
pub use notifications::{NewNotification, NotificationRow};
pub use outbox::{Finished, Followups, NewWrite, OutboxActivity, OutboxCounts, OutboxRow, OutboxState, PageCommit};
pub use parcels::{NewParcel, ParcelRow, FINAL_STATUSES};
pub use runs::{EventRow, Level, NewEvent, RunOutcome, RunRow, RunTotals};
pub use time::{format_ts, parse_ts};

use rusqlite::{Connection, OpenFlags, Transaction};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The file name inside a data dir.
pub const FILE_NAME: &str = "journal.sqlite";

/// An open journal.
pub struct Journal {
    path: PathBuf,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

impl Journal {
    /// Opens (creating and migrating if needed) `journal.sqlite` in `data_dir`.
    pub fn open_in(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir)
            .map_err(|source| JournalError::DataDir { path: data_dir.to_path_buf(), source })?;
        backup::finish_interrupted_restore(data_dir)?;
        Self::open(&data_dir.join(FILE_NAME))
    }

    /// Opens the journal at `path`, migrating it to the current schema.
    pub fn open(path: &Path) -> Result<Self> {
        let mut writer = Connection::open(path).map_err(|e| JournalError::open(path, e))?;
        configure(&writer).map_err(|e| JournalError::open(path, e))?;
        migrate(&mut writer).map_err(|e| JournalError::opening(path, e))?;
        let reader = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(|e| JournalError::open(path, e))?;
        reader.busy_timeout(Duration::from_secs(5)).map_err(|e| JournalError::open(path, e))?;
        Ok(Self { path: path.to_path_buf(), writer: Mutex::new(writer), reader: Mutex::new(reader) })
    }

    /// A consistent copy of the journal at `path` (`VACUUM INTO`), e.g. for
    /// a dry run to work on. `path` must not exist yet.
    pub fn copy_to(&self, path: &Path) -> Result<()> {
        let target = path.to_str().ok_or_else(|| JournalError::BadValue(format!("{} is not UTF-8", path.display())))?;
        let conn = lock(&self.writer);
        conn.prepare_cached("VACUUM INTO ?1")?.execute([target])?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one write transaction; commits on `Ok`, rolls back on `Err`.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` on the reader connection (sees the last committed state).
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = lock(&self.reader);
        f(&conn)
    }

    /// Caps the journal file at `pages` pages (`None` lifts the cap): how
    /// the reliability suite makes the disk full under a running engine.
    pub fn cap_pages(&self, pages: Option<u64>) -> Result<()> {
        let conn = lock(&self.writer);
        let cap = pages.unwrap_or(0xFFFF_FFFE);
        let _: i64 = conn.query_row(&format!("PRAGMA max_page_count = {cap}"), [], |r| r.get(0))?;
        Ok(())
    }

    /// `PRAGMA integrity_check` — `Ok(())` when the file is sound.
    pub fn integrity_check(&self) -> Result<()> {
        let verdict: String = self.read(|c| Ok(c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?))?;
        if verdict == "ok" {
            Ok(())
        } else {
            Err(JournalError::Corrupt(verdict))
        }
    }
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding the lock cannot leave a half-done transaction
    // behind (it rolls back on drop), so the connection is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let target = schema::version();
    if current > target {
        return Err(JournalError::TooNew { found: current, supported: target });
    }
    for (from, sql) in schema::MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", from as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_dump(j: &Journal) -> Vec<String> {
        j.read(|c| {
            let mut stmt = c.prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .expect("dump schema")
    }

    #[test]
    fn fresh_file_is_migrated_and_reopening_changes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = Journal::open_in(dir.path()).expect("open fresh");
        let fresh = schema_dump(&first);
        drop(first);
        let again = Journal::open_in(dir.path()).expect("reopen");
        assert_eq!(schema_dump(&again), fresh, "a migrated journal equals a fresh one");
        let tables =
            ["connections", "links", "cursors", "runs", "events", "outbox", "conflicts", "notifications", "http_log"];
        for t in tables {
            assert!(fresh.iter().any(|s| s.contains(&format!("CREATE TABLE {t} "))), "table {t} exists");
        }
        again.integrity_check().expect("fresh file passes integrity_check");
    }

    #[test]
    fn journal_uses_wal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::open_in(dir.path()).expect("open");
        let mode: String = j.read(|c| Ok(c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?)).expect("pragma");
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_newer_file_is_refused_not_damaged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(FILE_NAME);
        {
            let c = Connection::open(&path).expect("open raw");
            c.pragma_update(None, "user_version", 999).expect("set version");
        }
        let err = Journal::open(&path).expect_err("version 999 is from a newer Ferry");
        assert!(err.to_string().contains("newer"), "message says why: {err}");
    }

    #[test]
    fn failed_write_rolls_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::open_in(dir.path()).expect("open");
        let res: Result<()> = j.write(|tx| {
            tx.prepare_cached("INSERT INTO events (at, level, message) VALUES ('x', 'info', 'half')")?.execute([])?;
            Err(JournalError::Corrupt("forced".into()))
        });
        assert!(res.is_err());
        let n: i64 = j.read(|c| Ok(c.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?)).expect("count");
        assert_eq!(n, 0, "nothing half-written survives a failed transaction");
    }
}
