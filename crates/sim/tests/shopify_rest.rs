//! The Shopify emulator's REST Admin API over real HTTP, as a REST client
//! sees it: Link-header pages, filters, `fields`, the call-limit header and
//! its 429, the unversioned access scopes, and Shopify's error answers.

use chrono::{DateTime, Datelike, Duration, Utc};
use ferry_sim::{RunningSim, SimOptions, DEMO_SHOPIFY_TOKEN};
use serde_json::Value;
use std::collections::HashSet;

const VERSION: &str = "2025-07";

async fn start(orders: usize) -> RunningSim {
    let now = DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z").expect("a time").with_timezone(&Utc);
    RunningSim::start(SimOptions { orders, now, ..SimOptions::default() }).await.expect("the sim starts")
}

/// A GET with the shop's token; `path` is under `/admin/api/{VERSION}/`
/// unless it starts with `/`.
async fn get(sim: &RunningSim, path: &str) -> reqwest::Response {
    let url = if path.starts_with("http") {
        path.to_owned()
    } else if path.starts_with('/') {
        format!("{}{path}", sim.shopify_url())
    } else {
        format!("{}/admin/api/{VERSION}/{path}", sim.shopify_url())
    };
    reqwest::Client::new()
        .get(url)
        .header("X-Shopify-Access-Token", DEMO_SHOPIFY_TOKEN)
        .send()
        .await
        .expect("the sim answers")
}

async fn json(response: reqwest::Response) -> Value {
    response.json().await.expect("a JSON body")
}

/// The URL of the `Link` header's `rel` entry (`next` or `previous`).
fn link(response: &reqwest::Response, rel: &str) -> Option<String> {
    let header = response.headers().get("link")?.to_str().ok()?;
    header.split(", ").find_map(|entry| {
        let (url, param) = entry.split_once("; ")?;
        (param == format!("rel=\"{rel}\"")).then(|| url.trim_start_matches('<').trim_end_matches('>').to_owned())
    })
}

/// Every item of a list, following `rel="next"` from `first`; the page sizes.
async fn walk(sim: &RunningSim, first: &str, root: &str) -> (Vec<Value>, Vec<usize>) {
    let (mut items, mut sizes) = (Vec::new(), Vec::new());
    let mut next = Some(first.to_owned());
    while let Some(url) = next {
        let response = get(sim, &url).await;
        assert_eq!(response.status(), 200, "{url} is served");
        next = link(&response, "next");
        let page = json(response).await[root].as_array().cloned().unwrap_or_default();
        sizes.push(page.len());
        items.extend(page);
    }
    (items, sizes)
}

fn ids(items: &[Value]) -> Vec<u64> {
    items.iter().filter_map(|o| o["id"].as_u64()).collect()
}

#[tokio::test]
async fn walking_orders_by_link_sees_each_order_once() {
    let sim = start(600).await;
    let (orders, sizes) = walk(&sim, "orders.json?limit=250", "orders").await;
    assert_eq!(sizes, [250, 250, 100], "full pages, then the rest, and no empty page after");
    let all = ids(&orders);
    assert_eq!(all.len(), 600, "every seeded order is listed");
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 600, "no order is listed twice");
    let created: Vec<DateTime<Utc>> = orders
        .iter()
        .filter_map(|o| DateTime::parse_from_rfc3339(o["created_at"].as_str()?).ok())
        .map(|t| t.with_timezone(&Utc))
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first by default");

    let second = get(&sim, "orders.json?limit=250").await;
    let second = get(&sim, &link(&second, "next").expect("a next page")).await;
    let back = link(&second, "previous").expect("a second page links back");
    let back = json(get(&sim, &back).await).await;
    assert_eq!(ids(back["orders"].as_array().expect("orders")), ids(&orders[..250]), "previous is the first page");
}

