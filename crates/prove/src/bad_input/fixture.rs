//! What the bad-input cases share: a shop (emulators and an engine wired
//! like the demo, with pages of five orders), a scripted loopback server,
//! and what a case reports.

use crate::harness::{self, Ctx};
use anyhow::{Context, Result};
use ferry_engine::secrets::Secrets;
use ferry_engine::{ActivityQuery, Engine, EngineOptions, Tuning, DEMO_COURIER_ID, DEMO_ERP_ID, DEMO_STORE_ID};
use ferry_sim::RunningSim;
use serde_json::Value;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Orders seeded in each shop; with pages of `PAGE`, the bad order (the
/// newest) is on the third page with two good ones before it.
pub const SEEDED: usize = 12;
pub const PAGE: usize = 5;
/// Orders on the pages before the one with the bad order.
pub const BEFORE_ITS_PAGE: usize = SEEDED / PAGE * PAGE;

/// What a case found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// What Ferry said, where people see it.
    pub message: String,
    /// Words the message must hold besides the table's: the order number,
    /// the connection.
    pub names: Vec<String>,
    /// Checks that did not hold (nothing lost, nothing half-written, ...).
    pub problems: Vec<String>,
}

impl Outcome {
    pub fn said(message: impl Into<String>) -> Self {
        Self { message: message.into(), ..Self::default() }
    }

    pub fn naming(mut self, name: impl Into<String>) -> Self {
        self.names.push(name.into());
        self
    }

    /// Records `problem` unless `ok`.
    pub fn check(&mut self, ok: bool, problem: impl FnOnce() -> String) {
        if !ok {
            self.problems.push(problem());
        }
    }
}

/// An API call that must be refused: its message, or a problem when it
/// was accepted.
pub fn refused<T>(result: ferry_engine::ApiResult<T>) -> Outcome {
    match result {
        Err(e) => Outcome::said(format!("{} [{}]", e.message, e.code)),
        Ok(_) => Outcome { problems: vec!["accepted, not refused".into()], ..Outcome::default() },
    }
}

/// A connector call that must fail: its message.
pub fn failed<T: std::fmt::Debug>(result: Result<T, ferry_domain::ConnectorError>) -> Outcome {
    match result {
        Err(e) => Outcome::said(e.to_string()),
        Ok(v) => Outcome {
            problems: vec![format!("read without complaint: {}", short(&format!("{v:?}"), 200))],
            ..Outcome::default()
        },
    }
}

/// `text` cut to about `n` characters.
pub fn short(text: &str, n: usize) -> String {
    let t: String = text.chars().take(n).collect();
    if t.len() < text.len() {
        format!("{}…", t.trim_end())
    } else {
        t
    }
}

/// Retries in milliseconds, so failure paths finish quickly.
fn fast() -> Tuning {
    Tuning { backoff_base: Duration::from_millis(20), backoff_max: Duration::from_millis(200), ..Tuning::default() }
}

/// The flows of the demo, as (flow, from, to).
const FLOWS: &[(&str, &str, &str)] = &[
    ("orders", DEMO_STORE_ID, DEMO_ERP_ID),
    ("catalog", DEMO_STORE_ID, DEMO_ERP_ID),
    ("customers", DEMO_STORE_ID, DEMO_ERP_ID),
    ("stock", DEMO_ERP_ID, DEMO_STORE_ID),
    ("shipping", DEMO_ERP_ID, DEMO_COURIER_ID),
];

/// Emulators and an engine wired like the demo.
pub struct Shop {
    pub sim: RunningSim,
    pub engine: Engine,
}

impl Shop {
    /// `SEEDED` orders, pages of `PAGE`, only `flows` switched on.
    pub async fn open(ctx: &Ctx, slug: &str, flows: &[&str]) -> Result<Self> {
        Self::open_reading(ctx, slug, flows, false).await
    }

    /// As `open`; with `export`, the first full read is the store's bulk export.
    pub async fn open_reading(ctx: &Ctx, slug: &str, flows: &[&str], export: bool) -> Result<Self> {
        let seed = 6000 + slug.bytes().map(u64::from).sum::<u64>();
        let sim = harness::emulators(SEEDED, seed).await?;
        let dir = ctx.dir(&format!("bad-input/{slug}"))?;
        // Pages from the first read on: the bad answers are orders pages (a
        // later run's read; the first full read's export has its own tests).
        let tuning = ferry_engine::Tuning { bulk_first_read: export, ..fast() };
        let engine = Engine::open(EngineOptions { tuning, ..EngineOptions::new(&dir, Secrets::memory_only()) })?;
        engine.setup_demo(&ferry_engine::demo::systems(&sim))?;
        engine.update_settings(DEMO_STORE_ID, &serde_json::json!({ "page_size": PAGE }))?;
        for (flow, from, to) in FLOWS {
            if !flows.contains(flow) {
                engine.disable_flow(flow, from, to)?;
            }
        }
        Ok(Self { sim, engine })
    }

