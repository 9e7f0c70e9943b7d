//! Sales orders: find by the store order id, create and confirm, cancel,
//! list by date.
//!
//! How the total is kept to the cent: every line Ferry writes has its
//! taxes cleared (`tax_ids: [[6, 0, []]]`; Odoo would otherwise add the
//! product's default VAT on top), and what the store charged beyond the
//! goods becomes lines on service products: shipping on `shipping_product`,
//! VAT the store added on top (prices without tax) on `tax_product`, the
//! discount as a negative line on `discount_product`. The order's
//! `amount_total` is then the sum of the store's own numbers — no tax is
//! recomputed with other rounding. The cost: Odoo's tax report does not
//! see that VAT as a tax; book the tax product to the VAT account.
//! `amount_total` is checked after create; the draft is cancelled and the
//! order Rejected when it differs.
//!
//! `sale.order.action_cancel` opens the `sale.order.cancel` wizard for a
//! confirmed order unless the context has `disable_cancel_warning`
//! (sale/models/sale_order.py `_show_cancel_wizard`); `_action_cancel` is
//! private and cannot be called remotely, so Ferry sends that key.

use super::{decimal, many2one_name, missing_product_setting, number, odoo_time_text, record_id, row_id, text, Odoo};
use crate::Result;
use chrono::NaiveDate;
use ferry_domain::{ConnectorError, ErpOrderRef, ErpOrderSummary, FieldError, Money, Order};
use serde_json::{json, Value};

impl Odoo {
    /// The sales order carrying `external_ref`, a live one before a
    /// cancelled one. A draft is one whose create answered but whose
    /// confirmation never ran (a lost answer): it is confirmed now.
    pub(super) async fn order_for(&self, external_ref: &str) -> Result<Option<ErpOrderRef>> {
        let rows = self
            .search_read(
                "sale.order",
                json!([[self.ref_field, "=", external_ref]]),
                &["name", "state"],
                json!({ "order": "id asc", "limit": 10 }),
            )
            .await?;
        if rows.len() > 1 {
            tracing::warn!(external_ref, "Odoo has more than one sales order for one store order");
        }
        let state = |r: &Value| text(r, "state").unwrap_or_default();
        let Some(doc) = rows.iter().find(|r| state(r) != "cancel").or(rows.first()) else { return Ok(None) };
        let id = row_id(doc, "sale.order")?;
        if matches!(state(doc).as_str(), "draft" | "sent") {
            self.call("sale.order", "action_confirm", Some(&[id]), json!({})).await?;
        }
        Ok(Some(ErpOrderRef {
            id: id.to_string(),
            external_ref: external_ref.to_owned(),
            cancelled: state(doc) == "cancel",
        }))
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
        let products = self.product_ids(&codes, false).await?;
        let missing: Vec<&str> = codes.iter().copied().filter(|c| !products.contains_key(*c)).collect();
        if !missing.is_empty() {
            return Err(ConnectorError::Rejected {
                message: format!(
                    "{whose}: Odoo has no active product with Internal Reference {}; create it (or fix the SKU), then replay",
                    missing.join(", ")
                ),
                fields: missing.iter().map(|c| FieldError { field: "sku".into(), message: format!("{c} not in Odoo") }).collect(),
            });
        }
        let product = |code: &str| products.get(code).copied().unwrap_or_default();
        let mut lines = Vec::new();
        let mut line = |code: &str, name: String, qty: Value, price: Value| {
            let mut l =
                json!({ "product_id": product(code), "name": name, "product_uom_qty": qty, "price_unit": price });
            l[self.line_tax_field.as_str()] = json!([[6, 0, []]]);
            lines.push(json!([0, 0, l]));
        };
        for l in &order.lines {
            let sku = l.sku.as_deref().unwrap_or_default();
            line(sku, l.title.clone(), json!(l.quantity), number(l.unit_price.amount));
        }
        for (code, c) in ship_code.iter().flat_map(|code| shipping.iter().map(move |c| (code, c))) {
            line(code, format!("Shipping: {}", c.title), json!(1), number(c.amount.amount));
        }
        for (code, t) in tax_code.iter().flat_map(|code| taxes.iter().map(move |t| (code, t))) {
            line(code, t.title.clone(), json!(1), number(t.amount.amount));
        }
        if let (Some(code), Some(d)) = (&discount_code, discount) {
            line(code, "Discount".into(), json!(1), number(-d.amount));
        }
        let partner = self.ensure_partner(order).await?;
        let mut vals = json!({ "partner_id": partner, "origin": order.number,
            "date_order": odoo_time_text(order.created_at), "order_line": lines });
        vals[self.ref_field.as_str()] = json!(order.id);
        let id = self.create("sale.order", vals).await?;
        let read = self
            .call("sale.order", "read", Some(&[id]), json!({ "fields": ["amount_total", "currency_id", "name"] }))
            .await?;
        let doc = read.get(0).cloned().unwrap_or(Value::Null);
        let total = decimal(&doc, "amount_total").map(|d| d.round_dp(2));
        let currency = many2one_name(&doc, "currency_id");
        if total != Some(order.total.amount) || currency.as_deref().is_some_and(|c| c != order.total.currency.code()) {
            let ctx = json!({ "context": { "disable_cancel_warning": true } });
            self.call("sale.order", "action_cancel", Some(&[id]), ctx).await?;
            return Err(ConnectorError::Rejected {
                message: format!(
                    "Odoo's draft {} for {whose} totals {} {} but the store's total is {}; the draft was cancelled. Check the sales pricelist's currency and the products' taxes",
                    text(&doc, "name").unwrap_or_default(),
                    total.map(|t| t.to_string()).unwrap_or_else(|| "?".into()),
                    currency.unwrap_or_default(),
                    order.total
                ),
                fields: vec![],
            });
        }
        self.call("sale.order", "action_confirm", Some(&[id]), json!({})).await?;
        Ok(ErpOrderRef { id: id.to_string(), external_ref: order.id.clone(), cancelled: false })
    }

