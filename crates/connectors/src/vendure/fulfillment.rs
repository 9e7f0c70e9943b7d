//! Fulfillment: `addFulfillmentToOrder` with the built-in
//! `manual-fulfillment` handler (arguments `method` and `trackingCode`) for
//! every quantity not yet fulfilled, then `transitionFulfillmentToState`
//! to `Shipped`. Idempotent: an order that already has a fulfillment (not
//! cancelled) with this tracking code is left as it is, only moved on to
//! Shipped if an earlier attempt stopped before that.

use super::{ok_result, Vendure};
use crate::Result;
use ferry_domain::{ConnectorError, Shipment};
use serde_json::{json, Value};
use std::collections::HashMap;

const ORDER_FULFILLMENTS: &str = r#"query OrderFulfillments($id: ID!) {
  order(id: $id) { id code state lines { id quantity }
    fulfillments { id state trackingCode lines { orderLineId quantity } } }
}"#;

const ADD_FULFILLMENT: &str = r#"mutation Fulfill($input: FulfillOrderInput!) {
  addFulfillmentToOrder(input: $input) {
    ... on Fulfillment { id state trackingCode }
    ... on ErrorResult { errorCode message }
  }
}"#;

const TRANSITION: &str = r#"mutation Ship($id: ID!, $state: String!) {
  transitionFulfillmentToState(id: $id, state: $state) {
    ... on Fulfillment { id state }
    ... on ErrorResult { errorCode message }
  }
}"#;

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

impl Vendure {
    async fn ship(&self, fulfillment: &Value) -> Result<()> {
        if s(&fulfillment["state"]) != "Pending" {
            return Ok(());
        }
        let data = self.gql(TRANSITION, json!({ "id": fulfillment["id"], "state": "Shipped" })).await?;
        ok_result(&data["transitionFulfillmentToState"], "mark the fulfillment shipped").map(|_| ())
    }

    pub(crate) async fn write_fulfillment(&self, order_id: &str, shipment: &Shipment) -> Result<()> {
        let tracking = shipment.tracking_number.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let data = self.gql(ORDER_FULFILLMENTS, json!({ "id": order_id })).await?;
        let order = &data["order"];
        if order.is_null() {
            return Err(ConnectorError::NotFound(format!("Vendure order {order_id}")));
        }
        let live: Vec<&Value> = order["fulfillments"]
            .as_array()
            .map(|a| a.iter().filter(|f| s(&f["state"]) != "Cancelled").collect())
            .unwrap_or_default();
        if let Some(t) = tracking {
            if let Some(done) = live.iter().find(|f| s(&f["trackingCode"]) == t) {
                return self.ship(done).await;
            }
        }
        let mut fulfilled: HashMap<&str, i64> = HashMap::new();
        for line in live.iter().filter_map(|f| f["lines"].as_array()).flatten() {
            *fulfilled.entry(s(&line["orderLineId"])).or_default() += line["quantity"].as_i64().unwrap_or(0);
        }
        let lines: Vec<Value> = order["lines"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| {
                let left = l["quantity"].as_i64().unwrap_or(0) - fulfilled.get(s(&l["id"])).copied().unwrap_or(0);
                (left > 0).then(|| json!({ "orderLineId": l["id"], "quantity": left }))
            })
            .collect();
        if lines.is_empty() {
            return Err(ConnectorError::Rejected {
                message: format!(
                    "Vendure order {} has nothing left to fulfill (state {})",
                    s(&order["code"]),
                    s(&order["state"])
                ),
                fields: vec![],
            });
        }
        let carrier = if shipment.service.is_empty() {
            shipment.carrier.clone()
        } else {
            format!("{} {}", shipment.carrier, shipment.service)
        };
        let input = json!({
            "lines": lines,
            "handler": { "code": "manual-fulfillment", "arguments": [
                { "name": "method", "value": carrier },
                { "name": "trackingCode", "value": tracking.unwrap_or_default() },
            ] },
        });
        let data = self.gql(ADD_FULFILLMENT, json!({ "input": input })).await?;
        let created = ok_result(&data["addFulfillmentToOrder"], &format!("fulfill order {}", s(&order["code"])))?;
        self.ship(created).await
    }
}
