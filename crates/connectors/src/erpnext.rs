//! ERPNext (Frappe) through its REST API.
//!
//! Follows docs.frappe.io/framework/user/en/api/rest: token auth
//! (`Authorization: token <api_key>:<api_secret>`), `/api/resource/<DocType>`
//! with `filters`, `fields`, `limit_start` and `limit_page_length`, answers
//! wrapped in `{"data": ...}`, and error bodies carrying `exc_type` and
//! `_server_messages`. `modified` is site-local time without a zone; the
//! site's time zone is a setting and converted here, nowhere else.
//!
//! The store order id is kept on the Sales Order in a custom field
//! (`shopify_order_id` by default, as ERPNext's own Shopify integration
//! does), which is how we look an order up before ever creating it.

mod addresses;
mod customers;
mod refunds;
mod shipping;

use crate::http;
use crate::settings::{validate_base_url, SettingsError};
use crate::traits::{Erp, Page};
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Duration as Days, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use ferry_domain::{
    CatalogField, CatalogItem, ConnectorError, ErpOrderRef, ErpOrderSummary, FieldError, Money, Order, StockLevel,
    StockReading,
};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};
use std::str::FromStr;

const SYSTEM: &str = "ERPNext";
pub const DEFAULT_REF_FIELD: &str = "shopify_order_id";

/// An ERPNext site.
pub struct ErpNext {
    base: String,
    auth: String,
    tz: Tz,
    ref_field: String,
    delivery_after_days: i64,
    shipping_account: Option<String>,
    tax_account: Option<String>,
    /// The selling price list prices are read from and written to.
    price_list: String,
    /// Custom fields (Allow on Submit) of the Delivery Note that get the
    /// tracking number and the carrier.
    tracking_field: String,
    carrier_field: String,
    /// A parcel's weight when the Delivery Note has none.
    parcel_grams: u32,
    /// The item a credit note for a refund without returned goods uses.
    refund_item: Option<String>,
    /// Frappe's rate limiter (when the site sets one) announces its window.
    window: crate::pacing::WindowBudget,
    /// (doctype, name, modified) of Contacts and Addresses → the customers
    /// they link to (see `customers::linked_customers`).
    links_seen: std::sync::Mutex<std::collections::HashMap<String, Vec<String>>>,
    client: reqwest::Client,
    /// Find-or-create of customers runs one at a time, so two orders of a
    /// new customer written concurrently do not create them twice.
    customer_lock: tokio::sync::Mutex<()>,
    /// Customer names by email, as found or made: a returning customer's
    /// next order needs no lookup. Forgotten when an order naming one is refused.
    customers: std::sync::Mutex<std::collections::HashMap<String, String>>,
    /// Address names by customer and place (`addresses::place_key`), as
    /// found or made for orders' shipping addresses.
    addresses: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl ErpNext {
    /// `secret` is `api_key:api_secret`. Settings: `timezone` (IANA name of
    /// the site's time zone, default UTC), `external_ref_field`,
    /// `delivery_after_days` (default 7), `shipping_account` and
    /// `tax_account` (the account heads shipping and VAT are booked to,
    /// needed once an order has shipping or added VAT).
    pub fn new(base_url: &str, settings: &Value, secret: &str) -> Result<Self, SettingsError> {
        let base = validate_base_url(base_url)?;
        let secret = secret.trim();
        match secret.split_once(':') {
            Some((k, s)) if !k.is_empty() && !s.is_empty() => {}
            _ => return Err(SettingsError::BadSecret("ERPNext expects api_key:api_secret".into())),
        }
        let tz_name = settings.get("timezone").and_then(Value::as_str).unwrap_or("UTC");
        let tz: Tz = tz_name.parse().map_err(|_| SettingsError::BadSetting {
            key: "timezone".into(),
            message: format!("{tz_name:?} is not a time zone name like Europe/Berlin"),
        })?;
        let field_setting = |key: &str, default: &str| -> Result<String, SettingsError> {
            let name = settings.get(key).and_then(Value::as_str).unwrap_or(default);
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(SettingsError::BadSetting {
                    key: key.into(),
                    message: format!("must be a field name like {default}"),
                });
            }
            Ok(name.to_owned())
        };
        let ref_field = field_setting("external_ref_field", DEFAULT_REF_FIELD)?;
        let parcel_grams = match settings.get("default_parcel_grams") {
            None => 1000,
            Some(v) => v.as_u64().and_then(|g| u32::try_from(g).ok()).filter(|g| *g > 0).ok_or_else(|| {
                SettingsError::BadSetting {
                    key: "default_parcel_grams".into(),
                    message: "must be a weight in grams above 0, e.g. 1000".into(),
                }
            })?,
        };
        let delivery_after_days = settings.get("delivery_after_days").and_then(Value::as_i64).unwrap_or(7);
        Ok(Self {
            base: base.as_str().trim_end_matches('/').to_owned(),
            auth: format!("token {secret}"),
            tz,
            ref_field,
            tracking_field: field_setting("tracking_field", "tracking_number")?,
            carrier_field: field_setting("carrier_field", "carrier")?,
            parcel_grams,
            refund_item: settings.get("refund_item").and_then(Value::as_str).map(str::to_owned),
            window: crate::pacing::WindowBudget::new(0.25),
            links_seen: Default::default(),
            delivery_after_days,
            shipping_account: settings.get("shipping_account").and_then(Value::as_str).map(str::to_owned),
            tax_account: settings.get("tax_account").and_then(Value::as_str).map(str::to_owned),
            price_list: settings.get("price_list").and_then(Value::as_str).unwrap_or("Standard Selling").to_owned(),
            client: http::client(http::timeout_setting(settings)?),
            customer_lock: tokio::sync::Mutex::new(()),
            customers: Default::default(),
            addresses: Default::default(),
        })
    }

