//! Reconciliation: compare what the store says with what the ERP holds for
//! the same orders, and list the drift. Pure, so it is table-tested.

use crate::model::{Order, OrderStatus};
use crate::money::Money;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// An ERP order document as reconciliation needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErpOrderSummary {
    pub id: String,
    /// The store order id stored on it, if any.
    pub external_ref: Option<String>,
    pub total: Money,
    pub cancelled: bool,
}

/// One difference found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum DriftItem {
    /// A live store order with no ERP document.
    MissingInErp { order: String, store_id: String },
    /// Both exist, totals differ.
    TotalDiffers { order: String, erp_id: String, store_total: String, erp_total: String },
    /// Cancelled in the store, still live in the ERP.
    NotCancelledInErp { order: String, erp_id: String },
    /// More than one live ERP document for one store order.
    Duplicated { order: String, erp_ids: Vec<String> },
}

/// Compares store orders with the ERP's documents (matched by our
/// external reference), in the store orders' order.
pub fn reconcile(store: &[Order], erp: &[ErpOrderSummary]) -> Vec<DriftItem> {
    let mut by_ref: HashMap<&str, Vec<&ErpOrderSummary>> = HashMap::new();
    for doc in erp {
        if let Some(r) = &doc.external_ref {
            by_ref.entry(r.as_str()).or_default().push(doc);
        }
    }
    let mut drift = Vec::new();
    for o in store {
        let docs = by_ref.get(o.id.as_str()).map(Vec::as_slice).unwrap_or_default();
        let live: Vec<&&ErpOrderSummary> = docs.iter().filter(|d| !d.cancelled).collect();
        let cancelled = o.status == OrderStatus::Cancelled;
        match (cancelled, live.as_slice()) {
            (false, []) if docs.is_empty() => {
                drift.push(DriftItem::MissingInErp { order: o.number.clone(), store_id: o.id.clone() })
            }
            (false, []) => {} // cancelled by hand in the ERP: a person's decision, not drift
            (true, []) => {}
            (true, [doc, ..]) => {
                drift.push(DriftItem::NotCancelledInErp { order: o.number.clone(), erp_id: doc.id.clone() })
            }
            (false, [doc]) => {
                if doc.total != o.total {
                    drift.push(DriftItem::TotalDiffers {
                        order: o.number.clone(),
                        erp_id: doc.id.clone(),
                        store_total: o.total.to_string(),
                        erp_total: doc.total.to_string(),
                    });
                }
            }
            (false, many) => drift.push(DriftItem::Duplicated {
                order: o.number.clone(),
                erp_ids: many.iter().map(|d| d.id.clone()).collect(),
            }),
        }
    }
    drift
}

impl DriftItem {
    /// In words, for the journal and alerts.
    pub fn describe(&self, erp_name: &str) -> String {
        match self {
            Self::MissingInErp { order, .. } => format!("Order {order} is in the store but not in {erp_name}"),
            Self::TotalDiffers { order, erp_id, store_total, erp_total } => {
                format!("Order {order}: the store total is {store_total} but {erp_name}'s {erp_id} says {erp_total}")
            }
            Self::NotCancelledInErp { order, erp_id } => {
                format!("Order {order} is cancelled in the store but {erp_id} is still open in {erp_name}")
            }
            Self::Duplicated { order, erp_ids } => {
                format!("Order {order} is in {erp_name} more than once: {}", erp_ids.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn eur(s: &str) -> Money {
        Money::parse(s, "EUR").expect("valid")
    }

    fn order(id: &str, total: &str, status: OrderStatus) -> Order {
        crate::model::sample_order(id, Utc::now(), status, total)
    }

    fn doc(id: &str, r: &str, total: &str, cancelled: bool) -> ErpOrderSummary {
        ErpOrderSummary { id: id.into(), external_ref: Some(r.into()), total: eur(total), cancelled }
    }

    #[test]
    fn drift_table() {
        use OrderStatus::*;
        let store = vec![
            order("1", "10.00", Open),
            order("2", "20.00", Open),
            order("3", "30.00", Open),
            order("4", "40.00", Cancelled),
            order("5", "50.00", Open),
            order("6", "60.00", Open),
            order("7", "70.00", Cancelled),
        ];
        let erp = vec![
            doc("SO-1", "1", "10.00", false), // fine
            doc("SO-2", "2", "19.99", false), // a cent off
            // 3 missing
            doc("SO-4", "4", "40.00", false),  // not cancelled
            doc("SO-5a", "5", "50.00", false), // duplicated
            doc("SO-5b", "5", "50.00", false),
            doc("SO-6", "6", "60.00", true), // cancelled by hand in the ERP
            doc("SO-7", "7", "70.00", true), // cancelled on both sides
            ErpOrderSummary { id: "SO-X".into(), external_ref: None, total: eur("1.00"), cancelled: false }, // made in the ERP
        ];
        let kinds: Vec<String> = reconcile(&store, &erp).iter().map(|d| d.describe("ERP")).collect();
        assert_eq!(
            kinds,
            vec![
                "Order #2: the store total is 20.00 EUR but ERP's SO-2 says 19.99 EUR",
                "Order #3 is in the store but not in ERP",
                "Order #4 is cancelled in the store but SO-4 is still open in ERP",
                "Order #5 is in ERP more than once: SO-5a, SO-5b",
            ]
        );
    }
}
