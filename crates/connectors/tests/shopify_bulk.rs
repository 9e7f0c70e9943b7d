//! Shopify's Bulk Operations export against the emulator: the same orders,
//! field for field, as the paged query reads, refunds included; and a
//! second export while one runs waits for it.

use chrono::Utc;
use ferry_connectors::shopify::{Shopify, DEFAULT_API_VERSION};
use ferry_connectors::Store;
use ferry_sim::{RunningSim, SimOptions, DEMO_SHOPIFY_TOKEN};
use serde_json::json;

async fn all_paged(shop: &Shopify) -> Vec<ferry_domain::Order> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = shop.orders_page(None, after.as_deref()).await.expect("a page");
        out.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => return out,
        }
    }
}

async fn all_exported(shop: &Shopify) -> (Vec<ferry_domain::Order>, chrono::DateTime<Utc>) {
    let mut export = shop.export_orders().await.expect("the export runs").expect("Shopify has one");
    let started = export.started_at();
    let mut out = Vec::new();
    let mut batches = 0;
    while let Some(batch) = export.next_batch(100).await.expect("a batch") {
        assert!(!batch.is_empty() && batch.len() <= 100);
        batches += 1;
        out.extend(batch);
    }
    assert!(batches >= out.len() / 100);
    (out, started)
}

#[tokio::test]
async fn the_export_reads_what_the_pages_read() {
    let sim = RunningSim::start(SimOptions { orders: 730, ..SimOptions::default() }).await.expect("emulators start");
    let ids = sim.sim.shopify.order_ids();
    let mug = sim.sim.shopify.place_order_by("Ann", "Lee", Some("ann@example.com"), "10115", Utc::now());
    sim.sim.shopify.refund_order(&mug, &[("MUG-01", 1)], "4.90", "broken", Utc::now()).expect("refunded");
    let cancelled = sim.sim.shopify.cancel_order(&ids[18], Utc::now());
    assert!(cancelled);
    let settings = json!({ "api_version": DEFAULT_API_VERSION, "timeout_secs": 5 });
    let shop = Shopify::new(&sim.shopify_url(), &settings, DEMO_SHOPIFY_TOKEN).expect("valid settings");
    let before = Utc::now();
    let (mut exported, started) = all_exported(&shop).await;
    assert!(started <= Utc::now() && started >= before - chrono::Duration::seconds(2));
    let mut paged = all_paged(&shop).await;
    assert_eq!(exported.len(), 731);
    exported.sort_by(|a, b| a.id.cmp(&b.id));
    paged.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(exported, paged, "the export and the pages read the same orders");
    assert!(
        exported.iter().all(|o| o.customer.addresses.first().is_some_and(|a| a.postcode.is_some())),
        "each order brings its customer's own address (their default), by export and by pages alike"
    );
    let o = exported.iter().find(|o| o.id == mug).expect("the refunded order");
    assert_eq!(o.refunds.len(), 1);
    assert_eq!(o.refunds[0].lines.len(), 1, "a refund's lines come from reading the order again");
    assert!(exported.iter().any(|o| o.id == ids[18] && o.status == ferry_domain::OrderStatus::Cancelled));
}

#[tokio::test]
async fn an_empty_store_exports_nothing_and_a_bad_token_is_refused() {
    let sim = RunningSim::start(SimOptions::default()).await.expect("emulators start");
    let settings = json!({ "api_version": DEFAULT_API_VERSION, "timeout_secs": 5 });
    let shop = Shopify::new(&sim.shopify_url(), &settings, DEMO_SHOPIFY_TOKEN).expect("valid settings");
    let (orders, _) = all_exported(&shop).await;
    assert!(orders.is_empty());
    let wrong = Shopify::new(&sim.shopify_url(), &settings, "shpat_wrong_0000000000000000").expect("valid settings");
    let e = wrong.export_orders().await.err().expect("refused");
    assert!(matches!(e, ferry_domain::ConnectorError::Auth(_)), "{e}");
}

#[tokio::test]
async fn a_second_export_waits_for_the_first() {
    let sim = RunningSim::start(SimOptions { orders: 300, ..SimOptions::default() }).await.expect("emulators start");
    let settings = json!({ "api_version": DEFAULT_API_VERSION, "timeout_secs": 5 });
    let shop = Shopify::new(&sim.shopify_url(), &settings, DEMO_SHOPIFY_TOKEN).expect("valid settings");
    let (a, b) = tokio::join!(all_exported(&shop), all_exported(&shop));
    assert_eq!(a.0.len(), 300);
    assert_eq!(b.0.len(), 300);
}

#[tokio::test]
async fn the_file_link_needs_its_signature_not_the_token() {
    let sim = RunningSim::start(SimOptions { orders: 3, ..SimOptions::default() }).await.expect("emulators start");
    let client = reqwest::Client::new();
    let url = format!("{}/_bulk/1.jsonl?signature=0000", sim.shopify_url());
    let resp = client.get(&url).header("X-Shopify-Access-Token", DEMO_SHOPIFY_TOKEN).send().await.expect("answer");
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn a_large_catalog_comes_by_export_after_four_pages() {
    let sim = RunningSim::start(SimOptions { skus: 3000, ..SimOptions::default() }).await.expect("emulators start");
    let settings = json!({ "api_version": DEFAULT_API_VERSION, "timeout_secs": 5 });
    let shop = Shopify::new(&sim.shopify_url(), &settings, DEMO_SHOPIFY_TOKEN).expect("valid settings");
    let catalog = shop.catalog().await.expect("the catalog");
    assert_eq!(catalog.len(), 3000);
    assert!(catalog.iter().any(|c| c.sku == "SKU-03000"));
    let calls = sim.sim.calls.snapshot();
    assert_eq!(calls.get("POST shopify graphql productVariants"), Some(&4), "{calls:?}");
    assert_eq!(sim.sim.shopify.bulk_operations(), 1);
    // Stock for a SKU past the pages is found through the export's map.
    shop.set_available("SKU-02999", ferry_sim::shopify::LOCATION_ID, 7).await.expect("set");
    assert_eq!(sim.sim.shopify.available("SKU-02999"), Some(7));
}