    fn resource_url(&self, doctype: &str) -> String {
        format!("{}/api/resource/{}", self.base, urlencoding::encode(doctype))
    }

    /// `PUT /api/resource/Item/<code>` with the fields to change.
    async fn update_item(&self, code: &str, fields: &Value) -> Result<()> {
        let url = format!("{}/{}", self.resource_url("Item"), urlencoding::encode(code));
        self.call(Method::PUT, &url, &[], Some(fields)).await.map(|_| ())
    }

    /// Sends a request with the token; returns the body of a success, or
    /// the typed error for anything else.
    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Value> {
        let wait = self.window.wait();
        if !wait.is_zero() {
            tracing::debug!(?wait, "pacing to stay inside ERPNext's rate-limit window");
            tokio::time::sleep(wait).await;
        }
        let resp =
            req.header("Authorization", &self.auth).send().await.map_err(|e| http::transport_error(SYSTEM, &e))?;
        if let Some((limit, remaining, reset)) = http::rate_limit_window(resp.headers()) {
            self.window.observe(limit, remaining, reset);
        }
        let status = resp.status();
        if let Some(err) = http::classify_status(SYSTEM, status, resp.headers()) {
            return Err(err);
        }
        let bytes = http::read_body(SYSTEM, resp).await?;
        if !status.is_success() {
            return Err(frappe_error(status, &bytes));
        }
        http::parse_json(SYSTEM, "an answer", &bytes)
    }

    /// `/api/resource/...`: answers are wrapped in `{"data": ...}`.
    async fn call(&self, method: Method, url: &str, query: &[(&str, String)], body: Option<&Value>) -> Result<Value> {
        let mut req = self.client.request(method, url).query(query);
        if let Some(b) = body {
            req = req.json(b);
        }
        let v = self.send(req).await?;
        v.get("data").cloned().ok_or_else(|| ConnectorError::Protocol("ERPNext answer has no \"data\"".into()))
    }

    /// `POST /api/method/...`: whitelisted methods answer `{"message": ...}`.
    async fn call_method(&self, url: &str, body: &Value) -> Result<Value> {
        let v = self.send(self.client.post(url).json(body)).await?;
        Ok(v.get("message").cloned().unwrap_or(Value::Null))
    }

    /// Every matching document, page by page (`limit_start` / `limit_page_length`).
    async fn list_all(&self, doctype: &str, filters: Value, fields: Value) -> Result<Vec<Value>> {
        const PAGE: usize = 500;
        let mut out = Vec::new();
        loop {
            let rows = self.list_page(doctype, &filters, &fields, "creation asc", out.len(), PAGE).await?;
            let last = rows.len() < PAGE;
            out.extend(rows);
            if last {
                return Ok(out);
            }
        }
    }

    /// One page of `GET /api/resource/<doctype>`: rows `start..start + len`
    /// in `order_by` order.
    async fn list_page(
        &self,
        doctype: &str,
        filters: &Value,
        fields: &Value,
        order_by: &str,
        start: usize,
        len: usize,
    ) -> Result<Vec<Value>> {
        let query = [
            ("filters", filters.to_string()),
            ("fields", fields.to_string()),
            ("order_by", order_by.to_owned()),
            ("limit_start", start.to_string()),
            ("limit_page_length", len.to_string()),
        ];
        match self.call(Method::GET, &self.resource_url(doctype), &query, None).await? {
            // Callers fetch more for each row (an address, a document): a
            // list longer than asked for is not ERPNext's, and acting on it
            // would make thousands of requests from one answer.
            Value::Array(rows) if rows.len() > len => Err(ConnectorError::Protocol(format!(
                "ERPNext sent {} {doctype} rows where at most {len} were asked for",
                rows.len()
            ))),
            Value::Array(rows) => Ok(rows),
            other => Err(ConnectorError::Protocol(format!("ERPNext {doctype} list is not an array: {}", kind(&other)))),
        }
    }

    async fn list(&self, doctype: &str, filters: Value, fields: Value, limit: u32) -> Result<Vec<Value>> {
        self.list_page(doctype, &filters, &fields, "modified desc", 0, limit as usize).await
    }

