//! EasyPost API v2 emulator: shipments (create, retrieve, list, buy) and
//! trackers, under `/easypost/v2`.
//!
//! Follows the vendor's docs:
//! - https://docs.easypost.com/docs/authentication — HTTP Basic auth, the API
//!   key as user name and no password;
//! - https://docs.easypost.com/docs/shipments — `POST /shipments` with
//!   `{"shipment": {to_address, from_address, parcel, reference}}` answers
//!   the shipment with its `rates` (`rate` is text); `POST
//!   /shipments/{id}/buy` with `{"rate": {"id": ...}}` fills
//!   `selected_rate`, `postage_label.label_url`, `tracking_code` and
//!   `tracker` (with `public_url`); weights are ounces;
//! - https://docs.easypost.com/docs/pagination — lists newest first as
//!   `{"shipments": [...], "has_more": ...}`, `page_size` up to 100
//!   (default 20), `before_id`, `start_datetime` / `end_datetime`;
//! - https://docs.easypost.com/docs/trackers — `status` (`pre_transit`,
//!   `in_transit`, `out_for_delivery`, `delivered`, `available_for_pickup`,
//!   `return_to_sender`, `failure`, `cancelled`, `error`, `unknown`) and
//!   `tracking_details` of `{status, message, datetime}`, oldest first;
//!   `GET /trackers?tracking_code=` and `GET /trackers/{id}`;
//! - https://docs.easypost.com/docs/errors — `{"error": {code, message,
//!   errors: [{field, message, suggestion}]}}`, 422 for data it cannot use;
//! - https://docs.easypost.com/guides/rate-limiting-guide — 429 Too Many
//!   Requests.
//!
//! Buying a shipment twice answers 422 `SHIPMENT.POSTAGE.EXISTS`, the code
//! EasyPost sends (as its client libraries' recorded responses show). The
//! emulator is stricter than EasyPost in one way: a `page_size` outside
//! 1..=100 or an unknown `before_id` is refused, not silently adjusted.

// Helpers return ready-made EasyPost error responses as their `Err`.
#![allow(clippy::result_large_err)]

use crate::faults::PageTrouble;
use crate::Sim;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The emulated EasyPost account: its shipments, in creation order.
pub struct EasyPostSim {
    /// The `Authorization` header the account's key gives.
    auth: String,
    book: Mutex<Book>,
    pub faults: crate::Faults,
}

/// A shipment as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EasyPostShipment {
    pub id: String,
    pub reference: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Set once a label was bought.
    pub tracking_code: Option<String>,
    /// The service of the bought rate.
    pub service: Option<String>,
    /// The tracker's current status, once bought.
    pub status: Option<String>,
}

#[derive(Default)]
struct Book {
    shipments: Vec<Stored>,
    seq: u64,
}

impl Book {
    fn next_id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}_{:032x}", self.seq)
    }
}

struct Stored {
    id: String,
    seq: u64,
    reference: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    to_address: Value,
    from_address: Value,
    parcel: Value,
    rates: Vec<Rate>,
    purchase: Option<Purchase>,
    /// `options.print_custom_1` as sent (text printed on the label).
    print_custom_1: Option<String>,
}

#[derive(Clone)]
struct Rate {
    id: String,
    service: &'static str,
    /// Dollars as text, as EasyPost sends them.
    rate: String,
    delivery_days: u32,
}

struct Purchase {
    rate: Rate,
    at: DateTime<Utc>,
    label_id: String,
    tracking_code: String,
    tracker_id: String,
    status: String,
    details: Vec<Detail>,
}

struct Detail {
    status: String,
    message: String,
    datetime: DateTime<Utc>,
}

