//! Ferry's canonical model and the pure parts of syncing: money, orders,
//! customers, products, stock, shipments, the typed connector error, cursor
//! windows and the orders plan. Nothing here does IO or names a vendor.

pub mod alert;
pub mod clock;
pub mod cursor;
pub mod error;
pub mod merge;
pub mod model;
pub mod money;
pub mod plan;
pub mod reconcile;

pub use alert::{AlertKind, AlertPolicy, Delivery, PastAlert};
pub use clock::{Clock, FixedClock, SystemClock};
pub use cursor::{CursorState, CursorWindow};
pub use error::{ConnectorError, Disposition, FieldError};
pub use merge::{merge, FieldConflict, Merge, Record, Resolution};
pub use model::*;
pub use money::{Currency, Money, MoneyError};
pub use plan::{plan_orders, OrderDecision, PlannedOrder};
pub use reconcile::{reconcile, DriftItem, ErpOrderSummary};
