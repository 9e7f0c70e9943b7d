//! Mappings through the engine: an order refused for a SKU the ERP calls
//! otherwise is listed as unmapped; mapping it replays the order, which
//! reaches the ERP once under the ERP's item code. A warehouse with no
//! store location is listed too; mapping it sends its stock.

use ferry_engine::{DEMO_ERP_ID, DEMO_STORE_ID};
use ferry_tests::scenario;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_refused_for_an_unknown_sku_is_mapped_and_replayed_once() {
    let s = scenario(3).await;
    s.sim.sim.shopify.place_custom_order(&[("GIFTCARD-50", "Gift card 50 EUR", 1, "50.00")], chrono::Utc::now());
    let first = s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(first.orders().failed, 1, "the gift card order is refused: {first:?}");
    assert_eq!(s.sim.sim.erpnext.sales_order_refs().len(), 3, "the other orders are in");

    let m = s.engine.mappings().expect("mappings");
    assert_eq!(m.unmapped.len(), 1, "{m:?}");
    let u = &m.unmapped[0];
    assert_eq!(
        (u.kind.as_str(), u.value.as_str(), u.connection_id.as_deref()),
        ("sku", "GIFTCARD-50", Some(DEMO_ERP_ID))
    );
    assert!(u.detail.contains("Could not find Item Code: GIFTCARD-50"), "the ERP's words: {}", u.detail);

    // A typo'd or unknown kind, or an empty side, is refused and saves nothing.
    assert_eq!(s.engine.set_mapping("skus", "GIFTCARD-50", "GIFT-CARD").expect_err("kind").code, "settings");
    assert!(s.engine.set_mapping("sku", "GIFTCARD-50", "  ").expect_err("empty").message.contains("ERP item code"));
    assert!(s.engine.mappings().expect("mappings").mappings.is_empty());

    s.sim.sim.erpnext.add_item("GIFT-CARD", "Gift card");
    let mapped = s.engine.set_mapping("sku", "GIFTCARD-50", " GIFT-CARD ").expect("map");
    assert_eq!(mapped.replayed, 1, "the refused order is queued again");
    let m = s.engine.mappings().expect("mappings");
    assert!(m.unmapped.is_empty(), "mapped values are no longer listed");
    assert_eq!((m.mappings[0].source.as_str(), m.mappings[0].target.as_str()), ("GIFTCARD-50", "GIFT-CARD"));

    let second = s.engine.sync_until_idle().await.expect("sync after mapping");
    assert_eq!((second.orders().written, second.orders().failed), (1, 0), "{second:?}");
    assert!(s.engine.dead_letters(10).expect("dead").is_empty());
    let docs = s.sim.sim.erpnext.documents("Sales Order");
    assert_eq!(docs.len(), 4, "every order once");
    let items: Vec<String> = docs
        .iter()
        .flat_map(|d| d["items"].as_array().cloned().unwrap_or_default())
        .filter_map(|i| i["item_code"].as_str().map(str::to_owned))
        .collect();
    assert!(items.contains(&"GIFT-CARD".to_owned()), "posted under the ERP's item code: {items:?}");
    assert!(!items.contains(&"GIFTCARD-50".to_owned()));

    let third = s.engine.sync_until_idle().await.expect("quiet sync");
    assert_eq!(third.orders().written, 0, "nothing posted twice");
    // One ERP item stocks one store SKU.
    let twice = s.engine.set_mapping("sku", "GIFTCARD-25", "GIFT-CARD").expect_err("a second SKU for the item");
    assert!(twice.message.contains("already mapped from store SKU \"GIFTCARD-50\""), "{}", twice.message);
    s.engine.remove_mapping("sku", "GIFTCARD-50").expect("remove");
    assert_eq!(s.engine.remove_mapping("sku", "GIFTCARD-50").expect_err("gone").code, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warehouse_mapped_later_sends_its_stock_then() {
    let s = scenario(0).await;
    s.engine
        .enable_flow("stock", DEMO_ERP_ID, DEMO_STORE_ID, serde_json::json!({ "locations": {} }))
        .expect("no location mapped yet");
    let first = s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(first.stock().written, 0);
    let m = s.engine.mappings().expect("mappings");
    let warehouses: Vec<&str> = m.unmapped.iter().filter(|u| u.kind == "warehouse").map(|u| u.value.as_str()).collect();
    assert_eq!(warehouses, vec![ferry_sim::erpnext::WAREHOUSE], "{m:?}");
    assert!(m.unmapped[0].detail.contains("Mappings page"), "{}", m.unmapped[0].detail);

    // Goods arrive there: still one line, met twice.
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert!(s.sim.sim.erpnext.set_stock("MUG-01", 12, 2));
    s.engine.sync_until_idle().await.expect("sync again");
    assert_eq!(s.engine.mappings().expect("mappings").unmapped[0].seen, 2);

    let mapped =
        s.engine.set_mapping("warehouse", ferry_sim::erpnext::WAREHOUSE, ferry_sim::shopify::LOCATION_ID).expect("map");
    assert!(mapped.reread, "stock is read again from the start");
    let second = s.engine.sync_until_idle().await.expect("sync after mapping");
    assert_eq!((second.stock().written, second.stock().failed), (20, 0), "{second:?}");
    assert_eq!(s.sim.sim.stats().stock_mismatches, 0);
    let again = s.engine.sync_until_idle().await.expect("quiet");
    assert_eq!(again.stock().written, 0, "reading again writes only what differs");
}
