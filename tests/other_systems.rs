//! The engine with the other store and ERP: WooCommerce → Odoo, through the
//! same flows as the demo's Shopify → ERPNext. Every order arrives once,
//! to the cent; stock comes back; a lost answer duplicates nothing.

use ferry_engine::secrets::Secrets;
use ferry_engine::{ConnectionSpec, Engine, EngineOptions};
use ferry_sim::{RunningSim, SimOptions};
use rust_decimal::Decimal;
use std::collections::HashMap;

async fn woo_to_odoo(orders: usize) -> (RunningSim, Engine, tempfile::TempDir) {
    let sim = RunningSim::start(SimOptions { orders, ..SimOptions::default() }).await.expect("emulators");
    let dir = tempfile::tempdir().expect("data dir");
    // Made-up test keys, kept in memory (as the demo's are).
    let secrets = Secrets::memory_only();
    secrets.put_demo("woo", ferry_sim::DEMO_WOO_KEY);
    secrets.put_demo("odoo", ferry_sim::DEMO_ODOO_KEY);
    let options = EngineOptions { tuning: ferry_tests::fast_tuning(), ..EngineOptions::new(dir.path(), secrets) };
    let engine = Engine::open(options).expect("engine");
    let connections = [
        ("woo", "woocommerce", "Woo shop", sim.woocommerce_url(), serde_json::json!({}), ferry_sim::DEMO_WOO_KEY),
        (
            "odoo",
            "odoo",
            "Odoo",
            sim.odoo_url(),
            serde_json::json!({
                "database": ferry_sim::DEMO_ODOO_DB,
                "shipping_product": ferry_sim::odoo::SHIPPING_PRODUCT,
                "tax_product": ferry_sim::odoo::TAX_PRODUCT,
                "discount_product": ferry_sim::odoo::DISCOUNT_PRODUCT,
            }),
            ferry_sim::DEMO_ODOO_KEY,
        ),
    ];
    for (id, kind, name, url, settings, secret) in connections {
        let spec = ConnectionSpec { id: id.into(), kind: kind.into(), name: name.into(), base_url: url, settings };
        engine.check_connection(&spec, secret).await.expect("the emulator answers");
        engine.put_connection(&spec).expect("saved");
    }
    engine.enable_flow("orders", "woo", "odoo", serde_json::json!({})).expect("orders");
    engine
        .enable_flow("stock", "odoo", "woo", serde_json::json!({ "locations": { "WH/Stock": "default" } }))
        .expect("stock");
    (sim, engine, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn woocommerce_orders_reach_odoo_once_to_the_cent_and_stock_comes_back() {
    let (sim, engine, _dir) = woo_to_odoo(40).await;
    sim.sim.odoo.faults.lose_responses_after_commit(2);
    let r = engine.sync_until_idle().await.expect("sync");
    assert_eq!(r.orders().failed, 0, "{r:?}");
    let woo = sim.sim.woocommerce.order_totals();
    let odoo = sim.sim.odoo.sale_orders();
    let mut per_ref: HashMap<String, Vec<&ferry_sim::odoo::OdooSaleOrder>> = HashMap::new();
    for so in odoo.iter().filter(|so| so.state != "cancel") {
        per_ref.entry(so.client_order_ref.clone().unwrap_or_default()).or_default().push(so);
    }
    assert_eq!(per_ref.len(), woo.len(), "every store order once: {} store, {} in Odoo", woo.len(), per_ref.len());
    for (id, total) in &woo {
        let docs = per_ref.get(&id.to_string()).expect("order in Odoo");
        assert_eq!(docs.len(), 1, "no duplicate for order {id}");
        let total: Decimal = total.parse().expect("total");
        assert_eq!(docs[0].amount_total, total, "order {id} to the cent");
        assert_eq!(docs[0].state, "sale", "confirmed");
    }
    let quants = sim.sim.odoo.records("stock.quant");
    for p in sim.sim.odoo.products().iter().filter(|p| p.default_code.as_deref().is_some_and(|c| c.contains('-'))) {
        let sku = p.default_code.as_deref().unwrap_or_default();
        let available: f64 = quants
            .iter()
            .filter(|q| q["product_id"] == p.id && q["location_id"] == 1)
            .map(|q| q["quantity"].as_f64().unwrap_or(0.0) - q["reserved_quantity"].as_f64().unwrap_or(0.0))
            .sum();
        assert_eq!(
            sim.sim.woocommerce.stock(sku),
            Some(available.max(0.0) as i64),
            "stock of {sku}: on hand − reserved"
        );
    }
    let again = engine.sync_until_idle().await.expect("sync again");
    assert_eq!((again.orders().queued, again.stock().written), (0, 0), "nothing twice: {again:?}");
}
