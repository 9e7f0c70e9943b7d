//! Start-up: choose the data dir, open the engine (on the built-in demo
//! systems when asked or when nothing is configured yet), start the
//! scheduler, and forward engine changes to the window.

use ferry_engine::secrets::Secrets;
use ferry_engine::{default_data_dir, fresh_demo_dir, Engine, EngineEvent, EngineOptions, Schedule};
use ferry_sim::{RunningSim, SimOptions};
use std::path::PathBuf;
use std::time::Duration;
use tauri::{App, Emitter, Manager};

/// Event carrying a fresh `Overview`.
pub const OVERVIEW_EVENT: &str = "ferry://overview";

pub struct AppState {
    pub engine: Engine,
    /// In the demo, the data dir Ferry uses for real: connections added
    /// while trying the demo are saved there, for the next start.
    pub real_data_dir: Option<PathBuf>,
    /// A first start with nothing configured: the window offers the demo
    /// or connecting real systems, until one is chosen.
    pub welcome: std::sync::atomic::AtomicBool,
    /// Where choosing is remembered.
    pub welcome_seen_file: PathBuf,
    /// Keeps the demo's emulators serving while the app runs.
    _sim: Option<RunningSim>,
}

struct Args {
    data_dir: PathBuf,
    demo: bool,
    /// Started at login: stay in the tray until opened.
    hidden: bool,
}

/// The file whose presence says the first-run choice was made.
const WELCOME_SEEN: &str = "welcome-seen";

fn args() -> Args {
    let mut data_dir = None;
    let mut demo = std::env::var("FERRY_DEMO").is_ok_and(|v| v == "1");
    let mut hidden = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--demo" => demo = true,
            "--hidden" => hidden = true,
            "--data-dir" => data_dir = it.next().map(PathBuf::from),
            other => {
                if let Some(d) = other.strip_prefix("--data-dir=") {
                    data_dir = Some(PathBuf::from(d));
                }
            }
        }
    }
    Args { data_dir: data_dir.unwrap_or_else(default_data_dir), demo, hidden }
}

/// `FERRY_SCHEDULE=manual` runs only on *Sync now*; otherwise every
/// `FERRY_SYNC_INTERVAL_SECS` (default 60 s; 5 s in the demo).
fn schedule(demo: bool) -> Schedule {
    if std::env::var("FERRY_SCHEDULE").is_ok_and(|v| v == "manual") {
        return Schedule::manual();
    }
    let default = if demo { 5 } else { 60 };
    let secs = std::env::var("FERRY_SYNC_INTERVAL_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(default);
    Schedule::every(Duration::from_secs(secs))
}

pub fn start(app: &mut App) -> Result<(), Box<dyn std::error::Error>> {
    let args = args();
    // The engine's tasks need a runtime: start everything on Tauri's.
    let welcome_seen_file = args.data_dir.join(WELCOME_SEEN);
    let mut locked: Option<String> = None;
    let mut welcome = false;
    let (engine, sim, schedule) = tauri::async_runtime::block_on(async {
        let real = Engine::open(EngineOptions::new(&args.data_dir, Secrets::os_keychain()))?;
        let nothing_configured = real.overview()?.connections.is_empty();
        welcome = nothing_configured && !args.demo && !welcome_seen_file.exists();
        let demo = args.demo || nothing_configured;
        let (engine, sim) = if demo {
            drop(real);
            start_demo(&args.data_dir).await?
        } else {
            (real, None)
        };
        let schedule = schedule(demo);
        if let Err(e) = engine.start_scheduler(schedule) {
            if e.code != "locked" {
                return Err(e.into());
            }
            // Another Ferry (a `ferry sync`) syncs this folder: show its
            // journal, and say why this window does not sync.
            tracing::warn!("{}", e.message);
            locked = Some(e.message);
        }
        if let (Some(sim), false) = (&sim, schedule == Schedule::manual()) {
            demo_life(sim.sim.clone());
        }
        Ok::<_, Box<dyn std::error::Error>>((engine, sim, schedule))
    })?;
    let mut has_tray = false;
    if std::env::var("FERRY_NO_TRAY").is_err() {
        if let Some(tray) = crate::tray::Tray::build(app.handle(), schedule) {
            if let Ok(o) = engine.overview() {
                tray.update(&o);
            }
            app.manage(tray);
            has_tray = true;
        }
    }
    if args.hidden && has_tray {
        if let Some(w) = app.get_webview_window("main") {
            let _ = w.hide();
        }
    }
    forward_changes(app.handle().clone(), engine.clone());
    if let Some(why) = &locked {
        use tauri_plugin_notification::NotificationExt;
        let _ = app.notification().builder().title("Ferry is not syncing from this window").body(why).show();
    }
    let real_data_dir = sim.as_ref().map(|_| args.data_dir.clone());
    app.manage(AppState {
        engine,
        real_data_dir,
        welcome: std::sync::atomic::AtomicBool::new(welcome),
        welcome_seen_file,
        _sim: sim,
    });
    Ok(())
}

async fn start_demo(data_dir: &std::path::Path) -> Result<(Engine, Option<RunningSim>), Box<dyn std::error::Error>> {
    let orders = std::env::var("FERRY_DEMO_ORDERS").ok().and_then(|s| s.parse().ok()).unwrap_or(200);
    let dir = fresh_demo_dir(data_dir)?;
    let sim_options = SimOptions { orders, ..SimOptions::default() };
    let demo = ferry_engine::demo::start(EngineOptions::new(dir, Secrets::os_keychain()), sim_options).await?;
    demo.sim.sim.stage_demo_story();
    Ok((demo.engine, Some(demo.sim)))
}

/// The demo shop's day goes on while the window is open: orders arrive,
/// the warehouse ships, parcels move (see `Sim::tick`).
fn demo_life(sim: std::sync::Arc<ferry_sim::Sim>) {
    tauri::async_runtime::spawn(async move {
        for n in 0u64.. {
            tokio::time::sleep(Duration::from_secs(4)).await;
            sim.tick(n);
        }
    });
}

/// Pushes a fresh overview after changes, at most every 200 ms, so a burst
/// of a thousand writes is a handful of events, not a thousand.
fn forward_changes(handle: tauri::AppHandle, engine: Engine) {
    let mut events = engine.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(EngineEvent::Alert(alert)) => crate::desktop::notify(&handle, &alert),
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => break,
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            while let Ok(event) = events.try_recv() {
                if let EngineEvent::Alert(alert) = event {
                    crate::desktop::notify(&handle, &alert);
                }
            }
            match engine.overview() {
                Ok(o) => {
                    if let Some(tray) = handle.try_state::<crate::tray::Tray>() {
                        tray.update(&o);
                    }
                    if let Err(e) = handle.emit(OVERVIEW_EVENT, &o) {
                        tracing::warn!("cannot send the overview to the window: {e}");
                    }
                }
                Err(e) => tracing::warn!("cannot build the overview: {e}"),
            }
        }
    });
}
