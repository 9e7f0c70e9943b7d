//! The first full read of a store by Bulk Operations: one export of every
//! order as a JSONL file, read as it downloads, instead of hundreds of
//! paced pages.
//!
//! Follows shopify.dev/docs/api/usage/bulk-operations/queries:
//! `bulkOperationRunQuery` with `groupObjects: true` (an object's nested
//! connection rows follow it), the operation polled with `node(id:)` until
//! COMPLETED, the `url` fetched without the access token (a signed storage
//! link), each line one object and nested connection rows carrying
//! `__parentId`. A connection inside a list is not allowed in a bulk query,
//! so a refund's line items are not exported: an order with refunds is read
//! again, whole, with the paged query (`id:` search).

use super::{read_order, GraphQlResponse, OrdersData, Shopify, ORDERS_QUERY};
use crate::http;
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_domain::{ConnectorError, Order};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::time::{Duration, Instant};

const SYSTEM: &str = "Shopify";

/// Every order, with what Ferry reads of it (as `ORDERS_QUERY`, without
/// paging arguments and without the refunds' line items).
pub const BULK_ORDERS_QUERY: &str = r#"{ orders { edges { node {
  id name createdAt updatedAt cancelledAt closed email phone taxesIncluded
  totalPriceSet { shopMoney { amount currencyCode } }
  totalDiscountsSet { shopMoney { amount currencyCode } }
  shippingLines { edges { node { __typename title originalPriceSet { shopMoney { amount currencyCode } } } } }
  taxLines { title rate priceSet { shopMoney { amount currencyCode } } }
  customer { id email firstName lastName phone defaultAddress { address1 address2 city zip countryCodeV2 } }
  shippingAddress { name address1 address2 city zip countryCodeV2 phone }
  refunds { id createdAt note totalRefundedSet { shopMoney { amount currencyCode } } }
  lineItems { edges { node { __typename sku title quantity originalUnitPriceSet { shopMoney { amount currencyCode } } } } }
} } } }"#;

/// Every product variant, with what Ferry reads of it (as `VARIANTS_QUERY`).
pub const BULK_VARIANTS_QUERY: &str = r#"{ productVariants { edges { node {
  id sku price product { id title status hasOnlyDefaultVariant } inventoryItem { id }
} } } }"#;

const RUN: &str = r#"mutation RunExport($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: true) {
    bulkOperation { id status createdAt }
    userErrors { field message code }
  }
}"#;

const POLL: &str = r#"query Export($id: ID!) {
  node(id: $id) { ... on BulkOperation { id status errorCode createdAt completedAt objectCount url } }
}"#;

const CURRENT: &str =
    r#"query { currentBulkOperation(type: QUERY) { id status errorCode createdAt completedAt objectCount url } }"#;

