//! The customers flow, both ways: email, phone and address changed on one
//! side reach the other; changed differently on both sides they are held as
//! a conflict; the link made by email holds after the email changes.

use chrono::Utc;
use ferry_engine::Choice;
use ferry_tests::{scenario, Scenario};
use serde_json::Value;

/// (store id, email, ERP customer name) of the first seeded customer that
/// is linked on both sides after two syncs.
async fn linked_customers(s: &Scenario) -> Vec<(String, String, String)> {
    s.engine.sync_until_idle().await.expect("first sync: orders create the ERP customers");
    s.engine.sync_until_idle().await.expect("second sync: the new ERP customers are linked by email");
    let mut out = Vec::new();
    for c in s.sim.sim.shopify.customers() {
        let (Some(id), Some(email)) = (c["id"].as_str(), c["defaultEmailAddress"]["emailAddress"].as_str()) else {
            continue;
        };
        if let Some(erp) = s.sim.sim.erpnext.customer_by_email(email) {
            let name = erp.get("name").and_then(Value::as_str).expect("named").to_owned();
            out.push((id.to_owned(), email.to_owned(), name));
        }
    }
    out
}

fn store_field(s: &Scenario, id: &str, path: &[&str]) -> Value {
    let mut v = s.sim.sim.shopify.customer(id).expect("customer");
    for p in path {
        v = v[*p].clone();
    }
    v
}

