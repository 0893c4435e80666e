//! What a run leaves on this machine for people and tools to read: a line in the run log
//! (`--run-log`) and the metrics file (`--metrics-file`).
//!
//! Both are written once the run's pings are done, on the pings thread, so that they can
//! say what became of the pings. Runs of one check, or of many, may share a file:
//! - the run log is appended to with `O_APPEND`, one `write(2)` per line, under an
//!   exclusive `flock(2)`, so lines never interleave;
//! - the metrics file holds one set of samples per check (label `check`); a run rewrites
//!   its own and keeps the others', writing a new file beside it and renaming it into
//!   place (`node_exporter` never reads half of one), under a `flock(2)` on a lock file
//!   beside it (`.NAME.lock`), so two runs never lose each other's samples.
//!
//! A check is named by its slug, or the first 8 characters of its UUID: enough to tell
//! checks apart, not enough to ping one (the UUID is the check's secret).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::child::{Cut, Ended, Outcome};
use crate::sys;

/// What a run keeps besides its pings, as the options and the state directory allow.
#[derive(Debug, Clone, Default)]
pub struct Records {
    /// The check's name in records (see the module documentation); `None` unmonitored.
    pub label: Option<String>,
    /// The check's counts, kept where `--tolerate` or `--metrics-file` needs them.
    pub counts: Option<crate::run_state::RunState>,
    /// Without those options: the check's counts, updated only if they are kept already.
    pub kept_counts: Option<crate::run_state::RunState>,
    /// Where an undelivered final ping is kept; `None` where no state directory is.
    pub outbox: Option<crate::outbox::Outbox>,
    /// `--run-log`.
    pub run_log: Option<PathBuf>,
    /// `--metrics-file`.
    pub metrics: Option<PathBuf>,
}

impl Records {
    /// Writes the run log's line and the metrics, saying what could not be written.
    pub fn write(&self, record: &RunRecord) {
        if let Some(path) = &self.run_log
            && let Err(e) = append_run_log(path, record)
        {
            crate::msg::say(&format!("--run-log: {e:#}"));
        }
        if let Some(path) = &self.metrics
            && let Err(e) = write_metrics(path, record, self.counts.as_ref())
        {
            crate::msg::say(&format!("--metrics-file: {e:#}"));
        }
    }
}

/// A check's name in records: its slug, or the start of its UUID (see the module
/// documentation), or its server's host and a hash of its URL for a URL of another shape.
pub fn label(check: &crate::check::Check) -> String {
    use crate::check::CheckId;
    match check.id() {
        Some((_, CheckId::Slug(slug))) => slug.clone(),
        Some((_, CheckId::Uuid(uuid))) => uuid.chars().take(8).collect(),
        // Two URLs of another shape on one server must not share a name.
        None => format!(
            "{}-{:08x}",
            check.host(),
            crate::lock::fnv1a(check.plain_url().as_bytes()) & 0xffff_ffff
        ),
    }
}

/// What became of one ping, for the run log.
#[derive(Debug, Clone)]
pub struct PingRecord {
    /// Which: "start", "success", "fail", "log", or an exit status.
    pub kind: String,
    /// Whether the server recorded it.
    pub delivered: bool,
    /// Attempts made.
    pub attempts: u32,
    /// Why it was not recorded (redacted).
    pub error: Option<String>,
}

/// One run, over, as the records tell it.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// The check's name in records; `None` for an unmonitored run.
    pub check: Option<String>,
    /// When the command started.
    pub started: SystemTime,
    /// How long it ran.
    pub ran: Duration,
    /// hcwrap's exit status for the run.
    pub exit_status: i32,
    /// The signal that killed the command, if one did.
    pub signal: Option<i32>,
    /// `--timeout` ended it.
    pub timed_out: bool,
    /// The command did not start: why.
    pub not_started: Option<String>,
    /// The run was judged failed.
    pub failed: bool,
    /// Why a run that exited 0 was judged failed.
    pub rule_failures: Vec<String>,
    /// Bytes read from stdout and stderr.
    pub printed: [u64; 2],
    /// Bytes of output sent with the final ping.
    pub sent: Option<usize>,
    /// What the command used.
    pub usage: Option<crate::sys::Usage>,
    /// The memory cgroup where the OOM killer acted, if it killed the command.
    pub oom_killed_in: Option<String>,
    /// Failures in a row, this run's included, where they are counted.
    pub failures_in_a_row: Option<u64>,
    /// The last success's end, in seconds since the epoch, where it is known.
    pub last_success: Option<u64>,
    /// The pings, in the order sent.
    pub pings: Vec<PingRecord>,
}

