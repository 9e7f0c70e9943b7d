//! What a suite found, and RELIABILITY.md: each suite's section is written
//! by the suite itself from the figures of its last run.

use std::fmt::Write as _;
use std::path::Path;

/// One suite's outcome.
#[derive(Debug, Clone, Default)]
pub struct Suite {
    /// e.g. `crash`.
    pub name: &'static str,
    pub title: &'static str,
    /// What it proves, in a sentence.
    pub claim: &'static str,
    /// The command that runs it.
    pub command: String,
    /// (figure, value), in order.
    pub figures: Vec<(String, String)>,
    /// What went wrong; empty when it passed.
    pub failures: Vec<String>,
    pub seconds: f64,
}

impl Suite {
    pub fn new(name: &'static str, title: &'static str, claim: &'static str, command: String) -> Self {
        Self { name, title, claim, command, ..Default::default() }
    }

    pub fn figure(&mut self, what: impl Into<String>, value: impl ToString) {
        self.figures.push((what.into(), value.to_string()));
    }

    /// Records `what` as failed unless `ok`.
    pub fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.failures.push(what());
        }
    }

    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The suite's section of RELIABILITY.md.
    pub fn markdown(&self, when: &str, machine: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "<!-- suite:{} -->", self.name);
        let _ = writeln!(s, "## {}\n", self.title);
        let _ = writeln!(s, "{}\n", self.claim);
        let _ = writeln!(s, "Run it: `{}`\n", self.command);
        let verdict = if self.passed() { "passed".to_owned() } else { format!("FAILED ({})", self.failures.len()) };
        let _ = writeln!(s, "Last run: {when} on {machine}, {:.1} s, **{verdict}**.\n", self.seconds);
        let _ = writeln!(s, "| figure | value |\n| --- | --- |");
        for (k, v) in &self.figures {
            let _ = writeln!(s, "| {} | {} |", k.replace('|', "\\|"), v.replace('|', "\\|"));
        }
        for f in &self.failures {
            let _ = writeln!(s, "\n- failure: {}", f.replace('\n', " "));
        }
        let _ = writeln!(s, "<!-- /suite:{} -->", self.name);
        s
    }

    /// Prints the suite's figures to standard output.
    pub fn print(&self) {
        println!("== {} ({:.1} s): {}", self.title, self.seconds, if self.passed() { "passed" } else { "FAILED" });
        for (k, v) in &self.figures {
            println!("   {k}: {v}");
        }
        for f in &self.failures {
            println!("   FAILURE: {f}");
        }
    }
}

const HEAD: &str = "# Reliability\n\n\
Each section below is written by the suite it describes, from the figures of \
its last run (`make soak` runs the long versions; `make test` runs the short \
ones and writes `target/RELIABILITY-short.md`). Do not edit the sections by hand.\n\n";

/// Puts each suite's section into the file at `path`, replacing that
/// suite's old section and keeping the others.
pub fn write(path: &Path, suites: &[Suite], when: &str, machine: &str) -> std::io::Result<()> {
    let mut text = std::fs::read_to_string(path).unwrap_or_else(|_| HEAD.to_owned());
    if !text.starts_with("# Reliability") {
        text = HEAD.to_owned();
    }
    for suite in suites {
        let section = suite.markdown(when, machine);
        let (start, end) = (format!("<!-- suite:{} -->", suite.name), format!("<!-- /suite:{} -->\n", suite.name));
        match (text.find(&start), text.find(&end)) {
            (Some(a), Some(b)) if b > a => text.replace_range(a..b + end.len(), &section),
            _ => {
                if !text.ends_with("\n\n") {
                    text.push('\n');
                }
                text.push_str(&section);
            }
        }
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_is_replaced_in_place_and_others_are_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("R.md");
        let mut a = Suite::new("a", "A", "a holds", "run a".into());
        a.figure("trials", 5);
        let b = Suite::new("b", "B", "b holds", "run b".into());
        write(&path, &[a.clone(), b], "t1", "m").expect("write");
        a.figures[0].1 = "30".into();
        a.failures.push("oops | bar".into());
        write(&path, &[a], "t2", "m").expect("rewrite");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.matches("<!-- suite:a -->").count(), 1);
        assert!(
            text.contains("| trials | 30 |") && text.contains("FAILED (1)") && text.contains("- failure: oops | bar")
        );
        assert!(text.contains("## B") && text.contains("t1"), "b's section is kept: {text}");
    }
}
