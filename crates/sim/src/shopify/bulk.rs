//! Bulk Operations in the Shopify emulator: a whole-shop export of orders
//! as one JSONL file, as the fastest public Shopify readers use for a first
//! full read.
//!
//! Follows shopify.dev/docs/api/usage/bulk-operations/queries and
//! .../admin-graphql/2025-07/mutations/bulkOperationRunQuery,
//! .../objects/BulkOperation and .../queries/currentBulkOperation:
//! - `bulkOperationRunQuery(query, groupObjects)` starts one export (one
//!   bulk query per app and shop at a time: a second one gets the
//!   `OPERATION_IN_PROGRESS` user error);
//! - the operation goes CREATED → RUNNING → COMPLETED, its `objectCount`
//!   growing, and is read with `currentBulkOperation(type: QUERY)` or
//!   `node(id:)`;
//! - when COMPLETED, `url` is a link to the JSONL file, fetched without the
//!   access token (on Shopify it is a signed storage link). Each line is one
//!   object; the objects of a nested connection (line items, shipping lines,
//!   a refund's line items) are lines of their own carrying `__parentId`,
//!   the id of the object they belong to, and (`groupObjects: true`) follow
//!   it. Lists that are not connections (`refunds`, `taxLines`) stay inline;
//!   a connection inside a list (a refund's line items) is refused, as
//!   Shopify refuses it.
//!
//! An export of `orders` (with the `updated_at` search filter) or of
//! `productVariants` (one line each: product and inventory item inline). The emulator exports at `BULK_OBJECTS_PER_SEC` objects a second.

use super::{charge, ts, user_error, ShopifySim};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// How fast the emulator "runs" an export (objects: orders and their lines).
pub const BULK_OBJECTS_PER_SEC: f64 = 50_000.0;
/// Orders rendered per chunk of the download.
const CHUNK: usize = 200;

/// One bulk query operation.
pub(super) struct Operation {
    id: u64,
    /// What is exported: orders, or product variants.
    variants: bool,
    query: String,
    created_at: DateTime<Utc>,
    started: Instant,
    /// Positions (in `ShopifySim::orders`) of the orders exported, by id.
    positions: Vec<usize>,
    /// Objects in the file: orders plus their nested connection rows.
    objects: u64,
    file_size: Option<u64>,
    completed_at: Option<DateTime<Utc>>,
    canceled: bool,
}

/// The shop's bulk operations.
#[derive(Default)]
pub(super) struct BulkState {
    operations: Vec<Operation>,
}

impl Operation {
    fn gid(&self) -> String {
        format!("gid://shopify/BulkOperation/{}", self.id)
    }

    fn running_for(&self) -> f64 {
        self.objects as f64 / BULK_OBJECTS_PER_SEC + 0.1
    }

    fn status(&self) -> &'static str {
        if self.canceled {
            "CANCELED"
        } else if self.completed_at.is_some() {
            "COMPLETED"
        } else if self.started.elapsed().as_secs_f64() < 0.02 {
            "CREATED"
        } else {
            "RUNNING"
        }
    }
}

/// The `updated_at` filter of the export's `orders(query: "...")`, if any.
fn orders_filter(query: &str) -> Result<Option<(DateTime<Utc>, bool)>, String> {
    let Some(at) = query.find("orders") else {
        return Err(
            "The emulator's bulk operations export orders only: the query must read the `orders` connection".into()
        );
    };
    let rest = query[at + "orders".len()..].trim_start();
    let Some(args) = rest.strip_prefix('(') else { return Ok(None) };
    let args = &args[..args.find(')').ok_or("unbalanced parentheses after orders")?];
    let Some(q) = args.find("query:") else { return Ok(None) };
    let value = args[q + "query:".len()..].trim_start();
    let value = value.strip_prefix('"').ok_or("the orders search `query:` must be a string")?;
    let value = &value[..value.find('"').ok_or("unterminated search string")?];
    super::parse_updated_since(value)
}

impl ShopifySim {
    /// How many bulk query operations were started.
    pub fn bulk_operations(&self) -> usize {
        self.bulk.lock().unwrap_or_else(|e| e.into_inner()).operations.len()
    }
}

