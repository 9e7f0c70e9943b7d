//! Configuring connections and flows: what `ferry connections …`,
//! `ferry flows …` and the app's Connections page use. A connection is
//! checked against the real system with its secret before it is saved;
//! the secret goes to the keychain and is never shown again.

use super::{ApiError, ApiResult, ConnectionSpec, Engine};
use chrono::{DateTime, Utc};
use ferry_journal::{FlowRow, Role};
use serde::Serialize;

/// A configured connection, as listed (never the secret itself).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionInfo {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub role: Role,
    pub base_url: String,
    pub settings: serde_json::Value,
    /// Whether a secret is stored for it (keychain or, headless, the environment).
    pub secret_set: bool,
    pub paused_reason: Option<String>,
    /// Whether a person paused it (Resume starts it again); otherwise
    /// Ferry paused it and says why in `paused_reason`.
    pub paused_by_person: bool,
    /// When its credentials last worked: the end of its newest successful
    /// run (every scheduled run checks them).
    pub credentials_ok_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// What a person changes on a saved connection; `None` keeps a value.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionEdit {
    pub name: Option<String>,
    pub base_url: Option<String>,
    /// Replaces the settings whole.
    pub settings: Option<serde_json::Value>,
}

/// How a pause by a person starts, so it is told apart from Ferry's own.
const PAUSED_BY: &str = "paused by ";

/// A flow between two connections, as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowInfo {
    pub flow: String,
    pub source_id: String,
    pub target_id: String,
    pub enabled: bool,
    pub settings: serde_json::Value,
}

/// The role a connector kind plays, or what kinds there are.
pub(crate) fn kind_role(kind: &str) -> ApiResult<Role> {
    match ferry_connectors::KINDS.iter().find(|(k, _)| *k == kind).map(|(_, r)| *r) {
        Some("store") => Ok(Role::Store),
        Some("erp") => Ok(Role::Erp),
        Some(_) => Ok(Role::Courier),
        None => {
            let known: Vec<&str> = ferry_connectors::KINDS.iter().map(|(k, _)| *k).collect();
            Err(ApiError::new("settings", format!("unknown kind {kind:?}; known: {}", known.join(", "))))
        }
    }
}

/// A connector built from a spec, whatever its role.
enum Built {
    Store(Box<dyn ferry_connectors::Store>),
    Erp(Box<dyn ferry_connectors::Erp>),
    Courier(Box<dyn ferry_connectors::Courier>),
}

impl Built {
    /// `Err` for an unknown kind or a bad address; `Ok(Err)` for settings
    /// or a secret the connector refuses.
    fn new(spec: &ConnectionSpec, secret: &str) -> ApiResult<Result<Built, ferry_connectors::SettingsError>> {
        let url = ferry_connectors::validate_base_url(&spec.base_url)?;
        let (base, kind, settings) = (url.as_str().trim_end_matches('/'), spec.kind.as_str(), &spec.settings);
        Ok(match kind_role(kind)? {
            Role::Store => ferry_connectors::store(kind, base, settings, secret).map(Built::Store),
            Role::Erp => ferry_connectors::erp(kind, base, settings, secret).map(Built::Erp),
            Role::Courier => ferry_connectors::courier(kind, base, settings, secret).map(Built::Courier),
        })
    }

    async fn check(&self) -> Result<(), ferry_domain::ConnectorError> {
        match self {
            Built::Store(c) => c.check().await,
            Built::Erp(c) => c.check().await,
            Built::Courier(c) => c.check().await,
        }
    }
}

/// The id a connection gets from its name: `My Shop!` → `my-shop`.
pub fn id_from_name(name: &str) -> String {
    let mut id = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('-') && !id.is_empty() {
            id.push('-');
        }
    }
    id.trim_end_matches('-').to_owned()
}

