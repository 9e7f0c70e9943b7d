//! Tryton's JSON-RPC: login, the session header, the path, typed errors and
//! the `__class__` values.
//!
//! A call is `POST /<database>/rpc/` (Tryton 7.4 and later; `/<database>/`
//! before, tried when the first answers 404 or 405) with
//! `{"method": "model.sale.sale.search_read", "params": [...], "id": n}`.
//! `common.db.login` with `[login, {"password": ...}]` answers
//! `[user_id, session, ...]`; later calls send
//! `Authorization: Session base64(login:user_id:session)`. An expired
//! session answers 401 or 403: Ferry logs in again, once. Errors come back
//! inside HTTP 200 as `{"error": [name, args]}`: `UserError` and
//! `UserWarning` (args `[message, description, ...]`) are Rejected with the
//! message — except access errors ("You are not allowed to ..."), which are
//! Auth; `LoginException` is Auth; `ConcurrencyException` is Transient; any
//! other exception arrives as `[text, traceback]` and is Transient.

use super::{Tryton, SYSTEM};
use crate::http;
use crate::Result;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use ferry_domain::ConnectorError;
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;
use std::sync::atomic::Ordering;

/// A logged-in session: the header to send and the user's context.
#[derive(Debug, Clone)]
pub(super) struct Session {
    header: String,
    pub(super) context: Value,
}

/// What one POST answered.
enum Answer {
    Result(Value),
    Expired,
}

impl Tryton {
    /// Calls `method` with `params`; the session's context (company,
    /// language) is merged under `context` and appended as the last param.
    pub(super) async fn call(&self, method: &str, mut params: Vec<Value>, context: Value) -> Result<Value> {
        for attempt in 0..2 {
            let session = self.session().await?;
            let mut ctx = session.context.clone();
            if let (Some(base), Value::Object(extra)) = (ctx.as_object_mut(), &context) {
                base.extend(extra.clone());
            }
            params.push(ctx);
            let answer = self.post(method, &params, Some(&session.header)).await?;
            params.pop();
            match answer {
                Answer::Result(v) => return Ok(v),
                Answer::Expired if attempt == 0 => {
                    tracing::info!("Tryton session expired; logging in again");
                    *self.session.lock().await = None;
                }
                Answer::Expired => break,
            }
        }
        Err(ConnectorError::Auth(format!("{SYSTEM} refused a fresh session for {:?}", self.login)))
    }

    /// The current session, logging in when there is none.
    async fn session(&self) -> Result<Session> {
        let mut slot = self.session.lock().await;
        if let Some(s) = slot.as_ref() {
            return Ok(s.clone());
        }
        let params = [json!(self.login), json!({ "password": self.password })];
        let answer = match self.post("common.db.login", &params, None).await {
            Err(ConnectorError::NotFound(_)) if !self.legacy_path.load(Ordering::Relaxed) => {
                // Tryton before 7.4 serves the database at /<database>/.
                self.legacy_path.store(true, Ordering::Relaxed);
                self.post("common.db.login", &params, None).await
            }
            other => other,
        };
        let login = match answer {
            Ok(Answer::Result(v)) => v,
            Ok(Answer::Expired) => {
                return Err(ConnectorError::Auth(format!("{SYSTEM} refused login {:?} with this password", self.login)))
            }
            Err(ConnectorError::NotFound(_)) => {
                return Err(ConnectorError::Auth(format!(
                    "{SYSTEM} at this address has no database {:?}",
                    self.database
                )))
            }
            Err(e) => return Err(e),
        };
        let (Some(user), Some(token)) = (login.get(0).and_then(Value::as_i64), login.get(1).and_then(Value::as_str))
        else {
            return Err(ConnectorError::Auth(format!("{SYSTEM} refused login {:?} with this password", self.login)));
        };
        let header = format!("Session {}", base64(format!("{}:{user}:{token}", self.login).as_bytes()));
        let prefs = match self.post("model.res.user.get_preferences", &[json!(true), json!({})], Some(&header)).await? {
            Answer::Result(Value::Object(p)) => p,
            _ => return Err(ConnectorError::Auth(format!("{SYSTEM} dropped the new session at once"))),
        };
        // The context Tryton's own clients send: the user's company and language.
        let context: serde_json::Map<String, Value> = prefs
            .into_iter()
            .filter(|(k, _)| matches!(k.as_str(), "company" | "companies" | "language" | "employee" | "employees"))
            .collect();
        let session = Session { header, context: Value::Object(context) };
        *slot = Some(session.clone());
        Ok(session)
    }

