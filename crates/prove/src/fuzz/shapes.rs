//! Realistic answers: for each system, what its API sends back to the
//! request a connector made (the documented shapes, as the emulators in
//! `ferry-sim` and the connectors' own tests hold them). Values come from a
//! small vocabulary the fuzz calls use too, so lookups sometimes match and
//! the connectors go on to their next step.

use super::gql::{self, Flavor};
use super::Rng;
use serde_json::{json, Map, Value};

/// SKUs, references and addresses the calls use and the answers name.
#[derive(Debug, Clone, Default)]
pub struct Vocab;

pub const SKUS: &[&str] = &["SKU-1", "SKU-2", "MUG-01"];
pub const EMAIL: &str = "ada@example.com";
pub const REFERENCE: &str = "MAT-DN-0001";
pub const TRACKING: &str = "1Z999AA10123456784";
pub const ORDER_ID: &str = "1001";

impl Vocab {
    pub fn sku(&self, rng: &Rng) -> String {
        if rng.usize(0..8) == 0 {
            format!("OTHER-{}", rng.u32(..100))
        } else {
            pick(rng, SKUS).to_owned()
        }
    }

    pub fn email(&self, rng: &Rng) -> String {
        if rng.usize(0..4) == 0 {
            "grace@example.com".into()
        } else {
            EMAIL.into()
        }
    }

    pub fn tracking(&self, rng: &Rng) -> String {
        if rng.bool() {
            TRACKING.into()
        } else {
            format!("9400{}", rng.u64(1_000_000..9_999_999))
        }
    }
}

/// How many items a list holds: mostly one to three, sometimes none.
pub fn some(rng: &Rng) -> usize {
    if rng.usize(0..7) == 0 {
        0
    } else {
        rng.usize(1..4)
    }
}

pub fn pick<T: Clone>(rng: &Rng, all: &[T]) -> T {
    all[rng.usize(..all.len())].clone()
}

/// A recent time, RFC 3339.
pub fn time_rfc3339(rng: &Rng) -> String {
    format!("2026-11-{:02}T{:02}:{:02}:{:02}Z", rng.u32(1..29), rng.u32(..24), rng.u32(..60), rng.u32(..60))
}

/// A recent time as ERPNext and Odoo write it (`YYYY-MM-DD HH:MM:SS`).
fn time_plain(rng: &Rng, micros: bool) -> String {
    let base = format!("2026-11-{:02} {:02}:{:02}:{:02}", rng.u32(1..29), rng.u32(..24), rng.u32(..60), rng.u32(..60));
    if micros {
        format!("{base}.{:06}", rng.u32(..1_000_000))
    } else {
        base
    }
}

/// What the fuzz server knows of a request.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// The path after the case prefix, e.g. `/admin/api/2025-07/graphql.json`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Value,
}

impl Request {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// The realistic answer: status, extra headers, body.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Value,
    /// The part of the body mutations may touch (a JSON pointer); `""` is all.
    pub mutable: &'static str,
}

impl Answer {
    fn ok(body: Value) -> Self {
        Self { status: 200, headers: vec![], body, mutable: "" }
    }
}

/// The realistic answer of `kind` to `req`.
pub fn answer(kind: &str, req: &Request, rng: &Rng) -> Answer {
    let vocab = Vocab;
    match kind {
        "shopify" => shopify(req, &vocab, rng),
        "vendure" => vendure(req, &vocab, rng),
        "woocommerce" => woocommerce(req, &vocab, rng),
        "erpnext" => erpnext(req, &vocab, rng),
        "odoo" => odoo(req, &vocab, rng),
        "tryton" => tryton(req, &vocab, rng),
        "easypost" => easypost(req, &vocab, rng),
        "karrio" => karrio(req, &vocab, rng),
        _ => Answer::ok(Value::Null),
    }
}