impl Engine {
    /// Every configured connection.
    pub fn connections(&self) -> ApiResult<Vec<ConnectionInfo>> {
        let rows = self.inner.journal.connections()?;
        rows.into_iter()
            .map(|c| {
                let (_, ok) = self.inner.journal.last_runs(&c.id)?;
                Ok(ConnectionInfo {
                    secret_set: self.inner.secrets.get(&c.id).is_ok(),
                    paused_by_person: c.paused_reason.as_deref().is_some_and(|r| r.starts_with(PAUSED_BY)),
                    credentials_ok_at: ok.and_then(|r| r.finished_at),
                    id: c.id,
                    name: c.name,
                    kind: c.kind,
                    role: c.role,
                    base_url: c.base_url,
                    settings: c.settings,
                    paused_reason: c.paused_reason,
                    created_at: c.created_at,
                })
            })
            .collect()
    }

    fn connection_row(&self, id: &str) -> ApiResult<ferry_journal::ConnectionRow> {
        self.inner.journal.connection(id)?.ok_or_else(|| ApiError::new("not_found", format!("no connection {id:?}")))
    }

    /// A person pauses a connection (`who`) or resumes it: nothing is read
    /// from it or written to it meanwhile; what is due waits in the queue.
    /// Resuming also clears a pause Ferry made (e.g. credentials refused),
    /// so the next run tries again and says so if it still fails.
    pub fn set_connection_paused(&self, id: &str, paused: bool, who: &str) -> ApiResult<()> {
        self.connection_row(id)?;
        let reason = paused.then(|| {
            format!(
                "{PAUSED_BY}{who} at {}; resume it to sync again",
                self.inner.now().with_timezone(&chrono::Local).format("%H:%M")
            )
        });
        self.inner.journal.set_paused(id, reason.as_deref())?;
        self.inner.changed();
        if !paused {
            let _ = self.sync_now(Some(id));
        }
        Ok(())
    }

    /// Changes a saved connection's name, address or settings, and its
    /// secret when `secret` is given. The changed connection is checked
    /// against the system first (with the new secret, or the stored one);
    /// nothing is saved when the check fails. Saving resumes it.
    pub async fn edit_connection(&self, id: &str, edit: &ConnectionEdit, secret: Option<&str>) -> ApiResult<()> {
        let c = self.connection_row(id)?;
        let name = edit.name.as_deref().map(str::trim).unwrap_or(&c.name).to_owned();
        if name.is_empty() {
            return Err(ApiError::new("settings", "the name is empty"));
        }
        let settings = edit.settings.clone().unwrap_or(c.settings);
        if !settings.is_object() {
            return Err(ApiError::new("settings", "settings must be a JSON object"));
        }
        let base_url = edit.base_url.clone().unwrap_or_else(|| c.base_url.clone());
        // Another host is another system: the links and read positions of
        // this one would point at the wrong records there.
        let host = |u: &str| ferry_connectors::validate_base_url(u).ok().and_then(|u| u.host_str().map(str::to_owned));
        if host(&base_url) != host(&c.base_url) {
            return Err(ApiError::new(
                "settings",
                format!(
                    "{} is on another host than {}; that is another system, so add it as a new connection (this one's history stays with it)",
                    base_url, c.base_url
                ),
            ));
        }
        let spec = ConnectionSpec { id: c.id.clone(), kind: c.kind.clone(), name, base_url, settings };
        let stored = self.inner.secrets.get(id).ok().map(|s| s.0);
        let secret = match secret.map(str::trim) {
            Some("") => {
                return Err(ApiError::new("secret", "the new secret is empty; leave it out to keep the stored one"))
            }
            Some(s) => s.to_owned(),
            None => self.inner.secrets.get(id)?.0,
        };
        self.check_connection(&spec, &secret).await?;
        // The secret first: if the keychain refuses it, nothing has changed.
        if stored.as_deref() != Some(secret.as_str()) {
            self.store_secret(id, &secret)?;
        }
        if let Err(e) = self.put_connection(&spec) {
            if let Some(old) = stored.filter(|old| *old != secret) {
                let _ = self.store_secret(id, &old);
            }
            return Err(e);
        }
        Ok(())
    }

    /// The connection called `name_or_id` (its id, or its name in any case).
    pub fn find_connection(&self, name_or_id: &str) -> ApiResult<ConnectionInfo> {
        let all = self.connections()?;
        all.iter()
            .find(|c| c.id == name_or_id)
            .or_else(|| all.iter().find(|c| c.name.eq_ignore_ascii_case(name_or_id)))
            .cloned()
            .ok_or_else(|| {
                let names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
                ApiError::new(
                    "not_found",
                    format!(
                        "no connection called {name_or_id:?}; configured: {}",
                        if names.is_empty() { "none".to_owned() } else { names.join(", ") }
                    ),
                )
            })
    }

