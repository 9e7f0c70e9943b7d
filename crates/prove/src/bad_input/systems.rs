//! Bad answers from the other systems, served by a scripted loopback
//! server to the connectors themselves: what each says, and that none
//! panics or reads a runaway body whole.

use super::fixture::{failed, json, Answer, Outcome, Scripted};
use crate::harness::Ctx;
use anyhow::Result;
use ferry_connectors::{Courier, Erp, Store};
use serde_json::json as j;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

const FIFTY_MB: usize = 50 * 1024 * 1024;

fn erpnext(url: &str) -> Result<ferry_connectors::erpnext::ErpNext> {
    Ok(ferry_connectors::erpnext::ErpNext::new(url, &j!({ "timezone": "Europe/Berlin" }), "demo_key:demo_secret")?)
}

fn easypost(url: &str) -> Result<ferry_connectors::easypost::EasyPost> {
    let from = j!({ "from_name": "Demo Shop", "from_street": "1 Harbour Lane", "from_city": "Hamburg",
        "from_postcode": "20457", "from_country": "DE" });
    Ok(ferry_connectors::easypost::EasyPost::new(url, &from, "EZTK_demo_000000000000")?)
}

/// A Bin row of ERPNext's stock list, with `field` set to `value`.
fn bin(field: &str, value: serde_json::Value) -> serde_json::Value {
    let mut row = j!({ "name": "BIN-0001", "item_code": "MUG-01", "warehouse": "Stores - DS",
        "actual_qty": 12, "reserved_qty": 2, "modified": "2026-11-26 10:00:00.000000" });
    row[field] = value;
    j!({ "data": [row] })
}

/// 50 MB of orders streamed with no length: refused at the cap, and the
/// server got out only a part of it.
pub async fn fifty_mb_streamed(_ctx: Arc<Ctx>) -> Result<Outcome> {
    let server = Scripted::start(Answer::Endless(FIFTY_MB))?;
    let shop = ferry_connectors::shopify::Shopify::new(&server.url, &j!({}), "shpat_scripted")?;
    let mut out = failed(shop.orders_page(None, None).await).naming("Shopify");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = server.sent.load(Ordering::SeqCst);
    // Ferry stops at 16 MiB; the kernel's socket buffers on both sides hold
    // some more (about 10 MiB on Linux). Read whole, all 50 would go out.
    out.check(sent < 40 * 1024 * 1024, || format!("the server got {sent} bytes out: the body was read (nearly) whole"));
    out.message = format!("{} (the server got {:.1} MiB of 50 out)", out.message, sent as f64 / 1048576.0);
    Ok(out)
}

pub async fn erpnext_quantity_as_text(_ctx: Arc<Ctx>) -> Result<Outcome> {
    let server = Scripted::start(json(bin("actual_qty", j!("lots"))))?;
    Ok(failed(erpnext(&server.url)?.stock_page(None, None).await))
}

pub async fn erpnext_garbled_time(_ctx: Arc<Ctx>) -> Result<Outcome> {
    let server = Scripted::start(json(bin("modified", j!("26.11.2026 10:00"))))?;
    Ok(failed(erpnext(&server.url)?.stock_page(None, None).await))
}

pub async fn erpnext_object_for_list(_ctx: Arc<Ctx>) -> Result<Outcome> {
    let server = Scripted::start(json(j!({ "data": { "name": "SAL-ORD-2026-00001" } })))?;
    Ok(failed(erpnext(&server.url)?.find_order("gid://shopify/Order/1").await))
}

pub async fn easypost_plain_text(_ctx: Arc<Ctx>) -> Result<Outcome> {
    let server = Scripted::start(Answer::Fixed { status: 200, content_type: "text/plain", body: b"OK".to_vec() })?;
    Ok(failed(easypost(&server.url)?.find_shipment("DN-2026-00001").await))
}

pub async fn easypost_time_without_date(_ctx: Arc<Ctx>) -> Result<Outcome> {
    let server = Scripted::start(json(j!({ "trackers": [{ "tracking_code": "EZ1000000001", "shipment_id": "shp_1",
        "tracking_details": [{ "status": "in_transit", "message": "Left the hub", "datetime": "yesterday" }] }] })))?;
    let parcel = ferry_domain::Shipment {
        id: Some("shp_1".into()),
        order_ref: "DN-2026-00001".into(),
        carrier: "USPS".into(),
        service: "Priority".into(),
        tracking_number: Some("EZ1000000001".into()),
        label_url: None,
        tracking_url: None,
    };
    Ok(failed(easypost(&server.url)?.tracking(&parcel).await))
}

/// An amount at Decimal's limit: adding its tax overflowed (a panic)
/// before amounts were bounded when read.
pub async fn woocommerce_huge_amount(_ctx: Arc<Ctx>) -> Result<Outcome> {
    let order = j!({ "id": 1002, "number": "1002", "status": "processing", "currency": "EUR",
        "date_created_gmt": "2026-11-26T10:00:00", "date_modified_gmt": "2026-11-26T10:05:00",
        "discount_total": "0.00", "discount_tax": "0.00", "shipping_total": "0.00", "shipping_tax": "0.00",
        "total": "44.46", "total_tax": "7.10", "prices_include_tax": true, "customer_id": 0,
        "billing": { "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com" },
        "line_items": [{ "name": "Blue Mug", "quantity": 3, "subtotal": "79228162514264337593543950335",
            "subtotal_tax": "6.22", "total": "29.47", "total_tax": "5.60", "sku": "MUG-01" }],
        "tax_lines": [], "shipping_lines": [], "fee_lines": [], "refunds": [] });
    let server = Scripted::start(json(j!([order])))?;
    let woo = ferry_connectors::woocommerce::WooCommerce::new(&server.url, &j!({}), "ck_scripted:cs_scripted")?;
    Ok(failed(woo.orders_page(None, None).await))
}
