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
    Sqlite(rusqlite::Error),
    #[error(
        "the disk holding the journal is full ({0}); the last change was not kept and nothing half-written was. \
         Free some space: Ferry carries on where it stopped"
    )]
    DiskFull(rusqlite::Error),
    #[error(
        "the journal {path} is damaged or is not a Ferry journal ({source}). Restore a backup with \
         `ferry restore FILE`, or move the file away to start afresh"
    )]
    Damaged { path: PathBuf, source: rusqlite::Error },
    #[error(
        "Ferry cannot write its journal {path} ({source}); give your user write access to the file and its folder"
    )]
    ReadOnly { path: PathBuf, source: rusqlite::Error },
    #[error("journal holds data this version cannot read: {0}")]
    Json(#[from] serde_json::Error),
    #[error("journal integrity check failed: {0}")]
    Corrupt(String),
    #[error("journal holds a bad value: {0}")]
    BadValue(String),
    /// A file offered as a backup that is not one (or a backup path in use).
    #[error("{0}")]
    NotABackup(String),
}

impl From<rusqlite::Error> for JournalError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => Self::DiskFull(e),
            _ => Self::Sqlite(e),
        }
    }
}

impl JournalError {
    /// An error met while opening (or migrating) the journal at `path`,
    /// told apart by what people can do about it.
    pub(crate) fn open(path: &std::path::Path, source: rusqlite::Error) -> Self {
        let path = path.to_path_buf();
        match source.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
                Self::Damaged { path, source }
            }
            Some(
                rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::PermissionDenied | rusqlite::ErrorCode::CannotOpen,
            ) => Self::ReadOnly { path, source },
            Some(rusqlite::ErrorCode::DiskFull) => Self::DiskFull(source),
            _ => Self::Open { path, source },
        }
    }

    /// `open` for a `JournalError` met while opening.
    pub(crate) fn opening(path: &std::path::Path, e: JournalError) -> Self {
        match e {
            Self::Sqlite(source) | Self::Open { source, .. } => Self::open(path, source),
            other => other,
        }
    }
}
