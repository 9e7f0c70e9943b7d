//! The store contract (tests/contract): the same scenarios against every
//! store connector, Shopify and WooCommerce on their emulators and Vendure
//! on a real server (`FERRY_REAL_VENDURE_URL`, from scripts/real/vendure.sh;
//! SKIPPED without it, a failure with `FERRY_REQUIRE_REAL`). Test names:
//! `store_<scenario>_<connector>_<emulator|real>`; docs/connector-matrix.md
//! is the table.

mod contract;

use ferry_connectors::shopify::{Shopify, DEFAULT_API_VERSION};
use ferry_connectors::vendure::Vendure;
use ferry_connectors::woocommerce::WooCommerce;
use ferry_sim::{RunningSim, SimOptions, DEMO_SHOPIFY_TOKEN, DEMO_WOO_KEY};
use serde_json::json;

/// Orders seeded in each emulator; read 10 a page, so over three pages.
const ORDERS: usize = 25;
const PAGE: u64 = 10;

async fn sim() -> RunningSim {
    RunningSim::start(SimOptions { orders: ORDERS, ..SimOptions::default() }).await.expect("emulators start")
}

fn shopify(sim: &RunningSim, token: &str) -> Shopify {
    let settings = json!({ "api_version": DEFAULT_API_VERSION, "page_size": PAGE, "timeout_secs": 5 });
    Shopify::new(&sim.shopify_url(), &settings, token).expect("valid settings")
}

fn woocommerce(sim: &RunningSim, key: &str) -> WooCommerce {
    let settings = json!({ "page_size": PAGE, "timeout_secs": 5 });
    WooCommerce::new(&sim.woocommerce_url(), &settings, key).expect("valid settings")
}

/// The real Vendure server's connector with `password` (the right one when `None`).
fn vendure(password: Option<&str>) -> Option<Vendure> {
    let url = contract::real_var("FERRY_REAL_VENDURE_URL", "scripts/real/vendure.sh")?;
    let user = contract::real_var_or("FERRY_REAL_VENDURE_USER", "superadmin");
    let right = contract::real_var_or("FERRY_REAL_VENDURE_PASSWORD", "ferry-Vendure-7k3p");
    let settings = json!({ "username": user, "page_size": 1, "timeout_secs": 30 });
    Some(Vendure::new(&url, &settings, password.unwrap_or(&right)).expect("valid settings"))
}

// ---- auth: a wrong secret is ConnectorError::Auth

#[tokio::test]
async fn store_auth_shopify_emulator() {
    let sim = sim().await;
    contract::store_auth(&shopify(&sim, "shpat_wrong_0000000000000000")).await;
}

#[tokio::test]
async fn store_auth_woocommerce_emulator() {
    let sim = sim().await;
    contract::store_auth(&woocommerce(&sim, "ck_wrong0000:cs_wrong0000")).await;
}

#[tokio::test]
async fn store_auth_vendure_real() {
    let Some(v) = vendure(Some("not-the-password")) else { return };
    contract::store_auth(&v).await;
}

// ---- pagination: every order once, following `next`

#[tokio::test]
async fn store_pagination_shopify_emulator() {
    let sim = sim().await;
    contract::store_pagination(&shopify(&sim, DEMO_SHOPIFY_TOKEN), ORDERS, 3).await;
}

#[tokio::test]
async fn store_pagination_woocommerce_emulator() {
    let sim = sim().await;
    contract::store_pagination(&woocommerce(&sim, DEMO_WOO_KEY), ORDERS, 3).await;
}

#[tokio::test]
async fn store_pagination_vendure_real() {
    let Some(v) = vendure(None) else { return };
    // The three seeded orders, one a page.
    contract::store_pagination(&v, 3, 3).await;
}

// ---- incremental: a since-filter reads only what changed

#[tokio::test]
async fn store_incremental_shopify_emulator() {
    let sim = sim().await;
    contract::store_incremental(&shopify(&sim, DEMO_SHOPIFY_TOKEN)).await;
}

#[tokio::test]
async fn store_incremental_woocommerce_emulator() {
    let sim = sim().await;
    contract::store_incremental(&woocommerce(&sim, DEMO_WOO_KEY)).await;
}

#[tokio::test]
async fn store_incremental_vendure_real() {
    let Some(v) = vendure(None) else { return };
    contract::store_incremental(&v).await;
}

// ---- errors: an unknown SKU is Rejected

#[tokio::test]
async fn store_errors_shopify_emulator() {
    let sim = sim().await;
    contract::store_errors(&shopify(&sim, DEMO_SHOPIFY_TOKEN)).await;
}

#[tokio::test]
async fn store_errors_woocommerce_emulator() {
    let sim = sim().await;
    contract::store_errors(&woocommerce(&sim, DEMO_WOO_KEY)).await;
}

#[tokio::test]
async fn store_errors_vendure_real() {
    let Some(v) = vendure(None) else { return };
    contract::store_errors(&v).await;
}

// ---- rate limits (emulators only: a real server cannot be told to answer 429)

#[tokio::test]
async fn store_rate_limit_shopify_emulator() {
    let sim = sim().await;
    contract::store_rate_limit(&shopify(&sim, DEMO_SHOPIFY_TOKEN), &sim.sim.shopify.faults).await;
}

#[tokio::test]
async fn store_rate_limit_woocommerce_emulator() {
    let sim = sim().await;
    contract::store_rate_limit(&woocommerce(&sim, DEMO_WOO_KEY), &sim.sim.woocommerce.faults).await;
}

// ---- catalog round trip: a price set is read back

#[tokio::test]
async fn store_catalog_shopify_emulator() {
    let sim = sim().await;
    contract::store_catalog(&shopify(&sim, DEMO_SHOPIFY_TOKEN)).await;
}

#[tokio::test]
async fn store_catalog_woocommerce_emulator() {
    let sim = sim().await;
    contract::store_catalog(&woocommerce(&sim, DEMO_WOO_KEY)).await;
}

#[tokio::test]
async fn store_catalog_vendure_real() {
    let Some(v) = vendure(None) else { return };
    contract::store_catalog(&v).await;
}
