//! Secrets: after every suite, every file the suites left (journals, their
//! WAL, logs — the HTTP log is in the logs) is searched for every
//! secret handed to Ferry. Zero hits is the only pass.

use crate::harness::{Ctx, SECRETS};
use crate::report::Suite;
use anyhow::Result;
use std::path::Path;

pub fn run(ctx: &Ctx) -> Result<Suite> {
    let started = std::time::Instant::now();
    let mut suite = Suite::new(
        "secrets",
        "Secrets: none in any file",
        "After the other suites, every file they left — each journal, its WAL, every log of the `ferry` \
         processes (run with debug logging) — is searched byte for byte for every secret handed to Ferry. \
         The HTTP log is in those logs: each answer's address, secret parameters redacted, never a header.",
        "ferry-prove all (the scan runs last)".into(),
    );
    let (mut files, mut bytes, mut hits, mut http_lines) = (0usize, 0u64, Vec::new(), 0usize);
    scan(&ctx.work, &mut |path, data| {
        files += 1;
        bytes += data.len() as u64;
        http_lines += String::from_utf8_lossy(data).lines().filter(|l| l.contains("ferry::http")).count();
        for secret in SECRETS {
            if data.windows(secret.len()).any(|w| w == secret.as_bytes()) {
                hits.push(format!("{} holds a secret ({}…)", path.display(), &secret[..4]));
            }
        }
    })?;
    suite.figure("files searched", files);
    suite.figure("bytes searched", bytes);
    suite.figure("HTTP log lines among them (addresses with secrets redacted)", http_lines);
    suite.figure("secrets looked for", SECRETS.len());
    suite.figure("hits", hits.len());
    suite.failures.extend(hits);
    suite.check(files > 0, || "nothing was searched: run it after the other suites (ferry-prove all)".into());
    suite.seconds = started.elapsed().as_secs_f64();
    Ok(suite)
}

fn scan(dir: &Path, f: &mut impl FnMut(&Path, &[u8])) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            scan(&path, f)?;
        } else if kind.is_file() {
            let data = std::fs::read(&path)?;
            f(&path, &data);
        }
    }
    Ok(())
}
