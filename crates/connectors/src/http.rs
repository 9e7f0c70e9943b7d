//! The HTTP layer every connector shares: one client with timeouts, status
//! codes mapped to the typed error, `Retry-After` honoured, bodies capped so
//! a runaway response cannot exhaust memory.

use ferry_domain::ConnectorError;
use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use std::time::Duration;

/// Bodies larger than this are refused, not read whole.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Default time a request may take, connect to last byte.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds the shared client: rustls, at most 10 s to connect, `timeout` overall.
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .timeout(timeout)
        .user_agent(concat!("Ferry/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// The `timeout_secs` setting (1 to 300), or the default.
pub fn timeout_setting(settings: &serde_json::Value) -> Result<Duration, crate::SettingsError> {
    match settings.get("timeout_secs") {
        None => Ok(DEFAULT_TIMEOUT),
        Some(v) => match v.as_f64() {
            Some(s) if (0.1..=300.0).contains(&s) => Ok(Duration::from_secs_f64(s)),
            _ => Err(crate::SettingsError::BadSetting {
                key: "timeout_secs".into(),
                message: "must be a number of seconds from 0.1 to 300".into(),
            }),
        },
    }
}

/// Maps a transport failure (no response) to the typed error.
pub fn transport_error(system: &str, e: &reqwest::Error) -> ConnectorError {
    // reqwest's Display may include the URL; ours never carry secrets in URLs.
    if e.is_timeout() {
        ConnectorError::Transient(format!("{system} did not answer in time"))
    } else if e.is_connect() {
        ConnectorError::Transient(format!("cannot reach {system}: connection failed"))
    } else {
        ConnectorError::Transient(format!("{system}: {}", without_url(e)))
    }
}

fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s.replace(url.as_str(), "");
    }
    s
}

/// Parses `Retry-After` (seconds or an HTTP date); `None` if absent.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// How long until an `X-RateLimit-Reset` (seconds from now, or a Unix
/// time, as APIs differ) says the window opens again.
pub fn rate_limit_reset(headers: &HeaderMap) -> Option<Duration> {
    let v: f64 = headers.get("x-ratelimit-reset")?.to_str().ok()?.trim().parse().ok()?;
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    // Values past 2001 as a Unix time are timestamps, not durations.
    let secs = if v > 1_000_000_000.0 { v - chrono::Utc::now().timestamp() as f64 } else { v };
    Some(Duration::from_secs_f64(secs.clamp(0.0, 3600.0)))
}

/// `X-RateLimit-Limit` and `X-RateLimit-Remaining` (in whatever unit the
/// system counts: requests, or Frappe's processing time in microseconds)
/// and the time until the window resets.
pub fn rate_limit_window(headers: &HeaderMap) -> Option<(f64, f64, Duration)> {
    let num = |name: &str| -> Option<f64> {
        let v: f64 = headers.get(name)?.to_str().ok()?.trim().parse().ok()?;
        (v.is_finite() && v >= 0.0).then_some(v)
    };
    Some((num("x-ratelimit-limit")?, num("x-ratelimit-remaining")?, rate_limit_reset(headers)?))
}

/// The wait a 429 asks for: `Retry-After`, else `X-RateLimit-Reset`, else 2 s.
pub fn rate_limit_wait(headers: &HeaderMap) -> Duration {
    retry_after(headers).or_else(|| rate_limit_reset(headers)).unwrap_or(Duration::from_secs(2))
}

/// Maps a status that is not a success and needs no body to decide:
/// 429, 5xx, 401/403. Other statuses return `None` (the caller reads the body).
pub fn classify_status(system: &str, status: StatusCode, headers: &HeaderMap) -> Option<ConnectorError> {
    match status {
        StatusCode::TOO_MANY_REQUESTS => {
            Some(ConnectorError::RateLimited { retry_after: retry_after(headers).unwrap_or(Duration::from_secs(2)) })
        }
        StatusCode::UNAUTHORIZED => Some(ConnectorError::Auth(format!("{system} refused the credentials (401)"))),
        s if s.is_server_error() => Some(ConnectorError::Transient(format!("{system} answered {s}"))),
        _ => None,
    }
}