const CARRIER: &str = "USPS";
/// (service, cents, cents per ounce, days) of the rates every shipment gets.
const SERVICES: &[(&str, i64, f64, u32)] =
    &[("GroundAdvantage", 500, 12.0, 4), ("Priority", 750, 20.0, 2), ("Express", 2800, 40.0, 1)];

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl EasyPostSim {
    pub(crate) fn new() -> Self {
        let credentials = format!("{}:", crate::DEMO_EASYPOST_KEY);
        Self {
            auth: format!("Basic {}", base64(credentials.as_bytes())),
            book: Mutex::new(Book::default()),
            faults: crate::Faults::default(),
        }
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every shipment, oldest first.
    pub fn shipments(&self) -> Vec<EasyPostShipment> {
        self.book()
            .shipments
            .iter()
            .map(|s| EasyPostShipment {
                id: s.id.clone(),
                reference: s.reference.clone(),
                created_at: s.created_at,
                tracking_code: s.purchase.as_ref().map(|p| p.tracking_code.clone()),
                service: s.purchase.as_ref().map(|p| p.rate.service.to_owned()),
                status: s.purchase.as_ref().map(|p| p.status.clone()),
            })
            .collect()
    }

    /// How many labels were bought for `reference` (more than one costs
    /// the shop money).
    pub fn purchased_count(&self, reference: &str) -> usize {
        self.book()
            .shipments
            .iter()
            .filter(|s| s.purchase.is_some() && s.reference.as_deref() == Some(reference))
            .count()
    }

    /// The carrier scans the parcel: appends a tracking detail with
    /// `status` (one of the documented tracker statuses) and `message`.
    /// Returns false when no bought shipment has `tracking_code`.
    pub fn advance(&self, tracking_code: &str, status: &str, message: &str) -> bool {
        let mut book = self.book();
        let Some(s) =
            book.shipments.iter_mut().find(|s| s.purchase.as_ref().is_some_and(|p| p.tracking_code == tracking_code))
        else {
            return false;
        };
        let Some(p) = s.purchase.as_mut() else { return false };
        // Scans are seconds apart, so "oldest first" is never a tie.
        let last = p.details.last().map_or(p.at, |d| d.datetime);
        let datetime = Utc::now().max(last + Duration::seconds(1));
        p.details.push(Detail { status: status.to_owned(), message: message.to_owned(), datetime });
        p.status = status.to_owned();
        s.updated_at = datetime;
        true
    }

    /// Moves every parcel still on its way one scan further: pre-transit,
    /// in transit, out for delivery, then delivered — except every
    /// `fail_every`th parcel (0: none), whose delivery fails.
    pub fn move_parcels(&self, fail_every: usize) {
        let codes: Vec<(usize, String, String)> = {
            let book = self.book();
            book.shipments
                .iter()
                .filter_map(|s| s.purchase.as_ref())
                .enumerate()
                .map(|(i, p)| (i, p.tracking_code.clone(), p.status.clone()))
                .collect()
        };
        for (i, code, status) in codes {
            let fails = fail_every > 0 && (i + 1) % fail_every == 0;
            let next = match status.as_str() {
                "pre_transit" => Some(("in_transit", "Arrived at the sorting centre")),
                "in_transit" => Some(("out_for_delivery", "Out for delivery")),
                "out_for_delivery" if fails => Some(("failure", "Recipient not at home, no safe place to leave it")),
                "out_for_delivery" => Some(("delivered", "Delivered")),
                _ => None,
            };
            if let Some((status, message)) = next {
                self.advance(&code, status, message);
            }
        }
    }

    /// A shipment someone made outside Ferry (in the EasyPost dashboard),
    /// created at `created_at`, bought when `purchased`. Returns its id.
    pub fn insert_shipment(&self, reference: &str, created_at: DateTime<Utc>, purchased: bool) -> String {
        let address = json!({ "name": "Dashboard User", "street1": "1 Test St", "city": "Springfield", "zip": "12345", "country": "US" });
        let mut book = self.book();
        let mut stored =
            new_shipment(&mut book, Some(reference.to_owned()), address.clone(), address, 16.0, created_at);
        if purchased {
            let rate = stored.rates[0].clone();
            stored.purchase = Some(purchase(&mut book, rate, created_at));
        }
        let id = stored.id.clone();
        book.shipments.push(stored);
        id
    }

    fn create(&self, body: &[u8]) -> Response {
        let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(body) else {
            return ep_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "The request body is not a JSON object.", vec![]);
        };
        let Some(Value::Object(shipment)) = request.get("shipment") else {
            return ep_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "PARAMETER.REQUIRED",
                "Missing required parameter.",
                vec![field("shipment", "cannot be blank")],
            );
        };
        let mut problems = Problems::default();
        let to = problems.address(shipment, "to_address");
        let from = problems.address(shipment, "from_address");
        let weight = match shipment.get("parcel").and_then(|p| p.get("weight")) {
            None | Some(Value::Null) => {
                problems.missing("parcel.weight");
                None
            }
            Some(w) => match w.as_f64().or_else(|| w.as_str().and_then(|s| s.trim().parse().ok())) {
                Some(w) if w.is_finite() && w > 0.0 => Some(w),
                _ => {
                    problems.invalid("parcel.weight", "must be a number of ounces greater than 0");
                    None
                }
            },
        };
        let reference = match shipment.get("reference") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                problems.invalid("reference", "must be a string");
                None
            }
        };
        let (Some(to), Some(from), Some(weight)) = (to, from, weight) else {
            return problems.into_response();
        };
        if !problems.errors.is_empty() {
            return problems.into_response();
        }
        let print_custom_1 =
            shipment.get("options").and_then(|o| o.get("print_custom_1")).and_then(Value::as_str).map(str::to_owned);
        let mut book = self.book();
        let mut stored = new_shipment(&mut book, reference, to, from, weight, Utc::now());
        stored.print_custom_1 = print_custom_1;
        let body = render(&stored);
        book.shipments.push(stored);
        (StatusCode::CREATED, Json(body)).into_response()
    }

    fn buy(&self, id: &str, body: &[u8]) -> Response {
        let rate_id = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("rate")?.get("id")?.as_str().map(str::to_owned));
        let mut book = self.book();
        let Some(index) = book.shipments.iter().position(|s| s.id == id) else {
            return not_found();
        };
        if book.shipments[index].purchase.is_some() {
            return ep_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "SHIPMENT.POSTAGE.EXISTS",
                "Postage already exists for this shipment.",
                vec![],
            );
        }
        let Some(rate_id) = rate_id else {
            return ep_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "PARAMETER.REQUIRED",
                "Missing required parameter.",
                vec![field("rate", "cannot be blank")],
            );
        };
        let Some(rate) = book.shipments[index].rates.iter().find(|r| r.id == rate_id).cloned() else {
            return ep_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "PARAMETER.INVALID",
                "Invalid parameter.",
                vec![field("rate.id", "is not a rate of this shipment")],
            );
        };
        let now = Utc::now();
        let bought = purchase(&mut book, rate, now);
        let stored = &mut book.shipments[index];
        stored.purchase = Some(bought);
        stored.updated_at = now;
        Json(render(stored)).into_response()
    }

    fn read(&self, id: &str) -> Response {
        match self.book().shipments.iter().find(|s| s.id == id) {
            Some(s) => Json(render(s)).into_response(),
            None => not_found(),
        }
    }

    fn list(&self, q: &HashMap<String, String>) -> Response {
        let page_size = match page_size(q) {
            Ok(n) => n,
            Err(r) => return r,
        };
        let (start, end) = match (datetime_param(q, "start_datetime"), datetime_param(q, "end_datetime")) {
            (Ok(s), Ok(e)) => (s, e),
            (Err(r), _) | (_, Err(r)) => return r,
        };
        let purchased = q.get("purchased").map(|p| p == "true");
        let trouble = self.faults.page_trouble(!q.contains_key("before_id"));
        if trouble == PageTrouble::Shift {
            // Someone makes a shipment in the dashboard between two pages: newest first, it lands in front.
            self.insert_shipment("made-in-the-dashboard", Utc::now(), false);
        }
        let book = self.book();
        let mut all: Vec<&Stored> = book.shipments.iter().collect();
        all.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.seq)));
        if let Some(before) = q.get("before_id") {
            let Some(at) = all.iter().position(|s| &s.id == before).map(|at| trouble.start(at + 1)) else {
                return ep_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "PARAMETER.INVALID",
                    "Invalid parameter.",
                    vec![field("before_id", "is not a shipment of this account")],
                );
            };
            all.drain(..at);
        }
        let mut matching = all.into_iter().filter(|s| {
            start.is_none_or(|t| s.created_at >= t)
                && end.is_none_or(|t| s.created_at <= t)
                && purchased.is_none_or(|p| s.purchase.is_some() == p)
        });
        let page: Vec<Value> = matching.by_ref().take(page_size).map(render).collect();
        let has_more = matching.next().is_some();
        Json(json!({ "shipments": page, "has_more": has_more })).into_response()
    }

    fn trackers(&self, q: &HashMap<String, String>) -> Response {
        let page_size = match page_size(q) {
            Ok(n) => n,
            Err(r) => return r,
        };
        let code = q.get("tracking_code");
        let book = self.book();
        let mut all: Vec<&Stored> = book.shipments.iter().filter(|s| s.purchase.is_some()).collect();
        all.sort_by_key(|s| std::cmp::Reverse(s.purchase.as_ref().map(|p| (p.at, s.seq))));
        let mut matching = all.into_iter().filter_map(|s| {
            let p = s.purchase.as_ref()?;
            code.is_none_or(|c| *c == p.tracking_code).then(|| tracker(s, p))
        });
        let page: Vec<Value> = matching.by_ref().take(page_size).collect();
        let has_more = matching.next().is_some();
        Json(json!({ "trackers": page, "has_more": has_more })).into_response()
    }

    fn tracker(&self, id: &str) -> Response {
        let book = self.book();
        let found =
            book.shipments.iter().find_map(|s| s.purchase.as_ref().filter(|p| p.tracker_id == id).map(|p| (s, p)));
        match found {
            Some((s, p)) => Json(tracker(s, p)).into_response(),
            None => not_found(),
        }
    }
}

