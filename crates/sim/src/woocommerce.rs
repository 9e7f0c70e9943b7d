//! WooCommerce REST API v3 emulator: orders (with refunds and notes),
//! products and variations (with batch updates), customers, under
//! `/wp-json/wc/v3`.
//!
//! Follows the vendor's docs (https://woocommerce.github.io/woocommerce-rest-api-docs/):
//! - `#authentication` — HTTP Basic auth with the consumer key as user name
//!   and the consumer secret as password;
//! - `#pagination` — `page` / `per_page` (1 to 100, default 10), the
//!   `X-WP-Total` and `X-WP-TotalPages` headers and a `Link` header;
//! - `#errors` — `{"code": ..., "message": ..., "data": {"status": ...}}`,
//!   with `data.params` naming each invalid parameter (WordPress's
//!   `rest_invalid_param`);
//! - `#list-all-orders` — `modified_after` / `modified_before` (exclusive),
//!   `dates_are_gmt`, `orderby` (`date`, `id`, `modified`...), `order`,
//!   `status`; the order properties (`date_*` in the site's time zone and
//!   `date_*_gmt`, `prices_include_tax`, `line_items`, `tax_lines`,
//!   `shipping_lines`, `refunds`...); `#update-an-order` (`status`);
//! - `#order-refunds` — `GET /orders/<id>/refunds`, refunded `line_items`
//!   with negative quantities and amounts;
//! - `#order-notes` — `GET`/`POST /orders/<id>/notes` (`note`, `customer_note`);
//! - `#products`, `#product-variations` — `sku`, `regular_price` (text),
//!   `status` (`draft`, `pending`, `private`, `publish`), `manage_stock`,
//!   `stock_quantity`, `?sku=`, and the batch endpoints (at most 100 items);
//! - `#customers` — `billing` / `shipping`, `?email=`, `role`, `orderby`
//!   (`id`, `include`, `name`, `registered_date`); customers have no
//!   `modified_after` filter;
//! - https://developer.woocommerce.com/docs/apis/store-api/rate-limiting —
//!   `RateLimit-Limit`, `-Remaining`, `-Reset` (a Unix time) and 429, which
//!   this emulator applies to the REST API when `set_rate_window` is on (as
//!   hosts that rate-limit the whole site do).
//!
//! The emulated site is in Europe/Berlin, so local and GMT dates differ.
//! The emulator is stricter than WooCommerce in one way: a `regular_price`
//! that is not a decimal number is refused, not stored as empty.

// Helpers return ready-made WooCommerce error responses as their `Err`.
#![allow(clippy::result_large_err)]

mod api;
mod render;

