//! The transport types of the API: what callers send and get back,
//! serialized in camelCase for the UI (typed to match in
//! `ui/src/lib/backend/types.ts`).

use crate::secrets::KeychainStatus;
use chrono::{DateTime, Utc};
use ferry_journal::Role;
use serde::Serialize;

/// A connection to configure (the secret is stored separately).
#[derive(Debug, Clone)]
pub struct ConnectionSpec {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub base_url: String,
    pub settings: serde_json::Value,
}

/// Where the demo's emulated systems listen, and the tokens they accept.
#[derive(Debug, Clone)]
pub struct DemoSystems {
    pub shopify_url: String,
    pub shopify_token: String,
    pub erpnext_url: String,
    pub erpnext_secret: String,
    /// Account heads of the demo ERP's chart of accounts.
    pub erpnext_shipping_account: String,
    pub erpnext_tax_account: String,
    /// The ERP warehouse whose stock the store's location sells.
    pub erpnext_warehouse: String,
    pub shopify_location: String,
    pub easypost_url: String,
    pub easypost_key: String,
}

pub const DEMO_STORE_ID: &str = "demo-shop";
pub const DEMO_ERP_ID: &str = "demo-erp";
pub const DEMO_COURIER_ID: &str = "demo-courier";

/// The state of the whole app, for the Overview page and `ferry status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    pub generated_at: DateTime<Utc>,
    pub demo: bool,
    pub keychain: KeychainStatus,
    pub totals: Totals,
    pub connections: Vec<ConnectionCard>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub orders_posted: u64,
    pub pending: u64,
    pub failed: u64,
    pub open_conflicts: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ConnectionState {
    Idle,
    Syncing,
    UpToDate,
    Retrying,
    Paused,
    Failing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureDto {
    pub at: DateTime<Utc>,
    pub message: String,
}

/// One change feed (`order`, `stock`, `catalog`, ...) and its watermark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Feed {
    pub entity: String,
    /// Everything changed before this has been read; `None` before the first read.
    pub read_up_to: Option<DateTime<Utc>>,
}

/// What a connection's runs did today.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Today {
    pub runs: u64,
    /// Records read.
    pub read: u64,
    /// Writes made.
    pub written: u64,
    /// Writes that failed for good (waiting in Failed writes).
    pub failed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionCard {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub role: Role,
    pub state: ConnectionState,
    pub state_text: String,
    pub last_run_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub next_run_at: Option<DateTime<Utc>>,
    /// Orders posted (store, ERP) or parcels booked (courier).
    pub orders_posted: u64,
    /// How far reading this connection has got: the oldest watermark of its
    /// change feeds (everything changed before it has been read). `None`
    /// before the first read.
    pub read_up_to: Option<DateTime<Utc>>,
    /// Each change feed read from this connection and how far it has got.
    pub feeds: Vec<Feed>,
    /// What this connection's runs did since local midnight.
    pub today: Today,
    pub pending: u64,
    pub failed: u64,
    pub open_conflicts: u64,
    pub recent_failures: Vec<FailureDto>,
}

/// A write that could not be made, waiting for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    pub id: i64,
    pub target_id: String,
    pub entity: String,
    /// What people call the record, e.g. the order number.
    pub label: String,
    /// The remote system's message.
    pub error: String,
    pub attempts: u32,
}

/// A write still to be made: queued, or waiting to be tried again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingWrite {
    pub id: i64,
    pub target_id: String,
    pub entity: String,
    /// What people call the record, e.g. the order number.
    pub label: String,
    pub attempts: u32,
    /// When it is tried (again).
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last try failed, when it did (a transient failure: retried).
    pub last_error: Option<String>,
}

/// One entry of the alert log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub kind: ferry_domain::AlertKind,
    pub connection_id: Option<String>,
    pub title: String,
    pub body: String,
    pub delivery: ferry_domain::Delivery,
    pub read: bool,
}

/// What a dry run would do with one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum PreviewAction {
    /// Create it in the target.
    Create,
    /// It is already in the target (found by our reference): link, don't post.
    Link { remote_id: String },
    /// Not written (e.g. cancelled before it was ever posted).
    Skip,
    /// Cancel the target's document (the store order was cancelled).
    Cancel,
    /// Write a change (stock level, product or customer fields, a booking).
    Write { op: String },
    /// Different on both sides: would be held as a conflict for a person.
    Hold { field: String },
}

/// One line of a dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewLine {
    pub label: String,
    pub summary: String,
    pub target_id: String,
    pub action: PreviewAction,
}

/// What a reconciliation found for one store → ERP pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileReport {
    pub store_id: String,
    pub erp_id: String,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub store_orders: usize,
    pub erp_documents: usize,
    pub drift: Vec<ferry_domain::DriftItem>,
}

