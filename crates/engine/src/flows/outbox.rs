//! The outbox worker: executes the queued writes for one target system
//! with bounded concurrency. Every operation is safe to repeat (see
//! `apply`), so a row left in flight by a crash, or retried after a lost
//! answer, never duplicates anything.

use super::apply::{apply, label, target_for, wording, Target};
use super::{mapping, pause_for_auth, pause_unbuildable, RunMode};
use crate::api::{ApiResult, Inner};
use ferry_domain::error::backoff;
use ferry_domain::{AlertKind, ConnectorError, Disposition};
use ferry_journal::{ConnectionRow, Level, NewEvent, OutboxRow, RunOutcome};
use futures_util::stream::{self, StreamExt};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const BATCH: u32 = 100;
/// How often a drain looks for writes while their source is still read.
const MORE_COMING: Duration = Duration::from_millis(20);
/// This many transient failures in a row with no success means the target
/// is down (offline, outage): stop hammering it; the next run resumes.
const OUTAGE_STREAK: u32 = 10;
/// Longest wait a run sits through for a retry or a rate limit; anything
/// later is left to the next run.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(60);

/// Whether the writes' source is still being read (more writes may come).
fn still_reading(reading: Option<&AtomicBool>) -> bool {
    reading.is_some_and(|r| r.load(Ordering::SeqCst))
}

/// Executes the due writes of one entity to one target system. Returns
/// (written, dead-lettered).
pub(crate) async fn drain(inner: &Inner, erp: &ConnectionRow, entity: &str, mode: RunMode) -> ApiResult<(u64, u64)> {
    drain_while(inner, erp, entity, mode, None).await
}

/// As `drain`, and while `reading` is set (the writes' source is still
/// being read), waits for more writes instead of returning: posting starts
/// with the first page read, not after the last.
pub(crate) async fn drain_while(
    inner: &Inner,
    erp: &ConnectionRow,
    entity: &str,
    mode: RunMode,
    reading: Option<&AtomicBool>,
) -> ApiResult<(u64, u64)> {
    if mode == RunMode::DryRun {
        return Ok((0, 0));
    }
    while still_reading(reading) && inner.journal.due_writes(&erp.id, entity, inner.now(), 1)?.is_empty() {
        tokio::time::sleep(MORE_COMING).await;
    }
    let now = inner.now();
    if inner.journal.due_writes(&erp.id, entity, now, 1)?.is_empty() && mode == RunMode::Scheduled {
        return Ok((0, 0));
    }
    // One drain per target at a time, whichever flow or caller started it.
    let lock = inner.exclusive(&format!("write:{}", erp.id));
    let _guard = lock.lock().await;
    let run_id = inner.journal.start_run(&erp.id, "writes", now)?;
    inner.live.update(&erp.id, |l| l.syncing = true);
    inner.changed();
    let result = drain_rows(inner, erp, entity, mode, run_id, reading).await;
    inner.live.update(&erp.id, |l| l.syncing = false);
    let Drained { written, failed, first_error, first_entity, stop, outage } = match result {
        Ok(v) => v,
        Err(e) => {
            inner.journal.finish_run(run_id, RunOutcome::Failed, Some(&e.message), inner.now())?;
            inner.changed();
            return Err(e);
        }
    };
    if let Some(why) = &outage {
        let pending = inner.journal.outbox_counts(Some(&erp.id), None)?.pending;
        crate::alerts::raise(
            inner,
            AlertKind::RunFailed,
            Some(&erp.id),
            "writes",
            format!("{} is not answering", erp.name),
            format!("{why}. {pending} writes wait and are retried on schedule; nothing is lost."),
        )?;
    }
    let (outcome, message) = match (stop.as_ref().or(outage.as_ref()), failed) {
        (Some(msg), _) => (RunOutcome::Failed, Some(msg.clone())),
        (None, 0) => (RunOutcome::Ok, None),
        (None, n) => (RunOutcome::Partial, Some(format!("{n} orders could not be posted"))),
    };
    inner.journal.finish_run(run_id, outcome, message.as_deref(), inner.now())?;
    if failed > 0 {
        let (one, many, verb) = wording(&first_entity);
        let title = match failed {
            1 => format!("1 {one} could not be {verb} {}", erp.name),
            n => format!("{n} {many} could not be {verb} {}", erp.name),
        };
        let body = format!(
            "{} Fix the cause, then replay them in Failed writes (or `ferry replay`).",
            first_error.map(|e| format!("First error: {e}.")).unwrap_or_default()
        );
        crate::alerts::raise(
            inner,
            AlertKind::DeadLetter,
            Some(&erp.id),
            &format!("run {run_id}"),
            title,
            body.trim().to_owned(),
        )?;
    }
    inner.changed();
    Ok((written, failed))
}

