//! Fault knobs an emulator checks on every request.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// Shared, lock-free knobs; tests flip them while the server runs.
#[derive(Debug, Default)]
pub struct Faults {
    /// The next N requests answer 503.
    fail_next: AtomicU32,
    /// The next N writes are committed, then answered with 502 (the
    /// response is lost on the way back: the case that duplicates orders in
    /// naive integrations).
    lose_response_after_commit: AtomicU32,
    /// The next N requests answer 429 with `Retry-After: 1`.
    rate_limit_next: AtomicU32,
    /// Added to every request.
    latency_ms: AtomicU64,
    /// Every request is refused as unauthenticated.
    auth_revoked: AtomicBool,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Answer the Nth request from now (1 = the next) with a truncated body.
    malformed_at: AtomicU32,
    chaos: std::sync::Mutex<Option<(Chaos, crate::seed::Rng)>>,
}

/// Random faults at set rates, from a seeded generator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chaos {
    /// Percent of requests answered with a 5xx.
    pub server_error_percent: u64,
    /// Percent of requests answered 429 with `Retry-After`.
    pub rate_limit_percent: u64,
    /// Percent of requests that answer only after `slow`, past a client's timeout.
    pub timeout_percent: u64,
    pub slow: Duration,
    pub seed: u64,
}

/// What chaos decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trouble {
    None,
    ServerError,
    RateLimited,
    Slow(Duration),
}

/// Counts a request as in flight until dropped.
pub(crate) struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn take(counter: &AtomicU32) -> bool {
    counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
}

impl Faults {
    pub fn fail_next(&self, n: u32) {
        self.fail_next.store(n, Ordering::SeqCst);
    }
    pub fn lose_responses_after_commit(&self, n: u32) {
        self.lose_response_after_commit.store(n, Ordering::SeqCst);
    }
    pub fn rate_limit_next(&self, n: u32) {
        self.rate_limit_next.store(n, Ordering::SeqCst);
    }
    pub fn set_latency(&self, d: Duration) {
        self.latency_ms.store(d.as_millis() as u64, Ordering::SeqCst);
    }
    pub fn revoke_auth(&self, revoked: bool) {
        self.auth_revoked.store(revoked, Ordering::SeqCst);
    }

    /// Answers the `n`th request from now with a truncated JSON body.
    pub fn malformed_on_request(&self, n: u32) {
        self.malformed_at.store(n, Ordering::SeqCst);
    }

    /// Turns random faults on (`Some`) or off.
    pub fn set_chaos(&self, chaos: Option<Chaos>) {
        *self.chaos.lock().unwrap_or_else(|e| e.into_inner()) = chaos.map(|c| (c, crate::seed::Rng::new(c.seed)));
    }

    /// Whether this request is the one to corrupt.
    pub(crate) fn take_malformed(&self) -> bool {
        self.malformed_at
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| if n == 0 { None } else { Some(n - 1) })
            .is_ok_and(|before| before == 1)
    }

    pub(crate) fn trouble(&self) -> Trouble {
        let mut guard = self.chaos.lock().unwrap_or_else(|e| e.into_inner());
        let Some((c, rng)) = guard.as_mut() else { return Trouble::None };
        let roll = rng.below(100);
        if roll < c.server_error_percent {
            Trouble::ServerError
        } else if roll < c.server_error_percent + c.rate_limit_percent {
            Trouble::RateLimited
        } else if roll < c.server_error_percent + c.rate_limit_percent + c.timeout_percent {
            Trouble::Slow(c.slow)
        } else {
            Trouble::None
        }
    }

    /// The most requests this emulator has served at the same time.
    pub fn max_concurrent(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    pub(crate) fn enter(&self) -> InFlight<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(&self.in_flight)
    }

    pub(crate) fn take_failure(&self) -> bool {
        take(&self.fail_next)
    }
    pub(crate) fn take_lost_response(&self) -> bool {
        take(&self.lose_response_after_commit)
    }
    pub(crate) fn take_rate_limit(&self) -> bool {
        take(&self.rate_limit_next)
    }
    pub(crate) fn auth_revoked(&self) -> bool {
        self.auth_revoked.load(Ordering::SeqCst)
    }
    pub(crate) async fn delay(&self) {
        let ms = self.latency_ms.load(Ordering::SeqCst);
        if ms > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }
}

/// What every emulator does before the work, after its own auth check:
/// the added latency, then the failures to answer with now (`Err`, using
/// `rate_limited` for a 429 in the vendor's shape), or how long to hold a
/// slow answer back (`Ok(Some(d))`, answered after the work is done: the
/// case that duplicates writes in naive clients).
pub(crate) async fn before_work(
    faults: &Faults,
    rate_limited: impl Fn() -> axum::response::Response,
) -> Result<Option<Duration>, axum::response::Response> {
    use axum::http::StatusCode;
    faults.delay().await;
    if faults.take_failure() {
        return Err(unavailable(StatusCode::SERVICE_UNAVAILABLE));
    }
    if faults.take_rate_limit() {
        return Err(rate_limited());
    }
    match faults.trouble() {
        Trouble::ServerError => Err(unavailable(StatusCode::BAD_GATEWAY)),
        Trouble::RateLimited => Err(rate_limited()),
        Trouble::Slow(d) => Ok(Some(d)),
        Trouble::None => Ok(None),
    }
}

/// What every emulator does after the work: a committed write whose answer
/// is lost (502), a body cut short by a proxy, an answer held back.
pub(crate) async fn after_work(
    faults: &Faults,
    write: bool,
    corrupt: bool,
    slow: Option<Duration>,
    mut response: axum::response::Response,
) -> axum::response::Response {
    use axum::http::StatusCode;
    if write && response.status().is_success() && faults.take_lost_response() {
        response = unavailable(StatusCode::BAD_GATEWAY);
    } else if corrupt {
        response = truncated(response).await;
    }
    if let Some(d) = slow {
        tokio::time::sleep(d).await;
    }
    response
}

/// A proxy's error page.
pub(crate) fn unavailable(status: axum::http::StatusCode) -> axum::response::Response {
    use axum::response::IntoResponse;
    (status, format!("<html><body><h1>{status}</h1></body></html>")).into_response()
}

/// The response with only the first half of its body (a proxy cut it short).
pub(crate) async fn truncated(response: axum::response::Response) -> axum::response::Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes.slice(..bytes.len() / 2)))
}
