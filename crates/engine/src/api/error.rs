//! The error every API call returns: a stable `code` for the UI to branch
//! on and a message for people.

use crate::secrets::SecretError;
use ferry_journal::JournalError;
use serde::Serialize;

/// An error a caller can act on: a stable `code` and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

impl From<JournalError> for ApiError {
    fn from(e: JournalError) -> Self {
        Self::new("journal", e.to_string())
    }
}

impl From<ferry_connectors::SettingsError> for ApiError {
    fn from(e: ferry_connectors::SettingsError) -> Self {
        Self::new("settings", e.to_string())
    }
}

impl From<SecretError> for ApiError {
    fn from(e: SecretError) -> Self {
        match e {
            // This computer's keychain, not the system: nothing was refused.
            SecretError::Unavailable(_) => Self::new("keychain", e.to_string()),
            SecretError::Missing(_) => Self::new("secret", e.to_string()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
