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
//! `orders` query is implemented; its variables carry the arguments.

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

/// The store's state.
pub struct ShopifySim {
    token: String,
    orders: Mutex<Vec<StoredOrder>>,
    catalog: Vec<SeedProduct>,
    bucket: Mutex<Bucket>,
    seed: u64,
    pub faults: crate::Faults,
    /// Requests answered THROTTLED or 429 (a well-paced client sees none).
    pub throttled: std::sync::atomic::AtomicU64,
}

fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn money(amount: Decimal) -> Value {
    json!({ "shopMoney": { "amount": amount.to_string(), "currencyCode": "EUR" } })
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
            "id": format!("gid://shopify/Customer/{}", 7_000_000_000u64 + seed::Rng::new(o.email.len() as u64).below(1000)),
            "email": o.email, "firstName": o.first_name, "lastName": o.last_name, "phone": null
        },
        "shippingAddress": {
            "name": format!("{} {}", o.first_name, o.last_name), "address1": "1 Market Street", "address2": null,
            "city": o.city.0, "zip": o.city.1, "countryCodeV2": o.city.2, "phone": null
        },
        "lineItems": { "edges": lines }
    });
    StoredOrder { id, updated_at: o.created_at, node }
}

impl ShopifySim {
    pub(crate) fn seeded(opts: &SimOptions, catalog: &[SeedProduct]) -> Self {
        let seeded = seed::orders(opts.seed, opts.orders, 1001, opts.now, catalog);
        let orders = seeded.iter().enumerate().map(|(i, o)| render(o, FIRST_ID + i as u64)).collect();
        Self {
            token: crate::DEMO_SHOPIFY_TOKEN.to_owned(),
            orders: Mutex::new(orders),
            catalog: catalog.to_vec(),
            bucket: Mutex::new(Bucket { available: BUCKET_MAX, at: Instant::now() }),
            seed: opts.seed,
            faults: crate::Faults::default(),
            throttled: Default::default(),
        }
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

    /// GraphQL ids of cancelled orders.
    pub fn cancelled_ids(&self) -> Vec<String> {
        let orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        orders.iter().filter(|o| !o.node["cancelledAt"].is_null()).filter_map(|o| o.node["id"].as_str().map(str::to_owned)).collect()
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
        Ok(b.available)
    }
}

pub(crate) fn router(sim: Arc<Sim>) -> Router<Arc<Sim>> {
    let _ = sim;
    Router::new().route("/admin/api/{version}/graphql.json", post(graphql))
}

fn cost(requested: f64, actual: Option<f64>, available: f64) -> Value {
    json!({ "cost": {
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": { "maximumAvailable": BUCKET_MAX, "currentlyAvailable": available.floor(), "restoreRate": RESTORE_RATE }
    }})
}

fn user_error(message: &str) -> Response {
    (StatusCode::OK, Json(json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_REQUEST" } }] }))).into_response()
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

async fn graphql(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
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
    if !query.contains("orders(") {
        return user_error("The Ferry emulator implements only the `orders` query");
    }
    let vars = req.get("variables").cloned().unwrap_or(json!({}));
    let first = match vars.get("first").and_then(Value::as_u64) {
        Some(n @ 1..=250) => n as usize,
        Some(_) => return user_error("The `first` argument must be between 1 and 250"),
        None => return user_error("Variable $first of required type Int! was not provided."),
    };
    let since = match vars.get("query").and_then(Value::as_str).map(parse_updated_since).transpose() {
        Ok(s) => s.flatten(),
        Err(e) => return user_error(&e),
    };
    let after = match vars.get("after").and_then(Value::as_str) {
        Some(c) => match decode_cursor(c) {
            Some(pos) => Some(pos),
            None => return user_error("Invalid cursor for current pagination sort."),
        },
        None => None,
    };
    // Cost: the connection plus its nested line items, as Shopify estimates it.
    let requested = 2.0 + first as f64 * 1.5;
    let orders = shop.orders.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut matching: Vec<&StoredOrder> = orders
        .iter()
        .filter(|o| match since {
            Some((t, true)) => o.updated_at >= t,
            Some((t, false)) => o.updated_at > t,
            None => true,
        })
        .filter(|o| after.is_none_or(|(ts, id)| (o.updated_at.timestamp_micros(), o.id) > (ts, id)))
        .collect();
    matching.sort_by_key(|o| (o.updated_at, o.id));
    let has_next = matching.len() > first;
    matching.truncate(first);
    let actual = 2.0 + matching.len() as f64 * 1.5;
    let available = match shop.spend(requested, actual) {
        Ok(a) => a,
        Err(a) => {
            shop.throttled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Json(json!({
                "errors": [{ "message": "Throttled", "extensions": { "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits" } }],
                "extensions": cost(requested, None, a)
            }))
            .into_response();
        }
    };
    let edges: Vec<Value> = matching.iter().map(|o| json!({ "cursor": encode_cursor(o), "node": o.node })).collect();
    let end_cursor = matching.last().map(|o| encode_cursor(o));
    let body = json!({
        "data": { "orders": { "edges": edges, "pageInfo": { "hasNextPage": has_next, "endCursor": end_cursor } } },
        "extensions": cost(requested, Some(actual), available)
    })
    .to_string();
    if shop.faults.take_malformed() {
        // A proxy cut the body short.
        let cut = body.len() / 2;
        return (StatusCode::OK, [("Content-Type", "application/json")], body[..cut].to_owned()).into_response();
    }
    (StatusCode::OK, [("Content-Type", "application/json")], body).into_response()
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
    fn cursor_round_trip_and_garbage() {
        let o = StoredOrder { id: 5, updated_at: Utc::now(), node: json!({}) };
        assert_eq!(decode_cursor(&encode_cursor(&o)), Some((o.updated_at.timestamp_micros(), 5)));
        assert_eq!(decode_cursor("zz"), None);
        assert_eq!(decode_cursor("abc"), None);
    }
}
