//! Vendure through its GraphQL Admin API (`/admin-api`).
//!
//! Follows docs.vendure.io: the `login` mutation of the native auth
//! strategy, whose session token comes back in the `vendure-auth-token`
//! response header when `authOptions.tokenMethod` includes `'bearer'` and is
//! then sent as `Authorization: Bearer <token>` (guides/developer-guide/
//! auth); list queries take `options { skip take sort filter }` and answer
//! `{ items totalItems }` (guides/developer-guide/the-api-layer); expected
//! failures come back as HTTP 200 with a union `ErrorResult`
//! (`errorCode`, `message`), unexpected ones as GraphQL `errors` with
//! `extensions.code` such as `FORBIDDEN` (guides/developer-guide/
//! error-handling). Money is an integer in minor units.
//!
//! The secret is the administrator's password; settings: `username`
//! (required), `channel_token` (sent as `vendure-token`), `location` (a
//! stock location id, or `default` for the variant's own stockOnHand),
//! `page_size` (1..=100), `timeout_secs`.

mod catalog;
mod customers;
mod fulfillment;
mod orders;

use crate::http;
use crate::settings::{validate_base_url, SettingsError};
use crate::traits::{Customers, Page, Store};
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Duration as TimeDelta, SecondsFormat, Utc};
use ferry_domain::{
    CatalogField, CatalogItem, ConnectorError, Currency, CustomerField, CustomerReading, Money, Order, Shipment,
};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::Mutex;

const SYSTEM: &str = "Vendure";
/// Our default page; Vendure's own list limit (`adminListQueryLimit`) is 1000.
pub const MAX_PAGE: u32 = 100;
/// Ids read at the last change time that a cursor excludes by filtering;
/// past this many, it pages on with `skip` instead.
const MAX_SEEN: usize = 100;

const LOGIN: &str = r#"mutation Login($username: String!, $password: String!) {
  login(username: $username, password: $password, rememberMe: false) {
    __typename
    ... on CurrentUser { id identifier }
    ... on ErrorResult { errorCode message }
  }
}"#;

/// A Vendure store.
pub struct Vendure {
    endpoint: String,
    username: String,
    password: String,
    channel_token: Option<String>,
    /// A stock location id, or `None` for the variant's own stockOnHand.
    location: Option<String>,
    page_size: u32,
    client: reqwest::Client,
    /// The session token from the last login.
    token: Mutex<Option<String>>,
    /// One login at a time.
    login_lock: tokio::sync::Mutex<()>,
}

impl Vendure {
    /// `base_url` is the server's origin (`https://shop.example.com`; the
    /// Admin API is at `/admin-api` below it, or `base_url` itself when it
    /// already ends in `/admin-api`). `secret` is the administrator's password.
    pub fn new(base_url: &str, settings: &Value, secret: &str) -> Result<Self, SettingsError> {
        let base = validate_base_url(base_url)?;
        let base = base.as_str().trim_end_matches('/');
        let endpoint = if base.ends_with("/admin-api") { base.to_owned() } else { format!("{base}/admin-api") };
        let text = |key: &str| settings.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
        let username = text("username")
            .ok_or_else(|| SettingsError::BadSetting {
                key: "username".into(),
                message: "the administrator's user name is required".into(),
            })?
            .to_owned();
        if secret.is_empty() {
            return Err(SettingsError::BadSecret("the administrator's password is empty".into()));
        }
        let location = match text("location") {
            None | Some("default") => None,
            Some(id) => Some(id.to_owned()),
        };
        let page_size = match settings.get("page_size") {
            None => 50,
            Some(v) => match v.as_u64() {
                Some(n @ 1..=100) => n as u32,
                _ => {
                    return Err(SettingsError::BadSetting {
                        key: "page_size".into(),
                        message: "must be 1 to 100".into(),
                    })
                }
            },
        };
        Ok(Self {
            endpoint,
            username,
            password: secret.to_owned(),
            channel_token: text("channel_token").map(str::to_owned),
            location,
            page_size,
            client: http::client(http::timeout_setting(settings)?),
            token: Mutex::new(None),
            login_lock: tokio::sync::Mutex::new(()),
        })
    }

