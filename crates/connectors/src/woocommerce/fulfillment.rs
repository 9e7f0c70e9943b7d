//! WooCommerce "fulfillment": WooCommerce core has no shipment or tracking
//! field, so an order is marked shipped the way the docs allow: a customer
//! note with the carrier, tracking number and link (the customer is emailed
//! it) and the status `completed`.
//!
//! Follows https://woocommerce.github.io/woocommerce-rest-api-docs/#order-notes
//! (`GET`/`POST /orders/<id>/notes`, `note`, `customer_note: true`) and
//! #update-an-order (`status`). The notes are read first and the note is
//! written only when none has the tracking number yet; the status is set
//! after the note, so a retry after either step finishes the job without a
//! second note or email.

use super::{WooCommerce, SYSTEM};
use crate::Result;
use ferry_domain::{ConnectorError, Shipment};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
struct Note {
    #[serde(default)]
    note: String,
}

#[derive(Debug, Deserialize)]
struct OrderStatus {
    #[serde(default, deserialize_with = "super::text")]
    number: String,
    status: String,
}

/// The note the customer gets.
pub(super) fn note_text(shipment: &Shipment, number: &str) -> String {
    let service = if shipment.service.trim().is_empty() { String::new() } else { format!(" ({})", shipment.service) };
    let mut text = format!("Your order has shipped with {}{service}. Tracking number: {number}", shipment.carrier);
    if let Some(url) = shipment.tracking_url.as_deref().filter(|u| !u.trim().is_empty()) {
        text.push_str(&format!(" — track it at {url}"));
    }
    text
}

impl WooCommerce {
    pub(super) async fn fulfill_order(&self, order_id: &str, shipment: &Shipment) -> Result<()> {
        let number = shipment.tracking_number.as_deref().filter(|n| !n.trim().is_empty()).ok_or_else(|| {
            ConnectorError::Rejected {
                message: format!("the parcel has no tracking number to send to {SYSTEM}"),
                fields: vec![],
            }
        })?;
        let no_order = || ConnectorError::Rejected {
            message: format!("{SYSTEM} has no order {order_id}; it cannot be marked shipped"),
            fields: vec![],
        };
        let id: u64 = order_id.trim().parse().map_err(|_| no_order())?;
        let order = match self.get::<OrderStatus>(&format!("/orders/{id}"), &[], "an order").await {
            Ok((o, _)) => o,
            Err(ConnectorError::NotFound(_)) => return Err(no_order()),
            Err(e) => return Err(e),
        };
        if matches!(order.status.as_str(), "cancelled" | "refunded" | "failed" | "trash") {
            return Err(ConnectorError::Rejected {
                message: format!("{SYSTEM} order #{} is {}; it is not marked shipped", order.number, order.status),
                fields: vec![],
            });
        }
        let (notes, _): (Vec<Note>, _) = self.get(&format!("/orders/{id}/notes"), &[], "the notes of an order").await?;
        if !notes.iter().any(|n| n.note.contains(number)) {
            let body = json!({ "note": note_text(shipment, number), "customer_note": true });
            self.write::<Value>(Method::POST, &format!("/orders/{id}/notes"), &body, "the new note").await?;
        }
        if order.status != "completed" {
            let body = json!({ "status": "completed" });
            self.write::<Value>(Method::PUT, &format!("/orders/{id}"), &body, "the updated order").await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_names_carrier_number_and_link() {
        let s = Shipment {
            id: None,
            order_ref: "DN-1".into(),
            carrier: "DHL".into(),
            service: "Paket".into(),
            tracking_number: Some("00340434161094042557".into()),
            label_url: None,
            tracking_url: Some("https://www.dhl.de/track?piececode=00340434161094042557".into()),
        };
        let text = note_text(&s, "00340434161094042557");
        assert!(
            text.contains("DHL (Paket)")
                && text.contains("00340434161094042557")
                && text.contains("https://www.dhl.de"),
            "{text}"
        );
    }
}
