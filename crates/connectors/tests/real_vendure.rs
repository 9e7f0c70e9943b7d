//! The Vendure connector against a real Vendure server (@vendure/core from
//! npm). Runs only with `FERRY_REAL_VENDURE_URL` set: start one with
//! `scripts/real/vendure.sh`, which seeds variants MUG-01 (12.50 USD),
//! TEE-02 (20.00), SOCK-03 (7.99) with a 20% tax, shipping at 5.00, the
//! customer ada@example.com, and three paid orders: grace@example.com's
//! (2 × MUG-01 and TEE-02 with the 10% coupon TENOFF), linus@example.com's
//! (3 × SOCK-03) and ken@example.com's (cancelled).

use chrono::{Duration, Utc};
use ferry_connectors::vendure::Vendure;
use ferry_connectors::{Customers, Store};
use ferry_domain::{CatalogField, ConnectorError, CustomerField, Money, Order, OrderStatus, Shipment};
use rust_decimal::Decimal;
use serde_json::{json, Value};

struct Server {
    url: String,
    user: String,
    password: String,
}

fn server() -> Option<Server> {
    let Ok(url) = std::env::var("FERRY_REAL_VENDURE_URL") else {
        // `make test` sets FERRY_REQUIRE_REAL: there, no server is a failure, not a skip.
        assert!(std::env::var("FERRY_REQUIRE_REAL").is_err(), "FERRY_REAL_VENDURE_URL is not set");
        println!("SKIPPED: set FERRY_REAL_VENDURE_URL (scripts/real/vendure.sh)");
        return None;
    };
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    Some(Server {
        url,
        user: var("FERRY_REAL_VENDURE_USER", "superadmin"),
        password: var("FERRY_REAL_VENDURE_PASSWORD", "ferry-Vendure-7k3p"),
    })
}

fn connector(s: &Server, extra: Value) -> Vendure {
    let mut settings = json!({ "username": s.user });
    if let (Some(base), Value::Object(extra)) = (settings.as_object_mut(), extra) {
        base.extend(extra);
    }
    Vendure::new(&s.url, &settings, &s.password).expect("valid settings")
}

/// A raw Admin API call as the superadmin, to look behind the connector.
async fn raw(s: &Server, query: &str, variables: Value) -> Value {
    let client = reqwest::Client::new();
    let endpoint = format!("{}/admin-api", s.url);
    let login = client
        .post(&endpoint)
        .json(
            &json!({ "query": "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { __typename } }",
            "variables": { "u": s.user, "p": s.password } }),
        )
        .send()
        .await
        .expect("login sent");
    let token = login.headers().get("vendure-auth-token").expect("bearer token").to_str().expect("ascii").to_owned();
    let answer: Value = client
        .post(&endpoint)
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("query sent")
        .json()
        .await
        .expect("query answer");
    assert!(answer.get("errors").is_none(), "{query} failed: {answer}");
    answer["data"].clone()
}

fn usd(s: &str) -> Money {
    Money::parse(s, "USD").expect("valid money")
}

async fn all_orders(v: &Vendure) -> Vec<Order> {
    let since = Utc::now() - Duration::days(3650);
    let (mut all, mut after) = (Vec::new(), None::<String>);
    for _ in 0..100 {
        let page = v.orders_page(Some(since), after.as_deref()).await.expect("orders page");
        all.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => return all,
        }
    }
    panic!("paging did not end within 100 pages");
}

#[tokio::test]
async fn orders_page_through_changes_one_at_a_time() {
    let Some(s) = server() else { return };
    let v = connector(&s, json!({ "page_size": 1 }));
    let all = all_orders(&v).await;
    let mut ids: Vec<&str> = all.iter().map(|o| o.id.as_str()).collect();
    assert!(ids.len() >= 3, "the three seeded orders, one a page: {ids:?}");
    assert!(all.windows(2).all(|w| w[0].updated_at <= w[1].updated_at), "oldest change first");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all.len(), "no order twice in one pass, even with equal change times");
    let later = v.orders_page(Some(Utc::now() + Duration::hours(1)), None).await.expect("page");
    assert!(later.items.is_empty() && later.next.is_none(), "nothing changed in the future");
    v.check().await.expect("the connection check passes");
}

