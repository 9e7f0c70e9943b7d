//! The fuzz server: one loopback HTTP server that answers every request of
//! every case with a generated answer. A case's base URL is
//! `/f/<kind>/<case>`; its `n`th request is answered from a generator
//! seeded with (seed, case, n), so a case replays exactly.

use super::mutate;
use super::shapes::{self, pick, Request};
use super::Rng;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// How the answers were made, counted.
#[derive(Debug, Default)]
pub struct Counts {
    pub realistic: AtomicUsize,
    pub edge_values: AtomicUsize,
    pub mutated: AtomicUsize,
    pub damaged: AtomicUsize,
    pub error_status: AtomicUsize,
    pub odd_status: AtomicUsize,
}

impl Counts {
    pub fn total(&self) -> usize {
        [&self.realistic, &self.edge_values, &self.mutated, &self.damaged, &self.error_status, &self.odd_status]
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }
}

struct Shared {
    seed: u64,
    /// Requests answered so far, per case.
    requests: Mutex<HashMap<u64, u64>>,
    counts: Arc<Counts>,
    /// Print every request and answer (replaying one case).
    trace: bool,
}

pub struct FuzzServer {
    pub addr: SocketAddr,
    pub counts: Arc<Counts>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FuzzServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start(seed: u64, trace: bool) -> anyhow::Result<FuzzServer> {
    let counts = Arc::new(Counts::default());
    let shared = Arc::new(Shared { seed, requests: Mutex::new(HashMap::new()), counts: counts.clone(), trace });
    let app = axum::Router::new().fallback(handle).with_state(shared);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(FuzzServer { addr, counts, task })
}

/// One number from the seed, the case and the request: the answer's generator.
pub fn mix(seed: u64, case: u64, n: u64) -> u64 {
    let mut x = seed ^ case.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^ (x >> 33)
}

async fn handle(State(shared): State<Arc<Shared>>, method: Method, uri: Uri, body: Bytes) -> Response {
    let path = uri.path();
    let mut parts = path.trim_start_matches('/').splitn(4, '/');
    let (Some("f"), Some(kind), Some(case)) = (parts.next(), parts.next(), parts.next().and_then(|c| c.parse().ok()))
    else {
        return Response::builder().status(StatusCode::NOT_FOUND).body(Body::empty()).unwrap_or_default();
    };
    let rest = format!("/{}", parts.next().unwrap_or_default());
    let n = {
        let mut requests = shared.requests.lock().unwrap_or_else(|e| e.into_inner());
        let n = requests.entry(case).or_insert(0);
        *n += 1;
        *n
    };
    let query = uri
        .query()
        .map(|q| {
            q.split('&')
                .filter_map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    let dec = |s: &str| urlencoding::decode(&s.replace('+', " ")).map(|c| c.into_owned()).ok();
                    Some((dec(k)?, dec(v)?))
                })
                .collect()
        })
        .unwrap_or_default();
    let req = Request {
        method: method.to_string(),
        path: rest,
        query,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    let rng = Rng::with_seed(mix(shared.seed, case, n));
    let change = corrupted(shared.seed, case, n);
    let (status, headers, bytes, what) = generate(kind, &req, &rng, &shared.counts, change);
    if shared.trace {
        let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(1500)]).into_owned();
        println!(
            "   [case {case} request {n}] {} {}{} → {status} ({what}), {} bytes: {shown}",
            req.method,
            req.path,
            uri.query().map(|q| format!("?{q}")).unwrap_or_default(),
            bytes.len()
        );
    }
    let mut resp = Response::builder().status(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_bytes(&v)) {
            resp = resp.header(k, v);
        }
    }
    if !headers_have_content_type(&resp) {
        resp = resp.header("content-type", "application/json");
    }
    resp.body(Body::from(bytes)).unwrap_or_default()
}

fn headers_have_content_type(resp: &axum::http::response::Builder) -> bool {
    resp.headers_ref().is_some_and(|h| h.contains_key("content-type"))
}