use crate::seed::{self, SeedOrder, SeedProduct};
use crate::SimOptions;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use chrono::{DateTime, SubsecRound, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub use api::router;

/// The consumer key and secret the emulator accepts (made up; safe to print).
pub const DEMO_WOO_KEY: &str = "ck_demo_0000:cs_demo_0000";

/// The emulated shop.
pub struct WooSim {
    /// The `Authorization` header the demo key gives.
    auth: String,
    shop: Mutex<Shop>,
    seed: u64,
    catalog: Vec<SeedProduct>,
    pub faults: crate::Faults,
    window: Mutex<Option<RateWindow>>,
    /// Requests answered 429 by the rate window (a well-paced client sees none).
    throttled: AtomicU64,
}

/// A fixed window of `limit` requests per `length`.
struct RateWindow {
    limit: u32,
    length: Duration,
    started: Instant,
    started_at: DateTime<Utc>,
    used: u32,
}

/// Everything the shop holds.
#[derive(Default)]
pub(crate) struct Shop {
    /// Ids of refunds, notes and order items (WordPress post and comment ids).
    next_id: u64,
    orders: Vec<StoredOrder>,
    products: Vec<StoredProduct>,
    customers: Vec<StoredCustomer>,
    notes: HashMap<u64, Vec<Value>>,
    refunds: HashMap<u64, Vec<Value>>,
}

pub(crate) struct StoredOrder {
    id: u64,
    created: DateTime<Utc>,
    modified: DateTime<Utc>,
    json: Value,
}

pub(crate) struct StoredProduct {
    id: u64,
    name: String,
    /// Empty for none, as WooCommerce has it.
    sku: String,
    regular_price: Decimal,
    status: String,
    manage_stock: bool,
    stock: Option<i64>,
    created: DateTime<Utc>,
    modified: DateTime<Utc>,
    /// Non-empty for a variable product.
    variations: Vec<StoredVariation>,
}

pub(crate) struct StoredVariation {
    id: u64,
    sku: String,
    /// The value of the product's one attribute, e.g. `Blue`.
    option: String,
    regular_price: Decimal,
    status: String,
    manage_stock: bool,
    stock: Option<i64>,
    created: DateTime<Utc>,
    modified: DateTime<Utc>,
}

pub(crate) struct StoredCustomer {
    id: u64,
    email: String,
    first_name: String,
    last_name: String,
    billing: Value,
    shipping: Value,
    created: DateTime<Utc>,
    modified: DateTime<Utc>,
}

impl Shop {
    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// (product id, variation id) of `sku`; variation id 0 for a simple product.
    fn ids_of(&self, sku: &str) -> Option<(u64, u64)> {
        self.products.iter().find_map(|p| {
            if !p.sku.is_empty() && p.sku == sku && p.variations.is_empty() {
                return Some((p.id, 0));
            }
            p.variations.iter().find(|v| v.sku == sku).map(|v| (p.id, v.id))
        })
    }

    fn order_mut(&mut self, id: u64) -> Option<&mut StoredOrder> {
        self.orders.iter_mut().find(|o| o.id == id)
    }
}

impl StoredOrder {
    fn touch(&mut self, at: DateTime<Utc>) {
        let at = at.trunc_subsecs(0).max(self.modified);
        self.modified = at;
        self.json["date_modified"] = json!(render::local(at));
        self.json["date_modified_gmt"] = json!(render::gmt(at));
    }
}

/// A stable number for a text (FNV-1a).
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The seeded products: the first two catalog entries are the two
/// variations of one variable product (as a shop sells a mug in two
/// styles), the rest simple products.
fn seed_products(catalog: &[SeedProduct], at: DateTime<Utc>) -> Vec<StoredProduct> {
    let mut out = Vec::new();
    let mut id = 10;
    let simple = |id: u64, p: &SeedProduct| StoredProduct {
        id,
        name: p.title.clone(),
        sku: p.sku.clone(),
        regular_price: p.price,
        status: "publish".into(),
        manage_stock: true,
        stock: Some(25),
        created: at,
        modified: at,
        variations: vec![],
    };
    let (pair, rest) = catalog.split_at(catalog.len().min(2));
    if let [a, b] = pair {
        let name = a.title.split_once(' ').map_or(a.title.as_str(), |(_, noun)| noun).to_owned();
        let parent_sku = a.sku.split('-').next().unwrap_or_default().to_owned();
        let variations = [a, b]
            .iter()
            .enumerate()
            .map(|(i, p)| StoredVariation {
                id: id + 1 + i as u64,
                sku: p.sku.clone(),
                option: p.title.split_whitespace().next().unwrap_or_default().to_owned(),
                regular_price: p.price,
                status: "publish".into(),
                manage_stock: true,
                stock: Some(25),
                created: at,
                modified: at,
            })
            .collect();
        out.push(StoredProduct {
            id,
            name,
            sku: parent_sku,
            regular_price: Decimal::ZERO,
            status: "publish".into(),
            manage_stock: false,
            stock: None,
            created: at,
            modified: at,
            variations,
        });
        id += 3;
    } else {
        out.extend(pair.iter().enumerate().map(|(i, p)| simple(id + i as u64, p)));
        id += pair.len() as u64;
    }
    out.extend(rest.iter().enumerate().map(|(i, p)| simple(id + i as u64, p)));
    out
}

impl WooSim {
    /// A shop with `catalog` for sale and `opts.orders` seeded orders, the
    /// newest at `opts.now`; customers are made from the orders (every
    /// seventh order is a guest's).
    pub fn seeded(opts: &SimOptions, catalog: &[SeedProduct]) -> Self {
        let (key, secret) = DEMO_WOO_KEY.split_once(':').unwrap_or((DEMO_WOO_KEY, ""));
        let start = opts.now.trunc_subsecs(0) - chrono::Duration::days(30);
        let sim = Self {
            auth: format!("Basic {}", base64(format!("{key}:{secret}").as_bytes())),
            shop: Mutex::new(Shop { next_id: 5000, products: seed_products(catalog, start), ..Shop::default() }),
            seed: opts.seed,
            catalog: catalog.to_vec(),
            faults: crate::Faults::default(),
            window: Mutex::new(None),
            throttled: AtomicU64::new(0),
        };
        for o in seed::orders(opts.seed, opts.orders, 1001, opts.now, catalog) {
            let at = o.created_at;
            sim.add_order(&o, at);
        }
        sim
    }

    pub(crate) fn shop(&self) -> MutexGuard<'_, Shop> {
        self.shop.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `o` as a `processing` order created (and last modified) at
    /// `at`; its id and number are `o.number`. Returns the id.
    pub fn add_order(&self, o: &SeedOrder, at: DateTime<Utc>) -> u64 {
        let at = at.trunc_subsecs(0);
        let mut shop = self.shop();
        let guest = o.number.is_multiple_of(7);
        let address_1 = format!("Hauptstraße {}", o.number % 90 + 1);
        let phone = format!("+49 30 {:07}", fnv(&o.email) % 10_000_000);
        let customer_id = if guest {
            0
        } else {
            match shop.customers.iter().position(|c| c.email.eq_ignore_ascii_case(&o.email)) {
                Some(i) => shop.customers[i].id,
                None => {
                    let id = 2 + shop.customers.len() as u64;
                    shop.customers.push(StoredCustomer {
                        id,
                        email: o.email.clone(),
                        first_name: o.first_name.clone(),
                        last_name: o.last_name.clone(),
                        billing: Value::Null,
                        shipping: Value::Null,
                        created: at,
                        modified: at,
                    });
                    id
                }
            }
        };
        let buyer = render::Buyer {
            customer_id,
            first_name: &o.first_name,
            last_name: &o.last_name,
            email: &o.email,
            address_1,
            city: o.city.0,
            postcode: o.city.1,
            country: o.city.2,
            phone,
        };
        if let Some(c) = shop.customers.iter_mut().find(|c| c.id == customer_id) {
            c.billing = render::address(&buyer, true);
            c.shipping = render::address(&buyer, false);
            c.modified = c.modified.max(at);
        }
        let products: Vec<render::LineProduct> = o
            .lines
            .iter()
            .map(|(p, _)| {
                let (product_id, variation_id) = shop.ids_of(&p.sku).unwrap_or((0, 0));
                render::LineProduct { product_id, variation_id }
            })
            .collect();
        let first_item = shop.next_id;
        shop.next_id += o.lines.len() as u64 + 3;
        let json = render::order(o.number, o, &products, &buyer, "processing", at, first_item + 1);
        shop.orders.retain(|s| s.id != o.number);
        shop.orders.push(StoredOrder { id: o.number, created: at, modified: at, json });
        o.number
    }

    /// Places `n` new orders at `at` (new customers shopping). Returns their ids.
    pub fn place_orders(&self, n: usize, at: DateTime<Utc>) -> Vec<u64> {
        let next = self.shop().orders.iter().map(|o| o.id + 1).max().unwrap_or(1001);
        let fresh = seed::orders(self.seed.wrapping_add(next), n, next, at, &self.catalog);
        fresh.iter().map(|o| self.add_order(o, at)).collect()
    }

    /// Cancels order `id` at `at` (a customer changed their mind).
    pub fn cancel_order(&self, id: u64, at: DateTime<Utc>) -> bool {
        self.set_order_status(id, "cancelled", at)
    }

    /// Sets order `id`'s status, as a person does in the admin.
    pub fn set_order_status(&self, id: u64, status: &str, at: DateTime<Utc>) -> bool {
        let mut shop = self.shop();
        let Some(o) = shop.order_mut(id) else { return false };
        o.json["status"] = json!(status);
        o.touch(at);
        true
    }

    /// Moves order `id`'s modification time to `at` (someone edited it).
    pub fn touch_order(&self, id: u64, at: DateTime<Utc>) -> bool {
        let mut shop = self.shop();
        let Some(o) = shop.order_mut(id) else { return false };
        o.modified = at.trunc_subsecs(0);
        o.touch(at);
        true
    }

    /// A person refunds order `id` in the admin: `lines` (SKU, quantity)
    /// are given back at what the customer paid for them, plus `extra`
    /// (shipping or goodwill, with tax). Returns the refund's id, or `None`
    /// for an unknown order, SKU or amount.
    pub fn refund_order(
        &self,
        id: u64,
        lines: &[(&str, i64)],
        extra: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Option<u64> {
        let at = at.trunc_subsecs(0);
        let mut shop = self.shop();
        let refund_id = shop.next_id();
        let mut item_id = shop.next_id;
        shop.next_id += lines.len() as u64;
        let o = shop.order_mut(id)?;
        let mut amount: Decimal = extra.parse().ok()?;
        let mut items = Vec::new();
        for (sku, qty) in lines {
            let item = o.json["line_items"].as_array()?.iter().find(|l| l["sku"] == *sku)?;
            let ordered = Decimal::from(item["quantity"].as_i64()?.max(1));
            let part = |k: &str| -> Option<Decimal> {
                let v: Decimal = item[k].as_str()?.parse().ok()?;
                Some((v * Decimal::from(*qty) / ordered).round_dp(2))
            };
            let (net, tax) = (part("total")?, part("total_tax")?);
            amount += net + tax;
            item_id += 1;
            items.push(json!({
                "id": item_id, "name": item["name"], "product_id": item["product_id"],
                "variation_id": item["variation_id"], "quantity": -qty, "tax_class": "",
                "subtotal": render::amount(-net), "subtotal_tax": render::amount(-tax),
                "total": render::amount(-net), "total_tax": render::amount(-tax),
                "taxes": [], "meta_data": [], "sku": sku,
                "price": -(net / Decimal::from((*qty).max(1))).to_string().parse::<f64>().unwrap_or(0.0),
            }));
        }
        let refund = json!({
            "id": refund_id, "date_created": render::local(at), "date_created_gmt": render::gmt(at),
            "amount": render::amount(amount), "reason": reason, "refunded_by": 1, "refunded_payment": false,
            "meta_data": [], "line_items": items, "shipping_lines": [], "tax_lines": [], "fee_lines": [],
        });
        let summary = json!({ "id": refund_id, "reason": reason, "total": render::amount(-amount) });
        match o.json["refunds"].as_array_mut() {
            Some(list) => list.insert(0, summary),
            None => o.json["refunds"] = json!([summary]),
        }
        let total: Decimal = o.json["total"].as_str()?.parse().ok()?;
        let refunded: Decimal = o.json["refunds"]
            .as_array()?
            .iter()
            .filter_map(|r| r["total"].as_str()?.parse::<Decimal>().ok())
            .map(|t| -t)
            .sum();
        if refunded >= total {
            o.json["status"] = json!("refunded");
        }
        o.touch(at);
        shop.refunds.entry(id).or_default().insert(0, refund);
        Some(refund_id)
    }

    /// One order as the API shows it.
    pub fn order(&self, id: u64) -> Option<Value> {
        let shop = self.shop();
        shop.orders.iter().find(|o| o.id == id).map(|o| o.json.clone())
    }

    /// Every order's id, oldest first.
    pub fn order_ids(&self) -> Vec<u64> {
        self.shop().orders.iter().map(|o| o.id).collect()
    }

    /// Order `id`'s status, e.g. `processing`.
    pub fn order_status(&self, id: u64) -> Option<String> {
        self.order(id).and_then(|o| o["status"].as_str().map(str::to_owned))
    }

    /// (id, `total`) of every order.
    pub fn order_totals(&self) -> HashMap<u64, String> {
        let shop = self.shop();
        shop.orders.iter().map(|o| (o.id, o.json["total"].as_str().unwrap_or_default().to_owned())).collect()
    }

    /// (note, customer_note) of order `id`'s notes, oldest first.
    pub fn order_notes(&self, id: u64) -> Vec<(String, bool)> {
        let shop = self.shop();
        let notes = shop.notes.get(&id).map(Vec::as_slice).unwrap_or_default();
        notes
            .iter()
            .rev()
            .map(|n| (n["note"].as_str().unwrap_or_default().to_owned(), n["customer_note"] == true))
            .collect()
    }

    /// The stock quantity of `sku` (`None`: not managed, or no such SKU).
    pub fn stock(&self, sku: &str) -> Option<i64> {
        let shop = self.shop();
        let (pid, vid) = shop.ids_of(sku)?;
        let p = shop.products.iter().find(|p| p.id == pid)?;
        match p.variations.iter().find(|v| v.id == vid) {
            Some(v) => v.manage_stock.then_some(v.stock).flatten(),
            None => p.manage_stock.then_some(p.stock).flatten(),
        }
    }

    /// A person counts the shelf and sets `sku`'s stock in the admin.
    pub fn set_stock(&self, sku: &str, quantity: i64) -> bool {
        self.edit_sku(sku, |stock, _, _| *stock = Some(quantity))
    }

    /// `sku`'s regular price.
    pub fn price(&self, sku: &str) -> Option<Decimal> {
        let shop = self.shop();
        let (pid, vid) = shop.ids_of(sku)?;
        let p = shop.products.iter().find(|p| p.id == pid)?;
        Some(p.variations.iter().find(|v| v.id == vid).map_or(p.regular_price, |v| v.regular_price))
    }

    /// A person changes `sku`'s regular price in the admin.
    pub fn set_price(&self, sku: &str, price: &str) -> bool {
        let Ok(price) = price.parse::<Decimal>() else { return false };
        self.edit_sku(sku, |_, regular_price, _| *regular_price = price)
    }

    /// The name and status of the product that sells `sku` (for a
    /// variation: its parent's name and the variation's status).
    pub fn product(&self, sku: &str) -> Option<(String, String)> {
        let shop = self.shop();
        let (pid, vid) = shop.ids_of(sku)?;
        let p = shop.products.iter().find(|p| p.id == pid)?;
        let status = p.variations.iter().find(|v| v.id == vid).map_or(&p.status, |v| &v.status);
        Some((p.name.clone(), status.clone()))
    }

    /// A person renames a product or changes its status (`publish`,
    /// `draft`, `private`, `pending`) in the admin.
    pub fn edit_product(&self, sku: &str, name: Option<&str>, status: Option<&str>) -> bool {
        let mut shop = self.shop();
        let Some((pid, vid)) = shop.ids_of(sku) else { return false };
        let Some(p) = shop.products.iter_mut().find(|p| p.id == pid) else { return false };
        let now = Utc::now().trunc_subsecs(0);
        if let Some(n) = name {
            p.name = n.to_owned();
        }
        p.modified = now;
        if let Some(s) = status {
            match p.variations.iter_mut().find(|v| v.id == vid) {
                Some(v) => {
                    v.status = s.to_owned();
                    v.modified = now;
                }
                None => p.status = s.to_owned(),
            }
        }
        true
    }

    fn edit_sku(&self, sku: &str, change: impl FnOnce(&mut Option<i64>, &mut Decimal, &mut bool)) -> bool {
        let mut shop = self.shop();
        let Some((pid, vid)) = shop.ids_of(sku) else { return false };
        let Some(p) = shop.products.iter_mut().find(|p| p.id == pid) else { return false };
        let now = Utc::now().trunc_subsecs(0);
        match p.variations.iter_mut().find(|v| v.id == vid) {
            Some(v) => {
                change(&mut v.stock, &mut v.regular_price, &mut v.manage_stock);
                v.modified = now;
            }
            None => {
                change(&mut p.stock, &mut p.regular_price, &mut p.manage_stock);
                p.modified = now;
            }
        }
        true
    }

    /// Every customer as `GET /customers/<id>` shows them, by id.
    pub fn customers(&self) -> Vec<Value> {
        let shop = self.shop();
        shop.customers.iter().map(render::customer).collect()
    }

    /// One customer as the API shows them.
    pub fn customer(&self, id: u64) -> Option<Value> {
        let shop = self.shop();
        shop.customers.iter().find(|c| c.id == id).map(render::customer)
    }

    /// The id of the customer with this email (without case).
    pub fn customer_id(&self, email: &str) -> Option<u64> {
        let shop = self.shop();
        shop.customers.iter().find(|c| c.email.eq_ignore_ascii_case(email)).map(|c| c.id)
    }

    /// A person edits customer `id` in the admin at `at`: `field` is
    /// `email`, `first_name`, `last_name` or `billing.<key>` /
    /// `shipping.<key>` (e.g. `billing.phone`, `billing.city`).
    pub fn edit_customer(&self, id: u64, field: &str, value: &str, at: DateTime<Utc>) -> bool {
        let mut shop = self.shop();
        let Some(c) = shop.customers.iter_mut().find(|c| c.id == id) else { return false };
        match field.split_once('.') {
            None if field == "email" => c.email = value.to_owned(),
            None if field == "first_name" => c.first_name = value.to_owned(),
            None if field == "last_name" => c.last_name = value.to_owned(),
            Some(("billing", key)) if c.billing.get(key).is_some() => c.billing[key] = json!(value),
            Some(("shipping", key)) if c.shipping.get(key).is_some() => c.shipping[key] = json!(value),
            _ => return false,
        }
        c.modified = at.trunc_subsecs(0);
        true
    }

    /// Limits the API to `limit` requests per `length`, announced in
    /// `RateLimit-*` headers and enforced with 429 (`None`: no limit).
    pub fn set_rate_window(&self, window: Option<(u32, Duration)>) {
        *self.window.lock().unwrap_or_else(|e| e.into_inner()) = window.map(|(limit, length)| RateWindow {
            limit,
            length,
            started: Instant::now(),
            started_at: Utc::now(),
            used: 0,
        });
    }

    /// Requests refused by the rate window.
    pub fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::SeqCst)
    }

    /// Counts a request against the window: `Err(wait)` when it is spent;
    /// `Ok(Some((limit, remaining, reset unix time)))` for the headers.
    fn take_window(&self) -> Result<Option<(u32, u32, i64)>, Duration> {
        let mut guard = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let Some(w) = guard.as_mut() else { return Ok(None) };
        if w.started.elapsed() >= w.length {
            w.started = Instant::now();
            w.started_at = Utc::now();
            w.used = 0;
        }
        let ends = w.started_at + chrono::Duration::from_std(w.length).unwrap_or_default();
        // A Unix time in whole seconds, rounded up: waiting for it never
        // comes back before the window has really ended.
        let reset = ends.timestamp() + i64::from(ends.timestamp_subsec_nanos() > 0);
        if w.used >= w.limit {
            self.throttled.fetch_add(1, Ordering::SeqCst);
            return Err(w.length.saturating_sub(w.started.elapsed()));
        }
        w.used += 1;
        Ok(Some((w.limit, w.limit - w.used, reset)))
    }
}

