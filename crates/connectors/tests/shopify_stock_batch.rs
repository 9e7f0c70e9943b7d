//! Stock levels set together go to Shopify as one `inventorySetQuantities`
//! of many quantities; a refused one fails alone.

use ferry_connectors::shopify::{Shopify, DEFAULT_API_VERSION};
use ferry_connectors::Store;
use ferry_sim::shopify::LOCATION_ID;
use ferry_sim::{RunningSim, SimOptions, DEMO_SHOPIFY_TOKEN};
use futures_util::future::join_all;
use serde_json::json;

fn mutations(sim: &RunningSim) -> u64 {
    sim.sim.calls.snapshot().get("POST shopify graphql inventorySetQuantities").copied().unwrap_or(0)
}

#[tokio::test]
async fn many_levels_go_in_few_calls_and_a_refused_one_fails_alone() {
    let sim = RunningSim::start(SimOptions { skus: 600, ..SimOptions::default() }).await.expect("emulators start");
    let settings = json!({ "api_version": DEFAULT_API_VERSION, "timeout_secs": 5 });
    let shop = Shopify::new(&sim.shopify_url(), &settings, DEMO_SHOPIFY_TOKEN).expect("valid settings");
    let skus: Vec<String> = (21..=600).map(|i| format!("SKU-{i:05}")).collect();
    // Warm the SKU map, as the stock flow's first write does.
    shop.set_available(&skus[0], LOCATION_ID, 1).await.expect("set");
    let before = mutations(&sim);
    let results = join_all(skus.iter().enumerate().map(|(i, sku)| {
        let shop = &shop;
        let location = if i == 77 { "gid://shopify/Location/999" } else { LOCATION_ID };
        async move { shop.set_available(sku, location, i as i64).await }
    }))
    .await;
    let calls = mutations(&sim) - before;
    assert!(calls <= 6, "580 levels in {calls} calls");
    for (i, r) in results.iter().enumerate() {
        if i == 77 {
            let e = r.as_ref().expect_err("an unknown location is refused");
            assert!(e.to_string().contains(&skus[77]) && e.to_string().contains("location"), "{e}");
        } else {
            r.as_ref().expect("set");
            assert_eq!(sim.sim.shopify.available(&skus[i]), Some(i as i64));
        }
    }
    assert_eq!(sim.sim.shopify.available(&skus[77]), None);
}