#[tokio::test]
async fn updated_at_min_keeps_the_orders_updated_since() {
    let sim = start(600).await;
    let since = "2026-11-26T12:00:00+01:00"; // 11:00 UTC: the last hour of orders
    let (orders, _) = walk(&sim, &format!("orders.json?limit=250&updated_at_min={since}"), "orders").await;
    let min = DateTime::parse_from_rfc3339(since).expect("a time");
    assert!(!orders.is_empty() && orders.len() < 600, "some orders, not all: {}", orders.len());
    for o in &orders {
        let updated = DateTime::parse_from_rfc3339(o["updated_at"].as_str().expect("updated_at")).expect("a time");
        assert!(updated >= min, "order {} updated at {updated} is not before {since}", o["id"]);
    }
    let count = json(get(&sim, &format!("orders/count.json?updated_at_min={since}")).await).await;
    assert_eq!(count["count"].as_u64(), Some(orders.len() as u64), "count.json applies the same filter");

    let ascending = json(get(&sim, "orders.json?limit=3&order=updated_at%20asc").await).await;
    let first = ascending["orders"][0]["updated_at"].as_str().expect("an order").to_owned();
    let oldest = Utc::now() - Duration::days(365);
    assert!(DateTime::parse_from_rfc3339(&first).is_ok_and(|t| t > oldest), "{first} is the oldest seeded order");
    let id = ascending["orders"][0]["id"].as_u64().expect("an id");
    let since_id = json(get(&sim, &format!("orders.json?since_id={id}&limit=1")).await).await;
    assert_eq!(since_id["orders"][0]["id"].as_u64(), Some(id + 1), "since_id lists by id, after it");
    let one = json(get(&sim, &format!("orders/{id}.json?fields=id,name")).await).await;
    assert_eq!(one["order"]["id"].as_u64(), Some(id));
}

#[tokio::test]
async fn fields_keep_only_the_named_keys() {
    let sim = start(20).await;
    let body = json(get(&sim, "orders.json?fields=id,name&limit=5").await).await;
    let orders = body["orders"].as_array().expect("orders");
    assert_eq!(orders.len(), 5);
    for o in orders {
        let keys: Vec<&String> = o.as_object().map(|m| m.keys().collect()).unwrap_or_default();
        assert_eq!(keys, ["id", "name"], "only the asked fields");
    }
}

#[tokio::test]
async fn every_answer_says_the_call_limit_and_a_burst_is_refused() {
    let sim = start(5).await;
    let first = get(&sim, "shop.json").await;
    assert_eq!(first.headers()["x-shopify-shop-api-call-limit"], "1/40", "the first call of a rested bucket");
    let mut refused = None;
    for _ in 0..60 {
        let response = get(&sim, "shop.json").await;
        let limit = response.headers()["x-shopify-shop-api-call-limit"].to_str().expect("ASCII").to_owned();
        let (used, size) = limit.split_once('/').expect("n/40");
        assert!(used.parse::<u32>().is_ok_and(|n| n <= 40) && size == "40", "{limit} is n/40");
        if response.status() == 429 {
            refused = Some(response);
            break;
        }
    }
    let refused = refused.expect("more than 40 calls at once overflow the bucket");
    assert_eq!(refused.headers()["retry-after"], "2.0");
    let body = json(refused).await;
    assert_eq!(
        body["errors"],
        "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
    );
    assert!(sim.sim.shopify.throttled.load(std::sync::atomic::Ordering::Relaxed) >= 1, "the 429 is counted");
}

