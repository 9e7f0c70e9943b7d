//! The WooCommerce connector against the WooCommerce emulator over
//! loopback: paging, money to the cent, refunds, stock, catalog,
//! customers, fulfillment, and what each kind of failure becomes.

use chrono::{DateTime, Duration, Utc};
use ferry_connectors::woocommerce::WooCommerce;
use ferry_connectors::{Customers, Store};
use ferry_domain::{CatalogField, ConnectorError, CustomerField, Money, Order, Shipment};
use ferry_sim::woocommerce::{RunningWoo, WooSim, DEMO_WOO_KEY};
use ferry_sim::{seed, SimOptions};
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z").expect("valid").with_timezone(&Utc)
}

async fn start(orders: usize, settings: serde_json::Value) -> (RunningWoo, WooCommerce) {
    let opts = SimOptions { orders, now: now(), ..SimOptions::default() };
    let sim = Arc::new(WooSim::seeded(&opts, &seed::catalog(opts.seed)));
    let running = RunningWoo::start(sim).await.expect("emulator starts");
    let woo = connect(&running, &settings, DEMO_WOO_KEY);
    (running, woo)
}

fn connect(running: &RunningWoo, settings: &serde_json::Value, key: &str) -> WooCommerce {
    let mut settings = settings.clone();
    settings["timeout_secs"] = json!(5);
    WooCommerce::new(&running.url(), &settings, key).expect("valid settings")
}

/// Every order changed at or after `since`, following the page tokens.
async fn read_all(woo: &WooCommerce, since: Option<DateTime<Utc>>) -> (Vec<Order>, usize) {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = woo.orders_page(since, after.as_deref()).await.expect("a page");
        pages += 1;
        all.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return (all, pages),
        }
        assert!(pages < 100, "paging ends");
    }
}

fn ids(orders: &[Order]) -> Vec<u64> {
    orders.iter().map(|o| o.id.parse().expect("numeric id")).collect()
}

#[tokio::test]
async fn pages_through_changed_orders_oldest_first() {
    let (sim, woo) = start(30, json!({ "page_size": 10 })).await;
    let (all, pages) = read_all(&woo, None).await;
    assert_eq!(pages, 3, "30 orders, 10 a page, by X-WP-TotalPages");
    assert_eq!(ids(&all), sim.sim.order_ids(), "every order once, oldest change first");
    assert!(all.windows(2).all(|w| w[0].updated_at <= w[1].updated_at));

    let since = all[24].updated_at;
    let (recent, _) = read_all(&woo, Some(since)).await;
    assert_eq!(ids(&recent), ids(&all[24..]), "modified_after: the order changed at `since` and the newer ones");

    sim.sim.cancel_order(1003, now() + Duration::minutes(5));
    let (changed, _) = read_all(&woo, Some(now() + Duration::minutes(1))).await;
    assert_eq!(ids(&changed), [1003], "a cancelled order is read again");
    assert_eq!(changed[0].status, ferry_domain::OrderStatus::Cancelled);
}

#[tokio::test]
async fn orders_changed_in_one_second_or_while_paging_are_each_read_once() {
    let (sim, woo) = start(0, json!({ "page_size": 10 })).await;
    let burst = sim.sim.place_orders(25, now());
    let (all, _) = read_all(&woo, Some(now())).await;
    assert_eq!(
        ids(&all).into_iter().collect::<HashSet<_>>(),
        burst.iter().copied().collect(),
        "25 orders in one second"
    );
    assert_eq!(all.len(), 25, "none twice");

    // An order of the first page changes between pages: with page numbers
    // the others would shift back one and one would be skipped.
    let first = woo.orders_page(Some(now()), None).await.expect("page 1");
    let moved: u64 = first.items[0].id.parse().expect("id");
    sim.sim.touch_order(moved, now() + Duration::seconds(30));
    let mut seen: Vec<u64> = ids(&first.items);
    let mut after = first.next;
    while let Some(token) = after {
        let page = woo.orders_page(Some(now()), Some(&token)).await.expect("a page");
        seen.extend(ids(&page.items));
        after = page.next;
    }
    let unique: HashSet<u64> = seen.iter().copied().collect();
    assert_eq!(unique, burst.iter().copied().collect::<HashSet<_>>(), "no order skipped by the shift");
    assert_eq!(seen.len(), 25, "none twice in one pass");
    let (again, _) = read_all(&woo, Some(now() + Duration::seconds(1))).await;
    assert_eq!(ids(&again), [moved], "the next pass reads the changed order");
}

