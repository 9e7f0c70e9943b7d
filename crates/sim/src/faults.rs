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
    /// The next N list pages after a first one begin with the previous
    /// page's last `REPEATED` items again.
    duplicate_pages: AtomicU32,
    /// The next N list pages are cut just after an item already served
    /// changed (see `PageTrouble::Shift`).
    shift_pages: AtomicU32,
    /// Records that landed ahead of every reader's offset (see `offset_start`).
    offset_bias: AtomicUsize,
    chaos: std::sync::Mutex<Option<(Chaos, crate::seed::Rng)>>,
    /// Answers rewritten on their way out (see `rewrite_responses`).
    rewriting: std::sync::Mutex<Option<Rewriting>>,
    rewrite_armed: AtomicBool,
    counts: Counts,
}

/// How many faults were injected, by kind (for the reliability figures).
#[derive(Debug, Default)]
struct Counts {
    server_errors: AtomicU64,
    rate_limited: AtomicU64,
    slow: AtomicU64,
    truncated: AtomicU64,
    lost: AtomicU64,
    pages: AtomicU64,
    auth_refused: AtomicU64,
}

/// A snapshot of the faults injected so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Injected {
    /// 5xx answers (chaos and `fail_next`).
    pub server_errors: u64,
    /// 429 answers with Retry-After.
    pub rate_limited: u64,
    /// Answers held past a client's timeout.
    pub slow: u64,
    /// Bodies cut short.
    pub truncated: u64,
    /// Writes committed whose answer was lost.
    pub lost: u64,
    /// Duplicated or shifted list pages.
    pub pages: u64,
    /// Requests refused while the credentials were revoked.
    pub auth_refused: u64,
}

impl Injected {
    pub fn total(&self) -> u64 {
        self.server_errors + self.rate_limited + self.slow + self.truncated + self.lost + self.pages + self.auth_refused
    }
}

/// Turns an answer (status, body) into the one sent instead.
pub type Rewrite = std::sync::Arc<dyn Fn(u16, Vec<u8>) -> (u16, Vec<u8>) + Send + Sync>;

struct Rewriting {
    matching: String,
    left: u32,
    rewrite: Rewrite,
}

impl std::fmt::Debug for Rewriting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rewriting").field("matching", &self.matching).field("left", &self.left).finish()
    }
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

/// How many items a duplicated page repeats from the page before it.
pub(crate) const REPEATED: usize = 2;

/// What a list endpoint does to the page it is about to cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageTrouble {
    None,
    /// The page begins `REPEATED` items early, as a server whose cursor
    /// points back into the previous page does; its next cursor follows its
    /// own last item, so nothing is lost. Offset lists: `Faults::offset_start`.
    Repeat,
    /// The item just before the page (the previous page's last; for a
    /// first page, the list's first) changes now, before the page is cut.
    /// In a list sorted by update time it moves behind the page and the
    /// rest move up by one: a cursor pager sees it again, an offset pager
    /// skips the item that moved onto the page it already read.
    Shift,
}

impl PageTrouble {
    /// Where a page of a cursor list that should begin at `start` begins.
    pub(crate) fn start(self, start: usize) -> usize {
        match self {
            Self::Repeat => start.saturating_sub(REPEATED),
            Self::None | Self::Shift => start,
        }
    }

    /// The position of the item that changes now, in a list of `len` items
    /// whose page should begin at `start`.
    pub(crate) fn changed(self, start: usize, len: usize) -> Option<usize> {
        (self == Self::Shift && len > 0).then(|| start.saturating_sub(1).min(len - 1))
    }
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

    /// The next `n` list pages after a first one repeat the previous page's
    /// last `REPEATED` items at their start.
    pub fn duplicate_next_page(&self, n: u32) {
        self.duplicate_pages.store(n, Ordering::SeqCst);
        self.offset_bias.store(0, Ordering::SeqCst);
    }

