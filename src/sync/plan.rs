//! What `hcwrap sync` reads, proposes, prints and rewrites: the sources (crontabs,
//! timers), one entry per job, the plan's table, and the sources' new text.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::SyncConfig;
use super::command::{self, Wrapped};
use super::crontab::{Crontab, Kind};
use super::grace::default_grace;
use super::systemd::{self, Timer};
use crate::api::Api;
use crate::check::{check_slug, is_uuid, redact_partial};
use crate::check_settings::{schedule, zone_name};
use crate::msg::printable;

/// Where a source's text goes back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The user's own crontab (`crontab -l`, `crontab -`).
    UserCrontab,
    /// A crontab file in the system's format.
    File(PathBuf),
    /// A timer's drop-in file.
    Systemd(PathBuf),
}

/// What a source holds.
#[derive(Debug)]
pub enum Content {
    /// A crontab.
    Crontab(Crontab),
    /// A timer.
    Timer(Timer),
}

/// One crontab or timer.
#[derive(Debug)]
pub struct Source {
    /// Where it goes back to.
    pub place: Place,
    /// How the plan names it.
    pub label: String,
    /// Its text as read (a drop-in's: empty if there is none).
    pub old_text: String,
    /// Its text as it will be.
    pub new_text: String,
    /// What it holds.
    pub content: Content,
}

impl Source {
    /// Whether the text changes.
    pub fn changed(&self) -> bool {
        self.old_text != self.new_text
    }
}

/// What becomes of a job's check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Created.
    Create,
    /// Updated: what differs.
    Update(String),
    /// As it should be already.
    Unchanged,
    /// The job is left alone, and why.
    Skip(String),
    /// The setup failed, and why: the job is left as it was.
    Failed(String),
}

/// One job and its check.
#[derive(Debug)]
pub struct Entry {
    /// Which source.
    pub source: usize,
    /// Its line in a crontab.
    pub line: Option<usize>,
    /// How the plan names the job.
    pub label: String,
    /// The check's slug.
    pub slug: String,
    /// The schedule, the time zone and the grace in seconds.
    pub schedule: String,
    pub tz: String,
    pub grace: u64,
    pub action: Action,
    /// hcwrap wraps the job already.
    pub wrapped: bool,
    /// runitor wraps the job; its command starts at this byte of the command.
    pub runitor: Option<usize>,
}

impl Entry {
    /// Whether the job is to be wrapped now.
    fn to_wrap(&self) -> bool {
        !self.wrapped && !matches!(self.action, Action::Skip(_) | Action::Failed(_))
    }
}

/// The sources `config` names, read.
pub fn read_sources(config: &SyncConfig) -> Result<Vec<Source>> {
    let mut sources = Vec::new();
    let crontab = |place: Place, label: String, text: String, system: bool| {
        let content = Crontab::parse(&text, system)
            .with_context(|| format!("{label} cannot be read as a crontab, so it is left alone"))?;
        Ok::<_, anyhow::Error>(Source {
            place,
            label,
            new_text: text.clone(),
            old_text: text,
            content: Content::Crontab(content),
        })
    };
    for path in &config.crontabs {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--crontab: cannot read {}", path.display()))?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        sources.push(crontab(Place::File(path.clone()), name, text, true)?);
    }
    for dir in &config.systemd {
        for timer in systemd::timers(dir)? {
            let dropin =
                systemd::dropin_path(config.dropin_dir.as_deref().unwrap_or(dir), &timer.unit);
            let old = std::fs::read_to_string(&dropin).unwrap_or_default();
            sources.push(Source {
                place: Place::Systemd(dropin),
                label: format!("{}.timer", timer.name),
                new_text: old.clone(),
                old_text: old,
                content: Content::Timer(timer),
            });
        }
    }
    if config.crontabs.is_empty() && config.systemd.is_empty() {
        sources.push(crontab(
            Place::UserCrontab,
            "crontab".to_owned(),
            user_crontab()?,
            false,
        )?);
    }
    Ok(sources)
}

