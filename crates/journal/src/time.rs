//! Timestamps are stored as fixed-width UTC text so that text order is time order.

use crate::error::{JournalError, Result};
use chrono::{DateTime, Utc};

pub fn format_ts(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| JournalError::BadValue(format!("timestamp {s:?}: {e}")))
}
