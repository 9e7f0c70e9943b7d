//! Two-way sync of a record's fields between a store and an ERP, shared by
//! the catalog (title, price, active) and customers (email, phone, address).
//!
//! A three-way merge against the values both sides last agreed on (the
//! link's snapshot) decides per field: changed on one side, it is written to
//! the other; changed on both to the same value, fine; changed on both to
//! different values, that field opens a conflict and is held — never
//! overwritten silently — while the record's other fields still sync. A
//! field with a write still on its way, or an open conflict, is held too, so
//! a merge never races its own write or a person's decision.

use crate::api::{ApiError, ApiResult, Inner};
use chrono::{DateTime, Utc};
use ferry_domain::{merge, Record};
use ferry_journal::{ConnectionRow, Level, NewConflict, NewEvent, NewWrite, OutboxState};

/// One pair of connections syncing one entity, during one run.
pub(crate) struct FieldSync<'a> {
    pub inner: &'a Inner,
    pub store: &'a ConnectionRow,
    pub erp: &'a ConnectionRow,
    pub entity: &'static str,
    pub now: DateTime<Utc>,
}

/// What one run decided: writes to queue, lines to journal, conflicts opened.
#[derive(Default)]
pub(crate) struct Decisions {
    pub writes: Vec<NewWrite>,
    pub events: Vec<NewEvent>,
    pub new_conflicts: u32,
}

/// The write that sets `fields` of record `key` on `target`, one of the
/// `(store, ERP)` pair. One write per record and target carries every field
/// that changed, so a system that stores them together (an address) gets
/// them together.
pub(crate) fn field_write(
    entity: &str,
    (store_id, erp_id): (&str, &str),
    (target_id, target_key): (&str, &str),
    (key, label): (&str, &str),
    fields: &Record,
    tag: &str,
) -> NewWrite {
    let values: Vec<String> = fields.iter().map(|(f, v)| format!("{f}={}", v.as_deref().unwrap_or_default())).collect();
    NewWrite {
        idempotency_key: format!("{entity}:{store_id}<->{erp_id}:{key}->{target_id}:{}:{tag}", values.join(";")),
        source_id: if target_id == store_id { erp_id.to_owned() } else { store_id.to_owned() },
        target_id: target_id.to_owned(),
        entity: entity.to_owned(),
        entity_key: key.to_owned(),
        op: "set".into(),
        // `key` is the record's key in the store (the link's key);
        // `target_key` is what the target calls it.
        payload: serde_json::json!({ "key": key, "target_key": target_key, "label": label, "fields": fields }),
        // Each write carries only the fields it changes: a later one must
        // not replace an earlier one still waiting.
        supersedes: false,
    }
}

/// Whether `row` is a field write (made by `field_write`): it changes a
/// record both sides already have, so its link keeps the merge base.
pub(crate) fn is_field_write(row: &ferry_journal::OutboxRow) -> bool {
    row.op == "set" && row.payload.get("fields").is_some()
}

/// A field write's record key, the target's key for it, and its fields, as
/// queued by `field_write`.
pub(crate) fn payload_fields(row: &ferry_journal::OutboxRow) -> Option<(String, String, Record)> {
    let key = row.payload.get("key")?.as_str()?.to_owned();
    let target_key = row.payload.get("target_key").and_then(|k| k.as_str()).map_or_else(|| key.clone(), str::to_owned);
    let fields = serde_json::from_value(row.payload.get("fields")?.clone()).ok()?;
    Some((key, target_key, fields))
}

/// After a field write landed: both sides now hold its values, so they
/// become the base of the next merge. (Were they left at the old values, a
/// later change on the other side would look like a change on both.)
pub(crate) fn written(inner: &Inner, row: &ferry_journal::OutboxRow, target: &ConnectionRow) -> ApiResult<()> {
    if !is_field_write(row) {
        return Ok(());
    }
    let Some((key, _, fields)) = payload_fields(row) else { return Ok(()) };
    let (store_id, erp_id) = match target.role {
        ferry_journal::Role::Store => (target.id.as_str(), row.source_id.as_str()),
        _ => (row.source_id.as_str(), target.id.as_str()),
    };
    let j = &inner.journal;
    let mut base: Record = j
        .link_snapshot(&row.entity, store_id, &key, erp_id)?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let before = base.clone();
    base.extend(fields);
    if base != before {
        let v = serde_json::to_value(&base).map_err(|e| ApiError::new("internal", e.to_string()))?;
        j.set_link_snapshot(&row.entity, store_id, &key, erp_id, &v, inner.now())?;
    }
    Ok(())
}

