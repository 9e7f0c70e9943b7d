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

/// What is left to fulfill of each of `order`'s lines after the `live`
/// fulfillments: `{orderLineId, quantity}` for each line with some left.
/// Quantities beyond what a count holds (or sums of them) are a protocol
/// error, not an overflow.
fn lines_left(order: &Value, live: &[&Value]) -> Result<Vec<Value>> {
    let beyond = || {
        ConnectorError::Protocol(format!(
            "Vendure order {} has quantities beyond what a count can hold",
            s(&order["code"])
        ))
    };
    let mut fulfilled: HashMap<&str, i64> = HashMap::new();
    for line in live.iter().filter_map(|f| f["lines"].as_array()).flatten() {
        let done = fulfilled.entry(s(&line["orderLineId"])).or_default();
        *done = done.checked_add(line["quantity"].as_i64().unwrap_or(0)).ok_or_else(beyond)?;
    }
    let mut lines = Vec::new();
    for l in order["lines"].as_array().into_iter().flatten() {
        let done = fulfilled.get(s(&l["id"])).copied().unwrap_or(0);
        let left = l["quantity"].as_i64().unwrap_or(0).checked_sub(done).ok_or_else(beyond)?;
        if left > 0 {
            lines.push(json!({ "orderLineId": l["id"], "quantity": left }));
        }
    }
    Ok(lines)
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
        let lines = lines_left(order, &live)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_left_to_fulfill() {
        let order = json!({ "code": "T1", "lines": [{ "id": "1", "quantity": 3 }, { "id": "2", "quantity": 1 }] });
        let done = json!({ "state": "Shipped", "lines": [{ "orderLineId": "1", "quantity": 2 }, { "orderLineId": "2", "quantity": 1 }] });
        assert_eq!(lines_left(&order, &[&done]), Ok(vec![json!({ "orderLineId": "1", "quantity": 1 })]));
    }

    #[test]
    fn quantities_beyond_a_count_are_a_protocol_error_not_an_overflow() {
        // Found by the fuzz suite: two fulfillments of i64::MAX each overflowed the sum (a panic).
        let order = json!({ "code": "T1", "lines": [{ "id": "1", "quantity": 3 }] });
        let huge = json!({ "lines": [{ "orderLineId": "1", "quantity": i64::MAX }, { "orderLineId": "1", "quantity": i64::MAX }] });
        assert!(matches!(lines_left(&order, &[&huge]), Err(ConnectorError::Protocol(_))));
        let negative = json!({ "lines": [{ "orderLineId": "1", "quantity": i64::MIN }] });
        assert!(
            matches!(lines_left(&order, &[&negative]), Err(ConnectorError::Protocol(_))),
            "3 − i64::MIN overflows too"
        );
    }
}
