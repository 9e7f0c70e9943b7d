//! What people type and set (through the engine's API, as the app and the
//! CLI do), the keychain, and a file handed to Ferry.

use super::fixture::{refused, Outcome, Shop, SEEDED};
use crate::harness::{self, Ctx};
use anyhow::{Context, Result};
use ferry_engine::secrets::Secrets;
use ferry_engine::{Choice, ConnectionSpec, Engine, EngineOptions, DEMO_COURIER_ID, DEMO_ERP_ID, DEMO_STORE_ID};
use serde_json::json;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// An engine with no connections, on a fresh folder.
fn bare(ctx: &Ctx, slug: &str) -> Result<Engine> {
    let dir = ctx.dir(&format!("bad-input/{slug}"))?;
    Ok(Engine::open(EngineOptions::new(&dir, Secrets::memory_only()))?)
}

fn shop_spec(url: &str, settings: serde_json::Value) -> ConnectionSpec {
    ConnectionSpec {
        id: "my-shop".into(),
        kind: "shopify".into(),
        name: "My shop".into(),
        base_url: url.into(),
        settings,
    }
}

/// Adding a connection is refused, and nothing is saved.
async fn not_added(ctx: &Ctx, slug: &str, spec: ConnectionSpec, secret: &str) -> Result<Outcome> {
    let engine = bare(ctx, slug)?;
    let mut out = refused(engine.add_connection(&spec, secret).await);
    let saved = engine.connections()?.len();
    out.check(saved == 0, || format!("{saved} connections saved after the refusal"));
    Ok(out)
}

pub async fn http_to_remote_host(ctx: Arc<Ctx>) -> Result<Outcome> {
    not_added(&ctx, "http-remote", shop_spec("http://my-shop.example.com", json!({})), "shpat_x").await
}

pub async fn credentials_in_url(ctx: Arc<Ctx>) -> Result<Outcome> {
    let spec = shop_spec("https://admin:hunter2@my-shop.example.com", json!({}));
    let mut out = not_added(&ctx, "credentials-in-url", spec, "shpat_x").await?;
    out.check(!out.message.contains("hunter2"), || "the message repeats the password".into());
    Ok(out)
}

pub async fn setting_of_wrong_type(ctx: Arc<Ctx>) -> Result<Outcome> {
    let spec = shop_spec("https://my-shop.example.com", json!({ "page_size": "fifty" }));
    not_added(&ctx, "setting-wrong-type", spec, "shpat_x").await
}

pub async fn unknown_currency_setting(ctx: Arc<Ctx>) -> Result<Outcome> {
    let spec = shop_spec("https://my-shop.example.com", json!({ "currency": "XYZ" }));
    not_added(&ctx, "currency-setting", spec, "shpat_x").await
}

/// The store refuses the token: checked before saving, nothing saved.
pub async fn wrong_token(ctx: Arc<Ctx>) -> Result<Outcome> {
    let sim = harness::emulators(0, 7).await?;
    not_added(&ctx, "wrong-token", shop_spec(&sim.shopify_url(), json!({})), "shpat_not_the_right_one").await
}

/// A saved ERP connection's time zone made invalid: syncing with it
/// pauses with the reason, the orders wait in the outbox, and go once it
/// is fixed.
pub async fn invalid_time_zone(ctx: Arc<Ctx>) -> Result<Outcome> {
    let shop = Shop::open(&ctx, "time-zone", &["orders"]).await?;
    shop.engine.update_settings(DEMO_ERP_ID, &json!({ "timezone": "Mars/Olympus" }))?;
    shop.sync().await?;
    let message = shop.card_error(DEMO_ERP_ID)?.unwrap_or_default();
    let mut out = Outcome::said(message).naming("Demo ERP (ERPNext)");
    let waiting = shop.engine.outbox_counts(Some(DEMO_ERP_ID), Some("order"))?;
    out.check(waiting.pending as usize == SEEDED && shop.sim.sim.stats().erp_sales_orders == 0, || {
        format!("expected {SEEDED} orders waiting and none posted: {waiting:?}")
    });
    shop.engine.update_settings(DEMO_ERP_ID, &json!({ "timezone": "Europe/Berlin" }))?;
    shop.sync().await?;
    out.problems.extend(shop.posted(SEEDED, "after the time zone was fixed")?);
    Ok(out)
}