impl FieldSync<'_> {
    fn tag(&self) -> String {
        self.now.timestamp_micros().to_string()
    }

    /// Whether a write of this record is still on its way to either side.
    fn pending(&self, key: &str) -> ApiResult<bool> {
        for t in [&self.store.id, &self.erp.id] {
            let w = self.inner.journal.latest_write(self.entity, key, t)?;
            if w.is_some_and(|w| matches!(w.state, OutboxState::Pending | OutboxState::InFlight)) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Merges one record: `key` in the store, `erp_key` in the ERP. `label`
    /// is what people call it ("Blue Mug (MUG-01)"); only fields present on
    /// both sides take part.
    pub fn record(
        &self,
        (key, erp_key): (&str, &str),
        label: &str,
        store: &Record,
        erp: &Record,
        out: &mut Decisions,
    ) -> ApiResult<()> {
        let j = &self.inner.journal;
        let snapshot = j.link_snapshot(self.entity, &self.store.id, key, &self.erp.id)?;
        let base: Record = snapshot.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default();
        let open = j.open_conflicts_of(&self.store.id, &self.erp.id, self.entity, key)?;
        let pending = self.pending(key)?;
        let (mut agreed, mut agreed_changed) = (base.clone(), false);
        let (mut b, mut s, mut e) = (Record::new(), Record::new(), Record::new());
        for (field, store_value) in store {
            let Some(erp_value) = erp.get(field) else { continue };
            if store_value == erp_value {
                for c in open.iter().filter(|c| &c.field == field) {
                    j.resolve_conflict(c.id, "both sides now agree", "ferry", None, &[], self.now)?;
                }
                if base.get(field) != Some(store_value) {
                    agreed.insert(field.clone(), store_value.clone());
                    agreed_changed = true;
                }
                continue;
            }
            if pending || open.iter().any(|c| &c.field == field) {
                continue;
            }
            b.insert(field.clone(), base.get(field).cloned().flatten());
            s.insert(field.clone(), store_value.clone());
            e.insert(field.clone(), erp_value.clone());
        }
        if agreed_changed {
            let agreed = serde_json::to_value(&agreed).map_err(|e| ApiError::new("internal", e.to_string()))?;
            j.set_link_snapshot(self.entity, &self.store.id, key, &self.erp.id, &agreed, self.now)?;
        }
        // Never agreed before and different: no base, so both count as
        // changed and it becomes a conflict, since nobody can tell which is right.
        let m = merge(&b, &s, &e);
        let tag = self.tag();
        let sides = [(&m.to_store, self.store, key, self.erp), (&m.to_erp, self.erp, erp_key, self.store)];
        for (values, target, target_key, from) in sides {
            if values.is_empty() {
                continue;
            }
            let pair = (self.store.id.as_str(), self.erp.id.as_str());
            let w = field_write(self.entity, pair, (&target.id, target_key), (key, label), values, &tag);
            let last = j.latest_write(self.entity, key, &target.id)?;
            if last.is_some_and(|l| l.payload == w.payload) {
                continue; // already written (or parked) with these values
            }
            let changes: Vec<String> = values
                .iter()
                .map(|(f, v)| format!("{f} to {}", v.as_deref().filter(|v| !v.is_empty()).unwrap_or("(empty)")))
                .collect();
            out.events.push(
                NewEvent::new(
                    Level::Info,
                    self.entity,
                    key,
                    format!("{label} changed in {}: {}; writing it to {}", from.name, changes.join(", "), target.name),
                )
                .on(&target.id),
            );
            out.writes.push(w);
        }
        for c in m.conflicts {
            let new = NewConflict {
                source_id: self.store.id.clone(),
                target_id: self.erp.id.clone(),
                entity: self.entity.into(),
                entity_key: key.to_owned(),
                field: c.field.clone(),
                base: c.base.clone(),
                store_value: c.store.clone(),
                erp_value: c.erp.clone(),
            };
            if j.open_conflict(&new, self.now)?.is_some() {
                out.new_conflicts += 1;
                let v = |x: &Option<String>| x.clone().unwrap_or_else(|| "nothing".into());
                out.events.push(NewEvent::new(
                    Level::Warn,
                    self.entity,
                    key,
                    format!(
                        "{} of {label} differs: {} says {}, {} says {}{}; held until someone decides",
                        c.field,
                        self.store.name,
                        v(&c.store),
                        self.erp.name,
                        v(&c.erp),
                        c.base.as_deref().map(|b| format!(" (both were {b})")).unwrap_or_default()
                    ),
                ));
            }
        }
        Ok(())
    }
}