    /// Before each of the next `n` list pages is cut, an item already served
    /// changes, so the list shifts by one under the client.
    pub fn shift_next_page(&self, n: u32) {
        self.shift_pages.store(n, Ordering::SeqCst);
    }

    /// Duplicated and shifted pages set but not served yet.
    pub fn page_troubles_left(&self) -> u32 {
        self.duplicate_pages.load(Ordering::SeqCst) + self.shift_pages.load(Ordering::SeqCst)
    }

    /// The next `times` answers to requests whose path, query or body
    /// contains `matching` are passed through `rewrite` before they leave
    /// (`u32::MAX`: until `stop_rewriting`): a record with a wrong type, a
    /// body that is not UTF-8, a scripted error. Only emulators whose router
    /// has the rewrite layer honour it (Shopify).
    pub fn rewrite_responses(
        &self,
        matching: &str,
        times: u32,
        rewrite: impl Fn(u16, Vec<u8>) -> (u16, Vec<u8>) + Send + Sync + 'static,
    ) {
        let r = Rewriting { matching: matching.to_owned(), left: times, rewrite: std::sync::Arc::new(rewrite) };
        *self.rewriting.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
        self.rewrite_armed.store(times > 0, Ordering::SeqCst);
    }

    /// Answers go out as they are again.
    pub fn stop_rewriting(&self) {
        *self.rewriting.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.rewrite_armed.store(false, Ordering::SeqCst);
    }

    /// The rewrite for a request described by `request` (its path, query
    /// and body), counting it.
    fn take_rewrite(&self, request: &str) -> Option<Rewrite> {
        let mut guard = self.rewriting.lock().unwrap_or_else(|e| e.into_inner());
        let r = guard.as_mut().filter(|r| r.left > 0 && request.contains(&r.matching))?;
        if r.left != u32::MAX {
            r.left -= 1;
        }
        let rewrite = r.rewrite.clone();
        if r.left == 0 {
            *guard = None;
            self.rewrite_armed.store(false, Ordering::SeqCst);
        }
        Some(rewrite)
    }

    /// Turns random faults on (`Some`) or off.
    pub fn set_chaos(&self, chaos: Option<Chaos>) {
        *self.chaos.lock().unwrap_or_else(|e| e.into_inner()) = chaos.map(|c| (c, crate::seed::Rng::new(c.seed)));
    }

