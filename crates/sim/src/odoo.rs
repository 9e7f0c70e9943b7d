//! Odoo 19 emulator: the external JSON-2 API (`POST /json/2/<model>/<method>`)
//! and the legacy JSON-RPC API (`POST /jsonrpc`, services `common` and
//! `object`), over one small in-memory database of the models Ferry uses.
//!
//! Follows the vendor's docs:
//! - https://www.odoo.com/documentation/19.0/developer/reference/external_api.html —
//!   JSON-2: `Authorization: bearer <API key>`, `X-Odoo-Database`, a JSON
//!   object of named arguments plus `ids` and `context`; success is 200 with
//!   the method's return value; errors are 4xx/5xx with `{name, message,
//!   arguments, context, debug}` (401 `werkzeug.exceptions.Unauthorized`
//!   "Invalid apikey"). UserError and its subclasses answer 422, AccessError
//!   and AccessDenied 403, MissingError 404 (`http_status` in
//!   odoo/exceptions.py, used by `Json2Dispatcher.handle_error`); anything
//!   else 500;
//! - the same page's "Migrating from XML-RPC / JSON-RPC" and
//!   https://www.odoo.com/documentation/17.0/developer/reference/external_api.html —
//!   `common.authenticate(db, login, password, {})` / `login` answer the uid
//!   (or false), `object.execute_kw(db, uid, password, model, method, args,
//!   kwargs)`; JSON-RPC errors come inside HTTP 200 as `{"error": {"code":
//!   200, "message": "Odoo Server Error", "data": {name, message, arguments,
//!   debug, context}}}`.
//!
//! The data: products from `seed::catalog` (plus service products for
//! shipping, VAT, discounts and refunds), every product taxed 19% on top by
//! default, stock in `WH/Stock` (internal) and some at a customer location,
//! and what clients create. See `methods.rs` for the business rules.

// Handlers return ready-made Odoo error responses as their `Err`.
#![allow(clippy::result_large_err)]

mod http;
mod methods;
mod store;

pub use http::{router, RunningOdoo};

use crate::seed::SeedProduct;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Duration;
use methods::{float, number, Db};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::sync::Mutex;

/// The API key the emulator accepts (made up; safe to print).
pub const DEMO_ODOO_KEY: &str = "odoo_demo_key_0000";
/// The emulated database's name.
pub const DEMO_ODOO_DB: &str = "demo";
/// The login JSON-RPC authenticates with, with the API key as password.
pub const DEMO_ODOO_LOGIN: &str = "ferry-bot";
/// `default_code`s of the seeded service products.
pub const SHIPPING_PRODUCT: &str = "SHIP";
pub const TAX_PRODUCT: &str = "VAT";
pub const DISCOUNT_PRODUCT: &str = "DISCOUNT";
pub const REFUND_PRODUCT: &str = "REFUND";
/// The uid of the API user.
pub(crate) const UID: i64 = 2;

/// An Odoo exception on its way to the client.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OdooError {
    name: String,
    message: String,
    status: StatusCode,
}

