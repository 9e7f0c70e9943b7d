//! The engine against the real servers of scripts/real-servers.sh: Vendure
//! (store), Tryton (ERP) and Karrio (courier), all on loopback.
//!
//! Orders placed through Vendure's Shop API reach Tryton exactly once across
//! two runs and a restart (a new engine on the same data dir); stock changed
//! in Tryton reaches Vendure; an order whose Tryton shipment is assigned
//! gets one Karrio parcel with a PDF label, and its tracking number lands on
//! the Vendure order (a shipped fulfillment) and on the Tryton shipment
//! (`shipping_reference`).
//!
//! Runs only when all three servers' variables are set (SKIPPED otherwise;
//! a failure when `FERRY_REQUIRE_REAL` is set).

use ferry_engine::secrets::Secrets;
use ferry_engine::{ConnectionSpec, Engine, EngineOptions, SyncReport};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::path::Path;

struct Servers {
    tryton_url: String,
    tryton_db: String,
    tryton_login: String,
    tryton_password: String,
    karrio_url: String,
    karrio_token: String,
    vendure_url: String,
    vendure_user: String,
    vendure_password: String,
}

fn servers() -> Option<Servers> {
    let required =
        ["FERRY_REAL_TRYTON_URL", "FERRY_REAL_KARRIO_URL", "FERRY_REAL_KARRIO_TOKEN", "FERRY_REAL_VENDURE_URL"];
    let missing: Vec<&str> = required.into_iter().filter(|k| std::env::var(k).is_err()).collect();
    if !missing.is_empty() {
        // `make test` sets FERRY_REQUIRE_REAL: there, no server is a failure, not a skip.
        assert!(std::env::var("FERRY_REQUIRE_REAL").is_err(), "not set: {}", missing.join(", "));
        println!("SKIPPED: set {} (scripts/real-servers.sh)", missing.join(", "));
        return None;
    }
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    Some(Servers {
        tryton_url: var("FERRY_REAL_TRYTON_URL", ""),
        tryton_db: var("FERRY_REAL_TRYTON_DB", "ferry"),
        tryton_login: var("FERRY_REAL_TRYTON_LOGIN", "admin"),
        tryton_password: var("FERRY_REAL_TRYTON_PASSWORD", "ferry-Tryton-8q2x"),
        karrio_url: var("FERRY_REAL_KARRIO_URL", ""),
        karrio_token: var("FERRY_REAL_KARRIO_TOKEN", ""),
        vendure_url: var("FERRY_REAL_VENDURE_URL", ""),
        vendure_user: var("FERRY_REAL_VENDURE_USER", "superadmin"),
        vendure_password: var("FERRY_REAL_VENDURE_PASSWORD", "ferry-Vendure-7k3p"),
    })
}

// ---- Tryton's JSON-RPC, to arrange and look behind the engine ----

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            out.push(if i <= c.len() { char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]) } else { '=' });
        }
    }
    out
}

async fn tryton(s: &Servers, method: &str, params: Value) -> Value {
    let client = reqwest::Client::new();
    let endpoint = format!("{}/{}/rpc/", s.tryton_url, s.tryton_db);
    let login: Value = client
        .post(&endpoint)
        .json(&json!({ "method": "common.db.login",
            "params": [s.tryton_login, { "password": s.tryton_password }], "id": 1 }))
        .send()
        .await
        .expect("login sent")
        .json()
        .await
        .expect("login answer");
    let (uid, session) = (login["result"][0].as_i64().expect("uid"), login["result"][1].as_str().expect("session"));
    let token = base64(format!("{}:{uid}:{session}", s.tryton_login).as_bytes());
    let answer: Value = client
        .post(&endpoint)
        .header("Authorization", format!("Session {token}"))
        .json(&json!({ "method": method, "params": params, "id": 2 }))
        .send()
        .await
        .expect("call sent")
        .json()
        .await
        .expect("call answer");
    assert!(answer.get("error").is_none_or(Value::is_null), "{method} failed: {answer}");
    answer["result"].clone()
}

fn decimal(v: &Value) -> Decimal {
    match v {
        Value::Object(o) => o.get("decimal").and_then(Value::as_str).expect("a Decimal").parse().expect("decimal"),
        Value::Number(n) => n.to_string().parse().expect("number"),
        other => panic!("not a number: {other}"),
    }
}