/// The system's own error body for `status`.
pub fn error_body(kind: &str, status: u16, rng: &Rng) -> Value {
    let message = pick(rng, &["Invalid value", "Not allowed", "Something went wrong", ""]);
    match kind {
        "shopify" => {
            if rng.bool() {
                json!({ "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)" })
            } else {
                json!({ "errors": [{ "message": message, "extensions": { "code": pick(rng, &["THROTTLED", "ACCESS_DENIED", "INTERNAL_SERVER_ERROR"]) } }] })
            }
        }
        "vendure" => {
            json!({ "errors": [{ "message": message, "extensions": { "code": pick(rng, &["FORBIDDEN", "ENTITY_NOT_FOUND", "USER_INPUT_ERROR", "INTERNAL_SERVER_ERROR"]) } }], "data": null })
        }
        "woocommerce" => json!({
            "code": pick(rng, &["rest_invalid_param", "woocommerce_rest_shop_order_invalid_id", "rest_no_route", "woocommerce_rest_authentication_error"]),
            "message": message,
            "data": { "status": status, "params": if rng.bool() { json!({ "regular_price": "regular_price is not of type string." }) } else { json!(["note"]) } },
        }),
        "erpnext" => json!({
            "exc_type": pick(rng, &["ValidationError", "PermissionError", "DoesNotExistError", "LinkValidationError"]),
            "exception": format!("frappe.exceptions.ValidationError: {message}"),
            "_server_messages": Value::String(serde_json::to_string(&[json!({ "message": format!("<b>{message}</b>") }).to_string()]).unwrap_or_default()),
        }),
        "odoo" => json!({
            "name": pick(rng, &["odoo.exceptions.UserError", "odoo.exceptions.AccessDenied", "werkzeug.exceptions.NotFound", "builtins.ValueError"]),
            "message": message,
            "arguments": [message],
            "context": {},
            "debug": "Traceback (most recent call last): ...",
        }),
        "tryton" => {
            json!({ "id": 1, "error": [pick(rng, &["UserError", "UserWarning", "LoginException", "ConcurrencyException", "KeyError"]), [message, "", null]] })
        }
        "easypost" => json!({ "error": {
            "code": pick(rng, &["SHIPMENT.POSTAGE.EXISTS", "APIKEY.INACTIVE", "ADDRESS.VERIFY.FAILURE", "PAYMENT.REQUIRED"]),
            "message": message,
            "errors": [{ "field": "to_address.zip", "message": "invalid" }, "plain text"],
        } }),
        "karrio" => json!({ "errors": [{
            "code": "validation_error",
            "message": format!("recipient.postal_code: {message}"),
            "carrier_name": "dhl_express",
            "details": { "recipient.postal_code": ["invalid"], "bad key!": "x" },
        }] }),
        _ => Value::Null,
    }
}

// ---- GraphQL: Shopify and Vendure ----

fn gql_query(req: &Request) -> &str {
    req.body.get("query").and_then(Value::as_str).unwrap_or_default()
}

fn shopify(req: &Request, vocab: &Vocab, rng: &Rng) -> Answer {
    let mut data = gql::data(gql_query(req), Flavor::Shopify, vocab, rng);
    // SKUs the lookups ask for are mostly on the list.
    if let Some(edges) = data.pointer_mut("/productVariants/edges").and_then(Value::as_array_mut) {
        for e in edges.iter_mut() {
            if let Some(sku) = e.pointer_mut("/node/sku") {
                *sku = json!(vocab.sku(rng));
            }
        }
    }
    let available = if rng.usize(0..10) == 0 {
        // Odd but harmless: nothing here makes a caller wait long.
        pick(rng, &[json!(1e12), json!(-5.0), json!(0)])
    } else {
        json!(rng.u32(1000..2000))
    };
    let restore =
        if available.as_f64().is_some_and(|a| a < 1000.0) { json!(pick(rng, &[-1.0, 0.0, 1e9])) } else { json!(100.0) };
    let body = json!({
        "data": data,
        "extensions": { "cost": {
            "requestedQueryCost": rng.u32(1..400),
            "actualQueryCost": rng.u32(1..400),
            "throttleStatus": { "maximumAvailable": 2000.0, "currentlyAvailable": available, "restoreRate": restore },
        } },
    });
    Answer { mutable: "/data", ..Answer::ok(body) }
}

fn vendure(req: &Request, vocab: &Vocab, rng: &Rng) -> Answer {
    let query = gql_query(req);
    let data = gql::data(query, Flavor::Vendure, vocab, rng);
    let mut answer = Answer::ok(json!({ "data": data }));
    if query.contains("login(") {
        let token = if rng.usize(0..10) == 0 { String::new() } else { format!("tok{}", rng.u32(..1_000_000)) };
        answer.headers.push(("vendure-auth-token".into(), token.into_bytes()));
    }
    answer
}

// ---- REST: WooCommerce ----

fn woo_address(rng: &Rng) -> Value {
    json!({ "first_name": "Ada", "last_name": "Lovelace", "company": "", "address_1": "Hauptstraße 1", "address_2": "",
        "city": "Berlin", "state": "", "postcode": "10115", "country": pick(rng, &["DE", "de", ""]),
        "email": EMAIL, "phone": "+49 30 1234567" })
}

fn woo_order(rng: &Rng, vocab: &Vocab) -> Value {
    let gross = rng.bool();
    let qty = rng.i64(1..4);
    json!({
        "id": rng.u64(1..5000), "number": rng.u64(1..5000).to_string(), "status": pick(rng, &["processing", "completed", "cancelled", "on-hold", "custom-status"]),
        "currency": "EUR", "date_created_gmt": "2026-11-26T10:00:00", "date_modified_gmt": format!("2026-11-26T10:{:02}:00", rng.u32(..60)),
        "discount_total": "3.70", "discount_tax": "0.70", "shipping_total": "4.12", "shipping_tax": "0.78",
        "total": "44.46", "total_tax": "7.10", "prices_include_tax": gross, "customer_id": rng.u64(0..30),
        "billing": woo_address(rng), "shipping": woo_address(rng),
        "line_items": [
            { "id": 1, "name": "Blue Mug", "quantity": qty, "subtotal": "32.75", "subtotal_tax": "6.22", "total": "29.47", "total_tax": "5.60", "sku": vocab.sku(rng), "price": 9.8233 },
            { "id": 2, "name": "Pen", "quantity": 1, "subtotal": "4.19", "subtotal_tax": "0.80", "total": "3.77", "total_tax": "0.72", "sku": vocab.sku(rng), "price": 3.77 },
        ],
        "tax_lines": [{ "id": 3, "label": "MwSt. 19%", "tax_total": "6.32", "shipping_tax_total": "0.78", "rate_percent": 19 }],
        "shipping_lines": [{ "id": 4, "method_title": "Flat rate", "total": "4.12", "total_tax": "0.78" }],
        "fee_lines": if rng.bool() { json!([]) } else { json!([{ "name": "Gift wrap", "total": "-1.00", "total_tax": "0.00" }]) },
        "refunds": if rng.usize(0..3) == 0 { json!([{ "id": 1100, "reason": "", "total": "-12.99" }]) } else { json!([]) },
    })
}

