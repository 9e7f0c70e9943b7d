//! A run stopped half-way (SIGKILL, a new process, the same data dir) still
//! ends with every order in the ERP exactly once.

use ferry_engine::secrets::{env_var_name, Secrets};
use ferry_engine::{Engine, EngineOptions, DEMO_ERP_ID, DEMO_STORE_ID};
use ferry_sim::{RunningSim, SimOptions};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ORDERS: usize = 1000;

fn spawn_sync(data_dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["--data-dir", &data_dir.display().to_string(), "sync", "--once"])
        // A headless server's way to pass secrets; the keychain has none for these ids.
        .env(env_var_name(DEMO_STORE_ID), ferry_sim::DEMO_SHOPIFY_TOKEN)
        .env(env_var_name(DEMO_ERP_ID), ferry_sim::DEMO_ERPNEXT_SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ferry binary starts")
}

async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_run_and_restarted_posts_each_order_once() {
    let sim = RunningSim::start(SimOptions { orders: ORDERS, ..SimOptions::default() }).await.expect("emulators");
    // Slow the ERP down a little so the kills land mid-run.
    sim.sim.erpnext.faults.set_latency(Duration::from_millis(2));
    let dir = tempfile::tempdir().expect("data dir");
    {
        let engine = Engine::open(EngineOptions::new(dir.path(), Secrets::memory_only())).expect("engine");
        engine.setup_demo(&ferry_tests::demo_systems(&sim)).expect("connections configured");
    }

    let mut previous = 0;
    for kill_at in [150, 450, 750] {
        let mut child = spawn_sync(dir.path());
        wait_for(&format!("{kill_at} sales orders"), Duration::from_secs(120), || {
            sim.sim.stats().erp_sales_orders >= kill_at
        })
        .await;
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        let stats = sim.sim.stats();
        assert!(
            stats.erp_sales_orders < ORDERS,
            "the kill landed before the end ({stats:?}); the test proves nothing otherwise"
        );
        assert!(stats.erp_sales_orders >= previous, "nothing posted is lost");
        assert_eq!(stats.duplicates, 0, "no duplicate after a kill: {stats:?}");
        previous = stats.erp_sales_orders;
    }

    let mut child = spawn_sync(dir.path());
    let status = tokio::task::spawn_blocking(move || child.wait()).await.expect("join").expect("wait");
    assert!(status.success(), "the final run finishes cleanly: {status:?}");
    let stats = sim.sim.stats();
    assert_eq!(
        (stats.erp_sales_orders, stats.duplicates, stats.missing),
        (ORDERS, 0, 0),
        "each order exactly once: {stats:?}"
    );
    let engine = Engine::open(EngineOptions::new(dir.path(), Secrets::memory_only())).expect("reopen");
    engine.check_journal().expect("the journal survived the kills intact");
    assert_eq!(engine.outbox_counts(None, Some("order")).expect("counts").done, ORDERS as u64);
}
