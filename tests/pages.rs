//! Duplicated and shifted list pages: a server whose cursor points back
//! into the previous page, and records saved between two page reads. The
//! engine's promise holds anyway: every order in the ERP exactly once, and
//! the store's stock equal to the ERP's.

use ferry_engine::secrets::Secrets;
use ferry_engine::Tuning;
use ferry_engine::{DEMO_ERP_ID, DEMO_STORE_ID};
use ferry_sim::SimStats;
use ferry_tests::{fast_tuning, scenario, scenario_tuned, Scenario};

/// Syncs (as the scheduler would) until a run brings nothing new.
async fn sync_until_quiet(s: &Scenario, max_runs: usize) {
    for _ in 0..max_runs {
        let r = s.engine.sync_until_idle().await.expect("sync runs");
        if r.orders().queued == 0 && r.stock().queued == 0 && s.sim.sim.stats().missing == 0 {
            return;
        }
    }
    panic!("still busy after {max_runs} runs: {:?}", s.sim.sim.stats());
}

fn assert_orders_once(stats: SimStats) {
    assert_eq!(
        (stats.missing, stats.duplicates, stats.total_mismatches),
        (0, 0, 0),
        "every store order reached the ERP exactly once, to the cent: {stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_and_shifted_store_pages_post_every_order_once() {
    // Pages from the first read on (not the bulk export), to meet the troubles.
    let tuning = Tuning { bulk_first_read: false, ..fast_tuning() };
    let s = scenario_tuned(300, Secrets::memory_only(), tuning).await;
    // Six pages of 50, so there are pages after the first to disturb.
    s.engine.update_settings(DEMO_STORE_ID, &serde_json::json!({ "page_size": 50 })).expect("valid setting");
    let shop = &s.sim.sim.shopify.faults;
    shop.duplicate_next_page(3);
    shop.shift_next_page(3);

    sync_until_quiet(&s, 5).await;
    assert_eq!(shop.page_troubles_left(), 0, "all six page troubles happened while the orders were read");
    assert_orders_once(s.sim.sim.stats());
    assert_eq!(s.sim.sim.stats().erp_sales_orders, 300);

    // New orders while pages repeat and shift again: still each once.
    s.sim.sim.shopify.place_orders(40, chrono::Utc::now());
    shop.duplicate_next_page(2);
    shop.shift_next_page(2);
    sync_until_quiet(&s, 5).await;
    assert_orders_once(s.sim.sim.stats());
    assert_eq!(s.sim.sim.stats().erp_sales_orders, 340, "the 40 new orders too, none twice");
    assert!(s.engine.dead_letters(10).expect("dead letters").is_empty(), "page troubles never dead-letter anything");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shifted_and_duplicated_erp_pages_leave_the_stock_converged() {
    let s = scenario(0).await;
    let erp = &s.sim.sim.erpnext.faults;
    erp.shift_next_page(3);
    erp.duplicate_next_page(3);
    sync_until_quiet(&s, 5).await;
    assert!(erp.page_troubles_left() < 6, "the ERP's paged lists met the page troubles");
    assert_eq!(s.sim.sim.stats().stock_mismatches, 0, "the store shows on hand − reserved for every SKU");

    // Stock moves, and Bins shift under the reader again.
    std::thread::sleep(std::time::Duration::from_millis(5));
    for (sku, actual, reserved) in [("MUG-01", 12, 2), ("MUG-02", 3, 5), ("TOTEBAG-03", 0, 0)] {
        assert!(s.sim.sim.erpnext.set_stock(sku, actual, reserved), "{sku} has a Bin");
    }
    erp.shift_next_page(3);
    erp.duplicate_next_page(3);
    sync_until_quiet(&s, 5).await;
    assert_eq!(s.sim.sim.stats().stock_mismatches, 0, "every changed level reached the store: {:?}", s.sim.sim.stats());
    assert_eq!(s.sim.sim.shopify.available("MUG-01"), Some(10));
    assert!(
        s.engine.dead_letters(10).expect("dead letters").is_empty(),
        "page troubles on {DEMO_ERP_ID} never dead-letter anything"
    );
}
