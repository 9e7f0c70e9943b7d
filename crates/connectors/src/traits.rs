//! The capability traits. A connector implements the ones its system has.

use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use ferry_domain::{
    CatalogField, CatalogItem, CustomerField, CustomerReading, ErpOrderRef, ErpOrderSummary, Order, ReadyParcel,
    Refund, Shipment, ShipmentRequest, StockReading, TrackingEvent,
};

/// One page of results and the token for the next, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// A whole-store export of orders being read (Shopify's Bulk Operations):
/// the first full read of a large store in one file instead of pages.
#[async_trait]
pub trait OrderExport: Send {
    /// When the store began the export: every order updated before then is
    /// in it.
    fn started_at(&self) -> DateTime<Utc>;

    /// The next orders of the export, at most `max`; `None` once all were read.
    async fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Order>>>;
}

/// Customers, as a store or an ERP keeps them.
#[async_trait]
pub trait Customers: Send + Sync {
    /// Customers changed at or after `since` (all when `None`), oldest
    /// change first; `after` is the previous page's `next`.
    async fn customers_page(&self, since: Option<DateTime<Utc>>, after: Option<&str>) -> Result<Page<CustomerReading>>;

    /// One customer by the system's id; `None` when it no longer exists.
    async fn customer(&self, id: &str) -> Result<Option<CustomerReading>>;

    /// The customer with this email address (compared without case), if any.
    async fn find_customer(&self, email: &str) -> Result<Option<CustomerReading>>;

    /// Sets fields of customer `id` (`None` empties one). The address fields
    /// change the customer's default address together (creating it if the
    /// customer has none).
    async fn update_customer(&self, id: &str, changes: &[(CustomerField, Option<String>)]) -> Result<()>;
}

/// An online store: where orders come from.
#[async_trait]
pub trait Store: Customers {
    /// Orders updated at or after `since` (all when `None`), oldest change
    /// first; `after` is the previous page's `next`.
    async fn orders_page(&self, since: Option<DateTime<Utc>>, after: Option<&str>) -> Result<Page<Order>>;

    /// Starts an export of every order (the first full read); `None` when
    /// the system has no bulk export, and pages are read instead.
    async fn export_orders(&self) -> Result<Option<Box<dyn OrderExport>>> {
        Ok(None)
    }

    /// Sets the quantity available for sale of `sku` at `location` (the
    /// store's location id). Setting (not adjusting) makes a retry harmless.
    async fn set_available(&self, sku: &str, location: &str, quantity: i64) -> Result<()>;

    /// How many `set_available` calls may be in flight at once, when the
    /// connector gathers them into batch writes (`None`: as many as any write).
    fn stock_writes_at_once(&self) -> Option<usize> {
        None
    }

    /// Every SKU's title, selling price and active flag.
    async fn catalog(&self) -> Result<Vec<CatalogItem>>;

    /// Sets one catalog field of `sku`.
    async fn set_catalog_field(&self, sku: &str, field: &CatalogField) -> Result<()>;

    /// A cheap read that proves the address and credentials work (the
    /// orders changed from now on: usually none).
    async fn check(&self) -> Result<()> {
        self.orders_page(Some(Utc::now()), None).await.map(|_| ())
    }

    /// Marks store order `order_id` shipped with this parcel (the customer
    /// is told). Safe to repeat: an order already fulfilled with this
    /// tracking number is left as it is.
    async fn fulfill(&self, order_id: &str, shipment: &Shipment) -> Result<()>;
}

/// An ERP or accounting system: where orders go.
#[async_trait]
pub trait Erp: Customers {
    /// The document made from store order `external_ref`, if one exists.
    /// Called before every create: this is what makes a retry after a crash
    /// safe.
    async fn find_order(&self, external_ref: &str) -> Result<Option<ErpOrderRef>>;

    /// A cheap read that proves the address and credentials work.
    async fn check(&self) -> Result<()> {
        self.find_order("ferry-connection-check").await.map(|_| ())
    }

    /// Creates the document for `order`, storing `order.id` on it as our
    /// external reference.
    async fn create_order(&self, order: &Order) -> Result<ErpOrderRef>;