impl RunRecord {
    /// The record of `ended`, before its pings.
    pub fn of(ended: &Ended, check: Option<String>, exit_status: i32) -> Self {
        let ran = ended.ran;
        RunRecord {
            check,
            started: ended.started_at,
            ran,
            exit_status,
            signal: match ended.outcome {
                Outcome::Signaled(s) => Some(s),
                _ => None,
            },
            timed_out: matches!(ended.cut, Some(Cut::Timeout(_))),
            not_started: match &ended.outcome {
                Outcome::ExecFailed { reason, .. } => Some(reason.clone()),
                _ => None,
            },
            failed: exit_status != 0,
            rule_failures: Vec::new(),
            printed: ended.capture.as_ref().map_or([0; 2], |c| c.printed),
            sent: None,
            usage: ended.usage,
            oom_killed_in: ended.oom_killed_in.clone(),
            failures_in_a_row: None,
            last_success: None,
            pings: Vec::new(),
        }
    }

    fn ended_at(&self) -> SystemTime {
        self.started + self.ran
    }

    /// The run log's line, without its newline.
    pub fn json(&self) -> String {
        let time = |t: SystemTime| humantime::format_rfc3339_millis(t).to_string();
        let secs = |d: Duration| (d.as_secs_f64() * 1000.0).round() / 1000.0;
        let pings: Vec<Value> = self
            .pings
            .iter()
            .map(|p| {
                json!({
                    "ping": p.kind,
                    "delivered": p.delivered,
                    "attempts": p.attempts,
                    "error": p.error,
                })
            })
            .collect();
        let line = json!({
            "check": self.check,
            "start": time(self.started),
            "end": time(self.ended_at()),
            "duration_s": secs(self.ran),
            "exit_status": self.exit_status,
            "signal": self.signal.map(crate::signals::name),
            "timed_out": self.timed_out,
            "not_started": self.not_started,
            "failed": self.failed,
            "rule_failures": self.rule_failures,
            "stdout_bytes": self.printed[0],
            "stderr_bytes": self.printed[1],
            "sent_bytes": self.sent,
            "max_rss_kib": self.usage.map(|u| u.max_rss_kib),
            "user_cpu_s": self.usage.map(|u| secs(u.user)),
            "system_cpu_s": self.usage.map(|u| secs(u.system)),
            "oom_killed_in": self.oom_killed_in,
            "failures_in_a_row": self.failures_in_a_row,
            "pings": pings,
        });
        line.to_string()
    }

    /// This run's samples for the metrics file, by metric name.
    fn samples(&self) -> Vec<(&'static str, String)> {
        let secs_since_epoch = |t: SystemTime| {
            t.duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| (d.as_secs_f64() * 1000.0).round() / 1000.0)
        };
        let mut samples = vec![
            ("hcwrap_last_exit_status", self.exit_status.to_string()),
            ("hcwrap_last_failed", u8::from(self.failed).to_string()),
            (
                "hcwrap_last_duration_seconds",
                format!("{:.3}", self.ran.as_secs_f64()),
            ),
            (
                "hcwrap_last_end_time_seconds",
                format!("{:.3}", secs_since_epoch(self.ended_at())),
            ),
        ];
        if let Some(at) = self.last_success {
            samples.push(("hcwrap_last_success_time_seconds", at.to_string()));
        }
        if let Some(n) = self.failures_in_a_row {
            samples.push(("hcwrap_consecutive_failures", n.to_string()));
        }
        samples
    }
}

/// The metrics of the last run, as opposed to the check's counts.
const LAST_RUN: [&str; 4] = [
    "hcwrap_last_exit_status",
    "hcwrap_last_failed",
    "hcwrap_last_duration_seconds",
    "hcwrap_last_end_time_seconds",
];

/// Each metric's help text, in the order written.
const METRICS: [(&str, &str); 6] = [
    (
        "hcwrap_last_exit_status",
        "Exit status of the last run (128+N when signal N ended it).",
    ),
    (
        "hcwrap_last_failed",
        "1 if the last run failed (by its exit status or a rule), else 0.",
    ),
    (
        "hcwrap_last_duration_seconds",
        "How long the last run's command ran.",
    ),
    (
        "hcwrap_last_end_time_seconds",
        "When the last run ended, in seconds since the epoch.",
    ),
    (
        "hcwrap_last_success_time_seconds",
        "When the last successful run ended, in seconds since the epoch.",
    ),
    (
        "hcwrap_consecutive_failures",
        "Failed runs in a row, the last run's included.",
    ),
];

