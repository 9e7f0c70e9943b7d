//! The emulated REST API's routes and what each does, with WordPress's
//! parameter checks and WooCommerce's error codes.

use super::{invalid_params, render, serve, wc_error, StoredProduct, StoredVariation, WooSim};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDateTime, SubsecRound, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::sync::Arc;

type Q = Query<Vec<(String, String)>>;

const ORDER_STATUSES: &[&str] =
    &["pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "trash"];
const PRODUCT_STATUSES: &[&str] = &["draft", "pending", "private", "publish", "future"];
const ADDRESS_KEYS: &[&str] = &[
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
    "email",
    "phone",
];
/// WooCommerce's batch limit.
const MAX_BATCH: usize = 100;

/// The emulator's routes, under `/wp-json/wc/v3`.
pub fn router(state: Arc<WooSim>) -> Router {
    const V3: &str = "/wp-json/wc/v3";
    let r = |path: &str| format!("{V3}{path}");
    Router::new()
        .route(&r("/orders"), get(list_orders))
        .route(&r("/orders/{id}"), get(read_order).put(update_order))
        .route(&r("/orders/{id}/refunds"), get(list_refunds))
        .route(&r("/orders/{id}/notes"), get(list_notes).post(create_note))
        .route(&r("/products"), get(list_products))
        .route(&r("/products/batch"), post(batch_products))
        .route(&r("/products/{id}"), get(read_product).put(update_product))
        .route(&r("/products/{id}/variations"), get(list_variations))
        .route(&r("/products/{id}/variations/batch"), post(batch_variations))
        .route(&r("/products/{id}/variations/{vid}"), get(read_variation).put(update_variation))
        .route(&r("/customers"), get(list_customers))
        .route(&r("/customers/{id}"), get(read_customer).put(update_customer))
        .route(&r("/data/currencies/current"), get(current_currency))
        .fallback(no_route)
        .with_state(state)
}

async fn no_route() -> Response {
    wc_error(StatusCode::NOT_FOUND, "rest_no_route", "No route was found matching the URL and request method.")
}

/// Query parameters; the last of a repeated one wins, as in PHP.
struct Params<'a>(&'a [(String, String)]);

/// (parameter, what is wrong with it), answered together.
type Problems = Vec<(String, String)>;

impl Params<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == key || k.strip_suffix("[]") == Some(key)).map(|(_, v)| v.as_str())
    }

    fn number(&self, key: &str, min: u64, max: u64, default: u64, problems: &mut Problems) -> u64 {
        match self.get(key).map(str::parse::<u64>) {
            None => default,
            Some(Ok(n)) if (min..=max).contains(&n) => n,
            Some(_) if max == u64::MAX => {
                problems.push((key.into(), format!("{key} must be greater than or equal to {min}")));
                default
            }
            Some(_) => {
                problems.push((key.into(), format!("{key} must be between {min} (inclusive) and {max} (inclusive)")));
                default
            }
        }
    }

    fn one_of(&self, key: &str, options: &[&str], default: &str, problems: &mut Problems) -> String {
        match self.get(key) {
            None => default.to_owned(),
            Some(v) if options.contains(&v) => v.to_owned(),
            Some(_) => {
                problems.push((key.into(), format!("{key} is not one of {}.", options.join(", "))));
                default.to_owned()
            }
        }
    }

    fn boolean(&self, key: &str, problems: &mut Problems) -> bool {
        match self.get(key) {
            None | Some("false" | "0" | "") => false,
            Some("true" | "1") => true,
            Some(_) => {
                problems.push((key.into(), format!("{key} is not of type boolean.")));
                false
            }
        }
    }

    /// An ISO 8601 date: with a zone it is that moment; without one it is
    /// GMT when `gmt`, else the site's local time (`dates_are_gmt`).
    fn date(&self, key: &str, gmt: bool, problems: &mut Problems) -> Option<DateTime<Utc>> {
        let raw = self.get(key)?;
        if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
            return Some(t.with_timezone(&Utc));
        }
        let naive = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f")
            .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S"));
        match naive {
            Ok(n) if gmt => Some(n.and_utc()),
            Ok(n) => render::SITE_TZ.from_local_datetime(&n).earliest().map(|t| t.with_timezone(&Utc)),
            Err(_) => {
                problems.push((key.into(), "Invalid date.".into()));
                None
            }
        }
    }
}

