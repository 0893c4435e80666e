//! Final pings that could not be delivered, kept on disk until they can be.
//!
//! When a run's final ping is not delivered after all its retries (no network, the
//! server down), the report is kept in the state directory (`own_dir.rs`) as
//! `report-<hash of the check's URL>-<time kept, in ns>-<pid>-<random>`, mode 0600 (it holds the
//! check's URL). At most [`MAX_KEPT`] per check are kept, the newest, each at most
//! [`MAX_BODY`] bytes (the end of the body, where the news is). The next run of the check
//! delivers them, oldest first, before its own pings; `hcwrap flush` delivers every
//! check's. A report is removed once the server recorded it, or said it does not know the
//! check (deleted: it never will).
//!
//! A late report must not mislead: the server records a ping at its arrival. So a report
//! of a success goes as a `/log` ping, which changes no state (a late success must not
//! make a check look recently up), and a failure as the failure ping it was (`/fail` or
//! `/<status>`), so the people alerted still hear of it. Each says first that it comes
//! late and when the run ended, and carries no run id: paired with a start ping long ago,
//! the server would show a duration that never was.

use std::fs::File;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use std::fmt::Write as _;

use crate::body::Parts;
use crate::check::Endpoint;
use crate::own_dir::OwnDir;
use crate::sys;

/// The most reports kept per check: the newest.
pub const MAX_KEPT: usize = 5;
/// The most of a report's body kept: the hosted service's body limit.
pub const MAX_BODY: usize = 100_000;

/// A report waiting to be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The file it is kept in.
    pub file: PathBuf,
    /// The check's URL (`HC_PING_URL`'s form): a secret.
    pub url: String,
    /// The ping it was to be.
    pub endpoint: Endpoint,
    /// When the run ended, in seconds since the epoch.
    pub ended: u64,
    /// How the run went, in a few words: "it succeeded", "exit status 3".
    pub summary: String,
    /// The body it was to carry, in parts, to be built again for the limit then.
    pub body: Parts,
    /// The names of the headers (`--header`) the run sent, lower case; their values are
    /// never kept. `hcwrap flush` sends a header it is given only to reports that list it.
    pub headers: Vec<String>,
}

impl Report {
    /// The ping to send for it now, with a body of at most `limit` bytes (the server's
    /// limit now): the endpoint and the body (see the module documentation).
    pub fn late_ping(&self, limit: usize) -> (Endpoint, String) {
        let endpoint = match self.endpoint {
            // `/0` (`--on-success exit-code`) is a success: a log entry, late.
            Endpoint::Fail => Endpoint::Fail,
            Endpoint::ExitCode(n) if n != 0 => self.endpoint,
            _ => Endpoint::Log,
        };
        let head = format!(
            "[hcwrap] delivered late: the run that ended at {} ({}) could not be reported \
             then\n",
            rfc3339(self.ended),
            self.summary,
        );
        // Within the limit whole: the head too, or (at a limit too small for it) not at all.
        if head.len() > limit {
            return (endpoint, self.body.build(limit));
        }
        let body = self.body.build(limit - head.len());
        (endpoint, head + &body)
    }

    /// One line for `hcwrap flush --dry-run` and messages, without the check's secret.
    pub fn describe(&self, redact: &dyn Fn(&str) -> String) -> String {
        format!(
            "{}: the run that ended at {} ({}), as a late {}",
            redact(&self.url),
            rfc3339(self.ended),
            self.summary,
            self.late_ping(usize::MAX).0.name(),
        )
    }
}

/// A time in seconds since the epoch as RFC 3339, in UTC.
pub fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

/// The reports of one check.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: OwnDir,
    prefix: String,
}

impl Outbox {
    /// The reports of the check whose URL (as the configuration named it) is `check_url`.
    pub fn new(dir: OwnDir, check_url: &str) -> Self {
        let prefix = format!("report-{:016x}-", crate::lock::fnv1a(check_url.as_bytes()));
        Outbox { dir, prefix }
    }

    /// Keeps a report; returns its file and how many older ones were dropped to make room.
    pub fn keep(&self, report: &Report) -> Result<(PathBuf, usize)> {
        if !self.dir.ready() {
            bail!(
                "the state directory {} is missing, not the user's own, or writable by others",
                self.dir.dir().display()
            );
        }
        // Named by the time it is kept, to the nanosecond: names sort as runs ended. After
        // the clock stepped back, after the newest kept one all the same.
        let newest = self.files().last().and_then(|f| {
            let name = f.file_name()?.to_str()?;
            name.get(self.prefix.len()..self.prefix.len() + 20)?
                .parse::<u128>()
                .ok()
        });
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let kept_at = newest.map_or(now, |newest| now.max(newest + 1));
        let name = format!(
            "{}{kept_at:020}-{}-{:08x}",
            self.prefix,
            std::process::id(),
            crate::random::fraction().to_bits() & 0xffff_ffff
        );
        if !self.dir.write(&name, &render(report)) {
            bail!("cannot write {}", self.dir.path(&name).display());
        }
        let mut kept = self.files();
        let mut dropped = 0;
        while kept.len() > MAX_KEPT {
            let oldest = kept.remove(0);
            if std::fs::remove_file(&oldest).is_ok() {
                dropped += 1;
            }
        }
        Ok((self.dir.path(&name), dropped))
    }

