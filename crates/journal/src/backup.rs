//! Backups and restores of the journal file. A backup is a consistent
//! copy taken while Ferry runs (`VACUUM INTO`), checked before it is called
//! good. A restore checks the backup, keeps the journal it replaces beside
//! it, and swaps the files in one rename.

use crate::error::{JournalError, Result};
use crate::{Journal, FILE_NAME};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// Checks the journal file at `path` without changing it: it opens, passes
/// `PRAGMA integrity_check`, and its schema is one this Ferry reads.
pub fn check_file(path: &Path) -> Result<()> {
    if !path.is_file() {
        return Err(JournalError::NotABackup(format!("{} is not a file", path.display())));
    }
    let unreadable = |e: rusqlite::Error| {
        JournalError::NotABackup(format!(
            "{} is damaged or is not a Ferry journal ({e}); pick another backup",
            path.display()
        ))
    };
    let c = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(unreadable)?;
    let verdict: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(unreadable)?;
    if verdict != "ok" {
        return Err(JournalError::Corrupt(format!("{}: {verdict}", path.display())));
    }
    let version: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > crate::schema::version() {
        return Err(JournalError::TooNew { found: version, supported: crate::schema::version() });
    }
    if version == 0 {
        return Err(JournalError::NotABackup(format!("{} is not a Ferry journal (no schema)", path.display())));
    }
    Ok(())
}

impl Journal {
    /// Writes a consistent copy of the journal to `to` (which must not
    /// exist) and checks it.
    pub fn backup_to(&self, to: &Path) -> Result<()> {
        if to.exists() {
            return Err(JournalError::NotABackup(format!("{} exists already; pick a new name", to.display())));
        }
        if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| JournalError::DataDir { path: dir.to_path_buf(), source })?;
        }
        self.copy_to(to)?;
        check_file(to)
    }
}

/// Replaces the journal in `data_dir` with the backup at `from`, after
/// checking it. The journal it replaces is kept beside it as
/// `journal.sqlite.before-restore-<stamp>`; returns that path (`None` when
/// there was no journal). Nothing may have the journal open meanwhile.
pub fn restore(data_dir: &Path, from: &Path, stamp: &str) -> Result<Option<PathBuf>> {
    check_file(from)?;
    let live = data_dir.join(FILE_NAME);
    let incoming = data_dir.join(format!("{FILE_NAME}.restoring"));
    let io = |path: &Path, source: std::io::Error| JournalError::DataDir { path: path.to_path_buf(), source };
    std::fs::create_dir_all(data_dir).map_err(|e| io(data_dir, e))?;
    std::fs::copy(from, &incoming).map_err(|e| io(&incoming, e))?;
    std::fs::File::open(&incoming).and_then(|f| f.sync_all()).map_err(|e| io(&incoming, e))?;
    let kept = if live.exists() {
        let kept = data_dir.join(format!("{FILE_NAME}.before-restore-{stamp}"));
        // A copy of the log files first: opening a damaged journal may
        // discard them, and they go with the journal that is kept.
        let mut copies = Vec::new();
        for leftover in ["-wal", "-shm"] {
            let from = data_dir.join(format!("{FILE_NAME}{leftover}"));
            if from.exists() {
                let to = PathBuf::from(format!("{}{leftover}", kept.display()));
                std::fs::copy(&from, &to).map_err(|e| io(&from, e))?;
                copies.push((from, to));
            }
        }
        // Fold the log into the file, so the kept journal is whole on its
        // own; a damaged journal cannot be folded and keeps its copies.
        let folded = (|| -> rusqlite::Result<()> {
            let c = Connection::open(&live)?;
            c.busy_timeout(std::time::Duration::from_secs(5))?;
            let _: (i64, i64, i64) =
                c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            c.pragma_update(None, "journal_mode", "DELETE")
        })();
        for (from, copy) in copies {
            let _ = std::fs::remove_file(&from);
            if folded.is_ok() {
                let _ = std::fs::remove_file(&copy);
            }
        }
        std::fs::rename(&live, &kept).map_err(|e| io(&live, e))?;
        Some(kept)
    } else {
        None
    };
    // If Ferry stops right here, opening the journal finishes the restore.
    std::fs::rename(&incoming, &live).map_err(|e| io(&live, e))?;
    Ok(kept)
}