#[tokio::test]
async fn an_order_maps_to_the_cent() {
    let Some(s) = server() else { return };
    let v = connector(&s, json!({}));
    let all = all_orders(&v).await;
    for o in &all {
        o.check_total().unwrap_or_else(|e| panic!("every order adds up: {e}"));
    }
    let grace = all.iter().find(|o| o.customer.email.as_deref() == Some("grace@example.com")).expect("seeded order");
    assert_eq!(grace.total, usd("53.60"), "(25.00 + 20.00 − 10%) + 20% tax + 5.00 shipping");
    assert!(!grace.taxes_included, "the default channel's prices exclude tax");
    let mug = grace.lines.iter().find(|l| l.sku.as_deref() == Some("MUG-01")).expect("mug line");
    assert_eq!((mug.quantity, &mug.unit_price), (2, &usd("12.50")), "Vendure's minor units become 12.50");
    assert_eq!(grace.discount, Some(usd("4.50")), "the coupon, net of tax, as a positive amount");
    assert_eq!(grace.shipping_lines.iter().map(|c| c.amount.amount).sum::<Decimal>(), Decimal::new(500, 2));
    let tax = grace.tax_lines.iter().find(|t| t.rate == Some(Decimal::new(2, 1))).expect("a 20% tax line");
    assert_eq!(tax.amount, usd("8.10"));
    assert_eq!(grace.status, OrderStatus::Open);
    assert_eq!(grace.shipping_address.as_ref().and_then(|a| a.country.as_deref()), Some("DE"));
    let ken = all.iter().find(|o| o.customer.email.as_deref() == Some("ken@example.com")).expect("seeded order");
    assert_eq!(ken.status, OrderStatus::Cancelled);
}

#[tokio::test]
async fn stock_is_set_and_read_back_as_available() {
    let Some(s) = server() else { return };
    let v = connector(&s, json!({ "location": "default" }));
    v.set_available("MUG-01", "default", 37).await.expect("stock set");
    assert_eq!(v.available("MUG-01", "default").await.expect("read"), 37);
    let data = raw(
        &s,
        r#"{ productVariants(options: { filter: { sku: { eq: "MUG-01" } } }) {
        items { stockOnHand stockAllocated } } }"#,
        json!({}),
    )
    .await;
    let item = &data["productVariants"]["items"][0];
    assert_eq!(
        item["stockOnHand"].as_i64().unwrap_or(0) - item["stockAllocated"].as_i64().unwrap_or(0),
        37,
        "available is on hand less what orders hold: {item}"
    );
    v.set_available("MUG-01", "1", 12).await.expect("stock set at location 1");
    assert_eq!(v.available("MUG-01", "1").await.expect("read"), 12, "the default stock location has id 1");
    let err = v.set_available("NO-SUCH-SKU", "default", 1).await.expect_err("unknown SKU");
    assert!(matches!(err, ConnectorError::Rejected { .. }), "{err:?}");
}

#[tokio::test]
async fn catalog_is_read_and_a_price_set() {
    let Some(s) = server() else { return };
    let v = connector(&s, json!({}));
    let catalog = v.catalog().await.expect("catalog");
    let sock = catalog.iter().find(|i| i.sku == "SOCK-03").expect("seeded variant");
    assert_eq!((sock.title.as_deref(), sock.active), (Some("Socks"), Some(true)));
    v.set_catalog_field("TEE-02", &CatalogField::Price(usd("21.99"))).await.expect("price set");
    let tee = v.catalog().await.expect("catalog").into_iter().find(|i| i.sku == "TEE-02").expect("tee");
    assert_eq!(tee.price, Some(usd("21.99")), "sent as 2199 minor units, read back as 21.99");
    let err = v
        .set_catalog_field("TEE-02", &CatalogField::Price(Money::parse("21.99", "EUR").expect("money")))
        .await
        .expect_err("another currency");
    assert!(matches!(err, ConnectorError::Rejected { .. }), "{err:?}");
}