    fn endpoint(&self) -> String {
        let db = urlencoding::encode(&self.database);
        if self.legacy_path.load(Ordering::Relaxed) {
            format!("{}/{db}/", self.base)
        } else {
            format!("{}/{db}/rpc/", self.base)
        }
    }

    async fn post(&self, method: &str, params: &[Value], auth: Option<&str>) -> Result<Answer> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut req = self.client.post(self.endpoint()).json(&json!({ "method": method, "params": params, "id": id }));
        if let Some(auth) = auth {
            req = req.header(reqwest::header::AUTHORIZATION, auth);
        }
        let resp = req.send().await.map_err(|e| http::transport_error(SYSTEM, &e))?;
        let status = resp.status();
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => return Ok(Answer::Expired),
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => {
                return Err(ConnectorError::NotFound(format!("{SYSTEM} has no JSON-RPC at {}", self.endpoint())))
            }
            StatusCode::TOO_MANY_REQUESTS => {
                return Err(ConnectorError::RateLimited { retry_after: http::rate_limit_wait(resp.headers()) })
            }
            s if s.is_server_error() => return Err(ConnectorError::Transient(format!("{SYSTEM} answered {s}"))),
            s if !s.is_success() => {
                let body = http::read_body(SYSTEM, resp).await.unwrap_or_default();
                return Err(ConnectorError::Rejected {
                    message: format!("{SYSTEM} answered {s}: {}", String::from_utf8_lossy(&body).trim()),
                    fields: vec![],
                });
            }
            _ => {}
        }
        let body = http::read_body(SYSTEM, resp).await?;
        rpc_result(method, &body).map(Answer::Result)
    }
}

/// The `result` of a JSON-RPC answer, or its `error` as the typed error.
pub(super) fn rpc_result(method: &str, body: &[u8]) -> Result<Value> {
    let mut v: Value = http::parse_json(SYSTEM, "a JSON-RPC answer", body)?;
    match v.get("error") {
        None | Some(Value::Null) => Ok(v.get_mut("result").map(Value::take).unwrap_or(Value::Null)),
        Some(e) => Err(error_of(method, e)),
    }
}

fn error_of(method: &str, e: &Value) -> ConnectorError {
    let name = e.get(0).and_then(Value::as_str).unwrap_or_default();
    let args = e.get(1).unwrap_or(&Value::Null);
    let texts = |skip: usize| -> String {
        let parts: Vec<&str> = match args {
            Value::Array(a) => a.iter().skip(skip).filter_map(Value::as_str).filter(|s| !s.trim().is_empty()).collect(),
            Value::String(s) => vec![s.as_str()],
            _ => vec![],
        };
        parts.join(" — ")
    };
    match name {
        "UserError" => {
            let message = texts(0);
            if message.starts_with("You are not allowed to") {
                ConnectorError::Auth(format!("{SYSTEM}: {message}"))
            } else {
                ConnectorError::Rejected { message: format!("{SYSTEM}: {message}"), fields: vec![] }
            }
        }
        // args: [warning name, message, description]
        "UserWarning" => ConnectorError::Rejected {
            message: format!("{SYSTEM} asks a person to confirm: {}", texts(1)),
            fields: vec![],
        },
        "LoginException" => ConnectorError::Auth(format!("{SYSTEM} asks for more to log in: {}", texts(1))),
        "ConcurrencyException" => ConnectorError::Transient(format!("{SYSTEM}: {}", texts(0))),
        // Any other exception: [str(exception), traceback].
        text => ConnectorError::Transient(format!("{SYSTEM} failed on {method}: {text}")),
    }
}

/// Standard base64 with padding (the session header).
pub(super) fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A `Decimal` as Tryton's JSON sends it.
pub(super) fn enc_decimal(d: Decimal) -> Value {
    json!({ "__class__": "Decimal", "decimal": d.normalize().to_string() })
}

pub(super) fn enc_date(d: NaiveDate) -> Value {
    json!({ "__class__": "date", "year": d.year(), "month": d.month(), "day": d.day() })
}

