//! Fuzzing: every connector's response parsing fed generated answers.
//!
//! A loopback server (`server`) answers every request with an answer made
//! for that request: the system's realistic JSON for that endpoint
//! (`shapes`, GraphQL ones shaped by the query itself in `gql`), then
//! mostly changed (`mutate`): edge values, dropped keys, other types,
//! huge and negative numbers, deep nesting, long and strange strings,
//! duplicated keys, bytes cut short or not UTF-8, error statuses with odd
//! headers. Each case builds one connector against the server and makes
//! one of its calls (`calls`); the call runs in its own task, so a panic is
//! caught and counted, and within a time bound. Every result must be `Ok`
//! or a typed `ConnectorError` with a message.
//!
//! Cases are spread over the eight connectors in turn. Each case's answers
//! come from (seed, case, request number), so a failure replays exactly:
//! `FERRY_FUZZ_SEED=<seed> FERRY_FUZZ_CASE=<case> ferry-prove fuzz` runs
//! that one case and prints every request and answer. The short run uses a
//! fixed seed (`make test` is repeatable); the long one a new seed each
//! time, printed, so each soak explores new ground. `FERRY_FUZZ_VERBOSE=1`
//! prints every case's results.

mod calls;
mod gql;
mod mutate;
mod server;
mod shapes;

use crate::harness::Ctx;
use crate::report::Suite;
use anyhow::{Context, Result};
use calls::{Outcome, KINDS};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The short run's seed.
const FIXED_SEED: u64 = 0x00F3_22F0_0006;
/// Cases running at once.
const PARALLEL: usize = 16;
/// At most this many failures are listed one by one.
const LISTED: usize = 20;

/// A seeded generator that can be shared by reference (fastrand's needs
/// `&mut`), across the awaits of a case too.
pub struct Rng(Mutex<fastrand::Rng>);

impl Rng {
    pub fn with_seed(seed: u64) -> Self {
        Self(Mutex::new(fastrand::Rng::with_seed(seed)))
    }