/// Reads the body, at most `MAX_BODY_BYTES`: a larger one is refused as
/// soon as its `Content-Length` says so, or once that much has arrived;
/// the rest is never read.
pub async fn read_body(system: &str, mut resp: Response) -> Result<Vec<u8>, ConnectorError> {
    // The HTTP log (FERRY_LOG=debug): the address with its secrets
    // redacted, never a header.
    tracing::debug!(target: "ferry::http", system, status = resp.status().as_u16(), url = %redacted(resp.url()), "answer");
    if resp.content_length().is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large(system));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport_error(system, &e))? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large(system));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Query parameters whose values are secrets in some API (WooCommerce's
/// consumer key and secret, tokens, signatures): logged as `REDACTED`.
const SECRET_PARAMS: &[&str] = &["key", "secret", "token", "password", "signature", "auth", "sig", "session"];

/// `url` as the HTTP log writes it: no user name or password, and the
/// value of every parameter that may be a secret replaced.
pub fn redacted(url: &reqwest::Url) -> String {
    let mut out = url.clone();
    let _ = out.set_username("");
    let _ = out.set_password(None);
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let lower = k.to_ascii_lowercase();
                let secret = SECRET_PARAMS.iter().any(|s| lower.contains(s));
                (k.into_owned(), if secret { "REDACTED".to_owned() } else { v.into_owned() })
            })
            .collect();
        out.query_pairs_mut().clear().extend_pairs(pairs);
    }
    out.to_string()
}

fn too_large(system: &str) -> ConnectorError {
    ConnectorError::Protocol(format!(
        "the answer from {system} was larger than {} MiB; refused without reading the rest",
        MAX_BODY_BYTES / 1024 / 1024
    ))
}

