//! Shopify GraphQL Admin API emulator.
//!
//! Follows shopify.dev/docs/api/admin-graphql/latest/queries/orders and
//! shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits:
//! `POST /admin/api/<version>/graphql.json` with `X-Shopify-Access-Token`;
//! `orders(first, after, query, sortKey: UPDATED_AT)` as a Relay connection
//! (`edges { cursor node }`, `pageInfo { hasNextPage endCursor }`), `first`
//! at most 250; the `updated_at:>=` search filter; calculated query cost in
//! `extensions.cost` with a leaky bucket (2000 points, 100 restored per
//! second, the Standard plan) and `THROTTLED` errors when it is empty; a 401
//! with `{"errors": "[API] Invalid API key ..."}` for a bad token. Only the
//! `orders` and `productVariants` queries and the `productUpdate`
//! (ProductUpdateInput, 2024-10+), `productVariantsBulkUpdate` and
//! `inventorySetQuantities` mutations are implemented; variables carry the
//! arguments. The REST Admin API's `shop.json`, `oauth/access_scopes.json`,
//! `orders.json` and `events.json` (with Link pagination and their own
//! 40-request bucket) are in `rest`.

// Handlers return ready-made GraphQL error responses as their `Err`.
#![allow(clippy::result_large_err)]

mod bulk;
pub use bulk::BULK_OBJECTS_PER_SEC;
mod customers;
mod fulfillment;
mod rest;

use crate::seed::{self, SeedOrder, SeedProduct};
use crate::{Sim, SimOptions};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub const BUCKET_MAX: f64 = 2000.0;
pub const RESTORE_RATE: f64 = 100.0;
const FIRST_ID: u64 = 5_000_000_000;

/// One order as the store holds it.
#[derive(Debug, Clone)]
struct StoredOrder {
    id: u64,
    updated_at: DateTime<Utc>,
    node: Value,
}

struct Bucket {
    available: f64,
    at: Instant,
}

/// The store's one location (the demo maps the ERP's warehouse to it).
pub const LOCATION_ID: &str = "gid://shopify/Location/1";

struct StoreVariant {
    sku: String,
    /// The product's title (each seeded product has one variant).
    title: String,
    item_id: u64,
    price: Decimal,
    /// The product's status: ACTIVE, DRAFT or ARCHIVED.
    status: &'static str,
}

impl StoreVariant {
    fn variant_gid(&self) -> String {
        format!("gid://shopify/ProductVariant/{}", self.item_id - 1000)
    }

    /// One product per variant in the seeded shop.
    fn product_gid(&self) -> String {
        format!("gid://shopify/Product/{}", self.item_id - 2000)
    }
}

#[derive(Default)]
struct Inventory {
    variants: Vec<StoreVariant>,
    /// Available quantity per inventory item at LOCATION_ID.
    available: std::collections::HashMap<u64, i64>,
}

/// The store's state.
pub struct ShopifySim {
    inventory: Mutex<Inventory>,
    token: String,
    orders: Mutex<Vec<StoredOrder>>,
    customers: Mutex<Vec<customers::StoreCustomer>>,
    catalog: Vec<SeedProduct>,
    bucket: Mutex<Bucket>,
    seed: u64,
    pub faults: crate::Faults,
    /// Requests answered THROTTLED or 429 (a well-paced client sees none).
    pub throttled: std::sync::atomic::AtomicU64,
    bulk: Mutex<bulk::BulkState>,
    /// Query-cost points charged so far (thousandths), for benchmarks' rate-limit floor.
    pub spent_millipoints: std::sync::atomic::AtomicU64,
    /// Served over HTTPS: the bulk result links say so.
    pub(crate) https: std::sync::atomic::AtomicBool,
    rest: rest::RestState,
}

fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn money(amount: Decimal) -> Value {
    json!({ "shopMoney": { "amount": amount.to_string(), "currencyCode": "EUR" } })
}

/// A write was made, then the answer was lost on the way back.
fn lost_response() -> Response {
    (StatusCode::BAD_GATEWAY, "<html><body>502 Bad Gateway</body></html>").into_response()
}