    pub(super) async fn cancel(&self, id: &str) -> Result<()> {
        let id = record_id(id, "sales order")?;
        let rows = self.search_read("sale.order", json!([["id", "=", id]]), &["name", "state"], json!({})).await?;
        let Some(doc) = rows.first() else {
            return Err(ConnectorError::NotFound(format!("Odoo has no sales order {id}")));
        };
        if text(doc, "state").as_deref() == Some("cancel") {
            return Ok(());
        }
        let ctx = json!({ "context": { "disable_cancel_warning": true } });
        let answer = self.call("sale.order", "action_cancel", Some(&[id]), ctx).await?;
        if let Some(wizard) = answer.get("res_model").and_then(Value::as_str) {
            return Err(ConnectorError::Rejected {
                message: format!(
                    "Odoo asks a person to confirm cancelling {} (wizard {wizard}); cancel it in Odoo",
                    text(doc, "name").unwrap_or_default()
                ),
                fields: vec![],
            });
        }
        Ok(())
    }

    /// Finds the order's contact: by email, then by name and postcode;
    /// creates it (as a customer) when neither matches.
    async fn ensure_partner(&self, order: &Order) -> Result<i64> {
        let _one_at_a_time = self.partner_lock.lock().await;
        let name = order.customer.display_name();
        let address = order.shipping_address.as_ref().or(order.customer.addresses.first());
        let postcode = address.and_then(|a| a.postcode.as_deref()).filter(|p| !p.trim().is_empty());
        let domain = match (&order.customer.email, postcode) {
            (Some(email), _) => json!([["email", "=ilike", email]]),
            (None, Some(zip)) => json!([["name", "=", name], ["zip", "=", zip]]),
            (None, None) => json!([["name", "=", name]]),
        };
        let found =
            self.search_read("res.partner", domain, &["name"], json!({ "limit": 1, "order": "id asc" })).await?;
        if let Some(p) = found.first() {
            return row_id(p, "res.partner");
        }
        if let (Some(_), Some(zip)) = (&order.customer.email, postcode) {
            // The same person may have ordered before without an email.
            let domain = json!([["name", "=", name], ["zip", "=", zip], ["email", "=", false]]);
            let found = self.search_read("res.partner", domain, &["name"], json!({ "limit": 1 })).await?;
            if let Some(p) = found.first() {
                let id = row_id(p, "res.partner")?;
                self.write("res.partner", id, json!({ "email": order.customer.email })).await?;
                return Ok(id);
            }
        }
        let mut vals = json!({ "name": name, "email": order.customer.email, "customer_rank": 1,
            "phone": order.customer.phone.clone().or_else(|| address.and_then(|a| a.phone.clone())) });
        if let Some(a) = address {
            vals["street"] = json!(a.line1);
            vals["street2"] = json!(a.line2);
            vals["city"] = json!(a.city);
            vals["zip"] = json!(a.postcode);
            if let Some(country) = a.country.as_deref() {
                if let Some(id) = self.country_id(country).await? {
                    vals["country_id"] = json!(id);
                }
            }
        }
        self.create("res.partner", vals).await
    }

    /// `res.country` id of an ISO code, if Odoo knows it.
    pub(super) async fn country_id(&self, code: &str) -> Result<Option<i64>> {
        let rows = self
            .search_read("res.country", json!([["code", "=ilike", code]]), &["code"], json!({ "limit": 1 }))
            .await?;
        rows.first().map(|r| row_id(r, "res.country")).transpose()
    }

    /// Orders whose `date_order` (UTC) falls on `from` to `to`.
    pub(super) async fn orders_dated(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<ErpOrderSummary>> {
        let domain =
            json!([["date_order", ">=", format!("{from} 00:00:00")], ["date_order", "<=", format!("{to} 23:59:59")]]);
        let fields = ["name", self.ref_field.as_str(), "amount_total", "currency_id", "state"];
        let rows = self.search_read_all("sale.order", domain, &fields, json!({})).await?;
        rows.iter()
            .map(|r| {
                let id = row_id(r, "sale.order")?;
                let amount = decimal(r, "amount_total")
                    .ok_or_else(|| ConnectorError::Protocol(format!("Odoo sale.order {id} has no amount_total")))?;
                let currency = many2one_name(r, "currency_id").unwrap_or_default();
                let total = Money::parse(&amount.round_dp(2).to_string(), &currency)
                    .map_err(|e| ConnectorError::Protocol(format!("Odoo sale.order {id}: {e}")))?;
                Ok(ErpOrderSummary {
                    id: id.to_string(),
                    external_ref: text(r, &self.ref_field),
                    total,
                    cancelled: text(r, "state").as_deref() == Some("cancel"),
                })
            })
            .collect()
    }
}
