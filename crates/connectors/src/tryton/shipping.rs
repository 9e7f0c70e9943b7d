//! Parcels: customer shipments (`stock.shipment.out`) in state `assigned`,
//! `picked`, `packed`, `shipped` or `done` with no `shipping_reference`
//! yet. `shipping_reference` comes with the `stock_package_shipping`
//! module; without it both calls answer Rejected naming the module (the
//! shipment's own `reference` already holds the sale's reference, so an
//! empty one cannot mean "no tracking number yet"). The tracking number is
//! written to `shipping_reference`; the carrier and service, while the
//! shipment is not yet packed, to `shipping_description`. The store order
//! is found through the shipment's moves: `origin` `sale.line,<id>` → the
//! sale's external reference. Weight: the shipment's `weight` (module
//! `stock_shipment_measurements`) in its unit, else `default_parcel_grams`.

use super::feed::changed_at;
use super::rpc::dec_decimal;
use super::{nested, record_id, row_id, text, Tryton};
use crate::{Page, Result};
use chrono::{DateTime, Utc};
use ferry_domain::{Address, ConnectorError, ReadyParcel, Shipment};
use rust_decimal::prelude::ToPrimitive;
use serde_json::{json, Value};
use std::collections::HashMap;

const READY: [&str; 5] = ["assigned", "picked", "packed", "shipped", "done"];

impl Tryton {
    async fn require_tracking_field(&self) -> Result<()> {
        let fields =
            self.call("model.stock.shipment.out.fields_get", vec![json!(["shipping_reference"])], json!({})).await?;
        if fields.get("shipping_reference").is_some() {
            Ok(())
        } else {
            Err(ConnectorError::Rejected {
                message: "Tryton's customer shipments have no shipping_reference; activate the module stock_package_shipping to keep tracking numbers".into(),
                fields: vec![],
            })
        }
    }