    /// This check's report files, oldest first.
    fn files(&self) -> Vec<PathBuf> {
        files_with_prefix(self.dir.dir(), &self.prefix)
    }

    /// This check's reports, oldest first.
    pub fn waiting(&self) -> Vec<Report> {
        self.files().iter().filter_map(|f| read(f)).collect()
    }

    /// Holds this check's reports for one run's delivery; `None` while another hcwrap
    /// holds them (delivering them) for longer than `patience`.
    pub fn claim(&self, patience: Duration) -> Option<File> {
        claim(&self.dir.path(&format!("{}lock", self.prefix)), patience)
    }
}

/// Every check's reports in `dir`, oldest first within each check; and the files named
/// as reports that are not ones hcwrap can deliver (another user's, damaged, a link).
/// `Err` when the directory is there but cannot be read.
pub fn all_waiting(dir: &OwnDir) -> std::io::Result<(Vec<Report>, Vec<PathBuf>)> {
    if let Err(e) = std::fs::read_dir(dir.dir())
        && e.kind() != std::io::ErrorKind::NotFound
    {
        return Err(e);
    }
    let (mut reports, mut other) = (Vec::new(), Vec::new());
    for file in files_with_prefix(dir.dir(), "report-") {
        match read(&file) {
            Some(report) => reports.push(report),
            None => other.push(file),
        }
    }
    Ok((reports, other))
}

/// The lock of the reports whose lock file is `path`, waited for while another hcwrap
/// delivers them (so that this one's pings come after them), for `patience` at most.
pub fn claim(path: &Path, patience: Duration) -> Option<File> {
    let file = crate::own_dir::open_own(path, true).ok()?;
    sys::flock_within(file.as_raw_fd(), patience)
        .ok()
        .map(|()| file)
}

/// The lock file of the check whose report is `report`.
pub fn lock_of(report: &Report) -> Option<PathBuf> {
    let name = report.file.file_name()?.to_str()?;
    // report-<16 hex>-...
    let prefix = name.get(..24)?;
    Some(report.file.with_file_name(format!("{prefix}lock")))
}

fn files_with_prefix(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .filter_map(|n| n.into_string().ok())
        .filter(|n| n.starts_with(prefix) && !n.ends_with("lock"))
        .map(|n| dir.join(n))
        .collect();
    files.sort();
    files
}

/// The file's report, if it is one of the user's own, whole.
fn read(file: &Path) -> Option<Report> {
    let handle = File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(file)
        .ok()?;
    let meta = handle.metadata().ok()?;
    if !meta.is_file() || meta.uid() != sys::uid() || meta.mode() & 0o077 != 0 {
        return None;
    }
    let mut text = String::new();
    handle
        .take(MAX_BODY as u64 + 64 * 1024)
        .read_to_string(&mut text)
        .ok()?;
    parse(&text, file).ok()
}

fn render(report: &Report) -> String {
    let one_line = |text: &str| text.replace(['\n', '\r'], " ");
    let mut text = format!(
        "hcwrap report 2\nurl {}\nendpoint {}\nended {}\nsummary {}\nheaders {}\n",
        report.url,
        endpoint_word(report.endpoint),
        report.ended,
        one_line(&report.summary),
        report.headers.join(","),
    );
    for note in &report.body.notes {
        let _ = writeln!(text, "note {}", one_line(note));
    }
    // The output as text (a byte that is not UTF-8 is sent as U+FFFD in any case), and
    // how much of it was left out before what is kept, which stays true whatever the
    // conversion does to the kept part's length.
    if let Some((kept, total)) = &report.body.output {
        // At most the last MAX_BODY bytes, cut between characters.
        let text_of = String::from_utf8_lossy(kept);
        let mut from = text_of.len().saturating_sub(MAX_BODY);
        while !text_of.is_char_boundary(from) {
            from += 1;
        }
        let before = total.saturating_sub(kept.len() as u64);
        let _ = writeln!(text, "left_out {}", before + from as u64);
        text.push('\n');
        text.push_str(&text_of[from..]);
    } else {
        text.push('\n');
    }
    text
}

