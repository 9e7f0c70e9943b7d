//! Deliveries: an outgoing `stock.picking` that is Ready (`assigned`) or
//! Done without a `carrier_tracking_ref` is ready to ship; the tracking
//! number is written back to `carrier_tracking_ref`.
//!
//! Follows the `stock.picking` fields of Odoo's stock and stock_delivery
//! (delivery before 17) modules: `picking_type_code`, `state`, `origin`
//! (the sales order's name), `sale_id` (sale_stock), `partner_id`,
//! `weight` / `shipping_weight` in kg, `carrier_id` and
//! `carrier_tracking_ref`. The carrier is set as `carrier_id` when a
//! `delivery.carrier` of that name exists; otherwise it is added to the
//! picking's note once ("Shipped with USPS, tracking 9400…"), so a person
//! sees it without Ferry inventing shipping methods.

use super::{decimal, many2one_id, many2one_name, parse_odoo_time, record_id, row_id, text, Odoo};
use crate::{Page, Result};
use chrono::{DateTime, Utc};
use ferry_domain::{Address, ConnectorError, ReadyParcel, Shipment};
use rust_decimal::prelude::ToPrimitive;
use serde_json::{json, Value};
use std::collections::HashMap;

/// A weight in kg as whole grams (rounded up); `None` when it is more
/// grams than a parcel can hold, including weights whose grams would not
/// fit a decimal (× 1000 overflowing).
fn grams(kg: rust_decimal::Decimal) -> Option<u32> {
    kg.checked_mul(rust_decimal::Decimal::from(1000))?.ceil().to_u32()
}

impl Odoo {
    pub(super) async fn read_ready(
        &self,
        since: Option<DateTime<Utc>>,
        after: Option<&str>,
    ) -> Result<Page<ReadyParcel>> {
        let domain = vec![
            json!(["picking_type_code", "=", "outgoing"]),
            json!(["state", "in", ["assigned", "done"]]),
            json!(["carrier_tracking_ref", "=", false]),
        ];
        let fields = ["name", "origin", "partner_id", "sale_id", "weight", "shipping_weight"];
        let (rows, next) = self.changed_page("stock.picking", domain, since, after, &fields).await?;
        let partner_ids: Vec<i64> = rows.iter().filter_map(|r| many2one_id(r, "partner_id")).collect();
        let partners = self
            .by_id(
                "res.partner",
                &partner_ids,
                &["name", "email", "phone", "street", "street2", "city", "zip", "country_id"],
            )
            .await?;
        let country_ids: Vec<i64> = partners.values().filter_map(|p| many2one_id(p, "country_id")).collect();
        let countries = self.by_id("res.country", &country_ids, &["code"]).await?;
        let order_ids: Vec<i64> = rows.iter().filter_map(|r| many2one_id(r, "sale_id")).collect();
        let orders = self.by_id("sale.order", &order_ids, &["name", self.ref_field.as_str()]).await?;
        let mut items = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = row_id(r, "stock.picking")?;
            let partner = many2one_id(r, "partner_id").and_then(|p| partners.get(&p));
            let order = many2one_id(r, "sale_id").and_then(|o| orders.get(&o));
            let to = partner.map_or_else(Address::default, |p| Address {
                name: text(p, "name"),
                line1: text(p, "street"),
                line2: text(p, "street2"),
                city: text(p, "city"),
                postcode: text(p, "zip"),
                country: many2one_id(p, "country_id").and_then(|c| countries.get(&c)).and_then(|c| text(c, "code")),
                phone: text(p, "phone"),
            });
            let kg = [decimal(r, "shipping_weight"), decimal(r, "weight")]
                .into_iter()
                .flatten()
                .find(|w| w.is_sign_positive() && !w.is_zero());
            let grams = kg.and_then(grams);
            items.push(ReadyParcel {
                id: id.to_string(),
                order_ref: order.and_then(|o| text(o, &self.ref_field)),
                order_label: order
                    .and_then(|o| text(o, "name"))
                    .or_else(|| text(r, "origin"))
                    .or_else(|| many2one_name(r, "sale_id"))
                    .unwrap_or_else(|| text(r, "name").unwrap_or_else(|| id.to_string())),
                to,
                email: partner.and_then(|p| text(p, "email")),
                weight_grams: grams.filter(|g| *g > 0).unwrap_or(self.parcel_grams),
                updated_at: parse_odoo_time(&text(r, "write_date").unwrap_or_default())?,
            });
        }
        Ok(Page { items, next })
    }

    /// Rows of `model` by id.
    async fn by_id(&self, model: &str, ids: &[i64], fields: &[&str]) -> Result<HashMap<i64, Value>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let ctx = json!({ "context": { "active_test": false } });
        let rows = self.search_read(model, json!([["id", "in", ids]]), fields, ctx).await?;
        Ok(rows.into_iter().filter_map(|r| Some((r.get("id")?.as_i64()?, r))).collect())
    }

    pub(super) async fn write_tracking(&self, id: &str, shipment: &Shipment) -> Result<()> {
        let id = record_id(id, "delivery")?;
        let Some(tracking) = shipment.tracking_number.as_deref().filter(|t| !t.trim().is_empty()) else {
            return Err(ConnectorError::Rejected {
                message: format!("the {} parcel for delivery {id} has no tracking number to write", shipment.carrier),
                fields: vec![],
            });
        };
        let mut vals = json!({ "carrier_tracking_ref": tracking });
        let carriers = self
            .search_read(
                "delivery.carrier",
                json!([["name", "=ilike", shipment.carrier]]),
                &["name"],
                json!({ "limit": 1 }),
            )
            .await?;
        match carriers.first() {
            Some(c) => vals["carrier_id"] = json!(row_id(c, "delivery.carrier")?),
            None => {
                let rows = self.search_read("stock.picking", json!([["id", "=", id]]), &["note"], json!({})).await?;
                let note = rows.first().and_then(|r| text(r, "note")).unwrap_or_default();
                let line = format!("Shipped with {} ({}), tracking {tracking}", shipment.carrier, shipment.service);
                if !note.contains(&line) {
                    vals["note"] = json!(format!("{note}<p>{line}</p>"));
                }
            }
        }
        self.write("stock.picking", id, vals).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn weights_become_grams_and_absurd_ones_none() {
        assert_eq!(grams(Decimal::new(4, 1)), Some(400));
        assert_eq!(grams(Decimal::new(12345, 7)), Some(2), "1.2345 g is rounded up");
        assert_eq!(grams(Decimal::from(5_000_000)), None, "5,000 t is beyond u32 grams: the default weight is used");
        // Found by the fuzz suite: a weight of 7.9e28 kg overflowed × 1000 (a panic).
        assert_eq!(grams(Decimal::MAX), None);
    }
}
