//! Faithful emulators of the external systems, served over loopback HTTP:
//! Shopify's GraphQL Admin API under `/shopify`, WooCommerce's REST API
//! under `/woocommerce`, ERPNext's REST API under `/erpnext`, Odoo's JSON-2
//! and JSON-RPC APIs under `/odoo` and EasyPost's API under `/easypost`. Data is seeded
//! deterministically; each emulator has fault knobs. Tests, benchmarks,
//! `ferry sim` and the demo all use this.

mod calls;
pub mod easypost;
pub mod erpnext;
mod faults;
pub mod odoo;
pub mod seed;
pub mod shopify;
mod tls;
pub mod woocommerce;

pub use faults::{Chaos, Faults, Injected};
pub use odoo::{DEMO_ODOO_DB, DEMO_ODOO_KEY};
pub use tls::{TlsError, TlsFiles};
pub use woocommerce::DEMO_WOO_KEY;

use axum::Router;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::Arc;

/// The credentials the emulators accept (made up; safe to print).
pub const DEMO_SHOPIFY_TOKEN: &str = "shpat_demo_0000000000000000";
pub const DEMO_ERPNEXT_SECRET: &str = "demo_key:demo_secret";
/// The ERP's item code for the demo's gift card (the store calls it GIFTCARD-50).
pub const DEMO_GIFT_CARD_ITEM: &str = "GC-50";
pub const DEMO_EASYPOST_KEY: &str = "EZTK_demo_000000000000";

/// What to seed.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub port: u16,
    pub orders: usize,
    pub seed: u64,
    /// The newest seeded order is updated at this time; older ones before it.
    pub now: DateTime<Utc>,
    /// ERPNext's site time zone.
    pub erp_timezone: chrono_tz::Tz,
    /// Products in the catalog: the 20 seeded ones, and more (`SKU-00021`…)
    /// up to this many, each with stock in the ERP (for benchmarks).
    pub skus: usize,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self { port: 0, orders: 0, seed: 42, now: Utc::now(), erp_timezone: chrono_tz::Europe::Berlin, skus: 0 }
    }
}

/// All emulators' state.
pub struct Sim {
    pub shopify: shopify::ShopifySim,
    pub erpnext: erpnext::ErpNextSim,
    pub easypost: easypost::EasyPostSim,
    pub odoo: Arc<odoo::OdooSim>,
    pub woocommerce: Arc<woocommerce::WooSim>,
    /// Requests answered, by call (`GET /_sim/calls`).
    pub calls: Arc<calls::Calls>,
}

/// Counts taken from the emulators' own data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SimStats {
    pub store_orders: usize,
    pub erp_sales_orders: usize,
    /// Sales Orders beyond the first for the same store order.
    pub duplicates: usize,
    /// Store orders (not cancelled) with no Sales Order.
    pub missing: usize,
    /// Orders cancelled in the store whose Sales Order is still live.
    pub not_cancelled: usize,
    /// Sales Orders whose grand total differs from the store order's total.
    pub total_mismatches: usize,
    /// SKUs whose available stock in the store differs from the ERP's
    /// on hand − reserved.
    pub stock_mismatches: usize,
    /// Store refunds with no credit note in the ERP.
    pub refunds_missing: usize,
    /// Credit notes beyond the first for the same refund.
    pub duplicate_credit_notes: usize,
    /// Credit notes whose total is not minus the refund's.
    pub credit_note_mismatches: usize,
    /// Shopify requests answered THROTTLED or 429.
    pub store_throttled: u64,
    /// Shopify query-cost points charged so far.
    pub store_points_spent: u64,
}

impl Sim {
    pub fn new(opts: &SimOptions) -> Arc<Self> {
        let mut catalog = seed::catalog(opts.seed);
        catalog.extend(seed::more_products(catalog.len(), opts.skus));
        Arc::new(Self {
            shopify: shopify::ShopifySim::seeded(opts, &catalog),
            erpnext: erpnext::ErpNextSim::seeded(opts, &catalog),
            easypost: easypost::EasyPostSim::new(),
            odoo: Arc::new(odoo::OdooSim::seeded(opts, &catalog)),
            woocommerce: Arc::new(woocommerce::WooSim::seeded(opts, &catalog)),
            calls: Default::default(),
        })
    }

