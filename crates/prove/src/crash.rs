//! Crash: `ferry sync` is killed (SIGKILL) at random points while it posts
//! 1,000 orders, sets stock and books parcels, then started again on the
//! same data dir, until it finishes. After each trial every order is in the
//! ERP exactly once, every shipped Delivery Note has exactly one label, the
//! store shows the ERP's available stock, and the journal passes
//! `PRAGMA integrity_check`.

use crate::harness::{self, Ctx};
use crate::report::Suite;
use anyhow::Result;
use std::time::{Duration, Instant};

const ORDERS: usize = 1000;
/// Delivery Notes shipped in each trial, booked while kills land.
const SHIPMENTS: usize = 20;

pub async fn run(ctx: &Ctx, trials: usize) -> Result<Suite> {
    let mut suite = Suite::new(
        "crash",
        "Crash: SIGKILL mid-sync, restart, repeat",
        "`ferry sync --once` is killed with SIGKILL at random points while it posts 1,000 orders store → ERP, \
         sets stock and books parcels, and started again on the same data dir until it finishes. After each \
         trial: every order in the ERP exactly once, none missing, one label per shipped Delivery Note, the \
         store's stock equal to the ERP's available quantity, and a journal that passes `PRAGMA integrity_check`.",
        format!("ferry-prove crash --trials {trials}"),
    );
    let started = Instant::now();
    let (mut kills, mut mid_orders, mut mid_shipping) = (0usize, 0usize, 0usize);
    let mut worst = (0usize, 0usize, 0usize, 0usize); // duplicates, missing, stock mismatches, extra labels
    for trial in 0..trials {
        let seed = 1000 + trial as u64;
        let mut rng = fastrand::Rng::with_seed(seed);
        let sim = harness::emulators(ORDERS, seed).await?;
        sim.sim.erpnext.faults.set_latency(Duration::from_millis(2));
        let dir = ctx.dir(&format!("crash/{trial}"))?;
        harness::configure(&dir, &sim)?;
        let log = dir.join("ferry.log");

        // Orders (and the stock and catalog that come with a run): kill at
        // 1–3 random points on the way to 1,000.
        let mut floor = 0;
        for _ in 0..rng.usize(1..=3) {
            let target = rng.usize(floor + 1..ORDERS - 50).max(floor + 1);
            let mut child = ctx.spawn_sync(&dir, &log)?;
            let reached = harness::wait_for("sales orders", Duration::from_secs(120), || {
                sim.sim.stats().erp_sales_orders >= target || matches!(child.try_wait(), Ok(Some(_)))
            })
            .await;
            let _ = child.kill();
            let _ = child.wait();
            reached?;
            kills += 1;
            let n = sim.sim.stats().erp_sales_orders;
            if n < ORDERS {
                mid_orders += 1;
            }
            floor = n.min(ORDERS - 60);
        }
        // Shipping: the warehouse ships; kill while labels are booked.
        let mut child = ctx.spawn_sync(&dir, &log)?;
        harness::wait_child(&mut child, Duration::from_secs(300)).await?;
        let shipped: Vec<String> = sim
            .sim
            .erpnext
            .unshipped_sales_orders()
            .into_iter()
            .take(SHIPMENTS)
            .filter_map(|so| sim.sim.erpnext.ship_sales_order(&so, 0.4))
            .collect();
        sim.sim.easypost.faults.set_latency(Duration::from_millis(15));
        for _ in 0..2 {
            let mut child = ctx.spawn_sync(&dir, &log)?;
            tokio::time::sleep(Duration::from_millis(rng.u64(150..900))).await;
            let _ = child.kill();
            let _ = child.wait();
            kills += 1;
            let booked = shipped.iter().filter(|dn| sim.sim.easypost.purchased_count(dn) > 0).count();
            if booked < shipped.len() {
                mid_shipping += 1;
            }
        }
        sim.sim.easypost.faults.set_latency(Duration::ZERO);
        // The last run finishes.
        let mut child = ctx.spawn_sync(&dir, &log)?;
        let status = harness::wait_child(&mut child, Duration::from_secs(300)).await?;
        suite.check(status.success(), || format!("trial {trial}: the last run ended with {status}"));

        let stats = sim.sim.stats();
        let extra_labels: usize = shipped.iter().map(|dn| sim.sim.easypost.purchased_count(dn).saturating_sub(1)).sum();
        let unbooked = shipped.iter().filter(|dn| sim.sim.easypost.purchased_count(dn) == 0).count();
        suite.check(stats.erp_sales_orders == ORDERS && stats.duplicates == 0 && stats.missing == 0, || {
            format!(
                "trial {trial} (seed {seed}): {} sales orders, {} duplicates, {} missing",
                stats.erp_sales_orders, stats.duplicates, stats.missing
            )
        });
        suite.check(stats.stock_mismatches == 0, || {
            format!("trial {trial}: {} SKUs' stock differs", stats.stock_mismatches)
        });
        suite.check(extra_labels == 0 && unbooked == 0, || {
            format!("trial {trial}: {extra_labels} labels bought twice, {unbooked} shipped notes without a label")
        });
        if let Err(e) = harness::journal_sound(&dir) {
            suite.failures.push(format!("trial {trial}: the journal is not sound: {e}"));
        }
        worst.0 = worst.0.max(stats.duplicates);
        worst.1 = worst.1.max(stats.missing);
        worst.2 = worst.2.max(stats.stock_mismatches);
        worst.3 = worst.3.max(extra_labels);
    }
    suite.figure("trials", trials);
    suite.figure("orders per trial", ORDERS);
    suite.figure("shipped Delivery Notes per trial", SHIPMENTS);
    suite.figure("SIGKILLs", kills);
    suite.figure("kills that landed mid-orders", mid_orders);
    suite.figure("kills that landed mid-booking", mid_shipping);
    suite.figure("orders duplicated (worst trial)", worst.0);
    suite.figure("orders missing (worst trial)", worst.1);
    suite.figure("SKUs with wrong stock (worst trial)", worst.2);
    suite.figure("labels bought twice (worst trial)", worst.3);
    suite.figure("journals failing integrity_check", suite.failures.iter().filter(|f| f.contains("not sound")).count());
    suite.seconds = started.elapsed().as_secs_f64();
    Ok(suite)
}