fn woo_refund(rng: &Rng, vocab: &Vocab) -> Value {
    json!({ "id": rng.u64(1..5000), "date_created_gmt": "2026-11-27T09:00:00", "amount": "12.99", "reason": pick(rng, &["", "Broken"]),
        "line_items": [{ "id": 9, "sku": vocab.sku(rng), "quantity": -1, "total": "-10.92", "total_tax": "-2.07" }] })
}

fn woo_product(rng: &Rng, vocab: &Vocab) -> Value {
    json!({ "id": rng.u64(1..5000), "name": "Blue Mug", "sku": vocab.sku(rng), "type": pick(rng, &["simple", "simple", "variable", "grouped", ""]),
        "status": pick(rng, &["publish", "draft", "private"]), "regular_price": pick(rng, &["12.99", "", "4.50"]),
        "manage_stock": true, "stock_quantity": rng.i64(0..50) })
}

fn woo_customer(rng: &Rng) -> Value {
    json!({ "id": rng.u64(1..5000), "email": EMAIL, "first_name": "Ada", "last_name": "Lovelace", "role": "customer",
        "date_created_gmt": "2026-11-01T10:00:00", "date_modified_gmt": format!("2026-11-{:02}T10:00:00", rng.u32(1..29)),
        "billing": woo_address(rng), "shipping": woo_address(rng) })
}

fn list(rng: &Rng, mut item: impl FnMut() -> Value) -> Value {
    Value::Array((0..some(rng)).map(|_| item()).collect())
}

fn woocommerce(req: &Request, vocab: &Vocab, rng: &Rng) -> Answer {
    let path = req.path.split("/wp-json/wc/v3").nth(1).unwrap_or(&req.path).to_owned();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let get = req.method == "GET";
    let body = match (parts.as_slice(), get) {
        (["orders"], true) => list(rng, || woo_order(rng, vocab)),
        (["orders", _, "refunds"], true) => list(rng, || woo_refund(rng, vocab)),
        (["orders", _, "notes"], true) => list(
            rng,
            || json!({ "id": rng.u32(..100), "note": if rng.bool() { format!("Tracking number: {TRACKING}") } else { "Order status changed.".into() } }),
        ),
        (["orders", _, "notes"], false) => json!({ "id": 77, "note": "Your order has shipped", "customer_note": true }),
        (["orders", id], _) => {
            json!({ "id": id.parse::<u64>().unwrap_or(1), "number": id, "status": pick(rng, &["processing", "completed", "refunded", "on-hold"]) })
        }
        (["products"], true) => list(rng, || woo_product(rng, vocab)),
        (["products", _, "variations"], true) => list(
            rng,
            || json!({ "id": rng.u64(1..5000), "sku": vocab.sku(rng), "status": pick(rng, &["publish", "private"]), "regular_price": "9.99" }),
        ),
        (["products", "batch"] | ["products", _, "variations", "batch"], false) => {
            let n = req.body.get("update").and_then(Value::as_array).map_or(1, Vec::len);
            let items = (0..n)
                .map(|i| {
                    if rng.usize(0..4) == 0 {
                        json!({ "id": i, "error": { "code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.", "data": { "status": pick(rng, &[400, 404]) } } })
                    } else {
                        woo_product(rng, vocab)
                    }
                })
                .collect::<Vec<_>>();
            json!({ "update": items })
        }
        (["products", ..], false) => woo_product(rng, vocab),
        (["customers"], true) => list(rng, || woo_customer(rng)),
        (["customers", _], _) => woo_customer(rng),
        (["data", "currencies", "current"], _) => {
            json!({ "code": pick(rng, &["EUR", "USD"]), "name": "Euro", "symbol": "&euro;" })
        }
        _ => json!({}),
    };
    let mut answer = Answer::ok(body);
    if get && answer.body.is_array() && rng.usize(0..3) > 0 {
        answer.headers.push(("x-wp-totalpages".into(), pick(rng, &["1", "2", "3", "0"]).into()));
        answer.headers.push(("x-wp-total".into(), b"3".to_vec()));
    }
    answer
}

