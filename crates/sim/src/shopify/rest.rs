//! Shopify REST Admin API emulator (legacy, still served): `shop.json`,
//! `oauth/access_scopes.json`, `orders.json`, `orders/{id}.json`,
//! `orders/count.json` and `events.json`, read from the same store as the
//! GraphQL API.
//!
//! Follows shopify.dev/docs/api/admin-rest/2025-07/resources/order, .../event,
//! .../shop and .../accessscope; shopify.dev/docs/api/usage/pagination-rest
//! (cursor pages through the `Link` header; a request carrying `page_info`
//! may add only `limit` and `fields`); shopify.dev/docs/api/admin-rest/usage/rate-limits
//! (a bucket of 40 requests leaking 2 a second, the Standard plan, shown in
//! `X-Shopify-Shop-Api-Call-Limit`; a full bucket answers 429 with
//! `Retry-After: 2.0`) and shopify.dev/docs/api/usage/versioning (a retired
//! version falls forward to the oldest supported one, named in
//! `X-Shopify-API-Version`). Times are shown in the shop's time zone.

use super::{ShopifySim, FIRST_ID, LOCATION_ID};
use crate::Sim;
use axum::extract::rejection::QueryRejection;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The Standard plan's REST bucket: 40 requests, leaking 2 a second.
pub const CALL_LIMIT: f64 = 40.0;
pub const LEAK_PER_SECOND: f64 = 2.0;
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 250;
const SHOP_TZ: chrono_tz::Tz = chrono_tz::Europe::Berlin;
const PAGINATION_DOCS: &str = "https://shopify.dev/api/usage/pagination-rest";
const INVALID_TOKEN: &str = "[API] Invalid API key or access token (unrecognized login or wrong password)";
const THROTTLED: &str =
    "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.";
/// What the emulator's token was granted.
const SCOPES: &[&str] = &[
    "read_orders",
    "write_orders",
    "read_products",
    "write_products",
    "read_inventory",
    "write_inventory",
    "read_customers",
    "write_customers",
    "read_fulfillments",
    "write_fulfillments",
    "read_locations",
];
const STATUSES: &[&str] = &["open", "closed", "cancelled", "any"];
const FINANCIAL: &[&str] =
    &["authorized", "pending", "paid", "partially_paid", "refunded", "voided", "partially_refunded", "any", "unpaid"];
const FULFILLMENT: &[&str] = &["shipped", "partial", "unshipped", "any", "unfulfilled"];

type Params = Vec<(String, String)>;
/// Where a row sits in a listing: (sort value, id), unique.
type Key = (i64, u64);

/// The REST API's own leaky bucket (GraphQL's cost bucket is separate).
pub(super) struct RestState {
    bucket: Mutex<CallBucket>,
}

struct CallBucket {
    calls: f64,
    at: Instant,
}

impl Default for RestState {
    fn default() -> Self {
        Self { bucket: Mutex::new(CallBucket { calls: 0.0, at: Instant::now() }) }
    }
}

impl RestState {
    /// Drops one request into the bucket at `now`: `Ok(calls now in it)`,
    /// or `Err(calls in it)` when it is full and the request is refused.
    fn admit(&self, now: Instant) -> Result<u32, u32> {
        let mut b = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let leaked = now.saturating_duration_since(b.at).as_secs_f64() * LEAK_PER_SECOND;
        b.calls = (b.calls - leaked).max(0.0);
        b.at = b.at.max(now);
        let shown = |calls: f64| (calls - 1e-9).ceil().max(0.0) as u32;
        if b.calls + 1.0 > CALL_LIMIT + 1e-9 {
            return Err(shown(b.calls));
        }
        b.calls += 1.0;
        Ok(shown(b.calls))
    }
}

pub(super) fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/admin/oauth/access_scopes.json", get(access_scopes))
        .route("/admin/api/{version}/shop.json", get(shop_json))
        .route("/admin/api/{version}/orders.json", get(orders_json))
        // `{id}.json` and `count.json`: a path parameter is a whole segment.
        .route("/admin/api/{version}/orders/{file}", get(order_file))
        .route("/admin/api/{version}/events.json", get(events_json))
}

type QueryParams = Result<Query<Params>, QueryRejection>;

async fn access_scopes(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    let scopes: Vec<Value> = SCOPES.iter().map(|s| json!({ "handle": s })).collect();
    serve(&sim.shopify, None, &headers, |_| Ok(ok(&json!({ "access_scopes": scopes })))).await
}

async fn shop_json(
    State(sim): State<Arc<Sim>>,
    Path(version): Path<String>,
    headers: HeaderMap,
    query: QueryParams,
) -> Response {
    serve(&sim.shopify, Some(&version), &headers, |_| {
        let params = params(query)?;
        Ok(ok(&json!({ "shop": pick_fields(shop_body(), value(&params, "fields")) })))
    })
    .await
}

async fn orders_json(
    State(sim): State<Arc<Sim>>,
    Path(version): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    query: QueryParams,
) -> Response {
    let here = here(&sim.shopify, &headers, &uri);
    serve(&sim.shopify, Some(&version), &headers, |shop| list_orders(shop, &params(query)?, &here)).await
}

async fn order_file(
    State(sim): State<Arc<Sim>>,
    Path((version, file)): Path<(String, String)>,
    headers: HeaderMap,
    query: QueryParams,
) -> Response {
    serve(&sim.shopify, Some(&version), &headers, |shop| {
        let params = params(query)?;
        match file.strip_suffix(".json") {
            Some("count") => count_orders(shop, &params),
            Some(id) => one_order(shop, id.parse().map_err(|_| not_found())?, &params),
            None => Err(not_found()),
        }
    })
    .await
}

async fn events_json(
    State(sim): State<Arc<Sim>>,
    Path(version): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    query: QueryParams,
) -> Response {
    let here = here(&sim.shopify, &headers, &uri);
    serve(&sim.shopify, Some(&version), &headers, |shop| list_events(shop, &params(query)?, &here)).await
}

