//! A crontab, read line by line and written back byte for byte but for the jobs that are
//! wrapped.
//!
//! Both formats: a user's crontab (`crontab -l`: five fields or an `@nickname`, then the
//! command) and the system's (`/etc/crontab`, `/etc/cron.d/*`: a user field before the
//! command). Comments, blank lines, environment lines, spacing and trailing spaces are
//! kept as they are. A job's command runs through the shell, up to its first unescaped
//! `%`: what follows is the command's stdin, so a wrapped command keeps that part
//! unchanged after it. A line that is neither a comment, an environment line nor a job
//! makes the whole crontab refused, with its line number.

use anyhow::Result;

use crate::msg::printable;

/// One line of a crontab, as written (without its newline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The text.
    pub text: String,
    /// What it is.
    pub kind: Kind,
}

/// What a line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A comment, a blank line.
    Other,
    /// `NAME=value`.
    Env(String, String),
    /// A job.
    Job(Job),
}

/// A job line's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The schedule as written: five fields joined by one space, or `@daily` and the like.
    pub schedule: String,
    /// The user it runs as (system format).
    pub user: Option<String>,
    /// Where the command starts in the line.
    pub start: usize,
    /// Where the shell's part of the command ends: at its first unescaped `%`, or at the
    /// end, less trailing spaces.
    pub end: usize,
    /// A slug asked for in a `# hcwrap: slug=...` comment on the line before.
    pub slug_comment: Option<String>,
    /// The time zone a `CRON_TZ` line above it sets (as cronie reads it).
    pub tz: Option<String>,
    /// The shell the environment lines above it set (`SHELL`).
    pub shell: Option<String>,
}

impl Job {
    /// The shell's part of the command, as written.
    pub fn command<'a>(&self, line: &'a str) -> &'a str {
        &line[self.start..self.end]
    }
}

/// A parsed crontab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crontab {
    /// Its lines.
    pub lines: Vec<Line>,
    /// Whether the text ended with a newline.
    pub final_newline: bool,
}

/// The prefix of the comment that names a job's slug.
const SLUG_COMMENT: &str = "# hcwrap: slug=";

impl Crontab {
    /// Parses `text`; `system` for the format with a user field.
    pub fn parse(text: &str, system: bool) -> Result<Self> {
        let final_newline = text.ends_with('\n');
        if !text.is_empty() && !final_newline {
            anyhow::bail!(
                "line {}: the last line has no newline, and cron ignores such a crontab: add one",
                text.lines().count()
            );
        }
        let body = text.strip_suffix('\n').unwrap_or(text);
        let mut lines = Vec::new();
        let mut slug_comment = None;
        let (mut tz, mut shell) = (None, None);
        if !text.is_empty() {
            for (i, raw) in body.split('\n').enumerate() {
                let kind = classify(raw, system).map_err(|why| {
                    anyhow::anyhow!("line {}: {why}: '{}'", i + 1, printable(raw.trim()))
                })?;
                let kind = match kind {
                    Kind::Job(mut job) => {
                        job.slug_comment = slug_comment.take();
                        job.tz.clone_from(&tz);
                        job.shell.clone_from(&shell);
                        Kind::Job(job)
                    }
                    Kind::Env(name, value) => {
                        // TZ= sets the job's environment only; CRON_TZ= (cronie) its
                        // schedule's time zone.
                        match name.as_str() {
                            "CRON_TZ" => tz = Some(value.clone()).filter(|v| !v.is_empty()),
                            "SHELL" => shell = Some(value.clone()),
                            _ => {}
                        }
                        slug_comment = None;
                        Kind::Env(name, value)
                    }
                    Kind::Other => {
                        let trimmed = raw.trim();
                        slug_comment = trimmed
                            .strip_prefix(SLUG_COMMENT)
                            .map(|s| s.trim().to_owned())
                            .or(if trimmed.is_empty() {
                                None
                            } else {
                                slug_comment
                            });
                        Kind::Other
                    }
                };
                lines.push(Line {
                    text: raw.to_owned(),
                    kind,
                });
            }
        }
        Ok(Crontab {
            lines,
            final_newline,
        })
    }