/// A WooCommerce error response.
pub(crate) fn wc_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "code": code, "message": message, "data": { "status": status.as_u16() } }))).into_response()
}

/// WordPress's answer to invalid parameters, naming each one in `data.params`.
pub(crate) fn invalid_params(params: &[(String, String)]) -> Response {
    let names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    let map: serde_json::Map<String, Value> = params.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let body = json!({
        "code": "rest_invalid_param",
        "message": format!("Invalid parameter(s): {}", names.join(", ")),
        "data": { "status": 400, "params": map, "details": {} },
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

fn rate_limited(wait: Duration) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut r = wc_error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_exceeded",
        &format!("Too many requests. Please wait {secs} seconds before trying again."),
    );
    let value = HeaderValue::from(secs.max(1));
    r.headers_mut().insert(header::RETRY_AFTER, value.clone());
    r.headers_mut().insert("ratelimit-retry-after", value);
    r
}

/// Checks auth and the fault knobs. `Err` is the answer to send now;
/// `Ok(Some(d))` means answer only after `d` (past a client's timeout).
async fn guard(sim: &WooSim, headers: &HeaderMap) -> Result<Option<Duration>, Response> {
    match headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        None => {
            return Err(wc_error(
                StatusCode::UNAUTHORIZED,
                "woocommerce_rest_cannot_view",
                "Sorry, you cannot list resources.",
            ))
        }
        Some(a) if a != sim.auth || sim.faults.auth_revoked() => {
            return Err(wc_error(
                StatusCode::UNAUTHORIZED,
                "woocommerce_rest_authentication_error",
                "Consumer key is invalid.",
            ))
        }
        Some(_) => {}
    }
    crate::faults::before_work(&sim.faults, || rate_limited(Duration::from_secs(1))).await
}

