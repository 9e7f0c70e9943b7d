//! Faults soak: for a set time the emulators inject every fault at once —
//! 5xx, 429 with Retry-After, timeouts, bodies cut short, answers lost
//! after the write committed, duplicated and shifted pages, the ERP's
//! credentials revoked and restored, and an ERP clock three minutes behind —
//! while orders arrive and stock moves, with the scheduler running. Then
//! the faults stop and everything must converge, with the alerts the alert
//! policy promises: the revocation told once, no storm, nothing dead-lettered.

use crate::harness::{self, Ctx};
use crate::report::Suite;
use anyhow::Result;
use ferry_engine::{AlertKind, Delivery, Schedule, DEMO_ERP_ID, DEMO_STORE_ID};
use ferry_sim::Chaos;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub async fn run(ctx: &Ctx, soak: Duration) -> Result<Suite> {
    let mut suite = Suite::new(
        "faults",
        "Faults soak",
        "For the soak time both emulators inject 5xx, 429 with Retry-After and timeouts at random, bodies cut \
         short, answers lost after the write committed, duplicated and shifted pages, a revocation of the \
         ERP's credentials (restored later, as a person would), and an ERP clock three minutes behind, while \
         orders arrive and stock moves under the running scheduler. Then the faults stop: every order must be \
         in the ERP exactly once with its total, the store's stock must equal the ERP's, nothing may be \
         dead-lettered, and the alerts must be what the policy promises (the revocation told once, no storm).",
        format!("ferry-prove faults{}", if ctx.long { " --long" } else { "" }),
    );
    let started = Instant::now();
    let sim = harness::emulators(100, 21).await?;
    let dir = ctx.dir("faults")?;
    harness::configure(&dir, &sim)?;
    let engine = harness::engine_with(
        &dir,
        ferry_engine::Tuning {
            backoff_base: Duration::from_millis(50),
            backoff_max: Duration::from_secs(2),
            ..ferry_engine::Tuning::default()
        },
    )?;
    for id in [DEMO_STORE_ID, DEMO_ERP_ID] {
        engine.update_settings(id, &serde_json::json!({ "timeout_secs": 1.0 }))?;
    }
    let chaos = |seed| Chaos {
        server_error_percent: 10,
        rate_limit_percent: 5,
        timeout_percent: 3,
        slow: Duration::from_millis(1500),
        seed,
    };
    sim.sim.shopify.faults.set_chaos(Some(chaos(31)));
    sim.sim.erpnext.faults.set_chaos(Some(chaos(37)));
    sim.sim.erpnext.set_clock_skew(chrono::Duration::minutes(-3));
    engine.start_scheduler(Schedule::every(Duration::from_secs(1)))?;

    let mut rng = fastrand::Rng::with_seed(5);
    let items: Vec<String> = sim.sim.erpnext.available_stock().into_iter().map(|(code, _)| code).collect();
    let mut injected: BTreeMap<&str, u64> = BTreeMap::new();
    let (revoke_at, restore_at) = (soak.mul_f64(0.3), soak.mul_f64(0.45));
    let (mut revoked, mut restored, mut placed, mut moved) = (false, false, 0usize, 0usize);
    let mut tick = 0u64;
    while started.elapsed() < soak {
        tick += 1;
        let n = rng.usize(1..=3);
        sim.sim.shopify.place_orders(n, chrono::Utc::now());
        placed += n;
        if !items.is_empty() {
            let code = &items[rng.usize(..items.len())];
            sim.sim.erpnext.set_stock(code, rng.i64(0..60), rng.i64(0..10));
            moved += 1;
        }
        if tick.is_multiple_of(7) {
            sim.sim.shopify.faults.malformed_on_request(rng.u32(1..5));
            *injected.entry("bodies cut short").or_default() += 1;
        }
        if tick.is_multiple_of(5) {
            sim.sim.shopify.faults.duplicate_next_page(1);
            sim.sim.erpnext.faults.shift_next_page(1);
            *injected.entry("duplicated or shifted pages").or_default() += 2;
        }
        if tick.is_multiple_of(4) {
            sim.sim.erpnext.faults.lose_responses_after_commit(1);
            *injected.entry("answers lost after commit").or_default() += 1;
        }
        let t = started.elapsed();
        if !revoked && t >= revoke_at {
            sim.sim.erpnext.faults.revoke_auth(true);
            revoked = true;
        }
        if revoked && !restored && t >= restore_at {
            // The shop owner fixes the key and presses Test: the connection resumes.
            sim.sim.erpnext.faults.revoke_auth(false);
            restored = true;
            let mut tries = 0;
            while engine.test_connection(DEMO_ERP_ID).await.is_err() && tries < 20 {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
    // The faults stop; what is owed catches up.
    sim.sim.shopify.faults.set_chaos(None);
    sim.sim.erpnext.faults.set_chaos(None);
    engine.stop_scheduler();
    let settle_start = Instant::now();
    let mut runs = 0;
    loop {
        runs += 1;
        let _ = engine.sync_until_idle().await;
        let s = sim.sim.stats();
        if (s.missing == 0 && s.stock_mismatches == 0) || runs >= 20 {
            break;
        }
    }
    let stats = sim.sim.stats();
    suite.check(stats.missing == 0 && stats.duplicates == 0 && stats.total_mismatches == 0, || {
        format!("orders did not converge: {stats:?}")
    });
    suite.check(stats.stock_mismatches == 0, || format!("{} SKUs' stock differs at the end", stats.stock_mismatches));
    let dead = engine.dead_letters(100)?;
    suite.check(dead.is_empty(), || {
        format!("{} writes were dead-lettered by transient faults: {:?}", dead.len(), dead.first().map(|d| &d.error))
    });
    suite.check(engine.check_journal().is_ok(), || "the journal failed integrity_check".into());

    let alerts = engine.notifications(10_000)?;
    let shown = |kind: AlertKind| alerts.iter().filter(|a| a.kind == kind && a.delivery == Delivery::Shown).count();
    let auth_shown = shown(AlertKind::AuthFailed);
    suite.check(auth_shown == 1, || format!("the revocation was shown {auth_shown} times, not once"));
    // No storm: per kind and connection, at most one shown alert per policy
    // window, plus one per distinct subject (each is a different problem).
    let window_minutes = 30.0;
    let windows = (started.elapsed().as_secs_f64() / 60.0 / window_minutes).ceil().max(1.0) as usize;
    let mut per: BTreeMap<(String, String), (usize, std::collections::BTreeSet<String>)> = BTreeMap::new();
    for a in &alerts {
        if a.delivery == Delivery::Shown {
            let e = per.entry((format!("{:?}", a.kind), a.connection_id.clone().unwrap_or_default())).or_default();
            e.0 += 1;
            e.1.insert(a.title.clone());
        }
    }
    for ((kind, conn), (n, titles)) in &per {
        suite.check(*n <= windows.max(titles.len()), || format!("{n} {kind} alerts shown for {conn}: a storm"));
    }
    suite.figure("soak", format!("{:.0} s", soak.as_secs_f64()));
    suite.figure("orders placed during the soak (plus 100 at the start)", placed);
    suite.figure("stock movements", moved);
    suite.figure("random faults", "10% 5xx, 5% 429 with Retry-After, 3% timeouts, on both emulators");
    for (k, v) in &injected {
        suite.figure(format!("{k} (asked for)"), v);
    }
    let (store_f, erp_f) = (sim.sim.shopify.faults.injected(), sim.sim.erpnext.faults.injected());
    let both = |f: fn(&ferry_sim::Injected) -> u64| f(&store_f) + f(&erp_f);
    suite.figure("faults injected in all (both emulators)", store_f.total() + erp_f.total());
    suite.figure("5xx answers", both(|i| i.server_errors));
    suite.figure("429 with Retry-After", both(|i| i.rate_limited));
    suite.figure("answers held past the client's timeout", both(|i| i.slow));
    suite.figure("bodies cut short", both(|i| i.truncated));
    suite.figure("writes committed, answer lost", both(|i| i.lost));
    suite.figure("duplicated or shifted pages", both(|i| i.pages));
    suite.figure("requests refused while the credentials were revoked", both(|i| i.auth_refused));
    suite.figure(
        "credentials revoked and restored",
        format!("at {:.0} s and {:.0} s", revoke_at.as_secs_f64(), restore_at.as_secs_f64()),
    );
    suite.figure("ERP clock skew", "3 minutes behind");
    suite.figure("runs to converge after the faults stopped", runs);
    suite.figure("seconds to converge", format!("{:.1}", settle_start.elapsed().as_secs_f64()));
    suite.figure(
        "orders / duplicates / missing / totals off",
        format!("{} / {} / {} / {}", stats.erp_sales_orders, stats.duplicates, stats.missing, stats.total_mismatches),
    );
    suite.figure("SKUs with wrong stock", stats.stock_mismatches);
    suite.figure("dead-lettered writes", dead.len());
    suite.figure(
        "alerts logged / shown",
        format!("{} / {}", alerts.len(), alerts.iter().filter(|a| a.delivery == Delivery::Shown).count()),
    );
    suite.figure("credential alerts shown", auth_shown);
    suite.seconds = started.elapsed().as_secs_f64();
    Ok(suite)
}
