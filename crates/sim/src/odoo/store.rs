//! The emulated database: records per model, Odoo's domain language
//! (prefix `&` / `|` / `!` over `[path, operator, value]` leaves, dotted
//! paths through many2one fields), `order` clauses and `read`'s rendering
//! of relational fields (`[id, display_name]` for a many2one).
//!
//! Follows https://www.odoo.com/documentation/19.0/developer/reference/backend/orm.html
//! (Search domains, `search_read`, `read`, the `active_test` context key).

use super::OdooError;
use serde_json::{json, Map, Value};
use std::cmp::Ordering;
use std::collections::HashMap;

pub(super) type Record = Map<String, Value>;

/// Every model's records, in creation order, and each model's next id.
#[derive(Default)]
pub(super) struct Store {
    models: HashMap<&'static str, Vec<Record>>,
    next_id: HashMap<&'static str, i64>,
}

/// (model, many2one field, comodel) of the emulated schema.
const MANY2ONE: &[(&str, &str, &str)] = &[
    ("res.partner", "country_id", "res.country"),
    ("sale.order", "partner_id", "res.partner"),
    ("sale.order", "currency_id", "res.currency"),
    ("sale.order.line", "order_id", "sale.order"),
    ("sale.order.line", "product_id", "product.product"),
    ("stock.quant", "product_id", "product.product"),
    ("stock.quant", "location_id", "stock.location"),
    ("stock.picking", "partner_id", "res.partner"),
    ("stock.picking", "sale_id", "sale.order"),
    ("stock.picking", "carrier_id", "delivery.carrier"),
    ("stock.picking", "location_id", "stock.location"),
    ("product.product", "currency_id", "res.currency"),
    ("account.move", "partner_id", "res.partner"),
    ("account.move", "currency_id", "res.currency"),
    ("account.move.line", "move_id", "account.move"),
    ("account.move.line", "product_id", "product.product"),
];

/// The models this emulator knows and the fields each accepts on create and write.
pub(super) const FIELDS: &[(&str, &[&str])] = &[
    (
        "res.partner",
        &[
            "name",
            "email",
            "phone",
            "street",
            "street2",
            "city",
            "zip",
            "country_id",
            "customer_rank",
            "active",
            "comment",
        ],
    ),
    ("res.country", &["name", "code"]),
    ("res.currency", &["name"]),
    ("account.tax", &["name", "amount", "price_include"]),
    ("product.product", &["name", "default_code", "lst_price", "active", "taxes_id", "weight", "type", "sale_ok"]),
    ("stock.location", &["name", "complete_name", "usage"]),
    ("delivery.carrier", &["name"]),
    ("sale.order", &["partner_id", "client_order_ref", "origin", "date_order", "order_line", "note", "currency_id"]),
    ("sale.order.line", &["order_id", "product_id", "name", "product_uom_qty", "price_unit", "tax_ids", "sequence"]),
    ("stock.quant", &["product_id", "location_id", "quantity", "reserved_quantity"]),
    ("stock.picking", &["carrier_tracking_ref", "carrier_id", "note"]),
    (
        "account.move",
        &[
            "move_type",
            "partner_id",
            "ref",
            "invoice_origin",
            "invoice_date",
            "narration",
            "invoice_line_ids",
            "currency_id",
        ],
    ),
    ("account.move.line", &["move_id", "product_id", "name", "quantity", "price_unit", "tax_ids"]),
];

pub(super) fn comodel(model: &str, field: &str) -> Option<&'static str> {
    MANY2ONE.iter().find(|(m, f, _)| *m == model && *f == field).map(|(_, _, c)| *c)
}

pub(super) fn model_name(model: &str) -> Option<&'static str> {
    FIELDS.iter().map(|(m, _)| *m).find(|m| *m == model)
}

/// Odoo's false-y "no value": JSON false, null or a missing key.
fn is_unset(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Null) | Some(Value::Bool(false)))
}

impl Store {
    pub(super) fn insert(&mut self, model: &'static str, mut record: Record) -> i64 {
        let next = self.next_id.entry(model).or_insert(1);
        let id = *next;
        *next += 1;
        record.insert("id".into(), json!(id));
        self.models.entry(model).or_default().push(record);
        id
    }

    pub(super) fn all(&self, model: &str) -> &[Record] {
        self.models.get(model).map_or(&[], Vec::as_slice)
    }

    pub(super) fn get(&self, model: &str, id: i64) -> Option<&Record> {
        self.all(model).iter().find(|r| r.get("id").and_then(Value::as_i64) == Some(id))
    }

    pub(super) fn get_mut(&mut self, model: &str, id: i64) -> Option<&mut Record> {
        self.models.get_mut(model)?.iter_mut().find(|r| r.get("id").and_then(Value::as_i64) == Some(id))
    }

