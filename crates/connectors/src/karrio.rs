//! Karrio (a self-hosted multi-carrier shipping API) as a courier: books
//! parcels through one of the carrier connections of a Karrio server and
//! reads their tracking.
//!
//! Follows docs.karrio.io (`/reference/api/karrio-api`, `/reference/api/shipments`,
//! `/product/trackers`) and the server's own serializers: REST under `/v1`,
//! `Authorization: Token <key>`; `POST /v1/shipments` with `shipper`,
//! `recipient` and `parcels` answers a draft with its `rates`;
//! `POST /v1/shipments/{id}/purchase` with `selected_rate_id` buys one;
//! `GET /v1/shipments` lists newest first with `limit`/`offset` and filters
//! by `reference` (a substring match) and `created_after`;
//! `GET /v1/trackers/{id or tracking number}`; errors are
//! `{"errors": [{code, message, details}]}` (carrier errors
//! `{"messages": [...]}`). Weights are sent in kilograms.
//!
//! A label costs money, so booking is idempotent by our reference, stored on
//! the shipment as `reference` and as `metadata.ferry_reference`: before
//! creating, we look it up; a bought shipment is returned, a draft (its
//! create answer was lost, or its purchase failed) is bought, and only when
//! there is none is one created. A purchase refused with 409 (bought
//! meanwhile by an earlier try) is answered by re-reading the shipment.

mod wire;

use crate::http;
use crate::settings::{validate_base_url, SettingsError};
use crate::traits::Courier;
use crate::Result;
use async_trait::async_trait;
use chrono::{Duration as Days, SecondsFormat, Utc};
use ferry_domain::{Address, ConnectorError, FieldError, Shipment, ShipmentRequest, TrackingEvent};
use reqwest::StatusCode;
use serde_json::{json, Value};

pub use wire::tracking_status;

const SYSTEM: &str = "Karrio";
/// How far back a reference is looked up. Bookings are retried within
/// hours, so a month is ample.
pub const LOOKBACK_DAYS: i64 = 30;
/// Shipments per page (Karrio's default is 20).
const PAGE_SIZE: usize = 100;
/// Pages read before a lookup gives up (already filtered by reference, so
/// reaching this means something is badly wrong).
const MAX_PAGES: usize = 50;
/// Metadata key holding our reference (the `reference` field is also set;
/// this one survives if a person edits the reference in the dashboard).
const REFERENCE_KEY: &str = "ferry_reference";

/// A Karrio server and the carrier connection used on it.
pub struct Karrio {
    base: String,
    token: String,
    from: Value,
    carrier_id: Option<String>,
    carrier_name: Option<String>,
    service: Option<String>,
    client: reqwest::Client,
    /// Bookings run one at a time, so two tries of the same parcel never
    /// both see "no shipment yet" and both buy.
    booking: tokio::sync::Mutex<()>,
}

/// A failed call: the typed error and the HTTP status it came with.
struct Failure {
    status: Option<StatusCode>,
    error: ConnectorError,
}

impl From<Failure> for ConnectorError {
    fn from(f: Failure) -> Self {
        f.error
    }
}

impl From<ConnectorError> for Failure {
    fn from(error: ConnectorError) -> Self {
        Self { status: None, error }
    }
}

