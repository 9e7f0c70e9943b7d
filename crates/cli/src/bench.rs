//! `ferry bench`: speed and memory, measured and printed (never asserted).
//! Runs the built-in demo systems on loopback with N orders and times a
//! first full sync, a quiet sync, a dry run and a re-scan.

use anyhow::Result;
use ferry_engine::secrets::Secrets;
use ferry_engine::EngineOptions;
use ferry_sim::SimOptions;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Peak resident memory of this process so far (Linux), in MB.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

pub async fn bench(orders: usize) -> Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let demo = ferry_engine::demo::start(
        EngineOptions::new(dir.path(), Secrets::memory_only()),
        SimOptions { orders, ..SimOptions::default() },
    )
    .await?;
    let engine = &demo.engine;
    let t = Instant::now();
    let first = engine.sync_until_idle().await?;
    let first_time = t.elapsed();
    let stats = demo.sim.sim.stats();
    println!(
        "first sync: {orders} orders in {} ({:.0} orders/s); {} writes in all; duplicates {}, missing {}",
        secs(first_time),
        orders as f64 / first_time.as_secs_f64().max(1e-9),
        first.by_flow.values().map(|c| c.written).sum::<u64>(),
        stats.duplicates,
        stats.missing
    );
    let t = Instant::now();
    engine.sync_until_idle().await?;
    println!("second sync (links the customers the first one made in the ERP): {}", secs(t.elapsed()));
    let t = Instant::now();
    engine.sync_until_idle().await?;
    println!("quiet sync (nothing changed): {}", secs(t.elapsed()));
    let t = Instant::now();
    let lines = engine.dry_run().await?;
    println!("dry run: {} lines in {}", lines.len(), secs(t.elapsed()));
    engine.rescan(24)?;
    let t = Instant::now();
    engine.sync_until_idle().await?;
    println!("re-scan of 24 hours, then sync: {} (duplicates {})", secs(t.elapsed()), demo.sim.sim.stats().duplicates);
    // The Activity page over a journal with a million more lines.
    {
        let conn = rusqlite::Connection::open(engine.journal_path())?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let t = Instant::now();
        conn.execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
             INSERT INTO events (at, run_id, connection_id, level, entity, entity_key, message)
             SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), NULL, 'demo-erp',
                    CASE WHEN i % 100 = 0 THEN 'error' ELSE 'info' END,
                    CASE WHEN i % 3 = 0 THEN 'stock' ELSE 'order' END,
                    '#' || (100000 + i), 'Order #' || (100000 + i) || ' posted to the ERP' FROM n",
        )?;
        println!("journal: 1,000,000 more lines written in {}", secs(t.elapsed()));
    }
    for (what, query) in [
        ("newest page", ferry_engine::ActivityQuery::default()),
        ("errors only", ferry_engine::ActivityQuery { level: Some("error".into()), ..Default::default() }),
        (
            "search an order number",
            ferry_engine::ActivityQuery { search: Some("#654321".into()), ..Default::default() },
        ),
        ("a page deep down", ferry_engine::ActivityQuery { before_id: Some(500), ..Default::default() }),
    ] {
        let t = Instant::now();
        let page = engine.activity(&query, 200)?;
        println!("activity, {what}: {} lines in {:.1} ms", page.len(), t.elapsed().as_secs_f64() * 1000.0);
    }
    let journal = std::fs::metadata(engine.journal_path()).map(|m| m.len()).unwrap_or(0);
    println!("journal: {:.1} MB", journal as f64 / 1e6);
    if let Some(mb) = peak_rss_mb() {
        println!("peak memory (emulators included): {mb:.0} MB");
    }
    Ok(ExitCode::SUCCESS)
}
