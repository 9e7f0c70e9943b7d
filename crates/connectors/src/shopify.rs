//! Shopify through the GraphQL Admin API.
//!
//! Follows shopify.dev/docs/api/admin-graphql (the `orders` query, `first`/
//! `after` cursor pagination up to 250 per page, the `query` search syntax
//! with `updated_at:>=`) and shopify.dev/docs/apps/build/apis/graphql-admin/
//! rate-limits (calculated query cost, `extensions.cost.throttleStatus`, a
//! `THROTTLED` error code when the bucket is empty). Auth is the
//! `X-Shopify-Access-Token` header of a custom app.

mod bulk;
mod customers;
mod fulfillment;
mod stock_batch;

use crate::http;
use crate::pacing::CostBucket;
use crate::settings::{validate_base_url, SettingsError};
use crate::traits::{Page, Store};
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use ferry_domain::{
    Address, CatalogField, CatalogItem, Charge, ConnectorError, Customer, FieldError, Money, Order, OrderLine,
    OrderStatus, Refund, RefundLine,
};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

pub const DEFAULT_API_VERSION: &str = "2025-07";
/// Shopify's maximum for `first`.
pub const MAX_PAGE: u32 = 250;
/// Stock levels sent in one `inventorySetQuantities` at most.
pub const STOCK_QUANTITIES_PER_CALL: usize = stock_batch::MAX_QUANTITIES;
const SYSTEM: &str = "Shopify";
/// Variant pages read before the rest of a catalog comes by export: four
/// pages (1,000 variants) fit in the cost bucket without waiting.
const VARIANT_PAGES_BEFORE_EXPORT: u32 = 4;

pub const VARIANTS_QUERY: &str = r#"query Variants($first: Int!, $after: String) {
  productVariants(first: $first, after: $after) {
    edges { cursor node { id sku price product { id title status hasOnlyDefaultVariant } inventoryItem { id } } }
    pageInfo { hasNextPage endCursor }
  }
}"#;

pub const SET_QUANTITIES: &str = r#"mutation SetAvailable($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { createdAt reason changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}"#;

pub const UPDATE_VARIANTS: &str = r#"mutation SetPrice($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants) {
    productVariants { id price }
    userErrors { field message }
  }
}"#;

/// `productUpdate(product: ProductUpdateInput!)` (2024-10 and later): title and status.
pub const UPDATE_PRODUCT: &str = r#"mutation UpdateProduct($product: ProductUpdateInput!) {
  productUpdate(product: $product) {
    product { id title status }
    userErrors { field message }
  }
}"#;