#[tokio::test]
async fn totals_add_up_to_the_cent_with_and_without_included_tax() {
    let (sim, woo) = start(80, json!({})).await;
    let (all, _) = read_all(&woo, None).await;
    let totals = sim.sim.order_totals();
    let mut gross_discounted = 0;
    let mut net_discounted = 0;
    for o in &all {
        assert_eq!(o.check_total(), Ok(()), "order {} adds up", o.number);
        let id: u64 = o.id.parse().expect("id");
        assert_eq!(o.total.amount.to_string(), totals[&id], "the store's total, untouched");
        let discounted_and_shipped = o.discount.is_some() && !o.shipping_lines.is_empty();
        if discounted_and_shipped && o.taxes_included {
            gross_discounted += 1;
        }
        if discounted_and_shipped && !o.taxes_included {
            net_discounted += 1;
            assert!(o.tax_lines.iter().all(|t| t.rate.is_some()), "rates come from rate_percent");
        }
    }
    assert!(
        gross_discounted > 0 && net_discounted > 0,
        "both kinds with discount and shipping: {gross_discounted} / {net_discounted}"
    );

    // A hand-made gross order whose net lines do not divide per unit.
    let mut o = seed::orders(7, 1, 5001, now(), &seed::catalog(42)).remove(0);
    o.taxes_included = true;
    o.discount_percent = 10;
    o.vat_percent = 19;
    o.lines = vec![(
        seed::SeedProduct { sku: "MUG-01".into(), title: "Blue Mug".into(), price: "12.99".parse().expect("d") },
        3,
    )];
    sim.sim.add_order(&o, now() + Duration::minutes(1));
    let (fresh, _) = read_all(&woo, Some(now() + Duration::minutes(1))).await;
    let mapped = &fresh[0];
    assert_eq!(mapped.check_total(), Ok(()));
    assert!(mapped.taxes_included);
    assert_eq!(mapped.lines[0].unit_price.amount.to_string(), "12.99", "the gross catalog price comes back");
    assert_eq!(mapped.total.amount.to_string(), "39.97", "38.97 − 3.90 + 4.90");
}

#[tokio::test]
async fn refunds_are_read_with_their_lines() {
    let (sim, woo) = start(5, json!({})).await;
    let order = sim.sim.order(1002).expect("seeded order");
    let sku = order["line_items"][0]["sku"].as_str().expect("sku").to_owned();
    let refund = sim.sim.refund_order(1002, &[(&sku, 1)], "4.90", "Damaged in transit", now() + Duration::hours(1));
    let refund = refund.expect("refunded");
    let (changed, _) = read_all(&woo, Some(now() + Duration::minutes(30))).await;
    assert_eq!(ids(&changed), [1002], "a refund changes the order");
    let r = &changed[0].refunds[0];
    assert_eq!(r.id, refund.to_string());
    assert_eq!(r.note.as_deref(), Some("Damaged in transit"));
    assert_eq!((r.lines[0].sku.as_deref(), r.lines[0].quantity), (Some(sku.as_str()), 1), "a positive quantity back");
    let lines: Decimal = r.lines.iter().map(|l| l.amount.amount).sum();
    assert_eq!(r.total.amount, lines + Decimal::new(490, 2), "the goods plus the extra 4.90");
}

