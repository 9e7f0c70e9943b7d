//! `ferry mappings`: what a store SKU is called in the ERP, which store
//! location an ERP warehouse stocks, and the values met with no mapping.

use crate::MappingAction;
use anyhow::{Context, Result};
use ferry_engine::secrets::Secrets;
use ferry_engine::{Engine, EngineOptions};
use std::path::Path;
use std::process::ExitCode;

pub fn run(data_dir: &Path, action: Option<MappingAction>) -> Result<ExitCode> {
    let engine = Engine::open(EngineOptions::new(data_dir, Secrets::os_keychain()))
        .with_context(|| format!("opening the journal in {}", data_dir.display()))?;
    match action {
        None | Some(MappingAction::List) => list(&engine),
        Some(MappingAction::Set { kind, from, to }) => {
            let done = engine.set_mapping(&kind, &from, &to)?;
            println!("Mapped {kind} {from} → {to}.");
            if done.replayed > 0 {
                println!("{} failed writes that named {from} are queued again.", done.replayed);
            }
            if done.reread {
                println!("Stock is read again from the start on the next sync (only levels that differ are written).");
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(MappingAction::Remove { kind, from }) => {
            engine.remove_mapping(&kind, &from)?;
            println!("Removed the {kind} mapping of {from}.");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn list(engine: &Engine) -> Result<ExitCode> {
    let m = engine.mappings()?;
    if m.unmapped.is_empty() {
        println!("Nothing needs a mapping.");
    } else {
        println!("Needs a mapping:");
        for u in &m.unmapped {
            println!(
                "  {} {} (met {} times, last {}): {}",
                u.kind,
                u.value,
                u.seen,
                u.last_seen.format("%Y-%m-%d %H:%M"),
                u.detail
            );
            println!("    ferry mappings set {} {:?} <{}>", u.kind, u.value, target_name(&m.kinds, &u.kind));
        }
    }
    if m.mappings.is_empty() {
        println!("No mappings set; values are used as they are.");
    }
    for k in &m.kinds {
        let of_kind: Vec<_> = m.mappings.iter().filter(|x| x.kind == k.kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        println!("{} → {}:", k.source, k.target);
        for x in of_kind {
            println!("  {} → {}", x.source, x.target);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn target_name(kinds: &[ferry_engine::MappingKind], kind: &str) -> String {
    kinds.iter().find(|k| k.kind == kind).map(|k| k.target.clone()).unwrap_or_else(|| "value".into())
}
