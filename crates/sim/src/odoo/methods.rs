//! The model methods the emulator answers, as Odoo 19 runs them: the ORM's
//! `search_read`, `search`, `search_count`, `read`, `create` and `write`,
//! and the business actions `sale.order.action_confirm` /
//! `action_cancel` and `account.move.action_post`.
//!
//! Follows Odoo's source and docs:
//! - https://www.odoo.com/documentation/19.0/developer/reference/backend/orm.html
//!   (x2many commands `[0, 0, vals]`, `[6, 0, ids]`, `[5]`, `[4, id]`);
//! - `sale.order.action_cancel` shows the `sale.order.cancel` wizard for
//!   any order not in draft unless the context has `disable_cancel_warning`
//!   (sale/models/sale_order.py, `_show_cancel_wizard`); a locked order
//!   raises a UserError; private methods (`_action_cancel`) cannot be
//!   called remotely (an AccessError);
//! - `action_confirm` creates the outgoing delivery (`stock.picking`,
//!   `origin` = the order's name, `sale_id`), as sale_stock does;
//! - a line's taxes default to its product's `taxes_id` unless `tax_ids`
//!   is given (Odoo 18.1+ name, odoo/odoo#186869), so a client that does
//!   not clear them gets VAT added on top;
//! - emptying a required field is a ValidationError ("a mandatory field is
//!   not set"), posting an entry without lines a UserError.

use super::store::{comodel, model_name, Store, FIELDS};
use super::OdooError;
use chrono::Utc;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::str::FromStr;

/// The emulated database and its document sequences.
#[derive(Default)]
pub(super) struct Db {
    pub(super) store: Store,
    sequences: std::collections::HashMap<&'static str, u64>,
}

pub(super) fn now() -> String {
    Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A number Odoo sent or stored (JSON number or numeric text).
pub(super) fn number(v: Option<&Value>) -> Option<Decimal> {
    match v? {
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
        Value::String(s) => Decimal::from_str(s).ok(),
        _ => None,
    }
}

/// A decimal as the JSON float Odoo sends for Float and Monetary fields.
pub(super) fn float(d: Decimal) -> Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap_or(Value::Null)
}

/// Methods that read only: their answers are never "lost after commit".
pub(super) fn is_read(method: &str) -> bool {
    matches!(method, "search_read" | "search" | "search_count" | "read" | "fields_get" | "context_get")
}

/// Model methods (`@api.model`): called without ids.
pub(super) fn positional_names(method: &str) -> (bool, &'static [&'static str]) {
    match method {
        "search_read" => (false, &["domain", "fields", "offset", "limit", "order"]),
        "search" => (false, &["domain", "offset", "limit", "order"]),
        "search_count" => (false, &["domain", "limit"]),
        "create" => (false, &["vals_list"]),
        "read" => (true, &["fields"]),
        "write" => (true, &["vals"]),
        _ => (true, &[]),
    }
}

fn mandatory(model: &str, field: &str) -> OdooError {
    OdooError::validation(format!(
        "The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n- Delete: another model requires the record being deleted. If possible, archive it instead.\n\nModel: {model}\nField: {field}"
    ))
}

fn ids_of(v: &Value) -> Vec<i64> {
    v.as_array().into_iter().flatten().filter_map(Value::as_i64).collect()
}

impl Db {
    fn next(&mut self, series: &'static str) -> u64 {
        let n = self.sequences.entry(series).or_insert(0);
        *n += 1;
        *n
    }

    /// Applies a page trouble to a `search_read` page that should begin at
    /// `offset`: a record already served is written now (its `write_date`
    /// moves), and the page begins at `offset_start`. Returns the arguments to run.
    pub(super) fn disturb_page(
        &mut self,
        model: &str,
        kwargs: &Map<String, Value>,
        (offset, offset_start): (usize, usize),
        trouble: crate::faults::PageTrouble,
    ) -> Result<Map<String, Value>, OdooError> {
        let mut kwargs = kwargs.clone();
        kwargs.insert("offset".into(), json!(offset_start));
        let domain = kwargs.get("domain").and_then(Value::as_array).cloned().unwrap_or_default();
        let order = kwargs.get("order").and_then(Value::as_str);
        let found = self.store.search(model, &domain, order, 0, None, true)?;
        if let Some(rec) = trouble.changed(offset, found.len()).and_then(|at| self.store.get_mut(model, found[at])) {
            rec.insert("write_date".into(), json!(now()));
        }
        Ok(kwargs)
    }

