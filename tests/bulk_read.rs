//! The first full read of a Shopify store by one Bulk Operations export,
//! then pages: every order exactly once, also when the export's download is
//! cut short and when orders arrive while it runs.

use ferry_engine::secrets::Secrets;
use ferry_engine::Tuning;
use ferry_tests::{fast_tuning, scenario, scenario_tuned};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_read_is_one_export_and_later_reads_are_pages() {
    let s = scenario(600).await;
    let first = s.engine.sync_until_idle().await.expect("sync runs");
    assert_eq!(first.orders().written, 600);
    assert_eq!(s.sim.sim.shopify.bulk_operations(), 1, "one export read the store");
    let stats = s.sim.sim.stats();
    assert_eq!((stats.erp_sales_orders, stats.duplicates, stats.missing, stats.total_mismatches), (600, 0, 0, 0));

    s.sim.sim.shopify.place_orders(30, chrono::Utc::now());
    let next = s.engine.sync_until_idle().await.expect("sync runs");
    assert_eq!(next.orders().written, 30, "the next run reads the new orders by pages");
    assert_eq!(s.sim.sim.shopify.bulk_operations(), 1, "and starts no second export");
    let stats = s.sim.sim.stats();
    assert_eq!((stats.erp_sales_orders, stats.duplicates, stats.missing), (630, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_cut_short_is_read_again_and_posts_nothing_twice() {
    let s = scenario(900).await;
    // The file's download ends halfway through (a proxy cut it).
    s.sim.sim.shopify.faults.rewrite_responses("_bulk", 1, |status, body| {
        let cut = body.len() / 2;
        (status, body[..cut].to_vec())
    });
    let first = s.engine.sync_until_idle().await.expect("sync runs");
    assert!(first.orders().written < 900, "the cut export failed the read: {:?}", first.orders());
    let second = s.engine.sync_until_idle().await.expect("sync runs");
    assert_eq!(first.orders().written + second.orders().written, 900);
    assert_eq!(s.sim.sim.shopify.bulk_operations(), 2, "the second run exported again");
    let stats = s.sim.sim.stats();
    assert_eq!((stats.erp_sales_orders, stats.duplicates, stats.missing), (900, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paged_and_exported_first_reads_post_the_same_orders() {
    let paged = scenario_tuned(400, Secrets::memory_only(), Tuning { bulk_first_read: false, ..fast_tuning() }).await;
    paged.engine.sync_until_idle().await.expect("sync runs");
    assert_eq!(paged.sim.sim.shopify.bulk_operations(), 0);
    let bulk = scenario(400).await;
    bulk.engine.sync_until_idle().await.expect("sync runs");
    let totals = |s: &ferry_tests::Scenario| {
        let mut t = s.sim.sim.erpnext.sales_order_totals();
        t.sort();
        t
    };
    assert_eq!(totals(&paged), totals(&bulk), "the same documents, to the cent");
}
