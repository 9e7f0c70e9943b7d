//! The Odoo connector against the Odoo emulator over loopback, through both
//! transports (JSON-2 and JSON-RPC): orders to the cent, retries after lost
//! answers, cancels, credit notes, stock, catalog, customers, deliveries,
//! and what each kind of failure becomes.

use chrono::{Duration, Utc};
use ferry_connectors::odoo::Odoo;
use ferry_connectors::{Customers, Erp};
use ferry_domain::{
    Address, CatalogField, Charge, ConnectorError, Customer, CustomerField, Money, Order, OrderLine, OrderStatus,
    Refund, RefundLine, Shipment,
};
use ferry_sim::odoo::{self, RunningOdoo, DEMO_ODOO_DB, DEMO_ODOO_KEY, DEMO_ODOO_LOGIN};
use ferry_sim::SimOptions;
use rust_decimal::Decimal;
use serde_json::{json, Value};

const APIS: [&str; 2] = ["json2", "jsonrpc"];

async fn start() -> RunningOdoo {
    RunningOdoo::start(&SimOptions::default()).await.expect("emulator starts")
}

fn settings(api: &str) -> Value {
    json!({ "api": api, "database": DEMO_ODOO_DB, "login": DEMO_ODOO_LOGIN, "timeout_secs": 5,
        "shipping_product": odoo::SHIPPING_PRODUCT, "tax_product": odoo::TAX_PRODUCT,
        "discount_product": odoo::DISCOUNT_PRODUCT, "refund_product": odoo::REFUND_PRODUCT })
}

fn connect(r: &RunningOdoo, api: &str, key: &str) -> Odoo {
    Odoo::new(&r.url(), &settings(api), key).expect("valid settings")
}

fn eur(s: &str) -> Money {
    Money::parse(s, "EUR").expect("valid money")
}

/// Two of the first SKU at its price, shipping 4.90, 10% off, VAT 19% on top.
fn order(r: &RunningOdoo, id: &str) -> Order {
    let product = &r.sim.products()[0];
    let sku = product.default_code.clone().expect("seeded products have SKUs");
    let price = product.lst_price;
    let goods = price * Decimal::from(2);
    let discount = (goods * Decimal::new(10, 2)).round_dp(2);
    let shipping = Decimal::new(490, 2);
    let tax = ((goods - discount + shipping) * Decimal::new(19, 2)).round_dp(2);
    let now = Utc::now();
    Order {
        id: id.into(),
        number: format!("#{id}"),
        created_at: now,
        updated_at: now,
        status: OrderStatus::Open,
        customer: Customer {
            email: Some("ada@example.com".into()),
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            ..Customer::default()
        },
        shipping_address: Some(Address {
            name: Some("Ada Lovelace".into()),
            line1: Some("Hauptstr. 1".into()),
            city: Some("Berlin".into()),
            postcode: Some("10115".into()),
            country: Some("DE".into()),
            ..Address::default()
        }),
        lines: vec![OrderLine {
            sku: Some(sku),
            title: product.name.clone(),
            quantity: 2,
            unit_price: eur(&price.to_string()),
        }],
        shipping_lines: vec![Charge {
            title: "Standard".into(),
            amount: Money::new(shipping, eur("0").currency),
            rate: None,
        }],
        tax_lines: vec![Charge {
            title: "VAT 19%".into(),
            amount: Money::new(tax, eur("0").currency),
            rate: Some(Decimal::new(19, 2)),
        }],
        taxes_included: false,
        discount: Some(Money::new(discount, eur("0").currency)),
        total: Money::new(goods - discount + shipping + tax, eur("0").currency),
        refunds: vec![],
    }
}

#[tokio::test]
async fn an_order_is_created_confirmed_and_totals_to_the_cent() {
    for api in APIS {
        let r = start().await;
        let erp = connect(&r, api, DEMO_ODOO_KEY);
        let o = order(&r, "5001");
        assert_eq!(erp.find_order("5001").await.expect("lookup"), None, "{api}: nothing yet");
        let made = erp.create_order(&o).await.expect("created");
        let orders = r.sim.sale_orders();
        assert_eq!(orders.len(), 1, "{api}");
        let so = &orders[0];
        assert_eq!(made.id, so.id.to_string());
        assert_eq!(so.amount_total, o.total.amount, "{api}: Odoo's total is the store's, to the cent");
        assert_eq!(so.state, "sale", "{api}: confirmed");
        assert_eq!(so.client_order_ref.as_deref(), Some("5001"));
        assert!(so.lines.iter().all(|l| l.3 == 0), "{api}: no line carries Odoo's default VAT on top: {:?}", so.lines);
        let codes: Vec<&str> = so.lines.iter().map(|l| l.0.as_str()).collect();
        assert_eq!(codes[1..], [odoo::SHIPPING_PRODUCT, odoo::TAX_PRODUCT, odoo::DISCOUNT_PRODUCT], "{api}");
        let partners = r.sim.partners();
        assert_eq!(partners.len(), 1);
        assert_eq!((partners[0].country.as_deref(), partners[0].customer_rank), (Some("DE"), 1));
        let found = erp.find_order("5001").await.expect("lookup").expect("found");
        assert_eq!((found.id, found.cancelled), (made.id.clone(), false));
        // A second order of the same customer reuses the contact.
        erp.create_order(&order(&r, "5002")).await.expect("created");
        assert_eq!(r.sim.partners().len(), 1, "{api}: matched by email");
        let day = o.created_at.date_naive();
        let listed = erp.orders_between(day, day).await.expect("listed");
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].total, o.total, "{api}: the reconciliation total is exact");
    }
}

