//! Journal errors: what failed and on which file.

use std::path::PathBuf;

pub type Result<T, E = JournalError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot create the data folder {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("cannot open the journal {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error(
        "the journal was written by a newer Ferry (schema {found}, this version knows up to {supported}); update Ferry"
    )]
    TooNew { found: i64, supported: i64 },
    #[error("journal query failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("journal holds data this version cannot read: {0}")]
    Json(#[from] serde_json::Error),
    #[error("journal integrity check failed: {0}")]
    Corrupt(String),
    #[error("journal holds a bad value: {0}")]
    BadValue(String),
}

impl JournalError {
    pub(crate) fn open(path: &std::path::Path, source: rusqlite::Error) -> Self {
        Self::Open { path: path.to_path_buf(), source }
    }
}