/// Which page of a collection, and in what order.
struct Listing {
    page: u64,
    per_page: u64,
    orderby: String,
    desc: bool,
    /// Where this page begins (an offset page trouble may move it).
    from: usize,
}

fn listing(
    p: &Params<'_>,
    orderbys: &[&str],
    default_orderby: &str,
    default_desc: bool,
    problems: &mut Problems,
) -> Listing {
    let order = p.one_of("order", &["asc", "desc"], if default_desc { "desc" } else { "asc" }, problems);
    let mut l = Listing {
        page: p.number("page", 1, u64::MAX, 1, problems),
        per_page: p.number("per_page", 1, 100, 10, problems),
        orderby: p.one_of("orderby", orderbys, default_orderby, problems),
        desc: order == "desc",
        from: 0,
    };
    l.from = l.start();
    l
}

impl Listing {
    /// Where the page begins in its list.
    fn start(&self) -> usize {
        usize::try_from((self.page - 1).saturating_mul(self.per_page)).unwrap_or(usize::MAX)
    }
}

/// One page of `items` with `X-WP-Total`, `X-WP-TotalPages` and `Link`.
fn paged(items: Vec<Value>, l: &Listing, uri: &Uri) -> Response {
    let total = items.len() as u64;
    let pages = total.div_ceil(l.per_page);
    let start = l.from;
    let page: Vec<Value> = items.into_iter().skip(start).take(l.per_page as usize).collect();
    let mut response = Json(page).into_response();
    let h = response.headers_mut();
    h.insert("x-wp-total", HeaderValue::from(total));
    h.insert("x-wp-totalpages", HeaderValue::from(pages));
    let link_to = |n: u64| {
        let query: Vec<String> = uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|kv| !kv.is_empty() && !kv.starts_with("page="))
            .map(str::to_owned)
            .chain([format!("page={n}")])
            .collect();
        format!("<{}?{}>", uri.path(), query.join("&"))
    };
    let mut links = Vec::new();
    if l.page > 1 {
        links.push(format!("{}; rel=\"prev\"", link_to((l.page - 1).min(pages.max(1)))));
    }
    if pages > l.page {
        links.push(format!("{}; rel=\"next\"", link_to(l.page + 1)));
    }
    if let Ok(v) = HeaderValue::from_str(&links.join(", ")) {
        if !links.is_empty() {
            h.insert("link", v);
        }
    }
    response
}

/// A list of ids: `exclude=1,2,3` or `exclude[]=1&exclude[]=2`.
fn ids_param(p: &Params<'_>, key: &str, problems: &mut Problems) -> Vec<u64> {
    let bracketed = format!("{key}[]");
    let raw: Vec<&str> =
        p.0.iter()
            .filter(|(k, _)| *k == key || *k == bracketed)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
    let ids: Vec<u64> = raw.iter().filter_map(|v| v.parse().ok()).collect();
    if ids.len() != raw.len() {
        problems.push((key.into(), format!("{key}[0] is not of type integer.")));
    }
    ids
}

fn id_of(raw: &str) -> Option<u64> {
    raw.parse().ok().filter(|n| *n > 0)
}

fn invalid_json() -> Response {
    wc_error(StatusCode::BAD_REQUEST, "rest_invalid_json", "Invalid JSON body passed.")
}

fn object(body: &[u8]) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(invalid_json()),
    }
}

