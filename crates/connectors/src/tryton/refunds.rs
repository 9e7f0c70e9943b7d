//! Credit notes: a customer invoice (`account.invoice`, `type` `out`) with
//! negative quantities — Tryton's own form of a credit note (its `credit`
//! wizard makes the same from a posted invoice, for whole invoices only).
//! The store refund id is kept in the invoice's `reference`, the note in
//! `description`. Returned goods are lines on their products at the
//! refunded amount; whatever else was refunded (shipping, goodwill) is one
//! line on `refund_product`. Accounts are the ones Tryton itself would
//! use: the product category's revenue account, the party's receivable
//! account (or the accounting configuration's default). The credit note is
//! left in draft for the accountant to post.

use super::rpc::enc_decimal;
use super::{missing_product_setting, record_id, row_id, Tryton};
use crate::Result;
use ferry_domain::{ConnectorError, ErpOrderRef, Order, Refund};
use rust_decimal::Decimal;
use serde_json::{json, Value};

impl Tryton {
    pub(super) async fn credit_note_for(&self, refund_id: &str) -> Result<Option<String>> {
        let domain = json!([["type", "=", "out"], ["reference", "=", refund_id], ["state", "!=", "cancelled"]]);
        let rows = self
            .search_read("account.invoice", domain, 0, Some(1), json!([["id", "ASC"]]), &["number"], &json!({}))
            .await?;
        rows.first().map(|r| row_id(r, "account.invoice").map(|id| id.to_string())).transpose()
    }

    pub(super) async fn make_credit_note(&self, doc: &ErpOrderRef, order: &Order, refund: &Refund) -> Result<String> {
        let whose = format!("refund {} of order {}", refund.id, order.number);
        let sale_id = record_id(&doc.id, "sale")?;
        let sales = self
            .search_read(
                "sale.sale",
                json!([["id", "=", sale_id]]),
                0,
                Some(1),
                json!([]),
                &["party", "invoice_address", "currency"],
                &json!({}),
            )
            .await?;
        let Some(sale) = sales.first() else {
            return Err(ConnectorError::NotFound(format!("Tryton has no sale {sale_id} for {whose}")));
        };
        let field = |f: &str| sale.get(f).and_then(Value::as_i64);
        let (Some(party), Some(currency)) = (field("party"), field("currency")) else {
            return Err(ConnectorError::Protocol(format!("Tryton sale {sale_id} has no party or currency")));
        };
        // Goods lines, and what the refund holds beyond them.
        let goods: Vec<_> = refund.lines.iter().filter(|l| l.quantity > 0 && l.sku.is_some()).collect();
        let goods_total: Decimal = goods.iter().map(|l| l.amount.amount).sum();
        let rest = refund.total.amount - goods_total;
        let mut codes: Vec<&str> = goods.iter().filter_map(|l| l.sku.as_deref()).collect();
        if !rest.is_zero() {
            match &self.refund_product {
                Some(code) => codes.push(code),
                None => {
                    return Err(missing_product_setting("refund_product", "an amount beyond returned goods", &whose))
                }
            }
        }
        if codes.is_empty() {
            return Err(ConnectorError::Rejected { message: format!("{whose} refunds nothing"), fields: vec![] });
        }
        codes.sort_unstable();
        codes.dedup();
        let products = self.products_by_code(&codes, true).await?;
        if let Some(missing) = codes.iter().find(|c| !products.contains_key(**c)) {
            return Err(ConnectorError::Rejected {
                message: format!("{whose}: Tryton has no product with code {missing}"),
                fields: vec![],
            });
        }
        let revenue = self.revenue_accounts(&products.values().map(|p| p.template).collect::<Vec<_>>()).await?;
        let account_of = |code: &str| -> Result<i64> {
            revenue.get(&products[code].template).copied().ok_or_else(|| ConnectorError::Rejected {
                message: format!(
                    "{whose}: product {code} has no revenue account (set an accounting category on it in Tryton)"
                ),
                fields: vec![],
            })
        };
        let mut lines = Vec::new();
        for l in &goods {
            let code = l.sku.as_deref().unwrap_or_default();
            let p = products[code];
            lines.push(json!({ "type": "line", "product": p.id, "unit": p.uom, "account": account_of(code)?,
                "quantity": -(l.quantity as f64), "unit_price": enc_decimal((l.amount.amount / Decimal::from(l.quantity)).round_dp(4)),
                "description": format!("Returned: {code}") }));
        }
        if let Some(code) = self.refund_product.as_deref().filter(|_| !rest.is_zero()) {
            let p = products[code];
            lines.push(json!({ "type": "line", "product": p.id, "unit": p.uom, "account": account_of(code)?,
                "quantity": -1.0, "unit_price": enc_decimal(rest), "description": refund.note.clone().unwrap_or_else(|| "Refund".into()) }));
        }
        let receivable = self.receivable_account(party).await?;
        let mut vals = json!({ "type": "out", "party": party, "currency": currency, "account": receivable,
            "reference": refund.id, "description": format!("Refund for {}", order.number), "lines": [["create", lines]] });
        if let Some(a) = field("invoice_address") {
            vals["invoice_address"] = json!(a);
        }
        let id = self.create("account.invoice", vals).await?;
        Ok(id.to_string())
    }

    /// Revenue account of each template's accounting category.
    async fn revenue_accounts(&self, templates: &[i64]) -> Result<std::collections::HashMap<i64, i64>> {
        let rows = self.rows_where("product.template", "id", json!(templates), &["account_category"]).await?;
        let categories: Vec<i64> = rows.iter().filter_map(|r| r.get("account_category")?.as_i64()).collect();
        let cats = self.rows_where("product.category", "id", json!(categories), &["account_revenue"]).await?;
        let account: std::collections::HashMap<i64, i64> =
            cats.iter().filter_map(|c| Some((c.get("id")?.as_i64()?, c.get("account_revenue")?.as_i64()?))).collect();
        Ok(rows
            .iter()
            .filter_map(|r| Some((r.get("id")?.as_i64()?, *account.get(&r.get("account_category")?.as_i64()?)?)))
            .collect())
    }

    /// The party's receivable account, or the configuration's default.
    async fn receivable_account(&self, party: i64) -> Result<i64> {
        let rows = self.rows_where("party.party", "id", json!([party]), &["account_receivable"]).await?;
        if let Some(a) = rows.first().and_then(|r| r.get("account_receivable")?.as_i64()) {
            return Ok(a);
        }
        let config = self
            .call(
                "model.account.configuration.read",
                vec![json!([1]), json!(["default_account_receivable"])],
                json!({}),
            )
            .await?;
        config.get(0).and_then(|c| c.get("default_account_receivable")?.as_i64()).ok_or_else(|| ConnectorError::Rejected {
            message: format!("Tryton party {party} has no receivable account and the accounting configuration has no default one"),
            fields: vec![],
        })
    }
}
