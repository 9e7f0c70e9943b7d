//! The tray icon: its colour follows overall health (green: all well,
//! amber: conflicts or failed writes wait for a person, red: a connection is
//! paused or failing), its menu syncs now, pauses or resumes syncing, shows
//! the open conflicts and failures, opens the window and quits. Closing the
//! window keeps Ferry syncing here.

use ferry_engine::{ConnectionState, Engine, Overview, Schedule};
use std::sync::Mutex;
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager};

/// Overall health, as the icon shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Good,
    NeedsAPerson,
    Failing,
}

impl Health {
    pub fn of(o: &Overview) -> Self {
        let failing =
            o.connections.iter().any(|c| matches!(c.state, ConnectionState::Paused | ConnectionState::Failing));
        if failing {
            Health::Failing
        } else if o.totals.open_conflicts > 0 || o.totals.failed > 0 {
            Health::NeedsAPerson
        } else {
            Health::Good
        }
    }

    fn rgb(self) -> [u8; 3] {
        match self {
            Health::Good => [0x1a, 0x7f, 0x37],
            Health::NeedsAPerson => [0xd1, 0x8a, 0x00],
            Health::Failing => [0xc6, 0x28, 0x28],
        }
    }

    /// A filled circle in the health's colour, drawn here (no image files to ship).
    fn icon(self) -> Image<'static> {
        const SIZE: u32 = 32;
        let [r, g, b] = self.rgb();
        let mut rgba = Vec::with_capacity((SIZE * SIZE * 4) as usize);
        let c = (SIZE as f32 - 1.0) / 2.0;
        for y in 0..SIZE {
            for x in 0..SIZE {
                let d = ((x as f32 - c).powi(2) + (y as f32 - c).powi(2)).sqrt();
                // A soft edge: fully opaque inside, fading over the last pixel.
                let alpha = (c - d + 0.5).clamp(0.0, 1.0);
                rgba.extend_from_slice(&[r, g, b, (alpha * 255.0) as u8]);
            }
        }
        Image::new_owned(rgba, SIZE, SIZE)
    }
}

/// What the tray says, in words (its tooltip and the menu's status line).
pub fn summary(o: &Overview) -> String {
    let mut parts = Vec::new();
    let failing =
        o.connections.iter().filter(|c| matches!(c.state, ConnectionState::Paused | ConnectionState::Failing));
    for c in failing {
        parts.push(format!("{}: {}", c.name, c.state_text));
    }
    match o.totals.open_conflicts {
        0 => {}
        1 => parts.push("1 conflict to decide".into()),
        n => parts.push(format!("{n} conflicts to decide")),
    }
    match o.totals.failed {
        0 => {}
        1 => parts.push("1 failed write".into()),
        n => parts.push(format!("{n} failed writes")),
    }
    if parts.is_empty() {
        "Ferry: all up to date".into()
    } else {
        format!("Ferry: {}", parts.join("; "))
    }
}

/// The tray and its changing parts.
pub struct Tray {
    icon: TrayIcon,
    status: MenuItem<tauri::Wry>,
    conflicts: MenuItem<tauri::Wry>,
    pause: MenuItem<tauri::Wry>,
    health: Mutex<Option<Health>>,
    paused: Mutex<bool>,
}

impl Tray {
    /// Builds the tray. `None` where the desktop has no tray (the window
    /// then closes as usual instead of hiding).
    pub fn build(app: &AppHandle, schedule: Schedule) -> Option<Tray> {
        let made = (|| -> tauri::Result<Tray> {
            let status = MenuItem::with_id(app, "status", "Ferry: starting", false, None::<&str>)?;
            let conflicts = MenuItem::with_id(app, "conflicts", conflicts_text(0), false, None::<&str>)?;
            let sync = MenuItem::with_id(app, "sync", "Sync now", true, None::<&str>)?;
            let pause = MenuItem::with_id(app, "pause", "Pause syncing", true, None::<&str>)?;
            let open = MenuItem::with_id(app, "open", "Open Ferry", true, None::<&str>)?;
            let quit = MenuItem::with_id(app, "quit", "Quit Ferry", true, None::<&str>)?;
            let sep = PredefinedMenuItem::separator(app)?;
            let menu = Menu::with_items(app, &[&status, &conflicts, &sep, &sync, &pause, &open, &quit])?;
            let icon = TrayIconBuilder::with_id("ferry")
                .icon(Health::Good.icon())
                .tooltip("Ferry")
                .menu(&menu)
                .on_menu_event(move |app, event| on_menu(app, event.id().as_ref(), schedule))
                .build(app)?;
            Ok(Tray { icon, status, conflicts, pause, health: Mutex::new(None), paused: Mutex::new(false) })
        })();
        match made {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!("no tray icon on this desktop: {e}");
                None
            }
        }
    }

    /// Follows a new overview: colour, tooltip, status line.
    pub fn update(&self, o: &Overview) {
        let health = Health::of(o);
        let text = summary(o);
        let mut last = self.health.lock().unwrap_or_else(|e| e.into_inner());
        if *last != Some(health) {
            if let Err(e) = self.icon.set_icon(Some(health.icon())) {
                tracing::warn!("cannot change the tray icon: {e}");
            }
            *last = Some(health);
        }
        let _ = self.icon.set_tooltip(Some(&text));
        let _ = self.status.set_text(&text);
        // The open conflicts: a menu line that opens them, and a count
        // beside the icon where the desktop shows one (a badge).
        let open = o.totals.open_conflicts;
        let _ = self.conflicts.set_text(conflicts_text(open));
        let _ = self.conflicts.set_enabled(open > 0);
        let _ = self.icon.set_title((open > 0).then(|| open.to_string()));
    }
}

