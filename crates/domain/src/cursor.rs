//! Incremental reads without gaps or repeats.
//!
//! A cursor remembers the highest `updated_at` it has committed (the
//! watermark) and which (id, updated_at) pairs it has already seen near it.
//! Each run reads the half-open window `[watermark - overlap, run_start)`:
//! the overlap catches records whose timestamps landed late (clock skew,
//! slow commits on the remote side), the cap at the run's start keeps a
//! record that changes during the run for the next one, and the seen-set
//! drops what the overlap reads a second time.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What is stored per connection × entity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CursorState {
    pub watermark: Option<DateTime<Utc>>,
    /// (id, updated_at) pairs already processed with `updated_at` inside the
    /// overlap below the watermark.
    pub seen: BTreeSet<(String, DateTime<Utc>)>,
}

/// The window one run reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorWindow {
    /// Inclusive lower bound; `None` reads from the beginning.
    pub since: Option<DateTime<Utc>>,
    /// Exclusive upper bound: the run's start.
    pub until: DateTime<Utc>,
    overlap: Duration,
}

impl CursorWindow {
    pub fn new(state: &CursorState, run_start: DateTime<Utc>, overlap: Duration) -> Self {
        Self { since: state.watermark.map(|w| w - overlap), until: run_start, overlap }
    }

    /// Whether a record belongs to this run: inside the window and not seen.
    pub fn admits(&self, state: &CursorState, id: &str, updated_at: DateTime<Utc>) -> bool {
        if updated_at >= self.until {
            return false;
        }
        if self.since.is_some_and(|since| updated_at < since) {
            return false;
        }
        !state.seen.contains(&(id.to_owned(), updated_at))
    }

    /// The state after a page's records were committed. Call it in the same
    /// transaction that journals the page, never before.
    pub fn advance<'a>(
        &self,
        state: &CursorState,
        committed: impl IntoIterator<Item = (&'a str, DateTime<Utc>)>,
    ) -> CursorState {
        let mut next = state.clone();
        for (id, at) in committed {
            if at >= self.until {
                continue;
            }
            next.watermark = Some(next.watermark.map_or(at, |w| w.max(at)));
            next.seen.insert((id.to_owned(), at));
        }
        if let Some(w) = next.watermark {
            let floor = w - self.overlap;
            next.seen.retain(|(_, at)| *at >= floor);
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).single().expect("valid time") + Duration::minutes(min)
    }

    #[test]
    fn first_run_reads_everything_before_run_start() {
        let state = CursorState::default();
        let w = CursorWindow::new(&state, t(10), Duration::minutes(5));
        assert_eq!(w.since, None);
        assert!(w.admits(&state, "a", t(-1000)));
        assert!(!w.admits(&state, "a", t(10)), "the window is half-open at run start");
    }

    #[test]
    fn overlap_rereads_but_seen_pairs_are_dropped() {
        let state = CursorState::default();
        let w = CursorWindow::new(&state, t(10), Duration::minutes(5));
        let state = w.advance(&state, [("a", t(8)), ("b", t(9))]);
        assert_eq!(state.watermark, Some(t(9)));

        let w2 = CursorWindow::new(&state, t(20), Duration::minutes(5));
        assert_eq!(w2.since, Some(t(4)), "reads from watermark minus overlap");
        assert!(!w2.admits(&state, "a", t(8)), "same id and updated_at was processed");
        assert!(w2.admits(&state, "a", t(12)), "a later change of the same id is new");
        assert!(w2.admits(&state, "c", t(7)), "a late-landing record inside the overlap is caught");
    }

    #[test]
    fn records_at_or_after_run_start_do_not_move_the_watermark() {
        let state = CursorState::default();
        let w = CursorWindow::new(&state, t(10), Duration::minutes(5));
        let next = w.advance(&state, [("a", t(11))]);
        assert_eq!(next.watermark, None, "a record changed during the run belongs to the next run");
    }

    #[test]
    fn seen_set_is_pruned_below_the_overlap() {
        let state = CursorState::default();
        let w = CursorWindow::new(&state, t(100), Duration::minutes(5));
        let next = w.advance(&state, [("old", t(1)), ("new", t(50))]);
        assert_eq!(next.seen.len(), 1, "pairs far below the watermark can never be re-read");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use std::collections::BTreeMap;

        const OVERLAP: i64 = 60;

        proptest! {
            /// Records become visible up to OVERLAP seconds after their
            /// `updated_at` (slow commits, clock skew). Whatever the run
            /// times, every record is admitted exactly once.
            #[test]
            fn every_record_is_admitted_exactly_once(
                records in prop::collection::btree_map((0u8..20, 0i64..5_000), 0i64..=OVERLAP, 0..60),
                mut runs in prop::collection::vec(0i64..6_000, 0..25),
            ) {
                runs.sort_unstable();
                runs.push(10_000); // a last run long after everything is visible
                let mut state = CursorState::default();
                let mut admitted: BTreeMap<(u8, i64), u32> = BTreeMap::new();
                for r in runs {
                    let window = CursorWindow::new(&state, t(0) + Duration::seconds(r), Duration::seconds(OVERLAP));
                    let page: Vec<(String, DateTime<Utc>, (u8, i64))> = records
                        .iter()
                        .filter(|((_, at), delay)| at + *delay <= r)
                        .filter(|((_, at), _)| window.since.is_none_or(|s| t(0) + Duration::seconds(*at) >= s))
                        .map(|((id, at), _)| (format!("o{id}"), t(0) + Duration::seconds(*at), (*id, *at)))
                        .filter(|(id, at, _)| window.admits(&state, id, *at))
                        .collect();
                    for (_, _, key) in &page {
                        *admitted.entry(*key).or_default() += 1;
                    }
                    state = window.advance(&state, page.iter().map(|(id, at, _)| (id.as_str(), *at)));
                }
                for key in records.keys() {
                    prop_assert_eq!(admitted.get(key).copied(), Some(1), "record {:?} admitted exactly once", key);
                }
            }
        }
    }
}