/// The user's crontab, through `crontab -l` (empty when there is none).
fn user_crontab() -> Result<String> {
    let out = Command::new("crontab")
        .arg("-l")
        .output()
        .context("cannot run crontab -l (is cron installed?)")?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        if stderr.contains("no crontab for") {
            return Ok(String::new());
        }
        bail!("crontab -l failed: {}", printable(stderr.trim()));
    }
    String::from_utf8(out.stdout).context("the crontab is not UTF-8 text")
}

/// The project's checks by slug, in one request.
pub fn existing_checks(api: &Api) -> Result<HashMap<String, Value>> {
    let answer = api.call("GET", "checks/", None, None).map_err(|why| {
        anyhow::anyhow!(
            "cannot read the project's checks from {}: {why}",
            api.site()
        )
    })?;
    if answer.status != 200 {
        bail!(
            "cannot read the project's checks from {}: {}",
            api.site(),
            crate::setup::refusal(api, answer.status, &answer, false)
        );
    }
    let mut checks = HashMap::new();
    for check in answer
        .json
        .get("checks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(slug) = check
            .get("slug")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            checks.insert(slug.to_owned(), check.clone());
        }
    }
    Ok(checks)
}

/// One entry per job of every source.
pub fn entries(
    config: &SyncConfig,
    sources: &[Source],
    existing: &HashMap<String, Value>,
) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut used = HashSet::new();
    for (index, source) in sources.iter().enumerate() {
        match &source.content {
            Content::Crontab(tab) => {
                let has_key = ["HC_PING_KEY", "PING_KEY", "HC_API_KEY"]
                    .iter()
                    .any(|v| tab.sets(v));
                for (line_index, line) in tab.lines.iter().enumerate() {
                    if let Kind::Job(job) = &line.kind {
                        let mut entry =
                            crontab_entry(config, index, source, line_index, job, &line.text);
                        let slug = entry.slug.clone();
                        let scheduled = schedule(&job.schedule).map_err(|e| {
                            format!("{e:#}")
                                .trim_start_matches("--schedule: ")
                                .to_owned()
                        });
                        let chosen = match &entry.action {
                            Action::Skip(why) => Err(why.clone()),
                            _ => Ok(slug),
                        };
                        let needs_key = !has_key && !entry.wrapped;
                        plan_entry(
                            config, &mut entry, chosen, scheduled, needs_key, &mut used, existing,
                        );
                        entries.push(entry);
                    }
                }
            }
            Content::Timer(timer) => {
                entries.push(timer_entry(
                    config, index, source, timer, &mut used, existing,
                ));
            }
        }
    }
    entries
}

/// A crontab job's entry, its slug chosen (or why it is skipped), before planning.
fn crontab_entry(
    config: &SyncConfig,
    index: usize,
    source: &Source,
    line_index: usize,
    job: &super::crontab::Job,
    text: &str,
) -> Entry {
    let command = job.command(text);
    let mut entry = Entry {
        source: index,
        line: Some(line_index),
        label: format!("{}:{} {}", source.label, line_index + 1, shown(command)),
        slug: String::new(),
        schedule: String::new(),
        tz: job
            .tz
            .as_deref()
            .and_then(zone_name)
            .unwrap_or_else(|| config.tz.clone()),
        grace: 0,
        action: Action::Unchanged,
        wrapped: false,
        runitor: None,
    };
    let suggested = match command::wrapped(command) {
        Wrapped::Hcwrap { slug: Some(slug) } => {
            entry.wrapped = true;
            Ok(slug)
        }
        Wrapped::Hcwrap { slug: None } => {
            Err("hcwrap wraps it already, for a check not named by --slug".to_owned())
        }
        Wrapped::Runitor { inner } if config.migrate_runitor => {
            entry.runitor = Some(inner);
            Ok(command::suggested_slug(&command[inner..]))
        }
        Wrapped::Runitor { .. } => {
            Err("runitor wraps it: --migrate-runitor rewrites it for hcwrap".to_owned())
        }
        Wrapped::No => Ok(command::suggested_slug(command)),
    };
    let chosen = suggested.and_then(|s| {
        let slug = match &job.slug_comment {
            Some(slug) if !entry.wrapped => slug.clone(),
            _ => s,
        };
        check_slug(&slug)
            .map(|()| slug.clone())
            .map_err(|_| format!("'{}' is not a slug the server accepts", printable(&slug)))
    });
    match chosen {
        Ok(slug) => entry.slug = slug,
        Err(why) => entry.action = Action::Skip(why),
    }
    entry
}