    fn current_token(&self) -> Option<String> {
        self.token.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Logs in unless another call already did since `stale` was read.
    async fn login(&self, stale: Option<&str>) -> Result<String> {
        let _one = self.login_lock.lock().await;
        if let Some(t) = self.current_token().filter(|t| Some(t.as_str()) != stale) {
            return Ok(t);
        }
        let vars = json!({ "username": self.username, "password": self.password });
        let (body, headers) = self.send(LOGIN, &vars, None).await?;
        let data = into_data(body).map_err(|e| match e {
            ConnectorError::Rejected { message, .. } => ConnectorError::Auth(message),
            other => other,
        })?;
        let login = &data["login"];
        if let Some(code) = login.get("errorCode").and_then(Value::as_str) {
            let message = login.get("message").and_then(Value::as_str).unwrap_or(code);
            return Err(ConnectorError::Auth(format!("Vendure refused the login of {:?}: {message}", self.username)));
        }
        let token =
            headers.get("vendure-auth-token").and_then(|v| v.to_str().ok()).map(str::to_owned).ok_or_else(|| {
                ConnectorError::Protocol(
                    "Vendure sent no vendure-auth-token header: set authOptions.tokenMethod to include 'bearer'".into(),
                )
            })?;
        *self.token.lock().unwrap_or_else(|e| e.into_inner()) = Some(token.clone());
        Ok(token)
    }

    /// One GraphQL call as the administrator: its `data`, or the typed
    /// error. Logs in first when needed, and once more when the session was
    /// refused (expired, or the server restarted).
    pub(crate) async fn gql(&self, query: &str, variables: Value) -> Result<Value> {
        let token = match self.current_token() {
            Some(t) => t,
            None => self.login(None).await?,
        };
        let (body, _) = self.send(query, &variables, Some(&token)).await?;
        if !is_forbidden(&body) {
            return into_data(body);
        }
        let token = self.login(Some(&token)).await?;
        let (body, _) = self.send(query, &variables, Some(&token)).await?;
        into_data(body)
    }

    async fn send(
        &self,
        query: &str,
        variables: &Value,
        token: Option<&str>,
    ) -> Result<(Value, reqwest::header::HeaderMap)> {
        let mut req = self.client.post(&self.endpoint).json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(c) = &self.channel_token {
            req = req.header("vendure-token", c);
        }
        let resp = req.send().await.map_err(|e| http::transport_error(SYSTEM, &e))?;
        let status = resp.status();
        if let Some(err) = http::classify_status(SYSTEM, status, resp.headers()) {
            return Err(err);
        }
        let headers = resp.headers().clone();
        let body = http::read_body(SYSTEM, resp).await?;
        // Vendure answers GraphQL validation failures with 400 and an
        // `errors` body: read it rather than only the status.
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) if v.get("errors").is_some() || v.get("data").is_some() => Ok((v, headers)),
            _ if !status.is_success() => Err(ConnectorError::Protocol(format!(
                "Vendure answered {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ))),
            _ => Err(ConnectorError::Protocol("Vendure sent an answer that is not GraphQL JSON".into())),
        }
    }

    fn page_size(&self) -> u32 {
        self.page_size
    }
}

fn error_code(e: &Value) -> Option<&str> {
    e.get("extensions").and_then(|x| x.get("code")).and_then(Value::as_str)
}

fn is_forbidden(body: &Value) -> bool {
    body.get("errors").and_then(Value::as_array).is_some_and(|a| a.iter().any(|e| error_code(e) == Some("FORBIDDEN")))
}

/// The `data` of an answer, or its `errors` as the typed error.
fn into_data(body: Value) -> Result<Value> {
    let Some(errors) = body.get("errors").and_then(Value::as_array).filter(|a| !a.is_empty()) else {
        return body
            .get("data")
            .filter(|d| !d.is_null())
            .cloned()
            .ok_or_else(|| ConnectorError::Protocol("Vendure sent an answer with neither data nor errors".into()));
    };
    let message = errors
        .iter()
        .map(|e| e.get("message").and_then(Value::as_str).unwrap_or("(no message)"))
        .collect::<Vec<_>>()
        .join("; ");
    let message: String = message.chars().take(500).collect();
    let code = errors.iter().find_map(error_code).unwrap_or("");
    Err(match code {
        "FORBIDDEN" => ConnectorError::Auth(format!(
            "Vendure refused the request ({message}): the administrator lacks a permission, or the login failed"
        )),
        "ENTITY_NOT_FOUND" => ConnectorError::NotFound(format!("Vendure: {message}")),
        "USER_INPUT_ERROR" | "BAD_USER_INPUT" | "ILLEGAL_OPERATION" => {
            ConnectorError::Rejected { message: format!("Vendure: {message}"), fields: vec![] }
        }
        _ => ConnectorError::Protocol(format!("Vendure returned errors ({code}): {message}")),
    })
}

/// `value` itself, or the `ErrorResult` it is as `Rejected` with Vendure's
/// message (the union results of mutations arrive with HTTP 200).
pub(crate) fn ok_result<'a>(value: &'a Value, what: &str) -> Result<&'a Value> {
    if let Some(code) = value.get("errorCode").and_then(Value::as_str) {
        let message = value.get("message").and_then(Value::as_str).unwrap_or(code);
        return Err(ConnectorError::Rejected {
            message: format!("Vendure refused to {what}: {message} ({code})"),
            fields: vec![],
        });
    }
    if value.is_null() {
        return Err(ConnectorError::Protocol(format!("Vendure sent nothing for {what}")));
    }
    Ok(value)
}

