//! Shopify fulfillments: an order marked shipped with its tracking number.
//!
//! Follows shopify.dev/docs/api/admin-graphql/2025-07/mutations/fulfillmentCreate
//! (`fulfillment: FulfillmentInput` with `lineItemsByFulfillmentOrder`,
//! `trackingInfo { company number url }`, `notifyCustomer`) and
//! .../enums/FulfillmentOrderStatus (only OPEN and IN_PROGRESS ones can be
//! fulfilled). The order's `fulfillments { trackingInfo }` are read first,
//! so a retry never fulfills twice.

use super::{user_errors, GraphQlResponse, Nodes, Shopify, UserError};
use crate::Result;
use ferry_domain::{ConnectorError, Shipment};
use serde::Deserialize;
use serde_json::json;

pub const ORDER_FULFILLMENT: &str = r#"query OrderFulfillment($id: ID!) {
  order(id: $id) {
    id name
    fulfillmentOrders(first: 10) { nodes { id status } }
    fulfillments(first: 20) { trackingInfo { company number url } }
  }
}"#;

pub const CREATE_FULFILLMENT: &str = r#"mutation Fulfill($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}"#;

#[derive(Debug, Deserialize)]
struct OrderData {
    order: Option<OrderFulfillment>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderFulfillment {
    name: String,
    fulfillment_orders: Nodes<FulfillmentOrder>,
    #[serde(default)]
    fulfillments: Vec<Fulfillment>,
}

#[derive(Debug, Deserialize)]
struct FulfillmentOrder {
    id: String,
    status: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fulfillment {
    #[serde(default)]
    tracking_info: Vec<TrackingInfo>,
}

#[derive(Debug, Deserialize)]
struct TrackingInfo {
    number: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateData {
    fulfillment_create: Payload,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    #[serde(default)]
    user_errors: Vec<UserError>,
}

impl Shopify {
    pub(super) async fn fulfill_order(&self, order_id: &str, shipment: &Shipment) -> Result<()> {
        let number = shipment.tracking_number.as_deref().ok_or_else(|| ConnectorError::Rejected {
            message: "the parcel has no tracking number to send to Shopify".into(),
            fields: vec![],
        })?;
        let resp: GraphQlResponse<OrderData> = self.post(ORDER_FULFILLMENT, json!({ "id": order_id }), 12.0).await?;
        let Some(order) = resp.into_data()?.order else {
            return Err(ConnectorError::Rejected {
                message: format!("Shopify has no order {order_id}; it cannot be marked shipped"),
                fields: vec![],
            });
        };
        let already =
            order.fulfillments.iter().flat_map(|f| &f.tracking_info).any(|t| t.number.as_deref() == Some(number));
        if already {
            return Ok(()); // fulfilled with this parcel before (a retry)
        }
        let open: Vec<_> = order
            .fulfillment_orders
            .nodes
            .iter()
            .filter(|f| matches!(f.status.as_str(), "OPEN" | "IN_PROGRESS"))
            .map(|f| json!({ "fulfillmentOrderId": f.id }))
            .collect();
        if open.is_empty() {
            return Err(ConnectorError::Rejected {
                message: format!(
                    "Shopify order {} has nothing left to fulfill (shipped another way, or cancelled)",
                    order.name
                ),
                fields: vec![],
            });
        }
        let fulfillment = json!({ "fulfillment": {
            "lineItemsByFulfillmentOrder": open,
            "trackingInfo": { "company": shipment.carrier, "number": number, "url": shipment.tracking_url },
            "notifyCustomer": true,
        }});
        let data: CreateData = self.post(CREATE_FULFILLMENT, fulfillment, 10.0).await?.into_data()?;
        user_errors(&format!("order {}", order.name), "fulfillment", data.fulfillment_create.user_errors)
    }
}