/// A timer's entry, planned.
fn timer_entry(
    config: &SyncConfig,
    index: usize,
    source: &Source,
    timer: &Timer,
    used: &mut HashSet<String>,
    existing: &HashMap<String, Value>,
) -> Entry {
    let dropin_slug = match &source.place {
        Place::Systemd(path) => systemd::dropin_slug(path),
        _ => None,
    };
    let mut entry = Entry {
        source: index,
        line: None,
        label: format!(
            "{} {}",
            source.label,
            timer.exec.as_deref().map(shown).unwrap_or_default()
        ),
        slug: String::new(),
        schedule: String::new(),
        tz: config.tz.clone(),
        grace: 0,
        action: Action::Unchanged,
        wrapped: dropin_slug.is_some(),
        runitor: None,
    };
    let chosen = timer
        .exec
        .clone()
        .map(|_| dropin_slug.unwrap_or_else(|| command::slugify(&timer.name)))
        .and_then(|slug| {
            if slug.is_empty() {
                Err("its name gives no slug".to_owned())
            } else {
                Ok(slug)
            }
        });
    let scheduled = timer.schedule.clone().ok_or_else(|| {
        "it has no OnCalendar= (a timer on boot or activation times): set its check up by \
         hand with --period"
            .to_owned()
    });
    let needs_key = !entry.wrapped;
    plan_entry(
        config, &mut entry, chosen, scheduled, needs_key, used, existing,
    );
    entry
}

/// Fills in an entry's slug (made unique), schedule, grace and action.
fn plan_entry(
    config: &SyncConfig,
    entry: &mut Entry,
    slug: Result<String, String>,
    scheduled: Result<String, String>,
    needs_key: bool,
    used: &mut HashSet<String>,
    existing: &HashMap<String, Value>,
) {
    let (slug, scheduled) = match (slug, scheduled) {
        (Ok(slug), Ok(scheduled)) => (slug, scheduled),
        (Err(why), _) | (_, Err(why)) => {
            entry.action = Action::Skip(why);
            return;
        }
    };
    if needs_key && let Some(why) = &config.no_key {
        entry.action = Action::Skip(why.clone());
        return;
    }
    // Two jobs never share a check: the later one gets a number.
    let mut unique = slug.clone();
    let mut n = 2;
    while !entry.wrapped && used.contains(&unique) {
        unique = format!("{slug}-{n}");
        n += 1;
    }
    used.insert(unique.clone());
    entry.slug = unique;
    entry.grace = config.grace.unwrap_or_else(|| default_grace(&scheduled));
    entry.schedule = scheduled;
    entry.action = match existing.get(&entry.slug) {
        None => Action::Create,
        Some(check) => {
            let mut differs = Vec::new();
            let wanted = [
                ("schedule", json!(entry.schedule)),
                ("tz", json!(entry.tz)),
                ("grace", json!(entry.grace)),
            ];
            for (key, value) in wanted {
                if check.get(key) != Some(&value) {
                    differs.push(key);
                }
            }
            if differs.is_empty() {
                Action::Unchanged
            } else {
                Action::Update(differs.join(", "))
            }
        }
    };
}

/// Sets the entry's check up: one upsert by slug.
pub fn upsert(api: &Api, entry: &Entry) -> Result<(), String> {
    let mut body = json!({
        "slug": entry.slug,
        "unique": ["slug"],
        "schedule": entry.schedule,
        "tz": entry.tz,
        "grace": entry.grace,
    });
    if entry.action == Action::Create {
        body["name"] = json!(entry.slug);
    }
    let answer = api.call("POST", "checks/", Some(&body), None)?;
    match answer.status {
        200 | 201 => Ok(()),
        status => Err(crate::setup::refusal(api, status, &answer, true)),
    }
}