pub const ORDERS_QUERY: &str = r#"query Orders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    edges { cursor node {
      id name createdAt updatedAt cancelledAt closed email phone taxesIncluded
      totalPriceSet { shopMoney { amount currencyCode } }
      totalDiscountsSet { shopMoney { amount currencyCode } }
      shippingLines(first: 10) { edges { node { title originalPriceSet { shopMoney { amount currencyCode } } } } }
      taxLines { title rate priceSet { shopMoney { amount currencyCode } } }
      customer { id email firstName lastName phone defaultAddress { address1 address2 city zip countryCodeV2 } }
      shippingAddress { name address1 address2 city zip countryCodeV2 phone }
      refunds { id createdAt note totalRefundedSet { shopMoney { amount currencyCode } }
        refundLineItems(first: 50) { nodes { quantity lineItem { sku } subtotalSet { shopMoney { amount currencyCode } } } } }
      lineItems(first: 50) { edges { node { sku title quantity
        originalUnitPriceSet { shopMoney { amount currencyCode } } } } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"#;

/// A Shopify store. Clones share the pacing and the SKU map (an export
/// being read holds one).
#[derive(Clone)]
pub struct Shopify {
    endpoint: String,
    token: String,
    page_size: u32,
    client: reqwest::Client,
    /// Our model of Shopify's query-cost bucket, to pace calls.
    bucket: std::sync::Arc<CostBucket>,
    /// SKU → the variant's ids, loaded on first need.
    variants: std::sync::Arc<Mutex<Option<std::collections::HashMap<String, VariantIds>>>>,
    /// One load of the SKU map at a time.
    variants_load: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Stock levels waiting to go out together.
    stock: std::sync::Arc<stock_batch::Gatherer>,
    /// The shop's currency (variant prices carry none).
    currency: String,
}

/// The ids Shopify knows one SKU by.
#[derive(Debug, Clone)]
struct VariantIds {
    variant: String,
    product: String,
    inventory_item: String,
}

impl Shopify {
    /// `base_url` is the shop's admin origin (`https://my-shop.myshopify.com`);
    /// settings: `api_version` (default 2025-07), `page_size` (1..=250).
    pub fn new(base_url: &str, settings: &serde_json::Value, token: &str) -> Result<Self, SettingsError> {
        let base = validate_base_url(base_url)?;
        let version = settings.get("api_version").and_then(|v| v.as_str()).unwrap_or(DEFAULT_API_VERSION);
        if !version.chars().all(|c| c.is_ascii_digit() || c == '-') {
            return Err(SettingsError::BadSetting {
                key: "api_version".into(),
                message: format!("{version:?} is not like 2025-07"),
            });
        }
        let page_size = match settings.get("page_size") {
            None => MAX_PAGE,
            Some(v) => match v.as_u64() {
                Some(n @ 1..=250) => n as u32,
                _ => {
                    return Err(SettingsError::BadSetting {
                        key: "page_size".into(),
                        message: "must be 1 to 250".into(),
                    })
                }
            },
        };
        if token.trim().is_empty() {
            return Err(SettingsError::BadSecret("the Admin API access token is empty".into()));
        }
        let endpoint = format!("{}/admin/api/{version}/graphql.json", base.as_str().trim_end_matches('/'));
        let client = http::client(http::timeout_setting(settings)?);
        let currency = settings.get("currency").and_then(|v| v.as_str()).unwrap_or("EUR").to_owned();
        ferry_domain::Currency::new(&currency)
            .map_err(|e| SettingsError::BadSetting { key: "currency".into(), message: e.to_string() })?;
        crate::order_check::known_currency(&currency)
            .map_err(|message| SettingsError::BadSetting { key: "currency".into(), message })?;
        Ok(Self {
            endpoint,
            token: token.trim().to_owned(),
            page_size,
            client,
            bucket: Default::default(),
            variants: Default::default(),
            variants_load: Default::default(),
            stock: Default::default(),
            currency,
        })
    }

    /// SKU → inventory item id, loaded once from `productVariants`
    /// (reloaded when a SKU is not found, in case it was just added).
    async fn inventory_item(&self, sku: &str) -> Result<Option<String>> {
        Ok(self.variant(sku).await?.map(|v| v.inventory_item))
    }

    /// The ids Shopify knows `sku` by, loaded once from `productVariants`
    /// (reloaded when a SKU is not found, in case it was just added).
    async fn variant(&self, sku: &str) -> Result<Option<VariantIds>> {
        let cached =
            || self.variants.lock().unwrap_or_else(|e| e.into_inner()).as_ref().and_then(|m| m.get(sku).cloned());
        if let Some(v) = cached() {
            return Ok(Some(v));
        }
        let _one_load = self.variants_load.lock().await;
        if let Some(v) = cached() {
            return Ok(Some(v)); // loaded by another call while we waited
        }
        self.load_variants().await?;
        Ok(cached())
    }

    /// Reads every variant (refreshing the SKU map) and returns them.
    async fn load_variants(&self) -> Result<Vec<VariantNode>> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let variables = serde_json::json!({ "first": MAX_PAGE, "after": after });
            let data: VariantsData =
                self.post(VARIANTS_QUERY, variables, f64::from(MAX_PAGE) + 2.0).await?.into_data()?;
            all.extend(data.product_variants.edges.into_iter().map(|e| e.node));
            pages += 1;
            match (data.product_variants.page_info.has_next_page, data.product_variants.page_info.end_cursor) {
                // A large catalog: the rest would wait on the cost bucket,
                // so all of it comes from one export instead.
                (true, Some(_)) if pages >= VARIANT_PAGES_BEFORE_EXPORT => {
                    all = bulk::all_variants(self).await?;
                    break;
                }
                (true, Some(c)) => after = Some(c),
                _ => break,
            }
        }
        let map = all
            .iter()
            .filter_map(|v| {
                let sku = v.sku.clone().filter(|s| !s.is_empty())?;
                Some((
                    sku,
                    VariantIds {
                        variant: v.id.clone(),
                        product: v.product.as_ref().map(|p| p.id.clone()).unwrap_or_default(),
                        inventory_item: v.inventory_item.id.clone(),
                    },
                ))
            })
            .collect();
        *self.variants.lock().unwrap_or_else(|e| e.into_inner()) = Some(map);
        Ok(all)
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        query: &str,
        variables: serde_json::Value,
        expected_cost: f64,
    ) -> Result<GraphQlResponse<T>> {
        let (wait, _held_until_answered) = self.bucket.reserve(expected_cost);
        if !wait.is_zero() {
            tracing::debug!(?wait, "pacing to stay under Shopify's query-cost bucket");
            tokio::time::sleep(wait).await;
        }
        let resp = self
            .client
            .post(&self.endpoint)
            .header("X-Shopify-Access-Token", &self.token)
            .json(&serde_json::json!({ "query": query, "variables": variables }))
            .send()
            .await
            .map_err(|e| http::transport_error(SYSTEM, &e))?;
        let status = resp.status();
        if let Some(err) = http::classify_status(SYSTEM, status, resp.headers()) {
            return Err(err);
        }
        let body = http::read_body(SYSTEM, resp).await?;
        if status == reqwest::StatusCode::FORBIDDEN {
            return Err(ConnectorError::Auth(format!(
                "Shopify refused access (403): the app lacks a scope such as read_orders. {}",
                error_text(&body)
            )));
        }
        if !status.is_success() {
            return Err(ConnectorError::Protocol(format!("Shopify answered {status}: {}", error_text(&body))));
        }
        let parsed: GraphQlResponse<T> = http::parse_json(SYSTEM, "an answer", &body)?;
        if let Some(cost) = &parsed.extensions.as_ref().and_then(|e| e.cost.clone()) {
            let t = &cost.throttle_status;
            self.bucket.observe(t.maximum_available, t.currently_available, t.restore_rate);
        }
        Ok(parsed)
    }
}

