//! The Connections page's actions through the engine: a person pauses a
//! connection (nothing is read or written; orders wait) and resumes it (all
//! of them arrive once); an edit is checked against the system before it is
//! saved, and a refused edit changes nothing.

use ferry_engine::{ConnectionEdit, DEMO_ERP_ID, DEMO_STORE_ID};
use ferry_tests::scenario;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_connection_waits_and_catches_up_once_resumed() {
    let s = scenario(5).await;
    s.engine.set_connection_paused(DEMO_ERP_ID, true, "alice").expect("pause");
    let info = s.engine.find_connection(DEMO_ERP_ID).expect("erp");
    assert!(info.paused_by_person, "{info:?}");
    assert!(info.paused_reason.as_deref().is_some_and(|r| r.starts_with("paused by alice at ")), "{info:?}");
    let card =
        s.engine.overview().expect("overview").connections.into_iter().find(|c| c.id == DEMO_ERP_ID).expect("card");
    assert!(card.state_text.starts_with("Paused: paused by alice"), "{}", card.state_text);

    s.engine.sync_until_idle().await.expect("sync while paused");
    assert!(s.sim.sim.erpnext.sales_order_refs().is_empty(), "nothing is written to a paused ERP");

    s.engine.set_connection_paused(DEMO_ERP_ID, false, "alice").expect("resume");
    assert!(!s.engine.find_connection(DEMO_ERP_ID).expect("erp").paused_by_person);
    s.engine.sync_until_idle().await.expect("sync after resuming");
    assert_eq!(s.sim.sim.erpnext.sales_order_refs().len(), 5, "every order once");
    let info = s.engine.find_connection(DEMO_STORE_ID).expect("store");
    assert!(info.credentials_ok_at.is_some(), "a successful run proves the credentials");
    let card =
        s.engine.overview().expect("overview").connections.into_iter().find(|c| c.id == DEMO_STORE_ID).expect("card");
    assert!(card.today.runs >= 1 && card.today.read >= 5, "{:?}", card.today);
    assert!(card.feeds.iter().any(|f| f.entity == "order" && f.read_up_to.is_some()), "{:?}", card.feeds);

    assert_eq!(s.engine.set_connection_paused("nope", true, "alice").expect_err("unknown").code, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_is_checked_before_it_is_saved() {
    let s = scenario(0).await;
    let before = s.engine.find_connection(DEMO_STORE_ID).expect("store");

    let renamed = ConnectionEdit { name: Some("  Main shop ".into()), ..Default::default() };
    let refused =
        s.engine.edit_connection(DEMO_STORE_ID, &renamed, Some("shpat_wrong")).await.expect_err("wrong token");
    assert_eq!(refused.code, "auth", "{refused:?}");
    assert!(!refused.message.contains("shpat_wrong"), "the secret is never echoed: {}", refused.message);
    assert_eq!(s.engine.find_connection(DEMO_STORE_ID).expect("store").name, before.name, "nothing saved");

    let moved = ConnectionEdit { base_url: Some("http://127.0.0.1:9".into()), ..Default::default() };
    assert!(s.engine.edit_connection(DEMO_STORE_ID, &moved, None).await.is_err(), "nothing answers there");
    assert_eq!(s.engine.find_connection(DEMO_STORE_ID).expect("store").base_url, before.base_url);

    let bad = ConnectionEdit { settings: Some(serde_json::json!({ "page_size": 0 })), ..Default::default() };
    assert_eq!(s.engine.edit_connection(DEMO_STORE_ID, &bad, None).await.expect_err("page size").code, "settings");

    s.engine.edit_connection(DEMO_STORE_ID, &renamed, None).await.expect("the stored secret still works");
    let after = s.engine.find_connection(DEMO_STORE_ID).expect("store");
    assert_eq!((after.name.as_str(), after.id.as_str()), ("Main shop", DEMO_STORE_ID), "renamed; the id stays");
    let r = s.engine.sync_until_idle().await.expect("sync");
    assert_eq!(r.orders().failed, 0, "still syncs: {r:?}");
}
