//! The calls a case makes: each connector built as a user would set it up
//! (the settings its system needs, the demo's where there is one), and
//! every read and write of its capability traits, with realistic inputs.
//! Paged reads follow their `next` token once, so page tokens made from
//! generated answers are parsed too.

use super::shapes::{pick, EMAIL, ORDER_ID, REFERENCE, SKUS, TRACKING};
use super::Rng;
use chrono::{DateTime, Duration as Days, NaiveDate, Utc};
use ferry_connectors::{Courier, Erp, Page, Store};
use ferry_domain::{
    Address, CatalogField, Charge, ConnectorError, Customer, CustomerField, ErpOrderRef, Money, Order, OrderLine,
    OrderStatus, Refund, RefundLine, Shipment, ShipmentRequest,
};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::future::Future;
use std::time::Duration;

/// Every kind of connector this build has, as `ferry_connectors::KINDS` lists them.
pub const KINDS: [&str; 8] = ["shopify", "woocommerce", "vendure", "erpnext", "odoo", "tryton", "easypost", "karrio"];

/// How long one call may take. The connectors' own HTTP timeout is 3 s
/// (`timeout_secs`) and no generated answer asks for a long wait, so a
/// call that takes this long is stuck.
pub const CALL_LIMIT: Duration = Duration::from_secs(20);

pub enum Conn {
    Store(Box<dyn Store>),
    Erp(Box<dyn Erp>),
    Courier(Box<dyn Courier>),
}

/// What one call came to.
#[derive(Debug)]
pub enum Outcome {
    Ok,
    Err(ConnectorError),
    TimedOut,
}

const STORE_OPS: &[&str] = &[
    "orders_page",
    "orders_page_since",
    "customers_page",
    "customer",
    "find_customer",
    "update_customer",
    "set_available",
    "catalog",
    "set_catalog_field",
    "check",
    "fulfill",
];

const ERP_OPS: &[&str] = &[
    "find_order",
    "create_order",
    "cancel_order",
    "find_credit_note",
    "create_credit_note",
    "stock_page",
    "catalog",
    "set_catalog_field",
    "ready_to_ship",
    "set_tracking",
    "orders_between",
    "check",
    "customers_page",
    "customer",
    "find_customer",
    "update_customer",
];

const COURIER_OPS: &[&str] = &["find_shipment", "create_shipment", "check", "tracking"];

/// The operations of `kind`'s capability trait.
pub fn ops(kind: &str) -> &'static [&'static str] {
    match kind {
        "shopify" | "woocommerce" | "vendure" => STORE_OPS,
        "easypost" | "karrio" => COURIER_OPS,
        _ => ERP_OPS,
    }
}

const SENDER: [(&str, &str); 5] = [
    ("from_name", "Demo Shop"),
    ("from_street", "1 Harbour Lane"),
    ("from_city", "Hamburg"),
    ("from_postcode", "20457"),
    ("from_country", "DE"),
];

/// Builds `kind`'s connector at `base` with settings its system needs.
pub fn connect(kind: &str, base: &str, rng: &Rng) -> anyhow::Result<Conn> {
    let mut settings = json!({ "timeout_secs": 3 });
    let set = |s: &mut Value, k: &str, v: Value| s[k] = v;
    let secret = match kind {
        "shopify" => {
            if rng.bool() {
                set(&mut settings, "page_size", json!(rng.u32(1..=250)));
            }
            "shpat_fuzz"
        }
        "woocommerce" => {
            if rng.bool() {
                set(&mut settings, "currency", json!("EUR"));
            }
            "ck_fuzz:cs_fuzz"
        }
        "vendure" => {
            set(&mut settings, "username", json!("superadmin"));
            if rng.bool() {
                set(&mut settings, "location", json!("1"));
            }
            if rng.bool() {
                set(&mut settings, "channel_token", json!("default-channel"));
            }
            "superadmin"
        }
        "erpnext" => {
            // As the demo sets it up: both accounts, a time zone with DST.
            set(&mut settings, "timezone", json!("Europe/Berlin"));
            set(&mut settings, "shipping_account", json!("Freight and Forwarding Charges - F"));
            set(&mut settings, "tax_account", json!("VAT - F"));
            if rng.bool() {
                set(&mut settings, "refund_item", json!("Refund"));
            }
            "apikey:apisecret"
        }
        "odoo" | "tryton" => {
            set(&mut settings, "database", json!("fuzz"));
            for (k, code) in [
                ("shipping_product", "SHIP"),
                ("tax_product", "VAT"),
                ("discount_product", "DISC"),
                ("refund_product", "REFUND"),
            ] {
                if rng.usize(0..4) > 0 {
                    set(&mut settings, k, json!(code));
                }
            }
            if kind == "tryton" {
                set(&mut settings, "login", json!("admin"));
                "admin-password"
            } else {
                if rng.bool() {
                    set(&mut settings, "api", json!("jsonrpc"));
                    set(&mut settings, "login", json!("admin"));
                }
                "0123456789abcdef"
            }
        }
        "easypost" | "karrio" => {
            for (k, v) in SENDER {
                set(&mut settings, k, json!(v));
            }
            if rng.bool() {
                set(&mut settings, "service", json!(pick(rng, &["Priority", "dhl_express_worldwide"])));
            }
            if kind == "karrio" && rng.bool() {
                set(&mut settings, "carrier_name", json!("dhl_express"));
            }
            if kind == "easypost" {
                "EZTKfuzz"
            } else {
                "key_fuzz"
            }
        }
        other => anyhow::bail!("no fuzz set-up for connector kind {other}"),
    };
    Ok(match ops(kind) {
        STORE_OPS => Conn::Store(ferry_connectors::store(kind, base, &settings, secret)?),
        COURIER_OPS => Conn::Courier(ferry_connectors::courier(kind, base, &settings, secret)?),
        _ => Conn::Erp(ferry_connectors::erp(kind, base, &settings, secret)?),
    })
}