/// A stable number for a text (FNV-1a): one customer id per email.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn render(o: &SeedOrder, id: u64) -> StoredOrder {
    let totals = o.totals();
    let lines: Vec<Value> = o
        .lines
        .iter()
        .map(|(p, qty)| {
            json!({ "node": {
                "sku": p.sku, "title": p.title, "quantity": qty,
                "originalUnitPriceSet": { "shopMoney": { "amount": p.price.to_string(), "currencyCode": "EUR" } }
            }})
        })
        .collect();
    let node = json!({
        "id": format!("gid://shopify/Order/{id}"),
        "name": format!("#{}", o.number),
        "createdAt": ts(o.created_at),
        "updatedAt": ts(o.created_at),
        "cancelledAt": null,
        "closed": false,
        "email": o.email,
        "phone": null,
        "taxesIncluded": o.taxes_included,
        "totalPriceSet": money(totals.total),
        "totalDiscountsSet": money(totals.discount),
        "shippingLines": { "edges": if totals.shipping.is_zero() { vec![] } else {
            vec![json!({ "node": { "title": "Standard", "originalPriceSet": money(totals.shipping) } })]
        } },
        "taxLines": [{ "title": format!("VAT {}%", o.vat_percent), "rate": f64::from(o.vat_percent) / 100.0, "priceSet": money(totals.tax) }],
        "customer": {
            "id": format!("gid://shopify/Customer/{}", 7_000_000_000u64 + fnv(&o.email) % 1_000_000_000),
            "email": o.email, "firstName": o.first_name, "lastName": o.last_name, "phone": null
        },
        "shippingAddress": {
            "name": format!("{} {}", o.first_name, o.last_name), "address1": "1 Market Street", "address2": null,
            "city": o.city.0, "zip": o.city.1, "countryCodeV2": o.city.2, "phone": null
        },
        "lineItems": { "edges": lines },
        "displayFulfillmentStatus": "UNFULFILLED",
        "displayFinancialStatus": "PAID",
        "fulfillments": [],
        "refunds": []
    });
    StoredOrder { id, updated_at: o.created_at, node }
}

impl ShopifySim {
    pub(crate) fn seeded(opts: &SimOptions, catalog: &[SeedProduct]) -> Self {
        let seeded = seed::orders(opts.seed, opts.orders, 1001, opts.now, catalog);
        let orders: Vec<StoredOrder> = seeded.iter().enumerate().map(|(i, o)| render(o, FIRST_ID + i as u64)).collect();
        let variants = catalog
            .iter()
            .enumerate()
            .map(|(i, p)| StoreVariant {
                sku: p.sku.clone(),
                title: p.title.clone(),
                item_id: 44_000_000 + i as u64,
                price: p.price,
                status: "ACTIVE",
            })
            .collect();
        let shop = Self {
            inventory: Mutex::new(Inventory { variants, available: Default::default() }),
            token: crate::DEMO_SHOPIFY_TOKEN.to_owned(),
            customers: Mutex::new(Vec::new()),
            orders: Mutex::new(Vec::new()),
            catalog: catalog.to_vec(),
            bucket: Mutex::new(Bucket { available: BUCKET_MAX, at: Instant::now() }),
            seed: opts.seed,
            faults: crate::Faults::default(),
            throttled: Default::default(),
            bulk: Default::default(),
            spent_millipoints: Default::default(),
            https: Default::default(),
            rest: Default::default(),
        };
        for o in &orders {
            shop.remember_customer(&o.node, o.updated_at);
        }
        *shop.orders.lock().unwrap_or_else(|e| e.into_inner()) = orders;
        shop
    }

    /// Places `n` new orders at `at` (new customers shopping).
    pub fn place_orders(&self, n: usize, at: DateTime<Utc>) {
        let mut orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        let next = orders.len() as u64;
        let fresh = seed::orders(self.seed.wrapping_add(next), n, 1001 + next, at, &self.catalog);
        for (i, o) in fresh.iter().enumerate() {
            let mut stored = render(o, FIRST_ID + next + i as u64);
            stored.updated_at = at;
            stored.node["createdAt"] = json!(ts(at));
            stored.node["updatedAt"] = json!(ts(at));
            self.remember_customer(&stored.node, at);
            orders.push(stored);
        }
    }

    /// Places one order with the given (sku, title, quantity, price) lines,
    /// e.g. a SKU the ERP does not know. Returns its GraphQL id.
    pub fn place_custom_order(&self, lines: &[(&str, &str, i64, &str)], at: DateTime<Utc>) -> String {
        let mut orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        let next = orders.len() as u64;
        let mut o = seed::orders(self.seed.wrapping_add(next), 1, 1001 + next, at, &self.catalog).remove(0);
        o.lines = lines
            .iter()
            .map(|(sku, title, qty, price)| {
                let price = Decimal::from_str_exact(price).unwrap_or(Decimal::ZERO);
                (SeedProduct { sku: (*sku).to_owned(), title: (*title).to_owned(), price }, *qty)
            })
            .collect();
        let stored = render(&o, FIRST_ID + next);
        let id = stored.node["id"].as_str().unwrap_or_default().to_owned();
        self.remember_customer(&stored.node, at);
        orders.push(stored);
        id
    }

