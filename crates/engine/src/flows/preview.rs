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
            let action = match planned.decision {
                OrderDecision::AlreadyKnown => continue,
                OrderDecision::SkipCancelled => PreviewAction::Skip,
                OrderDecision::Cancel => PreviewAction::Cancel,
                OrderDecision::Post => match erp.find_order(&o.id).await.map_err(connector_error)? {
                    Some(found) => PreviewAction::Link { remote_id: found.id },
                    None => PreviewAction::Create,
                },
            };
            let summary = format!("{}, {}", o.customer.display_name(), o.total);
            let words = match &action {
                PreviewAction::Create => {
                    format!("Dry run: would post order {} ({summary}) to {}", o.number, erp_conn.name)
                }
                PreviewAction::Link { remote_id } => {
                    format!(
                        "Dry run: order {} is already in {} as {remote_id}; would link it, not post it",
                        o.number, erp_conn.name
                    )
                }
                PreviewAction::Skip => format!("Dry run: order {} is cancelled; would not post it", o.number),
                PreviewAction::Cancel => format!(
                    "Dry run: order {} was cancelled in the store; would cancel it in {}",
                    o.number, erp_conn.name
                ),
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