/// `bulkOperationRunQuery(query: $query, groupObjects: ...)`.
pub(super) fn run_query(shop: &ShopifySim, vars: &Value, text: &str) -> Result<Value, Response> {
    let extensions = charge(shop, 10.0, 10.0)?;
    let inner = vars
        .get("query")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            // The query inline, as a block string: query: """{ ... }"""
            let start = text.find("\"\"\"")? + 3;
            let len = text[start..].find("\"\"\"")?;
            Some(text[start..start + len].to_owned())
        })
        .ok_or_else(|| user_error("Variable $query of required type String! was not provided."))?;
    let payload = |op: Value, errors: Vec<Value>| json!({ "data": { "bulkOperationRunQuery": { "bulkOperation": op, "userErrors": errors } }, "extensions": extensions });
    if inner.contains("refundLineItems") {
        // refundLineItems is a connection inside the `refunds` list.
        let message = "Queries that contain a connection field within a list field are not currently supported.";
        return Ok(payload(Value::Null, vec![json!({ "field": ["query"], "message": message, "code": "INVALID" })]));
    }
    let variants = inner.trim_start().trim_start_matches('{').trim_start().starts_with("productVariants");
    let since = match (variants, orders_filter(&inner)) {
        (true, _) => None,
        (false, Ok(since)) => since,
        (false, Err(message)) => {
            return Ok(payload(Value::Null, vec![json!({ "field": ["query"], "message": message, "code": "INVALID" })]))
        }
    };
    let mut bulk = shop.bulk.lock().unwrap_or_else(|e| e.into_inner());
    refresh(shop, &mut bulk);
    if let Some(busy) = bulk.operations.iter().find(|o| matches!(o.status(), "CREATED" | "RUNNING")) {
        let message = format!("A bulk query operation for this app and shop is already in progress: {}.", busy.gid());
        return Ok(payload(
            Value::Null,
            vec![json!({ "field": null, "message": message, "code": "OPERATION_IN_PROGRESS" })],
        ));
    }
    let (positions, objects) = if variants {
        let n = shop.inventory.lock().unwrap_or_else(|e| e.into_inner()).variants.len();
        ((0..n).collect::<Vec<usize>>(), n as u64)
    } else {
        let orders = shop.orders.lock().unwrap_or_else(|e| e.into_inner());
        let mut positions: Vec<usize> = (0..orders.len())
            .filter(|&i| match since {
                Some((t, true)) => orders[i].updated_at >= t,
                Some((t, false)) => orders[i].updated_at > t,
                None => true,
            })
            .collect();
        positions.sort_by_key(|&i| orders[i].id);
        let objects = positions.iter().map(|&i| 1 + children(&orders[i].node).len() as u64).sum();
        (positions, objects)
    };
    let id = bulk.operations.last().map_or(1, |o| o.id + 1);
    let op = Operation {
        id,
        variants,
        query: inner,
        created_at: Utc::now(),
        started: Instant::now(),
        positions,
        objects,
        file_size: None,
        completed_at: None,
        canceled: false,
    };
    let shown = view(&op, None);
    bulk.operations.push(op);
    Ok(payload(shown, vec![]))
}

/// Completes operations whose time has come (and measures their file).
fn refresh(shop: &ShopifySim, bulk: &mut BulkState) {
    for op in bulk.operations.iter_mut().filter(|o| o.completed_at.is_none() && !o.canceled) {
        if op.started.elapsed().as_secs_f64() >= op.running_for() {
            let size = rendered(shop, op.variants, &op.positions).len() as u64;
            op.file_size = Some(size);
            op.completed_at = Some(Utc::now());
        }
    }
}

