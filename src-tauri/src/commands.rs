//! Tauri commands: glue only. Each takes the app state, calls one
//! `engine::api` function and returns its DTO or `ApiError {code, message}`.

use crate::startup::AppState;
use ferry_engine::{ApiError, Overview};
use tauri::State;

#[tauri::command]
pub fn overview(state: State<'_, AppState>) -> Result<Overview, ApiError> {
    state.engine.overview()
}

#[tauri::command]
pub fn sync_now(state: State<'_, AppState>, connection_id: Option<String>) -> Result<usize, ApiError> {
    state.engine.sync_now(connection_id.as_deref())
}
