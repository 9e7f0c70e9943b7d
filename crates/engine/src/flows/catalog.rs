//! The catalog flow, both ways between a store and an ERP: each SKU's title,
//! selling price and active flag, merged field by field (see `fields`): a
//! field changed on one side is written to the other; changed on both
//! sides differently it is held as a conflict until a person decides.

use super::fields::{Decisions, FieldSync};
use super::orders::read_with_retry;
use super::{erp_for, store_for, RunMode};
use crate::api::{ApiError, ApiResult, FlowCounts, Inner};
use ferry_domain::{AlertKind, CatalogField, CatalogItem, ConnectorError, Money, Record};
use ferry_journal::{ConnectionRow, RunOutcome};
use std::collections::HashMap;

pub const ENTITY: &str = "catalog";
pub const TITLE: &str = "title";
pub const PRICE: &str = "price";
pub const ACTIVE: &str = "active";

pub(crate) async fn run(
    inner: &Inner,
    store: &ConnectionRow,
    erp: &ConnectionRow,
    mode: RunMode,
) -> ApiResult<FlowCounts> {
    super::both_ways(inner, store, erp, ENTITY, mode, || compare(inner, store, erp)).await
}

/// The text a price is compared and shown as: `12.5 EUR` (no trailing zeros).
pub(crate) fn price_text(m: &Money) -> String {
    format!("{} {}", m.amount.normalize(), m.currency)
}

/// A SKU's fields as compared and shown: only those the system has.
fn record(item: &CatalogItem) -> Record {
    let mut r = Record::new();
    if let Some(t) = &item.title {
        r.insert(TITLE.into(), Some(t.trim().to_owned()));
    }
    if let Some(p) = &item.price {
        r.insert(PRICE.into(), Some(price_text(p)));
    }
    if let Some(a) = item.active {
        r.insert(ACTIVE.into(), Some(if a { "yes" } else { "no" }.into()));
    }
    r
}

/// The field to set from a compared value (as made by `record`).
pub(crate) fn field_value(field: &str, value: &str) -> Result<CatalogField, String> {
    match field {
        TITLE if !value.trim().is_empty() => Ok(CatalogField::Title(value.trim().to_owned())),
        TITLE => Err("a title cannot be empty".into()),
        PRICE => {
            let (amount, currency) =
                value.split_once(' ').ok_or_else(|| format!("{value:?} is not a price like 12.50 EUR"))?;
            Money::parse(amount, currency).map(CatalogField::Price).map_err(|e| format!("{value:?}: {e}"))
        }
        ACTIVE => match value {
            "yes" => Ok(CatalogField::Active(true)),
            "no" => Ok(CatalogField::Active(false)),
            other => Err(format!("{other:?} is not yes or no")),
        },
        other => Err(format!("{other:?} is not a catalog field")),
    }
}

/// A value a person typed for `field`, checked and written the way
/// `record` writes it; `like` is one side's current value (for the currency).
pub(crate) fn typed_value(field: &str, typed: &str, like: Option<&str>) -> ApiResult<String> {
    let typed = typed.trim();
    let text = match field {
        PRICE => {
            let amount: rust_decimal::Decimal =
                typed.parse().map_err(|_| ApiError::new("settings", format!("{typed:?} is not a price like 12.50")))?;
            if amount.is_sign_negative() {
                return Err(ApiError::new("settings", "a price cannot be negative"));
            }
            let currency = like.and_then(|v| v.split_once(' ')).map(|(_, c)| c).unwrap_or_default();
            let text = format!("{} {currency}", amount.normalize());
            if let Ok(CatalogField::Price(m)) = field_value(PRICE, &text) {
                ferry_connectors::order_check::exact_in_currency(&m).map_err(|e| ApiError::new("settings", e))?;
            }
            text
        }
        ACTIVE => match typed.to_ascii_lowercase().as_str() {
            "yes" | "active" | "true" => "yes".into(),
            "no" | "inactive" | "false" => "no".into(),
            _ => return Err(ApiError::new("settings", format!("{typed:?}: say yes (for sale) or no"))),
        },
        _ => typed.to_owned(),
    };
    field_value(field, &text).map_err(|e| ApiError::new("settings", e))?;
    Ok(text)
}

async fn compare(inner: &Inner, store_conn: &ConnectionRow, erp_conn: &ConnectionRow) -> ApiResult<(u64, u64)> {
    let lock = inner.exclusive(&format!("catalog:{}:{}", store_conn.id, erp_conn.id));
    let _guard = lock.lock().await;
    let run_id = inner.journal.start_run(&store_conn.id, "catalog", inner.now())?;
    let built = store_for(inner, store_conn)
        .map_err(|e| (store_conn, e))
        .and_then(|s| erp_for(inner, erp_conn).map(|e| (s, e)).map_err(|e| (erp_conn, e)));
    let (store, erp) = match built {
        Ok(pair) => pair,
        Err((which, e)) => {
            let why = super::pause_unbuildable(inner, which, Some(run_id), e)?;
            inner.journal.finish_run(run_id, RunOutcome::Failed, Some(&why), inner.now())?;
            return Ok((0, 0));
        }
    };
    let read = async {
        let s = read_with_retry(inner, &store_conn.id, || store.catalog()).await.map_err(|e| (store_conn, e))?;
        let e = read_with_retry(inner, &erp_conn.id, || erp.catalog()).await.map_err(|e| (erp_conn, e))?;
        Ok::<_, (&ConnectionRow, ConnectorError)>((s, e))
    }
    .await;
    let (store_items, erp_items) = match read {
        Ok(v) => v,
        Err((which, e)) => {
            super::read_failed(inner, which, run_id, &e, "the catalog", "products stay as they are meanwhile.")?;
            inner.journal.finish_run(run_id, RunOutcome::Failed, Some(&e.to_string()), inner.now())?;
            inner.changed();
            return Ok((0, 0));
        }
    };
    let erp_by_sku: HashMap<String, CatalogItem> = erp_items.into_iter().map(|i| (i.sku.clone(), i)).collect();
    let sync = FieldSync { inner, store: store_conn, erp: erp_conn, entity: ENTITY, now: inner.now() };
    let mut out = Decisions::default();
    let fetched = store_items.len() as u64;
    for item in &store_items {
        let Some(erp_item) = erp_by_sku.get(&item.sku) else { continue };
        let label = match item.title.as_deref().or(erp_item.title.as_deref()) {
            Some(t) => format!("{t} ({})", item.sku),
            None => item.sku.clone(),
        };
        sync.record((&item.sku, &item.sku), &label, &record(item), &record(erp_item), &mut out)?;
    }
    let now = inner.now();
    let queued = inner.journal.queue_writes(&out.writes, now)?;
    for e in &out.events {
        inner.journal.log_event(Some(run_id), e, now)?;
    }
    if out.new_conflicts > 0 {
        let title = match out.new_conflicts {
            1 => format!("1 catalog conflict between {} and {}", store_conn.name, erp_conn.name),
            n => format!("{n} catalog conflicts between {} and {}", store_conn.name, erp_conn.name),
        };
        crate::alerts::raise(
            inner,
            AlertKind::NewConflict,
            Some(&erp_conn.id),
            &format!("conflicts run {run_id}"),
            title,
            "Both sides changed the same product field differently. Open Conflicts to keep one or type the right one."
                .into(),
        )?;
    }
    inner.journal.finish_run(run_id, RunOutcome::Ok, None, inner.now())?;
    inner.changed();
    Ok((fetched, queued))
}
