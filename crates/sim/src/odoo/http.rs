//! The emulator's HTTP face: JSON-2 (`POST /json/2/<model>/<method>`,
//! bearer key, `X-Odoo-Database`, errors as 4xx/5xx JSON) and JSON-RPC
//! (`POST /jsonrpc`, `common.authenticate` / `login`, `object.execute_kw`,
//! errors inside HTTP 200), each request framed by the fault knobs. See
//! the parent module for the docs followed.

// Handlers return ready-made Odoo error responses as their `Err`.
#![allow(clippy::result_large_err)]

use super::{methods, OdooError, OdooSim, DEMO_ODOO_DB, DEMO_ODOO_KEY, DEMO_ODOO_LOGIN, UID};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// `/json/2/<model>/<method>` and `/jsonrpc`, with this emulator's own state.
pub fn router(state: Arc<OdooSim>) -> Router {
    Router::new()
        .route("/json/2/{model}/{method}", post(json2))
        .route("/jsonrpc", post(jsonrpc))
        .route("/web/version", get(version))
        .with_state(state)
}

/// An Odoo emulator serving on loopback by itself. Dropping it stops the server.
pub struct RunningOdoo {
    pub sim: Arc<OdooSim>,
    pub addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl RunningOdoo {
    /// Seeds (from `seed::catalog(opts.seed)`) and serves on `127.0.0.1:opts.port` (0 picks a free port).
    pub async fn start(opts: &crate::SimOptions) -> std::io::Result<Self> {
        let sim = Arc::new(OdooSim::seeded(opts, &crate::seed::catalog(opts.seed)));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port)).await?;
        let addr = listener.local_addr()?;
        let app = router(sim.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("Odoo emulator stopped: {e}");
            }
        });
        Ok(Self { sim, addr, task })
    }

    /// The base URL a connector is given.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningOdoo {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn version() -> Json<Value> {
    Json(json!({ "version_info": [19, 0, 0, "final", 0, ""], "version": "19.0" }))
}

/// Applies the fault knobs. `Err` is the answer to send now; `Ok(Some(d))`
/// means answer only after `d`.
async fn guard(sim: &OdooSim) -> Result<Option<std::time::Duration>, Response> {
    crate::faults::before_work(&sim.faults, rate_limited).await
}

fn rate_limited() -> Response {
    let mut r = (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response();
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// Every request's frame: in flight count, faults, the work, a committed
/// write whose answer is lost when told to, a body cut short when told to.
async fn serve(sim: &OdooSim, write: bool, work: impl FnOnce() -> Response) -> Response {
    let _in_flight = sim.faults.enter();
    let slow = match guard(sim).await {
        Ok(slow) => slow,
        Err(r) => return r,
    };
    let corrupt = sim.faults.take_malformed();
    let mut response = work();
    for (k, v) in sim.headers.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        if let (Ok(k), Ok(v)) = (header::HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
            response.headers_mut().insert(k, v);
        }
    }
    crate::faults::after_work(&sim.faults, write, corrupt, slow, response).await
}

/// Whether a JSON-2 request carries the key and names this database (or none).
fn json2_auth(sim: &OdooSim, headers: &HeaderMap) -> Result<(), OdooError> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim());
    if key != Some(DEMO_ODOO_KEY) || sim.faults.auth_revoked() {
        return Err(OdooError::new("werkzeug.exceptions.Unauthorized", "Invalid apikey", StatusCode::UNAUTHORIZED));
    }
    match headers.get("x-odoo-database").and_then(|v| v.to_str().ok()) {
        Some(db) if db != DEMO_ODOO_DB => Err(OdooError::not_found("The requested URL was not found on the server.")),
        _ => Ok(()),
    }
}