pub async fn mapping_on_two_lines(ctx: Arc<Ctx>) -> Result<Outcome> {
    let engine = bare(&ctx, "mapping-two-lines")?;
    let mut out = refused(engine.set_mapping("sku", "MUG-01\nMUG-02", "ITEM-1"));
    out.check(engine.mappings()?.mappings.is_empty(), || "a mapping was saved".into());
    Ok(out)
}

pub async fn mapping_of_unknown_kind(ctx: Arc<Ctx>) -> Result<Outcome> {
    let engine = bare(&ctx, "mapping-kind")?;
    Ok(refused(engine.set_mapping("colour", "red", "rot")))
}

pub async fn activity_level(ctx: Arc<Ctx>) -> Result<Outcome> {
    let engine = bare(&ctx, "activity-level")?;
    let q = ferry_engine::ActivityQuery { level: Some("critical".into()), ..Default::default() };
    Ok(refused(engine.activity(&q, 50)))
}

/// A shop with a price conflict on MUG-01 (13.90 in the store, 14.20 in the ERP).
async fn price_conflict(ctx: &Ctx, slug: &str) -> Result<(Shop, i64)> {
    let shop = Shop::open(ctx, slug, &["catalog"]).await?;
    shop.sim.sim.shopify.set_price("MUG-01", "13.90");
    shop.sim.sim.erpnext.set_item_price("MUG-01", "14.20");
    shop.sync().await?;
    let conflict = shop
        .engine
        .conflicts(false)?
        .into_iter()
        .find(|c| c.field == "price" && c.key == "MUG-01")
        .context("no price conflict on MUG-01")?;
    Ok((shop, conflict.id))
}

/// A typed price that is not a number: refused, the conflict stays open.
pub async fn typed_price_with_comma(ctx: Arc<Ctx>) -> Result<Outcome> {
    let (shop, id) = price_conflict(&ctx, "typed-price-comma").await?;
    let mut out = refused(shop.engine.resolve_conflict(id, &Choice::Value("12,50".into()), None, "bad-input"));
    out.check(shop.engine.conflict(id)?.open, || "the conflict was closed".into());
    Ok(out)
}

/// A typed price with more decimals than the currency: neither system
/// gets it; each write fails with the reason, to retype and replay.
pub async fn typed_price_decimals(ctx: Arc<Ctx>) -> Result<Outcome> {
    let (shop, id) = price_conflict(&ctx, "typed-price-decimals").await?;
    // Refused as typed: the conflict stays open and nothing is queued.
    let refused = shop.engine.resolve_conflict(id, &Choice::Value("12.345".into()), None, "bad-input");
    let mut out = match &refused {
        Err(e) => Outcome::said(format!("MUG-01: {}", e.message)),
        Ok(()) => Outcome { problems: vec!["12.345 EUR was accepted as a price".into()], ..Outcome::default() },
    };
    let still_open = shop.engine.conflict(id).map(|c| c.open).unwrap_or(false);
    out.check(still_open, || "the conflict was closed by a value that cannot be booked".into());
    shop.sync().await?;
    out.check(shop.engine.dead_letters(10)?.is_empty(), || "a write was queued for the refused value".into());
    let (store, erp) = (shop.sim.sim.shopify.price("MUG-01"), shop.sim.sim.erpnext.item_price("MUG-01"));
    out.check(
        store.map(|p| p.to_string()).as_deref() == Some("13.90")
            && erp.map(|p| p.to_string()).as_deref() == Some("14.20"),
        || format!("a price was written anyway: store {store:?}, ERP {erp:?}"),
    );
    Ok(out)
}