/// What every REST call goes through: the version (404 when it names
/// none), the token (401), the fault knobs, the bucket (429), then `work`;
/// the answer carries the bucket's level and the version served.
async fn serve(
    shop: &ShopifySim,
    version: Option<&str>,
    headers: &HeaderMap,
    work: impl FnOnce(&ShopifySim) -> Result<Response, Response>,
) -> Response {
    let served = match version.map(|v| served_version(v, Utc::now().date_naive())) {
        Some(None) => return not_found(),
        Some(Some(v)) => Some(v),
        None => None,
    };
    let _in_flight = shop.faults.enter();
    let token = headers.get("X-Shopify-Access-Token").and_then(|v| v.to_str().ok());
    if token != Some(shop.token.as_str()) || shop.faults.auth_revoked() {
        return json_response(StatusCode::UNAUTHORIZED, &json!({ "errors": INVALID_TOKEN }));
    }
    let slow = match crate::faults::before_work(&shop.faults, || throttled(CALL_LIMIT as u32)).await {
        Ok(slow) => slow,
        Err(refused) => {
            if refused.status() == StatusCode::TOO_MANY_REQUESTS {
                shop.throttled.fetch_add(1, Ordering::Relaxed);
            }
            return refused;
        }
    };
    let mut response = match shop.rest.admit(Instant::now()) {
        Ok(calls) => {
            let mut response = match work(shop) {
                Ok(r) | Err(r) => r,
            };
            set_header(&mut response, "X-Shopify-Shop-Api-Call-Limit", &call_limit(calls));
            response
        }
        Err(calls) => {
            shop.throttled.fetch_add(1, Ordering::Relaxed);
            throttled(calls)
        }
    };
    if let Some(v) = served {
        set_header(&mut response, "X-Shopify-API-Version", &v);
    }
    let corrupt = shop.faults.take_malformed();
    crate::faults::after_work(&shop.faults, false, corrupt, slow, response).await
}

/// The version a request's path names, as Shopify serves it: `unstable`,
/// a supported quarterly `YYYY-MM` (up to the release candidate, the next
/// quarter's) as is, or a retired one as the oldest supported version
/// (stable versions live 12 months: the current quarter's and the three
/// before). `None` for anything else: Shopify answers 404.
fn served_version(asked: &str, today: NaiveDate) -> Option<String> {
    if asked == "unstable" {
        return Some(asked.to_owned());
    }
    let (y, m) = asked.split_once('-')?;
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(y, 4) || !digits(m, 2) {
        return None;
    }
    let (y, m): (i32, i32) = (y.parse().ok()?, m.parse().ok()?);
    if y < 2019 || ![1, 4, 7, 10].contains(&m) {
        return None;
    }
    let month_index = |y: i32, m: i32| y * 12 + m - 1;
    let current = month_index(today.year(), (today.month() as i32 - 1) / 3 * 3 + 1);
    let asked = month_index(y, m);
    if asked > current + 3 {
        return None;
    }
    let served = asked.max(current - 9);
    Some(format!("{:04}-{:02}", served.div_euclid(12), served.rem_euclid(12) + 1))
}

fn call_limit(calls: u32) -> String {
    format!("{calls}/{}", CALL_LIMIT as u32)
}

fn throttled(calls: u32) -> Response {
    let mut response = json_response(StatusCode::TOO_MANY_REQUESTS, &json!({ "errors": THROTTLED }));
    set_header(&mut response, "Retry-After", "2.0");
    set_header(&mut response, "X-Shopify-Shop-Api-Call-Limit", &call_limit(calls));
    response
}

fn set_header(response: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, v);
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], body.to_string()).into_response()
}

fn ok(body: &Value) -> Response {
    json_response(StatusCode::OK, body)
}

fn not_found() -> Response {
    json_response(StatusCode::NOT_FOUND, &json!({ "errors": "Not Found" }))
}

fn params(query: QueryParams) -> Result<Params, Response> {
    query
        .map(|Query(p)| p)
        .map_err(|e| json_response(StatusCode::BAD_REQUEST, &json!({ "errors": { "query": e.body_text() } })))
}

/// The last value given for `key` (as Rails reads a repeated parameter).
fn value<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// This request's URL without its query: where the `Link` header points.
fn here(shop: &ShopifySim, headers: &HeaderMap, uri: &Uri) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let scheme = if shop.https.load(Ordering::Relaxed) { "https" } else { "http" };
    format!("{scheme}://{host}{}", uri.path())
}

/// Only the top-level keys named in `fields` (a comma list), as `fields=` does.
fn pick_fields(item: Value, fields: Option<&str>) -> Value {
    let Some(fields) = fields.filter(|f| !f.trim().is_empty()) else { return item };
    let Value::Object(map) = item else { return item };
    let wanted: Vec<&str> = fields.split(',').map(str::trim).collect();
    Value::Object(map.into_iter().filter(|(k, _)| wanted.contains(&k.as_str())).collect())
}

/// Reads query parameters, noting each bad one in Shopify's
/// `{"errors": {"param": "message"}}` shape.
struct Checks<'a> {
    params: &'a [(String, String)],
    errors: Map<String, Value>,
}

impl<'a> Checks<'a> {
    fn new(params: &'a [(String, String)]) -> Self {
        Self { params, errors: Map::new() }
    }

    fn fail(&mut self, key: &str, message: impl Into<String>) {
        self.errors.insert(key.to_owned(), Value::String(message.into()));
    }

    fn one_of(&mut self, key: &str, allowed: &[&'static str]) -> Option<&'static str> {
        let v = value(self.params, key)?;
        let found = allowed.iter().find(|a| **a == v).copied();
        if found.is_none() {
            self.fail(key, format!("must be one of: {}", allowed.join(", ")));
        }
        found
    }

    fn number(&mut self, key: &str) -> Option<u64> {
        let v = value(self.params, key)?;
        let n = v.trim().parse().ok();
        if n.is_none() {
            self.fail(key, "must be a whole number");
        }
        n
    }

    fn numbers(&mut self, key: &str) -> Option<Vec<u64>> {
        let v = value(self.params, key)?;
        let ns: Option<Vec<u64>> = v.split(',').map(|n| n.trim().parse().ok()).collect();
        if ns.is_none() {
            self.fail(key, "must be a comma-separated list of whole numbers");
        }
        ns
    }

    fn time(&mut self, key: &str) -> Option<DateTime<Utc>> {
        let v = value(self.params, key)?;
        let t = parse_time(v);
        if t.is_none() {
            self.fail(key, "must be an ISO 8601 date and time, e.g. 2014-04-25T16:15:47-04:00");
        }
        t
    }

    fn range(&mut self, field: &str) -> Range {
        (self.time(&format!("{field}_min")), self.time(&format!("{field}_max")))
    }

    fn done(self) -> Result<(), Response> {
        if self.errors.is_empty() {
            return Ok(());
        }
        Err(json_response(StatusCode::BAD_REQUEST, &json!({ "errors": self.errors })))
    }
}

type Range = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

fn within((min, max): Range, t: DateTime<Utc>) -> bool {
    min.is_none_or(|m| t >= m) && max.is_none_or(|m| t <= m)
}

/// A time as Shopify's filters take it: ISO 8601 with an offset
/// (`2014-04-25T16:15:47-04:00`; a `+` sent unencoded arrives as a space),
/// or without one, or a date (both in the shop's time zone).
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let mut text = text.trim().to_owned();
    let n = text.len();
    if text.is_ascii() && n > 19 && text.as_bytes()[n - 6] == b' ' {
        text.replace_range(n - 6..n - 5, "+");
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(&text) {
        return Some(t.with_timezone(&Utc));
    }
    let local = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&text, f).ok())
        .or_else(|| NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0))?;
    SHOP_TZ.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc))
}

