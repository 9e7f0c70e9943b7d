//! Dry run of the orders flow: read and plan as a real run would, ask the
//! ERP (read-only) whether each order is already there, and journal what
//! would be written. No outbox row is queued and no cursor moves, so a new
//! connection can be previewed before it writes anything.

use super::orders::{fetch_with_retry, ENTITY};
use super::{erp_for, store_for};
use crate::api::{ApiError, ApiResult, Inner, PreviewAction, PreviewLine};
use ferry_domain::{plan_orders, ConnectorError, CursorWindow, OrderDecision};
use ferry_journal::{ConnectionRow, Level, NewEvent, RunOutcome};

fn connector_error(e: ConnectorError) -> ApiError {
    ApiError::new(e.code(), e.to_string())
}

pub(crate) async fn preview_orders(
    inner: &Inner,
    store: &ConnectionRow,
    erp: &ConnectionRow,
) -> ApiResult<Vec<PreviewLine>> {
    let run_start = inner.now();
    let run_id = inner.journal.start_run(&store.id, "orders (dry run)", run_start)?;
    let result = preview_pages(inner, store, erp, run_id, run_start).await;
    let (outcome, message) = match &result {
        Ok(lines) => (RunOutcome::Ok, Some(format!("dry run: {} orders would be written", lines.len()))),
        Err(e) => (RunOutcome::Failed, Some(format!("dry run failed: {}", e.message))),
    };
    inner.journal.finish_run(run_id, outcome, message.as_deref(), inner.now())?;
    inner.changed();
    result
}

async fn preview_pages(
    inner: &Inner,
    store_conn: &ConnectionRow,
    erp_conn: &ConnectionRow,
    run_id: i64,
    run_start: chrono::DateTime<chrono::Utc>,
) -> ApiResult<Vec<PreviewLine>> {
    let store = store_for(inner, store_conn)?;
    let erp = erp_for(inner, erp_conn)?;
    let cursor = inner.journal.cursor(&store_conn.id, ENTITY)?;
    let window = CursorWindow::new(&cursor, run_start, inner.tuning.overlap);
    let mut lines = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = fetch_with_retry(inner, store.as_ref(), window.since, after.as_deref(), &store_conn.id)
            .await
            .map_err(connector_error)?;
        let admitted: Vec<_> = page.items.into_iter().filter(|o| window.admits(&cursor, &o.id, o.updated_at)).collect();
        let ids: Vec<String> = admitted.iter().map(|o| o.id.clone()).collect();
        let known = inner.journal.known_entity_keys(ENTITY, &store_conn.id, &erp_conn.id, &ids)?;
        for planned in plan_orders(&admitted, &known, &Default::default()) {
            let o = planned.order;
            let summary = format!("{}, {}", o.customer.display_name(), o.total);
            let (action, words) = match planned.decision {
                OrderDecision::AlreadyKnown => continue,
                OrderDecision::SkipCancelled => {
                    (PreviewAction::Skip, format!("Dry run: order {} is cancelled; would not post it", o.number))
                }
                OrderDecision::Cancel => (
                    PreviewAction::Cancel,
                    format!(
                        "Dry run: order {} was cancelled in the store; would cancel it in {}",
                        o.number, erp_conn.name
                    ),
                ),
                OrderDecision::Post => match erp.find_order(&o.id).await.map_err(connector_error)? {
                    Some(found) => (
                        PreviewAction::Link { remote_id: found.id.clone() },
                        format!(
                            "Dry run: order {} is already in {} as {}; would link it, not post it",
                            o.number, erp_conn.name, found.id
                        ),
                    ),
                    None => (
                        PreviewAction::Create,
                        format!("Dry run: would post order {} ({summary}) to {}", o.number, erp_conn.name),
                    ),
                },
            };
            inner.journal.log_event(
                Some(run_id),
                &NewEvent::new(Level::Info, ENTITY, &o.id, words).on(&store_conn.id),
                inner.now(),
            )?;
            lines.push(PreviewLine { label: o.number.clone(), summary, target_id: erp_conn.id.clone(), action });
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(lines),
        }
    }
}