    /// Checks what can be checked without the secret: the id is free, the
    /// kind is known, the address and the settings are valid.
    pub fn validate_connection(&self, spec: &ConnectionSpec) -> ApiResult<()> {
        if self.inner.journal.connection(&spec.id)?.is_some() {
            return Err(ApiError::new(
                "settings",
                format!("a connection {:?} exists already; remove it first, or pick another name", spec.id),
            ));
        }
        // Only the settings are judged here: a placeholder secret's own complaint is ignored.
        match Built::new(spec, "placeholder:placeholder")? {
            Ok(_) | Err(ferry_connectors::SettingsError::BadSecret(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Builds the connector for `spec` with `secret` and makes one cheap
    /// read: proves the address, the settings and the credentials.
    pub async fn check_connection(&self, spec: &ConnectionSpec, secret: &str) -> ApiResult<()> {
        Built::new(spec, secret)??.check().await.map_err(|e| {
            ApiError::new(e.code(), format!("{} ({}) did not answer as expected: {e}", spec.name, spec.kind))
        })
    }

    /// Checks `spec` with `secret`, then saves it and puts the secret in
    /// the keychain. Nothing is saved when a check fails.
    pub async fn add_connection(&self, spec: &ConnectionSpec, secret: &str) -> ApiResult<()> {
        if secret.trim().is_empty() {
            return Err(ApiError::new("secret", "the secret is empty; give it on standard input"));
        }
        self.validate_connection(spec)?;
        self.check_connection(spec, secret.trim()).await?;
        self.put_connection(spec)?;
        if let Err(e) = self.store_secret(&spec.id, secret.trim()) {
            // No connection without its secret: undo.
            self.inner.journal.remove_connection(&spec.id)?;
            return Err(e);
        }
        Ok(())
    }

    /// Checks a saved connection with its stored secret; a connection
    /// paused for its credentials resumes when the check passes.
    pub async fn test_connection(&self, id: &str) -> ApiResult<()> {
        let c = self
            .inner
            .journal
            .connection(id)?
            .ok_or_else(|| ApiError::new("not_found", format!("no connection {id:?}")))?;
        let (secret, _) = self.inner.secrets.get(id)?;
        let spec = ConnectionSpec {
            id: c.id.clone(),
            kind: c.kind.clone(),
            name: c.name.clone(),
            base_url: c.base_url.clone(),
            settings: c.settings.clone(),
        };
        self.check_connection(&spec, &secret).await?;
        if c.paused_reason.is_some() {
            self.inner.journal.set_paused(id, None)?;
            self.inner.changed();
        }
        Ok(())
    }

    /// Every flow, enabled or not.
    pub fn flows(&self) -> ApiResult<Vec<FlowInfo>> {
        Ok(self
            .inner
            .journal
            .flows()?
            .into_iter()
            .map(|f| FlowInfo {
                flow: f.flow,
                source_id: f.source_id,
                target_id: f.target_id,
                enabled: f.enabled,
                settings: f.settings,
            })
            .collect())
    }

    /// Switches a flow off (kept, with its settings and cursors, to switch on again).
    pub fn disable_flow(&self, flow: &str, source_id: &str, target_id: &str) -> ApiResult<()> {
        let existing = self
            .inner
            .journal
            .flows()?
            .into_iter()
            .find(|f| f.flow == flow && f.source_id == source_id && f.target_id == target_id)
            .ok_or_else(|| ApiError::new("not_found", format!("no {flow} flow from {source_id} to {target_id}")))?;
        self.inner.journal.set_flow(&FlowRow { enabled: false, ..existing })?;
        self.inner.changed();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_names() {
        assert_eq!(id_from_name("My Shop!"), "my-shop");
        assert_eq!(id_from_name("  ERPNext  (live) "), "erpnext-live");
        assert_eq!(id_from_name("¡¡"), "");
    }
}
