//! The stock flow, ERP → store. The ERP is the source of truth: for every
//! stock record changed since the cursor, the quantity available for sale
//! (on hand − reserved, never on hand alone: that oversells) is set at the
//! store location its warehouse is mapped to. Only changed levels are
//! written; a newer level supersedes an older one still waiting.

use super::orders::read_with_retry;
use super::{erp_for, mapping, RunMode};
use crate::api::{ApiResult, FlowCounts, Inner};
use ferry_domain::{ConnectorError, CursorWindow, StockReading};
use ferry_journal::{ConnectionRow, FlowRow, Level, NewEvent, NewWrite, PageCommit, RunOutcome};
use rust_decimal::prelude::ToPrimitive;
use std::collections::{BTreeSet, HashMap};

pub const ENTITY: &str = "stock";

pub(crate) async fn run(
    inner: &Inner,
    erp: &ConnectionRow,
    store: &ConnectionRow,
    flow: &FlowRow,
    mode: RunMode,
) -> ApiResult<FlowCounts> {
    let mut report = FlowCounts::default();
    if erp.paused_reason.is_none() {
        let (fetched, queued) = read(inner, erp, store, flow).await?;
        report.fetched = fetched;
        report.queued = queued;
    }
    if store.paused_reason.is_none() {
        let (written, failed) = super::outbox::drain(inner, store, ENTITY, mode).await?;
        report.written = written;
        report.failed = failed;
    }
    Ok(report)
}

async fn read(inner: &Inner, erp_conn: &ConnectionRow, store: &ConnectionRow, flow: &FlowRow) -> ApiResult<(u64, u64)> {
    let lock = inner.exclusive(&format!("read-stock:{}", erp_conn.id));
    let _guard = lock.lock().await;
    let run_start = inner.now();
    let run_id = inner.journal.start_run(&erp_conn.id, "stock", run_start)?;
    let erp = match erp_for(inner, erp_conn) {
        Ok(e) => e,
        Err(e) => {
            let why = super::pause_unbuildable(inner, erp_conn, Some(run_id), e)?;
            inner.journal.finish_run(run_id, RunOutcome::Failed, Some(&why), inner.now())?;
            inner.changed();
            return Ok((0, 0));
        }
    };
    // Warehouse → location: the Mappings page, over the flow's own settings.
    let mut locations: HashMap<String, String> = flow
        .settings
        .get("locations")
        .and_then(|l| l.as_object())
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default();
    locations.extend(inner.journal.mapping_table(mapping::WAREHOUSE)?);
    let store_skus = mapping::item_codes_to_store(&inner.journal.mapping_table(mapping::SKU)?);
    let result: Result<(u64, u64), ConnectorError> = async {
        let mut cursor = inner.journal.cursor(&erp_conn.id, ENTITY).map_err(super::journal_err)?;
        let window = CursorWindow::new(&cursor, run_start, inner.tuning.overlap);
        let (mut fetched, mut queued) = (0u64, 0u64);
        let mut unmapped = BTreeSet::new();
        let mut after: Option<String> = None;
        loop {
            let page = read_with_retry(inner, &erp_conn.id, || erp.stock_page(window.since, after.as_deref())).await?;
            fetched += page.items.len() as u64;
            let admitted: Vec<StockReading> =
                page.items.into_iter().filter(|r| window.admits(&cursor, &r.id, r.updated_at)).collect();
            let mut writes = Vec::new();
            for r in &admitted {
                let Some(location) = locations.get(&r.level.location) else {
                    unmapped.insert(r.level.location.clone());
                    continue;
                };
                let available = r.level.available().floor().to_i64().unwrap_or(0);
                let sku = store_skus.get(&r.level.sku).unwrap_or(&r.level.sku);
                let key = format!("{sku}@{location}");
                let last = inner.journal.latest_write(ENTITY, &key, &store.id).map_err(super::journal_err)?;
                if last.and_then(|w| w.payload.get("available").and_then(|a| a.as_i64())) == Some(available) {
                    continue; // unchanged since the last write: nothing to do
                }
                writes.push(NewWrite {
                    idempotency_key: format!("stock:{}:{key}->{}:{}:{available}", erp_conn.id, store.id, r.updated_at.timestamp_micros()),
                    source_id: erp_conn.id.clone(),
                    target_id: store.id.clone(),
                    entity: ENTITY.into(),
                    entity_key: key,
                    op: "set".into(),
                    payload: serde_json::json!({ "sku": sku, "location": location, "available": available,
                        "on_hand": r.level.on_hand, "reserved": r.level.reserved }),
                    supersedes: true,
                });
            }
            let next_cursor = window.advance(&cursor, admitted.iter().map(|r| (r.id.as_str(), r.updated_at)));
            queued += inner
                .journal
                .commit_page(
                    PageCommit { run_id, source_id: &erp_conn.id, entity: ENTITY, cursor: &next_cursor, writes, events: vec![], fetched: admitted.len() as u64 },
                    inner.now(),
                )
                .map_err(super::journal_err)?;
            cursor = next_cursor;
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        for warehouse in unmapped {
            let message = format!(
                "Stock in {} warehouse {warehouse:?} is not sent to {}: map it to a store location on the Mappings page (or `ferry mappings set warehouse …`)",
                erp_conn.name, store.name
            );
            inner.journal.note_unmapped(mapping::WAREHOUSE, &warehouse, Some(&erp_conn.id), &message, inner.now()).map_err(super::journal_err)?;
            inner.journal.log_event(Some(run_id), &NewEvent { level: Level::Warn, connection_id: Some(erp_conn.id.clone()), entity: Some(ENTITY.into()), entity_key: None, message }, inner.now()).map_err(super::journal_err)?;
        }
        Ok((fetched, queued))
    }
    .await;
    let counts = match result {
        Ok(c) => {
            inner.journal.finish_run(run_id, RunOutcome::Ok, None, inner.now())?;
            c
        }
        Err(e) => {
            super::read_failed(inner, erp_conn, run_id, &e, "stock", "the store keeps its last stock meanwhile.")?;
            inner.journal.finish_run(run_id, RunOutcome::Failed, Some(&e.to_string()), inner.now())?;
            (0, 0)
        }
    };
    inner.changed();
    Ok(counts)
}
