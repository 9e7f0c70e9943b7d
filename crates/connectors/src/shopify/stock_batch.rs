//! Stock levels go to Shopify many at a time: `inventorySetQuantities`
//! takes a list of quantities and costs the same 10 points for one or for
//! 250 (shopify.dev/docs/api/admin-graphql/2025-07/mutations/inventorySetQuantities).
//! Calls to `set_available` that arrive together are gathered for a few
//! milliseconds and sent as one mutation; each caller gets its own result.
//! A quantity Shopify refuses fails alone: the others are sent again
//! without it.

use super::{SetQuantitiesData, Shopify, SET_QUANTITIES};
use crate::Result;
use ferry_domain::{ConnectorError, FieldError};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::oneshot;

/// Quantities per mutation at most (Shopify's input limit).
pub const MAX_QUANTITIES: usize = 250;
/// How long the first call of a batch waits for others to join it.
const GATHER: Duration = Duration::from_millis(3);

/// One quantity waiting to be sent.
struct Item {
    sku: String,
    inventory_item: String,
    location: String,
    quantity: i64,
    done: oneshot::Sender<Result<()>>,
}

/// The batch being gathered.
#[derive(Default)]
pub struct Gatherer {
    waiting: Mutex<Vec<Item>>,
}

impl Shopify {
    /// Queues one quantity for the next mutation and waits for its result.
    pub(super) async fn set_quantity(
        &self,
        sku: &str,
        inventory_item: String,
        location: &str,
        quantity: i64,
    ) -> Result<()> {
        let (done, result) = oneshot::channel();
        let item = Item { sku: sku.to_owned(), inventory_item, location: location.to_owned(), quantity, done };
        let (first, full) = {
            let mut waiting = self.stock.waiting.lock().unwrap_or_else(|e| e.into_inner());
            waiting.push(item);
            (waiting.len() == 1, waiting.len() >= MAX_QUANTITIES)
        };
        if full {
            let batch = self.take_batch();
            tokio::spawn({
                let shop = self.clone();
                async move { shop.send(batch).await }
            });
        } else if first {
            // The first call sends the batch after a moment, in a task of
            // its own, so its result reaches the others even if this call
            // is dropped.
            tokio::spawn({
                let shop = self.clone();
                async move {
                    tokio::time::sleep(GATHER).await;
                    let batch = shop.take_batch();
                    shop.send(batch).await;
                }
            });
        }
        result
            .await
            .unwrap_or_else(|_| Err(ConnectorError::Transient("the stock update to Shopify was interrupted".into())))
    }

    fn take_batch(&self) -> Vec<Item> {
        let mut waiting = self.stock.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let n = waiting.len().min(MAX_QUANTITIES);
        waiting.drain(..n).collect()
    }

    /// Sends `batch` as one mutation (twice when Shopify refuses some of it:
    /// the refused ones fail, the rest go again) and hands out the results.
    async fn send(&self, batch: Vec<Item>) {
        if batch.is_empty() {
            return;
        }
        let refused = match self.mutation(&batch).await {
            Ok(refused) => refused,
            Err(e) => return fail_all(batch, &e),
        };
        if refused.is_empty() {
            for item in batch {
                let _ = item.done.send(Ok(()));
            }
            return;
        }
        let mut rest = Vec::new();
        for (i, item) in batch.into_iter().enumerate() {
            match refused.iter().find(|(at, _)| *at == Some(i)) {
                Some((_, messages)) => {
                    let _ = item.done.send(Err(ConnectorError::Rejected {
                        message: format!("Shopify refused the stock of {}: {}", item.sku, messages.join("; ")),
                        fields: vec![FieldError { field: "quantity".into(), message: messages.join("; ") }],
                    }));
                }
                None => rest.push(item),
            }
        }
        if refused.iter().any(|(at, _)| at.is_none()) {
            // An error about the whole input: nothing was set.
            let message =
                refused.iter().filter(|(at, _)| at.is_none()).flat_map(|(_, m)| m.clone()).collect::<Vec<_>>();
            let e = ConnectorError::Rejected {
                message: format!("Shopify refused the stock update: {}", message.join("; ")),
                fields: vec![],
            };
            return fail_all(rest, &e);
        }
        match self.mutation(&rest).await {
            Ok(again) if again.is_empty() => {
                for item in rest {
                    let _ = item.done.send(Ok(()));
                }
            }
            Ok(again) => {
                let words = again.iter().flat_map(|(_, m)| m.clone()).collect::<Vec<_>>().join("; ");
                fail_all(rest, &ConnectorError::Transient(format!("Shopify refused a stock update twice: {words}")));
            }
            Err(e) => fail_all(rest, &e),
        }
    }

    /// One `inventorySetQuantities`. Returns the refused quantities: (their
    /// position in `items`, or `None` for the whole input; messages).
    async fn mutation(&self, items: &[Item]) -> Result<Vec<(Option<usize>, Vec<String>)>> {
        if items.is_empty() {
            return Ok(vec![]);
        }
        let quantities: Vec<serde_json::Value> = items
            .iter()
            .map(|i| serde_json::json!({ "inventoryItemId": i.inventory_item, "locationId": i.location, "quantity": i.quantity }))
            .collect();
        let input = serde_json::json!({ "input": {
            "name": "available",
            "reason": "correction",
            "ignoreCompareQuantity": true,
            "quantities": quantities,
        }});
        let data: SetQuantitiesData = self.post(SET_QUANTITIES, input, 10.0).await?.into_data()?;
        let mut refused: Vec<(Option<usize>, Vec<String>)> = Vec::new();
        for e in data.inventory_set_quantities.user_errors {
            // field: ["input", "quantities", "3", "locationId"]
            let at = e.field.as_ref().and_then(|f| match f.as_slice() {
                [_, list, n, ..] if list == "quantities" => n.parse::<usize>().ok().filter(|n| *n < items.len()),
                _ => None,
            });
            match refused.iter_mut().find(|(a, _)| *a == at) {
                Some((_, messages)) => messages.push(e.message),
                None => refused.push((at, vec![e.message])),
            }
        }
        Ok(refused)
    }
}

fn fail_all(items: Vec<Item>, e: &ConnectorError) {
    for item in items {
        let _ = item.done.send(Err(e.clone()));
    }
}
