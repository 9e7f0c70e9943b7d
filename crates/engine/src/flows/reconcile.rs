//! Reconciliation of orders for a date range: every store order created in
//! the range against the ERP's documents (matched by our reference). The
//! differences are journaled, returned, and raise one alert.

use super::orders::fetch_with_retry;
use super::{erp_for, store_for};
use crate::api::{ApiError, ApiResult, Inner, ReconcileReport};
use chrono::{Days, NaiveDate, TimeZone, Utc};
use ferry_domain::{reconcile, AlertKind, ConnectorError, Order};
use ferry_journal::{ConnectionRow, Level, NewEvent, RunOutcome};

fn connector_error(e: ConnectorError) -> ApiError {
    ApiError::new(e.code(), e.to_string())
}

pub(crate) async fn reconcile_orders(
    inner: &Inner,
    store_conn: &ConnectionRow,
    erp_conn: &ConnectionRow,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<ReconcileReport> {
    let run_id = inner.journal.start_run(&erp_conn.id, "reconcile", inner.now())?;
    let result = compare(inner, store_conn, erp_conn, from, to, run_id).await;
    match &result {
        Ok(report) => {
            let message = format!(
                "{} store orders from {from} to {to}, {} ERP documents, {} differences",
                report.store_orders,
                report.erp_documents,
                report.drift.len()
            );
            let outcome = if report.drift.is_empty() { RunOutcome::Ok } else { RunOutcome::Partial };
            inner.journal.finish_run(run_id, outcome, Some(&message), inner.now())?;
        }
        Err(e) => inner.journal.finish_run(run_id, RunOutcome::Failed, Some(&e.message), inner.now())?,
    }
    inner.changed();
    result
}

async fn compare(
    inner: &Inner,
    store_conn: &ConnectionRow,
    erp_conn: &ConnectionRow,
    from: NaiveDate,
    to: NaiveDate,
    run_id: i64,
) -> ApiResult<ReconcileReport> {
    if from > to {
        return Err(ApiError::new(
            "settings",
            format!("the range {from} to {to} is empty: the start is after the end"),
        ));
    }
    let store = store_for(inner, store_conn)?;
    let erp = erp_for(inner, erp_conn)?;
    // Every order created in the range was updated at or after its creation.
    let since = Utc.from_utc_datetime(&from.and_hms_opt(0, 0, 0).unwrap_or_default());
    let mut orders: Vec<Order> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = fetch_with_retry(inner, store.as_ref(), Some(since), after.as_deref(), &store_conn.id)
            .await
            .map_err(connector_error)?;
        orders.extend(page.items.into_iter().filter(|o| (from..=to).contains(&o.created_at.date_naive())));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    // The ERP dates documents in its own time zone: look one day wider on
    // each side so an order near midnight is not reported missing.
    let wide_from = from.checked_sub_days(Days::new(1)).unwrap_or(from);
    let wide_to = to.checked_add_days(Days::new(1)).unwrap_or(to);
    let docs = erp.orders_between(wide_from, wide_to).await.map_err(connector_error)?;
    let drift = reconcile(&orders, &docs);
    for d in &drift {
        let event = NewEvent {
            level: Level::Warn,
            connection_id: Some(erp_conn.id.clone()),
            entity: Some("order".into()),
            entity_key: None,
            message: d.describe(&erp_conn.name),
        };
        inner.journal.log_event(Some(run_id), &event, inner.now())?;
    }
    if !drift.is_empty() {
        let examples: Vec<String> = drift.iter().take(3).map(|d| d.describe(&erp_conn.name)).collect();
        crate::alerts::raise(
            inner,
            AlertKind::Drift,
            Some(&erp_conn.id),
            &format!("reconcile {from} {to}"),
            format!("{} differences between {} and {}", drift.len(), store_conn.name, erp_conn.name),
            format!("{}{}", examples.join("; "), if drift.len() > 3 { "; …" } else { "" }),
        )?;
    }
    Ok(ReconcileReport {
        store_id: store_conn.id.clone(),
        erp_id: erp_conn.id.clone(),
        from,
        to,
        store_orders: orders.len(),
        erp_documents: docs.len(),
        drift,
    })
}
