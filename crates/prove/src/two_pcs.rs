//! Two PCs: two Ferrys with their own journals, pointed at one store and
//! one ERP, sync at the same time. Each order reaches the ERP exactly once
//! — the lookup by our reference before each create, and the ERP's unique
//! reference when both look at the same moment — and each Ferry's journal
//! says which orders it found already posted.

use crate::harness::{self, Ctx};
use crate::report::Suite;
use anyhow::Result;
use std::path::Path;
use std::time::{Duration, Instant};

const ORDERS: usize = 500;

/// (posted by this Ferry, found posted by the other) from its journal.
fn tally(data_dir: &Path) -> Result<(i64, i64)> {
    let c = rusqlite::Connection::open(data_dir.join(ferry_journal::FILE_NAME))?;
    let count = |sql: &str| -> Result<i64> { Ok(c.query_row(sql, [], |r| r.get(0))?) };
    let posted = count(
        "SELECT count(DISTINCT entity_key) FROM events WHERE entity = 'order' AND message LIKE '% posted to % as %'
         AND message NOT LIKE '%meanwhile by someone else%'",
    )?;
    let found = count(
        "SELECT count(DISTINCT entity_key) FROM events WHERE entity = 'order'
         AND (message LIKE '% was already in %' OR message LIKE '%meanwhile by someone else%')",
    )?;
    Ok((posted, found))
}

/// Orders the ERP's unique reference refused because the other Ferry
/// posted them at the same moment (then linked).
fn raced(data_dir: &Path) -> Result<i64> {
    let c = rusqlite::Connection::open(data_dir.join(ferry_journal::FILE_NAME))?;
    Ok(c.query_row(
        "SELECT count(DISTINCT entity_key) FROM events WHERE entity = 'order' AND message LIKE '%meanwhile by someone else%'",
        [],
        |r| r.get(0),
    )?)
}

pub async fn run(ctx: &Ctx) -> Result<Suite> {
    let mut suite = Suite::new(
        "two-pcs",
        "Two PCs, one shop",
        "Two Ferrys with separate journals, pointed at the same store and ERP, sync at the same time, then \
         once more each. Every order reaches the ERP exactly once, and each Ferry's journal says which orders \
         it found posted by the other.",
        "ferry-prove two-pcs".into(),
    );
    let started = Instant::now();
    let sim = harness::emulators(ORDERS, 11).await?;
    sim.sim.erpnext.faults.set_latency(Duration::from_millis(2));
    let (a, b) = (ctx.dir("two-pcs/a")?, ctx.dir("two-pcs/b")?);
    harness::configure(&a, &sim)?;
    harness::configure(&b, &sim)?;
    for round in 0..2 {
        let mut pa = ctx.spawn_sync(&a, &a.join("ferry.log"))?;
        let mut pb = ctx.spawn_sync(&b, &b.join("ferry.log"))?;
        let sa = harness::wait_child(&mut pa, Duration::from_secs(300)).await?;
        let sb = harness::wait_child(&mut pb, Duration::from_secs(300)).await?;
        suite.check(sa.success() && sb.success(), || format!("round {round}: the runs ended with {sa} and {sb}"));
        if round == 0 {
            sim.sim.shopify.place_orders(20, chrono::Utc::now());
        }
    }
    let stats = sim.sim.stats();
    let expected = ORDERS + 20;
    suite.check(stats.erp_sales_orders == expected && stats.duplicates == 0 && stats.missing == 0, || {
        format!(
            "{} sales orders for {expected} store orders, {} duplicates, {} missing",
            stats.erp_sales_orders, stats.duplicates, stats.missing
        )
    });
    let (posted_a, found_a) = tally(&a)?;
    let (posted_b, found_b) = tally(&b)?;
    suite.check(posted_a + posted_b == expected as i64, || {
        format!("the journals say {posted_a} + {posted_b} orders were posted, not {expected}")
    });
    suite.check(found_a + found_b > 0, || "neither journal says it found an order posted by the other".into());
    suite.figure("store orders", expected);
    suite.figure("sales orders in the ERP", stats.erp_sales_orders);
    suite.figure("duplicates", stats.duplicates);
    suite.figure("missing", stats.missing);
    suite.figure("PC A: posted / found posted by the other", format!("{posted_a} / {found_a}"));
    suite.figure("PC B: posted / found posted by the other", format!("{posted_b} / {found_b}"));
    suite.figure(
        "of those, refused by the ERP's unique reference (both posted at once), then linked",
        raced(&a)? + raced(&b)?,
    );
    suite.seconds = started.elapsed().as_secs_f64();
    Ok(suite)
}
