//! How an engine is opened and tuned.

use crate::secrets::Secrets;
use ferry_domain::{Clock, SystemClock};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Tuning knobs; the defaults are what a shop runs with.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// How far below the watermark each read starts again.
    pub overlap: chrono::Duration,
    /// Transient failures of one write before people are alerted (it keeps
    /// being retried; only rejected data is dead-lettered).
    pub alert_after_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Writes in flight at once per target system.
    pub write_concurrency: usize,
    /// The first full read of a store's orders uses its bulk export where
    /// it has one (Shopify's Bulk Operations) instead of pages.
    pub bulk_first_read: bool,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            overlap: chrono::Duration::minutes(10),
            alert_after_attempts: 10,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            write_concurrency: 4,
            bulk_first_read: true,
        }
    }
}

/// How to open an engine.
pub struct EngineOptions {
    pub data_dir: PathBuf,
    pub secrets: Secrets,
    pub clock: Arc<dyn Clock>,
    pub tuning: Tuning,
    /// The demo: built-in emulated systems.
    pub demo: bool,
}

impl EngineOptions {
    pub fn new(data_dir: impl Into<PathBuf>, secrets: Secrets) -> Self {
        Self {
            data_dir: data_dir.into(),
            secrets,
            clock: Arc::new(SystemClock),
            tuning: Tuning::default(),
            demo: false,
        }
    }
}
