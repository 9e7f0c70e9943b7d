//! The emulators over HTTPS (`ferry sim --tls-cert/--tls-key`): a real TLS
//! client against a self-signed certificate made here, the bad-file errors,
//! and a server that outlives clients whose handshake fails.

use ferry_sim::{RunningSim, SimOptions, TlsError, TlsFiles, DEMO_SHOPIFY_TOKEN};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use tempfile::TempDir;

const ORDERS_QUERY: &str = "query($first:Int!){orders(first:$first){edges{node{id}}}}";

/// A self-signed certificate for localhost and 127.0.0.1, written as
/// `cert.pem` and `key.pem` in a fresh directory.
struct SelfSigned {
    dir: TempDir,
    files: TlsFiles,
    cert_pem: String,
}

fn self_signed() -> SelfSigned {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("rcgen makes a certificate");
    let dir = tempfile::tempdir().expect("a temp dir");
    let cert_pem = made.cert.pem();
    let files = TlsFiles {
        cert: write(dir.path(), "cert.pem", &cert_pem),
        key: write(dir.path(), "key.pem", &made.signing_key.serialize_pem()),
    };
    SelfSigned { dir, files, cert_pem }
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the temp dir is writable");
    path
}

fn client_trusting(cert_pem: &str) -> reqwest::Client {
    let root = reqwest::Certificate::from_pem(cert_pem.as_bytes()).expect("the certificate is PEM");
    reqwest::Client::builder().add_root_certificate(root).timeout(Duration::from_secs(10)).build().expect("a client")
}

async fn start(files: &TlsFiles) -> RunningSim {
    RunningSim::start_tls(SimOptions { orders: 20, ..SimOptions::default() }, files)
        .await
        .expect("the sim starts with TLS")
}

