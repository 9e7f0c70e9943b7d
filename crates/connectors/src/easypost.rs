//! EasyPost (API v2) as a courier: books parcels and reads their tracking.
//!
//! Follows docs.easypost.com: Basic auth with the API key as user name and
//! no password (`/docs/authentication`); `POST /v2/shipments` answers the
//! rates, `POST /v2/shipments/{id}/buy` buys one (`/docs/shipments`);
//! `GET /v2/shipments` lists newest first with `page_size` (at most 100),
//! `before_id`, `start_datetime` and `has_more` (`/docs/pagination`);
//! `GET /v2/trackers?tracking_code=` (`/docs/trackers`); errors are
//! `{"error": {code, message, errors}}` (`/docs/errors`). Weights are
//! ounces, rates are dollars as text.
//!
//! A label costs money, so booking is idempotent by our reference, which is
//! stored on the shipment (`reference`): before creating, we look the
//! reference up; a bought shipment is returned, an unbought one (its create
//! answer was lost) is bought, and only when there is none is one created.
//! A buy whose answer was lost is found bought on the retry; a buy that
//! EasyPost refuses as `SHIPMENT.POSTAGE.EXISTS` is answered by re-reading
//! the shipment.

use crate::http;
use crate::settings::{validate_base_url, SettingsError};
use crate::traits::Courier;
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Duration as Days, Utc};
use ferry_domain::{Address, ConnectorError, FieldError, Shipment, ShipmentRequest, TrackingEvent, TrackingStatus};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};
use std::str::FromStr;

const SYSTEM: &str = "EasyPost";
/// How far back a reference is looked up. Bookings are retried within
/// hours, so a month is ample and keeps the lookup to a few pages.
pub const LOOKBACK_DAYS: i64 = 30;
/// Pages of 100 read before giving up on a lookup (20 000 shipments a month).
const MAX_PAGES: usize = 200;
const GRAMS_PER_OUNCE: f64 = 28.349_523_125;

/// An EasyPost account.
pub struct EasyPost {
    base: String,
    key: String,
    from: Value,
    service: Option<String>,
    client: reqwest::Client,
    /// Bookings run one at a time, so two tries of the same parcel never
    /// both see "no shipment yet" and both buy.
    booking: tokio::sync::Mutex<()>,
}

/// A failed call: the typed error, and EasyPost's error code when it sent one.
struct Failure {
    code: Option<String>,
    error: ConnectorError,
}

impl From<Failure> for ConnectorError {
    fn from(f: Failure) -> Self {
        f.error
    }
}

impl From<ConnectorError> for Failure {
    fn from(error: ConnectorError) -> Self {
        Self { code: None, error }
    }
}

