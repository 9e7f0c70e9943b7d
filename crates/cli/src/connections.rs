//! `ferry connections add|list|test|remove` and `ferry flows
//! enable|disable|list`: configuring Ferry without a window. The secret is
//! read from standard input only — never from an argument or the
//! environment — checked against the system, then kept in the keychain.

use crate::status::open;
use anyhow::{bail, Context, Result};
use ferry_engine::{id_from_name, ConnectionSpec};
use std::io::{IsTerminal, Read};
use std::path::Path;
use std::process::ExitCode;

/// `key=value` pairs; a value that reads as JSON (a number, `true`, an
/// object) is taken as such, anything else as text.
pub fn settings(pairs: &[String]) -> Result<serde_json::Value> {
    let mut map = serde_json::Map::new();
    for pair in pairs {
        let Some((k, v)) = pair.split_once('=') else {
            bail!("--set {pair:?}: write it as key=value, e.g. --set timezone=Europe/Berlin");
        };
        let k = k.trim();
        if k.is_empty() {
            bail!("--set {pair:?}: the key is empty");
        }
        let value = serde_json::from_str::<serde_json::Value>(v).unwrap_or_else(|_| serde_json::Value::from(v));
        map.insert(k.to_owned(), value);
    }
    Ok(serde_json::Value::Object(map))
}

/// The secret, from standard input: typed without echo at a terminal,
/// else everything piped in (trimmed).
fn read_secret(name: &str) -> Result<String> {
    let secret = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("Secret for {name} (not shown): ")).context("reading the secret")?
    } else {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).context("reading the secret from standard input")?;
        s
    };
    let secret = secret.trim().to_owned();
    if secret.is_empty() {
        bail!("no secret on standard input; pipe it in, e.g. `ferry connections add ... < token.txt`");
    }
    Ok(secret)
}

pub async fn add(data_dir: &Path, kind: &str, name: &str, url: &str, set: &[String]) -> Result<ExitCode> {
    let id = id_from_name(name);
    if id.is_empty() {
        bail!("--name {name:?} needs some letters or digits");
    }
    let spec = ConnectionSpec {
        id: id.clone(),
        kind: kind.to_owned(),
        name: name.trim().to_owned(),
        base_url: url.to_owned(),
        settings: settings(set)?,
    };
    let engine = open(data_dir)?;
    // The name, the URL and the settings are checked before the secret is asked for.
    engine.validate_connection(&spec)?;
    let secret = read_secret(&spec.name)?;
    engine.add_connection(&spec, &secret).await?;
    println!("Added {} ({kind}) as {id}: it answered, and its secret is in the keychain.", spec.name);
    Ok(ExitCode::SUCCESS)
}

pub fn list(data_dir: &Path) -> Result<ExitCode> {
    let engine = open(data_dir)?;
    let all = engine.connections()?;
    if all.is_empty() {
        println!("No connections. Add one: ferry connections add <kind> --name NAME --url URL < secret");
    }
    for c in all {
        let secret = if c.secret_set { "secret set" } else { "NO SECRET: add it again" };
        let state = c.paused_reason.as_deref().map(|p| format!(", paused: {p}")).unwrap_or_default();
        println!(
            "{:<16} {:<24} {:<10} {:<8} {} ({secret}{state})",
            c.id,
            c.name,
            c.kind,
            format!("{:?}", c.role).to_lowercase(),
            c.base_url
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn test(data_dir: &Path, name: &str) -> Result<ExitCode> {
    let engine = open(data_dir)?;
    let c = engine.find_connection(name)?;
    engine.test_connection(&c.id).await?;
    println!("{} answered: address, settings and credentials work.", c.name);
    Ok(ExitCode::SUCCESS)
}

pub fn remove(data_dir: &Path, name: &str) -> Result<ExitCode> {
    let engine = open(data_dir)?;
    let c = engine.find_connection(name)?;
    engine.remove_connection(&c.id)?;
    println!("Removed {} and its keychain entry; its journal history is kept.", c.name);
    Ok(ExitCode::SUCCESS)
}

/// A person pauses (nothing read or written; writes wait) or resumes a connection.
pub fn set_paused(data_dir: &Path, name: &str, paused: bool) -> Result<ExitCode> {
    let engine = open(data_dir)?;
    let c = engine.find_connection(name)?;
    let who = std::env::var("USER").unwrap_or_else(|_| "someone".into());
    engine.set_connection_paused(&c.id, paused, &who)?;
    if paused {
        println!("{} is paused: nothing is read from it or written to it until `ferry connections resume`.", c.name);
    } else {
        println!("{} is resumed; what waited goes out on the next sync.", c.name);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn enable(data_dir: &Path, flow: &str, from: &str, to: &str, set: &[String]) -> Result<ExitCode> {
    let engine = open(data_dir)?;
    let (a, b) = (engine.find_connection(from)?, engine.find_connection(to)?);
    let existing = engine.flows()?.into_iter().find(|f| f.flow == flow && f.source_id == a.id && f.target_id == b.id);
    let mut settings = existing.map(|f| f.settings).unwrap_or_else(|| serde_json::json!({}));
    if let (Some(into), serde_json::Value::Object(new)) = (settings.as_object_mut(), self::settings(set)?) {
        into.extend(new);
    }
    engine.enable_flow(flow, &a.id, &b.id, settings)?;
    println!("The {flow} flow from {} to {} is on.", a.name, b.name);
    Ok(ExitCode::SUCCESS)
}

pub fn disable(data_dir: &Path, flow: &str, from: &str, to: &str) -> Result<ExitCode> {
    let engine = open(data_dir)?;
    let (a, b) = (engine.find_connection(from)?, engine.find_connection(to)?);
    engine.disable_flow(flow, &a.id, &b.id)?;
    println!("The {flow} flow from {} to {} is off (its settings and position are kept).", a.name, b.name);
    Ok(ExitCode::SUCCESS)
}

pub fn flows(data_dir: &Path) -> Result<ExitCode> {
    let engine = open(data_dir)?;
    let all = engine.flows()?;
    if all.is_empty() {
        println!("No flows. Switch one on: ferry flows enable orders --from SHOP --to ERP");
    }
    for f in all {
        let state = if f.enabled { "on " } else { "off" };
        println!("{state} {:<10} {} → {}  {}", f.flow, f.source_id, f.target_id, f.settings);
    }
    Ok(ExitCode::SUCCESS)
}