    /// The customer remembered for this email, if any.
    fn known_customer(&self, email: Option<&String>) -> Option<String> {
        self.customers.lock().unwrap_or_else(|e| e.into_inner()).get(email?).cloned()
    }

    /// The order's customer: remembered by email, else found or made (see
    /// `find_or_make_customer`), one at a time.
    async fn ensure_customer(&self, order: &Order) -> Result<String> {
        let email = order.customer.email.as_ref();
        if let Some(known) = self.known_customer(email) {
            return Ok(known);
        }
        let _one_at_a_time = self.customer_lock.lock().await;
        if let Some(known) = self.known_customer(email) {
            return Ok(known); // found or made by another order while we waited
        }
        let customer = self.find_or_make_customer(order).await?;
        if let Some(email) = email {
            self.customers.lock().unwrap_or_else(|e| e.into_inner()).insert(email.clone(), customer.clone());
        }
        Ok(customer)
    }

    /// Finds the order's customer, matched by email, then by name and
    /// postcode of the shipping address (by name alone for a guest with
    /// neither); creates the customer, with their own address (else the
    /// shipping one) as the primary, when nothing matches.
    async fn find_or_make_customer(&self, order: &Order) -> Result<String> {
        let name = order.customer.display_name();
        if let Some(email) = &order.customer.email {
            if let Some(found) =
                self.list("Customer", json!([["email_id", "=", email]]), json!(["name"]), 1).await?.first()
            {
                return string_field(found, "name", "Customer");
            }
        }
        let shipping = addresses::usable(order.shipping_address.as_ref());
        if let Some(postcode) = shipping.and_then(|a| a.postcode.as_deref()) {
            if let Some(customer) = self.customer_by_address(&name, postcode.trim()).await? {
                return Ok(customer);
            }
        } else if order.customer.email.is_none() {
            // A guest with neither email nor postcode: the name is all there is.
            if let Some(found) =
                self.list("Customer", json!([["customer_name", "=", name]]), json!(["name"]), 1).await?.first()
            {
                return string_field(found, "name", "Customer");
            }
        }
        let created = self
            .call(
                Method::POST,
                &self.resource_url("Customer"),
                &[],
                Some(&json!({
                    "customer_name": name,
                    "customer_type": "Individual",
                    "email_id": order.customer.email,
                    "mobile_no": order.customer.phone,
                })),
            )
            .await?;
        let customer = string_field(&created, "name", "Customer")?;
        // The customer's own address when the store knows it, else where
        // this order goes: one order's destination is not the customer's home.
        let own = addresses::usable(order.customer.addresses.first());
        if let Some((a, kind)) = own.map(|a| (a, "Billing")).or(shipping.map(|a| (a, "Shipping"))) {
            let address = self.create_address(&customer, &name, a, kind).await?;
            // As the Customer form's quick entry does: the first address is the primary one.
            self.set_primary_address(&customer, &address).await?;
        }
        Ok(customer)
    }

    /// The customer linked to an address with this title and postcode.
    async fn customer_by_address(&self, name: &str, postcode: &str) -> Result<Option<String>> {
        let filters = json!([["address_title", "=", name], ["pincode", "=", postcode]]);
        for address in self.list("Address", filters, json!(["name"]), 5).await? {
            let id = string_field(&address, "name", "Address")?;
            let url = format!("{}/{}", self.resource_url("Address"), urlencoding::encode(&id));
            let doc = self.call(Method::GET, &url, &[], None).await?;
            let linked = doc
                .get("links")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|l| l.get("link_doctype").and_then(Value::as_str) == Some("Customer"));
            if let Some(customer) = linked.and_then(|l| l.get("link_name")).and_then(Value::as_str) {
                return Ok(Some(customer.to_owned()));
            }
        }
        Ok(None)
    }

    /// Shipping and (when not included in prices) VAT as "Actual" charges,
    /// so the document's grand total equals the store's total to the cent.
    fn charges(&self, order: &Order) -> Result<Vec<Value>> {
        let missing = |key: &str, what: &str| {
            ConnectorError::Rejected {
            message: format!(
                "order {} has {what}, but this ERPNext connection has no `{key}` set; set it to the account head {what} is booked to, then replay",
                order.number
            ),
            fields: vec![FieldError { field: key.to_owned(), message: "not set".into() }],
        }
        };
        let mut rows = Vec::new();
        for c in order.shipping_lines.iter().filter(|c| !c.amount.amount.is_zero()) {
            let head = self.shipping_account.as_deref().ok_or_else(|| missing("shipping_account", "shipping"))?;
            rows.push(json!({ "charge_type": "Actual", "account_head": head, "description": format!("Shipping: {}", c.title), "tax_amount": c.amount.amount.to_string() }));
        }
        if !order.taxes_included {
            for t in order.tax_lines.iter().filter(|t| !t.amount.amount.is_zero()) {
                let head = self.tax_account.as_deref().ok_or_else(|| missing("tax_account", "VAT"))?;
                rows.push(json!({ "charge_type": "Actual", "account_head": head, "description": t.title, "tax_amount": t.amount.amount.to_string() }));
            }
        }
        Ok(rows)
    }

    /// Site-local `modified` text → UTC.
    pub fn site_time(&self, text: &str) -> Result<DateTime<Utc>> {
        parse_site_time(text, self.tz)
    }
}