    /// The name `read` shows for a record of `model`.
    pub(super) fn display_name(&self, model: &str, id: i64) -> String {
        let Some(r) = self.get(model, id) else { return String::new() };
        let text = |f: &str| r.get(f).and_then(Value::as_str).unwrap_or_default().to_owned();
        match model {
            "product.product" => match r.get("default_code").and_then(Value::as_str) {
                Some(code) => format!("[{code}] {}", text("name")),
                None => text("name"),
            },
            "stock.location" => text("complete_name"),
            _ => text("name"),
        }
    }

    /// The values at `path` (dotted through many2one fields) of `record`.
    fn resolve(&self, model: &str, record: &Record, path: &str) -> Value {
        let (head, rest) = match path.split_once('.') {
            Some((h, r)) => (h, Some(r)),
            None => (path, None),
        };
        let value = record.get(head).cloned().unwrap_or(Value::Bool(false));
        match (rest, comodel(model, head)) {
            (None, _) => value,
            (Some(rest), Some(co)) => match value.as_i64().and_then(|id| self.get(co, id)) {
                Some(related) => self.resolve(co, related, rest),
                None => Value::Bool(false),
            },
            (Some(_), None) => Value::Bool(false),
        }
    }

    /// Whether `record` satisfies `domain` (prefix notation, implicit `&`).
    pub(super) fn matches(&self, model: &str, record: &Record, domain: &[Value]) -> Result<bool, OdooError> {
        let mut stack: Vec<bool> = Vec::new();
        for term in domain.iter().rev() {
            match term {
                Value::String(op) if op == "&" || op == "|" => {
                    let (Some(a), Some(b)) = (stack.pop(), stack.pop()) else {
                        return Err(OdooError::value(format!("Invalid domain: {op} needs two operands")));
                    };
                    stack.push(if op == "&" { a && b } else { a || b });
                }
                Value::String(op) if op == "!" => {
                    let a = stack.pop().ok_or_else(|| OdooError::value("Invalid domain: ! needs an operand"))?;
                    stack.push(!a);
                }
                Value::Array(leaf) if leaf.len() == 3 => {
                    let (Some(path), Some(op)) = (leaf[0].as_str(), leaf[1].as_str()) else {
                        return Err(OdooError::value(format!("Invalid leaf {term}")));
                    };
                    let lhs = self.resolve(model, record, path);
                    stack.push(compare(&lhs, op, &leaf[2])?);
                }
                other => return Err(OdooError::value(format!("Invalid leaf {other}"))),
            }
        }
        Ok(stack.into_iter().all(|b| b))
    }

    /// `search`: ids of matching records in `order`, after `offset`, at most `limit`.
    pub(super) fn search(
        &self,
        model: &str,
        domain: &[Value],
        order: Option<&str>,
        offset: usize,
        limit: Option<usize>,
        active_test: bool,
    ) -> Result<Vec<i64>, OdooError> {
        let mentions_active = domain.iter().any(|t| t.get(0).and_then(Value::as_str) == Some("active"));
        let mut hits = Vec::new();
        for r in self.all(model) {
            if active_test && !mentions_active && r.get("active") == Some(&Value::Bool(false)) {
                continue;
            }
            if self.matches(model, r, domain)? {
                hits.push(r);
            }
        }
        let keys = parse_order(order.unwrap_or("id asc"))?;
        hits.sort_by(|a, b| {
            for (field, desc) in &keys {
                let ord = order_values(a.get(field.as_str()), b.get(field.as_str()));
                let ord = if *desc { ord.reverse() } else { ord };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            Ordering::Equal
        });
        Ok(hits
            .into_iter()
            .skip(offset)
            .take(limit.unwrap_or(usize::MAX))
            .filter_map(|r| r.get("id").and_then(Value::as_i64))
            .collect())
    }

    /// `read`: `fields` (all when empty) of each record, many2one as `[id, name]`.
    pub(super) fn read(&self, model: &str, ids: &[i64], fields: &[String]) -> Result<Vec<Value>, OdooError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let record = self.get(model, *id).ok_or_else(|| OdooError::missing(model, *id))?;
            let names: Vec<String> = if fields.is_empty() { record.keys().cloned().collect() } else { fields.to_vec() };
            let mut row = Map::new();
            row.insert("id".into(), json!(id));
            for f in names {
                let v = record.get(&f).cloned().unwrap_or(Value::Bool(false));
                let v = match (comodel(model, &f), v.as_i64()) {
                    (Some(co), Some(rel)) => json!([rel, self.display_name(co, rel)]),
                    _ => v,
                };
                row.insert(f, v);
            }
            out.push(Value::Object(row));
        }
        Ok(out)
    }
}

