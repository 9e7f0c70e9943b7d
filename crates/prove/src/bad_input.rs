//! Bad input: a table of cases, each feeding Ferry something wrong in one
//! place (a system's answer, a person's input, a setting, the keychain, a
//! file) and checking that no panic happens, that the message says what is
//! wrong and where (the system or connection, the field or the record),
//! that it lands where people look (the journal, a connection's card,
//! Failed writes, or the refusal itself), and that nothing is lost or
//! half-written: the other orders reach the ERP exactly once, nothing is
//! queued for what could not be read, and the next clean run picks up the
//! rest.

mod fixture;
mod people;
mod store;
mod systems;

use crate::harness::Ctx;
use crate::report::Suite;
use anyhow::Result;
use fixture::{short, Outcome};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

type Run = fn(Arc<Ctx>) -> Pin<Box<dyn Future<Output = Result<Outcome>> + Send>>;

/// One row of the table.
struct Case {
    name: &'static str,
    /// What is fed, and where.
    fed: &'static str,
    /// Words the message must hold (compared without case), besides the
    /// names the case adds (the order number, the connection).
    expect: &'static [&'static str],
    run: Run,
}

macro_rules! case {
    ($name:literal, $fed:literal, [$($word:literal),*], $run:path) => {
        Case {
            name: $name,
            fed: $fed,
            expect: &[$($word),*],
            run: |ctx| Box::pin($run(ctx)),
        }
    };
}

/// Cases run this many at a time (most of their time is waiting).
const AT_ONCE: usize = 6;
/// A case that takes longer has hung.
const CASE_LIMIT: Duration = Duration::from_secs(120);