#[async_trait]
impl crate::Customers for ErpNext {
    async fn customers_page(
        &self,
        since: Option<DateTime<Utc>>,
        after: Option<&str>,
    ) -> Result<Page<ferry_domain::CustomerReading>> {
        self.read_customers(since, after).await
    }

    async fn customer(&self, id: &str) -> Result<Option<ferry_domain::CustomerReading>> {
        self.read_customer(id).await
    }

    async fn find_customer(&self, email: &str) -> Result<Option<ferry_domain::CustomerReading>> {
        self.customer_by_email(email).await
    }

    async fn update_customer(&self, id: &str, changes: &[(ferry_domain::CustomerField, Option<String>)]) -> Result<()> {
        self.write_customer(id, changes).await
    }
}

#[async_trait]
impl Erp for ErpNext {
    async fn find_order(&self, external_ref: &str) -> Result<Option<ErpOrderRef>> {
        let rows = self
            .list(
                "Sales Order",
                json!([[self.ref_field, "=", external_ref]]),
                json!(["name", "docstatus", self.ref_field]),
                5,
            )
            .await?;
        if rows.len() > 1 {
            // More than one document for one store order: someone made one by hand.
            // Report it loudly; link a live one so we never add another.
            tracing::warn!(external_ref, "ERPNext has more than one Sales Order for one store order");
        }
        let live = rows.iter().find(|r| r.get("docstatus").and_then(Value::as_i64) != Some(2));
        match live.or(rows.first()) {
            None => Ok(None),
            Some(doc) => Ok(Some(ErpOrderRef {
                id: string_field(doc, "name", "Sales Order")?,
                external_ref: external_ref.to_owned(),
                cancelled: doc.get("docstatus").and_then(Value::as_i64) == Some(2),
            })),
        }
    }

    async fn create_order(&self, order: &Order) -> Result<ErpOrderRef> {
        crate::order_check::postable(order)?;
        let customer = self.ensure_customer(order).await?;
        let local_date = order.created_at.with_timezone(&self.tz).date_naive();
        let mut items = Vec::with_capacity(order.lines.len());
        for (i, line) in order.lines.iter().enumerate() {
            let Some(sku) = &line.sku else {
                return Err(ConnectorError::Rejected {
                    message: format!(
                        "order {} line {} ({:?}) has no SKU; give the product a SKU in the store",
                        order.number,
                        i + 1,
                        line.title
                    ),
                    fields: vec![FieldError { field: format!("lines[{i}].sku"), message: "missing".into() }],
                });
            };
            items.push(json!({ "item_code": sku, "qty": line.quantity, "rate": line.unit_price.amount.to_string() }));
        }
        let taxes = self.charges(order)?;
        // After the checks above: an order refused here adds no Address.
        let ship_to = self.order_address(&customer, order).await?;
        let mut doc = json!({
            "taxes": taxes,
            "customer": customer,
            "transaction_date": local_date.to_string(),
            "delivery_date": (local_date + Days::days(self.delivery_after_days)).to_string(),
            "currency": order.total.currency.code(),
            "po_no": order.number,
            "docstatus": 1,
            "items": items,
        });
        doc[self.ref_field.as_str()] = json!(order.id);
        if let Some(address) = ship_to {
            doc["shipping_address_name"] = json!(address);
        }
        if let Some(d) = order.discount.as_ref().filter(|d| !d.amount.is_zero()) {
            doc["apply_discount_on"] = json!("Grand Total");
            doc["discount_amount"] = json!(d.amount.to_string());
        }
        let created = match self.call(Method::POST, &self.resource_url("Sales Order"), &[], Some(&doc)).await {
            Ok(created) => created,
            Err(e) => {
                if matches!(e, ConnectorError::Rejected { .. }) {
                    // Perhaps the customer or an address was merged or
                    // deleted: look them up again next time.
                    if let Some(email) = &order.customer.email {
                        self.customers.lock().unwrap_or_else(|p| p.into_inner()).remove(email);
                    }
                    self.forget_addresses(&customer);
                }
                return Err(e);
            }
        };
        Ok(ErpOrderRef {
            id: string_field(&created, "name", "Sales Order")?,
            external_ref: order.id.clone(),
            cancelled: false,
        })
    }

