//! The one surface of the engine. The desktop shell, the CLI and the tests
//! call only what is here. Its transport types are in `api/dto.rs`, its
//! error in `api/error.rs`, the overview in `api/overview.rs`.

use crate::live::Live;
use crate::scheduler::Scheduler;
use crate::secrets::{KeychainStatus, SecretSource, Secrets};
use chrono::{DateTime, Utc};
use ferry_domain::Clock;
pub use ferry_journal::Role;
use ferry_journal::{ConnectionRow, FlowRow, Journal};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

pub use crate::scheduler::Schedule;
pub use ferry_domain::{AlertKind, Delivery, DriftItem};
pub use ferry_journal::OutboxCounts;

mod backup;
mod connections;
mod dto;
mod error;
mod mappings;
mod options;
mod overview;

pub use backup::restore;
pub use connections::{id_from_name, ConnectionEdit, ConnectionInfo, FlowInfo};
pub use dto::*;
pub use error::{ApiError, ApiResult};
pub use mappings::{Mapped, Mapping, MappingKind, Mappings, Unmapped};
pub use options::{EngineOptions, Tuning};

/// What the engine tells its listeners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineEvent {
    /// Something changed; read the overview again.
    Changed,
    /// An alert was shown (not grouped or suppressed): tell people.
    Alert(crate::alerts::Alert),
}

pub(crate) struct Inner {
    pub journal: Journal,
    pub clock: Arc<dyn Clock>,
    pub secrets: Arc<Secrets>,
    pub tuning: Tuning,
    pub alert_policy: ferry_domain::AlertPolicy,
    pub live: Live,
    pub events: broadcast::Sender<EngineEvent>,
    pub connectors: crate::flows::ConnectorCache,
    pub scheduler: Mutex<Option<Scheduler>>,
    pub demo: bool,
    pub keychain: Mutex<Option<KeychainStatus>>,
    /// Taken the first time this engine syncs, kept until it is dropped.
    sync_lock: Mutex<Option<crate::lock::SyncLock>>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Inner {
    pub(crate) fn new(
        journal: Journal,
        clock: Arc<dyn Clock>,
        secrets: Arc<Secrets>,
        tuning: Tuning,
        demo: bool,
    ) -> Self {
        let (events, _) = broadcast::channel(256);
        Self {
            journal,
            clock,
            secrets,
            tuning,
            alert_policy: ferry_domain::AlertPolicy::default(),
            live: Live::default(),
            events,
            connectors: Default::default(),
            scheduler: Mutex::new(None),
            demo,
            keychain: Mutex::new(None),
            sync_lock: Mutex::new(None),
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// The lock that keeps one kind of work on one connection to one task
    /// at a time (e.g. `write:<id>`).
    pub fn exclusive(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.locks.lock().unwrap_or_else(|e| e.into_inner()).entry(key.to_owned()).or_default().clone()
    }

    pub fn changed(&self) {
        let _ = self.events.send(EngineEvent::Changed);
    }
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// A running engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

/// The data dir: `FERRY_DATA_DIR`, else the OS data dir + `ferry`.
pub fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("FERRY_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    dirs::data_dir().unwrap_or_else(std::env::temp_dir).join("ferry")
}

/// A role with its article, for messages: "a store", "an ERP".
fn a(role: Role) -> &'static str {
    match role {
        Role::Store => "a store",
        Role::Erp => "an ERP",
        Role::Courier => "a courier",
    }
}

/// The demo keeps its own journal under `<data_dir>/demo`, started afresh
/// each time, since its emulated systems start afresh too.
pub fn fresh_demo_dir(data_dir: &Path) -> ApiResult<PathBuf> {
    let dir = data_dir.join("demo");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| ApiError::new("data_dir", format!("cannot reset the demo folder {}: {e}", dir.display())))?;
    }
    Ok(dir)
}

impl Engine {
    /// Opens the journal in `opts.data_dir` (creating it) and the engine on it.
    pub fn open(opts: EngineOptions) -> ApiResult<Self> {
        let journal = Journal::open_in(&opts.data_dir)?;
        let inner = Inner::new(journal, opts.clock, Arc::new(opts.secrets), opts.tuning, opts.demo);
        Ok(Self { inner: Arc::new(inner) })
    }

    pub fn journal_path(&self) -> PathBuf {
        self.inner.journal.path().to_path_buf()
    }

