//! Karrio's JSON in our terms: shipments, rates, trackers and error bodies.
//! Pure functions, so each mapping is tested by a table.

use super::REFERENCE_KEY;
use crate::Result;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use ferry_domain::{ConnectorError, FieldError, Shipment, TrackingEvent, TrackingStatus};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;

/// One page of `GET /v1/shipments`.
#[derive(Deserialize)]
pub(super) struct ShipmentPage {
    pub results: Vec<Value>,
    pub next: Option<String>,
}

/// Karrio's tracker statuses (and those of single events) in ours.
/// Statuses Karrio adds later read as `Unknown`, not as an error.
pub fn tracking_status(status: &str) -> TrackingStatus {
    match status {
        "pending" => TrackingStatus::PreTransit,
        // Held (e.g. by customs) or late is still on its way.
        "picked_up" | "in_transit" | "on_hold" | "delivery_delayed" => TrackingStatus::InTransit,
        // Waiting at a pickup point for the customer: the last step before delivered.
        "out_for_delivery" | "ready_for_pickup" => TrackingStatus::OutForDelivery,
        "delivered" => TrackingStatus::Delivered,
        "delivery_failed" => TrackingStatus::FailedDelivery,
        "return_to_sender" | "returned" => TrackingStatus::ReturnedToSender,
        _ => TrackingStatus::Unknown,
    }
}

/// Grams to kilograms (exact: a gram is the smallest unit we hold).
pub(super) fn kilograms(grams: u32) -> f64 {
    f64::from(grams) / 1000.0
}

pub(super) fn text(v: &Value, field: &str) -> Result<String> {
    optional(v, field).ok_or_else(|| ConnectorError::Protocol(format!("Karrio shipment has no text field {field:?}")))
}

