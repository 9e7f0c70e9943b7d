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

mod events;
mod orders;
mod paging;

use super::{ShopifySim, FIRST_ID, LOCATION_ID};
use crate::Sim;
use axum::extract::rejection::QueryRejection;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use events::*;
use orders::*;
use paging::*;
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
        .route("/admin/api/{version}/orders.json", get(listed(list_orders)))
        // `{id}.json` and `count.json`: a path parameter is a whole segment.
        .route("/admin/api/{version}/orders/{file}", get(order_file))
        .route("/admin/api/{version}/events.json", get(listed(list_events)))
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

/// Lists a page of a paged resource with `list`.
type Lister = fn(&ShopifySim, &[(String, String)], &str) -> Result<Response, Response>;

/// The handler of a paged list (`orders.json`, `events.json`).
fn listed(
    list: Lister,
) -> impl Fn(State<Arc<Sim>>, Path<String>, OriginalUri, HeaderMap, QueryParams) -> BoxedResponse + Clone {
    move |State(sim), Path(version), OriginalUri(uri), headers, query| {
        Box::pin(async move {
            let here = here(&sim.shopify, &headers, &uri);
            serve(&sim.shopify, Some(&version), &headers, |shop| list(shop, &params(query)?, &here)).await
        })
    }
}

type BoxedResponse = std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>;

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
