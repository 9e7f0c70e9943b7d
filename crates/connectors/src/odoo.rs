//! Odoo through its external API: JSON-2 (Odoo 19+, the default) or the
//! legacy JSON-RPC `execute_kw` (Odoo up to 21), chosen by setting `api`.
//!
//! Follows the vendor's docs:
//! - https://www.odoo.com/documentation/19.0/developer/reference/external_api.html —
//!   JSON-2: `POST /json/2/<model>/<method>`, named arguments plus `ids`
//!   and `context` in a JSON object, `Authorization: bearer <API key>`,
//!   `X-Odoo-Database`; errors are 4xx/5xx with `{name, message, arguments,
//!   context, debug}`. Its "Migrating from XML-RPC / JSON-RPC" section and
//!   https://www.odoo.com/documentation/17.0/developer/reference/external_api.html
//!   describe `common.authenticate` and `object.execute_kw(db, uid,
//!   password, model, method, args, kwargs)`; JSON-RPC errors arrive inside
//!   HTTP 200 as `{"error": {"code": 200, "message": "Odoo Server Error",
//!   "data": {name, message, ...}}}`;
//! - https://www.odoo.com/documentation/19.0/developer/reference/backend/orm.html —
//!   `search_read(domain, fields, offset, limit, order)`, domains, x2many
//!   commands, `active_test` in the context, datetimes as UTC text
//!   `"2026-11-26 10:00:00"`, many2one values read as `[id, display_name]`
//!   and empty fields as `false`.
//!
//! Exceptions map to the typed error in `rpc.rs`: AccessDenied and
//! AccessError pause the connection (Auth), UserError, ValidationError and
//! MissingError are Rejected with Odoo's message, 429 is RateLimited, 5xx
//! Transient, and a body we cannot read is Protocol.
//!
//! Ids Ferry keeps (`ErpOrderRef::id`, parcels, credit notes, customers)
//! are Odoo's numeric record ids, as text. The store order id is kept on
//! the sales order in `client_order_ref` (the customer reference; setting
//! `external_ref_field`), which is how we look an order up before ever
//! creating it.

mod customers;
mod orders;
mod refunds;
mod rpc;
mod shipping;
mod stock;

use crate::http;
use crate::settings::{validate_base_url, SettingsError};
use crate::traits::{Customers, Erp, Page};
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use ferry_domain::{
    CatalogField, CatalogItem, ConnectorError, CustomerField, CustomerReading, ErpOrderRef, ErpOrderSummary, Order,
    ReadyParcel, Refund, Shipment, StockReading,
};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;

const SYSTEM: &str = "Odoo";
pub const DEFAULT_REF_FIELD: &str = "client_order_ref";
/// Odoo 18.1+ name of a sales order line's taxes (`tax_id` before).
pub const DEFAULT_LINE_TAX_FIELD: &str = "tax_ids";

/// Which of Odoo's external APIs to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `POST /json/2/<model>/<method>` with a bearer API key (Odoo 19+).
    Json2,
    /// `POST /jsonrpc`, `object.execute_kw` with a login's uid and the API key.
    JsonRpc,
}

/// An Odoo database.
pub struct Odoo {
    base: String,
    api: Api,
    database: String,
    /// The user JSON-RPC authenticates as (JSON-2 needs only the key).
    login: String,
    key: String,
    /// JSON-RPC's uid, from `common.authenticate`, kept until a call is refused.
    uid: tokio::sync::Mutex<Option<i64>>,
    ref_field: String,
    line_tax_field: String,
    /// `default_code`s of the service products shipping, VAT, discounts
    /// and refunds beyond the returned goods are booked on.
    shipping_product: Option<String>,
    tax_product: Option<String>,
    discount_product: Option<String>,
    refund_product: Option<String>,
    /// A parcel's weight when the delivery has none.
    parcel_grams: u32,
    window: crate::pacing::WindowBudget,
    client: reqwest::Client,
    /// Find-or-create of contacts runs one at a time, so two orders of a
    /// new customer written concurrently do not create them twice.
    partner_lock: tokio::sync::Mutex<()>,
}

