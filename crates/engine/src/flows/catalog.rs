//! The catalog flow, both ways between a store and an ERP: each SKU's
//! selling price. A three-way merge against the value both sides last
//! agreed on (the link's snapshot) decides: a price changed on one side is
//! written to the other; changed on both to the same value is fine; changed
//! on both to different values opens a conflict and that price is held —
//! never overwritten silently — until a person decides. A price with a
//! write still on its way is held too, so a merge never races its own write.

use super::orders::read_with_retry;
use super::{erp_for, store_for, RunMode};
use crate::api::{ApiResult, FlowCounts, Inner};
use ferry_domain::{merge, AlertKind, ConnectorError, Money, Record};
use ferry_journal::{ConnectionRow, Level, NewConflict, NewEvent, NewWrite, OutboxState, RunOutcome};
use std::collections::HashMap;

pub const ENTITY: &str = "catalog";
pub const PRICE: &str = "price";

pub(crate) async fn run(
    inner: &Inner,
    store: &ConnectionRow,
    erp: &ConnectionRow,
    mode: RunMode,
) -> ApiResult<FlowCounts> {
    let mut counts = FlowCounts::default();
    if store.paused_reason.is_none() && erp.paused_reason.is_none() {
        let (fetched, queued) = compare(inner, store, erp).await?;
        counts.fetched = fetched;
        counts.queued = queued;
    }
    for target in [store, erp] {
        if target.paused_reason.is_none() {
            let (written, failed) = super::outbox::drain(inner, target, ENTITY, mode).await?;
            counts.written += written;
            counts.failed += failed;
        }
    }
    Ok(counts)
}

/// The text a price is compared and shown as: `12.5 EUR` (no trailing zeros).
pub(crate) fn price_text(m: &Money) -> String {
    format!("{} {}", m.amount.normalize(), m.currency)
}

/// The write that sets `sku`'s price to `text` (as made by `price_text`) on `target`.
pub(crate) fn price_write(
    store_id: &str,
    erp_id: &str,
    target_id: &str,
    sku: &str,
    text: &str,
    tag: &str,
) -> Option<NewWrite> {
    let (amount, currency) = text.split_once(' ')?;
    Some(NewWrite {
        idempotency_key: format!("catalog:{store_id}<->{erp_id}:{sku}->{target_id}:price={text}:{tag}"),
        source_id: if target_id == store_id { erp_id.to_owned() } else { store_id.to_owned() },
        target_id: target_id.to_owned(),
        entity: ENTITY.into(),
        entity_key: sku.to_owned(),
        op: "set-price".into(),
        payload: serde_json::json!({ "sku": sku, "amount": amount, "currency": currency }),
        supersedes: true,
    })
}