/// The BulkOperation object as the API shows it; `url_base` is where the
/// emulator serves files (`None` in the mutation's answer: not ready yet).
fn view(op: &Operation, url_base: Option<&str>) -> Value {
    let status = op.status();
    let done = op.objects.min(match status {
        "COMPLETED" => op.objects,
        "CREATED" => 0,
        _ => (op.started.elapsed().as_secs_f64() * BULK_OBJECTS_PER_SEC) as u64,
    });
    let url = (status == "COMPLETED" && !op.positions.is_empty())
        .then(|| url_base.map(|b| format!("{b}/_bulk/{}.jsonl?signature={:016x}", op.id, super::fnv(&op.gid()))))
        .flatten();
    json!({
        "id": op.gid(),
        "type": "QUERY",
        "status": status,
        "errorCode": null,
        "createdAt": ts(op.created_at),
        "completedAt": op.completed_at.map(ts),
        "objectCount": done.to_string(),
        "rootObjectCount": if status == "COMPLETED" { op.positions.len() } else { 0 }.to_string(),
        "fileSize": if url.is_some() { op.file_size.map(|s| s.to_string()) } else { None },
        "url": url,
        "partialDataUrl": null,
        "query": op.query,
    })
}

/// `currentBulkOperation(type: QUERY)` or `node(id: $id)` on a BulkOperation.
pub(super) fn read(shop: &ShopifySim, vars: &Value, text: &str, url_base: &str) -> Result<Value, Response> {
    let extensions = charge(shop, 1.0, 1.0)?;
    let mut bulk = shop.bulk.lock().unwrap_or_else(|e| e.into_inner());
    refresh(shop, &mut bulk);
    let (field, op) = if text.contains("currentBulkOperation") {
        ("currentBulkOperation", bulk.operations.last())
    } else {
        let id = vars.get("id").and_then(Value::as_str).unwrap_or_default();
        ("node", bulk.operations.iter().find(|o| o.gid() == id))
    };
    let shown = op.map_or(Value::Null, |o| view(o, Some(url_base)));
    Ok(json!({ "data": { field: shown }, "extensions": extensions }))
}

/// `bulkOperationCancel(id:)`.
pub(super) fn cancel(shop: &ShopifySim, vars: &Value) -> Result<Value, Response> {
    let extensions = charge(shop, 10.0, 10.0)?;
    let id = vars.get("id").and_then(Value::as_str).unwrap_or_default();
    let mut bulk = shop.bulk.lock().unwrap_or_else(|e| e.into_inner());
    refresh(shop, &mut bulk);
    let (op, errors) = match bulk.operations.iter_mut().find(|o| o.gid() == id) {
        None => (Value::Null, vec![json!({ "field": ["id"], "message": "Bulk operation does not exist" })]),
        Some(o) if o.completed_at.is_some() || o.canceled => (
            view(o, None),
            vec![
                json!({ "field": null, "message": format!("A bulk operation cannot be canceled when it is {}", o.status().to_lowercase()) }),
            ],
        ),
        Some(o) => {
            o.canceled = true;
            (view(o, None), vec![])
        }
    };
    Ok(
        json!({ "data": { "bulkOperationCancel": { "bulkOperation": op, "userErrors": errors } }, "extensions": extensions }),
    )
}

/// The nested connection rows of an order node: (typename, parent id, row).
fn children(node: &Value) -> Vec<(&'static str, Value, Value)> {
    let id = node["id"].clone();
    let mut out = Vec::new();
    for edge in node["lineItems"]["edges"].as_array().into_iter().flatten() {
        out.push(("LineItem", id.clone(), edge["node"].clone()));
    }
    for edge in node["shippingLines"]["edges"].as_array().into_iter().flatten() {
        out.push(("ShippingLine", id.clone(), edge["node"].clone()));
    }
    // A refund's line items are a connection inside the `refunds` list,
    // which a bulk query cannot ask for: they are not exported.
    out
}

/// An order's JSONL lines: the order without its connections, then each
/// connection row with `__parentId` (grouped under its parent).
fn lines(node: &Value) -> String {
    let mut root: Map<String, Value> = node.as_object().cloned().unwrap_or_default();
    root.remove("lineItems");
    root.remove("shippingLines");
    if let Some(refunds) = root.get_mut("refunds").and_then(Value::as_array_mut) {
        for r in refunds.iter_mut().filter_map(Value::as_object_mut) {
            r.remove("refundLineItems");
        }
    }
    let mut out = Value::Object(root).to_string();
    out.push('\n');
    for (typename, parent, row) in children(node) {
        let mut row = row.as_object().cloned().unwrap_or_default();
        row.insert("__typename".into(), json!(typename));
        row.insert("__parentId".into(), parent);
        out.push_str(&Value::Object(row).to_string());
        out.push('\n');
    }
    out
}

