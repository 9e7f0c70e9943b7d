//! ERPNext (Frappe) REST API emulator.
//!
//! Follows docs.frappe.io/framework/user/en/api/rest: `Authorization: token
//! key:secret`; `GET /api/resource/<DocType>` with JSON `filters` (lists of
//! `[field, op, value]`), JSON `fields`, `limit_start`, `limit_page_length`
//! (default 20), answering `{"data": [...]}`; `POST /api/resource/<DocType>`
//! with the document as JSON, answering `{"data": doc}`; `GET
//! /api/resource/<DocType>/<name>`. Errors carry Frappe's body:
//! `exc_type`, `exception` and `_server_messages` (a JSON list of JSON
//! strings), with 401 for a bad token, 404 `DoesNotExistError`, and 417 for
//! validation (`MandatoryError`, `LinkValidationError`). `modified` and
//! `creation` are site-local times without a zone. Custom fields (such as
//! `shopify_order_id` on Sales Order) are stored as given.

// Handlers return ready-made Frappe error responses as their `Err`.
#![allow(clippy::result_large_err)]

use crate::faults::Trouble;
use crate::seed::SeedProduct;
use crate::{Sim, SimOptions};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

pub const REF_FIELD: &str = "shopify_order_id";
/// The seeded chart of accounts' heads for shipping and VAT charges.
pub const SHIPPING_ACCOUNT: &str = "Freight and Forwarding Charges - DS";
pub const VAT_ACCOUNT: &str = "VAT - DS";
/// The selling price list the shop's prices live in.
pub const PRICE_LIST: &str = "Standard Selling";
/// The seeded warehouse holding all stock.
pub const WAREHOUSE: &str = "Stores - DS";

/// The site's documents by doctype, in creation order.
pub struct ErpNextSim {
    auth: String,
    tz: Tz,
    docs: Mutex<HashMap<String, Vec<Map<String, Value>>>>,
    /// Sales Orders by external reference. The field is *Unique* in the
    /// site Ferry expects, so Frappe keeps it indexed; the emulator does too,
    /// or a lookup among 100,000 orders would scan them all. Lock after `docs`.
    refs: Mutex<HashMap<String, Vec<usize>>>,
    series: Mutex<u64>,
    pub faults: crate::Faults,
    limiter: Mutex<Option<Limiter>>,
    /// Requests refused by the rate limiter (a well-paced client sees none).
    pub rate_limited: std::sync::atomic::AtomicU64,
    /// How far this server's clock is off (ms; negative: behind), for clock-skew tests.
    skew_ms: std::sync::atomic::AtomicI64,
}

/// Frappe's rate limiter (frappe/rate_limiter.py, `rate_limit` in
/// site_config): a budget of request processing time in microseconds per
/// fixed window, announced on every answer in `X-RateLimit-Limit`,
/// `X-RateLimit-Remaining` (µs) and `X-RateLimit-Reset` (seconds), and 429
/// with `Retry-After` once spent.
#[derive(Debug, Clone, Copy)]
struct Limiter {
    limit_us: u64,
    cost_us: u64,
    window: std::time::Duration,
    started: std::time::Instant,
    used: u64,
}

