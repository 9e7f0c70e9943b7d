//! The one error every connector returns, and the one place that decides
//! what the engine does about it (retry, wait, pause, dead-letter, journal).

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A problem with one field of a record, as the remote system described it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// What went wrong talking to an external system. Messages never hold secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// Timeouts, 5xx, connection resets: retry with backoff.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The system asked us to slow down: wait exactly this long. Not a failure.
    #[error("rate limited: retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    /// Credentials were refused: pause the connection until they change.
    #[error("credentials rejected: {0}")]
    Auth(String),
    /// The data was refused: dead-letter it so a person can fix and replay.
    #[error("rejected: {message}")]
    Rejected { message: String, fields: Vec<FieldError> },
    /// The record does not exist remotely.
    #[error("not found: {0}")]
    NotFound(String),
    /// A response we cannot understand.
    #[error("unexpected response: {0}")]
    Protocol(String),
}

/// What the engine does with a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Try again later with exponential backoff, up to a limit.
    RetryWithBackoff,
    /// Wait exactly this long, then try again; does not count as an attempt.
    WaitThenRetry(Duration),
    /// Stop the whole connection until its credentials change.
    PauseConnection,
    /// Park the record with the remote message for a person to fix and replay.
    DeadLetter,
}

impl ConnectorError {
    /// The single retry policy of Ferry.
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::Transient(_) => Disposition::RetryWithBackoff,
            Self::RateLimited { retry_after } => Disposition::WaitThenRetry(*retry_after),
            Self::Auth(_) => Disposition::PauseConnection,
            Self::Rejected { .. } | Self::NotFound(_) => Disposition::DeadLetter,
            // A body we cannot parse may be a proxy's hiccup: retry, then dead-letter.
            Self::Protocol(_) => Disposition::RetryWithBackoff,
        }
    }

    /// Short machine code, stable across versions (the UI branches on it).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Transient(_) => "transient",
            Self::RateLimited { .. } => "rate_limited",
            Self::Auth(_) => "auth",
            Self::Rejected { .. } => "rejected",
            Self::NotFound(_) => "not_found",
            Self::Protocol(_) => "protocol",
        }
    }
}

/// Exponential backoff with full jitter: attempt 1 waits up to `base`,
/// each further attempt doubles the ceiling, capped at `max`. `jitter` is a
/// number in [0, 1) supplied by the caller so this stays pure.
pub fn backoff(attempt: u32, base: Duration, max: Duration, jitter: f64) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let ceiling = exp.min(max);
    // Never zero: at least half the ceiling, plus up to the other half.
    ceiling.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_maps_to_one_action() {
        let cases = [
            (ConnectorError::Transient("502".into()), Disposition::RetryWithBackoff),
            (
                ConnectorError::RateLimited { retry_after: Duration::from_secs(2) },
                Disposition::WaitThenRetry(Duration::from_secs(2)),
            ),
            (ConnectorError::Auth("401".into()), Disposition::PauseConnection),
            (ConnectorError::Rejected { message: "bad".into(), fields: vec![] }, Disposition::DeadLetter),
            (ConnectorError::NotFound("x".into()), Disposition::DeadLetter),
            (ConnectorError::Protocol("junk".into()), Disposition::RetryWithBackoff),
        ];
        for (err, expected) in cases {
            assert_eq!(err.disposition(), expected, "{err} decides {expected:?}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_secs(1);
        let max = Duration::from_secs(60);
        assert_eq!(backoff(1, base, max, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(3, base, max, 1.0), Duration::from_secs(4));
        assert_eq!(backoff(30, base, max, 1.0), max, "a long outage waits at most max");
        assert_eq!(backoff(3, base, max, 0.0), Duration::from_secs(2), "jitter keeps at least half");
    }
}