/// Dry run of every other enabled flow (stock, catalog, customers,
/// shipping): the flows run as they would — same reads, same decisions —
/// on a copy of the journal with writing switched off. What they queued
/// and held there is what they would write and hold; the copy is then
/// thrown away and the lines are journaled here.
pub(crate) async fn preview_others(inner: &Inner) -> ApiResult<Vec<PreviewLine>> {
    let flows: Vec<_> = inner.journal.flows()?.into_iter().filter(|f| f.enabled && f.flow != "orders").collect();
    if flows.is_empty() {
        return Ok(vec![]);
    }
    let base = inner.journal.path().parent().map(std::path::Path::to_path_buf).unwrap_or_default();
    let dir = base.join(format!("dry-run-{}", inner.now().timestamp_micros()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| ApiError::new("io", format!("cannot make {} for the dry run: {e}", dir.display())))?;
    let result = shadow_run(inner, &dir, &flows).await;
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        tracing::warn!("could not remove the dry run's copy {}: {e}", dir.display());
    }
    let lines = result?;
    let now = inner.now();
    for l in &lines {
        let words = match &l.action {
            PreviewAction::Hold { field } => {
                format!("Dry run: {} — {field} would be held for a person: {}", l.label, l.summary)
            }
            _ => format!("Dry run: {} — would write: {}", l.label, l.summary),
        };
        let entity = "dry-run";
        inner.journal.log_event(None, &NewEvent::new(Level::Info, entity, &l.label, words).on(&l.target_id), now)?;
    }
    inner.changed();
    Ok(lines)
}

async fn shadow_run(
    inner: &Inner,
    dir: &std::path::Path,
    flows: &[ferry_journal::FlowRow],
) -> ApiResult<Vec<PreviewLine>> {
    inner.journal.copy_to(&dir.join(ferry_journal::FILE_NAME))?;
    let journal = ferry_journal::Journal::open_in(dir)?;
    let shadow = Inner::new(journal, inner.clock.clone(), inner.secrets.clone(), inner.tuning.clone(), inner.demo);
    let last = shadow.journal.last_write_id()?;
    let open_before: std::collections::HashSet<i64> =
        shadow.journal.conflicts(false, 100_000)?.into_iter().map(|c| c.id).collect();
    for flow in flows {
        super::run_flow(&shadow, flow, super::RunMode::DryRun).await?;
    }
    let mut lines: Vec<PreviewLine> = shadow
        .journal
        .pending_writes_after(last)?
        .into_iter()
        .map(|row| PreviewLine {
            label: super::apply::label(&row),
            summary: describe(&row),
            target_id: row.target_id.clone(),
            action: PreviewAction::Write { op: row.op.clone() },
        })
        .collect();
    for c in shadow.journal.conflicts(false, 100_000)?.into_iter().filter(|c| !open_before.contains(&c.id)) {
        let v = |x: &Option<String>| x.clone().unwrap_or_else(|| "(empty)".into());
        lines.push(PreviewLine {
            label: format!("{} {}", c.entity, c.entity_key),
            summary: format!("store says {}, ERP says {}", v(&c.store_value), v(&c.erp_value)),
            target_id: c.target_id.clone(),
            action: PreviewAction::Hold { field: c.field.clone() },
        });
    }
    Ok(lines)
}

/// A queued write in words: what it sets.
fn describe(row: &ferry_journal::OutboxRow) -> String {
    let p = &row.payload;
    let text = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    match (row.entity.as_str(), row.op.as_str()) {
        ("stock", _) => {
            format!("{} available at {}", p.get("available").cloned().unwrap_or_default(), text("location"))
        }
        (_, "set") => match super::fields::payload_fields(row) {
            Some((_, _, fields)) => fields
                .iter()
                .map(|(f, v)| format!("{f} → {}", v.as_deref().unwrap_or("(empty)")))
                .collect::<Vec<_>>()
                .join(", "),
            None => row.op.clone(),
        },
        ("shipment", "book") => {
            let to = p.pointer("/request/to");
            let part = |k: &str| to.and_then(|t| t.get(k)).and_then(|v| v.as_str()).unwrap_or("?").to_owned();
            format!("book a parcel to {} {}", part("postcode"), part("city"))
        }
        (entity, op) => format!("{op} {entity}"),
    }
}
