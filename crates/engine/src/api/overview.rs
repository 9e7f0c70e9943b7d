//! The overview: every connection's state in words, counts and recent
//! failures, for the Overview page and `ferry status`.

use super::{ApiResult, ConnectionCard, ConnectionState, Engine, FailureDto, Feed, Overview, Today, Totals};
use chrono::{DateTime, Local, TimeZone, Utc};
use ferry_journal::RunOutcome;

impl Engine {
    /// The overview of every connection.
    pub fn overview(&self) -> ApiResult<Overview> {
        let j = &self.inner.journal;
        let now = self.inner.now();
        let midnight = local_midnight(now);
        let mut connections = Vec::new();
        for c in j.connections()? {
            let counts = j.outbox_counts(Some(&c.id), None)?;
            // What the card counts as done: orders for stores and ERPs, parcels booked for couriers.
            let main_entity = if c.role == ferry_journal::Role::Courier { "shipment" } else { "order" };
            let orders = j.outbox_counts(Some(&c.id), Some(main_entity))?;
            let (last, ok) = j.last_runs(&c.id)?;
            let feeds: Vec<Feed> =
                j.cursors_of(&c.id)?.into_iter().map(|(entity, s)| Feed { entity, read_up_to: s.watermark }).collect();
            let read_up_to = feeds.iter().filter_map(|f| f.read_up_to).min();
            let t = j.run_totals_since(&c.id, midnight)?;
            let today = Today { runs: t.runs, read: t.fetched, written: t.written, failed: t.failed };
            let live = self.inner.live.get(&c.id);
            let (state, state_text) = if let Some(reason) = &c.paused_reason {
                (ConnectionState::Paused, format!("Paused: {reason}"))
            } else if live.syncing {
                (ConnectionState::Syncing, "Syncing".to_owned())
            } else if let Some(at) = live.retry_at.filter(|t| *t > now) {
                (
                    ConnectionState::Retrying,
                    format!("Waiting to retry until {}", at.with_timezone(&Local).format("%H:%M")),
                )
            } else {
                match &last {
                    Some(r) if r.outcome == Some(RunOutcome::Failed) => (
                        ConnectionState::Failing,
                        format!("Last run failed: {}", r.message.as_deref().unwrap_or("see recent failures")),
                    ),
                    _ if counts.dead > 0 => (
                        ConnectionState::Failing,
                        match counts.dead {
                            1 => "1 write failed: see Failed writes".to_owned(),
                            n => format!("{n} writes failed: see Failed writes"),
                        },
                    ),
                    Some(_) => (ConnectionState::UpToDate, "Up to date".to_owned()),
                    None => (ConnectionState::Idle, "Not synced yet".to_owned()),
                }
            };
            let open_conflicts = j.open_conflicts_on(&c.id)?;
            connections.push(ConnectionCard {
                next_run_at: live.next_run_at.or(j.next_run(&c.id)?),
                recent_failures: j
                    .recent_failures(&c.id, 5)?
                    .into_iter()
                    .map(|e| FailureDto { at: e.at, message: e.message })
                    .collect(),
                id: c.id,
                name: c.name,
                kind: c.kind,
                role: c.role,
                state,
                state_text,
                last_run_at: last.and_then(|r| r.finished_at),
                last_success_at: ok.and_then(|r| r.finished_at),
                orders_posted: orders.done,
                read_up_to,
                feeds,
                today,
                pending: counts.pending,
                failed: counts.dead,
                open_conflicts,
            });
        }
        let all = j.outbox_counts(None, None)?;
        let orders_posted = j.outbox_counts(None, Some("order"))?.done;
        let mut keychain = self.keychain_status();
        if self.inner.demo && !keychain.available {
            keychain
                .message
                .push_str(" The demo's made-up tokens are kept in memory only; real connections need a keychain.");
        }
        Ok(Overview {
            generated_at: now,
            demo: self.inner.demo,
            keychain,
            totals: Totals {
                orders_posted,
                pending: all.pending,
                failed: all.dead,
                open_conflicts: j.open_conflicts()?,
            },
            connections,
        })
    }
}

/// The start of `now`'s day on this PC's clock, in UTC.
fn local_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    let local = now.with_timezone(&Local).date_naive().and_hms_opt(0, 0, 0).unwrap_or_default();
    Local.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc)).unwrap_or(now)
}
