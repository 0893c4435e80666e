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
    /// The body it was to carry.
    pub body: String,
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
        let body = fit(&self.body, limit.saturating_sub(head.len()));
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

/// `body` within `room` bytes. hcwrap's notes at its end (how the run ended) are kept
/// first, whole, the last ones first; then the end of the output, cut at its front between
/// characters; and the note on output left out (the body's first line, if it has one)
/// counts what this cut leaves out too, so that its number stays true. A note that does
/// not fit is left out whole.
fn fit(body: &str, room: usize) -> String {
    if body.len() <= room {
        return body.to_owned();
    }
    let note_of = |line: &str| {
        line.strip_prefix("[hcwrap] ")?
            .strip_suffix(" bytes of output left out")?
            .parse::<u64>()
            .ok()
    };
    let (left_out, rest) = match body.split_once('\n') {
        Some((first, rest)) if note_of(first).is_some() => (note_of(first).unwrap_or(0), rest),
        _ => (0, body),
    };
    // The trailing lines that are hcwrap's notes.
    let mut notes_at = rest.len();
    while let Some(start) = rest[..notes_at.saturating_sub(1)]
        .rfind('\n')
        .map(|i| i + 1)
        .or((notes_at > 0).then_some(0))
    {
        if !rest[start..notes_at].starts_with("[hcwrap] ") {
            break;
        }
        notes_at = start;
        if start == 0 {
            break;
        }
    }
    let (output, notes) = rest.split_at(notes_at);
    // Whole notes, the last ones first, while they fit.
    let mut kept_from = notes.len();
    for (at, _) in notes
        .match_indices('\n')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .skip(1)
    {
        if notes.len() - (at + 1) > room {
            break;
        }
        kept_from = at + 1;
    }
    if notes.len() <= room {
        kept_from = 0;
    }
    let notes = &notes[kept_from..];
    let room = room - notes.len();
    let tail_from = |keep: usize| {
        let mut from = output.len().saturating_sub(keep);
        while !output.is_char_boundary(from) {
            from += 1;
        }
        from
    };
    let note = |from: usize| {
        format!(
            "[hcwrap] {} bytes of output left out\n",
            left_out + from as u64
        )
    };
    // The note's length depends on its number, which depends on its length: twice settles it.
    let mut from = tail_from(room.saturating_sub(note(tail_from(room)).len()));
    from = tail_from(room.saturating_sub(note(from).len()));
    let left_note = note(from);
    if left_note.len() + (output.len() - from) <= room {
        left_note + &output[from..] + notes
    } else {
        output[tail_from(room)..].to_owned() + notes
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
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .ok()?;
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
    let mut body = report.body.as_str();
    if body.len() > MAX_BODY {
        let mut from = body.len() - MAX_BODY;
        while !body.is_char_boundary(from) {
            from += 1;
        }
        body = &body[from..];
    }
    format!(
        "hcwrap report 1\nurl {}\nendpoint {}\nended {}\nsummary {}\nheaders {}\n\n{body}",
        report.url,
        endpoint_word(report.endpoint),
        report.ended,
        report.summary.replace('\n', " "),
        report.headers.join(","),
    )
}

fn parse(text: &str, file: &Path) -> Result<Report> {
    let (head, body) = text.split_once("\n\n").context("no body")?;
    let mut lines = head.lines();
    if lines.next() != Some("hcwrap report 1") {
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
    let headers = field("headers")
        .map(|h| {
            h.split(',')
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(Report {
        headers,
        file: file.to_owned(),
        url,
        endpoint,
        ended,
        summary,
        body: body.to_owned(),
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
            body: "tail\n\n[hcwrap] exit status 3\n".into(),
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
        r.body = "[hcwrap] 500 bytes of output left out\n0123456789\nabcdefghij\n[hcwrap] exit status 3\n".into();
        let (_, short) = r.late_ping(150);
        assert!(short.len() <= 150, "{} bytes: {short}", short.len());
        assert!(short.ends_with("[hcwrap] exit status 3\n"), "{short}");
        let (_, body) = r.late_ping(180);
        assert!(body.len() <= 180, "{} bytes: {body}", body.len());
        assert!(body.ends_with("[hcwrap] exit status 3\n"), "{body}");
        let line = body.lines().nth(1).unwrap();
        let left: u64 = line
            .strip_prefix("[hcwrap] ")
            .and_then(|l| l.strip_suffix(" bytes of output left out"))
            .unwrap()
            .parse()
            .unwrap();
        let after = body.split_once(&format!("{line}\n")).unwrap().1;
        let kept = after.len() as u64 - "[hcwrap] exit status 3\n".len() as u64;
        // What was left out then, and what this cut leaves out now, with what is kept, is
        // all the output: 500 bytes, and the 22 of the kept body.
        assert!(kept > 0 && kept < 22, "{body}");
        assert_eq!(left + kept, 500 + 22, "{body}");
        let (_, whole) = r.late_ping(100_000);
        assert!(whole.ends_with(&r.body));
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