/// Vendure's default channel sells in USD; the seeded Tryton company keeps
/// EUR. Tryton takes a sale in USD once it knows the currency and a rate.
async fn tryton_knows_usd(s: &Servers) {
    let found = tryton(s, "model.currency.currency.search", json!([[["code", "=", "USD"]], 0, 1, null, {}])).await;
    if found.as_array().is_some_and(|a| !a.is_empty()) {
        return;
    }
    let usd = tryton(
        s,
        "model.currency.currency.create",
        json!([[{ "name": "U.S. Dollar", "code": "USD", "symbol": "$",
            "rounding": { "__class__": "Decimal", "decimal": "0.01" } }], {}]),
    )
    .await[0]
        .as_i64()
        .expect("currency id");
    tryton(
        s,
        "model.currency.currency.rate.create",
        json!([[{ "currency": usd, "rate": { "__class__": "Decimal", "decimal": "1.0" },
            "date": { "__class__": "date", "year": 2000, "month": 1, "day": 1 } }], {}]),
    )
    .await;
}

/// The Tryton sales carrying this store order id, with their state.
async fn sales_of(s: &Servers, order_id: &str) -> Vec<(i64, String)> {
    let rows =
        tryton(s, "model.sale.sale.search_read", json!([[["reference", "=", order_id]], 0, null, null, ["state"], {}]))
            .await;
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|r| (r["id"].as_i64().expect("id"), r["state"].as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// Available (on hand − assigned) of a product in the warehouse WH.
async fn tryton_available(s: &Servers, sku: &str) -> Decimal {
    let wh = tryton(s, "model.stock.location.search", json!([[["code", "=", "WH"]], 0, 1, null, {}])).await[0]
        .as_i64()
        .expect("warehouse WH");
    let rows = tryton(
        s,
        "model.product.product.search_read",
        json!([[["code", "=", sku]], 0, 1, null, ["quantity"],
            { "locations": [wh], "with_childs": true, "stock_assign": true }]),
    )
    .await;
    decimal(&rows[0]["quantity"])
}

/// Books `quantity` of `sku` into the warehouse's storage (a done move from
/// the supplier location), as a goods receipt would.
async fn tryton_receive(s: &Servers, sku: &str, quantity: u32) {
    let product =
        tryton(s, "model.product.product.search_read", json!([[["code", "=", sku]], 0, 1, null, ["default_uom"], {}]))
            .await[0]
            .clone();
    let locations = tryton(
        s,
        "model.stock.location.search_read",
        json!([[["code", "in", ["SUP", "STO"]]], 0, null, null, ["code"], {}]),
    )
    .await;
    let loc = |c: &str| {
        locations
            .as_array()
            .and_then(|a| a.iter().find(|l| l["code"] == c))
            .and_then(|l| l["id"].as_i64())
            .expect("location")
    };
    let moved = tryton(
        s,
        "model.stock.move.create",
        json!([[{ "product": product["id"], "unit": product["default_uom"], "quantity": f64::from(quantity),
            "from_location": loc("SUP"), "to_location": loc("STO"),
            "unit_price": { "__class__": "Decimal", "decimal": "1" }, "currency": 1 }], { "company": 1 }]),
    )
    .await[0]
        .as_i64()
        .expect("move id");
    tryton(s, "model.stock.move.do", json!([[moved], {}])).await;
}

// ---- Vendure's GraphQL APIs ----

/// A session on one of Vendure's APIs (`admin-api` or `shop-api`).
struct Gql {
    endpoint: String,
    client: reqwest::Client,
    token: Option<String>,
}

impl Gql {
    fn new(s: &Servers, api: &str) -> Self {
        Self { endpoint: format!("{}/{api}", s.vendure_url), client: reqwest::Client::new(), token: None }
    }

    async fn admin(s: &Servers) -> Self {
        let mut g = Self::new(s, "admin-api");
        g.call(
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) {
               ... on CurrentUser { id } ... on ErrorResult { errorCode message } } }",
            json!({ "u": s.vendure_user, "p": s.vendure_password }),
        )
        .await;
        assert!(g.token.is_some(), "the admin login answers a bearer token");
        g
    }

    async fn call(&mut self, query: &str, variables: Value) -> Value {
        let mut req = self.client.post(&self.endpoint).json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("Vendure answered");
        if let Some(t) = resp.headers().get("vendure-auth-token").and_then(|t| t.to_str().ok()) {
            self.token = Some(t.to_owned());
        }
        let body: Value = resp.json().await.expect("JSON");
        assert!(body.get("errors").is_none(), "{query} failed: {body}");
        for v in body["data"].as_object().expect("data").values() {
            assert!(v.get("errorCode").is_none(), "{query} answered an error: {v}");
        }
        body["data"].clone()
    }
}