/// Minor units (Vendure's integers) as money.
pub(crate) fn money(minor: i64, currency: &Currency) -> Money {
    Money::new(Decimal::new(minor, 2), currency.clone())
}

/// Money as Vendure's integer minor units; refuses fractions of a cent.
pub(crate) fn minor_units(m: &Money) -> Result<i64> {
    let scaled = m.amount * Decimal::ONE_HUNDRED;
    if scaled.fract() != Decimal::ZERO {
        return Err(ConnectorError::Rejected {
            message: format!("{m} has fractions of a cent; Vendure keeps whole minor units"),
            fields: vec![],
        });
    }
    i64::try_from(scaled.trunc())
        .map_err(|_| ConnectorError::Rejected { message: format!("{m} is too large"), fields: vec![] })
}

pub(crate) fn currency(code: &str) -> Result<Currency> {
    Currency::new(code).map_err(|e| ConnectorError::Protocol(format!("Vendure currency {code:?}: {e}")))
}

pub(crate) fn time(raw: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| ConnectorError::Protocol(format!("Vendure sent the time {raw:?}: {e}")))
}

/// Where the next page of changed records starts: the change time of the
/// last record read and the ids already read at that time. Vendure's
/// `updatedAt: { after }` is strict, so the next page asks for records
/// changed after one millisecond earlier and drops the ids already read;
/// a record that changes again while we page moves to the end and is read
/// again (harmless), and none is skipped as `skip` paging would when
/// records move. Encoded as `millis.id,id,...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Keyset {
    pub at: Option<DateTime<Utc>>,
    pub seen: Vec<String>,
}

impl Keyset {
    pub fn start(since: Option<DateTime<Utc>>, after: Option<&str>) -> Result<Self> {
        match after {
            None => Ok(Self { at: since, seen: vec![] }),
            Some(token) => Self::decode(token),
        }
    }

    fn decode(token: &str) -> Result<Self> {
        let bad = || ConnectorError::Protocol(format!("the Vendure page token {token:?} is not one Ferry made"));
        let (millis, ids) = token.split_once('.').ok_or_else(bad)?;
        let at = if millis.is_empty() {
            None
        } else {
            Some(DateTime::from_timestamp_millis(millis.parse().map_err(|_| bad())?).ok_or_else(bad)?)
        };
        let seen = ids.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect();
        Ok(Self { at, seen })
    }

    pub fn encode(&self) -> String {
        format!("{}.{}", self.at.map(|t| t.timestamp_millis().to_string()).unwrap_or_default(), self.seen.join(","))
    }

    /// The list `options` for one page of `take` records.
    pub fn options(&self, take: u32, extra_filter: Value) -> Value {
        let mut filter = extra_filter;
        if let (Some(at), Some(f)) = (self.at, filter.as_object_mut()) {
            let after = (at - TimeDelta::milliseconds(1)).to_rfc3339_opts(SecondsFormat::Millis, true);
            f.insert("updatedAt".into(), json!({ "after": after }));
        }
        let (skip, take) = if self.seen.len() <= MAX_SEEN {
            (0, take as usize + self.seen.len())
        } else {
            // Too many to drop by hand: skip them. Vendure applies its sort
            // keys in its own order (not ours), so only updatedAt is sorted
            // on; ties keep the database's order, stable between two reads.
            (self.seen.len(), take as usize)
        };
        json!({ "skip": skip, "take": take, "filter": filter, "sort": { "updatedAt": "ASC" } })
    }

    /// Whether the record was read on an earlier page of this pass.
    pub fn already_read(&self, id: &str, updated: DateTime<Utc>) -> bool {
        self.at.is_some_and(|at| updated < at || (updated == at && self.seen.iter().any(|s| s == id)))
    }

    /// The cursor after a page whose kept records are `page` (id, change
    /// time, oldest first); `None` when the query had no more.
    pub fn next(&self, page: &[(String, DateTime<Utc>)], more: bool) -> Option<Self> {
        let last = page.last()?.1;
        if !more {
            return None;
        }
        let same = page.iter().filter(|(_, t)| *t == last).map(|(id, _)| id.clone());
        if Some(last) == self.at {
            let mut seen = self.seen.clone();
            seen.extend(same);
            Some(Self { at: self.at, seen })
        } else {
            Some(Self { at: Some(last), seen: same.collect() })
        }
    }
}