fn parse_utc(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

/// A time as the shop shows it: ISO 8601 with the shop's offset.
fn local(at: DateTime<Utc>) -> Value {
    json!(at.with_timezone(&SHOP_TZ).to_rfc3339_opts(SecondsFormat::Secs, false))
}

fn local_at(v: &Value) -> Value {
    v.as_str().and_then(parse_utc).map_or(Value::Null, local)
}

// ---- Paging ---------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Direction {
    Next,
    Previous,
}

/// What a `page_info` carries: the first request's filters and the row the
/// page starts after (`next`) or ends before (`previous`).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct PageInfo {
    resource: String,
    filters: Params,
    direction: Direction,
    last_value: i64,
    last_id: u64,
}

impl PageInfo {
    fn encode(&self) -> String {
        serde_json::to_vec(self).unwrap_or_default().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn decode(text: &str) -> Option<Self> {
        if !text.len().is_multiple_of(2) {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..text.len())
            .step_by(2)
            .map(|i| text.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect();
        serde_json::from_slice(&bytes?).ok()
    }
}

/// A list request's page: which rows (by filters and cursor), how many,
/// which fields.
struct Paging {
    filters: Params,
    cursor: Option<(Direction, Key)>,
    limit: usize,
    fields: Option<String>,
}

impl Paging {
    /// `limit` (1 to 250, 50 by default), `fields`, and either `page_info`
    /// (with nothing else) or the filters of a first page.
    fn parse(params: &[(String, String)], resource: &str) -> Result<Self, Response> {
        let mut checks = Checks::new(params);
        let limit = match value(params, "limit").map(|v| v.trim().parse::<usize>()) {
            None => DEFAULT_LIMIT,
            Some(Ok(n @ 1..=MAX_LIMIT)) => n,
            Some(_) => {
                checks.fail("limit", format!("must be a whole number from 1 to {MAX_LIMIT}"));
                DEFAULT_LIMIT
            }
        };
        let fields = value(params, "fields").filter(|f| !f.trim().is_empty()).map(str::to_owned);
        let mut paging = Self { filters: Vec::new(), cursor: None, limit, fields };
        match value(params, "page_info") {
            None => paging.filters = params.iter().filter(|(k, _)| k != "limit" && k != "fields").cloned().collect(),
            Some(info) => {
                for (k, _) in params.iter().filter(|(k, _)| !matches!(k.as_str(), "limit" | "fields" | "page_info")) {
                    checks.fail(
                        k,
                        format!("{k} cannot be passed when page_info is present. See {PAGINATION_DOCS} for more information."),
                    );
                }
                match PageInfo::decode(info).filter(|p| p.resource == resource) {
                    Some(p) => {
                        paging.filters = p.filters;
                        paging.cursor = Some((p.direction, (p.last_value, p.last_id)));
                    }
                    None => checks.fail("page_info", "Invalid value."),
                }
            }
        }
        checks.done()?;
        Ok(paging)
    }

    /// The page's bounds in `keys` (the filtered rows' keys in listing
    /// order; `desc` when that order is descending).
    fn window(&self, keys: &[Key], desc: bool) -> (usize, usize) {
        let after = |k: &Key, a: &Key| if desc { k < a } else { k > a };
        match self.cursor {
            None => (0, keys.len().min(self.limit)),
            Some((Direction::Next, a)) => {
                let start = keys.partition_point(|k| !after(k, &a));
                (start, (start + self.limit).min(keys.len()))
            }
            Some((Direction::Previous, a)) => {
                let end = keys.partition_point(|k| after(&a, k));
                (end.saturating_sub(self.limit), end)
            }
        }
    }

    /// The `Link` header for the page `start..end` of `keys`: `previous`
    /// unless it is the first page, `next` unless it is the last.
    fn link(&self, here: &str, resource: &str, keys: &[Key], (start, end): (usize, usize)) -> Option<HeaderValue> {
        let url = |direction, (last_value, last_id): Key| {
            let info = PageInfo {
                resource: resource.to_owned(),
                filters: self.filters.clone(),
                direction,
                last_value,
                last_id,
            };
            let fields = self.fields.as_deref().map(|f| format!("&fields={}", escape(f))).unwrap_or_default();
            format!("<{here}?page_info={}&limit={}{fields}>", info.encode(), self.limit)
        };
        let mut links = Vec::new();
        if let Some(first) = keys.get(start).filter(|_| start > 0 && start < end) {
            links.push(format!("{}; rel=\"previous\"", url(Direction::Previous, *first)));
        }
        if let Some(last) = keys.get(end.wrapping_sub(1)).filter(|_| end < keys.len() && start < end) {
            links.push(format!("{}; rel=\"next\"", url(Direction::Next, *last)));
        }
        if links.is_empty() {
            return None;
        }
        HeaderValue::from_str(&links.join(", ")).ok()
    }

    /// One page of `rows` (filtered, in listing order) under `root`, with
    /// its `Link` header.
    fn answer<T>(&self, here: &str, root: &str, rows: &[(Key, T)], desc: bool, show: impl Fn(&T) -> Value) -> Response {
        let keys: Vec<Key> = rows.iter().map(|(k, _)| *k).collect();
        let (start, end) = self.window(&keys, desc);
        let items: Vec<Value> =
            rows[start..end].iter().map(|(_, row)| pick_fields(show(row), self.fields.as_deref())).collect();
        let mut response = ok(&json!({ root: items }));
        if let Some(link) = self.link(here, root, &keys, (start, end)) {
            response.headers_mut().insert(header::LINK, link);
        }
        response
    }
}

/// Percent-encodes all but unreserved characters and commas.
fn escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortField {
    Id,
    CreatedAt,
    UpdatedAt,
    ProcessedAt,
}

/// The `order` parameter: a field and `asc` (the default) or `desc`.
fn parse_sort(text: &str) -> Option<(SortField, bool)> {
    let mut words = text.split_whitespace();
    let field = match words.next()? {
        "id" => SortField::Id,
        "created_at" => SortField::CreatedAt,
        "updated_at" => SortField::UpdatedAt,
        "processed_at" => SortField::ProcessedAt,
        _ => return None,
    };
    let desc = match words.next().map(str::to_ascii_lowercase).as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        _ => return None,
    };
    words.next().is_none().then_some((field, desc))
}

// ---- Orders ---------------------------------------------------------------

/// Every stored order as (id, updated_at, GraphQL node), by id: the one
/// place this module reads the store's orders.
fn orders_sorted(shop: &ShopifySim) -> Vec<(u64, DateTime<Utc>, Value)> {
    let orders = shop.orders.lock().unwrap_or_else(|e| e.into_inner());
    let mut all: Vec<(u64, DateTime<Utc>, Value)> =
        orders.iter().map(|o| (o.id, o.updated_at, o.node.clone())).collect();
    all.sort_by_key(|(id, _, _)| *id);
    all
}

/// One stored order and what the filters look at.
struct OrderRow {
    id: u64,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    node: Value,
}

impl OrderRow {
    fn cancelled(&self) -> bool {
        !self.node["cancelledAt"].is_null()
    }

