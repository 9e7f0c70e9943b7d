//! The Tryton connector against a real Tryton server (trytond from PyPI).
//! Runs only with `FERRY_REAL_TRYTON_URL` set: start one with
//! `scripts/real/tryton.sh`, which seeds products MUG-01, TEE-02, SOCK-03,
//! the service products SHIP, VAT, DISC, REFUND and the customer
//! ada@example.com.

use chrono::Utc;
use ferry_connectors::tryton::Tryton;
use ferry_connectors::{Customers, Erp};
use ferry_domain::{
    Address, CatalogField, Charge, ConnectorError, Customer, CustomerField, Money, Order, OrderLine, OrderStatus,
    Refund, RefundLine, Shipment,
};
use rust_decimal::Decimal;
use serde_json::{json, Value};

struct Server {
    url: String,
    db: String,
    login: String,
    password: String,
}

fn server() -> Option<Server> {
    let Ok(url) = std::env::var("FERRY_REAL_TRYTON_URL") else {
        // `make test` sets FERRY_REQUIRE_REAL: there, no server is a failure, not a skip.
        assert!(std::env::var("FERRY_REQUIRE_REAL").is_err(), "FERRY_REAL_TRYTON_URL is not set");
        println!("SKIPPED: set FERRY_REAL_TRYTON_URL (scripts/real/tryton.sh)");
        return None;
    };
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    Some(Server {
        url,
        db: var("FERRY_REAL_TRYTON_DB", "ferry"),
        login: var("FERRY_REAL_TRYTON_LOGIN", "admin"),
        password: var("FERRY_REAL_TRYTON_PASSWORD", "ferry-Tryton-8q2x"),
    })
}

fn connector(s: &Server, extra: Value) -> Tryton {
    let mut settings = json!({ "database": s.db, "login": s.login, "shipping_product": "SHIP",
        "tax_product": "VAT", "discount_product": "DISC", "refund_product": "REFUND" });
    if let (Some(base), Value::Object(extra)) = (settings.as_object_mut(), extra) {
        base.extend(extra);
    }
    Tryton::new(&s.url, &settings, &s.password).expect("valid settings")
}

/// A raw JSON-RPC call as the admin, for arranging what Ferry does not do.
async fn raw(s: &Server, method: &str, params: Value) -> Value {
    let client = reqwest::Client::new();
    let endpoint = format!("{}/{}/rpc/", s.url, s.db);
    let login: Value = client
        .post(&endpoint)
        .json(&json!({ "method": "common.db.login", "params": [s.login, { "password": s.password }], "id": 1 }))
        .send()
        .await
        .expect("login sent")
        .json()
        .await
        .expect("login answer");
    let (uid, session) = (login["result"][0].as_i64().expect("uid"), login["result"][1].as_str().expect("session"));
    let token = base64(format!("{}:{uid}:{session}", s.login).as_bytes());
    let answer: Value = client
        .post(&endpoint)
        .header("Authorization", format!("Session {token}"))
        .json(&json!({ "method": method, "params": params, "id": 2 }))
        .send()
        .await
        .expect("call sent")
        .json()
        .await
        .expect("call answer");
    assert!(answer.get("error").is_none_or(Value::is_null), "{method} failed: {answer}");
    answer["result"].clone()
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            out.push(if i <= c.len() { char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]) } else { '=' });
        }
    }
    out
}

fn eur(s: &str) -> Money {
    Money::parse(s, "EUR").expect("valid money")
}

