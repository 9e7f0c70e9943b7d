//! Fulfillments in the Shopify emulator: every order has one fulfillment
//! order (OPEN until fulfilled or the order is cancelled);
//! `fulfillmentCreate` closes it and records the tracking info.
//!
//! Follows shopify.dev/docs/api/admin-graphql/2025-07/mutations/fulfillmentCreate,
//! .../objects/FulfillmentOrder and .../objects/FulfillmentTrackingInfo.

use super::{charge, ts, ShopifySim};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

impl ShopifySim {
    /// The fulfillments (with tracking info) of order `id`.
    pub fn fulfillments(&self, id: &str) -> Vec<Value> {
        let orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        orders
            .iter()
            .find(|o| o.node["id"] == id)
            .and_then(|o| o.node["fulfillments"].as_array().cloned())
            .unwrap_or_default()
    }
}

/// The fulfillment order of an order node (made on first use).
fn fulfillment_order(node: &Value) -> Value {
    let id = node["id"].as_str().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_owned();
    let status = if !node["cancelledAt"].is_null() {
        "CANCELLED"
    } else if node["fulfillments"].as_array().is_some_and(|f| !f.is_empty()) {
        "CLOSED"
    } else {
        "OPEN"
    };
    json!({ "id": format!("gid://shopify/FulfillmentOrder/{id}"), "status": status })
}

/// `order(id) { fulfillmentOrders fulfillments }`.
pub(super) fn order(shop: &ShopifySim, vars: &Value) -> Result<Value, Response> {
    let extensions = charge(shop, 12.0, 4.0)?;
    let id = vars.get("id").and_then(Value::as_str).unwrap_or_default();
    let orders = shop.orders.lock().unwrap_or_else(|e| e.into_inner());
    let order = orders.iter().find(|o| o.node["id"] == id).map(|o| {
        json!({
            "id": o.node["id"], "name": o.node["name"],
            "fulfillmentOrders": { "nodes": [fulfillment_order(&o.node)] },
            "fulfillments": o.node["fulfillments"].as_array().cloned().unwrap_or_default(),
        })
    });
    Ok(json!({ "data": { "order": order }, "extensions": extensions }))
}

/// `fulfillmentCreate(fulfillment: {lineItemsByFulfillmentOrder, trackingInfo, notifyCustomer})`.
pub(super) fn create(shop: &ShopifySim, vars: &Value, now: DateTime<Utc>) -> Result<Value, Response> {
    let extensions = charge(shop, 10.0, 10.0)?;
    let input = vars.get("fulfillment").cloned().unwrap_or_default();
    let refuse = |field: &str, message: &str| {
        json!({ "data": { "fulfillmentCreate": { "fulfillment": null,
            "userErrors": [{ "field": ["fulfillment", field], "message": message }] } }, "extensions": extensions })
    };
    let wanted: Vec<String> = input
        .get("lineItemsByFulfillmentOrder")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| f.get("fulfillmentOrderId").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let Some(first) = wanted.first() else {
        return Ok(refuse("lineItemsByFulfillmentOrder", "At least one fulfillment order is required"));
    };
    let number = input.pointer("/trackingInfo/number").and_then(Value::as_str).unwrap_or_default();
    if number.trim().is_empty() {
        return Ok(refuse("trackingInfo", "Tracking number can't be blank"));
    }
    let mut orders = shop.orders.lock().unwrap_or_else(|e| e.into_inner());
    let Some(o) = orders.iter_mut().find(|o| fulfillment_order(&o.node)["id"] == first.as_str()) else {
        return Ok(refuse("lineItemsByFulfillmentOrder", "Fulfillment order does not exist"));
    };
    if fulfillment_order(&o.node)["status"] != "OPEN" {
        return Ok(refuse("lineItemsByFulfillmentOrder", "Fulfillment order is not in a fulfillable state"));
    }
    let tracking = json!({
        "company": input.pointer("/trackingInfo/company"), "number": number, "url": input.pointer("/trackingInfo/url"),
    });
    let n = o.id;
    let fulfillment = json!({ "id": format!("gid://shopify/Fulfillment/{n}"), "status": "SUCCESS",
        "createdAt": ts(now), "trackingInfo": [tracking], "notifyCustomer": input.get("notifyCustomer") });
    o.node["fulfillments"] = json!([fulfillment.clone()]);
    o.node["displayFulfillmentStatus"] = json!("FULFILLED");
    o.node["updatedAt"] = json!(ts(now));
    o.updated_at = now;
    if shop.faults.take_lost_response() {
        return Err(super::lost_response());
    }
    Ok(json!({ "data": { "fulfillmentCreate": { "fulfillment": { "id": fulfillment["id"], "status": "SUCCESS" },
        "userErrors": [] } }, "extensions": extensions }))
}
