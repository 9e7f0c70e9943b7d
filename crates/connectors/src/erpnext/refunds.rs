//! ERPNext credit notes for store refunds: a Sales Invoice with
//! `is_return = 1`, negative quantities, submitted, and the refund's id in
//! the external reference field (a custom field on Sales Invoice with the
//! same name as on Sales Order).
//!
//! Ferry does not invoice, so there is no `return_against` invoice: ERPNext
//! accepts such a standalone credit note since v11 (frappe/erpnext#14269).
//! Each item row names the Sales Order (`sales_order`). Anything refunded
//! beyond the returned goods (shipping, a goodwill amount) is an "Actual"
//! row on the shipping account, so the credit note's total equals the
//! refund to the cent.

use super::{string_field, ErpNext};
use crate::Result;
use ferry_domain::{ConnectorError, ErpOrderRef, FieldError, Order, Refund};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};

impl ErpNext {
    pub(super) async fn credit_note_for(&self, refund_id: &str) -> Result<Option<String>> {
        let filters = json!([[self.ref_field, "=", refund_id], ["is_return", "=", 1], ["docstatus", "!=", 2]]);
        let rows = self.list("Sales Invoice", filters, json!(["name"]), 1).await?;
        rows.first().map(|r| string_field(r, "name", "Sales Invoice")).transpose()
    }

    pub(super) async fn make_credit_note(&self, doc: &ErpOrderRef, order: &Order, refund: &Refund) -> Result<String> {
        let url = format!("{}/{}", self.resource_url("Sales Order"), urlencoding::encode(&doc.id));
        let so = self.call(Method::GET, &url, &[], None).await?;
        let customer = string_field(&so, "customer", "Sales Order")?;
        let mut items = Vec::new();
        let mut goods = Decimal::ZERO;
        for (i, line) in refund.lines.iter().filter(|l| l.quantity > 0).enumerate() {
            let Some(sku) = &line.sku else {
                return Err(ConnectorError::Rejected {
                    message: format!(
                        "refund {} of order {}: returned line {} has no SKU",
                        refund.id,
                        order.number,
                        i + 1
                    ),
                    fields: vec![FieldError { field: format!("lines[{i}].sku"), message: "missing".into() }],
                });
            };
            let rate = (line.amount.amount / Decimal::from(line.quantity)).round_dp(2);
            items.push(
                json!({ "item_code": sku, "qty": -line.quantity, "rate": rate.to_string(), "sales_order": doc.id }),
            );
            goods += rate * Decimal::from(line.quantity);
        }
        let rest = refund.total.amount - goods;
        let mut taxes = Vec::new();
        if !rest.is_zero() {
            let Some(head) = self.shipping_account.as_deref() else {
                return Err(ConnectorError::Rejected {
                    message: format!(
                        "refund {} of order {} gives back {} beyond the returned goods, but this ERPNext connection has no `shipping_account` set to book it to; set it, then replay",
                        refund.id, order.number, rest
                    ),
                    fields: vec![FieldError { field: "shipping_account".into(), message: "not set".into() }],
                });
            };
            taxes.push(json!({ "charge_type": "Actual", "account_head": head,
                "description": "Refunded beyond returned goods (shipping or goodwill)", "tax_amount": (-rest).to_string() }));
        }
        if items.is_empty() {
            let Some(item) = self.refund_item.as_deref() else {
                return Err(ConnectorError::Rejected {
                    message: format!(
                        "refund {} of order {} returns no goods, and ERPNext needs an item on a credit note; set `refund_item` to a non-stock item (e.g. \"Refund\"), then replay",
                        refund.id, order.number
                    ),
                    fields: vec![FieldError { field: "refund_item".into(), message: "not set".into() }],
                });
            };
            items.push(
                json!({ "item_code": item, "qty": -1, "rate": refund.total.amount.to_string(), "sales_order": doc.id }),
            );
            taxes.clear();
        }
        let date = refund.created_at.with_timezone(&self.tz).date_naive();
        let mut body = json!({
            "customer": customer,
            "is_return": 1,
            "posting_date": date.to_string(),
            "set_posting_time": 1,
            "currency": refund.total.currency.code(),
            "remarks": format!("Refund {} of store order {}{}", refund.id, order.number,
                refund.note.as_deref().map(|n| format!(": {n}")).unwrap_or_default()),
            "items": items,
            "taxes": taxes,
            "docstatus": 1,
        });
        body[self.ref_field.as_str()] = Value::from(refund.id.clone());
        let created = self.call(Method::POST, &self.resource_url("Sales Invoice"), &[], Some(&body)).await?;
        string_field(&created, "name", "Sales Invoice")
    }
}
