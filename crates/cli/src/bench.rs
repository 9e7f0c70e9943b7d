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

/// CPU seconds this process has used so far (user + system; Linux).
fn cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // After the command name in parentheses: state is field 3; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// The bare loop on emulators of its own, seeded like Ferry's.
async fn bare_loop(orders: usize) -> Result<crate::bare::Bare> {
    let dir = tempfile::tempdir()?;
    let demo = ferry_engine::demo::start(
        EngineOptions::new(dir.path(), Secrets::memory_only()),
        SimOptions { orders, ..SimOptions::default() },
    )
    .await?;
    let bare = crate::bare::run(&demo.engine.connections()?, ferry_engine::Tuning::default().write_concurrency).await?;
    let stats = demo.sim.sim.stats();
    anyhow::ensure!(
        stats.missing == 0 && stats.duplicates == 0,
        "the bare loop itself missed or doubled orders: {stats:?}"
    );
    Ok(bare)
}

pub async fn bench(orders: usize) -> Result<ExitCode> {
    let cpu0 = cpu_secs();
    let bare = bare_loop(orders).await?;
    let bare_cpu = cpu_secs().zip(cpu0).map(|(b, a)| b - a);
    println!(
        "bare loop (the connectors alone, no engine, no journal): {} orders, {} posted, in {} ({:.0} orders/s){}",
        bare.orders,
        bare.posted,
        secs(bare.took),
        bare.orders as f64 / bare.took.as_secs_f64().max(1e-9),
        bare_cpu
            .map(|c| format!("; {:.2} CPU s per 1,000 orders (emulators included)", c * 1000.0 / orders.max(1) as f64))
            .unwrap_or_default()
    );
    let cpu1 = cpu_secs();
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
    let first_cpu = cpu_secs().zip(cpu1).map(|(b, a)| b - a);
    println!(
        "first sync: {orders} orders in {} ({:.0} orders/s); {} writes in all; duplicates {}, missing {}{}",
        secs(first_time),
        orders as f64 / first_time.as_secs_f64().max(1e-9),
        first.by_flow.values().map(|c| c.written).sum::<u64>(),
        stats.duplicates,
        stats.missing,
        first_cpu
            .map(|c| format!("; {:.2} CPU s per 1,000 orders (emulators included)", c * 1000.0 / orders.max(1) as f64))
            .unwrap_or_default()
    );
    println!(
        "Ferry / bare loop: {:.2}x the wall time (Ferry's first sync also runs stock, catalog, customers and shipping)",
        first_time.as_secs_f64() / bare.took.as_secs_f64().max(1e-9)
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
