//! The shipping flow, ERP → courier, with the tracking number going back to
//! the store and the ERP.
//!
//! An order the ERP marks ready to ship (a submitted Delivery Note without
//! a tracking number) is queued for booking. Booking looks the parcel up by
//! our reference first, so a lost answer never buys a second label. When a
//! booking lands, its follow-ups — "mark the store order shipped with this
//! tracking number" and "write it onto the ERP document" — and the parcel
//! to track are committed in the same transaction. Parcels are then tracked
//! on every run until delivered or returned; a failed delivery or a return
//! raises an alert.

use super::apply::{unreadable, Applied};
use super::orders::read_with_retry;
use super::{courier_for, erp_for, RunMode};
use crate::api::{ApiResult, FlowCounts, Inner};
use ferry_connectors::{Courier, Erp, Store};
use ferry_domain::{AlertKind, ConnectorError, CursorWindow, ReadyParcel, Shipment, ShipmentRequest, TrackingStatus};
use ferry_journal::{
    ConnectionRow, FlowRow, Level, NewEvent, NewParcel, NewWrite, OutboxState, PageCommit, Role, RunOutcome,
};
use serde::{Deserialize, Serialize};

/// Bookings (ERP → courier).
pub const ENTITY: &str = "shipment";
/// Tracking numbers to the store (the order's fulfillment).
pub const FULFILLMENT: &str = "fulfillment";
/// Tracking numbers onto the ERP's shipping document.
pub const TRACKING: &str = "tracking";

/// A booking as queued.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Booking {
    request: ShipmentRequest,
    /// What people call it ("Sales Order SAL-ORD-2026-00001").
    label: String,
    erp_id: String,
    store_id: Option<String>,
    /// When the ERP document last changed (a changed one may be booked again
    /// after its earlier booking was refused).
    updated_at: chrono::DateTime<chrono::Utc>,
}

/// A tracking number to send, as queued.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Tracking {
    /// The store order id or the ERP document id.
    id: String,
    label: String,
    shipment: Shipment,
}

pub(crate) async fn run(
    inner: &Inner,
    erp: &ConnectionRow,
    courier: &ConnectionRow,
    flow: &FlowRow,
    mode: RunMode,
) -> ApiResult<FlowCounts> {
    let mut counts = FlowCounts::default();
    let store = store_of(inner, erp, flow)?;
    if erp.paused_reason.is_none() && courier.paused_reason.is_none() {
        let (fetched, queued) = read(inner, erp, courier, store.as_ref()).await?;
        counts.fetched = fetched;
        counts.queued = queued;
    }
    for (target, entity) in [(Some(courier), ENTITY), (store.as_ref(), FULFILLMENT), (Some(erp), TRACKING)] {
        if let Some(t) = target.filter(|t| t.paused_reason.is_none()) {
            let (written, failed) = super::outbox::drain(inner, t, entity, mode).await?;
            counts.written += written;
            counts.failed += failed;
        }
    }
    if courier.paused_reason.is_none() && mode != RunMode::DryRun {
        track(inner, courier).await?;
    }
    Ok(counts)
}

/// The store whose orders this ERP ships: the flow's `store` setting, else
/// the store with an orders flow into this ERP.
fn store_of(inner: &Inner, erp: &ConnectionRow, flow: &FlowRow) -> ApiResult<Option<ConnectionRow>> {
    let id = match flow.settings.get("store").and_then(|v| v.as_str()) {
        Some(id) => Some(id.to_owned()),
        None => inner
            .journal
            .flows()?
            .into_iter()
            .find(|f| f.flow == "orders" && f.target_id == erp.id)
            .map(|f| f.source_id),
    };
    Ok(match id {
        Some(id) => inner.journal.connection(&id)?.filter(|c| c.role == Role::Store),
        None => None,
    })
}

