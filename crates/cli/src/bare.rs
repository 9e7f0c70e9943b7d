//! The bare loop `ferry bench` compares Ferry with: only the HTTP calls a
//! correct orders sync must make — the store's order pages, then one
//! lookup and one create per order in the ERP, as many at once as Ferry
//! writes — through the same connectors, with no engine and no journal.

use anyhow::{Context, Result};
use ferry_engine::{ConnectionInfo, DEMO_ERP_ID, DEMO_STORE_ID};
use futures_util::stream::{self, StreamExt};
use std::time::{Duration, Instant};

/// What the bare loop did.
pub struct Bare {
    pub orders: usize,
    pub posted: usize,
    pub took: Duration,
}

/// Runs the bare loop against the systems `connections` point at.
pub async fn run(connections: &[ConnectionInfo], concurrency: usize) -> Result<Bare> {
    let find = |id: &str| connections.iter().find(|c| c.id == id).with_context(|| format!("no connection {id}"));
    let (store_c, erp_c) = (find(DEMO_STORE_ID)?, find(DEMO_ERP_ID)?);
    let store =
        ferry_connectors::store(&store_c.kind, &store_c.base_url, &store_c.settings, ferry_sim::DEMO_SHOPIFY_TOKEN)?;
    let erp = ferry_connectors::erp(&erp_c.kind, &erp_c.base_url, &erp_c.settings, ferry_sim::DEMO_ERPNEXT_SECRET)?;
    let started = Instant::now();
    let (mut orders, mut posted) = (0usize, 0usize);
    let mut after: Option<String> = None;
    loop {
        let page = store.orders_page(None, after.as_deref()).await?;
        orders += page.items.len();
        let erp = erp.as_ref();
        let created: Vec<bool> = stream::iter(page.items)
            .map(|o| async move {
                if erp.find_order(&o.id).await?.is_some() {
                    return Ok::<_, ferry_domain::ConnectorError>(false);
                }
                erp.create_order(&o).await.map(|_| true)
            })
            .buffer_unordered(concurrency.max(1))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        posted += created.into_iter().filter(|c| *c).count();
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    Ok(Bare { orders, posted, took: started.elapsed() })
}