fn new_shipment(
    book: &mut Book,
    reference: Option<String>,
    mut to: Value,
    mut from: Value,
    ounces: f64,
    created_at: DateTime<Utc>,
) -> Stored {
    let id = book.next_id("shp");
    let seq = book.seq;
    for address in [&mut to, &mut from] {
        let address_id = book.next_id("adr");
        if let Value::Object(a) = address {
            a.insert("id".into(), json!(address_id));
            a.insert("object".into(), json!("Address"));
            a.entry("country").or_insert(json!("US"));
        }
    }
    let parcel = json!({ "id": book.next_id("prcl"), "object": "Parcel", "weight": ounces, "mode": "test" });
    let rates = SERVICES
        .iter()
        .map(|(service, base, per_ounce, days)| {
            let cents = base + (per_ounce * ounces).ceil() as i64;
            Rate {
                id: book.next_id("rate"),
                service,
                rate: format!("{}.{:02}", cents / 100, cents % 100),
                delivery_days: *days,
            }
        })
        .collect();
    Stored {
        id,
        seq,
        reference,
        created_at,
        updated_at: created_at,
        to_address: to,
        from_address: from,
        parcel,
        rates,
        purchase: None,
        print_custom_1: None,
    }
}

fn purchase(book: &mut Book, rate: Rate, at: DateTime<Utc>) -> Purchase {
    let label_id = book.next_id("pl");
    let tracker_id = book.next_id("trk");
    Purchase {
        rate,
        at,
        label_id,
        tracking_code: format!("9400{:018}", book.seq),
        tracker_id,
        status: "pre_transit".into(),
        details: vec![Detail {
            status: "pre_transit".into(),
            message: "Shipping Label Created, USPS Awaiting Item".into(),
            datetime: at,
        }],
    }
}

