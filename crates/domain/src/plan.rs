//! The orders plan: which fetched store orders become ERP writes. Pure and
//! deterministic (sorted by `updated_at`, then id) so it is table-tested.

use crate::model::{Order, OrderStatus};
use std::collections::HashSet;

/// What to do with one fetched order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderDecision {
    /// Queue a create in the outbox.
    Post,
    /// Already posted or queued: nothing to write.
    AlreadyKnown,
    /// Cancelled before it ever reached the ERP: nothing to post.
    SkipCancelled,
    /// Posted (or queued) earlier and now cancelled in the store: the ERP
    /// document must be cancelled too, never silently left open.
    Cancel,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedOrder<'a> {
    pub order: &'a Order,
    pub decision: OrderDecision,
}

/// Plans a page of fetched orders against the ids already posted or queued
/// (`known`) and those whose cancellation is already queued (`cancelling`).
pub fn plan_orders<'a>(
    fetched: &'a [Order],
    known: &HashSet<String>,
    cancelling: &HashSet<String>,
) -> Vec<PlannedOrder<'a>> {
    let mut seen_in_page = HashSet::new();
    let mut orders: Vec<&Order> = fetched.iter().collect();
    orders.sort_by(|a, b| a.updated_at.cmp(&b.updated_at).then_with(|| a.id.cmp(&b.id)));
    orders
        .into_iter()
        .map(|order| {
            let cancelled = order.status == OrderStatus::Cancelled;
            let decision = if !seen_in_page.insert(order.id.as_str()) {
                OrderDecision::AlreadyKnown
            } else if known.contains(&order.id) {
                if cancelled && !cancelling.contains(&order.id) {
                    OrderDecision::Cancel
                } else {
                    OrderDecision::AlreadyKnown
                }
            } else if cancelled {
                OrderDecision::SkipCancelled
            } else {
                OrderDecision::Post
            };
            PlannedOrder { order, decision }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn order(id: &str, minute: u32, status: OrderStatus) -> Order {
        let at = Utc.with_ymd_and_hms(2026, 11, 26, 12, minute, 0).single().expect("valid time");
        crate::model::sample_order(id, at, status, "1.00")
    }

    #[test]
    fn plan_table() {
        use OrderDecision::*;
        use OrderStatus::*;
        // (case, fetched, known, expected in updated_at order); "c:ID" in known marks a queued cancel
        type Case = (&'static str, Vec<Order>, Vec<&'static str>, Vec<(&'static str, OrderDecision)>);
        let cases: Vec<Case> = vec![
            ("new order is posted", vec![order("1", 1, Open)], vec![], vec![("1", Post)]),
            ("known order is not posted again", vec![order("1", 1, Open)], vec!["1"], vec![("1", AlreadyKnown)]),
            ("cancelled before posting is skipped", vec![order("2", 1, Cancelled)], vec![], vec![("2", SkipCancelled)]),
            (
                "cancelled after posting is cancelled in the ERP",
                vec![order("4", 1, Cancelled)],
                vec!["4"],
                vec![("4", Cancel)],
            ),
            (
                "a cancel already queued is not queued again",
                vec![order("4", 1, Cancelled)],
                vec!["4", "c:4"],
                vec![("4", AlreadyKnown)],
            ),
            (
                "duplicate inside a page (shifted pagination) posts once",
                vec![order("3", 2, Open), order("3", 2, Open)],
                vec![],
                vec![("3", Post), ("3", AlreadyKnown)],
            ),
            (
                "stable order by updated_at then id",
                vec![order("b", 5, Open), order("a", 5, Open), order("c", 1, Open)],
                vec![],
                vec![("c", Post), ("a", Post), ("b", Post)],
            ),
        ];
        for (case, fetched, known, expected) in cases {
            let cancelling: HashSet<String> =
                known.iter().filter_map(|k| k.strip_prefix("c:")).map(String::from).collect();
            let known: HashSet<String> = known.into_iter().filter(|k| !k.starts_with("c:")).map(String::from).collect();
            let got: Vec<(&str, OrderDecision)> = plan_orders(&fetched, &known, &cancelling)
                .into_iter()
                .map(|p| (p.order.id.as_str(), p.decision))
                .collect();
            assert_eq!(got, expected, "case: {case}");
        }
    }
}