/// Every handler's frame, as the other emulators': counts the request in
/// flight, applies auth, the rate window and the fault knobs, does the
/// work, loses the answer to a committed write when told to, cuts a body
/// short when told to, and answers late after the work when chaos says so.
pub(crate) async fn serve(
    sim: &WooSim,
    headers: &HeaderMap,
    write: bool,
    work: impl std::future::Future<Output = Response>,
) -> Response {
    let _in_flight = sim.faults.enter();
    let slow = match guard(sim, headers).await {
        Ok(slow) => slow,
        Err(r) => return r,
    };
    let window = match sim.take_window() {
        Ok(w) => w,
        Err(wait) => return rate_limited(wait),
    };
    let corrupt = sim.faults.take_malformed();
    let mut response = work.await;
    if let Some((limit, remaining, reset)) = window {
        let h = response.headers_mut();
        h.insert("ratelimit-limit", HeaderValue::from(limit));
        h.insert("ratelimit-remaining", HeaderValue::from(remaining));
        h.insert("ratelimit-reset", HeaderValue::from(reset));
    }
    crate::faults::after_work(&sim.faults, write, corrupt, slow, response).await
}

/// Standard base64 with padding (for the expected Basic credentials).
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The emulator serving on loopback by itself (the shop's address is
/// `url()`, the API under `/wp-json/wc/v3`). Dropping it stops the server.
pub struct RunningWoo {
    pub sim: Arc<WooSim>,
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl RunningWoo {
    /// Serves `sim` on `127.0.0.1` at a free port.
    pub async fn start(sim: Arc<WooSim>) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let app: Router = router(sim.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("WooCommerce emulator stopped: {e}");
            }
        });
        Ok(Self { sim, addr, task })
    }

    /// The shop's address, as a connection's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningWoo {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests;