fn parse(text: &str, file: &Path) -> Result<Report> {
    let (head, output) = text.split_once("\n\n").context("no body")?;
    let mut lines = head.lines();
    if lines.next() != Some("hcwrap report 2") {
        bail!("not a report");
    }
    let mut field = |name: &str| -> Result<String> {
        lines
            .next()
            .and_then(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .map(str::to_owned)
            .with_context(|| format!("no {name}"))
    };
    let url = field("url")?;
    let endpoint = endpoint_from(&field("endpoint")?).context("bad endpoint")?;
    let ended = field("ended")?.parse()?;
    let summary = field("summary")?;
    let headers = field("headers")?
        .split(',')
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    let mut notes = Vec::new();
    let mut left_out = None;
    for line in lines {
        if let Some(note) = line.strip_prefix("note ") {
            notes.push(note.to_owned());
        } else if let Some(n) = line.strip_prefix("left_out ") {
            left_out = Some(n.parse::<u64>()?);
        } else {
            bail!("an unknown line");
        }
    }
    let body = Parts {
        output: left_out.map(|n| (output.as_bytes().to_vec(), n + output.len() as u64)),
        notes,
    };
    Ok(Report {
        headers,
        file: file.to_owned(),
        url,
        endpoint,
        ended,
        summary,
        body,
    })
}

fn endpoint_word(endpoint: Endpoint) -> String {
    match endpoint {
        Endpoint::Start => "start".into(),
        Endpoint::Success => "success".into(),
        Endpoint::Fail => "fail".into(),
        Endpoint::Log => "log".into(),
        Endpoint::ExitCode(n) => n.to_string(),
    }
}

fn endpoint_from(word: &str) -> Option<Endpoint> {
    Some(match word {
        "success" => Endpoint::Success,
        "fail" => Endpoint::Fail,
        "log" => Endpoint::Log,
        n => Endpoint::ExitCode(n.parse().ok()?),
    })
}

/// Seconds since the epoch now.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(endpoint: Endpoint) -> Report {
        Report {
            file: PathBuf::from("/x/report-0123456789abcdef-1"),
            url: "https://hc-ping.com/uuid".into(),
            endpoint,
            ended: 1_764_642_600,
            summary: "exit status 3".into(),
            body: Parts {
                output: Some((b"tail\n".to_vec(), 5)),
                notes: vec!["exit status 3".into()],
            },
            headers: vec!["x-auth".into()],
        }
    }

    #[test]
    fn a_report_reads_back_as_written() {
        let r = report(Endpoint::ExitCode(3));
        assert_eq!(parse(&render(&r), &r.file).unwrap(), r);
        assert!(parse("hcwrap report 1\nurl x\n\nbody", &r.file).is_err());
        assert_eq!(
            lock_of(&r).unwrap(),
            Path::new("/x/report-0123456789abcdef-lock")
        );
    }

    #[test]
    fn a_late_body_fits_the_limit_and_its_left_out_note_stays_true() {
        let mut r = report(Endpoint::ExitCode(3));
        // 500 bytes left out before, then the kept tail: é-s with no newline, and output
        // lines that look like hcwrap's own.
        let kept = format!("[hcwrap] 7 bytes of output left out\n{}", "é".repeat(100));
        r.body = Parts {
            output: Some((kept.as_bytes().to_vec(), 500 + kept.len() as u64)),
            notes: vec!["ran 1s".into(), "exit status 3".into()],
        };
        for limit in [0, 10, 100, 150, 200, 250, 400, 100_000] {
            let (_, body) = r.late_ping(limit);
            assert!(body.len() <= limit, "{limit}: {} bytes: {body}", body.len());
        }
        let (_, body) = r.late_ping(250);
        assert!(body.ends_with("[hcwrap] exit status 3\n"), "{body}");
        let line = body.lines().nth(1).unwrap();
        let left: u64 = line
            .strip_prefix("[hcwrap] ")
            .and_then(|l| l.strip_suffix(" bytes of output left out"))
            .unwrap_or_else(|| panic!("{body}"))
            .parse()
            .unwrap();
        let after = body.split_once(&format!("{line}\n")).unwrap().1;
        let shown = after.split("\n[hcwrap] ").next().unwrap().len() as u64;
        assert_eq!(left + shown, 500 + kept.len() as u64, "{body}");
        // A report survives its file.
        assert_eq!(parse(&render(&r), &r.file).unwrap(), r);
    }

    #[test]
    fn a_late_success_is_a_log_entry_and_a_late_failure_stays_one() {
        let (endpoint, body) = report(Endpoint::Success).late_ping(usize::MAX);
        assert_eq!(endpoint, Endpoint::Log);
        assert!(
            body.starts_with(
                "[hcwrap] delivered late: the run that ended at 2025-12-02T02:30:00Z \
                 (exit status 3) could not be reported then\ntail\n"
            ),
            "{body}"
        );
        assert_eq!(
            report(Endpoint::ExitCode(3)).late_ping(usize::MAX).0,
            Endpoint::ExitCode(3)
        );
        assert_eq!(
            report(Endpoint::Fail).late_ping(usize::MAX).0,
            Endpoint::Fail
        );
        assert_eq!(report(Endpoint::Log).late_ping(usize::MAX).0, Endpoint::Log);
        assert_eq!(
            report(Endpoint::ExitCode(0)).late_ping(usize::MAX).0,
            Endpoint::Log
        );
    }
}