    fn with<T>(&self, f: impl FnOnce(&mut fastrand::Rng) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn usize(&self, range: impl std::ops::RangeBounds<usize>) -> usize {
        self.with(|r| r.usize(range))
    }

    pub fn u8(&self, range: impl std::ops::RangeBounds<u8>) -> u8 {
        self.with(|r| r.u8(range))
    }

    pub fn u32(&self, range: impl std::ops::RangeBounds<u32>) -> u32 {
        self.with(|r| r.u32(range))
    }

    pub fn u64(&self, range: impl std::ops::RangeBounds<u64>) -> u64 {
        self.with(|r| r.u64(range))
    }

    pub fn i64(&self, range: impl std::ops::RangeBounds<i64>) -> i64 {
        self.with(|r| r.i64(range))
    }

    pub fn bool(&self) -> bool {
        self.with(fastrand::Rng::bool)
    }
}

tokio::task_local! {
    /// The case a task runs, for the panic hook.
    static CASE: u64;
}

/// What one case came to.
struct CaseResult {
    case: u64,
    kind: &'static str,
    op: &'static str,
    outcomes: Vec<Outcome>,
    /// The panic's message and place.
    panic: Option<String>,
}

pub async fn run(ctx: &Ctx, cases: usize) -> Result<Suite> {
    let started = Instant::now();
    let seed = match std::env::var("FERRY_FUZZ_SEED") {
        Ok(s) => s.trim().parse().with_context(|| format!("FERRY_FUZZ_SEED={s:?} is not a number"))?,
        Err(_) if ctx.long => fastrand::u64(..),
        Err(_) => FIXED_SEED,
    };
    let only: Option<u64> = match std::env::var("FERRY_FUZZ_CASE") {
        Ok(c) => Some(c.trim().parse().with_context(|| format!("FERRY_FUZZ_CASE={c:?} is not a number"))?),
        Err(_) => None,
    };
    let mut suite = Suite::new(
        "fuzz",
        "Fuzzing: every connector's response parsing",
        "Each of the eight connectors (Shopify, WooCommerce, Vendure, ERPNext, Odoo, Tryton, EasyPost, Karrio) is \
         pointed at a loopback server that answers every request with that system's realistic JSON for the \
         endpoint, mostly changed: edge values (numbers past i64 and the largest decimal, times at the ends of the \
         calendar, very long and strange text), dropped keys, other types, deep nesting, duplicated keys, bytes cut \
         short or not UTF-8, error statuses with odd headers. Every read and write of the connectors' traits is \
         called, each in its own task within a time bound: every result is Ok or a typed error with a message, \
         and no call panics or hangs. A failure names its seed and case, which replay it exactly.",
        if ctx.long { "ferry-prove fuzz --long".into() } else { "ferry-prove fuzz".into() },
    );
    println!("fuzz: seed {seed}{}", only.map(|c| format!(", case {c} only")).unwrap_or_default());
    let server = server::start(seed, only.is_some()).await?;
    let port = server.addr.port();

    let panics = PanicCatcher::install();
    let list: Vec<u64> = match only {
        Some(c) => vec![c],
        None => (0..cases as u64).collect(),
    };
    let mut results = Vec::with_capacity(list.len());
    let mut running = tokio::task::JoinSet::new();
    let mut next = list.into_iter();
    loop {
        while running.len() < PARALLEL {
            let Some(case) = next.next() else { break };
            running.spawn(run_case(seed, case, port));
        }
        let Some(joined) = running.join_next().await else { break };
        results.push(joined.context("a fuzz case task could not be joined")?);
    }
    let panics = panics.finish();
    for r in &mut results {
        if r.panic.is_some() {
            r.panic = Some(panics.get(&r.case).cloned().unwrap_or_else(|| "a panic with no message".into()));
        }
    }
    results.sort_by_key(|r| r.case);
    if std::env::var_os("FERRY_FUZZ_VERBOSE").is_some() {
        for r in &results {
            println!("   case {} {}.{}: {:?}", r.case, r.kind, r.op, r.outcomes);
        }
    }
    figures(&mut suite, seed, &results, &server.counts);
    failures(&mut suite, seed, &results);
    suite.seconds = started.elapsed().as_secs_f64();
    Ok(suite)
}

/// While installed, a panic inside a case is recorded (message, place, and
/// the first frame in Ferry's own code) instead of printed; others go to
/// the hook that was there before, which is put back on drop.
struct PanicCatcher {
    panics: Arc<Mutex<HashMap<u64, String>>>,
    previous: Arc<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync>,
}

impl PanicCatcher {
    fn install() -> Self {
        let panics: Arc<Mutex<HashMap<u64, String>>> = Arc::default();
        let previous: Arc<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync> = Arc::from(std::panic::take_hook());
        let (caught, before) = (panics.clone(), previous.clone());
        std::panic::set_hook(Box::new(move |info| match CASE.try_with(|c| *c) {
            Ok(case) => {
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(no message)".into());
                let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
                let ours = our_frame(&std::backtrace::Backtrace::force_capture().to_string())
                    .map(|f| format!(", called from {f}"))
                    .unwrap_or_default();
                caught.lock().unwrap_or_else(|e| e.into_inner()).insert(case, format!("{message}{at}{ours}"));
            }
            Err(_) => before(info),
        }));
        Self { panics, previous }
    }

