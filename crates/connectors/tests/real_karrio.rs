//! The Karrio connector against a real Karrio server (from PyPI, started by
//! `scripts/real/karrio.sh`), booking with its offline custom carrier.
//! Runs only when `FERRY_REAL_KARRIO_URL` is set; otherwise says SKIPPED.

use ferry_connectors::karrio::Karrio;
use ferry_connectors::Courier;
use ferry_domain::{Address, ConnectorError, ShipmentRequest, TrackingStatus};
use serde_json::json;
use std::path::Path;
use std::process::Command;

/// The server's URL and API key, or `None` (the test is skipped).
fn server() -> Option<(String, String)> {
    let Ok(url) = std::env::var("FERRY_REAL_KARRIO_URL") else {
        // `make test` sets FERRY_REQUIRE_REAL: there, no server is a failure, not a skip.
        assert!(std::env::var("FERRY_REQUIRE_REAL").is_err(), "FERRY_REAL_KARRIO_URL is not set");
        println!("SKIPPED: set FERRY_REAL_KARRIO_URL (scripts/real/karrio.sh)");
        return None;
    };
    let token = std::env::var("FERRY_REAL_KARRIO_TOKEN").expect("FERRY_REAL_KARRIO_TOKEN is printed with the URL");
    Some((url, token))
}

fn connect(url: &str, token: &str) -> Karrio {
    let settings = json!({ "from_name": "Demo Shop", "from_street": "Hauptstr. 1", "from_city": "Berlin",
        "from_postcode": "10115", "from_country": "DE", "carrier_id": "ferry-offline", "timeout_secs": 30 });
    Karrio::new(url, &settings, token).expect("valid settings")
}

/// A reference no earlier run used: the server's database outlives a run.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

fn parcel(reference: &str) -> ShipmentRequest {
    ShipmentRequest {
        reference: reference.into(),
        order_ref: "#1001".into(),
        to: Address {
            name: Some("Ada Lovelace".into()),
            line1: Some("12 Rue de Rivoli".into()),
            city: Some("Paris".into()),
            postcode: Some("75001".into()),
            country: Some("FR".into()),
            ..Address::default()
        },
        email: Some("ada@example.com".into()),
        weight_grams: 800,
        service: None,
    }
}

/// Reads one of our shipments straight from the API, as a person would.
async fn raw_list(url: &str, token: &str, reference: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("{url}/v1/shipments"))
        .query(&[("reference", reference), ("limit", "100")])
        .header("Authorization", format!("Token {token}"))
        .send()
        .await
        .expect("list answered")
        .json()
        .await
        .expect("list is JSON")
}

#[tokio::test]
async fn books_once_per_reference_and_reads_it_back() {
    let Some((url, token)) = server() else { return };
    let karrio = connect(&url, &token);
    karrio.check().await.expect("the key and address work");
    let reference = unique("DN-REAL");
    assert_eq!(karrio.find_shipment(&reference).await.expect("lookup"), None, "nothing booked yet");

    let booked = karrio.create_shipment(&parcel(&reference)).await.expect("booked");
    assert_eq!(booked.order_ref, reference);
    assert_eq!((booked.carrier.as_str(), booked.service.as_str()), ("ferry_offline", "standard_service"));
    assert!(booked.tracking_number.is_some(), "a bought label has a tracking number: {booked:?}");
    let label = booked.label_url.clone().expect("a label");
    assert!(label.starts_with(&url) && label.ends_with("label.pdf"), "{label}");
    let pdf = reqwest::Client::new()
        .get(&label)
        .header("Authorization", format!("Token {token}"))
        .send()
        .await
        .expect("label answered");
    assert_eq!(pdf.status(), 200, "the label can be fetched with the key");
    assert!(pdf.bytes().await.expect("label body").starts_with(b"%PDF"), "the label is a PDF");

    assert_eq!(karrio.find_shipment(&reference).await.expect("lookup"), Some(booked.clone()), "found by reference");
    let again = karrio.create_shipment(&parcel(&reference)).await.expect("a retry answers");
    assert_eq!(again, booked, "a retry returns the first booking");
    let listed = raw_list(&url, &token, &reference).await;
    assert_eq!(listed["count"], 1, "one shipment, so one label, for one reference: {listed}");

    let other = unique("DN-REAL");
    let prefixed = format!("{reference}-2");
    let second = karrio.create_shipment(&parcel(&prefixed)).await.expect("booked");
    assert_ne!(second.id, booked.id, "a reference that merely starts the same is another parcel");
    assert_eq!(karrio.find_shipment(&other).await.expect("lookup"), None);
}