    fn closed(&self) -> bool {
        !self.node["closedAt"].is_null() || self.node["closed"] == true
    }

    /// `paid`, `refunded`, `partially_refunded`, ...
    fn financial_status(&self) -> Option<String> {
        self.node["displayFinancialStatus"].as_str().map(str::to_ascii_lowercase)
    }

    fn fulfillment_status(&self) -> Option<&'static str> {
        match self.node["displayFulfillmentStatus"].as_str() {
            Some("FULFILLED") => Some("fulfilled"),
            Some("PARTIALLY_FULFILLED") => Some("partial"),
            _ => None,
        }
    }
}

fn order_rows(shop: &ShopifySim) -> Vec<OrderRow> {
    orders_sorted(shop)
        .into_iter()
        .map(|(id, updated, node)| {
            let created = node["createdAt"].as_str().and_then(parse_utc).unwrap_or(updated);
            OrderRow { id, created, updated, node }
        })
        .collect()
}

/// The filters of `orders.json` and `orders/count.json`, checked.
struct OrderQuery {
    status: &'static str,
    ids: Option<Vec<u64>>,
    since_id: Option<u64>,
    created: Range,
    updated: Range,
    processed: Range,
    financial: Option<&'static str>,
    fulfillment: Option<&'static str>,
    /// Newest first by default; by id with `since_id`.
    sort: (SortField, bool),
}

impl OrderQuery {
    fn parse(filters: &[(String, String)]) -> Result<Self, Response> {
        let mut c = Checks::new(filters);
        let since_id = c.number("since_id");
        let default_sort = if since_id.is_some() { (SortField::Id, false) } else { (SortField::CreatedAt, true) };
        let sort = match value(filters, "order") {
            None => default_sort,
            Some(text) => parse_sort(text).unwrap_or_else(|| {
                c.fail(
                    "order",
                    "must be a field (id, created_at, updated_at, processed_at) and asc or desc, e.g. updated_at asc",
                );
                default_sort
            }),
        };
        let query = Self {
            status: c.one_of("status", STATUSES).unwrap_or("open"),
            ids: c.numbers("ids"),
            since_id,
            created: c.range("created_at"),
            updated: c.range("updated_at"),
            processed: c.range("processed_at"),
            financial: c.one_of("financial_status", FINANCIAL),
            fulfillment: c.one_of("fulfillment_status", FULFILLMENT),
            sort,
        };
        c.done()?;
        Ok(query)
    }

    fn admits(&self, o: &OrderRow) -> bool {
        let status = match self.status {
            "open" => !o.cancelled() && !o.closed(),
            "closed" => o.closed(),
            "cancelled" => o.cancelled(),
            _ => true,
        };
        let financial = o.financial_status();
        let financial = match self.financial {
            None | Some("any") => true,
            Some("unpaid") => matches!(financial.as_deref(), Some("authorized" | "pending" | "partially_paid")),
            Some(wanted) => financial.as_deref() == Some(wanted),
        };
        let fulfillment = match (self.fulfillment, o.fulfillment_status()) {
            (None | Some("any"), _) => true,
            (Some("shipped"), s) => s == Some("fulfilled"),
            (Some("partial"), s) => s == Some("partial"),
            (Some("unshipped"), s) => s.is_none(),
            (Some(_), s) => s != Some("fulfilled"),
        };
        status
            && financial
            && fulfillment
            && self.ids.as_ref().is_none_or(|ids| ids.contains(&o.id))
            && self.since_id.is_none_or(|s| o.id > s)
            && within(self.created, o.created)
            && within(self.updated, o.updated)
            && within(self.processed, o.created)
    }

    fn key(&self, o: &OrderRow) -> Key {
        let value = match self.sort.0 {
            SortField::Id => 0,
            SortField::CreatedAt | SortField::ProcessedAt => o.created.timestamp_micros(),
            SortField::UpdatedAt => o.updated.timestamp_micros(),
        };
        (value, o.id)
    }

    /// The admitted rows, keyed, in listing order.
    fn listed(&self, rows: Vec<OrderRow>) -> Vec<(Key, OrderRow)> {
        let mut listed: Vec<(Key, OrderRow)> =
            rows.into_iter().filter(|o| self.admits(o)).map(|o| (self.key(&o), o)).collect();
        listed.sort_by_key(|(k, _)| *k);
        if self.sort.1 {
            listed.reverse();
        }
        listed
    }
}

fn list_orders(shop: &ShopifySim, params: &[(String, String)], here: &str) -> Result<Response, Response> {
    let paging = Paging::parse(params, "orders")?;
    let query = OrderQuery::parse(&paging.filters)?;
    let rows = query.listed(order_rows(shop));
    let catalog = catalog_ids(shop);
    Ok(paging.answer(here, "orders", &rows, query.sort.1, |o| rest_order(o, &catalog)))
}

fn count_orders(shop: &ShopifySim, params: &[(String, String)]) -> Result<Response, Response> {
    let filters: Params = params
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "limit" | "fields" | "page_info" | "order"))
        .cloned()
        .collect();
    let query = OrderQuery::parse(&filters)?;
    let count = order_rows(shop).iter().filter(|o| query.admits(o)).count();
    Ok(ok(&json!({ "count": count })))
}

fn one_order(shop: &ShopifySim, id: u64, params: &[(String, String)]) -> Result<Response, Response> {
    let row = order_rows(shop).into_iter().find(|o| o.id == id).ok_or_else(not_found)?;
    let order = pick_fields(rest_order(&row, &catalog_ids(shop)), value(params, "fields"));
    Ok(ok(&json!({ "order": order })))
}