    /// Cancels the document `id` (found with `find_order`).
    async fn cancel_order(&self, id: &str) -> Result<()>;

    /// The credit note made for store refund `refund_id`, if one exists.
    /// Called before every create, as `find_order` is.
    async fn find_credit_note(&self, refund_id: &str) -> Result<Option<String>>;

    /// Creates the credit note for `refund` of store order `order`, whose
    /// document is `doc`, storing `refund.id` on it. Returns its id.
    async fn create_credit_note(&self, doc: &ErpOrderRef, order: &Order, refund: &Refund) -> Result<String>;

    /// Stock records changed at or after `since` (all when `None`), oldest
    /// change first; `after` is the previous page's `next`.
    async fn stock_page(&self, since: Option<DateTime<Utc>>, after: Option<&str>) -> Result<Page<StockReading>>;

    /// Every item's title, selling price and active flag.
    async fn catalog(&self) -> Result<Vec<CatalogItem>>;

    /// Sets one catalog field of item `sku`.
    async fn set_catalog_field(&self, sku: &str, field: &CatalogField) -> Result<()>;

    /// Shipping documents ready to ship (no tracking number yet) changed at
    /// or after `since` (all when `None`), oldest change first.
    async fn ready_to_ship(&self, since: Option<DateTime<Utc>>, after: Option<&str>) -> Result<Page<ReadyParcel>>;

    /// Writes the carrier and tracking number onto shipping document `id`.
    async fn set_tracking(&self, id: &str, shipment: &Shipment) -> Result<()>;

    /// Every order document dated `from` to `to` (inclusive, the ERP's own
    /// dates), for reconciliation.
    async fn orders_between(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<ErpOrderSummary>>;
}

/// A courier: books parcels and tracks them.
#[async_trait]
pub trait Courier: Send + Sync {
    /// The shipment booked for `reference` (`ShipmentRequest::reference`),
    /// if one exists. Called before every booking: this is what makes a
    /// retry after a crash safe (a second label costs the shop money).
    async fn find_shipment(&self, reference: &str) -> Result<Option<Shipment>>;

    /// As `find_shipment` for this request's reference, and also checks that
    /// the shipment found was booked for this request's order. One booked for
    /// another order under the same reference (the ERP's document numbers
    /// started again: a restored backup, or a second database on one courier
    /// account) is refused with what to do: taking its tracking number would
    /// ship this parcel under another's label, and buying again would leave
    /// two labels under one reference.
    async fn find_booking(&self, request: &ShipmentRequest) -> Result<Option<Shipment>>;

    /// Books the parcel: creates the shipment with `reference` stored on it,
    /// buys the requested service (or the cheapest rate) and returns it with
    /// its tracking number and label.
    async fn create_shipment(&self, request: &ShipmentRequest) -> Result<Shipment>;

    /// A cheap read that proves the address and credentials work.
    async fn check(&self) -> Result<()> {
        self.find_shipment("ferry-connection-check").await.map(|_| ())
    }

    /// Every scan of the parcel so far, oldest first.
    async fn tracking(&self, shipment: &Shipment) -> Result<Vec<TrackingEvent>>;
}

/// Refuses a courier shipment found under `request.reference` that was
/// booked for another order (`booked_for`, as stored on it); see
/// [`Courier::find_booking`]. A shipment that says nothing of its order
/// (booked before Ferry stored it, or by a person) is taken as ours.
pub(crate) fn same_order(system: &str, request: &ShipmentRequest, booked_for: Option<&str>) -> Result<()> {
    match booked_for.map(str::trim).filter(|o| !o.is_empty()) {
        Some(other) if other != request.order_ref.trim() => Err(ferry_domain::ConnectorError::Rejected {
            message: format!(
                "{system} already has a label under reference {:?}, booked for order {other}, but this parcel is for order {}. Ferry bought no second label and took none: the ERP's shipping document numbers may have started again (a restored backup, or a second database on one {system} account). Look at that label in {system}, void it there if it is stale, then replay this write",
                request.reference, request.order_ref
            ),
            fields: vec![ferry_domain::FieldError {
                field: "reference".into(),
                message: format!("booked for order {other}"),
            }],
        }),
        _ => Ok(()),
    }
}
