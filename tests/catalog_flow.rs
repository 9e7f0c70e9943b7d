//! The catalog flow, both ways: a price changed on one side flows to the
//! other; changed on both sides differently it is held as a conflict, never
//! overwritten silently, until a person decides.

use ferry_engine::Choice;
use ferry_tests::scenario;
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sided_price_changes_flow_both_ways() {
    let s = scenario(0).await;
    let first = s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(first.by_flow["catalog"].written, 0, "both sides agree at first: nothing to write");

    assert!(s.sim.sim.shopify.set_price("MUG-01", "14.50"));
    assert!(s.sim.sim.erpnext.set_item_price("MUG-02", "3.20"));
    let r = s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(r.by_flow["catalog"].written, 2, "{r:?}");
    assert_eq!(s.sim.sim.erpnext.item_price("MUG-01"), Some(d("14.50")), "the store's change reached the ERP");
    assert_eq!(s.sim.sim.shopify.price("MUG-02"), Some(d("3.20")), "the ERP's change reached the store");
    // Changed again right after our write: the written value is the new
    // base, so this is a one-sided change, not a conflict.
    assert!(s.sim.sim.shopify.set_price("MUG-01", "14.90"));
    s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(s.sim.sim.erpnext.item_price("MUG-01"), Some(d("14.90")));

    let again = s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(again.by_flow["catalog"].written, 0, "nothing flows back and forth: {again:?}");
    assert!(s.engine.conflicts(false).expect("conflicts").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn different_changes_on_both_sides_are_held_until_a_person_decides() {
    let s = scenario(0).await;
    s.engine.sync_until_idle().await.expect("first sync agrees on every price");
    let base = s.sim.sim.shopify.price("MUG-01").expect("price");

    s.sim.sim.shopify.set_price("MUG-01", "15.00");
    s.sim.sim.erpnext.set_item_price("MUG-01", "16.00");
    s.sim.sim.shopify.set_price("MUG-02", "9.99"); // an unrelated, one-sided change still flows
    s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(s.sim.sim.erpnext.item_price("MUG-02"), Some(d("9.99")), "the rest still syncs");
    assert_eq!(s.sim.sim.shopify.price("MUG-01"), Some(d("15.00")), "the store's price is not overwritten");
    assert_eq!(s.sim.sim.erpnext.item_price("MUG-01"), Some(d("16.00")), "nor the ERP's");

    let open = s.engine.conflicts(false).expect("conflicts");
    assert_eq!(open.len(), 1, "{open:?}");
    let c = &open[0];
    assert_eq!((c.key.as_str(), c.field.as_str()), ("MUG-01", "price"));
    assert_eq!(c.base.as_deref(), Some(format!("{} EUR", base.normalize()).as_str()), "the value both last agreed on");
    assert_eq!((c.store_value.as_deref(), c.erp_value.as_deref()), (Some("15 EUR"), Some("16 EUR")));
    let o = s.engine.overview().expect("overview");
    assert_eq!(o.totals.open_conflicts, 1);
    let alerts = s.engine.notifications(10).expect("alerts");
    assert!(
        alerts.iter().any(|a| a.title == "1 catalog conflict between Demo shop (Shopify) and Demo ERP (ERPNext)"),
        "{alerts:?}"
    );

    // Later polls never overwrite a held field, nor open it twice.
    s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(s.sim.sim.shopify.price("MUG-01"), Some(d("15.00")));
    assert_eq!(s.engine.conflicts(false).expect("conflicts").len(), 1);

    // Keep the ERP's price, with a reason.
    s.engine.resolve_conflict(c.id, &Choice::KeepErp, Some("list price from the supplier"), "ada").expect("resolve");
    assert!(s.engine.resolve_conflict(c.id, &Choice::KeepStore, None, "bob").is_err(), "decided once");
    s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(s.sim.sim.shopify.price("MUG-01"), Some(d("16.00")), "the decision is written through the outbox");
    let history = s.engine.conflicts(true).expect("history");
    let decided = history.iter().find(|h| h.id == c.id).expect("kept as history");
    assert_eq!(
        (decided.open, decided.resolved_by.as_deref(), decided.reason.as_deref(), decided.resolution.as_deref()),
        (false, Some("ada"), Some("list price from the supplier"), Some("kept the ERP's value"))
    );
    let settled = s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(settled.by_flow["catalog"].written, 0, "both agree now: {settled:?}");
    assert!(s.engine.conflicts(false).expect("conflicts").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_resolution_by_policy_and_a_typed_value() {
    let s = scenario(0).await;
    s.engine.sync_until_idle().await.expect("sync");
    for (sku, store, erp) in [("MUG-01", "1.00", "2.00"), ("MUG-02", "3.00", "4.00"), ("TOTEBAG-03", "5.00", "6.00")] {
        s.sim.sim.shopify.set_price(sku, store);
        s.sim.sim.erpnext.set_item_price(sku, erp);
    }
    s.engine.sync_until_idle().await.expect("sync");
    let open = s.engine.conflicts(false).expect("conflicts");
    assert_eq!(open.len(), 3);
    let tote = open.iter().find(|c| c.key == "TOTEBAG-03").expect("tote conflict");
    assert!(
        s.engine.resolve_conflict(tote.id, &Choice::Value("abc".into()), None, "ada").is_err(),
        "not a price: refused"
    );
    s.engine.resolve_conflict(tote.id, &Choice::Value("5.50".into()), None, "ada").expect("typed value");
    assert_eq!(
        s.engine.resolve_conflicts_of("price", &Choice::KeepErp, Some("ERP is the price master"), "ada").expect("bulk"),
        2
    );
    s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(s.sim.sim.shopify.price("MUG-01"), Some(d("2.00")));
    assert_eq!(s.sim.sim.shopify.price("MUG-02"), Some(d("4.00")));
    assert_eq!(s.sim.sim.shopify.price("TOTEBAG-03"), Some(d("5.50")), "a typed value goes to both sides");
    assert_eq!(s.sim.sim.erpnext.item_price("TOTEBAG-03"), Some(d("5.50")));
    assert!(s.engine.conflicts(false).expect("conflicts").is_empty());
}

fn erp_item(s: &ferry_tests::Scenario, sku: &str, field: &str) -> serde_json::Value {
    let items = s.sim.sim.erpnext.documents("Item");
    let item = items.iter().find(|i| i.get("item_code").and_then(|v| v.as_str()) == Some(sku)).expect("item");
    item.get(field).cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn titles_and_the_active_flag_flow_field_by_field() {
    let s = scenario(0).await;
    s.engine.sync_until_idle().await.expect("first sync agrees on every product");
    let shop = &s.sim.sim.shopify;
    assert!(shop.edit_product("MUG-01", Some("Blue Mug, 350 ml"), None));
    assert!(s.sim.sim.erpnext.set_field("Item", "MUG-02", "disabled", serde_json::json!(1)), "discontinued in the ERP");
    // Two different fields of one product changed on two sides: both flow.
    assert!(shop.edit_product("TOTEBAG-03", Some("Linen tote bag"), None));
    assert!(s.sim.sim.erpnext.set_item_price("TOTEBAG-03", "7.00"));
    let r = s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(r.by_flow["catalog"].written, 4, "{r:?}");
    assert_eq!(erp_item(&s, "MUG-01", "item_name"), "Blue Mug, 350 ml");
    assert_eq!(shop.product("MUG-02").map(|p| p.1).as_deref(), Some("DRAFT"), "no longer for sale in the store");
    assert_eq!(erp_item(&s, "TOTEBAG-03", "item_name"), "Linen tote bag");
    assert_eq!(shop.price("TOTEBAG-03"), Some(d("7.00")));
    assert!(s.engine.conflicts(false).expect("conflicts").is_empty());

    // The same title changed differently on both sides: held, then decided with a typed value.
    shop.edit_product("MUG-01", Some("Mug (blue)"), None);
    s.sim.sim.erpnext.set_field("Item", "MUG-01", "item_name", serde_json::json!("Blue mug 0.35 l"));
    shop.set_price("MUG-01", "13.00"); // the price is another field: it still flows
    s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(s.sim.sim.erpnext.item_price("MUG-01"), Some(d("13.00")));
    let open = s.engine.conflicts(false).expect("conflicts");
    assert_eq!(open.len(), 1, "{open:?}");
    let c = &open[0];
    assert_eq!((c.field.as_str(), c.base.as_deref()), ("title", Some("Blue Mug, 350 ml")));
    assert_eq!((c.store_value.as_deref(), c.erp_value.as_deref()), (Some("Mug (blue)"), Some("Blue mug 0.35 l")));
    assert!(s.engine.resolve_conflict(c.id, &Choice::Value("  ".into()), None, "ada").is_err(), "an empty title");
    s.engine.resolve_conflict(c.id, &Choice::Value("Blue Mug".into()), Some("house style"), "ada").expect("typed");
    s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(shop.product("MUG-01").map(|p| p.0).as_deref(), Some("Blue Mug"));
    assert_eq!(erp_item(&s, "MUG-01", "item_name"), "Blue Mug");
    let settled = s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(settled.by_flow["catalog"].written, 0, "{settled:?}");
}