    /// Cancels an order in the store at `at` (a customer changed their mind).
    pub fn cancel_order(&self, gid: &str, at: DateTime<Utc>) -> bool {
        let mut orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        let Some(o) = orders.iter_mut().find(|o| o.node["id"] == gid) else { return false };
        o.updated_at = at;
        o.node["cancelledAt"] = json!(ts(at));
        o.node["updatedAt"] = json!(ts(at));
        true
    }

    /// A person refunds an order in the Shopify admin: `lines` (SKU,
    /// quantity) are returned at their unit price, plus `extra` (shipping or
    /// goodwill). Returns the refund's id, or `None` for an unknown order.
    pub fn refund_order(
        &self,
        id: &str,
        lines: &[(&str, i64)],
        extra: &str,
        note: &str,
        at: DateTime<Utc>,
    ) -> Option<String> {
        let mut orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        let o = orders.iter_mut().find(|o| o.node["id"] == id)?;
        let mut refund_lines = Vec::new();
        let mut total = Decimal::from_str_exact(extra).ok()?;
        for (sku, qty) in lines {
            let line = o.node["lineItems"]["edges"].as_array()?.iter().find(|l| l["node"]["sku"] == *sku)?;
            let unit: Decimal = line["node"]["originalUnitPriceSet"]["shopMoney"]["amount"].as_str()?.parse().ok()?;
            let amount = unit * Decimal::from(*qty);
            total += amount;
            refund_lines.push(json!({ "quantity": qty, "lineItem": { "sku": sku }, "subtotalSet": money(amount) }));
        }
        let n = o.node["refunds"].as_array().map_or(0, Vec::len) as u64;
        let refund_id = format!("gid://shopify/Refund/{}", o.id * 10 + n + 1);
        let refund = json!({ "id": refund_id, "createdAt": ts(at), "note": note, "totalRefundedSet": money(total),
            "refundLineItems": { "nodes": refund_lines } });
        match o.node["refunds"].as_array_mut() {
            Some(list) => list.push(refund),
            None => o.node["refunds"] = json!([refund]),
        }
        let order_total: Decimal = o.node["totalPriceSet"]["shopMoney"]["amount"].as_str()?.parse().ok()?;
        let refunded: Decimal = o.node["refunds"]
            .as_array()?
            .iter()
            .filter_map(|r| r["totalRefundedSet"]["shopMoney"]["amount"].as_str()?.parse::<Decimal>().ok())
            .sum();
        let status = if refunded >= order_total { "REFUNDED" } else { "PARTIALLY_REFUNDED" };
        o.node["displayFinancialStatus"] = json!(status);
        o.node["updatedAt"] = json!(ts(at));
        o.updated_at = at;
        Some(refund_id)
    }

    /// (refund id, amount) of every refund of every order.
    pub fn refunds(&self) -> Vec<(String, String)> {
        let orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        orders
            .iter()
            .flat_map(|o| o.node["refunds"].as_array().cloned().unwrap_or_default())
            .filter_map(|r| {
                Some((r["id"].as_str()?.to_owned(), r["totalRefundedSet"]["shopMoney"]["amount"].as_str()?.to_owned()))
            })
            .collect()
    }

    /// One order as the Admin API shows it.
    pub fn order_node(&self, id: &str) -> Option<Value> {
        let orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        orders.iter().find(|o| o.node["id"] == id).map(|o| o.node.clone())
    }

    /// GraphQL ids of cancelled orders.
    pub fn cancelled_ids(&self) -> Vec<String> {
        let orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        orders
            .iter()
            .filter(|o| !o.node["cancelledAt"].is_null())
            .filter_map(|o| o.node["id"].as_str().map(str::to_owned))
            .collect()
    }

    /// The available quantity of `sku` at the store's location (`None`: never set).
    pub fn available(&self, sku: &str) -> Option<i64> {
        let inventory = self.inventory.lock().unwrap_or_else(|e| e.into_inner());
        let item = inventory.variants.iter().find(|v| v.sku == sku)?.item_id;
        inventory.available.get(&item).copied()
    }

    /// Every SKU's available quantity at the store's location (those set).
    pub fn available_by_sku(&self) -> std::collections::HashMap<String, i64> {
        let inventory = self.inventory.lock().unwrap_or_else(|e| e.into_inner());
        inventory.variants.iter().filter_map(|v| Some((v.sku.clone(), *inventory.available.get(&v.item_id)?))).collect()
    }

