//! `ferry`: Ferry without a window. The same engine API as the desktop app.

mod bare;
mod bench;
mod conflicts;
mod connections;
mod demo;
mod mappings;
mod status;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "ferry", version, about = "Keeps a shop's store, ERP and couriers in step.")]
struct Cli {
    /// Where the journal lives (default: the OS data folder + ferry).
    #[arg(long, global = true, env = "FERRY_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the built-in emulators (Shopify, ERPNext) on loopback and print their URLs.
    Sim {
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Store orders to seed.
        #[arg(long, default_value_t = 200)]
        orders: usize,
        /// Products in the catalog (at least the 20 seeded ones), each with stock in the ERP.
        #[arg(long, default_value_t = 0)]
        skus: usize,
        /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
        #[arg(long, value_name = "PEM_FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key (PEM) of --tls-cert.
        #[arg(long, value_name = "PEM_FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Start the emulators in-process, connect to them and sync, with progress.
    Demo {
        /// Store orders to seed.
        #[arg(long, default_value_t = 200)]
        orders: usize,
        /// Exit once everything seeded is posted (otherwise new orders keep arriving).
        #[arg(long)]
        once: bool,
    },
    /// Sync the configured connections.
    Sync {
        /// Run every flow once, wait out retries, then exit.
        #[arg(long)]
        once: bool,
        /// Seconds between scheduled runs (without --once).
        #[arg(long, default_value_t = 300)]
        interval: u64,
        /// Show (and journal) what would be written, write nothing.
        #[arg(long, conflicts_with = "once")]
        dry_run: bool,
    },
    /// List dead-lettered writes, or put one (ID) or all (--all) back in the queue.
    Replay {
        /// The write to replay, as listed.
        id: Option<i64>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
    /// Read again everything changed in the last N hours (safe at any time).
    Rescan {
        #[arg(long)]
        hours: u32,
    },
    /// List conflicts (open, or all with --all), show one, or decide them.
    Conflicts {
        #[command(subcommand)]
        action: Option<ConflictAction>,
        /// Include decided conflicts (the history).
        #[arg(long)]
        all: bool,
    },
    /// Compare the store's orders of the last N days with the ERP; exits 1 when they differ.
    Reconcile {
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
    /// Measure Ferry against a bare loop, memory, the first read, a rate-limited stock push and the journal; prints figures.
    Bench {
        /// Store orders for the orders flow, one run per size (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
        orders: Vec<usize>,
        /// SKUs whose stock is pushed under Shopify's rate limit (0 skips it).
        #[arg(long, default_value_t = 20000)]
        skus: usize,
        /// Journal lines added before timing the Activity page (0 skips it).
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        /// Store sizes at which the first read is timed by export and by pages.
        #[arg(long, value_delimiter = ',', default_value = "250,1000,5000")]
        read_sizes: Vec<usize>,
        /// Also write the report (Markdown) here, e.g. BENCHMARKS.md.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// One workload of `ferry bench`, against emulators at --base (used by `ferry bench`).
    #[command(hide = true)]
    BenchRun {
        what: String,
        #[arg(long, default_value = "")]
        base: String,
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        paged: bool,
        #[arg(long, default_value_t = 0)]
        events: usize,
    },
    /// Add, list, test or remove connections (the secret is read from standard input).
    Connections {
        #[command(subcommand)]
        action: ConnectionAction,
    },
    /// Switch flows between connections on or off, or list them.
    Flows {
        #[command(subcommand)]
        action: FlowAction,
    },
    /// What a store SKU is called in the ERP, which location a warehouse stocks; and what needs a mapping.
    Mappings {
        #[command(subcommand)]
        action: Option<MappingAction>,
    },
    /// Write a checked copy of the journal (default: <data dir>/backups/journal-<time>.sqlite).
    Backup {
        #[arg(long)]
        to: Option<PathBuf>,
    },
    /// Put a backup in place of the journal (checked first; the replaced journal is kept beside it).
    Restore { file: PathBuf },
    /// Print each connection's state: last and next run, posted, pending, failed, conflicts.
    Status {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum ConnectionAction {
    /// Check a system with its secret (from standard input), then save it.
    Add {
        /// shopify, erpnext, easypost, ...
        kind: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        url: String,
        /// A setting, key=value (repeat for more).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Every connection, without secrets.
    List,
    /// Check a saved connection with its stored secret.
    Test { name: String },
    /// Remove a connection and its keychain entry.
    Remove { name: String },
    /// Stop reading from and writing to a connection (writes wait) until resumed.
    Pause { name: String },
    /// Start a paused connection again.
    Resume { name: String },
}

#[derive(Subcommand)]
pub enum FlowAction {
    /// Switch a flow on: orders, stock, catalog, customers or shipping.
    Enable {
        flow: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// A flow setting, key=value (repeat for more).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Switch a flow off (its settings and position are kept).
    Disable {
        flow: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
    /// Every flow, on or off.
    List,
}

#[derive(Subcommand)]
pub enum MappingAction {
    /// Every mapping, and the values met with none.
    List,
    /// Map a value: `sku STORE-SKU ERP-ITEM-CODE` or `warehouse ERP-WAREHOUSE STORE-LOCATION`.
    Set {
        #[arg(value_parser = ["sku", "warehouse"])]
        kind: String,
        from: String,
        to: String,
    },
    /// Remove a mapping (the value is then used as it is).
    Remove {
        #[arg(value_parser = ["sku", "warehouse"])]
        kind: String,
        from: String,
    },
}

#[derive(Subcommand)]
pub enum ConflictAction {
    /// List open conflicts (with --all, decided ones too).
    List {
        /// Include decided conflicts (the history).
        #[arg(long)]
        all: bool,
    },
    /// Everything about one conflict: the three values, who decided and why.
    Show {
        /// The conflict, as listed.
        id: i64,
    },
    /// Decide one conflict (ID) or every open conflict of a field (--field).
    Resolve {
        /// The conflict, as listed.
        #[arg(required_unless_present = "field")]
        id: Option<i64>,
        /// Decide all open conflicts of this field the same way, e.g. price.
        #[arg(long, conflicts_with = "id")]
        field: Option<String>,
        /// Keep one side's value: store or erp.
        #[arg(long, value_parser = ["store", "erp"], required_unless_present = "value")]
        keep: Option<String>,
        /// Or type the right value.
        #[arg(long, conflicts_with = "keep")]
        value: Option<String>,
        /// Why (kept with the decision).
        #[arg(long)]
        reason: Option<String>,
        /// Who decides (default: the user name).
        #[arg(long)]
        by: Option<String>,
    },
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("FERRY_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ferry: cannot start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ferry: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<std::process::ExitCode> {
    let data_dir = cli.data_dir.unwrap_or_else(ferry_engine::default_data_dir);
    match cli.command {
        Command::Sim { port, orders, skus, tls_cert, tls_key } => {
            let tls = tls_cert.zip(tls_key).map(|(cert, key)| ferry_sim::TlsFiles { cert, key });
            demo::sim(port, orders, skus, tls).await
        }
        Command::Demo { orders, once } => demo::demo(&data_dir, orders, once).await,
        Command::Sync { once, interval, dry_run } => {
            if dry_run {
                status::dry_run(&data_dir).await
            } else {
                status::sync(&data_dir, once, interval).await
            }
        }
        Command::Status { json } => status::status(&data_dir, json),
        Command::Replay { id, all } => status::replay(&data_dir, id, all),
        Command::Rescan { hours } => status::rescan(&data_dir, hours),
        Command::Reconcile { days } => status::reconcile(&data_dir, days).await,
        Command::Conflicts { action, all } => conflicts::run(&data_dir, action, all),
        Command::Mappings { action } => mappings::run(&data_dir, action),
        Command::Backup { to } => status::backup(&data_dir, to.as_deref()),
        Command::Restore { file } => status::restore(&data_dir, &file),
        Command::Bench { orders, skus, events, read_sizes, out } => {
            bench::bench(bench::BenchArgs { orders, skus, events, read_sizes, out }).await
        }
        Command::BenchRun { what, base, data, paged, events } => {
            bench::run::run(&what, &base, &data, paged, events).await
        }
        Command::Connections { action } => match action {
            ConnectionAction::Add { kind, name, url, set } => {
                connections::add(&data_dir, &kind, &name, &url, &set).await
            }
            ConnectionAction::List => connections::list(&data_dir),
            ConnectionAction::Test { name } => connections::test(&data_dir, &name).await,
            ConnectionAction::Remove { name } => connections::remove(&data_dir, &name),
            ConnectionAction::Pause { name } => connections::set_paused(&data_dir, &name, true),
            ConnectionAction::Resume { name } => connections::set_paused(&data_dir, &name, false),
        },
        Command::Flows { action } => match action {
            FlowAction::Enable { flow, from, to, set } => connections::enable(&data_dir, &flow, &from, &to, &set),
            FlowAction::Disable { flow, from, to } => connections::disable(&data_dir, &flow, &from, &to),
            FlowAction::List => connections::flows(&data_dir),
        },
    }
}