    /// Places an order with these (sku, title, quantity, price) lines, the
    /// newest in the store; returns its id and number.
    pub fn place(&self, lines: &[(&str, &str, i64, &str)]) -> (String, String) {
        let id = self.sim.sim.shopify.place_custom_order(lines, chrono::Utc::now());
        let number = self
            .sim
            .sim
            .shopify
            .order_node(&id)
            .and_then(|n| n.get("name").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default();
        (id, number)
    }

    /// From now on the store answers every orders page holding order `id`
    /// through `tamper` (until `untamper`).
    pub fn tamper_page(&self, id: &str, tamper: impl Fn(Vec<u8>) -> Vec<u8> + Send + Sync + 'static) {
        let needle = format!("\"{id}\"");
        self.sim.sim.shopify.faults.rewrite_responses("query Orders", u32::MAX, move |status, body| {
            let holds = body.windows(needle.len()).any(|w| w == needle.as_bytes());
            (status, if holds { tamper(body) } else { body })
        });
    }

    /// From now on the store sends order `id` changed by `tamper`.
    pub fn tamper_order(&self, id: &str, tamper: impl Fn(&mut Value) + Send + Sync + 'static) {
        let id = id.to_owned();
        self.tamper_page(&id.clone(), move |body| {
            let Ok(mut page) = serde_json::from_slice::<Value>(&body) else { return body };
            if let Some(edges) = page.pointer_mut("/data/orders/edges").and_then(Value::as_array_mut) {
                for e in edges.iter_mut().filter(|e| e["node"]["id"] == id.as_str()) {
                    tamper(&mut e["node"]);
                }
            }
            serde_json::to_vec(&page).unwrap_or(body)
        });
    }

    pub fn untamper(&self) {
        self.sim.sim.shopify.faults.stop_rewriting();
    }

    /// The newest error on connection `id`'s card (the Overview), which is
    /// the journal's newest error event for it.
    pub fn card_error(&self, id: &str) -> Result<Option<String>> {
        let o = self.engine.overview()?;
        let card = o.connections.into_iter().find(|c| c.id == id).context("no card for the connection")?;
        Ok(card.recent_failures.into_iter().next().map(|f| f.message))
    }

    /// Whether the journal's Activity finds `words` on connection `id` at `level`.
    pub fn journaled(&self, id: &str, level: &str, words: &str) -> Result<bool> {
        let q = ActivityQuery {
            connection_id: Some(id.into()),
            level: Some(level.into()),
            search: Some(words.into()),
            ..ActivityQuery::default()
        };
        Ok(!self.engine.activity(&q, 50)?.is_empty())
    }

    /// Problems unless the ERP holds exactly `n` Sales Orders, none twice,
    /// and every write of an order in the outbox is done.
    pub fn posted(&self, n: usize, when: &str) -> Result<Vec<String>> {
        let s = self.sim.sim.stats();
        let mut problems = Vec::new();
        if s.erp_sales_orders != n || s.duplicates != 0 {
            problems.push(format!(
                "{when}: the ERP has {} Sales Orders ({} duplicates); expected {n}, none twice",
                s.erp_sales_orders, s.duplicates
            ));
        }
        let c = self.engine.outbox_counts(Some(DEMO_ERP_ID), Some("order"))?;
        if c.done as usize != n {
            problems.push(format!(
                "{when}: the outbox holds {} done, {} pending, {} failed order writes; expected {n} done",
                c.done, c.pending, c.dead
            ));
        }
        Ok(problems)
    }

    /// Runs every enabled flow until idle.
    pub async fn sync(&self) -> Result<ferry_engine::SyncReport> {
        Ok(self.engine.sync_until_idle().await?)
    }
}

/// What the scripted server answers.
#[derive(Clone)]
pub enum Answer {
    /// This status, content type and body, with its length.
    Fixed { status: u16, content_type: &'static str, body: Vec<u8> },
    /// A JSON-looking body of this many bytes, streamed with no length
    /// until the client hangs up.
    Endless(usize),
}

/// A loopback HTTP/1.1 server answering every request the same way, and
/// counting the body bytes it got out. Stops when dropped.
pub struct Scripted {
    pub url: String,
    pub sent: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
}

impl Scripted {
    pub fn start(answer: Answer) -> Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").context("binding a loopback port")?;
        let addr = listener.local_addr()?;
        let (sent, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
        let (counter, stopping) = (sent.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (answer, counter) = (answer.clone(), counter.clone());
                std::thread::spawn(move || serve(conn, &answer, &counter));
            }
        });
        Ok(Self { url: format!("http://{addr}"), sent, stop, addr })
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = std::net::TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn serve(mut conn: std::net::TcpStream, answer: &Answer, sent: &AtomicUsize) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    // The request: its head, then as much body as it announces.
    let mut request = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
        if let Some(i) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:").and_then(|v| v.trim().parse::<usize>().ok()))
        .unwrap_or(0);
    while request.len() < head_end + length {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    match answer {
        Answer::Fixed { status, content_type, body } => {
            let head = format!(
                "HTTP/1.1 {status} Scripted\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            if conn.write_all(head.as_bytes()).and_then(|()| conn.write_all(body)).is_ok() {
                sent.fetch_add(body.len(), Ordering::SeqCst);
            }
        }
        Answer::Endless(total) => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
            if conn.write_all(head.as_bytes()).is_err() || conn.write_all(b"{\"data\":[").is_err() {
                return;
            }
            let chunk = b"0,".repeat(32 * 1024);
            let mut left = *total;
            while left > 0 {
                let n = left.min(chunk.len());
                if conn.write_all(&chunk[..n]).is_err() {
                    return;
                }
                sent.fetch_add(n, Ordering::SeqCst);
                left -= n;
            }
        }
    }
    let _ = conn.flush();
}

/// A fixed JSON answer with status 200.
pub fn json(body: Value) -> Answer {
    Answer::Fixed { status: 200, content_type: "application/json", body: body.to_string().into_bytes() }
}