/// Places and pays an order as a guest through the Shop API, as a shopper
/// would. Returns Vendure's order id.
async fn place_order(s: &Servers, email: &str, items: &[(&str, i64)]) -> String {
    let mut shop = Gql::new(s, "shop-api");
    let products = shop.call("{ products(options: { take: 100 }) { items { variants { id sku } } } }", json!({})).await;
    let variant = |sku: &str| -> Value {
        products["products"]["items"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|p| p["variants"].as_array().into_iter().flatten())
            .find(|v| v["sku"] == sku)
            .map(|v| v["id"].clone())
            .unwrap_or_else(|| panic!("Vendure sells {sku}"))
    };
    for (sku, qty) in items {
        shop.call(
            "mutation($id: ID!, $q: Int!) { addItemToOrder(productVariantId: $id, quantity: $q) {
               ... on Order { id } ... on ErrorResult { errorCode message } } }",
            json!({ "id": variant(sku), "q": qty }),
        )
        .await;
    }
    shop.call(
        "mutation($e: String!) { setCustomerForOrder(input: { emailAddress: $e, firstName: \"Real\", lastName: \"Shopper\" }) {
           ... on Order { id } ... on ErrorResult { errorCode message } } }",
        json!({ "e": email }),
    )
    .await;
    shop.call(
        "mutation { setOrderShippingAddress(input: { fullName: \"Real Shopper\", streetLine1: \"Navy Yard 7\",
           city: \"Hamburg\", postalCode: \"20095\", countryCode: \"DE\", phoneNumber: \"+49 40 123456\" }) {
           ... on Order { id } ... on ErrorResult { errorCode message } } }",
        json!({}),
    )
    .await;
    let methods = shop.call("{ eligibleShippingMethods { id } }", json!({})).await;
    shop.call(
        "mutation($id: [ID!]!) { setOrderShippingMethod(shippingMethodId: $id) {
           ... on Order { id } ... on ErrorResult { errorCode message } } }",
        json!({ "id": [methods["eligibleShippingMethods"][0]["id"].clone()] }),
    )
    .await;
    shop.call(
        "mutation { transitionOrderToState(state: \"ArrangingPayment\") {
           ... on Order { id } ... on OrderStateTransitionError { errorCode message transitionError } } }",
        json!({}),
    )
    .await;
    let payment = shop.call("{ eligiblePaymentMethods { code isEligible } }", json!({})).await;
    let paid = shop
        .call(
            "mutation($m: String!) { addPaymentToOrder(input: { method: $m, metadata: {} }) {
               ... on Order { id code state } ... on ErrorResult { errorCode message } } }",
            json!({ "m": payment["eligiblePaymentMethods"][0]["code"].clone() }),
        )
        .await;
    let order = &paid["addPaymentToOrder"];
    assert_eq!(order["state"], "PaymentSettled", "the dummy payment settles at once: {order}");
    order["id"].as_str().expect("order id").to_owned()
}

/// Vendure's available stock of a variant (on hand − allocated).
async fn vendure_available(admin: &mut Gql, sku: &str) -> i64 {
    let data = admin
        .call(
            "query($sku: String!) { productVariants(options: { filter: { sku: { eq: $sku } } }) {
               items { sku stockOnHand stockAllocated } } }",
            json!({ "sku": sku }),
        )
        .await;
    let v = &data["productVariants"]["items"][0];
    v["stockOnHand"].as_i64().expect("stockOnHand") - v["stockAllocated"].as_i64().expect("stockAllocated")
}

// ---- the engine ----

fn open_engine(dir: &Path, s: &Servers) -> Engine {
    // The passwords and the key stay in memory, as the demo's do.
    let secrets = Secrets::memory_only();
    secrets.put_demo("vendure", &s.vendure_password);
    secrets.put_demo("tryton", &s.tryton_password);
    secrets.put_demo("karrio", &s.karrio_token);
    let options = EngineOptions { tuning: ferry_tests::fast_tuning(), ..EngineOptions::new(dir, secrets) };
    Engine::open(options).expect("engine")
}