/// Parses JSON, naming the system and the problem on failure: bytes that
/// are not UTF-8 (where), an empty answer, an HTML page, or the JSON error.
pub fn parse_json<T: serde::de::DeserializeOwned>(system: &str, what: &str, body: &[u8]) -> Result<T, ConnectorError> {
    let refuse = |why: String| ConnectorError::Protocol(format!("{system} sent {what} {why}"));
    if let Err(e) = std::str::from_utf8(body) {
        let at = e.valid_up_to();
        let before = String::from_utf8_lossy(&body[at.saturating_sub(40)..at]);
        let before: String = before.chars().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect();
        return Err(refuse(format!("that is not valid UTF-8 text (at byte {at}, after {before:?}); refused")));
    }
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    match start.map(|i| body[i]) {
        None => return Err(refuse("as an empty body".into())),
        Some(b'<') => return Err(refuse("as an HTML page, not JSON (a proxy or a login page in the way?)".into())),
        _ => {}
    }
    serde_json::from_slice(body).map_err(|e| refuse(format!("that is not what its API documents: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_http_log_redacts_secrets_in_addresses() {
        let url = reqwest::Url::parse(
            "https://ck_user:cs_pass@shop.example.com/wp-json/wc/v3/orders?consumer_key=ck_123&consumer_secret=cs_456&page=2&access_token=t&modified_after=2026-01-01",
        )
        .expect("url");
        let logged = redacted(&url);
        for secret in ["ck_user", "cs_pass", "ck_123", "cs_456", "access_token=t&"] {
            assert!(!logged.contains(secret), "{secret} leaked: {logged}");
        }
        assert!(
            logged.contains("page=2") && logged.contains("modified_after=2026-01-01"),
            "the rest is kept: {logged}"
        );
        assert!(logged.contains("consumer_secret=REDACTED"), "{logged}");
        assert_eq!(redacted(&reqwest::Url::parse("http://127.0.0.1:9/erp").expect("url")), "http://127.0.0.1:9/erp");
    }
    use reqwest::header::{HeaderValue, RETRY_AFTER};

    #[test]
    fn retry_after_in_seconds_and_garbage() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("2.5"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(2500)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None, "an unreadable header is ignored, not a panic");
        h.insert(RETRY_AFTER, HeaderValue::from_static("-4"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn rate_limit_reset_as_seconds_or_unix_time() {
        let mut h = HeaderMap::new();
        assert_eq!(rate_limit_wait(&h), Duration::from_secs(2), "no signal: a short default wait");
        h.insert("x-ratelimit-reset", HeaderValue::from_static("7"));
        assert_eq!(rate_limit_wait(&h), Duration::from_secs(7));
        let in_ten = (chrono::Utc::now().timestamp() + 10).to_string();
        h.insert("x-ratelimit-reset", HeaderValue::from_str(&in_ten).expect("header"));
        let w = rate_limit_wait(&h);
        assert!(w > Duration::from_secs(8) && w <= Duration::from_secs(10), "a Unix time becomes the time left: {w:?}");
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(rate_limit_wait(&h), Duration::from_secs(3), "Retry-After wins when both are sent");
    }

    #[test]
    fn unreadable_bodies_say_why() {
        let err = |body: &[u8]| match parse_json::<serde_json::Value>("ERPNext", "a list", body) {
            Err(ConnectorError::Protocol(m)) => m,
            other => panic!("expected a protocol error, got {other:?}"),
        };
        let m = err(b"{\"name\": \"Caf\xff\xfe\"}");
        assert!(m.contains("not valid UTF-8") && m.contains("at byte 13") && m.contains("Caf"), "{m}");
        assert!(err(b"  ").contains("empty"));
        assert!(err(b"<html><body>Login</body></html>").contains("HTML page"));
        assert!(err(b"{\"data\": ").contains("ERPNext sent a list that is not what its API documents"));
        assert_eq!(
            parse_json::<serde_json::Value>("X", "y", "{\"a\":\"é\"}".as_bytes()),
            Ok(serde_json::json!({"a": "é"}))
        );
    }

    /// A loopback server answering once with `head` and then `body_len`
    /// bytes (in 64 KiB writes until the client hangs up); returns its URL
    /// and how many body bytes it got out.
    fn server(head: String, body_len: usize) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}/", listener.local_addr().expect("addr"));
        let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = sent.clone();
        std::thread::spawn(move || {
            let Ok((mut conn, _)) = listener.accept() else { return };
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            if conn.write_all(head.as_bytes()).is_err() {
                return;
            }
            let chunk = vec![b' '; 64 * 1024];
            let mut left = body_len;
            while left > 0 {
                let n = left.min(chunk.len());
                if conn.write_all(&chunk[..n]).is_err() {
                    return;
                }
                counter.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
                left -= n;
            }
        });
        (url, sent)
    }

    #[tokio::test]
    async fn a_body_over_the_cap_is_refused_without_reading_it_all() {
        const FIFTY_MB: usize = 50 * 1024 * 1024;
        // Announced: refused on the header alone.
        let (url, sent) = server(format!("HTTP/1.1 200 OK\r\nContent-Length: {FIFTY_MB}\r\n\r\n"), FIFTY_MB);
        let resp = client(Duration::from_secs(10)).get(&url).send().await.expect("answered");
        match read_body("Shopify", resp).await {
            Err(ConnectorError::Protocol(m)) => {
                assert!(m.contains("the answer from Shopify was larger than 16 MiB"), "{m}")
            }
            other => panic!("expected a refusal, got {:?}", other.map(|b| b.len())),
        }
        // Not announced (HTTP/1.0 style, to the end of the connection): cut at the cap.
        let (url, sent_unannounced) = server("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".into(), FIFTY_MB);
        let resp = client(Duration::from_secs(10)).get(&url).send().await.expect("answered");
        assert!(matches!(read_body("Shopify", resp).await, Err(ConnectorError::Protocol(_))));
        tokio::time::sleep(Duration::from_millis(200)).await;
        for (case, n) in [
            ("announced", sent.load(std::sync::atomic::Ordering::SeqCst)),
            ("unannounced", sent_unannounced.load(std::sync::atomic::Ordering::SeqCst)),
        ] {
            // 16 MiB read, plus what the sockets' buffers hold (about 10 MiB on Linux).
            assert!(n < 40 * 1024 * 1024, "{case}: the server got {n} bytes out; Ferry hangs up at the cap");
        }
    }

    #[test]
    fn statuses_map_to_actions() {
        let h = HeaderMap::new();
        assert!(matches!(
            classify_status("X", StatusCode::TOO_MANY_REQUESTS, &h),
            Some(ConnectorError::RateLimited { .. })
        ));
        assert!(matches!(classify_status("X", StatusCode::BAD_GATEWAY, &h), Some(ConnectorError::Transient(_))));
        assert!(matches!(classify_status("X", StatusCode::UNAUTHORIZED, &h), Some(ConnectorError::Auth(_))));
        assert_eq!(classify_status("X", StatusCode::NOT_FOUND, &h), None, "the body decides");
    }
}
