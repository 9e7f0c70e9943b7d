//! Desktop alerts that open the page they are about, and moving the window
//! to a page (from an alert, the tray or a second launch).

use ferry_engine::{Alert, AlertKind};
use tauri::{AppHandle, Emitter};

/// Event telling the window which page to show: `{ "page": "conflicts" }`.
pub const NAVIGATE_EVENT: &str = "ferry://navigate";

/// The page an alert is about (the same pages the Notifications page links).
pub fn page_for(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::NewConflict => "conflicts",
        AlertKind::DeadLetter => "outbox",
        AlertKind::AuthFailed => "connections",
        AlertKind::Drift => "checks",
        AlertKind::RunFailed | AlertKind::CourierException | AlertKind::NoRecentSuccess | AlertKind::Digest => {
            "overview"
        }
    }
}

/// Shows the window on `page`.
pub fn open_page(app: &AppHandle, page: &str) {
    crate::tray::show_window(app);
    if let Err(e) = app.emit(NAVIGATE_EVENT, serde_json::json!({ "page": page })) {
        tracing::warn!("cannot move the window to {page}: {e}");
    }
}

/// A desktop alert for an alert the engine decided to show (the engine has
/// already de-duplicated and throttled it, and logged it either way).
/// Clicking it opens the page it is about.
pub fn notify(app: &AppHandle, alert: &Alert) {
    let page = page_for(alert.kind);
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        // The freedesktop notification server reports the click as the
        // "default" action; a thread waits for it until the alert closes.
        let (app, title, body) = (app.clone(), alert.title.clone(), alert.body.clone());
        std::thread::spawn(move || {
            let shown = notify_rust::Notification::new()
                .appname("Ferry")
                .summary(&title)
                .body(&body)
                .action("default", "Open")
                .show();
            match shown {
                Ok(handle) => handle.wait_for_action(|action| {
                    if action == "default" {
                        open_page(&app, page);
                    }
                }),
                Err(e) => tracing::warn!("cannot show the desktop alert {title:?}: {e}"),
            }
        });
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    {
        // Elsewhere the notification plugin shows it; a click brings the window up.
        use tauri_plugin_notification::NotificationExt;
        let _ = page;
        if let Err(e) = app.notification().builder().title(&alert.title).body(&alert.body).show() {
            tracing::warn!("cannot show the desktop alert {:?}: {e}", alert.title);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alert_opens_a_page_the_window_has() {
        let pages = ["overview", "conflicts", "outbox", "connections", "checks"];
        for kind in AlertKind::ALL {
            assert!(pages.contains(&page_for(kind)), "{kind:?}");
        }
        assert_eq!(page_for(AlertKind::NewConflict), "conflicts");
        assert_eq!(page_for(AlertKind::DeadLetter), "outbox");
    }
}