    pub(super) async fn read_ready(
        &self,
        since: Option<DateTime<Utc>>,
        after: Option<&str>,
    ) -> Result<Page<ReadyParcel>> {
        self.require_tracking_field().await?;
        let domain = json!([["state", "in", READY], ["shipping_reference", "=", null]]);
        let fields = ["number", "customer", "customer.name", "delivery_address", "weight", "weight_uom.symbol"];
        let (rows, next) = self.changed_page("stock.shipment.out", domain, since, after, &fields, json!({})).await?;
        if rows.is_empty() {
            return Ok(Page { items: vec![], next });
        }
        let ids: Vec<i64> = rows.iter().filter_map(|r| r.get("id")?.as_i64()).collect();
        let refs = self.order_refs(&ids).await?;
        let address_ids: Vec<i64> = rows.iter().filter_map(|r| r.get("delivery_address")?.as_i64()).collect();
        let addresses = self
            .rows_where(
                "party.address",
                "id",
                json!(address_ids),
                &["street", "city", "postal_code", "country.code", "party_name"],
            )
            .await?;
        let address: HashMap<i64, &Value> =
            addresses.iter().filter_map(|a| Some((a.get("id")?.as_i64()?, a))).collect();
        let customer_ids: Vec<i64> = rows.iter().filter_map(|r| r.get("customer")?.as_i64()).collect();
        let mechanisms = self
            .rows_where("party.contact_mechanism", "party", json!(customer_ids), &["party", "type", "value"])
            .await?;
        let mut items = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = row_id(r, "stock.shipment.out")?;
            let customer = r.get("customer").and_then(Value::as_i64);
            let a = r.get("delivery_address").and_then(Value::as_i64).and_then(|a| address.get(&a));
            let street = a.and_then(|a| text(a, "street")).unwrap_or_default();
            let mut lines = street.lines().map(str::trim).filter(|l| !l.is_empty());
            let to = Address {
                name: a.and_then(|a| text(a, "party_name")).or_else(|| nested(r, "customer", "name")),
                line1: lines.next().map(str::to_owned),
                line2: Some(lines.collect::<Vec<_>>().join(", ")).filter(|s| !s.is_empty()),
                city: a.and_then(|a| text(a, "city")),
                postcode: a.and_then(|a| text(a, "postal_code")),
                country: a.and_then(|a| nested(a, "country", "code")),
                phone: mechanisms
                    .iter()
                    .filter(|m| m.get("party").and_then(Value::as_i64) == customer)
                    .find(|m| matches!(text(m, "type").as_deref(), Some("phone" | "mobile")))
                    .and_then(|m| text(m, "value")),
            };
            let email = mechanisms
                .iter()
                .filter(|m| m.get("party").and_then(Value::as_i64) == customer)
                .find(|m| text(m, "type").as_deref() == Some("email"))
                .and_then(|m| text(m, "value"));
            let grams = r.get("weight").and_then(dec_decimal).and_then(|w| {
                let factor = match nested(r, "weight_uom", "symbol")?.as_str() {
                    "kg" => 1000.0,
                    "g" => 1.0,
                    "lb" => 453.592,
                    "oz" => 28.3495,
                    _ => return None,
                };
                (w.to_f64()? * factor).round().to_u32().filter(|g| *g > 0)
            });
            let (order_ref, label) = refs.get(&id).cloned().unwrap_or_default();
            items.push(ReadyParcel {
                id: id.to_string(),
                order_label: label.or_else(|| text(r, "number")).unwrap_or_else(|| id.to_string()),
                order_ref,
                to,
                email,
                weight_grams: grams.unwrap_or(self.parcel_grams),
                updated_at: changed_at(r)
                    .ok_or_else(|| ConnectorError::Protocol(format!("Tryton shipment {id} has no create_date")))?,
            });
        }
        Ok(Page { items, next })
    }

    /// For each shipment: the sale's external reference and number.
    async fn order_refs(&self, shipments: &[i64]) -> Result<HashMap<i64, (Option<String>, Option<String>)>> {
        let keys: Vec<String> = shipments.iter().map(|s| format!("stock.shipment.out,{s}")).collect();
        let moves = self.rows_where("stock.move", "shipment", json!(keys), &["shipment", "origin"]).await?;
        let mut line_of: HashMap<i64, i64> = HashMap::new();
        for m in &moves {
            let shipment = text(m, "shipment").and_then(|s| s.strip_prefix("stock.shipment.out,")?.parse().ok());
            let line = text(m, "origin").and_then(|s| s.strip_prefix("sale.line,")?.parse().ok());
            if let (Some(s), Some(l)) = (shipment, line) {
                line_of.entry(s).or_insert(l);
            }
        }
        let line_ids: Vec<i64> = line_of.values().copied().collect();
        let ref_field = format!("sale.{}", self.ref_field);
        let lines = self.rows_where("sale.line", "id", json!(line_ids), &[ref_field.as_str(), "sale.number"]).await?;
        let sale_of: HashMap<i64, (Option<String>, Option<String>)> = lines
            .iter()
            .filter_map(|l| {
                Some((l.get("id")?.as_i64()?, (nested(l, "sale", &self.ref_field), nested(l, "sale", "number"))))
            })
            .collect();
        Ok(line_of.into_iter().filter_map(|(s, l)| Some((s, sale_of.get(&l)?.clone()))).collect())
    }

    pub(super) async fn write_tracking(&self, id: &str, shipment: &Shipment) -> Result<()> {
        self.require_tracking_field().await?;
        let id = record_id(id, "customer shipment")?;
        let Some(tracking) = shipment.tracking_number.as_deref().filter(|t| !t.trim().is_empty()) else {
            return Err(ConnectorError::Rejected {
                message: "the shipment has no tracking number to write".into(),
                fields: vec![],
            });
        };
        let rows = self
            .search_read(
                "stock.shipment.out",
                json!([["id", "=", id]]),
                0,
                Some(1),
                json!([]),
                &["state", "shipping_reference"],
                &json!({}),
            )
            .await?;
        let Some(doc) = rows.first() else {
            return Err(ConnectorError::NotFound(format!("Tryton has no customer shipment {id}")));
        };
        if text(doc, "shipping_reference").as_deref() == Some(tracking) {
            return Ok(());
        }
        let mut vals = json!({ "shipping_reference": tracking });
        if !matches!(text(doc, "state").as_deref(), Some("packed" | "done")) {
            vals["shipping_description"] =
                json!(format!("{} {}", shipment.carrier, shipment.service).trim().to_owned());
        }
        self.write("stock.shipment.out", &[id], vals).await
    }
}