/// `ferry sync --once` with D-Bus pointed at `bus` and no secret in the
/// environment; then the journal's word on the store, and whether the
/// orders went once the secrets were there.
async fn keychain(ctx: &Ctx, slug: &str, locked: bool) -> Result<Outcome> {
    let sim = harness::emulators(SEEDED, 11).await?;
    let dir = ctx.dir(&format!("bad-input/{slug}"))?;
    harness::configure(&dir, &sim)?;
    let bus = dir.join("bus");
    let _listener = if locked {
        // A keyring that takes the connection and never answers (locked, a prompt no one sees).
        let listener = tokio::net::UnixListener::bind(&bus)?;
        Some(tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((conn, _)) = listener.accept().await {
                held.push(conn);
            }
        }))
    } else {
        None
    };
    let log = dir.join("ferry.log");
    let out_file = std::fs::File::create(&log)?;
    let mut cmd = Command::new(&ctx.ferry);
    cmd.arg("--data-dir").arg(&dir).args(["sync", "--once"]);
    cmd.env("DBUS_SESSION_BUS_ADDRESS", format!("unix:path={}", bus.display()));
    for id in [DEMO_STORE_ID, DEMO_ERP_ID, DEMO_COURIER_ID] {
        cmd.env_remove(ferry_engine::secrets::env_var_name(id));
    }
    cmd.stdin(Stdio::null()).stdout(Stdio::from(out_file.try_clone()?)).stderr(Stdio::from(out_file));
    let mut child = cmd.spawn().with_context(|| format!("starting {}", ctx.ferry.display()))?;
    let status = harness::wait_child(&mut child, Duration::from_secs(90)).await?;
    if let Some(l) = _listener {
        l.abort();
    }
    let printed = std::fs::read_to_string(&log).unwrap_or_default();
    let engine = harness::engine(&dir)?;
    let card = engine.overview()?.connections.into_iter().find(|c| c.id == DEMO_STORE_ID).context("store card")?;
    let message = card.recent_failures.first().map(|f| f.message.clone()).unwrap_or_default();
    let mut out = Outcome::said(message).naming("Demo shop (Shopify)");
    out.check(!printed.contains("panicked"), || format!("ferry panicked: {}", super::fixture::short(&printed, 300)));
    out.check(status.code().is_some(), || format!("ferry ended with {status}"));
    out.check(sim.sim.stats().erp_sales_orders == 0, || "orders were posted without credentials".into());
    // The secrets are back (entered again): resume, and every order goes once.
    for id in [DEMO_STORE_ID, DEMO_ERP_ID, DEMO_COURIER_ID] {
        engine.set_connection_paused(id, false, "bad-input")?;
    }
    engine.sync_until_idle().await?;
    let s = sim.sim.stats();
    out.check(s.erp_sales_orders == SEEDED && s.duplicates == 0, || {
        format!("after the secrets were back: {} Sales Orders, {} duplicates", s.erp_sales_orders, s.duplicates)
    });
    Ok(out)
}

pub async fn keychain_missing(ctx: Arc<Ctx>) -> Result<Outcome> {
    keychain(&ctx, "keychain-missing", false).await
}

pub async fn keychain_locked(ctx: Arc<Ctx>) -> Result<Outcome> {
    keychain(&ctx, "keychain-locked", true).await
}

/// A file that is not a journal, offered to `ferry restore`: refused,
/// and the journal in place is untouched.
pub async fn restore_not_a_journal(ctx: Arc<Ctx>) -> Result<Outcome> {
    let sim = harness::emulators(0, 13).await?;
    let dir = ctx.dir("bad-input/restore-not-a-journal")?;
    harness::configure(&dir, &sim)?;
    let file = dir.join("orders-export.csv");
    std::fs::write(&file, "number,total\n#1001,43.39\n")?;
    let mut out = refused(ferry_engine::restore(&dir, &file));
    let engine = harness::engine(&dir)?;
    out.check(engine.connections()?.len() == 3, || "the journal in place lost its connections".into());
    out.check(engine.check_journal().is_ok(), || "the journal in place fails integrity_check".into());
    Ok(out)
}