#[tokio::test]
async fn access_scopes_and_shop() {
    let sim = start(5).await;
    let scopes = get(&sim, "/admin/oauth/access_scopes.json").await;
    assert_eq!(scopes.status(), 200, "access scopes are not versioned");
    let scopes = json(scopes).await;
    let handles: Vec<&str> =
        scopes["access_scopes"].as_array().into_iter().flatten().filter_map(|s| s["handle"].as_str()).collect();
    for wanted in ["read_orders", "write_orders", "read_products", "write_inventory", "read_locations"] {
        assert!(handles.contains(&wanted), "{wanted} is granted: {handles:?}");
    }
    let today = Utc::now().date_naive();
    let current = format!("{}-{:02}", today.year(), (today.month() - 1) / 3 * 3 + 1);
    let served = get(&sim, &format!("/admin/api/{current}/shop.json")).await;
    assert_eq!(
        served.headers()["x-shopify-api-version"],
        current.as_str(),
        "this quarter's version is served as asked"
    );
    let shop = get(&sim, "shop.json").await;
    let shop = json(shop).await;
    assert_eq!(shop["shop"]["currency"], "EUR");
    assert_eq!(shop["shop"]["iana_timezone"], "Europe/Berlin");
    assert!(shop["shop"]["myshopify_domain"].as_str().is_some_and(|d| d.ends_with(".myshopify.com")));
    let picked = json(get(&sim, "shop.json?fields=name,currency").await).await;
    assert_eq!(picked["shop"].as_object().map(|m| m.len()), Some(2));
}

#[tokio::test]
async fn events_page_by_link() {
    let sim = start(120).await;
    let (events, sizes) = walk(&sim, "events.json?limit=50", "events").await;
    assert_eq!(sizes, [50, 50, 20], "one confirmed event per order");
    assert_eq!(ids(&events).iter().collect::<HashSet<_>>().len(), 120, "no event twice");
    assert!(events.iter().all(|e| e["subject_type"] == "Order" && e["verb"] == "confirmed"));
    let since = ids(&events).into_iter().min().expect("events");
    let later = json(get(&sim, &format!("events.json?since_id={since}&limit=250&verb=confirmed")).await).await;
    assert_eq!(later["events"].as_array().map(Vec::len), Some(119), "since_id: the events after it");
    let none = json(get(&sim, "events.json?filter=Product").await).await;
    assert_eq!(none["events"].as_array().map(Vec::len), Some(0), "no product events in this shop");
}

#[tokio::test]
async fn shopifys_error_answers() {
    let sim = start(30).await;
    let bad_token = reqwest::Client::new()
        .get(format!("{}/admin/api/{VERSION}/orders.json", sim.shopify_url()))
        .header("X-Shopify-Access-Token", "shpat_wrong")
        .send()
        .await
        .expect("the sim answers");
    assert_eq!(bad_token.status(), 401);
    assert_eq!(
        json(bad_token).await["errors"],
        "[API] Invalid API key or access token (unrecognized login or wrong password)"
    );

    let over = get(&sim, "orders.json?limit=251").await;
    assert_eq!(over.status(), 400);
    assert!(json(over).await["errors"]["limit"].is_string(), "the limit is named");

    let first = get(&sim, "orders.json?limit=10").await;
    let next = link(&first, "next").expect("30 orders make three pages");
    let mixed = get(&sim, &format!("{next}&status=any")).await;
    assert_eq!(mixed.status(), 400);
    assert_eq!(
        json(mixed).await["errors"]["status"],
        "status cannot be passed when page_info is present. See https://shopify.dev/api/usage/pagination-rest for more information."
    );
    let forged = get(&sim, "orders.json?page_info=abc").await;
    assert_eq!(forged.status(), 400);
    assert_eq!(json(forged).await["errors"]["page_info"], "Invalid value.");

    let unknown = get(&sim, "/admin/api/2025-13/orders.json").await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(json(unknown).await["errors"], "Not Found");
    let retired = get(&sim, "/admin/api/2019-10/shop.json").await;
    assert_eq!(retired.status(), 200, "a retired version falls forward");
    assert_ne!(retired.headers()["x-shopify-api-version"], "2019-10", "and says which version answered");

    let missing = get(&sim, "orders/42.json").await;
    assert_eq!(missing.status(), 404);
    let bad_date = get(&sim, "orders.json?updated_at_min=yesterday").await;
    assert_eq!(bad_date.status(), 400);
    assert!(json(bad_date).await["errors"]["updated_at_min"].is_string());
}