/// The file's lines for the objects at `positions`.
fn rendered(shop: &ShopifySim, variants: bool, positions: &[usize]) -> String {
    if variants {
        let inventory = shop.inventory.lock().unwrap_or_else(|e| e.into_inner());
        positions
            .iter()
            .filter_map(|&i| inventory.variants.get(i))
            .map(|v| format!("{}\n", super::variant_node(v)))
            .collect()
    } else {
        // Before the orders' lock: placing an order takes the two the other way round.
        let addresses = shop.default_addresses();
        let orders = shop.orders.lock().unwrap_or_else(|e| e.into_inner());
        positions.iter().filter_map(|&i| orders.get(i)).map(|o| lines(&addresses.served(&o.node))).collect()
    }
}

/// `GET /_bulk/{id}.jsonl?signature=...`: the result file, streamed in
/// chunks (no access token: the signature is the permission).
pub(super) async fn download(
    State(sim): State<Arc<crate::Sim>>,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let shop = &sim.shopify;
    let id = file.strip_suffix(".jsonl").and_then(|n| n.parse::<u64>().ok());
    let (variants, positions) = {
        let mut bulk = shop.bulk.lock().unwrap_or_else(|e| e.into_inner());
        refresh(shop, &mut bulk);
        let op = bulk.operations.iter().find(|o| Some(o.id) == id && o.completed_at.is_some());
        match op {
            Some(o) if q.get("signature") == Some(&format!("{:016x}", super::fnv(&o.gid()))) => {
                (o.variants, o.positions.clone())
            }
            _ => {
                // What a storage bucket says to a wrong or expired link.
                return (StatusCode::FORBIDDEN, "<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code><Message>Access denied.</Message></Error>").into_response();
            }
        }
    };
    let stream = futures_util::stream::unfold(0usize, move |at| {
        let sim = sim.clone();
        let positions_len = positions.len();
        let chunk: Vec<usize> = positions.iter().skip(at).take(CHUNK).copied().collect();
        async move {
            if at >= positions_len {
                return None;
            }
            let text = rendered(&sim.shopify, variants, &chunk);
            Some((Ok::<_, std::convert::Infallible>(text), at + CHUNK))
        }
    });
    (StatusCode::OK, [("Content-Type", "application/jsonl")], Body::from_stream(stream)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_orders_filter_is_read_from_the_bulk_query() {
        assert_eq!(orders_filter("{ orders { edges { node { id } } } }"), Ok(None));
        let q = r#"{ orders(query: "updated_at:>='2026-11-26T12:00:00Z'") { edges { node { id } } } }"#;
        assert!(matches!(orders_filter(q), Ok(Some((_, true)))));
        assert!(orders_filter("{ products { edges { node { id } } } }").is_err());
        assert!(orders_filter(r#"{ orders(query: "status:open") { edges { node { id } } } }"#).is_err());
    }

    #[test]
    fn an_order_becomes_a_root_line_and_its_grouped_children() {
        let node = json!({ "id": "gid://shopify/Order/1", "name": "#1001",
            "lineItems": { "edges": [{ "node": { "sku": "A", "quantity": 2 } }, { "node": { "sku": "B", "quantity": 1 } }] },
            "shippingLines": { "edges": [{ "node": { "title": "Standard" } }] },
            "refunds": [{ "id": "gid://shopify/Refund/11", "refundLineItems": { "nodes": [{ "quantity": 1 }] } }] });
        let text = lines(&node);
        let rows: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect();
        assert_eq!(rows.len(), 4);
        assert!(rows[0].get("lineItems").is_none() && rows[0].get("__parentId").is_none());
        assert!(rows[0]["refunds"][0].get("refundLineItems").is_none());
        assert_eq!(rows[1]["__parentId"], "gid://shopify/Order/1");
        assert_eq!(rows[1]["__typename"], "LineItem");
        assert_eq!(rows[3]["__typename"], "ShippingLine");
        assert_eq!(children(&node).len(), 3);
    }
}
