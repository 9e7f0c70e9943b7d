//! Shared set-up for the cross-crate scenarios: emulators on loopback and
//! an engine on a fresh data dir, wired like the demo.

use ferry_engine::secrets::Secrets;
use ferry_engine::{DemoSystems, Engine, EngineOptions, Tuning};
use ferry_sim::{RunningSim, SimOptions};
use std::time::Duration;

/// A running scenario. Keep it alive for the test's length.
pub struct Scenario {
    pub sim: RunningSim,
    pub engine: Engine,
    pub dir: tempfile::TempDir,
}

/// Fast retries so failure paths finish in seconds.
pub fn fast_tuning() -> Tuning {
    Tuning { backoff_base: Duration::from_millis(20), backoff_max: Duration::from_millis(200), ..Tuning::default() }
}

pub fn demo_systems(sim: &RunningSim) -> DemoSystems {
    DemoSystems {
        shopify_url: sim.shopify_url(),
        shopify_token: ferry_sim::DEMO_SHOPIFY_TOKEN.into(),
        erpnext_url: sim.erpnext_url(),
        erpnext_secret: ferry_sim::DEMO_ERPNEXT_SECRET.into(),
    }
}

/// Emulators with `orders` seeded, and an engine connected to them with
/// in-memory secrets.
pub async fn scenario(orders: usize) -> Scenario {
    scenario_with(orders, Secrets::memory_only()).await
}

pub async fn scenario_with(orders: usize, secrets: Secrets) -> Scenario {
    let sim = RunningSim::start(SimOptions { orders, ..SimOptions::default() }).await.expect("emulators start on loopback");
    let dir = tempfile::tempdir().expect("temp data dir");
    let engine = Engine::open(EngineOptions { tuning: fast_tuning(), ..EngineOptions::new(dir.path(), secrets) })
        .expect("engine opens a fresh journal");
    engine.setup_demo(&demo_systems(&sim)).expect("demo connections are valid");
    Scenario { sim, engine, dir }
}
