//! Tauri commands: glue only. Each takes the app state, calls one
//! `engine::api` function and returns its DTO or `ApiError {code, message}`.

use crate::startup::AppState;
use ferry_engine::{
    ActivityEvent, ActivityQuery, ApiError, Choice, Conflict, ConnectionEdit, ConnectionInfo, ConnectionSpec,
    DeadLetter, Mapped, Mappings, Notification, Overview, PendingWrite, PreviewLine, ReconcileReport,
};
use tauri::State;

#[tauri::command]
pub fn overview(state: State<'_, AppState>) -> Result<Overview, ApiError> {
    state.engine.overview()
}

#[tauri::command]
pub fn sync_now(state: State<'_, AppState>, connection_id: Option<String>) -> Result<usize, ApiError> {
    state.engine.sync_now(connection_id.as_deref())
}

/// Who decides, as the journal keeps it: the desktop user's login name.
fn who() -> String {
    std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "desktop user".into())
}

#[tauri::command]
pub fn conflicts(state: State<'_, AppState>, all: bool) -> Result<Vec<Conflict>, ApiError> {
    state.engine.conflicts(all)
}

/// Decides one conflict, then asks for a sync so the decision is written now.
#[tauri::command]
pub fn resolve_conflict(
    state: State<'_, AppState>,
    id: i64,
    choice: Choice,
    reason: Option<String>,
) -> Result<(), ApiError> {
    let reason = reason.filter(|r| !r.trim().is_empty());
    state.engine.resolve_conflict(id, &choice, reason.as_deref(), &who())?;
    let _ = state.engine.sync_now(None);
    Ok(())
}

/// Decides every open conflict of `field` the same way; returns how many.
#[tauri::command]
pub fn resolve_conflicts_of(
    state: State<'_, AppState>,
    field: String,
    choice: Choice,
    reason: Option<String>,
) -> Result<usize, ApiError> {
    let reason = reason.filter(|r| !r.trim().is_empty());
    let n = state.engine.resolve_conflicts_of(&field, &choice, reason.as_deref(), &who())?;
    let _ = state.engine.sync_now(None);
    Ok(n)
}

/// Writes that could not be made, waiting for a person (newest first).
#[tauri::command]
pub fn dead_letters(state: State<'_, AppState>) -> Result<Vec<DeadLetter>, ApiError> {
    state.engine.dead_letters(500)
}

/// Queues one failed write (by id) or all of them again, then asks for a sync.
#[tauri::command]
pub fn replay(state: State<'_, AppState>, id: Option<i64>) -> Result<u64, ApiError> {
    let n = state.engine.replay(id)?;
    let _ = state.engine.sync_now(None);
    Ok(n)
}

/// The alert log, newest first.
#[tauri::command]
pub fn notifications(state: State<'_, AppState>) -> Result<Vec<Notification>, ApiError> {
    state.engine.notifications(500)
}

/// Marks one alert (by id) or all as read.
#[tauri::command]
pub fn mark_read(state: State<'_, AppState>, id: Option<i64>) -> Result<u64, ApiError> {
    state.engine.mark_read(id)
}

/// A connection to add, as the form sends it (the secret comes separately).
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewConnection {
    pub kind: String,
    pub name: String,
    pub base_url: String,
    #[serde(default)]
    pub settings: serde_json::Value,
}

/// Every configured connection, without secrets.
#[tauri::command]
pub fn connections(state: State<'_, AppState>) -> Result<Vec<ConnectionInfo>, ApiError> {
    state.engine.connections()
}

/// The kinds of system Ferry can connect to, with their role.
#[tauri::command]
pub fn kinds() -> Vec<(String, String)> {
    ferry_connectors::KINDS.iter().map(|(k, r)| ((*k).to_owned(), (*r).to_owned())).collect()
}

/// Checks the system with the secret, then saves it; the secret goes to
/// the keychain and is never sent back.
#[tauri::command]
pub async fn add_connection(
    state: State<'_, AppState>,
    connection: NewConnection,
    secret: String,
) -> Result<String, ApiError> {
    let id = ferry_engine::id_from_name(&connection.name);
    if id.is_empty() {
        return Err(ApiError::new("settings", "the name needs some letters or digits"));
    }
    let settings = if connection.settings.is_null() { serde_json::json!({}) } else { connection.settings };
    let spec = ConnectionSpec {
        id: id.clone(),
        kind: connection.kind,
        name: connection.name.trim().to_owned(),
        base_url: connection.base_url,
        settings,
    };
    match &state.real_data_dir {
        // Trying the demo: a real connection is saved where Ferry runs for
        // real, and used from the next start (the demo's journal is reset).
        Some(dir) => {
            let real = ferry_engine::Engine::open(ferry_engine::EngineOptions::new(
                dir,
                ferry_engine::secrets::Secrets::os_keychain(),
            ))?;
            real.add_connection(&spec, &secret).await?;
        }
        None => state.engine.add_connection(&spec, &secret).await?,
    }
    Ok(id)
}

/// Checks a saved connection with its stored secret.
#[tauri::command]
pub async fn test_connection(state: State<'_, AppState>, id: String) -> Result<(), ApiError> {
    state.engine.test_connection(&id).await
}

