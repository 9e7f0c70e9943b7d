//! Shared set-up for the cross-crate scenarios: emulators on loopback and
//! an engine on a fresh data dir, wired like the demo.

use ferry_engine::secrets::Secrets;
use ferry_engine::{Engine, EngineOptions, Tuning};
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

pub use ferry_engine::demo::systems as demo_systems;

/// Emulators with `orders` seeded, and an engine connected to them with
/// in-memory secrets.
pub async fn scenario(orders: usize) -> Scenario {
    scenario_with(orders, Secrets::memory_only()).await
}

pub async fn scenario_with(orders: usize, secrets: Secrets) -> Scenario {
    scenario_tuned(orders, secrets, fast_tuning()).await
}

/// As `scenario_with`, with the engine tuned as given.
pub async fn scenario_tuned(orders: usize, secrets: Secrets, tuning: Tuning) -> Scenario {
    let dir = tempfile::tempdir().expect("temp data dir");
    let options = EngineOptions { tuning, ..EngineOptions::new(dir.path(), secrets) };
    let demo = ferry_engine::demo::start(options, SimOptions { orders, ..SimOptions::default() })
        .await
        .expect("emulators start on loopback and the demo connections are valid");
    Scenario { sim: demo.sim, engine: demo.engine, dir }
}