/// One leaf: `lhs op rhs`, with Odoo's `False` matching an unset value.
fn compare(lhs: &Value, op: &str, rhs: &Value) -> Result<bool, OdooError> {
    let text = |v: &Value| v.as_str().map(str::to_lowercase);
    Ok(match op {
        "=" => loose_eq(lhs, rhs),
        "!=" => !loose_eq(lhs, rhs),
        ">" | ">=" | "<" | "<=" => match order_of(lhs, rhs) {
            None => false,
            Some(o) => match op {
                ">" => o == Ordering::Greater,
                ">=" => o != Ordering::Less,
                "<" => o == Ordering::Less,
                _ => o != Ordering::Greater,
            },
        },
        "in" | "not in" => {
            let Value::Array(options) = rhs else {
                return Err(OdooError::value(format!("Invalid leaf: {op} needs a list, got {rhs}")));
            };
            options.iter().any(|o| loose_eq(lhs, o)) == (op == "in")
        }
        "ilike" | "not ilike" => {
            let needle = text(rhs).unwrap_or_default().replace('%', "");
            text(lhs).is_some_and(|h| h.contains(&needle)) == (op == "ilike")
        }
        "=ilike" => match (text(lhs), text(rhs)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        "like" => match (lhs.as_str(), rhs.as_str()) {
            (Some(a), Some(b)) => a.contains(&b.replace('%', "")),
            _ => false,
        },
        other => return Err(OdooError::value(format!("Invalid leaf: unknown operator {other:?}"))),
    })
}

fn loose_eq(lhs: &Value, rhs: &Value) -> bool {
    if is_unset(Some(rhs)) && !matches!(lhs, Value::Bool(true)) {
        return is_unset(Some(lhs)) || lhs.as_str() == Some("");
    }
    match (lhs, rhs) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => lhs == rhs,
    }
}

fn order_of(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Sort order with unset values last, as PostgreSQL's default for `ASC`.
fn order_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (is_unset(a), is_unset(b)) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => match (a, b) {
            (Some(x), Some(y)) => order_of(x, y).unwrap_or(Ordering::Equal),
            _ => Ordering::Equal,
        },
    }
}

/// `"write_date asc, id desc"` → [(field, descending)].
fn parse_order(order: &str) -> Result<Vec<(String, bool)>, OdooError> {
    order
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|part| {
            let mut words = part.split_whitespace();
            let field = words.next().unwrap_or_default();
            let desc = match words.next().map(str::to_lowercase).as_deref() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(other) => return Err(OdooError::value(format!("Invalid \"order\" specified ({other})"))),
            };
            if !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(OdooError::value(format!("Invalid \"order\" specified ({part})")));
            }
            Ok((field.to_owned(), desc))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        let mut s = Store::default();
        let de = s
            .insert("res.country", json!({ "name": "Germany", "code": "DE" }).as_object().cloned().unwrap_or_default());
        for (name, zip, date) in [("Ada", "10115", "2026-11-26 10:00:00"), ("Alan", "20095", "2026-11-26 11:00:00")] {
            let r = json!({ "name": name, "zip": zip, "country_id": de, "write_date": date, "email": false });
            s.insert("res.partner", r.as_object().cloned().unwrap_or_default());
        }
        s
    }

    #[test]
    fn domains_in_prefix_notation_with_dotted_paths() {
        let s = store();
        let ids = |d: Value| s.search("res.partner", d.as_array().map_or(&[][..], Vec::as_slice), None, 0, None, true);
        assert_eq!(ids(json!([])).ok(), Some(vec![1, 2]));
        assert_eq!(ids(json!([["write_date", ">=", "2026-11-26 10:30:00"]])).ok(), Some(vec![2]));
        assert_eq!(ids(json!(["|", ["name", "=", "Ada"], ["zip", "=", "20095"]])).ok(), Some(vec![1, 2]));
        assert_eq!(ids(json!(["!", ["name", "ilike", "ad"]])).ok(), Some(vec![2]), "ilike ignores case");
        assert_eq!(ids(json!([["country_id.code", "=", "DE"], ["name", "in", ["Alan"]]])).ok(), Some(vec![2]));
        assert_eq!(ids(json!([["email", "=", false]])).ok(), Some(vec![1, 2]), "False matches an unset field");
        assert!(ids(json!([["name", "~", "x"]])).is_err(), "an unknown operator is an error, not a match");
        let desc = s.search("res.partner", &[], Some("write_date desc, id asc"), 1, Some(5), true);
        assert_eq!(desc.ok(), Some(vec![1]), "ordered, then offset");
    }

    #[test]
    fn read_renders_many2one_as_id_and_name() {
        let s = store();
        let rows = s.read("res.partner", &[1], &["country_id".into(), "name".into()]).unwrap_or_default();
        assert_eq!(rows, vec![json!({ "id": 1, "country_id": [1, "Germany"], "name": "Ada" })]);
        assert!(s.read("res.partner", &[9], &[]).is_err(), "a missing record is a MissingError");
    }
}
