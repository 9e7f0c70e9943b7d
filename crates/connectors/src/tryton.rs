//! Tryton through its JSON-RPC (the protocol of Tryton's own clients).
//!
//! Follows Tryton's docs:
//! - https://docs.tryton.org/latest/server/topics/rpc.html (and
//!   https://docs.huihoo.com/tryton/4.4/trytond/doc/topics/rpc.html) —
//!   `common.db.login` with `[login, {"password": ...}]` answers
//!   `[user_id, session]`; `Authorization: Session base64(login:user_id:session)`;
//! - trytond's `protocols/jsonrpc.py` (8.2) — values with `__class__`
//!   (`Decimal`, `date`, `datetime`, `time`, `timedelta`, `bytes`), errors
//!   as `{"error": [name, args]}` inside HTTP 200, the `/<database>/rpc/`
//!   route (`/<database>/` before 7.4);
//! - https://docs.tryton.org/latest/server/ref/models.html — `search_read(domain,
//!   offset, limit, order, fields_names)`, `create(vlist)`, `write(records,
//!   values)`, one2many actions `[["create", [...]], ["write", ids, vals],
//!   ["delete", ids]]`, `create_date` / `write_date` (NULL until the
//!   first change), dotted field names read as `"field."` objects;
//! - the sale, stock, party, product, account_invoice and
//!   stock_package_shipping modules' docs at https://docs.tryton.org/ — the
//!   workflow buttons `quote` / `confirm` / `process` / `cancel` / `draft`,
//!   stock quantities computed per location context.
//!
//! Ids Ferry keeps (orders, parcels, credit notes, customers) are Tryton's
//! numeric record ids, as text. The store order id is kept on the sale in
//! `reference` (setting `external_ref_field`).
//!
//! Modules needed: `sale` (with its dependencies party, product, stock,
//! account_invoice) for everything; `stock_package_shipping` for
//! `ready_to_ship` / `set_tracking` (its `shipping_reference` holds the
//! tracking number; without it both answer Rejected naming the module).

mod customers;
mod feed;
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
use chrono::{DateTime, NaiveDate, Utc};
use ferry_domain::{
    CatalogField, CatalogItem, ConnectorError, CustomerField, CustomerReading, ErpOrderRef, ErpOrderSummary, Order,
    ReadyParcel, Refund, Shipment, StockReading,
};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64};

const SYSTEM: &str = "Tryton";
pub const DEFAULT_REF_FIELD: &str = "reference";

/// How far Ferry takes a sale it creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderState {
    /// Quote, confirm and process: shipments and invoices are made (default).
    Processing,
    /// Quote only: a person confirms in Tryton.
    Quotation,
}

/// A Tryton database.
pub struct Tryton {
    base: String,
    database: String,
    login: String,
    password: String,
    ref_field: String,
    order_state: OrderState,
    /// Product codes of the service products shipping, VAT, discounts and
    /// refunds beyond the returned goods are booked on.
    shipping_product: Option<String>,
    tax_product: Option<String>,
    discount_product: Option<String>,
    refund_product: Option<String>,
    /// Warehouse codes whose stock is read (all warehouses when empty).
    warehouses: Vec<String>,
    parcel_grams: u32,
    client: reqwest::Client,
    session: tokio::sync::Mutex<Option<rpc::Session>>,
    /// Set once the server answered that it has no `/<db>/rpc/` (Tryton < 7.4).
    legacy_path: AtomicBool,
    next_id: AtomicU64,
    /// Find-or-create of parties runs one at a time.
    party_lock: tokio::sync::Mutex<()>,
}

fn bad(key: &str, message: &str) -> SettingsError {
    SettingsError::BadSetting { key: key.into(), message: message.into() }
}

