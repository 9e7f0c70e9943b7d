//! Pacing against a leaky bucket of query-cost points (Shopify's GraphQL
//! Admin API and the like): the system reports how many points it holds and
//! how fast they come back; we reserve each call's cost before sending and
//! wait when the bucket would run dry, so normal running never sees a
//! THROTTLED answer. Reservations of calls still in flight count against
//! the bucket, so concurrent callers wait their turn instead of all
//! spending the same points.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
struct State {
    max: f64,
    available: f64,
    rate: f64,
    at: Instant,
    outstanding: f64,
}

/// Our model of the remote bucket. Until the system has reported once,
/// calls go without waiting.
#[derive(Debug, Default)]
pub struct CostBucket {
    state: Mutex<Option<State>>,
}

/// Points held for one call until it has its answer.
#[derive(Debug)]
pub struct Reservation<'a> {
    bucket: &'a CostBucket,
    cost: f64,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.bucket.state.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            s.outstanding = (s.outstanding - self.cost).max(0.0);
        }
    }
}

impl CostBucket {
    /// Holds `cost` points for a call; returns how long to wait before sending.
    pub fn reserve(&self, cost: f64) -> (Duration, Reservation<'_>) {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let Some(s) = guard.as_mut() else {
            return (Duration::ZERO, Reservation { bucket: self, cost: 0.0 });
        };
        let refilled = (s.available + s.at.elapsed().as_secs_f64() * s.rate).min(s.max);
        let free = refilled - s.outstanding;
        let wait = if free < cost && s.rate > 0.0 { ((cost - free) / s.rate).min(60.0) } else { 0.0 };
        s.outstanding += cost;
        (Duration::from_secs_f64(wait), Reservation { bucket: self, cost })
    }

    /// Records what the system reported after a call. Answers to
    /// concurrent calls can arrive out of order, so an older, fuller report
    /// never raises our estimate: we keep the lower of the two.
    pub fn observe(&self, max: f64, available: f64, rate: f64) {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (available, outstanding) = match *guard {
            Some(s) => ((s.available + s.at.elapsed().as_secs_f64() * s.rate).min(s.max).min(available), s.outstanding),
            None => (available, 0.0),
        };
        *guard = Some(State { max, available, rate, at: Instant::now(), outstanding });
    }
}

/// Pacing against a fixed window announced in `X-RateLimit-Limit`,
/// `-Remaining` and `-Reset` (Frappe's rate limiter; many REST APIs): when
/// what remains of the window falls to `reserve` of the limit, calls wait
/// for the window to reset instead of running into a 429. The reserve
/// leaves room for calls already in flight.
#[derive(Debug)]
pub struct WindowBudget {
    reserve: f64,
    until: Mutex<Option<Instant>>,
}

impl WindowBudget {
    pub fn new(reserve: f64) -> Self {
        Self { reserve: reserve.clamp(0.0, 0.9), until: Mutex::new(None) }
    }

    /// How long to wait before the next call.
    pub fn wait(&self) -> Duration {
        let until = *self.until.lock().unwrap_or_else(|e| e.into_inner());
        until.map_or(Duration::ZERO, |u| u.saturating_duration_since(Instant::now()))
    }

    /// Records what the system said of its window after a call.
    pub fn observe(&self, limit: f64, remaining: f64, reset: Duration) {
        let mut until = self.until.lock().unwrap_or_else(|e| e.into_inner());
        if limit > 0.0 && remaining <= limit * self.reserve {
            let end = Instant::now() + reset.min(Duration::from_secs(300));
            *until = Some(until.map_or(end, |u| u.max(end)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_nearly_spent_waits_for_its_reset() {
        let w = WindowBudget::new(0.25);
        assert_eq!(w.wait(), Duration::ZERO, "nothing said yet: go");
        w.observe(1_000_000.0, 600_000.0, Duration::from_secs(40));
        assert_eq!(w.wait(), Duration::ZERO, "plenty left");
        w.observe(1_000_000.0, 200_000.0, Duration::from_secs(40));
        let wait = w.wait();
        assert!(wait > Duration::from_secs(39) && wait <= Duration::from_secs(40), "{wait:?}");
        w.observe(1_000_000.0, 100_000.0, Duration::from_secs(5));
        assert!(w.wait() > Duration::from_secs(39), "a shorter report from a call in flight does not cut the wait");
    }

    #[test]
    fn no_report_no_wait() {
        let b = CostBucket::default();
        assert_eq!(b.reserve(1000.0).0, Duration::ZERO);
    }

    #[test]
    fn concurrent_calls_wait_their_turn() {
        let b = CostBucket::default();
        b.observe(2000.0, 250.0, 100.0);
        let (w1, _r1) = b.reserve(200.0);
        assert_eq!(w1, Duration::ZERO, "enough points: go now");
        let (w2, _r2) = b.reserve(150.0);
        assert!(
            w2 > Duration::from_millis(900) && w2 <= Duration::from_secs(1),
            "50 free, 100 missing at 100/s: {w2:?}"
        );
        let (w3, r3) = b.reserve(100.0);
        assert!(w3 > Duration::from_millis(1900), "the first two calls' points are spoken for: {w3:?}");
        drop(r3);
        b.observe(2000.0, 250.0, 100.0);
        let (w4, _r4) = b.reserve(100.0);
        assert!(w4 > Duration::from_millis(900), "a new report keeps the calls still in flight counted: {w4:?}");
    }

    #[test]
    fn a_late_fuller_report_does_not_raise_the_estimate() {
        let b = CostBucket::default();
        b.observe(2000.0, 300.0, 100.0); // the newer answer arrives first
        b.observe(2000.0, 900.0, 100.0); // an older one, from before other calls spent
        let (wait, _r) = b.reserve(377.0);
        assert!(wait > Duration::from_millis(700), "the estimate stays at the lower report: {wait:?}");
    }

    #[test]
    fn answered_calls_give_their_hold_back() {
        let b = CostBucket::default();
        b.observe(100.0, 100.0, 10.0);
        drop(b.reserve(100.0));
        b.observe(100.0, 100.0, 10.0);
        assert_eq!(b.reserve(100.0).0, Duration::ZERO, "after its answer a call no longer holds points");
    }
}