fn bad(key: &str, message: &str) -> SettingsError {
    SettingsError::BadSetting { key: key.into(), message: message.into() }
}

impl Odoo {
    /// `secret` is the API key. Settings: `database` (required), `api`
    /// (`json2`, default, or `jsonrpc`), `login` (required for `jsonrpc`),
    /// `external_ref_field` (default `client_order_ref`), `line_tax_field`
    /// (`tax_ids`, or `tax_id` for Odoo 18.0 and older), the `default_code`s
    /// `shipping_product`, `tax_product`, `discount_product` and
    /// `refund_product` (each needed once an order or refund has that
    /// part), `default_parcel_grams` (1000) and `timeout_secs`.
    pub fn new(base_url: &str, settings: &Value, secret: &str) -> Result<Self, SettingsError> {
        let base = validate_base_url(base_url)?;
        let key = secret.trim();
        if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(SettingsError::BadSecret(
                "Odoo expects an API key (Preferences → Account Security → New API Key)".into(),
            ));
        }
        let text = |k: &str| settings.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
        let api = match text("api") {
            None | Some("json2") => Api::Json2,
            Some("jsonrpc") => Api::JsonRpc,
            Some(_) => return Err(bad("api", "must be \"json2\" (Odoo 19 and later) or \"jsonrpc\"")),
        };
        let database = text("database")
            .ok_or_else(|| bad("database", "the Odoo database name is required (e.g. mycompany)"))?
            .to_owned();
        let login = match (api, text("login")) {
            (Api::JsonRpc, None) => {
                return Err(bad("login", "JSON-RPC needs the login (user name) the API key belongs to"));
            }
            (_, login) => login.unwrap_or_default().to_owned(),
        };
        let field = |k: &str, default: &str| -> Result<String, SettingsError> {
            let name = text(k).unwrap_or(default);
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(bad(k, &format!("must be a field name like {default}")));
            }
            Ok(name.to_owned())
        };
        let parcel_grams = match settings.get("default_parcel_grams") {
            None => 1000,
            Some(v) => v
                .as_u64()
                .and_then(|g| u32::try_from(g).ok())
                .filter(|g| *g > 0)
                .ok_or_else(|| bad("default_parcel_grams", "must be a weight in grams above 0, e.g. 1000"))?,
        };
        Ok(Self {
            base: base.as_str().trim_end_matches('/').to_owned(),
            api,
            database,
            login,
            key: key.to_owned(),
            uid: tokio::sync::Mutex::new(None),
            ref_field: field("external_ref_field", DEFAULT_REF_FIELD)?,
            line_tax_field: field("line_tax_field", DEFAULT_LINE_TAX_FIELD)?,
            shipping_product: text("shipping_product").map(str::to_owned),
            tax_product: text("tax_product").map(str::to_owned),
            discount_product: text("discount_product").map(str::to_owned),
            refund_product: text("refund_product").map(str::to_owned),
            parcel_grams,
            window: crate::pacing::WindowBudget::new(0.25),
            client: http::client(http::timeout_setting(settings)?),
            partner_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// `search_read` on `model`: the rows, or Protocol if not a list.
    async fn search_read(&self, model: &str, domain: Value, fields: &[&str], extra: Value) -> Result<Vec<Value>> {
        let mut kwargs = json!({ "domain": domain, "fields": fields });
        if let (Some(k), Value::Object(extra)) = (kwargs.as_object_mut(), extra) {
            k.extend(extra);
        }
        match self.call(model, "search_read", None, kwargs).await? {
            Value::Array(rows) => Ok(rows),
            other => {
                Err(ConnectorError::Protocol(format!("Odoo {model} search_read answered {}, not a list", kind(&other))))
            }
        }
    }

    /// Every matching row, 500 at a time (for snapshots, not change feeds).
    async fn search_read_all(&self, model: &str, domain: Value, fields: &[&str], context: Value) -> Result<Vec<Value>> {
        const PAGE: usize = 500;
        let mut out = Vec::new();
        loop {
            let extra = json!({ "offset": out.len(), "limit": PAGE, "order": "id asc", "context": context });
            let rows = self.search_read(model, domain.clone(), fields, extra).await?;
            let last = rows.len() < PAGE;
            out.extend(rows);
            if last {
                return Ok(out);
            }
        }
    }

    /// `create` of one record; its id.
    async fn create(&self, model: &str, vals: Value) -> Result<i64> {
        let created = self.call(model, "create", None, json!({ "vals_list": [vals] })).await?;
        created
            .as_array()
            .and_then(|a| a.first())
            .unwrap_or(&created)
            .as_i64()
            .ok_or_else(|| ConnectorError::Protocol(format!("Odoo {model} create answered {created}, not an id")))
    }

    async fn write(&self, model: &str, id: i64, vals: Value) -> Result<()> {
        self.call(model, "write", Some(&[id]), json!({ "vals": vals })).await.map(|_| ())
    }

    /// Product ids by `default_code` (archived products included when `archived`).
    async fn product_ids(&self, codes: &[&str], archived: bool) -> Result<std::collections::HashMap<String, i64>> {
        let context = json!({ "active_test": !archived });
        let rows = self
            .search_read_all("product.product", json!([["default_code", "in", codes]]), &["default_code"], context)
            .await?;
        Ok(rows.iter().filter_map(|r| Some((text(r, "default_code")?, r.get("id")?.as_i64()?))).collect())
    }
}

/// A numeric record id Ferry stored, back from text.
fn record_id(id: &str, what: &str) -> Result<i64> {
    id.trim().parse().map_err(|_| ConnectorError::Rejected {
        message: format!("{id:?} is not an Odoo {what} id (a number)"),
        fields: vec![],
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A char field's text; Odoo sends `false` for an empty one.
fn text(v: &Value, field: &str) -> Option<String> {
    v.get(field).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A many2one's id from `[id, display_name]` (or a bare id).
fn many2one_id(v: &Value, field: &str) -> Option<i64> {
    match v.get(field)? {
        Value::Array(pair) => pair.first()?.as_i64(),
        other => other.as_i64(),
    }
}

/// A many2one's display name from `[id, display_name]`.
fn many2one_name(v: &Value, field: &str) -> Option<String> {
    v.get(field)?.as_array()?.get(1)?.as_str().map(str::to_owned)
}

fn row_id(v: &Value, model: &str) -> Result<i64> {
    v.get("id").and_then(Value::as_i64).ok_or_else(|| ConnectorError::Protocol(format!("Odoo {model} row has no id")))
}

/// A Float or Monetary field, exactly as Odoo printed it.
fn decimal(v: &Value, field: &str) -> Option<Decimal> {
    match v.get(field)? {
        Value::Number(n) => {
            Decimal::from_str(&n.to_string()).or_else(|_| Decimal::from_scientific(&n.to_string())).ok()
        }
        Value::String(s) => Decimal::from_str(s).ok(),
        _ => None,
    }
}

/// A decimal as the JSON number Odoo's Float fields take.
fn number(d: Decimal) -> Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap_or(Value::Null)
}

/// Odoo's datetime format: UTC, no zone, seconds.
const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

pub fn odoo_time_text(t: DateTime<Utc>) -> String {
    t.format(TIME_FORMAT).to_string()
}

/// Parses an Odoo datetime (`2026-11-26 10:00:00`, UTC).
pub fn parse_odoo_time(text: &str) -> Result<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S%.f")
        .map(|t| t.and_utc())
        .map_err(|e| ConnectorError::Protocol(format!("Odoo time {text:?} is not YYYY-MM-DD HH:MM:SS: {e}")))
}

fn missing_product_setting(key: &str, what: &str, whose: &str) -> ConnectorError {
    ConnectorError::Rejected {
        message: format!(
            "{whose} has {what}, but this Odoo connection has no `{key}` set; set it to the Internal Reference (default_code) of a service product without taxes, then replay"
        ),
        fields: vec![ferry_domain::FieldError { field: key.to_owned(), message: "not set".into() }],
    }
}

#[async_trait]
impl Customers for Odoo {
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
impl Erp for Odoo {
    async fn find_order(&self, external_ref: &str) -> Result<Option<ErpOrderRef>> {
        self.order_for(external_ref).await
    }

    async fn create_order(&self, order: &Order) -> Result<ErpOrderRef> {
        crate::order_check::postable(order)?;
        self.make_order(order).await
    }

    async fn cancel_order(&self, id: &str) -> Result<()> {
        self.cancel(id).await
    }

    async fn find_credit_note(&self, refund_id: &str) -> Result<Option<String>> {
        self.credit_note_for(refund_id).await
    }

    async fn create_credit_note(&self, doc: &ErpOrderRef, order: &Order, refund: &Refund) -> Result<String> {
        self.make_credit_note(doc, order, refund).await
    }

    async fn stock_page(&self, since: Option<DateTime<Utc>>, after: Option<&str>) -> Result<Page<StockReading>> {
        self.read_stock(since, after).await
    }

    async fn catalog(&self) -> Result<Vec<CatalogItem>> {
        self.read_catalog().await
    }

    async fn set_catalog_field(&self, sku: &str, field: &CatalogField) -> Result<()> {
        self.write_catalog_field(sku, field).await
    }

    async fn ready_to_ship(&self, since: Option<DateTime<Utc>>, after: Option<&str>) -> Result<Page<ReadyParcel>> {
        self.read_ready(since, after).await
    }

    async fn set_tracking(&self, id: &str, shipment: &Shipment) -> Result<()> {
        self.write_tracking(id, shipment).await
    }

    async fn orders_between(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<ErpOrderSummary>> {
        self.orders_dated(from, to).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_validated_with_clear_messages() {
        let ok = json!({ "database": "shop" });
        let odoo = Odoo::new("https://shop.odoo.com/", &ok, " key ").expect("valid");
        assert_eq!((odoo.api, odoo.base.as_str(), odoo.key.as_str()), (Api::Json2, "https://shop.odoo.com", "key"));
        assert_eq!(odoo.ref_field, "client_order_ref");
        let err = |s: Value, secret: &str| Odoo::new("https://shop.odoo.com", &s, secret).err().map(|e| e.to_string());
        assert!(err(json!({}), "k").is_some_and(|m| m.contains("database")), "the database is required");
        assert!(err(json!({ "database": "d", "api": "jsonrpc" }), "k").is_some_and(|m| m.contains("login")));
        assert!(err(json!({ "database": "d", "api": "xmlrpc" }), "k").is_some_and(|m| m.contains("json2")));
        assert!(err(ok.clone(), "  ").is_some_and(|m| m.contains("API key")));
        assert!(err(json!({ "database": "d", "external_ref_field": "x; drop" }), "k").is_some());
        assert!(Odoo::new("http://shop.example.com", &ok, "k").is_err(), "plain http only for this computer");
    }

    #[test]
    fn odoo_values_map_to_ours() {
        let row = json!({ "id": 7, "partner_id": [3, "Ada Lovelace"], "email": false, "amount_total": 27.89,
            "write_date": "2026-11-26 10:00:00" });
        assert_eq!(many2one_id(&row, "partner_id"), Some(3));
        assert_eq!(many2one_name(&row, "partner_id").as_deref(), Some("Ada Lovelace"));
        assert_eq!(text(&row, "email"), None, "false is Odoo's empty");
        assert_eq!(
            decimal(&row, "amount_total").map(|d| d.to_string()).as_deref(),
            Some("27.89"),
            "exact, not 27.8899…"
        );
        let t = parse_odoo_time("2026-11-26 10:00:00").expect("parses");
        assert_eq!(t.to_rfc3339(), "2026-11-26T10:00:00+00:00", "Odoo datetimes are UTC");
        assert_eq!(odoo_time_text(t), "2026-11-26 10:00:00");
        assert!(parse_odoo_time("26/11/2026").is_err());
        assert_eq!(number(Decimal::new(490, 2)), json!(4.9));
        assert!(record_id("S00001", "sales order").is_err(), "names are not ids");
    }
}