#[async_trait]
impl Customers for Vendure {
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
impl Store for Vendure {
    async fn orders_page(&self, since: Option<DateTime<Utc>>, after: Option<&str>) -> Result<Page<Order>> {
        self.read_orders(since, after).await
    }

    async fn set_available(&self, sku: &str, location: &str, quantity: i64) -> Result<()> {
        self.write_available(sku, location, quantity).await
    }

    async fn catalog(&self) -> Result<Vec<CatalogItem>> {
        self.read_catalog().await
    }

    async fn set_catalog_field(&self, sku: &str, field: &CatalogField) -> Result<()> {
        self.write_catalog_field(sku, field).await
    }

    async fn fulfill(&self, order_id: &str, shipment: &Shipment) -> Result<()> {
        self.write_fulfillment(order_id, shipment).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        time(s).expect("time")
    }

    #[test]
    fn settings_need_a_user_name_and_a_password() {
        let ok = Vendure::new("http://127.0.0.1:3000", &json!({ "username": "admin" }), "pw").expect("valid");
        assert_eq!(ok.endpoint, "http://127.0.0.1:3000/admin-api");
        assert!(matches!(
            Vendure::new("http://127.0.0.1:3000", &json!({}), "pw"),
            Err(SettingsError::BadSetting { key, .. }) if key == "username"
        ));
        assert!(matches!(
            Vendure::new("https://x.example", &json!({ "username": "a" }), ""),
            Err(SettingsError::BadSecret(_))
        ));
        let at = Vendure::new("https://x.example/admin-api/", &json!({ "username": "a", "location": "default" }), "p")
            .expect("valid");
        assert_eq!((at.endpoint.as_str(), at.location.as_deref()), ("https://x.example/admin-api", None));
    }

    #[test]
    fn errors_map_to_actions() {
        let err = |code: &str| json!({ "errors": [{ "message": "m", "extensions": { "code": code } }], "data": null });
        assert!(matches!(into_data(err("FORBIDDEN")), Err(ConnectorError::Auth(_))));
        assert!(matches!(into_data(err("ENTITY_NOT_FOUND")), Err(ConnectorError::NotFound(_))));
        assert!(matches!(into_data(err("USER_INPUT_ERROR")), Err(ConnectorError::Rejected { .. })));
        assert!(matches!(into_data(err("GRAPHQL_VALIDATION_FAILED")), Err(ConnectorError::Protocol(_))));
        let union =
            json!({ "errorCode": "EMAIL_ADDRESS_CONFLICT_ERROR", "message": "The email address is not available." });
        match ok_result(&union, "update the customer") {
            Err(ConnectorError::Rejected { message, .. }) => {
                assert!(message.contains("The email address is not available."), "Vendure's words are kept: {message}")
            }
            other => panic!("an ErrorResult is a refusal of the data: {other:?}"),
        }
    }

    #[test]
    fn money_is_in_minor_units() {
        let usd = Currency::new("USD").expect("currency");
        assert_eq!(money(1250, &usd), Money::parse("12.50", "USD").expect("money"));
        assert_eq!(minor_units(&Money::parse("7.99", "USD").expect("money")).ok(), Some(799));
        assert!(minor_units(&Money::parse("7.995", "USD").expect("money")).is_err(), "no fractions of a cent");
    }

    #[test]
    fn the_cursor_is_a_keyset_that_survives_ties() {
        let start = Keyset::start(Some(t("2026-11-26T10:00:00Z")), None).expect("start");
        let opts = start.options(2, json!({}));
        assert_eq!(opts["filter"]["updatedAt"]["after"], "2026-11-26T09:59:59.999Z", "after is strict: 1 ms earlier");
        let page = vec![("1".to_owned(), t("2026-11-26T10:00:01Z")), ("2".to_owned(), t("2026-11-26T10:00:01Z"))];
        let next = start.next(&page, true).expect("more");
        assert_eq!(next, Keyset { at: Some(t("2026-11-26T10:00:01Z")), seen: vec!["1".into(), "2".into()] });
        let back = Keyset::start(None, Some(&next.encode())).expect("decodes");
        assert_eq!(back, next, "the token round-trips");
        assert_eq!(back.options(2, json!({}))["take"], 4, "the seen ones are fetched again and dropped");
        assert!(back.already_read("2", t("2026-11-26T10:00:01Z")));
        assert!(!back.already_read("3", t("2026-11-26T10:00:01Z")), "same time, not read yet");
        let tie = vec![("3".to_owned(), t("2026-11-26T10:00:01Z"))];
        assert_eq!(back.next(&tie, true).map(|k| k.seen.len()), Some(3), "a tie longer than a page grows the seen ids");
        assert_eq!(back.next(&tie, false), None, "the last page ends the pass");
        assert!(Keyset::start(None, Some("garbage")).is_err());
    }
}
