//! The engine's promises under faults: random 5xx, 429s and timeouts on
//! both sides, a malformed page mid-run, a day offline, orders edited
//! while a sync runs, and polls racing *Sync now*. After each: every order
//! in the ERP exactly once, totals to the cent, nothing dead-lettered.

use ferry_engine::secrets::Secrets;
use ferry_engine::{Engine, EngineOptions, Schedule, DEMO_COURIER_ID, DEMO_ERP_ID, DEMO_STORE_ID};
use ferry_sim::{Chaos, SimOptions, SimStats};
use ferry_tests::{fast_tuning, scenario, Scenario};
use std::sync::Arc;
use std::time::Duration;

fn assert_converged(stats: SimStats) {
    assert_eq!(
        (stats.missing, stats.duplicates, stats.not_cancelled, stats.total_mismatches),
        (0, 0, 0, 0),
        "store and ERP agree: {stats:?}"
    );
}

/// Short client timeouts so a slow answer is a timeout in this test.
fn short_timeouts(s: &Scenario, secs: f64) {
    for id in [DEMO_STORE_ID, DEMO_ERP_ID] {
        s.engine.update_settings(id, &serde_json::json!({ "timeout_secs": secs })).expect("valid setting");
    }
}

/// Runs syncs (as the scheduler would) until the ERP has every order.
async fn sync_until_converged(s: &Scenario, max_runs: usize) -> usize {
    for run in 1..=max_runs {
        s.engine.sync_until_idle().await.expect("sync runs");
        if s.sim.sim.stats().missing == 0 {
            return run;
        }
    }
    panic!(
        "not converged after {max_runs} runs: {:?}; outbox {:?}; overview {:?}",
        s.sim.sim.stats(),
        s.engine.outbox_counts(None, None),
        s.engine.overview().map(|o| o
            .connections
            .into_iter()
            .map(|c| (c.state_text, c.recent_failures))
            .collect::<Vec<_>>())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_percent_5xx_ten_percent_429_and_timeouts_on_both_sides() {
    let s = scenario(100).await;
    short_timeouts(&s, 0.5);
    let chaos = |seed| Chaos {
        server_error_percent: 20,
        rate_limit_percent: 10,
        timeout_percent: 5,
        slow: Duration::from_secs(1),
        seed,
    };
    s.sim.sim.shopify.faults.set_chaos(Some(chaos(7)));
    s.sim.sim.erpnext.faults.set_chaos(Some(chaos(11)));
    let runs = sync_until_converged(&s, 30).await;
    eprintln!("chaos: converged after {runs} runs");
    assert_converged(s.sim.sim.stats());
    assert!(
        s.engine.dead_letters(10).expect("dead letters").is_empty(),
        "transient faults never dead-letter an order here"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_page_in_the_middle_of_a_run_is_retried() {
    let s = scenario(600).await; // three pages of 250
    s.sim.sim.shopify.faults.malformed_on_request(2);
    let r = s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(
        (r.orders().fetched, r.orders().written, r.orders().failed),
        (600, 600, 0),
        "the cut page is read again: {r:?}"
    );
    assert_converged(s.sim.sim.stats());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_offline_is_caught_up_without_gaps_or_repeats() {
    let now = chrono::Utc::now();
    let clock = Arc::new(ferry_domain::FixedClock::new(now - chrono::Duration::hours(24)));
    let dir = tempfile::tempdir().expect("data dir");
    let options = EngineOptions {
        clock: clock.clone(),
        tuning: fast_tuning(),
        ..EngineOptions::new(dir.path(), Secrets::memory_only())
    };
    // About 33 hours of orders, the newest now.
    let demo = ferry_engine::demo::start(options, SimOptions { orders: 1000, now, ..SimOptions::default() })
        .await
        .expect("demo");
    let (engine, sim) = (&demo.engine, &demo.sim.sim);

    let first = engine.sync_until_idle().await.expect("sync a day ago");
    assert!(first.orders().written > 0 && first.orders().written < 1000, "only what existed a day ago: {first:?}");

    // The ERP goes down; the PC keeps polling through the night.
    sim.erpnext.faults.fail_next(u32::MAX);
    clock.set(now - chrono::Duration::hours(12));
    let night = engine.sync_until_idle().await.expect("sync during the outage");
    assert_eq!(night.orders().written, 0);
    assert!(night.orders().queued > 0, "orders keep being read and queued while the ERP is down");
    let alerts = engine.notifications(20).expect("alerts");
    assert!(alerts.iter().any(|a| a.title == "Demo ERP (ERPNext) is not answering"), "{alerts:?}");

    // Morning: the ERP is back.
    sim.erpnext.faults.fail_next(0);
    clock.set(now + chrono::Duration::seconds(1));
    engine.sync_until_idle().await.expect("catch up");
    assert_converged(sim.stats());
    assert_eq!(sim.stats().erp_sales_orders, 1000);
    assert!(engine.dead_letters(10).expect("dead letters").is_empty(), "an outage never dead-letters anything");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_edited_and_placed_while_a_sync_runs() {
    let s = scenario(300).await;
    s.sim.sim.shopify.faults.set_latency(Duration::from_millis(30));
    s.sim.sim.erpnext.faults.set_latency(Duration::from_millis(3));
    let shop = s.sim.sim.clone();
    let ids = shop.shopify.order_ids();
    let meddler = tokio::spawn(async move {
        for (i, id) in ids.iter().take(10).enumerate() {
            tokio::time::sleep(Duration::from_millis(40)).await;
            shop.shopify.place_orders(1, chrono::Utc::now());
            if i % 3 == 0 {
                shop.shopify.cancel_order(id, chrono::Utc::now());
            }
        }
    });
    s.engine.sync_until_idle().await.expect("sync while the store changes");
    meddler.await.expect("meddler");
    tokio::time::sleep(Duration::from_millis(1100)).await; // past the store's one-second timestamps
    s.engine.sync_until_idle().await.expect("next sync");
    assert_converged(s.sim.sim.stats());
    assert_eq!(s.sim.sim.stats().store_orders, 310);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_racing_sync_now_and_a_manual_run_post_once() {
    let s = scenario(400).await;
    s.sim.sim.erpnext.faults.set_latency(Duration::from_millis(2));
    s.engine.start_scheduler(Schedule { interval: Some(Duration::from_millis(150)), jitter: 0.5 }).expect("scheduler");
    let presser = {
        let engine = s.engine.clone();
        tokio::spawn(async move {
            for _ in 0..40 {
                engine.sync_now(None).expect("sync now");
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        })
    };
    let manual = s.engine.sync_until_idle();
    let (m, p) = tokio::join!(manual, presser);
    m.expect("manual run");
    p.expect("presser");
    s.engine.sync_until_idle().await.expect("final run");
    s.engine.stop_scheduler();
    assert_converged(s.sim.sim.stats());
    assert_eq!(s.engine.outbox_counts(None, Some("order")).expect("counts").done, 400, "each order is one done write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_are_refused_with_what_and_where() {
    let s = scenario(1).await;
    // Stored settings are checked when the connector is built: the run
    // pauses that connection and says what to fix; nothing is lost.
    s.engine.update_settings(DEMO_ERP_ID, &serde_json::json!({ "timeout_secs": -3 })).expect("stored");
    let r = s.engine.sync_until_idle().await.expect("a bad setting does not fail the whole sync");
    assert_eq!((r.orders().queued, r.orders().written), (1, 0), "the order is read and waits: {r:?}");
    let o = s.engine.overview().expect("overview");
    let erp = o.connections.iter().find(|c| c.id == DEMO_ERP_ID).expect("card");
    assert_eq!(
        erp.state_text,
        "Paused: settings need fixing: setting \"timeout_secs\": must be a number of seconds from 0.1 to 300"
    );
    let alerts = s.engine.notifications(5).expect("alerts");
    assert!(alerts.iter().any(|a| a.title == "Demo ERP (ERPNext)'s settings need fixing"), "{alerts:?}");

    s.engine.update_settings(DEMO_ERP_ID, &serde_json::json!({ "timeout_secs": null })).expect("fixed");
    let r = s.engine.sync_until_idle().await.expect("sync after the fix");
    assert_eq!(r.orders().written, 1, "the waiting order goes out once the setting is fixed");
    assert_eq!(r.stock().written, 20, "and the stock the paused ERP could not be read for");
    let engine: &Engine = &s.engine;
    assert!(engine.update_settings("nope", &serde_json::json!({})).is_err(), "an unknown connection is an error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watchdog_reports_silence_once_and_reconciles_daily() {
    // Ferry's clock runs a little ahead, so everything the systems seed now is in the past for it.
    let t0 = chrono::Utc::now() + chrono::Duration::seconds(2);
    let clock = Arc::new(ferry_domain::FixedClock::new(t0));
    let dir = tempfile::tempdir().expect("data dir");
    let options = EngineOptions {
        clock: clock.clone(),
        tuning: fast_tuning(),
        ..EngineOptions::new(dir.path(), Secrets::memory_only())
    };
    let demo = ferry_engine::demo::start(
        options,
        SimOptions { orders: 20, now: t0 - chrono::Duration::seconds(2), ..SimOptions::default() },
    )
    .await
    .expect("demo");
    let engine = &demo.engine;
    engine.sync_until_idle().await.expect("sync");

    let first = engine.check_health().await.expect("check");
    assert!(first.stale.is_empty(), "just synced: nothing is stale");
    assert!(first.reconciled, "no reconciliation yet today: one runs");
    assert!(first.digest, "and the day's digest is written");
    let again = engine.check_health().await.expect("check");
    assert!(!again.reconciled && !again.digest, "neither again the same day");
    let digest =
        engine.notifications(20).expect("alerts").into_iter().find(|a| a.kind == ferry_engine::AlertKind::Digest);
    assert_eq!(
        digest.map(|d| d.title).as_deref(),
        Some("Ferry's day: 20 orders posted, 20 stock levels written, 0 failed"),
        "one line on what happened"
    );

    clock.set(t0 + chrono::Duration::hours(3));
    let mut silent = engine.check_health().await.expect("check").stale;
    silent.sort();
    assert_eq!(
        silent,
        vec![DEMO_COURIER_ID.to_string(), DEMO_ERP_ID.to_string(), DEMO_STORE_ID.to_string()],
        "three hours without a successful run"
    );
    assert!(engine.check_health().await.expect("check").stale.is_empty(), "said once, not every five minutes");
    let alerts = engine.notifications(20).expect("alerts");
    assert!(alerts.iter().any(|a| a.title == "Demo shop (Shopify) has not synced for 3 hours"), "{alerts:?}");

    engine.sync_until_idle().await.expect("sync again");
    assert!(engine.check_health().await.expect("check").stale.is_empty(), "recovered");
    clock.set(t0 + chrono::Duration::hours(6));
    assert_eq!(engine.check_health().await.expect("check").stale.len(), 3, "silent again: said again");
}