/// A non-empty text field, if present.
pub(super) fn optional(v: &Value, field: &str) -> Option<String> {
    v.get(field).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Whether `shipment` carries our `reference` (Karrio's filter is a
/// substring match, so `DN-1` also lists `DN-10`).
pub(super) fn has_reference(shipment: &Value, reference: &str) -> bool {
    shipment.get("reference").and_then(Value::as_str) == Some(reference)
        || shipment.get("metadata").and_then(|m| m.get(REFERENCE_KEY)).and_then(Value::as_str) == Some(reference)
}

fn status(shipment: &Value) -> &str {
    shipment.get("status").and_then(Value::as_str).unwrap_or_default()
}

/// A label was bought: it has a tracking number or a selected rate, and
/// was not voided.
pub(super) fn is_bought(shipment: &Value) -> bool {
    !matches!(status(shipment), "draft" | "cancelled")
        && (optional(shipment, "tracking_number").is_some()
            || shipment.get("selected_rate").is_some_and(|r| !r.is_null()))
}

/// Created but not bought: the only state a purchase may follow.
pub(super) fn is_draft(shipment: &Value) -> bool {
    status(shipment) == "draft"
}

/// The id of the rate for `service` (of `carrier` when set), or of the
/// cheapest rate.
pub(super) fn pick_rate(shipment: &Value, service: Option<&str>, carrier: Option<&str>) -> Result<String> {
    let all = shipment.get("rates").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let rate_text = |r: &Value, f: &str| r.get(f).and_then(Value::as_str).unwrap_or_default().to_owned();
    let rates: Vec<&Value> =
        all.iter().filter(|r| carrier.is_none_or(|c| rate_text(r, "carrier_name").eq_ignore_ascii_case(c))).collect();
    let offered = || {
        let names: Vec<String> = all
            .iter()
            .map(|r| format!("{} {}", rate_text(r, "carrier_name"), rate_text(r, "service")).trim().to_owned())
            .collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    };
    let messages = || {
        let list: Vec<String> = shipment
            .get("messages")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|m| m.get("message").and_then(Value::as_str).map(str::to_owned))
            .collect();
        if list.is_empty() {
            String::new()
        } else {
            format!("; the carriers said: {}", list.join("; "))
        }
    };
    let chosen = match service {
        Some(wanted) => rates.iter().find(|r| rate_text(r, "service").eq_ignore_ascii_case(wanted)).ok_or_else(|| {
            ConnectorError::Rejected {
                message: format!("Karrio offers no {wanted:?} rate for this parcel (offered: {}){}", offered(), messages()),
                fields: vec![FieldError { field: "service".into(), message: "not offered".into() }],
            }
        })?,
        None => rates
            .iter()
            .filter_map(|r| Some((r.get("total_charge").and_then(Value::as_f64)?, r)))
            .min_by(|(a, _), (b, _)| a.total_cmp(b))
            .map(|(_, r)| r)
            .ok_or_else(|| ConnectorError::Rejected {
                message: format!(
                    "Karrio offers no rate for this parcel (offered: {}){}; check the addresses, the weight and the carrier settings",
                    offered(),
                    messages()
                ),
                fields: vec![],
            })?,
    };
    text(chosen, "id")
}

/// A bought Karrio shipment in our terms. `base` makes Karrio's relative
/// label path absolute (fetching it needs the API key too).
pub(super) fn to_shipment(s: &Value, base: &str, reference: &str) -> Result<Shipment> {
    let rate = s.get("selected_rate").filter(|r| !r.is_null());
    let from_rate = |field: &str| rate.and_then(|r| optional(r, field));
    let absolute = |url: String| if url.starts_with('/') { format!("{base}{url}") } else { url };
    Ok(Shipment {
        id: Some(text(s, "id")?),
        order_ref: reference.to_owned(),
        carrier: from_rate("carrier_name").or_else(|| optional(s, "carrier_name")).unwrap_or_default(),
        service: from_rate("service").or_else(|| optional(s, "service")).unwrap_or_default(),
        tracking_number: optional(s, "tracking_number"),
        label_url: optional(s, "label_url").map(absolute),
        // Karrio's own `tracking_url` is an API path that needs the key, not a page for customers.
        tracking_url: optional(s, "tracking_url").filter(|u| u.starts_with("https://")),
    })
}

/// A tracker's events, oldest first (Karrio keeps them newest first).
pub(super) fn events(tracker: &Value, number: &str) -> Result<Vec<TrackingEvent>> {
    let list = tracker.get("events").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let mut events = list
        .iter()
        .map(|e| {
            Ok(TrackingEvent {
                tracking_number: number.to_owned(),
                at: event_time(e).ok_or_else(|| {
                    ConnectorError::Protocol(format!("Karrio tracking event of {number} has no readable time: {e}"))
                })?,
                status: e.get("status").and_then(Value::as_str).map(tracking_status).unwrap_or(TrackingStatus::Unknown),
                message: optional(e, "description").or_else(|| optional(e, "code")).unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    events.reverse();
    events.sort_by_key(|e| e.at);
    Ok(events)
}

/// `timestamp` (ISO 8601, UTC when it names no zone), else `date` with
/// `time` (`HH:MM AM/PM`, `HH:MM` or `HH:MM:SS`), else `date` alone.
fn event_time(e: &Value) -> Option<DateTime<Utc>> {
    if let Some(ts) = optional(e, "timestamp") {
        if let Ok(t) = DateTime::parse_from_rfc3339(&ts) {
            return Some(t.with_timezone(&Utc));
        }
        if let Ok(t) = NaiveDateTime::parse_from_str(&ts, "%Y-%m-%dT%H:%M:%S%.f") {
            return Some(t.and_utc());
        }
    }
    let date = NaiveDate::parse_from_str(&optional(e, "date")?, "%Y-%m-%d").ok()?;
    let time = match optional(e, "time") {
        None => NaiveTime::MIN,
        Some(t) => ["%I:%M %p", "%H:%M:%S", "%H:%M"]
            .iter()
            .find_map(|f| NaiveTime::parse_from_str(t.trim(), f).ok())
            // "16:40 PM" (a 24-hour time with a suffix) is written by some carriers.
            .or_else(|| NaiveTime::parse_from_str(t.trim().trim_end_matches(['A', 'P', 'M']).trim(), "%H:%M").ok())?,
    };
    Some(date.and_time(time).and_utc())
}

/// Reads a Karrio error body (statuses `classify_status` left to it).
pub(super) fn karrio_error(status: StatusCode, body: &[u8]) -> ConnectorError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let list: Vec<&Value> = parsed
        .as_ref()
        .and_then(|v| v.get("errors").or_else(|| v.get("messages")))
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    if list.is_empty() {
        let raw = String::from_utf8_lossy(&body[..body.len().min(200)]).trim().to_owned();
        let text = if raw.is_empty() { format!("HTTP {status}") } else { raw };
        return ConnectorError::Rejected { message: format!("Karrio: {text}"), fields: vec![] };
    }
    let mut fields = Vec::new();
    let mut texts = Vec::new();
    for e in &list {
        let message = optional(e, "message").unwrap_or_else(|| optional(e, "code").unwrap_or("error".into()));
        let carrier = optional(e, "carrier_name").map(|c| format!("{c}: ")).unwrap_or_default();
        texts.push(format!("{carrier}{message}"));
        fields.extend(field_errors(e, &message));
    }
    let message = format!("Karrio: {}", texts.join("; "));
    match status {
        StatusCode::FORBIDDEN => ConnectorError::Auth(format!("{message} (check the API key's permissions in Karrio)")),
        StatusCode::NOT_FOUND => ConnectorError::NotFound(message),
        s if s.is_client_error() => ConnectorError::Rejected { message, fields },
        _ => ConnectorError::Protocol(message),
    }
}

/// The fields one error names: `details` as `{field: [messages]}`, or a
/// message written `recipient.country_code: This field is required.`
fn field_errors(e: &Value, message: &str) -> Vec<FieldError> {
    if let Some(details) = e.get("details").and_then(Value::as_object) {
        let found: Vec<FieldError> = details
            .iter()
            .filter(|(k, _)| k.chars().all(|c| c.is_ascii_alphanumeric() || "._[]".contains(c)))
            .map(|(k, v)| FieldError {
                field: k.clone(),
                message: match v {
                    Value::String(s) => s.clone(),
                    Value::Array(a) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" "),
                    other => other.to_string(),
                },
            })
            .collect();
        if !found.is_empty() {
            return found;
        }
    }
    match message.split_once(": ") {
        Some((field, text))
            if !field.is_empty() && field.chars().all(|c| c.is_ascii_alphanumeric() || "._[]".contains(c)) =>
        {
            vec![FieldError { field: field.to_owned(), message: text.to_owned() }]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses_map_to_ours() {
        let table = [
            ("pending", TrackingStatus::PreTransit),
            ("picked_up", TrackingStatus::InTransit),
            ("in_transit", TrackingStatus::InTransit),
            ("on_hold", TrackingStatus::InTransit),
            ("delivery_delayed", TrackingStatus::InTransit),
            ("out_for_delivery", TrackingStatus::OutForDelivery),
            ("ready_for_pickup", TrackingStatus::OutForDelivery),
            ("delivered", TrackingStatus::Delivered),
            ("delivery_failed", TrackingStatus::FailedDelivery),
            ("return_to_sender", TrackingStatus::ReturnedToSender),
            ("cancelled", TrackingStatus::Unknown),
            ("unknown", TrackingStatus::Unknown),
            ("something_new", TrackingStatus::Unknown),
        ];
        for (theirs, ours) in table {
            assert_eq!(tracking_status(theirs), ours, "{theirs}");
        }
    }

    #[test]
    fn error_bodies_map_to_actions() {
        let body = br#"{"errors":[{"code":"validation","level":"error","message":"recipient.country_code: This field is required."}]}"#;
        match karrio_error(StatusCode::BAD_REQUEST, body) {
            ConnectorError::Rejected { message, fields } => {
                assert_eq!(message, "Karrio: recipient.country_code: This field is required.");
                assert_eq!(
                    fields,
                    [FieldError { field: "recipient.country_code".into(), message: "This field is required.".into() }],
                    "the field is read out of the message"
                );
            }
            other => panic!("expected Rejected, got {other:?}"),
        }
        let details = br#"{"errors":[{"code":"validation","message":"Invalid input.","details":{"parcels":["weight is required"]}}]}"#;
        match karrio_error(StatusCode::BAD_REQUEST, details) {
            ConnectorError::Rejected { fields, .. } => {
                assert_eq!(fields, [FieldError { field: "parcels".into(), message: "weight is required".into() }])
            }
            other => panic!("expected Rejected, got {other:?}"),
        }
        let carrier = br#"{"messages":[{"carrier_name":"dhl_parcel_de","code":"1101","message":"Invalid postcode"}]}"#;
        assert!(
            matches!(karrio_error(StatusCode::FAILED_DEPENDENCY, carrier),
                ConnectorError::Rejected { message, .. } if message == "Karrio: dhl_parcel_de: Invalid postcode"),
            "a carrier's refusal (424) names the carrier"
        );
        let missing = br#"{"errors":[{"code":"not_found","level":"warning","message":"Shipment not found"}]}"#;
        assert_eq!(
            karrio_error(StatusCode::NOT_FOUND, missing),
            ConnectorError::NotFound("Karrio: Shipment not found".into())
        );
        let denied = br#"{"errors":[{"code":"permission_denied","message":"You do not have permission"}]}"#;
        assert!(matches!(karrio_error(StatusCode::FORBIDDEN, denied), ConnectorError::Auth(_)));
        assert!(
            matches!(karrio_error(StatusCode::BAD_REQUEST, b"<html>bad</html>"), ConnectorError::Rejected { .. }),
            "a non-JSON error body is still typed"
        );
    }

    fn shipment(status: &str, rates: Value) -> Value {
        json!({ "id": "shp_1", "status": status, "reference": "DN-1", "metadata": {}, "rates": rates,
            "selected_rate": null, "tracking_number": null, "messages": [] })
    }

    #[test]
    fn the_requested_service_or_the_cheapest_rate_is_bought() {
        let s = shipment(
            "draft",
            json!([
                { "id": "rat_a", "carrier_name": "dhl_express", "service": "dhl_express_worldwide", "total_charge": 28.4 },
                { "id": "rat_b", "carrier_name": "ups", "service": "ups_standard", "total_charge": 5.12 },
                { "id": "rat_c", "carrier_name": "dhl_express", "service": "dhl_economy", "total_charge": 7.7 },
            ]),
        );
        assert_eq!(pick_rate(&s, None, None).expect("cheapest"), "rat_b", "5.12 is the cheapest");
        assert_eq!(pick_rate(&s, None, Some("dhl_express")).expect("cheapest of the carrier"), "rat_c");
        assert_eq!(pick_rate(&s, Some("DHL_EXPRESS_WORLDWIDE"), None).expect("named"), "rat_a");
        match pick_rate(&s, Some("ups_standard"), Some("dhl_express")) {
            Err(ConnectorError::Rejected { message, fields }) => {
                assert!(message.contains("ups ups_standard"), "says what is offered: {message}");
                assert_eq!(fields[0].field, "service");
            }
            other => panic!("a service of another carrier is not bought: {other:?}"),
        }
        assert!(matches!(pick_rate(&shipment("draft", json!([])), None, None), Err(ConnectorError::Rejected { .. })));
    }

    #[test]
    fn bought_draft_and_reference_are_told_apart() {
        let mut s = shipment("draft", json!([]));
        assert!(is_draft(&s) && !is_bought(&s));
        s["status"] = json!("created");
        s["tracking_number"] = json!("1Z999");
        assert!(is_bought(&s) && !is_draft(&s));
        s["status"] = json!("cancelled");
        assert!(!is_bought(&s), "a voided label is not a booking");
        assert!(has_reference(&s, "DN-1"));
        assert!(!has_reference(&s, "DN-10"), "the list filter matches substrings; we do not");
        let edited = json!({ "reference": "edited by hand", "metadata": { "ferry_reference": "DN-2" } });
        assert!(has_reference(&edited, "DN-2"), "the metadata copy still finds it");
    }

    #[test]
    fn a_bought_shipment_reads_as_ours() {
        let s = json!({ "id": "shp_1", "status": "created", "carrier_name": "generic", "service": "standard_service",
            "tracking_number": "0575978f8da3", "label_url": "/v1/shipments/shp_1/label.pdf",
            "tracking_url": "/v1/trackers/ferry_offline/0575978f8da3",
            "selected_rate": { "carrier_name": "ferry_offline", "service": "standard_service" } });
        let got = to_shipment(&s, "http://127.0.0.1:5102", "DN-1").expect("mapped");
        assert_eq!(
            got,
            Shipment {
                id: Some("shp_1".into()),
                order_ref: "DN-1".into(),
                carrier: "ferry_offline".into(),
                service: "standard_service".into(),
                tracking_number: Some("0575978f8da3".into()),
                label_url: Some("http://127.0.0.1:5102/v1/shipments/shp_1/label.pdf".into()),
                tracking_url: None,
            },
            "the label path becomes absolute; the API's tracker path is no page for customers"
        );
    }

    #[test]
    fn tracker_events_are_read_oldest_first() {
        let tracker = json!({ "status": "delivered", "events": [
            { "timestamp": "2026-11-26T16:40:00.000Z", "status": "delivered", "description": "Delivered", "code": "DL" },
            { "date": "2026-11-25", "time": "09:15 AM", "status": "in_transit", "description": "At hub" },
            { "date": "2026-11-24", "time": "18:02", "description": "Label created" },
        ]});
        let got = events(&tracker, "1Z9").expect("events");
        let seen: Vec<_> = got.iter().map(|e| (e.at.to_rfc3339(), e.status, e.message.as_str())).collect();
        assert_eq!(
            seen,
            [
                ("2026-11-24T18:02:00+00:00".to_owned(), TrackingStatus::Unknown, "Label created"),
                ("2026-11-25T09:15:00+00:00".to_owned(), TrackingStatus::InTransit, "At hub"),
                ("2026-11-26T16:40:00+00:00".to_owned(), TrackingStatus::Delivered, "Delivered"),
            ]
        );
        let bad = json!({ "events": [{ "description": "no time at all" }] });
        assert!(matches!(events(&bad, "1Z9"), Err(ConnectorError::Protocol(_))), "an unreadable time is not invented");
    }

    #[test]
    fn grams_become_kilograms() {
        assert_eq!(kilograms(800), 0.8);
        assert_eq!(kilograms(1), 0.001);
    }
}