async fn order_ids(client: &reqwest::Client, url: &str) -> reqwest::Result<Vec<String>> {
    let body: Value = client
        .post(url)
        .header("X-Shopify-Access-Token", DEMO_SHOPIFY_TOKEN)
        .json(&json!({ "query": ORDERS_QUERY, "variables": { "first": 5 } }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let edges = body["data"]["orders"]["edges"].as_array().cloned().unwrap_or_default();
    Ok(edges.iter().filter_map(|e| e["node"]["id"].as_str().map(str::to_owned)).collect())
}

#[tokio::test]
async fn orders_come_back_over_https() {
    let cert = self_signed();
    let sim = start(&cert.files).await;
    assert!(sim.shopify_url().starts_with("https://"), "a TLS sim hands out https URLs: {}", sim.shopify_url());
    assert!(sim.erpnext_url().starts_with("https://") && sim.base_url().starts_with("https://"));

    let client = client_trusting(&cert.cert_pem);
    let url = format!("https://localhost:{}/shopify/admin/api/2025-07/graphql.json", sim.addr.port());
    let ids = order_ids(&client, &url).await.expect("the GraphQL query succeeds over TLS");
    assert_eq!(ids.len(), 5, "20 orders are seeded and the query asks for the first 5: {ids:?}");
}

#[tokio::test]
async fn a_plain_http_client_fails_and_the_server_goes_on() {
    let cert = self_signed();
    let sim = start(&cert.files).await;
    let port = sim.addr.port();

    let plain = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("a client");
    let url = format!("http://localhost:{port}/shopify/admin/api/2025-07/graphql.json");
    let err = order_ids(&plain, &url).await.expect_err("plain HTTP to a TLS port cannot work");
    assert!(!err.is_timeout(), "the server drops a client that does not speak TLS at once: {err}");

    // A client that connects and never says anything holds only its own
    // handshake, not the server's accept loop.
    let silent = tokio::net::TcpStream::connect(sim.addr).await.expect("the port accepts TCP");

    let client = client_trusting(&cert.cert_pem);
    let url = format!("{}/admin/api/2025-07/graphql.json", sim.shopify_url());
    let ids = order_ids(&client, &url).await.expect("the server still serves after a failed handshake");
    assert_eq!(ids.len(), 5, "the same answer as before the bad client: {ids:?}");
    drop(silent);
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_by_the_client_and_the_server_goes_on() {
    let cert = self_signed();
    let sim = start(&cert.files).await;
    let url = format!("{}/admin/api/2025-07/graphql.json", sim.shopify_url());

    let stranger = self_signed();
    let wrong_root = client_trusting(&stranger.cert_pem);
    assert!(order_ids(&wrong_root, &url).await.is_err(), "a client that does not trust the certificate refuses it");

    let ids = order_ids(&client_trusting(&cert.cert_pem), &url).await.expect("the server goes on");
    assert_eq!(ids.len(), 5);
}

fn start_err(files: &TlsFiles) -> TlsError {
    files.server_config().expect_err("these files cannot serve TLS")
}

#[tokio::test]
async fn start_tls_reports_a_missing_file_by_name_before_binding() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let files = TlsFiles { cert: dir.path().join("nowhere-cert.pem"), key: dir.path().join("nowhere-key.pem") };
    let Err(err) = RunningSim::start_tls(SimOptions::default(), &files).await else {
        panic!("a missing certificate file cannot start the sim");
    };
    assert!(matches!(err, TlsError::Read { .. }), "{err:?}");
    assert!(err.to_string().contains("nowhere-cert.pem"), "the message names the file: {err}");
    let io = std::error::Error::source(&err).map(ToString::to_string).unwrap_or_default();
    assert!(!io.is_empty(), "the I/O error says why the file could not be read");
}

#[test]
fn a_missing_key_file_is_named() {
    let cert = self_signed();
    let files = TlsFiles { key: cert.dir.path().join("no-such-key.pem"), ..cert.files.clone() };
    let err = start_err(&files);
    assert!(matches!(err, TlsError::Read { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-key.pem"), "the message names the file: {err}");
}

#[test]
fn a_file_that_is_not_pem_is_named() {
    let cert = self_signed();
    let files =
        TlsFiles { cert: write(cert.dir.path(), "notes.txt", "hello, I am not a certificate\n"), ..cert.files.clone() };
    let err = start_err(&files);
    assert!(matches!(err, TlsError::NotPem { .. }), "{err:?}");
    assert!(err.to_string().contains("notes.txt is not a PEM file"), "the message names the file: {err}");

    let files = TlsFiles { key: write(cert.dir.path(), "key.der", "\u{30}\u{82}binary"), ..cert.files.clone() };
    let err = start_err(&files);
    assert!(matches!(err, TlsError::NotPem { .. }), "{err:?}");
    assert!(err.to_string().contains("key.der"), "the message names the file: {err}");
}

#[test]
fn a_pem_block_that_never_ends_is_not_pem() {
    let cert = self_signed();
    let files = TlsFiles {
        cert: write(cert.dir.path(), "cut.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n"),
        ..cert.files.clone()
    };
    let err = start_err(&files);
    assert!(matches!(err, TlsError::NotPem { .. }), "{err:?}");
    assert!(err.to_string().contains("cut.pem"), "the message names the file: {err}");
}

#[test]
fn a_cert_file_with_no_certificate_is_named() {
    let cert = self_signed();
    // The key file is PEM, but holds a key, not a certificate.
    let files = TlsFiles { cert: cert.files.key.clone(), ..cert.files.clone() };
    let err = start_err(&files);
    assert!(matches!(err, TlsError::NoCertificate { .. }), "{err:?}");
    assert!(err.to_string().contains("key.pem holds no certificate"), "the message names the file: {err}");
}

#[test]
fn a_key_file_with_no_key_is_named() {
    let cert = self_signed();
    let files = TlsFiles { key: cert.files.cert.clone(), ..cert.files.clone() };
    let err = start_err(&files);
    assert!(matches!(err, TlsError::NoPrivateKey { .. }), "{err:?}");
    assert!(err.to_string().contains("cert.pem holds no private key"), "the message names the file: {err}");
}

#[test]
fn a_key_of_another_certificate_is_a_mismatch() {
    let cert = self_signed();
    let other = self_signed();
    let files = TlsFiles { key: other.files.key.clone(), ..cert.files.clone() };
    let err = start_err(&files);
    assert!(matches!(err, TlsError::KeyMismatch { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("does not match"), "{text}");
    assert!(
        text.contains(&other.files.key.display().to_string()) && text.contains(&cert.files.cert.display().to_string()),
        "the message names both files: {text}"
    );
}

#[test]
fn the_files_that_belong_together_make_a_config() {
    let cert = self_signed();
    cert.files.server_config().expect("rcgen's certificate and key belong together");
}
