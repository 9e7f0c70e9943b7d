//! The two transports and the one mapping of Odoo's exceptions to the typed
//! error. JSON-2 answers errors with a 4xx/5xx status and a
//! `{name, message, arguments, context, debug}` body; JSON-RPC answers them
//! inside HTTP 200 as `{"error": {"code", "message", "data": {name,
//! message, ...}}}`. Both name the Python exception, which decides:
//! AccessDenied / AccessError → Auth; UserError, ValidationError,
//! MissingError (and other `odoo.exceptions`) → Rejected with Odoo's
//! message; anything else (a server bug, a database hiccup) → Transient.

use super::{kind, Api, Odoo, SYSTEM};
use crate::http;
use crate::Result;
use ferry_domain::ConnectorError;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The exception `name` (e.g. `odoo.exceptions.ValidationError`) and its
/// message as the typed error. `status` is the JSON-2 HTTP status, if any.
pub fn exception_error(name: &str, message: &str, status: Option<StatusCode>) -> ConnectorError {
    let short = name.rsplit('.').next().unwrap_or(name);
    let message = message.trim();
    let text = if message.is_empty() { format!("Odoo: {short}") } else { format!("Odoo: {message}") };
    match short {
        "AccessDenied" | "AccessError" | "Unauthorized" | "SessionExpiredException" => {
            ConnectorError::Auth(format!("{text} (check the API key, the database and the user's access rights)"))
        }
        "UserError" | "ValidationError" | "MissingError" | "RedirectWarning" | "LockError" => {
            ConnectorError::Rejected { message: text, fields: vec![] }
        }
        _ => match status {
            Some(s) if s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN => ConnectorError::Auth(text),
            Some(s) if s.is_client_error() => ConnectorError::Rejected { message: text, fields: vec![] },
            _ if name.starts_with("odoo.exceptions.") => ConnectorError::Rejected { message: text, fields: vec![] },
            _ => ConnectorError::Transient(text),
        },
    }
}

/// A JSON-2 error answer (status not 2xx, not 429) as the typed error.
pub fn json2_error(status: StatusCode, body: &[u8]) -> ConnectorError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let field = |f: &str| parsed.as_ref().and_then(|p| p.get(f)).and_then(Value::as_str).map(str::to_owned);
    match (field("name"), field("message")) {
        (Some(name), message) if !status.is_server_error() || name.starts_with("odoo.exceptions.") => {
            exception_error(&name, message.as_deref().unwrap_or_default(), Some(status))
        }
        (_, message) if status.is_server_error() => ConnectorError::Transient(format!(
            "Odoo answered {status}{}",
            message.map(|m| format!(": {m}")).unwrap_or_default()
        )),
        _ if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN => {
            ConnectorError::Auth(format!("Odoo refused the API key ({status})"))
        }
        _ => {
            let raw = String::from_utf8_lossy(&body[..body.len().min(200)]).trim().to_owned();
            ConnectorError::Rejected {
                message: if raw.is_empty() {
                    format!("Odoo answered {status}")
                } else {
                    format!("Odoo ({status}): {raw}")
                },
                fields: vec![],
            }
        }
    }
}

/// A JSON-RPC answer: its `result`, or its `error` as the typed error.
pub fn jsonrpc_result(body: &[u8]) -> Result<Value> {
    let v: Value = http::parse_json(SYSTEM, "a JSON-RPC answer", body)?;
    let Value::Object(mut answer) = v else {
        return Err(ConnectorError::Protocol(format!("Odoo JSON-RPC answer is {}, not an object", kind(&v))));
    };
    if let Some(error) = answer.remove("error") {
        let data = error.get("data");
        let name = data.and_then(|d| d.get("name")).and_then(Value::as_str).unwrap_or_default();
        let message = data
            .and_then(|d| d.get("message"))
            .and_then(Value::as_str)
            .or_else(|| error.get("message").and_then(Value::as_str))
            .unwrap_or_default();
        if error.get("code").and_then(Value::as_i64) == Some(100) {
            return Err(ConnectorError::Auth(format!("Odoo: session expired: {message}")));
        }
        return Err(exception_error(name, message, None));
    }
    // Odoo leaves `result` out when the method returned None.
    Ok(answer.remove("result").unwrap_or(Value::Null))
}

impl Odoo {
    /// Calls `model.method` on `ids` (a model method when `None`) with named
    /// arguments `kwargs` (a JSON object; `context` among them).
    pub(super) async fn call(&self, model: &str, method: &str, ids: Option<&[i64]>, kwargs: Value) -> Result<Value> {
        match self.api {
            Api::Json2 => {
                let mut body = kwargs;
                if let (Some(ids), Some(b)) = (ids, body.as_object_mut()) {
                    b.insert("ids".into(), json!(ids));
                }
                let url = format!("{}/json/2/{}/{}", self.base, model, method);
                let req = self
                    .client
                    .post(url)
                    .header("Authorization", format!("bearer {}", self.key))
                    .header("X-Odoo-Database", &self.database)
                    .json(&body);
                let (status, bytes) = self.send(req).await?;
                if !status.is_success() {
                    return Err(json2_error(status, &bytes));
                }
                http::parse_json(SYSTEM, &format!("an answer to {model}.{method}"), &bytes)
            }
            Api::JsonRpc => {
                let uid = self.uid().await?;
                let args = match ids {
                    Some(ids) => json!([ids]),
                    None => json!([]),
                };
                let params = json!({ "service": "object", "method": "execute_kw",
                    "args": [self.database, uid, self.key, model, method, args, kwargs] });
                let result = self.rpc(params).await;
                if matches!(result, Err(ConnectorError::Auth(_))) {
                    // The key may have been rotated: authenticate again next time.
                    *self.uid.lock().await = None;
                }
                result
            }
        }
    }