/// Runs `fut` within `CALL_LIMIT`, keeping only whether it succeeded.
async fn bounded<T>(fut: impl Future<Output = Result<T, ConnectorError>>) -> (Outcome, Option<T>) {
    match tokio::time::timeout(CALL_LIMIT, fut).await {
        Ok(Ok(v)) => (Outcome::Ok, Some(v)),
        Ok(Err(e)) => (Outcome::Err(e), None),
        Err(_) => (Outcome::TimedOut, None),
    }
}

/// A paged read, and the page after it when there is one.
async fn paged<T, F, Fut>(out: &mut Vec<Outcome>, mut read: F)
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, ConnectorError>>,
{
    let (outcome, page) = bounded(read(None)).await;
    out.push(outcome);
    if let Some(next) = page.and_then(|p| p.next) {
        out.push(bounded(read(Some(next))).await.0);
    }
}

fn since(rng: &Rng) -> Option<DateTime<Utc>> {
    match rng.usize(0..4) {
        0 => None,
        1 => Some(Utc::now()),
        _ => Some(Utc::now() - Days::days(rng.i64(1..60))),
    }
}

fn money(amount: &str, currency: &str) -> Money {
    Money::parse(amount, currency).expect("the amounts and currencies of this file are valid literals")
}

fn address(rng: &Rng) -> Address {
    Address {
        name: Some("Ada Lovelace".into()),
        line1: Some("1 Main St".into()),
        line2: if rng.bool() { None } else { Some("Back building".into()) },
        city: Some("Berlin".into()),
        postcode: if rng.usize(0..5) == 0 { None } else { Some("10115".into()) },
        country: Some(pick(rng, &["DE", "US", "XX"]).into()),
        phone: if rng.bool() { None } else { Some("+49 30 1234567".into()) },
    }
}

/// A store order whose parts add up to its total (so the ERPs' own checks
/// let it through to their requests).
fn order(rng: &Rng) -> Order {
    let eur = |a: &str| money(a, "EUR");
    let included = rng.bool();
    let mut lines =
        vec![OrderLine { sku: Some("SKU-1".into()), title: "Blue Mug".into(), quantity: 2, unit_price: eur("19.99") }];
    if rng.bool() {
        lines.push(OrderLine { sku: Some("MUG-01".into()), title: "Pen".into(), quantity: 1, unit_price: eur("4.50") });
    }
    if rng.usize(0..10) == 0 {
        lines.push(OrderLine { sku: None, title: "Gift card".into(), quantity: 1, unit_price: eur("0.00") });
    }
    let shipping =
        if rng.bool() { vec![Charge { title: "Standard".into(), amount: eur("4.90"), rate: None }] } else { vec![] };
    let taxes = vec![Charge { title: "VAT".into(), amount: eur("0.51"), rate: Some(Decimal::new(7, 2)) }];
    let discount = rng.bool().then(|| eur("2.00"));
    let mut total: Decimal = lines.iter().map(|l| l.unit_price.amount * Decimal::from(l.quantity)).sum();
    total += shipping.iter().map(|c| c.amount.amount).sum::<Decimal>();
    if !included {
        total += taxes.iter().map(|c| c.amount.amount).sum::<Decimal>();
    }
    if let Some(d) = &discount {
        total -= d.amount;
    }
    let created = Utc::now() - Days::days(2);
    Order {
        id: ORDER_ID.into(),
        number: "#1001".into(),
        created_at: created,
        updated_at: created,
        status: OrderStatus::Open,
        customer: Customer {
            id: Some("7".into()),
            email: if rng.usize(0..4) == 0 { None } else { Some(EMAIL.into()) },
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            phone: None,
            addresses: vec![address(rng)],
        },
        shipping_address: if rng.usize(0..5) == 0 { None } else { Some(address(rng)) },
        lines,
        shipping_lines: shipping,
        tax_lines: taxes,
        taxes_included: included,
        discount,
        total: Money::new(total, eur("0").currency),
        refunds: vec![],
    }
}