/// Finishes a restore that stopped between its two renames: the checked
/// backup waits as `journal.sqlite.restoring` and there is no journal.
pub(crate) fn finish_interrupted_restore(data_dir: &Path) -> Result<()> {
    let (live, incoming) = (data_dir.join(FILE_NAME), data_dir.join(format!("{FILE_NAME}.restoring")));
    if !live.exists() && incoming.is_file() {
        std::fs::rename(&incoming, &live).map_err(|source| JournalError::DataDir { path: live.clone(), source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Level, NewEvent};
    use chrono::Utc;

    fn count(j: &Journal) -> i64 {
        j.read(|c| Ok(c.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?)).expect("count")
    }

    #[test]
    fn a_backup_restores_and_the_replaced_journal_is_kept() {
        let live = tempfile::tempdir().expect("tempdir");
        let elsewhere = tempfile::tempdir().expect("tempdir");
        let backup = elsewhere.path().join("b/journal-1.sqlite");
        {
            let j = Journal::open_in(live.path()).expect("open");
            j.log_event(None, &NewEvent::new(Level::Info, "order", "1", "one"), Utc::now()).expect("log");
            j.backup_to(&backup).expect("backup");
            assert!(j.backup_to(&backup).is_err(), "never overwrites a backup");
            j.log_event(None, &NewEvent::new(Level::Info, "order", "2", "two, after the backup"), Utc::now())
                .expect("log");
        }
        let kept = restore(live.path(), &backup, "t1").expect("restore").expect("the old journal is kept");
        let j = Journal::open_in(live.path()).expect("reopen");
        assert_eq!(count(&j), 1, "the backup's state");
        let old = Journal::open(&kept).expect("the kept journal opens");
        assert_eq!(count(&old), 2, "nothing of the replaced journal is lost, its WAL included");
    }

    #[test]
    fn a_damaged_live_journal_is_replaced_and_kept_as_it_was() {
        let live = tempfile::tempdir().expect("tempdir");
        let elsewhere = tempfile::tempdir().expect("tempdir");
        let backup = elsewhere.path().join("good.sqlite");
        Journal::open_in(live.path()).expect("open").backup_to(&backup).expect("backup");
        std::fs::write(live.path().join(FILE_NAME), vec![7u8; 8192]).expect("damage");
        std::fs::write(live.path().join(format!("{FILE_NAME}-wal")), b"junk log").expect("wal");
        let kept = restore(live.path(), &backup, "t").expect("restore over a damaged journal").expect("kept");
        Journal::open_in(live.path()).expect("the restored journal opens").integrity_check().expect("sound");
        assert!(PathBuf::from(format!("{}-wal", kept.display())).exists(), "its log is kept with it");
    }

    #[test]
    fn a_restore_cut_short_is_finished_on_open() {
        let live = tempfile::tempdir().expect("tempdir");
        let backup = live.path().join("b.sqlite");
        Journal::open_in(live.path()).expect("open").backup_to(&backup).expect("backup");
        std::fs::remove_file(live.path().join(FILE_NAME)).expect("the old one moved aside");
        std::fs::copy(&backup, live.path().join(format!("{FILE_NAME}.restoring"))).expect("incoming");
        Journal::open_in(live.path()).expect("open finishes the restore").integrity_check().expect("sound");
        assert!(!live.path().join(format!("{FILE_NAME}.restoring")).exists());
    }

    #[test]
    fn a_damaged_or_foreign_file_is_refused_and_changes_nothing() {
        let live = tempfile::tempdir().expect("tempdir");
        {
            let j = Journal::open_in(live.path()).expect("open");
            j.log_event(None, &NewEvent::new(Level::Info, "order", "1", "one"), Utc::now()).expect("log");
        }
        let junk = live.path().join("junk.sqlite");
        std::fs::write(&junk, vec![7u8; 8192]).expect("junk");
        let e = restore(live.path(), &junk, "t").expect_err("junk");
        assert!(
            e.to_string().contains("damaged or is not a Ferry journal")
                && e.to_string().contains("pick another backup"),
            "{e}"
        );
        let empty = live.path().join("empty.sqlite");
        Connection::open(&empty).expect("empty db").execute_batch("CREATE TABLE x (y)").expect("table");
        assert!(restore(live.path(), &empty, "t").expect_err("foreign").to_string().contains("not a Ferry journal"));
        assert_eq!(count(&Journal::open_in(live.path()).expect("still there")), 1);
    }
}
