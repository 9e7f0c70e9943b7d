//! Processes for `ferry bench`: the emulators in a process of their own
//! (so what is measured is Ferry alone), the workloads in another, and the
//! machine they ran on.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Peak resident memory of this process so far (Linux), in MB.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// CPU seconds this process has used so far (user + system; Linux).
pub fn cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // After the command name in parentheses: utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// `ferry sim` in a child process; killed when dropped.
pub struct SimProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl SimProcess {
    pub fn start(exe: &Path, orders: usize, skus: usize) -> Result<Self> {
        let mut child = Command::new(exe)
            .args(["sim", "--port", "0", "--orders", &orders.to_string(), "--skus", &skus.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the emulators (ferry sim)")?;
        let stdout = child.stdout.take().context("the emulators' output")?;
        let mut base = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.context("reading the emulators' output")?;
            if let Some(url) = line.strip_prefix("Shopify emulator:") {
                let url = url.split_whitespace().next().unwrap_or_default();
                base = url.strip_suffix("/shopify").map(str::to_owned);
            }
            if line.starts_with("Seeded") {
                break;
            }
        }
        match base {
            Some(base) => Ok(Self { child, base }),
            None => {
                let _ = child.kill();
                bail!("ferry sim did not say where it listens")
            }
        }
    }

    /// `/_sim/<what>` as JSON.
    pub async fn get(&self, what: &str) -> Result<serde_json::Value> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(600)).build()?;
        let resp = client.get(format!("{}/_sim/{what}", self.base)).send().await?;
        Ok(resp.error_for_status()?.json().await?)
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `ferry bench-run <args>` and returns the JSON it printed last.
pub fn workload(exe: &Path, args: &[&str]) -> Result<serde_json::Value> {
    let out = Command::new(exe)
        .arg("bench-run")
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running ferry bench-run {}", args.join(" ")))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!("ferry bench-run {} failed ({}): {text}", args.join(" "), out.status);
    }
    let line = text.lines().rev().find_map(|l| l.strip_prefix("BENCH ")).context("the workload printed no figures")?;
    Ok(serde_json::from_str(line)?)
}

/// The machine, in one line: CPU model, cores, memory, kernel.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            let kb: f64 = m.lines().find(|l| l.starts_with("MemTotal:"))?.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb / 1024.0 / 1024.0)
        })
        .unwrap_or(0.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let profile = if cfg!(debug_assertions) { "debug build" } else { "release build" };
    format!("{model}, {cores} cores, {mem_gib:.0} GiB RAM, Linux {}, {profile}", kernel.trim())
}