impl EasyPost {
    /// `base_url` is `https://api.easypost.com` (the emulator's `/easypost`);
    /// `secret` is the API key. Settings: the shop's sender address
    /// `from_name`, `from_street`, `from_city`, `from_postcode` and
    /// `from_country` (ISO code, e.g. `DE`), all required; optional
    /// `from_state`, `from_phone`, `service` (bought when a request names
    /// none; otherwise the cheapest rate) and `timeout_secs`.
    pub fn new(base_url: &str, settings: &Value, secret: &str) -> Result<Self, SettingsError> {
        let base = validate_base_url(base_url)?;
        let key = secret.trim();
        if key.is_empty() || key.contains(':') || key.chars().any(char::is_whitespace) {
            return Err(SettingsError::BadSecret(
                "EasyPost expects the API key alone (EZAK… for production, EZTK… for test)".into(),
            ));
        }
        let sender = crate::settings::Sender::from_settings(settings)?;
        let text = |key: &str| crate::settings::text_setting(settings, key);
        let from = json!({
            "name": sender.name,
            "street1": sender.street,
            "city": sender.city,
            "zip": sender.postcode,
            "country": sender.country,
            "state": sender.state,
            "phone": sender.phone,
        });
        Ok(Self {
            base: base.as_str().trim_end_matches('/').to_owned(),
            key: key.to_owned(),
            from,
            service: text("service")?,
            client: http::client(http::timeout_setting(settings)?),
            booking: tokio::sync::Mutex::new(()),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v2/{path}", self.base)
    }

    /// Sends a request with the key; returns the body of a success, or the
    /// typed error (with EasyPost's code) for anything else.
    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Value, Failure> {
        let resp =
            req.basic_auth(&self.key, None::<&str>).send().await.map_err(|e| http::transport_error(SYSTEM, &e))?;
        let status = resp.status();
        if let Some(error) = http::classify_status(SYSTEM, status, resp.headers()) {
            return Err(error.into());
        }
        let bytes = http::read_body(SYSTEM, resp).await?;
        if !status.is_success() {
            return Err(easypost_error(status, &bytes));
        }
        Ok(http::parse_json(SYSTEM, "an answer", &bytes)?)
    }

    /// The shipment stored with `reference` in the last `LOOKBACK_DAYS`:
    /// a bought one if any, else the newest unbought one.
    async fn by_reference(&self, reference: &str) -> Result<Option<Value>> {
        let since = Utc::now() - Days::days(LOOKBACK_DAYS);
        let mut unbought = None;
        let mut before: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![
                ("page_size", "100".to_owned()),
                ("start_datetime", since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            ];
            if let Some(id) = &before {
                query.push(("before_id", id.clone()));
            }
            let page: ShipmentPage =
                serde_json::from_value(self.send(self.client.get(self.url("shipments")).query(&query)).await?)
                    .map_err(|e| ConnectorError::Protocol(format!("EasyPost shipment list: {e}")))?;
            for s in &page.shipments {
                if s.get("reference").and_then(Value::as_str) != Some(reference) || is_voided(s) {
                    continue;
                }
                if is_bought(s) {
                    return Ok(Some(s.clone()));
                }
                unbought.get_or_insert_with(|| s.clone());
            }
            let last = page.shipments.last().and_then(|s| s.get("id")).and_then(Value::as_str).map(str::to_owned);
            match (page.has_more, last) {
                (false, _) => return Ok(unbought),
                (true, Some(id)) if before.as_ref() != Some(&id) => before = Some(id),
                (true, _) => {
                    return Err(ConnectorError::Protocol(
                        "EasyPost says more shipments follow but sent a page that does not move on".into(),
                    ))
                }
            }
        }
        // Fail safe: "not found" here could buy a second label.
        Err(ConnectorError::Protocol(format!(
            "EasyPost holds more than {} shipments of the last {LOOKBACK_DAYS} days; cannot confirm whether {reference:?} was booked",
            MAX_PAGES * 100
        )))
    }

    /// The shipment stored with the request's reference, if it was booked
    /// for the request's order (printed on the label as `print_custom_1`);
    /// see `Courier::find_booking`.
    async fn booked_for(&self, request: &ShipmentRequest) -> Result<Option<Value>> {
        let found = self.by_reference(&request.reference).await?;
        let order = found.as_ref().and_then(|s| s.pointer("/options/print_custom_1")).and_then(Value::as_str);
        crate::traits::same_order(SYSTEM, request, order)?;
        Ok(found)
    }

    /// Creates the shipment with its rates (not yet bought).
    async fn create(&self, request: &ShipmentRequest) -> Result<Value> {
        let body = json!({ "shipment": {
            "reference": request.reference,
            "to_address": to_address(&request.to, request.email.as_deref()),
            "from_address": self.from,
            "parcel": { "weight": ounces(request.weight_grams) },
            "options": { "print_custom_1": request.order_ref },
        }});
        Ok(self.send(self.client.post(self.url("shipments")).json(&body)).await?)
    }

    /// Buys `service` (or the cheapest rate) for the unbought `shipment`.
    async fn buy(&self, shipment: &Value, service: Option<&str>) -> Result<Value> {
        let id = text(shipment, "id")?;
        let rate = pick_rate(shipment, service)?;
        let url = self.url(&format!("shipments/{}/buy", urlencoding::encode(&id)));
        match self.send(self.client.post(url).json(&json!({ "rate": { "id": rate } }))).await {
            Ok(bought) => Ok(bought),
            // Bought meanwhile (by an earlier try whose answer was lost): read it.
            Err(Failure { code: Some(code), .. }) if code == "SHIPMENT.POSTAGE.EXISTS" => {
                let url = self.url(&format!("shipments/{}", urlencoding::encode(&id)));
                Ok(self.send(self.client.get(url)).await?)
            }
            Err(f) => Err(f.into()),
        }
    }
}

#[async_trait]
impl Courier for EasyPost {
    async fn find_shipment(&self, reference: &str) -> Result<Option<Shipment>> {
        bought(self.by_reference(reference).await?)
    }

    async fn find_booking(&self, request: &ShipmentRequest) -> Result<Option<Shipment>> {
        bought(self.booked_for(request).await?)
    }

    async fn create_shipment(&self, request: &ShipmentRequest) -> Result<Shipment> {
        let _one_at_a_time = self.booking.lock().await;
        let service = request.service.as_deref().or(self.service.as_deref());
        let bought = match self.booked_for(request).await? {
            Some(s) if is_bought(&s) => s,
            Some(unbought) => self.buy(&unbought, service).await?,
            None => {
                let created = self.create(request).await?;
                self.buy(&created, service).await?
            }
        };
        to_shipment(&bought)
    }

    /// Scans oldest first; none for a shipment without a tracking number.
    async fn tracking(&self, shipment: &Shipment) -> Result<Vec<TrackingEvent>> {
        let Some(code) = shipment.tracking_number.as_deref() else {
            return Ok(Vec::new());
        };
        let query = [("tracking_code", code), ("page_size", "100")];
        let page: TrackerPage =
            serde_json::from_value(self.send(self.client.get(self.url("trackers")).query(&query)).await?)
                .map_err(|e| ConnectorError::Protocol(format!("EasyPost tracker list: {e}")))?;
        // Codes are recycled by carriers: prefer the tracker of this shipment.
        let ours = |t: &&Tracker| shipment.id.is_some() && t.shipment_id == shipment.id;
        let tracker = page
            .trackers
            .iter()
            .find(ours)
            .or_else(|| page.trackers.iter().find(|t| t.tracking_code == code))
            .ok_or_else(|| ConnectorError::NotFound(format!("EasyPost has no tracker for {code}")))?;
        let mut events = tracker
            .tracking_details
            .iter()
            .map(|d| {
                let at = DateTime::parse_from_rfc3339(&d.datetime).map_err(|e| {
                    ConnectorError::Protocol(format!("EasyPost tracking time {:?} of {code}: {e}", d.datetime))
                })?;
                Ok(TrackingEvent {
                    tracking_number: code.to_owned(),
                    at: at.with_timezone(&Utc),
                    status: tracking_status(&d.status),
                    message: d.message.clone().unwrap_or_default(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        events.sort_by_key(|e| e.at);
        Ok(events)
    }
}

#[derive(Deserialize)]
struct ShipmentPage {
    shipments: Vec<Value>,
    #[serde(default)]
    has_more: bool,
}

#[derive(Deserialize)]
struct TrackerPage {
    trackers: Vec<Tracker>,
}

#[derive(Deserialize)]
struct Tracker {
    tracking_code: String,
    shipment_id: Option<String>,
    #[serde(default)]
    tracking_details: Vec<TrackingDetail>,
}

#[derive(Deserialize)]
struct TrackingDetail {
    status: String,
    message: Option<String>,
    datetime: String,
}

/// EasyPost's tracker statuses in ours. Statuses EasyPost adds later read
/// as `Unknown`, not as an error.
pub fn tracking_status(status: &str) -> TrackingStatus {
    match status {
        "pre_transit" => TrackingStatus::PreTransit,
        "in_transit" => TrackingStatus::InTransit,
        // Waiting at a pickup point for the customer: the last step before delivered.
        "out_for_delivery" | "available_for_pickup" => TrackingStatus::OutForDelivery,
        "delivered" => TrackingStatus::Delivered,
        "failure" => TrackingStatus::FailedDelivery,
        "return_to_sender" => TrackingStatus::ReturnedToSender,
        _ => TrackingStatus::Unknown,
    }
}

/// Grams to ounces, rounded up to a tenth (never under-declared).
fn ounces(grams: u32) -> f64 {
    (f64::from(grams) / GRAMS_PER_OUNCE * 10.0).ceil() / 10.0
}

fn to_address(a: &Address, email: Option<&str>) -> Value {
    json!({
        "name": a.name, "street1": a.line1, "street2": a.line2, "city": a.city,
        "zip": a.postcode, "country": a.country, "phone": a.phone, "email": email,
    })
}

/// The shipment found, if bought: an unbought one has no label yet.
fn bought(found: Option<Value>) -> Result<Option<Shipment>> {
    match found {
        Some(s) if is_bought(&s) => Ok(Some(to_shipment(&s)?)),
        _ => Ok(None),
    }
}

/// A label whose refund was asked for or given: voided, no longer a booking
/// (as Karrio's `cancelled`).
fn is_voided(shipment: &Value) -> bool {
    matches!(shipment.get("refund_status").and_then(Value::as_str), Some("submitted" | "refunded"))
}

fn is_bought(shipment: &Value) -> bool {
    shipment.get("selected_rate").is_some_and(|r| !r.is_null())
        || shipment.get("tracking_code").and_then(Value::as_str).is_some_and(|c| !c.is_empty())
}

fn text(v: &Value, field: &str) -> Result<String> {
    v.get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ConnectorError::Protocol(format!("EasyPost shipment has no text field {field:?}")))
}

/// The id of the rate for `service`, or of the cheapest rate.
fn pick_rate(shipment: &Value, service: Option<&str>) -> Result<String> {
    let rates = shipment.get("rates").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let offered = || {
        let names: Vec<&str> = rates.iter().filter_map(|r| r.get("service").and_then(Value::as_str)).collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    };
    let chosen = match service {
        Some(wanted) => rates
            .iter()
            .find(|r| r.get("service").and_then(Value::as_str).is_some_and(|s| s.eq_ignore_ascii_case(wanted)))
            .ok_or_else(|| ConnectorError::Rejected {
                message: format!("EasyPost offers no {wanted:?} rate for this parcel (offered: {})", offered()),
                fields: vec![FieldError { field: "service".into(), message: "not offered".into() }],
            })?,
        None => rates
            .iter()
            .filter_map(|r| {
                let price = r.get("rate").and_then(Value::as_str).and_then(|p| Decimal::from_str(p).ok())?;
                Some((price, r))
            })
            .min_by_key(|(price, _)| *price)
            .map(|(_, r)| r)
            .ok_or_else(|| ConnectorError::Rejected {
                message: "EasyPost offers no rate for this parcel; check the addresses and the weight".into(),
                fields: vec![],
            })?,
    };
    text(chosen, "id")
}

/// A bought EasyPost shipment in our terms.
fn to_shipment(s: &Value) -> Result<Shipment> {
    let rate = s.get("selected_rate").filter(|r| !r.is_null());
    let rate_text =
        |field: &str| rate.and_then(|r| r.get(field)).and_then(Value::as_str).unwrap_or_default().to_owned();
    let nested = |outer: &str, inner: &str| {
        s.get(outer).and_then(|o| o.get(inner)).and_then(Value::as_str).filter(|v| !v.is_empty()).map(str::to_owned)
    };
    Ok(Shipment {
        id: Some(text(s, "id")?),
        order_ref: s.get("reference").and_then(Value::as_str).unwrap_or_default().to_owned(),
        carrier: rate_text("carrier"),
        service: rate_text("service"),
        tracking_number: s.get("tracking_code").and_then(Value::as_str).filter(|c| !c.is_empty()).map(str::to_owned),
        label_url: nested("postage_label", "label_url"),
        tracking_url: nested("tracker", "public_url"),
    })
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: Option<String>,
    message: Option<String>,
    #[serde(default)]
    errors: Vec<Value>,
}

/// Reads an EasyPost error body (statuses `classify_status` left to it).
fn easypost_error(status: StatusCode, body: &[u8]) -> Failure {
    let Ok(ErrorEnvelope { error: e }) = serde_json::from_slice::<ErrorEnvelope>(body) else {
        let raw = String::from_utf8_lossy(&body[..body.len().min(200)]).trim().to_owned();
        let text = if raw.is_empty() { format!("HTTP {status}") } else { raw };
        return ConnectorError::Rejected { message: format!("EasyPost: {text}"), fields: vec![] }.into();
    };
    // `errors` holds objects with field and message, or plain strings.
    let fields: Vec<FieldError> = e
        .errors
        .iter()
        .map(|v| match v {
            Value::String(s) => FieldError { field: String::new(), message: s.clone() },
            other => FieldError {
                field: other.get("field").and_then(Value::as_str).unwrap_or_default().to_owned(),
                message: other.get("message").and_then(Value::as_str).unwrap_or_default().to_owned(),
            },
        })
        .collect();
    let mut message = format!("EasyPost: {}", e.message.as_deref().unwrap_or("no message"));
    if !fields.is_empty() {
        let list: Vec<String> = fields
            .iter()
            .map(|f| if f.field.is_empty() { f.message.clone() } else { format!("{}: {}", f.field, f.message) })
            .collect();
        message = format!("{message} ({})", list.join("; "));
    }
    let code = e.code.unwrap_or_default();
    let error = match status {
        StatusCode::FORBIDDEN => ConnectorError::Auth(format!("{message} (check the API key in EasyPost)")),
        _ if code.starts_with("APIKEY.") => ConnectorError::Auth(message),
        StatusCode::NOT_FOUND => ConnectorError::NotFound(message),
        StatusCode::PAYMENT_REQUIRED => ConnectorError::Rejected {
            message: format!("{message} (add funds to the EasyPost wallet, then replay)"),
            fields,
        },
        s if s.is_client_error() => ConnectorError::Rejected { message, fields },
        _ => ConnectorError::Protocol(message),
    };
    Failure { code: Some(code).filter(|c| !c.is_empty()), error }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_sim::{RunningSim, SimOptions, DEMO_EASYPOST_KEY};

    fn settings() -> Value {
        json!({ "from_name": "Demo Shop", "from_street": "Hauptstr. 1", "from_city": "Berlin",
            "from_postcode": "10115", "from_country": "de" })
    }

    #[test]
    fn settings_and_key_are_validated() {
        let url = "https://api.easypost.com";
        let ep = EasyPost::new(url, &settings(), " EZTK_abc ").expect("valid");
        assert_eq!(ep.url("shipments"), "https://api.easypost.com/v2/shipments");
        assert_eq!(ep.from["country"], "DE", "country codes are upper-cased");
        assert!(matches!(EasyPost::new(url, &settings(), ""), Err(SettingsError::BadSecret(_))));
        assert!(matches!(EasyPost::new(url, &settings(), "key:pw"), Err(SettingsError::BadSecret(_))));
        let mut s = settings();
        s.as_object_mut().expect("object").remove("from_street");
        assert_eq!(
            EasyPost::new(url, &s, "EZTK_abc").err(),
            Some(SettingsError::BadSetting {
                key: "from_street".into(),
                message: "required: the shop's sender address is printed on every label".into()
            })
        );
        s = settings();
        s["from_country"] = json!("Germany");
        assert!(
            matches!(EasyPost::new(url, &s, "EZTK_abc"), Err(SettingsError::BadSetting { key, .. }) if key == "from_country")
        );
        assert!(matches!(
            EasyPost::new("http://easypost.com", &settings(), "k"),
            Err(SettingsError::InsecureScheme { .. })
        ));
    }

    #[test]
    fn grams_become_ounces_rounded_up() {
        assert_eq!(ounces(1000), 35.3, "1 kg is 35.27 oz, declared as 35.3");
        assert_eq!(ounces(1), 0.1);
        assert_eq!(ounces(0), 0.0, "no weight stays no weight, for EasyPost to refuse");
    }

    #[test]
    fn error_bodies_map_to_actions() {
        let body = br#"{"error":{"code":"PARAMETER.REQUIRED","message":"Missing required parameter.",
            "errors":[{"field":"to_address.zip","message":"cannot be blank","suggestion":null},"also this"]}}"#;
        let f = easypost_error(StatusCode::UNPROCESSABLE_ENTITY, body);
        assert_eq!(f.code.as_deref(), Some("PARAMETER.REQUIRED"));
        match f.error {
            ConnectorError::Rejected { message, fields } => {
                assert_eq!(
                    message,
                    "EasyPost: Missing required parameter. (to_address.zip: cannot be blank; also this)"
                );
                assert_eq!(fields[0], FieldError { field: "to_address.zip".into(), message: "cannot be blank".into() });
            }
            other => panic!("expected Rejected, got {other:?}"),
        }
        let inactive =
            br#"{"error":{"code":"APIKEY.INACTIVE","errors":[],"message":"This api key is no longer active."}}"#;
        assert!(
            matches!(easypost_error(StatusCode::FORBIDDEN, inactive).error, ConnectorError::Auth(_)),
            "EasyPost answers an inactive key with 403, which pauses the connection"
        );
        let missing =
            br#"{"error":{"code":"NOT_FOUND","message":"The requested resource could not be found.","errors":[]}}"#;
        assert!(matches!(easypost_error(StatusCode::NOT_FOUND, missing).error, ConnectorError::NotFound(_)));
        let junk = easypost_error(StatusCode::BAD_REQUEST, b"<html>bad</html>");
        assert!(junk.code.is_none());
        assert!(matches!(junk.error, ConnectorError::Rejected { .. }), "a non-JSON error body is still typed");
    }

    #[test]
    fn statuses_map_to_ours() {
        let table = [
            ("pre_transit", TrackingStatus::PreTransit),
            ("in_transit", TrackingStatus::InTransit),
            ("out_for_delivery", TrackingStatus::OutForDelivery),
            ("available_for_pickup", TrackingStatus::OutForDelivery),
            ("delivered", TrackingStatus::Delivered),
            ("failure", TrackingStatus::FailedDelivery),
            ("return_to_sender", TrackingStatus::ReturnedToSender),
            ("cancelled", TrackingStatus::Unknown),
            ("something_new", TrackingStatus::Unknown),
        ];
        for (theirs, ours) in table {
            assert_eq!(tracking_status(theirs), ours, "{theirs}");
        }
    }

    #[test]
    fn the_requested_service_or_the_cheapest_rate_is_bought() {
        let s = json!({ "rates": [
            { "id": "rate_a", "service": "Express", "rate": "28.40" },
            { "id": "rate_b", "service": "GroundAdvantage", "rate": "5.12" },
            { "id": "rate_c", "service": "Priority", "rate": "7.70" },
        ]});
        assert_eq!(pick_rate(&s, None).expect("cheapest"), "rate_b", "5.12 is the cheapest");
        assert_eq!(pick_rate(&s, Some("priority")).expect("named"), "rate_c");
        match pick_rate(&s, Some("Overnight")) {
            Err(ConnectorError::Rejected { message, .. }) => {
                assert!(message.contains("Express, GroundAdvantage, Priority"), "says what is offered: {message}")
            }
            other => panic!("expected Rejected, got {other:?}"),
        }
    }

    /// The race `create_shipment` cannot see from outside: the shipment was
    /// read unbought, then bought by an earlier try. The buy is refused and
    /// the bought shipment is read instead of failing.
    #[tokio::test]
    async fn a_buy_refused_as_already_bought_reads_the_shipment() {
        let sim = RunningSim::start(SimOptions::default()).await.expect("emulator");
        let ep = EasyPost::new(&sim.easypost_url(), &settings(), DEMO_EASYPOST_KEY).expect("connector");
        let request = ShipmentRequest {
            reference: "DN-RACE".into(),
            order_ref: "#1001".into(),
            to: Address {
                name: Some("Ada".into()),
                line1: Some("1 Main St".into()),
                city: Some("Boston".into()),
                postcode: Some("02101".into()),
                country: Some("US".into()),
                ..Address::default()
            },
            email: None,
            weight_grams: 500,
            service: None,
        };
        let unbought = ep.create(&request).await.expect("created");
        let first = ep.buy(&unbought, Some("Priority")).await.expect("bought");
        let again = ep.buy(&unbought, Some("Priority")).await.expect("read back, not an error");
        assert_eq!(again["tracking_code"], first["tracking_code"], "the same label, read back");
        assert_eq!(sim.sim.easypost.purchased_count("DN-RACE"), 1, "one label for one parcel");
    }
}