    /// The variant price of `sku`.
    pub fn price(&self, sku: &str) -> Option<Decimal> {
        let inventory = self.inventory.lock().unwrap_or_else(|e| e.into_inner());
        inventory.variants.iter().find(|v| v.sku == sku).map(|v| v.price)
    }

    /// A person changes a price in the Shopify admin.
    pub fn set_price(&self, sku: &str, price: &str) -> bool {
        let mut inventory = self.inventory.lock().unwrap_or_else(|e| e.into_inner());
        let (Some(v), Ok(p)) = (inventory.variants.iter_mut().find(|v| v.sku == sku), price.parse()) else {
            return false;
        };
        v.price = p;
        true
    }

    /// The product title and status (`ACTIVE`, `DRAFT`, `ARCHIVED`) of `sku`.
    pub fn product(&self, sku: &str) -> Option<(String, String)> {
        let inventory = self.inventory.lock().unwrap_or_else(|e| e.into_inner());
        inventory.variants.iter().find(|v| v.sku == sku).map(|v| (v.title.clone(), v.status.to_owned()))
    }

    /// A person renames a product, or changes its status, in the Shopify admin.
    pub fn edit_product(&self, sku: &str, title: Option<&str>, status: Option<&'static str>) -> bool {
        let mut inventory = self.inventory.lock().unwrap_or_else(|e| e.into_inner());
        let Some(v) = inventory.variants.iter_mut().find(|v| v.sku == sku) else { return false };
        if let Some(t) = title {
            v.title = t.to_owned();
        }
        if let Some(s) = status {
            v.status = s;
        }
        true
    }

    /// (GraphQL id, total) of every order.
    pub fn order_totals(&self) -> std::collections::HashMap<String, String> {
        let orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        orders
            .iter()
            .map(|o| {
                let total = o.node["totalPriceSet"]["shopMoney"]["amount"].as_str().unwrap_or_default().to_owned();
                (format!("gid://shopify/Order/{}", o.id), total)
            })
            .collect()
    }

    /// Places one order (one Blue Mug) by a given person, shipped to 1 Market
    /// Street, `postcode` Berlin. Returns its id.
    pub fn place_order_by(
        &self,
        first: &str,
        last: &str,
        email: Option<&str>,
        postcode: &str,
        at: DateTime<Utc>,
    ) -> String {
        let id = self.place_custom_order(&[("MUG-01", "Blue Mug", 1, "12.00")], at);
        let mut orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(o) = orders.iter_mut().find(|o| o.node["id"] == id.as_str()) {
            o.node["email"] = json!(email);
            // One customer per email, as in Shopify; a guest is a customer of one order.
            let customer = email.map_or(o.id, |e| 7_000_000_000u64 + fnv(e) % 1_000_000_000);
            o.node["customer"] = json!({ "id": format!("gid://shopify/Customer/{customer}"), "email": email, "firstName": first, "lastName": last, "phone": null });
            o.node["shippingAddress"]["name"] = json!(format!("{first} {last}"));
            o.node["shippingAddress"]["zip"] = json!(postcode);
            o.node["shippingAddress"]["city"] = json!("Berlin");
            o.node["shippingAddress"]["countryCodeV2"] = json!("DE");
            self.remember_customer(&o.node, at);
        }
        id
    }

    /// Every order's GraphQL id.
    pub fn order_ids(&self) -> Vec<String> {
        let orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        orders.iter().map(|o| format!("gid://shopify/Order/{}", o.id)).collect()
    }