    /// The text, as it was or as it has been changed.
    pub fn text(&self) -> String {
        let mut text = self
            .lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        if self.final_newline && !self.lines.is_empty() {
            text.push('\n');
        }
        text
    }

    /// The value of `name` as the lines above line `index` leave it (cron applies an
    /// environment line to the jobs below it).
    pub fn env_above(&self, index: usize, name: &str) -> Option<&str> {
        self.lines[..index]
            .iter()
            .rev()
            .find_map(|l| match &l.kind {
                Kind::Env(n, v) if n == name => Some(v.as_str()),
                _ => None,
            })
    }

    /// Adds `lines` before the first job (after a leading block of comments).
    pub fn insert_before_jobs(&mut self, lines: &[String]) {
        let at = self
            .lines
            .iter()
            .position(|l| matches!(l.kind, Kind::Job(_)))
            .unwrap_or(self.lines.len());
        // Before the comments that belong to the first job, not between them.
        let mut at = at;
        while at > 0 && self.lines[at - 1].text.trim_start().starts_with('#') {
            at -= 1;
        }
        for (i, text) in lines.iter().enumerate() {
            self.lines.insert(
                at + i,
                Line {
                    text: text.clone(),
                    kind: Kind::Other,
                },
            );
        }
        if self.lines.len() == lines.len() {
            self.final_newline = true;
        }
    }
}

/// What one line is.
fn classify(line: &str, system: bool) -> Result<Kind, String> {
    let trimmed = line.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(Kind::Other);
    }
    if let Some((name, value)) = env_line(trimmed) {
        return Ok(Kind::Env(name, value));
    }
    // The fields, each with where it ends.
    let mut words = Words::new(line);
    let first = words.next().ok_or("no schedule")?;
    let schedule = if first.starts_with('@') {
        if !NICKNAMES.contains(&first) {
            return Err(format!(
                "'{}' is not a schedule cron knows",
                printable(first)
            ));
        }
        first.to_owned()
    } else {
        let mut fields = vec![first];
        for _ in 0..4 {
            fields.push(words.next().ok_or("fewer than five schedule fields")?);
        }
        for (field, (name, low, high)) in fields.iter().zip(FIELDS) {
            if !valid_field(field, low, high, name) {
                return Err(format!(
                    "'{}' is not a valid {name} field",
                    printable(field)
                ));
            }
        }
        fields.join(" ")
    };
    let user = if system {
        let user = words.next().ok_or("no user field")?;
        // A user's crontab given as a system one: its command's first word is no user.
        if user.contains('/') || crate::sys::user_ids(user).is_none() {
            return Err(format!(
                "'{}' is not a user on this machine (a system crontab has a user field \
                 before the command; is this a user's crontab?)",
                printable(user)
            ));
        }
        Some(user.to_owned())
    } else {
        None
    };
    let start = words.rest_start().ok_or("no command")?;
    let end = command_end(line, start);
    if end == start {
        return Err("no command".to_owned());
    }
    if line.len() - start > MAX_COMMAND {
        return Err(format!(
            "the command is over {MAX_COMMAND} characters, and cron ignores a crontab with \
             such a line"
        ));
    }
    Ok(Kind::Job(Job {
        schedule,
        user,
        start,
        end,
        slug_comment: None,
        tz: None,
        shell: None,
    }))
}

/// The longest command cron runs (Debian's cron: 1,000 bytes with the end of the line
/// and the string's end; a longer one makes it ignore the whole crontab).
pub const MAX_COMMAND: usize = 998;