#[tokio::test]
async fn a_draft_left_by_a_lost_answer_is_bought_not_duplicated() {
    let Some((url, token)) = server() else { return };
    let karrio = connect(&url, &token);
    let reference = unique("DN-DRAFT");
    // What a create whose answer was lost leaves behind: a draft with our reference.
    let draft = json!({
        "shipper": { "person_name": "Demo Shop", "address_line1": "Hauptstr. 1", "city": "Berlin",
            "postal_code": "10115", "country_code": "DE" },
        "recipient": { "person_name": "Ada", "address_line1": "12 Rue de Rivoli", "city": "Paris",
            "postal_code": "75001", "country_code": "FR" },
        "parcels": [{ "weight": 0.8, "weight_unit": "KG" }],
        "reference": reference, "carrier_ids": ["ferry-offline"],
    });
    let created: serde_json::Value = reqwest::Client::new()
        .post(format!("{url}/v1/shipments"))
        .header("Authorization", format!("Token {token}"))
        .json(&draft)
        .send()
        .await
        .expect("draft answered")
        .json()
        .await
        .expect("draft is JSON");
    assert_eq!(created["status"], "draft", "{created}");
    assert_eq!(karrio.find_shipment(&reference).await.expect("lookup"), None, "a draft is not a booking");

    let booked = karrio.create_shipment(&parcel(&reference)).await.expect("booked");
    assert_eq!(booked.id.as_deref(), created["id"].as_str(), "the draft was bought, not a second shipment made");
    assert_eq!(raw_list(&url, &token, &reference).await["count"], 1);
}

#[tokio::test]
async fn tracking_reads_the_scans_of_the_parcel() {
    let Some((url, token)) = server() else { return };
    let karrio = connect(&url, &token);
    let booked = karrio.create_shipment(&parcel(&unique("DN-TRACK"))).await.expect("booked");
    assert_eq!(
        karrio.tracking(&booked).await.expect("tracking"),
        [],
        "Karrio makes no tracker for a carrier without a tracking API: no scans yet"
    );
    let number = booked.tracking_number.clone().expect("tracking number");
    scan(&number, "in_transit", "Arrived at the Berlin hub");
    scan(&number, "delivered", "Delivered to the recipient");
    let events = karrio.tracking(&booked).await.expect("tracking");
    let seen: Vec<_> = events.iter().map(|e| (e.status, e.message.as_str(), e.tracking_number.as_str())).collect();
    assert_eq!(
        seen,
        [
            (TrackingStatus::InTransit, "Arrived at the Berlin hub", number.as_str()),
            (TrackingStatus::Delivered, "Delivered to the recipient", number.as_str()),
        ],
        "oldest first, statuses mapped"
    );
    let by_number = ferry_domain::Shipment { id: None, ..booked.clone() };
    assert_eq!(karrio.tracking(&by_number).await.expect("tracking by number"), events, "found by number too");
}