#[tokio::test]
async fn stock_is_set_on_products_and_variations_at_the_one_location() {
    let (sim, woo) = start(0, json!({})).await;
    woo.set_available("NOTEBOOK-05", "default", 7).await.expect("set");
    assert_eq!(sim.sim.stock("NOTEBOOK-05"), Some(7));
    woo.set_available("MUG-02", "default", 0).await.expect("a variation's stock");
    assert_eq!(sim.sim.stock("MUG-02"), Some(0));
    woo.set_available("MUG-02", "default", 0).await.expect("setting again is harmless");
    match woo.set_available("NOTEBOOK-05", "Warehouse 2", 3).await {
        Err(ConnectorError::Rejected { message, .. }) => assert!(message.contains("one stock count"), "{message}"),
        other => panic!("another location is refused, got {other:?}"),
    }
    assert_eq!(sim.sim.stock("NOTEBOOK-05"), Some(7), "unchanged");
    assert!(matches!(woo.set_available("NOPE-1", "default", 1).await, Err(ConnectorError::Rejected { .. })));
    let named = connect(&sim, &json!({ "location": "Lager Berlin" }), DEMO_WOO_KEY);
    named.set_available("NOTEBOOK-05", "Lager Berlin", 9).await.expect("the location the setting names");
    assert_eq!(sim.sim.stock("NOTEBOOK-05"), Some(9));
}

#[tokio::test]
async fn the_catalog_is_read_and_its_fields_set() {
    let (sim, woo) = start(0, json!({})).await;
    let catalog = woo.catalog().await.expect("catalog");
    assert_eq!(catalog.len(), 20, "18 simple products and 2 variations");
    let mug = catalog.iter().find(|i| i.sku == "MUG-01").expect("a variation");
    assert_eq!(mug.title, None, "a variation has no title of its own");
    assert_eq!(mug.price.as_ref().map(|p| p.currency.code()), Some("EUR"), "the shop's currency, asked once");
    let pen = catalog.iter().find(|i| i.sku == "PEN-19").expect("a simple product");
    assert_eq!(pen.title.as_deref(), Some("Blue Pen"));
    assert_eq!(pen.active, Some(true));

    let eur = |s: &str| Money::parse(s, "EUR").expect("money");
    woo.set_catalog_field("PEN-19", &CatalogField::Price(eur("3.5"))).await.expect("price");
    assert_eq!(sim.sim.price("PEN-19"), Some("3.50".parse().expect("d")));
    woo.set_catalog_field("PEN-19", &CatalogField::Title("Blue Ballpoint Pen".into())).await.expect("title");
    woo.set_catalog_field("PEN-19", &CatalogField::Active(false)).await.expect("status");
    assert_eq!(sim.sim.product("PEN-19"), Some(("Blue Ballpoint Pen".into(), "draft".into())));
    woo.set_catalog_field("MUG-02", &CatalogField::Price(eur("14.00"))).await.expect("a variation's price");
    woo.set_catalog_field("MUG-02", &CatalogField::Active(false)).await.expect("a variation's status");
    assert_eq!(sim.sim.price("MUG-02"), Some("14.00".parse().expect("d")));
    assert_eq!(sim.sim.product("MUG-02").map(|p| p.1).as_deref(), Some("private"));
    let again = woo.catalog().await.expect("catalog");
    let pen = again.iter().find(|i| i.sku == "PEN-19").expect("pen");
    assert_eq!(
        (pen.title.as_deref(), pen.active),
        (Some("Blue Ballpoint Pen"), Some(false)),
        "reads back what was set"
    );

    let results = woo
        .set_catalog_fields(&[
            ("CANDLE-07".into(), CatalogField::Price(eur("8.00"))),
            ("NOPE-1".into(), CatalogField::Price(eur("1.00"))),
            ("MUG-01".into(), CatalogField::Title("Mug".into())),
            ("CANDLE-08".into(), CatalogField::Price(eur("9.00"))),
        ])
        .await
        .expect("a batch");
    assert!(results[0].is_ok() && results[3].is_ok(), "{results:?}");
    assert!(matches!(results[1], Err(ConnectorError::Rejected { .. })), "unknown SKU");
    assert!(matches!(results[2], Err(ConnectorError::Rejected { .. })), "no title per variation");
    assert_eq!(sim.sim.price("CANDLE-08"), Some("9.00".parse().expect("d")));
}

