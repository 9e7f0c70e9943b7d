//! `ferry connections …` and `ferry flows …`: configuring Ferry headless.
//! The secret comes from standard input only, is checked against the
//! system before anything is saved, lives in the keychain, and never shows
//! in output or the journal.
//!
//! Needs a keychain: runs for real when `FERRY_REQUIRE_KEYCHAIN=1` (set by
//! `make test`); elsewhere it says it was skipped.

use ferry_engine::secrets::Secrets;
use ferry_sim::{RunningSim, SimOptions};
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn ferry(dir: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ferry starts");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("secret written");
    child.wait_with_output().expect("ferry ends")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_checked_then_saved_with_their_secret_in_the_keychain() {
    let probe = Secrets::os_keychain().probe();
    if !probe.available {
        assert!(std::env::var("FERRY_REQUIRE_KEYCHAIN").is_err(), "make test starts a keychain: {}", probe.message);
        eprintln!("SKIPPED: no keychain here ({})", probe.message);
        return;
    }
    let sim = RunningSim::start(SimOptions { orders: 3, ..SimOptions::default() }).await.expect("emulators");
    let dir = tempfile::tempdir().expect("data dir");
    let d = dir.path();
    let shop_url = sim.shopify_url();
    let erp_url = sim.erpnext_url();

    let added = ferry(
        d,
        &["connections", "add", "shopify", "--name", "My Shop", "--url", &shop_url],
        ferry_sim::DEMO_SHOPIFY_TOKEN,
    );
    assert!(added.status.success(), "{}", text(&added));

    // Refused before anything is saved: a bad setting, a wrong secret, no secret.
    let bad = ferry(
        d,
        &["connections", "add", "erpnext", "--name", "Books", "--url", &erp_url, "--set", "timezone=Mars/Base"],
        "k:s",
    );
    assert!(!bad.status.success() && text(&bad).contains("timezone"), "{}", text(&bad));
    let wrong = ferry(d, &["connections", "add", "erpnext", "--name", "Books", "--url", &erp_url], "wrong:secret");
    assert!(!wrong.status.success() && text(&wrong).contains("401"), "{}", text(&wrong));
    let none = ferry(d, &["connections", "add", "erpnext", "--name", "Books", "--url", &erp_url], "");
    assert!(!none.status.success() && text(&none).contains("standard input"), "{}", text(&none));
    let list = ferry(d, &["connections", "list"], "");
    assert!(!text(&list).contains("Books"), "nothing half-saved: {}", text(&list));

    let erp = ferry(
        d,
        &[
            "connections",
            "add",
            "erpnext",
            "--name",
            "Books",
            "--url",
            &erp_url,
            "--set",
            "timezone=Europe/Berlin",
            "--set",
            &format!("shipping_account={}", ferry_sim::erpnext::SHIPPING_ACCOUNT),
            "--set",
            &format!("tax_account={}", ferry_sim::erpnext::VAT_ACCOUNT),
        ],
        ferry_sim::DEMO_ERPNEXT_SECRET,
    );
    assert!(erp.status.success(), "{}", text(&erp));
    let list = text(&ferry(d, &["connections", "list"], ""));
    assert!(list.contains("my-shop") && list.contains("books") && list.matches("secret set").count() == 2, "{list}");
    assert!(!list.contains(ferry_sim::DEMO_ERPNEXT_SECRET) && !list.contains(ferry_sim::DEMO_SHOPIFY_TOKEN), "{list}");
    assert!(ferry(d, &["connections", "test", "Books"], "").status.success());

    let backwards = ferry(d, &["flows", "enable", "orders", "--from", "books", "--to", "my shop"], "");
    assert!(!backwards.status.success() && text(&backwards).contains("from a store to an ERP"), "{}", text(&backwards));
    assert!(ferry(d, &["flows", "enable", "orders", "--from", "my shop", "--to", "books"], "").status.success());
    assert!(text(&ferry(d, &["flows", "list"], "")).contains("on  orders     my-shop → books"));
    let sync = ferry(d, &["sync", "--once"], "");
    assert!(sync.status.success(), "{}", text(&sync));
    let stats = sim.sim.stats();
    assert_eq!((stats.erp_sales_orders, stats.duplicates, stats.missing), (3, 0, 0), "{stats:?}");

    // Paused by a person: new orders wait; resumed: they arrive once.
    let paused = ferry(d, &["connections", "pause", "books"], "");
    assert!(text(&paused).contains("Books is paused"), "{}", text(&paused));
    assert!(text(&ferry(d, &["connections", "list"], "")).contains("paused by "));
    sim.sim.shopify.place_orders(2, chrono::Utc::now());
    assert!(ferry(d, &["sync", "--once"], "").status.success());
    assert_eq!(sim.sim.stats().erp_sales_orders, 3, "nothing is written to a paused ERP");
    assert!(ferry(d, &["connections", "resume", "books"], "").status.success());
    assert!(ferry(d, &["sync", "--once"], "").status.success());
    let stats = sim.sim.stats();
    assert_eq!((stats.erp_sales_orders, stats.duplicates, stats.missing), (5, 0, 0), "{stats:?}");

    assert!(ferry(d, &["flows", "disable", "orders", "--from", "my shop", "--to", "books"], "").status.success());
    assert!(text(&ferry(d, &["flows", "list"], "")).contains("off orders"));
    assert!(ferry(d, &["connections", "remove", "books"], "").status.success());
    assert!(Secrets::os_keychain().get("books").is_err(), "the keychain entry went with it");
    assert!(!text(&ferry(d, &["connections", "list"], "")).contains("books"));
    let journal = std::fs::read(d.join("journal.sqlite")).expect("journal");
    for secret in [ferry_sim::DEMO_SHOPIFY_TOKEN, ferry_sim::DEMO_ERPNEXT_SECRET] {
        assert!(!journal.windows(secret.len()).any(|w| w == secret.as_bytes()), "no secret in the journal");
    }
    let _ = Secrets::os_keychain().delete("my-shop");
}