    /// Takes `cost` from the bucket, or says how much is there.
    fn spend(&self, requested: f64, actual: f64) -> Result<f64, f64> {
        let mut b = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        b.available = (b.available + now.duration_since(b.at).as_secs_f64() * RESTORE_RATE).min(BUCKET_MAX);
        b.at = now;
        if b.available < requested {
            return Err(b.available);
        }
        b.available -= actual;
        self.spent_millipoints.fetch_add((actual * 1000.0) as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(b.available)
    }
}

pub(crate) fn router(sim: Arc<Sim>) -> Router<Arc<Sim>> {
    Router::new()
        .route("/admin/api/{version}/graphql.json", post(graphql))
        .route("/_bulk/{file}", axum::routing::get(bulk::download))
        .merge(rest::router())
        .layer(axum::middleware::from_fn_with_state(sim, rewrite_layer))
}

/// Answers rewritten by `Faults::rewrite_responses`.
async fn rewrite_layer(
    State(sim): State<Arc<Sim>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    crate::faults::rewrite_layer(&sim.shopify.faults, request, next).await
}

fn cost(requested: f64, actual: Option<f64>, available: f64) -> Value {
    json!({ "cost": {
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": { "maximumAvailable": BUCKET_MAX, "currentlyAvailable": available.floor(), "restoreRate": RESTORE_RATE }
    }})
}

fn user_error(message: &str) -> Response {
    (StatusCode::OK, Json(json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_REQUEST" } }] })))
        .into_response()
}

/// `updated_at:>='2026-11-26T12:00:00Z'` (quotes optional; `>` also accepted).
fn parse_updated_since(query: &str) -> Result<Option<(DateTime<Utc>, bool)>, String> {
    let Some(rest) = query.trim().strip_prefix("updated_at:") else {
        return if query.trim().is_empty() { Ok(None) } else { Err(format!("unsupported search query {query:?}")) };
    };
    let (inclusive, value) = if let Some(v) = rest.strip_prefix(">=") {
        (true, v)
    } else if let Some(v) = rest.strip_prefix('>') {
        (false, v)
    } else {
        return Err(format!("unsupported comparison in {query:?}"));
    };
    let value = value.trim_matches(|c| c == '\'' || c == '"');
    DateTime::parse_from_rfc3339(value)
        .map(|d| Some((d.with_timezone(&Utc), inclusive)))
        .map_err(|e| format!("invalid date {value:?}: {e}"))
}

fn encode_cursor(o: &StoredOrder) -> String {
    format!("{}:{}", o.updated_at.timestamp_micros(), o.id).bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_cursor(s: &str) -> Option<(i64, u64)> {
    let bytes: Option<Vec<u8>> =
        (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect();
    let text = String::from_utf8(bytes?).ok()?;
    let (a, b) = text.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

async fn graphql(
    State(sim): State<Arc<Sim>>,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let shop = &sim.shopify;
    let _in_flight = shop.faults.enter();
    shop.faults.delay().await;
    let token_ok = headers.get("X-Shopify-Access-Token").and_then(|v| v.to_str().ok()) == Some(shop.token.as_str());
    if !token_ok || shop.faults.auth_revoked() {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)" })),
        )
            .into_response();
    }
    if shop.faults.take_failure() {
        return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
    }
    let trouble = shop.faults.trouble();
    if trouble == crate::faults::Trouble::ServerError {
        return (StatusCode::BAD_GATEWAY, "<html><body>502 Bad Gateway</body></html>").into_response();
    }
    if let crate::faults::Trouble::Slow(d) = trouble {
        tokio::time::sleep(d).await;
    }
    if shop.faults.take_rate_limit() || trouble == crate::faults::Trouble::RateLimited {
        shop.throttled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return (StatusCode::TOO_MANY_REQUESTS, [("Retry-After", "1")], Json(json!({ "errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service." }))).into_response();
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, Json(json!({ "errors": "Bad Request: body is not JSON" }))).into_response();
    };
    let query = req.get("query").and_then(Value::as_str).unwrap_or_default();
    let mut vars = req.get("variables").filter(|v| !v.is_null()).cloned().unwrap_or(json!({}));
    // Arguments written into the query (`orders(first: 5)`) count as
    // variables do: public clients send both forms.
    if let (Some(first), Some(map)) = (literal_first(query), vars.as_object_mut()) {
        map.entry("first").or_insert(json!(first));
    }
    let now = Utc::now();
    let result = if query.contains("bulkOperationRunQuery") {
        bulk::run_query(shop, &vars, query)
    } else if query.contains("bulkOperationCancel") {
        bulk::cancel(shop, &vars)
    } else if query.contains("currentBulkOperation") || query.contains("BulkOperation {") {
        // Where this emulator serves files: this request's origin and mount point.
        let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
        let mount = uri.path().split("/admin/api/").next().unwrap_or_default();
        let scheme = if shop.https.load(std::sync::atomic::Ordering::Relaxed) { "https" } else { "http" };
        bulk::read(shop, &vars, query, &format!("{scheme}://{host}{mount}"))
    } else if query.contains("fulfillmentCreate(") {
        fulfillment::create(shop, &vars, now)
    } else if query.contains("order(id") {
        fulfillment::order(shop, &vars)
    } else if query.contains("customerAddressUpdate(") {
        customers::write_address(shop, &vars, false, now)
    } else if query.contains("customerAddressCreate(") {
        customers::write_address(shop, &vars, true, now)
    } else if query.contains("customerUpdate(") {
        customers::update_customer(shop, &vars, now)
    } else if query.contains("customers(") {
        customers::customers(shop, &vars)
    } else if query.contains("customer(") {
        customers::customer(shop, &vars)
    } else if query.contains("productUpdate(") {
        update_product(shop, &vars)
    } else if query.contains("productVariantsBulkUpdate") {
        update_variants(shop, &vars)
    } else if query.contains("inventorySetQuantities") {
        set_quantities(shop, &vars)
    } else if query.contains("productVariants(") {
        variants(shop, &vars)
    } else if query.contains("orders(") {
        orders(shop, &vars)
    } else {
        return user_error(
            "The Ferry emulator implements the orders and productVariants queries and inventorySetQuantities",
        );
    };
    let body = match result {
        Ok(body) => body.to_string(),
        Err(response) => return response,
    };
    if shop.faults.take_malformed() {
        // A proxy cut the body short.
        let cut = body.len() / 2;
        return (StatusCode::OK, [("Content-Type", "application/json")], body[..cut].to_owned()).into_response();
    }
    (StatusCode::OK, [("Content-Type", "application/json")], body).into_response()
}

/// The number in a literal `first: N` argument of the query, if any.
fn literal_first(query: &str) -> Option<u64> {
    let at = query.find("first:")? + "first:".len();
    let digits: String = query[at..].trim_start().chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// `first` between 1 and 250, as Shopify requires.
fn first_arg(vars: &Value) -> Result<usize, Response> {
    match vars.get("first").and_then(Value::as_u64) {
        Some(n @ 1..=250) => Ok(n as usize),
        Some(_) => Err(user_error("The `first` argument must be between 1 and 250")),
        None => Err(user_error("Variable $first of required type Int! was not provided.")),
    }
}

/// Charges the bucket, or answers THROTTLED; returns `extensions`.
fn charge(shop: &ShopifySim, requested: f64, actual: f64) -> Result<Value, Response> {
    match shop.spend(requested, actual) {
        Ok(available) => Ok(cost(requested, Some(actual), available)),
        Err(available) => {
            shop.throttled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Err(Json(json!({
                "errors": [{ "message": "Throttled", "extensions": { "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits" } }],
                "extensions": cost(requested, None, available)
            }))
            .into_response())
        }
    }
}

fn orders(shop: &ShopifySim, vars: &Value) -> Result<Value, Response> {
    let first = first_arg(vars)?;
    let search = vars.get("query").and_then(Value::as_str).unwrap_or_default().trim();
    // `id:5000000123`: one order by its numeric id.
    let by_id = match search.strip_prefix("id:") {
        Some(n) => Some(n.trim().parse::<u64>().map_err(|_| user_error(&format!("invalid id in {search:?}")))?),
        None => None,
    };
    let since = if by_id.is_some() { None } else { parse_updated_since(search).map_err(|e| user_error(&e))? };
    let after = match vars.get("after").and_then(Value::as_str) {
        Some(c) => Some(decode_cursor(c).ok_or_else(|| user_error("Invalid cursor for current pagination sort."))?),
        None => None,
    };
    // Cost: the connection plus its nested line items, as Shopify estimates it.
    let requested = 2.0 + first as f64 * 1.5;
    let in_window = |o: &StoredOrder| {
        by_id.is_none_or(|id| o.id == id)
            && match since {
                Some((t, true)) => o.updated_at >= t,
                Some((t, false)) => o.updated_at > t,
                None => true,
            }
    };
    // Positions sorted by (updatedAt, id): a page copies only its own orders.
    let listed = |orders: &[StoredOrder]| {
        let mut list: Vec<((i64, u64), usize)> = orders
            .iter()
            .enumerate()
            .filter(|(_, o)| in_window(o))
            .map(|(i, o)| ((o.updated_at.timestamp_micros(), o.id), i))
            .collect();
        list.sort_unstable();
        let start = after.map_or(0, |a| list.partition_point(|(k, _)| *k <= a));
        (list, start)
    };
    let trouble = shop.faults.page_trouble(after.is_none());
    let (matching, has_next) = {
        let mut orders = shop.orders.lock().unwrap_or_else(|e| e.into_inner());
        let (mut list, mut start) = listed(&orders);
        if let Some(at) = trouble.changed(start, list.len()) {
            // Someone edits an order already served: it moves to the end.
            let now = Utc::now();
            let o = &mut orders[list[at].1];
            o.updated_at = now;
            o.node["updatedAt"] = json!(ts(now));
            (list, start) = listed(&orders);
        }
        let rest = &list[trouble.start(start)..];
        let page: Vec<StoredOrder> = rest.iter().take(first).map(|(_, i)| orders[*i].clone()).collect();
        (page, rest.len() > first)
    };
    let extensions = charge(shop, requested, 2.0 + matching.len() as f64 * 1.5)?;
    let addresses = shop.default_addresses();
    let edges: Vec<Value> =
        matching.iter().map(|o| json!({ "cursor": encode_cursor(o), "node": addresses.served(&o.node) })).collect();
    let end_cursor = matching.last().map(encode_cursor);
    Ok(json!({
        "data": { "orders": { "edges": edges, "pageInfo": { "hasNextPage": has_next, "endCursor": end_cursor } } },
        "extensions": extensions
    }))
}

/// A ProductVariant as the Admin API shows it.
fn variant_node(v: &StoreVariant) -> Value {
    json!({
        "id": v.variant_gid(), "sku": v.sku, "title": "Default Title", "price": v.price.to_string(),
        "product": { "id": v.product_gid(), "title": v.title, "status": v.status, "hasOnlyDefaultVariant": true },
        "inventoryItem": { "id": format!("gid://shopify/InventoryItem/{}", v.item_id) }
    })
}

fn variants(shop: &ShopifySim, vars: &Value) -> Result<Value, Response> {
    let first = first_arg(vars)?;
    let start = match vars.get("after").and_then(Value::as_str) {
        Some(c) => c.parse::<usize>().map_err(|_| user_error("Invalid cursor for current pagination sort."))?,
        None => 0,
    };
    let extensions = charge(shop, 2.0 + first as f64, 2.0 + first as f64)?;
    let inventory = shop.inventory.lock().unwrap_or_else(|e| e.into_inner());
    let page: Vec<Value> = inventory
        .variants
        .iter()
        .enumerate()
        .skip(start)
        .take(first)
        .map(|(i, v)| json!({ "cursor": (i + 1).to_string(), "node": variant_node(v) }))
        .collect();
    let end = start + page.len();
    Ok(json!({
        "data": { "productVariants": { "edges": page, "pageInfo": { "hasNextPage": end < inventory.variants.len(), "endCursor": end.to_string() } } },
        "extensions": extensions
    }))
}

/// `productUpdate(product: {id, title?, status?})` (ProductUpdateInput, 2024-10 and later).
fn update_product(shop: &ShopifySim, vars: &Value) -> Result<Value, Response> {
    let extensions = charge(shop, 10.0, 10.0)?;
    let input = vars.get("product").cloned().unwrap_or_default();
    let id = input.get("id").and_then(Value::as_str).unwrap_or_default();
    let mut inventory = shop.inventory.lock().unwrap_or_else(|e| e.into_inner());
    let mut user_errors = Vec::new();
    let Some(v) = inventory.variants.iter_mut().find(|v| v.product_gid() == id) else {
        let errors = [json!({ "field": ["id"], "message": "Product does not exist" })];
        return Ok(
            json!({ "data": { "productUpdate": { "product": null, "userErrors": errors } }, "extensions": extensions }),
        );
    };
    if let Some(title) = input.get("title") {
        match title.as_str().map(str::trim) {
            Some(t) if !t.is_empty() && t.len() <= 255 => v.title = t.to_owned(),
            _ => user_errors.push(json!({ "field": ["title"], "message": "Title can't be blank" })),
        }
    }
    if let Some(status) = input.get("status") {
        match status.as_str() {
            Some("ACTIVE") => v.status = "ACTIVE",
            Some("DRAFT") => v.status = "DRAFT",
            Some("ARCHIVED") => v.status = "ARCHIVED",
            _ => user_errors.push(json!({ "field": ["status"], "message": "Status is not included in the list" })),
        }
    }
    let product = json!({ "id": id, "title": v.title, "status": v.status });
    Ok(
        json!({ "data": { "productUpdate": { "product": product, "userErrors": user_errors } }, "extensions": extensions }),
    )
}

/// `productVariantsBulkUpdate(productId, variants: [{id, price}])`.
fn update_variants(shop: &ShopifySim, vars: &Value) -> Result<Value, Response> {
    let extensions = charge(shop, 10.0, 10.0)?;
    let product = vars.get("productId").and_then(Value::as_str).unwrap_or_default().to_owned();
    let updates = vars.get("variants").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut inventory = shop.inventory.lock().unwrap_or_else(|e| e.into_inner());
    let mut user_errors = Vec::new();
    let mut changed = Vec::new();
    for (i, u) in updates.iter().enumerate() {
        let id = u.get("id").and_then(Value::as_str).unwrap_or_default();
        let Some(v) = inventory.variants.iter_mut().find(|v| v.variant_gid() == id && v.product_gid() == product)
        else {
            user_errors.push(json!({ "field": ["variants", i.to_string(), "id"], "message": "Product variant does not exist", "code": "PRODUCT_VARIANT_DOES_NOT_EXIST" }));
            continue;
        };
        match u.get("price").and_then(Value::as_str).and_then(|p| p.parse::<Decimal>().ok()) {
            Some(p) if p >= Decimal::ZERO => {
                v.price = p;
                changed.push(json!({ "id": id, "price": p.to_string() }));
            }
            _ => user_errors.push(json!({ "field": ["variants", i.to_string(), "price"], "message": "Price must be a decimal amount of at least 0", "code": "INVALID" })),
        }
    }
    Ok(json!({
        "data": { "productVariantsBulkUpdate": { "productVariants": changed, "userErrors": user_errors } },
        "extensions": extensions
    }))
}

/// `inventorySetQuantities(input: {name: "available", reason, ignoreCompareQuantity, quantities})`.
fn set_quantities(shop: &ShopifySim, vars: &Value) -> Result<Value, Response> {
    let input = vars.get("input").cloned().unwrap_or_default();
    let extensions = charge(shop, 10.0, 10.0)?;
    let mut user_errors = Vec::new();
    if input.get("name").and_then(Value::as_str) != Some("available") {
        user_errors.push(json!({ "field": ["input", "name"], "message": "Only the available quantity can be set.", "code": "INVALID_NAME" }));
    }
    let quantities = input.get("quantities").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut inventory = shop.inventory.lock().unwrap_or_else(|e| e.into_inner());
    let mut changes = Vec::new();
    let mut updates = Vec::new();
    for (i, q) in quantities.iter().enumerate() {
        let item = q
            .get("inventoryItemId")
            .and_then(Value::as_str)
            .and_then(|g| g.strip_prefix("gid://shopify/InventoryItem/"))
            .and_then(|n| n.parse::<u64>().ok());
        let location = q.get("locationId").and_then(Value::as_str).unwrap_or_default().to_owned();
        let quantity = q.get("quantity").and_then(Value::as_i64);
        match (item.filter(|id| inventory.variants.iter().any(|v| v.item_id == *id)), quantity) {
            (None, _) => user_errors.push(json!({ "field": ["input", "quantities", i.to_string(), "inventoryItemId"], "message": "The specified inventory item could not be found.", "code": "INVALID_INVENTORY_ITEM" })),
            (_, None) => user_errors.push(json!({ "field": ["input", "quantities", i.to_string(), "quantity"], "message": "Quantity is required.", "code": "INVALID_QUANTITY" })),
            _ if location != LOCATION_ID => user_errors.push(json!({ "field": ["input", "quantities", i.to_string(), "locationId"], "message": "The specified location could not be found.", "code": "INVALID_LOCATION" })),
            (Some(id), Some(qty)) => updates.push((id, qty)),
        }
    }
    if user_errors.is_empty() {
        for (id, qty) in updates {
            let before = inventory.available.insert(id, qty).unwrap_or(0);
            changes.push(json!({ "name": "available", "delta": qty - before, "quantityAfterChange": qty }));
        }
    }
    let group = if user_errors.is_empty() {
        json!({ "createdAt": ts(Utc::now()), "reason": input.get("reason"), "changes": changes })
    } else {
        Value::Null
    };
    Ok(json!({
        "data": { "inventorySetQuantities": { "inventoryAdjustmentGroup": group, "userErrors": user_errors } },
        "extensions": extensions
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_filter_forms() {
        let t = DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z").expect("valid").with_timezone(&Utc);
        assert_eq!(parse_updated_since("updated_at:>='2026-11-26T12:00:00Z'"), Ok(Some((t, true))));
        assert_eq!(parse_updated_since("updated_at:>2026-11-26T12:00:00Z"), Ok(Some((t, false))));
        assert_eq!(parse_updated_since(""), Ok(None));
        assert!(parse_updated_since("status:open").is_err());
    }

    #[test]
    fn a_literal_first_argument_is_read() {
        assert_eq!(literal_first("{ orders(first: 5) { edges { node { id } } } }"), Some(5));
        assert_eq!(literal_first("query($first: Int!) { orders(first: $first) { edges { node { id } } } }"), None);
        assert_eq!(literal_first("{ shop { name } }"), None);
    }

    #[test]
    fn cursor_round_trip_and_garbage() {
        let o = StoredOrder { id: 5, updated_at: Utc::now(), node: json!({}) };
        assert_eq!(decode_cursor(&encode_cursor(&o)), Some((o.updated_at.timestamp_micros(), 5)));
        assert_eq!(decode_cursor("zz"), None);
        assert_eq!(decode_cursor("abc"), None);
    }
}
