//! The customers flow, both ways between a store and an ERP: email, phone
//! and the address, merged field by field (see `fields`).
//!
//! Customers changed on either side since that side's cursor are read. A
//! store customer and an ERP customer are linked once (by email, the first
//! time both are seen) and by the link after that, so an email change
//! flows too. Customers that exist on one side only are not copied: the
//! orders flow creates the ERP customer with their first order, and an ERP
//! customer who never ordered online has no business becoming a shop account.

use super::fields::{Decisions, FieldSync};
use super::orders::read_with_retry;
use super::{erp_for, store_for, RunMode};
use crate::api::{ApiError, ApiResult, FlowCounts, Inner};
use chrono::{DateTime, Utc};
use ferry_connectors::Customers;
use ferry_domain::{AlertKind, ConnectorError, CursorWindow, CustomerField, CustomerReading, Record};
use ferry_journal::{ConnectionRow, PageCommit, RunOutcome};
use std::collections::HashSet;

pub const ENTITY: &str = "customer";

pub(crate) async fn run(
    inner: &Inner,
    store: &ConnectionRow,
    erp: &ConnectionRow,
    mode: RunMode,
) -> ApiResult<FlowCounts> {
    super::both_ways(inner, store, erp, ENTITY, mode, || compare(inner, store, erp)).await
}

/// A customer's fields as compared (see `CustomerField::of`).
fn record(c: &CustomerReading) -> Record {
    CustomerField::ALL.into_iter().map(|f| (f.name().to_owned(), f.of(&c.customer))).collect()
}

/// A value a person typed for `field`, checked and written as compared.
pub(crate) fn typed_value(field: &str, typed: &str) -> ApiResult<String> {
    let f = CustomerField::parse(field)
        .ok_or_else(|| ApiError::new("settings", format!("{field:?} is not a customer field")))?;
    let value = f.normalize(typed).ok_or_else(|| ApiError::new("settings", format!("the {field} cannot be empty")))?;
    f.check(&value).map_err(|e| ApiError::new("settings", e))?;
    Ok(value)
}

/// The changes a queued write carries, checked before they are sent.
pub(crate) fn changes(fields: &Record) -> Result<Vec<(CustomerField, Option<String>)>, String> {
    fields
        .iter()
        .map(|(name, value)| {
            let f = CustomerField::parse(name).ok_or_else(|| format!("{name:?} is not a customer field"))?;
            if let Some(v) = value {
                f.check(v)?;
            }
            Ok((f, value.clone()))
        })
        .collect()
}