/// A UTC time as Tryton's naive (UTC) `datetime`.
pub(super) fn enc_datetime(t: DateTime<Utc>) -> Value {
    json!({ "__class__": "datetime", "year": t.year(), "month": t.month(), "day": t.day(),
        "hour": t.hour(), "minute": t.minute(), "second": t.second(), "microsecond": t.timestamp_subsec_micros() })
}

/// A `Decimal` (or a Float field's number, or text) from an answer.
pub(super) fn dec_decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Object(o) if o.get("__class__").and_then(Value::as_str) == Some("Decimal") => {
            Decimal::from_str(o.get("decimal")?.as_str()?).ok()
        }
        Value::Number(n) => {
            Decimal::from_str(&n.to_string()).or_else(|_| Decimal::from_scientific(&n.to_string())).ok()
        }
        Value::String(s) => Decimal::from_str(s).ok(),
        _ => None,
    }
}

#[cfg(test)]
pub(super) fn dec_date(v: &Value) -> Option<NaiveDate> {
    let o = v.as_object().filter(|o| o.get("__class__").and_then(Value::as_str) == Some("date"))?;
    let n = |k: &str| o.get(k).and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok());
    NaiveDate::from_ymd_opt(i32::try_from(o.get("year")?.as_i64()?).ok()?, n("month")?, n("day")?)
}

/// A `datetime` (naive, UTC in Tryton's database) from an answer.
pub(super) fn dec_datetime(v: &Value) -> Option<DateTime<Utc>> {
    let o = v.as_object().filter(|o| o.get("__class__").and_then(Value::as_str) == Some("datetime"))?;
    let n = |k: &str| o.get(k).and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok());
    let date = NaiveDate::from_ymd_opt(i32::try_from(o.get("year")?.as_i64()?).ok()?, n("month")?, n("day")?)?;
    let time = date.and_hms_micro_opt(n("hour")?, n("minute")?, n("second")?, n("microsecond").unwrap_or(0))?;
    Some(NaiveDateTime::and_utc(&time))
}

/// `bytes` values (`{"__class__": "bytes", "base64": ...}`) are not used by
/// Ferry's models; they are left as they are.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_inside_200_are_typed() {
        let user = br#"{"id":1,"error":["UserError",["You can not call \"quote\" on \"999\" of \"Sale\".","",null]]}"#;
        assert_eq!(
            rpc_result("m", user),
            Err(ConnectorError::Rejected {
                message: "Tryton: You can not call \"quote\" on \"999\" of \"Sale\".".into(),
                fields: vec![]
            }),
            "Tryton's own message is shown"
        );
        let access = br#"{"id":1,"error":["UserError",["You are not allowed to read records of \"Sale\".","",null]]}"#;
        assert!(matches!(rpc_result("m", access), Err(ConnectorError::Auth(_))), "an access error pauses");
        let warning = br#"{"id":1,"error":["UserWarning",["w1","Stock is low","Continue?"]]}"#;
        assert!(
            matches!(rpc_result("m", warning), Err(ConnectorError::Rejected { message, .. }) if message.contains("Stock is low"))
        );
        let bug = br#"{"id":1,"error":["'res.user'",""]}"#;
        assert!(matches!(rpc_result("m", bug), Err(ConnectorError::Transient(_))));
        assert_eq!(rpc_result("m", br#"{"id":1,"result":[1,2]}"#), Ok(json!([1, 2])));
        assert!(matches!(rpc_result("m", b"<html>"), Err(ConnectorError::Protocol(_))));
    }

    #[test]
    fn class_values_round_trip() {
        let d = Decimal::new(1250, 2);
        assert_eq!(dec_decimal(&enc_decimal(d)), Some(d));
        assert_eq!(enc_decimal(d), json!({"__class__": "Decimal", "decimal": "12.5"}));
        let day = NaiveDate::from_ymd_opt(2026, 11, 26).expect("date");
        assert_eq!(dec_date(&enc_date(day)), Some(day));
        let t = day.and_hms_micro_opt(16, 36, 21, 834_424).expect("time").and_utc();
        assert_eq!(dec_datetime(&enc_datetime(t)), Some(t), "microseconds are kept");
        assert_eq!(dec_datetime(&Value::Null), None, "write_date is null until the first change");
    }

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b"admin:1:abc"), "YWRtaW46MTphYmM=");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(base64(b""), "");
    }
}