fn order_not_found() -> Response {
    wc_error(StatusCode::NOT_FOUND, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
}

fn product_not_found() -> Response {
    wc_error(StatusCode::NOT_FOUND, "woocommerce_rest_product_invalid_id", "Invalid ID.")
}

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// A decimal amount given as text, e.g. `"12.50"` (or `""` for none).
fn price_text(key: &str, v: &Value, problems: &mut Problems) -> Option<Decimal> {
    match v {
        Value::String(s) if s.is_empty() => Some(Decimal::ZERO),
        Value::String(s) => match s.trim().parse::<Decimal>() {
            Ok(d) if d >= Decimal::ZERO => Some(d),
            _ => {
                problems.push((key.into(), format!("{key} must be a decimal number as text, e.g. \"12.50\".")));
                None
            }
        },
        _ => {
            problems.push((key.into(), format!("{key} is not of type string.")));
            None
        }
    }
}

/// The fields of a product or variation a request changes, checked.
#[derive(Default)]
struct StockAndPrice {
    name: Option<String>,
    regular_price: Option<Decimal>,
    status: Option<String>,
    manage_stock: Option<bool>,
    stock_quantity: Option<Option<i64>>,
}

fn product_changes(body: &Map<String, Value>, variation: bool) -> Result<StockAndPrice, Response> {
    let mut problems = Problems::new();
    let mut c = StockAndPrice::default();
    for (key, v) in body {
        match key.as_str() {
            "name" if !variation => match v.as_str() {
                Some(s) => c.name = Some(s.to_owned()),
                None => problems.push((key.clone(), "name is not of type string.".into())),
            },
            "regular_price" => c.regular_price = price_text(key, v, &mut problems),
            "status" => match v.as_str().filter(|s| PRODUCT_STATUSES.contains(s)) {
                Some(s) => c.status = Some(s.to_owned()),
                None => problems.push((key.clone(), format!("status is not one of {}.", PRODUCT_STATUSES.join(", ")))),
            },
            "manage_stock" => match v {
                Value::Bool(b) => c.manage_stock = Some(*b),
                Value::String(s) if variation && s == "parent" => c.manage_stock = Some(false),
                _ => problems.push((key.clone(), "manage_stock is not of type boolean.".into())),
            },
            "stock_quantity" => match v {
                Value::Null => c.stock_quantity = Some(None),
                v => match v.as_i64() {
                    Some(n) => c.stock_quantity = Some(Some(n)),
                    None => problems.push((key.clone(), "stock_quantity is not of type integer.".into())),
                },
            },
            _ => {}
        }
    }
    if problems.is_empty() {
        Ok(c)
    } else {
        Err(invalid_params(&problems))
    }
}

fn apply_to_product(p: &mut StoredProduct, c: StockAndPrice) {
    if let Some(n) = c.name {
        p.name = n;
    }
    if let Some(price) = c.regular_price {
        p.regular_price = price;
    }
    if let Some(s) = c.status {
        p.status = s;
    }
    if let Some(m) = c.manage_stock {
        p.manage_stock = m;
    }
    if let Some(q) = c.stock_quantity {
        p.stock = q;
    }
    p.modified = now();
}

fn apply_to_variation(v: &mut StoredVariation, c: StockAndPrice) {
    if let Some(price) = c.regular_price {
        v.regular_price = price;
    }
    if let Some(s) = c.status {
        v.status = s;
    }
    if let Some(m) = c.manage_stock {
        v.manage_stock = m;
    }
    if let Some(q) = c.stock_quantity {
        v.stock = q;
    }
    v.modified = now();
}

/// The `error` entry a batch answers for one item that failed.
async fn batch_error(id: Value, r: Response) -> Value {
    let status = r.status().as_u16();
    let body = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap_or_default();
    let mut error: Value = serde_json::from_slice(&body).unwrap_or_else(|_| json!({ "code": "error", "message": "" }));
    error["data"]["status"] = json!(status);
    json!({ "id": id, "error": error })
}

impl WooSim {
    fn list_orders(&self, q: &[(String, String)], uri: &Uri) -> Response {
        let p = Params(q);
        let mut problems = Problems::new();
        let l = listing(&p, &["date", "id", "include", "title", "slug", "modified"], "date", true, &mut problems);
        let gmt = p.boolean("dates_are_gmt", &mut problems);
        let after = p.date("after", gmt, &mut problems);
        let before = p.date("before", gmt, &mut problems);
        let modified_after = p.date("modified_after", gmt, &mut problems);
        let modified_before = p.date("modified_before", gmt, &mut problems);
        let statuses: Vec<String> = p.get("status").unwrap_or("any").split(',').map(|s| s.trim().to_owned()).collect();
        if statuses.iter().any(|s| s != "any" && !ORDER_STATUSES.contains(&s.as_str())) {
            problems.push(("status".into(), format!("status[0] is not one of any, {}.", ORDER_STATUSES.join(", "))));
        }
        let customer = p.get("customer").map(|c| c.parse::<u64>().unwrap_or(u64::MAX));
        let exclude = ids_param(&p, "exclude", &mut problems);
        if !problems.is_empty() {
            return invalid_params(&problems);
        }
        let listed = |orders: &[super::StoredOrder]| {
            let mut hits: Vec<usize> = orders
                .iter()
                .enumerate()
                .filter(|(_, o)| {
                    let status = o.json["status"].as_str().unwrap_or_default();
                    let status_ok = if statuses.iter().any(|s| s == "any") {
                        status != "trash"
                    } else {
                        statuses.iter().any(|s| s == status)
                    };
                    status_ok
                        && after.is_none_or(|t| o.created > t)
                        && before.is_none_or(|t| o.created < t)
                        && modified_after.is_none_or(|t| o.modified > t)
                        && modified_before.is_none_or(|t| o.modified < t)
                        && customer.is_none_or(|c| o.json["customer_id"].as_u64() == Some(c))
                        && !exclude.contains(&o.id)
                })
                .map(|(i, _)| i)
                .collect();
            let o = |i: &usize| &orders[*i];
            match l.orderby.as_str() {
                "modified" => hits.sort_by_key(|i| (o(i).modified, o(i).id)),
                "date" => hits.sort_by_key(|i| (o(i).created, o(i).id)),
                _ => hits.sort_by_key(|i| o(i).id),
            }
            if l.desc {
                hits.reverse();
            }
            hits
        };
        let trouble = self.faults.page_trouble(l.page == 1);
        let mut shop = self.shop();
        let mut hits = listed(&shop.orders);
        if let Some(at) = trouble.changed(l.start(), hits.len()) {
            // Someone edits an order already served.
            shop.orders[hits[at]].touch(Utc::now());
            hits = listed(&shop.orders);
        }
        let from = if l.page == 1 { 0 } else { self.faults.offset_start(l.start(), trouble) };
        let l = Listing { from, ..l };
        let hits: Vec<&super::StoredOrder> = hits.into_iter().map(|i| &shop.orders[i]).collect();
        paged(hits.into_iter().map(|o| o.json.clone()).collect(), &l, uri)
    }

    fn read_order(&self, id: &str) -> Response {
        let shop = self.shop();
        match id_of(id).and_then(|id| shop.orders.iter().find(|o| o.id == id)) {
            Some(o) => Json(o.json.clone()).into_response(),
            None => order_not_found(),
        }
    }

    fn update_order(&self, id: &str, body: &[u8]) -> Response {
        let body = match object(body) {
            Ok(b) => b,
            Err(r) => return r,
        };
        let status = match body.get("status") {
            None => None,
            Some(s) => match s.as_str().filter(|s| ORDER_STATUSES.contains(s)) {
                Some(s) => Some(s.to_owned()),
                None => {
                    let message = format!("status is not one of {}.", ORDER_STATUSES.join(", "));
                    return invalid_params(&[("status".into(), message)]);
                }
            },
        };
        let mut shop = self.shop();
        let Some(o) = id_of(id).and_then(|id| shop.order_mut(id)) else { return order_not_found() };
        if let Some(s) = status {
            if s == "completed" && o.json["status"] != "completed" {
                o.json["date_completed"] = json!(render::local(now()));
                o.json["date_completed_gmt"] = json!(render::gmt(now()));
            }
            o.json["status"] = json!(s);
            o.touch(now());
        }
        Json(o.json.clone()).into_response()
    }

    fn list_refunds(&self, id: &str, q: &[(String, String)], uri: &Uri) -> Response {
        let p = Params(q);
        let mut problems = Problems::new();
        let l = listing(&p, &["date", "id", "include", "title", "slug", "modified"], "date", true, &mut problems);
        if !problems.is_empty() {
            return invalid_params(&problems);
        }
        let shop = self.shop();
        let Some(id) = id_of(id).filter(|id| shop.orders.iter().any(|o| o.id == *id)) else {
            return order_not_found();
        };
        let mut refunds = shop.refunds.get(&id).cloned().unwrap_or_default();
        if !l.desc {
            refunds.reverse();
        }
        paged(refunds, &l, uri)
    }

    fn list_notes(&self, id: &str, q: &[(String, String)]) -> Response {
        let p = Params(q);
        let mut problems = Problems::new();
        let kind = p.one_of("type", &["any", "customer", "internal"], "any", &mut problems);
        if !problems.is_empty() {
            return invalid_params(&problems);
        }
        let shop = self.shop();
        let Some(id) = id_of(id).filter(|id| shop.orders.iter().any(|o| o.id == *id)) else {
            return order_not_found();
        };
        let notes: Vec<Value> = shop
            .notes
            .get(&id)
            .into_iter()
            .flatten()
            .filter(|n| kind == "any" || (n["customer_note"] == true) == (kind == "customer"))
            .cloned()
            .collect();
        Json(notes).into_response()
    }

    fn create_note(&self, id: &str, body: &[u8]) -> Response {
        let body = match object(body) {
            Ok(b) => b,
            Err(r) => return r,
        };
        let Some(text) = body.get("note").and_then(Value::as_str).filter(|s| !s.trim().is_empty()) else {
            let body = json!({ "code": "rest_missing_callback_param", "message": "Missing parameter(s): note",
                "data": { "status": 400, "params": ["note"] } });
            return (StatusCode::BAD_REQUEST, Json(body)).into_response();
        };
        let customer_note = match body.get("customer_note") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return invalid_params(&[("customer_note".into(), "customer_note is not of type boolean.".into())])
            }
        };
        let mut shop = self.shop();
        let Some(id) = id_of(id).filter(|id| shop.orders.iter().any(|o| o.id == *id)) else {
            return order_not_found();
        };
        let note_id = shop.next_id();
        let note = render::note(note_id, text, customer_note, now());
        shop.notes.entry(id).or_default().insert(0, note.clone());
        (StatusCode::CREATED, Json(note)).into_response()
    }

    fn list_products(&self, q: &[(String, String)], uri: &Uri) -> Response {
        let p = Params(q);
        let mut problems = Problems::new();
        let orderbys =
            ["date", "id", "include", "title", "slug", "modified", "price", "popularity", "rating", "menu_order"];
        let l = listing(&p, &orderbys, "date", true, &mut problems);
        let mut statuses = vec!["any"];
        statuses.extend(PRODUCT_STATUSES);
        let status = p.one_of("status", &statuses, "any", &mut problems);
        let kind = p.get("type").map(str::to_owned);
        let skus: Option<Vec<&str>> = p.get("sku").map(|s| s.split(',').map(str::trim).collect());
        if !problems.is_empty() {
            return invalid_params(&problems);
        }
        let shop = self.shop();
        let mut hits: Vec<&StoredProduct> = shop
            .products
            .iter()
            .filter(|pr| {
                let pr_type = if pr.variations.is_empty() { "simple" } else { "variable" };
                (status == "any" || pr.status == status)
                    && kind.as_deref().is_none_or(|k| k == pr_type)
                    && skus.as_ref().is_none_or(|s| !pr.sku.is_empty() && s.contains(&pr.sku.as_str()))
            })
            .collect();
        match l.orderby.as_str() {
            "modified" => hits.sort_by_key(|pr| (pr.modified, pr.id)),
            "date" => hits.sort_by_key(|pr| (pr.created, pr.id)),
            "title" => hits.sort_by(|a, b| a.name.cmp(&b.name)),
            _ => hits.sort_by_key(|pr| pr.id),
        }
        if l.desc {
            hits.reverse();
        }
        paged(hits.into_iter().map(render::product).collect(), &l, uri)
    }

    fn read_product(&self, id: &str) -> Response {
        let shop = self.shop();
        match id_of(id).and_then(|id| shop.products.iter().find(|p| p.id == id)) {
            Some(p) => Json(render::product(p)).into_response(),
            None => product_not_found(),
        }
    }

    /// Updates product `id` from `body` (a request or one batch item).
    fn update_product_from(&self, id: Option<u64>, body: &Map<String, Value>) -> Response {
        let changes = match product_changes(body, false) {
            Ok(c) => c,
            Err(r) => return r,
        };
        let mut shop = self.shop();
        let Some(p) = id.and_then(|id| shop.products.iter_mut().find(|p| p.id == id)) else {
            return product_not_found();
        };
        apply_to_product(p, changes);
        Json(render::product(p)).into_response()
    }

    fn update_variation_from(&self, pid: Option<u64>, vid: Option<u64>, body: &Map<String, Value>) -> Response {
        let changes = match product_changes(body, true) {
            Ok(c) => c,
            Err(r) => return r,
        };
        let mut shop = self.shop();
        let Some(p) = pid.and_then(|id| shop.products.iter_mut().find(|p| p.id == id)) else {
            return product_not_found();
        };
        let Some(v) = vid.and_then(|vid| p.variations.iter_mut().find(|v| v.id == vid)) else {
            return wc_error(StatusCode::NOT_FOUND, "woocommerce_rest_product_variation_invalid_id", "Invalid ID.");
        };
        apply_to_variation(v, changes);
        let json = render::variation(v);
        p.modified = now();
        Json(json).into_response()
    }

    fn list_variations(&self, id: &str, q: &[(String, String)], uri: &Uri) -> Response {
        let p = Params(q);
        let mut problems = Problems::new();
        let l = listing(
            &p,
            &["date", "id", "include", "title", "slug", "modified", "menu_order"],
            "date",
            true,
            &mut problems,
        );
        if !problems.is_empty() {
            return invalid_params(&problems);
        }
        let shop = self.shop();
        let Some(product) = id_of(id).and_then(|id| shop.products.iter().find(|p| p.id == id)) else {
            return product_not_found();
        };
        let mut hits: Vec<&StoredVariation> = product.variations.iter().collect();
        hits.sort_by_key(|v| (v.created, v.id));
        if l.desc {
            hits.reverse();
        }
        paged(hits.into_iter().map(render::variation).collect(), &l, uri)
    }

    fn read_variation(&self, id: &str, vid: &str) -> Response {
        let shop = self.shop();
        let found = id_of(id)
            .and_then(|id| shop.products.iter().find(|p| p.id == id))
            .and_then(|p| id_of(vid).and_then(|vid| p.variations.iter().find(|v| v.id == vid)));
        match found {
            Some(v) => Json(render::variation(v)).into_response(),
            None => wc_error(StatusCode::NOT_FOUND, "woocommerce_rest_product_variation_invalid_id", "Invalid ID."),
        }
    }

    fn list_customers(&self, q: &[(String, String)], uri: &Uri) -> Response {
        let p = Params(q);
        let mut problems = Problems::new();
        let l = listing(&p, &["id", "include", "name", "registered_date"], "name", false, &mut problems);
        let role = p.one_of("role", &["all", "customer", "administrator", "shop_manager"], "customer", &mut problems);
        let email = p.get("email").map(str::to_owned);
        if !problems.is_empty() {
            return invalid_params(&problems);
        }
        let shop = self.shop();
        let mut hits: Vec<&super::StoredCustomer> = shop
            .customers
            .iter()
            .filter(|_| matches!(role.as_str(), "all" | "customer"))
            .filter(|c| email.as_deref().is_none_or(|e| c.email.eq_ignore_ascii_case(e)))
            .collect();
        match l.orderby.as_str() {
            "name" => {
                hits.sort_by(|a, b| (&a.first_name, &a.last_name, a.id).cmp(&(&b.first_name, &b.last_name, b.id)))
            }
            "registered_date" => hits.sort_by_key(|c| (c.created, c.id)),
            _ => hits.sort_by_key(|c| c.id),
        }
        if l.desc {
            hits.reverse();
        }
        paged(hits.into_iter().map(render::customer).collect(), &l, uri)
    }

    fn read_customer(&self, id: &str) -> Response {
        match id_of(id).and_then(|id| self.customer(id)) {
            Some(c) => Json(c).into_response(),
            None => wc_error(StatusCode::NOT_FOUND, "woocommerce_rest_invalid_id", "Invalid resource ID."),
        }
    }

    fn update_customer(&self, id: &str, body: &[u8]) -> Response {
        let body = match object(body) {
            Ok(b) => b,
            Err(r) => return r,
        };
        let mut problems = Problems::new();
        let plausible = |e: &str| {
            e.split_once('@').is_some_and(|(user, host)| !user.is_empty() && host.contains('.') && !e.contains(' '))
        };
        let email = match body.get("email") {
            None => None,
            Some(Value::String(e)) if plausible(e) => Some(e.clone()),
            Some(_) => {
                problems.push(("email".into(), "Invalid email address.".into()));
                None
            }
        };
        let mut addresses: Vec<(&str, Map<String, Value>)> = Vec::new();
        for kind in ["billing", "shipping"] {
            match body.get(kind) {
                None => {}
                Some(Value::Object(a)) => {
                    let mut clean = Map::new();
                    for (k, v) in a.iter().filter(|(k, _)| ADDRESS_KEYS.contains(&k.as_str())) {
                        match v.as_str() {
                            Some(s) if k == "email" && !s.is_empty() && !plausible(s) => {
                                problems.push((kind.into(), format!("{kind} > email: Invalid email address.")))
                            }
                            Some(s) => {
                                clean.insert(k.clone(), json!(s));
                            }
                            None => problems.push((kind.into(), format!("{kind}[{k}] is not of type string."))),
                        }
                    }
                    addresses.push((kind, clean));
                }
                Some(_) => problems.push((kind.into(), format!("{kind} is not of type object."))),
            }
        }
        let names: Vec<(&str, String)> = ["first_name", "last_name"]
            .into_iter()
            .filter_map(|k| match body.get(k) {
                None => None,
                Some(Value::String(s)) => Some((k, s.clone())),
                Some(_) => {
                    problems.push((k.into(), format!("{k} is not of type string.")));
                    None
                }
            })
            .collect();
        if !problems.is_empty() {
            return invalid_params(&problems);
        }
        let mut shop = self.shop();
        let Some(id) = id_of(id).filter(|id| shop.customers.iter().any(|c| c.id == *id)) else {
            return wc_error(StatusCode::NOT_FOUND, "woocommerce_rest_invalid_id", "Invalid resource ID.");
        };
        if let Some(e) = &email {
            if shop.customers.iter().any(|c| c.id != id && c.email.eq_ignore_ascii_case(e)) {
                return wc_error(
                    StatusCode::BAD_REQUEST,
                    "woocommerce_rest_customer_invalid_email",
                    "Email address is invalid.",
                );
            }
        }
        let Some(c) = shop.customers.iter_mut().find(|c| c.id == id) else {
            return wc_error(StatusCode::NOT_FOUND, "woocommerce_rest_invalid_id", "Invalid resource ID.");
        };
        if let Some(e) = email {
            c.email = e;
        }
        for (k, v) in names {
            if k == "first_name" {
                c.first_name = v;
            } else {
                c.last_name = v;
            }
        }
        for (kind, changes) in addresses {
            let target = if kind == "billing" { &mut c.billing } else { &mut c.shipping };
            if !target.is_object() {
                *target = json!({});
            }
            for (k, v) in changes {
                target[k.as_str()] = v;
            }
        }
        c.modified = now();
        Json(render::customer(c)).into_response()
    }
}