/// What one flow's run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowCounts {
    pub fetched: u64,
    pub queued: u64,
    pub written: u64,
    pub failed: u64,
}

impl std::ops::AddAssign for FlowCounts {
    fn add_assign(&mut self, o: Self) {
        self.fetched += o.fetched;
        self.queued += o.queued;
        self.written += o.written;
        self.failed += o.failed;
    }
}

/// What a one-shot sync did: totals and per flow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub total: FlowCounts,
    pub by_flow: std::collections::BTreeMap<String, FlowCounts>,
}

impl SyncReport {
    pub fn orders(&self) -> FlowCounts {
        self.by_flow.get("orders").copied().unwrap_or_default()
    }

    pub fn stock(&self) -> FlowCounts {
        self.by_flow.get("stock").copied().unwrap_or_default()
    }
}

/// A person's decision on a conflict. From the UI as
/// `{"kind": "keepStore"}`, `{"kind": "keepErp"}` or `{"kind": "value", "value": "12.50"}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "camelCase")]
pub enum Choice {
    KeepStore,
    KeepErp,
    /// A typed value (for prices: the amount, in the conflict's currency).
    Value(String),
}

/// A field changed differently on both sides, as people see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    pub id: i64,
    pub store_id: String,
    pub erp_id: String,
    pub entity: String,
    /// The record, e.g. the SKU.
    pub key: String,
    pub field: String,
    pub base: Option<String>,
    pub store_value: Option<String>,
    pub erp_value: Option<String>,
    pub open: bool,
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub resolution: Option<String>,
    pub reason: Option<String>,
}

impl From<ferry_journal::ConflictRow> for Conflict {
    fn from(c: ferry_journal::ConflictRow) -> Self {
        Self {
            id: c.id,
            store_id: c.source_id,
            erp_id: c.target_id,
            entity: c.entity,
            key: c.entity_key,
            field: c.field,
            base: c.base,
            store_value: c.store_value,
            erp_value: c.erp_value,
            open: c.open,
            opened_at: c.opened_at,
            resolved_at: c.resolved_at,
            resolved_by: c.resolved_by,
            resolution: c.resolution,
            reason: c.reason,
        }
    }
}

/// A parcel booked with a courier, and where it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Parcel {
    pub courier_id: String,
    /// The ERP's shipping document.
    pub reference: String,
    pub order_label: String,
    pub carrier: String,
    pub service: String,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    pub label_url: Option<String>,
    /// `booked`, `in_transit`, `delivered`, `failed_delivery`, ...
    pub status: String,
    pub last_message: Option<String>,
    pub booked_at: DateTime<Utc>,
}

impl From<ferry_journal::ParcelRow> for Parcel {
    fn from(p: ferry_journal::ParcelRow) -> Self {
        let s: Option<ferry_domain::Shipment> = serde_json::from_value(p.shipment).ok();
        Self {
            courier_id: p.courier_id,
            reference: p.reference,
            order_label: p.order_label,
            carrier: s.as_ref().map(|s| s.carrier.clone()).unwrap_or_default(),
            service: s.as_ref().map(|s| s.service.clone()).unwrap_or_default(),
            tracking_number: s.as_ref().and_then(|s| s.tracking_number.clone()),
            tracking_url: s.as_ref().and_then(|s| s.tracking_url.clone()),
            label_url: s.as_ref().and_then(|s| s.label_url.clone()),
            status: p.status,
            last_message: p.last_message,
            booked_at: p.booked_at,
        }
    }
}

/// What the Activity page asks for: every field narrows; absent means any.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ActivityQuery {
    pub connection_id: Option<String>,
    pub entity: Option<String>,
    /// `info`, `warn` or `error`.
    pub level: Option<String>,
    /// An order number, a SKU, a customer's email: matched in the record's key or the message.
    pub search: Option<String>,
    /// The previous page's last id: the page after it.
    pub before_id: Option<i64>,
}

/// One line of the journal, as the Activity page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub level: String,
    pub connection_id: Option<String>,
    pub entity: Option<String>,
    pub key: Option<String>,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_choice_reads_as_the_ui_sends_it() {
        let read = |s: &str| serde_json::from_str::<Choice>(s).expect("a choice");
        assert_eq!(read(r#"{"kind":"keepStore"}"#), Choice::KeepStore);
        assert_eq!(read(r#"{"kind":"keepErp"}"#), Choice::KeepErp);
        assert_eq!(read(r#"{"kind":"value","value":"12.50"}"#), Choice::Value("12.50".into()));
        assert!(serde_json::from_str::<Choice>(r#"{"kind":"both"}"#).is_err(), "an unknown choice is refused");
    }
}