impl Karrio {
    /// `base_url` is the Karrio server (e.g. `https://karrio.example.com`,
    /// without `/v1`); `secret` is an API key (`key_…`). Settings: the
    /// shop's sender address `from_name`, `from_street`, `from_city`,
    /// `from_postcode` and `from_country` (ISO code, e.g. `DE`), all
    /// required; optional `from_state`, `from_phone`, `carrier_id` (the
    /// connection's id in Karrio, e.g. `dhl-main`: only its rates are
    /// fetched), `carrier_name` (e.g. `dhl_parcel_de`: only its rates are
    /// bought), `service` (bought when a request names none; otherwise the
    /// cheapest rate) and `timeout_secs`.
    pub fn new(base_url: &str, settings: &Value, secret: &str) -> Result<Self, SettingsError> {
        let base = validate_base_url(base_url)?;
        let token = secret.trim();
        let token = token.strip_prefix("Token ").unwrap_or(token).trim();
        if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(SettingsError::BadSecret(
                "Karrio expects an API key alone (key_…, from the dashboard's API keys page)".into(),
            ));
        }
        let sender = crate::settings::Sender::from_settings(settings)?;
        let text = |key: &str| crate::settings::text_setting(settings, key);
        let from = json!({
            "person_name": sender.name,
            "address_line1": sender.street,
            "city": sender.city,
            "postal_code": sender.postcode,
            "country_code": sender.country,
            "state_code": sender.state,
            "phone_number": sender.phone,
        });
        Ok(Self {
            base: base.as_str().trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            from,
            carrier_id: text("carrier_id")?,
            carrier_name: text("carrier_name")?,
            service: text("service")?,
            client: http::client(http::timeout_setting(settings)?),
            booking: tokio::sync::Mutex::new(()),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v1/{path}", self.base)
    }

    /// Sends a request with the key; returns the body of a success, or the
    /// typed error (with the status) for anything else.
    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Value, Failure> {
        let resp = req
            .header(reqwest::header::AUTHORIZATION, format!("Token {}", self.token))
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| http::transport_error(SYSTEM, &e))?;
        let status = resp.status();
        if let Some(error) = http::classify_status(SYSTEM, status, resp.headers()) {
            return Err(Failure { status: Some(status), error });
        }
        let bytes = http::read_body(SYSTEM, resp).await?;
        if !status.is_success() {
            return Err(Failure { status: Some(status), error: wire::karrio_error(status, &bytes) });
        }
        Ok(http::parse_json(SYSTEM, "an answer", &bytes)?)
    }

    /// The shipment stored with `reference` in the last `LOOKBACK_DAYS`:
    /// a bought one if any, else the newest draft. Cancelled ones are skipped.
    async fn by_reference(&self, reference: &str) -> Result<Option<Value>> {
        let since = (Utc::now() - Days::days(LOOKBACK_DAYS)).to_rfc3339_opts(SecondsFormat::Secs, true);
        let mut draft = None;
        let mut offset = 0usize;
        for _ in 0..MAX_PAGES {
            let query = [
                ("reference", reference.to_owned()),
                ("created_after", since.clone()),
                ("limit", PAGE_SIZE.to_string()),
                ("offset", offset.to_string()),
            ];
            let page: wire::ShipmentPage =
                serde_json::from_value(self.send(self.client.get(self.url("shipments")).query(&query)).await?)
                    .map_err(|e| ConnectorError::Protocol(format!("Karrio shipment list: {e}")))?;
            for s in page.results.iter().filter(|s| wire::has_reference(s, reference)) {
                if wire::is_bought(s) {
                    return Ok(Some(s.clone()));
                }
                if wire::is_draft(s) {
                    draft.get_or_insert_with(|| s.clone());
                }
            }
            match page.next {
                None => return Ok(draft),
                Some(_) if page.results.is_empty() => {
                    return Err(ConnectorError::Protocol(
                        "Karrio says more shipments follow but sent an empty page".into(),
                    ))
                }
                Some(_) => offset += page.results.len(),
            }
        }
        // Fail safe: "not found" here could buy a second label.
        Err(ConnectorError::Protocol(format!(
            "Karrio lists more than {} shipments matching {reference:?} in the last {LOOKBACK_DAYS} days; cannot confirm whether it was booked",
            MAX_PAGES * PAGE_SIZE
        )))
    }

    /// The shipment found, if bought: a draft has no label yet.
    fn bought(&self, found: Option<Value>, reference: &str) -> Result<Option<Shipment>> {
        match found {
            Some(s) if wire::is_bought(&s) => Ok(Some(wire::to_shipment(&s, &self.base, reference)?)),
            _ => Ok(None),
        }
    }