#[tokio::test]
async fn customers_are_read_found_and_updated() {
    let (sim, woo) = start(20, json!({ "page_size": 5 })).await;
    let all = woo.customers_page(None, None).await.expect("customers");
    assert_eq!(all.next, None, "every change in one page");
    assert_eq!(all.items.len(), sim.sim.customers().len());
    assert!(all.items.len() > 5, "more than one page of the list was read");
    assert!(all.items.windows(2).all(|w| w[0].updated_at <= w[1].updated_at), "oldest change first");

    let ada = all.items[0].clone();
    let id: u64 = ada.id.parse().expect("id");
    let later = now() + Duration::hours(2);
    assert!(sim.sim.edit_customer(id, "billing.city", "Potsdam", later));
    let changed = woo.customers_page(Some(later), None).await.expect("changed");
    assert_eq!(
        changed.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [ada.id.as_str()],
        "filtered by date_modified_gmt"
    );
    assert_eq!(CustomerField::City.of(&changed.items[0].customer).as_deref(), Some("Potsdam"));

    let email = ada.customer.email.clone().expect("email");
    let found = woo.find_customer(&email.to_uppercase()).await.expect("lookup").expect("found");
    assert_eq!(found.id, ada.id, "found by email without case");
    assert_eq!(woo.find_customer("nobody@example.com").await.expect("lookup"), None);
    assert_eq!(woo.customer("999999").await.expect("lookup"), None);
    assert_eq!(woo.customer("not-a-number").await.expect("lookup"), None);

    let changes = [
        (CustomerField::Phone, Some("+49 30 7654321".to_owned())),
        (CustomerField::Line1, Some("Lindenstraße 5".to_owned())),
        (CustomerField::Line2, None),
        (CustomerField::Email, Some("ada.new@example.com".to_owned())),
    ];
    woo.update_customer(&ada.id, &changes).await.expect("updated");
    let back = woo.customer(&ada.id).await.expect("read").expect("exists");
    assert_eq!(CustomerField::Phone.of(&back.customer).as_deref(), Some("+49307654321"));
    assert_eq!(CustomerField::Line1.of(&back.customer).as_deref(), Some("Lindenstraße 5"));
    assert_eq!(back.customer.email.as_deref(), Some("ada.new@example.com"));
    assert_eq!(sim.sim.customer(id).expect("c")["billing"]["email"], "ada.new@example.com");

    match woo.update_customer(&ada.id, &[(CustomerField::Email, Some("not-an-email".into()))]).await {
        Err(ConnectorError::Rejected { message, fields }) => {
            assert!(message.contains("Invalid parameter(s): email"), "WooCommerce's message: {message}");
            assert!(fields.iter().any(|f| f.field == "email"), "data.params names the field: {fields:?}");
        }
        other => panic!("a 400 body is Rejected, got {other:?}"),
    }
    assert!(matches!(
        woo.update_customer("999999", &[(CustomerField::City, Some("X".into()))]).await,
        Err(ConnectorError::Rejected { .. })
    ));
}

fn parcel(number: &str) -> Shipment {
    Shipment {
        id: Some("shp_1".into()),
        order_ref: "DN-1".into(),
        carrier: "DHL".into(),
        service: "Paket".into(),
        tracking_number: Some(number.into()),
        label_url: None,
        tracking_url: Some(format!("https://www.dhl.de/track?piececode={number}")),
    }
}

