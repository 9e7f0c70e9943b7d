//! `ferry sim` and `ferry demo`: the built-in emulated shop, ERP and courier.

use anyhow::{Context, Result};
use ferry_engine::demo::Demo;
use ferry_engine::secrets::{SecretSource, Secrets};
use ferry_engine::{fresh_demo_dir, EngineOptions, Schedule};
use ferry_sim::{RunningSim, SimOptions, SimStats, TlsFiles};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

pub async fn sim(port: u16, orders: usize, skus: usize, tls: Option<TlsFiles>) -> Result<ExitCode> {
    let opts = SimOptions { port, orders, skus, ..SimOptions::default() };
    let sim = match &tls {
        None => RunningSim::start(opts).await.with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?,
        Some(files) => RunningSim::start_tls(opts, files).await?,
    };
    println!("Shopify emulator: {}  (X-Shopify-Access-Token: {})", sim.shopify_url(), ferry_sim::DEMO_SHOPIFY_TOKEN);
    println!("ERPNext emulator: {}  (Authorization: token {})", sim.erpnext_url(), ferry_sim::DEMO_ERPNEXT_SECRET);
    println!("Counts:           {}/_sim/stats", sim.base_url());
    if let Some(files) = &tls {
        println!("TLS certificate:  {}", files.cert.display());
    }
    println!("Seeded {orders} store orders. Press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    Ok(ExitCode::SUCCESS)
}

fn summary(s: SimStats) -> String {
    format!("store orders: {}, ERP sales orders: {}, duplicates: {}", s.store_orders, s.erp_sales_orders, s.duplicates)
}

pub async fn demo(data_dir: &Path, orders: usize, once: bool) -> Result<ExitCode> {
    let dir = fresh_demo_dir(data_dir)?;
    let sim_options = SimOptions { orders, ..SimOptions::default() };
    let Demo { engine, sim, secrets_in: placed } =
        ferry_engine::demo::start(EngineOptions::new(&dir, Secrets::os_keychain()), sim_options).await?;
    println!("Demo shop (Shopify emulator): {}", sim.shopify_url());
    println!("Demo ERP (ERPNext emulator):  {}", sim.erpnext_url());
    println!("Demo courier (EasyPost emulator): {}", sim.easypost_url());
    println!("Journal: {}", engine.journal_path().display());
    match placed {
        SecretSource::Keychain => println!("Demo tokens are stored in the OS keychain."),
        _ => println!(
            "{} The demo's made-up tokens are kept in memory only; real connections need a keychain.",
            engine.keychain_status().message
        ),
    }

    if !once {
        sim.sim.stage_demo_story();
        println!("New orders arrive every few seconds; two products wait as conflicts (ferry conflicts list) and a gift-card order fails on an unknown SKU. Press Ctrl-C to stop.");
    }
    let bar = ProgressBar::new(orders as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} posted {pos}/{len} orders to the ERP [{bar:30}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let progress = {
        let (engine, bar, sim) = (engine.clone(), bar.clone(), sim.sim.clone());
        let mut events = engine.subscribe();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => break,
                }
                bar.set_length(sim.stats().store_orders as u64);
                if let Ok(c) = engine.outbox_counts(None, Some("order")) {
                    bar.set_position(c.done);
                    let failed = if c.dead > 0 { format!(", {} failed", c.dead) } else { String::new() };
                    bar.set_message(format!("{} waiting{failed}", c.pending));
                }
            }
        })
    };

    if once {
        engine.sync_until_idle().await?;
        // The warehouse ships a few orders; the parcels move on; one is not delivered.
        for so in sim.sim.erpnext.unshipped_sales_orders().iter().take(3) {
            sim.sim.erpnext.ship_sales_order(so, 0.6);
        }
        engine.sync_until_idle().await?;
        for _ in 0..3 {
            sim.sim.easypost.move_parcels(3);
        }
        engine.sync_until_idle().await?;
    } else {
        engine.start_scheduler(Schedule::every(Duration::from_secs(5)))?;
        let arrivals = {
            let sim = sim.sim.clone();
            tokio::spawn(async move {
                for n in 0u64.. {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    sim.tick(n);
                }
            })
        };
        tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
        arrivals.abort();
        engine.stop_scheduler();
    }
    progress.abort();
    bar.finish_and_clear();
    let stats = sim.sim.stats();
    if let Ok(c) = engine.outbox_counts(None, Some("order")) {
        println!("posted {} orders to the ERP, {} waiting, {} failed", c.done, c.pending, c.dead);
    }
    if let Ok(parcels) = engine.parcels(10_000) {
        let count = |status: &str| parcels.iter().filter(|p| p.status == status).count();
        println!(
            "booked {} parcels: {} delivered, {} not delivered, {} on their way",
            parcels.len(),
            count("delivered"),
            count("failed_delivery") + count("returned_to_sender"),
            parcels.len() - count("delivered") - count("failed_delivery") - count("returned_to_sender")
        );
    }
    println!("{}", summary(stats));
    Ok(if stats.duplicates == 0 && (!once || stats.missing == 0) { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