    /// Things for a person to see in the demo: two products changed
    /// differently on both sides (a price and a title: conflicts to decide)
    /// and an order with a SKU the ERP does not know (a failure, parked with
    /// the ERP's own words, to fix and replay).
    pub fn stage_demo_story(&self) {
        self.shopify.set_price("MUG-01", "13.90");
        self.erpnext.set_item_price("MUG-01", "14.20");
        self.shopify.edit_product("MUG-02", Some("Linen Mug, hand-thrown"), None);
        self.erpnext.set_field("Item", "MUG-02", "item_name", serde_json::json!("Linen Mug 300 ml"));
        self.shopify.place_custom_order(&[("GIFTCARD-50", "Gift card 50 EUR", 1, "50.00")], Utc::now());
        // The ERP knows the gift card under its own item code: mapping
        // GIFTCARD-50 → GC-50 on the Mappings page lets the order through.
        self.erpnext.add_item(DEMO_GIFT_CARD_ITEM, "Gift card 50 EUR");
    }

    /// The shop's day goes on, one tick at a time (the demo calls it every
    /// few seconds): an order now and then, the warehouse ships the oldest
    /// open order every other tick, and parcels move on; one in seven is
    /// not delivered.
    pub fn tick(&self, n: u64) {
        if n.is_multiple_of(2) {
            self.shopify.place_orders(1, Utc::now());
        }
        if !n.is_multiple_of(2) {
            if let Some(so) = self.erpnext.unshipped_sales_orders().first() {
                self.erpnext.ship_sales_order(so, 0.6);
            }
        }
        self.easypost.move_parcels(7);
    }

    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .nest("/shopify", shopify::router(self.clone()))
            // Also at the root, where public Shopify clients look (they
            // build https://{shop}/admin/api/... and take no path prefix).
            .merge(shopify::router(self.clone()))
            .nest("/erpnext", erpnext::router(self.clone()))
            .nest("/easypost", easypost::router())
            .nest_service("/odoo", odoo::router(self.odoo.clone()))
            .nest_service("/woocommerce", woocommerce::router(self.woocommerce.clone()))
            .route("/_sim/stats", axum::routing::get(stats_handler))
            .route("/_sim/calls", axum::routing::get(calls_handler))
            .layer(axum::middleware::from_fn_with_state(self.calls.clone(), calls::count))
            .with_state(self.clone())
    }

    pub fn stats(&self) -> SimStats {
        let store_ids = self.shopify.order_ids();
        let cancelled: std::collections::HashSet<String> = self.shopify.cancelled_ids().into_iter().collect();
        let refs = self.erpnext.sales_order_refs();
        let mut per_ref = std::collections::HashMap::<&str, (usize, bool)>::new();
        for (r, docstatus) in &refs {
            if let Some(r) = r {
                let e = per_ref.entry(r.as_str()).or_default();
                e.0 += 1;
                e.1 |= *docstatus != 2;
            }
        }
        let duplicates = per_ref.values().map(|(n, _)| n - 1).sum();
        let missing =
            store_ids.iter().filter(|id| !cancelled.contains(*id) && !per_ref.contains_key(id.as_str())).count();
        let not_cancelled =
            cancelled.iter().filter(|id| per_ref.get(id.as_str()).is_some_and(|(_, live)| *live)).count();
        let store_totals = self.shopify.order_totals();
        let total_mismatches = self
            .erpnext
            .sales_order_totals()
            .iter()
            .filter(|(r, erp_total)| {
                let parse = |s: &str| s.parse::<rust_decimal::Decimal>().ok();
                store_totals.get(r).is_none_or(|t| parse(t) != parse(erp_total))
            })
            .count();
        let credit_notes = self.erpnext.credit_notes();
        let store_stock = self.shopify.available_by_sku();
        let refunds = self.shopify.refunds();
        let parse = |s: &str| s.parse::<rust_decimal::Decimal>().ok();
        let notes_of = |id: &str| credit_notes.iter().filter(|(r, _)| r.as_deref() == Some(id)).collect::<Vec<_>>();
        SimStats {
            refunds_missing: refunds.iter().filter(|(id, _)| notes_of(id).is_empty()).count(),
            duplicate_credit_notes: refunds.iter().map(|(id, _)| notes_of(id).len().saturating_sub(1)).sum(),
            credit_note_mismatches: refunds
                .iter()
                .filter(|(id, amount)| notes_of(id).iter().any(|(_, total)| parse(total).map(|t| -t) != parse(amount)))
                .count(),
            store_orders: store_ids.len(),
            store_throttled: self.shopify.throttled.load(std::sync::atomic::Ordering::Relaxed),
            store_points_spent: self.shopify.spent_millipoints.load(std::sync::atomic::Ordering::Relaxed) / 1000,
            erp_sales_orders: refs.iter().filter(|(_, d)| *d != 2).count(),
            duplicates,
            missing,
            not_cancelled,
            total_mismatches,
            stock_mismatches: self
                .erpnext
                .available_stock()
                .iter()
                .filter(|(sku, available)| store_stock.get(sku) != Some(available))
                .count(),
        }
    }
}

