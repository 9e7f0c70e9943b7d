//! `ferry bench-run`: one workload of `ferry bench`, in a process of its
//! own against emulators in another, printing its figures as one line
//! `BENCH {json}` (time, CPU seconds and peak memory of this process only).

use super::procs::{cpu_secs, peak_rss_mb};
use anyhow::{bail, Context, Result};
use ferry_engine::secrets::Secrets;
use ferry_engine::{Engine, EngineOptions, Tuning};
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The journal and its write-ahead log, in bytes.
fn journal_bytes(engine: &Engine) -> u64 {
    let db = engine.journal_path();
    let wal = db.with_extension("db-wal");
    [db, wal].iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum()
}

fn engine_for(base: &str, data: &Path, paged: bool) -> Result<Engine> {
    let tuning = Tuning { bulk_first_read: !paged, ..Tuning::default() };
    let engine =
        Engine::open(EngineOptions { demo: true, tuning, ..EngineOptions::new(data, Secrets::memory_only()) })?;
    engine.setup_demo(&ferry_engine::demo::systems_at(base))?;
    Ok(engine)
}

fn print(mut figures: serde_json::Value, cpu0: Option<f64>) {
    figures["cpu_s"] = json!(cpu_secs().zip(cpu0).map(|(b, a)| b - a));
    figures["peak_rss_mb"] = json!(peak_rss_mb());
    println!("BENCH {figures}");
}

pub async fn run(what: &str, base: &str, data: &Path, paged: bool, events: usize) -> Result<ExitCode> {
    match what {
        "ferry" | "stock" => {
            let engine = engine_for(base, data, paged)?;
            let cpu0 = cpu_secs();
            let t = Instant::now();
            let first = engine.sync_until_idle().await?;
            let took = t.elapsed();
            // The stock run's points are the first sync's alone: no second one.
            let t = Instant::now();
            if what == "ferry" {
                engine.sync_until_idle().await?;
            }
            let again = t.elapsed();
            let written: serde_json::Map<String, serde_json::Value> =
                first.by_flow.iter().map(|(flow, c)| (flow.to_string(), json!(c.written))).collect();
            let failed: u64 = first.by_flow.values().map(|c| c.failed).sum();
            print(
                json!({ "took_s": took.as_secs_f64(), "second_sync_s": again.as_secs_f64(),
                        "written": written, "failed": failed, "journal_bytes": journal_bytes(&engine) }),
                cpu0,
            );
        }
        "bare" => {
            let engine = engine_for(base, data, paged)?;
            let connections = engine.connections()?;
            let cpu0 = cpu_secs();
            let bare = crate::bare::run(&connections, Tuning::default().write_concurrency, !paged).await?;
            print(json!({ "took_s": bare.took.as_secs_f64(), "orders": bare.orders, "posted": bare.posted }), cpu0);
        }
        "read" => {
            // Reading only: every order of the store, by export or by pages.
            let engine = engine_for(base, data, paged)?;
            let connections = engine.connections()?;
            let cpu0 = cpu_secs();
            let t = Instant::now();
            let n = crate::bare::read_all(&connections, !paged).await?;
            print(json!({ "took_s": t.elapsed().as_secs_f64(), "orders": n }), cpu0);
        }
        "woo-odoo" => {
            let engine = woo_to_odoo(base, data).await?;
            let cpu0 = cpu_secs();
            let t = Instant::now();
            let first = engine.sync_until_idle().await?;
            let written: serde_json::Map<String, serde_json::Value> =
                first.by_flow.iter().map(|(flow, c)| (flow.to_string(), json!(c.written))).collect();
            print(json!({ "took_s": t.elapsed().as_secs_f64(), "written": written }), cpu0);
        }
        "journal" => journal(data, events)?,
        other => bail!("no workload {other:?}: ferry, bare, read, stock or journal"),
    }
    Ok(ExitCode::SUCCESS)
}