async fn json2(
    State(sim): State<Arc<OdooSim>>,
    Path((model, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let write = !methods::is_read(&method);
    serve(&sim, write, || {
        if let Err(e) = json2_auth(&sim, &headers) {
            return e.json2();
        }
        let mut kwargs = match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(m)) => m,
            _ if body.is_empty() => Map::new(),
            _ => {
                return OdooError::new(
                    "werkzeug.exceptions.BadRequest",
                    "could not parse the body as json",
                    StatusCode::BAD_REQUEST,
                )
                .json2()
            }
        };
        let ids: Vec<i64> = kwargs
            .remove("ids")
            .and_then(|v| v.as_array().map(|a| a.iter().filter_map(Value::as_i64).collect()))
            .unwrap_or_default();
        match sim.execute(&model, &method, &ids, &kwargs) {
            Ok(v) => Json(v).into_response(),
            Err(e) => e.json2(),
        }
    })
    .await
}

/// A JSON-RPC 2.0 answer: the result, or Odoo's error, always HTTP 200.
fn rpc_answer(id: &Value, result: Result<Value, OdooError>) -> Response {
    match result {
        Ok(v) => Json(json!({ "jsonrpc": "2.0", "id": id, "result": v })).into_response(),
        Err(e) => Json(json!({ "jsonrpc": "2.0", "id": id,
            "error": { "code": 200, "message": "Odoo Server Error", "data": e.body() } }))
        .into_response(),
    }
}

async fn jsonrpc(State(sim): State<Arc<OdooSim>>, body: Bytes) -> Response {
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let params = request.get("params").cloned().unwrap_or(Value::Null);
    let service = params.get("service").and_then(Value::as_str).unwrap_or_default().to_owned();
    let method = params.get("method").and_then(Value::as_str).unwrap_or_default().to_owned();
    let args = params.get("args").and_then(Value::as_array).cloned().unwrap_or_default();
    let write = service == "object" && !methods::is_read(args.get(4).and_then(Value::as_str).unwrap_or_default());
    serve(&sim, write, || rpc_answer(&id, rpc_call(&sim, &service, &method, &args))).await
}

pub(super) fn rpc_call(sim: &OdooSim, service: &str, method: &str, args: &[Value]) -> Result<Value, OdooError> {
    let credentials_ok = |db: Option<&Value>, key: Option<&Value>| {
        db.and_then(Value::as_str) == Some(DEMO_ODOO_DB)
            && key.and_then(Value::as_str) == Some(DEMO_ODOO_KEY)
            && !sim.faults.auth_revoked()
    };
    match (service, method) {
        ("common", "version") => Ok(json!({ "server_version": "19.0", "protocol_version": 1 })),
        ("common", "authenticate" | "login") => {
            let ok = credentials_ok(args.first(), args.get(2))
                && args.get(1).and_then(Value::as_str) == Some(DEMO_ODOO_LOGIN);
            Ok(if ok { json!(UID) } else { json!(false) })
        }
        ("object", "execute_kw") => {
            if !credentials_ok(args.first(), args.get(2)) || args.get(1).and_then(Value::as_i64) != Some(UID) {
                return Err(OdooError::access_denied());
            }
            let (Some(model), Some(name)) = (args.get(3).and_then(Value::as_str), args.get(4).and_then(Value::as_str))
            else {
                return Err(OdooError::type_error(
                    "execute_kw() missing required positional arguments: 'model' and 'method'",
                ));
            };
            let positional = args.get(5).and_then(Value::as_array).cloned().unwrap_or_default();
            let mut kwargs = args.get(6).and_then(Value::as_object).cloned().unwrap_or_default();
            let (on_records, names) = methods::positional_names(name);
            let mut rest = positional.iter();
            let ids: Vec<i64> = if on_records {
                rest.next()
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_i64).collect())
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            for (value, key) in rest.zip(names.iter()) {
                kwargs.insert((*key).to_owned(), value.clone());
            }
            sim.execute(model, name, &ids, &kwargs)
        }
        _ => Err(OdooError::not_found(format!("No such service or method: {service}.{method}"))),
    }
}
