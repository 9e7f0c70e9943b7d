//! The built-in demo (feature `demo`): emulated Shopify, ERPNext and EasyPost on
//! loopback, seeded, with connections configured to them. The desktop app,
//! `ferry demo` and the scenario tests all start it the same way.

use crate::api::{ApiError, ApiResult, DemoSystems, Engine, EngineOptions};
use crate::secrets::SecretSource;
use ferry_sim::{RunningSim, SimOptions};

/// A running demo. Keep it alive while it is used: dropping it stops the emulators.
pub struct Demo {
    pub engine: Engine,
    pub sim: RunningSim,
    /// Where the demo's made-up tokens went (keychain, or memory when none answers).
    pub secrets_in: SecretSource,
}

/// The demo connections' addresses and credentials for running emulators.
pub fn systems(sim: &RunningSim) -> DemoSystems {
    systems_at(&sim.base_url())
}

/// The same for emulators served at `base` (`http://127.0.0.1:PORT`), such
/// as a `ferry sim` in another process.
pub fn systems_at(base: &str) -> DemoSystems {
    DemoSystems {
        shopify_url: format!("{base}/shopify"),
        shopify_token: ferry_sim::DEMO_SHOPIFY_TOKEN.into(),
        erpnext_url: format!("{base}/erpnext"),
        erpnext_secret: ferry_sim::DEMO_ERPNEXT_SECRET.into(),
        erpnext_shipping_account: ferry_sim::erpnext::SHIPPING_ACCOUNT.into(),
        erpnext_tax_account: ferry_sim::erpnext::VAT_ACCOUNT.into(),
        erpnext_warehouse: ferry_sim::erpnext::WAREHOUSE.into(),
        shopify_location: ferry_sim::shopify::LOCATION_ID.into(),
        easypost_url: format!("{base}/easypost"),
        easypost_key: ferry_sim::DEMO_EASYPOST_KEY.into(),
    }
}

/// Starts the emulators and an engine (`options`, in demo mode), wired to them.
pub async fn start(options: EngineOptions, sim_options: SimOptions) -> ApiResult<Demo> {
    let sim = RunningSim::start(sim_options)
        .await
        .map_err(|e| ApiError::new("demo", format!("cannot start the demo systems on loopback: {e}")))?;
    let engine = Engine::open(EngineOptions { demo: true, ..options })?;
    let secrets_in = engine.setup_demo(&systems(&sim))?;
    Ok(Demo { engine, sim, secrets_in })
}
