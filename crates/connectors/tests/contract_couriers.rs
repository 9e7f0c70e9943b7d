//! The courier contract (tests/contract): the same scenarios against every
//! courier connector, EasyPost on its emulator and Karrio on a real server
//! (`FERRY_REAL_KARRIO_URL` and `FERRY_REAL_KARRIO_TOKEN`, from
//! scripts/real/karrio.sh; SKIPPED without them, a failure with
//! `FERRY_REQUIRE_REAL`). Test names:
//! `courier_<scenario>_<connector>_<emulator|real>`; docs/connector-matrix.md
//! is the table.

mod contract;

use ferry_connectors::easypost::EasyPost;
use ferry_connectors::karrio::Karrio;
use ferry_sim::{RunningSim, SimOptions, DEMO_EASYPOST_KEY};
use serde_json::json;

async fn sim() -> RunningSim {
    RunningSim::start(SimOptions::default()).await.expect("emulators start")
}

fn easypost(sim: &RunningSim, key: &str) -> EasyPost {
    let settings = json!({ "from_name": "Demo Shop", "from_street": "Hauptstr. 1", "from_city": "Berlin",
        "from_postcode": "10115", "from_country": "DE", "timeout_secs": 5 });
    EasyPost::new(&sim.easypost_url(), &settings, key).expect("valid settings")
}

/// The real Karrio server's connector with `token` (the right one when `None`).
fn karrio(token: Option<&str>) -> Option<Karrio> {
    let url = contract::real_var("FERRY_REAL_KARRIO_URL", "scripts/real/karrio.sh")?;
    let right = contract::real_var("FERRY_REAL_KARRIO_TOKEN", "printed with the URL by scripts/real/karrio.sh")?;
    let settings = json!({ "from_name": "Demo Shop", "from_street": "Hauptstr. 1", "from_city": "Berlin",
        "from_postcode": "10115", "from_country": "DE", "carrier_id": "ferry-offline", "timeout_secs": 30 });
    Some(Karrio::new(&url, &settings, token.unwrap_or(&right)).expect("valid settings"))
}

// ---- auth: a wrong secret is ConnectorError::Auth

#[tokio::test]
async fn courier_auth_easypost_emulator() {
    let sim = sim().await;
    contract::courier_auth(&easypost(&sim, "EZTK_wrong_000000000000")).await;
}

#[tokio::test]
async fn courier_auth_karrio_real() {
    let Some(k) = karrio(Some("key_not_the_token_0000")) else { return };
    contract::courier_auth(&k).await;
}

// ---- lookup: an unknown reference is Ok(None) (a courier has no list to page)

#[tokio::test]
async fn courier_lookup_easypost_emulator() {
    let sim = sim().await;
    contract::courier_lookup(&easypost(&sim, DEMO_EASYPOST_KEY)).await;
}

#[tokio::test]
async fn courier_lookup_karrio_real() {
    let Some(k) = karrio(None) else { return };
    contract::courier_lookup(&k).await;
}

// ---- idempotent create: find, book, find again

#[tokio::test]
async fn courier_idempotent_create_easypost_emulator() {
    let sim = sim().await;
    contract::courier_idempotent_create(&easypost(&sim, DEMO_EASYPOST_KEY)).await;
}

#[tokio::test]
async fn courier_idempotent_create_karrio_real() {
    let Some(k) = karrio(None) else { return };
    contract::courier_idempotent_create(&k).await;
}

// ---- errors: a weightless parcel is Rejected

#[tokio::test]
async fn courier_errors_easypost_emulator() {
    let sim = sim().await;
    contract::courier_errors(&easypost(&sim, DEMO_EASYPOST_KEY)).await;
}

#[tokio::test]
async fn courier_errors_karrio_real() {
    let Some(k) = karrio(None) else { return };
    contract::courier_errors(&k).await;
}

// ---- rate limits (emulators only: a real server cannot be told to answer 429)

#[tokio::test]
async fn courier_rate_limit_easypost_emulator() {
    let sim = sim().await;
    contract::courier_rate_limit(&easypost(&sim, DEMO_EASYPOST_KEY), &sim.sim.easypost.faults).await;
}