fn render_rate(r: &Rate, shipment_id: &str) -> Value {
    json!({ "id": r.id, "object": "Rate", "mode": "test", "carrier": CARRIER, "carrier_account_id": "ca_ferry_sim_usps",
        "service": r.service, "rate": r.rate, "currency": "USD", "delivery_days": r.delivery_days,
        "est_delivery_days": r.delivery_days, "shipment_id": shipment_id })
}

fn tracker(s: &Stored, p: &Purchase) -> Value {
    let details: Vec<Value> = p
        .details
        .iter()
        .map(|d| {
            json!({ "object": "TrackingDetail", "status": d.status, "message": d.message, "datetime": time(d.datetime),
            "source": CARRIER, "tracking_location": { "object": "TrackingLocation", "city": null, "state": null, "country": null, "zip": null } })
        })
        .collect();
    json!({ "id": p.tracker_id, "object": "Tracker", "mode": "test", "tracking_code": p.tracking_code, "status": p.status,
        "carrier": CARRIER, "shipment_id": s.id, "public_url": format!("https://track.easypost.invalid/{}", p.tracker_id),
        "tracking_details": details, "created_at": time(p.at),
        "updated_at": time(p.details.last().map_or(p.at, |d| d.datetime)) })
}

/// The shipment's options: what was sent, with EasyPost's defaults.
fn options(s: &Stored) -> Value {
    let mut o = json!({ "currency": "USD", "payment": { "type": "SENDER" } });
    if let Some(text) = &s.print_custom_1 {
        o["print_custom_1"] = json!(text);
    }
    o
}

