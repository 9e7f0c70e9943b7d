//! The EasyPost connector against the EasyPost emulator over loopback:
//! booking, tracking, and what each kind of failure becomes.

use chrono::{Duration, Utc};
use ferry_connectors::easypost::EasyPost;
use ferry_connectors::Courier;
use ferry_domain::{Address, ConnectorError, ShipmentRequest, TrackingStatus};
use ferry_sim::{RunningSim, SimOptions, DEMO_EASYPOST_KEY};
use serde_json::json;

async fn start() -> (RunningSim, EasyPost) {
    let sim = RunningSim::start(SimOptions::default()).await.expect("emulator starts");
    let ep = connect(&sim, DEMO_EASYPOST_KEY);
    (sim, ep)
}

fn connect(sim: &RunningSim, key: &str) -> EasyPost {
    let settings = json!({ "from_name": "Demo Shop", "from_street": "Hauptstr. 1", "from_city": "Berlin",
        "from_postcode": "10115", "from_country": "DE", "timeout_secs": 5 });
    EasyPost::new(&sim.easypost_url(), &settings, key).expect("valid settings")
}

fn parcel(reference: &str) -> ShipmentRequest {
    ShipmentRequest {
        reference: reference.into(),
        order_ref: "#1001".into(),
        to: Address {
            name: Some("Ada Lovelace".into()),
            line1: Some("1 Main St".into()),
            city: Some("Boston".into()),
            postcode: Some("02101".into()),
            country: Some("US".into()),
            ..Address::default()
        },
        email: Some("ada@example.com".into()),
        weight_grams: 800,
        service: None,
    }
}

#[tokio::test]
async fn books_a_parcel_and_reads_its_tracking() {
    let (sim, ep) = start().await;
    let booked = ep.create_shipment(&parcel("DN-0001")).await.expect("booked");
    assert_eq!(booked.order_ref, "DN-0001");
    assert_eq!((booked.carrier.as_str(), booked.service.as_str()), ("USPS", "GroundAdvantage"), "the cheapest rate");
    let code = booked.tracking_number.clone().expect("a tracking number once bought");
    assert!(booked.label_url.as_deref().is_some_and(|u| u.ends_with(".png")), "{:?}", booked.label_url);
    assert!(booked.tracking_url.is_some(), "the tracker's public page");
    assert_eq!(ep.find_shipment("DN-0001").await.expect("lookup"), Some(booked.clone()), "found by our reference");
    assert_eq!(ep.find_shipment("DN-9999").await.expect("lookup"), None);

    assert!(sim.sim.easypost.advance(&code, "in_transit", "Arrived at USPS Regional Facility"));
    assert!(sim.sim.easypost.advance(&code, "delivered", "Delivered, In/At Mailbox"));
    let events = ep.tracking(&booked).await.expect("tracking");
    let seen: Vec<_> = events.iter().map(|e| (e.status, e.message.as_str())).collect();
    assert_eq!(
        seen,
        [
            (TrackingStatus::PreTransit, "Shipping Label Created, USPS Awaiting Item"),
            (TrackingStatus::InTransit, "Arrived at USPS Regional Facility"),
            (TrackingStatus::Delivered, "Delivered, In/At Mailbox"),
        ],
        "every scan, oldest first"
    );
    assert!(events.iter().all(|e| e.tracking_number == code));
    assert!(events.windows(2).all(|w| w[0].at < w[1].at));
}

#[tokio::test]
async fn the_requested_service_is_bought() {
    let (sim, ep) = start().await;
    let mut request = parcel("DN-0002");
    request.service = Some("Priority".into());
    let booked = ep.create_shipment(&request).await.expect("booked");
    assert_eq!(booked.service, "Priority");
    let stored = sim.sim.easypost.shipments();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].service.as_deref(), Some("Priority"));
}

#[tokio::test]
async fn a_retry_after_lost_answers_buys_exactly_one_label() {
    let (sim, ep) = start().await;
    // Both writes are committed and their answers lost: the create, then the buy.
    sim.sim.easypost.faults.lose_responses_after_commit(2);
    let request = parcel("DN-0003");
    let first = ep.create_shipment(&request).await;
    assert!(matches!(first, Err(ConnectorError::Transient(_))), "a lost answer is retried: {first:?}");
    assert_eq!(ep.find_shipment("DN-0003").await.expect("lookup"), None, "created but not bought is not booked");
    let second = ep.create_shipment(&request).await;
    assert!(matches!(second, Err(ConnectorError::Transient(_))), "the buy's answer is lost too: {second:?}");
    let third = ep.create_shipment(&request).await.expect("the retry finds the bought shipment");
    assert!(third.tracking_number.is_some());
    assert_eq!(sim.sim.easypost.purchased_count("DN-0003"), 1, "one label for one parcel, however many tries");
    assert_eq!(sim.sim.easypost.shipments().len(), 1, "the unbought shipment was bought, not made again");
    let again = ep.create_shipment(&request).await.expect("a further call is harmless");
    assert_eq!(again, third);
    assert_eq!(sim.sim.easypost.purchased_count("DN-0003"), 1);
}

