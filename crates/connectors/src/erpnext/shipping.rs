//! ERPNext shipping: a submitted Delivery Note (docstatus 1) without a
//! tracking number is ready to ship; the tracking number and carrier are
//! written back onto it.
//!
//! ERPNext's own transporter fields (`lr_no`, `transporter`) cannot change
//! after submit (frappe/erpnext delivery_note.json: not "Allow on Submit"),
//! so Ferry writes two custom fields that must be made with Allow on Submit
//! (settings `tracking_field`, default `tracking_number`, and
//! `carrier_field`, default `carrier`). The store order comes from the
//! Sales Order the Delivery Note's items were made against.

use super::{string_field, ErpNext};
use crate::{Page, Result};
use chrono::{DateTime, Utc};
use ferry_domain::{Address, ConnectorError, ReadyParcel, Shipment};
use reqwest::Method;
use serde_json::{json, Value};

const PAGE: usize = 100;

fn text(v: &Value, field: &str) -> Option<String> {
    v.get(field).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

impl ErpNext {
    async fn doc(&self, doctype: &str, name: &str) -> Result<Value> {
        let url = format!("{}/{}", self.resource_url(doctype), urlencoding::encode(name));
        self.call(Method::GET, &url, &[], None).await
    }

    pub(super) async fn read_ready(
        &self,
        since: Option<DateTime<Utc>>,
        after: Option<&str>,
    ) -> Result<Page<ReadyParcel>> {
        let start: usize = match after {
            Some(a) => a.parse().map_err(|_| ConnectorError::Protocol(format!("bad ERPNext page token {a:?}")))?,
            None => 0,
        };
        let mut filters = vec![json!(["docstatus", "=", 1])];
        if let Some(t) = since {
            // `modified` is site-local: the filter is written in the site's time too.
            filters.push(json!([
                "modified",
                ">=",
                t.with_timezone(&self.tz).format("%Y-%m-%d %H:%M:%S%.6f").to_string()
            ]));
        }
        let rows = self
            .list_page(
                "Delivery Note",
                &Value::Array(filters),
                &json!(["name", "modified", self.tracking_field]),
                "modified asc",
                start,
                PAGE,
            )
            .await?;
        let mut items = Vec::new();
        for row in &rows {
            if text(row, &self.tracking_field).is_some() {
                continue; // shipped already
            }
            let name = string_field(row, "name", "Delivery Note")?;
            let updated_at = self.site_time(&string_field(row, "modified", "Delivery Note")?)?;
            items.push(self.parcel(&name, updated_at).await?);
        }
        let next = (rows.len() == PAGE).then(|| (start + PAGE).to_string());
        Ok(Page { items, next })
    }

    /// Everything a courier needs about Delivery Note `name`.
    async fn parcel(&self, name: &str, updated_at: DateTime<Utc>) -> Result<ReadyParcel> {
        let dn = self.doc("Delivery Note", name).await?;
        let sales_order = dn
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find_map(|i| text(i, "against_sales_order"));
        let order_ref = match &sales_order {
            Some(so) => text(&self.doc("Sales Order", so).await?, &self.ref_field),
            None => None,
        };
        let address = match text(&dn, "shipping_address_name").or_else(|| text(&dn, "customer_address")) {
            Some(a) => Some(self.doc("Address", &a).await?),
            None => None,
        };
        let to = address.map(|a| Address {
            name: text(&a, "address_title").or_else(|| text(&dn, "customer_name")),
            line1: text(&a, "address_line1"),
            line2: text(&a, "address_line2"),
            city: text(&a, "city"),
            postcode: text(&a, "pincode"),
            country: text(&a, "country").and_then(|c| super::customers::country_code(&c)),
            phone: text(&a, "phone"),
        });
        // An incomplete address is passed on as it is: the booking is
        // refused with a clear message, and this document only.
        let to = to.unwrap_or_default();
        let email = match text(&dn, "customer") {
            Some(c) => text(&self.doc("Customer", &c).await?, "email_id"),
            None => None,
        };
        let kg = dn.get("total_net_weight").and_then(Value::as_f64).filter(|w| *w > 0.0);
        Ok(ReadyParcel {
            id: name.to_owned(),
            order_ref,
            order_label: sales_order.unwrap_or_else(|| name.to_owned()),
            to,
            email,
            weight_grams: kg.map_or(self.parcel_grams, |kg| (kg * 1000.0).ceil() as u32),
            updated_at,
        })
    }

    pub(super) async fn write_tracking(&self, id: &str, shipment: &Shipment) -> Result<()> {
        let url = format!("{}/{}", self.resource_url("Delivery Note"), urlencoding::encode(id));
        let mut body = serde_json::Map::new();
        body.insert(self.tracking_field.clone(), json!(shipment.tracking_number));
        body.insert(self.carrier_field.clone(), json!(shipment.carrier));
        self.call(Method::PUT, &url, &[], Some(&Value::Object(body))).await.map(|_| ())
    }
}