    /// The panics caught, by case; the previous hook is back.
    fn finish(self) -> HashMap<u64, String> {
        std::mem::take(&mut *self.panics.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Drop for PanicCatcher {
    fn drop(&mut self) {
        let previous = self.previous.clone();
        std::panic::set_hook(Box::new(move |info| previous(info)));
    }
}

/// One case in its own task: a panic in the connector ends the task, not
/// the suite.
async fn run_case(seed: u64, case: u64, port: u16) -> CaseResult {
    let kind = KINDS[(case % KINDS.len() as u64) as usize];
    let rng = Rng::with_seed(server::mix(seed, case, u64::MAX));
    let ops = calls::ops(kind);
    let op = ops[rng.usize(..ops.len())];
    let base = format!("http://127.0.0.1:{port}/f/{kind}/{case}");
    let task = tokio::spawn(CASE.scope(case, async move {
        match calls::connect(kind, &base, &rng) {
            Ok(conn) => calls::call(kind, &conn, op, &rng).await,
            Err(e) => vec![Outcome::Err(ferry_domain::ConnectorError::Protocol(format!("set-up refused: {e}")))],
        }
    }));
    match task.await {
        Ok(outcomes) => CaseResult { case, kind, op, outcomes, panic: None },
        Err(e) => CaseResult { case, kind, op, outcomes: vec![], panic: Some(e.to_string()) },
    }
}

/// The first place in Ferry's own code (not this suite's) in a backtrace:
/// where a panic inside a library was called from.
fn our_frame(backtrace: &str) -> Option<String> {
    backtrace
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("at "))
        .find(|l| l.contains("crates/") && !l.contains("crates/prove") && !l.contains(".cargo/registry"))
        .map(|l| l.rsplit_once("crates/").map_or(l, |(_, p)| p).to_owned())
        .map(|p| format!("crates/{p}"))
}

/// The message inside a typed error; a rate limit carries none by design.
fn message(e: &ferry_domain::ConnectorError) -> Option<&str> {
    use ferry_domain::ConnectorError::*;
    match e {
        Transient(m) | Auth(m) | NotFound(m) | Protocol(m) => Some(m),
        Rejected { message, .. } => Some(message),
        RateLimited { .. } => None,
    }
}

fn figures(suite: &mut Suite, seed: u64, results: &[CaseResult], counts: &server::Counts) {
    use std::sync::atomic::Ordering::Relaxed;
    let mut per_kind: BTreeMap<usize, (usize, usize, usize, usize)> = BTreeMap::new(); // cases, calls, ok, errors
    let mut by_code: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut calls, mut ok, mut timed_out) = (0, 0, 0);
    let mut ops = std::collections::BTreeSet::new();
    for r in results {
        let i = KINDS.iter().position(|k| *k == r.kind).unwrap_or(0);
        let k = per_kind.entry(i).or_default();
        k.0 += 1;
        ops.insert((r.kind, r.op));
        for o in &r.outcomes {
            calls += 1;
            k.1 += 1;
            match o {
                Outcome::Ok => {
                    ok += 1;
                    k.2 += 1;
                }
                Outcome::Err(e) => {
                    k.3 += 1;
                    *by_code.entry(e.code()).or_default() += 1;
                }
                Outcome::TimedOut => timed_out += 1,
            }
        }
    }
    let panics = results.iter().filter(|r| r.panic.is_some()).count();
    suite.figure("seed", seed);
    suite.figure("cases", results.len());
    for (i, (cases, n, ok, errors)) in &per_kind {
        suite.figure(
            format!("{} cases (calls: Ok / typed error)", KINDS[*i]),
            format!("{cases} ({n} calls: {ok} / {errors})"),
        );
    }
    suite.figure("operations covered (connector × call)", ops.len());
    suite.figure("connector calls", calls);
    suite.figure(
        "answers generated (realistic / edge values / mutated / damaged bytes / error status / odd success status)",
        format!(
            "{} ({} / {} / {} / {} / {} / {})",
            counts.total(),
            counts.realistic.load(Relaxed),
            counts.edge_values.load(Relaxed),
            counts.mutated.load(Relaxed),
            counts.damaged.load(Relaxed),
            counts.error_status.load(Relaxed),
            counts.odd_status.load(Relaxed)
        ),
    );
    suite.figure("Ok results", ok);
    let codes: Vec<String> = by_code.iter().map(|(c, n)| format!("{c} {n}")).collect();
    suite.figure("typed errors by kind", format!("{} ({})", by_code.values().sum::<usize>(), codes.join(", ")));
    let silent = results
        .iter()
        .flat_map(|r| &r.outcomes)
        .filter(|o| matches!(o, Outcome::Err(e) if message(e).is_some_and(|m| m.trim().is_empty())))
        .count();
    suite.figure("typed errors without a message", silent);
    suite.figure("calls cut off by the time bound", timed_out);
    suite.figure("panics", panics);
}

fn failures(suite: &mut Suite, seed: u64, results: &[CaseResult]) {
    let replay = |case: u64| format!("replay: FERRY_FUZZ_SEED={seed} FERRY_FUZZ_CASE={case} ferry-prove fuzz");
    let mut found = Vec::new();
    for r in results {
        let at = format!("case {} ({}.{})", r.case, r.kind, r.op);
        if let Some(p) = &r.panic {
            found.push(format!("{at} panicked: {p}; {}", replay(r.case)));
        }
        for o in &r.outcomes {
            match o {
                Outcome::TimedOut => {
                    found.push(format!("{at} did not finish within {:?}; {}", calls::CALL_LIMIT, replay(r.case)))
                }
                Outcome::Err(e) if message(e).is_some_and(|m| m.trim().is_empty()) => {
                    found.push(format!("{at} returned a {} error with no message; {}", e.code(), replay(r.case)))
                }
                Outcome::Err(e) if e.code() == "protocol" && message(e).is_some_and(|m| m.starts_with("set-up")) => {
                    found.push(format!("{at}: {e}"))
                }
                _ => {}
            }
        }
    }
    let more = found.len().saturating_sub(LISTED);
    suite.failures.extend(found.into_iter().take(LISTED));
    if more > 0 {
        suite.failures.push(format!("… and {more} more"));
    }
}