/// The longest an export may take before the run gives up (the next run
/// starts it again).
const MAX_EXPORT: Duration = Duration::from_secs(3600);
/// A line of the file longer than this is refused (one order is a few KB).
const MAX_LINE: usize = http::MAX_BODY_BYTES;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Operation {
    id: String,
    status: String,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(deserialize_with = "super::zoned")]
    created_at: DateTime<Utc>,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct BulkUserError {
    message: String,
    #[serde(default)]
    code: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunPayload {
    bulk_operation: Option<Operation>,
    user_errors: Vec<BulkUserError>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunData {
    bulk_operation_run_query: RunPayload,
}

#[derive(Debug, Deserialize)]
struct NodeData {
    node: Option<Operation>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CurrentData {
    current_bulk_operation: Option<Operation>,
}

/// An export of orders being read.
pub struct Export {
    shop: Shopify,
    started_at: DateTime<Utc>,
    lines: Lines,
    /// The order whose rows are being gathered.
    current: Option<Map<String, Value>>,
}

fn finished(op: &Operation) -> bool {
    !matches!(op.status.as_str(), "CREATED" | "RUNNING" | "CANCELING")
}

/// Runs one bulk query: starts it (after Ferry's own earlier one, if one
/// is still running), waits for Shopify to finish it and opens its file.
/// Returns when the export began and the file (`None`: nothing matched).
async fn operation(shop: &Shopify, query: &str) -> Result<(DateTime<Utc>, Option<reqwest::Response>)> {
    let mut op = match run(shop, query).await? {
        Ok(op) => op,
        Err(busy) => {
            // Ferry's own export from before (bulk operations are per
            // app): let it finish, then start a fresh one.
            tracing::info!(busy, "a Shopify export is already running; waiting for it");
            let deadline = Instant::now() + MAX_EXPORT;
            loop {
                let data: CurrentData = shop.post(CURRENT, serde_json::json!({}), 1.0).await?.into_data()?;
                if data.current_bulk_operation.as_ref().is_none_or(finished) || Instant::now() > deadline {
                    break;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            run(shop, query).await?.map_err(|busy| {
                ConnectorError::Transient(format!("Shopify is still running another export ({busy})"))
            })?
        }
    };
    let started = Instant::now();
    let mut pause = Duration::from_millis(100);
    while !finished(&op) {
        if started.elapsed() > MAX_EXPORT {
            return Err(ConnectorError::Transient(format!(
                "Shopify's export did not finish within {} minutes",
                MAX_EXPORT.as_secs() / 60
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 3 / 2).min(Duration::from_secs(3));
        let polled = shop.post::<NodeData>(POLL, serde_json::json!({ "id": op.id }), 1.0).await;
        let data = match polled.and_then(GraphQlResponse::into_data) {
            Ok(data) => data,
            // A failed poll is asked again: the export goes on meanwhile.
            Err(e @ (ConnectorError::Transient(_) | ConnectorError::RateLimited { .. })) => {
                tracing::debug!("polling Shopify's export failed, asking again: {e}");
                continue;
            }
            Err(e) => return Err(e),
        };
        op = data
            .node
            .ok_or_else(|| ConnectorError::Protocol(format!("Shopify no longer knows its export {}", op.id)))?;
    }
    match op.status.as_str() {
        "COMPLETED" => {}
        "FAILED" if op.error_code.as_deref() == Some("ACCESS_DENIED") => {
            return Err(ConnectorError::Auth(
                "Shopify refused the export (ACCESS_DENIED): the app lacks a read scope (read_orders, read_products)"
                    .into(),
            ))
        }
        other => {
            return Err(ConnectorError::Transient(format!(
                "Shopify's export ended {other}{}",
                op.error_code.map(|c| format!(" ({c})")).unwrap_or_default()
            )))
        }
    }
    let body = match &op.url {
        // No orders: Shopify gives no file.
        None => None,
        Some(url) => {
            // A signed link: the access token is not sent with it.
            let resp = download_client().get(url).send().await.map_err(|e| http::transport_error(SYSTEM, &e))?;
            if !resp.status().is_success() {
                return Err(ConnectorError::Transient(format!(
                    "Shopify's export file could not be fetched ({})",
                    resp.status()
                )));
            }
            Some(resp)
        }
    };
    Ok((op.created_at, body))
}

/// The lines of an export's file, read as it downloads.
struct Lines {
    body: Option<reqwest::Response>,
    buf: Vec<u8>,
    /// Where the next line starts in `buf`.
    start: usize,
    line: u64,
}

impl Lines {
    /// The next line of the file, or `None` at its end.
    async fn next_line(&mut self) -> Result<Option<Vec<u8>>> {
        loop {
            if let Some(at) = self.buf[self.start..].iter().position(|b| *b == b'\n') {
                let line = self.buf[self.start..self.start + at].to_vec();
                self.start += at + 1;
                self.line += 1;
                return Ok(Some(line));
            }
            // Only a part of a line is left: move it to the front.
            self.buf.drain(..self.start);
            self.start = 0;
            if self.buf.len() > MAX_LINE {
                return Err(ConnectorError::Protocol(format!(
                    "line {} of Shopify's export is longer than {} MB",
                    self.line + 1,
                    MAX_LINE / 1024 / 1024
                )));
            }
            let Some(body) = self.body.as_mut() else { return Ok(None) };
            match body.chunk().await.map_err(|e| http::transport_error(SYSTEM, &e))? {
                Some(chunk) => self.buf.extend_from_slice(&chunk),
                None => {
                    self.body = None;
                    if self.buf.iter().all(u8::is_ascii_whitespace) {
                        return Ok(None);
                    }
                    self.line += 1;
                    return Ok(Some(std::mem::take(&mut self.buf)));
                }
            }
        }
    }
}

impl Export {
    /// Starts the export of every order, waits for Shopify to finish it
    /// and opens the file.
    pub async fn start(shop: Shopify) -> Result<Self> {
        let (started_at, body) = operation(&shop, BULK_ORDERS_QUERY).await?;
        Ok(Self { shop, started_at, lines: Lines { body, buf: Vec::new(), start: 0, line: 0 }, current: None })
    }

    /// An order gathered from its lines, as the paged query shows it.
    async fn finish(&self, root: Map<String, Value>) -> Result<Order> {
        if root.get("refunds").and_then(Value::as_array).is_some_and(|r| !r.is_empty()) {
            return self.reread(&root).await;
        }
        read_order(Value::Object(root))
    }

    /// An order with refunds, read again whole (its refunds' line items).
    async fn reread(&self, root: &Map<String, Value>) -> Result<Order> {
        let gid = root.get("id").and_then(Value::as_str).unwrap_or_default();
        let number = gid.rsplit('/').next().filter(|n| n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty());
        let Some(number) = number else {
            return Err(ConnectorError::Protocol(format!("Shopify's export has an order with the id {gid:?}")));
        };
        let variables = serde_json::json!({ "first": 1, "after": null, "query": format!("id:{number}") });
        let resp: GraphQlResponse<OrdersData> = self.shop.post(ORDERS_QUERY, variables, 3.5).await?;
        let node = resp.into_data()?.orders.edges.into_iter().next().map(|e| e.node).ok_or_else(|| {
            ConnectorError::Protocol(format!("Shopify's order {gid} is in the export but cannot be read again"))
        })?;
        read_order(node)
    }
}

/// Every variant of the shop, by one export (a large catalog: instead of
/// pages that each spend a quarter of the cost bucket).
pub(super) async fn all_variants(shop: &Shopify) -> Result<Vec<super::VariantNode>> {
    let (_, body) = operation(shop, BULK_VARIANTS_QUERY).await?;
    let mut lines = Lines { body, buf: Vec::new(), start: 0, line: 0 };
    let mut out = Vec::new();
    while let Some(line) = lines.next_line().await? {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        out.push(serde_json::from_slice(&line).map_err(|e| {
            ConnectorError::Protocol(format!("line {} of Shopify's export of variants cannot be read: {e}", lines.line))
        })?);
    }
    Ok(out)
}

fn download_client() -> reqwest::Client {
    // No overall limit (a large shop's file takes a while), but a stalled one fails.
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60))
        .user_agent(concat!("Ferry/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Starts the export: the operation, or `Err(id)` of one already running.
async fn run(shop: &Shopify, query: &str) -> Result<std::result::Result<Operation, String>> {
    let data: RunData = shop.post(RUN, serde_json::json!({ "query": query }), 10.0).await?.into_data()?;
    let payload = data.bulk_operation_run_query;
    if let Some(e) = payload.user_errors.iter().find(|e| e.code.as_deref() == Some("OPERATION_IN_PROGRESS")) {
        return Ok(Err(e.message.clone()));
    }
    if !payload.user_errors.is_empty() {
        let messages: Vec<&str> = payload.user_errors.iter().map(|e| e.message.as_str()).collect();
        return Err(ConnectorError::Protocol(format!("Shopify refused the export: {}", messages.join("; "))));
    }
    payload
        .bulk_operation
        .map(Ok)
        .ok_or_else(|| ConnectorError::Protocol("Shopify started no export and gave no reason".into()))
}

/// Puts a nested connection row under its order, as the paged query has it.
fn attach(root: &mut Map<String, Value>, mut row: Map<String, Value>, line: u64) -> Result<()> {
    let typename = row.remove("__typename").and_then(|t| t.as_str().map(str::to_owned));
    row.remove("__parentId");
    let connection = match typename.as_deref() {
        Some("LineItem") => "lineItems",
        Some("ShippingLine") => "shippingLines",
        // Without a type name: a line item has a quantity.
        None if row.contains_key("quantity") => "lineItems",
        None if row.contains_key("originalPriceSet") => "shippingLines",
        other => {
            return Err(ConnectorError::Protocol(format!(
                "line {line} of Shopify's export is a {} the export did not ask for",
                other.unwrap_or("row")
            )))
        }
    };
    let edges = root
        .entry(connection)
        .or_insert_with(|| serde_json::json!({ "edges": [] }))
        .get_mut("edges")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| {
            ConnectorError::Protocol(format!("line {line} of Shopify's export: {connection} is not a list"))
        })?;
    edges.push(serde_json::json!({ "node": Value::Object(row) }));
    Ok(())
}

#[async_trait]
impl crate::OrderExport for Export {
    fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }

    async fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Order>>> {
        let mut out = Vec::new();
        while out.len() < max.max(1) {
            let Some(line) = self.lines.next_line().await? else {
                if let Some(root) = self.current.take() {
                    out.push(self.finish(root).await?);
                }
                break;
            };
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let row: Map<String, Value> = serde_json::from_slice(&line).map_err(|e| {
                ConnectorError::Protocol(format!(
                    "line {} of Shopify's export is not a JSON object: {e}",
                    self.lines.line
                ))
            })?;
            match row.get("__parentId").and_then(Value::as_str).map(str::to_owned) {
                None => {
                    if let Some(done) = self.current.replace(row) {
                        out.push(self.finish(done).await?);
                    }
                }
                Some(parent) => {
                    let line = self.lines.line;
                    let root = self
                        .current
                        .as_mut()
                        .filter(|r| r.get("id").and_then(Value::as_str) == Some(parent.as_str()))
                        .ok_or_else(|| {
                            ConnectorError::Protocol(format!(
                                "line {line} of Shopify's export belongs to {parent}, which is not the order before it (the export is not grouped)"
                            ))
                        })?;
                    attach(root, row, line)?;
                }
            }
        }
        Ok((!out.is_empty()).then_some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_go_under_their_connections() {
        let mut root = Map::new();
        root.insert("id".into(), "gid://shopify/Order/1".into());
        let row = |v: Value| v.as_object().cloned().expect("object");
        attach(
            &mut root,
            row(serde_json::json!({ "__typename": "LineItem", "sku": "A", "quantity": 1, "__parentId": "x" })),
            2,
        )
        .expect("a line item");
        attach(&mut root, row(serde_json::json!({ "title": "Standard", "originalPriceSet": {} })), 3)
            .expect("a shipping line");
        assert_eq!(root["lineItems"]["edges"][0]["node"]["sku"], "A");
        assert!(root["lineItems"]["edges"][0]["node"].get("__parentId").is_none());
        assert_eq!(root["shippingLines"]["edges"][0]["node"]["title"], "Standard");
        let odd = attach(&mut root, row(serde_json::json!({ "__typename": "Metafield", "value": "x" })), 4);
        assert!(odd.expect_err("refused").to_string().contains("line 4"));
    }
}
