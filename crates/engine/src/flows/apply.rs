//! Carrying out one queued write on its target system, by entity and
//! operation. Each operation is safe to repeat: creates look up our
//! reference first, cancels check the document's state, stock is set (not
//! adjusted).

use super::{erp_for, store_for};
use crate::api::{ApiResult, Inner};
use ferry_connectors::{Courier, Erp, Store};
use ferry_domain::{ConnectorError, Order};
use ferry_journal::{ConnectionRow, OutboxRow, Role};
use serde::Deserialize;
use std::sync::Arc;

/// The system a write goes to.
pub(crate) enum Target {
    Erp(Arc<dyn Erp>),
    Store(Arc<dyn Store>),
    Courier(Arc<dyn Courier>),
}

pub(crate) fn target_for(inner: &Inner, c: &ConnectionRow) -> ApiResult<Target> {
    match c.role {
        Role::Erp => Ok(Target::Erp(erp_for(inner, c)?)),
        Role::Store => Ok(Target::Store(store_for(inner, c)?)),
        Role::Courier => Ok(Target::Courier(super::courier_for(inner, c)?)),
    }
}

/// What a write did: the remote key to link, words for the journal, and
/// what follows from it (queued with its success, in one transaction).
#[derive(Default)]
pub(crate) struct Applied {
    pub remote: String,
    pub message: String,
    pub then: Vec<ferry_journal::NewWrite>,
    pub parcel: Option<ferry_journal::NewParcel>,
}

/// What people call the record a write is about.
pub(crate) fn label(row: &OutboxRow) -> String {
    let field = |k: &str| row.payload.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    match row.entity.as_str() {
        "order" => format!("Order {}", field("number").unwrap_or_else(|| row.entity_key.clone())),
        "stock" => format!("Stock of {}", field("sku").unwrap_or_else(|| row.entity_key.clone())),
        "refund" => format!("Refund {}", row.entity_key),
        "shipment" | "fulfillment" | "tracking" => {
            format!("Parcel for {}", field("label").unwrap_or_else(|| row.entity_key.clone()))
        }
        "catalog" | "customer" => field("label").unwrap_or_else(|| format!("{} {}", row.entity, row.entity_key)),
        other => format!("{other} {}", row.entity_key),
    }
}

/// Words for alerts about an entity: (one, many, verb), as in
/// "3 orders could not be posted to …".
pub(crate) fn wording(entity: &str) -> (&'static str, &'static str, &'static str) {
    match entity {
        "order" => ("order", "orders", "posted to"),
        "stock" => ("stock level", "stock levels", "written to"),
        "catalog" => ("product change", "product changes", "written to"),
        "customer" => ("customer change", "customer changes", "written to"),
        "refund" => ("refund", "refunds", "booked as credit notes in"),
        "shipment" => ("parcel", "parcels", "booked with"),
        "fulfillment" => ("tracking number", "tracking numbers", "sent to"),
        "tracking" => ("tracking number", "tracking numbers", "written to"),
        _ => ("record", "records", "written to"),
    }
}

/// A refund's payload.
#[derive(Debug, Deserialize)]
struct RefundWrite {
    order: Order,
    refund: ferry_domain::Refund,
}

/// Books a store refund as a credit note, once: looked up by the refund's
/// id first; waits while the order itself is not in the ERP yet.
async fn credit(erp: &dyn Erp, target_name: &str, row: &OutboxRow) -> Result<Applied, ConnectorError> {
    let w: RefundWrite = serde_json::from_value(row.payload.clone()).map_err(|e| unreadable("refund", e))?;
    let what = format!("Refund of {} on order {}", w.refund.total, w.order.number);
    if let Some(note) = erp.find_credit_note(&w.refund.id).await? {
        return Ok(Applied {
            message: format!("{what} was already in {target_name} as credit note {note}"),
            remote: note,
            ..Default::default()
        });
    }
    let doc = match erp.find_order(&w.order.id).await? {
        Some(doc) if doc.cancelled => {
            return Err(ConnectorError::Rejected {
                message: format!("{what}: its document {} is cancelled in {target_name}; book the refund by hand if money still has to go back", doc.id),
                fields: vec![],
            })
        }
        Some(doc) => doc,
        None => {
            return Err(ConnectorError::Transient(format!(
                "{what}: the order is not in {target_name} yet, so its credit note waits"
            )))
        }
    };
    let note = erp.create_credit_note(&doc, &w.order, &w.refund).await?;
    Ok(Applied {
        message: format!("{what} booked in {target_name} as credit note {note} (against {})", doc.id),
        remote: note,
        ..Default::default()
    })
}

fn not_for(target_name: &str, entity: &str) -> ConnectorError {
    ConnectorError::Rejected { message: format!("{target_name} is a courier and keeps no {entity}"), fields: vec![] }
}

/// A field write's record key and fields, or why it cannot be read.
fn fields_of(row: &OutboxRow) -> Result<(String, String, ferry_domain::Record), ConnectorError> {
    super::fields::payload_fields(row).ok_or_else(|| ConnectorError::Rejected {
        message: "the queued change could not be read back; re-scan to queue it again".into(),
        fields: vec![],
    })
}

pub(crate) fn unreadable(what: &str, e: serde_json::Error) -> ConnectorError {
    ConnectorError::Rejected {
        message: format!("the queued {what} could not be read back ({e}); re-scan to queue it again"),
        fields: vec![],
    }
}