/// Makes list rows agree with the filter they answer, as a real system's
/// do: `[field, "in", [a, b]]` gives each row one of a and b in `field`,
/// `[field, "=", v]` gives it v. Clauses may be nested (`"OR"`, `"|"`) and,
/// in ERPNext's form, name the child table first.
fn agree(rows: &mut Value, filter: &Value, rng: &Rng) {
    let mut clauses = Vec::new();
    fn walk<'a>(v: &'a Value, out: &mut Vec<(&'a str, &'a str, &'a Value)>) {
        let Some(a) = v.as_array() else { return };
        let strs: Vec<Option<&str>> = a.iter().map(Value::as_str).collect();
        match (a.len(), strs.as_slice()) {
            (3, [Some(f), Some(op), _]) => out.push((f, op, &a[2])),
            (4, [Some(_), Some(f), Some(op), _]) => out.push((f, op, &a[3])),
            _ => a.iter().for_each(|x| walk(x, out)),
        }
    }
    walk(filter, &mut clauses);
    let Some(rows) = rows.as_array_mut() else { return };
    for row in rows.iter_mut() {
        let Some(row) = row.as_object_mut() else { continue };
        for (field, op, value) in &clauses {
            if field.contains('.') {
                continue;
            }
            let v = match (*op, value) {
                ("in", Value::Array(all)) if !all.is_empty() => all[rng.usize(..all.len())].clone(),
                ("=", v) if !v.is_null() && !v.is_array() && !v.is_object() => (*v).clone(),
                _ => continue,
            };
            // Only fields the row holds (or its id): a filter on another field says nothing of the row.
            if row.contains_key(*field) || *field == "id" || *field == "name" {
                row.insert((*field).to_owned(), v);
            }
        }
    }
}

// ---- ERPNext ----

fn erp_time(rng: &Rng) -> String {
    time_plain(rng, true)
}

/// A value for field `f` of an ERPNext row of `doctype`.
fn erpnext_field(doctype: &str, f: &str, vocab: &Vocab, rng: &Rng) -> Value {
    match f {
        "name" => match doctype {
            "Sales Order" => json!(format!("SAL-ORD-2026-{:05}", rng.u32(..99_999))),
            "Delivery Note" => {
                json!(if rng.bool() { REFERENCE.to_owned() } else { format!("MAT-DN-{:04}", rng.u32(..9999)) })
            }
            "Customer" => json!(pick(rng, &["Ada Lovelace", "CUST-0001"])),
            "Address" => json!(format!("Ada Lovelace-Shipping-{}", rng.u32(..9))),
            "Contact" => json!("Ada Lovelace"),
            "Item" => json!(vocab.sku(rng)),
            "Bin" => json!(format!("bin-{}", rng.u32(..9999))),
            "Sales Invoice" => json!(format!("ACC-SINV-RET-{:04}", rng.u32(..9999))),
            _ => json!(format!("{doctype}-{}", rng.u32(..9999))),
        },
        "docstatus" => json!(pick(rng, &[0, 1, 1, 2])),
        "modified" | "creation" => json!(erp_time(rng)),
        "item_code" => json!(vocab.sku(rng)),
        "warehouse" => json!("Stores - F"),
        "actual_qty" | "reserved_qty" => {
            if rng.bool() {
                json!(rng.i64(0..50))
            } else {
                json!(format!("{}.0", rng.i64(0..50)))
            }
        }
        "grand_total" | "price_list_rate" => json!(pick(rng, &[json!(44.46), json!("19.99"), json!(0)])),
        "currency" => json!("EUR"),
        "item_name" => json!("Blue Mug"),
        "disabled" => json!(pick(rng, &[json!(0), json!(1), json!(false)])),
        "email_id" => json!(vocab.email(rng)),
        "customer_name" | "address_title" => json!("Ada Lovelace"),
        "mobile_no" | "phone" => json!("+49 30 1234567"),
        "customer_primary_address" => {
            if rng.bool() {
                Value::Null
            } else {
                json!("Ada Lovelace-Shipping-1")
            }
        }
        "address_line1" => json!("1 Main St"),
        "address_line2" => Value::Null,
        "city" => json!("Berlin"),
        "pincode" => json!("10115"),
        "country" => json!(pick(rng, &["Germany", "Atlantis"])),
        "tracking_number" | "carrier" => {
            if rng.usize(0..4) == 0 {
                json!(TRACKING)
            } else {
                Value::Null
            }
        }
        "customer" => json!("Ada Lovelace"),
        // The external reference field (shopify_order_id by default).
        _ if f.ends_with("_id") || f == "po_no" => json!(ORDER_ID),
        _ => json!(format!("{f}-{}", rng.u32(..100))),
    }
}

