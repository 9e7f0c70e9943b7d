//! Sales (`sale.sale`): find by the store order id, create, quote, confirm
//! and process, cancel, list by `sale_date`.
//!
//! How the total is kept to the cent: lines are created through RPC
//! without `on_change`, so no product taxes are added; what the store
//! charged beyond the goods becomes lines on service products (setting
//! codes): shipping on `shipping_product`, VAT the store added on top on
//! `tax_product`, the discount as a negative line on `discount_product`.
//! The sale's `total_amount` is then the store's own numbers; it is
//! checked before quoting, and a sale that differs is cancelled and the
//! order Rejected.
//!
//! Tryton cancels only a sale in draft or quotation (`cancel` button); a
//! confirmed one is put back to draft first. A sale that is processing
//! already has shipments and invoices: Ferry refuses (Rejected) and says
//! so — cancel those in Tryton.

use super::rpc::{dec_decimal, enc_date, enc_decimal};
use super::{missing_product_setting, nested, record_id, row_id, text, OrderState, Tryton};
use crate::Result;
use chrono::NaiveDate;
use ferry_domain::{ConnectorError, ErpOrderRef, ErpOrderSummary, FieldError, Money, Order};
use rust_decimal::Decimal;
use serde_json::{json, Value};

impl Tryton {
    fn ref_domain(&self, external_ref: &str) -> Value {
        json!([[self.ref_field, "=", external_ref]])
    }

    /// The sale carrying `external_ref`, a live one before a cancelled
    /// one. One left in draft (its create answered but quoting never ran)
    /// is taken on through the workflow now.
    pub(super) async fn order_for(&self, external_ref: &str) -> Result<Option<ErpOrderRef>> {
        let order = json!([["id", "ASC"]]);
        let rows = self
            .search_read("sale.sale", self.ref_domain(external_ref), 0, Some(10), order, &["state"], &json!({}))
            .await?;
        if rows.len() > 1 {
            tracing::warn!(external_ref, "Tryton has more than one sale for one store order");
        }
        let state = |r: &Value| text(r, "state").unwrap_or_default();
        let Some(doc) = rows.iter().find(|r| state(r) != "cancelled").or(rows.first()) else { return Ok(None) };
        let id = row_id(doc, "sale.sale")?;
        self.advance(id, &state(doc)).await?;
        Ok(Some(ErpOrderRef {
            id: id.to_string(),
            external_ref: external_ref.to_owned(),
            cancelled: state(doc) == "cancelled",
        }))
    }

    /// Takes sale `id` from `state` to the state the settings ask for.
    async fn advance(&self, id: i64, state: &str) -> Result<()> {
        let steps: &[&str] = match (self.order_state, state) {
            (_, "draft") if self.order_state == OrderState::Quotation => &["quote"],
            (_, "draft") => &["quote", "confirm", "process"],
            (OrderState::Processing, "quotation") => &["confirm", "process"],
            (OrderState::Processing, "confirmed") => &["process"],
            _ => &[],
        };
        for step in steps {
            self.button("sale.sale", step, &[id]).await?;
        }
        Ok(())
    }