/// Adds a carrier scan to the parcel's tracker on the server (what Karrio's
/// tracking worker does after polling a real carrier).
fn scan(number: &str, status: &str, description: &str) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/real/karrio.sh");
    let out = Command::new("bash").arg(script).args(["scan", number, status, description]).output().expect("karrio.sh");
    assert!(out.status.success(), "scan failed: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn a_bad_token_is_an_auth_error() {
    let Some((url, _)) = server() else { return };
    let karrio = connect(&url, "key_0000000000000000000000000000dead");
    match karrio.find_shipment("DN-ANY").await {
        Err(ConnectorError::Auth(message)) => assert!(message.contains("401"), "{message}"),
        other => panic!("a refused key pauses the connection, got {other:?}"),
    }
    match karrio.create_shipment(&parcel("DN-ANY")).await {
        Err(ConnectorError::Auth(_)) => {}
        other => panic!("nothing is booked with a refused key, got {other:?}"),
    }
}

#[tokio::test]
async fn a_bad_address_is_rejected_naming_the_field() {
    let Some((url, token)) = server() else { return };
    let karrio = connect(&url, &token);
    let reference = unique("DN-BAD");
    let mut request = parcel(&reference);
    request.to.country = Some("ZZ".into());
    match karrio.create_shipment(&request).await {
        Err(ConnectorError::Rejected { message, fields }) => {
            assert!(message.contains("recipient.country_code"), "{message}");
            assert_eq!(fields[0].field, "recipient.country_code", "{fields:?}");
        }
        other => panic!("a bad address is dead-lettered for a person, got {other:?}"),
    }
    request.to.country = None;
    match karrio.create_shipment(&request).await {
        Err(ConnectorError::Rejected { fields, .. }) => assert_eq!(fields[0].field, "recipient.country_code"),
        other => panic!("a missing country is refused, got {other:?}"),
    }
    assert_eq!(karrio.find_shipment(&reference).await.expect("lookup"), None, "nothing was booked");

    let mut unknown = parcel(&unique("DN-BAD"));
    unknown.service = Some("overnight_by_owl".into());
    match karrio.create_shipment(&unknown).await {
        Err(ConnectorError::Rejected { message, fields }) => {
            assert!(message.contains("standard_service"), "says what is offered: {message}");
            assert_eq!(fields[0].field, "service");
        }
        other => panic!("an unknown service is refused, got {other:?}"),
    }
    let settings = json!({ "from_name": "Demo Shop", "from_street": "Hauptstr. 1", "from_city": "Berlin",
        "from_postcode": "10115", "from_country": "DE", "carrier_id": "no-such-connection" });
    let misconfigured = Karrio::new(&url, &settings, &token).expect("valid settings");
    match misconfigured.create_shipment(&parcel(&unique("DN-BAD"))).await {
        Err(ConnectorError::Rejected { message, .. }) => assert!(message.contains("carrier_id"), "{message}"),
        other => panic!("an unknown carrier connection is a settings problem, got {other:?}"),
    }
}

#[tokio::test]
async fn a_label_under_our_reference_for_another_order_is_neither_taken_nor_doubled() {
    let Some((url, token)) = server() else { return };
    let karrio = connect(&url, &token);
    let reference = unique("DN-OTHER");
    karrio.create_shipment(&parcel(&reference)).await.expect("booked for #1001");
    // The ERP's document numbers started again: the reference is now another order's parcel.
    let other = ShipmentRequest { order_ref: "#2001".into(), ..parcel(&reference) };
    for (what, result) in
        [("lookup", karrio.find_booking(&other).await), ("booking", karrio.create_shipment(&other).await.map(Some))]
    {
        match result {
            Err(ConnectorError::Rejected { message, .. }) => {
                assert!(message.contains("booked for order #1001") && message.contains("for order #2001"), "{message}");
            }
            other => panic!("{what}: expected a refusal, got {other:?}"),
        }
    }
    let list = raw_list(&url, &token, &reference).await;
    let ours =
        list["results"].as_array().expect("results").iter().filter(|s| s["reference"] == reference.as_str()).count();
    assert_eq!(ours, 1, "no second label was bought");
    assert!(karrio.find_booking(&parcel(&reference)).await.expect("lookup").is_some(), "its own order still finds it");
}