/// (variant id, product id) by SKU, for the line items.
fn catalog_ids(shop: &ShopifySim) -> HashMap<String, (u64, u64)> {
    let inventory = shop.inventory.lock().unwrap_or_else(|e| e.into_inner());
    inventory
        .variants
        .iter()
        .filter_map(|v| Some((v.sku.clone(), (gid_number(&v.variant_gid())?, gid_number(&v.product_gid())?))))
        .collect()
}

fn gid_number(gid: &str) -> Option<u64> {
    gid.rsplit('/').next()?.parse().ok()
}

fn gid_of(v: &Value) -> Option<u64> {
    v.as_str().and_then(gid_number)
}

fn amount(set: &Value) -> Decimal {
    set["shopMoney"]["amount"].as_str().and_then(|a| a.parse().ok()).unwrap_or(Decimal::ZERO)
}

/// Money as the REST API writes it: a string with two decimals.
fn money(d: Decimal) -> Value {
    json!(format!("{:.2}", d.round_dp(2)))
}

fn price_set(d: Decimal) -> Value {
    let m = json!({ "amount": money(d), "currency_code": "EUR" });
    json!({ "shop_money": m, "presentment_money": m })
}

fn country_name(code: &str) -> &str {
    match code {
        "DE" => "Germany",
        "AT" => "Austria",
        "CH" => "Switzerland",
        other => other,
    }
}

/// An order as the REST Admin API shows it, made from its GraphQL node.
fn rest_order(o: &OrderRow, catalog: &HashMap<String, (u64, u64)>) -> Value {
    let n = &o.node;
    let name = n["name"].as_str().unwrap_or_default();
    let order_number: u64 = name.trim_start_matches('#').parse().unwrap_or(0);
    let lines = line_items(o, catalog);
    let line_total: Decimal = lines
        .iter()
        .filter_map(|l| Some(l["price"].as_str()?.parse::<Decimal>().ok()? * Decimal::from(l["quantity"].as_i64()?)))
        .sum();
    let edges = |v: &Value| v["edges"].as_array().cloned().unwrap_or_default();
    let shipping: Vec<Value> = edges(&n["shippingLines"])
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let price = amount(&e["node"]["originalPriceSet"]);
            json!({ "id": o.id * 10 + i as u64 + 1, "title": e["node"]["title"], "code": e["node"]["title"],
                "source": "shopify", "price": money(price), "price_set": price_set(price),
                "discounted_price": money(price), "discounted_price_set": price_set(price), "tax_lines": [] })
        })
        .collect();
    let shipping_total: Decimal =
        edges(&n["shippingLines"]).iter().map(|e| amount(&e["node"]["originalPriceSet"])).sum();
    let taxes = n["taxLines"].as_array().cloned().unwrap_or_default();
    let tax: Decimal = taxes.iter().map(|t| amount(&t["priceSet"])).sum();
    let tax_lines: Vec<Value> = taxes
        .iter()
        .map(|t| {
            let price = amount(&t["priceSet"]);
            json!({ "title": t["title"], "rate": t["rate"], "price": money(price), "price_set": price_set(price),
                "channel_liable": false })
        })
        .collect();
    let (total, discounts) = (amount(&n["totalPriceSet"]), amount(&n["totalDiscountsSet"]));
    let subtotal = line_total - discounts;
    let order = json!({
        "id": o.id, "admin_graphql_api_id": n["id"], "name": name,
        "order_number": order_number, "number": order_number.saturating_sub(1000),
        "email": n["email"], "contact_email": n["email"], "phone": n["phone"],
        "created_at": local(o.created), "updated_at": local(o.updated), "processed_at": local(o.created),
        "cancelled_at": local_at(&n["cancelledAt"]), "cancel_reason": o.cancelled().then_some("customer"),
        "closed_at": local_at(&n["closedAt"]),
        "confirmed": true, "test": false, "source_name": "web", "tags": "", "note": null,
        "currency": "EUR", "presentment_currency": "EUR", "taxes_included": n["taxesIncluded"],
        "financial_status": o.financial_status(), "fulfillment_status": o.fulfillment_status(),
    });
    let sums = json!({
        "total_price": money(total), "total_price_set": price_set(total),
        "subtotal_price": money(subtotal), "subtotal_price_set": price_set(subtotal),
        "total_line_items_price": money(line_total), "total_line_items_price_set": price_set(line_total),
        "total_tax": money(tax), "total_tax_set": price_set(tax),
        "total_discounts": money(discounts), "total_discounts_set": price_set(discounts),
        "total_shipping_price_set": price_set(shipping_total),
        "shipping_lines": shipping, "tax_lines": tax_lines,
        "customer": customer(&n["customer"]),
        "shipping_address": address(&n["shippingAddress"]), "billing_address": address(&n["shippingAddress"]),
        "refunds": refunds(o, &lines), "fulfillments": fulfillments(o, &lines),
        "line_items": lines,
    });
    merged(order, sums)
}

fn line_item_id(order: u64, index: usize) -> u64 {
    order * 1000 + index as u64 + 1
}

fn line_items(o: &OrderRow, catalog: &HashMap<String, (u64, u64)>) -> Vec<Value> {
    let fulfilled = o.fulfillment_status() == Some("fulfilled");
    let edges = o.node["lineItems"]["edges"].as_array().cloned().unwrap_or_default();
    edges
        .iter()
        .enumerate()
        .map(|(i, edge)| {
            let l = &edge["node"];
            let id = line_item_id(o.id, i);
            let quantity = l["quantity"].as_i64().unwrap_or(0);
            let price = amount(&l["originalUnitPriceSet"]);
            let ids = l["sku"].as_str().and_then(|s| catalog.get(s));
            json!({
                "id": id, "admin_graphql_api_id": format!("gid://shopify/LineItem/{id}"),
                "variant_id": ids.map(|(v, _)| v), "product_id": ids.map(|(_, p)| p), "product_exists": ids.is_some(),
                "sku": l["sku"], "title": l["title"], "name": l["title"], "variant_title": null, "vendor": null,
                "quantity": quantity, "current_quantity": quantity,
                "fulfillable_quantity": if fulfilled || o.cancelled() { 0 } else { quantity },
                "fulfillment_status": fulfilled.then_some("fulfilled"), "fulfillment_service": "manual",
                "price": money(price), "price_set": price_set(price),
                "total_discount": money(Decimal::ZERO), "total_discount_set": price_set(Decimal::ZERO),
                "taxable": true, "requires_shipping": true, "gift_card": false,
                "tax_lines": [], "discount_allocations": [],
            })
        })
        .collect()
}