/// What one drain did.
#[derive(Default)]
struct Drained {
    written: u64,
    failed: u64,
    first_error: Option<String>,
    first_entity: String,
    /// Why the run stopped early (credentials refused).
    stop: Option<String>,
    /// The target looked down; writes wait for the next run.
    outage: Option<String>,
}

async fn drain_rows(
    inner: &Inner,
    erp_conn: &ConnectionRow,
    entity: &str,
    mode: RunMode,
    run_id: i64,
    reading: Option<&AtomicBool>,
) -> ApiResult<Drained> {
    let target = match target_for(inner, erp_conn) {
        Ok(t) => t,
        Err(e) => {
            let why = pause_unbuildable(inner, erp_conn, Some(run_id), e)?;
            return Ok(Drained { stop: Some(why), ..Drained::default() });
        }
    };
    // A store that gathers stock levels into batch writes gets them together.
    let at_once = match &target {
        Target::Store(s) if entity == super::stock::ENTITY => s.stock_writes_at_once(),
        _ => None,
    };
    let batch = at_once.map_or(BATCH, |n| u32::try_from(n).unwrap_or(BATCH).max(BATCH));
    let mut d = Drained::default();
    let mut streak = 0u32;
    loop {
        // A pause (a person's, or Ferry's) stops the writes between batches.
        if let Some(why) = inner.journal.connection(&erp_conn.id)?.and_then(|c| c.paused_reason) {
            return Ok(Drained { stop: Some(format!("paused: {why}")), ..d });
        }
        let rows = inner.journal.due_writes(&erp_conn.id, entity, inner.now(), batch)?;
        if rows.is_empty() {
            if still_reading(reading) {
                tokio::time::sleep(MORE_COMING).await;
                continue;
            }
            let next = inner.journal.next_write_due(&erp_conn.id, entity)?;
            match (mode, next) {
                (RunMode::UntilIdle, Some(at)) => {
                    let wait = (at - inner.now()).to_std().unwrap_or(Duration::ZERO);
                    if wait > MAX_INLINE_WAIT {
                        return Ok(d);
                    }
                    inner.live.update(&erp_conn.id, |l| l.retry_at = Some(at));
                    inner.changed();
                    let before = inner.now();
                    tokio::time::sleep(wait).await;
                    if inner.now() == before {
                        return Ok(d); // a clock that does not move (tests): nothing becomes due
                    }
                    continue;
                }
                _ => return Ok(d),
            }
        }
        // Up to `write_concurrency` writes at once; the first that must stop
        // the run (credentials refused) ends it. Dropping the others leaves
        // their rows in flight, which the next run looks up before retrying.
        // The SKU mappings, read once a batch (a mapping set meanwhile
        // applies from the next batch, and to every replay).
        let sku_map = match target {
            Target::Erp(_) => inner.journal.mapping_table(mapping::SKU)?,
            _ => Default::default(),
        };
        // The batch is marked in flight in one transaction (a crash leaves
        // them in flight, and each is looked up before it is made again).
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        inner.journal.start_writes(&ids, inner.now())?;
        let mut results = stream::iter(rows)
            .map(|row| write_one(inner, &target, erp_conn, row, &sku_map, run_id))
            .buffer_unordered(at_once.unwrap_or(inner.tuning.write_concurrency).max(1));
        let mut landed: Vec<Landed> = Vec::new();
        while let Some(next) = results.next().await {
            let next = match next {
                Ok(next) => next,
                Err(e) => {
                    record_landed(inner, erp_conn, &mut landed, run_id)?;
                    return Err(e);
                }
            };
            match next {
                Next::Landed(l) => {
                    landed.push(*l);
                    d.written += 1;
                    streak = 0;
                    if landed.len() >= GROUP {
                        record_landed(inner, erp_conn, &mut landed, run_id)?;
                    }
                    continue;
                }
                Next::Retry => {}
                Next::Failed(error) => {
                    streak += 1;
                    if streak >= OUTAGE_STREAK {
                        record_landed(inner, erp_conn, &mut landed, run_id)?;
                        return Ok(Drained { outage: Some(format!("{streak} writes in a row failed: {error}")), ..d });
                    }
                }
                Next::Dead(entity, error) => {
                    d.failed += 1;
                    if d.first_error.is_none() {
                        d.first_error = Some(error);
                        d.first_entity = entity;
                    }
                }
                Next::Stop(why) => {
                    record_landed(inner, erp_conn, &mut landed, run_id)?;
                    return Ok(Drained { stop: Some(why), ..d });
                }
            }
            inner.changed();
        }
        record_landed(inner, erp_conn, &mut landed, run_id)?;
    }
}