type Generated = (u16, Vec<(String, Vec<u8>)>, Vec<u8>, &'static str);

/// Which of a case's requests get a changed answer. Most cases change one
/// step and answer the others realistically, so flows with a login, a
/// session or several lookups reach their later steps; some change any.
fn corrupted(seed: u64, case: u64, n: u64) -> bool {
    let plan = Rng::with_seed(mix(seed, case, 0));
    if plan.usize(0..10) < 4 {
        Rng::with_seed(mix(seed, case, n)).bool()
    } else {
        // Early steps more often: most calls make one to three requests.
        n == 1 + plan.u64(0..[1, 2, 3, 6][plan.usize(0..4)])
    }
}

/// The answer to `req`: realistic, or (when this is a step the case
/// changes) with edge values, mutated, damaged, or an error status with
/// odd headers.
fn generate(kind: &str, req: &Request, rng: &Rng, counts: &Counts, change: bool) -> Generated {
    let mut answer = shapes::answer(kind, req, rng);
    let roll = if change { rng.usize(0..100) } else { 100 };
    let (status, what) = match roll {
        0..=11 => {
            counts.error_status.fetch_add(1, Ordering::Relaxed);
            let status = pick(rng, &[400, 401, 403, 404, 405, 409, 410, 418, 422, 429, 429, 500, 502, 503, 504]);
            let mut body = mutate::write(&shapes::error_body(kind, status, rng));
            if rng.usize(0..4) == 0 {
                mutate::bytes(&mut body, rng);
            }
            let mut headers = odd_headers(rng);
            headers.push(("content-type".into(), pick(rng, &["application/json", "text/html"]).into()));
            return (status, headers, body, "error status");
        }
        12..=17 => {
            counts.odd_status.fetch_add(1, Ordering::Relaxed);
            (pick(rng, &[201, 202, 203, 204, 206, 299, 302]), "odd success status")
        }
        18..=62 => {
            counts.edge_values.fetch_add(1, Ordering::Relaxed);
            let what = match answer.body.pointer_mut(answer.mutable) {
                Some(part) => mutate::edges(part, rng),
                None => "edge values",
            };
            (answer.status, what)
        }
        63..=92 => {
            counts.mutated.fetch_add(1, Ordering::Relaxed);
            if let Some(part) = answer.body.pointer_mut(answer.mutable) {
                mutate::tree(part, rng, rng.usize(1..5));
            }
            (answer.status, "mutated")
        }
        93..=99 => {
            counts.damaged.fetch_add(1, Ordering::Relaxed);
            let mut body = mutate::write(&answer.body);
            let what = mutate::bytes(&mut body, rng);
            return (answer.status, answer.headers, body, what);
        }
        _ => {
            counts.realistic.fetch_add(1, Ordering::Relaxed);
            (answer.status, "realistic")
        }
    };
    let mut headers = answer.headers;
    if change && rng.usize(0..5) == 0 {
        headers.extend(odd_headers(rng));
    }
    (status, headers, mutate::write(&answer.body), what)
}

/// Headers a careless proxy or a plugin might send. None asks a caller to
/// wait long: a long wait asked for is honoured by design, not a bug, and
/// would only slow the run down.
fn odd_headers(rng: &Rng) -> Vec<(String, Vec<u8>)> {
    let mut h: Vec<(String, Vec<u8>)> = Vec::new();
    let odd_number: &[&[u8]] =
        &[b"2.5", b"-4", b"soon", b"", b"1e999", b"NaN", b"inf", b"18446744073709551616", b"0", b"\xff\xfe", b"  3  "];
    if rng.bool() {
        let v: &[&[u8]] = &[
            b"2.5",
            b"-4",
            b"soon",
            b"1e999",
            b"NaN",
            b"Wed, 21 Oct 2015 07:28:00 GMT",
            b"Thu, 01 Jan 2099 00:00:00 GMT",
            b"18446744073709551616",
            b"\xff\xfe",
            b"3600000",
        ];
        h.push(("retry-after".into(), pick(rng, v).to_vec()));
    }
    if rng.bool() {
        let prefix = pick(rng, &["x-ratelimit-", "ratelimit-"]);
        h.push((format!("{prefix}limit"), pick(rng, odd_number).to_vec()));
        h.push((format!("{prefix}remaining"), pick(rng, odd_number).to_vec()));
        // Resets that are over at once: negative, unreadable, or a Unix time long past.
        let reset: &[&[u8]] = &[b"0", b"0.3", b"-1", b"abc", b"NaN", b"inf", b"1e999", b"1000000001", b"", b"\xff"];
        h.push((format!("{prefix}reset"), pick(rng, reset).to_vec()));
        h.push(("ratelimit-retry-after".into(), pick(rng, odd_number).to_vec()));
    }
    if rng.bool() {
        h.push(("x-wp-totalpages".into(), pick(rng, &[&b"-1"[..], b"abc", b"4294967296", b"\xff", b"0"]).to_vec()));
    }
    if rng.usize(0..4) == 0 {
        h.push(("vendure-auth-token".into(), pick(rng, &[&b""[..], b"\xff\xfe", b"x"]).to_vec()));
    }
    h
}