fn customer(c: &Value) -> Value {
    if !c.is_object() {
        return Value::Null;
    }
    json!({
        "id": gid_of(&c["id"]), "admin_graphql_api_id": c["id"], "email": c["email"],
        "first_name": c["firstName"], "last_name": c["lastName"], "phone": c["phone"],
        "currency": "EUR", "state": "disabled", "verified_email": true, "tax_exempt": false, "tags": "",
    })
}

fn address(a: &Value) -> Value {
    if !a.is_object() {
        return Value::Null;
    }
    let name = a["name"].as_str().unwrap_or_default();
    let (first, last) = name.split_once(' ').unwrap_or((name, ""));
    let code = a["countryCodeV2"].as_str();
    json!({
        "first_name": first, "last_name": last, "name": name, "company": null,
        "address1": a["address1"], "address2": a["address2"], "city": a["city"], "zip": a["zip"],
        "province": null, "province_code": null, "country": code.map(country_name), "country_code": code,
        "phone": a["phone"], "latitude": null, "longitude": null,
    })
}

fn refunds(o: &OrderRow, lines: &[Value]) -> Vec<Value> {
    let all = o.node["refunds"].as_array().cloned().unwrap_or_default();
    all.iter()
        .map(|r| {
            let id = gid_of(&r["id"]).unwrap_or(0);
            let at = local_at(&r["createdAt"]);
            let items = r["refundLineItems"]["nodes"].as_array().cloned().unwrap_or_default();
            let items: Vec<Value> = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let line = lines.iter().find(|l| l["sku"] == item["lineItem"]["sku"]).cloned().unwrap_or_default();
                    let subtotal = amount(&item["subtotalSet"]);
                    json!({ "id": id * 100 + i as u64 + 1, "quantity": item["quantity"], "line_item_id": line["id"],
                        "line_item": line, "restock_type": "no_restock", "location_id": null,
                        "subtotal": money(subtotal), "subtotal_set": price_set(subtotal),
                        "total_tax": money(Decimal::ZERO), "total_tax_set": price_set(Decimal::ZERO) })
                })
                .collect();
            let total = amount(&r["totalRefundedSet"]);
            let transaction = json!({ "id": id * 10 + 1, "order_id": o.id, "kind": "refund", "status": "success",
                "gateway": "manual", "amount": money(total), "currency": "EUR", "created_at": at, "processed_at": at });
            json!({ "id": id, "admin_graphql_api_id": r["id"], "order_id": o.id, "created_at": at, "processed_at": at,
                "note": r["note"], "restock": false, "user_id": null, "refund_line_items": items,
                "transactions": [transaction], "order_adjustments": [] })
        })
        .collect()
}

fn fulfillments(o: &OrderRow, lines: &[Value]) -> Vec<Value> {
    let all = o.node["fulfillments"].as_array().cloned().unwrap_or_default();
    let name = o.node["name"].as_str().unwrap_or_default();
    all.iter()
        .enumerate()
        .map(|(i, f)| {
            let tracking = f["trackingInfo"].as_array().cloned().unwrap_or_default();
            let each = |key: &str| tracking.iter().map(|t| t[key].clone()).filter(|v| !v.is_null()).collect::<Vec<_>>();
            let first = tracking.first().cloned().unwrap_or_default();
            json!({
                "id": gid_of(&f["id"]), "admin_graphql_api_id": f["id"], "order_id": o.id,
                "name": format!("{name}.{}", i + 1), "status": f["status"].as_str().map(str::to_ascii_lowercase),
                "created_at": local_at(&f["createdAt"]), "updated_at": local_at(&f["createdAt"]),
                "service": "manual", "location_id": gid_number(LOCATION_ID), "shipment_status": null,
                "tracking_company": first["company"], "tracking_number": first["number"], "tracking_url": first["url"],
                "tracking_numbers": each("number"), "tracking_urls": each("url"), "line_items": lines,
            })
        })
        .collect()
}

// ---- Events ---------------------------------------------------------------

/// An event derived from an order's node.
struct EventRow {
    id: u64,
    created: DateTime<Utc>,
    subject_id: u64,
    verb: &'static str,
    arguments: Vec<Value>,
    message: String,
    description: String,
}

/// Event ids grow with time, as Shopify's do: seconds, then the order's
/// place, then the kind (1 confirmed, 2 fulfilled, 3–8 refunds, 9 cancelled).
fn event_id(at: DateTime<Utc>, order: u64, kind: u64) -> u64 {
    u64::try_from(at.timestamp()).unwrap_or(0) * 100_000 + (order.saturating_sub(FIRST_ID) % 10_000) * 10 + kind
}

/// An order's events: `confirmed` when placed, then `fulfillment_success`,
/// `refund_success` and `cancelled` as they happened.
fn order_events(o: &OrderRow) -> Vec<EventRow> {
    let n = &o.node;
    let name = n["name"].as_str().unwrap_or_default().to_owned();
    let link = format!("<a href=\"/admin/orders/{}\">{name}</a>", o.id);
    let person = [&n["customer"]["firstName"], &n["customer"]["lastName"]]
        .iter()
        .filter_map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let event = |at: DateTime<Utc>, kind: u64, verb, arguments, message: String, description: String| EventRow {
        id: event_id(at, o.id, kind),
        created: at,
        subject_id: o.id,
        verb,
        arguments,
        message,
        description,
    };
    let mut events = vec![event(
        o.created,
        1,
        "confirmed",
        vec![json!(name), json!(person)],
        format!("Received new order {link} by {person}."),
        format!("Received new order {name} by {person}."),
    )];
    for f in n["fulfillments"].as_array().into_iter().flatten() {
        if let Some(at) = f["createdAt"].as_str().and_then(parse_utc) {
            let items: i64 = n["lineItems"]["edges"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["node"]["quantity"].as_i64())
                .sum();
            let text = format!("We fulfilled {items} items of {name}.");
            events.push(event(at, 2, "fulfillment_success", vec![json!(items)], text.clone(), text));
        }
    }
    for (i, r) in n["refunds"].as_array().into_iter().flatten().enumerate() {
        if let Some(at) = r["createdAt"].as_str().and_then(parse_utc) {
            let total = money(amount(&r["totalRefundedSet"]));
            let total = total.as_str().unwrap_or_default();
            let text = |order: &str| format!("We successfully refunded {total} EUR on {order}.");
            events.push(event(at, 3 + i.min(5) as u64, "refund_success", vec![json!(total)], text(&link), text(&name)));
        }
    }
    if let Some(at) = n["cancelledAt"].as_str().and_then(parse_utc) {
        let text = |order: &str| format!("Order {order} was cancelled.");
        events.push(event(at, 9, "cancelled", vec![json!(name)], text(&link), text(&name)));
    }
    events
}

