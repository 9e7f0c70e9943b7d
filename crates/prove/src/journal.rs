//! Journal safety: a second Ferry on the same data dir is refused; a
//! backup taken while Ferry syncs restores, and restoring an older one
//! posts nothing twice; a damaged, read-only or full journal gets a clear
//! message, not a crash, and loses nothing that was committed.

use crate::harness::{self, Ctx};
use crate::report::Suite;
use anyhow::{Context, Result};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const ORDERS: usize = 300;

/// Runs `ferry ARGS` to the end: (success, what it printed).
fn ferry(ctx: &Ctx, data_dir: &Path, args: &[&str]) -> Result<(bool, String)> {
    let out = Command::new(&ctx.ferry).arg("--data-dir").arg(data_dir).args(args).output()?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Ok((out.status.success(), text))
}

fn short(s: &str) -> String {
    let one = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 180 {
        format!("{}…", one.chars().take(180).collect::<String>())
    } else {
        one
    }
}

pub async fn run(ctx: &Ctx) -> Result<Suite> {
    let mut suite = Suite::new(
        "journal",
        "Journal safety",
        "A second Ferry syncing the same data dir is refused with a clear message; `ferry backup` (VACUUM INTO, \
         checked) taken while Ferry syncs restores with `ferry restore`, and restoring an older backup posts \
         nothing twice; a damaged, a read-only and a full journal each get a clear message, and a full disk \
         loses nothing that was committed.",
        "ferry-prove journal".into(),
    );
    let started = Instant::now();
    let sim = harness::emulators(ORDERS, 7).await?;
    sim.sim.erpnext.faults.set_latency(Duration::from_millis(3));
    let dir = ctx.dir("journal/live")?;
    harness::configure(&dir, &sim)?;
    let log = dir.join("ferry.log");

    // A second instance while the first syncs.
    let mut first = ctx.spawn(&dir, &log, &["sync", "--interval", "3600"])?;
    harness::wait_for("the first Ferry to post", Duration::from_secs(60), || sim.sim.stats().erp_sales_orders > 20)
        .await?;
    let (ok, said) = ferry(ctx, &dir, &["sync", "--once"])?;
    suite.check(!ok && said.contains("already syncing"), || {
        format!("a second `ferry sync` was not refused clearly: {}", short(&said))
    });
    suite.figure("second instance", short(said.lines().last().unwrap_or_default()));

    // A backup while it syncs.
    let backup = ctx.dir("journal/backup")?.join("journal.sqlite");
    let (ok, said) = ferry(ctx, &dir, &["backup", "--to", &backup.display().to_string()])?;
    suite.check(ok && backup.is_file(), || format!("backup while syncing failed: {}", short(&said)));
    let posted_at_backup = sim.sim.stats().erp_sales_orders;
    harness::wait_for("the first Ferry to post more", Duration::from_secs(60), || {
        sim.sim.stats().erp_sales_orders > posted_at_backup + 20
    })
    .await?;
    let (ok, said) = ferry(ctx, &dir, &["restore", &backup.display().to_string()])?;
    suite.check(!ok && said.contains("cannot be restored under a running Ferry"), || {
        format!("restoring under a running Ferry was not refused: {}", short(&said))
    });
    let _ = first.kill();
    let _ = first.wait();
    let (ok, said) = ferry(ctx, &dir, &["restore", &backup.display().to_string()])?;
    suite.check(ok && said.contains("kept as"), || format!("restore failed: {}", short(&said)));
    let posted_before_rerun = sim.sim.stats().erp_sales_orders;
    let mut child = ctx.spawn_sync(&dir, &log)?;
    let status = harness::wait_child(&mut child, Duration::from_secs(300)).await?;
    let stats = sim.sim.stats();
    suite.check(
        status.success() && stats.erp_sales_orders == ORDERS && stats.duplicates == 0 && stats.missing == 0,
        || format!("after restoring an older backup: {stats:?}"),
    );
    suite.figure("orders posted when the backup was taken", posted_at_backup);
    suite.figure("orders posted when it was restored", posted_before_rerun);
    suite.figure(
        "after the restore and a sync: orders / duplicates / missing",
        format!("{} / {} / {}", stats.erp_sales_orders, stats.duplicates, stats.missing),
    );

    // A damaged journal: its header overwritten.
    let damaged = ctx.dir("journal/damaged")?;
    std::fs::copy(dir.join(ferry_journal::FILE_NAME), damaged.join(ferry_journal::FILE_NAME))?;
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new().write(true).open(damaged.join(ferry_journal::FILE_NAME))?;
        f.seek(SeekFrom::Start(0))?;
        f.write_all(b"this is not the journal anymore, something wrote over it")?;
    }
    let (ok, said) = ferry(ctx, &damaged, &["status"])?;
    suite.check(!ok && said.contains("damaged") && said.contains("ferry restore"), || {
        format!("a damaged journal: {}", short(&said))
    });
    suite.check(!said.contains("panicked"), || "a damaged journal made ferry panic".into());
    suite.figure("damaged journal", short(said.lines().last().unwrap_or_default()));

    // A read-only journal (another user's file, as root would see it too).
    let ro = std::path::PathBuf::from(format!("/tmp/ferry-prove-ro-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&ro);
    std::fs::create_dir_all(&ro)?;
    std::fs::copy(backup.as_path(), ro.join(ferry_journal::FILE_NAME))?;
    let said = read_only_status(ctx, &ro)?;
    suite.check(said.contains("cannot write its journal") && !said.contains("panicked"), || {
        format!("a read-only journal: {}", short(&said))
    });
    suite.figure("read-only journal", short(said.lines().last().unwrap_or_default()));
    let _ = std::fs::remove_dir_all(&ro);

    // A full disk under a running engine: the file may not grow past a cap.
    let full = ctx.dir("journal/full")?;
    let sim2 = harness::emulators(ORDERS, 8).await?;
    harness::configure(&full, &sim2)?;
    let engine = harness::engine(&full)?;
    let pages_now: i64 =
        rusqlite::Connection::open(full.join(ferry_journal::FILE_NAME))?
            .query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let cap = pages_now.max(0) as u64 + 40;
    engine_cap(&engine, Some(cap))?;
    // Either the run's failure is recorded (the Overview's recent failures
    // and an alert say so) or, when not even that fits, the call fails.
    let first = engine.sync_until_idle().await;
    let full_said = match &first {
        Err(e) => e.message.clone(),
        Ok(_) => engine
            .overview()?
            .connections
            .iter()
            .flat_map(|c| c.recent_failures.iter().map(|f| f.message.clone()))
            .find(|m| m.contains("disk holding the journal is full"))
            .unwrap_or_else(|| "(nothing said about the full disk)".into()),
    };
    suite.check(full_said.contains("disk holding the journal is full"), || {
        format!("a full disk: {}", short(&full_said))
    });
    let posted_while_full = sim2.sim.stats().erp_sales_orders;
    engine_cap(&engine, None)?;
    let again = engine.sync_until_idle().await;
    let stats = sim2.sim.stats();
    suite.check(
        again.is_ok() && stats.erp_sales_orders == ORDERS && stats.duplicates == 0 && stats.missing == 0,
        || format!("after the disk had room again: {again:?} {stats:?}"),
    );
    suite.check(engine.check_journal().is_ok(), || "the journal failed integrity_check after the full disk".into());
    suite.figure("full disk", short(&full_said));
    suite.figure("orders posted before the disk was full", posted_while_full);
    suite.figure(
        "after room again: orders / duplicates / missing",
        format!("{} / {} / {}", stats.erp_sales_orders, stats.duplicates, stats.missing),
    );
    suite.seconds = started.elapsed().as_secs_f64();
    Ok(suite)
}

fn engine_cap(engine: &ferry_engine::Engine, pages: Option<u64>) -> Result<()> {
    engine.cap_journal_pages(pages).map_err(|e| anyhow::anyhow!("{}", e.message))
}

/// `ferry status` on a journal this user may not write: as root, run it as
/// `nobody` (setpriv); otherwise take the write bit away.
fn read_only_status(ctx: &Ctx, dir: &Path) -> Result<String> {
    use std::os::unix::fs::PermissionsExt;
    let file = dir.join(ferry_journal::FILE_NAME);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555))?;
    let is_root = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")?;
    let out = if is_root {
        // `nobody` must reach the binary: a copy in a folder it may read.
        let bin_dir = std::path::PathBuf::from(format!("{}-bin", dir.display()));
        std::fs::create_dir_all(&bin_dir)?;
        let bin = bin_dir.join("ferry");
        std::fs::copy(&ctx.ferry, &bin)?;
        std::fs::set_permissions(&bin_dir, std::fs::Permissions::from_mode(0o755))?;
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755))?;
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&bin)
            .arg("--data-dir")
            .arg(dir)
            .arg("status")
            .env("HOME", dir)
            .output()
            .context("running ferry as nobody (setpriv)")?
    } else {
        Command::new(&ctx.ferry).arg("--data-dir").arg(dir).arg("status").output()?
    };
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
    let _ = std::fs::remove_dir_all(format!("{}-bin", dir.display()));
    Ok(format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}