    /// The shipment stored with the request's reference, if it was booked
    /// for the request's order (`metadata.ferry_order`); see
    /// `Courier::find_booking`.
    async fn booked_for(&self, request: &ShipmentRequest) -> Result<Option<Value>> {
        let found = self.by_reference(&request.reference).await?;
        let order = found.as_ref().and_then(|s| s.pointer("/metadata/ferry_order")).and_then(Value::as_str);
        crate::traits::same_order(SYSTEM, request, order)?;
        Ok(found)
    }

    /// Creates the draft shipment with its rates (not yet bought).
    async fn create(&self, request: &ShipmentRequest) -> Result<Value> {
        // Karrio (and carriers behind it, such as its custom carrier) rates
        // and sells a label for a parcel of 0 kg: refuse it before anything
        // is bought, as EasyPost does.
        if request.weight_grams == 0 {
            return Err(ConnectorError::Rejected {
                message: format!(
                    "parcel {} has no weight; set its weight (or the ERP connection's default_parcel_grams), then replay",
                    request.reference
                ),
                fields: vec![FieldError { field: "parcel.weight".into(), message: "must be more than 0 g".into() }],
            });
        }
        let mut body = json!({
            "shipper": self.from,
            "recipient": to_address(&request.to, request.email.as_deref()),
            "parcels": [{ "weight": wire::kilograms(request.weight_grams), "weight_unit": "KG" }],
            "reference": request.reference,
            "metadata": { REFERENCE_KEY: request.reference, "ferry_order": request.order_ref },
            "label_type": "PDF",
        });
        if let Some(id) = &self.carrier_id {
            body["carrier_ids"] = json!([id]);
        }
        match self.send(self.client.post(self.url("shipments")).json(&body)).await {
            Ok(draft) => Ok(draft),
            // On a create, "not found" is the carrier connection, which a person must fix.
            Err(Failure { error: ConnectorError::NotFound(message), .. }) => Err(ConnectorError::Rejected {
                message: format!("{message} (check the carrier_id and carrier_name settings)"),
                fields: vec![],
            }),
            Err(f) => Err(f.into()),
        }
    }

    /// Buys `service` (or the cheapest rate) for the draft `shipment`.
    async fn buy(&self, shipment: &Value, service: Option<&str>) -> Result<Value> {
        let id = wire::text(shipment, "id")?;
        let rate = wire::pick_rate(shipment, service, self.carrier_name.as_deref())?;
        let url = self.url(&format!("shipments/{}/purchase", urlencoding::encode(&id)));
        match self.send(self.client.post(url).json(&json!({ "selected_rate_id": rate }))).await {
            Ok(bought) => Ok(bought),
            // Bought meanwhile (by an earlier try whose answer was lost): read it.
            Err(Failure { status: Some(StatusCode::CONFLICT), error }) => {
                let url = self.url(&format!("shipments/{}", urlencoding::encode(&id)));
                let now = self.send(self.client.get(url)).await?;
                if wire::is_bought(&now) {
                    Ok(now)
                } else {
                    Err(error)
                }
            }
            Err(f) => Err(f.into()),
        }
    }

    /// The tracker of `shipment`: through the shipment when its id is
    /// known (tracking numbers repeat across carriers), else by number.
    async fn tracker(&self, shipment: &Shipment, number: &str) -> Result<Option<Value>> {
        let key = match &shipment.id {
            Some(id) => {
                let url = self.url(&format!("shipments/{}", urlencoding::encode(id)));
                match wire::optional(&self.send(self.client.get(url)).await?, "tracker_id") {
                    Some(tracker) => tracker,
                    None => return Ok(None),
                }
            }
            None => number.to_owned(),
        };
        let url = self.url(&format!("trackers/{}", urlencoding::encode(&key)));
        match self.send(self.client.get(url)).await {
            Ok(t) => Ok(Some(t)),
            Err(Failure { error: ConnectorError::NotFound(_), .. }) => Ok(None),
            Err(f) => Err(f.into()),
        }
    }
}