    async fn stock_page(&self, since: Option<DateTime<Utc>>, after: Option<&str>) -> Result<Page<StockReading>> {
        const PAGE: usize = 500;
        // `modified` is site-local: the filter is written in the site's time too.
        let since = since
            .map(|t| json!(["modified", ">=", t.with_timezone(&self.tz).format("%Y-%m-%d %H:%M:%S%.6f").to_string()]));
        let filters = |more: &[Value]| Value::Array(since.iter().chain(more).cloned().collect());
        let fields = json!(["name", "item_code", "warehouse", "actual_qty", "reserved_qty", "modified"]);
        // Pages follow the last Bin read by (modified, name), not by offset:
        // a Bin saved between two pages moves to the end of the list, and an
        // offset would then skip the Bin that moved up in its place.
        let rows = match after {
            None => self.list_page("Bin", &filters(&[]), &fields, "modified asc, name asc", 0, PAGE).await?,
            Some(token) => {
                let (modified, name) = token
                    .split_once('|')
                    .ok_or_else(|| ConnectorError::Protocol(format!("bad ERPNext page token {token:?}")))?;
                // The rest of the last Bin's `modified`, then the later ones.
                let same = [json!(["modified", "=", modified]), json!(["name", ">", name])];
                let mut rows = self.list_page("Bin", &filters(&same), &fields, "name asc", 0, PAGE).await?;
                if rows.len() < PAGE {
                    let later = [json!(["modified", ">", modified])];
                    let order = "modified asc, name asc";
                    rows.extend(self.list_page("Bin", &filters(&later), &fields, order, 0, PAGE - rows.len()).await?);
                }
                rows
            }
        };
        let mut items = Vec::with_capacity(rows.len());
        for r in &rows {
            let name = string_field(r, "name", "Bin")?;
            let qty = |field: &str| -> Result<Decimal> {
                match r.get(field) {
                    Some(Value::Number(n)) => Decimal::from_str(&n.to_string()).ok(),
                    Some(Value::String(s)) => Decimal::from_str(s).ok(),
                    _ => None,
                }
                .ok_or_else(|| ConnectorError::Protocol(format!("ERPNext Bin {name}: {field} is not a number")))
            };
            items.push(StockReading {
                level: StockLevel {
                    sku: string_field(r, "item_code", "Bin")?,
                    location: string_field(r, "warehouse", "Bin")?,
                    on_hand: qty("actual_qty")?,
                    reserved: qty("reserved_qty")?,
                },
                updated_at: self.site_time(&string_field(r, "modified", "Bin")?)?,
                id: name,
            });
        }
        let next = match rows.last() {
            Some(last) if rows.len() >= PAGE => {
                Some(format!("{}|{}", string_field(last, "modified", "Bin")?, string_field(last, "name", "Bin")?))
            }
            _ => None,
        };
        Ok(Page { items, next })
    }

    async fn find_credit_note(&self, refund_id: &str) -> Result<Option<String>> {
        self.credit_note_for(refund_id).await
    }

    async fn create_credit_note(
        &self,
        doc: &ErpOrderRef,
        order: &Order,
        refund: &ferry_domain::Refund,
    ) -> Result<String> {
        self.make_credit_note(doc, order, refund).await
    }

    async fn ready_to_ship(
        &self,
        since: Option<DateTime<Utc>>,
        after: Option<&str>,
    ) -> Result<Page<ferry_domain::ReadyParcel>> {
        self.read_ready(since, after).await
    }

    async fn set_tracking(&self, id: &str, shipment: &ferry_domain::Shipment) -> Result<()> {
        self.write_tracking(id, shipment).await
    }

    async fn orders_between(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<ErpOrderSummary>> {
        const PAGE: u32 = 500;
        let filters = json!([["transaction_date", ">=", from.to_string()], ["transaction_date", "<=", to.to_string()]]);
        let fields = json!(["name", self.ref_field, "grand_total", "currency", "docstatus"]);
        let mut out = Vec::new();
        let mut start = 0u32;
        loop {
            let rows =
                self.list_page("Sales Order", &filters, &fields, "creation asc", start as usize, PAGE as usize).await?;
            for r in &rows {
                let name = string_field(r, "name", "Sales Order")?;
                // Frappe sends currency fields as numbers; the emulator as text. Both are exact here.
                let amount = match r.get("grand_total") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => return Err(ConnectorError::Protocol(format!("ERPNext {name} has no grand_total"))),
                };
                let currency = r.get("currency").and_then(Value::as_str).unwrap_or_default();
                let total = Money::parse(&amount, currency)
                    .map_err(|e| ConnectorError::Protocol(format!("ERPNext {name}: grand_total: {e}")))?;
                out.push(ErpOrderSummary {
                    id: name,
                    external_ref: r
                        .get(self.ref_field.as_str())
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                    total,
                    cancelled: r.get("docstatus").and_then(Value::as_i64) == Some(2),
                });
            }
            if rows.len() < PAGE as usize {
                return Ok(out);
            }
            start += PAGE;
        }
    }

