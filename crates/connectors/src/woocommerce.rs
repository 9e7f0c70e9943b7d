//! WooCommerce through its REST API v3 (`/wp-json/wc/v3`).
//!
//! Follows https://woocommerce.github.io/woocommerce-rest-api-docs/:
//! `#authentication` (HTTP Basic with the consumer key and secret, over
//! HTTPS), `#pagination` (`page`, `per_page` up to 100, the `X-WP-Total` and
//! `X-WP-TotalPages` headers), `#errors` (`{"code", "message", "data":
//! {"status", "params"}}`), `#list-all-orders` (plus `modified_after`,
//! `dates_are_gmt` and `orderby=modified`, which WooCommerce 5.8 added to
//! every CRUD collection: see `WC_REST_CRUD_Controller::get_collection_params`
//! in woocommerce/woocommerce), `#list-all-refunds`, `#order-notes`,
//! `#products`, `#product-variations`, `#batch-update-products`,
//! `#customers` and `#retrieve-current-currency`. Rate limits: WooCommerce
//! core sends none on this API, but its Store API
//! (https://developer.woocommerce.com/docs/apis/store-api/rate-limiting)
//! and many hosts send `RateLimit-*` or `X-RateLimit-*`; calls are paced
//! from whichever comes.
//!
//! Every money field of the API is without tax, with the tax beside it
//! (`subtotal` / `subtotal_tax`, `discount_total` / `discount_tax`...);
//! only an order's `total` includes tax: see `orders` for how an order is
//! mapped so its parts add up to the cent.

mod catalog;
mod customers;
mod fulfillment;
mod orders;

use crate::http;
use crate::pacing::WindowBudget;
use crate::settings::{validate_base_url, SettingsError};
use crate::traits::{Customers, Page, Store};
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use ferry_domain::{
    CatalogField, CatalogItem, ConnectorError, CustomerField, CustomerReading, FieldError, Order, Shipment,
};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Mutex;
use std::time::Duration;

const SYSTEM: &str = "WooCommerce";
/// WooCommerce's maximum for `per_page`.
pub const MAX_PAGE: u32 = 100;
/// The one stock location a WooCommerce shop has, unless the setting names it otherwise.
pub const DEFAULT_LOCATION: &str = "default";

/// A WooCommerce shop.
pub struct WooCommerce {
    /// `<site>/wp-json/wc/v3`, no trailing slash.
    api: String,
    key: String,
    secret: String,
    /// The name Ferry uses for the shop's one stock location.
    location: String,
    page_size: u32,
    client: reqwest::Client,
    window: WindowBudget,
    /// The shop's currency (product prices carry none): from the settings,
    /// else asked once.
    currency: Mutex<Option<String>>,
    /// SKU → where WooCommerce keeps it, loaded on need.
    skus: Mutex<std::collections::HashMap<String, catalog::Target>>,
}

/// A successful answer: the body and the page count, if the list said.
struct Answer {
    body: Vec<u8>,
    total_pages: Option<u32>,
}

impl WooCommerce {
    /// `base_url` is the site's address (`https://shop.example.com`; a path
    /// ending in `/wp-json` or `/wp-json/wc/v3` is accepted too); `secret`
    /// is `ck_...:cs_...`, the REST API key's consumer key and secret.
    /// Settings: `location` (default `default`), `page_size` (1 to 100,
    /// default 100), `timeout_secs`, `currency` (ISO 4217; asked from the
    /// shop when absent).
    pub fn new(base_url: &str, settings: &Value, secret: &str) -> Result<Self, SettingsError> {
        let base = validate_base_url(base_url)?;
        let root = base.as_str().trim_end_matches('/');
        let api = if root.ends_with("/wp-json/wc/v3") {
            root.to_owned()
        } else if root.ends_with("/wp-json") {
            format!("{root}/wc/v3")
        } else {
            format!("{root}/wp-json/wc/v3")
        };
        let (key, secret) = parse_secret(secret)?;
        let page_size = match settings.get("page_size") {
            None => MAX_PAGE,
            Some(v) => match v.as_u64() {
                Some(n @ 1..=100) => n as u32,
                _ => {
                    return Err(SettingsError::BadSetting {
                        key: "page_size".into(),
                        message: "must be a whole number from 1 to 100 (WooCommerce's per_page limit)".into(),
                    })
                }
            },
        };
        let location = match settings.get("location") {
            None => DEFAULT_LOCATION.to_owned(),
            Some(v) => match v.as_str().map(str::trim) {
                Some(s) if !s.is_empty() => s.to_owned(),
                _ => {
                    return Err(SettingsError::BadSetting {
                        key: "location".into(),
                        message: "must be a non-empty name for the shop's one stock location, e.g. \"default\"".into(),
                    })
                }
            },
        };
        let currency = match settings.get("currency") {
            None => None,
            Some(v) => {
                let code = v.as_str().unwrap_or_default();
                ferry_domain::Currency::new(code)
                    .map_err(|e| SettingsError::BadSetting { key: "currency".into(), message: e.to_string() })?;
                Some(code.to_owned())
            }
        };
        Ok(Self {
            api,
            key,
            secret,
            location,
            page_size,
            client: http::client(http::timeout_setting(settings)?),
            window: WindowBudget::new(0.25),
            currency: Mutex::new(currency),
            skus: Mutex::new(Default::default()),
        })
    }