#[tokio::test]
async fn customers_are_read_and_updated() {
    let Some(s) = server() else { return };
    let v = connector(&s, json!({ "page_size": 1 }));
    let ada = v.find_customer("ADA@example.com").await.expect("find").expect("seeded customer");
    assert_eq!(ada.customer.last_name.as_deref(), Some("Lovelace"));
    assert!(ada.customer.addresses.first().and_then(|a| a.city.as_deref()).is_some(), "seeded in London");
    // A value of this run, so that a second run against the same server still sees a change.
    let n = Utc::now().timestamp_subsec_millis();
    let (phone, city) = (format!("+49 30 1234{n:03}"), format!("Berlin {n}"));
    v.update_customer(
        &ada.id,
        &[(CustomerField::Phone, Some(phone.clone())), (CustomerField::City, Some(city.clone()))],
    )
    .await
    .expect("update");
    let back = v.customer(&ada.id).await.expect("read").expect("still there");
    assert_eq!(back.customer.phone, Some(phone));
    assert_eq!(back.customer.addresses.first().and_then(|a| a.city.clone()), Some(city));
    let (mut all, mut after) = (Vec::new(), None::<String>);
    loop {
        let page = v.customers_page(None, after.as_deref()).await.expect("customers page");
        all.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert!(all.iter().any(|c| c.id == ada.id), "paging one at a time reaches Ada");
    assert!(all.len() >= 4, "Ada and the three buyers: {}", all.len());
    assert_eq!(v.customer("999999").await.expect("read"), None, "an unknown id is None, not an error");
}

#[tokio::test]
async fn fulfilling_twice_makes_one_fulfillment() {
    let Some(s) = server() else { return };
    let v = connector(&s, json!({}));
    let linus = all_orders(&v)
        .await
        .into_iter()
        .find(|o| o.customer.email.as_deref() == Some("linus@example.com"))
        .expect("seeded order");
    let shipment = Shipment {
        id: None,
        order_ref: linus.id.clone(),
        carrier: "DHL".into(),
        service: String::new(),
        tracking_number: Some("JJD000390007".into()),
        label_url: None,
        tracking_url: None,
    };
    v.fulfill(&linus.id, &shipment).await.expect("first fulfill");
    v.fulfill(&linus.id, &shipment).await.expect("a repeat is harmless");
    let data = raw(
        &s,
        "query($id: ID!) { order(id: $id) { state fulfillments { state method trackingCode } } }",
        json!({ "id": linus.id }),
    )
    .await;
    let fulfillments = data["order"]["fulfillments"].as_array().cloned().unwrap_or_default();
    let ours: Vec<&Value> = fulfillments.iter().filter(|f| f["trackingCode"] == "JJD000390007").collect();
    assert_eq!(ours.len(), 1, "one fulfillment for one tracking number: {fulfillments:?}");
    assert_eq!((ours[0]["state"].as_str(), ours[0]["method"].as_str()), (Some("Shipped"), Some("DHL")));
    assert_eq!(data["order"]["state"], "Shipped", "the order moved on with its only fulfillment");
}

#[tokio::test]
async fn a_bad_password_is_an_auth_error() {
    let Some(s) = server() else { return };
    let v = Vendure::new(&s.url, &json!({ "username": s.user }), "not-the-password").expect("valid settings");
    let err = v.check().await.expect_err("refused");
    assert!(matches!(err, ConnectorError::Auth(_)), "pause the connection, do not retry: {err:?}");
}

#[tokio::test]
async fn an_error_result_is_rejected_with_vendures_message() {
    let Some(s) = server() else { return };
    let v = connector(&s, json!({}));
    let ada = v.find_customer("ada@example.com").await.expect("find").expect("seeded customer");
    let err = v
        .update_customer(&ada.id, &[(CustomerField::Email, Some("grace@example.com".into()))])
        .await
        .expect_err("another customer has that address");
    match err {
        ConnectorError::Rejected { message, .. } => {
            assert!(message.contains("EMAIL_ADDRESS_CONFLICT_ERROR"), "Vendure's code and words: {message}");
            assert!(message.to_lowercase().contains("email address"), "{message}");
        }
        other => panic!("an ErrorResult is data a person must fix: {other:?}"),
    }
}
