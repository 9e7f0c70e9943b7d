//! Validation of connection settings, with messages that say what and where.

use url::Url;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("the address {url:?} is not a valid URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("the address {url:?} uses {scheme}://; only https:// is allowed (http:// only for this computer, e.g. 127.0.0.1)")]
    InsecureScheme { url: String, scheme: String },
    #[error("the address must not contain a user name or password; put credentials in the secret field")]
    CredentialsInUrl,
    #[error("setting {key:?}: {message}")]
    BadSetting { key: String, message: String },
    #[error("unknown {role} kind {kind:?}")]
    UnknownKind { kind: String, role: &'static str },
    #[error("the secret is empty or malformed: {0}")]
    BadSecret(String),
}

/// Parses a base URL: https anywhere, http only for loopback hosts, no
/// credentials, no query or fragment. Returns it without a trailing slash.
pub fn validate_base_url(raw: &str) -> Result<Url, SettingsError> {
    let url =
        Url::parse(raw.trim()).map_err(|e| SettingsError::BadUrl { url: raw.to_owned(), reason: e.to_string() })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(SettingsError::CredentialsInUrl);
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        scheme => return Err(SettingsError::InsecureScheme { url: redact(&url), scheme: scheme.to_owned() }),
    }
    if url.host().is_none() {
        return Err(SettingsError::BadUrl { url: raw.to_owned(), reason: "no host".into() });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(SettingsError::BadUrl { url: redact(&url), reason: "remove the ?query or #fragment".into() });
    }
    let mut url = url;
    let trimmed = url.path().trim_end_matches('/').to_owned();
    url.set_path(&trimmed);
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn redact(url: &Url) -> String {
    format!("{}://{}{}", url.scheme(), url.host_str().unwrap_or(""), url.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_table() {
        let ok = [
            ("https://shop.example.com/", "https://shop.example.com/"),
            ("http://127.0.0.1:8080/shopify/", "http://127.0.0.1:8080/shopify"),
            ("http://localhost:9/erp", "http://localhost:9/erp"),
            ("http://[::1]:9", "http://[::1]:9/"),
        ];
        for (raw, want) in ok {
            assert_eq!(validate_base_url(raw).map(|u| u.to_string()), Ok(want.to_string()), "{raw} is allowed");
        }
        assert!(
            matches!(validate_base_url("http://shop.example.com"), Err(SettingsError::InsecureScheme { .. })),
            "plain http to another host would send the token in clear"
        );
        assert_eq!(validate_base_url("https://user:pw@shop.example.com"), Err(SettingsError::CredentialsInUrl));
        assert!(matches!(validate_base_url("shop.example.com"), Err(SettingsError::BadUrl { .. })));
        assert!(matches!(validate_base_url("ftp://127.0.0.1"), Err(SettingsError::InsecureScheme { .. })));
        let msg = validate_base_url("https://user:hunter2@x.com").expect_err("refused").to_string();
        assert!(!msg.contains("hunter2"), "the message never repeats a password: {msg}");
    }
}

/// An optional text setting (`None` when absent, null or blank); `Err` when
/// it is there but not text.
pub fn text_setting(settings: &serde_json::Value, key: &str) -> Result<Option<String>, SettingsError> {
    match settings.get(key) {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_owned())),
        None | Some(serde_json::Value::Null) | Some(serde_json::Value::String(_)) => Ok(None),
        Some(_) => Err(SettingsError::BadSetting { key: key.into(), message: "must be text".into() }),
    }
}

/// The shop's sender address, printed on every label: `from_name`,
/// `from_street`, `from_city`, `from_postcode`, `from_country` (two
/// letters) are required; `from_state` and `from_phone` are optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub name: String,
    pub street: String,
    pub city: String,
    pub postcode: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    pub state: Option<String>,
    pub phone: Option<String>,
}

impl Sender {
    pub fn from_settings(settings: &serde_json::Value) -> Result<Self, SettingsError> {
        let required = |key: &str| -> Result<String, SettingsError> {
            text_setting(settings, key)?.ok_or_else(|| SettingsError::BadSetting {
                key: key.into(),
                message: "required: the shop's sender address is printed on every label".into(),
            })
        };
        let country = required("from_country")?.to_ascii_uppercase();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(SettingsError::BadSetting {
                key: "from_country".into(),
                message: format!("{country:?} is not a two-letter country code like DE or US"),
            });
        }
        Ok(Self {
            name: required("from_name")?,
            street: required("from_street")?,
            city: required("from_city")?,
            postcode: required("from_postcode")?,
            country,
            state: text_setting(settings, "from_state")?,
            phone: text_setting(settings, "from_phone")?,
        })
    }
}
