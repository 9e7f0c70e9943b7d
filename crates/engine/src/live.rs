//! What the engine is doing right now, per connection (not journaled:
//! it is gone when the process is).

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone, Default)]
pub(crate) struct LiveState {
    pub syncing: bool,
    pub next_run_at: Option<DateTime<Utc>>,
    pub retry_at: Option<DateTime<Utc>>,
    /// A "has not synced for N hours" alert was raised and still stands.
    pub stale_alerted: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Live(Mutex<HashMap<String, LiveState>>);

impl Live {
    pub fn get(&self, id: &str) -> LiveState {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(id).cloned().unwrap_or_default()
    }

    pub fn update(&self, id: &str, f: impl FnOnce(&mut LiveState)) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(map.entry(id.to_owned()).or_default());
    }
}