fn error_text(body: &[u8]) -> String {
    // Shopify sends {"errors": "..."} or {"errors": [{"message": ...}]}.
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let text = match v.get("errors") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(a)) => {
            a.iter().filter_map(|e| e.get("message").and_then(|m| m.as_str())).collect::<Vec<_>>().join("; ")
        }
        _ => String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
    };
    text.chars().take(300).collect()
}

#[async_trait]
impl crate::Customers for Shopify {
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
impl Store for Shopify {
    async fn orders_page(&self, since: Option<DateTime<Utc>>, after: Option<&str>) -> Result<Page<Order>> {
        let query = since.map(|s| format!("updated_at:>='{}'", s.to_rfc3339_opts(SecondsFormat::Secs, true)));
        let variables = serde_json::json!({ "first": self.page_size, "after": after, "query": query });
        let resp: GraphQlResponse<OrdersData> =
            self.post(ORDERS_QUERY, variables, f64::from(self.page_size) * 1.5 + 2.0).await?;
        orders_page_of(resp.into_data()?)
    }

    async fn export_orders(&self) -> Result<Option<Box<dyn crate::OrderExport>>> {
        Ok(Some(Box::new(bulk::Export::start(self.clone()).await?)))
    }

    async fn catalog(&self) -> Result<Vec<CatalogItem>> {
        let mut out = Vec::new();
        for v in self.load_variants().await? {
            let Some(sku) = v.sku.filter(|s| !s.is_empty()) else { continue };
            let price = match v.price {
                Some(p) => Some(
                    Money::parse(&p, &self.currency)
                        .map_err(|e| ConnectorError::Protocol(format!("Shopify variant {sku}: price {p:?}: {e}")))?,
                ),
                None => None,
            };
            // Title and status belong to the product: they are this SKU's
            // only when the product has no other variants.
            let own = v.product.filter(|p| p.has_only_default_variant);
            out.push(CatalogItem {
                sku,
                title: own.as_ref().and_then(|p| p.title.clone()),
                price,
                active: own.as_ref().and_then(|p| p.status.as_deref()).map(|s| s == "ACTIVE"),
            });
        }
        Ok(out)
    }

    async fn set_catalog_field(&self, sku: &str, field: &CatalogField) -> Result<()> {
        let Some(ids) = self.variant(sku).await? else {
            return Err(ConnectorError::Rejected {
                message: format!("SKU {sku} is not on any product variant in Shopify"),
                fields: vec![FieldError { field: "sku".into(), message: "unknown".into() }],
            });
        };
        match field {
            CatalogField::Price(price) => {
                crate::order_check::writable_price(sku, price)?;
                let variables = serde_json::json!({
                    "productId": ids.product,
                    "variants": [{ "id": ids.variant, "price": price.amount.to_string() }],
                });
                let data: UpdateVariantsData = self.post(UPDATE_VARIANTS, variables, 10.0).await?.into_data()?;
                user_errors(sku, "price", data.product_variants_bulk_update.user_errors)
            }
            CatalogField::Title(title) => {
                let product = serde_json::json!({ "product": { "id": ids.product, "title": title } });
                let data: UpdateProductData = self.post(UPDATE_PRODUCT, product, 10.0).await?.into_data()?;
                user_errors(sku, "title", data.product_update.user_errors)
            }
            CatalogField::Active(active) => {
                let status = if *active { "ACTIVE" } else { "DRAFT" };
                let product = serde_json::json!({ "product": { "id": ids.product, "status": status } });
                let data: UpdateProductData = self.post(UPDATE_PRODUCT, product, 10.0).await?.into_data()?;
                user_errors(sku, "status", data.product_update.user_errors)
            }
        }
    }

    async fn fulfill(&self, order_id: &str, shipment: &ferry_domain::Shipment) -> Result<()> {
        self.fulfill_order(order_id, shipment).await
    }

    async fn set_available(&self, sku: &str, location: &str, quantity: i64) -> Result<()> {
        let Some(item) = self.inventory_item(sku).await? else {
            return Err(ConnectorError::Rejected {
                message: format!(
                    "SKU {sku} is not on any product variant in Shopify; add it there or map it to another SKU"
                ),
                fields: vec![FieldError { field: "sku".into(), message: "unknown".into() }],
            });
        };
        self.set_quantity(sku, item, location, quantity).await
    }