    /// Sends one request and maps every failure to the typed error.
    async fn send(&self, method: Method, path: &str, query: &[(&str, String)], body: Option<&Value>) -> Result<Answer> {
        let wait = self.window.wait();
        if !wait.is_zero() {
            tracing::debug!(?wait, "pacing to stay inside WooCommerce's rate-limit window");
            tokio::time::sleep(wait).await;
        }
        let mut req =
            self.client.request(method, format!("{}{path}", self.api)).basic_auth(&self.key, Some(&self.secret));
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| http::transport_error(SYSTEM, &e))?;
        if let Some((limit, remaining, reset)) = rate_window(resp.headers()) {
            self.window.observe(limit, remaining, reset);
        }
        let status = resp.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(ConnectorError::RateLimited { retry_after: rate_limit_wait(resp.headers()) });
        }
        if status.is_server_error() {
            return Err(ConnectorError::Transient(format!("{SYSTEM} answered {status}")));
        }
        let total_pages = resp
            .headers()
            .get("x-wp-totalpages")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u32>().ok());
        let body = http::read_body(SYSTEM, resp).await?;
        if !status.is_success() {
            return Err(error_from(status, &body));
        }
        Ok(Answer { body, total_pages })
    }

    /// GETs `path` and parses the answer as `T`.
    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<(T, Option<u32>)> {
        let answer = self.send(Method::GET, path, query, None).await?;
        Ok((http::parse_json(SYSTEM, what, &answer.body)?, answer.total_pages))
    }

    /// Sends `body` with `method` and parses the answer as `T`.
    async fn write<T: DeserializeOwned>(&self, method: Method, path: &str, body: &Value, what: &str) -> Result<T> {
        let answer = self.send(method, path, &[], Some(body)).await?;
        http::parse_json(SYSTEM, what, &answer.body)
    }

    /// Every page of the list at `path` (`query` without `page`/`per_page`).
    async fn all_pages<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)], what: &str) -> Result<Vec<T>> {
        let mut all = Vec::new();
        let mut page = 1u32;
        loop {
            let mut q = query.to_vec();
            q.push(("per_page", self.page_size.to_string()));
            q.push(("page", page.to_string()));
            let (items, total_pages): (Vec<T>, _) = self.get(path, &q, what).await?;
            let empty = items.is_empty();
            all.extend(items);
            // Without the header, an empty page ends the list.
            match total_pages {
                Some(total) if page < total => page += 1,
                None if !empty => page += 1,
                _ => break,
            }
            if page > 100_000 {
                return Err(ConnectorError::Protocol(format!("{SYSTEM} listed {what} without end")));
            }
        }
        Ok(all)
    }

    /// The shop's currency: the setting, else `GET /data/currencies/current` (once).
    async fn currency(&self) -> Result<String> {
        if let Some(c) = self.currency.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Ok(c);
        }
        #[derive(serde::Deserialize)]
        struct Current {
            code: String,
        }
        let (current, _): (Current, _) = self.get("/data/currencies/current", &[], "the shop's currency").await?;
        ferry_domain::Currency::new(&current.code)
            .map_err(|e| ConnectorError::Protocol(format!("{SYSTEM} named its currency {:?}: {e}", current.code)))?;
        *self.currency.lock().unwrap_or_else(|e| e.into_inner()) = Some(current.code.clone());
        Ok(current.code)
    }
}

