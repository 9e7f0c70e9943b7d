//! `ferry sync` and `ferry status`: the configured connections, headless.

use anyhow::{Context, Result};
use chrono::{DateTime, Local, Utc};
use ferry_engine::secrets::Secrets;
use ferry_engine::{Engine, EngineOptions, PreviewAction, Schedule};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

pub fn open(data_dir: &Path) -> Result<Engine> {
    Engine::open(EngineOptions::new(data_dir, Secrets::os_keychain()))
        .with_context(|| format!("opening the journal in {}", data_dir.display()))
}

pub async fn sync(data_dir: &Path, once: bool, interval: u64) -> Result<ExitCode> {
    let engine = open(data_dir)?;
    if once {
        let r = engine.sync_until_idle().await?;
        for (flow, c) in &r.by_flow {
            println!("{flow}: fetched {}, queued {}, written {}, failed {}", c.fetched, c.queued, c.written, c.failed);
        }
        return Ok(if r.total.failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(2) });
    }
    engine.start_scheduler(Schedule::every(Duration::from_secs(interval.max(5))))?;
    println!("Syncing every {interval} s; press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    engine.stop_scheduler();
    Ok(ExitCode::SUCCESS)
}

fn when(at: Option<DateTime<Utc>>, none: &str) -> String {
    at.map(|t| t.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_else(|| none.to_owned())
}

pub fn status(data_dir: &Path, json: bool) -> Result<ExitCode> {
    let engine = open(data_dir)?;
    let o = engine.overview()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&o)?);
        return Ok(ExitCode::SUCCESS);
    }
    if o.connections.is_empty() {
        println!("No connections in {}.", data_dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    for c in &o.connections {
        println!("{} ({}, {}): {}", c.name, c.id, c.kind, c.state_text);
        println!(
            "  last run: {}, next run: {}, orders posted: {}, pending: {}, failed: {}, open conflicts: {}",
            when(c.last_run_at, "never"),
            when(c.next_run_at, "not scheduled"),
            c.orders_posted,
            c.pending,
            c.failed,
            c.open_conflicts
        );
        for f in &c.recent_failures {
            println!("  ! {} {}", when(Some(f.at), ""), f.message);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn replay(data_dir: &Path, id: Option<i64>, all: bool) -> Result<ExitCode> {
    let engine = open(data_dir)?;
    if id.is_none() && !all {
        let dead = engine.dead_letters(1000)?;
        if dead.is_empty() {
            println!("No failed writes.");
        }
        for d in &dead {
            println!(
                "{:>6}  {} {} → {}: {} (after {} attempts)",
                d.id, d.entity, d.label, d.target_id, d.error, d.attempts
            );
        }
        if !dead.is_empty() {
            println!("Fix the cause, then `ferry replay ID` or `ferry replay --all`, and sync.");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let n = engine.replay(id)?;
    println!("{n} writes queued again; they go out on the next sync.");
    Ok(ExitCode::SUCCESS)
}

pub fn rescan(data_dir: &Path, hours: u32) -> Result<ExitCode> {
    let engine = open(data_dir)?;
    let n = engine.rescan(hours)?;
    println!("{n} cursors moved back {hours} hours; the next sync reads that span again (nothing is posted twice).");
    Ok(ExitCode::SUCCESS)
}

pub async fn dry_run(data_dir: &Path) -> Result<ExitCode> {
    let engine = open(data_dir)?;
    if engine.overview()?.connections.is_empty() {
        println!("No connections in {}: nothing to preview.", data_dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let lines = engine.dry_run().await?;
    let (mut create, mut link, mut skip) = (0, 0, 0);
    for l in &lines {
        let what = match &l.action {
            PreviewAction::Create => {
                create += 1;
                "would post".to_owned()
            }
            PreviewAction::Link { remote_id } => {
                link += 1;
                format!("already there as {remote_id}; would link")
            }
            PreviewAction::Skip => {
                skip += 1;
                "would skip".to_owned()
            }
            PreviewAction::Cancel => {
                create += 1;
                "would cancel".to_owned()
            }
            PreviewAction::Write { .. } => {
                create += 1;
                "would write".to_owned()
            }
            PreviewAction::Hold { field } => {
                skip += 1;
                format!("{field} differs on both sides; would hold it for a person")
            }
        };
        println!("{} ({}) → {}: {what}", l.label, l.summary, l.target_id);
    }
    println!("dry run: {create} to write, {link} to link, {skip} to skip or hold; nothing was written");
    Ok(ExitCode::SUCCESS)
}

pub async fn reconcile(data_dir: &Path, days: u32) -> Result<ExitCode> {
    let engine = open(data_dir)?;
    let to = Utc::now().date_naive();
    let from = to - chrono::Duration::days(i64::from(days.max(1)) - 1);
    let reports = engine.reconcile(from, to).await?;
    if reports.is_empty() {
        println!("No orders flow is switched on in {}: nothing to compare.", data_dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let mut differences = 0;
    for r in &reports {
        println!(
            "{} → {}, {} to {}: {} store orders, {} ERP documents, {} differences",
            r.store_id,
            r.erp_id,
            r.from,
            r.to,
            r.store_orders,
            r.erp_documents,
            r.drift.len()
        );
        for d in &r.drift {
            println!("  {}", d.describe(&r.erp_id));
        }
        differences += r.drift.len();
    }
    Ok(if differences == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

pub fn backup(data_dir: &Path, to: Option<&Path>) -> Result<ExitCode> {
    let engine = Engine::open(EngineOptions::new(data_dir, Secrets::os_keychain()))
        .with_context(|| format!("opening the journal in {}", data_dir.display()))?;
    let at = engine.backup(to)?;
    println!("Backup written and checked: {}", at.display());
    Ok(ExitCode::SUCCESS)
}

pub fn restore(data_dir: &Path, from: &Path) -> Result<ExitCode> {
    match ferry_engine::restore(data_dir, from)? {
        Some(kept) => println!("Restored {}; the journal it replaced is kept as {}.", from.display(), kept.display()),
        None => println!("Restored {}.", from.display()),
    }
    Ok(ExitCode::SUCCESS)
}