/// The schedules a line may start with in place of five fields.
const NICKNAMES: &[&str] = &[
    "@reboot",
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

/// The five fields: their names and ranges.
const FIELDS: [(&str, u32, u32); 5] = [
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
];

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// Whether `field` is one cron takes: `*`, numbers in range, names (months and days),
/// ranges, lists and steps over 0.
fn valid_field(field: &str, low: u32, high: u32, name: &str) -> bool {
    let value = |v: &str| -> Option<u32> {
        if let Ok(n) = v.parse::<u32>() {
            return (low..=high).contains(&n).then_some(n);
        }
        let v = v.to_ascii_lowercase();
        let names: &[&str] = match name {
            "month" => &MONTHS,
            "day of week" => &DAYS,
            _ => &[],
        };
        let at = u32::try_from(names.iter().position(|n| *n == v)?).ok()?;
        Some(if name == "month" { at + 1 } else { at })
    };
    // Refused: what cron refuses for sure (a number out of range, an empty item, a step
    // of 0 or after a single number). Forms some crons read and others not (a range
    // backwards, `1#2`) are left to cron, and the server then says about the schedule.
    field.split(',').all(|item| {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(step)),
            None => (item, None),
        };
        let step_ok = step.is_none_or(|s| {
            let first = s.split('-').next().unwrap_or(s);
            first.parse::<u32>().is_ok_and(|n| n > 0)
                && s.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        });
        let single = range != "*" && !range.contains('-');
        let in_range = |v: &str| {
            let v = v.split('#').next().unwrap_or(v);
            v == "*" || value(v).is_some()
        };
        let range_ok = range.split('-').all(in_range) && !(single && step.is_some());
        let bytes_ok = item
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"*/-#".contains(&b));
        bytes_ok && step_ok && range_ok
    })
}

/// `NAME = value` (spaces around `=` allowed, the value's quotes removed), as cron reads
/// environment lines.
fn env_line(line: &str) -> Option<(String, String)> {
    let (name, value) = line.split_once('=')?;
    let name = name.trim_end();
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return None;
    }
    let value = value.trim();
    let unquoted = ['"', '\'']
        .iter()
        .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
        .unwrap_or(value);
    Some((name.to_owned(), unquoted.to_owned()))
}

/// Where the shell's part of a command that starts at `start` ends: its first unescaped
/// `%`, or the end of the line, less the spaces before it.
fn command_end(line: &str, start: usize) -> usize {
    let bytes = line.as_bytes();
    let mut end = bytes.len();
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            // A backslash escapes the next character, whatever it is (cron drops it
            // only before '%'): `\\%` is a backslash, then an unescaped '%'.
            b'\\' => i += 2,
            b'%' => {
                end = i;
                break;
            }
            _ => i += 1,
        }
    }
    while end > start && matches!(bytes[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    // A blank escaped by a backslash (`a\ `) is part of the command.
    let backslashes = bytes[start..end]
        .iter()
        .rev()
        .take_while(|b| **b == b'\\')
        .count();
    if backslashes % 2 == 1 && end < bytes.len() && matches!(bytes[end], b' ' | b'\t') {
        end += 1;
    }
    end
}

/// Whitespace-separated words of a line, with where the rest starts.
struct Words<'a> {
    line: &'a str,
    at: usize,
}

impl<'a> Words<'a> {
    fn new(line: &'a str) -> Self {
        Words { line, at: 0 }
    }

    fn skip_space(&mut self) {
        let bytes = self.line.as_bytes();
        while self.at < bytes.len() && matches!(bytes[self.at], b' ' | b'\t') {
            self.at += 1;
        }
    }