#[tokio::test]
async fn a_missing_sku_is_rejected_by_name() {
    for api in APIS {
        let r = start().await;
        let erp = connect(&r, api, DEMO_ODOO_KEY);
        let mut o = order(&r, "5003");
        o.lines[0].sku = Some("NOPE-99".into());
        match erp.create_order(&o).await {
            Err(ConnectorError::Rejected { message, .. }) => assert!(message.contains("NOPE-99"), "{message}"),
            other => panic!("{api}: expected Rejected, got {other:?}"),
        }
        assert!(r.sim.sale_orders().is_empty(), "{api}: nothing was created");
    }
}

#[tokio::test]
async fn a_lost_answer_is_found_not_duplicated() {
    for api in APIS {
        let r = start().await;
        let erp = connect(&r, api, DEMO_ODOO_KEY);
        let o = order(&r, "5004");
        // The contact is made first; then the order's create commits and its answer is lost.
        let customer = order(&r, "0");
        erp.create_order(&customer).await.expect("warm-up order");
        r.sim.faults.lose_responses_after_commit(1);
        let lost = erp.create_order(&o).await;
        assert!(matches!(lost, Err(ConnectorError::Transient(_))), "{api}: {lost:?}");
        assert_eq!(r.sim.sale_orders().iter().filter(|s| s.client_order_ref.as_deref() == Some("5004")).count(), 1);
        let found = erp.find_order("5004").await.expect("lookup").expect("the committed order is found");
        let orders = r.sim.sale_orders();
        let so: Vec<_> = orders.iter().filter(|s| s.client_order_ref.as_deref() == Some("5004")).collect();
        assert_eq!(so.len(), 1, "{api}: no duplicate");
        assert_eq!(found.id, so[0].id.to_string());
        assert_eq!(so[0].state, "sale", "{api}: the draft left by the lost answer is confirmed on lookup");
    }
}

#[tokio::test]
async fn cancel_is_done_once_and_again_is_harmless() {
    for api in APIS {
        let r = start().await;
        let erp = connect(&r, api, DEMO_ODOO_KEY);
        let made = erp.create_order(&order(&r, "5005")).await.expect("created");
        erp.cancel_order(&made.id).await.expect("cancelled");
        assert_eq!(r.sim.sale_orders()[0].state, "cancel", "{api}: cancelled, not left waiting for the wizard");
        erp.cancel_order(&made.id).await.expect("already cancelled is fine");
        let found = erp.find_order("5005").await.expect("lookup").expect("found");
        assert!(found.cancelled);
    }
}

#[tokio::test]
async fn a_credit_note_is_posted_once_per_refund() {
    for api in APIS {
        let r = start().await;
        let erp = connect(&r, api, DEMO_ODOO_KEY);
        let o = order(&r, "5006");
        let doc = erp.create_order(&o).await.expect("created");
        let sku = o.lines[0].sku.clone();
        let refund = Refund {
            id: "R-1".into(),
            created_at: Utc::now(),
            note: Some("broken".into()),
            total: eur("15.00"),
            lines: vec![RefundLine { sku, quantity: 3, amount: eur("10.00") }],
        };
        assert_eq!(erp.find_credit_note("R-1").await.expect("lookup"), None);
        let id = erp.create_credit_note(&doc, &o, &refund).await.expect("credit note");
        let notes = r.sim.credit_notes();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].id.to_string(), id);
        assert_eq!(notes[0].amount_total, Decimal::new(1500, 2), "{api}: the refund's total, rounding cents included");
        assert_eq!((notes[0].state.as_str(), notes[0].reference.as_deref()), ("posted", Some("R-1")));
        assert_eq!(notes[0].partner_id, Some(r.sim.sale_orders()[0].partner_id));
        assert_eq!(erp.find_credit_note("R-1").await.expect("lookup"), Some(id));
    }
}