impl OdooError {
    pub(crate) fn new(name: &str, message: impl Into<String>, status: StatusCode) -> Self {
        Self { name: name.to_owned(), message: message.into(), status }
    }
    pub(crate) fn validation(m: impl Into<String>) -> Self {
        Self::new("odoo.exceptions.ValidationError", m, StatusCode::UNPROCESSABLE_ENTITY)
    }
    pub(crate) fn user(m: impl Into<String>) -> Self {
        Self::new("odoo.exceptions.UserError", m, StatusCode::UNPROCESSABLE_ENTITY)
    }
    pub(crate) fn access(m: impl Into<String>) -> Self {
        Self::new("odoo.exceptions.AccessError", m, StatusCode::FORBIDDEN)
    }
    pub(crate) fn access_denied() -> Self {
        Self::new("odoo.exceptions.AccessDenied", "Access Denied", StatusCode::FORBIDDEN)
    }
    pub(crate) fn missing(model: &str, id: i64) -> Self {
        Self::new(
            "odoo.exceptions.MissingError",
            format!("Record does not exist or has been deleted.\n(Record: {model}({id},), User: {UID})"),
            StatusCode::NOT_FOUND,
        )
    }
    pub(crate) fn not_found(m: impl Into<String>) -> Self {
        Self::new("werkzeug.exceptions.NotFound", m, StatusCode::NOT_FOUND)
    }
    pub(crate) fn value(m: impl Into<String>) -> Self {
        Self::new("builtins.ValueError", m, StatusCode::INTERNAL_SERVER_ERROR)
    }
    pub(crate) fn type_error(m: impl Into<String>) -> Self {
        Self::new("builtins.TypeError", m, StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// `odoo.http.serialize_exception`'s shape.
    pub(crate) fn body(&self) -> Value {
        json!({ "name": self.name, "message": self.message, "arguments": [self.message], "context": {},
            "debug": format!("Traceback (most recent call last):\n  (emulated)\n{}: {}\n", self.name, self.message) })
    }

    pub(crate) fn json2(&self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

/// The emulated Odoo database, its API key and its fault knobs.
pub struct OdooSim {
    db: Mutex<Db>,
    pub faults: crate::Faults,
    /// Extra headers every answer carries (e.g. `X-RateLimit-*` of a proxy).
    pub(crate) headers: Mutex<Vec<(String, String)>>,
}

/// A sales order as tests see it.
#[derive(Debug, Clone, PartialEq)]
pub struct OdooSaleOrder {
    pub id: i64,
    pub name: String,
    pub client_order_ref: Option<String>,
    /// `draft`, `sent`, `sale` or `cancel`.
    pub state: String,
    pub amount_total: Decimal,
    pub partner_id: i64,
    /// (product default_code, quantity, unit price, number of taxes) per line.
    pub lines: Vec<(String, Decimal, Decimal, usize)>,
}

/// A delivery order as tests see it.
#[derive(Debug, Clone, PartialEq)]
pub struct OdooPicking {
    pub id: i64,
    pub name: String,
    pub origin: Option<String>,
    pub state: String,
    pub carrier_tracking_ref: Option<String>,
    pub note: Option<String>,
}

/// A credit note (`account.move`, `out_refund`) as tests see it.
#[derive(Debug, Clone, PartialEq)]
pub struct OdooCreditNote {
    pub id: i64,
    pub name: String,
    /// The `ref` field: the store's refund id.
    pub reference: Option<String>,
    /// `draft` or `posted`.
    pub state: String,
    pub amount_total: Decimal,
    pub partner_id: Option<i64>,
}

/// A contact as tests see it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OdooPartner {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub street: Option<String>,
    pub street2: Option<String>,
    pub city: Option<String>,
    pub zip: Option<String>,
    /// The country's ISO code.
    pub country: Option<String>,
    pub customer_rank: i64,
}

/// A product variant as tests see it.
#[derive(Debug, Clone, PartialEq)]
pub struct OdooProduct {
    pub id: i64,
    pub default_code: Option<String>,
    pub name: String,
    pub lst_price: Decimal,
    pub active: bool,
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn text(r: &Map<String, Value>, f: &str) -> Option<String> {
    r.get(f).and_then(Value::as_str).map(str::to_owned)
}

const COUNTRIES: &[(&str, &str)] = &[
    ("AT", "Austria"),
    ("CH", "Switzerland"),
    ("DE", "Germany"),
    ("FR", "France"),
    ("GB", "United Kingdom"),
    ("NL", "Netherlands"),
    ("US", "United States"),
];

impl OdooSim {
    /// The catalog's products with seeded stock, last changed a day before `opts.now`.
    pub fn seeded(opts: &crate::SimOptions, catalog: &[SeedProduct]) -> Self {
        let mut db = Db::default();
        let s = &mut db.store;
        let day_ago = (opts.now - Duration::days(1)).format("%Y-%m-%d %H:%M:%S").to_string();
        s.insert("res.currency", obj(json!({ "name": "EUR" })));
        s.insert("account.tax", obj(json!({ "name": "19%", "amount": 19.0, "price_include": false })));
        for (code, name) in COUNTRIES {
            s.insert("res.country", obj(json!({ "name": name, "code": code })));
        }
        for (name, full, usage) in [
            ("Stock", "WH/Stock", "internal"),
            ("Customers", "Partners/Customers", "customer"),
            ("Inventory adjustment", "Virtual Locations/Inventory adjustment", "inventory"),
        ] {
            s.insert("stock.location", obj(json!({ "name": name, "complete_name": full, "usage": usage })));
        }
        let mut rng = crate::seed::Rng::new(opts.seed ^ 0x0D00);
        for p in catalog {
            let id = s.insert(
                "product.product",
                obj(json!({ "default_code": p.sku, "name": p.title, "lst_price": float(p.price), "active": true,
                    "taxes_id": [1], "currency_id": 1, "weight": 0.35, "type": "consu", "sale_ok": true, "write_date": day_ago })),
            );
            let (qty, reserved) = (rng.below(40), rng.below(6));
            s.insert(
                "stock.quant",
                obj(json!({ "product_id": id, "location_id": 1, "quantity": qty as f64,
                    "reserved_quantity": reserved as f64, "write_date": day_ago })),
            );
        }
        for (code, name) in [
            (SHIPPING_PRODUCT, "Shipping"),
            (TAX_PRODUCT, "VAT as the store computed it"),
            (DISCOUNT_PRODUCT, "Discount"),
            (REFUND_PRODUCT, "Refund"),
        ] {
            s.insert(
                "product.product",
                obj(json!({ "default_code": code, "name": name, "lst_price": 0.0, "active": true, "taxes_id": [1],
                    "currency_id": 1, "weight": 0.0, "type": "service", "sale_ok": true, "write_date": day_ago })),
            );
        }
        s.insert("delivery.carrier", obj(json!({ "name": "DHL" })));
        // Goods already at a customer's: not stock to sell.
        s.insert(
            "stock.quant",
            obj(json!({ "product_id": 1, "location_id": 2, "quantity": 3.0, "reserved_quantity": 0.0, "write_date": day_ago })),
        );
        Self { db: Mutex::new(db), faults: crate::Faults::default(), headers: Mutex::new(Vec::new()) }
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every record of `model` as stored (many2one as ids), oldest first.
    pub fn records(&self, model: &str) -> Vec<Map<String, Value>> {
        self.db().store.all(model).to_vec()
    }

    fn product_id(&self, sku: &str) -> Option<i64> {
        self.db()
            .store
            .all("product.product")
            .iter()
            .find(|p| p.get("default_code").and_then(Value::as_str) == Some(sku))
            .and_then(|p| p.get("id").and_then(Value::as_i64))
    }

    /// Every sales order, cancelled ones included.
    pub fn sale_orders(&self) -> Vec<OdooSaleOrder> {
        let db = self.db();
        let code = |p: Option<i64>| {
            p.and_then(|p| db.store.get("product.product", p)).and_then(|p| text(p, "default_code")).unwrap_or_default()
        };
        db.store
            .all("sale.order")
            .iter()
            .map(|so| {
                let id = so.get("id").and_then(Value::as_i64).unwrap_or_default();
                OdooSaleOrder {
                    id,
                    name: text(so, "name").unwrap_or_default(),
                    client_order_ref: text(so, "client_order_ref"),
                    state: text(so, "state").unwrap_or_default(),
                    amount_total: number(so.get("amount_total")).unwrap_or_default(),
                    partner_id: so.get("partner_id").and_then(Value::as_i64).unwrap_or_default(),
                    lines: db
                        .store
                        .all("sale.order.line")
                        .iter()
                        .filter(|l| l.get("order_id").and_then(Value::as_i64) == Some(id))
                        .map(|l| {
                            (
                                code(l.get("product_id").and_then(Value::as_i64)),
                                number(l.get("product_uom_qty")).unwrap_or_default(),
                                number(l.get("price_unit")).unwrap_or_default(),
                                l.get("tax_ids").and_then(Value::as_array).map_or(0, Vec::len),
                            )
                        })
                        .collect(),
                }
            })
            .collect()
    }

    /// Sets on-hand and reserved quantity of `sku` in `WH/Stock` (a count
    /// or a reservation happened). False when no such product.
    pub fn set_quant(&self, sku: &str, quantity: i64, reserved: i64) -> bool {
        let Some(product) = self.product_id(sku) else { return false };
        let mut db = self.db();
        let stamp = methods::now();
        let existing = db
            .store
            .all("stock.quant")
            .iter()
            .find(|q| q.get("product_id") == Some(&json!(product)) && q.get("location_id") == Some(&json!(1)))
            .and_then(|q| q.get("id").and_then(Value::as_i64));
        let vals = obj(json!({ "product_id": product, "location_id": 1, "quantity": quantity as f64,
            "reserved_quantity": reserved as f64, "write_date": stamp }));
        match existing.and_then(|id| db.store.get_mut("stock.quant", id)) {
            Some(q) => q.extend(vals),
            None => {
                db.store.insert("stock.quant", vals);
            }
        }
        true
    }

    /// The warehouse reserved the goods of the order whose `client_order_ref`
    /// is `order_ref`: its delivery becomes `assigned` (Ready). Returns the
    /// picking's id; `None` when the order has no delivery.
    pub fn make_picking_ready(&self, order_ref: &str) -> Option<i64> {
        let mut db = self.db();
        let so = db
            .store
            .all("sale.order")
            .iter()
            .find(|s| s.get("client_order_ref").and_then(Value::as_str) == Some(order_ref))?
            .get("id")?
            .as_i64()?;
        let picking = db
            .store
            .all("stock.picking")
            .iter()
            .find(|p| p.get("sale_id") == Some(&json!(so)) && p.get("state") != Some(&json!("cancel")))?
            .get("id")?
            .as_i64()?;
        let p = db.store.get_mut("stock.picking", picking)?;
        p.insert("state".into(), json!("assigned"));
        p.insert("write_date".into(), json!(methods::now()));
        Some(picking)
    }

    /// The warehouse validated (shipped) picking `id`.
    pub fn validate_picking(&self, id: i64) -> bool {
        let mut db = self.db();
        let Some(p) = db.store.get_mut("stock.picking", id) else { return false };
        p.insert("state".into(), json!("done"));
        p.insert("write_date".into(), json!(methods::now()));
        true
    }

    pub fn pickings(&self) -> Vec<OdooPicking> {
        self.db()
            .store
            .all("stock.picking")
            .iter()
            .map(|p| OdooPicking {
                id: p.get("id").and_then(Value::as_i64).unwrap_or_default(),
                name: text(p, "name").unwrap_or_default(),
                origin: text(p, "origin"),
                state: text(p, "state").unwrap_or_default(),
                carrier_tracking_ref: text(p, "carrier_tracking_ref"),
                note: text(p, "note"),
            })
            .collect()
    }

    /// Every customer credit note (`out_refund`), drafts included.
    pub fn credit_notes(&self) -> Vec<OdooCreditNote> {
        self.db()
            .store
            .all("account.move")
            .iter()
            .filter(|m| m.get("move_type") == Some(&json!("out_refund")))
            .map(|m| OdooCreditNote {
                id: m.get("id").and_then(Value::as_i64).unwrap_or_default(),
                name: text(m, "name").unwrap_or_default(),
                reference: text(m, "ref"),
                state: text(m, "state").unwrap_or_default(),
                amount_total: number(m.get("amount_total")).unwrap_or_default(),
                partner_id: m.get("partner_id").and_then(Value::as_i64),
            })
            .collect()
    }

    pub fn partners(&self) -> Vec<OdooPartner> {
        let db = self.db();
        db.store
            .all("res.partner")
            .iter()
            .map(|p| OdooPartner {
                id: p.get("id").and_then(Value::as_i64).unwrap_or_default(),
                name: text(p, "name").unwrap_or_default(),
                email: text(p, "email"),
                phone: text(p, "phone"),
                street: text(p, "street"),
                street2: text(p, "street2"),
                city: text(p, "city"),
                zip: text(p, "zip"),
                country: p
                    .get("country_id")
                    .and_then(Value::as_i64)
                    .and_then(|c| db.store.get("res.country", c))
                    .and_then(|c| text(c, "code")),
                customer_rank: p.get("customer_rank").and_then(Value::as_i64).unwrap_or_default(),
            })
            .collect()
    }

    /// Someone edits contact `id` in Odoo (`country_id` takes a country id).
    pub fn edit_partner(&self, id: i64, field: &str, value: Value) -> bool {
        let mut db = self.db();
        let Some(p) = db.store.get_mut("res.partner", id) else { return false };
        p.insert(field.to_owned(), value);
        p.insert("write_date".into(), json!(methods::now()));
        true
    }

    /// A contact someone made in Odoo by hand. Returns its id.
    pub fn add_partner(&self, name: &str, email: Option<&str>, customer_rank: i64) -> i64 {
        let stamp = methods::now();
        self.db().store.insert(
            "res.partner",
            obj(json!({ "name": name, "email": email, "customer_rank": customer_rank, "active": true,
                "create_date": stamp, "write_date": stamp })),
        )
    }

    /// Sets the sales price of `sku`; false when no such product.
    pub fn set_price(&self, sku: &str, price: &str) -> bool {
        let (Some(id), Ok(price)) = (self.product_id(sku), price.parse::<Decimal>()) else { return false };
        let mut db = self.db();
        let Some(p) = db.store.get_mut("product.product", id) else { return false };
        p.insert("lst_price".into(), float(price));
        p.insert("write_date".into(), json!(methods::now()));
        true
    }

    /// Every product variant, archived ones included.
    pub fn products(&self) -> Vec<OdooProduct> {
        self.db()
            .store
            .all("product.product")
            .iter()
            .map(|p| OdooProduct {
                id: p.get("id").and_then(Value::as_i64).unwrap_or_default(),
                default_code: text(p, "default_code"),
                name: text(p, "name").unwrap_or_default(),
                lst_price: number(p.get("lst_price")).unwrap_or_default(),
                active: p.get("active") != Some(&json!(false)),
            })
            .collect()
    }

    /// Headers every answer carries from now on (e.g. a proxy's `X-RateLimit-*`).
    pub fn set_answer_headers(&self, headers: &[(&str, &str)]) {
        *self.headers.lock().unwrap_or_else(|e| e.into_inner()) =
            headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    }

    /// Runs one model method under the database lock.
    pub(crate) fn execute(
        &self,
        model: &str,
        method: &str,
        ids: &[i64],
        kwargs: &Map<String, Value>,
    ) -> Result<Value, OdooError> {
        let mut db = self.db();
        // Paged reads (an ascending order, with a limit) meet duplicated and shifted pages.
        let order = kwargs.get("order").and_then(Value::as_str).unwrap_or("id asc");
        if method == "search_read" && kwargs.contains_key("limit") && !order.contains("desc") {
            let offset = kwargs.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
            let trouble = self.faults.page_trouble(offset == 0);
            let start = if offset == 0 { 0 } else { self.faults.offset_start(offset, trouble) };
            if trouble != crate::faults::PageTrouble::None || start != offset {
                let kwargs = db.disturb_page(model, kwargs, (offset, start), trouble)?;
                return db.execute(model, method, ids, &kwargs);
            }
        }
        db.execute(model, method, ids, kwargs)
    }
}

#[cfg(test)]
mod tests {
    use super::http::rpc_call;
    use super::*;

    fn sim() -> OdooSim {
        OdooSim::seeded(&crate::SimOptions::default(), &crate::seed::catalog(1))
    }

    fn call(sim: &OdooSim, model: &str, method: &str, ids: &[i64], kwargs: Value) -> Result<Value, OdooError> {
        sim.execute(model, method, ids, &obj(kwargs))
    }

    #[test]
    fn a_line_without_tax_ids_gets_the_products_vat() {
        let sim = sim();
        let partner = call(&sim, "res.partner", "create", &[], json!({ "vals_list": [{ "name": "Ada" }] }));
        let partner = partner.ok().and_then(|v| v[0].as_i64()).unwrap_or_default();
        let line = |taxes: Option<Value>| {
            let mut l = json!({ "product_id": 1, "product_uom_qty": 2, "price_unit": 10.0 });
            if let Some(t) = taxes {
                l["tax_ids"] = t;
            }
            json!({ "vals_list": [{ "partner_id": partner, "order_line": [[0, 0, l]] }] })
        };
        assert!(call(&sim, "sale.order", "create", &[], line(None)).is_ok());
        assert!(call(&sim, "sale.order", "create", &[], line(Some(json!([[6, 0, []]])))).is_ok());
        let totals: Vec<String> = sim.sale_orders().iter().map(|o| o.amount_total.to_string()).collect();
        assert_eq!(totals, ["23.8", "20"], "the product's 19% applies unless the line's taxes are cleared");
    }

    #[test]
    fn cancelling_a_confirmed_order_needs_the_context_key() {
        let sim = sim();
        let partner = call(&sim, "res.partner", "create", &[], json!({ "vals_list": [{ "name": "Ada" }] }));
        let partner = partner.ok().and_then(|v| v[0].as_i64()).unwrap_or_default();
        let so = json!({ "vals_list": [{ "partner_id": partner, "order_line": [[0, 0, { "product_id": 1 }]] }] });
        let so = call(&sim, "sale.order", "create", &[], so).ok().and_then(|v| v[0].as_i64()).unwrap_or_default();
        assert_eq!(call(&sim, "sale.order", "action_confirm", &[so], json!({})), Ok(json!(true)));
        let wizard = call(&sim, "sale.order", "action_cancel", &[so], json!({}));
        assert_eq!(wizard.ok().map(|w| w["res_model"].clone()), Some(json!("sale.order.cancel")));
        assert_eq!(sim.sale_orders()[0].state, "sale", "the wizard cancels nothing by itself");
        let private = call(&sim, "sale.order", "_action_cancel", &[so], json!({}));
        assert_eq!(private.map_err(|e| e.status), Err(StatusCode::FORBIDDEN), "private methods are not remote");
        let ctx = json!({ "context": { "disable_cancel_warning": true } });
        assert_eq!(call(&sim, "sale.order", "action_cancel", &[so], ctx), Ok(json!(true)));
        assert_eq!(sim.sale_orders()[0].state, "cancel");
        assert_eq!(sim.pickings()[0].state, "cancel", "the delivery is cancelled with its order");
    }

    #[test]
    fn errors_have_odoos_names_and_statuses() {
        let sim = sim();
        let empty = call(&sim, "product.product", "write", &[1], json!({ "vals": { "name": "" } }));
        let e = empty.expect_err("a required field cannot be emptied");
        assert_eq!((e.name.as_str(), e.status), ("odoo.exceptions.ValidationError", StatusCode::UNPROCESSABLE_ENTITY));
        let e = call(&sim, "res.partner", "write", &[999], json!({ "vals": { "name": "x" } })).expect_err("missing");
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        let e = call(&sim, "res.partner", "create", &[], json!({ "vals_list": [{ "name": "x", "mobile": "1" }] }));
        assert_eq!(e.map_err(|e| e.status), Err(StatusCode::INTERNAL_SERVER_ERROR), "an unknown field is a ValueError");
        let rpc = rpc_call(&sim, "object", "execute_kw", &[json!(DEMO_ODOO_DB), json!(UID), json!("wrong")]);
        assert_eq!(rpc.map_err(|e| e.name), Err("odoo.exceptions.AccessDenied".to_owned()));
    }
}