    fn stock_writes_at_once(&self) -> Option<usize> {
        Some(stock_batch::MAX_QUANTITIES)
    }
}

/// A mutation's `userErrors`: none is success; any is the data refused.
fn user_errors(sku: &str, what: &str, errors: Vec<UserError>) -> Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    Err(ConnectorError::Rejected {
        message: format!(
            "Shopify refused the {what} of {sku}: {}",
            errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ")
        ),
        fields: errors
            .into_iter()
            .map(|e| FieldError { field: e.field.unwrap_or_default().join("."), message: e.message })
            .collect(),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantsData {
    pub product_variants: Connection<VariantNode>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantNode {
    pub id: String,
    pub sku: Option<String>,
    pub price: Option<String>,
    pub product: Option<ProductNode>,
    pub inventory_item: IdOnly,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductNode {
    pub id: String,
    pub title: Option<String>,
    /// ACTIVE, DRAFT or ARCHIVED.
    pub status: Option<String>,
    #[serde(default)]
    pub has_only_default_variant: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateProductData {
    pub product_update: SetQuantitiesPayload,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateVariantsData {
    pub product_variants_bulk_update: SetQuantitiesPayload,
}

#[derive(Debug, Deserialize)]
pub struct IdOnly {
    pub id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetQuantitiesData {
    pub inventory_set_quantities: SetQuantitiesPayload,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetQuantitiesPayload {
    #[serde(default)]
    pub user_errors: Vec<UserError>,
}

/// A mutation's `userErrors` entry: the data was refused.
#[derive(Debug, Deserialize)]
pub struct UserError {
    pub field: Option<Vec<String>>,
    pub message: String,
}

// ---- wire types (the documented response shape) ----

#[derive(Debug, Deserialize)]
pub struct GraphQlResponse<T> {
    pub data: Option<T>,
    #[serde(default)]
    pub errors: Option<Vec<GraphQlError>>,
    pub extensions: Option<Extensions>,
}

#[derive(Debug, Deserialize)]
pub struct GraphQlError {
    pub message: String,
    #[serde(default)]
    pub extensions: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Extensions {
    pub cost: Option<Cost>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    pub requested_query_cost: f64,
    pub actual_query_cost: Option<f64>,
    pub throttle_status: ThrottleStatus,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleStatus {
    pub maximum_available: f64,
    pub currently_available: f64,
    pub restore_rate: f64,
}

impl<T> GraphQlResponse<T> {
    /// The data, or the typed error the `errors` array stands for.
    pub fn into_data(self) -> Result<T> {
        if let Some(errors) = self.errors.filter(|e| !e.is_empty()) {
            let throttled = errors.iter().any(|e| {
                e.extensions.as_ref().and_then(|x| x.get("code")).and_then(|c| c.as_str()) == Some("THROTTLED")
            });
            if throttled {
                let wait = self
                    .extensions
                    .and_then(|x| x.cost)
                    .map(|c| {
                        let s = c.throttle_status;
                        let missing = (c.requested_query_cost - s.currently_available).max(1.0);
                        if s.restore_rate > 0.0 {
                            missing / s.restore_rate
                        } else {
                            1.0
                        }
                    })
                    .unwrap_or(1.0);
                return Err(ConnectorError::RateLimited {
                    retry_after: Duration::from_secs_f64(wait.clamp(0.05, 60.0)),
                });
            }
            let messages = errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ");
            return Err(ConnectorError::Protocol(format!("Shopify returned errors: {messages}")));
        }
        self.data.ok_or_else(|| ConnectorError::Protocol("Shopify returned neither data nor errors".into()))
    }
}

#[derive(Debug, Deserialize)]
pub struct OrdersData {
    /// Nodes are read one by one (`read_order`), so one that cannot be
    /// read is named and does not hide the others.
    pub orders: Connection<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection<T> {
    pub edges: Vec<Edge<T>>,
    #[serde(default = "PageInfo::last")]
    pub page_info: PageInfo,
}

#[derive(Debug, Deserialize)]
pub struct Edge<T> {
    #[serde(default)]
    pub cursor: Option<String>,
    pub node: T,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

impl PageInfo {
    fn last() -> Self {
        Self { has_next_page: false, end_cursor: None }
    }
}

#[derive(Debug, Deserialize)]
pub struct MoneyBag {
    #[serde(rename = "shopMoney")]
    pub shop_money: MoneyV2,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MoneyV2 {
    pub amount: String,
    pub currency_code: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderNode {
    pub id: String,
    pub name: String,
    #[serde(deserialize_with = "zoned")]
    pub created_at: DateTime<Utc>,
    #[serde(deserialize_with = "zoned")]
    pub updated_at: DateTime<Utc>,
    #[serde(default, deserialize_with = "zoned_or_null")]
    pub cancelled_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub closed: bool,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub total_price_set: MoneyBag,
    #[serde(default)]
    pub taxes_included: bool,
    pub total_discounts_set: Option<MoneyBag>,
    pub shipping_lines: Option<Connection<ShippingLineNode>>,
    #[serde(default)]
    pub tax_lines: Vec<TaxLineNode>,
    pub customer: Option<CustomerNode>,
    pub shipping_address: Option<AddressNode>,
    pub line_items: Connection<LineItemNode>,
    #[serde(default)]
    pub refunds: Vec<RefundNode>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundNode {
    pub id: String,
    #[serde(deserialize_with = "zoned")]
    pub created_at: DateTime<Utc>,
    pub note: Option<String>,
    pub total_refunded_set: MoneyBag,
    pub refund_line_items: Option<Nodes<RefundLineNode>>,
}

#[derive(Debug, Deserialize)]
pub struct Nodes<T> {
    pub nodes: Vec<T>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundLineNode {
    pub quantity: i64,
    pub line_item: Option<SkuOnly>,
    pub subtotal_set: MoneyBag,
}

#[derive(Debug, Deserialize)]
pub struct SkuOnly {
    pub sku: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingLineNode {
    pub title: String,
    pub original_price_set: MoneyBag,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxLineNode {
    pub title: String,
    pub rate: Option<serde_json::Number>,
    pub price_set: MoneyBag,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerNode {
    pub id: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    /// The customer's own address, which may differ from where this
    /// order goes (a gift, an office).
    #[serde(default)]
    pub default_address: Option<AddressNode>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressNode {
    #[serde(default)]
    pub name: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub zip: Option<String>,
    pub country_code_v2: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

impl AddressNode {
    fn into_address(self) -> Address {
        Address {
            name: self.name,
            line1: self.address1,
            line2: self.address2,
            city: self.city,
            postcode: self.zip,
            country: self.country_code_v2,
            phone: self.phone,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItemNode {
    pub sku: Option<String>,
    pub title: String,
    pub quantity: i64,
    pub original_unit_price_set: MoneyBag,
}

fn money(bag: &MoneyBag, order: &str, what: &str) -> Result<Money> {
    let unreadable = |e: String| ConnectorError::Protocol(format!("Shopify order {order}: {what}: {e}"));
    let m =
        Money::parse(&bag.shop_money.amount, &bag.shop_money.currency_code).map_err(|e| unreadable(e.to_string()))?;
    crate::order_check::readable_amount(m.amount).map_err(unreadable)?;
    Ok(m)
}

/// The orders of one page. An order that cannot be read ends the page just
/// before it: the orders read so far go out, and the next page begins with
/// it (and fails with its own message, until it can be read).
fn orders_page_of(data: OrdersData) -> Result<Page<Order>> {
    let mut orders = Vec::with_capacity(data.orders.edges.len());
    let mut read_to: Option<String> = None;
    for edge in data.orders.edges {
        match read_order(edge.node) {
            Ok(order) => {
                orders.push(order);
                read_to = edge.cursor;
            }
            Err(e) => match read_to {
                Some(cursor) if !orders.is_empty() => return Ok(Page { items: orders, next: Some(cursor) }),
                _ => return Err(e),
            },
        }
    }
    let next = if data.orders.page_info.has_next_page {
        Some(data.orders.page_info.end_cursor.ok_or_else(|| {
            ConnectorError::Protocol("Shopify said there is a next page but gave no endCursor".into())
        })?)
    } else {
        None
    };
    Ok(Page { items: orders, next })
}

/// A time as Shopify sends it: RFC 3339, with its zone (`Z` or an offset).
fn zoned<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(d)?;
    DateTime::parse_from_rfc3339(text.trim()).map(|t| t.with_timezone(&Utc)).map_err(|_| {
        serde::de::Error::custom(format!(
            "{text:?} is not a time with a zone (RFC 3339, such as 2026-11-26T10:00:00Z); Ferry will not guess the zone"
        ))
    })
}

fn zoned_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<DateTime<Utc>>, D::Error> {
    #[derive(Deserialize)]
    struct Zoned(#[serde(deserialize_with = "zoned")] DateTime<Utc>);
    Ok(Option::<Zoned>::deserialize(d)?.map(|z| z.0))
}

/// One order node of a page, read on its own so that a problem names the
/// order and, for a value of the wrong type, the field.
fn read_order(node: serde_json::Value) -> Result<Order> {
    let label = ["name", "id"]
        .iter()
        .find_map(|k| node.get(*k).and_then(|v| v.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "without a name or id".into());
    let parsed = match OrderNode::deserialize(&node) {
        Ok(parsed) => parsed,
        Err(e) => {
            return Err(ConnectorError::Protocol(format!(
                "Shopify order {label} cannot be read: {}{e}",
                field_of_error(&node).map(|f| format!("field {f:?}: ")).unwrap_or_default()
            )))
        }
    };
    parsed.into_order()
}

/// The key of the value that failed to parse, found from the error's line
/// in the node printed one value per line (serde_json names no field).
fn field_of_error(node: &serde_json::Value) -> Option<String> {
    let pretty = serde_json::to_string_pretty(node).ok()?;
    let e = serde_json::from_str::<OrderNode>(&pretty).err()?;
    let line = pretty.lines().nth(e.line().checked_sub(1)?)?.trim();
    let (key, _) = line.strip_prefix('"')?.split_once("\":")?;
    Some(key.to_owned())
}

impl OrderNode {
    fn into_order(self) -> Result<Order> {
        let total = money(&self.total_price_set, &self.name, "total")?;
        let lines = self
            .line_items
            .edges
            .into_iter()
            .map(|e| {
                let n = e.node;
                // A negative quantity is read (and refused when posting, with
                // the others still posted); one beyond any shop's is not.
                crate::order_check::readable_quantity(n.quantity).map_err(|e| {
                    ConnectorError::Protocol(format!("Shopify order {}: line {:?}: {e}", self.name, n.title))
                })?;
                Ok(OrderLine {
                    unit_price: money(&n.original_unit_price_set, &self.name, &format!("price of {:?}", n.title))?,
                    sku: n.sku.filter(|s| !s.trim().is_empty()),
                    title: n.title,
                    quantity: n.quantity,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let shipping_lines = self
            .shipping_lines
            .map(|c| c.edges)
            .unwrap_or_default()
            .into_iter()
            .map(|e| {
                Ok(Charge {
                    amount: money(&e.node.original_price_set, &self.name, &format!("shipping {:?}", e.node.title))?,
                    title: e.node.title,
                    rate: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let tax_lines = self
            .tax_lines
            .into_iter()
            .map(|t| {
                let rate = match &t.rate {
                    Some(n) => Some(Decimal::from_str(&n.to_string()).map_err(|_| {
                        ConnectorError::Protocol(format!("Shopify order {}: tax rate {n} is not a number", self.name))
                    })?),
                    None => None,
                };
                Ok(Charge {
                    amount: money(&t.price_set, &self.name, &format!("tax {:?}", t.title))?,
                    title: t.title,
                    rate,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let discount = match &self.total_discounts_set {
            Some(bag) => Some(money(bag, &self.name, "discounts")?).filter(|d| !d.amount.is_zero()),
            None => None,
        };
        let customer = match self.customer {
            Some(c) => Customer {
                id: Some(c.id),
                email: c.email.or(self.email),
                first_name: c.first_name,
                last_name: c.last_name,
                phone: c.phone.or(self.phone),
                addresses: c.default_address.map(AddressNode::into_address).into_iter().collect(),
            },
            None => Customer { email: self.email, phone: self.phone, ..Customer::default() },
        };
        let refunds = self
            .refunds
            .into_iter()
            .map(|r| {
                let lines = r
                    .refund_line_items
                    .map(|l| l.nodes)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|l| {
                        Ok(RefundLine {
                            sku: l.line_item.and_then(|i| i.sku).filter(|s| !s.trim().is_empty()),
                            quantity: l.quantity,
                            amount: money(&l.subtotal_set, &self.name, "refunded line")?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(Refund {
                    total: money(&r.total_refunded_set, &self.name, "refund")?,
                    id: r.id,
                    created_at: r.created_at,
                    note: r.note.filter(|n| !n.trim().is_empty()),
                    lines,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let status = if self.cancelled_at.is_some() {
            OrderStatus::Cancelled
        } else if self.closed {
            OrderStatus::Closed
        } else {
            OrderStatus::Open
        };
        Ok(Order {
            id: self.id,
            number: self.name,
            created_at: self.created_at,
            updated_at: self.updated_at,
            status,
            customer,
            shipping_address: self.shipping_address.map(AddressNode::into_address),
            lines,
            shipping_lines,
            tax_lines,
            taxes_included: self.taxes_included,
            discount,
            total,
            refunds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r##"{"data":{"orders":{"edges":[{"cursor":"c1","node":{
        "id":"gid://shopify/Order/1","name":"#1001","createdAt":"2026-11-26T10:00:00Z","updatedAt":"2026-11-26T10:05:00Z",
        "cancelledAt":null,"closed":false,"email":"ada@example.com","phone":null,
        "totalPriceSet":{"shopMoney":{"amount":"43.39","currencyCode":"EUR"}},"taxesIncluded":false,
        "totalDiscountsSet":{"shopMoney":{"amount":"2.00","currencyCode":"EUR"}},
        "shippingLines":{"edges":[{"node":{"title":"Standard","originalPriceSet":{"shopMoney":{"amount":"4.90","currencyCode":"EUR"}}}}]},
        "taxLines":[{"title":"VAT","rate":0.0,"priceSet":{"shopMoney":{"amount":"0.00","currencyCode":"EUR"}}},{"title":"Reduced VAT","rate":0.07,"priceSet":{"shopMoney":{"amount":"0.51","currencyCode":"EUR"}}}],
        "customer":{"id":"gid://shopify/Customer/7","email":"ada@example.com","firstName":"Ada","lastName":"Lovelace","phone":null,
          "defaultAddress":{"address1":"9 Home Road","address2":null,"city":"Hamburg","zip":"20095","countryCodeV2":"DE"}},
        "shippingAddress":{"name":"Ada Lovelace","address1":"1 Main St","address2":null,"city":"Berlin","zip":"10115","countryCodeV2":"DE","phone":null},
        "lineItems":{"edges":[{"node":{"sku":"MUG-1","title":"Mug","quantity":2,"originalUnitPriceSet":{"shopMoney":{"amount":"19.99","currencyCode":"EUR"}}}}]}
        }}],"pageInfo":{"hasNextPage":true,"endCursor":"c1"}}},
        "extensions":{"cost":{"requestedQueryCost":377,"actualQueryCost":6,"throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":1994,"restoreRate":100.0}}}}"##;

    #[test]
    fn parses_a_documented_orders_page() {
        let r: GraphQlResponse<OrdersData> = http::parse_json("Shopify", "page", PAGE.as_bytes()).expect("parse");
        let cost = r.extensions.as_ref().and_then(|e| e.cost.clone()).expect("cost");
        assert_eq!(cost.throttle_status.currently_available, 1994.0);
        let data = r.into_data().expect("data");
        assert!(data.orders.page_info.has_next_page);
        let order = read_order(data.orders.edges.into_iter().next().expect("one edge").node).expect("valid order");
        assert_eq!(order.number, "#1001");
        assert_eq!(order.total.to_string(), "43.39 EUR");
        assert_eq!(order.shipping_lines[0].amount.to_string(), "4.90 EUR");
        assert_eq!(
            order.tax_lines[1].rate.map(|r| r.to_string()).as_deref(),
            Some("0.07"),
            "a float rate becomes an exact decimal"
        );
        assert_eq!(order.discount.as_ref().map(|d| d.to_string()).as_deref(), Some("2.00 EUR"));
        assert_eq!(order.check_total(), Ok(()), "39.98 − 2.00 + 4.90 + 0.51 adds up to the store total");
        assert_eq!(order.lines[0].quantity, 2);
        assert_eq!(order.customer.display_name(), "Ada Lovelace");
        assert_eq!(order.shipping_address.and_then(|a| a.postcode).as_deref(), Some("10115"));
        let home = order.customer.addresses.first().expect("the customer's own address");
        assert_eq!(
            (home.line1.as_deref(), home.postcode.as_deref(), home.country.as_deref()),
            (Some("9 Home Road"), Some("20095"), Some("DE")),
            "the customer's default address, apart from where this order goes"
        );
    }

    #[test]
    fn throttled_is_a_rate_limit_with_the_refill_time() {
        let body = r#"{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED","documentation":"https://shopify.dev/api/usage/rate-limits"}}],
            "extensions":{"cost":{"requestedQueryCost":377,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":177,"restoreRate":100.0}}}}"#;
        let r: GraphQlResponse<OrdersData> = http::parse_json("Shopify", "page", body.as_bytes()).expect("parse");
        match r.into_data() {
            Err(ConnectorError::RateLimited { retry_after }) => {
                assert_eq!(retry_after, Duration::from_secs(2), "200 points missing at 100/s is 2 s")
            }
            other => panic!("expected RateLimited, got {other:?}"),
        }
    }

    #[test]
    fn malformed_and_error_bodies_are_typed_errors() {
        let cases: [(&str, &str); 5] = [
            ("not json", "{\"data\": "),
            ("wrong type", r#"{"data":{"orders":{"edges":"nope"}}}"#),
            ("graphql error", r#"{"errors":[{"message":"Field 'x' doesn't exist on type 'Order'"}]}"#),
            ("empty", r#"{}"#),
            (
                "bad money",
                r##"{"data":{"orders":{"edges":[{"node":{"id":"1","name":"#1","createdAt":"2026-11-26T10:00:00Z","updatedAt":"2026-11-26T10:00:00Z","totalPriceSet":{"shopMoney":{"amount":"12,5","currencyCode":"EUR"}},"lineItems":{"edges":[]}}}],"pageInfo":{"hasNextPage":false}}}}"##,
            ),
        ];
        for (case, body) in cases {
            let result = http::parse_json::<GraphQlResponse<OrdersData>>("Shopify", "page", body.as_bytes())
                .and_then(|r| r.into_data())
                .and_then(|d| d.orders.edges.into_iter().map(|e| read_order(e.node)).collect::<Result<Vec<_>>>());
            assert!(matches!(result, Err(ConnectorError::Protocol(_))), "{case}: {result:?}");
        }
    }

    /// A page of three orders; `tamper` changes the second one's node.
    fn page_with(tamper: impl Fn(&mut serde_json::Value)) -> OrdersData {
        let r: GraphQlResponse<OrdersData> = http::parse_json("Shopify", "page", PAGE.as_bytes()).expect("parse");
        let node = r.into_data().expect("data").orders.edges.into_iter().next().expect("edge").node;
        let edges: Vec<serde_json::Value> = (1..=3)
            .map(|i| {
                let mut n = node.clone();
                n["id"] = serde_json::json!(format!("gid://shopify/Order/{i}"));
                n["name"] = serde_json::json!(format!("#100{i}"));
                if i == 2 {
                    tamper(&mut n);
                }
                serde_json::json!({ "cursor": format!("c{i}"), "node": n })
            })
            .collect();
        let page = serde_json::json!({ "orders": { "edges": edges, "pageInfo": { "hasNextPage": false } } });
        serde_json::from_value(page).expect("a page")
    }

    fn refusal(tamper: impl Fn(&mut serde_json::Value)) -> String {
        let data = page_with(tamper);
        let second = data.orders.edges.into_iter().nth(1).expect("second").node;
        match read_order(second) {
            Err(ConnectorError::Protocol(m)) => m,
            other => panic!("expected a protocol error, got {other:?}"),
        }
    }

    #[test]
    fn an_unreadable_order_ends_the_page_before_it_and_is_named() {
        let page = orders_page_of(page_with(|n| n["lineItems"]["edges"][0]["node"]["quantity"] = "two".into()))
            .expect("the order before it is returned");
        assert_eq!(page.items.len(), 1, "only #1001 comes before the unreadable one");
        assert_eq!(page.next.as_deref(), Some("c1"), "the next page begins at the unreadable order");
        let first_bad = page_with(|_| {});
        let mut edges = first_bad.orders.edges;
        edges[0].node["totalPriceSet"] = serde_json::json!(12);
        let data = OrdersData { orders: Connection { edges, page_info: PageInfo::last() } };
        assert!(orders_page_of(data).is_err(), "an unreadable first order fails the page, with nothing skipped");
        assert_eq!(orders_page_of(page_with(|_| {})).map(|p| (p.items.len(), p.next)), Ok((3, None)));
    }

    #[test]
    fn unreadable_orders_say_which_order_and_field() {
        let m = refusal(|n| n["lineItems"]["edges"][0]["node"]["quantity"] = "two".into());
        assert!(m.contains("order #1002") && m.contains("field \"quantity\"") && m.contains("\"two\""), "{m}");
        let m = refusal(|n| {
            n.as_object_mut().expect("object").remove("totalPriceSet");
        });
        assert!(m.contains("#1002") && m.contains("missing field `totalPriceSet`"), "{m}");
        let m = refusal(|n| n["createdAt"] = "2026-11-26T10:00:00".into());
        assert!(m.contains("field \"createdAt\"") && m.contains("not a time with a zone"), "{m}");
        let m = refusal(|n| n["lineItems"]["edges"][0]["node"]["quantity"] = i64::MAX.into());
        assert!(m.contains("#1002") && m.contains("\"Mug\"") && m.contains("beyond what Ferry reads"), "{m}");
        let m = refusal(|n| n["totalPriceSet"]["shopMoney"]["amount"] = "1e40".into());
        assert!(m.contains("#1002") && m.contains("total"), "{m}");
        let m = refusal(|n| n["totalPriceSet"]["shopMoney"]["currencyCode"] = "euro".into());
        assert!(m.contains("#1002") && m.contains("\"euro\""), "{m}");
    }

    #[test]
    fn a_negative_quantity_is_read_and_left_to_the_check_before_posting() {
        let data = page_with(|n| n["lineItems"]["edges"][0]["node"]["quantity"] = (-3).into());
        let order = read_order(data.orders.edges.into_iter().nth(1).expect("second").node).expect("read");
        assert_eq!(order.lines[0].quantity, -3);
        assert!(matches!(crate::order_check::postable(&order), Err(ConnectorError::Rejected { .. })));
    }

    #[test]
    fn error_text_reads_both_shapes() {
        assert_eq!(
            error_text(br#"{"errors":"[API] Invalid API key or access token"}"#),
            "[API] Invalid API key or access token"
        );
        assert_eq!(error_text(br#"{"errors":[{"message":"a"},{"message":"b"}]}"#), "a; b");
    }

    #[test]
    fn settings_are_validated() {
        let s = serde_json::json!({});
        assert!(Shopify::new("http://shop.example.com", &s, "t").is_err(), "http to a remote host is refused");
        assert!(Shopify::new("https://shop.example.com", &s, " ").is_err(), "an empty token is refused");
        assert!(Shopify::new("https://shop.example.com", &serde_json::json!({"page_size": 500}), "t").is_err());
        assert!(
            matches!(
                Shopify::new("https://shop.example.com", &serde_json::json!({"currency": "XYZ"}), "t"),
                Err(SettingsError::BadSetting { .. })
            ),
            "a currency that is not ISO 4217 is refused when the connection is saved"
        );
        let ok = Shopify::new("http://127.0.0.1:9/shopify/", &s, "t").expect("loopback is fine");
        assert_eq!(ok.endpoint, "http://127.0.0.1:9/shopify/admin/api/2025-07/graphql.json");
    }
}
