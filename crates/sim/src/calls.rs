//! Counts of the requests the emulators answered, by system and call, for
//! benchmarks' "calls per record": `GET /_sim/calls`. A call is named by its
//! method and path with ids left out (`GET erpnext /api/resource/Sales Order`),
//! and a GraphQL request by its first field (`POST shopify graphql orders`).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Requests by call name.
#[derive(Default)]
pub struct Calls(Mutex<BTreeMap<String, u64>>);

impl Calls {
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn count(&self, name: String) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()).entry(name).or_default() += 1;
    }
}

/// The first field of a GraphQL document (`orders`, `inventorySetQuantities`).
fn graphql_field(body: &[u8]) -> String {
    let query = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("query").and_then(|q| q.as_str()).map(str::to_owned))
        .unwrap_or_default();
    let Some(open) = query.find('{') else { return "?".into() };
    query[open + 1..].trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>()
}

/// `/erpnext/api/resource/Sales%20Order/SAL-ORD-2026-00001` →
/// `erpnext /api/resource/Sales Order`: numbers and document names dropped.
fn path_name(path: &str) -> String {
    let decoded = path.replace("%20", " ");
    let mut parts = decoded.trim_start_matches('/').split('/');
    let system = parts.next().unwrap_or_default().to_owned();
    let mut kept: Vec<&str> = Vec::new();
    for p in parts {
        // ERPNext's /api/resource/{doctype}/{name}: the name is a document's.
        if kept.len() >= 2 && kept[kept.len() - 2] == "resource" {
            kept.push(":name");
            continue;
        }
        // A short number after `json` is an API version (Odoo's /json/2/), not an id.
        let version = p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit()) && kept.last() == Some(&"json");
        let stem = p.split('.').next().unwrap_or_default();
        let digits = p.chars().filter(char::is_ascii_digit).count();
        let is_id = !version
            && ((!stem.is_empty() && stem.chars().all(|c| c.is_ascii_digit()))
                || (digits >= 3 && !p.ends_with(".json")))
            || p.starts_with("SAL-")
            || p.starts_with("ACC-")
            || p.starts_with("MAT-");
        kept.push(if is_id { ":id" } else { p });
    }
    // Shopify's REST version and the API version segment say nothing about the call.
    format!("{system} /{}", kept.join("/"))
}

pub(crate) async fn count(State(calls): State<Arc<Calls>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if path.starts_with("/_sim") {
        return next.run(request).await;
    }
    let method = request.method().as_str().to_owned();
    if path.ends_with("/graphql.json")
        || path.ends_with("/graphql")
        || path.contains("/shop-api")
        || path.contains("/admin-api")
    {
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024).await.unwrap_or_default();
        let system = path.trim_start_matches('/').split('/').next().unwrap_or_default().to_owned();
        calls.count(format!("{method} {system} graphql {}", graphql_field(&bytes)));
        return next.run(Request::from_parts(parts, Body::from(bytes))).await;
    }
    calls.count(format!("{method} {}", path_name(&path)));
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_named_without_ids() {
        assert_eq!(path_name("/erpnext/api/resource/Sales%20Order"), "erpnext /api/resource/Sales Order");
        assert_eq!(
            path_name("/erpnext/api/resource/Sales%20Order/SAL-ORD-2026-00001"),
            "erpnext /api/resource/Sales Order/:name"
        );
        assert_eq!(path_name("/erpnext/api/resource/Customer/Ken%20Turing"), "erpnext /api/resource/Customer/:name");
        assert_eq!(path_name("/shopify/_bulk/3.jsonl"), "shopify /_bulk/:id");
        assert_eq!(path_name("/odoo/json/2/sale.order/create"), "odoo /json/2/sale.order/create");
        assert_eq!(
            path_name("/woocommerce/wp-json/wc/v3/products/10/variations/11"),
            "woocommerce /wp-json/wc/v3/products/:id/variations/:id"
        );
        assert_eq!(
            graphql_field(
                br#"{"query":"query Orders($first: Int!) { orders(first: $first) { edges { node { id } } } }"}"#
            ),
            "orders"
        );
        assert_eq!(
            graphql_field(br#"{"query":"mutation M { inventorySetQuantities(input: $i) { userErrors { field } } }"}"#),
            "inventorySetQuantities"
        );
    }
}
