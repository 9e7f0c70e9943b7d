//! The orders flow, store → ERP. Reading: each page of changed orders is
//! planned and committed to the outbox together with the advanced cursor.
//! Writing: the outbox worker posts each queued order, looking it up first.

use super::{store_for, RunMode};
use crate::api::{ApiResult, FlowCounts, Inner};
use ferry_domain::error::backoff;
use ferry_domain::{plan_orders, ConnectorError, CursorWindow, Disposition, Order, OrderDecision};
use ferry_journal::{ConnectionRow, Level, NewEvent, NewWrite, PageCommit, RunOutcome};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub const ENTITY: &str = "order";
/// Store refunds, booked as credit notes in the ERP.
pub const REFUND: &str = "refund";
/// Read attempts per page before the run gives up (the next run resumes
/// from the committed cursor).
const READ_ATTEMPTS: u32 = 4;
/// Orders per committed batch of an export.
const EXPORT_BATCH: usize = 250;
/// Rate-limit waits per page before the run gives up.
const MAX_WAITS: u32 = 20;

pub(crate) async fn run(
    inner: &Inner,
    store: &ConnectionRow,
    erp: &ConnectionRow,
    mode: RunMode,
) -> ApiResult<FlowCounts> {
    let mut report = FlowCounts::default();
    // Orders are posted while the store is still being read: the drain
    // waits for more until the read is done.
    let reading = AtomicBool::new(store.paused_reason.is_none());
    let read_all = async {
        let counts = if store.paused_reason.is_none() { read(inner, store, erp).await } else { Ok((0, 0)) };
        reading.store(false, Ordering::SeqCst);
        counts
    };
    let post = async {
        if erp.paused_reason.is_none() {
            super::outbox::drain_while(inner, erp, ENTITY, mode, Some(&reading)).await
        } else {
            reading.store(false, Ordering::SeqCst);
            Ok((0, 0))
        }
    };
    let (read_counts, posted) = tokio::join!(read_all, post);
    let (fetched, queued) = read_counts?;
    report.fetched = fetched;
    report.queued = queued;
    let (written, failed) = posted?;
    report.written += written;
    report.failed += failed;
    if erp.paused_reason.is_none() {
        // Refunds after their orders, as before.
        let (written, failed) = super::outbox::drain(inner, erp, REFUND, mode).await?;
        report.written += written;
        report.failed += failed;
    }
    Ok(report)
}

fn idempotency_key(store: &str, order_id: &str, erp: &str) -> String {
    format!("orders:{store}:{order_id}->{erp}")
}

fn cancel_key(store: &str, order_id: &str, erp: &str) -> String {
    format!("orders-cancel:{store}:{order_id}->{erp}")
}

/// Reads changed orders into the outbox. Returns (fetched, newly queued).
async fn read(inner: &Inner, store: &ConnectionRow, erp: &ConnectionRow) -> ApiResult<(u64, u64)> {
    // One read per store at a time (a scheduled run and a CLI run may meet).
    let lock = inner.exclusive(&format!("read:{}", store.id));
    let _guard = lock.lock().await;
    let run_start = inner.now();
    let run_id = inner.journal.start_run(&store.id, "orders", run_start)?;
    let connector = match store_for(inner, store) {
        Ok(c) => c,
        Err(e) => {
            let why = super::pause_unbuildable(inner, store, Some(run_id), e)?;
            inner.journal.finish_run(run_id, RunOutcome::Failed, Some(&why), inner.now())?;
            inner.changed();
            return Ok((0, 0));
        }
    };
    inner.live.update(&store.id, |l| l.syncing = true);
    inner.changed();
    let result = read_pages(inner, connector.as_ref(), store, erp, run_id, run_start).await;
    inner.live.update(&store.id, |l| l.syncing = false);
    let counts = match &result {
        Ok(counts) => {
            inner.live.update(&store.id, |l| l.retry_at = None);
            inner.journal.finish_run(run_id, RunOutcome::Ok, None, inner.now())?;
            *counts
        }
        Err(e) => {
            super::read_failed(inner, store, run_id, e, "orders", "orders already read still go out.")?;
            inner.journal.finish_run(run_id, RunOutcome::Failed, Some(&e.to_string()), inner.now())?;
            // Orders already committed still go out; the next run resumes the read.
            (0, 0)
        }
    };
    inner.changed();
    Ok(counts)
}

