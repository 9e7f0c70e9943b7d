//! `ferry conflicts`: the inbox of fields changed differently on both
//! sides, and deciding them.

use crate::ConflictAction;
use anyhow::{Context, Result};
use ferry_engine::secrets::Secrets;
use ferry_engine::{Choice, Engine, EngineOptions};
use std::path::Path;
use std::process::ExitCode;

pub fn run(data_dir: &Path, action: Option<ConflictAction>, all: bool) -> Result<ExitCode> {
    let engine = Engine::open(EngineOptions::new(data_dir, Secrets::os_keychain()))
        .with_context(|| format!("opening the journal in {}", data_dir.display()))?;
    match action {
        None => list(&engine, all),
        Some(ConflictAction::List { all: all_too }) => list(&engine, all || all_too),
        Some(ConflictAction::Show { id }) => show(&engine, id),
        Some(ConflictAction::Resolve { id, field, keep, value, reason, by }) => {
            let choice = match (keep.as_deref(), value) {
                (Some("store"), _) => Choice::KeepStore,
                (Some(_), _) => Choice::KeepErp,
                (None, Some(v)) => Choice::Value(v),
                (None, None) => anyhow::bail!("say --keep store, --keep erp or --value V"),
            };
            let who = by.or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "someone".into());
            match (id, field) {
                (Some(id), _) => {
                    engine.resolve_conflict(id, &choice, reason.as_deref(), &who)?;
                    println!("Conflict {id} decided; the next sync writes it.");
                }
                (None, Some(field)) => {
                    let n = engine.resolve_conflicts_of(&field, &choice, reason.as_deref(), &who)?;
                    println!("{n} {field} conflicts decided; the next sync writes them.");
                }
                (None, None) => anyhow::bail!("say which conflict (ID) or --field"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn show(engine: &Engine, id: i64) -> Result<ExitCode> {
    let c = engine.conflict(id)?;
    let names = engine.overview()?.connections;
    let name = |id: &str| names.iter().find(|n| n.id == id).map_or(id.to_owned(), |n| n.name.clone());
    let v = |s: &Option<String>| s.clone().unwrap_or_else(|| "(empty)".into());
    println!("Conflict {}: {} of {} {}", c.id, c.field, c.entity, c.key);
    println!("  opened      {}", c.opened_at.format("%Y-%m-%d %H:%M UTC"));
    println!("  both were   {}", v(&c.base));
    println!("  store       {} says {}", name(&c.store_id), v(&c.store_value));
    println!("  ERP         {} says {}", name(&c.erp_id), v(&c.erp_value));
    if c.open {
        println!("  state       open: held on both sides until someone decides");
        println!("Decide with: ferry conflicts resolve {} --keep store|erp (or --value V) [--reason R]", c.id);
    } else {
        println!(
            "  decided     by {} at {}: {}",
            c.resolved_by.as_deref().unwrap_or("?"),
            c.resolved_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default(),
            c.resolution.as_deref().unwrap_or("")
        );
        if let Some(r) = &c.reason {
            println!("  reason      {r}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn list(engine: &Engine, all: bool) -> Result<ExitCode> {
    let conflicts = engine.conflicts(all)?;
    if conflicts.is_empty() {
        println!("{}", if all { "No conflicts yet." } else { "No open conflicts." });
    }
    let v = |s: &Option<String>| s.clone().unwrap_or_else(|| "(empty)".into());
    for c in &conflicts {
        println!(
            "{:>5}  {} {} {}: was {}, store says {}, ERP says {}",
            c.id,
            c.entity,
            c.key,
            c.field,
            v(&c.base),
            v(&c.store_value),
            v(&c.erp_value)
        );
        if !c.open {
            println!(
                "       decided by {} at {}: {}{}",
                c.resolved_by.as_deref().unwrap_or("?"),
                c.resolved_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default(),
                c.resolution.as_deref().unwrap_or(""),
                c.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
            );
        }
    }
    if conflicts.iter().any(|c| c.open) {
        println!("Decide with: ferry conflicts resolve ID --keep store|erp (or --value V) [--reason R]");
    }
    Ok(ExitCode::SUCCESS)
}