/// A stock write's payload.
#[derive(Debug, Deserialize)]
struct StockSet {
    sku: String,
    location: String,
    available: i64,
}

pub(crate) async fn apply(target: &Target, target_name: &str, row: &OutboxRow) -> Result<Applied, ConnectorError> {
    let label = label(row);
    match (target, row.entity.as_str(), row.op.as_str()) {
        (Target::Erp(erp), "order", "create") => {
            let order: Order = serde_json::from_value(row.payload.clone()).map_err(|e| unreadable("order", e))?;
            if let Some(found) = erp.find_order(&order.id).await? {
                let message = format!("{label} was already in {target_name} as {}; not posted again", found.id);
                return Ok(Applied { remote: found.id, message, ..Default::default() });
            }
            order.check_total().map_err(|message| ConnectorError::Rejected { message, fields: vec![] })?;
            let created = match erp.create_order(&order).await {
                Ok(created) => created,
                // Refused: perhaps another Ferry (a second PC) posted it between our
                // lookup and our create, and the ERP's unique reference said no.
                Err(refused @ ConnectorError::Rejected { .. }) => match erp.find_order(&order.id).await? {
                    Some(found) => {
                        let message = format!(
                            "{label} was posted to {target_name} meanwhile by someone else (another Ferry?) as {}; linked, not posted again",
                            found.id
                        );
                        return Ok(Applied { remote: found.id, message, ..Default::default() });
                    }
                    None => return Err(refused),
                },
                Err(e) => return Err(e),
            };
            Ok(Applied {
                message: format!("{label} posted to {target_name} as {}", created.id),
                remote: created.id,
                ..Default::default()
            })
        }
        (Target::Erp(erp), "order", "cancel") => {
            let order: Order = serde_json::from_value(row.payload.clone()).map_err(|e| unreadable("order", e))?;
            match erp.find_order(&order.id).await? {
                Some(doc) if doc.cancelled => Ok(Applied {
                    message: format!("{label} was already cancelled in {target_name} ({})", doc.id),
                    remote: doc.id,
                    ..Default::default()
                }),
                Some(doc) => {
                    erp.cancel_order(&doc.id).await?;
                    Ok(Applied {
                        message: format!("{label} cancelled in {target_name} ({})", doc.id),
                        remote: doc.id,
                        ..Default::default()
                    })
                }
                // Its create is still queued (or failed): try again after it.
                None => Err(ConnectorError::Transient(format!(
                    "{label} is not in {target_name} yet, so it cannot be cancelled yet"
                ))),
            }
        }
        (Target::Store(store), "stock", "set") => {
            let set: StockSet =
                serde_json::from_value(row.payload.clone()).map_err(|e| unreadable("stock level", e))?;
            store.set_available(&set.sku, &set.location, set.available).await?;
            Ok(Applied {
                message: format!("{label} set to {} available in {target_name}", set.available),
                remote: format!("{}@{}", set.sku, set.location),
                ..Default::default()
            })
        }
        (target, "catalog", "set") => {
            let (_, key, fields) = fields_of(row)?;
            let mut done = Vec::new();
            for (field, value) in &fields {
                let value = value.as_deref().unwrap_or_default();
                let set = super::catalog::field_value(field, value).map_err(|message| ConnectorError::Rejected {
                    message: format!("the queued {field} of {key} cannot be written: {message}"),
                    fields: vec![],
                })?;
                match target {
                    Target::Store(store) => store.set_catalog_field(&key, &set).await?,
                    Target::Erp(erp) => erp.set_catalog_field(&key, &set).await?,
                    Target::Courier(_) => return Err(not_for(target_name, "catalog")),
                }
                done.push(format!("{field} {value}"));
            }
            Ok(Applied {
                message: format!("{label} set in {target_name}: {}", done.join(", ")),
                remote: key,
                ..Default::default()
            })
        }
        (target, "customer", "set") => {
            let (_, key, fields) = fields_of(row)?;
            let changes = super::customers::changes(&fields).map_err(|message| ConnectorError::Rejected {
                message: format!("{label} cannot be written: {message}"),
                fields: vec![],
            })?;
            match target {
                Target::Store(store) => store.update_customer(&key, &changes).await?,
                Target::Erp(erp) => erp.update_customer(&key, &changes).await?,
                Target::Courier(_) => return Err(not_for(target_name, "customer")),
            }
            let done: Vec<String> =
                changes.iter().map(|(f, v)| format!("{} {}", f.name(), v.as_deref().unwrap_or("(emptied)"))).collect();
            Ok(Applied {
                message: format!("{label} updated in {target_name}: {}", done.join(", ")),
                remote: key,
                ..Default::default()
            })
        }
        (Target::Erp(erp), super::orders::REFUND, "credit") => credit(erp.as_ref(), target_name, row).await,
        (Target::Courier(courier), super::shipping::ENTITY, "book") => {
            super::shipping::book(courier.as_ref(), target_name, row).await
        }
        (Target::Store(store), super::shipping::FULFILLMENT, "fulfill") => {
            super::shipping::fulfill(store.as_ref(), target_name, row).await
        }
        (Target::Erp(erp), super::shipping::TRACKING, "set-tracking") => {
            super::shipping::set_tracking(erp.as_ref(), target_name, row).await
        }
        (_, entity, op) => Err(ConnectorError::Rejected {
            message: format!(
                "{target_name} cannot take a {entity} {op}; this write was queued by an older or newer Ferry"
            ),
            fields: vec![],
        }),
    }
}