#[tokio::test]
async fn stock_pages_from_since_in_internal_locations() {
    for api in APIS {
        let r = start().await;
        let erp = connect(&r, api, DEMO_ODOO_KEY);
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = erp.stock_page(None, after.as_deref()).await.expect("page");
            all.extend(page.items);
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(all.len(), 20, "{api}: one quant per seeded SKU in WH/Stock; the customer location is left out");
        assert!(all.iter().all(|s| s.level.location == "WH/Stock"));
        let since = Utc::now() - Duration::minutes(5);
        assert!(erp.stock_page(Some(since), None).await.expect("page").items.is_empty(), "{api}: nothing changed");
        let sku = all[3].level.sku.clone();
        assert!(r.sim.set_quant(&sku, 12, 5));
        let changed = erp.stock_page(Some(since), None).await.expect("page");
        assert_eq!(changed.items.len(), 1, "{api}");
        let level = &changed.items[0].level;
        assert_eq!(
            (level.sku.as_str(), level.on_hand, level.reserved),
            (sku.as_str(), Decimal::from(12), Decimal::from(5))
        );
        assert_eq!(level.available(), Decimal::from(7));
    }
}

#[tokio::test]
async fn catalog_reads_and_sets_fields() {
    for api in APIS {
        let r = start().await;
        let erp = connect(&r, api, DEMO_ODOO_KEY);
        let catalog = erp.catalog().await.expect("catalog");
        assert_eq!(catalog.len(), 20, "{api}: the service products Ferry books on are not catalog items");
        let first = r.sim.products()[0].clone();
        let sku = first.default_code.clone().expect("sku");
        let item = catalog.iter().find(|c| c.sku == sku).expect("listed");
        assert_eq!(item.price.as_ref().map(|p| p.amount), Some(first.lst_price));
        erp.set_catalog_field(&sku, &CatalogField::Price(eur("12.34"))).await.expect("price set");
        erp.set_catalog_field(&sku, &CatalogField::Title("Renamed".into())).await.expect("title set");
        erp.set_catalog_field(&sku, &CatalogField::Active(false)).await.expect("archived");
        let p = r.sim.products().into_iter().find(|p| p.id == first.id).expect("product");
        assert_eq!((p.lst_price, p.name.as_str(), p.active), (Decimal::new(1234, 2), "Renamed", false));
        let again = erp.catalog().await.expect("catalog");
        let item = again.iter().find(|c| c.sku == sku).expect("archived products are still listed");
        assert_eq!(item.active, Some(false), "{api}");
        assert!(r.sim.set_price(&sku, "9.99"));
        erp.set_catalog_field(&sku, &CatalogField::Active(true)).await.expect("unarchived");
        assert!(r.sim.products().iter().any(|p| p.id == first.id && p.active && p.lst_price == Decimal::new(999, 2)));
    }
}

#[tokio::test]
async fn customers_are_read_found_and_updated() {
    for api in APIS {
        let r = start().await;
        let erp = connect(&r, api, DEMO_ODOO_KEY);
        r.sim.add_partner("Vendor Ltd", Some("sales@vendor.example"), 0);
        erp.create_order(&order(&r, "5007")).await.expect("created");
        let page = erp.customers_page(None, None).await.expect("page");
        assert_eq!(page.items.len(), 1, "{api}: only customers (customer_rank > 0)");
        let ada = &page.items[0];
        assert_eq!(ada.customer.email.as_deref(), Some("ada@example.com"));
        assert_eq!(ada.customer.addresses[0].country.as_deref(), Some("DE"));
        let found = erp.find_customer("ADA@example.com").await.expect("lookup").expect("found without case");
        assert_eq!(found.id, ada.id);
        let changes = [
            (CustomerField::City, Some("Hamburg".to_owned())),
            (CustomerField::Country, Some("AT".to_owned())),
            (CustomerField::Phone, None),
        ];
        erp.update_customer(&ada.id, &changes).await.expect("updated");
        let p = r.sim.partners().into_iter().find(|p| p.id.to_string() == ada.id).expect("partner");
        assert_eq!((p.city.as_deref(), p.country.as_deref(), p.phone), (Some("Hamburg"), Some("AT"), None));
        let bad = erp.update_customer(&ada.id, &[(CustomerField::Country, Some("XX".into()))]).await;
        assert!(matches!(bad, Err(ConnectorError::Rejected { .. })), "{api}: {bad:?}");
        assert!(erp.customer("99999").await.expect("lookup").is_none());
    }
}

