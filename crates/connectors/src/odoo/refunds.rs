//! Credit notes for store refunds: an `account.move` with `move_type`
//! `out_refund`, the refund id in `ref`, the order's customer, one invoice
//! line per returned SKU (`product_id`, `quantity`, `price_unit`), posted
//! with `action_post`.
//!
//! Follows https://www.odoo.com/documentation/19.0/applications/finance/accounting/customer_invoices/credit_notes.html
//! and the `account.move` model: Ferry does not invoice, so there is no
//! invoice to reverse and `reversed_entry_id` stays empty; `invoice_origin`
//! names the sales order. As on orders, line taxes are cleared so the
//! credit note's total is the refund's; what is refunded beyond the goods
//! (shipping, a goodwill amount, the cents of a per-unit rounding) is a line
//! on `refund_product`.

use super::{many2one_id, missing_product_setting, number, record_id, row_id, text, Odoo};
use crate::Result;
use ferry_domain::{ConnectorError, ErpOrderRef, FieldError, Order, Refund};
use rust_decimal::Decimal;
use serde_json::json;

impl Odoo {
    /// The credit note for `refund_id`; a draft (its post's answer was lost)
    /// is posted now.
    pub(super) async fn credit_note_for(&self, refund_id: &str) -> Result<Option<String>> {
        let domain = json!([["move_type", "=", "out_refund"], ["ref", "=", refund_id], ["state", "!=", "cancel"]]);
        let rows = self
            .search_read("account.move", domain, &["name", "state"], json!({ "order": "id asc", "limit": 5 }))
            .await?;
        let Some(note) = rows.first() else { return Ok(None) };
        let id = row_id(note, "account.move")?;
        if text(note, "state").as_deref() == Some("draft") {
            self.call("account.move", "action_post", Some(&[id]), json!({})).await?;
        }
        Ok(Some(id.to_string()))
    }

    pub(super) async fn make_credit_note(&self, doc: &ErpOrderRef, order: &Order, refund: &Refund) -> Result<String> {
        let so_id = record_id(&doc.id, "sales order")?;
        let rows =
            self.search_read("sale.order", json!([["id", "=", so_id]]), &["name", "partner_id"], json!({})).await?;
        let so = rows.first().ok_or_else(|| ConnectorError::NotFound(format!("Odoo has no sales order {so_id}")))?;
        let whose = format!("refund {} of order {}", refund.id, order.number);
        let goods: Vec<_> = refund.lines.iter().filter(|l| l.quantity > 0).collect();
        let mut codes = Vec::new();
        for (i, line) in goods.iter().enumerate() {
            match &line.sku {
                Some(sku) => codes.push(sku.as_str()),
                None => {
                    return Err(ConnectorError::Rejected {
                        message: format!("{whose}: returned line {} has no SKU", i + 1),
                        fields: vec![FieldError { field: format!("lines[{i}].sku"), message: "missing".into() }],
                    })
                }
            }
        }
        let mut lines = Vec::new();
        let mut booked = Decimal::ZERO;
        let line = |product: i64, name: String, qty: i64, price: Decimal| json!([0, 0, { "product_id": product, "name": name, "quantity": qty, "price_unit": number(price), "tax_ids": [[6, 0, []]] }]);
        if !codes.is_empty() {
            let products = self.product_ids(&codes, true).await?;
            for l in &goods {
                let sku = l.sku.as_deref().unwrap_or_default();
                let product = products.get(sku).copied().ok_or_else(|| ConnectorError::Rejected {
                    message: format!("{whose}: Odoo has no product with Internal Reference {sku}"),
                    fields: vec![],
                })?;
                let price = (l.amount.amount / Decimal::from(l.quantity)).round_dp(2);
                booked += price * Decimal::from(l.quantity);
                lines.push(line(product, format!("Returned {sku}"), l.quantity, price));
            }
        }
        let rest = refund.total.amount - booked;
        if !rest.is_zero() {
            let code = self.refund_product.as_deref().ok_or_else(|| {
                missing_product_setting("refund_product", "money refunded beyond the returned goods", &whose)
            })?;
            let product =
                self.product_ids(&[code], false).await?.get(code).copied().ok_or_else(|| ConnectorError::Rejected {
                    message: format!(
                        "{whose}: Odoo has no active product with Internal Reference {code} (setting refund_product)"
                    ),
                    fields: vec![],
                })?;
            lines.push(line(product, "Refunded beyond returned goods (shipping or goodwill)".into(), 1, rest));
        }
        let vals = json!({
            "move_type": "out_refund",
            "partner_id": many2one_id(so, "partner_id"),
            "ref": refund.id,
            "invoice_origin": text(so, "name"),
            "invoice_date": refund.created_at.date_naive().to_string(),
            "narration": refund.note,
            "invoice_line_ids": lines,
        });
        let id = self.create("account.move", vals).await?;
        self.call("account.move", "action_post", Some(&[id]), json!({})).await?;
        Ok(id.to_string())
    }
}