async fn connect(engine: &Engine, s: &Servers) {
    let connections = [
        (
            "vendure",
            "vendure",
            "Vendure shop",
            &s.vendure_url,
            json!({ "username": s.vendure_user, "location": "default" }),
            &s.vendure_password,
        ),
        (
            "tryton",
            "tryton",
            "Tryton",
            &s.tryton_url,
            json!({ "database": s.tryton_db, "login": s.tryton_login, "shipping_product": "SHIP",
                "tax_product": "VAT", "discount_product": "DISC", "refund_product": "REFUND" }),
            &s.tryton_password,
        ),
        (
            "karrio",
            "karrio",
            "Karrio",
            &s.karrio_url,
            json!({ "from_name": "Demo Shop", "from_street": "Hauptstr. 1", "from_city": "Berlin",
                "from_postcode": "10115", "from_country": "DE", "carrier_id": "ferry-offline", "timeout_secs": 30 }),
            &s.karrio_token,
        ),
    ];
    for (id, kind, name, url, settings, secret) in connections {
        let spec =
            ConnectionSpec { id: id.into(), kind: kind.into(), name: name.into(), base_url: url.clone(), settings };
        engine.check_connection(&spec, secret).await.unwrap_or_else(|e| panic!("{name} answers: {e:?}"));
        engine.put_connection(&spec).expect("saved");
    }
    engine.enable_flow("orders", "vendure", "tryton", json!({})).expect("orders");
    engine.enable_flow("stock", "tryton", "vendure", json!({ "locations": { "WH": "default" } })).expect("stock");
    engine.enable_flow("shipping", "tryton", "karrio", json!({ "store": "vendure" })).expect("shipping");
}

async fn sync(engine: &Engine, what: &str) -> SyncReport {
    let started = std::time::Instant::now();
    let r = engine.sync_until_idle().await.expect("sync");
    println!("{what}: {:.1} s, {:?}", started.elapsed().as_secs_f64(), r.by_flow);
    let dead = engine.dead_letters(50).expect("dead letters");
    assert!(dead.is_empty(), "{what}: nothing is refused: {dead:#?}");
    r
}

