//! The emulator against the documented behaviour, over loopback HTTP.

use super::*;
use crate::SimOptions;

fn opts(orders: usize) -> SimOptions {
    let now = DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z").expect("valid").with_timezone(&Utc);
    SimOptions { orders, now, ..SimOptions::default() }
}

async fn start(orders: usize) -> (RunningWoo, reqwest::Client, String) {
    let o = opts(orders);
    let sim = Arc::new(WooSim::seeded(&o, &seed::catalog(o.seed)));
    let running = RunningWoo::start(sim).await.expect("emulator starts");
    let base = format!("{}/wp-json/wc/v3", running.url());
    (running, reqwest::Client::new(), base)
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, HeaderMap, Value) {
    let (key, secret) = DEMO_WOO_KEY.split_once(':').expect("key:secret");
    let resp = client.get(url).basic_auth(key, Some(secret)).send().await.expect("answer");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.expect("JSON body"))
}

#[test]
fn base64_matches_the_rfc_examples() {
    for (raw, encoded) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
        assert_eq!(base64(raw.as_bytes()), encoded, "RFC 4648 test vector {raw:?}");
    }
}

#[test]
fn seeded_orders_add_up_the_way_woocommerce_stores_them() {
    let o = opts(60);
    let sim = WooSim::seeded(&o, &seed::catalog(o.seed));
    let d = |v: &Value| v.as_str().and_then(|s| s.parse::<Decimal>().ok()).expect("an amount as text");
    let mut kinds = (0, 0);
    for id in sim.order_ids() {
        let order = sim.order(id).expect("order");
        let lines: Decimal = order["line_items"].as_array().expect("lines").iter().map(|l| d(&l["total"])).sum();
        let shipping: Decimal =
            order["shipping_lines"].as_array().expect("shipping").iter().map(|l| d(&l["total"])).sum();
        assert_eq!(lines + shipping + d(&order["total_tax"]), d(&order["total"]), "order {id}: Σ totals + taxes");
        let subtotals: Decimal = order["line_items"].as_array().expect("lines").iter().map(|l| d(&l["subtotal"])).sum();
        assert_eq!(
            subtotals - lines,
            d(&order["discount_total"]),
            "order {id}: the discount is derived from the lines"
        );
        if order["prices_include_tax"] == true {
            kinds.0 += 1;
        } else {
            kinds.1 += 1;
        }
    }
    assert!(kinds.0 > 0 && kinds.1 > 0, "the mix has both kinds of shop: {kinds:?}");
}

#[tokio::test]
async fn a_wrong_key_is_refused_with_a_woocommerce_error() {
    let (_sim, client, base) = start(3).await;
    let resp = client.get(format!("{base}/orders")).basic_auth("ck_x", Some("cs_y")).send().await.expect("answer");
    assert_eq!(resp.status().as_u16(), 401);
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(body["code"], "woocommerce_rest_authentication_error");
    assert_eq!(body["data"]["status"], 401, "the status is repeated in data.status");
    let resp = client.get(format!("{base}/orders")).send().await.expect("answer");
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(body["code"], "woocommerce_rest_cannot_view", "no credentials at all");
}

#[tokio::test]
async fn lists_page_with_total_headers_and_refuse_more_than_100() {
    let (_sim, client, base) = start(25).await;
    let (status, headers, page) = get(&client, &format!("{base}/orders?per_page=10&page=3&orderby=id&order=asc")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-wp-total"], "25");
    assert_eq!(headers["x-wp-totalpages"], "3");
    assert_eq!(page.as_array().map(Vec::len), Some(5), "the last page has the rest");
    assert_eq!(page[0]["id"], 1021);
    assert!(headers["link"].to_str().expect("text").contains("rel=\"prev\""));
    let (status, _, body) = get(&client, &format!("{base}/orders?per_page=101")).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "rest_invalid_param");
    assert!(body["data"]["params"]["per_page"].as_str().is_some_and(|m| m.contains("100")), "{body}");
}

#[tokio::test]
async fn modified_after_is_exclusive_and_local_unless_dates_are_gmt() {
    let (sim, client, base) = start(5).await;
    let newest = sim.sim.order_ids().into_iter().max().expect("orders");
    let at = DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z").expect("t").with_timezone(&Utc);
    let count = |v: &Value| v.as_array().map_or(0, Vec::len);
    let (_, _, gmt) =
        get(&client, &format!("{base}/orders?modified_after=2026-11-26T11:59:59&dates_are_gmt=true")).await;
    assert_eq!(count(&gmt), 1, "only the newest order, modified at 12:00:00 GMT");
    assert_eq!(gmt[0]["id"], newest);
    assert_eq!(gmt[0]["date_modified_gmt"], render::gmt(at));
    assert_eq!(gmt[0]["date_modified"], "2026-11-26T13:00:00", "Berlin is an hour ahead in November");
    let (_, _, exact) =
        get(&client, &format!("{base}/orders?modified_after=2026-11-26T12:00:00&dates_are_gmt=true")).await;
    assert_eq!(count(&exact), 0, "modified_after is strictly after");
    let (_, _, local) = get(&client, &format!("{base}/orders?modified_after=2026-11-26T11:59:59")).await;
    assert_eq!(count(&local), 5, "without dates_are_gmt the date is the site's local time, an hour earlier");
}

#[tokio::test]
async fn a_batch_answers_each_item() {
    let (sim, client, base) = start(0).await;
    let (key, secret) = DEMO_WOO_KEY.split_once(':').expect("key:secret");
    let (_, _, products) = get(&client, &format!("{base}/products?sku=NOTEBOOK-05")).await;
    let id = products[0]["id"].as_u64().expect("found by sku");
    let body = json!({ "update": [{ "id": id, "regular_price": "9.50" }, { "id": 999_999, "regular_price": "1.00" },
        { "id": id, "regular_price": 12 }] });
    let resp = client.post(format!("{base}/products/batch")).basic_auth(key, Some(secret)).json(&body).send().await;
    let answer: Value = resp.expect("answer").json().await.expect("JSON");
    assert_eq!(answer["update"][0]["regular_price"], "9.50");
    assert_eq!(answer["update"][1]["error"]["code"], "woocommerce_rest_product_invalid_id");
    assert_eq!(answer["update"][2]["error"]["data"]["params"]["regular_price"], "regular_price is not of type string.");
    assert_eq!(sim.sim.price("NOTEBOOK-05"), Some("9.50".parse().expect("d")), "the good item was applied");
    let (_, _, none) = get(&client, &format!("{base}/products?sku=MUG-01")).await;
    assert_eq!(none.as_array().map(Vec::len), Some(0), "?sku= finds products, not variations");
}

#[tokio::test]
async fn the_rate_window_is_announced_and_enforced() {
    let (sim, client, base) = start(0).await;
    sim.sim.set_rate_window(Some((2, Duration::from_secs(30))));
    let (_, headers, _) = get(&client, &format!("{base}/products")).await;
    assert_eq!(headers["ratelimit-limit"], "2");
    assert_eq!(headers["ratelimit-remaining"], "1");
    let reset: i64 = headers["ratelimit-reset"].to_str().expect("text").parse().expect("a Unix time");
    assert!(reset > Utc::now().timestamp() + 25, "the window's end as a Unix time: {reset}");
    get(&client, &format!("{base}/products")).await;
    let (status, headers, body) = get(&client, &format!("{base}/products")).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limit_exceeded")));
    assert!(headers.contains_key("retry-after"));
    assert_eq!(sim.sim.throttled(), 1);
}