fn rest_event(e: &EventRow) -> Value {
    json!({
        "id": e.id, "subject_id": e.subject_id, "created_at": local(e.created), "subject_type": "Order",
        "verb": e.verb, "arguments": e.arguments, "body": null, "message": e.message, "author": "Shopify",
        "description": e.description, "path": format!("/admin/orders/{}", e.subject_id),
    })
}

fn list_events(shop: &ShopifySim, params: &[(String, String)], here: &str) -> Result<Response, Response> {
    let paging = Paging::parse(params, "events")?;
    let mut c = Checks::new(&paging.filters);
    let since_id = c.number("since_id");
    let created = c.range("created_at");
    c.done()?;
    let subjects = value(&paging.filters, "filter");
    let verb = value(&paging.filters, "verb");
    let wanted = |e: &EventRow| {
        subjects
            .is_none_or(|s| s.split(',').any(|t| matches!(t.trim().to_ascii_lowercase().as_str(), "order" | "orders")))
            && verb.is_none_or(|v| e.verb == v)
            && since_id.is_none_or(|s| e.id > s)
            && within(created, e.created)
    };
    // Newest first; by id with `since_id`.
    let by_id = since_id.is_some();
    let mut rows: Vec<(Key, EventRow)> = order_rows(shop)
        .iter()
        .flat_map(order_events)
        .filter(|e| wanted(e))
        .map(|e| (if by_id { (0, e.id) } else { (e.created.timestamp_micros(), e.id) }, e))
        .collect();
    rows.sort_by_key(|(k, _)| *k);
    if !by_id {
        rows.reverse();
    }
    Ok(paging.answer(here, "events", &rows, !by_id, rest_event))
}

// ---- Shop -----------------------------------------------------------------

fn shop_body() -> Value {
    let created = SHOP_TZ.with_ymd_and_hms(2024, 3, 1, 10, 0, 0).earliest().map(|t| t.with_timezone(&Utc));
    let created = created.map_or(Value::Null, local);
    let place = json!({
        "id": 60_110_000_001u64, "name": "Ferry Demo Store", "email": "owner@ferry-demo.example",
        "domain": "shop.ferry-demo.example", "myshopify_domain": "ferry-demo.myshopify.com",
        "shop_owner": "Ferry Demo", "customer_email": "hello@ferry-demo.example", "phone": null,
        "address1": "1 Market Street", "address2": null, "city": "Berlin", "zip": "10115",
        "province": null, "province_code": null, "country": "DE", "country_code": "DE", "country_name": "Germany",
        "latitude": null, "longitude": null, "primary_locale": "en", "primary_location_id": gid_number(LOCATION_ID),
    });
    let settings = json!({
        "currency": "EUR", "enabled_presentment_currencies": ["EUR"],
        "money_format": "€{{amount_with_comma_separator}}",
        "money_with_currency_format": "€{{amount_with_comma_separator}} EUR",
        "timezone": "(GMT+01:00) Europe/Berlin", "iana_timezone": "Europe/Berlin",
        "weight_unit": "kg", "taxes_included": true, "tax_shipping": null, "county_taxes": null,
        "plan_name": "basic", "plan_display_name": "Basic", "has_storefront": true, "has_discounts": true,
        "has_gift_cards": false, "multi_location_enabled": false, "password_enabled": false,
        "setup_required": false, "pre_launch_enabled": false, "checkout_api_supported": false,
        "eligible_for_payments": true, "finances": true, "source": null,
        "created_at": created, "updated_at": created,
    });
    merged(place, settings)
}