/// A whole ERPNext document of `doctype`, as `GET /api/resource/<doctype>/<name>` sends it.
fn erpnext_doc(doctype: &str, name: &str, vocab: &Vocab, rng: &Rng) -> Value {
    let mut doc = match doctype {
        "Sales Order" => {
            json!({ "customer": "Ada Lovelace", "docstatus": 1, "shopify_order_id": ORDER_ID, "grand_total": 44.46,
            "items": [{ "item_code": vocab.sku(rng), "qty": 2, "rate": 19.99 }] })
        }
        "Delivery Note" => json!({ "customer": "Ada Lovelace", "customer_name": "Ada Lovelace", "docstatus": 1,
            "shipping_address_name": "Ada Lovelace-Shipping-1", "total_net_weight": pick(rng, &[json!(0.4), json!(0), json!(null)]),
            "items": [{ "item_code": vocab.sku(rng), "qty": 1, "against_sales_order": "SAL-ORD-2026-00001" }] }),
        "Address" => {
            json!({ "address_title": "Ada Lovelace", "address_line1": "1 Main St", "city": "Berlin", "pincode": "10115",
            "country": "Germany", "phone": "+49 30 1234567", "links": [{ "link_doctype": "Customer", "link_name": "Ada Lovelace" }] })
        }
        "Customer" => json!({ "customer_name": "Ada Lovelace", "email_id": vocab.email(rng), "mobile_no": null,
            "customer_primary_address": "Ada Lovelace-Shipping-1", "customer_primary_contact": if rng.bool() { json!("Ada Lovelace") } else { json!(null) },
            "modified": erp_time(rng) }),
        "Contact" => json!({ "first_name": "Ada", "email_ids": [{ "email_id": EMAIL, "is_primary": 1 }],
            "phone_nos": [{ "phone": "+49 30 1234567", "is_primary_mobile_no": 1 }],
            "links": [{ "link_doctype": "Customer", "link_name": "Ada Lovelace" }] }),
        _ => json!({}),
    };
    doc["name"] = json!(name);
    doc["doctype"] = json!(doctype);
    doc["modified"] = json!(erp_time(rng));
    doc
}

fn erpnext(req: &Request, vocab: &Vocab, rng: &Rng) -> Answer {
    let decode = |s: &str| urlencoding::decode(s).map(|c| c.into_owned()).unwrap_or_else(|_| s.to_owned());
    if req.path.contains("/api/method/") {
        return Answer::ok(json!({ "message": null }));
    }
    let rest = req.path.split("/api/resource/").nth(1).unwrap_or_default();
    let mut parts = rest.splitn(2, '/');
    let doctype = decode(parts.next().unwrap_or_default());
    let name = parts.next().map(decode);
    let body = match (req.method.as_str(), name) {
        ("GET", None) => {
            let fields: Vec<String> =
                req.param("fields").and_then(|f| serde_json::from_str(f).ok()).unwrap_or_else(|| vec!["name".into()]);
            let limit: usize = req.param("limit_page_length").and_then(|l| l.parse().ok()).unwrap_or(20);
            // Mostly a few rows; sometimes a full page, so the next is asked for.
            let n = if limit <= 200 && rng.usize(0..5) == 0 { limit } else { some(rng).min(limit) };
            let rows = (0..n)
                .map(|_| {
                    let mut row = Map::new();
                    for f in &fields {
                        row.insert(f.clone(), erpnext_field(&doctype, f, vocab, rng));
                    }
                    Value::Object(row)
                })
                .collect();
            let mut rows = Value::Array(rows);
            if let Some(filters) = req.param("filters").and_then(|f| serde_json::from_str::<Value>(f).ok()) {
                agree(&mut rows, &filters, rng);
            }
            json!({ "data": rows })
        }
        ("GET", Some(name)) => json!({ "data": erpnext_doc(&doctype, &name, vocab, rng) }),
        (_, name) => {
            let name =
                name.unwrap_or_else(|| erpnext_field(&doctype, "name", vocab, rng).as_str().unwrap_or("X").to_owned());
            let mut doc = erpnext_doc(&doctype, &name, vocab, rng);
            if let (Some(d), Some(sent)) = (doc.as_object_mut(), req.body.as_object()) {
                d.extend(sent.clone());
            }
            json!({ "data": doc })
        }
    };
    let mut answer = Answer::ok(body);
    if rng.usize(0..4) == 0 {
        // Frappe's rate limiter announces its window; these never ask for a long wait.
        let (limit, remaining, reset) =
            pick(rng, &[("5000000", "4999000", "3600"), ("100", "1", "0.2"), ("100", "0", "1000000001")]);
        answer.headers.push(("x-ratelimit-limit".into(), limit.into()));
        answer.headers.push(("x-ratelimit-remaining".into(), remaining.into()));
        answer.headers.push(("x-ratelimit-reset".into(), reset.into()));
    }
    answer
}

// ---- Odoo ----

