//! `ferry backup` and `ferry restore`: a checked copy of the journal while
//! Ferry runs, and putting one back while nothing syncs.

use super::{ApiError, ApiResult, Engine};
use std::path::{Path, PathBuf};

impl Engine {
    /// Writes a checked backup of the journal to `to`, or to
    /// `<data dir>/backups/journal-<UTC time>.sqlite`. Returns where.
    pub fn backup(&self, to: Option<&Path>) -> ApiResult<PathBuf> {
        let to = match to {
            Some(p) => p.to_path_buf(),
            None => {
                let dir = self.journal_path().parent().map(Path::to_path_buf).unwrap_or_default();
                dir.join("backups").join(format!("journal-{}.sqlite", self.inner.now().format("%Y%m%d-%H%M%S")))
            }
        };
        self.inner.journal.backup_to(&to)?;
        Ok(to)
    }
}

/// Puts the backup `from` in place of the journal in `data_dir`, after
/// checking it, while no Ferry syncs that folder (refused otherwise). The
/// journal it replaces is kept beside it; returns where.
pub fn restore(data_dir: &Path, from: &Path) -> ApiResult<Option<PathBuf>> {
    let _lock = crate::lock::SyncLock::take(data_dir).map_err(|e| {
        ApiError::new(e.code, format!("{}; a journal cannot be restored under a running Ferry", e.message))
    })?;
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S").to_string();
    Ok(ferry_journal::backup::restore(data_dir, from, &stamp)?)
}