    fn next(&mut self) -> Option<&'a str> {
        self.skip_space();
        let bytes = self.line.as_bytes();
        let start = self.at;
        while self.at < bytes.len() && !matches!(bytes[self.at], b' ' | b'\t') {
            self.at += 1;
        }
        (self.at > start).then(|| &self.line[start..self.at])
    }

    fn rest_start(&mut self) -> Option<usize> {
        self.skip_space();
        (self.at < self.line.len()).then_some(self.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs(text: &str, system: bool) -> Vec<(String, String)> {
        let tab = Crontab::parse(text, system).unwrap();
        tab.lines
            .iter()
            .filter_map(|l| match &l.kind {
                Kind::Job(j) => Some((j.schedule.clone(), j.command(&l.text).to_owned())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn jobs_are_found_and_the_text_comes_back_byte_for_byte() {
        let text = "# m h dom mon dow command\nSHELL=/bin/bash\nMAILTO = \"ops@example.org\"\n\n\
                    */5  * * * *\t/usr/bin/backup --full   \n@daily echo 50% done \\% really%stdin here\n  \n";
        let tab = Crontab::parse(text, false).unwrap();
        assert_eq!(tab.text(), text);
        assert_eq!(
            jobs(text, false),
            [
                (
                    "*/5 * * * *".to_owned(),
                    "/usr/bin/backup --full".to_owned()
                ),
                ("@daily".to_owned(), "echo 50".to_owned()),
            ]
        );
        assert!(
            matches!(&tab.lines[2].kind, Kind::Env(n, v) if n == "MAILTO" && v == "ops@example.org")
        );
        let names = "0 3 * jan-mar mon,Fri x\n5-1 0 * * 7-0 y\n0 0 * * 1#2 z\n";
        assert_eq!(Crontab::parse(names, false).unwrap().text(), names);
    }

    #[test]
    fn escaped_percent_signs_stay_in_the_command() {
        let text = "0 0 * * * date +\\%Y-\\%m-\\%d > /tmp/d\n";
        assert_eq!(jobs(text, false)[0].1, "date +\\%Y-\\%m-\\%d > /tmp/d");
        // An escaped blank at the end is the command's.
        assert_eq!(
            jobs("0 0 * * * argdump a\\  \n", false)[0].1,
            "argdump a\\ "
        );
        // An escaped backslash, then a '%' that starts stdin.
        assert_eq!(jobs("0 0 * * * echo a\\\\%in\n", false)[0].1, "echo a\\\\");
    }

    #[test]
    fn system_crontabs_have_a_user_field() {
        let text = "17 * * * * root cd / && run-parts --report /etc/cron.hourly\n";
        let tab = Crontab::parse(text, true).unwrap();
        let Kind::Job(job) = &tab.lines[0].kind else {
            panic!("not a job");
        };
        assert_eq!(job.user.as_deref(), Some("root"));
        assert_eq!(
            job.command(&tab.lines[0].text),
            "cd / && run-parts --report /etc/cron.hourly"
        );
    }

    #[test]
    fn comments_time_zones_and_shells_apply_to_the_jobs_below() {
        let text = "CRON_TZ=Europe/Riga\n# hcwrap: slug=db-dump\n# dumps the database\n0 3 * * * pg_dump\n0 4 * * * other\n";
        let tab = Crontab::parse(text, false).unwrap();
        let jobs: Vec<&Job> = tab
            .lines
            .iter()
            .filter_map(|l| {
                if let Kind::Job(j) = &l.kind {
                    Some(j)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(jobs[0].slug_comment.as_deref(), Some("db-dump"));
        assert_eq!(jobs[1].slug_comment, None);
        assert_eq!(jobs[1].tz.as_deref(), Some("Europe/Riga"));
    }

    #[test]
    fn a_line_cron_would_not_read_is_refused_with_its_number() {
        for (text, why) in [
            ("# ok\n0 3 * * *\n", "line 2: no command"),
            ("0 3 * *\n", "line 1: fewer than five schedule fields"),
            (
                "\n\n0 3 * * * x\n@every 5m y\n",
                "line 4: '@every' is not a schedule cron knows",
            ),
            (
                "0 3 ? * * x\n",
                "line 1: '?' is not a valid day of month field",
            ),
            ("60 * * * * x\n", "line 1: '60' is not a valid minute field"),
            (
                "*/0 * * * * x\n",
                "line 1: '*/0' is not a valid minute field",
            ),
            (
                "1,,2 * * * * x\n",
                "line 1: '1,,2' is not a valid minute field",
            ),
            (
                "0 0 0 * * x\n",
                "line 1: '0' is not a valid day of month field",
            ),
            ("0 3 * * * x", "line 1: the last line has no newline"),
        ] {
            let e = format!("{:#}", Crontab::parse(text, false).unwrap_err());
            assert!(e.starts_with(why), "{e}");
        }
        assert!(Crontab::parse("0 3 * * * root\n", true).is_err());
        let user_format = "0 1 * * * /usr/local/bin/backup --full\n";
        let e = format!("{:#}", Crontab::parse(user_format, true).unwrap_err());
        assert!(e.contains("is not a user on this machine"), "{e}");
    }
}