/// Splits `ck_...:cs_...` into the consumer key and secret.
fn parse_secret(secret: &str) -> Result<(String, String), SettingsError> {
    let bad = || {
        SettingsError::BadSecret(
            "expected the REST API key as consumer_key:consumer_secret, i.e. ck_...:cs_... \
             (WooCommerce → Settings → Advanced → REST API)"
                .into(),
        )
    };
    let (key, secret) = secret.trim().split_once(':').ok_or_else(bad)?;
    let well_formed = |s: &str, prefix: &str| {
        s.len() > prefix.len() && s.starts_with(prefix) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if !well_formed(key, "ck_") || !well_formed(secret, "cs_") {
        return Err(bad());
    }
    Ok((key.to_owned(), secret.to_owned()))
}

/// `RateLimit-*` (WooCommerce's Store API, IETF draft) or `X-RateLimit-*`:
/// limit, remaining and the time until the window resets (the reset is
/// seconds from now, or a Unix time as WooCommerce sends it).
fn rate_window(headers: &HeaderMap) -> Option<(f64, f64, Duration)> {
    http::rate_limit_window(headers).or_else(|| {
        let num = |name: &str| -> Option<f64> {
            let v: f64 = headers.get(name)?.to_str().ok()?.trim().parse().ok()?;
            (v.is_finite() && v >= 0.0).then_some(v)
        };
        Some((num("ratelimit-limit")?, num("ratelimit-remaining")?, reset_in(num("ratelimit-reset")?)))
    })
}

fn reset_in(v: f64) -> Duration {
    // Values past 2001 as a Unix time are timestamps, not durations.
    // Now with its milliseconds: whole seconds would wait up to a second too long.
    let secs = if v > 1_000_000_000.0 { v - Utc::now().timestamp_millis() as f64 / 1000.0 } else { v };
    Duration::from_secs_f64(secs.clamp(0.0, 3600.0))
}

/// The wait a 429 asks for: `Retry-After`, `RateLimit-Retry-After`, a
/// reset header, or 2 s.
fn rate_limit_wait(headers: &HeaderMap) -> Duration {
    let store_api = || {
        let v: f64 = headers.get("ratelimit-retry-after")?.to_str().ok()?.trim().parse().ok()?;
        (v.is_finite() && v >= 0.0).then(|| Duration::from_secs_f64(v.min(3600.0)))
    };
    http::retry_after(headers)
        .or_else(store_api)
        .or_else(|| rate_window(headers).map(|(_, _, reset)| reset))
        .unwrap_or(Duration::from_secs(2))
}

/// WooCommerce's (WordPress's) error body.
#[derive(Debug, Default, serde::Deserialize)]
struct WooError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    data: Option<Value>,
}

impl WooError {
    /// `data.params`: `{"name": "what is wrong"}` for invalid parameters,
    /// `["name"]` for missing ones.
    fn fields(&self) -> Vec<FieldError> {
        match self.data.as_ref().and_then(|d| d.get("params")) {
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| FieldError {
                    field: k.clone(),
                    message: v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                })
                .collect(),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(|k| FieldError { field: k.to_owned(), message: "missing".into() })
                .collect(),
            _ => vec![],
        }
    }
}

/// Maps an error answer (any status but 429 and 5xx) to the typed error.
fn error_from(status: StatusCode, body: &[u8]) -> ConnectorError {
    let parsed: Option<WooError> = serde_json::from_slice(body).ok();
    match parsed {
        Some(e) if !e.code.is_empty() || !e.message.is_empty() => map_error(status, &e),
        _ => {
            let text: String = String::from_utf8_lossy(&body[..body.len().min(200)]).chars().take(200).collect();
            match status {
                StatusCode::UNAUTHORIZED => ConnectorError::Auth(format!("{SYSTEM} refused the consumer key (401)")),
                StatusCode::FORBIDDEN => ConnectorError::Auth(format!("{SYSTEM} refused access (403)")),
                _ => ConnectorError::Protocol(format!(
                    "{SYSTEM} answered {status} with a body that is not its error: {text}"
                )),
            }
        }
    }
}

