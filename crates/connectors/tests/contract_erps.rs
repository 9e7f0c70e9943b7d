//! The ERP contract (tests/contract): the same scenarios against every ERP
//! connector, ERPNext and Odoo on their emulators and Tryton on a real
//! server (`FERRY_REAL_TRYTON_URL`, from scripts/real/tryton.sh; SKIPPED
//! without it, a failure with `FERRY_REQUIRE_REAL`). Test names:
//! `erp_<scenario>_<connector>_<emulator|real>`; docs/connector-matrix.md
//! is the table. Orders are built from each ERP's own catalog, with prices
//! including taxes and no shipping, so no connector needs extra settings.

mod contract;

use ferry_connectors::erpnext::ErpNext;
use ferry_connectors::odoo::Odoo;
use ferry_connectors::tryton::Tryton;
use ferry_sim::odoo::DEMO_ODOO_LOGIN;
use ferry_sim::{RunningSim, SimOptions, DEMO_ERPNEXT_SECRET, DEMO_ODOO_DB, DEMO_ODOO_KEY};
use serde_json::json;

async fn sim() -> RunningSim {
    RunningSim::start(SimOptions::default()).await.expect("emulators start")
}

fn erpnext(sim: &RunningSim, secret: &str) -> ErpNext {
    let settings = json!({ "timezone": "Europe/Berlin", "timeout_secs": 5 });
    ErpNext::new(&sim.erpnext_url(), &settings, secret).expect("valid settings")
}

fn odoo(sim: &RunningSim, key: &str) -> Odoo {
    let settings = json!({ "database": DEMO_ODOO_DB, "login": DEMO_ODOO_LOGIN, "timeout_secs": 5 });
    Odoo::new(&sim.odoo_url(), &settings, key).expect("valid settings")
}

/// The real Tryton server's connector with `password` (the right one when `None`).
fn tryton(password: Option<&str>) -> Option<Tryton> {
    let url = contract::real_var("FERRY_REAL_TRYTON_URL", "scripts/real/tryton.sh")?;
    let db = contract::real_var_or("FERRY_REAL_TRYTON_DB", "ferry");
    let login = contract::real_var_or("FERRY_REAL_TRYTON_LOGIN", "admin");
    let right = contract::real_var_or("FERRY_REAL_TRYTON_PASSWORD", "ferry-Tryton-8q2x");
    let settings = json!({ "database": db, "login": login, "timeout_secs": 30 });
    Some(Tryton::new(&url, &settings, password.unwrap_or(&right)).expect("valid settings"))
}

// ---- auth: a wrong secret is ConnectorError::Auth

#[tokio::test]
async fn erp_auth_erpnext_emulator() {
    let sim = sim().await;
    contract::erp_auth(&erpnext(&sim, "demo_key:wrong_secret")).await;
}

#[tokio::test]
async fn erp_auth_odoo_emulator() {
    let sim = sim().await;
    contract::erp_auth(&odoo(&sim, "odoo_wrong_key_0000")).await;
}

#[tokio::test]
async fn erp_auth_tryton_real() {
    let Some(t) = tryton(Some("not-the-password")) else { return };
    contract::erp_auth(&t).await;
}

// ---- pagination: every stock record once, following `next`

#[tokio::test]
async fn erp_pagination_erpnext_emulator() {
    let sim = sim().await;
    contract::erp_pagination(&erpnext(&sim, DEMO_ERPNEXT_SECRET), 1).await;
}

#[tokio::test]
async fn erp_pagination_odoo_emulator() {
    let sim = sim().await;
    contract::erp_pagination(&odoo(&sim, DEMO_ODOO_KEY), 1).await;
}

#[tokio::test]
async fn erp_pagination_tryton_real() {
    let Some(t) = tryton(None) else { return };
    contract::erp_pagination(&t, 1).await;
}

// ---- incremental: a since-filter reads only what changed

#[tokio::test]
async fn erp_incremental_erpnext_emulator() {
    let sim = sim().await;
    contract::erp_incremental(&erpnext(&sim, DEMO_ERPNEXT_SECRET)).await;
}

#[tokio::test]
async fn erp_incremental_odoo_emulator() {
    let sim = sim().await;
    contract::erp_incremental(&odoo(&sim, DEMO_ODOO_KEY)).await;
}

#[tokio::test]
async fn erp_incremental_tryton_real() {
    let Some(t) = tryton(None) else { return };
    contract::erp_incremental(&t).await;
}

// ---- idempotent create: find, create, find again

#[tokio::test]
async fn erp_idempotent_create_erpnext_emulator() {
    let sim = sim().await;
    contract::erp_idempotent_create(&erpnext(&sim, DEMO_ERPNEXT_SECRET)).await;
}

#[tokio::test]
async fn erp_idempotent_create_odoo_emulator() {
    let sim = sim().await;
    contract::erp_idempotent_create(&odoo(&sim, DEMO_ODOO_KEY)).await;
}

#[tokio::test]
async fn erp_idempotent_create_tryton_real() {
    let Some(t) = tryton(None) else { return };
    contract::erp_idempotent_create(&t).await;
}

// ---- errors: an unknown SKU is Rejected, naming it

#[tokio::test]
async fn erp_errors_erpnext_emulator() {
    let sim = sim().await;
    contract::erp_errors(&erpnext(&sim, DEMO_ERPNEXT_SECRET)).await;
}

#[tokio::test]
async fn erp_errors_odoo_emulator() {
    let sim = sim().await;
    contract::erp_errors(&odoo(&sim, DEMO_ODOO_KEY)).await;
}

#[tokio::test]
async fn erp_errors_tryton_real() {
    let Some(t) = tryton(None) else { return };
    contract::erp_errors(&t).await;
}

// ---- rate limits (emulators only: a real server cannot be told to answer 429)

#[tokio::test]
async fn erp_rate_limit_erpnext_emulator() {
    let sim = sim().await;
    contract::erp_rate_limit(&erpnext(&sim, DEMO_ERPNEXT_SECRET), &sim.sim.erpnext.faults).await;
}

#[tokio::test]
async fn erp_rate_limit_odoo_emulator() {
    let sim = sim().await;
    contract::erp_rate_limit(&odoo(&sim, DEMO_ODOO_KEY), &sim.sim.odoo.faults).await;
}

// ---- catalog round trip: a price set is read back

#[tokio::test]
async fn erp_catalog_erpnext_emulator() {
    let sim = sim().await;
    contract::erp_catalog(&erpnext(&sim, DEMO_ERPNEXT_SECRET)).await;
}

#[tokio::test]
async fn erp_catalog_odoo_emulator() {
    let sim = sim().await;
    contract::erp_catalog(&odoo(&sim, DEMO_ODOO_KEY)).await;
}

#[tokio::test]
async fn erp_catalog_tryton_real() {
    let Some(t) = tryton(None) else { return };
    contract::erp_catalog(&t).await;
}