fn render(s: &Stored) -> Value {
    let p = s.purchase.as_ref();
    json!({
        "id": s.id, "object": "Shipment", "mode": "test", "reference": s.reference,
        "created_at": time(s.created_at), "updated_at": time(s.updated_at),
        "status": p.map_or("unknown", |p| p.status.as_str()),
        "to_address": s.to_address, "from_address": s.from_address,
        "return_address": s.from_address, "buyer_address": s.to_address,
        "parcel": s.parcel, "customs_info": null, "insurance": null, "is_return": false,
        "messages": [], "options": options(s),
        "rates": s.rates.iter().map(|r| render_rate(r, &s.id)).collect::<Vec<_>>(),
        "selected_rate": p.map(|p| render_rate(&p.rate, &s.id)),
        "postage_label": p.map(|p| json!({ "id": p.label_id, "object": "PostageLabel", "label_date": time(p.at),
            "label_file_type": "image/png", "label_size": "4x6",
            "label_url": format!("https://easypost-files.invalid/postage_label/{}.png", p.label_id) })),
        "tracking_code": p.map(|p| p.tracking_code.clone()),
        "tracker": p.map(|p| tracker(s, p)),
        "fees": [], "forms": [], "refund_status": null, "batch_id": null,
    })
}

/// Field errors of one request, answered together.
#[derive(Default)]
struct Problems {
    errors: Vec<Value>,
    missing: bool,
}

impl Problems {
    fn missing(&mut self, name: &str) {
        self.missing = true;
        self.errors.push(field(name, "cannot be blank"));
    }

    fn invalid(&mut self, name: &str, message: &str) {
        self.errors.push(field(name, message));
    }

    /// The address at `key`, if it has what a label needs.
    fn address(&mut self, shipment: &Map<String, Value>, key: &str) -> Option<Value> {
        let Some(Value::Object(a)) = shipment.get(key) else {
            self.missing(key);
            return None;
        };
        let before = self.errors.len();
        for required in ["street1", "city", "zip"] {
            if a.get(required).and_then(Value::as_str).is_none_or(|v| v.trim().is_empty()) {
                self.missing(&format!("{key}.{required}"));
            }
        }
        (self.errors.len() == before).then(|| Value::Object(a.clone()))
    }

    fn into_response(self) -> Response {
        let (code, message) = if self.missing {
            ("PARAMETER.REQUIRED", "Missing required parameter.")
        } else {
            ("PARAMETER.INVALID", "Invalid parameter.")
        };
        ep_error(StatusCode::UNPROCESSABLE_ENTITY, code, message, self.errors)
    }
}

fn field(name: &str, message: &str) -> Value {
    json!({ "field": name, "message": message, "suggestion": null })
}

/// An EasyPost error response.
fn ep_error(status: StatusCode, code: &str, message: &str, errors: Vec<Value>) -> Response {
    (status, Json(json!({ "error": { "code": code, "message": message, "errors": errors } }))).into_response()
}

fn not_found() -> Response {
    ep_error(StatusCode::NOT_FOUND, "NOT_FOUND", "The requested resource could not be found.", vec![])
}

