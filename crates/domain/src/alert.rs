//! The alert policy: which alerts reach a person's screen. Pure, so it is
//! table-tested; the engine feeds it the recent log and journals the result.
//!
//! Per (kind, connection): the same subject again within the window is
//! suppressed (no storm of identical alerts); a different subject within the
//! window is grouped into the one already shown; otherwise it is shown.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A run failed after its retries.
    RunFailed,
    /// Credentials were refused; the connection is paused.
    AuthFailed,
    /// Writes were dead-lettered.
    DeadLetter,
    /// New conflicts wait for a person.
    NewConflict,
    /// A parcel could not be delivered or was returned.
    CourierException,
    /// No successful poll for too long.
    NoRecentSuccess,
    /// Reconciliation found the store and the ERP disagree.
    Drift,
    /// The daily summary.
    Digest,
}

impl AlertKind {
    pub const ALL: [AlertKind; 8] = [
        Self::RunFailed,
        Self::AuthFailed,
        Self::DeadLetter,
        Self::NewConflict,
        Self::CourierException,
        Self::NoRecentSuccess,
        Self::Drift,
        Self::Digest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RunFailed => "run_failed",
            Self::AuthFailed => "auth_failed",
            Self::DeadLetter => "dead_letter",
            Self::NewConflict => "new_conflict",
            Self::CourierException => "courier_exception",
            Self::NoRecentSuccess => "no_recent_success",
            Self::Drift => "drift",
            Self::Digest => "digest",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What became of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Shown,
    Grouped,
    Suppressed,
}

/// An alert already logged, as the policy needs to see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastAlert {
    pub at: DateTime<Utc>,
    pub kind: AlertKind,
    pub connection_id: Option<String>,
    pub subject: String,
    pub delivery: Delivery,
}

/// Throttling settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertPolicy {
    pub window: Duration,
}

impl Default for AlertPolicy {
    fn default() -> Self {
        Self { window: Duration::minutes(30) }
    }
}

impl AlertPolicy {
    /// Decides the delivery of an alert about `subject` given the log.
    pub fn decide(
        &self,
        kind: AlertKind,
        connection_id: Option<&str>,
        subject: &str,
        now: DateTime<Utc>,
        log: &[PastAlert],
    ) -> Delivery {
        let recent = log.iter().filter(|a| {
            a.kind == kind && a.connection_id.as_deref() == connection_id && a.at > now - self.window && a.at <= now
        });
        let mut shown_in_window = false;
        for a in recent {
            if a.subject == subject && a.delivery != Delivery::Suppressed {
                return Delivery::Suppressed;
            }
            shown_in_window |= a.delivery == Delivery::Shown;
        }
        if shown_in_window {
            Delivery::Grouped
        } else {
            Delivery::Shown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).single().expect("valid") + Duration::minutes(min)
    }

    fn past(min: i64, kind: AlertKind, conn: &str, subject: &str, delivery: Delivery) -> PastAlert {
        PastAlert { at: at(min), kind, connection_id: Some(conn.into()), subject: subject.into(), delivery }
    }

    #[test]
    fn policy_table() {
        use AlertKind::*;
        use Delivery::*;
        let p = AlertPolicy::default();
        let log = vec![
            past(0, AuthFailed, "erp", "credentials", Shown),
            past(5, DeadLetter, "erp", "run 7", Shown),
            past(6, DeadLetter, "erp", "run 8", Grouped),
        ];
        // (case, kind, connection, subject, minute, expected)
        let cases = [
            ("the same auth failure again is suppressed", AuthFailed, "erp", "credentials", 10, Suppressed),
            ("after the window it is shown again", AuthFailed, "erp", "credentials", 31, Shown),
            ("a new dead letter batch joins the shown one", DeadLetter, "erp", "run 9", 10, Grouped),
            ("a grouped subject repeated is suppressed", DeadLetter, "erp", "run 8", 10, Suppressed),
            ("another connection is its own group", DeadLetter, "shop", "run 9", 10, Shown),
            ("another kind is its own group", RunFailed, "erp", "run 9", 10, Shown),
        ];
        for (case, kind, conn, subject, minute, expected) in cases {
            assert_eq!(p.decide(kind, Some(conn), subject, at(minute), &log), expected, "{case}");
        }
    }

    #[test]
    fn kinds_round_trip_as_text() {
        for k in AlertKind::ALL {
            assert_eq!(AlertKind::parse(k.as_str()), Some(k));
        }
    }
}