async fn assert_once(s: &Servers, orders: &[&String], when: &str) {
    for id in orders {
        let sales = sales_of(s, id).await;
        assert_eq!(sales.len(), 1, "{when}: Vendure order {id} is one Tryton sale: {sales:?}");
        assert_eq!(sales[0].1, "processing", "{when}: confirmed and processed: {sales:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendure_orders_reach_tryton_once_stock_comes_back_and_karrio_ships_with_tracking_everywhere() {
    let Some(s) = servers() else { return };
    let started = std::time::Instant::now();
    tryton_knows_usd(&s).await;
    let stamp = chrono::Utc::now().timestamp_micros();
    let shipped = place_order(&s, &format!("ship-{stamp}@example.com"), &[("MUG-01", 1)]).await;
    let other = place_order(&s, &format!("other-{stamp}@example.com"), &[("SOCK-03", 2), ("TEE-02", 1)]).await;

    // Run 1 and run 2 on one engine.
    let dir = tempfile::tempdir().expect("data dir");
    let engine = open_engine(dir.path(), &s);
    connect(&engine, &s).await;
    let r = sync(&engine, "run 1").await;
    assert_eq!(r.orders().failed, 0, "{r:?}");
    assert_once(&s, &[&shipped, &other], "after run 1").await;
    let r = sync(&engine, "run 2").await;
    assert_eq!(r.orders().queued, 0, "nothing new to send: {r:?}");
    assert_once(&s, &[&shipped, &other], "after run 2").await;
    let mut admin = Gql::admin(&s).await;
    let tee_before = vendure_available(&mut admin, "TEE-02").await;
    assert_eq!(
        Decimal::from(tee_before),
        tryton_available(&s, "TEE-02").await,
        "Vendure sells what Tryton has available"
    );
    drop(engine);

    // While Ferry is closed: another order, a goods receipt in Tryton, and
    // the first order's shipment picked (assigned) in Tryton.
    let later = place_order(&s, &format!("later-{stamp}@example.com"), &[("MUG-01", 2)]).await;
    tryton_receive(&s, "TEE-02", 7).await;
    let (sale, _) = sales_of(&s, &shipped).await[0].clone();
    let shipment = tryton(&s, "model.sale.sale.read", json!([[sale], ["shipments"], {}])).await[0]["shipments"][0]
        .as_i64()
        .expect("the processed sale has a customer shipment");
    tryton(&s, "model.stock.shipment.out.assign_try", json!([[shipment], {}])).await;
    let state = tryton(&s, "model.stock.shipment.out.read", json!([[shipment], ["state"], {}])).await;
    assert_eq!(state[0]["state"], "assigned", "Tryton has the mugs to ship");

    // Run 3 on a new engine on the same data dir.
    let engine = open_engine(dir.path(), &s);
    let r = sync(&engine, "run 3 (after the restart)").await;
    assert_eq!(r.orders().failed, 0, "{r:?}");
    assert_once(&s, &[&shipped, &other, &later], "after the restart").await;

    // Stock: the receipt reached Vendure.
    let tee_after = vendure_available(&mut admin, "TEE-02").await;
    assert_eq!(tee_after, tee_before + 7, "the 7 received in Tryton are for sale in Vendure");
    assert_eq!(Decimal::from(tee_after), tryton_available(&s, "TEE-02").await);
    assert_eq!(
        Decimal::from(vendure_available(&mut admin, "MUG-01").await),
        tryton_available(&s, "MUG-01").await,
        "the assigned mugs are no longer available in Vendure either"
    );

    // Shipping: one parcel with a PDF label, its tracking number in both.
    let parcels = engine.parcels(20).expect("parcels");
    let parcel = parcels.iter().find(|p| p.reference == shipment.to_string()).expect("the shipment was booked");
    let number = parcel.tracking_number.clone().expect("a tracking number");
    let label = parcel.label_url.clone().expect("a label");
    let pdf = reqwest::Client::new()
        .get(&label)
        .header("Authorization", format!("Token {}", s.karrio_token))
        .send()
        .await
        .expect("label answered");
    assert_eq!(pdf.status(), 200, "{label}");
    assert!(pdf.bytes().await.expect("label").starts_with(b"%PDF"), "the label is a PDF");
    // Karrio's `reference` filter matches substrings ("5" matches every
    // reference holding a 5), so every page is read and compared exactly.
    let karrio_count = || async {
        let mut url = format!("{}/v1/shipments?reference={shipment}&limit=100", s.karrio_url);
        let mut count = 0;
        for _ in 0..100 {
            let page: Value = reqwest::Client::new()
                .get(&url)
                .header("Authorization", format!("Token {}", s.karrio_token))
                .send()
                .await
                .expect("list answered")
                .json()
                .await
                .expect("JSON");
            count += page["results"]
                .as_array()
                .expect("results")
                .iter()
                .filter(|r| r["reference"] == shipment.to_string().as_str() && r["status"] != "cancelled")
                .count();
            match page["next"].as_str() {
                Some(next) => url = next.to_owned(),
                None => return count,
            }
        }
        panic!("Karrio listed more than 100 pages for reference {shipment}");
    };
    assert_eq!(karrio_count().await, 1, "one label for the shipment");
    let reference = tryton(&s, "model.stock.shipment.out.read", json!([[shipment], ["shipping_reference"], {}])).await;
    assert_eq!(reference[0]["shipping_reference"], number.as_str(), "Tryton's shipment has the tracking number");
    let order = admin
        .call(
            "query($id: ID!) { order(id: $id) { state fulfillments { state trackingCode } } }",
            json!({ "id": shipped }),
        )
        .await;
    let fulfillments = order["order"]["fulfillments"].as_array().expect("fulfillments");
    assert_eq!(fulfillments.len(), 1, "{order}");
    assert_eq!(fulfillments[0]["trackingCode"], number.as_str(), "{order}");
    assert_eq!(fulfillments[0]["state"], "Shipped", "{order}");
    assert_eq!(order["order"]["state"], "Shipped", "{order}");

    // And once more: nothing is sent twice.
    let r = sync(&engine, "run 4").await;
    assert_eq!((r.orders().queued, r.by_flow["shipping"].queued), (0, 0), "{r:?}");
    assert_once(&s, &[&shipped, &other, &later], "after run 4").await;
    assert_eq!(karrio_count().await, 1, "still one label");
    println!("real systems: {:.1} s in all", started.elapsed().as_secs_f64());
}