    async fn catalog(&self) -> Result<Vec<CatalogItem>> {
        let filters = json!([["price_list", "=", self.price_list]]);
        let rows =
            self.list_all("Item Price", filters, json!(["name", "item_code", "price_list_rate", "currency"])).await?;
        let mut prices = std::collections::HashMap::new();
        for r in &rows {
            let code = string_field(r, "item_code", "Item Price")?;
            let rate = number_text(r.get("price_list_rate")).ok_or_else(|| {
                ConnectorError::Protocol(format!("ERPNext Item Price of {code}: price_list_rate is not a number"))
            })?;
            let currency = r.get("currency").and_then(Value::as_str).unwrap_or_default();
            let money = Money::parse(&rate, currency)
                .map_err(|e| ConnectorError::Protocol(format!("ERPNext Item Price of {code}: {e}")))?;
            prices.insert(code, money);
        }
        let items = self.list_all("Item", json!([]), json!(["item_code", "item_name", "disabled"])).await?;
        items
            .iter()
            .map(|r| {
                let sku = string_field(r, "item_code", "Item")?;
                Ok(CatalogItem {
                    price: prices.remove(&sku),
                    title: r.get("item_name").and_then(Value::as_str).map(str::to_owned),
                    active: r
                        .get("disabled")
                        .and_then(|v| v.as_i64().or_else(|| v.as_bool().map(i64::from)))
                        .map(|d| d == 0),
                    sku,
                })
            })
            .collect()
    }

    async fn set_catalog_field(&self, sku: &str, field: &CatalogField) -> Result<()> {
        let price = match field {
            CatalogField::Price(price) => price,
            CatalogField::Title(title) => return self.update_item(sku, &json!({ "item_name": title })).await,
            CatalogField::Active(active) => {
                return self.update_item(sku, &json!({ "disabled": i64::from(!*active) })).await;
            }
        };
        crate::order_check::writable_price(sku, price)?;
        let filters = json!([["price_list", "=", self.price_list], ["item_code", "=", sku]]);
        let existing = self.list("Item Price", filters, json!(["name"]), 1).await?;
        match existing.first() {
            Some(row) => {
                let name = string_field(row, "name", "Item Price")?;
                let url = format!("{}/{}", self.resource_url("Item Price"), urlencoding::encode(&name));
                let body = json!({ "price_list_rate": price.amount.to_string() });
                self.call(Method::PUT, &url, &[], Some(&body)).await?;
            }
            None => {
                // No price yet: make sure the Item exists, so an unknown SKU is
                // refused as such (a fix-and-replay), not as whatever the
                // server answers an Item Price it cannot link (a 403 there
                // would pause the whole connection).
                let item = self.list("Item", json!([["name", "=", sku]]), json!(["name"]), 1).await?;
                if item.is_empty() {
                    return Err(ConnectorError::Rejected {
                        message: format!("ERPNext has no Item {sku}; create it (or fix the SKU), then replay"),
                        fields: vec![FieldError { field: "sku".into(), message: format!("{sku} not in ERPNext") }],
                    });
                }
                let body = json!({ "item_code": sku, "price_list": self.price_list, "price_list_rate": price.amount.to_string(),
                    "currency": price.currency.code() });
                self.call(Method::POST, &self.resource_url("Item Price"), &[], Some(&body)).await?;
            }
        }
        Ok(())
    }

    async fn cancel_order(&self, id: &str) -> Result<()> {
        let url = format!("{}/api/method/frappe.client.cancel", self.base);
        self.call_method(&url, &json!({ "doctype": "Sales Order", "name": id })).await.map(|_| ())
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A number Frappe sent as a JSON number or as text, as exact text.
fn number_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if Decimal::from_str(s).is_ok() => Some(s.clone()),
        _ => None,
    }
}

fn string_field(v: &Value, field: &str, doctype: &str) -> Result<String> {
    v.get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ConnectorError::Protocol(format!("ERPNext {doctype} has no text field {field:?}")))
}

/// ERPNext names countries in words (its Country doctype); stores send
/// ISO codes. Unknown codes are left out rather than guessed.
fn country_name(code: &str) -> Option<&'static str> {
    COUNTRIES.iter().find(|(c, _)| c.eq_ignore_ascii_case(code)).map(|(_, n)| *n)
}

/// ISO code → ERPNext country name.
const COUNTRIES: &[(&str, &str)] = &[
    ("AT", "Austria"),
    ("BE", "Belgium"),
    ("CH", "Switzerland"),
    ("CZ", "Czech Republic"),
    ("DE", "Germany"),
    ("DK", "Denmark"),
    ("ES", "Spain"),
    ("FI", "Finland"),
    ("FR", "France"),
    ("GB", "United Kingdom"),
    ("IE", "Ireland"),
    ("IT", "Italy"),
    ("LU", "Luxembourg"),
    ("NL", "Netherlands"),
    ("NO", "Norway"),
    ("PL", "Poland"),
    ("PT", "Portugal"),
    ("SE", "Sweden"),
    ("US", "United States"),
];

