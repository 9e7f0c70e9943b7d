//! The shipping flow: an order the ERP marks ready to ship gets exactly one
//! courier label; the tracking number reaches the store (fulfillment) and
//! the ERP; tracking runs until delivered, and a failed delivery alerts.

use ferry_tests::{scenario, Scenario};
use serde_json::Value;

/// Posts `orders` orders, then ships the first `ship` Sales Orders in the
/// ERP. Returns the Delivery Notes.
async fn shipped(s: &Scenario, ship: usize) -> Vec<String> {
    s.engine.sync_until_idle().await.expect("orders reach the ERP");
    let sales_orders: Vec<String> = s
        .sim
        .sim
        .erpnext
        .documents("Sales Order")
        .iter()
        .filter_map(|d| d.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    sales_orders.iter().take(ship).map(|so| s.sim.sim.erpnext.ship_sales_order(so, 0.4).expect("shipped")).collect()
}

fn delivery_note(s: &Scenario, name: &str) -> serde_json::Map<String, Value> {
    let docs = s.sim.sim.erpnext.documents("Delivery Note");
    docs.into_iter().find(|d| d.get("name").and_then(Value::as_str) == Some(name)).expect("delivery note")
}

fn store_order_of(s: &Scenario, dn: &str) -> String {
    let so =
        delivery_note(s, dn)["items"][0]["against_sales_order"].as_str().expect("against a Sales Order").to_owned();
    let orders = s.sim.sim.erpnext.documents("Sales Order");
    let order = orders.iter().find(|d| d.get("name").and_then(Value::as_str) == Some(so.as_str())).expect("SO");
    order.get("shopify_order_id").and_then(Value::as_str).expect("external ref").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ready_order_gets_one_label_and_its_tracking_number_reaches_store_and_erp() {
    let s = scenario(3).await;
    let notes = shipped(&s, 2).await;
    s.sim.sim.easypost.faults.lose_responses_after_commit(1); // the first purchase's answer is lost
    let r = s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(r.by_flow["shipping"].failed, 0, "{r:?}");
    for dn in &notes {
        assert_eq!(s.sim.sim.easypost.purchased_count(dn), 1, "exactly one label for {dn}, even after a lost answer");
        let note = delivery_note(&s, dn);
        let number = note.get("tracking_number").and_then(Value::as_str).expect("tracking number on the Delivery Note");
        assert!(note.get("carrier").and_then(Value::as_str).is_some_and(|c| !c.is_empty()));
        let fulfillments = s.sim.sim.shopify.fulfillments(&store_order_of(&s, dn));
        assert_eq!(fulfillments.len(), 1, "{fulfillments:?}");
        assert_eq!(fulfillments[0]["trackingInfo"][0]["number"], number, "the store has the same tracking number");
        assert_eq!(fulfillments[0]["notifyCustomer"], true, "the customer is told");
    }
    let parcels = s.engine.parcels(10).expect("parcels");
    assert_eq!(parcels.len(), 2);
    assert!(
        parcels.iter().all(|p| p.status == "pre_transit" && p.label_url.is_some()),
        "tracked from the start: {parcels:?}"
    );

    let again = s.engine.sync_until_idle().await.expect("sync");
    assert_eq!((again.by_flow["shipping"].queued, again.by_flow["shipping"].written), (0, 0), "{again:?}");
    assert_eq!(s.sim.sim.easypost.shipments().len(), 2, "nothing booked twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_runs_until_delivered_and_a_failed_delivery_alerts_once() {
    let s = scenario(2).await;
    let notes = shipped(&s, 2).await;
    s.engine.sync_until_idle().await.expect("booked");
    let parcels = s.engine.parcels(10).expect("parcels");
    let number_of = |dn: &str| {
        parcels.iter().find(|p| p.reference == dn).and_then(|p| p.tracking_number.clone()).expect("tracking number")
    };
    let (a, b) = (number_of(&notes[0]), number_of(&notes[1]));
    assert!(s.sim.sim.easypost.advance(&a, "in_transit", "Departed the sorting centre"));
    assert!(s.sim.sim.easypost.advance(&a, "delivered", "Delivered, left with neighbour"));
    assert!(s.sim.sim.easypost.advance(&b, "failure", "Recipient not at home, no safe place"));
    s.engine.sync_until_idle().await.expect("sync");
    let parcels = s.engine.parcels(10).expect("parcels");
    let status = |dn: &str| parcels.iter().find(|p| p.reference == dn).map(|p| p.status.clone()).expect("parcel");
    assert_eq!(status(&notes[0]), "delivered");
    assert_eq!(status(&notes[1]), "failed_delivery");
    let alerts = s.engine.notifications(20).expect("alerts");
    let courier: Vec<_> = alerts.iter().filter(|a| a.kind == ferry_engine::AlertKind::CourierException).collect();
    assert_eq!(courier.len(), 1, "{alerts:?}");
    assert!(courier[0].title.contains("could not be delivered"), "{:?}", courier[0].title);
    assert!(courier[0].body.contains("Recipient not at home"), "{:?}", courier[0].body);

    s.engine.sync_until_idle().await.expect("sync again");
    let alerts = s.engine.notifications(20).expect("alerts");
    assert_eq!(
        alerts.iter().filter(|a| a.kind == ferry_engine::AlertKind::CourierException).count(),
        1,
        "the same exception is not alerted again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_without_an_address_is_refused_alone_and_booked_once_fixed() {
    let s = scenario(3).await;
    let notes = shipped(&s, 2).await;
    let address = delivery_note(&s, &notes[0]).get("shipping_address_name").cloned().expect("address");
    assert!(s.sim.sim.erpnext.set_field("Delivery Note", &notes[0], "shipping_address_name", Value::Null));
    s.engine.sync_until_idle().await.expect("sync");
    let dead = s.engine.dead_letters(10).expect("dead letters");
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(dead[0].error.contains("no complete shipping address"), "{}", dead[0].error);
    assert_eq!(s.sim.sim.easypost.purchased_count(&notes[0]), 0);
    assert_eq!(s.sim.sim.easypost.purchased_count(&notes[1]), 1, "the other parcel is not held up");

    // Fixed in the ERP: the changed document is booked on the next run.
    assert!(s.sim.sim.erpnext.set_field("Delivery Note", &notes[0], "shipping_address_name", address));
    s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(s.sim.sim.easypost.purchased_count(&notes[0]), 1);
    assert!(delivery_note(&s, &notes[0]).get("tracking_number").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customers_order_to_another_place_is_shipped_there_not_to_their_first_address() {
    let s = scenario(0).await;
    let shop = &s.sim.sim.shopify;
    let at = chrono::Utc::now() - chrono::Duration::seconds(10);
    let ada = Some("ada@example.com");
    let home = shop.place_order_by("Ada", "Lovelace", ada, "10115", at);
    let gift = shop.place_order_by("Ada", "Lovelace", ada, "10999", at + chrono::Duration::seconds(1));
    let again = shop.place_order_by("Ada", "Lovelace", ada, "10999", at + chrono::Duration::seconds(2));
    let notes = shipped(&s, 3).await;
    let r = s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(r.by_flow["shipping"].failed, 0, "{r:?}");

    let erp = &s.sim.sim.erpnext;
    assert_eq!(erp.documents("Customer").len(), 1, "one customer for one email");
    let addresses = erp.documents("Address");
    let postcode_of = |name: &str| {
        let a = addresses.iter().find(|a| a.get("name").and_then(Value::as_str) == Some(name)).expect("address");
        a.get("pincode").and_then(Value::as_str).expect("postcode").to_owned()
    };
    let wanted = |order: &str| if order == home { "10115" } else { "10999" };
    for dn in &notes {
        let order = store_order_of(&s, dn);
        assert!([&home, &gift, &again].contains(&&order));
        let address = delivery_note(&s, dn)["shipping_address_name"].as_str().expect("an address").to_owned();
        assert_eq!(postcode_of(&address), wanted(&order), "{dn} goes where its order goes");
    }
    let mut postcodes: Vec<String> =
        addresses.iter().filter_map(|a| a.get("pincode").and_then(Value::as_str).map(str::to_owned)).collect();
    postcodes.sort();
    assert_eq!(postcodes, ["10115", "10999"], "each place once, whatever order the orders were posted in");
    let customer = &erp.documents("Customer")[0];
    let primary = customer.get("customer_primary_address").and_then(Value::as_str).expect("a primary address");
    assert_eq!(postcode_of(primary), "10115", "the customer's own address (the store's default) is the primary one");
    assert_eq!(s.sim.sim.easypost.shipments().len(), 3, "one label each");
}