impl Tryton {
    /// `secret` is the user's password. Settings: `database` and `login`
    /// (required), `external_ref_field` (default `reference`),
    /// `order_state` (`processing`, default, or `quotation`), the product
    /// codes `shipping_product`, `tax_product`, `discount_product` and
    /// `refund_product` (each needed once an order or refund has that
    /// part), `warehouses` (a list of warehouse codes, default all),
    /// `default_parcel_grams` (1000) and `timeout_secs`.
    pub fn new(base_url: &str, settings: &Value, secret: &str) -> Result<Self, SettingsError> {
        let base = validate_base_url(base_url)?;
        if secret.is_empty() || secret.chars().any(char::is_control) {
            return Err(SettingsError::BadSecret("Tryton expects the user's password".into()));
        }
        let text = |k: &str| settings.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
        let database =
            text("database").ok_or_else(|| bad("database", "the Tryton database name is required (e.g. tryton)"))?;
        let login = text("login").ok_or_else(|| bad("login", "the Tryton user name is required (e.g. admin)"))?;
        if login.contains(':') {
            return Err(bad("login", "a Tryton login cannot contain ':'"));
        }
        let ref_field = text("external_ref_field").unwrap_or(DEFAULT_REF_FIELD);
        if !ref_field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(bad("external_ref_field", "must be a field name like reference"));
        }
        let order_state = match text("order_state") {
            None | Some("processing") => OrderState::Processing,
            Some("quotation") => OrderState::Quotation,
            Some(_) => return Err(bad("order_state", "must be \"processing\" or \"quotation\"")),
        };
        let warehouses = match settings.get("warehouses") {
            None | Some(Value::Null) => vec![],
            Some(Value::Array(a)) => a
                .iter()
                .map(|w| w.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad("warehouses", "must be a list of warehouse codes, e.g. [\"WH\"]"))?,
            Some(_) => return Err(bad("warehouses", "must be a list of warehouse codes, e.g. [\"WH\"]")),
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
            database: database.to_owned(),
            login: login.to_owned(),
            password: secret.to_owned(),
            ref_field: ref_field.to_owned(),
            order_state,
            shipping_product: text("shipping_product").map(str::to_owned),
            tax_product: text("tax_product").map(str::to_owned),
            discount_product: text("discount_product").map(str::to_owned),
            refund_product: text("refund_product").map(str::to_owned),
            warehouses,
            parcel_grams,
            client: http::client(http::timeout_setting(settings)?),
            session: tokio::sync::Mutex::new(None),
            legacy_path: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
            party_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// `model.<model>.search_read`: the rows, or Protocol if not a list.
    #[allow(clippy::too_many_arguments)]
    async fn search_read(
        &self,
        model: &str,
        domain: Value,
        offset: usize,
        limit: Option<usize>,
        order: Value,
        fields: &[&str],
        context: &Value,
    ) -> Result<Vec<Value>> {
        let params = vec![domain, json!(offset), json!(limit), order, json!(fields)];
        match self.call(&format!("model.{model}.search_read"), params, context.clone()).await? {
            Value::Array(rows) => Ok(rows),
            other => Err(ConnectorError::Protocol(format!("{SYSTEM} {model} search_read answered {other}"))),
        }
    }

    /// Every matching row, 500 at a time, by id (snapshots, not feeds).
    async fn search_read_all(
        &self,
        model: &str,
        domain: Value,
        fields: &[&str],
        context: &Value,
    ) -> Result<Vec<Value>> {
        const CHUNK: usize = 500;
        let mut out = Vec::new();
        loop {
            let order = json!([["id", "ASC"]]);
            let rows = self.search_read(model, domain.clone(), out.len(), Some(CHUNK), order, fields, context).await?;
            let last = rows.len() < CHUNK;
            out.extend(rows);
            if last {
                return Ok(out);
            }
        }
    }

    /// Rows of `model` whose `field` is one of `values`.
    async fn rows_where(&self, model: &str, field: &str, values: Value, fields: &[&str]) -> Result<Vec<Value>> {
        self.search_read_all(model, json!([[field, "in", values]]), fields, &json!({})).await
    }

    /// `create` of one record; its id.
    async fn create(&self, model: &str, vals: Value) -> Result<i64> {
        let created = self.call(&format!("model.{model}.create"), vec![json!([vals])], json!({})).await?;
        created
            .get(0)
            .and_then(Value::as_i64)
            .ok_or_else(|| ConnectorError::Protocol(format!("{SYSTEM} {model} create answered {created}, not ids")))
    }

    async fn write(&self, model: &str, ids: &[i64], vals: Value) -> Result<()> {
        self.call(&format!("model.{model}.write"), vec![json!(ids), vals], json!({})).await.map(|_| ())
    }

    /// A workflow button (`quote`, `confirm`, `cancel`, ...) on `ids`.
    async fn button(&self, model: &str, name: &str, ids: &[i64]) -> Result<Value> {
        self.call(&format!("model.{model}.{name}"), vec![json!(ids)], json!({})).await
    }

    /// Product ids and their default unit by `code` (inactive ones when `inactive`).
    async fn products_by_code(
        &self,
        codes: &[&str],
        inactive: bool,
    ) -> Result<std::collections::HashMap<String, Product>> {
        let mut domain = vec![json!(["code", "in", codes])];
        if inactive {
            domain.push(json!(["active", "in", [true, false]]));
        }
        let rows = self
            .search_read_all("product.product", Value::Array(domain), &["code", "template", "default_uom"], &json!({}))
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some((
                    text(r, "code")?,
                    Product {
                        id: r.get("id")?.as_i64()?,
                        template: r.get("template")?.as_i64()?,
                        uom: r.get("default_uom")?.as_i64()?,
                    },
                ))
            })
            .collect())
    }

    /// The company's currency code (for prices read without one).
    async fn company_currency(&self) -> Result<String> {
        let company = self.call("model.res.user.get_preferences", vec![json!(true)], json!({})).await?;
        let Some(id) = company.get("company").and_then(Value::as_i64) else {
            return Err(ConnectorError::Rejected {
                message: format!(
                    "{SYSTEM} user {:?} has no current company; set one in the user's preferences",
                    self.login
                ),
                fields: vec![],
            });
        };
        let rows = self
            .search_read(
                "company.company",
                json!([["id", "=", id]]),
                0,
                Some(1),
                json!([]),
                &["currency.code"],
                &json!({}),
            )
            .await?;
        rows.first()
            .and_then(|r| r.get("currency.")?.get("code")?.as_str().map(str::to_owned))
            .ok_or_else(|| ConnectorError::Protocol(format!("{SYSTEM} company {id} has no currency")))
    }
}

