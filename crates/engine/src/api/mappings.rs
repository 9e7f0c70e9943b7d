//! Mappings: what the Mappings page and `ferry mappings …` use. Setting a
//! mapping also puts back to work what was held for the lack of it.

use super::{ApiError, ApiResult, Engine};
use crate::flows::mapping::{self, KINDS};
use chrono::{DateTime, Utc};
use ferry_journal::MappingFollowups;
use serde::Serialize;

/// One mapping people set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mapping {
    pub kind: String,
    pub source: String,
    pub target: String,
    pub updated_at: DateTime<Utc>,
}

/// A value the engine met that has no mapping, and what that held up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unmapped {
    pub kind: String,
    pub value: String,
    pub connection_id: Option<String>,
    pub detail: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub seen: u64,
}

/// A kind of mapping and what its two sides are called.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MappingKind {
    pub kind: String,
    pub source: String,
    pub target: String,
}

/// The Mappings page: what is mapped, and what still needs a mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mappings {
    pub kinds: Vec<MappingKind>,
    pub mappings: Vec<Mapping>,
    pub unmapped: Vec<Unmapped>,
}

/// What setting a mapping put back to work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mapped {
    /// Failed writes that named the value, queued again.
    pub replayed: u64,
    /// Whether the next run reads stock again from the start.
    pub reread: bool,
}

fn known_kind(kind: &str) -> ApiResult<&'static str> {
    KINDS.iter().find(|(k, _, _)| *k == kind).map(|(k, _, _)| *k).ok_or_else(|| {
        let kinds: Vec<_> = KINDS.iter().map(|(k, _, _)| *k).collect();
        ApiError::new("settings", format!("{kind:?} is not a kind of mapping; the kinds are {}", kinds.join(", ")))
    })
}

/// A side of a mapping, as given (a store's SKU may carry spaces of its
/// own); refused when blank or not one line.
fn value(what: &str, v: &str) -> ApiResult<String> {
    if v.trim().is_empty() {
        return Err(ApiError::new("settings", format!("the {what} is empty")));
    }
    if v.chars().any(char::is_control) || v.len() > 200 {
        return Err(ApiError::new("settings", format!("the {what} must be one line of at most 200 characters")));
    }
    Ok(v.to_owned())
}

impl Engine {
    /// Every mapping, and the values met with none.
    pub fn mappings(&self) -> ApiResult<Mappings> {
        let j = &self.inner.journal;
        Ok(Mappings {
            kinds: KINDS
                .iter()
                .map(|(k, s, t)| MappingKind { kind: (*k).into(), source: (*s).into(), target: (*t).into() })
                .collect(),
            mappings: j
                .mappings()?
                .into_iter()
                .map(|m| Mapping { kind: m.kind, source: m.source, target: m.target, updated_at: m.updated_at })
                .collect(),
            unmapped: j
                .unmapped()?
                .into_iter()
                .map(|u| Unmapped {
                    kind: u.kind,
                    value: u.value,
                    connection_id: u.connection_id,
                    detail: u.detail,
                    first_seen: u.first_seen,
                    last_seen: u.last_seen,
                    seen: u.seen,
                })
                .collect(),
        })
    }

    /// Maps `source` to `target`. A SKU mapping queues again the failed
    /// writes whose error named the SKU; a warehouse mapping makes the next
    /// runs read all stock again (only levels that differ are written).
    /// Then asks for a sync when the scheduler runs.
    pub fn set_mapping(&self, kind: &str, source: &str, target: &str) -> ApiResult<Mapped> {
        let kind = known_kind(kind)?;
        let (_, source_name, target_name) = KINDS.iter().find(|(k, _, _)| *k == kind).copied().unwrap_or_default();
        let source = value(source_name, source)?;
        let target = value(target_name, target)?.trim().to_owned();
        let mut replay = Vec::new();
        if kind == mapping::SKU {
            // One ERP item stocks one store SKU: a second SKU for the same
            // item code would take its stock away from the first.
            if let Some((other, _)) = self
                .inner
                .journal
                .mapping_table(mapping::SKU)?
                .into_iter()
                .find(|(sku, code)| *code == target && *sku != source)
            {
                return Err(ApiError::new(
                    "settings",
                    format!(
                        "ERP item code {target:?} is already mapped from store SKU {other:?}; one ERP item stocks one store SKU. Remove that mapping first"
                    ),
                ));
            }
            // The failed orders and refunds with a line of this store SKU.
            replay = self
                .inner
                .journal
                .dead_writes(100_000)?
                .into_iter()
                .filter(|r| matches!(r.entity.as_str(), "order" | "refund"))
                .filter(|r| {
                    let mut payload = r.payload.clone();
                    mapping::skus_to_erp(&mut payload, &Default::default()).iter().any(|(sku, _)| *sku == source)
                })
                .map(|r| r.id)
                .collect();
        }
        let then = MappingFollowups { replay: &replay, reread_entity: Some(crate::flows::STOCK) };
        let effect = self.inner.journal.set_mapping(kind, &source, &target, then, self.inner.now())?;
        self.inner.changed();
        // Put it to work now when the app or `ferry sync` runs; otherwise the next run does.
        let _ = self.sync_now(None);
        Ok(Mapped { replayed: effect.replayed, reread: effect.cursors_reset > 0 })
    }

    /// Removes a mapping; `not_found` when there was none.
    pub fn remove_mapping(&self, kind: &str, source: &str) -> ApiResult<()> {
        let kind = known_kind(kind)?;
        if !self.inner.journal.remove_mapping(kind, source)? {
            return Err(ApiError::new("not_found", format!("no {kind} mapping for {source:?}")));
        }
        self.inner.changed();
        Ok(())
    }
}