    /// Whether this request is the one to corrupt.
    pub(crate) fn take_malformed(&self) -> bool {
        let hit = self
            .malformed_at
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| if n == 0 { None } else { Some(n - 1) })
            .is_ok_and(|before| before == 1);
        if hit {
            self.counts.truncated.fetch_add(1, Ordering::SeqCst);
        }
        hit
    }

    /// What to do to the list page about to be cut. A first page has
    /// nothing before it to repeat, so it never takes a duplicate.
    pub(crate) fn page_trouble(&self, first_page: bool) -> PageTrouble {
        let trouble = if !first_page && take(&self.duplicate_pages) {
            PageTrouble::Repeat
        } else if take(&self.shift_pages) {
            PageTrouble::Shift
        } else {
            PageTrouble::None
        };
        if trouble != PageTrouble::None {
            self.counts.pages.fetch_add(1, Ordering::SeqCst);
        }
        trouble
    }

    /// Where a page of an offset list (the client says where it begins:
    /// `limit_start`, `offset`, `page`) that should begin at `start` begins.
    /// The server keeps no cursor to move back, so a duplicated page is what
    /// records landing ahead of the reader's offset cause: from it on, every
    /// later page of a list begins `REPEATED` records earlier. Offset
    /// pagers see items twice, never skip one.
    pub(crate) fn offset_start(&self, start: usize, trouble: PageTrouble) -> usize {
        if trouble == PageTrouble::Repeat {
            self.offset_bias.fetch_add(REPEATED, Ordering::SeqCst);
        }
        start.saturating_sub(self.offset_bias.load(Ordering::SeqCst))
    }

    pub(crate) fn trouble(&self) -> Trouble {
        let mut guard = self.chaos.lock().unwrap_or_else(|e| e.into_inner());
        let Some((c, rng)) = guard.as_mut() else { return Trouble::None };
        let roll = rng.below(100);
        let count = |c: &AtomicU64| c.fetch_add(1, Ordering::SeqCst);
        if roll < c.server_error_percent {
            count(&self.counts.server_errors);
            Trouble::ServerError
        } else if roll < c.server_error_percent + c.rate_limit_percent {
            count(&self.counts.rate_limited);
            Trouble::RateLimited
        } else if roll < c.server_error_percent + c.rate_limit_percent + c.timeout_percent {
            count(&self.counts.slow);
            Trouble::Slow(c.slow)
        } else {
            Trouble::None
        }
    }

    /// The faults injected so far, by kind.
    pub fn injected(&self) -> Injected {
        let n = |c: &AtomicU64| c.load(Ordering::SeqCst);
        let k = &self.counts;
        Injected {
            server_errors: n(&k.server_errors),
            rate_limited: n(&k.rate_limited),
            slow: n(&k.slow),
            truncated: n(&k.truncated),
            lost: n(&k.lost),
            pages: n(&k.pages),
            auth_refused: n(&k.auth_refused),
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
        let hit = take(&self.fail_next);
        if hit {
            self.counts.server_errors.fetch_add(1, Ordering::SeqCst);
        }
        hit
    }
    pub(crate) fn take_lost_response(&self) -> bool {
        let hit = take(&self.lose_response_after_commit);
        if hit {
            self.counts.lost.fetch_add(1, Ordering::SeqCst);
        }
        hit
    }
    pub(crate) fn take_rate_limit(&self) -> bool {
        let hit = take(&self.rate_limit_next);
        if hit {
            self.counts.rate_limited.fetch_add(1, Ordering::SeqCst);
        }
        hit
    }
    pub(crate) fn auth_revoked(&self) -> bool {
        let revoked = self.auth_revoked.load(Ordering::SeqCst);
        if revoked {
            self.counts.auth_refused.fetch_add(1, Ordering::SeqCst);
        }
        revoked
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

/// The rewrite layer (see `Faults::rewrite_responses`): passes the request
/// on, and rewrites the answer when a rewrite matches it. Costs nothing
/// while none is armed.
pub(crate) async fn rewrite_layer(
    faults: &Faults,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if !faults.rewrite_armed.load(Ordering::SeqCst) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024).await.unwrap_or_default();
    let described = format!("{} {}", parts.uri, String::from_utf8_lossy(&bytes));
    let rewrite = faults.take_rewrite(&described);
    let response = next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await;
    let Some(rewrite) = rewrite else { return response };
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let (status, body) = rewrite(parts.status.as_u16(), bytes.to_vec());
    parts.status = axum::http::StatusCode::from_u16(status).unwrap_or(parts.status);
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    axum::response::Response::from_parts(parts, axum::body::Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewrite_matches_its_requests_the_given_number_of_times() {
        let f = Faults::default();
        f.rewrite_responses("query Orders", 2, |_, _| (500, b"scripted".to_vec()));
        assert!(f.take_rewrite("/graphql.json {\"query\":\"query Variants\"}").is_none(), "other requests pass");
        let r = f.take_rewrite("/graphql.json {\"query\":\"query Orders(\"}").expect("first match");
        assert_eq!(r(200, vec![]), (500, b"scripted".to_vec()));
        assert!(f.take_rewrite("query Orders").is_some(), "second match");
        assert!(f.take_rewrite("query Orders").is_none(), "then it is spent");
        assert!(!f.rewrite_armed.load(Ordering::SeqCst), "and costs nothing any more");
        f.rewrite_responses("x", u32::MAX, |s, b| (s, b));
        for _ in 0..3 {
            assert!(f.take_rewrite("x").is_some(), "u32::MAX stays on");
        }
        f.stop_rewriting();
        assert!(f.take_rewrite("x").is_none());
    }
}