fn refund(rng: &Rng) -> Refund {
    let lines = if rng.usize(0..4) == 0 {
        vec![]
    } else {
        vec![RefundLine { sku: Some(pick(rng, SKUS).into()), quantity: 1, amount: money("19.99", "EUR") }]
    };
    Refund {
        id: "gid://shopify/Refund/5".into(),
        created_at: Utc::now() - Days::days(1),
        note: Some("Broken".into()),
        total: money(pick(rng, &["19.99", "24.89", "5.00"]), "EUR"),
        lines,
    }
}

fn shipment(rng: &Rng) -> Shipment {
    Shipment {
        id: if rng.usize(0..4) == 0 { None } else { Some("shp_1".into()) },
        order_ref: REFERENCE.into(),
        carrier: "DHL".into(),
        service: pick(rng, &["Express", ""]).into(),
        tracking_number: if rng.usize(0..8) == 0 { None } else { Some(TRACKING.into()) },
        label_url: Some("https://labels.example.com/1.pdf".into()),
        tracking_url: Some("https://track.example.com/1".into()),
    }
}

fn shipment_request(rng: &Rng) -> ShipmentRequest {
    ShipmentRequest {
        reference: REFERENCE.into(),
        order_ref: ORDER_ID.into(),
        to: address(rng),
        email: Some(EMAIL.into()),
        weight_grams: pick(rng, &[400, 400, 1, 0, u32::MAX]),
        service: if rng.bool() {
            None
        } else {
            Some(pick(rng, &["Priority", "Ground", "dhl_express_worldwide"]).into())
        },
    }
}

fn catalog_field(rng: &Rng) -> CatalogField {
    match rng.usize(0..4) {
        0 => CatalogField::Title("Blue Mug, large".into()),
        1 => CatalogField::Active(rng.bool()),
        _ => CatalogField::Price(money(pick(rng, &["12.99", "12.999", "0"]), pick(rng, &["EUR", "EUR", "USD"]))),
    }
}

fn changes(rng: &Rng) -> Vec<(CustomerField, Option<String>)> {
    CustomerField::ALL
        .into_iter()
        .filter(|_| rng.usize(0..3) == 0)
        .map(|f| {
            let v = match f {
                CustomerField::Email => "ada.lovelace@example.com",
                CustomerField::Phone => "+49 30 7654321",
                CustomerField::Line1 => "2 Side St",
                CustomerField::Line2 => "Flat 3",
                CustomerField::City => "Hamburg",
                CustomerField::Postcode => "20457",
                CustomerField::Country => pick(rng, &["DE", "XX"]),
            };
            (f, (rng.usize(0..5) > 0).then(|| v.to_owned()))
        })
        .collect()
}

/// The ids each system knows a customer, an order and a document by.
fn customer_id(kind: &str) -> &'static str {
    match kind {
        "shopify" => "gid://shopify/Customer/7",
        "erpnext" => "Ada Lovelace",
        _ => "7",
    }
}

fn document_ref(kind: &str) -> ErpOrderRef {
    let id = if kind == "erpnext" { "SAL-ORD-2026-00001" } else { "17" };
    ErpOrderRef { id: id.into(), external_ref: ORDER_ID.into(), cancelled: false }
}

/// Calls `op` of `conn` (built for `kind`) and returns what each call came to.
pub async fn call(kind: &str, conn: &Conn, op: &str, rng: &Rng) -> Vec<Outcome> {
    let mut out = Vec::new();
    match conn {
        Conn::Store(s) => store(kind, s.as_ref(), op, rng, &mut out).await,
        Conn::Erp(e) => erp(kind, e.as_ref(), op, rng, &mut out).await,
        Conn::Courier(c) => courier(c.as_ref(), op, rng, &mut out).await,
    }
    out
}

