//! `ferry bench`: speed and memory, measured and printed (never asserted),
//! and written to BENCHMARKS.md with `--out`. Every workload runs in a
//! process of its own (`ferry bench-run`) against the emulators in another
//! (`ferry sim`), so its time, CPU and memory are Ferry's alone; every
//! ratio compares two figures of the same run.

mod procs;
pub mod run;

use anyhow::{Context, Result};
use procs::{workload, SimProcess};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What to measure.
pub struct BenchArgs {
    /// Orders in the store for the orders flow, one run per size.
    pub orders: Vec<usize>,
    /// SKUs whose stock is pushed in the rate-limited run.
    pub skus: usize,
    /// Journal lines added for the Activity timing.
    pub events: usize,
    /// Sizes for the export-or-pages comparison of the first read.
    pub read_sizes: Vec<usize>,
    /// Where to write the Markdown report.
    pub out: Option<PathBuf>,
}

fn f(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

/// One orders-flow size: the bare loop and Ferry, each on fresh emulators.
struct OrdersRun {
    orders: usize,
    bare: Value,
    ferry: Value,
    stats: Value,
    calls: Value,
}

async fn orders_run(exe: &Path, orders: usize) -> Result<OrdersRun> {
    let bare = {
        let sim = SimProcess::start(exe, orders, 0)?;
        let dir = tempfile::tempdir()?;
        let out = workload(exe, &["bare", "--base", &sim.base, "--data", &dir.path().to_string_lossy()])?;
        let stats = sim.get("stats").await?;
        anyhow::ensure!(
            stats["missing"] == 0 && stats["duplicates"] == 0,
            "the bare loop itself missed or doubled orders: {stats}"
        );
        out
    };
    let sim = SimProcess::start(exe, orders, 0)?;
    let dir = tempfile::tempdir()?;
    let ferry = workload(exe, &["ferry", "--base", &sim.base, "--data", &dir.path().to_string_lossy()])?;
    let stats = sim.get("stats").await?;
    anyhow::ensure!(
        stats["missing"] == 0 && stats["duplicates"] == 0 && stats["total_mismatches"] == 0,
        "Ferry missed, doubled or mis-totalled orders: {stats}"
    );
    let calls = sim.get("calls").await?;
    Ok(OrdersRun { orders, bare, ferry, stats, calls })
}

pub async fn bench(args: BenchArgs) -> Result<ExitCode> {
    let exe = std::env::current_exe().context("finding the ferry binary")?;
    let machine = procs::machine();
    println!("Machine: {machine}");
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "Written by `ferry bench` (`make bench`); nothing here is typed by hand. Machine: {machine}. \
         Each workload ran in a process of its own against the emulators in another process on loopback, \
         so time, CPU and memory are the workload's alone. Figures from one run; ratios compare figures of the same run.\n"
    );

    // 1. The orders flow against the bare loop, and memory.
    let mut runs = Vec::new();
    for &n in &args.orders {
        println!("orders flow, {n} orders: the bare loop, then Ferry ...");
        let run = orders_run(&exe, n).await?;
        println!(
            "  bare loop {:.1} s, Ferry {:.1} s ({:.2}x); Ferry {:.0} orders/s, {:.2} CPU s per 1,000 orders, peak {:.0} MB; duplicates {}, missing {}",
            f(&run.bare, "took_s"),
            f(&run.ferry, "took_s"),
            f(&run.ferry, "took_s") / f(&run.bare, "took_s"),
            n as f64 / f(&run.ferry, "took_s"),
            f(&run.ferry, "cpu_s") * 1000.0 / n as f64,
            f(&run.ferry, "peak_rss_mb"),
            run.stats["duplicates"],
            run.stats["missing"],
        );
        runs.push(run);
    }
    orders_section(&mut md, &runs);

    // Calls per record on the other store and ERP.
    {
        let n = 2000;
        println!("calls per record, WooCommerce → Odoo, {n} orders ...");
        let sim = SimProcess::start(&exe, n, 0)?;
        let dir = tempfile::tempdir()?;
        let out = workload(&exe, &["woo-odoo", "--base", &sim.base, "--data", &dir.path().to_string_lossy()])?;
        let calls = sim.get("calls").await?;
        let _ = writeln!(
            md,
            "\n### Calls per record, WooCommerce → Odoo ({n} orders, a first sync: {} orders posted in {:.1} s)\n",
            out["written"]["orders"],
            f(&out, "took_s")
        );
        calls_table(&mut md, &calls, n);
    }

    // 2. The first read: one export or pages.
    let mut reads = Vec::new();
    for &n in &args.read_sizes {
        let mut row = vec![];
        for paged in [false, true] {
            let sim = SimProcess::start(&exe, n, 0)?;
            let dir = tempfile::tempdir()?;
            let mut a = vec!["read", "--base", &sim.base];
            let data = dir.path().to_string_lossy().to_string();
            a.extend(["--data", &data]);
            if paged {
                a.push("--paged");
            }
            row.push(workload(&exe, &a)?);
        }
        println!("first read of {n} orders: export {:.2} s, pages {:.2} s", f(&row[0], "took_s"), f(&row[1], "took_s"));
        reads.push((n, row));
    }
    reads_section(&mut md, &reads);

    // 3. Stock pushed under Shopify's cost limit.
    if args.skus > 0 {
        println!("stock of {} SKUs pushed to the store under its rate limit ...", args.skus);
        let sim = SimProcess::start(&exe, 0, args.skus)?;
        let dir = tempfile::tempdir()?;
        let out = workload(&exe, &["stock", "--base", &sim.base, "--data", &dir.path().to_string_lossy()])?;
        let stats = sim.get("stats").await?;
        let calls = sim.get("calls").await?;
        stock_section(&mut md, args.skus, &out, &stats, &calls);
    }

    // 4. The journal at a million lines (over the largest orders run's journal).
    if args.events > 0 {
        println!("journal: {} more lines, then the Activity page and the conflicts list ...", args.events);
        let n = args.orders.iter().copied().max().unwrap_or(1000);
        let sim = SimProcess::start(&exe, n.min(2000), 0)?;
        let dir = tempfile::tempdir()?;
        let data = dir.path().to_string_lossy().to_string();
        workload(&exe, &["ferry", "--base", &sim.base, "--data", &data])?;
        drop(sim);
        let out = workload(&exe, &["journal", "--data", &data, "--events", &args.events.to_string()])?;
        journal_section(&mut md, &runs, n.min(2000), &out);
    }

    print!("\n{md}");
    if let Some(path) = &args.out {
        std::fs::write(path, &md).with_context(|| format!("writing {}", path.display()))?;
        println!("Written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn orders_section(md: &mut String, runs: &[OrdersRun]) {
    let _ = writeln!(md, "## Orders flow, store → ERP\n");
    let _ = writeln!(
        md,
        "Shopify emulator → ERPNext emulator. The **bare loop** makes only the calls a correct sync must make, \
         through the same connectors: the store's orders (one Bulk Operations export), one lookup and one create \
         per order, {} at once; no engine, no journal. **Ferry** is a whole first sync: every flow (orders, \
         customers, stock, catalog, shipping), every order journalled and queued before it is posted, \
         its success journalled with the others that landed about then (32 to a transaction).\n",
        ferry_engine::Tuning::default().write_concurrency
    );
    let _ = writeln!(
        md,
        "| orders | bare loop | Ferry | Ferry / bare | Ferry orders/s | CPU s per 1,000 orders (bare / Ferry) | peak memory (bare / Ferry) | in the ERP: duplicates / missing |"
    );
    let _ = writeln!(md, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in runs {
        let n = r.orders as f64;
        let _ = writeln!(
            md,
            "| {} | {:.1} s | {:.1} s | {:.2}× | {:.0} | {:.2} / {:.2} | {:.0} / {:.0} MB | {} / {} |",
            r.orders,
            f(&r.bare, "took_s"),
            f(&r.ferry, "took_s"),
            f(&r.ferry, "took_s") / f(&r.bare, "took_s"),
            n / f(&r.ferry, "took_s"),
            f(&r.bare, "cpu_s") * 1000.0 / n,
            f(&r.ferry, "cpu_s") * 1000.0 / n,
            f(&r.bare, "peak_rss_mb"),
            f(&r.ferry, "peak_rss_mb"),
            r.stats["duplicates"],
            r.stats["missing"],
        );
    }
    if let (Some(small), Some(large)) = (runs.first(), runs.last()) {
        if large.orders > small.orders {
            let _ = writeln!(
                md,
                "\nMemory: Ferry's peak at {} orders is **{:.2}×** its peak at {} orders ({:.0} MB against {:.0} MB): orders are read, queued and posted in batches, never all at once.",
                large.orders,
                f(&large.ferry, "peak_rss_mb") / f(&small.ferry, "peak_rss_mb"),
                small.orders,
                f(&large.ferry, "peak_rss_mb"),
                f(&small.ferry, "peak_rss_mb"),
            );
        }
        let _ = writeln!(
            md,
            "\nA second sync right after the first (nothing new; it links the customers the first one made): {:.2} s at {} orders.",
            f(&large.ferry, "second_sync_s"),
            large.orders
        );
        calls_section(md, large);
    }
}

/// Calls per order, from the emulators' own counts of the largest run.
fn calls_section(md: &mut String, run: &OrdersRun) {
    let _ = writeln!(md, "\n### Calls per record, Shopify → ERPNext ({} orders, Ferry's first sync)\n", run.orders);
    let _ = writeln!(md, "Counted by the emulators. Per order: the call's count divided by the orders.\n");
    calls_table(md, &run.calls, run.orders);
}

fn calls_table(md: &mut String, calls: &Value, orders: usize) {
    let n = orders as f64;
    let _ = writeln!(md, "| call | count | per order |");
    let _ = writeln!(md, "| --- | ---: | ---: |");
    if let Some(calls) = calls.as_object() {
        let mut rows: Vec<(&String, f64)> = calls.iter().map(|(k, v)| (k, v.as_f64().unwrap_or(0.0))).collect();
        rows.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (call, count) in rows {
            let _ = writeln!(md, "| `{call}` | {count:.0} | {:.4} |", count / n);
        }
    }
}

fn reads_section(md: &mut String, reads: &[(usize, Vec<Value>)]) {
    if reads.is_empty() {
        return;
    }
    let _ = writeln!(md, "\n## First read of a store: one export or pages\n");
    let _ = writeln!(
        md,
        "Every order of the Shopify emulator read once, nothing written. **Export**: one Bulk Operations query, \
         polled until done, its JSONL file read as it downloads (the emulator exports {} objects a second). \
         **Pages**: `orders(first: 250)` pages paced under the Standard plan's cost limit (2,000 points, 100 a second).\n",
        ferry_sim::shopify::BULK_OBJECTS_PER_SEC
    );
    let _ = writeln!(md, "| orders | export | pages | pages / export |");
    let _ = writeln!(md, "| ---: | ---: | ---: | ---: |");
    let mut switch = None;
    for (n, row) in reads {
        let (export, pages) = (f(&row[0], "took_s"), f(&row[1], "took_s"));
        if switch.is_none() && export < pages {
            switch = Some(*n);
        }
        let _ = writeln!(md, "| {n} | {export:.2} s | {pages:.2} s | {:.1}× |", pages / export);
    }
    let _ = writeln!(
        md,
        "\n{}Ferry's first full read uses the export; later runs read only what changed, by pages, which are \
         faster for the few orders a run finds.",
        match switch {
            Some(n) => format!("The export is faster from {n} orders in this run. "),
            None => "Pages were faster at every size measured. ".into(),
        }
    );
}

fn stock_section(md: &mut String, skus: usize, out: &Value, stats: &Value, calls: &Value) {
    let spent = f(stats, "store_points_spent");
    let bucket = ferry_sim::shopify::BUCKET_MAX;
    let rate = ferry_sim::shopify::RESTORE_RATE;
    let floor = ((spent - bucket) / rate).max(0.0);
    let took = f(out, "took_s");
    let call = |k: &str| calls.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    let sets = call("POST shopify graphql inventorySetQuantities");
    let variants = call("POST shopify graphql productVariants");
    let written = out["written"].get("stock").and_then(Value::as_u64).unwrap_or(0);
    let ratio = if floor >= 1.0 { format!("{:.2}×", took / floor) } else { "— (within the bucket)".into() };
    println!(
        "  {written} stock levels written in {took:.1} s; {spent:.0} points spent, floor {floor:.1} s ({ratio}); {} throttled; {sets:.0} inventorySetQuantities calls",
        stats["store_throttled"]
    );
    let _ = writeln!(md, "\n## Stock pushed under Shopify's rate limit\n");
    let _ = writeln!(
        md,
        "{skus} SKUs with stock in the ERP emulator, none set in the Shopify emulator yet, which enforces the \
         Standard plan's GraphQL cost limit ({bucket:.0} points, {rate:.0} restored a second; `THROTTLED` when \
         empty). The **floor** is the time the limit allows for the points the run spent: (points − {bucket:.0}) / {rate:.0}. \
         Ferry first reads the store's variants (to know each SKU's inventory item: four pages, then the rest of \
         a large catalog by one Bulk Operations export), then sends the levels {} to an `inventorySetQuantities` \
         call (one call costs the same 10 points for 1 or 250).\n",
        ferry_connectors::shopify::STOCK_QUANTITIES_PER_CALL
    );
    let _ = writeln!(md, "| SKUs | levels written | wall time | points spent | floor | wall / floor | throttled | variant pages | inventorySetQuantities calls |");
    let _ = writeln!(md, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let _ = writeln!(
        md,
        "| {skus} | {written} | {took:.1} s | {spent:.0} | {floor:.1} s | {ratio} | {} | {variants:.0} | {sets:.0} |",
        stats["store_throttled"]
    );
    let naive = skus as f64 * 10.0 + (skus as f64 / 250.0).ceil() * 252.0;
    let _ = writeln!(
        md,
        "\nReading every variant by pages and setting one level per call would spend {naive:.0} points: a floor of \
         {:.0} s, {:.0}× this run's wall time.",
        (naive - bucket).max(0.0) / rate,
        ((naive - bucket).max(0.0) / rate) / took
    );
}

fn journal_section(md: &mut String, runs: &[OrdersRun], synced_orders: usize, out: &Value) {
    let _ = writeln!(md, "\n## Journal\n");
    let _ = writeln!(md, "| what | figure |");
    let _ = writeln!(md, "| --- | ---: |");
    for r in runs {
        let _ = writeln!(
            md,
            "| journal bytes per synced order, {} orders (whole first sync, WAL included) | {:.0} |",
            r.orders,
            f(&r.ferry, "journal_bytes") / r.orders as f64
        );
    }
    let _ = writeln!(
        md,
        "| journal after {synced_orders} orders, then {} more lines and 2,000 open conflicts | {:.0} MB |",
        out["events"],
        f(out, "journal_bytes") / 1e6
    );
    let _ = writeln!(md, "| bytes per added line | {:.0} |", f(out, "bytes_per_event"));
    let _ = writeln!(
        md,
        "| the same journal once searched (its search index built) | {:.0} MB |",
        f(out, "journal_bytes_indexed") / 1e6
    );
    for (key, what) in [
        ("activity_newest_ms", "Activity, newest 200 lines"),
        ("activity_errors_ms", "Activity, errors only"),
        ("activity_search_ms", "Activity, search for an order number"),
        ("activity_deep_page_ms", "Activity, a page deep down (older than line 500)"),
        ("conflicts_ms", "Conflicts list (open, 2,000)"),
        ("first_search_ms", "Activity, the first search after the million lines were added (it indexes them)"),
    ] {
        let _ = writeln!(md, "| {what} | {:.1} ms |", f(out, key));
    }
    let _ = writeln!(
        md,
        "\nTimes are the engine's calls the app makes, median of 5 after one warm-up; the target is under 20 ms."
    );
}
