//! Tauri commands: glue only. Each takes the app state, calls one
//! `engine::api` function and returns its DTO or `ApiError {code, message}`.

use crate::startup::AppState;
use ferry_engine::{ApiError, Choice, Conflict, DeadLetter, Notification, Overview};
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
