//! Flows: one job per (flow, source, target). Each run plans, then applies
//! through the outbox.

pub(crate) mod apply;
pub(crate) mod catalog;
mod customers;
pub(crate) mod fields;
pub(crate) mod mapping;
mod orders;
mod outbox;
mod preview;
mod reconcile;
mod shipping;
mod stock;

pub(crate) use preview::{preview_orders, preview_others};
pub(crate) use reconcile::reconcile_orders;
/// The stock entity, as cursors and writes name it.
pub(crate) const STOCK: &str = stock::ENTITY;

use crate::api::{ApiError, ApiResult, FlowCounts, Inner};
use crate::secrets::SecretSource;
use ferry_connectors::{Courier, Erp, Store};
use ferry_domain::{AlertKind, ConnectorError};
use ferry_journal::{ConnectionRow, FlowRow, Level, NewEvent};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How long a run keeps going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunMode {
    /// A scheduled run: do what is due now, leave later retries to later runs.
    Scheduled,
    /// Wait out retries and rate limits until nothing is left that can
    /// succeed now (CLI `--once`, tests).
    UntilIdle,
    /// Read and decide, write nothing (a dry run, on a copy of the journal).
    DryRun,
}

/// Built connectors, kept between runs so that pacing state survives.
#[derive(Default)]
pub(crate) struct ConnectorCache {
    stores: Mutex<HashMap<String, Arc<dyn Store>>>,
    erps: Mutex<HashMap<String, Arc<dyn Erp>>>,
    couriers: Mutex<HashMap<String, Arc<dyn Courier>>>,
}

impl ConnectorCache {
    pub fn forget(&self, id: &str) {
        self.stores.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
        self.erps.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
        self.couriers.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }
}

fn secret_for(inner: &Inner, c: &ConnectionRow) -> ApiResult<String> {
    let (secret, source) = inner.secrets.get(&c.id)?;
    if source == SecretSource::Environment {
        tracing::warn!("no keychain entry for {}: using the secret from {}", c.id, crate::secrets::env_var_name(&c.id));
    }
    Ok(secret)
}

/// The cached connector for `c`, built with its secret on first use.
fn cached<T: ?Sized>(
    inner: &Inner,
    cache: &Mutex<HashMap<String, Arc<T>>>,
    c: &ConnectionRow,
    build: impl FnOnce(&str) -> Result<Arc<T>, ferry_connectors::SettingsError>,
) -> ApiResult<Arc<T>> {
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(built) = cache.get(&c.id) {
        return Ok(built.clone());
    }
    let built = build(&secret_for(inner, c)?)?;
    cache.insert(c.id.clone(), built.clone());
    Ok(built)
}

pub(crate) fn store_for(inner: &Inner, c: &ConnectionRow) -> ApiResult<Arc<dyn Store>> {
    cached(inner, &inner.connectors.stores, c, |secret| {
        Ok(ferry_connectors::store(&c.kind, &c.base_url, &c.settings, secret)?.into())
    })
}

pub(crate) fn erp_for(inner: &Inner, c: &ConnectionRow) -> ApiResult<Arc<dyn Erp>> {
    cached(inner, &inner.connectors.erps, c, |secret| {
        Ok(ferry_connectors::erp(&c.kind, &c.base_url, &c.settings, secret)?.into())
    })
}

pub(crate) fn courier_for(inner: &Inner, c: &ConnectionRow) -> ApiResult<Arc<dyn Courier>> {
    cached(inner, &inner.connectors.couriers, c, |secret| {
        Ok(ferry_connectors::courier(&c.kind, &c.base_url, &c.settings, secret)?.into())
    })
}

/// The two ends of a flow.
pub(crate) fn ends(inner: &Inner, flow: &FlowRow) -> ApiResult<(ConnectionRow, ConnectionRow)> {
    let load = |id: &str| -> ApiResult<ConnectionRow> {
        inner.journal.connection(id)?.ok_or_else(|| ApiError::new("not_found", format!("no connection {id:?}")))
    };
    Ok((load(&flow.source_id)?, load(&flow.target_id)?))
}

/// Runs one flow job once.
pub(crate) async fn run_flow(inner: &Inner, flow: &FlowRow, mode: RunMode) -> ApiResult<FlowCounts> {
    let (source, target) = ends(inner, flow)?;
    match flow.flow.as_str() {
        "orders" => orders::run(inner, &source, &target, mode).await,
        "stock" => stock::run(inner, &source, &target, flow, mode).await,
        "catalog" => catalog::run(inner, &source, &target, mode).await,
        "customers" => customers::run(inner, &source, &target, mode).await,
        "shipping" => shipping::run(inner, &source, &target, flow, mode).await,
        other => Err(ApiError::new("settings", format!("flow {other:?} is not available yet"))),
    }
}

/// A both-ways flow's run (catalog, customers): decide when both ends are
/// up, then make the queued writes to each end that is up.
async fn both_ways<F, Fut>(
    inner: &Inner,
    store: &ConnectionRow,
    erp: &ConnectionRow,
    entity: &str,
    mode: RunMode,
    decide: F,
) -> ApiResult<FlowCounts>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ApiResult<(u64, u64)>>,
{
    let mut counts = FlowCounts::default();
    if store.paused_reason.is_none() && erp.paused_reason.is_none() {
        let (fetched, queued) = decide().await?;
        counts.fetched = fetched;
        counts.queued = queued;
    }
    for target in [store, erp] {
        if target.paused_reason.is_none() {
            let (written, failed) = outbox::drain(inner, target, entity, mode).await?;
            counts.written += written;
            counts.failed += failed;
        }
    }
    Ok(counts)
}