/// Reads documents ready to ship and queues their bookings. Returns
/// (fetched, newly queued).
async fn read(
    inner: &Inner,
    erp_conn: &ConnectionRow,
    courier: &ConnectionRow,
    store: Option<&ConnectionRow>,
) -> ApiResult<(u64, u64)> {
    let lock = inner.exclusive(&format!("shipping:{}:{}", erp_conn.id, courier.id));
    let _guard = lock.lock().await;
    let run_start = inner.now();
    let run_id = inner.journal.start_run(&erp_conn.id, "shipping", run_start)?;
    let erp = match erp_for(inner, erp_conn) {
        Ok(e) => e,
        Err(e) => {
            let why = super::pause_unbuildable(inner, erp_conn, Some(run_id), e)?;
            inner.journal.finish_run(run_id, RunOutcome::Failed, Some(&why), inner.now())?;
            return Ok((0, 0));
        }
    };
    match read_pages(inner, erp.as_ref(), erp_conn, courier, store, run_id, run_start).await {
        Ok(counts) => {
            inner.journal.finish_run(run_id, RunOutcome::Ok, None, inner.now())?;
            inner.changed();
            Ok(counts)
        }
        Err(e) => {
            super::read_failed(
                inner,
                erp_conn,
                run_id,
                &e,
                "orders ready to ship",
                "parcels already booked are still tracked.",
            )?;
            inner.journal.finish_run(run_id, RunOutcome::Failed, Some(&e.to_string()), inner.now())?;
            inner.changed();
            Ok((0, 0))
        }
    }
}