fn table() -> Vec<Case> {
    vec![
        // The store's answers, through the engine.
        case!(
            "garbled export line",
            "Shopify: a line of the first read's Bulk Operations export that is not JSON",
            ["Shopify", "export", "not a JSON object", "line"],
            store::garbled_export_line
        ),
        case!(
            "malformed JSON page",
            "Shopify: the orders page holding the newest order, cut in half",
            ["Shopify", "not what its API documents", "EOF"],
            store::truncated_page
        ),
        case!(
            "HTML instead of JSON",
            "Shopify: a sign-in page with status 200 for that page",
            ["Shopify", "HTML page"],
            store::html_page
        ),
        case!(
            "invalid UTF-8",
            "Shopify: a customer name in Latin-1 (byte 0xE9) in the page",
            ["Shopify", "not valid UTF-8", "at byte"],
            store::invalid_utf8
        ),
        case!(
            "50 MB answer (engine)",
            "Shopify: 50 MB for the orders page",
            ["Shopify", "larger than 16 MiB", "refused"],
            store::fifty_mb_page
        ),
        case!(
            "wrong type",
            "Shopify: an order line's quantity as the text \"two\"",
            ["cannot be read", "quantity", "two"],
            store::wrong_type
        ),
        case!(
            "missing required field",
            "Shopify: an order without totalPriceSet",
            ["cannot be read", "missing field", "totalPriceSet"],
            store::missing_field
        ),
        case!(
            "huge quantity",
            "Shopify: quantity 9223372036854775807 (i64::MAX)",
            ["Blue Mug", "9223372036854775807", "beyond what Ferry reads"],
            store::huge_quantity
        ),
        case!(
            "quantity beyond 64 bits",
            "Shopify: quantity 1e20",
            ["quantity", "1e+20", "expected i64"],
            store::quantity_beyond_i64
        ),
        case!(
            "negative quantity",
            "Shopify: an order of -3 Blue Mugs",
            ["line 1", "Blue Mug", "quantity -3", "at least 1"],
            store::negative_quantity
        ),
        case!(
            "more decimals than the currency",
            "Shopify: a Blue Mug at 12.345 EUR",
            ["line 1", "12.345 EUR", "EUR has 2"],
            store::too_many_decimals
        ),
        case!("unknown currency", "Shopify: an order in XYZ", ["XYZ", "ISO 4217"], store::unknown_currency),
        case!(
            "malformed currency",
            "Shopify: currency code \"euro\"",
            ["currency", "euro", "three capital letters"],
            store::malformed_currency
        ),
        case!(
            "amount with a comma",
            "Shopify: a line price \"12,00\"",
            ["Blue Mug", "12,00", "not a decimal number"],
            store::amount_with_comma
        ),
        case!(
            "unknown SKU",
            "Shopify: an order of NO-SUCH-SKU, which ERPNext does not know",
            ["NO-SUCH-SKU", "Could not find Item Code"],
            store::unknown_sku
        ),
        case!(
            "HTML and script in names",
            "Shopify: customer <script>alert('ferry')</script>, product <b>Blue</b> Mug <img onerror>",
            ["posted to Demo ERP"],
            store::markup_in_names
        ),
        case!(
            "date without a zone",
            "Shopify: createdAt 2026-…T10:00:00 with no Z or offset",
            ["createdAt", "not a time with a zone"],
            store::date_without_zone
        ),
        // The other systems' answers, to the connectors.
        case!(
            "50 MB answer, no length",
            "scripted server: 50 MB of JSON streamed without Content-Length to the Shopify connector",
            ["Shopify", "larger than 16 MiB", "refused"],
            systems::fifty_mb_streamed
        ),
        case!(
            "ERP quantity as text",
            "scripted ERPNext: a Bin's actual_qty \"lots\"",
            ["ERPNext", "BIN-0001", "actual_qty", "not a number"],
            systems::erpnext_quantity_as_text
        ),
        case!(
            "ERP time garbled",
            "scripted ERPNext: a Bin modified \"26.11.2026 10:00\"",
            ["ERPNext", "26.11.2026 10:00", "YYYY-MM-DD"],
            systems::erpnext_garbled_time
        ),
        case!(
            "ERP object for a list",
            "scripted ERPNext: an object where the Sales Order list belongs",
            ["ERPNext", "Sales Order", "not an array"],
            systems::erpnext_object_for_list
        ),
        case!(
            "courier plain text",
            "scripted EasyPost: \"OK\" as text/plain for a shipment lookup",
            ["EasyPost", "not what its API documents"],
            systems::easypost_plain_text
        ),
        case!(
            "courier date without a date",
            "scripted EasyPost: a tracking scan at \"yesterday\"",
            ["EasyPost", "yesterday", "EZ1000000001"],
            systems::easypost_time_without_date
        ),
        case!(
            "store amount at the limit",
            "scripted WooCommerce: a line subtotal of 79228162514264337593543950335",
            ["WooCommerce", "#1002", "Blue Mug", "beyond what Ferry reads"],
            systems::woocommerce_huge_amount
        ),
        // People's input and settings, through the engine's API.
        case!(
            "http:// to another host",
            "Connections: a Shopify at http://my-shop.example.com",
            ["http://", "only https://", "my-shop.example.com"],
            people::http_to_remote_host
        ),
        case!(
            "credentials in the URL",
            "Connections: https://admin:hunter2@my-shop.example.com",
            ["user name or password", "secret"],
            people::credentials_in_url
        ),
        case!(
            "setting of the wrong type",
            "Connections: page_size \"fifty\"",
            ["page_size", "1 to 250"],
            people::setting_of_wrong_type
        ),
        case!(
            "unknown currency setting",
            "Connections: a Shopify with currency XYZ",
            ["currency", "XYZ", "ISO 4217"],
            people::unknown_currency_setting
        ),
        case!(
            "wrong token",
            "Connections: the Shopify emulator with a token it does not know",
            ["My shop", "401"],
            people::wrong_token
        ),
        case!(
            "time zone that does not exist",
            "Settings: the ERP's timezone \"Mars/Olympus\", then a sync",
            ["timezone", "Mars/Olympus", "paused"],
            people::invalid_time_zone
        ),
        case!("mapping on two lines", "Mappings: SKU \"MUG-01\\nMUG-02\"", ["one line"], people::mapping_on_two_lines),
        case!(
            "mapping of an unknown kind",
            "Mappings: a \"colour\" mapping",
            ["colour", "not a kind of mapping"],
            people::mapping_of_unknown_kind
        ),
        case!(
            "activity filter level",
            "Activity: level \"critical\"",
            ["critical", "info, warn or error"],
            people::activity_level
        ),
        case!(
            "typed price with a comma",
            "Conflicts: MUG-01's price typed as 12,50",
            ["12,50", "not a price"],
            people::typed_price_with_comma
        ),
        case!(
            "typed price with 3 decimals",
            "Conflicts: MUG-01's price typed as 12.345 (EUR)",
            ["MUG-01", "12.345 EUR", "EUR has 2"],
            people::typed_price_decimals
        ),
        // The keychain and files.
        case!(
            "keychain missing",
            "ferry sync --once with no Secret Service on D-Bus and no FERRY_SECRET_*",
            ["this computer's keychain", "nothing was synced"],
            people::keychain_missing
        ),
        case!(
            "keychain locked",
            "ferry sync --once with a keyring that never answers",
            ["this computer's keychain", "did not answer", "nothing was synced"],
            people::keychain_locked
        ),
        case!(
            "not a journal",
            "ferry restore: a CSV file offered as a backup",
            ["orders-export.csv"],
            people::restore_not_a_journal
        ),
    ]
}

/// Counts every panic in this process while the table runs, whichever
/// thread or task it happens on (engine, connectors, emulators).
struct PanicCount {
    count: Arc<AtomicUsize>,
}