    /// The uid of `login`, authenticated once with the API key as password.
    async fn uid(&self) -> Result<i64> {
        let mut cached = self.uid.lock().await;
        if let Some(uid) = *cached {
            return Ok(uid);
        }
        let params = json!({ "service": "common", "method": "authenticate",
            "args": [self.database, self.login, self.key, {}] });
        match self.rpc(params).await? {
            Value::Number(n) if n.as_i64().is_some_and(|u| u > 0) => {
                let uid = n.as_i64().unwrap_or_default();
                *cached = Some(uid);
                Ok(uid)
            }
            Value::Bool(false) => Err(ConnectorError::Auth(format!(
                "Odoo refused login {:?} with this API key on database {:?}",
                self.login, self.database
            ))),
            other => Err(ConnectorError::Protocol(format!("Odoo authenticate answered {}, not a uid", kind(&other)))),
        }
    }

    async fn rpc(&self, params: Value) -> Result<Value> {
        let body = json!({ "jsonrpc": "2.0", "method": "call", "params": params, "id": 1 });
        let (status, bytes) = self.send(self.client.post(format!("{}/jsonrpc", self.base)).json(&body)).await?;
        if !status.is_success() {
            return Err(json2_error(status, &bytes));
        }
        jsonrpc_result(&bytes)
    }

    /// Sends with pacing; 429 and transport failures become the typed error.
    async fn send(&self, req: reqwest::RequestBuilder) -> Result<(StatusCode, Vec<u8>)> {
        let wait = self.window.wait();
        if !wait.is_zero() {
            tracing::debug!(?wait, "pacing to stay inside Odoo's rate-limit window");
            tokio::time::sleep(wait).await;
        }
        let resp = req.send().await.map_err(|e| http::transport_error(SYSTEM, &e))?;
        if let Some((limit, remaining, reset)) = http::rate_limit_window(resp.headers()) {
            self.window.observe(limit, remaining, reset);
        }
        let status = resp.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(ConnectorError::RateLimited { retry_after: http::rate_limit_wait(resp.headers()) });
        }
        let bytes = http::read_body(SYSTEM, resp).await?;
        Ok((status, bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceptions_map_to_actions() {
        let cases = [
            ("odoo.exceptions.AccessDenied", "auth"),
            ("odoo.exceptions.AccessError", "auth"),
            ("odoo.exceptions.ValidationError", "rejected"),
            ("odoo.exceptions.UserError", "rejected"),
            ("odoo.exceptions.MissingError", "rejected"),
            ("builtins.ValueError", "transient"),
            ("psycopg2.errors.SerializationFailure", "transient"),
        ];
        for (name, code) in cases {
            assert_eq!(exception_error(name, "m", None).code(), code, "{name}");
        }
        match exception_error("odoo.exceptions.ValidationError", "The field 'email' is required.", None) {
            ConnectorError::Rejected { message, .. } => assert_eq!(message, "Odoo: The field 'email' is required."),
            other => panic!("expected Rejected, got {other:?}"),
        }
    }

    #[test]
    fn json2_error_bodies_map_to_actions() {
        let unauthorized = br#"{"name":"werkzeug.exceptions.Unauthorized","message":"Invalid apikey","arguments":["Invalid apikey",401],"context":{},"debug":""}"#;
        assert!(matches!(json2_error(StatusCode::UNAUTHORIZED, unauthorized), ConnectorError::Auth(_)));
        let user = br#"{"name":"odoo.exceptions.UserError","message":"You need to add a line before posting."}"#;
        assert_eq!(
            json2_error(StatusCode::UNPROCESSABLE_ENTITY, user),
            ConnectorError::Rejected { message: "Odoo: You need to add a line before posting.".into(), fields: vec![] }
        );
        let bug = br#"{"name":"builtins.ValueError","message":"Invalid field 'mobile' on model 'res.partner'"}"#;
        assert!(
            matches!(json2_error(StatusCode::INTERNAL_SERVER_ERROR, bug), ConnectorError::Transient(m) if m.contains("mobile"))
        );
        assert!(matches!(json2_error(StatusCode::BAD_GATEWAY, b"<html>"), ConnectorError::Transient(_)));
        assert!(matches!(json2_error(StatusCode::BAD_REQUEST, b"<html>oops"), ConnectorError::Rejected { .. }));
        assert!(matches!(json2_error(StatusCode::FORBIDDEN, b""), ConnectorError::Auth(_)));
    }

    #[test]
    fn jsonrpc_errors_inside_200_are_typed() {
        let body = br#"{"jsonrpc":"2.0","id":1,"error":{"code":200,"message":"Odoo Server Error","data":{"name":"odoo.exceptions.ValidationError","message":"Bad VAT","arguments":["Bad VAT"],"debug":""}}}"#;
        assert_eq!(
            jsonrpc_result(body),
            Err(ConnectorError::Rejected { message: "Odoo: Bad VAT".into(), fields: vec![] })
        );
        let denied = br#"{"jsonrpc":"2.0","id":1,"error":{"code":200,"message":"Odoo Server Error","data":{"name":"odoo.exceptions.AccessDenied","message":"Access Denied"}}}"#;
        assert!(matches!(jsonrpc_result(denied), Err(ConnectorError::Auth(_))));
        assert_eq!(jsonrpc_result(br#"{"jsonrpc":"2.0","id":1,"result":[1]}"#), Ok(json!([1])));
        assert_eq!(jsonrpc_result(br#"{"jsonrpc":"2.0","id":1}"#), Ok(Value::Null), "None leaves result out");
        assert!(matches!(jsonrpc_result(br#"{"jsonrpc":"2.0","#), Err(ConnectorError::Protocol(_))));
    }
}
