//! `ferry-prove`: Ferry's reliability suites. Each prints its figures and
//! writes its section of RELIABILITY.md; the process exits 1 when any
//! suite failed. `make test` runs the short versions, `make soak` the long.

mod bad_input;
mod crash;
mod faults;
mod fuzz;
mod harness;
mod journal;
mod report;
mod secrets;
mod two_pcs;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "ferry-prove",
    about = "Ferry's reliability suites: crash, faults, bad input, fuzzing, secrets, journal safety, two PCs"
)]
struct Cli {
    /// The long versions (what `make soak` runs).
    #[arg(long, global = true)]
    long: bool,
    /// Where to write the figures (default: RELIABILITY.md with --long, else target/RELIABILITY-short.md).
    #[arg(long, global = true)]
    report: Option<PathBuf>,
    /// The `ferry` binary (default: next to this one).
    #[arg(long, global = true)]
    ferry: Option<PathBuf>,
    /// Where the suites keep their data dirs and logs (default: a fresh temporary folder).
    #[arg(long, global = true)]
    work: Option<PathBuf>,
    #[command(subcommand)]
    suite: Suite,
}

#[derive(Subcommand, Clone, Copy, PartialEq, Eq)]
enum Suite {
    /// Every suite, then the secrets scan over everything they left.
    All,
    /// SIGKILL mid-sync and restart (5 trials; 30 with --long).
    Crash,
    /// Emulators injecting every fault for a while, then convergence (1 minute; 10 with --long).
    Faults,
    /// A table of bad inputs, each with a clear message and nothing lost.
    BadInput,
    /// Every connector's response parsing fed generated bodies (bounded).
    Fuzz,
    /// A second instance, backup and restore, a damaged, read-only or full journal.
    Journal,
    /// Two PCs with their own journals, one store and one ERP.
    TwoPcs,
    /// Only the secrets scan, over what earlier suites left in --work.
    Secrets,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ferry-prove: cannot start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("ferry-prove: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<bool> {
    let ferry = match cli.ferry {
        Some(f) => f,
        None => std::env::current_exe()?.with_file_name(format!("ferry{}", std::env::consts::EXE_SUFFIX)),
    };
    anyhow::ensure!(ferry.is_file(), "no ferry binary at {} (build it: cargo build -p ferry-cli)", ferry.display());
    let _temp;
    let work = match cli.work {
        Some(w) => w,
        None => {
            _temp = tempfile::Builder::new().prefix("ferry-prove-").tempdir()?;
            _temp.path().to_path_buf()
        }
    };
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let ctx = harness::Ctx { ferry, work, long: cli.long };
    let wanted = |s: Suite| cli.suite == Suite::All || cli.suite == s;
    let mut suites = Vec::new();
    let mut each = |s: report::Suite| {
        s.print();
        suites.push(s);
    };
    if wanted(Suite::Journal) {
        each(journal::run(&ctx).await?);
    }
    if wanted(Suite::BadInput) {
        each(bad_input::run(&ctx).await?);
    }
    if wanted(Suite::Fuzz) {
        each(fuzz::run(&ctx, if ctx.long { 20_000 } else { 1_500 }).await?);
    }
    if wanted(Suite::TwoPcs) {
        each(two_pcs::run(&ctx).await?);
    }
    if wanted(Suite::Crash) {
        each(crash::run(&ctx, if ctx.long { 30 } else { 5 }).await?);
    }
    if wanted(Suite::Faults) {
        let secs = if ctx.long { 600 } else { 60 };
        each(faults::run(&ctx, std::time::Duration::from_secs(secs)).await?);
    }
    if matches!(cli.suite, Suite::All | Suite::Secrets) {
        each(secrets::run(&ctx)?);
    }
    let report = cli.report.unwrap_or_else(|| {
        if cli.long {
            PathBuf::from("RELIABILITY.md")
        } else {
            PathBuf::from("target/RELIABILITY-short.md")
        }
    });
    let when = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    report::write(&report, &suites, &when, &machine()).with_context(|| format!("writing {}", report.display()))?;
    println!("figures written to {}", report.display());
    Ok(suites.iter().all(report::Suite::passed))
}

/// The machine, in a few words: cores, memory, OS.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find(|l| l.starts_with("MemTotal:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map(|kb| format!(", {:.0} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!("{cores} cores{mem_gib}, {} {}", std::env::consts::OS, std::env::consts::ARCH)
}
