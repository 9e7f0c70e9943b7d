//! Parcels booked with couriers: recorded in the same transaction as the
//! booking's outbox row, then tracked until delivered or returned.

use crate::error::Result;
use crate::time::{format_ts, parse_ts};
use crate::Journal;
use chrono::{DateTime, Utc};
use rusqlite::{params, Row};

/// A parcel to record when its booking lands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewParcel {
    pub courier_id: String,
    pub reference: String,
    pub erp_id: String,
    pub store_id: Option<String>,
    pub order_ref: Option<String>,
    pub order_label: String,
    pub shipment: serde_json::Value,
}

/// A parcel as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ParcelRow {
    pub courier_id: String,
    pub reference: String,
    pub erp_id: String,
    pub store_id: Option<String>,
    pub order_ref: Option<String>,
    pub order_label: String,
    pub shipment: serde_json::Value,
    /// A `TrackingStatus` in snake case, `booked` before the first scan.
    pub status: String,
    pub last_event_at: Option<DateTime<Utc>>,
    pub last_message: Option<String>,
    pub booked_at: DateTime<Utc>,
}

/// Statuses after which a parcel is no longer tracked.
pub const FINAL_STATUSES: &[&str] = &["delivered", "returned_to_sender"];

const SELECT: &str = "SELECT courier_id, reference, erp_id, store_id, order_ref, order_label, shipment, status,
    last_event_at, last_message, booked_at FROM parcels";

fn row_to_parcel(r: &Row<'_>) -> Result<ParcelRow> {
    let opt_ts = |v: Option<String>| v.map(|t| parse_ts(&t)).transpose();
    Ok(ParcelRow {
        courier_id: r.get(0)?,
        reference: r.get(1)?,
        erp_id: r.get(2)?,
        store_id: r.get(3)?,
        order_ref: r.get(4)?,
        order_label: r.get(5)?,
        shipment: serde_json::from_str(&r.get::<_, String>(6)?)?,
        status: r.get(7)?,
        last_event_at: opt_ts(r.get(8)?)?,
        last_message: r.get(9)?,
        booked_at: parse_ts(&r.get::<_, String>(10)?)?,
    })
}

pub(crate) fn insert(tx: &rusqlite::Transaction<'_>, p: &NewParcel, ts: &str) -> Result<()> {
    tx.prepare_cached("INSERT INTO parcels (courier_id, reference, erp_id, store_id, order_ref, order_label, shipment, status, booked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'booked', ?8)
         ON CONFLICT(courier_id, reference) DO UPDATE SET shipment = ?7")?.execute(
        params![p.courier_id, p.reference, p.erp_id, p.store_id, p.order_ref, p.order_label, p.shipment.to_string(), ts],
    )?;
    Ok(())
}

impl Journal {
    /// Parcels of `courier_id` still on their way (not delivered or returned).
    pub fn open_parcels(&self, courier_id: &str) -> Result<Vec<ParcelRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "{SELECT} WHERE courier_id = ?1 AND status NOT IN ('delivered', 'returned_to_sender') ORDER BY booked_at"
            ))?;
            let mut rows = stmt.query([courier_id])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(row_to_parcel(r)?);
            }
            Ok(out)
        })
    }

    /// Every parcel, newest first (for people and tests).
    pub fn parcels(&self, limit: u32) -> Result<Vec<ParcelRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!("{SELECT} ORDER BY booked_at DESC LIMIT ?1"))?;
            let mut rows = stmt.query([limit])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(row_to_parcel(r)?);
            }
            Ok(out)
        })
    }

    /// Records the newest scan of a parcel.
    pub fn set_parcel_status(
        &self,
        courier_id: &str,
        reference: &str,
        status: &str,
        event: Option<(DateTime<Utc>, &str)>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "UPDATE parcels SET status = ?3, last_event_at = COALESCE(?4, last_event_at),
                 last_message = COALESCE(?5, last_message), checked_at = ?6 WHERE courier_id = ?1 AND reference = ?2",
            )?
            .execute(params![
                courier_id,
                reference,
                status,
                event.map(|(t, _)| format_ts(t)),
                event.map(|(_, m)| m.to_owned()),
                format_ts(now)
            ])?;
            Ok(())
        })
    }
}