/// Everything changed on one side since its cursor, and the cursor to
/// commit once those are decided.
async fn read_changed(
    inner: &Inner,
    conn: &ConnectionRow,
    system: &dyn Customers,
    run_start: DateTime<Utc>,
) -> Result<(Vec<CustomerReading>, ferry_domain::CursorState), ConnectorError> {
    let cursor = inner.journal.cursor(&conn.id, ENTITY).map_err(super::journal_err)?;
    let window = CursorWindow::new(&cursor, run_start, inner.tuning.overlap);
    let (mut all, mut after) = (Vec::new(), None::<String>);
    loop {
        let page = read_with_retry(inner, &conn.id, || system.customers_page(window.since, after.as_deref())).await?;
        all.extend(page.items.into_iter().filter(|c| window.admits(&cursor, &c.id, c.updated_at)));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    // One reading per customer (an ERP customer may come with its contact and its address).
    let mut seen = HashSet::new();
    all.reverse();
    all.retain(|c| seen.insert(c.id.clone()));
    all.reverse();
    let next = window.advance(&cursor, all.iter().map(|c| (c.id.as_str(), c.updated_at)));
    Ok((all, next))
}

/// The other side's customer for one changed on this side: by the link,
/// else by email (and then linked).
async fn counterpart(
    inner: &Inner,
    conn: &ConnectionRow,
    system: &dyn Customers,
    linked: Option<String>,
    email: Option<String>,
) -> Result<Option<CustomerReading>, ConnectorError> {
    if let Some(id) = linked {
        return read_with_retry(inner, &conn.id, || system.customer(&id)).await;
    }
    match email {
        Some(e) => read_with_retry(inner, &conn.id, || system.find_customer(&e)).await,
        None => Ok(None),
    }
}

async fn compare(inner: &Inner, store_conn: &ConnectionRow, erp_conn: &ConnectionRow) -> ApiResult<(u64, u64)> {
    let lock = inner.exclusive(&format!("customers:{}:{}", store_conn.id, erp_conn.id));
    let _guard = lock.lock().await;
    let run_start = inner.now();
    let run_id = inner.journal.start_run(&store_conn.id, "customers", run_start)?;
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
    let (store, erp): (&dyn Customers, &dyn Customers) = (store.as_ref(), erp.as_ref());
    let j = &inner.journal;
    let read = async {
        let (s_changed, s_cursor) =
            read_changed(inner, store_conn, store, run_start).await.map_err(|e| (store_conn, e))?;
        let (e_changed, e_cursor) = read_changed(inner, erp_conn, erp, run_start).await.map_err(|e| (erp_conn, e))?;
        let mut pairs = Vec::new();
        let mut erp_done = HashSet::new();
        for s in &s_changed {
            let linked = j.link_target_key(ENTITY, &store_conn.id, &s.id, &erp_conn.id).map_err(super::journal_err);
            let linked = linked.map_err(|e| (store_conn, e))?;
            let found = counterpart(inner, erp_conn, erp, linked, s.customer.email.clone()).await;
            if let Some(e) = found.map_err(|e| (erp_conn, e))? {
                erp_done.insert(e.id.clone());
                pairs.push((s.clone(), e));
            }
        }
        for e in e_changed.iter().filter(|e| !erp_done.contains(&e.id)) {
            let linked = j.link_source_key(ENTITY, &store_conn.id, &erp_conn.id, &e.id).map_err(super::journal_err);
            let linked = linked.map_err(|x| (erp_conn, x))?;
            let found = counterpart(inner, store_conn, store, linked, e.customer.email.clone()).await;
            if let Some(s) = found.map_err(|x| (store_conn, x))? {
                pairs.push((s, e.clone()));
            }
        }
        Ok::<_, (&ConnectionRow, ConnectorError)>((pairs, s_changed.len() + e_changed.len(), s_cursor, e_cursor))
    }
    .await;
    let (pairs, fetched, store_cursor, erp_cursor) = match read {
        Ok(v) => v,
        Err((which, e)) => {
            super::read_failed(inner, which, run_id, &e, "customers", "customers stay as they are meanwhile.")?;
            inner.journal.finish_run(run_id, RunOutcome::Failed, Some(&e.to_string()), inner.now())?;
            inner.changed();
            return Ok((0, 0));
        }
    };
    let now = inner.now();
    let sync = FieldSync { inner, store: store_conn, erp: erp_conn, entity: ENTITY, now };
    let mut out = Decisions::default();
    for (s, e) in &pairs {
        // The link is what pairs them from now on, even after an email change.
        if j.link_target_key(ENTITY, &store_conn.id, &s.id, &erp_conn.id)?.as_deref() != Some(e.id.as_str()) {
            j.set_link(ENTITY, &store_conn.id, &s.id, &erp_conn.id, &e.id, now)?;
        }
        let label = match &s.customer.email {
            Some(email) => format!("Customer {} ({email})", s.customer.display_name()),
            None => format!("Customer {}", s.customer.display_name()),
        };
        sync.record((&s.id, &e.id), &label, &record(s), &record(e), &mut out)?;
    }
    let queued = j.commit_page(
        PageCommit {
            run_id,
            source_id: &store_conn.id,
            entity: ENTITY,
            cursor: &store_cursor,
            writes: out.writes,
            events: out.events,
            fetched: fetched as u64,
        },
        now,
    )?;
    j.commit_page(
        PageCommit {
            run_id,
            source_id: &erp_conn.id,
            entity: ENTITY,
            cursor: &erp_cursor,
            writes: vec![],
            events: vec![],
            fetched: 0,
        },
        now,
    )?;
    if out.new_conflicts > 0 {
        let title = match out.new_conflicts {
            1 => format!("1 customer conflict between {} and {}", store_conn.name, erp_conn.name),
            n => format!("{n} customer conflicts between {} and {}", store_conn.name, erp_conn.name),
        };
        crate::alerts::raise(
            inner,
            AlertKind::NewConflict,
            Some(&erp_conn.id),
            &format!("conflicts run {run_id}"),
            title,
            "Both sides changed the same customer detail differently. Open Conflicts to keep one or type the right one."
                .into(),
        )?;
    }
    j.finish_run(run_id, RunOutcome::Ok, None, inner.now())?;
    inner.changed();
    Ok((fetched as u64, queued))
}