#[async_trait]
impl Courier for Karrio {
    async fn find_shipment(&self, reference: &str) -> Result<Option<Shipment>> {
        self.bought(self.by_reference(reference).await?, reference)
    }

    async fn find_booking(&self, request: &ShipmentRequest) -> Result<Option<Shipment>> {
        self.bought(self.booked_for(request).await?, &request.reference)
    }

    async fn create_shipment(&self, request: &ShipmentRequest) -> Result<Shipment> {
        let _one_at_a_time = self.booking.lock().await;
        let service = request.service.as_deref().or(self.service.as_deref());
        let bought = match self.booked_for(request).await? {
            Some(s) if wire::is_bought(&s) => s,
            Some(draft) => self.buy(&draft, service).await?,
            None => {
                let draft = self.create(request).await?;
                self.buy(&draft, service).await?
            }
        };
        wire::to_shipment(&bought, &self.base, &request.reference)
    }

    /// Scans oldest first. None for a parcel without a tracking number, or
    /// whose carrier Karrio cannot track (it makes trackers only for
    /// carriers with a tracking API, e.g. not for custom carriers).
    async fn tracking(&self, shipment: &Shipment) -> Result<Vec<TrackingEvent>> {
        let Some(number) = shipment.tracking_number.as_deref() else {
            return Ok(Vec::new());
        };
        match self.tracker(shipment, number).await? {
            Some(tracker) => wire::events(&tracker, number),
            None => Ok(Vec::new()),
        }
    }
}

fn to_address(a: &Address, email: Option<&str>) -> Value {
    json!({
        "person_name": a.name, "address_line1": a.line1, "address_line2": a.line2, "city": a.city,
        "postal_code": a.postcode, "country_code": a.country.as_deref().map(str::to_ascii_uppercase),
        "phone_number": a.phone, "email": email,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Value {
        json!({ "from_name": "Demo Shop", "from_street": "Hauptstr. 1", "from_city": "Berlin",
            "from_postcode": "10115", "from_country": "de" })
    }

    #[test]
    fn settings_and_key_are_validated() {
        let url = "https://karrio.example.com/";
        let k = Karrio::new(url, &settings(), " key_abc ").expect("valid");
        assert_eq!(k.url("shipments"), "https://karrio.example.com/v1/shipments");
        assert_eq!(k.token, "key_abc");
        assert_eq!(k.from["country_code"], "DE", "country codes are upper-cased");
        assert_eq!(
            Karrio::new(url, &settings(), "Token key_abc").expect("valid").token,
            "key_abc",
            "a key pasted with its header scheme still works"
        );
        assert!(matches!(Karrio::new(url, &settings(), ""), Err(SettingsError::BadSecret(_))));
        assert!(matches!(Karrio::new(url, &settings(), "key abc"), Err(SettingsError::BadSecret(_))));
        let mut s = settings();
        s.as_object_mut().expect("object").remove("from_postcode");
        assert_eq!(
            Karrio::new(url, &s, "key_abc").err(),
            Some(SettingsError::BadSetting {
                key: "from_postcode".into(),
                message: "required: the shop's sender address is printed on every label".into()
            })
        );
        s = settings();
        s["from_country"] = json!("Germany");
        assert!(
            matches!(Karrio::new(url, &s, "key_abc"), Err(SettingsError::BadSetting { key, .. }) if key == "from_country")
        );
        s = settings();
        s["carrier_id"] = json!(7);
        assert!(
            matches!(Karrio::new(url, &s, "key_abc"), Err(SettingsError::BadSetting { key, .. }) if key == "carrier_id")
        );
        assert!(matches!(
            Karrio::new("http://karrio.example.com", &settings(), "key_abc"),
            Err(SettingsError::InsecureScheme { .. })
        ));
    }
}