/// Parses `2026-11-26 14:05:01.123456` in `tz`. A time that a DST change
/// skipped is moved forward past the gap; one that happened twice takes the
/// earlier instant, so a cursor can only re-read, never skip.
pub fn parse_site_time(text: &str, tz: Tz) -> Result<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S%.f")
        .map_err(|e| ConnectorError::Protocol(format!("ERPNext time {text:?} is not YYYY-MM-DD HH:MM:SS: {e}")))?;
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(early, _) => Ok(early.with_timezone(&Utc)),
        LocalResult::None => tz
            .from_local_datetime(&(naive + Days::hours(1)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| ConnectorError::Protocol(format!("ERPNext time {text:?} does not exist in {tz}"))),
    }
}

#[derive(Debug, Deserialize)]
struct FrappeError {
    exc_type: Option<String>,
    #[serde(rename = "_server_messages")]
    server_messages: Option<String>,
    message: Option<Value>,
    exception: Option<String>,
}

/// Reads a Frappe error body into the typed error.
pub fn frappe_error(status: StatusCode, body: &[u8]) -> ConnectorError {
    let parsed: Option<FrappeError> = serde_json::from_slice(body).ok();
    let exc_type = parsed.as_ref().and_then(|p| p.exc_type.clone()).unwrap_or_default();
    let message = parsed.as_ref().map(human_message).filter(|m| !m.is_empty()).unwrap_or_else(|| {
        let raw = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        if raw.trim().is_empty() {
            format!("HTTP {status}")
        } else {
            raw
        }
    });
    let text = format!("ERPNext: {message}");
    match (status, exc_type.as_str()) {
        (StatusCode::FORBIDDEN, _) | (_, "PermissionError") | (_, "AuthenticationError") => {
            ConnectorError::Auth(format!("{text} (check the API user's roles and key)"))
        }
        (StatusCode::NOT_FOUND, _) | (_, "DoesNotExistError") => ConnectorError::NotFound(text),
        (s, _) if s.is_client_error() => ConnectorError::Rejected { message: text, fields: vec![] },
        _ => ConnectorError::Protocol(text),
    }
}

fn human_message(e: &FrappeError) -> String {
    // `_server_messages` is a JSON list of JSON strings, each an object with `message`.
    if let Some(raw) = &e.server_messages {
        if let Ok(list) = serde_json::from_str::<Vec<String>>(raw) {
            let msgs: Vec<String> = list
                .iter()
                .filter_map(|s| serde_json::from_str::<Value>(s).ok())
                .filter_map(|v| v.get("message").and_then(Value::as_str).map(strip_tags))
                .collect();
            if !msgs.is_empty() {
                return msgs.join("; ");
            }
        }
    }
    if let Some(Value::String(m)) = &e.message {
        return strip_tags(m);
    }
    e.exception.clone().unwrap_or_default()
}

