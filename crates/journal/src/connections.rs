//! Connections (configured accounts) and the flows wired between them.

use crate::error::{JournalError, Result};
use crate::time::{format_ts, parse_ts};
use crate::Journal;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};

/// What part a system plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Store,
    Erp,
    Courier,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Store => "store",
            Role::Erp => "erp",
            Role::Courier => "courier",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "store" => Ok(Role::Store),
            "erp" => Ok(Role::Erp),
            "courier" => Ok(Role::Courier),
            other => Err(JournalError::BadValue(format!("role {other:?}"))),
        }
    }
}

/// One configured account. Holds a keychain reference, never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRow {
    pub id: String,
    pub kind: String,
    pub role: Role,
    pub name: String,
    pub base_url: String,
    pub settings: serde_json::Value,
    pub secret_ref: String,
    pub paused_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A flow switched on between two connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRow {
    pub flow: String,
    pub source_id: String,
    pub target_id: String,
    pub enabled: bool,
    pub settings: serde_json::Value,
}

fn connection_from_row(r: &Row<'_>) -> Result<ConnectionRow> {
    Ok(ConnectionRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        role: Role::parse(&r.get::<_, String>(2)?)?,
        name: r.get(3)?,
        base_url: r.get(4)?,
        settings: serde_json::from_str(&r.get::<_, String>(5)?)?,
        secret_ref: r.get(6)?,
        paused_reason: r.get(7)?,
        created_at: parse_ts(&r.get::<_, String>(8)?)?,
    })
}

const SELECT: &str =
    "SELECT id, kind, role, name, base_url, settings, secret_ref, paused_reason, created_at FROM connections";

impl Journal {
    /// Inserts or replaces a connection's configuration (keeps nothing secret).
    pub fn upsert_connection(&self, c: &ConnectionRow) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached("INSERT INTO connections (id, kind, role, name, base_url, settings, secret_ref, paused_reason, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT(id) DO UPDATE SET kind = ?2, role = ?3, name = ?4, base_url = ?5,
                    settings = ?6, secret_ref = ?7, paused_reason = ?8")?.execute(
                params![
                    c.id,
                    c.kind,
                    c.role.as_str(),
                    c.name,
                    c.base_url,
                    c.settings.to_string(),
                    c.secret_ref,
                    c.paused_reason,
                    format_ts(c.created_at)
                ],
            )?;
            Ok(())
        })
    }

    pub fn connections(&self) -> Result<Vec<ConnectionRow>> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!("{SELECT} ORDER BY created_at, id"))?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(connection_from_row(r)?);
            }
            Ok(out)
        })
    }

    pub fn connection(&self, id: &str) -> Result<Option<ConnectionRow>> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!("{SELECT} WHERE id = ?1"))?;
            let row = stmt.query_row([id], |r| Ok(connection_from_row(r))).optional()?;
            row.transpose()
        })
    }

    /// Pauses (`Some(reason)`) or resumes (`None`) a connection.
    pub fn set_paused(&self, id: &str, reason: Option<&str>) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached("UPDATE connections SET paused_reason = ?2 WHERE id = ?1")?
                .execute(params![id, reason])?;
            Ok(())
        })
    }

    /// Records when the scheduler will next run this connection.
    pub fn set_next_run(&self, id: &str, at: Option<DateTime<Utc>>) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached("UPDATE connections SET next_run_at = ?2 WHERE id = ?1")?
                .execute(params![id, at.map(format_ts)])?;
            Ok(())
        })
    }

    pub fn next_run(&self, id: &str) -> Result<Option<DateTime<Utc>>> {
        let raw: Option<Option<String>> = self.read(|c| {
            Ok(c.query_row("SELECT next_run_at FROM connections WHERE id = ?1", [id], |r| r.get(0)).optional()?)
        })?;
        raw.flatten().as_deref().map(parse_ts).transpose()
    }

    pub fn remove_connection(&self, id: &str) -> Result<bool> {
        self.write(|tx| Ok(tx.prepare_cached("DELETE FROM connections WHERE id = ?1")?.execute([id])? > 0))
    }

    pub fn set_flow(&self, flow: &FlowRow) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO flows (flow, source_id, target_id, enabled, settings) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(flow, source_id, target_id) DO UPDATE SET enabled = ?4, settings = ?5",
            )?
            .execute(params![
                flow.flow,
                flow.source_id,
                flow.target_id,
                flow.enabled,
                flow.settings.to_string()
            ])?;
            Ok(())
        })
    }

    pub fn flows(&self) -> Result<Vec<FlowRow>> {
        self.read(|c| {
            let mut stmt =
                c.prepare("SELECT flow, source_id, target_id, enabled, settings FROM flows ORDER BY flow, source_id")?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(FlowRow {
                    flow: r.get(0)?,
                    source_id: r.get(1)?,
                    target_id: r.get(2)?,
                    enabled: r.get(3)?,
                    settings: serde_json::from_str(&r.get::<_, String>(4)?)?,
                });
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    pub(crate) fn sample(id: &str, role: Role) -> ConnectionRow {
        ConnectionRow {
            id: id.into(),
            kind: "shopify".into(),
            role,
            name: format!("{id} name"),
            base_url: "http://127.0.0.1:1".into(),
            settings: serde_json::json!({"api_version": "2025-07"}),
            secret_ref: format!("ferry/{id}"),
            paused_reason: None,
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("valid"),
        }
    }

    #[test]
    fn connection_round_trip_and_pause() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::open_in(dir.path()).expect("open");
        let c = sample("shop", Role::Store);
        j.upsert_connection(&c).expect("insert");
        assert_eq!(j.connection("shop").expect("read"), Some(c.clone()));
        j.set_paused("shop", Some("credentials rejected")).expect("pause");
        assert_eq!(
            j.connection("shop").expect("read").and_then(|c| c.paused_reason).as_deref(),
            Some("credentials rejected")
        );
        j.upsert_connection(&c).expect("update");
        assert_eq!(j.connections().expect("list").len(), 1, "upsert does not duplicate");
        assert!(j.remove_connection("shop").expect("remove"));
        assert_eq!(j.connection("shop").expect("read"), None);
    }
}