async fn list_orders(State(sim): State<Arc<WooSim>>, Query(q): Q, uri: Uri, headers: HeaderMap) -> Response {
    serve(&sim, &headers, false, async { sim.list_orders(&q, &uri) }).await
}

async fn read_order(State(sim): State<Arc<WooSim>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    serve(&sim, &headers, false, async { sim.read_order(&id) }).await
}

async fn update_order(
    State(sim): State<Arc<WooSim>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(&sim, &headers, true, async { sim.update_order(&id, &body) }).await
}

async fn list_refunds(
    State(sim): State<Arc<WooSim>>,
    Path(id): Path<String>,
    Query(q): Q,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    serve(&sim, &headers, false, async { sim.list_refunds(&id, &q, &uri) }).await
}

async fn list_notes(
    State(sim): State<Arc<WooSim>>,
    Path(id): Path<String>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    serve(&sim, &headers, false, async { sim.list_notes(&id, &q) }).await
}

async fn create_note(
    State(sim): State<Arc<WooSim>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(&sim, &headers, true, async { sim.create_note(&id, &body) }).await
}

async fn list_products(State(sim): State<Arc<WooSim>>, Query(q): Q, uri: Uri, headers: HeaderMap) -> Response {
    serve(&sim, &headers, false, async { sim.list_products(&q, &uri) }).await
}