/// Frappe puts HTML in messages (`<strong>`); people read text.
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_time_is_converted_with_dst() {
        let berlin: Tz = "Europe/Berlin".parse().expect("tz");
        let t = parse_site_time("2026-11-26 14:05:01.123456", berlin).expect("parse");
        assert_eq!(t.to_rfc3339(), "2026-11-26T13:05:01.123456+00:00", "CET is UTC+1 in November");
        let summer = parse_site_time("2026-07-01 12:00:00", berlin).expect("parse");
        assert_eq!(summer.to_rfc3339(), "2026-07-01T10:00:00+00:00", "CEST is UTC+2");
        let twice = parse_site_time("2026-10-25 02:30:00", berlin).expect("ambiguous hour");
        assert_eq!(twice.to_rfc3339(), "2026-10-25T00:30:00+00:00", "the earlier of the two instants");
        let skipped = parse_site_time("2026-03-29 02:30:00", berlin).expect("skipped hour");
        assert_eq!(skipped.to_rfc3339(), "2026-03-29T01:30:00+00:00", "moved past the gap");
        assert!(matches!(parse_site_time("26/11/2026", berlin), Err(ConnectorError::Protocol(_))));
    }

    #[test]
    fn frappe_error_bodies_map_to_actions() {
        let link = br#"{"exc_type":"LinkValidationError","exception":"frappe.exceptions.LinkValidationError: Could not find Item Code: MUG-9",
            "_server_messages":"[\"{\\\"message\\\": \\\"Could not find <strong>Item Code</strong>: MUG-9\\\", \\\"title\\\": \\\"Message\\\", \\\"indicator\\\": \\\"red\\\", \\\"raise_exception\\\": 1}\"]"}"#;
        match frappe_error(StatusCode::EXPECTATION_FAILED, link) {
            ConnectorError::Rejected { message, .. } => assert_eq!(message, "ERPNext: Could not find Item Code: MUG-9"),
            other => panic!("expected Rejected, got {other:?}"),
        }
        let perm = br#"{"exc_type":"PermissionError","_server_messages":"[]"}"#;
        assert!(matches!(frappe_error(StatusCode::FORBIDDEN, perm), ConnectorError::Auth(_)));
        let missing = br#"{"exc_type":"DoesNotExistError","message":"Sales Order SAL-ORD-1 not found"}"#;
        assert!(matches!(frappe_error(StatusCode::NOT_FOUND, missing), ConnectorError::NotFound(_)));
        assert!(
            matches!(frappe_error(StatusCode::EXPECTATION_FAILED, b"<html>oops"), ConnectorError::Rejected { .. }),
            "a non-JSON error body still yields a typed error"
        );
        assert!(matches!(frappe_error(StatusCode::IM_A_TEAPOT, b""), ConnectorError::Rejected { .. }));
    }

    #[test]
    fn settings_and_secret_are_validated() {
        let s = json!({});
        assert!(matches!(ErpNext::new("https://erp.example.com", &s, "no-colon"), Err(SettingsError::BadSecret(_))));
        assert!(matches!(
            ErpNext::new("https://erp.example.com", &json!({"timezone": "Mars/Olympus"}), "k:s"),
            Err(SettingsError::BadSetting { .. })
        ));
        let e =
            ErpNext::new("http://127.0.0.1:1/erpnext/", &json!({"timezone": "Europe/Berlin"}), "k:s").expect("valid");
        assert_eq!(e.resource_url("Sales Order"), "http://127.0.0.1:1/erpnext/api/resource/Sales%20Order");
        assert_eq!(e.auth, "token k:s");
    }

    /// Reads every Bin page by page; `between` runs after the first page.
    async fn read_bins(erp: &ErpNext, between: impl FnOnce()) -> Vec<String> {
        let first = erp.stock_page(None, None).await.expect("first page");
        between();
        let mut read: Vec<String> = first.items.into_iter().map(|r| r.id).collect();
        let mut next = first.next;
        while let Some(token) = next {
            let page = erp.stock_page(None, Some(&token)).await.expect("page");
            read.extend(page.items.into_iter().map(|r| r.id));
            next = page.next;
        }
        read
    }

    /// A loopback server that answers every request with `body` and
    /// counts the requests.
    fn answering(body: &'static str) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = count.clone();
        std::thread::spawn(move || {
            for mut conn in listener.incoming().flatten() {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).is_ok_and(|n| n == 1) {
                    head.push(byte[0]);
                }
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(answer.as_bytes());
            }
        });
        (url, count)
    }

    #[tokio::test]
    async fn a_list_longer_than_asked_for_is_refused_not_followed_row_by_row() {
        // Found by the fuzz suite: a Customer list asked for 1 row answered
        // with 2,000 copies made `customer` fetch an address for each, for
        // minutes. Three rows where one was asked for are refused at once.
        let (url, requests) = answering(r#"{"data":[{"name":"Ada"},{"name":"Ada"},{"name":"Ada"}]}"#);
        let erp = ErpNext::new(&url, &json!({}), "key:secret").expect("valid settings");
        match crate::Customers::customer(&erp, "Ada").await {
            Err(ConnectorError::Protocol(m)) => assert!(m.contains("3 Customer rows where at most 1"), "{m}"),
            other => panic!("expected a protocol error, got {other:?}"),
        }
        assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 1, "nothing more is fetched for the rows");
    }

    #[tokio::test]
    async fn stock_pages_miss_no_bin_when_the_list_shifts_or_repeats() {
        let sim = ferry_sim::RunningSim::start(ferry_sim::SimOptions::default()).await.expect("emulators");
        for i in 0..1200 {
            sim.sim.erpnext.add_bin(&format!("SPARE-{i:04}"), 1, 0);
        }
        let all: std::collections::BTreeSet<String> =
            sim.sim.erpnext.documents("Bin").iter().filter_map(|b| Some(b.get("name")?.as_str()?.to_owned())).collect();
        let erp =
            ErpNext::new(&sim.erpnext_url(), &json!({ "timezone": "Europe/Berlin" }), ferry_sim::DEMO_ERPNEXT_SECRET)
                .expect("valid settings");
        let faults = &sim.sim.erpnext.faults;
        let calm = read_bins(&erp, || {}).await;
        assert_eq!(calm.len(), all.len(), "without faults every Bin is read once");

        let shifted = read_bins(&erp, || faults.shift_next_page(2)).await;
        assert_eq!(faults.page_troubles_left(), 0, "two Bins changed while the pages were read");
        let missed: Vec<_> = all.iter().filter(|b| !shifted.contains(b)).collect();
        assert!(missed.is_empty(), "a Bin already read changing between pages hides no other Bin: missed {missed:?}");

        let repeated = read_bins(&erp, || faults.duplicate_next_page(2)).await;
        let missed: Vec<_> = all.iter().filter(|b| !repeated.contains(b)).collect();
        assert!(missed.is_empty(), "repeated rows hide no Bin: missed {missed:?}");
    }
}