async fn calls_handler(
    axum::extract::State(sim): axum::extract::State<Arc<Sim>>,
) -> axum::Json<std::collections::BTreeMap<String, u64>> {
    axum::Json(sim.calls.snapshot())
}

async fn stats_handler(axum::extract::State(sim): axum::extract::State<Arc<Sim>>) -> axum::Json<SimStats> {
    axum::Json(sim.stats())
}

/// Emulators serving on loopback. Dropping it stops the server.
pub struct RunningSim {
    pub sim: Arc<Sim>,
    pub addr: SocketAddr,
    /// `http` or `https`, for the URLs handed out.
    scheme: &'static str,
    task: tokio::task::JoinHandle<()>,
}

impl RunningSim {
    /// Seeds and starts the emulators on `127.0.0.1:port` (0 picks a free port).
    pub async fn start(opts: SimOptions) -> std::io::Result<Self> {
        let sim = Sim::new(&opts);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port)).await?;
        let addr = listener.local_addr()?;
        let app = sim.router();
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("emulator server stopped: {e}");
            }
        });
        Ok(Self { sim, addr, scheme: "http", task })
    }

    /// As [`RunningSim::start`], but serving HTTPS with the certificate and
    /// key in `tls`. The files are read and checked before the port is
    /// bound; a client whose handshake fails is dropped, and the server
    /// goes on.
    pub async fn start_tls(opts: SimOptions, tls: &TlsFiles) -> Result<Self, TlsError> {
        let config = tls.server_config()?;
        let sim = Sim::new(&opts);
        sim.shopify.https.store(true, std::sync::atomic::Ordering::Relaxed);
        let listen = |source| TlsError::Listen { port: opts.port, source };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port)).await.map_err(listen)?;
        let addr = listener.local_addr().map_err(listen)?;
        let app = sim.router();
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(tls::TlsListener::new(listener, config), app).await {
                tracing::error!("emulator server stopped: {e}");
            }
        });
        Ok(Self { sim, addr, scheme: "https", task })
    }

    /// Where the emulators are, without a path: `http://127.0.0.1:PORT`, or
    /// `https://…` when serving TLS.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    pub fn shopify_url(&self) -> String {
        format!("{}/shopify", self.base_url())
    }

    pub fn erpnext_url(&self) -> String {
        format!("{}/erpnext", self.base_url())
    }

    pub fn woocommerce_url(&self) -> String {
        format!("{}/woocommerce", self.base_url())
    }

    pub fn odoo_url(&self) -> String {
        format!("{}/odoo", self.base_url())
    }

    pub fn easypost_url(&self) -> String {
        format!("{}/easypost", self.base_url())
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        self.task.abort();
    }
}