#[tokio::test]
async fn fulfilling_twice_adds_one_note_and_completes_the_order() {
    let (sim, woo) = start(3, json!({})).await;
    woo.fulfill("1001", &parcel("00340434161094042557")).await.expect("fulfilled");
    woo.fulfill("1001", &parcel("00340434161094042557")).await.expect("again is harmless");
    let notes = sim.sim.order_notes(1001);
    assert_eq!(notes.len(), 1, "one note for one parcel: {notes:?}");
    assert!(notes[0].1, "a customer note: the customer is emailed it");
    assert!(
        notes[0].0.contains("DHL") && notes[0].0.contains("00340434161094042557") && notes[0].0.contains("https://")
    );
    assert_eq!(sim.sim.order_status(1001).as_deref(), Some("completed"));

    // The note is committed but its answer lost: the retry finds it.
    sim.sim.faults.lose_responses_after_commit(1);
    let lost = woo.fulfill("1002", &parcel("JJD0001")).await;
    assert!(matches!(lost, Err(ConnectorError::Transient(_))), "{lost:?}");
    woo.fulfill("1002", &parcel("JJD0001")).await.expect("the retry finishes");
    assert_eq!(sim.sim.order_notes(1002).len(), 1);
    assert_eq!(sim.sim.order_status(1002).as_deref(), Some("completed"));

    sim.sim.cancel_order(1003, now());
    assert!(
        matches!(woo.fulfill("1003", &parcel("X1")).await, Err(ConnectorError::Rejected { .. })),
        "not a cancelled order"
    );
    assert!(matches!(woo.fulfill("424242", &parcel("X1")).await, Err(ConnectorError::Rejected { .. })));
    assert!(sim.sim.order_notes(1003).is_empty());
}

#[tokio::test]
async fn a_wrong_or_revoked_key_is_an_auth_error() {
    let (sim, woo) = start(1, json!({})).await;
    let wrong = connect(&sim, &json!({}), "ck_wrong:cs_wrong");
    let err = wrong.orders_page(None, None).await.expect_err("refused");
    assert!(matches!(err, ConnectorError::Auth(_)), "{err:?}");
    assert!(err.to_string().contains("Consumer key is invalid"), "WooCommerce's reason: {err}");
    assert!(!err.to_string().contains("cs_wrong"), "the message never repeats the secret: {err}");
    sim.sim.faults.revoke_auth(true);
    assert!(matches!(woo.catalog().await, Err(ConnectorError::Auth(_))));
}

#[tokio::test]
async fn rate_limits_server_errors_and_cut_bodies_are_typed() {
    let (sim, woo) = start(3, json!({})).await;
    let faults = &sim.sim.faults;
    faults.rate_limit_next(1);
    assert_eq!(
        woo.orders_page(None, None).await.map(|p| p.items.len()),
        Err(ConnectorError::RateLimited { retry_after: std::time::Duration::from_secs(1) }),
        "the wait the shop asked for in Retry-After"
    );
    faults.fail_next(1);
    assert!(matches!(woo.orders_page(None, None).await, Err(ConnectorError::Transient(_))));
    faults.malformed_on_request(1);
    match woo.orders_page(None, None).await {
        Err(ConnectorError::Protocol(message)) => assert!(message.contains("WooCommerce"), "{message}"),
        other => panic!("a body cut short is a protocol error, got {other:?}"),
    }
    assert_eq!(woo.orders_page(None, None).await.map(|p| p.items.len()), Ok(3), "the next request is served normally");
}

#[tokio::test]
async fn calls_are_paced_by_the_announced_rate_window() {
    let (sim, woo) = start(1, json!({})).await;
    sim.sim.set_rate_window(Some((4, std::time::Duration::from_secs(1))));
    let started = std::time::Instant::now();
    for _ in 0..7 {
        woo.customer("2").await.expect("a read inside the window");
    }
    assert_eq!(sim.sim.throttled(), 0, "RateLimit-* was heeded: no 429");
    assert!(started.elapsed() >= std::time::Duration::from_secs(1), "it waited for a window to reset");
}
