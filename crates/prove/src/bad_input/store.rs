//! Bad answers from the store (the Shopify emulator, its answers rewritten
//! on the way out), read through the engine's orders flow into the ERP.
//!
//! Three ways an order can be bad, three behaviours: a page that cannot be
//! read at all waits (the pages before it go out; the read is retried and
//! resumes there); an order that cannot be read ends its page just before
//! it (the orders before it go out); an order that reads but cannot be
//! booked is parked as a failed write with the reason (the others go out).

use super::fixture::{Outcome, Shop, BEFORE_ITS_PAGE, SEEDED};
use crate::harness::Ctx;
use anyhow::Result;
use ferry_engine::{DEMO_ERP_ID, DEMO_STORE_ID};
use serde_json::{json, Value};
use std::sync::Arc;

const MUG: (&str, &str, i64, &str) = ("MUG-01", "Blue Mug", 1, "12.00");

/// The first line's node of an order node.
fn line(node: &mut Value) -> &mut Value {
    &mut node["lineItems"]["edges"][0]["node"]
}

/// Every `currencyCode` in `v` becomes `code`.
fn recode(v: &mut Value, code: &str) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "currencyCode" {
                    *x = json!(code);
                } else {
                    recode(x, code);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| recode(x, code)),
        _ => {}
    }
}

/// After the store sent something unreadable: the message on the store's
/// card, `before` orders posted and no write queued for the rest; then,
/// once the store answers properly again, every order once.
async fn waits_then_flows(shop: &Shop, number: &str, before: usize) -> Result<Outcome> {
    shop.sync().await?;
    let message = shop.card_error(DEMO_STORE_ID)?.unwrap_or_default();
    let mut out = Outcome::said(message.clone()).naming("Demo shop (Shopify)");
    if !number.is_empty() {
        out = out.naming(number);
    }
    out.check(shop.journaled(DEMO_STORE_ID, "error", "reading orders")?, || {
        "the read failure is not in the journal's Activity".into()
    });
    out.problems.extend(shop.posted(before, "while the store sent it unreadable")?);
    shop.untamper();
    shop.sync().await?;
    out.problems.extend(shop.posted(SEEDED + 1, "once the store answered properly")?);
    let missing = shop.sim.sim.stats().missing;
    out.check(missing == 0, || format!("{missing} store orders never reached the ERP"));
    Ok(out)
}

/// The first full read's export holds a line that is not JSON: the run
/// fails naming the line, nothing of it is half-posted, and once the export
/// is whole every order goes out once.
pub async fn garbled_export_line(ctx: Arc<Ctx>) -> Result<Outcome> {
    let shop = Shop::open_reading(&ctx, "garbled-export", &["orders"], true).await?;
    shop.sim.sim.shopify.faults.rewrite_responses("_bulk", 1, |status, mut body| {
        let middle = body.len() / 2;
        let at = body[middle..].iter().position(|b| *b == b'\n').map_or(body.len(), |p| middle + p + 1);
        body.splice(at..at, b"{\"id\": \"gid://shopify/Order/1\", oops\n".iter().copied());
        (status, body)
    });
    shop.sync().await?;
    let message = shop.card_error(DEMO_STORE_ID)?.unwrap_or_default();
    let mut out = Outcome::said(message).naming("Demo shop (Shopify)");
    out.check(shop.journaled(DEMO_STORE_ID, "error", "reading orders")?, || {
        "the read failure is not in the journal's Activity".into()
    });
    out.problems.extend(shop.posted(0, "while the export was garbled")?);
    shop.sync().await?;
    out.problems.extend(shop.posted(SEEDED, "once the export was whole")?);
    Ok(out)
}

/// One order the store sends changed by `tamper`, which Ferry cannot read.
async fn unreadable_order(
    ctx: &Ctx,
    slug: &str,
    tamper: impl Fn(&mut Value) + Send + Sync + 'static,
) -> Result<Outcome> {
    let shop = Shop::open(ctx, slug, &["orders"]).await?;
    let (id, number) = shop.place(&[MUG]);
    shop.tamper_order(&id, tamper);
    // The two good orders on its page come before it: every seeded order goes out.
    waits_then_flows(&shop, &number, SEEDED).await
}