fn odoo_field(f: &str, vocab: &Vocab, rng: &Rng) -> Value {
    let m2o = |id: u32, name: &str| if rng.usize(0..8) == 0 { json!(false) } else { json!([id, name]) };
    match f {
        "name" => json!(pick(rng, &["S00001", "Ada Lovelace", "WH/OUT/00001"])),
        "state" => json!(pick(rng, &["draft", "sale", "cancel", "assigned", "done", "posted"])),
        "write_date" | "create_date" | "date_order" => json!(time_plain(rng, false)),
        "product_id" => m2o(rng.u32(1..20), "[SKU-1] Blue Mug"),
        "location_id" => m2o(8, "WH/Stock"),
        "partner_id" => m2o(rng.u32(1..20), "Ada Lovelace"),
        "sale_id" => m2o(rng.u32(1..20), "S00001"),
        "currency_id" => m2o(1, pick(rng, &["EUR", "USD"])),
        "country_id" => m2o(57, "Germany"),
        "quantity" | "reserved_quantity" | "lst_price" | "amount_total" | "weight" | "shipping_weight" => {
            json!(pick(rng, &[json!(3.0), json!(0.0), json!(44.46), json!(12)]))
        }
        "default_code" => json!(vocab.sku(rng)),
        "active" => json!(rng.usize(0..4) > 0),
        "email" => json!(vocab.email(rng)),
        "phone" => json!("+49 30 1234567"),
        "street" => json!("1 Main St"),
        "street2" | "note" => json!(false),
        "city" => json!("Berlin"),
        "zip" => json!("10115"),
        "code" => json!("DE"),
        "origin" => json!("S00001"),
        "customer_rank" => json!(1),
        "carrier_tracking_ref" => json!(false),
        "client_order_ref" | "ref" => json!(ORDER_ID),
        _ => json!(format!("{f}-{}", rng.u32(..100))),
    }
}

fn odoo_rows(fields: &[String], limit: usize, vocab: &Vocab, rng: &Rng) -> Value {
    let n = if limit <= 200 && rng.usize(0..5) == 0 { limit } else { some(rng).min(limit) };
    let rows = (0..n)
        .map(|_| {
            let mut row = Map::new();
            row.insert("id".into(), json!(rng.u32(1..500)));
            for f in fields {
                row.insert(f.clone(), odoo_field(f, vocab, rng));
            }
            Value::Object(row)
        })
        .collect();
    Value::Array(rows)
}

/// The result of `model.method(kwargs)`, as both of Odoo's APIs hold it.
fn odoo_result(method: &str, kwargs: &Value, vocab: &Vocab, rng: &Rng) -> Value {
    let fields: Vec<String> = kwargs
        .get("fields")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let limit = kwargs.get("limit").and_then(Value::as_u64).map_or(80, |l| l as usize);
    match method {
        "search_read" => {
            let mut rows = odoo_rows(&fields, limit, vocab, rng);
            agree(&mut rows, &kwargs["domain"], rng);
            rows
        }
        "read" => odoo_rows(&fields, 1, vocab, rng),
        "create" => {
            if rng.bool() {
                json!([rng.u32(1..500)])
            } else {
                json!(rng.u32(1..500))
            }
        }
        "action_cancel" if rng.usize(0..4) == 0 => {
            json!({ "res_model": "sale.order.cancel", "type": "ir.actions.act_window" })
        }
        _ => json!(true),
    }
}

fn odoo(req: &Request, vocab: &Vocab, rng: &Rng) -> Answer {
    if req.path.ends_with("/jsonrpc") {
        let params = &req.body["params"];
        let result = match params["method"].as_str() {
            Some("authenticate") => json!(pick(rng, &[json!(2), json!(2), json!(false)])),
            _ => {
                let args = params["args"].as_array().cloned().unwrap_or_default();
                let method = args.get(4).and_then(Value::as_str).unwrap_or_default().to_owned();
                let kwargs = args.get(6).cloned().unwrap_or(Value::Null);
                odoo_result(&method, &kwargs, vocab, rng)
            }
        };
        return Answer::ok(json!({ "jsonrpc": "2.0", "id": req.body["id"].clone(), "result": result }));
    }
    let method = req.path.rsplit('/').next().unwrap_or_default();
    let mut answer = Answer::ok(odoo_result(method, &req.body, vocab, rng));
    if rng.usize(0..4) == 0 {
        answer.headers.push(("x-ratelimit-limit".into(), b"100".to_vec()));
        answer.headers.push(("x-ratelimit-remaining".into(), pick(rng, &["90", "0", "-3", "abc"]).into()));
        answer.headers.push(("x-ratelimit-reset".into(), pick(rng, &["0.1", "NaN", "inf", ""]).into()));
    }
    answer
}

// ---- Tryton ----

fn tryton_decimal(rng: &Rng, text: &str) -> Value {
    if rng.usize(0..4) == 0 {
        json!(text.parse::<f64>().unwrap_or(0.0))
    } else {
        json!({ "__class__": "Decimal", "decimal": text })
    }
}

fn tryton_datetime(rng: &Rng) -> Value {
    json!({ "__class__": "datetime", "year": 2026, "month": 11, "day": rng.u32(1..29), "hour": rng.u32(..24),
        "minute": rng.u32(..60), "second": rng.u32(..60), "microsecond": rng.u32(..1_000_000) })
}