    pub(super) async fn make_order(&self, order: &Order) -> Result<ErpOrderRef> {
        order.check_total().map_err(|message| ConnectorError::Rejected { message, fields: vec![] })?;
        let whose = format!("order {}", order.number);
        let mut codes: Vec<&str> = Vec::new();
        for (i, line) in order.lines.iter().enumerate() {
            match &line.sku {
                Some(sku) => codes.push(sku),
                None => {
                    return Err(ConnectorError::Rejected {
                        message: format!(
                            "{whose} line {} ({:?}) has no SKU; give the product a SKU in the store",
                            i + 1,
                            line.title
                        ),
                        fields: vec![FieldError { field: format!("lines[{i}].sku"), message: "missing".into() }],
                    })
                }
            }
        }
        let shipping: Vec<_> = order.shipping_lines.iter().filter(|c| !c.amount.amount.is_zero()).collect();
        let taxes: Vec<_> = if order.taxes_included {
            vec![]
        } else {
            order.tax_lines.iter().filter(|t| !t.amount.amount.is_zero()).collect()
        };
        let discount = order.discount.as_ref().filter(|d| !d.amount.is_zero());
        let special = |set: &Option<String>, key: &str, what: &str, needed: bool| -> Result<Option<String>> {
            match (needed, set) {
                (false, _) => Ok(None),
                (true, Some(code)) => Ok(Some(code.clone())),
                (true, None) => Err(missing_product_setting(key, what, &whose)),
            }
        };
        let ship_code = special(&self.shipping_product, "shipping_product", "shipping", !shipping.is_empty())?;
        let tax_code = special(&self.tax_product, "tax_product", "VAT added to its prices", !taxes.is_empty())?;
        let discount_code = special(&self.discount_product, "discount_product", "a discount", discount.is_some())?;
        codes.extend([&ship_code, &tax_code, &discount_code].into_iter().flatten().map(String::as_str));
        codes.sort_unstable();
        codes.dedup();
        let products = self.products_by_code(&codes, false).await?;
        let missing: Vec<&str> = codes.iter().copied().filter(|c| !products.contains_key(*c)).collect();
        if !missing.is_empty() {
            return Err(ConnectorError::Rejected {
                message: format!(
                    "{whose}: Tryton has no active product with code {}; create it (or fix the SKU), then replay",
                    missing.join(", ")
                ),
                fields: missing
                    .iter()
                    .map(|c| FieldError { field: "sku".into(), message: format!("{c} not in Tryton") })
                    .collect(),
            });
        }
        let currency = self.currency_id(order.total.currency.code()).await?;
        let mut lines = Vec::new();
        let mut line = |code: &str, description: String, qty: i64, price: Decimal| {
            let p = products[code];
            lines.push(json!({ "type": "line", "product": p.id, "unit": p.uom, "description": description,
                "quantity": qty as f64, "unit_price": enc_decimal(price) }));
        };
        for l in &order.lines {
            line(l.sku.as_deref().unwrap_or_default(), l.title.clone(), l.quantity, l.unit_price.amount);
        }
        for (code, c) in ship_code.iter().flat_map(|code| shipping.iter().map(move |c| (code, c))) {
            line(code, format!("Shipping: {}", c.title), 1, c.amount.amount);
        }
        for (code, t) in tax_code.iter().flat_map(|code| taxes.iter().map(move |t| (code, t))) {
            line(code, t.title.clone(), 1, t.amount.amount);
        }
        if let (Some(code), Some(d)) = (&discount_code, discount) {
            line(code, "Discount".into(), 1, -d.amount);
        }
        let (party, address) = self.ensure_party(order).await?;
        let mut vals = json!({ "party": party, "invoice_address": address, "shipment_address": address,
            "currency": currency, "description": order.number,
            "sale_date": enc_date(order.created_at.date_naive()), "lines": [["create", lines]] });
        vals[self.ref_field.as_str()] = json!(order.id);
        let id = self.create("sale.sale", vals).await?;
        let read = self
            .search_read(
                "sale.sale",
                json!([["id", "=", id]]),
                0,
                Some(1),
                json!([]),
                &["total_amount", "currency.code"],
                &json!({}),
            )
            .await?;
        let doc = read.first().cloned().unwrap_or(Value::Null);
        let total = doc.get("total_amount").and_then(dec_decimal).map(|d| d.round_dp(2));
        if total != Some(order.total.amount) {
            self.button("sale.sale", "cancel", &[id]).await?;
            return Err(ConnectorError::Rejected {
                message: format!(
                    "Tryton's draft sale {id} for {whose} totals {} {} but the store's total is {}; the draft was cancelled. Check the products' taxes",
                    total.map(|t| t.to_string()).unwrap_or_else(|| "?".into()),
                    nested(&doc, "currency", "code").unwrap_or_default(),
                    order.total
                ),
                fields: vec![],
            });
        }
        self.advance(id, "draft").await?;
        Ok(ErpOrderRef { id: id.to_string(), external_ref: order.id.clone(), cancelled: false })
    }

    /// `currency.currency` id of an ISO code.
    async fn currency_id(&self, code: &str) -> Result<i64> {
        let rows = self
            .search_read(
                "currency.currency",
                json!([["code", "=", code]]),
                0,
                Some(1),
                json!([]),
                &["code"],
                &json!({}),
            )
            .await?;
        match rows.first() {
            Some(r) => row_id(r, "currency.currency"),
            None => Err(ConnectorError::Rejected {
                message: format!("Tryton has no currency {code}; add it under Currency, then replay"),
                fields: vec![],
            }),
        }
    }

    pub(super) async fn cancel(&self, id: &str) -> Result<()> {
        let id = record_id(id, "sale")?;
        let rows = self
            .search_read("sale.sale", json!([["id", "=", id]]), 0, Some(1), json!([]), &["state", "number"], &json!({}))
            .await?;
        let Some(doc) = rows.first() else {
            return Err(ConnectorError::NotFound(format!("Tryton has no sale {id}")));
        };
        match text(doc, "state").unwrap_or_default().as_str() {
            "cancelled" => Ok(()),
            "draft" | "quotation" => self.button("sale.sale", "cancel", &[id]).await.map(|_| ()),
            "confirmed" => {
                self.button("sale.sale", "draft", &[id]).await?;
                self.button("sale.sale", "cancel", &[id]).await.map(|_| ())
            }
            state => Err(ConnectorError::Rejected {
                message: format!(
                    "Tryton cannot cancel sale {} in state {state}: it already has shipments and invoices. Cancel them in Tryton and handle the sale's exceptions",
                    text(doc, "number").unwrap_or_else(|| id.to_string())
                ),
                fields: vec![],
            }),
        }
    }

    /// Sales whose `sale_date` falls on `from` to `to`.
    pub(super) async fn orders_dated(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<ErpOrderSummary>> {
        let domain = json!([["sale_date", ">=", enc_date(from)], ["sale_date", "<=", enc_date(to)]]);
        let fields = [self.ref_field.as_str(), "total_amount", "currency.code", "state"];
        let rows = self.search_read_all("sale.sale", domain, &fields, &json!({})).await?;
        rows.iter()
            .map(|r| {
                let id = row_id(r, "sale.sale")?;
                let amount = r
                    .get("total_amount")
                    .and_then(dec_decimal)
                    .ok_or_else(|| ConnectorError::Protocol(format!("Tryton sale {id} has no total_amount")))?;
                let currency = nested(r, "currency", "code").unwrap_or_default();
                let total = Money::parse(&amount.round_dp(2).to_string(), &currency)
                    .map_err(|e| ConnectorError::Protocol(format!("Tryton sale {id}: {e}")))?;
                Ok(ErpOrderSummary {
                    id: id.to_string(),
                    external_ref: text(r, &self.ref_field),
                    total,
                    cancelled: text(r, "state").as_deref() == Some("cancelled"),
                })
            })
            .collect()
    }
}
