//! The connector contract: scenarios every connector of a capability must
//! pass through its trait alone, so the same code runs against each store,
//! each ERP and each courier, on its emulator and, where one exists, on its
//! real server. The test files (`contract_stores.rs`, `contract_erps.rs`,
//! `contract_couriers.rs`) only build connectors and call these; a test is
//! named `<capability>_<scenario>_<connector>_<emulator|real>`.
//!
//! Scenarios leave a real server as they found it where they change shared
//! data (a catalog price is put back) and otherwise only add records under
//! references no earlier run used.

#![allow(dead_code)] // each test file uses the scenarios of its own capability

use chrono::{Duration, Utc};
use ferry_connectors::{Courier, Erp, Page, Result, Store};
use ferry_domain::{
    Address, CatalogField, CatalogItem, ConnectorError, Customer, Money, Order, OrderLine, OrderStatus, ShipmentRequest,
};
use ferry_sim::Faults;
use rust_decimal::Decimal;
use std::collections::HashSet;
use std::future::Future;

/// A real server's setting, or `None` (the test prints SKIPPED). With
/// `FERRY_REQUIRE_REAL` set (scripts/real-servers.sh, `make test`), a
/// missing variable is a failure, as in the other real tests.
pub fn real_var(name: &str, how: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Some(v),
        _ => {
            assert!(std::env::var("FERRY_REQUIRE_REAL").is_err(), "{name} is not set");
            println!("SKIPPED: set {name} ({how})");
            None
        }
    }
}

/// A real server's optional setting with its default.
pub fn real_var_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// A reference no earlier run used: a real server's data outlives a run.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// Follows `next` from the first page until it is `None`; returns the
/// items and the number of pages.
async fn read_all<T, F, Fut>(what: &str, mut page: F) -> (Vec<T>, usize)
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>>>,
{
    let (mut all, mut after, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let p = page(after.clone()).await.unwrap_or_else(|e| panic!("{what}: page {} failed: {e:?}", pages + 1));
        pages += 1;
        all.extend(p.items);
        match p.next {
            Some(next) => {
                assert_ne!(after.as_deref(), Some(next.as_str()), "{what}: the page token must move on");
                after = Some(next);
            }
            None => return (all, pages),
        }
        assert!(pages < 1000, "{what}: paging did not end within 1000 pages");
    }
}

fn assert_unique<'a>(what: &str, ids: impl IntoIterator<Item = &'a str>) -> usize {
    let mut seen = HashSet::new();
    let mut twice = Vec::new();
    for id in ids {
        if !seen.insert(id) {
            twice.push(id);
        }
    }
    assert!(twice.is_empty(), "{what}: read more than once in one pass: {twice:?}");
    seen.len()
}

fn expect_auth(what: &str, result: Result<()>) {
    match result {
        Err(ConnectorError::Auth(message)) => assert!(!message.is_empty(), "{what}: say what was refused"),
        other => panic!("{what}: a wrong secret must be ConnectorError::Auth, got {other:?}"),
    }
}

fn expect_rejected_naming(what: &str, sku: &str, result: Result<impl std::fmt::Debug>) {
    match result {
        Err(ConnectorError::Rejected { message, fields }) => {
            let named = message.contains(sku) || fields.iter().any(|f| f.message.contains(sku));
            assert!(named, "{what}: the message must name the SKU {sku}: {message:?} {fields:?}");
        }
        other => panic!("{what}: expected Rejected naming {sku}, got {other:?}"),
    }
}

