//! What the suites share: emulators, a data dir with the demo connections,
//! the `ferry` binary run as a child (to kill), waiting, and every secret
//! the suites use (for the secrets scan).

use anyhow::{bail, Context, Result};
use ferry_engine::secrets::{env_var_name, Secrets};
use ferry_engine::{Engine, EngineOptions, DEMO_COURIER_ID, DEMO_ERP_ID, DEMO_STORE_ID};
use ferry_sim::{RunningSim, SimOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Every secret the suites hand to Ferry: none may appear in any file.
pub const SECRETS: &[&str] =
    &[ferry_sim::DEMO_SHOPIFY_TOKEN, ferry_sim::DEMO_ERPNEXT_SECRET, ferry_sim::DEMO_EASYPOST_KEY];

/// Where the suites work and find the `ferry` binary.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub ferry: PathBuf,
    pub work: PathBuf,
    pub long: bool,
}

impl Ctx {
    /// A fresh folder under the work dir.
    pub fn dir(&self, name: &str) -> Result<PathBuf> {
        let d = self.work.join(name);
        if d.exists() {
            std::fs::remove_dir_all(&d).with_context(|| format!("clearing {}", d.display()))?;
        }
        std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
        Ok(d)
    }

    /// `ferry sync --once` on `data_dir` as a child, its output (debug
    /// logging on, to be scanned for secrets) appended to `log`.
    pub fn spawn_sync(&self, data_dir: &Path, log: &Path) -> Result<Child> {
        self.spawn(data_dir, log, &["sync", "--once"])
    }

    pub fn spawn(&self, data_dir: &Path, log: &Path, args: &[&str]) -> Result<Child> {
        let out = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(&self.ferry);
        cmd.arg("--data-dir").arg(data_dir).args(args);
        // A headless server's way to pass secrets; nothing in the keychain.
        for (id, secret) in [
            (DEMO_STORE_ID, ferry_sim::DEMO_SHOPIFY_TOKEN),
            (DEMO_ERP_ID, ferry_sim::DEMO_ERPNEXT_SECRET),
            (DEMO_COURIER_ID, ferry_sim::DEMO_EASYPOST_KEY),
        ] {
            cmd.env(env_var_name(id), secret);
        }
        cmd.env("FERRY_LOG", "debug").stdin(Stdio::null()).stdout(Stdio::from(out)).stderr(Stdio::from(err));
        cmd.spawn().with_context(|| format!("starting {}", self.ferry.display()))
    }
}

/// Emulators seeded with `orders` orders.
pub async fn emulators(orders: usize, seed: u64) -> Result<RunningSim> {
    RunningSim::start(SimOptions { orders, seed, ..SimOptions::default() }).await.context("starting the emulators")
}

/// Writes the demo connections (to `sim`) into a journal in `data_dir`.
pub fn configure(data_dir: &Path, sim: &RunningSim) -> Result<()> {
    let engine = Engine::open(EngineOptions::new(data_dir, Secrets::memory_only()))?;
    engine.setup_demo(&ferry_engine::demo::systems(sim))?;
    Ok(())
}

/// An engine on `data_dir` with the demo secrets in memory.
pub fn engine(data_dir: &Path) -> Result<Engine> {
    engine_with(data_dir, ferry_engine::Tuning::default())
}

/// `engine` with its own tuning.
pub fn engine_with(data_dir: &Path, tuning: ferry_engine::Tuning) -> Result<Engine> {
    let secrets = Secrets::memory_only();
    for (id, secret) in [
        (DEMO_STORE_ID, ferry_sim::DEMO_SHOPIFY_TOKEN),
        (DEMO_ERP_ID, ferry_sim::DEMO_ERPNEXT_SECRET),
        (DEMO_COURIER_ID, ferry_sim::DEMO_EASYPOST_KEY),
    ] {
        secrets.put_demo(id, secret);
    }
    Ok(Engine::open(EngineOptions { tuning, ..EngineOptions::new(data_dir, secrets) })?)
}

/// Waits until `done` or `limit`.
pub async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> Result<()> {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > limit {
            bail!("timed out after {limit:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

/// Waits for a child to end; `Err` when it does not within `limit`.
pub async fn wait_child(child: &mut Child, limit: Duration) -> Result<std::process::ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            bail!("the ferry process did not finish within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `PRAGMA integrity_check` on the journal in `data_dir`.
pub fn journal_sound(data_dir: &Path) -> Result<()> {
    let j = ferry_journal::Journal::open_in(data_dir)?;
    Ok(j.integrity_check()?)
}