/// A value a person typed to decide a conflict on `field` of `entity`,
/// checked and written the way the flow compares it.
pub(crate) fn typed_value(entity: &str, field: &str, typed: &str, like: Option<&str>) -> ApiResult<String> {
    match entity {
        catalog::ENTITY => catalog::typed_value(field, typed, like),
        customers::ENTITY => customers::typed_value(field, typed),
        other => Err(ApiError::new("settings", format!("conflicts of {other} cannot take a typed value"))),
    }
}

/// What to say about a problem: the journal's line, and the alert.
struct Notice {
    kind: AlertKind,
    subject: String,
    event: String,
    title: String,
    body: String,
}

/// Journals an error about a connection and raises its alert.
fn report(inner: &Inner, c: &ConnectionRow, run_id: Option<i64>, n: Notice) -> ApiResult<()> {
    let event = NewEvent {
        level: Level::Error,
        connection_id: Some(c.id.clone()),
        entity: None,
        entity_key: None,
        message: n.event,
    };
    inner.journal.log_event(run_id, &event, inner.now())?;
    crate::alerts::raise(inner, n.kind, Some(&c.id), &n.subject, n.title, n.body)?;
    Ok(())
}

/// Pauses a connection (until its settings or credentials change) and says why.
fn pause(inner: &Inner, c: &ConnectionRow, run_id: Option<i64>, reason: &str, n: Notice) -> ApiResult<()> {
    inner.journal.set_paused(&c.id, Some(reason))?;
    inner.connectors.forget(&c.id);
    report(inner, c, run_id, n)
}

/// A read that failed past its retries: an auth failure pauses the
/// connection; anything else is journaled and alerted, and the next run
/// resumes from the committed cursor. `what` is "orders", "stock", ….
pub(crate) fn read_failed(
    inner: &Inner,
    c: &ConnectionRow,
    run_id: i64,
    e: &ConnectorError,
    what: &str,
    meanwhile: &str,
) -> ApiResult<()> {
    if let ConnectorError::Auth(why) = e {
        return pause_for_auth(inner, c, Some(run_id), why);
    }
    let mut title = format!("{what} could not be read from {}", c.name);
    title[..1].make_ascii_uppercase();
    let notice = Notice {
        kind: AlertKind::RunFailed,
        subject: format!("{what} read"),
        event: format!("reading {what} from {} failed: {e}", c.name),
        title,
        body: format!("{e}. Ferry retries on its schedule; {meanwhile}"),
    };
    report(inner, c, Some(run_id), notice)
}

/// Pauses a connection whose settings cannot work, and says what to fix.
pub(crate) fn pause_for_settings(inner: &Inner, c: &ConnectionRow, run_id: Option<i64>, why: &str) -> ApiResult<()> {
    let notice = Notice {
        kind: AlertKind::RunFailed,
        subject: "settings".into(),
        event: format!("{}'s settings cannot work ({why}); syncing with it is paused until they are fixed", c.name),
        title: format!("{}'s settings need fixing", c.name),
        body: format!("{why}. Fix it under Connections; nothing is lost meanwhile."),
    };
    pause(inner, c, run_id, &format!("settings need fixing: {why}"), notice)
}

/// Pauses a connection that cannot be built (credentials or settings); returns
/// the reason, or the error when it is something else.
pub(crate) fn pause_unbuildable(
    inner: &Inner,
    c: &ConnectionRow,
    run_id: Option<i64>,
    e: ApiError,
) -> ApiResult<String> {
    match e.code {
        "secret" => pause_for_auth(inner, c, run_id, &e.message)?,
        "keychain" => keychain_unavailable(inner, c, run_id, &e.message)?,
        "settings" => pause_for_settings(inner, c, run_id, &e.message)?,
        _ => return Err(e),
    }
    Ok(e.message)
}

/// This computer's keychain did not give the secret: nothing was refused
/// by the system, and nothing is paused; the next run tries again.
fn keychain_unavailable(inner: &Inner, c: &ConnectionRow, run_id: Option<i64>, why: &str) -> ApiResult<()> {
    let notice = Notice {
        kind: AlertKind::RunFailed,
        subject: "keychain".into(),
        event: format!("Ferry could not read {}'s secret from this computer's keychain ({why}); nothing was synced with it this time", c.name),
        title: "This computer's keychain is locked or missing".into(),
        body: format!(
            "Ferry keeps {}'s secret there. Unlock the keychain (or start the keyring service); Ferry tries again on its next run and nothing is lost meanwhile.",
            c.name
        ),
    };
    report(inner, c, run_id, notice)
}

/// Pauses a connection whose credentials were refused, and says so.
pub(crate) fn pause_for_auth(inner: &Inner, c: &ConnectionRow, run_id: Option<i64>, why: &str) -> ApiResult<()> {
    let notice = Notice {
        kind: AlertKind::AuthFailed,
        subject: "credentials".into(),
        event: format!(
            "{} refused Ferry's credentials ({why}); syncing with it is paused until they are entered again",
            c.name
        ),
        title: format!("{} refused Ferry's credentials", c.name),
        body: format!(
            "Syncing with {} is paused. Enter its credentials again under Connections; nothing is lost meanwhile.",
            c.name
        ),
    };
    pause(inner, c, run_id, "credentials rejected", notice)
}

/// A journal failure met while reading a system: transient (the run fails
/// and the next one resumes from the committed cursor).
pub(super) fn journal_err(e: ferry_journal::JournalError) -> ferry_domain::ConnectorError {
    ferry_domain::ConnectorError::Transient(format!("journal: {e}"))
}