/// The tray's conflicts line.
pub fn conflicts_text(open: u64) -> String {
    match open {
        0 => "No conflicts to decide".into(),
        1 => "Decide 1 conflict…".into(),
        n => format!("Decide {n} conflicts…"),
    }
}

fn on_menu(app: &AppHandle, id: &str, schedule: Schedule) {
    let Some(state) = app.try_state::<crate::startup::AppState>() else { return };
    let engine: &Engine = &state.engine;
    match id {
        "sync" => {
            if let Err(e) = engine.sync_now(None) {
                tracing::warn!("sync now from the tray: {}", e.message);
            }
        }
        "pause" => {
            let Some(tray) = app.try_state::<Tray>() else { return };
            let mut paused = tray.paused.lock().unwrap_or_else(|e| e.into_inner());
            if *paused {
                if let Err(e) = engine.start_scheduler(schedule) {
                    tracing::warn!("resume syncing: {}", e.message);
                    return;
                }
                *paused = false;
                let _ = tray.pause.set_text("Pause syncing");
            } else {
                engine.stop_scheduler();
                *paused = true;
                let _ = tray.pause.set_text("Resume syncing");
            }
        }
        "open" => show_window(app),
        "conflicts" => crate::desktop::open_page(app, "conflicts"),
        "quit" => app.exit(0),
        _ => {}
    }
}

/// Brings the main window back (from the tray, or a second launch).
pub fn show_window(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_engine::secrets::KeychainStatus;
    use ferry_engine::{ConnectionCard, Totals};

    fn overview(conflicts: u64, failed: u64, state: ConnectionState) -> Overview {
        Overview {
            generated_at: chrono::Utc::now(),
            demo: false,
            keychain: KeychainStatus { available: true, message: String::new() },
            totals: Totals { orders_posted: 0, pending: 0, failed, open_conflicts: conflicts },
            connections: vec![ConnectionCard {
                id: "shop".into(),
                name: "Shop".into(),
                kind: "shopify".into(),
                role: ferry_engine::Role::Store,
                state,
                state_text: "Paused: credentials rejected".into(),
                last_run_at: None,
                last_success_at: None,
                next_run_at: None,
                orders_posted: 0,
                read_up_to: None,
                feeds: vec![],
                today: Default::default(),
                pending: 0,
                failed: 0,
                open_conflicts: 0,
                recent_failures: vec![],
            }],
        }
    }

    #[test]
    fn health_and_words_follow_the_overview() {
        let good = overview(0, 0, ConnectionState::UpToDate);
        assert_eq!((Health::of(&good), summary(&good).as_str()), (Health::Good, "Ferry: all up to date"));
        let waiting = overview(2, 1, ConnectionState::UpToDate);
        assert_eq!(Health::of(&waiting), Health::NeedsAPerson);
        assert_eq!(summary(&waiting), "Ferry: 2 conflicts to decide; 1 failed write");
        let paused = overview(0, 0, ConnectionState::Paused);
        assert_eq!(Health::of(&paused), Health::Failing);
        assert_eq!(summary(&paused), "Ferry: Shop: Paused: credentials rejected");
    }

    #[test]
    fn the_conflicts_line_counts_them() {
        assert_eq!(conflicts_text(0), "No conflicts to decide");
        assert_eq!(conflicts_text(1), "Decide 1 conflict…");
        assert_eq!(conflicts_text(12), "Decide 12 conflicts…");
    }

    #[test]
    fn the_icon_is_a_round_dot_of_the_right_size() {
        let img = Health::Failing.icon();
        assert_eq!((img.width(), img.height()), (32, 32));
        let px = |x: usize, y: usize| &img.rgba()[(y * 32 + x) * 4..(y * 32 + x) * 4 + 4];
        assert_eq!(px(16, 16), &[0xc6, 0x28, 0x28, 255], "red, opaque in the middle");
        assert_eq!(px(0, 0)[3], 0, "transparent in the corner");
    }
}
