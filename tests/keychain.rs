//! Secrets through the real OS keychain (Secret Service under D-Bus in
//! `make test`), and never in the journal.
//!
//! Runs for real when `FERRY_REQUIRE_KEYCHAIN=1` (set by `make test`, which
//! starts gnome-keyring on a private bus); elsewhere it says it was skipped.

use ferry_engine::secrets::{SecretError, SecretSource, Secrets};
use ferry_engine::ConnectionSpec;

fn required() -> bool {
    std::env::var("FERRY_REQUIRE_KEYCHAIN").is_ok_and(|v| v == "1")
}

fn journal_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).expect("data dir") {
        let path = entry.expect("entry").path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("journal.sqlite")) {
            all.extend(std::fs::read(&path).expect("read journal file"));
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_live_in_the_keychain_and_never_in_the_journal() {
    let probe = Secrets::os_keychain().probe();
    if !probe.available {
        assert!(!required(), "make test starts a Secret Service, but: {}", probe.message);
        eprintln!("SKIPPED: no keychain here ({})", probe.message);
        return;
    }
    let s = ferry_tests::scenario_with(100, Secrets::os_keychain()).await;
    let o = s.engine.overview().expect("overview");
    assert!(o.keychain.available, "{}", o.keychain.message);

    // A real connection's secret: stored, read back, deleted with the connection.
    let id = format!("test-{}", std::process::id());
    let secret = format!("shpat_test_{}_do_not_log", std::process::id());
    s.engine
        .put_connection(&ConnectionSpec {
            id: id.clone(),
            kind: "shopify".into(),
            name: "Keychain test shop".into(),
            base_url: "https://keychain-test.example.com".into(),
            settings: serde_json::json!({}),
        })
        .expect("valid connection");
    s.engine.store_secret(&id, &secret).expect("stored in the keychain");
    let secrets = Secrets::os_keychain();
    assert_eq!(
        secrets.get(&id),
        Ok((secret.clone(), SecretSource::Keychain)),
        "a second handle reads it from the keychain"
    );

    // The demo's tokens went to the keychain too; a sync uses them.
    let r = s.engine.sync_until_idle().await.expect("sync with keychain secrets");
    assert_eq!(r.orders().written, 100);
    assert_eq!(secrets.get(ferry_engine::DEMO_STORE_ID).map(|(_, src)| src), Ok(SecretSource::Keychain));

    let bytes = journal_bytes(s.dir.path());
    assert!(!bytes.is_empty(), "the journal files were read");
    for needle in [secret.as_str(), ferry_sim::DEMO_SHOPIFY_TOKEN, ferry_sim::DEMO_ERPNEXT_SECRET, "demo_secret"] {
        assert!(!contains(&bytes, needle), "the journal must never hold a secret, found {needle:?}");
    }

    assert!(s.engine.remove_connection(&id).expect("removed"));
    assert_eq!(
        secrets.get(&id),
        Err(SecretError::Missing(id.clone())),
        "removing a connection deletes its keychain entry"
    );
    for demo in [ferry_engine::DEMO_STORE_ID, ferry_engine::DEMO_ERP_ID] {
        s.engine.remove_connection(demo).expect("clean up demo entries");
    }
}