/// The page holding the newest order answered through `tamper` (bytes).
async fn unreadable_page(
    ctx: &Ctx,
    slug: &str,
    tamper: impl Fn(Vec<u8>) -> Vec<u8> + Send + Sync + 'static,
) -> Result<Outcome> {
    let shop = Shop::open(ctx, slug, &["orders"]).await?;
    let (id, _) = shop.place(&[MUG]);
    shop.tamper_page(&id, tamper);
    waits_then_flows(&shop, "", BEFORE_ITS_PAGE).await
}

/// An order that reads but cannot be booked: a failed write with the
/// reason, on the ERP's card and in Failed writes; every other order once.
async fn parked(
    ctx: &Ctx,
    slug: &str,
    lines: &[(&str, &str, i64, &str)],
    tamper: Option<fn(&mut Value)>,
) -> Result<(Shop, Outcome, String)> {
    let shop = Shop::open(ctx, slug, &["orders"]).await?;
    let (id, number) = shop.place(lines);
    if let Some(t) = tamper {
        shop.tamper_order(&id, t);
    }
    shop.sync().await?;
    let dead = shop.engine.dead_letters(20)?;
    let mine = dead.iter().find(|d| d.label.contains(&number));
    let mut out = match mine {
        Some(d) => Outcome::said(format!("{} ({}): {}", d.label, d.target_id, d.error)),
        None => {
            Outcome { problems: vec![format!("no failed write for order {number}: {dead:?}")], ..Outcome::default() }
        }
    };
    out = out.naming(number.clone());
    let card = shop.card_error(DEMO_ERP_ID)?.unwrap_or_default();
    out.check(card.contains(&number) || mine.is_some_and(|d| card.contains(&d.error)), || {
        format!("the ERP's card does not show it: {card:?}")
    });
    out.problems.extend(shop.posted(SEEDED, "after the run")?);
    out.check(dead.len() == 1, || format!("{} failed writes, expected only this order's", dead.len()));
    Ok((shop, out, id))
}

pub async fn truncated_page(ctx: Arc<Ctx>) -> Result<Outcome> {
    unreadable_page(&ctx, "truncated-page", |b| b[..b.len() / 2].to_vec()).await
}

pub async fn html_page(ctx: Arc<Ctx>) -> Result<Outcome> {
    unreadable_page(&ctx, "html-page", |_| {
        b"<!DOCTYPE html><html><body><h1>Sign in to continue</h1></body></html>".to_vec()
    })
    .await
}

pub async fn invalid_utf8(ctx: Arc<Ctx>) -> Result<Outcome> {
    let shop = Shop::open(&ctx, "invalid-utf8", &["orders"]).await?;
    let (id, _) = shop.place(&[MUG]);
    let marker = "@@NOT-UTF8@@";
    let id2 = id.clone();
    shop.tamper_page(&id, move |body| {
        let Ok(mut page) = serde_json::from_slice::<Value>(&body) else { return body };
        if let Some(edges) = page.pointer_mut("/data/orders/edges").and_then(Value::as_array_mut) {
            for e in edges.iter_mut().filter(|e| e["node"]["id"] == id2.as_str()) {
                e["node"]["customer"]["firstName"] = json!(format!("Jos{marker}"));
            }
        }
        let text = serde_json::to_vec(&page).unwrap_or(body);
        // "José" in Latin-1, as a misconfigured plugin would send it.
        let at = text.windows(marker.len()).position(|w| w == marker.as_bytes());
        match at {
            Some(i) => [&text[..i], &[0xE9u8][..], &text[i + marker.len()..]].concat(),
            None => text,
        }
    });
    waits_then_flows(&shop, "", BEFORE_ITS_PAGE).await
}

pub async fn fifty_mb_page(ctx: Arc<Ctx>) -> Result<Outcome> {
    unreadable_page(&ctx, "50mb-page", |_| vec![b' '; 50 * 1024 * 1024]).await
}

pub async fn wrong_type(ctx: Arc<Ctx>) -> Result<Outcome> {
    unreadable_order(&ctx, "wrong-type", |n| line(n)["quantity"] = json!("two")).await
}

pub async fn missing_field(ctx: Arc<Ctx>) -> Result<Outcome> {
    unreadable_order(&ctx, "missing-field", |n| {
        if let Some(m) = n.as_object_mut() {
            m.remove("totalPriceSet");
        }
    })
    .await
}