/// Executes one queued write and records what became of it.
async fn write_one(
    inner: &Inner,
    target: &Target,
    target_conn: &ConnectionRow,
    row: OutboxRow,
    sku_map: &std::collections::HashMap<String, String>,
    run_id: i64,
) -> ApiResult<Next> {
    // Orders and refunds go to the ERP under its item codes; the queued
    // row keeps the store's SKUs, so a mapping set later applies on replay.
    let mut mapped = None;
    let mut skus = Vec::new();
    if matches!(target, Target::Erp(_)) && matches!(row.entity.as_str(), "order" | super::orders::REFUND) {
        let mut copy = row.clone();
        skus = mapping::skus_to_erp(&mut copy.payload, sku_map);
        mapped = Some(copy);
    }
    match apply(target, &target_conn.name, mapped.as_ref().unwrap_or(&row)).await {
        // Journalled with the others that land about now (`record_landed`).
        Ok(applied) => Ok(Next::Landed(Box::new(Landed { row, applied }))),
        Err(e) => {
            if matches!(e.disposition(), Disposition::DeadLetter) {
                let message = e.to_string();
                for sku in mapping::refused_skus(&message, &skus) {
                    let detail = format!("{} was refused by {}: {message}", label(&row), target_conn.name);
                    inner.journal.note_unmapped(mapping::SKU, sku, Some(&target_conn.id), &detail, inner.now())?;
                }
            }
            on_failure(inner, target_conn, &row, &label(&row), e, run_id).await
        }
    }
}

/// A write that landed, waiting to be journalled with others.
struct Landed {
    row: OutboxRow,
    applied: super::apply::Applied,
}

/// Writes that landed are journalled this many at a time (one transaction).
const GROUP: usize = 32;

/// Journals the writes that landed, in one transaction. Until then a crash
/// leaves them in flight, and each is looked up before it is made again.
fn record_landed(inner: &Inner, target: &ConnectionRow, landed: &mut Vec<Landed>, run_id: i64) -> ApiResult<()> {
    if landed.is_empty() {
        return Ok(());
    }
    let done: Vec<ferry_journal::Finished<'_>> = landed
        .iter()
        .map(|l| ferry_journal::Finished {
            row: &l.row,
            remote_key: &l.applied.remote,
            event: NewEvent::new(Level::Info, &l.row.entity, &l.row.entity_key, l.applied.message.clone())
                .on(&target.id),
            then: ferry_journal::Followups {
                writes: &l.applied.then,
                parcel: l.applied.parcel.as_ref(),
                keep_link: super::fields::is_field_write(&l.row),
            },
        })
        .collect();
    inner.journal.finish_writes(&done, Some(run_id), inner.now())?;
    drop(done);
    for l in landed.drain(..) {
        // A field write's values become the base of the next merge.
        super::fields::written(inner, &l.row, target)?;
    }
    inner.live.update(&target.id, |l| l.retry_at = None);
    inner.changed();
    Ok(())
}

