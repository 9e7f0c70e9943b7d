//! Ferry's desktop shell. Commands are one-line calls into `engine::api`;
//! changes reach the UI as pushed `ferry://overview` events.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod desktop;
mod startup;
mod tray;

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("FERRY_LOG").unwrap_or_else(|_| "warn".into()))
        .init();
    let result = tauri::Builder::default()
        // A second launch brings the running Ferry to the front instead.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| tray::show_window(app)))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_notification::init())
        // Optional start at login, in the tray (`--hidden`); off until asked for.
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec!["--hidden"]),
        ))
        .on_window_event(|window, event| {
            // With a tray, closing the window keeps Ferry syncing there.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                use tauri::Manager;
                if window.app_handle().try_state::<tray::Tray>().is_some() {
                    let _ = window.hide();
                    api.prevent_close();
                }
            }
        })
        .setup(|app| {
            startup::start(app)?;
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::overview,
            commands::sync_now,
            commands::conflicts,
            commands::resolve_conflict,
            commands::resolve_conflicts_of,
            commands::dead_letters,
            commands::replay,
            commands::notifications,
            commands::mark_read,
            commands::connections,
            commands::kinds,
            commands::add_connection,
            commands::test_connection,
            commands::remove_connection,
            commands::reconcile,
            commands::dry_run,
            commands::activity,
            commands::connection_target,
            commands::set_paused,
            commands::edit_connection,
            commands::mappings,
            commands::set_mapping,
            commands::remove_mapping,
            commands::welcome,
            commands::dismiss_welcome,
            commands::start_at_login,
            commands::set_start_at_login,
            commands::record_history,
            commands::pending_writes
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        // A Ferry that is quitting still holds the single-instance name for
        // a moment and cannot answer: start again shortly, as this process.
        if e.to_string().contains("single-instance") {
            start_again_shortly();
        }
        eprintln!("Ferry could not start its window: {e}");
        std::process::exit(1);
    }
}

/// Replaces this process with a fresh start of Ferry after a pause, at most
/// three times (counted in `FERRY_START_TRY`).
fn start_again_shortly() {
    let tries: u32 = std::env::var("FERRY_START_TRY").ok().and_then(|t| t.parse().ok()).unwrap_or(0);
    if tries >= 3 {
        return;
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        if let Ok(exe) = std::env::current_exe() {
            let err = std::process::Command::new(exe)
                .args(std::env::args_os().skip(1))
                .env("FERRY_START_TRY", (tries + 1).to_string())
                .exec();
            eprintln!("Ferry could not start again: {err}");
        }
    }
}