fn tryton_field(f: &str, vocab: &Vocab, rng: &Rng) -> Value {
    match f {
        "write_date" => {
            if rng.bool() {
                Value::Null
            } else {
                tryton_datetime(rng)
            }
        }
        "create_date" => tryton_datetime(rng),
        "number" => json!(format!("SO{:04}", rng.u32(..9999))),
        "state" => json!(pick(
            rng,
            &["draft", "quotation", "confirmed", "processing", "done", "cancelled", "assigned", "packed"]
        )),
        "code" => json!(vocab.sku(rng)),
        "quantity" | "weight" | "list_price_used" | "total_amount" => {
            tryton_decimal(rng, pick(rng, &["3", "0.4", "44.46"]))
        }
        "active" => json!(pick(rng, &[json!(true), json!(false), json!(1)])),
        "street" => json!("1 Main St\nBack building"),
        "city" => json!("Berlin"),
        "postal_code" => json!("10115"),
        "party_name" | "name" => json!("Ada Lovelace"),
        "type" => json!(pick(rng, &["email", "phone", "mobile"])),
        "value" => json!(vocab.email(rng)),
        "shipment" => json!(format!("stock.shipment.out,{}", rng.u32(1..50))),
        "origin" => json!(format!("sale.line,{}", rng.u32(1..50))),
        "reference" | "shipping_reference" => {
            if rng.bool() {
                json!(ORDER_ID)
            } else {
                Value::Null
            }
        }
        "sequence" => json!(rng.u32(..10)),
        "description" => json!("order"),
        // Many2one fields are ids.
        _ => json!(rng.u32(1..50)),
    }
}

fn tryton_rows(fields: &[String], limit: usize, vocab: &Vocab, rng: &Rng) -> Value {
    let n = if limit <= 200 && rng.usize(0..5) == 0 { limit } else { some(rng).min(limit) };
    let rows = (0..n)
        .map(|_| {
            let mut row = Map::new();
            row.insert("id".into(), json!(rng.u32(1..500)));
            for f in fields {
                match f.split_once('.') {
                    // `product.code` comes back as `"product.": {"code": ...}`.
                    Some((outer, inner)) => {
                        let key = format!("{outer}.");
                        let sub = row.entry(key).or_insert_with(|| json!({ "id": rng.u32(1..50) }));
                        let v = match inner {
                            "code" if outer == "country" || outer == "currency" => {
                                json!(pick(rng, &["DE", "EUR"]))
                            }
                            "symbol" => json!(pick(rng, &["kg", "g", "lb", "oz", "t"])),
                            "list_price" => tryton_decimal(rng, "12.50"),
                            _ => tryton_field(inner, vocab, rng),
                        };
                        if let Some(o) = sub.as_object_mut() {
                            o.insert(inner.to_owned(), v);
                        }
                    }
                    None => drop(row.insert(f.clone(), tryton_field(f, vocab, rng))),
                }
            }
            Value::Object(row)
        })
        .collect();
    Value::Array(rows)
}

fn tryton(req: &Request, vocab: &Vocab, rng: &Rng) -> Answer {
    let method = req.body["method"].as_str().unwrap_or_default();
    let params = req.body["params"].as_array().cloned().unwrap_or_default();
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let result = if method == "common.db.login" {
        json!([rng.u32(1..5), format!("session{}", rng.u32(..100_000))])
    } else if method.ends_with("get_preferences") {
        json!({ "company": pick(rng, &[json!(1), json!(null)]), "companies": [1], "language": "en", "employee": null, "locale": {} })
    } else if method.ends_with(".search_read") {
        let limit = params.get(2).and_then(Value::as_u64).map_or(1000, |l| l as usize);
        let mut rows = tryton_rows(&strings(params.get(4)), limit, vocab, rng);
        agree(&mut rows, params.first().unwrap_or(&Value::Null), rng);
        rows
    } else if method.ends_with(".read") {
        tryton_rows(&strings(params.get(1)), 1, vocab, rng)
    } else if method.ends_with(".create") {
        json!([rng.u32(1..500)])
    } else if method.ends_with(".fields_get") {
        if rng.usize(0..5) == 0 {
            json!({})
        } else {
            json!({ "shipping_reference": { "type": "char", "string": "Shipping Reference" } })
        }
    } else {
        Value::Null
    };
    Answer::ok(json!({ "id": req.body["id"].clone(), "result": result }))
}

// ---- EasyPost ----

fn easypost_shipment(rng: &Rng, vocab: &Vocab, bought: bool) -> Value {
    let mut s = json!({
        "id": format!("shp_{}", rng.u32(..1_000_000)), "object": "Shipment", "mode": "test",
        "reference": if rng.usize(0..4) > 0 { REFERENCE.to_owned() } else { "MAT-DN-9999".into() },
        "created_at": time_rfc3339(rng), "status": "unknown",
        "rates": [
            { "id": "rate_1", "object": "Rate", "carrier": "USPS", "service": "Priority", "rate": "7.58", "currency": "USD" },
            { "id": "rate_2", "object": "Rate", "carrier": "UPS", "service": "Ground", "rate": pick(rng, &["9.10", "free", "4.2"]), "currency": "USD" },
        ],
        "selected_rate": null, "tracking_code": null, "postage_label": null, "tracker": null,
    });
    if bought {
        s["selected_rate"] = json!({ "id": "rate_1", "carrier": "USPS", "service": "Priority", "rate": "7.58" });
        s["tracking_code"] = json!(vocab.tracking(rng));
        s["postage_label"] = json!({ "label_url": "https://easypost-files.s3.amazonaws.com/label.png" });
        s["tracker"] = json!({ "id": "trk_1", "public_url": "https://track.easypost.com/djE6" });
    }
    s
}