/// What became of a write.
enum Next {
    /// Landed; journalled with the next group.
    Landed(Box<Landed>),
    /// Waiting out a rate limit: not a failure.
    Retry,
    /// A transient failure; retried later.
    Failed(String),
    /// Dead-lettered (entity, the remote's message).
    Dead(String, String),
    /// The whole run must stop (credentials refused).
    Stop(String),
}

/// Decides what a failed write does next: the one place that reads the
/// error's disposition for writes.
async fn on_failure(
    inner: &Inner,
    erp: &ConnectionRow,
    row: &OutboxRow,
    label: &str,
    e: ConnectorError,
    run_id: i64,
) -> ApiResult<Next> {
    let now = inner.now();
    let attempts = row.attempts + 1;
    let event = |level, message: String| NewEvent::new(level, &row.entity, &row.entity_key, message).on(&erp.id);
    match e.disposition() {
        // A transient failure is not the record's fault: it is retried with
        // capped backoff for as long as it takes, never dead-lettered (an
        // outage or a flaky server must not make people replay orders).
        // Once it has failed `alert_after_attempts` times, people are told.
        Disposition::RetryWithBackoff => {
            let limit = inner.tuning.alert_after_attempts;
            let wait =
                backoff(attempts.min(limit), inner.tuning.backoff_base, inner.tuning.backoff_max, fastrand::f64());
            let at = now + chrono::Duration::from_std(wait).unwrap_or_default();
            inner.journal.retry_write(row.id, &e.to_string(), at, attempts <= limit, now)?;
            if attempts < limit {
                inner.journal.log_event(
                    Some(run_id),
                    &event(Level::Warn, format!("{label}: {e}; retrying at {}", at.format("%H:%M:%S UTC"))),
                    now,
                )?;
            } else if attempts == limit {
                let message =
                    format!("{label} has failed {attempts} times on {}: {e}. Ferry keeps retrying.", erp.name);
                inner.journal.log_event(Some(run_id), &event(Level::Error, message.clone()), now)?;
                crate::alerts::raise(
                    inner,
                    AlertKind::RunFailed,
                    Some(&erp.id),
                    &row.idempotency_key,
                    format!("{label} keeps failing on {}", erp.name),
                    message,
                )?;
            }
            inner.live.update(&erp.id, |l| l.retry_at = Some(at));
            return Ok(Next::Failed(e.to_string()));
        }
        Disposition::DeadLetter => {
            let message = format!("{label} could not be {} {}: {e}", wording(&row.entity).2, erp.name);
            inner.journal.dead_letter_write(
                row.id,
                &e.to_string(),
                &event(Level::Error, message),
                Some(run_id),
                now,
            )?;
            return Ok(Next::Dead(row.entity.clone(), e.to_string()));
        }
        Disposition::WaitThenRetry(d) if d <= MAX_INLINE_WAIT => {
            // Wait here, then the row is due again at once.
            inner.journal.retry_write(row.id, &e.to_string(), now, false, now)?;
            tokio::time::sleep(d).await;
        }
        Disposition::WaitThenRetry(d) => {
            let at = now + chrono::Duration::from_std(d).unwrap_or_default();
            inner.journal.retry_write(row.id, &e.to_string(), at, false, now)?;
        }
        Disposition::PauseConnection => {
            inner.journal.retry_write(row.id, &e.to_string(), now, false, now)?;
            let why = e.to_string();
            pause_for_auth(inner, erp, Some(run_id), &why)?;
            return Ok(Next::Stop(why));
        }
    }
    Ok(Next::Retry)
}