/// A product as an order line needs it.
#[derive(Debug, Clone, Copy)]
struct Product {
    id: i64,
    template: i64,
    uom: i64,
}

/// A numeric record id Ferry stored, back from text.
fn record_id(id: &str, what: &str) -> Result<i64> {
    id.trim().parse().map_err(|_| ConnectorError::Rejected {
        message: format!("{id:?} is not a {SYSTEM} {what} id (a number)"),
        fields: vec![],
    })
}

/// A char field's text (NULL and empty are `None`).
fn text(v: &Value, field: &str) -> Option<String> {
    v.get(field).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A dotted read's value: `"country."` → `{"code": "DE"}` read as `country.code`.
fn nested(v: &Value, field: &str, sub: &str) -> Option<String> {
    text(v.get(format!("{field}."))?, sub)
}

fn row_id(v: &Value, model: &str) -> Result<i64> {
    v.get("id")
        .and_then(Value::as_i64)
        .ok_or_else(|| ConnectorError::Protocol(format!("{SYSTEM} {model} row has no id")))
}

/// A Boolean field; SQLite databases answer 0 and 1.
fn boolean(v: &Value, field: &str) -> Option<bool> {
    match v.get(field)? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        _ => None,
    }
}

fn missing_product_setting(key: &str, what: &str, whose: &str) -> ConnectorError {
    ConnectorError::Rejected {
        message: format!(
            "{whose} has {what}, but this Tryton connection has no `{key}` set; set it to the code of a service product without taxes, then replay"
        ),
        fields: vec![ferry_domain::FieldError { field: key.to_owned(), message: "not set".into() }],
    }
}

#[async_trait]
impl Customers for Tryton {
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
impl Erp for Tryton {
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
        let ok = json!({ "database": "tryton", "login": "admin" });
        let t = Tryton::new("http://127.0.0.1:8000", &ok, "pw").expect("valid settings");
        assert_eq!(t.ref_field, "reference", "the sale's reference holds the store order id by default");
        assert_eq!(t.order_state, OrderState::Processing);
        let missing = |s: Value, key: &str| match Tryton::new("http://127.0.0.1:8000", &s, "pw") {
            Err(SettingsError::BadSetting { key: k, .. }) => assert_eq!(k, key),
            Err(other) => panic!("expected BadSetting {key}, got {other:?}"),
            Ok(_) => panic!("expected BadSetting {key}"),
        };
        missing(json!({ "login": "admin" }), "database");
        missing(json!({ "database": "tryton" }), "login");
        missing(json!({ "database": "t", "login": "a", "order_state": "done" }), "order_state");
        missing(json!({ "database": "t", "login": "a", "warehouses": "WH" }), "warehouses");
        missing(json!({ "database": "t", "login": "a", "external_ref_field": "x; drop" }), "external_ref_field");
        assert!(matches!(Tryton::new("http://127.0.0.1:8000", &ok, ""), Err(SettingsError::BadSecret(_))));
        assert!(matches!(
            Tryton::new("http://tryton.example.com", &ok, "pw"),
            Err(SettingsError::InsecureScheme { .. })
        ));
    }
}