fn map_error(status: StatusCode, e: &WooError) -> ConnectorError {
    let message = format!("{} ({})", e.message.trim(), e.code);
    match status {
        StatusCode::UNAUTHORIZED => ConnectorError::Auth(format!("{SYSTEM} refused the consumer key (401): {message}")),
        StatusCode::FORBIDDEN => ConnectorError::Auth(format!(
            "{SYSTEM} refused access (403): the REST API key may be read-only; it needs Read/Write. {message}"
        )),
        StatusCode::NOT_FOUND if e.code == "rest_no_route" => ConnectorError::Protocol(format!(
            "{SYSTEM}'s REST API was not found at this address: is WooCommerce active and are pretty permalinks on? {message}"
        )),
        StatusCode::NOT_FOUND => ConnectorError::NotFound(format!("{SYSTEM}: {message}")),
        s if s.is_client_error() => {
            let fields = e.fields();
            let named = if fields.is_empty() {
                String::new()
            } else {
                format!(": {}", fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "))
            };
            ConnectorError::Rejected { message: format!("{SYSTEM} refused it: {message}{named}"), fields }
        }
        s => ConnectorError::Protocol(format!("{SYSTEM} answered {s}: {message}")),
    }
}

/// A `*_gmt` date (`2026-11-26T10:00:00`, no zone; a zone is honoured if sent).
fn gmt_date(raw: &str, what: &str) -> Result<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f").map(|n| n.and_utc()).map_err(|_| {
        ConnectorError::Protocol(format!("{SYSTEM} sent {what} {raw:?}, not a date like 2026-11-26T10:00:00"))
    })
}

/// The date format of the API's date parameters (GMT with `dates_are_gmt=true`).
fn date_param(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Text or a number as text (ids and amounts: plugins send either), `""` for null.
fn text<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    })
}

use serde::Deserialize as _;

#[async_trait]
impl Customers for WooCommerce {
    async fn customers_page(&self, since: Option<DateTime<Utc>>, after: Option<&str>) -> Result<Page<CustomerReading>> {
        self.read_customers(since, after).await
    }

    async fn customer(&self, id: &str) -> Result<Option<CustomerReading>> {
        self.read_customer(id).await
    }

    async fn find_customer(&self, email: &str) -> Result<Option<CustomerReading>> {
        self.customer_by_email(email).await
    }

    async fn update_customer(&self, id: &str, changes: &[(CustomerField, Option<String>)]) -> Result<()> {
        self.write_customer(id, changes).await
    }
}

#[async_trait]
impl Store for WooCommerce {
    async fn orders_page(&self, since: Option<DateTime<Utc>>, after: Option<&str>) -> Result<Page<Order>> {
        self.read_orders(since, after).await
    }

    async fn set_available(&self, sku: &str, location: &str, quantity: i64) -> Result<()> {
        self.write_stock(sku, location, quantity).await
    }

    async fn catalog(&self) -> Result<Vec<CatalogItem>> {
        Ok(self.load_catalog().await?.into_iter().map(|(item, _)| item).collect())
    }

    async fn set_catalog_field(&self, sku: &str, field: &CatalogField) -> Result<()> {
        let mut results = self.set_catalog_fields(&[(sku.to_owned(), field.clone())]).await?;
        results.pop().unwrap_or(Ok(()))
    }