/// Removes a connection and its keychain entry (its journal history stays).
#[tauri::command]
pub fn remove_connection(state: State<'_, AppState>, id: String) -> Result<bool, ApiError> {
    state.engine.remove_connection(&id)
}

/// Compares the store's orders of the last `days` days with the ERP.
#[tauri::command]
pub async fn reconcile(state: State<'_, AppState>, days: u32) -> Result<Vec<ReconcileReport>, ApiError> {
    if !(1..=366).contains(&days) {
        return Err(ApiError::new("settings", "compare between 1 and 366 days"));
    }
    let to = chrono::Utc::now().date_naive();
    let from = to - chrono::Days::new(u64::from(days) - 1);
    state.engine.reconcile(from, to).await
}

/// What the next sync would write or hold, writing nothing.
#[tauri::command]
pub async fn dry_run(state: State<'_, AppState>) -> Result<Vec<PreviewLine>, ApiError> {
    state.engine.dry_run().await
}

/// One page of the journal (200 lines), newest first, filtered.
#[tauri::command]
pub fn activity(state: State<'_, AppState>, query: ActivityQuery) -> Result<Vec<ActivityEvent>, ApiError> {
    state.engine.activity(&query, 200)
}

/// Where a new connection goes: `real` (Ferry runs on it) or `next-start`
/// (Ferry runs the demo now; the connection is used from the next start).
#[tauri::command]
pub fn connection_target(state: State<'_, AppState>) -> &'static str {
    if state.real_data_dir.is_some() {
        "next-start"
    } else {
        "real"
    }
}

/// Pauses a connection (nothing read or written) or resumes it.
#[tauri::command]
pub fn set_paused(state: State<'_, AppState>, id: String, paused: bool) -> Result<(), ApiError> {
    state.engine.set_connection_paused(&id, paused, &who())
}

/// Changes a saved connection after checking it against the system; a new
/// secret (when given) goes to the keychain.
#[tauri::command]
pub async fn edit_connection(
    state: State<'_, AppState>,
    id: String,
    edit: ConnectionEdit,
    secret: Option<String>,
) -> Result<(), ApiError> {
    let secret = secret.filter(|s| !s.is_empty());
    state.engine.edit_connection(&id, &edit, secret.as_deref()).await
}

/// Every mapping, and the values met with none.
#[tauri::command]
pub fn mappings(state: State<'_, AppState>) -> Result<Mappings, ApiError> {
    state.engine.mappings()
}

/// Maps a value, and puts back to work what waited for it.
#[tauri::command]
pub fn set_mapping(
    state: State<'_, AppState>,
    kind: String,
    source: String,
    target: String,
) -> Result<Mapped, ApiError> {
    state.engine.set_mapping(&kind, &source, &target)
}

/// Removes a mapping.
#[tauri::command]
pub fn remove_mapping(state: State<'_, AppState>, kind: String, source: String) -> Result<(), ApiError> {
    state.engine.remove_mapping(&kind, &source)
}

/// Whether to show the first-run choice (demo, or connect real systems).
#[tauri::command]
pub fn welcome(state: State<'_, AppState>) -> bool {
    state.welcome.load(std::sync::atomic::Ordering::Relaxed)
}

/// The first-run choice is made: not shown again.
#[tauri::command]
pub fn dismiss_welcome(state: State<'_, AppState>) -> Result<(), ApiError> {
    state.welcome.store(false, std::sync::atomic::Ordering::Relaxed);
    if let Some(dir) = state.welcome_seen_file.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| ApiError::new("io", format!("cannot write in {}: {e}", dir.display())))?;
    }
    std::fs::write(&state.welcome_seen_file, b"").map_err(|e| {
        ApiError::new("io", format!("cannot remember the choice in {}: {e}", state.welcome_seen_file.display()))
    })
}

/// Whether Ferry starts (in the tray) when the user logs in.
#[tauri::command]
pub fn start_at_login(app: tauri::AppHandle) -> Result<bool, ApiError> {
    use tauri_plugin_autostart::ManagerExt;
    app.autolaunch().is_enabled().map_err(|e| ApiError::new("io", format!("cannot read the login items: {e}")))
}

/// Turns starting at login on or off.
#[tauri::command]
pub fn set_start_at_login(app: tauri::AppHandle, on: bool) -> Result<(), ApiError> {
    use tauri_plugin_autostart::ManagerExt;
    let launcher = app.autolaunch();
    let done = if on { launcher.enable() } else { launcher.disable() };
    done.map_err(|e| ApiError::new("io", format!("cannot change the login items: {e}")))
}

/// Everything the journal says about one record on every system, oldest first.
#[tauri::command]
pub fn record_history(state: State<'_, AppState>, entity: String, key: String) -> Result<Vec<ActivityEvent>, ApiError> {
    state.engine.record_history(&entity, &key)
}

/// Writes still to be made (the first 500, oldest first).
#[tauri::command]
pub fn pending_writes(state: State<'_, AppState>) -> Result<Vec<PendingWrite>, ApiError> {
    state.engine.pending_writes(500)
}
