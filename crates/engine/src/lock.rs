//! One Ferry syncs one data folder at a time. Two processes syncing the
//! same journal would each read the same changes and race each other's
//! writes; the second is refused with a message saying who holds it.
//! Reading the journal (`ferry status`, the app's pages) needs no lock.

use crate::api::{ApiError, ApiResult};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// The lock file inside a data dir.
pub const FILE_NAME: &str = "ferry.lock";

/// Held while this engine may sync; released when dropped (or when the
/// process dies: the OS frees the lock, so a crash never leaves it stuck).
#[derive(Debug)]
pub struct SyncLock {
    _file: File,
}

impl SyncLock {
    /// Takes the lock of `data_dir`, or says which process holds it.
    pub fn take(data_dir: &Path) -> ApiResult<SyncLock> {
        let path = data_dir.join(FILE_NAME);
        let io =
            |e: std::io::Error| ApiError::new("data_dir", format!("cannot use the lock file {}: {e}", path.display()));
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {
                file.set_len(0).map_err(io)?;
                file.seek(SeekFrom::Start(0)).map_err(io)?;
                write!(file, "{}", std::process::id()).map_err(io)?;
                file.flush().map_err(io)?;
                Ok(SyncLock { _file: file })
            }
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let who = match holder.trim() {
                    "" => "another process".to_owned(),
                    pid => format!("process {pid}"),
                };
                Err(ApiError::new(
                    "locked",
                    format!(
                        "another Ferry ({who}) is already syncing the data folder {}; only one may sync it at a time. \
                         Close the other one (the app may be in the tray), or give this one its own --data-dir",
                        data_dir.display()
                    ),
                ))
            }
            Err(TryLockError::Error(e)) => Err(io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_who_holds_it_and_the_lock_frees_on_drop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = SyncLock::take(dir.path()).expect("first");
        let refused = SyncLock::take(dir.path()).expect_err("second");
        assert_eq!(refused.code, "locked");
        assert!(refused.message.contains(&format!("process {}", std::process::id())), "{}", refused.message);
        assert!(refused.message.contains("--data-dir"), "says what to do: {}", refused.message);
        drop(first);
        SyncLock::take(dir.path()).expect("free again once dropped");
    }
}