/// Appends `record`'s line to the run log at `path`.
pub fn append_run_log(path: &Path, record: &RunRecord) -> Result<()> {
    let mut line = record.json();
    line.push('\n');
    // A symbolic link another user made (in a directory of theirs), for the file or any
    // directory on the way, must not lead hcwrap to write, or make, a file where they
    // choose. (root's own links, such as /var/run, are fine.)
    for step in path.ancestors() {
        if let Ok(meta) = std::fs::symlink_metadata(step)
            && meta.file_type().is_symlink()
            && ![sys::uid(), 0].contains(&std::os::unix::fs::MetadataExt::uid(&meta))
        {
            bail!(
                "{} is a symbolic link another user made; name a file of your own",
                step.display()
            );
        }
    }
    let mut file = File::options()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    // Another user's file (reached through a link that user made, say) is not written to.
    let meta = file.metadata()?;
    if meta.is_file() && std::os::unix::fs::MetadataExt::uid(&meta) != sys::uid() {
        bail!(
            "{} belongs to another user; name a file of your own",
            path.display()
        );
    }
    sys::flock(file.as_raw_fd()).with_context(|| format!("cannot lock {}", path.display()))?;
    file.write_all(line.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Writes `record`'s samples into the metrics file at `path`, keeping everything else in
/// it; the counts as `counts` has them when the file is written (a run of the check that
/// ended later may have counted since this one did).
pub fn write_metrics(
    path: &Path,
    record: &RunRecord,
    counts: Option<&crate::run_state::RunState>,
) -> Result<()> {
    let Some(check) = &record.check else {
        return Ok(());
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .context("the path names no file")?
        .to_string_lossy()
        .into_owned();
    let not_regular = || {
        anyhow::anyhow!(
            "{} is not a regular file (a device, a FIFO, a directory or a symbolic link); \
             name a file of its own",
            path.display()
        )
    };
    // Before a lock file is made beside it (not in /dev for /dev/null).
    if std::fs::symlink_metadata(path).is_ok_and(|meta| !meta.is_file()) {
        return Err(not_regular());
    }
    let lock_path = dir.join(format!(".{name}.lock"));
    let lock = crate::own_dir::open_own(&lock_path, true)?;
    sys::flock(lock.as_raw_fd()).with_context(|| format!("cannot lock {}", lock_path.display()))?;
    // Looked at again under the lock: another run may be replacing it this moment (its old text
    // would be lost). Only a regular file is replaced: a device (`/dev/null`), a FIFO or a
    // symbolic link named by mistake must stay what it is.
    let existing = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => Some(meta),
        Ok(_) => return Err(not_regular()),
        Err(_) => None,
    };
    let mut old = String::new();
    if existing.is_some()
        && let Ok(file) = File::options()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
            .open(path)
    {
        let _ = file.take(MAX_METRICS).read_to_string(&mut old);
    }
    let mut record = record.clone();
    if let Some(now) = counts.and_then(|c| c.read().ok()) {
        record.failures_in_a_row = Some(now.failures);
        record.last_success = now.last_success;
    }
    let text = merge(&old, &record, check);
    replace(path, &dir, &name, &text, existing.as_ref())
}

/// The most of an existing metrics file read; what is beyond is not kept.
const MAX_METRICS: u64 = 16 << 20;

/// A file of the user's own beside the metrics file (the lock), made if missing; another
/// user's, or a symbolic link, is refused.
/// The metrics file's new text: everything in `old` that is not this check's hcwrap
/// samples (other checks', other programs' lines), then hcwrap's metrics with this run's
/// samples for `check`.
fn merge(old: &str, record: &RunRecord, check: &str) -> String {
    let label = format!("{{check=\"{}\"}}", escape_label(check));
    let mut by_metric: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut foreign = String::new();
    // This check's samples as written, to compare.
    let mut mine: BTreeMap<&str, String> = BTreeMap::new();
    for line in old.lines() {
        let ours = METRICS.iter().find(|(m, _)| {
            line.strip_prefix(m)
                .is_some_and(|rest| rest.starts_with('{'))
                || line.starts_with(&format!("# HELP {m} "))
                || line.starts_with(&format!("# TYPE {m} "))
        });
        match ours {
            Some((metric, _)) if !line.starts_with('#') => {
                if line[metric.len()..].starts_with(&label) {
                    mine.insert(metric, line.to_owned());
                } else {
                    by_metric.entry(metric).or_default().push(line.to_owned());
                }
            }
            // hcwrap's HELP and TYPE lines are written again below.
            Some(_) => {}
            None => {
                foreign.push_str(line);
                foreign.push('\n');
            }
        }
    }
    for (metric, line) in own_samples(mine, record, &label) {
        by_metric.entry(metric).or_default().push(line);
    }
    let mut text = foreign;
    for (metric, help) in METRICS {
        if let Some(lines) = by_metric.get_mut(metric) {
            lines.sort();
            let _ = writeln!(text, "# HELP {metric} {help}\n# TYPE {metric} gauge");
            for line in lines.iter() {
                let _ = writeln!(text, "{line}");
            }
        }
    }
    text
}

/// This check's samples: this run's, except that a run of the check that ended later
/// (its pings were quicker) keeps its "last run" samples. An end time in the future (a
/// clock that was ahead when it was written) is not later.
fn own_samples(
    mut written: BTreeMap<&'static str, String>,
    record: &RunRecord,
    label: &str,
) -> BTreeMap<&'static str, String> {
    let value = |line: &String| line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let written_end = written
        .get("hcwrap_last_end_time_seconds")
        .and_then(value)
        .filter(|end| *end <= now);
    let ours = record.samples();
    let our_end = ours
        .iter()
        .find(|(m, _)| *m == "hcwrap_last_end_time_seconds")
        .and_then(|(_, v)| v.parse::<f64>().ok());
    let newer = match (written_end, our_end) {
        (Some(written), Some(ours)) => ours >= written,
        _ => true,
    };
    if newer {
        written.retain(|metric, _| !LAST_RUN.contains(metric));
    }
    for (metric, value) in ours {
        if newer || !LAST_RUN.contains(&metric) {
            written.insert(metric, format!("{metric}{label} {value}"));
        }
    }
    written
}

/// Replaces the metrics file with `text`: a new file of hcwrap's own beside it (never one
/// someone made there first), with the old file's mode and group where there was one,
/// renamed into place.
fn replace(
    path: &Path,
    dir: &Path,
    name: &str,
    text: &str,
    existing: Option<&std::fs::Metadata>,
) -> Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let temporary = dir.join(format!(
        ".{name}.{}-{:x}",
        std::process::id(),
        crate::random::fraction().to_bits()
    ));
    let written = File::options()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&temporary)
        .and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            if let Some(old) = existing {
                // The exporter may read it through its group.
                let _ = std::os::unix::fs::fchown(&file, None, Some(old.gid()));
                file.set_permissions(std::fs::Permissions::from_mode(old.mode() & 0o7777))?;
            }
            Ok(())
        });
    if let Err(e) = written.and_then(|()| std::fs::rename(&temporary, path)) {
        let _ = std::fs::remove_file(&temporary);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

/// A label value as the text format needs it: `\`, `"` and newlines escaped.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(check: &str, status: i32) -> RunRecord {
        RunRecord {
            check: Some(check.to_owned()),
            started: UNIX_EPOCH + Duration::from_secs(1_764_642_600),
            ran: Duration::from_millis(2500),
            exit_status: status,
            signal: None,
            timed_out: false,
            not_started: None,
            failed: status != 0,
            rule_failures: Vec::new(),
            printed: [10, 2],
            sent: Some(12),
            usage: None,
            oom_killed_in: None,
            failures_in_a_row: Some(u64::from(status != 0)),
            last_success: None,
            pings: vec![PingRecord {
                kind: "start".into(),
                delivered: true,
                attempts: 1,
                error: None,
            }],
        }
    }

    #[test]
    fn the_run_log_line_is_one_json_object() {
        let line = record("backup", 3).json();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["check"], "backup");
        assert_eq!(v["start"], "2025-12-02T02:30:00.000Z");
        assert_eq!(v["end"], "2025-12-02T02:30:02.500Z");
        assert_eq!(v["duration_s"], 2.5);
        assert_eq!(v["exit_status"], 3);
        assert_eq!(v["pings"][0]["attempts"], 1);
        assert!(!line.contains('\n'));
    }

    #[test]
    fn the_metrics_file_keeps_other_checks_samples() {
        let dir = std::env::temp_dir().join(format!("hcwrap-metrics-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("jobs.prom");
        write_metrics(&path, &record("backup", 3), None).unwrap();
        write_metrics(&path, &record("db \"x\"", 0), None).unwrap();
        write_metrics(&path, &record("backup", 0), None).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("hcwrap_last_exit_status{check=\"backup\"} 0\n"),
            "{text}"
        );
        assert!(!text.contains("{check=\"backup\"} 3"), "{text}");
        assert!(
            text.contains("hcwrap_last_exit_status{check=\"db \\\"x\\\"\"} 0\n"),
            "{text}"
        );
        assert_eq!(
            text.matches("# TYPE hcwrap_last_exit_status gauge").count(),
            1
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