async fn read_pages(
    inner: &Inner,
    erp: &dyn Erp,
    erp_conn: &ConnectionRow,
    courier: &ConnectionRow,
    store: Option<&ConnectionRow>,
    run_id: i64,
    run_start: chrono::DateTime<chrono::Utc>,
) -> Result<(u64, u64), ConnectorError> {
    let mut cursor = inner.journal.cursor(&erp_conn.id, ENTITY).map_err(super::journal_err)?;
    let window = CursorWindow::new(&cursor, run_start, inner.tuning.overlap);
    let (mut fetched, mut queued, mut after) = (0u64, 0u64, None::<String>);
    loop {
        let page = read_with_retry(inner, &erp_conn.id, || erp.ready_to_ship(window.since, after.as_deref())).await?;
        fetched += page.items.len() as u64;
        let admitted: Vec<ReadyParcel> =
            page.items.into_iter().filter(|p| window.admits(&cursor, &p.id, p.updated_at)).collect();
        let (mut writes, mut events) = (Vec::new(), Vec::new());
        for p in &admitted {
            if let Some(w) = booking(inner, p, erp_conn, courier, store).map_err(super::journal_err)? {
                events.push(
                    NewEvent::new(
                        Level::Info,
                        ENTITY,
                        &p.id,
                        format!(
                            "{} is ready to ship ({}); booking a parcel with {}",
                            p.order_label, p.id, courier.name
                        ),
                    )
                    .on(&courier.id),
                );
                writes.push(w);
            }
        }
        let next_cursor = window.advance(&cursor, admitted.iter().map(|p| (p.id.as_str(), p.updated_at)));
        queued += inner
            .journal
            .commit_page(
                PageCommit {
                    run_id,
                    source_id: &erp_conn.id,
                    entity: ENTITY,
                    cursor: &next_cursor,
                    writes,
                    events,
                    fetched: admitted.len() as u64,
                },
                inner.now(),
            )
            .map_err(super::journal_err)?;
        cursor = next_cursor;
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    Ok((fetched, queued))
}

/// The booking to queue for a ready document, or `None` when it is booked,
/// on its way, or was refused and has not changed since.
fn booking(
    inner: &Inner,
    p: &ReadyParcel,
    erp: &ConnectionRow,
    courier: &ConnectionRow,
    store: Option<&ConnectionRow>,
) -> ferry_journal::Result<Option<NewWrite>> {
    if let Some(last) = inner.journal.latest_write(ENTITY, &p.id, &courier.id)? {
        let refused_then = serde_json::from_value::<Booking>(last.payload.clone()).ok().map(|b| b.updated_at);
        let retry = last.state == OutboxState::Dead && refused_then.is_some_and(|t| t < p.updated_at);
        if !retry {
            return Ok(None);
        }
    }
    let booking = Booking {
        request: ShipmentRequest {
            reference: p.id.clone(),
            order_ref: p.order_ref.clone().unwrap_or_else(|| p.order_label.clone()),
            to: p.to.clone(),
            email: p.email.clone(),
            weight_grams: p.weight_grams,
            service: None,
        },
        label: p.order_label.clone(),
        erp_id: erp.id.clone(),
        store_id: store.filter(|_| p.order_ref.is_some()).map(|s| s.id.clone()),
        updated_at: p.updated_at,
    };
    Ok(Some(NewWrite {
        idempotency_key: format!("ship:{}:{}@{}->{}", erp.id, p.id, p.updated_at.timestamp_micros(), courier.id),
        source_id: erp.id.clone(),
        target_id: courier.id.clone(),
        entity: ENTITY.into(),
        entity_key: p.id.clone(),
        op: "book".into(),
        payload: serde_json::to_value(&booking).unwrap_or_default(),
        supersedes: true,
    }))
}

/// Books one parcel (finding an earlier booking first), and says what must
/// follow: the tracking number to the store and to the ERP, the parcel to track.
pub(crate) async fn book(
    courier: &dyn Courier,
    courier_name: &str,
    row: &ferry_journal::OutboxRow,
) -> Result<Applied, ConnectorError> {
    let b: Booking = serde_json::from_value(row.payload.clone()).map_err(|e| unreadable("booking", e))?;
    let to = &b.request.to;
    if to.line1.is_none() || to.city.is_none() || to.postcode.is_none() || to.country.is_none() {
        return Err(ConnectorError::Rejected {
            message: format!(
                "{} ({}) has no complete shipping address (street, postcode, city, country); fix it in the ERP — the changed document is booked on the next run",
                b.label, b.request.reference
            ),
            fields: vec![],
        });
    }
    let (shipment, words) = match courier.find_booking(&b.request).await? {
        Some(s) => (s, "was already booked"),
        None => (courier.create_shipment(&b.request).await?, "booked"),
    };
    let number = shipment.tracking_number.clone().unwrap_or_default();
    let mut then = Vec::new();
    let follow = |target: &str, entity: &str, op: &str, id: &str| NewWrite {
        idempotency_key: format!("{entity}:{}:{number}->{target}", b.request.reference),
        source_id: row.target_id.clone(),
        target_id: target.to_owned(),
        entity: entity.to_owned(),
        entity_key: b.request.reference.clone(),
        op: op.to_owned(),
        payload: serde_json::to_value(Tracking {
            id: id.to_owned(),
            label: b.label.clone(),
            shipment: shipment.clone(),
        })
        .unwrap_or_default(),
        supersedes: false,
    };
    if let Some(store) = &b.store_id {
        then.push(follow(store, FULFILLMENT, "fulfill", &b.request.order_ref));
    }
    then.push(follow(&b.erp_id, TRACKING, "set-tracking", &b.request.reference));
    Ok(Applied {
        remote: shipment.id.clone().unwrap_or_else(|| number.clone()),
        message: format!(
            "Parcel for {} {words} with {courier_name}: {} {}, tracking {number}",
            b.label, shipment.carrier, shipment.service
        ),
        parcel: Some(NewParcel {
            courier_id: row.target_id.clone(),
            reference: b.request.reference.clone(),
            erp_id: b.erp_id.clone(),
            store_id: b.store_id.clone(),
            order_ref: Some(b.request.order_ref.clone()),
            order_label: b.label.clone(),
            shipment: serde_json::to_value(&shipment).unwrap_or_default(),
        }),
        then,
    })
}

fn tracking_of(row: &ferry_journal::OutboxRow) -> Result<Tracking, ConnectorError> {
    serde_json::from_value(row.payload.clone()).map_err(|e| unreadable("tracking number", e))
}

pub(crate) async fn fulfill(
    store: &dyn Store,
    store_name: &str,
    row: &ferry_journal::OutboxRow,
) -> Result<Applied, ConnectorError> {
    let t = tracking_of(row)?;
    store.fulfill(&t.id, &t.shipment).await?;
    let number = t.shipment.tracking_number.clone().unwrap_or_default();
    Ok(Applied {
        message: format!("{} marked shipped in {store_name} with {} tracking {number}", t.label, t.shipment.carrier),
        remote: t.id,
        ..Default::default()
    })
}

pub(crate) async fn set_tracking(
    erp: &dyn Erp,
    erp_name: &str,
    row: &ferry_journal::OutboxRow,
) -> Result<Applied, ConnectorError> {
    let t = tracking_of(row)?;
    erp.set_tracking(&t.id, &t.shipment).await?;
    let number = t.shipment.tracking_number.clone().unwrap_or_default();
    Ok(Applied {
        message: format!("Tracking {number} ({}) written to {} in {erp_name}", t.shipment.carrier, t.id),
        remote: t.id,
        ..Default::default()
    })
}

fn status_name(s: TrackingStatus) -> String {
    serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| "unknown".into())
}