    /// Runs `model.method(ids, **kwargs)`.
    pub(super) fn execute(
        &mut self,
        model: &str,
        method: &str,
        ids: &[i64],
        kwargs: &Map<String, Value>,
    ) -> Result<Value, OdooError> {
        let Some(model) = model_name(model) else {
            return Err(OdooError::not_found(format!("Model {model:?} does not exist")));
        };
        if method.starts_with('_') {
            return Err(OdooError::access(format!("Private methods (such as '{method}') cannot be called remotely.")));
        }
        let context = kwargs.get("context").and_then(Value::as_object).cloned().unwrap_or_default();
        let active_test = context.get("active_test") != Some(&Value::Bool(false));
        let domain = kwargs.get("domain").and_then(Value::as_array).cloned().unwrap_or_default();
        let fields: Vec<String> = kwargs
            .get("fields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str().map(str::to_owned))
            .collect();
        let usize_arg = |k: &str| kwargs.get(k).and_then(Value::as_u64).map(|n| n as usize);
        match method {
            "search_read" | "search" | "search_count" => {
                let order = kwargs.get("order").and_then(Value::as_str);
                let limit = if method == "search_count" { None } else { usize_arg("limit") };
                let found =
                    self.store.search(model, &domain, order, usize_arg("offset").unwrap_or(0), limit, active_test)?;
                match method {
                    "search" => Ok(json!(found)),
                    "search_count" => Ok(json!(found.len())),
                    _ => Ok(Value::Array(self.store.read(model, &found, &fields)?)),
                }
            }
            "read" => Ok(Value::Array(self.store.read(model, ids, &fields)?)),
            "create" => {
                let list = match kwargs.get("vals_list") {
                    Some(Value::Array(list)) => list.clone(),
                    Some(v @ Value::Object(_)) => vec![v.clone()],
                    _ => {
                        return Err(OdooError::type_error(
                            "create() missing 1 required positional argument: 'vals_list'",
                        ))
                    }
                };
                let mut created = Vec::new();
                for vals in &list {
                    let vals =
                        vals.as_object().ok_or_else(|| OdooError::value("create: each value must be an object"))?;
                    created.push(self.create(model, vals)?);
                }
                Ok(json!(created))
            }
            "write" => {
                let vals = kwargs
                    .get("vals")
                    .and_then(Value::as_object)
                    .ok_or_else(|| OdooError::type_error("write() missing 1 required positional argument: 'vals'"))?;
                for id in ids {
                    self.write(model, *id, vals)?;
                }
                Ok(json!(true))
            }
            "action_confirm" if model == "sale.order" => self.confirm(ids),
            "action_cancel" if model == "sale.order" => {
                self.cancel(ids, context.get("disable_cancel_warning").is_some_and(|v| v != &json!(false)))
            }
            "action_post" if model == "account.move" => self.post(ids),
            other => Err(OdooError::not_found(format!("The method '{other}' does not exist on the model '{model}'"))),
        }
    }

    fn check_fields(model: &str, vals: &Map<String, Value>) -> Result<(), OdooError> {
        let known = FIELDS.iter().find(|(m, _)| *m == model).map_or(&[][..], |(_, f)| *f);
        match vals.keys().find(|k| !known.contains(&k.as_str())) {
            Some(bad) => Err(OdooError::value(format!("Invalid field '{bad}' on model '{model}'"))),
            None => Ok(()),
        }
    }

    /// Checks many2one values point at existing records.
    fn check_links(&self, model: &str, vals: &Map<String, Value>) -> Result<(), OdooError> {
        for (field, value) in vals {
            if let (Some(co), Some(id)) = (comodel(model, field), value.as_i64()) {
                if self.store.get(co, id).is_none() {
                    return Err(OdooError::missing(co, id));
                }
            }
        }
        Ok(())
    }

    fn create(&mut self, model: &'static str, vals: &Map<String, Value>) -> Result<i64, OdooError> {
        Self::check_fields(model, vals)?;
        self.check_links(model, vals)?;
        let stamp = now();
        let mut rec: Map<String, Value> = vals.clone();
        rec.insert("create_date".into(), json!(stamp));
        rec.insert("write_date".into(), json!(stamp));
        let lines = match model {
            "res.partner" => {
                if vals.get("name").and_then(Value::as_str).is_none_or(|n| n.trim().is_empty()) {
                    return Err(mandatory("res.partner", "name"));
                }
                rec.entry("active").or_insert(json!(true));
                rec.entry("customer_rank").or_insert(json!(0));
                None
            }
            "sale.order" => {
                if vals.get("partner_id").and_then(Value::as_i64).is_none() {
                    return Err(mandatory("sale.order", "partner_id"));
                }
                let n = self.next("sale.order");
                rec.insert("name".into(), json!(format!("S{n:05}")));
                rec.insert("state".into(), json!("draft"));
                rec.insert("locked".into(), json!(false));
                rec.entry("date_order").or_insert(json!(stamp));
                rec.entry("currency_id").or_insert(json!(1));
                rec.remove("order_line").map(|l| ("sale.order.line", "order_id", l))
            }
            "account.move" => {
                rec.entry("move_type").or_insert(json!("entry"));
                rec.insert("name".into(), json!("/"));
                rec.insert("state".into(), json!("draft"));
                rec.entry("currency_id").or_insert(json!(1));
                rec.remove("invoice_line_ids").map(|l| ("account.move.line", "move_id", l))
            }
            "sale.order.line" | "account.move.line" => {
                let product = vals
                    .get("product_id")
                    .and_then(Value::as_i64)
                    .and_then(|p| self.store.get("product.product", p))
                    .cloned();
                if model == "sale.order.line" && product.is_none() {
                    return Err(mandatory(model, "product_id"));
                }
                let qty_field = if model == "sale.order.line" { "product_uom_qty" } else { "quantity" };
                rec.entry(qty_field).or_insert(json!(1));
                if let Some(p) = &product {
                    rec.entry("price_unit").or_insert(p.get("lst_price").cloned().unwrap_or(json!(0)));
                    rec.entry("name").or_insert(p.get("name").cloned().unwrap_or(Value::Bool(false)));
                }
                let taxes = match vals.get("tax_ids") {
                    Some(cmds) => apply_many2many(vec![], cmds)?,
                    None => {
                        product.as_ref().map(|p| ids_of(p.get("taxes_id").unwrap_or(&Value::Null))).unwrap_or_default()
                    }
                };
                rec.insert("tax_ids".into(), json!(taxes));
                None
            }
            _ => None,
        };
        let id = self.store.insert(model, rec);
        if let Some((line_model, parent_field, commands)) = lines {
            for cmd in commands.as_array().into_iter().flatten() {
                match cmd.as_array().map(Vec::as_slice) {
                    Some([code, _, Value::Object(line)]) if code.as_i64() == Some(0) => {
                        let mut line = line.clone();
                        line.insert(parent_field.into(), json!(id));
                        self.create(line_model, &line)?;
                    }
                    _ => return Err(OdooError::value(format!("Unsupported command {cmd} for {line_model}"))),
                }
            }
            self.compute_totals(model, id);
        }
        Ok(id)
    }

    fn write(&mut self, model: &str, id: i64, vals: &Map<String, Value>) -> Result<(), OdooError> {
        Self::check_fields(model, vals)?;
        self.check_links(model, vals)?;
        if self.store.get(model, id).is_none() {
            return Err(OdooError::missing(model, id));
        }
        if model == "product.product"
            && vals.get("name").is_some_and(|n| n.as_str().is_none_or(|s| s.trim().is_empty()))
        {
            return Err(mandatory("product.template", "name"));
        }
        let stamp = now();
        let Some(rec) = self.store.get_mut(model, id) else { return Err(OdooError::missing(model, id)) };
        for (k, v) in vals {
            let v = if k == "tax_ids" || k == "taxes_id" {
                json!(apply_many2many(ids_of(rec.get(k).unwrap_or(&Value::Null)), v)?)
            } else {
                v.clone()
            };
            rec.insert(k.clone(), v);
        }
        rec.insert("write_date".into(), json!(stamp));
        Ok(())
    }

    /// Amounts of an order or a journal entry, rounded per line as Odoo's
    /// default "round per line" tax setting does.
    fn compute_totals(&mut self, model: &str, id: i64) {
        let (line_model, parent, qty_field) = match model {
            "sale.order" => ("sale.order.line", "order_id", "product_uom_qty"),
            _ => ("account.move.line", "move_id", "quantity"),
        };
        let line_ids: Vec<i64> = self
            .store
            .all(line_model)
            .iter()
            .filter(|l| l.get(parent).and_then(Value::as_i64) == Some(id))
            .filter_map(|l| l.get("id").and_then(Value::as_i64))
            .collect();
        let (mut untaxed, mut tax_total) = (Decimal::ZERO, Decimal::ZERO);
        for lid in line_ids {
            let Some(line) = self.store.get(line_model, lid) else { continue };
            let qty = number(line.get(qty_field)).unwrap_or_default();
            let subtotal = (qty * number(line.get("price_unit")).unwrap_or_default()).round_dp(2);
            let tax: Decimal = ids_of(line.get("tax_ids").unwrap_or(&Value::Null))
                .iter()
                .filter_map(|t| self.store.get("account.tax", *t))
                .map(|t| (subtotal * number(t.get("amount")).unwrap_or_default() / Decimal::from(100)).round_dp(2))
                .sum();
            if let Some(line) = self.store.get_mut(line_model, lid) {
                line.insert("price_subtotal".into(), float(subtotal));
                line.insert("price_total".into(), float(subtotal + tax));
            }
            untaxed += subtotal;
            tax_total += tax;
        }
        if let Some(doc) = self.store.get_mut(model, id) {
            doc.insert("amount_untaxed".into(), float(untaxed));
            doc.insert("amount_tax".into(), float(tax_total));
            doc.insert("amount_total".into(), float(untaxed + tax_total));
        }
    }

    fn confirm(&mut self, ids: &[i64]) -> Result<Value, OdooError> {
        let mut not_ready = Vec::new();
        for id in ids {
            let so = self.store.get("sale.order", *id).ok_or_else(|| OdooError::missing("sale.order", *id))?;
            if !matches!(so.get("state").and_then(Value::as_str), Some("draft" | "sent")) {
                not_ready.push(so.get("name").and_then(Value::as_str).unwrap_or_default().to_owned());
            }
        }
        if !not_ready.is_empty() {
            return Err(OdooError::user(format!(
                "The following orders are not in a state requiring confirmation: {}",
                not_ready.join(", ")
            )));
        }
        for id in ids {
            let stamp = now();
            let weight: Decimal = self
                .store
                .all("sale.order.line")
                .iter()
                .filter(|l| l.get("order_id").and_then(Value::as_i64) == Some(*id))
                .filter_map(|l| {
                    let p = self.store.get("product.product", l.get("product_id")?.as_i64()?)?;
                    (p.get("type").and_then(Value::as_str) != Some("service")).then(|| {
                        number(l.get("product_uom_qty")).unwrap_or_default()
                            * number(p.get("weight")).unwrap_or_default()
                    })
                })
                .sum();
            let Some(so) = self.store.get_mut("sale.order", *id) else { continue };
            so.insert("state".into(), json!("sale"));
            so.insert("write_date".into(), json!(stamp));
            let (origin, partner) = (so.get("name").cloned(), so.get("partner_id").cloned());
            let n = self.next("stock.picking");
            let picking = json!({ "name": format!("WH/OUT/{n:05}"), "origin": origin, "sale_id": id, "partner_id": partner,
                "picking_type_code": "outgoing", "state": "confirmed", "carrier_tracking_ref": false, "carrier_id": false,
                "location_id": 1, "weight": float(weight), "shipping_weight": 0.0, "note": false,
                "create_date": stamp, "write_date": stamp });
            self.store.insert("stock.picking", picking.as_object().cloned().unwrap_or_default());
        }
        Ok(json!(true))
    }

    fn cancel(&mut self, ids: &[i64], no_wizard: bool) -> Result<Value, OdooError> {
        let mut needs_wizard = false;
        for id in ids {
            let so = self.store.get("sale.order", *id).ok_or_else(|| OdooError::missing("sale.order", *id))?;
            if so.get("locked") == Some(&json!(true)) {
                return Err(OdooError::user(
                    "You cannot cancel a locked order. Please unlock it first if you want to cancel it.",
                ));
            }
            needs_wizard |= so.get("state").and_then(Value::as_str) != Some("draft");
        }
        if needs_wizard && !no_wizard {
            // What the web client opens: nothing is cancelled yet.
            return Ok(
                json!({ "name": "Cancel Sales Order", "type": "ir.actions.act_window", "res_model": "sale.order.cancel",
                "view_mode": "form", "target": "new", "context": { "default_order_id": ids.first() } }),
            );
        }
        let stamp = now();
        for id in ids {
            if let Some(so) = self.store.get_mut("sale.order", *id) {
                so.insert("state".into(), json!("cancel"));
                so.insert("write_date".into(), json!(stamp));
            }
            let pickings: Vec<i64> = self
                .store
                .all("stock.picking")
                .iter()
                .filter(|p| {
                    p.get("sale_id").and_then(Value::as_i64) == Some(*id) && p.get("state") != Some(&json!("done"))
                })
                .filter_map(|p| p.get("id").and_then(Value::as_i64))
                .collect();
            for p in pickings {
                if let Some(p) = self.store.get_mut("stock.picking", p) {
                    p.insert("state".into(), json!("cancel"));
                    p.insert("write_date".into(), json!(stamp));
                }
            }
        }
        Ok(json!(true))
    }

    fn post(&mut self, ids: &[i64]) -> Result<Value, OdooError> {
        for id in ids {
            let mv = self.store.get("account.move", *id).ok_or_else(|| OdooError::missing("account.move", *id))?;
            let name = mv.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
            if mv.get("state") == Some(&json!("posted")) {
                return Err(OdooError::user(format!("The entry {name} (id {id}) is already posted.")));
            }
            let has_lines = self
                .store
                .all("account.move.line")
                .iter()
                .any(|l| l.get("move_id").and_then(Value::as_i64) == Some(*id));
            if !has_lines {
                return Err(OdooError::user("You need to add a line before posting."));
            }
            let prefix = match mv.get("move_type").and_then(Value::as_str) {
                Some("out_refund") => "RINV",
                Some("out_invoice") => "INV",
                _ => "MISC",
            };
            let n = self.next("account.move");
            let stamp = now();
            if let Some(mv) = self.store.get_mut("account.move", *id) {
                mv.insert("name".into(), json!(format!("{prefix}/{}/{n:05}", &stamp[..4])));
                mv.insert("state".into(), json!("posted"));
                mv.insert("write_date".into(), json!(stamp));
            }
        }
        Ok(json!(false))
    }
}

/// Applies x2many commands to the ids a many2many holds.
fn apply_many2many(mut ids: Vec<i64>, commands: &Value) -> Result<Vec<i64>, OdooError> {
    for cmd in commands.as_array().into_iter().flatten() {
        match cmd.as_array().map(Vec::as_slice) {
            Some([code, ..]) if code.as_i64() == Some(5) => ids.clear(),
            Some([code, _, list]) if code.as_i64() == Some(6) => ids = ids_of(list),
            Some([code, id, ..]) if code.as_i64() == Some(4) => {
                if let Some(id) = id.as_i64().filter(|i| !ids.contains(i)) {
                    ids.push(id);
                }
            }
            Some([code, id, ..]) if code.as_i64() == Some(3) => ids.retain(|i| Some(*i) != id.as_i64()),
            _ => return Err(OdooError::value(format!("Unsupported many2many command {cmd}"))),
        }
    }
    Ok(ids)
}