/// Each source's new text: its jobs to wrap wrapped (not those whose check could not be
/// set up), and the key lines they need.
pub fn rewrite(config: &SyncConfig, sources: &mut [Source], entries: &[Entry]) {
    for (index, source) in sources.iter_mut().enumerate() {
        let wrap: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.source == index && e.to_wrap())
            .collect();
        match &source.content {
            Content::Crontab(tab) => {
                let mut tab = tab.clone();
                for entry in &wrap {
                    let Some(line_index) = entry.line else {
                        continue;
                    };
                    let line = &mut tab.lines[line_index];
                    let Kind::Job(job) = &line.kind else { continue };
                    let (start, end) = (job.start, job.end);
                    let command = &line.text[start..end];
                    let wrapped = match entry.runitor {
                        Some(inner) => format!(
                            "{} --slug {} -- {}",
                            config.hcwrap,
                            entry.slug,
                            &command[inner..]
                        ),
                        None => command::wrap(
                            &config.hcwrap,
                            &entry.slug,
                            command,
                            job.shell.as_deref(),
                        ),
                    };
                    line.text = format!("{}{wrapped}{}", &line.text[..start], &line.text[end..]);
                }
                if !wrap.is_empty() {
                    let missing: Vec<String> = config
                        .key_lines
                        .iter()
                        .filter(|(name, _)| !tab.sets(name))
                        .filter(|(name, _)| {
                            // A key the crontab sets already does.
                            name == "HC_API_URL"
                                || !["HC_PING_KEY", "PING_KEY", "HC_API_KEY"]
                                    .iter()
                                    .any(|k| tab.sets(k))
                        })
                        .map(|(name, value)| format!("{name}={value}"))
                        .collect();
                    if !missing.is_empty() {
                        let mut lines = vec![
                            "# Added by hcwrap sync: what the wrapped jobs ping with.".to_owned(),
                        ];
                        lines.extend(missing);
                        tab.insert_before_jobs(&lines);
                    }
                }
                source.new_text = tab.text();
            }
            Content::Timer(timer) => {
                if let (Some(entry), Ok(exec)) = (wrap.first(), &timer.exec) {
                    let environment: Vec<String> = config
                        .key_lines
                        .iter()
                        .map(|(name, value)| format!("{name}={value}"))
                        .collect();
                    source.new_text =
                        systemd::dropin(&config.hcwrap, &entry.slug, exec, &environment);
                }
            }
        }
    }
}

/// The plan, as a table.
pub fn print_table(entries: &[Entry]) {
    let rows: Vec<[String; 6]> = entries
        .iter()
        .map(|e| {
            let skipped = matches!(e.action, Action::Skip(_));
            let dash = |s: String| if skipped { "-".to_owned() } else { s };
            [
                cut(&e.label, 48),
                dash(e.slug.clone()),
                dash(printable(&e.schedule.replace('\n', "; "))),
                dash(printable(&e.tz)),
                dash(humantime::format_duration(Duration::from_secs(e.grace)).to_string()),
                match &e.action {
                    Action::Create => "create".to_owned(),
                    Action::Update(what) => format!("update ({what})"),
                    Action::Unchanged => "unchanged".to_owned(),
                    Action::Skip(why) => format!("skip: {why}"),
                    Action::Failed(why) => format!("failed: {why}"),
                },
            ]
        })
        .collect();
    let header = ["JOB", "SLUG", "SCHEDULE", "TZ", "GRACE", "ACTION"].map(str::to_owned);
    let mut widths = [0; 6];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (w, cell)) in widths.iter().zip(row).enumerate() {
            if i == 5 {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<w$}  ");
            }
        }
        println!("{}", line.trim_end());
    }
    if entries.is_empty() {
        println!("(no jobs)");
    }
}