async fn store(kind: &str, s: &dyn Store, op: &str, rng: &Rng, out: &mut Vec<Outcome>) {
    let sku = pick(rng, SKUS);
    match op {
        "orders_page" => paged(out, |after| async move { s.orders_page(None, after.as_deref()).await }).await,
        "orders_page_since" => {
            let t = since(rng);
            paged(out, |after| async move { s.orders_page(t, after.as_deref()).await }).await
        }
        "customers_page" => {
            let t = since(rng);
            paged(out, |after| async move { s.customers_page(t, after.as_deref()).await }).await
        }
        "customer" => out.push(bounded(s.customer(customer_id(kind))).await.0),
        "find_customer" => out.push(bounded(s.find_customer(EMAIL)).await.0),
        "update_customer" => out.push(bounded(s.update_customer(customer_id(kind), &changes(rng))).await.0),
        "set_available" => {
            let location = match kind {
                "shopify" => "gid://shopify/Location/1",
                "woocommerce" => pick(rng, &["default", "default", "Berlin"]),
                _ => pick(rng, &["default", "1", "2"]),
            };
            let quantity = pick(rng, &[7, 0, -1, 12]);
            out.push(bounded(s.set_available(sku, location, quantity)).await.0)
        }
        "catalog" => out.push(bounded(s.catalog()).await.0),
        "set_catalog_field" => out.push(bounded(s.set_catalog_field(sku, &catalog_field(rng))).await.0),
        "check" => out.push(bounded(s.check()).await.0),
        "fulfill" => {
            let order_id = if kind == "shopify" { "gid://shopify/Order/1001" } else { ORDER_ID };
            out.push(bounded(s.fulfill(order_id, &shipment(rng))).await.0)
        }
        _ => {}
    }
}

async fn erp(kind: &str, e: &dyn Erp, op: &str, rng: &Rng, out: &mut Vec<Outcome>) {
    let sku = pick(rng, SKUS);
    let doc = document_ref(kind);
    match op {
        "find_order" => out.push(bounded(e.find_order(ORDER_ID)).await.0),
        "create_order" => out.push(bounded(e.create_order(&order(rng))).await.0),
        "cancel_order" => out.push(bounded(e.cancel_order(&doc.id)).await.0),
        "find_credit_note" => out.push(bounded(e.find_credit_note("gid://shopify/Refund/5")).await.0),
        "create_credit_note" => {
            let order = order(rng);
            out.push(bounded(e.create_credit_note(&doc, &order, &refund(rng))).await.0)
        }
        "stock_page" => {
            let t = since(rng);
            paged(out, |after| async move { e.stock_page(t, after.as_deref()).await }).await
        }
        "catalog" => out.push(bounded(e.catalog()).await.0),
        "set_catalog_field" => out.push(bounded(e.set_catalog_field(sku, &catalog_field(rng))).await.0),
        "ready_to_ship" => {
            let t = since(rng);
            paged(out, |after| async move { e.ready_to_ship(t, after.as_deref()).await }).await
        }
        "set_tracking" => {
            let id = if kind == "erpnext" { REFERENCE } else { "5" };
            out.push(bounded(e.set_tracking(id, &shipment(rng))).await.0)
        }
        "orders_between" => {
            let to = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default();
            out.push(bounded(e.orders_between(to - Days::days(30), to)).await.0)
        }
        "check" => out.push(bounded(e.check()).await.0),
        "customers_page" => {
            let t = since(rng);
            paged(out, |after| async move { e.customers_page(t, after.as_deref()).await }).await
        }
        "customer" => out.push(bounded(e.customer(customer_id(kind))).await.0),
        "find_customer" => out.push(bounded(e.find_customer(EMAIL)).await.0),
        "update_customer" => out.push(bounded(e.update_customer(customer_id(kind), &changes(rng))).await.0),
        _ => {}
    }
}

async fn courier(c: &dyn Courier, op: &str, rng: &Rng, out: &mut Vec<Outcome>) {
    match op {
        "find_shipment" => out.push(bounded(c.find_shipment(REFERENCE)).await.0),
        "create_shipment" => out.push(bounded(c.create_shipment(&shipment_request(rng))).await.0),
        "check" => out.push(bounded(c.check()).await.0),
        "tracking" => out.push(bounded(c.tracking(&shipment(rng))).await.0),
        _ => {}
    }
}