fn page_size(q: &HashMap<String, String>) -> Result<usize, Response> {
    match q.get("page_size").map(|s| s.parse::<usize>()) {
        None => Ok(20),
        Some(Ok(n @ 1..=100)) => Ok(n),
        Some(_) => Err(ep_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "PARAMETER.INVALID",
            "Invalid parameter.",
            vec![field("page_size", "must be between 1 and 100")],
        )),
    }
}

/// An ISO 8601 time or date parameter.
fn datetime_param(q: &HashMap<String, String>, key: &str) -> Result<Option<DateTime<Utc>>, Response> {
    let Some(raw) = q.get(key) else { return Ok(None) };
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    match NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)) {
        Some(t) => Ok(Some(t.and_utc())),
        None => Err(ep_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "PARAMETER.INVALID",
            "Invalid parameter.",
            vec![field(key, "must be an ISO 8601 date or time")],
        )),
    }
}

/// Standard base64 with padding (for the expected Basic credentials).
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(crate) fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/v2/shipments", get(list_shipments).post(create_shipment))
        .route("/v2/shipments/{id}", get(read_shipment))
        .route("/v2/shipments/{id}/buy", post(buy_shipment))
        .route("/v2/trackers", get(list_trackers))
        .route("/v2/trackers/{id}", get(read_tracker))
}

/// Checks auth and the fault knobs. `Err` is the answer to send now;
/// `Ok(Some(d))` means answer only after `d` (past a client's timeout).
async fn guard(ep: &EasyPostSim, headers: &HeaderMap) -> Result<Option<std::time::Duration>, Response> {
    let auth_ok = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(ep.auth.as_str());
    if !auth_ok || ep.faults.auth_revoked() {
        return Err(ep_error(
            StatusCode::UNAUTHORIZED,
            "APIKEY.INACTIVE",
            "This api key is no longer active. Please use a different api key or reactivate this key.",
            vec![],
        ));
    }
    crate::faults::before_work(&ep.faults, rate_limited).await
}

fn rate_limited() -> Response {
    let mut r = ep_error(
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        "You have exceeded the rate limit. Please reduce your request rate and try again.",
        vec![],
    );
    r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    r
}

/// Every handler's frame, as ERPNext's: counts the request in flight,
/// applies auth and the fault knobs, does the work, loses the answer to a
/// committed write when told to (the case that buys two labels in naive
/// clients), cuts a body short when told to, and answers late after the
/// work when chaos says so.
async fn serve(sim: &Sim, headers: &HeaderMap, write: bool, work: impl FnOnce() -> Response) -> Response {
    let ep = &sim.easypost;
    let _in_flight = ep.faults.enter();
    let slow = match guard(ep, headers).await {
        Ok(slow) => slow,
        Err(r) => return r,
    };
    let corrupt = ep.faults.take_malformed();
    let response = work();
    crate::faults::after_work(&ep.faults, write, corrupt, slow, response).await
}

async fn create_shipment(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    serve(&sim, &headers, true, || sim.easypost.create(&body)).await
}

async fn buy_shipment(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    serve(&sim, &headers, true, || sim.easypost.buy(&id, &body)).await
}

async fn read_shipment(State(sim): State<Arc<Sim>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    serve(&sim, &headers, false, || sim.easypost.read(&id)).await
}

async fn list_shipments(
    State(sim): State<Arc<Sim>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    serve(&sim, &headers, false, || sim.easypost.list(&q)).await
}

async fn list_trackers(
    State(sim): State<Arc<Sim>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    serve(&sim, &headers, false, || sim.easypost.trackers(&q)).await
}