/// Reads the newest scan of every parcel still on its way; a failed
/// delivery or a return raises an alert (once per parcel and status).
/// Each call is a run of the courier connection (so its health shows),
/// even with nothing to track.
async fn track(inner: &Inner, courier_conn: &ConnectionRow) -> ApiResult<()> {
    let run_id = inner.journal.start_run(&courier_conn.id, "tracking", inner.now())?;
    let failure = track_parcels(inner, courier_conn, run_id).await?;
    let outcome = if failure.is_some() { RunOutcome::Failed } else { RunOutcome::Ok };
    inner.journal.finish_run(run_id, outcome, failure.as_deref(), inner.now())?;
    Ok(())
}

/// Returns what went wrong, if anything did (each parcel is tried again next run).
async fn track_parcels(inner: &Inner, courier_conn: &ConnectionRow, run_id: i64) -> ApiResult<Option<String>> {
    let parcels = inner.journal.open_parcels(&courier_conn.id)?;
    if parcels.is_empty() {
        return Ok(None);
    }
    let courier = match courier_for(inner, courier_conn) {
        Ok(c) => c,
        Err(e) => return Ok(Some(super::pause_unbuildable(inner, courier_conn, Some(run_id), e)?)),
    };
    let mut failure = None;
    for p in parcels {
        let Ok(shipment) = serde_json::from_value::<Shipment>(p.shipment.clone()) else { continue };
        let events = match read_with_retry(inner, &courier_conn.id, || courier.tracking(&shipment)).await {
            Ok(events) => events,
            Err(ConnectorError::Auth(why)) => {
                super::pause_for_auth(inner, courier_conn, Some(run_id), &why)?;
                return Ok(Some(why));
            }
            Err(e) => {
                tracing::warn!("tracking {} with {}: {e}", p.reference, courier_conn.name);
                failure = Some(format!("tracking {}: {e}", p.reference));
                continue; // tried again next run
            }
        };
        let Some(last) = events.last() else { continue };
        let status = status_name(last.status);
        if status == p.status {
            continue;
        }
        let now = inner.now();
        inner.journal.set_parcel_status(&p.courier_id, &p.reference, &status, Some((last.at, &last.message)), now)?;
        let number = shipment.tracking_number.as_deref().unwrap_or_default();
        let words = match last.status {
            TrackingStatus::Delivered => "was delivered",
            TrackingStatus::OutForDelivery => "is out for delivery",
            TrackingStatus::InTransit => "is on its way",
            TrackingStatus::PreTransit => "is waiting for pickup",
            TrackingStatus::FailedDelivery => "could not be delivered",
            TrackingStatus::ReturnedToSender => "is going back to the shop",
            TrackingStatus::Unknown => "has an unknown status",
        };
        let level = if last.status.is_exception() { Level::Warn } else { Level::Info };
        let line = format!("Parcel for {} ({} {number}) {words}: {}", p.order_label, shipment.carrier, last.message);
        inner.journal.log_event(
            None,
            &NewEvent::new(level, ENTITY, &p.reference, line.clone()).on(&courier_conn.id),
            now,
        )?;
        if last.status.is_exception() {
            crate::alerts::raise(
                inner,
                AlertKind::CourierException,
                Some(&courier_conn.id),
                &format!("parcel {} {status}", p.reference),
                format!("Parcel for {} {words}", p.order_label),
                format!(
                    "{} says: {}. Tracking {number}. Contact the customer or the carrier; Ferry keeps tracking it.",
                    shipment.carrier, last.message
                ),
            )?;
        }
        inner.changed();
    }
    Ok(failure)
}
