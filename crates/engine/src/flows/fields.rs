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

/// The outbox key of one field of one record: a newer value supersedes an
/// older waiting one of the same field only.
fn write_key(key: &str, field: &str) -> String {
    format!("{key}/{field}")
}

/// The write that sets `field` of record `key` to `value` on `target`, one
/// of the `(store, ERP)` pair.
pub(crate) fn field_write(
    entity: &str,
    (store_id, erp_id): (&str, &str),
    target_id: &str,
    key: &str,
    field: &str,
    value: &str,
    tag: &str,
) -> NewWrite {
    NewWrite {
        idempotency_key: format!("{entity}:{store_id}<->{erp_id}:{key}.{field}->{target_id}={value}:{tag}"),
        source_id: if target_id == store_id { erp_id.to_owned() } else { store_id.to_owned() },
        target_id: target_id.to_owned(),
        entity: entity.to_owned(),
        entity_key: write_key(key, field),
        op: "set".into(),
        payload: serde_json::json!({ "key": key, "field": field, "value": value }),
        supersedes: true,
    }
}

/// After a field write landed: both sides now hold its value, so it becomes
/// the base of the next merge. (Were it left at the old value, a later
/// change on the other side would look like a change on both.)
pub(crate) fn written(inner: &Inner, row: &ferry_journal::OutboxRow, target: &ConnectionRow) -> ApiResult<()> {
    if row.op != "set" {
        return Ok(());
    }
    let get = |k: &str| row.payload.get(k).and_then(|v| v.as_str());
    let (Some(key), Some(field), Some(value)) = (get("key"), get("field"), get("value")) else { return Ok(()) };
    let (store_id, erp_id) = match target.role {
        ferry_journal::Role::Store => (target.id.as_str(), row.source_id.as_str()),
        _ => (row.source_id.as_str(), target.id.as_str()),
    };
    let j = &inner.journal;
    let mut base: Record = j
        .link_snapshot(&row.entity, store_id, key, erp_id)?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let value = (!value.is_empty()).then(|| value.to_owned());
    if base.get(field) != Some(&value) {
        base.insert(field.to_owned(), value);
        let v = serde_json::to_value(&base).map_err(|e| ApiError::new("internal", e.to_string()))?;
        j.set_link_snapshot(&row.entity, store_id, key, erp_id, &v, inner.now())?;
    }
    Ok(())
}

impl FieldSync<'_> {
    fn tag(&self) -> String {
        self.now.timestamp_micros().to_string()
    }

    fn pending(&self, key: &str, field: &str) -> ApiResult<bool> {
        for t in [&self.store.id, &self.erp.id] {
            let w = self.inner.journal.latest_write(self.entity, &write_key(key, field), t)?;
            if w.is_some_and(|w| matches!(w.state, OutboxState::Pending | OutboxState::InFlight)) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Merges one record. `label` is what people call it ("Blue Mug
    /// (MUG-01)"); only fields present on both sides take part.
    pub fn record(&self, key: &str, label: &str, store: &Record, erp: &Record, out: &mut Decisions) -> ApiResult<()> {
        let j = &self.inner.journal;
        let snapshot = j.link_snapshot(self.entity, &self.store.id, key, &self.erp.id)?;
        let base: Record = snapshot.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default();
        let open = j.open_conflicts_of(&self.store.id, &self.erp.id, self.entity, key)?;
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
            if open.iter().any(|c| &c.field == field) || self.pending(key, field)? {
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
        let sides = [(&m.to_store, self.store, self.erp), (&m.to_erp, self.erp, self.store)];
        for (values, target, from) in sides {
            for (field, value) in values {
                let value = value.clone().unwrap_or_default();
                let w = field_write(self.entity, (&self.store.id, &self.erp.id), &target.id, key, field, &value, &tag);
                let last = j.latest_write(self.entity, &w.entity_key, &target.id)?;
                if last.is_some_and(|l| l.payload == w.payload) {
                    continue; // already written (or parked) with this value
                }
                let shown = if value.is_empty() { "(empty)" } else { value.as_str() };
                out.events.push(
                    NewEvent::new(
                        Level::Info,
                        self.entity,
                        key,
                        format!(
                            "{field} of {label} changed in {} to {shown}; writing it to {}",
                            from.name, target.name
                        ),
                    )
                    .on(&target.id),
                );
                out.writes.push(w);
            }
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