#[tokio::test]
async fn lookups_page_back_through_the_last_month() {
    let (sim, ep) = start().await;
    let now = Utc::now();
    let easypost = &sim.sim.easypost;
    easypost.insert_shipment("DN-OLD", now - Duration::days(40), true);
    easypost.insert_shipment("DN-EARLY", now - Duration::days(20), true);
    for i in 0..150 {
        easypost.insert_shipment(&format!("OTHER-{i}"), now - Duration::days(10), true);
    }
    let early = ep.find_shipment("DN-EARLY").await.expect("lookup");
    assert_eq!(early.map(|s| s.order_ref).as_deref(), Some("DN-EARLY"), "found on the second page of 100");
    assert_eq!(ep.find_shipment("DN-OLD").await.expect("lookup"), None, "older than the 30-day window");
}

#[tokio::test]
async fn a_wrong_or_revoked_key_is_an_auth_error() {
    let (sim, ep) = start().await;
    let wrong = connect(&sim, "EZTK_not_the_key");
    let err = wrong.find_shipment("DN-1").await.expect_err("refused");
    assert!(matches!(err, ConnectorError::Auth(_)), "{err:?}");
    assert!(!err.to_string().contains("EZTK_not_the_key"), "the message never repeats the key: {err}");
    sim.sim.easypost.faults.revoke_auth(true);
    let err = ep.create_shipment(&parcel("DN-1")).await.expect_err("refused");
    assert!(matches!(err, ConnectorError::Auth(_)), "{err:?}");
}

#[tokio::test]
async fn a_bad_address_is_rejected_naming_the_field() {
    let (sim, ep) = start().await;
    let mut request = parcel("DN-0004");
    request.to.line1 = None;
    match ep.create_shipment(&request).await {
        Err(ConnectorError::Rejected { message, fields }) => {
            assert!(message.contains("to_address.street1"), "names the field: {message}");
            assert_eq!(fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(), ["to_address.street1"]);
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    let mut weightless = parcel("DN-0005");
    weightless.weight_grams = 0;
    match ep.create_shipment(&weightless).await {
        Err(ConnectorError::Rejected { message, .. }) => assert!(message.contains("parcel.weight"), "{message}"),
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(sim.sim.easypost.shipments().is_empty(), "nothing was created, nothing bought");
}

#[tokio::test]
async fn rate_limits_server_errors_and_cut_bodies_are_typed() {
    let (sim, ep) = start().await;
    let faults = &sim.sim.easypost.faults;
    faults.rate_limit_next(1);
    assert_eq!(
        ep.find_shipment("DN-1").await,
        Err(ConnectorError::RateLimited { retry_after: std::time::Duration::from_secs(1) }),
        "the wait EasyPost asked for in Retry-After"
    );
    faults.fail_next(1);
    assert!(matches!(ep.find_shipment("DN-1").await, Err(ConnectorError::Transient(_))));
    faults.malformed_on_request(1);
    match ep.find_shipment("DN-1").await {
        Err(ConnectorError::Protocol(message)) => assert!(message.contains("EasyPost"), "{message}"),
        other => panic!("a body cut short is a protocol error, got {other:?}"),
    }
    assert_eq!(ep.find_shipment("DN-1").await, Ok(None), "the next request is served normally");
}

#[tokio::test]
async fn a_failed_delivery_is_an_exception() {
    let (sim, ep) = start().await;
    let booked = ep.create_shipment(&parcel("DN-0006")).await.expect("booked");
    let code = booked.tracking_number.clone().expect("tracking number");
    sim.sim.easypost.advance(&code, "out_for_delivery", "Out for Delivery");
    sim.sim.easypost.advance(&code, "failure", "Delivery Attempted - No Access to Delivery Location");
    let events = ep.tracking(&booked).await.expect("tracking");
    let last = events.last().expect("scans");
    assert_eq!(last.status, TrackingStatus::FailedDelivery);
    assert!(last.status.is_exception(), "a person hears about a failed delivery");
    assert_eq!(events[events.len() - 2].status, TrackingStatus::OutForDelivery);
    sim.sim.easypost.advance(&code, "return_to_sender", "Return to Sender Processed");
    let events = ep.tracking(&booked).await.expect("tracking");
    assert_eq!(events.last().map(|e| e.status), Some(TrackingStatus::ReturnedToSender));
}

#[tokio::test]
async fn a_label_under_our_reference_for_another_order_is_neither_taken_nor_doubled() {
    let (sim, ep) = start().await;
    let first = ep.create_shipment(&parcel("DN-0042")).await.expect("booked for #1001");
    // The ERP's document numbers started again: DN-0042 is now another order's parcel.
    let other = ShipmentRequest { order_ref: "#2001".into(), ..parcel("DN-0042") };
    for (what, result) in
        [("lookup", ep.find_booking(&other).await), ("booking", ep.create_shipment(&other).await.map(Some))]
    {
        match result {
            Err(ConnectorError::Rejected { message, fields }) => {
                assert!(message.contains("booked for order #1001") && message.contains("for order #2001"), "{message}");
                assert!(message.contains("void it there if it is stale"), "says what to do: {message}");
                assert_eq!(fields[0].field, "reference");
            }
            other => panic!("{what}: expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(sim.sim.easypost.shipments().len(), 1, "no second label was bought");
    assert_eq!(ep.find_booking(&parcel("DN-0042")).await.expect("lookup"), Some(first), "its own order still finds it");
    // One made in the dashboard says nothing of its order: it is taken as ours, as before.
    sim.sim.easypost.insert_shipment("DN-0043", Utc::now(), true);
    let found = ep.find_booking(&parcel("DN-0043")).await.expect("lookup");
    assert!(found.is_some_and(|s| s.tracking_number.is_some()));
}