impl ErpNextSim {
    pub(crate) fn seeded(opts: &SimOptions, catalog: &[SeedProduct]) -> Self {
        let mut docs: HashMap<String, Vec<Map<String, Value>>> = HashMap::new();
        let modified = Utc::now().with_timezone(&opts.erp_timezone).format("%Y-%m-%d %H:%M:%S%.6f").to_string();
        docs.insert(
            "Item".into(),
            catalog
                .iter()
                .map(|p| {
                    obj(json!({ "name": p.sku, "item_code": p.sku, "item_name": p.title, "standard_rate": p.price.to_string(),
                        "stock_uom": "Nos", "is_stock_item": 1, "disabled": 0, "modified": modified, "docstatus": 0 }))
                })
                .collect(),
        );
        docs.insert(
            "Account".into(),
            [SHIPPING_ACCOUNT, VAT_ACCOUNT]
                .iter()
                .map(|a| obj(json!({ "name": a, "account_name": a, "company": "Demo Shop", "is_group": 0, "modified": modified })))
                .collect(),
        );
        docs.insert(
            "Item Price".into(),
            catalog
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    obj(json!({ "name": format!("IP-{:05}", i + 1), "item_code": p.sku, "price_list": PRICE_LIST,
                        "price_list_rate": p.price.to_string(), "currency": "EUR", "selling": 1, "modified": modified }))
                })
                .collect(),
        );
        docs.insert(
            "Warehouse".into(),
            vec![obj(
                json!({ "name": WAREHOUSE, "warehouse_name": "Stores", "company": "Demo Shop", "modified": modified }),
            )],
        );
        // Stock per item: on hand and reserved by open orders (Bin, as ERPNext keeps it).
        let mut rng = crate::seed::Rng::new(opts.seed ^ 0xB1B1);
        docs.insert(
            "Bin".into(),
            catalog
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let actual = rng.below(40) as i64;
                    let reserved = rng.below(6) as i64;
                    obj(json!({ "name": format!("BIN-{:05}", i + 1), "item_code": p.sku, "warehouse": WAREHOUSE,
                        "actual_qty": actual, "reserved_qty": reserved, "projected_qty": actual - reserved, "modified": modified }))
                })
                .collect(),
        );
        for doctype in ["Customer", "Contact", "Address", "Sales Order", "Delivery Note", "Sales Invoice"] {
            docs.insert(doctype.into(), Vec::new());
        }
        Self {
            auth: format!("token {}", crate::DEMO_ERPNEXT_SECRET),
            tz: opts.erp_timezone,
            docs: Mutex::new(docs),
            refs: Mutex::new(HashMap::new()),
            series: Mutex::new(0),
            limiter: Mutex::new(None),
            rate_limited: Default::default(),
            skew_ms: Default::default(),
            faults: crate::Faults::default(),
        }
    }

    /// (external reference, docstatus) of every Sales Order, cancelled ones included.
    pub fn sales_order_refs(&self) -> Vec<(Option<String>, i64)> {
        self.documents("Sales Order")
            .iter()
            .map(|d| {
                let r = d.get(REF_FIELD).and_then(Value::as_str).map(str::to_owned);
                (r, d.get("docstatus").and_then(Value::as_i64).unwrap_or(0))
            })
            .collect()
    }

    /// (external reference, grand total) of every live credit note.
    pub fn credit_notes(&self) -> Vec<(Option<String>, String)> {
        self.documents("Sales Invoice")
            .iter()
            .filter(|d| d.get("is_return").and_then(Value::as_i64) == Some(1) && d.get("docstatus") != Some(&json!(2)))
            .map(|d| {
                let r = d.get(REF_FIELD).and_then(Value::as_str).map(str::to_owned);
                (r, d.get("grand_total").and_then(Value::as_str).unwrap_or_default().to_owned())
            })
            .collect()
    }

    /// (external reference, grand total) of every live Sales Order.
    pub fn sales_order_totals(&self) -> Vec<(String, String)> {
        self.documents("Sales Order")
            .iter()
            .filter(|d| d.get("docstatus").and_then(Value::as_i64) != Some(2))
            .filter_map(|d| {
                let r = d.get(REF_FIELD)?.as_str()?.to_owned();
                Some((r, d.get("grand_total")?.as_str()?.to_owned()))
            })
            .collect()
    }

    /// Sets on-hand and reserved stock of an item (goods received, orders reserved).
    pub fn set_stock(&self, item_code: &str, actual: i64, reserved: i64) -> bool {
        let modified = self.now_local();
        let mut docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        let Some(bin) = docs
            .get_mut("Bin")
            .and_then(|l| l.iter_mut().find(|d| d.get("item_code").and_then(Value::as_str) == Some(item_code)))
        else {
            return false;
        };
        bin.insert("actual_qty".into(), json!(actual));
        bin.insert("reserved_qty".into(), json!(reserved));
        bin.insert("projected_qty".into(), json!(actual - reserved));
        bin.insert("modified".into(), json!(modified));
        true
    }

    /// Adds a Bin for an item in the seeded warehouse.
    pub fn add_bin(&self, item_code: &str, actual: i64, reserved: i64) {
        let modified = self.now_local();
        let mut docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        let bins = docs.entry("Bin".into()).or_default();
        let name = format!("BIN-{:05}", bins.len() + 1);
        bins.push(obj(json!({ "name": name, "item_code": item_code, "warehouse": WAREHOUSE, "actual_qty": actual,
            "reserved_qty": reserved, "projected_qty": actual - reserved, "modified": modified })));
    }

    /// (item code, available = on hand − reserved, at least 0) per Bin.
    pub fn available_stock(&self) -> Vec<(String, i64)> {
        self.documents("Bin")
            .iter()
            .filter_map(|b| {
                let code = b.get("item_code")?.as_str()?.to_owned();
                let actual = b.get("actual_qty")?.as_i64()?;
                let reserved = b.get("reserved_qty")?.as_i64()?;
                Some((code, (actual - reserved).max(0)))
            })
            .collect()
    }

    /// The selling price of an item.
    pub fn item_price(&self, item_code: &str) -> Option<Decimal> {
        self.documents("Item Price")
            .iter()
            .find(|d| d.get("item_code").and_then(Value::as_str) == Some(item_code))
            .and_then(|d| number(d.get("price_list_rate")))
    }

    /// A person changes an item's selling price in ERPNext.
    pub fn set_item_price(&self, item_code: &str, price: &str) -> bool {
        let name = self
            .documents("Item Price")
            .iter()
            .find(|d| d.get("item_code").and_then(Value::as_str) == Some(item_code))
            .and_then(|d| d.get("name").and_then(Value::as_str).map(str::to_owned));
        name.is_some_and(|n| self.set_field("Item Price", &n, "price_list_rate", json!(price)))
    }

    /// Rebuilds the reference index after a Sales Order's reference changed.
    fn reindex_refs(&self, docs: &Docs) {
        let mut refs = self.refs.lock().unwrap_or_else(|e| e.into_inner());
        refs.clear();
        for (i, d) in docs.get("Sales Order").into_iter().flatten().enumerate() {
            if let Some(r) = d.get(REF_FIELD).and_then(Value::as_str) {
                refs.entry(r.to_owned()).or_default().push(i);
            }
        }
    }

    /// Positions of the Sales Orders with reference `r`.
    fn with_ref(&self, r: &str) -> Vec<usize> {
        self.refs.lock().unwrap_or_else(|e| e.into_inner()).get(r).cloned().unwrap_or_default()
    }

    /// Sets a field on a document, as a person editing it in the ERP would.
    pub fn set_field(&self, doctype: &str, name: &str, field: &str, value: Value) -> bool {
        let modified = self.now_local();
        let mut docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        let Some(doc) = docs
            .get_mut(doctype)
            .and_then(|l| l.iter_mut().find(|d| d.get("name").and_then(Value::as_str) == Some(name)))
        else {
            return false;
        };
        doc.insert(field.to_owned(), value);
        doc.insert("modified".into(), json!(modified));
        if doctype == "Sales Order" && field == REF_FIELD {
            self.reindex_refs(&docs);
        }
        true
    }

    /// The Customer whose (fetched) email is `email`.
    pub fn customer_by_email(&self, email: &str) -> Option<Map<String, Value>> {
        let docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        docs.get("Customer")?.iter().find(|d| d.get("email_id").and_then(Value::as_str) == Some(email)).cloned()
    }

    /// A person edits a customer's primary contact in the ERPNext desk:
    /// the Contact changes (and its `modified`), the Customer's fetched
    /// `email_id` / `mobile_no` follow on save, its own `modified` does not.
    pub fn edit_customer_contact(&self, customer: &str, email: Option<&str>, mobile: Option<&str>) -> bool {
        let modified = self.now_local();
        let mut docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        let Some(contact) = docs
            .get("Customer")
            .and_then(|l| l.iter().find(|d| d.get("name").and_then(Value::as_str) == Some(customer)))
            .and_then(|c| c.get("customer_primary_contact").and_then(Value::as_str).map(str::to_owned))
        else {
            return false;
        };
        let Some(c) = docs
            .get_mut("Contact")
            .and_then(|l| l.iter_mut().find(|d| d.get("name").and_then(Value::as_str) == Some(contact.as_str())))
        else {
            return false;
        };
        if let Some(e) = email {
            c.insert("email_ids".into(), json!([{ "email_id": e, "is_primary": 1 }]));
            c.insert("email_id".into(), json!(e));
        }
        if let Some(m) = mobile {
            c.insert("phone_nos".into(), json!([{ "phone": m, "is_primary_mobile_no": 1 }]));
            c.insert("mobile_no".into(), json!(m));
        }
        c.insert("modified".into(), json!(modified));
        let mut saved = None;
        if let Some(cust) = docs
            .get("Customer")
            .and_then(|l| l.iter().find(|d| d.get("name").and_then(Value::as_str) == Some(customer)))
        {
            let mut cust = cust.clone();
            refresh_fetched(&docs, &mut cust);
            saved = Some(cust);
        }
        if let (Some(saved), Some(l)) = (saved, docs.get_mut("Customer")) {
            if let Some(d) = l.iter_mut().find(|d| d.get("name").and_then(Value::as_str) == Some(customer)) {
                *d = saved;
            }
        }
        true
    }

    /// A person edits a field of the (first) Address linked to `customer`.
    pub fn edit_customer_address(&self, customer: &str, field: &str, value: &str) -> bool {
        let modified = self.now_local();
        let mut docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        let linked = |d: &Map<String, Value>| {
            d.get("links").and_then(Value::as_array).is_some_and(|l| {
                l.iter().any(|r| {
                    r.get("link_doctype") == Some(&json!("Customer")) && r.get("link_name") == Some(&json!(customer))
                })
            })
        };
        let Some(a) = docs.get_mut("Address").and_then(|l| l.iter_mut().find(|d| linked(d))) else { return false };
        a.insert(field.into(), json!(value));
        a.insert("modified".into(), json!(modified));
        true
    }

    /// Turns on Frappe's rate limiter: `limit_us` of processing time per
    /// `window`, each request costing `cost_us`.
    pub fn set_rate_limit(&self, limit_us: u64, window: std::time::Duration, cost_us: u64) {
        *self.limiter.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Limiter { limit_us, cost_us, window, started: std::time::Instant::now(), used: 0 });
    }

    /// Charges one request: the headers for the answer, and whether it
    /// may go ahead (else it is answered 429).
    fn charge(&self) -> (Vec<(&'static str, String)>, bool) {
        let mut guard = self.limiter.lock().unwrap_or_else(|e| e.into_inner());
        let Some(l) = guard.as_mut() else { return (vec![], true) };
        if l.started.elapsed() >= l.window {
            l.started = std::time::Instant::now();
            l.used = 0;
        }
        let ok = l.used + l.cost_us <= l.limit_us;
        if ok {
            l.used += l.cost_us;
        }
        let reset = l.window.saturating_sub(l.started.elapsed()).as_secs_f64().ceil().max(1.0) as u64;
        let headers = vec![
            ("X-RateLimit-Limit", l.limit_us.to_string()),
            ("X-RateLimit-Remaining", (l.limit_us - l.used.min(l.limit_us)).to_string()),
            ("X-RateLimit-Reset", reset.to_string()),
        ];
        (headers, ok)
    }

    /// A customer entered by hand (no email), with a shipping address.
    pub fn add_customer_with_address(&self, name: &str, postcode: &str) {
        let modified = self.now_local();
        let mut docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        docs.entry("Customer".into()).or_default().push(obj(json!({
            "name": name, "customer_name": name, "customer_type": "Individual", "modified": modified, "docstatus": 0
        })));
        docs.entry("Address".into()).or_default().push(obj(json!({
            "name": format!("{name}-Shipping"), "address_title": name, "address_type": "Shipping", "address_line1": "1 Old Road",
            "city": "Berlin", "pincode": postcode, "links": [{ "link_doctype": "Customer", "link_name": name }], "modified": modified
        })));
    }

    /// Submitted Sales Orders no Delivery Note was made against yet, oldest first.
    pub fn unshipped_sales_orders(&self) -> Vec<String> {
        let docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        let shipped: std::collections::HashSet<&str> = docs
            .get("Delivery Note")
            .into_iter()
            .flatten()
            .flat_map(|d| d.get("items").and_then(Value::as_array).into_iter().flatten())
            .filter_map(|i| i.get("against_sales_order").and_then(Value::as_str))
            .collect();
        docs.get("Sales Order")
            .into_iter()
            .flatten()
            .filter(|d| d.get("docstatus") == Some(&json!(1)))
            .filter_map(|d| d.get("name").and_then(Value::as_str))
            .filter(|n| !shipped.contains(n))
            .map(str::to_owned)
            .collect()
    }

    /// The warehouse ships a Sales Order: a submitted Delivery Note made
    /// against it (items, customer, the order's shipping address, net weight), as the desk's
    /// "Create → Delivery Note" then "Submit" would. Returns its name.
    pub fn ship_sales_order(&self, sales_order: &str, weight_kg: f64) -> Option<String> {
        let modified = self.now_local();
        let mut docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        let so = docs
            .get("Sales Order")?
            .iter()
            .find(|d| {
                d.get("name").and_then(Value::as_str) == Some(sales_order) && d.get("docstatus") == Some(&json!(1))
            })?
            .clone();
        let customer = so.get("customer").and_then(Value::as_str)?.to_owned();
        // The order's own shipping address, else (as ERPNext fills it) the customer's.
        let customers = || {
            docs.get("Address")?
                .iter()
                .find(|a| {
                    a.get("links")
                        .and_then(Value::as_array)
                        .is_some_and(|links| links.iter().any(|r| r.get("link_name") == Some(&json!(customer))))
                })?
                .get("name")
                .cloned()
        };
        let address = so
            .get("shipping_address_name")
            .filter(|a| a.is_string())
            .cloned()
            .or_else(customers)
            .unwrap_or(Value::Null);
        let items: Vec<Value> = so
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(
                |i| json!({ "item_code": i.get("item_code"), "qty": i.get("qty"), "against_sales_order": sales_order }),
            )
            .collect();
        let n = docs.get("Delivery Note").map_or(0, Vec::len) + 1;
        let name = format!("MAT-DN-{}-{n:05}", Utc::now().with_timezone(&self.tz).format("%Y"));
        docs.entry("Delivery Note".into()).or_default().push(obj(json!({
            "name": name, "customer": customer, "customer_name": so.get("customer_name").cloned().unwrap_or(json!(customer)),
            "shipping_address_name": address, "items": items, "total_net_weight": weight_kg,
            "docstatus": 1, "status": "To Bill", "creation": modified, "modified": modified
        })));
        Some(name)
    }

    /// Adds an Item (a person fixing a missing item code).
    pub fn add_item(&self, code: &str, name: &str) {
        let modified = self.now_local();
        let mut docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        docs.entry("Item".into()).or_default().push(obj(json!({
            "name": code, "item_code": code, "item_name": name, "stock_uom": "Nos",
            "is_stock_item": 1, "disabled": 0, "modified": modified, "docstatus": 0
        })));
    }

    /// A copy of every document of `doctype`.
    pub fn documents(&self, doctype: &str) -> Vec<Map<String, Value>> {
        let docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        docs.get(doctype).cloned().unwrap_or_default()
    }

    fn now_local(&self) -> String {
        let skew = chrono::Duration::milliseconds(self.skew_ms.load(std::sync::atomic::Ordering::SeqCst));
        (Utc::now() + skew).with_timezone(&self.tz).format("%Y-%m-%d %H:%M:%S%.6f").to_string()
    }

    /// Sets the server's clock `skew` off the real time (negative: behind):
    /// documents it saves from now on carry skewed `modified` times.
    pub fn set_clock_skew(&self, skew: chrono::Duration) {
        self.skew_ms.store(skew.num_milliseconds(), std::sync::atomic::Ordering::SeqCst);
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub(crate) fn router(sim: Arc<Sim>) -> Router<Arc<Sim>> {
    let _ = sim;
    Router::new()
        .route("/api/resource/{doctype}", get(list).post(create))
        .route("/api/resource/{doctype}/{name}", get(read_one).put(update))
        .route("/api/method/frappe.client.cancel", axum::routing::post(cancel))
}

/// A Frappe error response.
fn frappe_error(status: StatusCode, exc_type: &str, message: &str) -> Response {
    let server_message =
        json!({ "message": message, "title": "Message", "indicator": "red", "raise_exception": 1 }).to_string();
    let body = json!({
        "exc_type": exc_type,
        "exception": format!("frappe.exceptions.{exc_type}: {message}"),
        "_server_messages": serde_json::to_string(&vec![server_message]).unwrap_or_default(),
    });
    (status, Json(body)).into_response()
}

/// Checks auth and the fault knobs. `Err` is the answer to send now;
/// `Ok(Some(d))` means answer only after `d` (past a client's timeout).
async fn guard(sim: &Sim, headers: &HeaderMap) -> Result<Option<std::time::Duration>, Response> {
    let erp = &sim.erpnext;
    erp.faults.delay().await;
    let auth_ok = headers.get("Authorization").and_then(|v| v.to_str().ok()) == Some(erp.auth.as_str());
    if !auth_ok || erp.faults.auth_revoked() {
        return Err(frappe_error(StatusCode::UNAUTHORIZED, "AuthenticationError", "Invalid API key or secret"));
    }
    if erp.faults.take_failure() {
        return Err((StatusCode::BAD_GATEWAY, "<html><body><h1>502 Bad Gateway</h1></body></html>").into_response());
    }
    if erp.faults.take_rate_limit() {
        return Err((StatusCode::TOO_MANY_REQUESTS, [("Retry-After", "1")], "Too Many Requests").into_response());
    }
    match erp.faults.trouble() {
        Trouble::ServerError => {
            Err((StatusCode::SERVICE_UNAVAILABLE, "<html><body>503 Service Unavailable</body></html>").into_response())
        }
        Trouble::RateLimited => {
            Err((StatusCode::TOO_MANY_REQUESTS, [("Retry-After", "1")], "Too Many Requests").into_response())
        }
        Trouble::Slow(d) => Ok(Some(d)),
        Trouble::None => Ok(None),
    }
}

/// Every handler's frame: counts the request in flight, applies auth and
/// the fault knobs, does the work, and answers late when a fault says so
/// (after the work: a slow answer to a saved document is the case that
/// duplicates orders in naive clients).
async fn serve(sim: &Sim, headers: &HeaderMap, work: impl FnOnce() -> Response) -> Response {
    let _in_flight = sim.erpnext.faults.enter();
    let slow = match guard(sim, headers).await {
        Ok(slow) => slow,
        Err(r) => return r,
    };
    let (limits, allowed) = sim.erpnext.charge();
    let mut response = if allowed {
        work()
    } else {
        sim.erpnext.rate_limited.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let wait = limits.iter().find(|(k, _)| *k == "X-RateLimit-Reset").map(|(_, v)| v.clone()).unwrap_or_default();
        let mut r = frappe_error(StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsError", "Too Many Requests");
        if let Ok(v) = axum::http::HeaderValue::from_str(&wait) {
            r.headers_mut().insert("Retry-After", v);
        }
        r
    };
    for (k, v) in limits {
        if let Ok(v) = axum::http::HeaderValue::from_str(&v) {
            response.headers_mut().insert(k, v);
        }
    }
    if let Some(d) = slow {
        tokio::time::sleep(d).await;
    }
    response
}

fn matches(doc: &Map<String, Value>, filters: &[Value]) -> Result<bool, String> {
    for f in filters {
        let parts = f.as_array().ok_or_else(|| format!("filter {f} is not a list"))?;
        // [field, op, value] or [doctype, field, op, value]
        let (child, field, op, value) = match parts.as_slice() {
            [field, op, value] => (None, field, op, value),
            [doctype, field, op, value] => (doctype.as_str(), field, op, value),
            _ => return Err(format!("filter {f} must be [field, operator, value]")),
        };
        let field = field.as_str().ok_or("filter field must be text")?;
        if child.is_some() && !doc.contains_key(field) {
            // A child-table filter (`["Sales Order Item", "item_code", "=", x]`,
            // `["Dynamic Link", "link_name", "=", x]`): some row of one of
            // the document's tables must match.
            let row_filter = [json!([field, op, value])];
            let mut any = false;
            for rows in doc.values().filter_map(Value::as_array) {
                for row in rows.iter().filter_map(Value::as_object) {
                    any = any || matches(row, &row_filter)?;
                }
            }
            if !any {
                return Ok(false);
            }
            continue;
        }
        let actual = doc.get(field).cloned().unwrap_or(Value::Null);
        // Frappe compares loosely: the number 1 equals the text "1".
        let equal = actual == *value
            || (actual.is_number() && value.as_str().is_some_and(|v| v.parse::<f64>().ok() == actual.as_f64()));
        let order = || match (&actual, value) {
            (Value::String(a), Value::String(b)) => Some(a.as_str().cmp(b.as_str())),
            (a, b) => a.as_f64().zip(b.as_f64()).and_then(|(a, b)| a.partial_cmp(&b)),
        };
        let ok = match op.as_str() {
            Some("=") => equal,
            Some("!=") => !equal,
            Some(">=") => order().is_some_and(|o| o.is_ge()),
            Some("<=") => order().is_some_and(|o| o.is_le()),
            Some(">") => order().is_some_and(|o| o.is_gt()),
            Some("<") => order().is_some_and(|o| o.is_lt()),
            Some("in") => value.as_array().is_some_and(|list| list.contains(&actual)),
            Some(other) => return Err(format!("operator {other:?} is not supported by the emulator")),
            None => return Err("operator must be text".into()),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn parse_json_param(q: &HashMap<String, String>, key: &str, default: Value) -> Result<Value, String> {
    match q.get(key) {
        None => Ok(default),
        Some(s) => serde_json::from_str(s).map_err(|e| format!("{key} is not valid JSON: {e}")),
    }
}

async fn list(
    State(sim): State<Arc<Sim>>,
    Path(doctype): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    serve(&sim, &headers, || list_docs(&sim, &doctype, &q)).await
}

fn list_docs(sim: &Sim, doctype: &str, q: &HashMap<String, String>) -> Response {
    let filters = match parse_json_param(q, "filters", json!([])) {
        Ok(Value::Array(f)) => f,
        Ok(Value::Object(m)) => m.into_iter().map(|(k, v)| json!([k, "=", v])).collect(),
        Ok(_) => {
            return frappe_error(StatusCode::EXPECTATION_FAILED, "ValidationError", "filters must be a list or a dict")
        }
        Err(e) => return frappe_error(StatusCode::EXPECTATION_FAILED, "ValidationError", &e),
    };
    let fields = match parse_json_param(q, "fields", json!(["name"])) {
        Ok(Value::Array(f)) => f.into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect::<Vec<_>>(),
        _ => return frappe_error(StatusCode::EXPECTATION_FAILED, "ValidationError", "fields must be a JSON list"),
    };
    let start: usize = q.get("limit_start").and_then(|s| s.parse().ok()).unwrap_or(0);
    let length: usize = q.get("limit_page_length").and_then(|s| s.parse().ok()).unwrap_or(20);
    let order_by = q.get("order_by").map(String::as_str);
    // Paged reads (an ascending `order_by`) meet duplicated and shifted pages.
    let trouble = match order_by {
        Some(o) if !o.contains("desc") => sim.erpnext.faults.page_trouble(start == 0),
        _ => crate::faults::PageTrouble::None,
    };
    let mut docs = sim.erpnext.docs.lock().unwrap_or_else(|e| e.into_inner());
    let Some(all) = docs.get(doctype) else {
        return frappe_error(StatusCode::NOT_FOUND, "DoesNotExistError", &format!("DocType {doctype} not found"));
    };
    // A lookup by the indexed reference reads only the orders that have it.
    let candidates =
        (doctype == "Sales Order").then(|| ref_filter(&filters)).flatten().map(|r| sim.erpnext.with_ref(r));
    let mut listed = match ordered(all, &filters, order_by, candidates.as_deref()) {
        Ok(listed) => listed,
        Err(e) => return frappe_error(StatusCode::EXPECTATION_FAILED, "ValidationError", &e),
    };
    if let Some(at) = trouble.changed(start, listed.len()) {
        // Someone saves a document already served: its `modified` is now.
        let modified = sim.erpnext.now_local();
        if let Some(doc) = docs.get_mut(doctype).and_then(|all| all.get_mut(listed[at])) {
            doc.insert("modified".into(), json!(modified));
        }
        listed = ordered(&docs[doctype], &filters, order_by, candidates.as_deref()).unwrap_or_default();
    }
    let all = &docs[doctype];
    let out: Vec<&Map<String, Value>> = listed.into_iter().map(|i| &all[i]).collect();
    let start = if start == 0 { 0 } else { sim.erpnext.faults.offset_start(start, trouble) };
    let page: Vec<Value> = out
        .into_iter()
        .skip(start)
        .take(if length == 0 { usize::MAX } else { length })
        .map(|d| {
            if fields.iter().any(|f| f == "*") {
                Value::Object(d.clone())
            } else {
                Value::Object(fields.iter().map(|f| (f.clone(), d.get(f).cloned().unwrap_or(Value::Null))).collect())
            }
        })
        .collect();
    Json(json!({ "data": page })).into_response()
}

/// The value of an equality filter on the external reference, if any.
fn ref_filter(filters: &[Value]) -> Option<&str> {
    filters.iter().find_map(|f| {
        let f = f.as_array()?;
        let (field, op, value) = match f.as_slice() {
            [field, op, value] => (field, op, value),
            [doctype, field, op, value] if doctype.as_str() == Some("Sales Order") => (field, op, value),
            _ => return None,
        };
        (field.as_str() == Some(REF_FIELD) && op.as_str() == Some("=")).then(|| value.as_str()).flatten()
    })
}

/// Positions in `all` of the documents matching `filters`, in `order_by`
/// order: comma-separated `field asc|desc`, `creation` being the order
/// documents were made in. Without one, Frappe's `modified desc` (here:
/// newest made first).
fn ordered(
    all: &[Map<String, Value>],
    filters: &[Value],
    order_by: Option<&str>,
    candidates: Option<&[usize]>,
) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    let positions: Box<dyn Iterator<Item = usize>> = match candidates {
        Some(c) => Box::new(c.iter().copied().filter(|&i| i < all.len())),
        None => Box::new(0..all.len()),
    };
    for i in positions {
        if matches(&all[i], filters)? {
            out.push(i);
        }
    }
    let keys: Vec<(&str, bool)> = order_by
        .unwrap_or_default()
        .split(',')
        .filter_map(|clause| {
            let mut words = clause.split_whitespace();
            let field = words.next()?;
            Some((field, words.next().is_some_and(|d| d.eq_ignore_ascii_case("desc"))))
        })
        .collect();
    if keys.first().is_none_or(|(_, desc)| *desc) {
        out.reverse();
    }
    let value = |i: usize, field: &str| {
        if field == "creation" {
            json!(i)
        } else {
            all[i].get(field).cloned().unwrap_or(Value::Null)
        }
    };
    out.sort_by(|&a, &b| {
        keys.iter()
            .map(|(field, desc)| {
                let ord = match (value(a, field), value(b, field)) {
                    (Value::String(x), Value::String(y)) => x.cmp(&y),
                    (x, y) => x.as_f64().partial_cmp(&y.as_f64()).unwrap_or(std::cmp::Ordering::Equal),
                };
                if *desc {
                    ord.reverse()
                } else {
                    ord
                }
            })
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    Ok(out)
}

async fn read_one(
    State(sim): State<Arc<Sim>>,
    Path((doctype, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    serve(&sim, &headers, || {
        let docs = sim.erpnext.docs.lock().unwrap_or_else(|e| e.into_inner());
        match docs
            .get(&doctype)
            .and_then(|l| l.iter().find(|d| d.get("name").and_then(Value::as_str) == Some(name.as_str())))
        {
            Some(d) => Json(json!({ "data": d })).into_response(),
            None => frappe_error(StatusCode::NOT_FOUND, "DoesNotExistError", &format!("{doctype} {name} not found")),
        }
    })
    .await
}

/// Fields a submitted document still lets change ("Allow on Submit"): the
/// standard few, and the two custom fields Ferry's shipping flow needs.
const ALLOW_ON_SUBMIT: &[&str] = &["title", "po_no", "letter_head", "tracking_number", "carrier", "modified"];

/// The site's documents by doctype.
type Docs = HashMap<String, Vec<Map<String, Value>>>;

fn exists(docs: &Docs, doctype: &str, name: &str) -> bool {
    docs.get(doctype).is_some_and(|l| l.iter().any(|d| d.get("name").and_then(Value::as_str) == Some(name)))
}

/// `base`, or `base-1`, `base-2`, … if taken (Frappe's naming by a field).
fn free_name(docs: &Docs, doctype: &str, base: &str) -> String {
    let mut name = base.to_owned();
    let mut n = 1;
    while exists(docs, doctype, &name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    name
}

fn mandatory(doc: &Map<String, Value>, doctype: &str, fields: &[&str]) -> Result<(), Response> {
    let missing: Vec<&str> =
        fields.iter().copied().filter(|f| doc.get(*f).is_none_or(|v| v.is_null() || v == "")).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(frappe_error(
            StatusCode::EXPECTATION_FAILED,
            "MandatoryError",
            &format!("[{doctype}]: {}", missing.join(", ")),
        ))
    }
}

fn link_error(label: &str, value: &str) -> Response {
    frappe_error(
        StatusCode::EXPECTATION_FAILED,
        "LinkValidationError",
        &format!("Could not find <strong>{label}</strong>: {value}"),
    )
}

/// Validates a Sales Order or Sales Invoice (a credit note when
/// `is_return`) and works out its totals, as ERPNext does on save.
fn validate_selling(doc: &mut Map<String, Value>, docs: &Docs, doctype: &str) -> Result<(), Response> {
    let required: &[&str] =
        if doctype == "Sales Order" { &["customer", "delivery_date", "items"] } else { &["customer", "items"] };
    mandatory(doc, doctype, required)?;
    let is_return = doc.get("is_return").and_then(Value::as_i64) == Some(1);
    let customer = doc.get("customer").and_then(Value::as_str).unwrap_or_default().to_owned();
    if !exists(docs, "Customer", &customer) {
        return Err(link_error("Customer", &customer));
    }
    if let Some(address) = doc.get("shipping_address_name").and_then(Value::as_str) {
        if !exists(docs, "Address", address) {
            return Err(link_error("Shipping Address Name", address));
        }
    }
    let Some(items) = doc.get_mut("items").and_then(Value::as_array_mut) else {
        return Err(frappe_error(StatusCode::EXPECTATION_FAILED, "ValidationError", "items must be a list"));
    };
    if items.is_empty() {
        return Err(frappe_error(StatusCode::EXPECTATION_FAILED, "MandatoryError", &format!("[{doctype}]: items")));
    }
    let mut total = Decimal::ZERO;
    for (i, item) in items.iter_mut().enumerate() {
        let code = item.get("item_code").and_then(Value::as_str).unwrap_or_default().to_owned();
        if !exists(docs, "Item", &code) {
            return Err(link_error("Item Code", &code));
        }
        let qty = number(item.get("qty"))
            .filter(|q| if is_return { q.is_sign_negative() && !q.is_zero() } else { *q > Decimal::ZERO })
            .ok_or_else(|| {
                let why = if is_return { "must be negative in a return document" } else { "must be greater than zero" };
                frappe_error(
                    StatusCode::EXPECTATION_FAILED,
                    "ValidationError",
                    &format!("Row #{}: Quantity {why}", i + 1),
                )
            })?;
        let rate = number(item.get("rate")).unwrap_or(Decimal::ZERO);
        total += qty * rate;
        item["amount"] = json!((qty * rate).to_string());
        item["idx"] = json!(i + 1);
    }
    let net_total = total;
    // Taxes and charges: only "Actual" amounts are emulated (what Ferry sends).
    if let Some(taxes) = doc.get_mut("taxes").and_then(Value::as_array_mut) {
        for (i, row) in taxes.iter_mut().enumerate() {
            if row.get("charge_type").and_then(Value::as_str) != Some("Actual") {
                return Err(frappe_error(
                    StatusCode::EXPECTATION_FAILED,
                    "ValidationError",
                    &format!("Taxes row #{}: the emulator supports only charge_type Actual", i + 1),
                ));
            }
            let head = row.get("account_head").and_then(Value::as_str).unwrap_or_default().to_owned();
            if !exists(docs, "Account", &head) {
                return Err(link_error("Account Head", &head));
            }
            let amount = number(row.get("tax_amount")).ok_or_else(|| {
                frappe_error(
                    StatusCode::EXPECTATION_FAILED,
                    "ValidationError",
                    &format!("Taxes row #{}: tax_amount is not a number", i + 1),
                )
            })?;
            total += amount;
            row["idx"] = json!(i + 1);
            row["total"] = json!(total.to_string());
        }
    }
    let discount = number(doc.get("discount_amount")).unwrap_or(Decimal::ZERO);
    if !is_return && (discount < Decimal::ZERO || discount > total) {
        return Err(frappe_error(
            StatusCode::EXPECTATION_FAILED,
            "ValidationError",
            "Discount Amount cannot be greater than the total",
        ));
    }
    doc.insert("net_total".into(), json!(net_total.to_string()));
    doc.insert("grand_total".into(), json!((total - discount).to_string()));
    Ok(())
}

fn number(v: Option<&Value>) -> Option<Decimal> {
    match v? {
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
        Value::String(s) => Decimal::from_str(s).ok(),
        _ => None,
    }
}

async fn create(
    State(sim): State<Arc<Sim>>,
    Path(doctype): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    serve(&sim, &headers, || create_doc(&sim, doctype, &body)).await
}

/// Validates and saves a new document, answering as Frappe does.
fn create_doc(sim: &Sim, doctype: String, body: &[u8]) -> Response {
    let erp = &sim.erpnext;
    let mut doc = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => m,
        _ => {
            return frappe_error(
                StatusCode::EXPECTATION_FAILED,
                "ValidationError",
                "the request body must be a JSON object",
            )
        }
    };
    let now = erp.now_local();
    let created = {
        let mut docs = erp.docs.lock().unwrap_or_else(|e| e.into_inner());
        let name = match doctype.as_str() {
            "Customer" => {
                if let Err(r) = mandatory(&doc, "Customer", &["customer_name"]) {
                    return r;
                }
                let base = doc.get("customer_name").and_then(Value::as_str).unwrap_or_default().to_owned();
                free_name(&docs, "Customer", &base)
            }
            "Contact" => {
                if let Err(r) = mandatory(&doc, "Contact", &["first_name"]) {
                    return r;
                }
                if let Err(r) = check_links(&docs, &doc, "Contact") {
                    return r;
                }
                let base = doc.get("first_name").and_then(Value::as_str).unwrap_or_default().to_owned();
                free_name(&docs, "Contact", &base)
            }
            "Address" => {
                if let Err(r) = mandatory(&doc, "Address", &["address_title", "address_line1", "city"]) {
                    return r;
                }
                if let Err(r) = check_links(&docs, &doc, "Address") {
                    return r;
                }
                let title = doc.get("address_title").and_then(Value::as_str).unwrap_or_default().to_owned();
                let kind = doc.get("address_type").and_then(Value::as_str).unwrap_or("Billing").to_owned();
                free_name(&docs, "Address", &format!("{title}-{kind}"))
            }
            "Sales Order" => {
                if let Err(r) = validate_selling(&mut doc, &docs, "Sales Order") {
                    return r;
                }
                // The external reference field is set up *Unique*, as the
                // README asks: a second order for it is refused, which is
                // what keeps two Ferrys racing on one store from doubling it.
                if let Some(r) = doc.get(REF_FIELD).and_then(Value::as_str).filter(|r| !r.is_empty()) {
                    let taken = !erp.with_ref(r).is_empty();
                    if taken {
                        return frappe_error(
                            StatusCode::EXPECTATION_FAILED,
                            "UniqueValidationError",
                            &format!("Shopify Order ID {r} must be unique: another Sales Order has it"),
                        );
                    }
                }
                let mut series = erp.series.lock().unwrap_or_else(|e| e.into_inner());
                *series += 1;
                format!("SAL-ORD-{}-{:05}", Utc::now().with_timezone(&erp.tz).format("%Y"), *series)
            }
            "Sales Invoice" => {
                if let Err(r) = validate_selling(&mut doc, &docs, "Sales Invoice") {
                    return r;
                }
                let n = docs.get("Sales Invoice").map_or(0, Vec::len) + 1;
                let kind = if doc.get("is_return").and_then(Value::as_i64) == Some(1) { "SINV-RET" } else { "SINV" };
                format!("ACC-{kind}-{}-{n:05}", Utc::now().with_timezone(&erp.tz).format("%Y"))
            }
            other => {
                return frappe_error(
                    StatusCode::FORBIDDEN,
                    "PermissionError",
                    &format!("The emulator does not allow creating {other}"),
                )
            }
        };
        doc.insert("name".into(), json!(name));
        doc.insert("creation".into(), json!(now));
        doc.insert("modified".into(), json!(now));
        doc.entry("docstatus").or_insert(json!(0));
        if doctype == "Customer" {
            primary_contact_for_new_customer(&mut docs, &mut doc, &now);
        }
        let list = docs.entry(doctype.clone()).or_default();
        if doctype == "Sales Order" {
            if let Some(r) = doc.get(REF_FIELD).and_then(Value::as_str) {
                erp.refs.lock().unwrap_or_else(|e| e.into_inner()).entry(r.to_owned()).or_default().push(list.len());
            }
        }
        list.push(doc.clone());
        doc
    };
    if erp.faults.take_lost_response() {
        return (StatusCode::BAD_GATEWAY, "<html><body><h1>502 Bad Gateway</h1></body></html>").into_response();
    }
    // A slow answer (see `serve`) comes after the document was saved.
    Json(json!({ "data": created })).into_response()
}

/// Every `links` row must name an existing document.
fn check_links(docs: &Docs, doc: &Map<String, Value>, doctype: &str) -> Result<(), Response> {
    for link in doc.get("links").and_then(Value::as_array).into_iter().flatten() {
        let (Some(dt), Some(n)) =
            (link.get("link_doctype").and_then(Value::as_str), link.get("link_name").and_then(Value::as_str))
        else {
            return Err(frappe_error(
                StatusCode::EXPECTATION_FAILED,
                "ValidationError",
                &format!("{doctype} links need link_doctype and link_name"),
            ));
        };
        if !exists(docs, dt, n) {
            return Err(link_error(dt, n));
        }
    }
    Ok(())
}

/// As ERPNext's Customer does after insert: an email or mobile number given
/// with a new customer becomes its primary Contact.
fn primary_contact_for_new_customer(docs: &mut Docs, customer: &mut Map<String, Value>, now: &str) {
    let text = |k: &str| customer.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let (email, mobile) = (text("email_id"), text("mobile_no"));
    if email.is_none() && mobile.is_none() {
        return;
    }
    let first = text("customer_name").unwrap_or_default();
    let name = free_name(docs, "Contact", &first);
    let contact = obj(json!({
        "name": name, "first_name": first, "email_id": email, "mobile_no": mobile,
        "email_ids": email.iter().map(|e| json!({ "email_id": e, "is_primary": 1 })).collect::<Vec<_>>(),
        "phone_nos": mobile.iter().map(|p| json!({ "phone": p, "is_primary_mobile_no": 1 })).collect::<Vec<_>>(),
        "links": [{ "link_doctype": "Customer", "link_name": customer.get("name").cloned().unwrap_or_default() }],
        "creation": now, "modified": now, "docstatus": 0,
    }));
    docs.entry("Contact".into()).or_default().push(contact);
    customer.insert("customer_primary_contact".into(), json!(name));
}

/// A Customer's `email_id` and `mobile_no` are fetched from its primary
/// Contact whenever the Customer is saved.
fn refresh_fetched(docs: &Docs, customer: &mut Map<String, Value>) {
    let Some(contact) = customer
        .get("customer_primary_contact")
        .and_then(Value::as_str)
        .and_then(|c| docs.get("Contact")?.iter().find(|d| d.get("name").and_then(Value::as_str) == Some(c)))
    else {
        return;
    };
    let primary = |table: &str, flag: &str, field: &str| {
        contact
            .get(table)
            .and_then(Value::as_array)
            .and_then(|rows| rows.iter().find(|r| r.get(flag).and_then(Value::as_i64) == Some(1)))
            .and_then(|r| r.get(field).cloned())
            .unwrap_or(Value::Null)
    };
    customer.insert("email_id".into(), primary("email_ids", "is_primary", "email_id"));
    customer.insert("mobile_no".into(), primary("phone_nos", "is_primary_mobile_no", "phone"));
}

/// `PUT /api/resource/<DocType>/<name>`: the given fields replace the stored ones.
async fn update(
    State(sim): State<Arc<Sim>>,
    Path((doctype, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    serve(&sim, &headers, || update_doc(&sim, &doctype, &name, &body)).await
}

fn update_doc(sim: &Sim, doctype: &str, name: &str, body: &[u8]) -> Response {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return frappe_error(
            StatusCode::EXPECTATION_FAILED,
            "ValidationError",
            "the request body must be a JSON object",
        );
    };
    let modified = sim.erpnext.now_local();
    let mut docs = sim.erpnext.docs.lock().unwrap_or_else(|e| e.into_inner());
    match docs.get_mut(doctype).and_then(|l| l.iter_mut().find(|d| d.get("name").and_then(Value::as_str) == Some(name)))
    {
        None => frappe_error(StatusCode::NOT_FOUND, "DoesNotExistError", &format!("{doctype} {name} not found")),
        Some(doc) if doc.get("docstatus").and_then(Value::as_i64) == Some(2) => frappe_error(
            StatusCode::EXPECTATION_FAILED,
            "ValidationError",
            &format!("Cannot edit cancelled {doctype} {name}"),
        ),
        Some(doc)
            if doc.get("docstatus").and_then(Value::as_i64) == Some(1)
                && fields.keys().any(|k| !ALLOW_ON_SUBMIT.contains(&k.as_str())) =>
        {
            let field = fields.keys().find(|k| !ALLOW_ON_SUBMIT.contains(&k.as_str())).cloned().unwrap_or_default();
            frappe_error(
                StatusCode::EXPECTATION_FAILED,
                "UpdateAfterSubmitError",
                &format!("Not allowed to change {field} after submission"),
            )
        }
        Some(doc) => {
            for (k, v) in fields.into_iter().filter(|(k, _)| k != "name") {
                doc.insert(k, v);
            }
            doc.insert("modified".into(), json!(modified));
            let mut saved = doc.clone();
            if doctype == "Sales Order" && saved.contains_key(REF_FIELD) {
                sim.erpnext.reindex_refs(&docs);
            }
            if doctype == "Customer" {
                refresh_fetched(&docs, &mut saved);
                if let Some(doc) = docs
                    .get_mut(doctype)
                    .and_then(|l| l.iter_mut().find(|d| d.get("name").and_then(Value::as_str) == Some(name)))
                {
                    *doc = saved.clone();
                }
            }
            Json(json!({ "data": saved })).into_response()
        }
    }
}

/// `frappe.client.cancel(doctype, name)`: submitted (1) → cancelled (2).
async fn cancel(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    serve(&sim, &headers, || cancel_doc(&sim, &body)).await
}

fn cancel_doc(sim: &Sim, body: &[u8]) -> Response {
    let Ok(args) = serde_json::from_slice::<Value>(body) else {
        return frappe_error(StatusCode::EXPECTATION_FAILED, "ValidationError", "the request body must be JSON");
    };
    let (Some(doctype), Some(name)) =
        (args.get("doctype").and_then(Value::as_str), args.get("name").and_then(Value::as_str))
    else {
        return frappe_error(StatusCode::EXPECTATION_FAILED, "ValidationError", "doctype and name are required");
    };
    let modified = sim.erpnext.now_local();
    let mut docs = sim.erpnext.docs.lock().unwrap_or_else(|e| e.into_inner());
    let Some(doc) =
        docs.get_mut(doctype).and_then(|l| l.iter_mut().find(|d| d.get("name").and_then(Value::as_str) == Some(name)))
    else {
        return frappe_error(StatusCode::NOT_FOUND, "DoesNotExistError", &format!("{doctype} {name} not found"));
    };
    match doc.get("docstatus").and_then(Value::as_i64) {
        Some(1) => {
            doc.insert("docstatus".into(), json!(2));
            doc.insert("status".into(), json!("Cancelled"));
            doc.insert("modified".into(), json!(modified));
            Json(json!({ "message": doc.clone() })).into_response()
        }
        Some(2) => frappe_error(
            StatusCode::EXPECTATION_FAILED,
            "ValidationError",
            &format!("{doctype} {name} is already cancelled"),
        ),
        _ => frappe_error(
            StatusCode::EXPECTATION_FAILED,
            "ValidationError",
            "Cannot cancel before submitting. See Transition docstatus 0 to 2",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_like_frappe() {
        let doc = obj(json!({ "name": "SO-1", "shopify_order_id": "gid://shopify/Order/1", "docstatus": 1 }));
        assert_eq!(matches(&doc, &[json!(["shopify_order_id", "=", "gid://shopify/Order/1"])]), Ok(true));
        assert_eq!(matches(&doc, &[json!(["docstatus", "!=", 2])]), Ok(true));
        assert_eq!(matches(&doc, &[json!(["Sales Order", "docstatus", "=", "1"])]), Ok(true));
        assert!(
            matches(&doc, &[json!(["name", "like", "%"])]).is_err(),
            "unsupported operators are refused, not ignored"
        );
    }
}

#[cfg(test)]
mod page_trouble_tests {
    use super::*;

    /// The Bin names on the page of 5 at `start`, oldest change first.
    async fn page(sim: &Sim, start: usize) -> Vec<String> {
        let q: HashMap<String, String> = [
            ("order_by", "modified asc".to_owned()),
            ("limit_start", start.to_string()),
            ("limit_page_length", "5".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let body = axum::body::to_bytes(list_docs(sim, "Bin", &q).into_body(), usize::MAX).await.expect("body");
        let v: Value = serde_json::from_slice(&body).expect("json");
        v["data"].as_array().expect("rows").iter().map(|r| r["name"].as_str().expect("name").to_owned()).collect()
    }

    /// A naive offset pager: `limit_start` moves on by what it has read.
    /// `before_page_2` runs between the first and the second page.
    async fn read_by_offset(sim: &Sim, before_page_2: impl FnOnce()) -> Vec<String> {
        let mut read = page(sim, 0).await;
        before_page_2();
        loop {
            let rows = page(sim, read.len()).await;
            let last = rows.len() < 5;
            read.extend(rows);
            if last {
                return read;
            }
        }
    }

    fn distinct(names: &[String]) -> usize {
        names.iter().collect::<std::collections::HashSet<_>>().len()
    }

    #[tokio::test]
    async fn a_shifted_page_makes_an_offset_pager_skip_one() {
        let sim = Sim::new(&SimOptions::default());
        let calm = read_by_offset(&sim, || {}).await;
        assert_eq!((calm.len(), distinct(&calm)), (20, 20), "without faults every Bin is read once: {calm:?}");

        let sim = Sim::new(&SimOptions::default());
        let shifted = read_by_offset(&sim, || sim.erpnext.faults.shift_next_page(1)).await;
        assert_eq!(sim.erpnext.faults.page_troubles_left(), 0, "the shift happened before page 2");
        assert_eq!(
            (shifted.len(), distinct(&shifted)),
            (20, 19),
            "page 1's last Bin changed and moved to the end: read twice, and the Bin that moved up onto page 1 is never read: {shifted:?}"
        );
        assert!(!shifted.contains(&"BIN-00006".to_owned()), "the first Bin of page 2 slid onto page 1: {shifted:?}");
    }

    #[tokio::test]
    async fn a_duplicated_page_repeats_items_and_skips_none() {
        let sim = Sim::new(&SimOptions::default());
        let read = read_by_offset(&sim, || sim.erpnext.faults.duplicate_next_page(1)).await;
        assert_eq!(sim.erpnext.faults.page_troubles_left(), 0, "page 2 was duplicated");
        assert_eq!(&read[5..7], &read[3..5], "page 2 begins with page 1's last two Bins again: {read:?}");
        assert_eq!(distinct(&read), 20, "records landing ahead of the offset repeat items, never skip one: {read:?}");
    }
}