pub async fn huge_quantity(ctx: Arc<Ctx>) -> Result<Outcome> {
    unreadable_order(&ctx, "huge-quantity", |n| line(n)["quantity"] = json!(i64::MAX)).await
}

pub async fn quantity_beyond_i64(ctx: Arc<Ctx>) -> Result<Outcome> {
    unreadable_order(&ctx, "quantity-beyond-i64", |n| line(n)["quantity"] = json!(1e20)).await
}

pub async fn malformed_currency(ctx: Arc<Ctx>) -> Result<Outcome> {
    unreadable_order(&ctx, "malformed-currency", |n| recode(n, "euro")).await
}

pub async fn amount_with_comma(ctx: Arc<Ctx>) -> Result<Outcome> {
    unreadable_order(&ctx, "amount-with-comma", |n| {
        line(n)["originalUnitPriceSet"]["shopMoney"]["amount"] = json!("12,00")
    })
    .await
}

pub async fn date_without_zone(ctx: Arc<Ctx>) -> Result<Outcome> {
    unreadable_order(&ctx, "date-without-zone", |n| {
        let local = n["createdAt"].as_str().unwrap_or("2026-11-26T10:00:00Z").trim_end_matches('Z').to_owned();
        n["createdAt"] = json!(local);
    })
    .await
}

pub async fn negative_quantity(ctx: Arc<Ctx>) -> Result<Outcome> {
    Ok(parked(&ctx, "negative-quantity", &[("MUG-01", "Blue Mug", -3, "12.00")], None).await?.1)
}

pub async fn too_many_decimals(ctx: Arc<Ctx>) -> Result<Outcome> {
    Ok(parked(&ctx, "too-many-decimals", &[("MUG-01", "Blue Mug", 1, "12.345")], None).await?.1)
}

pub async fn unknown_currency(ctx: Arc<Ctx>) -> Result<Outcome> {
    Ok(parked(&ctx, "unknown-currency", &[MUG], Some(|n| recode(n, "XYZ"))).await?.1)
}

/// The ERP does not know the SKU: parked with the ERP's words; once the
/// item exists there, a replay posts it, once.
pub async fn unknown_sku(ctx: Arc<Ctx>) -> Result<Outcome> {
    let (shop, mut out, _) = parked(&ctx, "unknown-sku", &[("NO-SUCH-SKU", "Mystery box", 1, "9.99")], None).await?;
    shop.sim.sim.erpnext.add_item("NO-SUCH-SKU", "Mystery box");
    shop.engine.replay(None)?;
    shop.sync().await?;
    out.problems.extend(shop.posted(SEEDED + 1, "after the item was added and the write replayed")?);
    Ok(out)
}

/// Markup in names is text: posted as typed, never interpreted.
pub async fn markup_in_names(ctx: Arc<Ctx>) -> Result<Outcome> {
    let shop = Shop::open(&ctx, "markup-in-names", &["orders"]).await?;
    let (id, number) = shop.place(&[("MUG-01", "<b>Blue</b> Mug <img src=x onerror=alert(1)>", 1, "12.00")]);
    let (first, last) = ("<script>alert('ferry')</script>", "O'Brien & <b>Sons</b>");
    shop.tamper_order(&id, move |n| {
        n["email"] = json!("markup@example.com");
        n["customer"]["email"] = json!("markup@example.com");
        n["customer"]["firstName"] = json!(first);
        n["customer"]["lastName"] = json!(last);
    });
    shop.sync().await?;
    let q = ferry_engine::ActivityQuery {
        connection_id: Some(DEMO_ERP_ID.into()),
        search: Some(number.clone()),
        ..Default::default()
    };
    let said = shop.engine.activity(&q, 10)?.into_iter().next().map(|e| e.message).unwrap_or_default();
    let name = format!("{first} {last}");
    let customers = shop.sim.sim.erpnext.documents("Customer");
    let stored = customers.iter().any(|c| c.get("customer_name").and_then(Value::as_str) == Some(name.as_str()));
    let mut out = Outcome::said(format!("{said}; the ERP's customer is {name:?}, as typed")).naming(number);
    out.check(stored, || format!("no ERP customer named exactly {name:?}"));
    out.problems.extend(shop.posted(SEEDED + 1, "after the run")?);
    Ok(out)
}