/// Sets the fault, expects `RateLimited` with a wait from `call`, then the
/// same call succeeds.
async fn rate_limited_then_ok<F, Fut>(what: &str, faults: &Faults, mut call: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<()>>,
{
    faults.rate_limit_next(1);
    match call().await {
        Err(ConnectorError::RateLimited { retry_after }) => {
            assert!(retry_after > std::time::Duration::ZERO, "{what}: a rate limit says how long to wait");
            assert!(retry_after <= std::time::Duration::from_secs(60), "{what}: a sane wait, got {retry_after:?}");
        }
        other => panic!("{what}: a 429 must be RateLimited, got {other:?}"),
    }
    call().await.unwrap_or_else(|e| panic!("{what}: the call after the rate limit must succeed: {e:?}"));
}

/// A new price for `item`, different from the one it has.
fn other_price(item: &CatalogItem, fallback_currency: &str) -> Money {
    match &item.price {
        Some(p) => Money::new(p.amount + Decimal::new(137, 2), p.currency.clone()),
        None => Money::parse("9.99", fallback_currency).expect("valid money"),
    }
}

/// The first active item with a price, else the first item.
fn pick(catalog: &[CatalogItem]) -> &CatalogItem {
    catalog
        .iter()
        .find(|i| i.price.is_some() && i.active != Some(false))
        .or(catalog.first())
        .expect("a non-empty catalog")
}

fn price_of(catalog: &[CatalogItem], sku: &str) -> Option<Money> {
    catalog.iter().find(|i| i.sku == sku).and_then(|i| i.price.clone())
}

fn check_catalog(what: &str, catalog: &[CatalogItem]) {
    assert!(!catalog.is_empty(), "{what}: the catalog has items");
    assert!(catalog.iter().all(|i| !i.sku.trim().is_empty()), "{what}: every item has a SKU");
    assert_unique(what, catalog.iter().map(|i| i.sku.as_str()));
}

// ---------------------------------------------------------------- stores

/// A store connector built with a wrong secret is refused as `Auth`.
pub async fn store_auth(bad: &dyn Store) {
    expect_auth("store check with a wrong secret", bad.check().await);
    expect_auth("store orders_page with a wrong secret", bad.orders_page(None, None).await.map(|_| ()));
}

/// Every order once, following `next` until `None`: at least `min_orders`
/// over at least `min_pages` pages.
pub async fn store_pagination(s: &dyn Store, min_orders: usize, min_pages: usize) {
    s.check().await.expect("the connection check passes");
    let (all, pages) = read_all("orders", |after| async move { s.orders_page(None, after.as_deref()).await }).await;
    let distinct = assert_unique("orders", all.iter().map(|o| o.id.as_str()));
    assert!(distinct >= min_orders, "every order: expected at least {min_orders}, read {distinct}");
    assert!(pages >= min_pages, "expected at least {min_pages} pages, read {pages}");
    assert!(all.windows(2).all(|w| w[0].updated_at <= w[1].updated_at), "oldest change first");
}

/// A since-filter in the future returns nothing; one just before the
/// newest change returns that order, and only orders changed since.
pub async fn store_incremental(s: &dyn Store) {
    let future = s.orders_page(Some(Utc::now() + Duration::hours(1)), None).await.expect("a page");
    assert!(future.items.is_empty() && future.next.is_none(), "nothing changed in the future: {future:?}");
    let (all, _) = read_all("orders", |after| async move { s.orders_page(None, after.as_deref()).await }).await;
    let newest = all.iter().max_by_key(|o| o.updated_at).expect("the store has orders");
    let since = newest.updated_at - Duration::seconds(1);
    let (recent, _) =
        read_all("orders since", |after| async move { s.orders_page(Some(since), after.as_deref()).await }).await;
    assert!(recent.iter().any(|o| o.id == newest.id), "the newest order {} is read since {since}", newest.id);
    assert!(recent.iter().all(|o| o.updated_at >= since), "only orders changed since {since}");
    assert!(recent.len() <= all.len(), "a since-filter never reads more than everything");
}

/// A catalog field of an unknown SKU is `Rejected`, naming it.
pub async fn store_errors(s: &dyn Store) {
    let sku = unique("NO-SUCH-SKU");
    let price = s.catalog().await.expect("catalog").first().and_then(|i| i.price.clone());
    let price = price.unwrap_or_else(|| Money::parse("1.00", "EUR").expect("money"));
    expect_rejected_naming(
        "set_catalog_field of an unknown SKU",
        &sku,
        s.set_catalog_field(&sku, &CatalogField::Price(price)).await,
    );
}

/// One 429 from the emulator is `RateLimited` with a wait; the next call works.
pub async fn store_rate_limit(s: &dyn Store, faults: &Faults) {
    rate_limited_then_ok("store check", faults, || s.check()).await;
    rate_limited_then_ok("store orders_page", faults, || async { s.orders_page(None, None).await.map(|_| ()) }).await;
}

/// `catalog()` is non-empty; a price set is read back; the old price is put back.
pub async fn store_catalog(s: &dyn Store) {
    let before = s.catalog().await.expect("catalog");
    check_catalog("store catalog", &before);
    let item = pick(&before).clone();
    let new = other_price(&item, "EUR");
    s.set_catalog_field(&item.sku, &CatalogField::Price(new.clone())).await.expect("price set");
    let after = s.catalog().await.expect("catalog again");
    let read = price_of(&after, &item.sku);
    if let Some(old) = &item.price {
        s.set_catalog_field(&item.sku, &CatalogField::Price(old.clone())).await.expect("old price put back");
    }
    assert_eq!(read.map(|p| p.amount), Some(new.amount), "{}: the price set is read back", item.sku);
    assert_eq!(after.len(), before.len(), "a price change adds or drops no item");
}

// ------------------------------------------------------------------ ERPs

/// An ERP connector built with a wrong secret is refused as `Auth`.
pub async fn erp_auth(bad: &dyn Erp) {
    expect_auth("ERP check with a wrong secret", bad.check().await);
    expect_auth("ERP stock_page with a wrong secret", bad.stock_page(None, None).await.map(|_| ()));
}

/// Every stock record once, following `next` until `None`.
pub async fn erp_pagination(e: &dyn Erp, min_records: usize) {
    e.check().await.expect("the connection check passes");
    let (all, _) = read_all("stock", |after| async move { e.stock_page(None, after.as_deref()).await }).await;
    let distinct = assert_unique("stock", all.iter().map(|r| r.id.as_str()));
    assert!(distinct >= min_records, "every stock record: expected at least {min_records}, read {distinct}");
    assert!(all.iter().all(|r| !r.level.sku.is_empty()), "every record names its SKU");
    assert!(all.windows(2).all(|w| w[0].updated_at <= w[1].updated_at), "oldest change first");
}

/// A since-filter in the future returns nothing; one just before the
/// newest change returns that record, and only records changed since.
pub async fn erp_incremental(e: &dyn Erp) {
    let future = e.stock_page(Some(Utc::now() + Duration::hours(1)), None).await.expect("a page");
    assert!(future.items.is_empty() && future.next.is_none(), "nothing changed in the future: {future:?}");
    let (all, _) = read_all("stock", |after| async move { e.stock_page(None, after.as_deref()).await }).await;
    let Some(newest) = all.iter().max_by_key(|r| r.updated_at) else {
        panic!("the ERP has no stock records to read incrementally");
    };
    let since = newest.updated_at - Duration::seconds(1);
    let (recent, _) =
        read_all("stock since", |after| async move { e.stock_page(Some(since), after.as_deref()).await }).await;
    assert!(recent.iter().any(|r| r.id == newest.id), "the newest record {} is read since {since}", newest.id);
    assert!(recent.iter().all(|r| r.updated_at >= since), "only records changed since {since}");
}

/// An order of `lines` (SKU, title, quantity, unit price) with prices
/// including taxes and no shipping, so no ERP needs extra settings.
pub fn order(id: &str, lines: &[(&str, &str, i64, Money)]) -> Order {
    let currency = lines.first().map(|l| l.3.currency.clone()).expect("at least one line");
    let total: Decimal = lines.iter().map(|l| l.3.amount * Decimal::from(l.2)).sum();
    let now = Utc::now();
    let o = Order {
        id: id.into(),
        number: format!("#{id}"),
        created_at: now,
        updated_at: now,
        status: OrderStatus::Open,
        customer: Customer {
            email: Some("contract.tester@example.com".into()),
            first_name: Some("Contract".into()),
            last_name: Some("Tester".into()),
            ..Customer::default()
        },
        shipping_address: Some(Address {
            name: Some("Contract Tester".into()),
            line1: Some("Hauptstr. 1".into()),
            city: Some("Berlin".into()),
            postcode: Some("10115".into()),
            country: Some("DE".into()),
            ..Address::default()
        }),
        lines: lines
            .iter()
            .map(|(sku, title, quantity, price)| OrderLine {
                sku: Some((*sku).to_owned()),
                title: (*title).to_owned(),
                quantity: *quantity,
                unit_price: price.clone(),
            })
            .collect(),
        shipping_lines: vec![],
        tax_lines: vec![],
        taxes_included: true,
        discount: None,
        total: Money::new(total, currency),
        refunds: vec![],
    };
    o.check_total().expect("the contract's order adds up");
    o
}

/// Not found before; created from the ERP's own catalog; found after under
/// the same reference (what makes the engine's find-before-create safe).
pub async fn erp_idempotent_create(e: &dyn Erp) {
    let catalog = e.catalog().await.expect("catalog");
    let priced: Vec<&CatalogItem> = catalog
        .iter()
        .filter(|i| i.active != Some(false) && i.price.as_ref().is_some_and(|p| p.amount > Decimal::ZERO))
        .collect();
    assert!(!priced.is_empty(), "the ERP's catalog has an active item with a price: {catalog:?}");
    let line = |i: &&CatalogItem, qty| {
        (i.sku.clone(), i.title.clone().unwrap_or_else(|| i.sku.clone()), qty, i.price.clone().expect("priced"))
    };
    let mut wanted = vec![line(&priced[0], 2)];
    if let Some(second) =
        priced.get(1).filter(|i| i.price.as_ref().map(|p| &p.currency) == priced[0].price.as_ref().map(|p| &p.currency))
    {
        wanted.push(line(second, 1));
    }
    let lines: Vec<(&str, &str, i64, Money)> =
        wanted.iter().map(|(s, t, q, p)| (s.as_str(), t.as_str(), *q, p.clone())).collect();
    let reference = unique("contract-order");
    let o = order(&reference, &lines);
    assert_eq!(e.find_order(&reference).await.expect("lookup"), None, "nothing made from {reference} yet");
    let made = e.create_order(&o).await.unwrap_or_else(|err| panic!("create_order {reference}: {err:?}"));
    assert_eq!(made.external_ref, reference, "the document carries our reference");
    assert!(!made.cancelled, "a new document is live");
    let found = e.find_order(&reference).await.expect("lookup after create");
    assert_eq!(found.as_ref(), Some(&made), "find_order returns the document create_order made");
    assert_eq!(e.find_order(&reference).await.expect("lookup again"), found, "finding twice finds the same");
    let other = unique("contract-order-none");
    assert_eq!(e.find_order(&other).await.expect("lookup"), None, "another reference finds nothing");
}

/// An order with an unknown SKU is `Rejected`, naming the SKU.
pub async fn erp_errors(e: &dyn Erp) {
    let catalog = e.catalog().await.expect("catalog");
    let currency = catalog.iter().find_map(|i| i.price.as_ref().map(|p| p.currency.code().to_owned()));
    let price = Money::parse("3.50", currency.as_deref().unwrap_or("EUR")).expect("money");
    let sku = unique("NO-SUCH-SKU");
    let reference = unique("contract-bad-order");
    let o = order(&reference, &[(&sku, "Nothing we sell", 1, price)]);
    expect_rejected_naming("create_order with an unknown SKU", &sku, e.create_order(&o).await);
    let found = e.find_order(&reference).await.expect("lookup");
    assert!(found.as_ref().is_none_or(|d| d.cancelled), "a refused order leaves no live document: {found:?}");
    let bad_price = Money::parse("1.00", currency.as_deref().unwrap_or("EUR")).expect("money");
    expect_rejected_naming(
        "set_catalog_field of an unknown SKU",
        &sku,
        e.set_catalog_field(&sku, &CatalogField::Price(bad_price)).await,
    );
}

/// One 429 from the emulator is `RateLimited` with a wait; the next call works.
pub async fn erp_rate_limit(e: &dyn Erp, faults: &Faults) {
    rate_limited_then_ok("ERP check", faults, || e.check()).await;
    rate_limited_then_ok("ERP stock_page", faults, || async { e.stock_page(None, None).await.map(|_| ()) }).await;
}

/// `catalog()` is non-empty; a price set is read back; the old price is put back.
pub async fn erp_catalog(e: &dyn Erp) {
    let before = e.catalog().await.expect("catalog");
    check_catalog("ERP catalog", &before);
    let item = pick(&before).clone();
    let new = other_price(&item, "EUR");
    e.set_catalog_field(&item.sku, &CatalogField::Price(new.clone())).await.expect("price set");
    let after = e.catalog().await.expect("catalog again");
    let read = price_of(&after, &item.sku);
    if let Some(old) = &item.price {
        e.set_catalog_field(&item.sku, &CatalogField::Price(old.clone())).await.expect("old price put back");
    }
    assert_eq!(read.map(|p| p.amount), Some(new.amount), "{}: the price set is read back", item.sku);
    assert_eq!(after.len(), before.len(), "a price change adds or drops no item");
}

// -------------------------------------------------------------- couriers

/// A parcel to Paris, 800 g, the cheapest service.
pub fn parcel(reference: &str) -> ShipmentRequest {
    ShipmentRequest {
        reference: reference.into(),
        order_ref: "#1001".into(),
        to: Address {
            name: Some("Ada Lovelace".into()),
            line1: Some("12 Rue de Rivoli".into()),
            city: Some("Paris".into()),
            postcode: Some("75001".into()),
            country: Some("FR".into()),
            ..Address::default()
        },
        email: Some("ada@example.com".into()),
        weight_grams: 800,
        service: None,
    }
}

/// A courier connector built with a wrong secret is refused as `Auth`.
pub async fn courier_auth(bad: &dyn Courier) {
    expect_auth("courier check with a wrong secret", bad.check().await);
    let reference = unique("contract-auth");
    expect_auth("courier find_shipment with a wrong secret", bad.find_shipment(&reference).await.map(|_| ()));
}

/// An unknown reference is `Ok(None)`, not an error.
pub async fn courier_lookup(c: &dyn Courier) {
    c.check().await.expect("the connection check passes");
    let reference = unique("contract-none");
    assert_eq!(c.find_shipment(&reference).await.expect("lookup"), None, "nothing booked for {reference}");
}

/// Not found before; booked; found after under the same reference, the
/// same shipment, however often it is looked up.
pub async fn courier_idempotent_create(c: &dyn Courier) {
    let reference = unique("contract-parcel");
    assert_eq!(c.find_shipment(&reference).await.expect("lookup"), None, "nothing booked yet");
    let booked = c.create_shipment(&parcel(&reference)).await.unwrap_or_else(|e| panic!("booking: {e:?}"));
    assert_eq!(booked.order_ref, reference, "the shipment carries our reference");
    assert!(booked.id.is_some(), "the courier's id: {booked:?}");
    assert!(booked.tracking_number.is_some(), "a bought label has a tracking number: {booked:?}");
    for _ in 0..2 {
        let found = c.find_shipment(&reference).await.expect("lookup after booking").expect("found by our reference");
        assert_eq!(
            (&found.id, &found.order_ref, &found.tracking_number, &found.carrier, &found.service),
            (&booked.id, &booked.order_ref, &booked.tracking_number, &booked.carrier, &booked.service),
            "find_shipment returns the shipment create_shipment booked"
        );
    }
}

/// A parcel without weight is `Rejected` before any label is bought.
pub async fn courier_errors(c: &dyn Courier) {
    let reference = unique("contract-weightless");
    let mut request = parcel(&reference);
    request.weight_grams = 0;
    match c.create_shipment(&request).await {
        Err(ConnectorError::Rejected { message, .. }) => assert!(!message.is_empty(), "say what is wrong"),
        other => panic!("a weightless parcel must be Rejected, got {other:?}"),
    }
    let found = c.find_shipment(&reference).await.expect("lookup");
    assert!(found.as_ref().is_none_or(|s| s.tracking_number.is_none()), "no label was bought: {found:?}");
}

/// One 429 from the emulator is `RateLimited` with a wait; the next call works.
pub async fn courier_rate_limit(c: &dyn Courier, faults: &Faults) {
    rate_limited_then_ok("courier check", faults, || c.check()).await;
    let reference = unique("contract-rate");
    rate_limited_then_ok("courier find_shipment", faults, || async { c.find_shipment(&reference).await.map(|_| ()) })
        .await;
}