/// An engine syncing the WooCommerce emulator's orders to the Odoo
/// emulator's, and Odoo's stock back (the made-up demo keys, in memory).
async fn woo_to_odoo(base: &str, data: &Path) -> Result<Engine> {
    let secrets = Secrets::memory_only();
    secrets.put_demo("woo", ferry_sim::DEMO_WOO_KEY);
    secrets.put_demo("odoo", ferry_sim::DEMO_ODOO_KEY);
    let engine = Engine::open(EngineOptions::new(data, secrets))?;
    let odoo_settings = json!({
        "database": ferry_sim::DEMO_ODOO_DB,
        "shipping_product": ferry_sim::odoo::SHIPPING_PRODUCT,
        "tax_product": ferry_sim::odoo::TAX_PRODUCT,
        "discount_product": ferry_sim::odoo::DISCOUNT_PRODUCT,
    });
    let connections = [
        ("woo", "woocommerce", "Woo shop", format!("{base}/woocommerce"), json!({}), ferry_sim::DEMO_WOO_KEY),
        ("odoo", "odoo", "Odoo", format!("{base}/odoo"), odoo_settings, ferry_sim::DEMO_ODOO_KEY),
    ];
    for (id, kind, name, url, settings, secret) in connections {
        let spec = ferry_engine::ConnectionSpec {
            id: id.into(),
            kind: kind.into(),
            name: name.into(),
            base_url: url,
            settings,
        };
        engine.check_connection(&spec, secret).await?;
        engine.put_connection(&spec)?;
    }
    engine.enable_flow("orders", "woo", "odoo", json!({}))?;
    engine.enable_flow("stock", "odoo", "woo", json!({ "locations": { "WH/Stock": "default" } }))?;
    Ok(engine)
}

/// The Activity page and the conflicts list over a journal with `events`
/// more lines and 2,000 open conflicts (timed through the engine's API,
/// as the app calls it).
fn journal(data: &Path, events: usize) -> Result<()> {
    let engine = Engine::open(EngineOptions::new(data, Secrets::memory_only()))?;
    let before = journal_bytes(&engine);
    {
        let conn = rusqlite::Connection::open(engine.journal_path())?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {events})
             INSERT INTO events (at, run_id, connection_id, level, entity, entity_key, message)
             SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), NULL, 'demo-erp',
                    CASE WHEN i % 100 = 0 THEN 'error' ELSE 'info' END,
                    CASE WHEN i % 3 = 0 THEN 'stock' ELSE 'order' END,
                    '#' || (100000 + i), 'Order #' || (100000 + i) || ' posted to the ERP' FROM n;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
             INSERT INTO conflicts (source_id, target_id, entity, entity_key, field, base_value, store_value, erp_value, state, opened_at)
             SELECT 'demo-store', 'demo-erp', 'catalog', 'SKU-' || i, 'price', '10.00', '11.00', '12.00', 'open',
                    strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM n;"
        ))
        .context("filling the journal")?;
    }
    let mut figures = serde_json::Map::new();
    figures.insert("events".into(), json!(events));
    figures.insert("journal_bytes".into(), json!(journal_bytes(&engine)));
    figures.insert("bytes_per_event".into(), json!((journal_bytes(&engine) - before) as f64 / events.max(1) as f64));
    // The first search indexes the lines written since the last one.
    let t = Instant::now();
    engine.activity(&ferry_engine::ActivityQuery { search: Some("#123456".into()), ..Default::default() }, 200)?;
    figures.insert("first_search_ms".into(), json!(t.elapsed().as_secs_f64() * 1000.0));
    let queries = [
        ("activity_newest_ms", ferry_engine::ActivityQuery::default()),
        ("activity_errors_ms", ferry_engine::ActivityQuery { level: Some("error".into()), ..Default::default() }),
        ("activity_search_ms", ferry_engine::ActivityQuery { search: Some("#654321".into()), ..Default::default() }),
        ("activity_deep_page_ms", ferry_engine::ActivityQuery { before_id: Some(500), ..Default::default() }),
    ];
    for (name, query) in queries {
        // The first call warms SQLite's cache, as the app's first page does; the figure is the median of 5.
        engine.activity(&query, 200)?;
        let mut times: Vec<f64> = (0..5)
            .map(|_| {
                let t = Instant::now();
                engine.activity(&query, 200).map(|_| t.elapsed().as_secs_f64() * 1000.0)
            })
            .collect::<Result<_, _>>()?;
        times.sort_by(f64::total_cmp);
        figures.insert(name.into(), json!(times[2]));
    }
    figures.insert("journal_bytes_indexed".into(), json!(journal_bytes(&engine)));
    engine.conflicts(false)?;
    let t = Instant::now();
    let open = engine.conflicts(false)?;
    figures.insert("conflicts_ms".into(), json!(t.elapsed().as_secs_f64() * 1000.0));
    figures.insert("conflicts_listed".into(), json!(open.len()));
    print(serde_json::Value::Object(figures), None);
    Ok(())
}
