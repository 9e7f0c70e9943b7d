//! The orders flow, store → ERP, against the emulators over real HTTP:
//! every order exactly once, whatever the network and the systems do.

use ferry_engine::{ConnectionState, Schedule, DEMO_ERP_ID};
use ferry_tests::scenario;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_orders_reach_the_erp_exactly_once() {
    let s = scenario(1000).await;
    let first = s.engine.sync_until_idle().await.expect("sync runs");
    assert_eq!(first.orders().written, 1000, "every seeded order is posted in one run");
    let stats = s.sim.sim.stats();
    assert_eq!(
        (stats.erp_sales_orders, stats.duplicates, stats.missing),
        (1000, 0, 0),
        "counted from the ERP emulator: {stats:?}"
    );
    assert_eq!(
        stats.total_mismatches, 0,
        "with shipping, discounts and VAT, every ERP total equals the store total to the cent"
    );

    let second = s.engine.sync_until_idle().await.expect("second sync runs");
    assert_eq!((second.orders().queued, second.orders().written), (0, 0), "a second run finds nothing new to post");
    assert_eq!(s.sim.sim.stats().erp_sales_orders, 1000, "and the ERP still has each order once");
    assert_eq!(
        s.sim.sim.shopify.throttled.load(std::sync::atomic::Ordering::Relaxed),
        0,
        "pacing keeps normal running free of throttling"
    );
    s.engine.check_journal().expect("journal passes integrity_check");

    let o = s.engine.overview().expect("overview");
    assert_eq!(o.totals.orders_posted, 1000);
    assert!(o.connections.iter().all(|c| c.state == ConnectionState::UpToDate), "{:?}", o.connections);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_placed_between_runs_are_picked_up_once() {
    let s = scenario(50).await;
    s.engine.sync_until_idle().await.expect("first sync");
    s.sim.sim.shopify.place_orders(7, chrono::Utc::now() - chrono::Duration::seconds(1));
    let r = s.engine.sync_until_idle().await.expect("second sync");
    assert_eq!(r.orders().written, 7, "only the new orders are posted");
    let stats = s.sim.sim.stats();
    assert_eq!((stats.erp_sales_orders, stats.duplicates, stats.missing), (57, 0, 0), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_response_after_the_erp_committed_is_not_posted_twice() {
    let s = scenario(30).await;
    // The ERP saves the order, then the answer is lost (a 502 from a proxy).
    s.sim.sim.erpnext.faults.lose_responses_after_commit(6);
    s.engine.sync_until_idle().await.expect("sync runs");
    let stats = s.sim.sim.stats();
    assert_eq!(stats.duplicates, 0, "the lookup before each retry finds the saved order: {stats:?}");
    assert_eq!((stats.erp_sales_orders, stats.missing), (30, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outages_and_rate_limits_are_waited_out() {
    let s = scenario(40).await;
    s.sim.sim.shopify.faults.fail_next(2);
    s.sim.sim.shopify.faults.rate_limit_next(1);
    s.sim.sim.erpnext.faults.fail_next(4);
    s.sim.sim.erpnext.faults.rate_limit_next(2);
    let r = s.engine.sync_until_idle().await.expect("sync runs");
    assert_eq!((r.orders().written, r.orders().failed), (40, 0), "transient failures are retried, not dead-lettered");
    let stats = s.sim.sim.stats();
    assert_eq!((stats.erp_sales_orders, stats.duplicates), (40, 0), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_order_is_dead_lettered_and_the_rest_flow() {
    let s = scenario(20).await;
    let mut events = s.engine.subscribe();
    let at = chrono::Utc::now() - chrono::Duration::seconds(1);
    s.sim.sim.shopify.place_custom_order(&[("NO-SUCH-SKU", "Mystery box", 1, "9.99")], at);
    let r = s.engine.sync_until_idle().await.expect("sync runs");
    assert_eq!((r.orders().written, r.orders().failed), (20, 1), "one bad order does not block the others");
    let alerts = s.engine.notifications(10).expect("alert log");
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].title, "1 order could not be posted to Demo ERP (ERPNext)");
    assert!(alerts[0].body.contains("Could not find Item Code: NO-SUCH-SKU"), "{}", alerts[0].body);
    let mut pushed = 0;
    while let Ok(e) = events.try_recv() {
        if matches!(e, ferry_engine::EngineEvent::Alert(_)) {
            pushed += 1;
        }
    }
    assert_eq!(pushed, 1, "the shown alert is pushed to listeners once");
    let o = s.engine.overview().expect("overview");
    let erp = o.connections.iter().find(|c| c.id == DEMO_ERP_ID).expect("ERP card");
    assert_eq!(erp.failed, 1);
    assert!(
        erp.recent_failures.iter().any(|f| f.message.contains("Could not find Item Code: NO-SUCH-SKU")),
        "the ERP's own words say what to fix: {:?}",
        erp.recent_failures
    );
    assert_eq!(erp.state, ConnectionState::Failing);

    // A person adds the item in the ERP, then replays the failed write.
    let dead = s.engine.dead_letters(10).expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert!(dead[0].error.contains("NO-SUCH-SKU"), "{:?}", dead[0]);
    assert!(s.engine.replay(Some(dead[0].id + 1000)).is_err(), "an unknown id is an error, not a silent no-op");
    s.sim.sim.erpnext.add_item("NO-SUCH-SKU", "Mystery box");
    assert_eq!(s.engine.replay(None).expect("replay all"), 1);
    let r = s.engine.sync_until_idle().await.expect("sync after the fix");
    assert_eq!((r.orders().written, r.orders().failed), (1, 0), "the replayed order goes out");
    let stats = s.sim.sim.stats();
    assert_eq!((stats.erp_sales_orders, stats.duplicates, stats.missing), (21, 0, 0), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rescan_reads_again_but_posts_nothing_twice() {
    let s = scenario(60).await;
    s.engine.sync_until_idle().await.expect("first sync");
    s.engine.sync_until_idle().await.expect("second sync: the customers the first one made in the ERP are read");
    assert!(s.engine.rescan(0).is_err(), "zero hours is refused with a reason");
    assert_eq!(
        s.engine.rescan(48).expect("rescan"),
        4,
        "the store's order and customer cursors, the ERP's stock and customer cursors move back"
    );
    let r = s.engine.sync_until_idle().await.expect("sync after rescan");
    assert_eq!(r.orders().fetched, 60, "the span is read again");
    assert_eq!((r.orders().queued, r.orders().written), (0, 0), "and nothing is posted twice");
    assert_eq!(s.sim.sim.stats().duplicates, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_credentials_pause_the_connection_without_losing_orders() {
    let s = scenario(10).await;
    s.sim.sim.erpnext.faults.revoke_auth(true);
    s.engine.sync_until_idle().await.expect("sync runs");
    let o = s.engine.overview().expect("overview");
    let erp = o.connections.iter().find(|c| c.id == DEMO_ERP_ID).expect("ERP card");
    assert_eq!(erp.state, ConnectionState::Paused, "{}", erp.state_text);
    assert_eq!(erp.state_text, "Paused: credentials rejected");
    assert_eq!((erp.pending, erp.failed), (10, 0), "the orders wait in the outbox, none dead-lettered");

    // Credentials entered again but still wrong: the same alert is not shown twice.
    s.engine.setup_demo(&ferry_tests::demo_systems(&s.sim)).expect("credentials entered again");
    s.engine.sync_until_idle().await.expect("sync runs");
    let alerts = s.engine.notifications(10).expect("alert log");
    let auth: Vec<_> = alerts.iter().filter(|a| a.kind == ferry_engine::AlertKind::AuthFailed).collect();
    assert_eq!(auth.len(), 2, "both failures are logged: {alerts:?}");
    assert_eq!(auth[1].delivery, ferry_engine::Delivery::Shown, "the first is shown");
    assert_eq!(auth[0].delivery, ferry_engine::Delivery::Suppressed, "the repeat within the window is suppressed");
    assert_eq!(auth[1].title, "Demo ERP (ERPNext) refused Ferry's credentials");

    s.sim.sim.erpnext.faults.revoke_auth(false);
    s.engine.setup_demo(&ferry_tests::demo_systems(&s.sim)).expect("credentials entered again");
    s.engine.sync_until_idle().await.expect("sync resumes");
    let stats = s.sim.sim.stats();
    assert_eq!((stats.erp_sales_orders, stats.duplicates, stats.missing), (10, 0, 0), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_now_runs_the_scheduled_job_and_presses_coalesce() {
    let s = scenario(25).await;
    s.engine.start_scheduler(Schedule::manual()).expect("scheduler starts");
    let mut events = s.engine.subscribe();
    assert_eq!(
        s.engine.sync_now(None).expect("sync now"),
        5,
        "five jobs: orders shop → ERP, catalog and customers both ways, stock ERP → shop, shipping ERP → courier"
    );
    for _ in 0..5 {
        s.engine.sync_now(Some(DEMO_ERP_ID)).expect("more presses while it runs");
    }
    let posted = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let _ = events.recv().await;
            let c = s.engine.outbox_counts(None, Some("order")).expect("counts");
            if c.done == 25 {
                return c.done;
            }
        }
    })
    .await
    .expect("Sync now posts everything within 30 s");
    assert_eq!(posted, 25);
    assert!(s.engine.sync_now(Some("nope")).is_err(), "an unknown connection is an error, not a silent no-op");
    s.engine.stop_scheduler();
    assert_eq!(s.sim.sim.stats().duplicates, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_previews_and_writes_nothing() {
    use ferry_engine::{PreviewAction, PreviewLine};
    let orders = |lines: &[PreviewLine]| -> Vec<PreviewLine> {
        lines
            .iter()
            .filter(|l| !matches!(l.action, PreviewAction::Write { .. } | PreviewAction::Hold { .. }))
            .cloned()
            .collect()
    };
    let s = scenario(15).await;
    s.sim.sim.shopify.set_price("MUG-01", "99.00");
    s.sim.sim.erpnext.set_item_price("MUG-01", "98.00");
    let lines = s.engine.dry_run().await.expect("dry run");
    assert_eq!(orders(&lines).len(), 15);
    assert!(orders(&lines).iter().all(|l| l.action == PreviewAction::Create), "{lines:?}");
    let stock: Vec<_> = lines.iter().filter(|l| l.label.starts_with("Stock of")).collect();
    assert_eq!(stock.len(), 20, "every SKU's stock would be set in the store: {lines:?}");
    assert!(stock.iter().all(|l| l.summary.ends_with("available at gid://shopify/Location/1")), "{stock:?}");
    let held: Vec<_> =
        lines.iter().filter(|l| matches!(&l.action, PreviewAction::Hold { field } if field == "price")).collect();
    assert_eq!(held.len(), 1, "the price that differs would be held, not overwritten: {lines:?}");
    assert_eq!(held[0].summary, "store says 99 EUR, ERP says 98 EUR");
    let stats = s.sim.sim.stats();
    assert_eq!(stats.erp_sales_orders, 0, "a dry run never writes to the ERP");
    assert_eq!(s.sim.sim.shopify.available("MUG-01"), None, "nor to the store");
    assert_eq!(s.engine.outbox_counts(None, None).expect("counts"), Default::default(), "and queues nothing");
    assert!(s.engine.conflicts(false).expect("conflicts").is_empty(), "nor opens conflicts");
    let left: Vec<_> = std::fs::read_dir(s.dir.path()).expect("data dir").flatten().map(|e| e.file_name()).collect();
    assert!(left.iter().all(|n| !n.to_string_lossy().starts_with("dry-run")), "its copy is gone: {left:?}");
    let again = s.engine.dry_run().await.expect("second dry run");
    assert_eq!(again.len(), lines.len(), "the cursors did not move: the same is previewed again");

    // After a real sync (and the price decided), a dry run has nothing left to say.
    s.sim.sim.shopify.set_price("MUG-01", "98.00");
    s.engine.sync_until_idle().await.expect("sync");
    s.engine.sync_until_idle().await.expect("sync");
    let after = s.engine.dry_run().await.expect("dry run after sync");
    assert!(after.is_empty(), "{after:?}");

    // A second install previewing the same systems finds the orders already
    // in the ERP (by our reference) and would link them, not post them.
    let dir = tempfile::tempdir().expect("second data dir");
    let other = ferry_engine::Engine::open(ferry_engine::EngineOptions::new(
        dir.path(),
        ferry_engine::secrets::Secrets::memory_only(),
    ))
    .expect("second engine");
    other.setup_demo(&ferry_tests::demo_systems(&s.sim)).expect("demo connections");
    let lines = orders(&other.dry_run().await.expect("dry run on a fresh install"));
    assert_eq!(lines.len(), 15);
    assert!(lines.iter().all(|l| matches!(l.action, PreviewAction::Link { .. })), "{lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_run_concurrently_but_bounded_and_customers_are_not_doubled() {
    let s = scenario(80).await;
    s.sim.sim.erpnext.faults.set_latency(Duration::from_millis(15));
    let r = s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(r.orders().written, 80);
    let max = s.sim.sim.erpnext.faults.max_concurrent();
    assert!(max > 1, "writes overlap (max {max} at once)");
    assert!(max <= ferry_engine::Tuning::default().write_concurrency, "never more than the bound ({max})");
    let customers = s.sim.sim.erpnext.documents("Customer");
    let emails: std::collections::HashSet<_> =
        customers.iter().filter_map(|c| c.get("email_id").and_then(|e| e.as_str()).map(str::to_owned)).collect();
    assert_eq!(customers.len(), emails.len(), "one ERP customer per email, even with concurrent writes");
    assert_eq!(s.sim.sim.stats().duplicates, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmapped_shipping_account_is_refused_with_where_to_set_it() {
    let s = scenario(30).await;
    let mut systems = ferry_tests::demo_systems(&s.sim);
    systems.erpnext_shipping_account = String::new();
    // A connection without the setting: orders with shipping cannot be booked.
    s.engine
        .put_connection(&ferry_engine::ConnectionSpec {
            id: DEMO_ERP_ID.into(),
            kind: "erpnext".into(),
            name: "Demo ERP (ERPNext)".into(),
            base_url: systems.erpnext_url.clone(),
            settings: serde_json::json!({ "timezone": "Europe/Berlin", "tax_account": systems.erpnext_tax_account }),
        })
        .expect("valid connection");
    let r = s.engine.sync_until_idle().await.expect("sync");
    assert!(
        r.orders().failed > 0 && r.orders().written > 0,
        "orders without shipping go, those with shipping wait: {r:?}"
    );
    let dead = s.engine.dead_letters(100).expect("dead letters");
    assert!(dead.iter().all(|d| d.error.contains("`shipping_account`")), "{dead:?}");

    // Set the account, replay: everything goes out, totals to the cent.
    s.engine.setup_demo(&ferry_tests::demo_systems(&s.sim)).expect("settings fixed");
    s.engine.replay(None).expect("replay");
    s.engine.sync_until_idle().await.expect("sync");
    let stats = s.sim.sim.stats();
    assert_eq!((stats.erp_sales_orders, stats.duplicates, stats.total_mismatches), (30, 0, 0), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_cancellations_follow_to_the_erp_once() {
    let s = scenario(20).await;
    s.engine.sync_until_idle().await.expect("first sync");
    let ids = s.sim.sim.shopify.order_ids();
    let at = chrono::Utc::now() - chrono::Duration::seconds(1);
    for id in &ids[..3] {
        assert!(s.sim.sim.shopify.cancel_order(id, at), "order exists");
    }
    // A new order cancelled before Ferry ever saw it is not posted at all.
    let late = s.sim.sim.shopify.place_custom_order(&[("MUG-01", "Blue Mug", 1, "12.00")], at);
    s.sim.sim.shopify.cancel_order(&late, at);

    let r = s.engine.sync_until_idle().await.expect("sync with cancellations");
    assert_eq!(
        (r.orders().queued, r.orders().written, r.orders().failed),
        (3, 3, 0),
        "three cancels, nothing else: {r:?}"
    );
    let stats = s.sim.sim.stats();
    assert_eq!((stats.not_cancelled, stats.missing, stats.duplicates), (0, 0, 0), "{stats:?}");
    assert_eq!(stats.erp_sales_orders, 17, "the three cancelled documents no longer count as live orders");

    s.engine.rescan(24).expect("rescan");
    let again = s.engine.sync_until_idle().await.expect("sync again");
    assert_eq!(
        (again.orders().queued, again.orders().written),
        (0, 0),
        "a cancellation is applied once, even when read again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_finds_missing_orders_totals_and_open_cancellations() {
    let s = scenario(50).await;
    s.engine.sync_until_idle().await.expect("sync");
    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Duration::days(3);
    let clean = s.engine.reconcile(from, today).await.expect("reconcile");
    assert_eq!(clean.len(), 1);
    assert!(clean[0].drift.is_empty(), "right after a sync nothing differs: {:?}", clean[0].drift);
    assert_eq!((clean[0].store_orders, clean[0].erp_documents), (50, 50));

    // Someone edits a total in the ERP; a new order and a cancellation are not synced yet.
    let so =
        s.sim.sim.erpnext.documents("Sales Order")[0].get("name").and_then(|n| n.as_str()).expect("name").to_owned();
    assert!(s.sim.sim.erpnext.set_field("Sales Order", &so, "grand_total", serde_json::json!("1.00")));
    let at = chrono::Utc::now() - chrono::Duration::seconds(1);
    s.sim.sim.shopify.place_custom_order(&[("MUG-01", "Blue Mug", 1, "12.00")], at);
    let ids = s.sim.sim.shopify.order_ids();
    s.sim.sim.shopify.cancel_order(&ids[10], at);

    let report = s.engine.reconcile(from, today).await.expect("reconcile");
    let kinds: Vec<&str> = report[0]
        .drift
        .iter()
        .map(|d| match d {
            ferry_engine::DriftItem::MissingInErp { .. } => "missing",
            ferry_engine::DriftItem::TotalDiffers { .. } => "total",
            ferry_engine::DriftItem::NotCancelledInErp { .. } => "not cancelled",
            ferry_engine::DriftItem::Duplicated { .. } => "duplicated",
        })
        .collect();
    let mut sorted = kinds.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec!["missing", "not cancelled", "total"], "{:?}", report[0].drift);
    let alerts = s.engine.notifications(5).expect("alerts");
    assert_eq!(alerts[0].title, "3 differences between Demo shop (Shopify) and Demo ERP (ERPNext)");

    // A sync fixes what Ferry owns; the hand-edited total stays reported.
    s.engine.sync_until_idle().await.expect("sync");
    let after = s.engine.reconcile(from, today).await.expect("reconcile");
    assert_eq!(after[0].drift.len(), 1, "{:?}", after[0].drift);
    assert!(matches!(after[0].drift[0], ferry_engine::DriftItem::TotalDiffers { .. }));
    assert!(s.engine.reconcile(today, from).await.is_err(), "a backwards range is refused with a reason");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_are_matched_by_email_then_by_name_and_postcode() {
    let s = scenario(0).await;
    let erp = &s.sim.sim.erpnext;
    // Kept by hand in the ERP, without an email, with a shipping address.
    erp.add_customer_with_address("Grace Hopper", "10115");
    let at = chrono::Utc::now() - chrono::Duration::seconds(5);
    let shop = &s.sim.sim.shopify;
    shop.place_order_by("Grace", "Hopper", Some("grace@example.com"), "10115", at);
    s.engine.sync_until_idle().await.expect("sync");
    let customer_of =
        |i: usize| erp.documents("Sales Order")[i].get("customer").and_then(|c| c.as_str()).map(str::to_owned);
    assert_eq!(customer_of(0).as_deref(), Some("Grace Hopper"), "same name and postcode: the ERP's own customer");
    assert_eq!(erp.documents("Customer").len(), 1, "no second Grace Hopper was created");

    // Another Grace Hopper, elsewhere: a customer of her own, with her address.
    shop.place_order_by("Grace", "Hopper", Some("other.grace@example.com"), "20095", at + chrono::Duration::seconds(1));
    s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(customer_of(1).as_deref(), Some("Grace Hopper-1"));
    let addresses = erp.documents("Address");
    let hers =
        addresses.iter().find(|a| a.get("pincode").and_then(|p| p.as_str()) == Some("20095")).expect("her address");
    assert_eq!(hers.get("country").and_then(|c| c.as_str()), Some("Germany"), "the country as ERPNext names it");

    // She orders again under a new name: the email decides.
    shop.place_order_by(
        "G.",
        "Hopper-Smith",
        Some("other.grace@example.com"),
        "20095",
        at + chrono::Duration::seconds(2),
    );
    s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(customer_of(2).as_deref(), Some("Grace Hopper-1"), "matched by email first");
    assert_eq!(erp.documents("Customer").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_to_a_new_place_adds_that_address_once_even_when_the_answer_is_lost() {
    let s = scenario(0).await;
    let (shop, erp) = (&s.sim.sim.shopify, &s.sim.sim.erpnext);
    let at = chrono::Utc::now() - chrono::Duration::seconds(5);
    shop.place_order_by("Ada", "Lovelace", Some("ada@example.com"), "10115", at);
    s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(erp.documents("Address").len(), 1, "her own address, made with her");

    // A gift to Hamburg: the new Address is saved but its answer is lost.
    shop.place_order_by("Ada", "Lovelace", Some("ada@example.com"), "20095", at + chrono::Duration::seconds(1));
    erp.faults.lose_responses_after_commit(1);
    s.engine.sync_until_idle().await.expect("sync");
    let postcodes: Vec<_> = erp
        .documents("Address")
        .iter()
        .filter_map(|a| a.get("pincode").and_then(|p| p.as_str()).map(str::to_owned))
        .collect();
    assert_eq!(postcodes, ["10115", "20095"], "the retry found the saved address instead of adding it again");
    let orders = erp.documents("Sales Order");
    assert_eq!(orders.len(), 2, "both orders posted once");
    let gift = orders[1].get("shipping_address_name").and_then(|a| a.as_str()).expect("the gift names its address");
    let hamburg =
        erp.documents("Address").into_iter().find(|a| a.get("pincode").and_then(|p| p.as_str()) == Some("20095"));
    assert_eq!(hamburg.and_then(|a| a.get("name").cloned()).as_ref().and_then(|n| n.as_str()), Some(gift));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_become_credit_notes_once_and_to_the_cent() {
    let s = scenario(3).await;
    s.engine.sync_until_idle().await.expect("orders posted");
    let orders = s.sim.sim.shopify.order_ids();
    let shop = &s.sim.sim.shopify;
    let now = chrono::Utc::now();
    // A returned item plus its share of shipping, and a goodwill refund without goods.
    let line_sku = |id: &str| -> String {
        let node = shop.order_node(id).expect("order");
        node["lineItems"]["edges"][0]["node"]["sku"].as_str().expect("sku").to_owned()
    };
    let first = line_sku(&orders[0]);
    shop.refund_order(&orders[0], &[(first.as_str(), 1)], "2.50", "Broken in transit", now).expect("refund");
    shop.refund_order(&orders[1], &[], "5.00", "Sorry for the wait", now).expect("goodwill");
    s.sim.sim.erpnext.faults.lose_responses_after_commit(1); // the first credit note's answer is lost
    let r = s.engine.sync_until_idle().await.expect("sync");
    let stats = s.sim.sim.stats();
    assert_eq!(
        (stats.refunds_missing, stats.duplicate_credit_notes, stats.credit_note_mismatches),
        (1, 0, 0),
        "the goods refund is booked once, to the cent; {stats:?} {r:?}"
    );
    let dead = s.engine.dead_letters(10).expect("dead letters");
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(dead[0].error.contains("refund_item"), "says what to set: {}", dead[0].error);

    s.engine.update_settings(ferry_engine::DEMO_ERP_ID, &serde_json::json!({ "refund_item": "MUG-01" })).expect("set");
    s.engine.replay(None).expect("replay");
    s.engine.sync_until_idle().await.expect("sync");
    let stats = s.sim.sim.stats();
    assert_eq!((stats.refunds_missing, stats.duplicate_credit_notes, stats.credit_note_mismatches), (0, 0, 0));
    s.engine.rescan(24).expect("rescan");
    s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(s.sim.sim.stats().duplicate_credit_notes, 0, "a refund read again is not booked again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frappes_announced_rate_limit_is_paced_so_no_429_arrives() {
    let s = scenario(12).await;
    // 1 s of processing time per 1 s window, 25 ms a request: 40 requests a second.
    s.sim.sim.erpnext.set_rate_limit(1_000_000, std::time::Duration::from_secs(1), 25_000);
    s.engine.sync_until_idle().await.expect("sync");
    let stats = s.sim.sim.stats();
    assert_eq!((stats.erp_sales_orders, stats.duplicates, stats.missing), (12, 0, 0), "{stats:?}");
    let refused = s.sim.sim.erpnext.rate_limited.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(refused, 0, "Ferry waited for the window instead of running into it");
}