fn easypost(req: &Request, vocab: &Vocab, rng: &Rng) -> Answer {
    let rest = req.path.split("/v2/").nth(1).unwrap_or_default();
    let parts: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let body = match (req.method.as_str(), parts.as_slice()) {
        ("GET", ["shipments"]) => json!({
            "shipments": Value::Array((0..some(rng)).map(|_| easypost_shipment(rng, vocab, rng.bool())).collect()),
            "has_more": rng.usize(0..4) == 0,
        }),
        ("POST", ["shipments"]) => easypost_shipment(rng, vocab, false),
        ("POST", ["shipments", _, "buy"]) | ("GET", ["shipments", _]) => easypost_shipment(rng, vocab, true),
        ("GET", ["trackers"]) => {
            let code = req.param("tracking_code").unwrap_or(TRACKING).to_owned();
            json!({ "trackers": Value::Array((0..rng.usize(0..3)).map(|_| json!({
                "id": "trk_1", "tracking_code": if rng.bool() { code.clone() } else { vocab.tracking(rng) },
                "shipment_id": pick(rng, &[json!("shp_1"), json!(null)]),
                "tracking_details": Value::Array((0..some(rng)).map(|_| json!({
                    "status": pick(rng, &["pre_transit", "in_transit", "delivered", "weird"]),
                    "message": pick(rng, &[json!("Arrived at facility"), json!(null)]),
                    "datetime": time_rfc3339(rng),
                })).collect()),
            })).collect()), "has_more": false })
        }
        _ => json!({}),
    };
    Answer::ok(body)
}

// ---- Karrio ----

fn karrio_shipment(rng: &Rng, vocab: &Vocab, status: &str) -> Value {
    let bought = status != "draft";
    json!({
        "id": format!("shp_{}", rng.u32(..1_000_000)), "object_type": "shipment", "status": status,
        "reference": if rng.usize(0..4) > 0 { REFERENCE } else { "other" },
        "metadata": { "ferry_reference": REFERENCE, "ferry_order": ORDER_ID },
        "carrier_name": if bought { json!("dhl_express") } else { json!(null) },
        "service": if bought { json!("dhl_express_worldwide") } else { json!(null) },
        "tracking_number": if bought { json!(vocab.tracking(rng)) } else { json!(null) },
        "tracker_id": if bought && rng.bool() { json!("trk_1") } else { json!(null) },
        "label_url": if bought { json!(pick(rng, &["/v1/shipments/shp_1/label.pdf", "https://karrio.example.com/label.pdf"])) } else { json!(null) },
        "tracking_url": if bought { json!(pick(rng, &["https://track.example.com/1", "/v1/trackers/1"])) } else { json!(null) },
        "selected_rate": if bought { json!({ "id": "rat_1", "carrier_name": "dhl_express", "service": "dhl_express_worldwide", "total_charge": 12.5 }) } else { json!(null) },
        "rates": [
            { "id": "rat_1", "carrier_name": "dhl_express", "service": "dhl_express_worldwide", "total_charge": 12.5, "currency": "EUR" },
            { "id": "rat_2", "carrier_name": "ups", "service": "ups_standard", "total_charge": pick(rng, &[json!(9.1), json!("9.10")]), "currency": "EUR" },
        ],
        "messages": [],
    })
}

fn karrio(req: &Request, vocab: &Vocab, rng: &Rng) -> Answer {
    let rest = req.path.split("/v1/").nth(1).unwrap_or_default();
    let parts: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let body = match (req.method.as_str(), parts.as_slice()) {
        ("GET", ["shipments"]) => json!({
            "count": 3,
            "next": if rng.usize(0..4) == 0 { json!("/v1/shipments?offset=100") } else { json!(null) },
            "previous": null,
            "results": Value::Array((0..some(rng)).map(|_| karrio_shipment(rng, vocab, pick(rng, &["draft", "purchased", "cancelled", "shipped"]))).collect()),
        }),
        ("POST", ["shipments"]) => karrio_shipment(rng, vocab, "draft"),
        ("POST", ["shipments", _, "purchase"]) | ("GET", ["shipments", _]) => karrio_shipment(rng, vocab, "purchased"),
        ("GET", ["trackers", _]) => json!({
            "id": "trk_1", "tracking_number": TRACKING, "carrier_name": "dhl_express", "status": "in_transit",
            "events": Value::Array((0..some(rng)).map(|_| {
                if rng.bool() {
                    json!({ "date": "2026-11-26", "time": pick(rng, &["10:30 AM", "14:05", "14:05:09", "7:00PM"]), "status": "in_transit", "description": "Arrived", "code": "AF" })
                } else {
                    json!({ "timestamp": pick(rng, &["2026-11-26T10:30:00Z", "2026-11-26T10:30:00.123"]), "status": "delivered", "description": null, "code": "OK" })
                }
            }).collect()),
        }),
        _ => json!({}),
    };
    Answer::ok(body)
}