fn order(id: &str, email: &str) -> Order {
    let at = Utc::now();
    Order {
        id: id.into(),
        number: format!("#{id}"),
        created_at: at,
        updated_at: at,
        status: OrderStatus::Open,
        customer: Customer {
            email: Some(email.into()),
            first_name: Some("Grace".into()),
            last_name: Some("Hopper".into()),
            ..Customer::default()
        },
        shipping_address: Some(Address {
            name: Some("Grace Hopper".into()),
            line1: Some("Navy Yard 7".into()),
            city: Some("Hamburg".into()),
            postcode: Some("20095".into()),
            country: Some("DE".into()),
            ..Address::default()
        }),
        lines: vec![OrderLine {
            sku: Some("MUG-01".into()),
            title: "Mug".into(),
            quantity: 2,
            unit_price: eur("12.50"),
        }],
        shipping_lines: vec![Charge { title: "Standard".into(), amount: eur("4.90"), rate: None }],
        tax_lines: vec![Charge { title: "VAT 19%".into(), amount: eur("5.68"), rate: Some(Decimal::new(19, 2)) }],
        taxes_included: false,
        discount: Some(eur("1.00")),
        total: eur("34.58"),
        refunds: vec![],
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", Utc::now().timestamp_micros())
}

#[tokio::test]
async fn orders_are_created_once_found_by_reference_and_total_to_the_cent() {
    let Some(s) = server() else { return };
    let erp = connector(&s, json!({}));
    let id = unique("ord");
    assert_eq!(erp.find_order(&id).await.expect("find"), None, "nothing before the create");
    let made = erp.create_order(&order(&id, &format!("{id}@example.com"))).await.expect("create");
    let found = erp.find_order(&id).await.expect("find").expect("the sale is found by its reference");
    assert_eq!(found, made, "find_order returns what create_order made: a retry does not create twice");
    let sale = raw(
        &s,
        "model.sale.sale.read",
        json!([[made.id.parse::<i64>().expect("numeric id")], ["total_amount", "state", "reference"], {}]),
    )
    .await;
    assert_eq!(
        sale[0]["total_amount"]["decimal"].as_str().map(|d| d.parse::<Decimal>().expect("decimal")),
        Some(Decimal::new(3458, 2)),
        "lines + shipping + VAT − discount, to the cent: {sale}"
    );
    assert_eq!(sale[0]["state"], "processing", "quoted, confirmed and processed");
    let today = Utc::now().date_naive();
    let listed = erp
        .orders_between(today - chrono::Duration::days(1), today + chrono::Duration::days(1))
        .await
        .expect("orders_between");
    let mine = listed.iter().find(|o| o.id == made.id).expect("the sale is listed by its sale_date");
    assert_eq!((mine.total.clone(), mine.external_ref.as_deref()), (eur("34.58"), Some(id.as_str())));

    let cancel = erp.cancel_order(&made.id).await.expect_err("a processing sale has shipments and invoices");
    assert!(
        matches!(&cancel, ConnectorError::Rejected { message, .. } if message.contains("processing")),
        "{cancel:?}"
    );

    let refund = Refund {
        id: unique("ref"),
        created_at: Utc::now(),
        note: Some("shipping back".into()),
        total: eur("17.40"),
        lines: vec![RefundLine { sku: Some("MUG-01".into()), quantity: 1, amount: eur("12.50") }],
    };
    assert_eq!(erp.find_credit_note(&refund.id).await.expect("find"), None);
    let note = erp.create_credit_note(&made, &order(&id, "x@example.com"), &refund).await.expect("credit note");
    assert_eq!(erp.find_credit_note(&refund.id).await.expect("find"), Some(note.clone()));
    let inv = raw(
        &s,
        "model.account.invoice.read",
        json!([[note.parse::<i64>().expect("id")], ["total_amount", "type"], {}]),
    )
    .await;
    assert_eq!(
        inv[0]["total_amount"]["decimal"].as_str().map(|d| d.parse::<Decimal>().expect("decimal")),
        Some(Decimal::new(-1740, 2)),
        "{inv}"
    );
}

#[tokio::test]
async fn quotations_can_be_cancelled() {
    let Some(s) = server() else { return };
    let erp = connector(&s, json!({ "order_state": "quotation" }));
    let id = unique("q");
    let made = erp.create_order(&order(&id, &format!("{id}@example.com"))).await.expect("create");
    erp.cancel_order(&made.id).await.expect("a quotation cancels");
    erp.cancel_order(&made.id).await.expect("cancelling twice is harmless");
    let found = erp.find_order(&id).await.expect("find").expect("still found");
    assert!(found.cancelled, "the cancelled sale is reported cancelled");
}

#[tokio::test]
async fn stock_since_a_time_reads_only_moved_products() {
    let Some(s) = server() else { return };
    let erp = connector(&s, json!({}));
    let all = erp.stock_page(None, None).await.expect("stock");
    let mug = all.items.iter().find(|r| r.level.sku == "MUG-01").expect("MUG-01 has moves");
    assert!(mug.level.on_hand >= Decimal::ZERO && mug.level.location == "WH", "{mug:?}");
    let since = Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let sock = raw(&s, "model.product.product.search", json!([[["code", "=", "SOCK-03"]], 0, 1, null, {}])).await[0]
        .as_i64()
        .expect("SOCK-03");
    let locations = raw(
        &s,
        "model.stock.location.search_read",
        json!([[["code", "in", ["SUP", "STO"]]], 0, null, null, ["code"], {}]),
    )
    .await;
    let loc = |c: &str| {
        locations
            .as_array()
            .and_then(|a| a.iter().find(|l| l["code"] == c))
            .and_then(|l| l["id"].as_i64())
            .expect("location")
    };
    let unit =
        raw(&s, "model.product.product.read", json!([[sock], ["default_uom"], {}])).await[0]["default_uom"].clone();
    let moved = raw(
        &s,
        "model.stock.move.create",
        json!([[{ "product": sock, "unit": unit, "quantity": 3.0,
        "from_location": loc("SUP"), "to_location": loc("STO"), "unit_price": {"__class__": "Decimal", "decimal": "1"},
        "currency": 1 }], {"company": 1}]),
    )
    .await;
    let moved = moved[0].as_i64().expect("move id");
    let page = erp.stock_page(Some(since), None).await.expect("stock since");
    assert!(page.items.iter().any(|r| r.level.sku == "SOCK-03"), "the new move is in the feed: {:?}", page.items);
    assert!(page.items.iter().all(|r| r.level.sku != "TEE-02"), "TEE-02 did not move since");
    raw(&s, "model.stock.move.do", json!([[moved], {}])).await;
    let page = erp.stock_page(Some(since), None).await.expect("stock since");
    let sock_level = page.items.iter().find(|r| r.level.sku == "SOCK-03").expect("SOCK-03");
    let before = all.items.iter().find(|r| r.level.sku == "SOCK-03").map_or(Decimal::ZERO, |r| r.level.on_hand);
    assert_eq!(sock_level.level.on_hand - before, Decimal::from(3), "a done move of 3 adds 3 on hand");
}

#[tokio::test]
async fn catalog_is_read_and_a_price_set() {
    let Some(s) = server() else { return };
    let erp = connector(&s, json!({}));
    let items = erp.catalog().await.expect("catalog");
    let tee = items.iter().find(|i| i.sku == "TEE-02").expect("TEE-02 in the catalog");
    assert_eq!(tee.title.as_deref(), Some("T-shirt"));
    assert!(items.iter().all(|i| i.sku != "SHIP"), "service products Ferry books on are not catalog items");
    erp.set_catalog_field("TEE-02", &CatalogField::Price(eur("21.90"))).await.expect("set price");
    let items = erp.catalog().await.expect("catalog");
    assert_eq!(items.iter().find(|i| i.sku == "TEE-02").and_then(|i| i.price.clone()), Some(eur("21.90")), "{items:?}");
    let err = erp.set_catalog_field("NOPE-99", &CatalogField::Active(false)).await.expect_err("unknown sku");
    assert!(matches!(err, ConnectorError::Rejected { .. }));
}

#[tokio::test]
async fn customers_are_read_and_updated() {
    let Some(s) = server() else { return };
    let erp = connector(&s, json!({}));
    let ada = erp.find_customer("ADA@example.com").await.expect("find").expect("ada is seeded");
    assert!(ada.customer.phone.is_some(), "the seeded phone mechanism is read: {ada:?}");
    assert!(ada.customer.addresses.first().is_some_and(|a| a.postcode.as_deref() == Some("10115")), "{ada:?}");
    let since = Utc::now();
    erp.update_customer(
        &ada.id,
        &[
            (CustomerField::City, Some("Hamburg".into())),
            (CustomerField::Line2, Some("Hinterhaus".into())),
            (CustomerField::Phone, Some("+4940999".into())),
        ],
    )
    .await
    .expect("update");
    let read = erp.customer(&ada.id).await.expect("read").expect("exists");
    let a = read.customer.addresses.first().expect("address");
    assert_eq!(
        (a.city.as_deref(), a.line1.as_deref(), a.line2.as_deref()),
        (Some("Hamburg"), Some("Hauptstr. 1"), Some("Hinterhaus"))
    );
    assert_eq!(read.customer.phone.as_deref(), Some("+4940999"));
    let page = erp.customers_page(Some(since), None).await.expect("page");
    assert!(page.items.iter().any(|c| c.id == ada.id), "the update moves the party's write_date");
}

#[tokio::test]
async fn shipments_ready_get_tracking() {
    let Some(s) = server() else { return };
    let erp = connector(&s, json!({}));
    let id = unique("ship");
    let made = erp.create_order(&order(&id, &format!("{id}@example.com"))).await.expect("create");
    let sale = raw(&s, "model.sale.sale.read", json!([[made.id.parse::<i64>().expect("id")], ["shipments"], {}])).await;
    let shipment = sale[0]["shipments"][0].as_i64().expect("the processed sale has a shipment");
    raw(&s, "model.stock.shipment.out.assign_try", json!([[shipment], {}])).await;
    let ready = erp.ready_to_ship(None, None).await.expect("ready");
    let parcel = ready.items.iter().find(|p| p.id == shipment.to_string()).expect("the assigned shipment is ready");
    assert_eq!(parcel.order_ref.as_deref(), Some(id.as_str()));
    assert_eq!(parcel.to.city.as_deref(), Some("Hamburg"));
    let tracked = Shipment {
        id: None,
        order_ref: parcel.id.clone(),
        carrier: "DHL".into(),
        service: "Paket".into(),
        tracking_number: Some("00340434".into()),
        label_url: None,
        tracking_url: None,
    };
    erp.set_tracking(&parcel.id, &tracked).await.expect("tracking");
    erp.set_tracking(&parcel.id, &tracked).await.expect("again: harmless");
    let ready = erp.ready_to_ship(None, None).await.expect("ready");
    assert!(ready.items.iter().all(|p| p.id != parcel.id), "a shipment with a tracking number is no longer ready");
}

#[tokio::test]
async fn bad_password_is_auth_and_user_errors_are_rejected_with_trytons_message() {
    let Some(s) = server() else { return };
    let wrong =
        Tryton::new(&s.url, &json!({ "database": s.db, "login": s.login }), "not-the-password").expect("settings");
    let err = wrong.find_order("x").await.expect_err("refused");
    assert!(matches!(err, ConnectorError::Auth(_)), "{err:?}");
    let erp = connector(&s, json!({}));
    erp.check().await.expect("the right password works");
    // Cancelling a done/processing flow aside, a direct UserError: the
    // `cancel` button on a sale that does not exist.
    let id = unique("ue");
    let made = erp.create_order(&order(&id, &format!("{id}@example.com"))).await.expect("create");
    let err = erp
        .update_customer("999999", &[(CustomerField::Email, Some("a@b.c".into()))])
        .await
        .expect_err("no such party");
    match err {
        ConnectorError::Rejected { message, .. } => {
            assert!(message.starts_with("Tryton: "), "Tryton's message is shown: {message}")
        }
        other => panic!("expected Rejected, got {other:?} (sale {})", made.id),
    }
}
