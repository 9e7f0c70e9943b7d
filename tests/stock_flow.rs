//! The stock flow, ERP → store: available = on hand − reserved, per mapped
//! warehouse, only changed levels written, newer values win.

use ferry_engine::{DEMO_ERP_ID, DEMO_STORE_ID};
use ferry_tests::scenario;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_sells_what_the_erp_has_available_and_only_changes_are_written() {
    let s = scenario(0).await;
    let first = s.engine.sync_until_idle().await.expect("sync");
    assert_eq!((first.stock().written, first.stock().failed), (20, 0), "every SKU's level is set once: {first:?}");
    assert_eq!(s.sim.sim.stats().stock_mismatches, 0, "the store shows on hand − reserved for every SKU");

    let again = s.engine.sync_until_idle().await.expect("sync again");
    assert_eq!(again.stock().written, 0, "nothing changed, nothing written: {again:?}");

    // Goods arrive for one SKU; another is fully reserved by open orders.
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert!(s.sim.sim.erpnext.set_stock("MUG-01", 12, 2));
    assert!(s.sim.sim.erpnext.set_stock("MUG-02", 3, 5));
    let changed = s.engine.sync_until_idle().await.expect("sync after changes");
    assert_eq!(changed.stock().written, 2, "only the two changed levels are written: {changed:?}");
    assert_eq!(s.sim.sim.shopify.available("MUG-01"), Some(10), "12 on hand − 2 reserved");
    assert_eq!(s.sim.sim.shopify.available("MUG-02"), Some(0), "reserved above on hand never oversells: 0, not 3");
    assert_eq!(s.sim.sim.stats().stock_mismatches, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmapped_warehouse_is_reported_not_guessed() {
    let s = scenario(0).await;
    s.engine
        .enable_flow("stock", DEMO_ERP_ID, DEMO_STORE_ID, serde_json::json!({ "locations": {} }))
        .expect("an empty mapping is allowed");
    let r = s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(r.stock().written, 0, "no warehouse is mapped, so nothing is written");
    assert_eq!(s.sim.sim.shopify.available("MUG-01"), None);

    let refused = s.engine.enable_flow("stock", DEMO_STORE_ID, DEMO_ERP_ID, serde_json::json!({ "locations": {} }));
    assert!(
        refused.expect_err("backwards").message.contains("the stock flow goes from an ERP to a store"),
        "stock flows from the ERP to the store"
    );
    let refused = s.engine.enable_flow("stock", DEMO_ERP_ID, DEMO_STORE_ID, serde_json::json!({}));
    assert!(refused.expect_err("no mapping").message.contains("\"locations\""), "the message says what to set");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_sku_in_the_store_is_dead_lettered_and_the_rest_flow() {
    let s = scenario(0).await;
    s.sim.sim.erpnext.add_item("ONLY-IN-ERP", "Spare part");
    s.sim.sim.erpnext.add_bin("ONLY-IN-ERP", 7, 0);
    let r = s.engine.sync_until_idle().await.expect("sync");
    assert_eq!((r.stock().written, r.stock().failed), (20, 1), "{r:?}");
    let dead = s.engine.dead_letters(10).expect("dead letters");
    assert!(dead[0].error.contains("SKU ONLY-IN-ERP is not on any product variant in Shopify"), "{dead:?}");
}