    /// Changes pushed to the UI.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.inner.events.subscribe()
    }

    /// Whether the OS keychain answers (checked once, then remembered).
    pub fn keychain_status(&self) -> KeychainStatus {
        let mut cached = self.inner.keychain.lock().unwrap_or_else(|e| e.into_inner());
        cached.get_or_insert_with(|| self.inner.secrets.probe()).clone()
    }

    /// Adds or updates a connection after validating its kind and URL.
    pub fn put_connection(&self, spec: &ConnectionSpec) -> ApiResult<()> {
        let role = connections::kind_role(&spec.kind)?;
        if spec.id.is_empty() || !spec.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(ApiError::new(
                "settings",
                format!("connection id {:?} may use only letters, digits, - and _", spec.id),
            ));
        }
        let url = ferry_connectors::validate_base_url(&spec.base_url)?;
        let existing = self.inner.journal.connection(&spec.id)?;
        self.inner.journal.upsert_connection(&ConnectionRow {
            id: spec.id.clone(),
            kind: spec.kind.clone(),
            role,
            name: spec.name.clone(),
            base_url: url.as_str().trim_end_matches('/').to_owned(),
            settings: spec.settings.clone(),
            secret_ref: format!("{}/{}", crate::secrets::SERVICE, spec.id),
            paused_reason: None,
            created_at: existing.map(|c| c.created_at).unwrap_or_else(|| self.inner.now()),
        })?;
        self.inner.connectors.forget(&spec.id);
        self.inner.changed();
        Ok(())
    }

    /// Changes some of a connection's settings (keys in `patch` replace
    /// the stored ones; a `null` removes one). Resumes a paused connection.
    pub fn update_settings(&self, connection_id: &str, patch: &serde_json::Value) -> ApiResult<()> {
        let Some(mut c) = self.inner.journal.connection(connection_id)? else {
            return Err(ApiError::new("not_found", format!("no connection {connection_id:?}")));
        };
        let (Some(settings), Some(patch)) = (c.settings.as_object_mut(), patch.as_object()) else {
            return Err(ApiError::new("settings", "settings must be a JSON object"));
        };
        for (k, v) in patch {
            if v.is_null() {
                settings.remove(k);
            } else {
                settings.insert(k.clone(), v.clone());
            }
        }
        self.put_connection(&ConnectionSpec {
            id: c.id,
            kind: c.kind,
            name: c.name,
            base_url: c.base_url,
            settings: c.settings,
        })
    }

    /// Stores a connection's secret in the keychain; resumes it if it was
    /// paused for its credentials.
    pub fn store_secret(&self, connection_id: &str, secret: &str) -> ApiResult<()> {
        self.inner.secrets.put(connection_id, secret)?;
        self.inner.connectors.forget(connection_id);
        self.inner.journal.set_paused(connection_id, None)?;
        self.inner.changed();
        Ok(())
    }

    /// Removes a connection and its keychain entry.
    pub fn remove_connection(&self, connection_id: &str) -> ApiResult<bool> {
        self.inner.secrets.delete(connection_id)?;
        self.inner.connectors.forget(connection_id);
        let removed = self.inner.journal.remove_connection(connection_id)?;
        self.inner.changed();
        Ok(removed)
    }

    /// Switches a flow on between two connections.
    pub fn enable_flow(
        &self,
        flow: &str,
        source_id: &str,
        target_id: &str,
        settings: serde_json::Value,
    ) -> ApiResult<()> {
        let load = |id: &str| -> ApiResult<ConnectionRow> {
            self.inner
                .journal
                .connection(id)?
                .ok_or_else(|| ApiError::new("not_found", format!("no connection {id:?}")))
        };
        let (source, target) = (load(source_id)?, load(target_id)?);
        let (from, to) = match flow {
            "orders" => (Role::Store, Role::Erp),
            "stock" => (Role::Erp, Role::Store),
            "catalog" | "customers" => (Role::Store, Role::Erp),
            "shipping" => (Role::Erp, Role::Courier),
            other => {
                return Err(ApiError::new(
                    "settings",
                    format!("flow {other:?} does not exist; the flows are orders, stock, catalog, customers, shipping"),
                ))
            }
        };
        if (source.role, target.role) != (from, to) {
            return Err(ApiError::new(
                "settings",
                format!(
                    "the {flow} flow goes from {} to {}; {} is {} and {} is {}",
                    a(from),
                    a(to),
                    source.name,
                    a(source.role),
                    target.name,
                    a(target.role)
                ),
            ));
        }
        if flow == "stock" {
            let ok = settings
                .get("locations")
                .and_then(|l| l.as_object())
                .is_some_and(|m| m.values().all(|v| v.is_string()));
            if !ok {
                return Err(ApiError::new(
                    "settings",
                    "the stock flow needs \"locations\": which ERP warehouse feeds which store location, e.g. {\"Stores - ABC\": \"gid://shopify/Location/1\"}",
                ));
            }
        }
        self.inner.journal.set_flow(&FlowRow {
            flow: flow.into(),
            source_id: source_id.into(),
            target_id: target_id.into(),
            enabled: true,
            settings,
        })?;
        Ok(())
    }

    /// Configures the demo connections on the emulated systems. Their
    /// made-up tokens go to the keychain, or stay in memory when no
    /// keychain answers (the overview says which).
    pub fn setup_demo(&self, systems: &DemoSystems) -> ApiResult<SecretSource> {
        self.put_connection(&ConnectionSpec {
            id: DEMO_STORE_ID.into(),
            kind: "shopify".into(),
            name: "Demo shop (Shopify)".into(),
            base_url: systems.shopify_url.clone(),
            settings: serde_json::json!({ "api_version": ferry_connectors::shopify::DEFAULT_API_VERSION }),
        })?;
        self.put_connection(&ConnectionSpec {
            id: DEMO_ERP_ID.into(),
            kind: "erpnext".into(),
            name: "Demo ERP (ERPNext)".into(),
            base_url: systems.erpnext_url.clone(),
            settings: serde_json::json!({
                "timezone": "Europe/Berlin",
                "shipping_account": systems.erpnext_shipping_account,
                "tax_account": systems.erpnext_tax_account,
            }),
        })?;
        self.put_connection(&ConnectionSpec {
            id: DEMO_COURIER_ID.into(),
            kind: "easypost".into(),
            name: "Demo courier (EasyPost)".into(),
            base_url: systems.easypost_url.clone(),
            settings: serde_json::json!({
                "from_name": "Demo Shop", "from_street": "1 Harbour Lane", "from_city": "Hamburg",
                "from_postcode": "20457", "from_country": "DE",
            }),
        })?;
        let a = self.inner.secrets.put_demo(DEMO_STORE_ID, &systems.shopify_token);
        let b = self.inner.secrets.put_demo(DEMO_ERP_ID, &systems.erpnext_secret);
        let c = self.inner.secrets.put_demo(DEMO_COURIER_ID, &systems.easypost_key);
        self.enable_flow("orders", DEMO_STORE_ID, DEMO_ERP_ID, serde_json::json!({}))?;
        self.enable_flow("catalog", DEMO_STORE_ID, DEMO_ERP_ID, serde_json::json!({}))?;
        self.enable_flow("customers", DEMO_STORE_ID, DEMO_ERP_ID, serde_json::json!({}))?;
        self.enable_flow(
            "stock",
            DEMO_ERP_ID,
            DEMO_STORE_ID,
            serde_json::json!({ "locations": { &systems.erpnext_warehouse: &systems.shopify_location } }),
        )?;
        self.enable_flow("shipping", DEMO_ERP_ID, DEMO_COURIER_ID, serde_json::json!({ "store": DEMO_STORE_ID }))?;
        Ok(if [a, b, c].iter().all(|s| *s == SecretSource::Keychain) {
            SecretSource::Keychain
        } else {
            SecretSource::Memory
        })
    }

    /// Makes this engine the one that syncs its data folder (see
    /// `lock`): `locked` when another process syncs it already.
    pub fn claim_sync(&self) -> ApiResult<()> {
        let mut held = self.inner.sync_lock.lock().unwrap_or_else(|e| e.into_inner());
        if held.is_none() {
            let dir = self.inner.journal.path().parent().unwrap_or(Path::new("."));
            *held = Some(crate::lock::SyncLock::take(dir)?);
        }
        Ok(())
    }

    /// Runs every enabled flow once, waiting out retries and rate limits,
    /// until nothing more can be done now. For the CLI and tests.
    pub async fn sync_until_idle(&self) -> ApiResult<SyncReport> {
        self.claim_sync()?;
        let mut report = SyncReport::default();
        for flow in self.inner.journal.flows()?.into_iter().filter(|f| f.enabled) {
            let counts = crate::flows::run_flow(&self.inner, &flow, crate::flows::RunMode::UntilIdle).await?;
            report.total += counts;
            *report.by_flow.entry(flow.flow.clone()).or_default() += counts;
        }
        Ok(report)
    }

    /// Dry run of every enabled orders flow: reads and plans as a real run would,
    /// journals what it would write, writes nothing and moves no cursor.
    pub async fn dry_run(&self) -> ApiResult<Vec<PreviewLine>> {
        let mut lines = Vec::new();
        for flow in self.inner.journal.flows()?.into_iter().filter(|f| f.enabled && f.flow == "orders") {
            let (source, target) = crate::flows::ends(&self.inner, &flow)?;
            lines.extend(crate::flows::preview_orders(&self.inner, &source, &target).await?);
        }
        lines.extend(crate::flows::preview_others(&self.inner).await?);
        Ok(lines)
    }

    /// Compares the store's orders created from `from` to `to` (UTC dates,
    /// inclusive) with the ERP's documents, for every enabled orders flow.
    /// Differences are journaled and raise an alert.
    pub async fn reconcile(&self, from: chrono::NaiveDate, to: chrono::NaiveDate) -> ApiResult<Vec<ReconcileReport>> {
        let mut reports = Vec::new();
        for flow in self.inner.journal.flows()?.into_iter().filter(|f| f.enabled && f.flow == "orders") {
            let (source, target) = crate::flows::ends(&self.inner, &flow)?;
            reports.push(crate::flows::reconcile_orders(&self.inner, &source, &target, from, to).await?);
        }
        Ok(reports)
    }

    /// The watchdog's check, run by the scheduler every few minutes: alerts
    /// for connections with no successful run for too long, and the daily
    /// reconciliation when it is due.
    pub async fn check_health(&self) -> ApiResult<crate::health::HealthCheck> {
        crate::health::check(&self.inner).await
    }

    /// Starts the scheduler (replacing a running one). Must be called from
    /// within a Tokio runtime.
    pub fn start_scheduler(&self, schedule: Schedule) -> ApiResult<()> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(ApiError::new("not_running", "the scheduler needs a Tokio runtime; start it from async code"));
        }
        self.claim_sync()?;
        let flows = self.inner.journal.flows()?.into_iter().filter(|f| f.enabled).collect();
        let scheduler = Scheduler::start(self.inner.clone(), flows, schedule);
        if let Some(old) = self.inner.scheduler.lock().unwrap_or_else(|e| e.into_inner()).replace(scheduler) {
            old.stop();
        }
        Ok(())
    }

    /// Stops the scheduler; a run in progress is abandoned at its next
    /// await point, which the outbox makes safe.
    pub fn stop_scheduler(&self) {
        if let Some(s) = self.inner.scheduler.lock().unwrap_or_else(|e| e.into_inner()).take() {
            s.stop();
        }
    }

    /// *Sync now*: runs the jobs of one connection (or all) as soon as
    /// possible. Presses while a run is going coalesce into one more run.
    /// Returns how many jobs were asked.
    pub fn sync_now(&self, connection_id: Option<&str>) -> ApiResult<usize> {
        if let Some(id) = connection_id {
            if self.inner.journal.connection(id)?.is_none() {
                return Err(ApiError::new("not_found", format!("no connection {id:?}")));
            }
        }
        let guard = self.inner.scheduler.lock().unwrap_or_else(|e| e.into_inner());
        match guard.as_ref() {
            Some(s) => Ok(s.trigger(connection_id)),
            None => Err(ApiError::new("not_running", "the scheduler is not running")),
        }
    }

    /// Dead-lettered writes with the remote's message, oldest first.
    pub fn dead_letters(&self, limit: u32) -> ApiResult<Vec<DeadLetter>> {
        Ok(self
            .inner
            .journal
            .dead_writes(limit)?
            .into_iter()
            .map(|r| DeadLetter {
                label: crate::flows::apply::label(&r),
                id: r.id,
                target_id: r.target_id,
                entity: r.entity,
                error: r.last_error.unwrap_or_default(),
                attempts: r.attempts,
            })
            .collect())
    }

    /// Writes still to be made, oldest first (what the Overview counts as pending).
    pub fn pending_writes(&self, limit: u32) -> ApiResult<Vec<PendingWrite>> {
        Ok(self
            .inner
            .journal
            .waiting_writes(limit)?
            .into_iter()
            .map(|r| PendingWrite {
                label: crate::flows::apply::label(&r),
                id: r.id,
                target_id: r.target_id,
                entity: r.entity,
                attempts: r.attempts,
                next_attempt_at: r.next_attempt_at,
                last_error: r.last_error,
            })
            .collect())
    }

    /// Puts one dead-lettered write (`Some(id)`) or all of them back in the
    /// queue after a fix; the next run (or *Sync now*) retries them.
    /// Returns how many were replayed.
    pub fn replay(&self, id: Option<i64>) -> ApiResult<u64> {
        let n = self.inner.journal.replay_writes(id, self.inner.now())?;
        if n == 0 {
            if let Some(id) = id {
                return Err(ApiError::new("not_found", format!("no dead-lettered write with id {id}")));
            }
        }
        self.inner.changed();
        Ok(n)
    }

    /// Makes the next runs read again everything changed in the last
    /// `hours` hours. Safe at any time: what was already posted is
    /// recognised and not posted again. Returns how many cursors moved.
    pub fn rescan(&self, hours: u32) -> ApiResult<u64> {
        if hours == 0 {
            return Err(ApiError::new("settings", "rescan needs at least 1 hour"));
        }
        let now = self.inner.now();
        Ok(self.inner.journal.rewind_cursors(now - chrono::Duration::hours(i64::from(hours)), now)?)
    }

    /// The alert log, newest first.
    pub fn notifications(&self, limit: u32) -> ApiResult<Vec<Notification>> {
        Ok(self
            .inner
            .journal
            .notifications(limit)?
            .into_iter()
            .map(|n| Notification {
                id: n.id,
                at: n.at,
                kind: n.kind,
                connection_id: n.connection_id,
                title: n.title,
                body: n.body,
                delivery: n.delivery,
                read: n.read,
            })
            .collect())
    }

    /// Marks one alert (or all) as read.
    pub fn mark_read(&self, id: Option<i64>) -> ApiResult<u64> {
        let n = self.inner.journal.mark_read(id)?;
        self.inner.changed();
        Ok(n)
    }

    /// One page of the journal, newest first (at most 1000 lines).
    pub fn activity(&self, query: &ActivityQuery, limit: u32) -> ApiResult<Vec<ActivityEvent>> {
        let level = match query.level.as_deref() {
            None | Some("") => None,
            Some("info") => Some(ferry_journal::Level::Info),
            Some("warn") => Some(ferry_journal::Level::Warn),
            Some("error") => Some(ferry_journal::Level::Error),
            Some(other) => return Err(ApiError::new("settings", format!("{other:?} is not info, warn or error"))),
        };
        let non_empty = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
        let filter = ferry_journal::ActivityFilter {
            connection_id: non_empty(&query.connection_id),
            entity: non_empty(&query.entity),
            level,
            search: non_empty(&query.search),
            before_id: query.before_id,
        };
        Ok(self.inner.journal.activity(&filter, limit)?.into_iter().map(activity_event).collect())
    }

    /// Everything the journal says about one record on every system,
    /// oldest first (at most the newest 2000 lines).
    pub fn record_history(&self, entity: &str, key: &str) -> ApiResult<Vec<ActivityEvent>> {
        if entity.trim().is_empty() || key.trim().is_empty() {
            return Err(ApiError::new("settings", "say which record: its kind and its key"));
        }
        Ok(self.inner.journal.record_history(entity, key, 2000)?.into_iter().map(activity_event).collect())
    }

    /// Parcels booked with couriers, newest first.
    pub fn parcels(&self, limit: u32) -> ApiResult<Vec<Parcel>> {
        Ok(self.inner.journal.parcels(limit)?.into_iter().map(Parcel::from).collect())
    }

    /// Conflicts, newest first: open ones, or all (history) when `all`.
    pub fn conflicts(&self, all: bool) -> ApiResult<Vec<Conflict>> {
        Ok(self.inner.journal.conflicts(all, 1000)?.into_iter().map(Conflict::from).collect())
    }

    /// One conflict, open or decided.
    pub fn conflict(&self, id: i64) -> ApiResult<Conflict> {
        self.inner.journal.conflict(id)?.map(Conflict::from).ok_or_else(|| {
            ApiError::new("not_found", format!("no conflict {id}; `ferry conflicts list --all` lists them"))
        })
    }

    /// Decides one conflict: keep the store's value, the ERP's, or a typed
    /// one. The writes that carry it out are queued with the decision (who,
    /// when, why) in one transaction; the next sync makes them.
    pub fn resolve_conflict(&self, id: i64, choice: &Choice, reason: Option<&str>, who: &str) -> ApiResult<()> {
        let Some(c) = self.inner.journal.conflict(id)? else {
            return Err(ApiError::new("not_found", format!("no conflict {id}")));
        };
        if !c.open {
            return Err(ApiError::new(
                "conflict_closed",
                format!("conflict {id} was already decided by {}", c.resolved_by.unwrap_or_default()),
            ));
        }
        let (resolution, words) = match choice {
            Choice::KeepStore => (ferry_domain::Resolution::KeepStore, "kept the store's value".to_owned()),
            Choice::KeepErp => (ferry_domain::Resolution::KeepErp, "kept the ERP's value".to_owned()),
            Choice::Value(v) => {
                let like = c.store_value.as_deref().or(c.erp_value.as_deref());
                let text = crate::flows::typed_value(&c.entity, &c.field, v, like)?;
                (ferry_domain::Resolution::Custom(Some(text.clone())), format!("set {text}"))
            }
        };
        let conflict = ferry_domain::FieldConflict {
            field: c.field.clone(),
            base: c.base,
            store: c.store_value,
            erp: c.erp_value,
        };
        let (to_store, to_erp) = conflict.writes(&resolution);
        let tag = format!("resolution {id}");
        let label = format!("{} {} ({})", c.entity, c.entity_key, c.field);
        let erp_key = self
            .inner
            .journal
            .link_target_key(&c.entity, &c.source_id, &c.entity_key, &c.target_id)?
            .unwrap_or_else(|| c.entity_key.clone());
        let writes: Vec<_> = [(to_store, &c.source_id), (to_erp, &c.target_id)]
            .into_iter()
            .filter_map(|(value, target)| {
                let fields: ferry_domain::Record = [(c.field.clone(), value?)].into();
                let pair = (c.source_id.as_str(), c.target_id.as_str());
                let target_key = if *target == c.target_id { erp_key.as_str() } else { c.entity_key.as_str() };
                Some(crate::flows::fields::field_write(
                    &c.entity,
                    pair,
                    (target, target_key),
                    (&c.entity_key, &label),
                    &fields,
                    &tag,
                ))
            })
            .collect();
        self.inner.journal.resolve_conflict(id, &words, who, reason, &writes, self.inner.now())?;
        self.inner.changed();
        Ok(())
    }

    /// Decides every open conflict of `field` the same way ("keep the ERP's
    /// for all price conflicts"). Returns how many were decided.
    pub fn resolve_conflicts_of(
        &self,
        field: &str,
        choice: &Choice,
        reason: Option<&str>,
        who: &str,
    ) -> ApiResult<usize> {
        let open: Vec<_> =
            self.inner.journal.conflicts(false, 100_000)?.into_iter().filter(|c| c.field == field).collect();
        for c in &open {
            self.resolve_conflict(c.id, choice, reason, who)?;
        }
        Ok(open.len())
    }

    /// Outbox counts for one connection (or all), of one entity (`"order"`,
    /// `"stock"`) or all.
    pub fn outbox_counts(&self, connection_id: Option<&str>, entity: Option<&str>) -> ApiResult<OutboxCounts> {
        Ok(self.inner.journal.outbox_counts(connection_id, entity)?)
    }

    /// Caps the journal file's size in pages (`None` lifts it): how the
    /// reliability suite fills the disk under a running engine.
    pub fn cap_journal_pages(&self, pages: Option<u64>) -> ApiResult<()> {
        Ok(self.inner.journal.cap_pages(pages)?)
    }

    /// `PRAGMA integrity_check` on the journal.
    pub fn check_journal(&self) -> ApiResult<()> {
        Ok(self.inner.journal.integrity_check()?)
    }
}

fn activity_event(e: ferry_journal::EventRow) -> ActivityEvent {
    ActivityEvent {
        id: e.id,
        at: e.at,
        level: match e.level {
            ferry_journal::Level::Info => "info",
            ferry_journal::Level::Warn => "warn",
            ferry_journal::Level::Error => "error",
        }
        .to_owned(),
        connection_id: e.connection_id,
        entity: e.entity,
        key: e.entity_key,
        message: e.message,
    }
}