fn erp_doc(s: &Scenario, doctype: &str, name: &str) -> serde_json::Map<String, Value> {
    let docs = s.sim.sim.erpnext.documents(doctype);
    docs.into_iter().find(|d| d.get("name").and_then(Value::as_str) == Some(name)).expect("document")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sided_changes_flow_both_ways_and_settle() {
    let s = scenario(3).await;
    let linked = linked_customers(&s).await;
    assert!(linked.len() >= 2, "the seeded customers are in both systems: {linked:?}");
    let quiet = s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(quiet.by_flow["customers"].written, 0, "they agree after the orders flow made them: {quiet:?}");

    let (a_store, _, a_erp) = linked[0].clone();
    let (b_store, _, b_erp) = linked[1].clone();
    assert!(s.sim.sim.shopify.edit_customer(&a_store, "phone", Some("+49 30 1234567"), Utc::now()));
    assert!(s.sim.sim.erpnext.edit_customer_address(&b_erp, "city", "Hamburg"));
    let r = s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(r.by_flow["customers"].written, 2, "{r:?}");
    assert_eq!(erp_doc(&s, "Customer", &a_erp).get("mobile_no"), Some(&Value::from("+49301234567")));
    assert_eq!(store_field(&s, &b_store, &["defaultAddress", "city"]), "Hamburg");
    assert!(s.engine.conflicts(false).expect("conflicts").is_empty());
    let again = s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(again.by_flow["customers"].written, 0, "nothing flows back and forth: {again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detail_changed_on_both_sides_is_held_and_the_link_survives_an_email_change() {
    let s = scenario(3).await;
    let linked = linked_customers(&s).await;
    let (store_id, email, erp_name) = linked[0].clone();
    assert!(s.sim.sim.shopify.edit_customer(&store_id, "email", Some("ada@shop.example"), Utc::now()));
    assert!(s.sim.sim.erpnext.edit_customer_contact(&erp_name, Some("ada@erp.example"), None));
    assert!(s.sim.sim.erpnext.edit_customer_address(&erp_name, "pincode", "20095"), "another field: it still flows");
    s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(store_field(&s, &store_id, &["defaultAddress", "zip"]), "20095");
    assert_eq!(store_field(&s, &store_id, &["defaultEmailAddress", "emailAddress"]), "ada@shop.example", "held");
    assert_eq!(erp_doc(&s, "Customer", &erp_name).get("email_id"), Some(&Value::from("ada@erp.example")), "held");
    let open = s.engine.conflicts(false).expect("conflicts");
    assert_eq!(open.len(), 1, "{open:?}");
    let c = &open[0];
    assert_eq!((c.entity.as_str(), c.field.as_str(), c.base.as_deref()), ("customer", "email", Some(email.as_str())));
    assert_eq!((c.store_value.as_deref(), c.erp_value.as_deref()), (Some("ada@shop.example"), Some("ada@erp.example")));
    assert!(s.engine.resolve_conflict(c.id, &Choice::Value("not an email".into()), None, "ada").is_err());
    s.engine.resolve_conflict(c.id, &Choice::KeepStore, Some("she told us on the phone"), "ada").expect("decide");
    s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(erp_doc(&s, "Customer", &erp_name).get("email_id"), Some(&Value::from("ada@shop.example")));

    // The email changed, yet the pair holds: by the link, not the old email.
    assert!(s.sim.sim.shopify.edit_customer(&store_id, "phone", Some("+4940555000"), Utc::now()));
    s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(erp_doc(&s, "Customer", &erp_name).get("mobile_no"), Some(&Value::from("+4940555000")));
    assert!(s.engine.conflicts(false).expect("conflicts").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_the_other_side_refuses_is_dead_lettered_with_its_reason_and_blocks_nothing() {
    let s = scenario(3).await;
    let linked = linked_customers(&s).await;
    let (a_store, _, a_erp) = linked[0].clone();
    let (b_store, _, _) = linked[1].clone();
    assert!(s.sim.sim.erpnext.edit_customer_contact(&a_erp, None, Some("call the shop")));
    assert!(s.sim.sim.shopify.edit_customer(&b_store, "address1", Some("2 Harbour Road"), Utc::now()));
    s.engine.sync_until_idle().await.expect("sync");
    let dead = s.engine.dead_letters(10).expect("dead letters");
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(dead[0].error.contains("not a phone number"), "{:?}", dead[0].error);
    assert_eq!(store_field(&s, &a_store, &["defaultPhoneNumber"]), Value::Null, "nothing half-written");
    let b_erp = s.sim.sim.erpnext.customer_by_email(linked[1].1.as_str()).expect("b");
    let b_name = b_erp.get("name").and_then(Value::as_str).expect("name");
    let addresses = s.sim.sim.erpnext.documents("Address");
    assert!(
        addresses
            .iter()
            .any(|a| a.get("address_line1") == Some(&Value::from("2 Harbour Road"))
                && a["links"][0]["link_name"] == b_name),
        "the other customer's change still went through"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_moved_by_the_customers_flow_is_not_named_for_the_old_place_again() {
    let s = scenario(0).await;
    let shop = &s.sim.sim.shopify;
    let at = Utc::now() - chrono::Duration::seconds(30);
    let first = shop.place_order_by("Ada", "Lovelace", Some("ada@example.com"), "10115", at);
    s.engine.sync_until_idle().await.expect("the order makes the ERP customer, at 10115");
    s.engine.sync_until_idle().await.expect("the customers are linked");
    let store_id = shop.customer_id_by_email("ada@example.com").expect("store customer");
    // She moves: the store's address changes, and the customers flow moves the ERP's Address with it.
    assert!(shop.edit_customer(&store_id, "zip", Some("20095"), Utc::now()));
    assert!(shop.edit_customer(&store_id, "city", Some("Hamburg"), Utc::now()));
    s.engine.sync_until_idle().await.expect("the move reaches the ERP");
    // A later order to the old place (a gift) must not name the moved Address.
    let gift = shop.place_order_by("Ada", "Lovelace", Some("ada@example.com"), "10115", Utc::now());
    s.engine.sync_until_idle().await.expect("the gift is posted");
    let orders = s.sim.sim.erpnext.documents("Sales Order");
    assert_eq!(orders.len(), 2, "{first} and {gift} posted once each");
    let named = orders[1].get("shipping_address_name").and_then(Value::as_str).expect("the gift names its address");
    let address = erp_doc(&s, "Address", named);
    assert_eq!(address.get("pincode").and_then(Value::as_str), Some("10115"), "the gift goes to the old place: {address:?}");
}