/// `a` with `b`'s keys added (one `json!` holds only so many).
fn merged(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimOptions;
    use std::time::Duration;

    fn at(text: &str) -> DateTime<Utc> {
        parse_utc(text).expect("a test time")
    }

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    async fn body(response: Response) -> Value {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
        serde_json::from_slice(&bytes).expect("a JSON body")
    }

    fn shop(orders: usize) -> ShopifySim {
        let opts = SimOptions { orders, now: at("2026-11-26T12:00:00Z"), ..SimOptions::default() };
        ShopifySim::seeded(&opts, &crate::seed::catalog(opts.seed))
    }

    #[test]
    fn versions_fall_forward_and_unknown_ones_are_not_found() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).expect("a date");
        let served = |v| served_version(v, today);
        assert_eq!(served("2026-10").as_deref(), Some("2026-10"), "the current stable version");
        assert_eq!(served("2026-01").as_deref(), Some("2026-01"), "the oldest supported version");
        assert_eq!(served("2027-01").as_deref(), Some("2027-01"), "the release candidate");
        assert_eq!(served("unstable").as_deref(), Some("unstable"));
        assert_eq!(served("2024-10").as_deref(), Some("2026-01"), "a retired version falls forward");
        for bad in ["2027-04", "2025-02", "2025-7", "v1", "latest", "2025-13", "", "１２３４-01"] {
            assert_eq!(served(bad), None, "{bad:?} names no version");
        }
    }

    #[test]
    fn the_bucket_holds_forty_and_leaks_two_a_second() {
        let state = RestState::default();
        let start = Instant::now();
        for n in 1..=40 {
            assert_eq!(state.admit(start), Ok(n), "request {n} fits");
        }
        assert_eq!(state.admit(start), Err(40), "the 41st overflows");
        assert_eq!(state.admit(start + Duration::from_millis(500)), Ok(40), "half a second leaks one request");
        assert_eq!(state.admit(start + Duration::from_millis(500)), Err(40));
        assert_eq!(state.admit(start + Duration::from_secs(30)), Ok(1), "a rested bucket is empty again");
    }

    #[test]
    fn times_in_the_forms_shopify_takes() {
        let t = at("2014-04-25T20:15:47Z");
        assert_eq!(parse_time("2014-04-25T16:15:47-04:00"), Some(t));
        assert_eq!(parse_time("2014-04-25T20:15:47+00:00"), Some(t));
        assert_eq!(parse_time("2014-04-25T22:15:47 02:00"), Some(t), "an unencoded + arrives as a space");
        assert_eq!(parse_time("2014-04-25T22:15:47"), Some(t), "no offset: the shop's time zone (CEST)");
        assert_eq!(parse_time("2014-04-25"), Some(at("2014-04-24T22:00:00Z")));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(local(t), json!("2014-04-25T22:15:47+02:00"), "shown in the shop's time zone");
    }

    #[test]
    fn page_info_round_trips_and_garbage_is_refused() {
        let info = PageInfo {
            resource: "orders".into(),
            filters: params(&[("status", "any")]),
            direction: Direction::Next,
            last_value: 7,
            last_id: 5,
        };
        assert_eq!(PageInfo::decode(&info.encode()), Some(info));
        assert_eq!(PageInfo::decode("zz"), None);
        assert_eq!(PageInfo::decode("abc"), None);
    }

    #[test]
    fn pages_go_both_ways() {
        let keys: Vec<Key> = (1..=5).map(|i| (0, i)).collect();
        let paging = |cursor| Paging { filters: Vec::new(), cursor, limit: 2, fields: None };
        assert_eq!(paging(None).window(&keys, false), (0, 2));
        assert_eq!(paging(Some((Direction::Next, (0, 2)))).window(&keys, false), (2, 4));
        assert_eq!(paging(Some((Direction::Next, (0, 4)))).window(&keys, false), (4, 5));
        assert_eq!(paging(Some((Direction::Previous, (0, 5)))).window(&keys, false), (2, 4));
        assert_eq!(paging(Some((Direction::Previous, (0, 2)))).window(&keys, false), (0, 1));
        let desc: Vec<Key> = keys.iter().rev().copied().collect();
        assert_eq!(paging(Some((Direction::Next, (0, 4)))).window(&desc, true), (2, 4), "after 4 come 3 and 2");
        let link = |range| {
            let value = paging(None).link("http://h/o.json", "orders", &keys, range);
            value.map(|v| v.to_str().unwrap_or_default().to_owned()).unwrap_or_default()
        };
        assert!(link((0, 2)).ends_with("rel=\"next\"") && !link((0, 2)).contains("previous"), "a first page");
        assert!(link((2, 4)).contains("rel=\"previous\", <") && link((2, 4)).ends_with("rel=\"next\""));
        assert!(link((4, 5)).ends_with("rel=\"previous\""), "a last page has no next");
        assert_eq!(link((0, 5)), "", "one page: no Link header");
    }

    #[tokio::test]
    async fn page_info_takes_only_limit_and_fields() {
        let info = PageInfo {
            resource: "orders".into(),
            filters: Vec::new(),
            direction: Direction::Next,
            last_value: 0,
            last_id: 1,
        }
        .encode();
        let err = Paging::parse(&params(&[("page_info", &info), ("status", "any"), ("limit", "5")]), "orders");
        let errors = body(err.err().expect("status is refused")).await;
        assert_eq!(
            errors["errors"]["status"],
            "status cannot be passed when page_info is present. See https://shopify.dev/api/usage/pagination-rest for more information."
        );
        let events = Paging::parse(&params(&[("page_info", &info)]), "events").err().expect("another list's cursor");
        assert_eq!(body(events).await, json!({ "errors": { "page_info": "Invalid value." } }));
        let over = Paging::parse(&params(&[("limit", "251")]), "orders").err().expect("over the maximum");
        assert_eq!(body(over).await["errors"]["limit"], "must be a whole number from 1 to 250");
        let fine = Paging::parse(&params(&[("page_info", &info), ("limit", "5"), ("fields", "id")]), "orders");
        assert!(fine.is_ok_and(|p| p.limit == 5 && p.cursor == Some((Direction::Next, (0, 1)))));
    }

    #[tokio::test]
    async fn bad_filters_are_named() {
        let bad = params(&[("status", "shipped"), ("updated_at_min", "soon"), ("order", "price asc")]);
        let errors = body(OrderQuery::parse(&bad).err().expect("three bad filters")).await;
        let named: Vec<&String> = errors["errors"].as_object().map(|m| m.keys().collect()).unwrap_or_default();
        assert_eq!(named, ["order", "status", "updated_at_min"]);
    }

    #[test]
    fn a_rest_order_adds_up_and_reads_like_shopifys() {
        let shop = shop(40);
        let catalog = catalog_ids(&shop);
        for row in order_rows(&shop) {
            let o = rest_order(&row, &catalog);
            let money = |k: &str| o[k].as_str().and_then(|v| v.parse::<Decimal>().ok()).expect("a price");
            let shipping: Decimal = o["shipping_lines"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["price"].as_str()?.parse::<Decimal>().ok())
                .sum();
            let added_tax = if o["taxes_included"] == true { Decimal::ZERO } else { money("total_tax") };
            assert_eq!(
                money("subtotal_price") + shipping + added_tax,
                money("total_price"),
                "order {} adds up",
                row.id
            );
            assert_eq!(o["id"], row.id);
            assert_eq!(o["financial_status"], "paid");
            assert_eq!(o["fulfillment_status"], Value::Null);
            assert_eq!(o["name"], format!("#{}", o["order_number"]));
            assert!(o["line_items"][0]["variant_id"].is_u64(), "seeded SKUs are in the catalog");
            assert!(o["created_at"].as_str().is_some_and(|t| t.ends_with("+01:00")), "shown in Berlin's winter time");
        }
    }

    #[test]
    fn events_follow_what_happened_to_an_order() {
        let shop = shop(3);
        let id = format!("gid://shopify/Order/{FIRST_ID}");
        assert!(shop.refund_order(&id, &[], "5.00", "goodwill", at("2026-11-26T13:00:00Z")).is_some());
        assert!(shop.cancel_order(&id, at("2026-11-26T14:00:00Z")));
        let rows = order_rows(&shop);
        let events = order_events(&rows[0]);
        let verbs: Vec<&str> = events.iter().map(|e| e.verb).collect();
        assert_eq!(verbs, ["confirmed", "refund_success", "cancelled"]);
        assert!(events.windows(2).all(|w| w[0].id < w[1].id), "ids grow with time");
        assert_eq!(events[1].description, "We successfully refunded 5.00 EUR on #1001.");
        let o = rest_order(&rows[0], &HashMap::new());
        assert_eq!(o["financial_status"], "partially_refunded");
        assert_eq!(o["refunds"][0]["transactions"][0]["amount"], "5.00");
        assert_eq!(o["cancelled_at"], "2026-11-26T15:00:00+01:00");
    }

    #[test]
    fn fields_keep_only_the_named_keys() {
        let item = json!({ "id": 1, "name": "#1001", "email": "a@b" });
        assert_eq!(pick_fields(item.clone(), Some("id, name")), json!({ "id": 1, "name": "#1001" }));
        assert_eq!(pick_fields(item.clone(), Some("")), item);
        assert_eq!(pick_fields(item.clone(), None), item);
    }
}