async fn read_product(State(sim): State<Arc<WooSim>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    serve(&sim, &headers, false, async { sim.read_product(&id) }).await
}

async fn update_product(
    State(sim): State<Arc<WooSim>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let work = async {
        match object(&body) {
            Ok(b) => sim.update_product_from(id_of(&id), &b),
            Err(r) => r,
        }
    };
    serve(&sim, &headers, true, work).await
}

async fn list_variations(
    State(sim): State<Arc<WooSim>>,
    Path(id): Path<String>,
    Query(q): Q,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    serve(&sim, &headers, false, async { sim.list_variations(&id, &q, &uri) }).await
}

async fn read_variation(
    State(sim): State<Arc<WooSim>>,
    Path((id, vid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    serve(&sim, &headers, false, async { sim.read_variation(&id, &vid) }).await
}

async fn update_variation(
    State(sim): State<Arc<WooSim>>,
    Path((id, vid)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let work = async {
        match object(&body) {
            Ok(b) => sim.update_variation_from(id_of(&id), id_of(&vid), &b),
            Err(r) => r,
        }
    };
    serve(&sim, &headers, true, work).await
}

/// `{"create": [...], "update": [...], "delete": [...]}` of one kind of
/// record: checks the size, then answers each update item with the record
/// or an `error`. Creating and deleting are not emulated (refused per item).
async fn batch(body: &[u8], update: impl Fn(Option<u64>, &Map<String, Value>) -> Response) -> Response {
    let body = match object(body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let list = |k: &str| body.get(k).and_then(Value::as_array).cloned().unwrap_or_default();
    let (create, updates, delete) = (list("create"), list("update"), list("delete"));
    if create.len() + updates.len() + delete.len() > MAX_BATCH {
        return wc_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "woocommerce_rest_request_entity_too_large",
            &format!("Unable to accept more than {MAX_BATCH} items for this request."),
        );
    }
    let mut answer = Map::new();
    let mut updated = Vec::new();
    for item in &updates {
        let id = item.get("id").cloned().unwrap_or(json!(0));
        let r = match item.as_object() {
            Some(fields) => update(id.as_u64(), fields),
            None => invalid_json(),
        };
        if r.status().is_success() {
            let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap_or_default();
            updated.push(serde_json::from_slice(&bytes).unwrap_or(Value::Null));
        } else {
            updated.push(batch_error(id, r).await);
        }
    }
    let refused = |kind: &str| {
        json!({ "id": 0, "error": { "code": format!("woocommerce_rest_cannot_{kind}"),
            "message": format!("The emulator does not {kind} products."), "data": { "status": 400 } } })
    };
    if !create.is_empty() {
        answer.insert("create".into(), json!(create.iter().map(|_| refused("create")).collect::<Vec<_>>()));
    }
    if !updates.is_empty() {
        answer.insert("update".into(), json!(updated));
    }
    if !delete.is_empty() {
        answer.insert("delete".into(), json!(delete.iter().map(|_| refused("delete")).collect::<Vec<_>>()));
    }
    Json(Value::Object(answer)).into_response()
}

async fn batch_products(State(sim): State<Arc<WooSim>>, headers: HeaderMap, body: Bytes) -> Response {
    let work = batch(&body, |id, fields| sim.update_product_from(id, fields));
    serve(&sim, &headers, true, work).await
}

async fn batch_variations(
    State(sim): State<Arc<WooSim>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pid = id_of(&id);
    let work = batch(&body, |vid, fields| sim.update_variation_from(pid, vid, fields));
    serve(&sim, &headers, true, work).await
}

async fn list_customers(State(sim): State<Arc<WooSim>>, Query(q): Q, uri: Uri, headers: HeaderMap) -> Response {
    serve(&sim, &headers, false, async { sim.list_customers(&q, &uri) }).await
}

async fn read_customer(State(sim): State<Arc<WooSim>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    serve(&sim, &headers, false, async { sim.read_customer(&id) }).await
}

async fn update_customer(
    State(sim): State<Arc<WooSim>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(&sim, &headers, true, async { sim.update_customer(&id, &body) }).await
}

async fn current_currency(State(sim): State<Arc<WooSim>>, headers: HeaderMap) -> Response {
    let work = async { Json(json!({ "code": "EUR", "name": "Euro", "symbol": "&euro;" })).into_response() };
    serve(&sim, &headers, false, work).await
}