async fn compare(inner: &Inner, store_conn: &ConnectionRow, erp_conn: &ConnectionRow) -> ApiResult<(u64, u64)> {
    let lock = inner.exclusive(&format!("catalog:{}:{}", store_conn.id, erp_conn.id));
    let _guard = lock.lock().await;
    let run_id = inner.journal.start_run(&store_conn.id, "catalog", inner.now())?;
    let built = store_for(inner, store_conn)
        .map_err(|e| (store_conn, e))
        .and_then(|s| erp_for(inner, erp_conn).map(|e| (s, e)).map_err(|e| (erp_conn, e)));
    let (store, erp) = match built {
        Ok(pair) => pair,
        Err((which, e)) => {
            let why = super::pause_unbuildable(inner, which, Some(run_id), e)?;
            inner.journal.finish_run(run_id, RunOutcome::Failed, Some(&why), inner.now())?;
            return Ok((0, 0));
        }
    };
    let read = async {
        let s = read_with_retry(inner, &store_conn.id, || store.prices()).await.map_err(|e| (store_conn, e))?;
        let e = read_with_retry(inner, &erp_conn.id, || erp.prices()).await.map_err(|e| (erp_conn, e))?;
        Ok::<_, (&ConnectionRow, ConnectorError)>((s, e))
    }
    .await;
    let (store_prices, erp_prices) = match read {
        Ok(v) => v,
        Err((which, e)) => {
            super::read_failed(inner, which, run_id, &e, "prices", "prices stay as they are meanwhile.")?;
            inner.journal.finish_run(run_id, RunOutcome::Failed, Some(&e.to_string()), inner.now())?;
            inner.changed();
            return Ok((0, 0));
        }
    };
    let erp_by_sku: HashMap<String, Money> = erp_prices.into_iter().collect();
    let now = inner.now();
    let tag = now.timestamp_micros().to_string();
    let (mut writes, mut events, mut new_conflicts) = (Vec::new(), Vec::new(), 0u32);
    let fetched = store_prices.len() as u64;
    for (sku, store_price) in store_prices {
        let Some(erp_price) = erp_by_sku.get(&sku) else { continue };
        let s = price_text(&store_price);
        let e = price_text(erp_price);
        let base: Record = inner
            .journal
            .link_snapshot(ENTITY, &store_conn.id, &sku, &erp_conn.id)?
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        // A person has to decide, or our own write is still on its way: hold.
        let open = inner.journal.open_conflicts_of(&store_conn.id, &erp_conn.id, ENTITY, &sku)?;
        for c in &open {
            if s == e {
                inner.journal.resolve_conflict(c.id, "both sides now agree", "ferry", None, &[], now)?;
            }
        }
        let pending = [&store_conn.id, &erp_conn.id].into_iter().any(|t| {
            inner
                .journal
                .latest_write(ENTITY, &sku, t)
                .ok()
                .flatten()
                .is_some_and(|w| matches!(w.state, OutboxState::Pending | OutboxState::InFlight))
        });
        if s == e {
            if base.get(PRICE).cloned().flatten().as_deref() != Some(s.as_str()) {
                let agreed = serde_json::json!({ PRICE: s });
                inner.journal.set_link_snapshot(ENTITY, &store_conn.id, &sku, &erp_conn.id, &agreed, now)?;
            }
            continue;
        }
        if pending || open.iter().any(|c| c.field == PRICE) {
            continue;
        }
        let rec = |v: &str| -> Record { [(PRICE.to_owned(), Some(v.to_owned()))].into() };
        // Never agreed before and different: no base, so both count as
        // changed and it becomes a conflict: nobody can tell which is right.
        let m = merge(&base, &rec(&s), &rec(&e));
        for (field, value) in m.to_erp.iter().chain(m.to_store.iter()).filter(|(f, _)| f.as_str() == PRICE) {
            let to_store = m.to_store.contains_key(field);
            let (target, name, from) = if to_store {
                (&store_conn.id, &store_conn.name, &erp_conn.name)
            } else {
                (&erp_conn.id, &erp_conn.name, &store_conn.name)
            };
            if let Some(w) =
                value.as_deref().and_then(|v| price_write(&store_conn.id, &erp_conn.id, target, &sku, v, &tag))
            {
                let last = inner.journal.latest_write(ENTITY, &sku, target)?;
                if last.is_some_and(|l| l.payload == w.payload) {
                    continue; // already written (or parked with this value)
                }
                events.push(
                    NewEvent::new(
                        Level::Info,
                        ENTITY,
                        &sku,
                        format!(
                            "Price of {sku} changed in {from} to {}; writing it to {name}",
                            value.as_deref().unwrap_or("")
                        ),
                    )
                    .on(target),
                );
                writes.push(w);
            }
        }
        for c in m.conflicts {
            let opened = inner.journal.open_conflict(
                &NewConflict {
                    source_id: store_conn.id.clone(),
                    target_id: erp_conn.id.clone(),
                    entity: ENTITY.into(),
                    entity_key: sku.clone(),
                    field: c.field.clone(),
                    base: c.base.clone(),
                    store_value: c.store.clone(),
                    erp_value: c.erp.clone(),
                },
                now,
            )?;
            if opened.is_some() {
                new_conflicts += 1;
                events.push(NewEvent::new(
                    Level::Warn,
                    ENTITY,
                    &sku,
                    format!(
                        "Price of {sku} differs: {} says {}, {} says {}{}; held until someone decides",
                        store_conn.name,
                        c.store.as_deref().unwrap_or("nothing"),
                        erp_conn.name,
                        c.erp.as_deref().unwrap_or("nothing"),
                        c.base.as_deref().map(|b| format!(" (both were {b})")).unwrap_or_default()
                    ),
                ));
            }
        }
    }
    let queued = inner.journal.queue_writes(&writes, now)?;
    for e in &events {
        inner.journal.log_event(Some(run_id), e, now)?;
    }
    if new_conflicts > 0 {
        let title = match new_conflicts {
            1 => format!("1 price conflict between {} and {}", store_conn.name, erp_conn.name),
            n => format!("{n} price conflicts between {} and {}", store_conn.name, erp_conn.name),
        };
        crate::alerts::raise(
            inner,
            AlertKind::NewConflict,
            Some(&erp_conn.id),
            &format!("conflicts run {run_id}"),
            title,
            "Both sides changed the same price differently. Open Conflicts to keep one or type the right one.".into(),
        )?;
    }
    inner.journal.finish_run(run_id, RunOutcome::Ok, None, inner.now())?;
    inner.changed();
    Ok((fetched, queued))
}