impl PanicCount {
    fn install() -> Self {
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            seen.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
        Self { count }
    }

    fn get(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

impl Drop for PanicCount {
    fn drop(&mut self) {
        // Back to the default hook (which the previous one was, in ferry-prove).
        let _ = std::panic::take_hook();
    }
}

/// What went wrong with one case's outcome, if anything.
fn judge(case: &Case, out: &Outcome) -> Vec<String> {
    let mut wrong = out.problems.clone();
    let said = out.message.to_lowercase();
    if out.message.trim().is_empty() {
        wrong.push("no message".into());
    }
    let missing: Vec<&str> = case
        .expect
        .iter()
        .copied()
        .chain(out.names.iter().map(String::as_str))
        .filter(|w| !said.contains(&w.to_lowercase()))
        .collect();
    if !missing.is_empty() {
        wrong.push(format!("the message lacks {missing:?}"));
    }
    for secret in crate::harness::SECRETS {
        if out.message.contains(secret) {
            wrong.push("the message holds a secret".into());
        }
    }
    wrong
}

pub async fn run(ctx: &Ctx) -> Result<Suite> {
    let mut suite = Suite::new(
        "bad-input",
        "Bad input: a clear message, nothing lost, no panic",
        "Each case feeds Ferry one bad thing in one place: a store, ERP or courier answer (malformed JSON, HTML, \
         bytes that are not UTF-8, 50 MB, wrong types, missing fields, negative and huge quantities, more decimals \
         than the currency, unknown currencies and SKUs, markup in names, dates without a zone), a person's input \
         or setting (http:// to another host, credentials in a URL, a bad time zone, typed prices, mappings), a \
         missing or locked keychain, and a file that is not a journal. Each must give a message that says what is \
         wrong and where, shown where people look (the journal and a connection's card, Failed writes, or the \
         refusal itself); orders must reach the ERP exactly once with nothing queued for what could not be read, \
         and the next clean run picks up the rest. Panics are counted on every thread.",
        "ferry-prove bad-input".into(),
    );
    let started = Instant::now();
    let panics = PanicCount::install();
    let ctx = Arc::new(ctx.clone());
    let cases = table();
    let gate = Arc::new(tokio::sync::Semaphore::new(AT_ONCE));
    // Started last row first: the slowest rows (the keychain's, which wait
    // out its 5 s timeouts) are at the end of the table.
    let mut handles: Vec<_> = cases
        .iter()
        .rev()
        .map(|case| {
            let (ctx, gate, run) = (ctx.clone(), gate.clone(), case.run);
            tokio::spawn(async move {
                let _turn = gate.acquire_owned().await;
                let t = Instant::now();
                let outcome = tokio::time::timeout(CASE_LIMIT, run(ctx)).await;
                (outcome, t.elapsed())
            })
        })
        .collect();
    handles.reverse();
    let (mut passed, mut task_panics) = (0usize, 0usize);
    let mut rows = Vec::new();
    for (case, handle) in cases.iter().zip(handles) {
        let (wrong, message) = match handle.await {
            Err(e) if e.is_panic() => {
                task_panics += 1;
                (vec!["panicked".to_owned()], "(panicked)".to_owned())
            }
            Err(e) => (vec![format!("did not finish: {e}")], String::new()),
            Ok((Err(_), _)) => (vec![format!("took longer than {CASE_LIMIT:?}")], String::new()),
            Ok((Ok(Err(e)), _)) => (vec![format!("could not be run: {e:#}")], String::new()),
            Ok((Ok(Ok(out)), took)) => {
                log_case(case, &out, took);
                (judge(case, &out), out.message.clone())
            }
        };
        if wrong.is_empty() {
            passed += 1;
        } else {
            suite.failures.push(format!(
                "{} ({}): {}; the message was {:?}",
                case.name,
                case.fed,
                wrong.join("; "),
                short(&message, 300)
            ));
        }
        rows.push((case.name, short(&message.replace('\n', " "), 140)));
    }
    let panicked = panics.get().max(task_panics);
    drop(panics);
    suite.figure("cases", cases.len());
    suite.figure("passed", passed);
    suite.figure("panics", panicked);
    suite.check(cases.len() >= 28, || format!("only {} cases; the table needs at least 28", cases.len()));
    suite.check(panicked == 0, || format!("{panicked} panics while the table ran"));
    for (name, message) in rows {
        suite.figure(name, message);
    }
    suite.seconds = started.elapsed().as_secs_f64();
    Ok(suite)
}

/// One line per case on standard error, for whoever watches the run.
fn log_case(case: &Case, out: &Outcome, took: Duration) {
    eprintln!("   bad-input: {} ({:.1} s): {}", case.name, took.as_secs_f64(), short(&out.message, 160));
}