/// Each changed source as a diff of its lines.
pub fn print_diffs(sources: &[Source]) {
    for source in sources.iter().filter(|s| s.changed()) {
        let name = match &source.place {
            Place::UserCrontab => "crontab".to_owned(),
            Place::File(path) | Place::Systemd(path) => path.display().to_string(),
        };
        println!("\n--- {name} (as it is)\n+++ {name} (after hcwrap sync)");
        let old: Vec<&str> = source.old_text.lines().collect();
        let new: Vec<&str> = source.new_text.lines().collect();
        for line in diff(&old, &new) {
            println!("{}", shown(&line));
        }
    }
    if !sources.iter().any(Source::changed) {
        println!("\nNo crontab line or drop-in file changes.");
    }
}

/// A line diff: `-` and `+` lines under `@@ line N @@` headers (a longest common
/// subsequence; crontabs are short).
fn diff(old: &[&str], new: &[&str]) -> Vec<String> {
    let (n, m) = (old.len(), new.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    let mut in_hunk = false;
    while i < n || j < m {
        if i < n && j < m && old[i] == new[j] {
            in_hunk = false;
            i += 1;
            j += 1;
            continue;
        }
        if !in_hunk {
            out.push(format!("@@ line {} @@", i + 1));
            in_hunk = true;
        }
        if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(format!("+{}", new[j]));
            j += 1;
        } else {
            out.push(format!("-{}", old[i]));
            i += 1;
        }
    }
    out
}

/// `text` as the plan shows it: control characters escaped, and what could be a secret
/// cut short: a URL's credentials, a UUID, and a URL's path segment that could be a ping
/// key (16 characters or more of letters, digits, `-` and `_`).
fn shown(text: &str) -> String {
    let words: Vec<String> = text
        .split(' ')
        .map(|word| {
            let Some(at) = word.find("://") else {
                return hide_uuids(word);
            };
            let rest = &word[at + 3..];
            let end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(end);
            let authority = match authority.rsplit_once('@') {
                Some((_, host)) => format!("…@{host}"),
                None => authority.to_owned(),
            };
            let path: Vec<String> = path
                .split('/')
                .map(|segment| {
                    let key_like = segment.len() >= 16
                        && segment
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                    if key_like {
                        redact_partial(segment)
                    } else {
                        hide_uuids(segment)
                    }
                })
                .collect();
            format!("{}{authority}{}", &word[..at + 3], path.join("/"))
        })
        .collect();
    printable(&words.join(" "))
}

/// `word` with any UUID in it cut to its first four characters.
fn hide_uuids(word: &str) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < word.len() {
        if word.is_char_boundary(i)
            && word.len() >= i + 36
            && word.is_char_boundary(i + 36)
            && is_uuid(&word[i..i + 36])
        {
            out.push_str(&redact_partial(&word[i..i + 36]));
            i += 36;
        } else if let Some(c) = word[i..].chars().next() {
            out.push(c);
            i += c.len_utf8();
        } else {
            break;
        }
    }
    out
}

/// `text` cut to `max` characters.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diff_shows_changed_and_added_lines() {
        let old = ["# c", "0 3 * * * a", "x=1"];
        let new = ["# c", "K=v", "0 3 * * * h a", "x=1"];
        assert_eq!(
            diff(&old, &new),
            ["@@ line 2 @@", "+K=v", "+0 3 * * * h a", "-0 3 * * * a"]
        );
    }

    #[test]
    fn secrets_in_commands_are_cut_short() {
        let said = shown(
            "curl -fsS https://hc-ping.com/1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b/start; x 1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b",
        );
        assert!(!said.contains("4b5a"), "{said}");
        assert!(said.contains("https://hc-ping.com/1f1c…/start"), "{said}");
        assert_eq!(
            shown("HC_API_URL=http://u:pw@127.0.0.1:8000/ping/Abcdefghijklmnopqrstuv/db"),
            "HC_API_URL=http://…@127.0.0.1:8000/ping/Abcd…/db"
        );
    }
}
