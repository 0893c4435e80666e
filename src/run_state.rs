//! What hcwrap counts across a check's runs on this machine: failures in a row (for
//! `--tolerate` and the metrics file) and the last success's time.
//!
//! One small file per check in the state directory (`own_dir.rs`), `runs-<hash of the
//! check's URL>`, mode 0600. Runs of the same check may end at the same moment (cron
//! starting a job every minute that runs for two): each reads and rewrites the file while
//! it holds an exclusive `flock(2)` on it, so no count is lost and none is counted twice.
//! A file that cannot be read as a count (cut short by a crash) counts from zero.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::own_dir::{OwnDir, open_own};
use crate::sys;

/// A check's counts, after a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Failures in a row, this run's included; 0 after a success.
    pub failures: u64,
    /// The last success's end, in seconds since the epoch, if one was seen.
    pub last_success: Option<u64>,
}

/// Where one check's counts are kept.
#[derive(Debug, Clone)]
pub struct RunState {
    dir: OwnDir,
    name: String,
}

impl RunState {
    /// The counts of the check whose URL is `check_url`, in `dir`.
    pub fn new(dir: OwnDir, check_url: &str) -> Self {
        let name = format!("runs-{:016x}", crate::lock::fnv1a(check_url.as_bytes()));
        RunState { dir, name }
    }

    /// The file's path, for messages.
    pub fn path(&self) -> PathBuf {
        self.dir.path(&self.name)
    }

    /// The counts as they are now.
    pub fn read(&self) -> Result<Counts> {
        Ok(self.open_locked(false)?.1)
    }

    /// The file, opened (made if `create`) and locked, and the counts in it. Held to a few
    /// lines: the file is the user's, but a count needs no more.
    fn open_locked(&self, create: bool) -> Result<(File, Counts)> {
        let path = self.path();
        let file = open_own(&path, create)?;
        // A run rewriting it holds the lock.
        sys::flock(file.as_raw_fd()).with_context(|| format!("cannot lock {}", path.display()))?;
        let mut text = String::new();
        let _ = (&file).take(4096).read_to_string(&mut text);
        Ok((file, parse(&text)))
    }

    /// Counts a run that ended at `at` where the check's counts are kept already (a run
    /// without `--tolerate` or `--metrics-file` after runs with them): they must stay true
    /// for the next run that reads them. Makes nothing; `Ok(None)` where there are none.
    pub fn record_if_kept(&self, failed: bool, at: u64) -> Result<Option<Counts>> {
        if std::fs::symlink_metadata(self.path()).is_err() {
            return Ok(None);
        }
        self.record(failed, at).map(Some)
    }

    /// Counts a run that ended at `at` (seconds since the epoch) and `failed` or not;
    /// returns the counts with it.
    pub fn record(&self, failed: bool, at: u64) -> Result<Counts> {
        if !self.dir.ready() {
            bail!(
                "the state directory {} is missing, not the user's own, or writable by others",
                self.dir.dir().display()
            );
        }
        let path = self.path();
        let (mut file, before) = self.open_locked(true)?;
        let after = if failed {
            Counts {
                failures: before.failures.saturating_add(1),
                ..before
            }
        } else {
            Counts {
                failures: 0,
                last_success: Some(at),
            }
        };
        file.set_len(0)?;
        file.rewind()?;
        file.write_all(render(after).as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(after)
    }
}

fn parse(text: &str) -> Counts {
    let mut counts = Counts::default();
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("failures", n)) => counts.failures = n.trim().parse().unwrap_or(0),
            Some(("last_success", t)) => counts.last_success = t.trim().parse().ok(),
            _ => {}
        }
    }
    counts
}

fn render(counts: Counts) -> String {
    let mut text = format!("failures {}\n", counts.failures);
    if let Some(at) = counts.last_success {
        let _ = writeln!(text, "last_success {at}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_back_as_written_and_garbage_counts_from_zero() {
        let counts = Counts {
            failures: 3,
            last_success: Some(1_700_000_000),
        };
        assert_eq!(parse(&render(counts)), counts);
        assert_eq!(parse("failu"), Counts::default());
        assert_eq!(parse("failures x\n").failures, 0);
    }
}
