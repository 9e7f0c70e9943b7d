//! The bare loop `ferry bench` compares Ferry with: only the HTTP calls a
//! correct orders sync must make — the store's orders (one export where the
//! store has one, as Ferry's first read uses, or pages at the largest size),
//! then one lookup and one create per order in the ERP, as many at once as
//! Ferry writes — through the same connectors, with no engine and no journal.

use anyhow::{Context, Result};
use ferry_connectors::{Erp, Store};
use ferry_domain::Order;
use ferry_engine::{ConnectionInfo, DEMO_ERP_ID, DEMO_STORE_ID};
use futures_util::stream::{self, StreamExt};
use std::time::{Duration, Instant};

/// What the bare loop did.
pub struct Bare {
    pub orders: usize,
    pub posted: usize,
    pub took: Duration,
}

fn connectors(connections: &[ConnectionInfo]) -> Result<(Box<dyn Store>, Box<dyn Erp>)> {
    let find = |id: &str| connections.iter().find(|c| c.id == id).with_context(|| format!("no connection {id}"));
    let (store_c, erp_c) = (find(DEMO_STORE_ID)?, find(DEMO_ERP_ID)?);
    let store =
        ferry_connectors::store(&store_c.kind, &store_c.base_url, &store_c.settings, ferry_sim::DEMO_SHOPIFY_TOKEN)?;
    let erp = ferry_connectors::erp(&erp_c.kind, &erp_c.base_url, &erp_c.settings, ferry_sim::DEMO_ERPNEXT_SECRET)?;
    Ok((store, erp))
}

/// Every order of the store, a batch at a time, handed to `each`.
async fn read_orders<F, Fut>(store: &dyn Store, bulk: bool, mut each: F) -> Result<usize>
where
    F: FnMut(Vec<Order>) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut n = 0;
    if bulk {
        if let Some(mut export) = store.export_orders().await? {
            while let Some(batch) = export.next_batch(250).await? {
                n += batch.len();
                each(batch).await?;
            }
            return Ok(n);
        }
    }
    let mut after: Option<String> = None;
    loop {
        let page = store.orders_page(None, after.as_deref()).await?;
        n += page.items.len();
        each(page.items).await?;
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(n),
        }
    }
}

/// Reads every order and does nothing with them.
pub async fn read_all(connections: &[ConnectionInfo], bulk: bool) -> Result<usize> {
    let (store, _) = connectors(connections)?;
    read_orders(store.as_ref(), bulk, |_| async { Ok(()) }).await
}

/// Runs the bare loop against the systems `connections` point at.
pub async fn run(connections: &[ConnectionInfo], concurrency: usize, bulk: bool) -> Result<Bare> {
    let (store, erp) = connectors(connections)?;
    let started = Instant::now();
    let posted = std::sync::atomic::AtomicUsize::new(0);
    let (erp, counted) = (erp.as_ref(), &posted);
    let orders = read_orders(store.as_ref(), bulk, |batch| {
        let posting = stream::iter(batch)
            .map(move |o| async move {
                if erp.find_order(&o.id).await?.is_some() {
                    return Ok::<_, ferry_domain::ConnectorError>(false);
                }
                erp.create_order(&o).await.map(|_| true)
            })
            .buffer_unordered(concurrency.max(1))
            .collect::<Vec<_>>();
        async move {
            for created in posting.await {
                counted.fetch_add(usize::from(created?), std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        }
    })
    .await?;
    Ok(Bare { orders, posted: posted.into_inner(), took: started.elapsed() })
}