#[tokio::test]
async fn ready_deliveries_get_their_tracking_numbers() {
    for api in APIS {
        let r = start().await;
        let erp = connect(&r, api, DEMO_ODOO_KEY);
        erp.create_order(&order(&r, "5008")).await.expect("created");
        assert!(erp.ready_to_ship(None, None).await.expect("page").items.is_empty(), "{api}: waiting, not ready");
        let picking = r.sim.make_picking_ready("5008").expect("a delivery");
        let ready = erp.ready_to_ship(None, None).await.expect("page");
        assert_eq!(ready.items.len(), 1, "{api}");
        let parcel = &ready.items[0];
        assert_eq!(parcel.id, picking.to_string());
        assert_eq!(parcel.order_ref.as_deref(), Some("5008"));
        assert_eq!((parcel.to.city.as_deref(), parcel.to.country.as_deref()), (Some("Berlin"), Some("DE")));
        assert_eq!(parcel.weight_grams, 700, "{api}: two items of 0.35 kg");
        let shipment = |carrier: &str, code: &str| Shipment {
            id: None,
            order_ref: parcel.id.clone(),
            carrier: carrier.into(),
            service: "Priority".into(),
            tracking_number: Some(code.into()),
            label_url: None,
            tracking_url: None,
        };
        erp.set_tracking(&parcel.id, &shipment("USPS", "9400100000000000000000")).await.expect("written");
        let p = r.sim.pickings().into_iter().find(|p| p.id == picking).expect("picking");
        assert_eq!(p.carrier_tracking_ref.as_deref(), Some("9400100000000000000000"));
        assert!(p.note.is_some_and(|n| n.contains("USPS")), "{api}: no such carrier in Odoo: named in the note");
        assert!(erp.ready_to_ship(None, None).await.expect("page").items.is_empty(), "{api}: shipped is not ready");
        r.sim.validate_picking(picking);
        erp.set_tracking(&parcel.id, &shipment("dhl", "JD0001")).await.expect("written");
        let carrier =
            r.sim.records("stock.picking").iter().find(|p| p["id"] == json!(picking)).map(|p| p["carrier_id"].clone());
        assert_eq!(carrier, Some(json!(1)), "{api}: a known carrier is linked");
    }
}

#[tokio::test]
async fn a_bad_or_revoked_key_is_an_auth_error() {
    for api in APIS {
        let r = start().await;
        let wrong = connect(&r, api, "not_the_key");
        let err = wrong.find_order("1").await.expect_err("refused");
        assert!(matches!(err, ConnectorError::Auth(_)), "{api}: {err:?}");
        assert!(!err.to_string().contains("not_the_key"), "the message never repeats the key: {err}");
        let erp = connect(&r, api, DEMO_ODOO_KEY);
        erp.catalog().await.expect("works before");
        r.sim.faults.revoke_auth(true);
        let err = erp.catalog().await.expect_err("refused");
        assert!(matches!(err, ConnectorError::Auth(_)), "{api}: {err:?}");
    }
}

#[tokio::test]
async fn odoo_validation_errors_are_rejected_with_odoos_message() {
    for api in APIS {
        let r = start().await;
        let erp = connect(&r, api, DEMO_ODOO_KEY);
        let sku = r.sim.products()[0].default_code.clone().expect("sku");
        // Over JSON-RPC this ValidationError comes inside an HTTP 200 answer.
        match erp.set_catalog_field(&sku, &CatalogField::Title(String::new())).await {
            Err(ConnectorError::Rejected { message, .. }) => {
                assert!(message.contains("a mandatory field is not set"), "{api}: Odoo's words: {message}")
            }
            other => panic!("{api}: expected Rejected, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn rate_limits_server_errors_and_garbage_are_typed() {
    for api in APIS {
        let r = start().await;
        let erp = connect(&r, api, DEMO_ODOO_KEY);
        erp.catalog().await.expect("authenticated first");
        r.sim.faults.rate_limit_next(1);
        let err = erp.catalog().await.expect_err("429");
        assert_eq!(err, ConnectorError::RateLimited { retry_after: std::time::Duration::from_secs(1) }, "{api}");
        r.sim.faults.fail_next(1);
        assert!(matches!(erp.catalog().await, Err(ConnectorError::Transient(_))), "{api}: 503");
        r.sim.faults.malformed_on_request(1);
        let err = erp.catalog().await.expect_err("cut short");
        assert!(matches!(err, ConnectorError::Protocol(_)), "{api}: {err:?}");
        erp.catalog().await.expect("works again");
    }
}

#[tokio::test]
async fn a_window_nearly_spent_is_waited_for() {
    let r = start().await;
    let erp = connect(&r, "json2", DEMO_ODOO_KEY);
    r.sim.set_answer_headers(&[
        ("X-RateLimit-Limit", "100"),
        ("X-RateLimit-Remaining", "1"),
        ("X-RateLimit-Reset", "1"),
    ]);
    erp.catalog().await.expect("first call");
    r.sim.set_answer_headers(&[]);
    let started = std::time::Instant::now();
    erp.catalog().await.expect("second call");
    assert!(started.elapsed() >= std::time::Duration::from_millis(900), "paced until the window reset");
}