async fn read_pages(
    inner: &Inner,
    store: &dyn ferry_connectors::Store,
    store_conn: &ConnectionRow,
    erp: &ConnectionRow,
    run_id: i64,
    run_start: chrono::DateTime<chrono::Utc>,
) -> Result<(u64, u64), ConnectorError> {
    let mut cursor = inner.journal.cursor(&store_conn.id, ENTITY).map_err(super::journal_err)?;
    let window = CursorWindow::new(&cursor, run_start, inner.tuning.overlap);
    if cursor.watermark.is_none() && inner.tuning.bulk_first_read {
        // The first full read: one export instead of pages, where the store has one.
        let export = read_with_retry(inner, &store_conn.id, || store.export_orders()).await?;
        if let Some(export) = export {
            return read_export(inner, export, store_conn, erp, run_id, &window, cursor).await;
        }
    }
    let (mut fetched, mut queued) = (0u64, 0u64);
    let mut after: Option<String> = None;
    loop {
        let page = fetch_with_retry(inner, store, window.since, after.as_deref(), &store_conn.id).await?;
        fetched += page.items.len() as u64;
        let (next_cursor, newly) = plan_and_commit(inner, store_conn, erp, run_id, &window, &cursor, page.items, true)?;
        queued += newly;
        cursor = next_cursor;
        inner.changed();
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok((fetched, queued))
}

/// Reads a store's export batch by batch. Each batch is committed with the
/// cursor as it was (a run cut short exports again; what was queued is
/// known by then), and the cursor advances once, at the end.
async fn read_export(
    inner: &Inner,
    mut export: Box<dyn ferry_connectors::OrderExport>,
    store_conn: &ConnectionRow,
    erp: &ConnectionRow,
    run_id: i64,
    window: &CursorWindow,
    committed: ferry_domain::CursorState,
) -> Result<(u64, u64), ConnectorError> {
    tracing::info!(store = %store_conn.id, started = %export.started_at(), "reading the store's orders from one export");
    let (mut fetched, mut queued) = (0u64, 0u64);
    let mut cursor = committed.clone();
    while let Some(batch) = export.next_batch(EXPORT_BATCH).await? {
        fetched += batch.len() as u64;
        let (next_cursor, newly) = plan_and_commit(inner, store_conn, erp, run_id, window, &cursor, batch, false)?;
        queued += newly;
        cursor = next_cursor;
        inner.changed();
    }
    let last = PageCommit {
        run_id,
        source_id: &store_conn.id,
        entity: ENTITY,
        cursor: &cursor,
        writes: Vec::new(),
        events: Vec::new(),
        fetched: 0,
    };
    inner.journal.commit_page(last, inner.now()).map_err(super::journal_err)?;
    Ok((fetched, queued))
}

/// Plans one page (or export batch) of orders and commits its writes and
/// events, with the advanced cursor when `commit_cursor` (otherwise with
/// `cursor` as it is). Returns the advanced cursor and how many writes
/// were newly queued.
#[allow(clippy::too_many_arguments)]
fn plan_and_commit(
    inner: &Inner,
    store_conn: &ConnectionRow,
    erp: &ConnectionRow,
    run_id: i64,
    window: &CursorWindow,
    cursor: &ferry_domain::CursorState,
    items: Vec<Order>,
    commit_cursor: bool,
) -> Result<(ferry_domain::CursorState, u64), ConnectorError> {
    let admitted: Vec<Order> = items.into_iter().filter(|o| window.admits(cursor, &o.id, o.updated_at)).collect();
    let ids: Vec<String> = admitted.iter().map(|o| o.id.clone()).collect();
    let known = inner.journal.known_entity_keys(ENTITY, &store_conn.id, &erp.id, &ids).map_err(super::journal_err)?;
    let cancel_keys: Vec<String> = ids.iter().map(|id| cancel_key(&store_conn.id, id, &erp.id)).collect();
    let queued_cancels = inner.journal.queued_keys(&cancel_keys).map_err(super::journal_err)?;
    let cancelling =
        ids.iter().zip(&cancel_keys).filter(|(_, k)| queued_cancels.contains(*k)).map(|(id, _)| id.clone()).collect();
    let mut writes = Vec::new();
    let mut events = Vec::new();
    for planned in plan_orders(&admitted, &known, &cancelling) {
        let o = planned.order;
        match planned.decision {
            OrderDecision::Post | OrderDecision::Cancel => {
                let (key, op, words) = if planned.decision == OrderDecision::Post {
                    (
                        idempotency_key(&store_conn.id, &o.id, &erp.id),
                        "create",
                        format!("Order {} queued for {}", o.number, erp.name),
                    )
                } else {
                    (
                        cancel_key(&store_conn.id, &o.id, &erp.id),
                        "cancel",
                        format!("Order {} was cancelled in the store; cancelling it in {}", o.number, erp.name),
                    )
                };
                writes.push(NewWrite {
                    idempotency_key: key,
                    source_id: store_conn.id.clone(),
                    target_id: erp.id.clone(),
                    entity: ENTITY.into(),
                    entity_key: o.id.clone(),
                    op: op.into(),
                    payload: serde_json::to_value(o).map_err(|e| ConnectorError::Protocol(e.to_string()))?,
                    supersedes: false,
                });
                events.push(NewEvent::new(Level::Info, ENTITY, &o.id, words).on(&store_conn.id));
            }
            OrderDecision::SkipCancelled => events.push(
                NewEvent::new(
                    Level::Info,
                    ENTITY,
                    &o.id,
                    format!("Order {} was cancelled before it was posted; not posted", o.number),
                )
                .on(&store_conn.id),
            ),
            OrderDecision::AlreadyKnown => {}
        }
    }
    for o in &admitted {
        refunds(o, store_conn, erp, &mut writes, &mut events);
    }
    let next_cursor = window.advance(cursor, admitted.iter().map(|o| (o.id.as_str(), o.updated_at)));
    let queued = inner
        .journal
        .commit_page(
            PageCommit {
                run_id,
                source_id: &store_conn.id,
                entity: ENTITY,
                cursor: if commit_cursor { &next_cursor } else { cursor },
                writes,
                events,
                fetched: admitted.len() as u64,
            },
            inner.now(),
        )
        .map_err(super::journal_err)?;
    Ok((next_cursor, queued))
}

/// Queues a credit note for each refund of `o` (the idempotency key makes a
/// refund seen again a no-op). A cancelled order's refunds are covered by
/// cancelling its ERP document.
fn refunds(
    o: &Order,
    store: &ConnectionRow,
    erp: &ConnectionRow,
    writes: &mut Vec<NewWrite>,
    events: &mut Vec<NewEvent>,
) {
    if o.status == ferry_domain::OrderStatus::Cancelled {
        return;
    }
    for r in &o.refunds {
        writes.push(NewWrite {
            idempotency_key: format!("refund:{}:{}->{}", store.id, r.id, erp.id),
            source_id: store.id.clone(),
            target_id: erp.id.clone(),
            entity: REFUND.into(),
            entity_key: r.id.clone(),
            op: "credit".into(),
            payload: serde_json::json!({ "order": o, "refund": r }),
            supersedes: false,
        });
        events.push(
            NewEvent::new(
                Level::Info,
                REFUND,
                &r.id,
                format!(
                    "Order {} was refunded {} in the store; a credit note for {} is queued",
                    o.number, r.total, erp.name
                ),
            )
            .on(&store.id),
        );
    }
}

pub(super) async fn fetch_with_retry(
    inner: &Inner,
    store: &dyn ferry_connectors::Store,
    since: Option<chrono::DateTime<chrono::Utc>>,
    after: Option<&str>,
    store_id: &str,
) -> Result<ferry_connectors::Page<Order>, ConnectorError> {
    read_with_retry(inner, store_id, || store.orders_page(since, after)).await
}

/// Runs a read, waiting out rate limits exactly and retrying transient
/// failures a few times with backoff; the run gives up after that (its
/// cursor stays where the last committed page left it).
pub(super) async fn read_with_retry<T, F, Fut>(inner: &Inner, conn_id: &str, mut read: F) -> Result<T, ConnectorError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ConnectorError>>,
{
    let (mut attempt, mut waits) = (0u32, 0u32);
    loop {
        match read().await {
            Ok(v) => return Ok(v),
            Err(e) => match e.disposition() {
                Disposition::WaitThenRetry(d) if waits < MAX_WAITS => {
                    waits += 1;
                    tracing::debug!(?d, "asked to wait");
                    tokio::time::sleep(d).await;
                }
                Disposition::RetryWithBackoff if attempt + 1 < READ_ATTEMPTS => {
                    attempt += 1;
                    let wait = backoff(attempt, Duration::from_millis(500), Duration::from_secs(10), fastrand::f64());
                    inner.live.update(conn_id, |l| {
                        l.retry_at = chrono::Duration::from_std(wait).ok().map(|w| inner.now() + w)
                    });
                    inner.changed();
                    tokio::time::sleep(wait).await;
                }
                _ => return Err(e),
            },
        }
    }
}