async fn read_tracker(State(sim): State<Arc<Sim>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    serve(&sim, &headers, false, || sim.easypost.tracker(&id)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RunningSim, SimOptions};

    #[test]
    fn base64_matches_the_rfc_examples() {
        let cases = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")];
        for (raw, encoded) in cases {
            assert_eq!(base64(raw.as_bytes()), encoded, "RFC 4648 test vector {raw:?}");
        }
    }

    async fn start() -> (RunningSim, reqwest::Client, String) {
        let sim = RunningSim::start(SimOptions::default()).await.expect("emulator starts");
        let base = format!("{}/v2", sim.easypost_url());
        (sim, reqwest::Client::new(), base)
    }

    fn shipment(reference: &str) -> Value {
        let address =
            json!({ "name": "Ada", "street1": "1 Main St", "city": "Berlin", "zip": "10115", "country": "DE" });
        json!({ "shipment": { "reference": reference, "to_address": address, "from_address": address, "parcel": { "weight": 10.0 } } })
    }

    async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let resp = req.basic_auth(crate::DEMO_EASYPOST_KEY, None::<&str>).send().await.expect("answer");
        let status = StatusCode::from_u16(resp.status().as_u16()).expect("status");
        (status, resp.json().await.expect("JSON body"))
    }

    #[tokio::test]
    async fn a_wrong_key_is_refused_with_an_easypost_error() {
        let (_sim, client, base) = start().await;
        let resp = client.get(format!("{base}/shipments")).basic_auth("EZTK_wrong", None::<&str>).send().await;
        let resp = resp.expect("answer");
        assert_eq!(resp.status().as_u16(), 401);
        let body: Value = resp.json().await.expect("JSON");
        assert_eq!(body["error"]["code"], "APIKEY.INACTIVE", "EasyPost's error shape, not a bare status");
    }

    #[tokio::test]
    async fn buying_twice_is_refused_and_the_label_is_kept() {
        let (sim, client, base) = start().await;
        let (status, created) = send(client.post(format!("{base}/shipments")).json(&shipment("DN-1"))).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(created["rates"].as_array().map(Vec::len), Some(3));
        assert!(created["tracking_code"].is_null(), "no tracking before a label is bought");
        let id = created["id"].as_str().expect("id");
        let buy = json!({ "rate": { "id": created["rates"][0]["id"] } });
        let (status, bought) = send(client.post(format!("{base}/shipments/{id}/buy")).json(&buy)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(bought["postage_label"]["label_url"].is_string());
        let (status, again) = send(client.post(format!("{base}/shipments/{id}/buy")).json(&buy)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(again["error"]["code"], "SHIPMENT.POSTAGE.EXISTS");
        assert_eq!(sim.sim.easypost.purchased_count("DN-1"), 1, "a refused second buy costs nothing");
    }

    #[tokio::test]
    async fn lists_page_newest_first_with_before_id() {
        let (sim, client, base) = start().await;
        let now = Utc::now();
        for i in 0..5 {
            sim.sim.easypost.insert_shipment(&format!("R{i}"), now - Duration::days(5 - i), false);
        }
        let (_, first) = send(client.get(format!("{base}/shipments?page_size=2"))).await;
        let refs = |page: &Value| -> Vec<String> {
            page["shipments"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["reference"].as_str().map(str::to_owned))
                .collect()
        };
        assert_eq!(refs(&first), ["R4", "R3"], "newest first");
        assert_eq!(first["has_more"], true);
        let last = first["shipments"][1]["id"].as_str().expect("id");
        let (_, second) = send(client.get(format!("{base}/shipments?page_size=2&before_id={last}"))).await;
        assert_eq!(refs(&second), ["R2", "R1"]);
        let since = (now - Duration::days(3)).to_rfc3339_opts(SecondsFormat::Secs, true);
        let (_, recent) = send(client.get(format!("{base}/shipments")).query(&[("start_datetime", since)])).await;
        assert_eq!(refs(&recent), ["R4", "R3", "R2"], "start_datetime bounds the window");
        assert_eq!(recent["has_more"], false);
        let (status, _) = send(client.get(format!("{base}/shipments?page_size=101"))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "EasyPost allows at most 100 a page");
    }

    #[tokio::test]
    async fn a_bad_address_names_its_fields() {
        let (sim, client, base) = start().await;
        let mut bad = shipment("DN-2");
        bad["shipment"]["to_address"]["street1"] = json!("");
        bad["shipment"]["parcel"]["weight"] = json!(0);
        let (status, body) = send(client.post(format!("{base}/shipments")).json(&bad)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> =
            body["error"]["errors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str()).collect();
        assert_eq!(fields, ["to_address.street1", "parcel.weight"]);
        assert!(sim.sim.easypost.shipments().is_empty(), "nothing is created from a refused request");
    }
}