    async fn fulfill(&self, order_id: &str, shipment: &Shipment) -> Result<()> {
        self.fulfill_order(order_id, shipment).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn settings_and_secret_are_validated() {
        let s = serde_json::json!({});
        let key = "ck_abc123:cs_def456";
        let ok = WooCommerce::new("http://127.0.0.1:9/", &s, key).expect("loopback http is fine");
        assert_eq!(ok.api, "http://127.0.0.1:9/wp-json/wc/v3");
        assert_eq!((ok.location.as_str(), ok.page_size), ("default", 100));
        let same = WooCommerce::new("https://shop.example.com/wp-json/", &s, key).expect("valid");
        assert_eq!(same.api, "https://shop.example.com/wp-json/wc/v3", "a pasted /wp-json is not doubled");
        assert!(
            matches!(WooCommerce::new("http://shop.example.com", &s, key), Err(SettingsError::InsecureScheme { .. })),
            "Basic auth over plain http to another host would send the secret in clear"
        );
        for bad in ["", "ck_abc", "ck_abc:", "cs_def:ck_abc", "abc:def", "ck_a b:cs_c", ":cs_x", "ck_:cs_"] {
            let err = WooCommerce::new("https://shop.example.com", &s, bad).err();
            assert!(matches!(err, Some(SettingsError::BadSecret(_))), "{bad:?} is refused: {err:?}");
        }
        let msg = WooCommerce::new("https://x.com", &s, "ck_a:cs_hunter2 x").err().map(|e| e.to_string());
        assert!(msg.is_some_and(|m| !m.contains("hunter2") && m.contains("ck_...:cs_...")), "never repeats the secret");
        for (settings, key) in [
            (serde_json::json!({ "page_size": 0 }), "page_size"),
            (serde_json::json!({ "page_size": 101 }), "page_size"),
            (serde_json::json!({ "location": "" }), "location"),
            (serde_json::json!({ "currency": "euro" }), "currency"),
            (serde_json::json!({ "timeout_secs": 0 }), "timeout_secs"),
        ] {
            match WooCommerce::new("https://x.com", &settings, "ck_a:cs_b") {
                Err(SettingsError::BadSetting { key: k, .. }) => assert_eq!(k, key),
                other => panic!("{settings} must be refused, got {:?}", other.err()),
            }
        }
    }

    #[test]
    fn error_bodies_map_to_actions() {
        let body = br#"{"code":"rest_invalid_param","message":"Invalid parameter(s): regular_price",
            "data":{"status":400,"params":{"regular_price":"regular_price is not of type string."}}}"#;
        match error_from(StatusCode::BAD_REQUEST, body) {
            ConnectorError::Rejected { message, fields } => {
                assert!(message.contains("Invalid parameter(s): regular_price"), "{message}");
                assert_eq!(
                    fields,
                    [FieldError {
                        field: "regular_price".into(),
                        message: "regular_price is not of type string.".into()
                    }]
                );
            }
            other => panic!("expected Rejected, got {other:?}"),
        }
        let missing = br#"{"code":"rest_missing_callback_param","message":"Missing parameter(s): note","data":{"status":400,"params":["note"]}}"#;
        assert!(matches!(error_from(StatusCode::BAD_REQUEST, missing),
            ConnectorError::Rejected { fields, .. } if fields[0].field == "note"));
        let cases: [(u16, &[u8], &str); 6] = [
            (401, br#"{"code":"woocommerce_rest_authentication_error","message":"Consumer key is invalid.","data":{"status":401}}"#, "auth"),
            (403, br#"{"code":"woocommerce_rest_cannot_edit","message":"Sorry, you are not allowed to edit this resource.","data":{"status":403}}"#, "auth"),
            (404, br#"{"code":"woocommerce_rest_shop_order_invalid_id","message":"Invalid ID.","data":{"status":404}}"#, "not_found"),
            (404, br#"{"code":"rest_no_route","message":"No route was found matching the URL and request method.","data":{"status":404}}"#, "protocol"),
            (401, b"<html>Unauthorized</html>", "auth"),
            (418, b"<html>I'm a teapot</html>", "protocol"),
        ];
        for (status, body, code) in cases {
            let e = error_from(StatusCode::from_u16(status).expect("status"), body);
            assert_eq!(e.code(), code, "{status} {}: {e}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn rate_windows_in_either_header_family() {
        let mut h = HeaderMap::new();
        assert_eq!(rate_window(&h), None);
        h.insert("ratelimit-limit", HeaderValue::from_static("25"));
        h.insert("ratelimit-remaining", HeaderValue::from_static("3"));
        let in_ten = (Utc::now().timestamp() + 10).to_string();
        h.insert("ratelimit-reset", HeaderValue::from_str(&in_ten).expect("header"));
        let (limit, remaining, reset) = rate_window(&h).expect("the Store API's headers");
        assert_eq!((limit, remaining), (25.0, 3.0));
        assert!(reset > Duration::from_secs(8) && reset <= Duration::from_secs(10), "a Unix time: {reset:?}");
        h.insert("ratelimit-retry-after", HeaderValue::from_static("4"));
        assert_eq!(rate_limit_wait(&h), Duration::from_secs(4));
        h.insert("retry-after", HeaderValue::from_static("1"));
        assert_eq!(rate_limit_wait(&h), Duration::from_secs(1), "Retry-After wins");
    }

    #[test]
    fn gmt_dates_parse_with_or_without_a_zone() {
        let t = gmt_date("2026-11-26T10:00:00", "date").expect("the API's form");
        assert_eq!(t.to_rfc3339(), "2026-11-26T10:00:00+00:00");
        assert_eq!(gmt_date("2026-11-26T10:00:00Z", "date").ok(), Some(t));
        assert!(matches!(gmt_date("26.11.2026", "date"), Err(ConnectorError::Protocol(_))));
        assert_eq!(date_param(t), "2026-11-26T10:00:00");
    }
}
