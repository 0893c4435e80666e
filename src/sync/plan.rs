//! What `hcwrap sync` proposes for each job: its check (slug, schedule, time zone,
//! grace) and what becomes of it (create, update, unchanged, or skipped and why); the
//! requests that set the checks up; and the sources' new text.
//!
//! **Whose check.** A check that `hcwrap sync` sets up says so in its description:
//! `hcwrap sync: <host>: <crontab or file or timer>`. A slug whose check another host's
//! or another file's sync set up is taken as used (the job gets `-2`), so two jobs never
//! report to one check, whichever order they are synced in.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::SyncConfig;
use super::command::{self, Wrapped};
use super::crontab::{Crontab, Job, Kind, MAX_COMMAND};
use super::grace::default_grace;
use super::sources::{Content, Place, Source};
use super::systemd::{self, Timer};
use crate::api::Api;
use crate::check::check_slug;
use crate::check_settings::{schedule, zone_name};
use crate::msg::{printable, say};

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
    /// The schedule.
    pub schedule: String,
    /// The schedule's time zone.
    pub tz: String,
    /// The grace, in seconds.
    pub grace: u64,
    /// What becomes of it.
    pub action: Action,
    /// hcwrap wraps the job already.
    pub wrapped: bool,
    /// runitor wraps the job; its command starts at this byte of the command.
    pub runitor: Option<usize>,
    /// The check's description: which sync set it up.
    pub desc: String,
    /// The key and server go on the wrapped line as options, not in environment lines
    /// (see [`inline_keys`]).
    pub inline: bool,
}

impl Entry {
    /// Whether the job is to be wrapped now.
    pub fn to_wrap(&self) -> bool {
        !self.wrapped && !matches!(self.action, Action::Skip(_) | Action::Failed(_))
    }
}

/// The project's checks by slug, in one request.
pub fn existing_checks(api: &Api) -> anyhow::Result<HashMap<String, Value>> {
    let cannot = |why: String| {
        anyhow::anyhow!(
            "cannot read the project's checks from {}: {why}",
            api.site()
        )
    };
    let answer = api.call("GET", "checks/", None, None).map_err(cannot)?;
    if answer.status != 200 {
        return Err(cannot(crate::setup::refusal(
            api,
            answer.status,
            &answer,
            false,
        )));
    }
    let Some(list) = answer.json.get("checks").and_then(Value::as_array) else {
        return Err(cannot(
            "the answer is not the management API's list of checks (is --site-url the \
             Healthchecks site?)"
                .to_owned(),
        ));
    };
    let mut checks = HashMap::new();
    for check in list {
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
    // Slugs chosen by hand (a comment) or already in use by a wrapped line are taken
    // first: a slug derived from another job must not push them aside.
    let mut used: HashSet<String> = HashSet::new();
    for source in sources {
        if let Content::Crontab(tab) = &source.content {
            for line in &tab.lines {
                if let Kind::Job(job) = &line.kind {
                    match command::wrapped(job.command(&line.text)) {
                        Wrapped::Hcwrap { slug: Some(slug) } => {
                            used.insert(slug);
                        }
                        _ => {
                            used.extend(job.slug_comment.clone());
                        }
                    }
                }
            }
        }
    }
    let mut taken = HashSet::new();
    let mut warned = HashSet::new();
    let mut entries = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        let desc = format!("hcwrap sync: {}: {}", config.host, where_(source));
        match &source.content {
            Content::Crontab(tab) => {
                let inline = inline_keys(config, tab);
                for (line_index, line) in tab.lines.iter().enumerate() {
                    let Kind::Job(job) = &line.kind else { continue };
                    let mut entry =
                        crontab_entry(config, index, source, line_index, job, &line.text);
                    entry.desc.clone_from(&desc);
                    entry.inline = inline;
                    let keyless = ["HC_PING_KEY", "PING_KEY", "HC_API_KEY"]
                        .iter()
                        .all(|k| tab.env_above(line_index, k).is_none_or(str::is_empty));
                    let problem = job_environment(config, job, tab, line_index, &mut warned);
                    let scheduled = match problem {
                        Some(why) => Err(why),
                        None => schedule(&job.schedule).map_err(|e| {
                            format!("{e:#}")
                                .trim_start_matches("--schedule: ")
                                .to_owned()
                        }),
                    };
                    let chosen = match &entry.action {
                        Action::Skip(why) => Err(why.clone()),
                        _ => Ok(entry.slug.clone()),
                    };
                    let needs_key = keyless && !entry.wrapped;
                    let plan = Plan {
                        extra_grace: 0,
                        slug: chosen,
                        scheduled,
                        needs_key,
                        reserved: &used,
                    };
                    plan_entry(config, &mut entry, plan, &mut taken, existing);
                    if entry.to_wrap() {
                        let wrapped = wrapped_line(config, &entry, job, &line.text);
                        if wrapped.len() - job.start > MAX_COMMAND {
                            entry.action = Action::Skip(format!(
                                "wrapped, its command would be over {MAX_COMMAND} characters, \
                                 and cron would ignore the whole crontab"
                            ));
                        }
                    }
                    entries.push(entry);
                }
            }
            Content::Timer(timer) => {
                let mut entry = timer_entry(config, index, source, timer);
                entry.desc = desc;
                let chosen = match &entry.action {
                    Action::Skip(why) => Err(why.clone()),
                    _ => Ok(entry.slug.clone()),
                };
                let scheduled = timer.schedule.clone().ok_or_else(|| {
                    "it has no OnCalendar= (a timer on boot or activation times): set its \
                     check up by hand with --period"
                        .to_owned()
                });
                let needs_key = !entry.wrapped;
                let plan = Plan {
                    extra_grace: timer.delay,
                    slug: chosen,
                    scheduled,
                    needs_key,
                    reserved: &used,
                };
                plan_entry(config, &mut entry, plan, &mut taken, existing);
                entries.push(entry);
            }
        }
    }
    entries
}

/// Whether the key lines must go on the wrapped lines as options: when environment lines
/// before the first job would also reach a job this sync does not wrap that reads them
/// (one hcwrap or runitor wraps in another way), and change where it pings.
fn inline_keys(config: &SyncConfig, tab: &Crontab) -> bool {
    tab.lines.iter().enumerate().any(|(i, line)| {
        let Kind::Job(job) = &line.kind else {
            return false;
        };
        let reads_keys = match command::wrapped(job.command(&line.text)) {
            Wrapped::Hcwrap { slug } => slug.is_none(),
            Wrapped::Runitor { .. } => !config.migrate_runitor,
            Wrapped::No => false,
        };
        reads_keys
            && config
                .key_lines
                .iter()
                .any(|(name, _)| tab.env_above(i, name).is_none())
    })
}

/// The hcwrap a wrapped line runs, with the key and server as options where they go
/// there (see [`inline_keys`]).
fn hcwrap_command(config: &SyncConfig, entry: &Entry) -> String {
    let mut command = config.hcwrap.clone();
    if entry.inline {
        for (name, value) in &config.key_lines {
            let option = match name.as_str() {
                "HC_API_URL" => "--api-url",
                "HC_PING_KEY" => "--ping-key",
                _ => "--api-key",
            };
            let _ = write!(command, " {option}={value}");
        }
    }
    command
}

/// Where a source is, for a check's description.
fn where_(source: &Source) -> String {
    match &source.place {
        Place::UserCrontab => format!("the crontab of {}", crate::sys::user_name()),
        Place::File(path) => path.display().to_string(),
        Place::Systemd(_) => source.label.clone(),
    }
}

/// What in a job's environment keeps it from being wrapped, if anything; warns once
/// about what only may.
fn job_environment(
    config: &SyncConfig,
    job: &Job,
    tab: &Crontab,
    line_index: usize,
    warned: &mut HashSet<String>,
) -> Option<String> {
    let env = |name: &str| tab.env_above(line_index, name);
    if let Some(url) = env("HC_API_URL")
        && url.trim_end_matches('/') != config.api_url.trim_end_matches('/')
    {
        return Some(format!(
            "the crontab sets HC_API_URL above it to another server ({}) than --api-url",
            crate::check::redact_url_text(url)
        ));
    }
    if ["HC_PING_KEY", "PING_KEY"]
        .iter()
        .any(|k| env(k).is_some_and(|v| v.trim().is_empty()))
        && env("HC_API_KEY").is_none_or(|v| v.trim().is_empty())
    {
        return Some("an empty HC_PING_KEY= line above it leaves it no key to ping with".into());
    }
    // The job may use the check the crontab names for it (`curl $HC_PING_URL`): hcwrap
    // would set that variable to the new check's URL for it.
    if let Some(name) = ["HC_PING_URL", "CHECK_UUID", "CHECK_SLUG"]
        .into_iter()
        .find(|n| env(n).is_some_and(|v| !v.trim().is_empty()))
    {
        return Some(format!(
            "the crontab sets {name} above it, which the job may use itself: wrapped, its \
             HC_PING_URL would name the new check"
        ));
    }
    // A key the crontab names itself must be the one the checks are set up with.
    let ours = config.key_lines.iter().find(|(n, _)| n == "HC_PING_KEY");
    if let (Some((_, ours)), Some(theirs)) = (ours, env("HC_PING_KEY"))
        && !theirs.trim().is_empty()
        && theirs.trim() != ours
    {
        return Some(
            "the crontab sets HC_PING_KEY above it to another key than --ping-key".to_owned(),
        );
    }
    // Its shell must read the quoting hcwrap writes.
    if let Some(shell) = &job.shell {
        let name = shell.rsplit('/').next().unwrap_or(shell);
        if !matches!(
            name,
            "sh" | "bash" | "dash" | "ksh" | "mksh" | "zsh" | "ash"
        ) {
            return Some(format!(
                "the crontab's SHELL is {}, whose quoting hcwrap does not write: wrap it by hand",
                printable(shell)
            ));
        }
    }
    let user = job.user.clone().unwrap_or_else(crate::sys::user_name);
    // The job's user must be able to run the hcwrap the line will name.
    if !crate::sys::may_run(std::path::Path::new(&config.hcwrap), &user) {
        return Some(format!(
            "{user} cannot run {} (it, or a directory above it, is closed to them): give \
             --hcwrap with a path every job's user can run, such as /usr/local/bin/hcwrap",
            config.hcwrap
        ));
    }
    // The key file the crontab will name: can the job's user read it?
    if let Some(path) = config.key_path()
        && !crate::sys::may_read(path, &user)
        && warned.insert(user.clone())
    {
        say(&format!(
            "warning: {} may not be readable by {user}, whose jobs would then run unmonitored",
            path.display()
        ));
    }
    None
}

/// A crontab job's entry, its slug chosen (or why it is skipped), before planning.
fn crontab_entry(
    config: &SyncConfig,
    index: usize,
    source: &Source,
    line_index: usize,
    job: &Job,
    text: &str,
) -> Entry {
    let command = job.command(text);
    let tz = match &job.tz {
        Some(tz) if config.cron_reads_cron_tz => zone_name(tz).unwrap_or_default(),
        _ => config.tz.clone(),
    };
    let mut entry = Entry {
        source: index,
        line: Some(line_index),
        label: format!(
            "{}:{} {}",
            source.label,
            line_index + 1,
            super::show::shown(command)
        ),
        slug: String::new(),
        schedule: String::new(),
        tz,
        grace: 0,
        action: Action::Unchanged,
        wrapped: false,
        runitor: None,
        desc: String::new(),
        inline: false,
    };
    if entry.tz.is_empty() {
        entry.action = Action::Skip("the CRON_TZ line above it names no time zone".into());
        return entry;
    }
    let suggested = match command::wrapped(command) {
        Wrapped::Hcwrap { slug: Some(slug) } => {
            entry.wrapped = true;
            Ok(slug)
        }
        Wrapped::Hcwrap { slug: None } => {
            Err("hcwrap wraps it already, for a check not named by --slug".to_owned())
        }
        Wrapped::Runitor { inner, slug } if config.migrate_runitor => {
            entry.runitor = Some(inner);
            Ok(slug.unwrap_or_else(|| command::suggested_slug(&command[inner..])))
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

/// A timer's entry, its slug chosen (or why it is skipped), before planning.
fn timer_entry(config: &SyncConfig, index: usize, source: &Source, timer: &Timer) -> Entry {
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
            timer
                .exec
                .as_deref()
                .map(super::show::shown)
                .unwrap_or_default()
        ),
        slug: String::new(),
        schedule: String::new(),
        tz: config.tz.clone(),
        grace: 0,
        action: Action::Unchanged,
        wrapped: dropin_slug.is_some(),
        runitor: None,
        desc: String::new(),
        inline: false,
    };
    let slug = match &timer.exec {
        Ok(_) => dropin_slug.unwrap_or_else(|| command::slugify(&timer.name)),
        Err(why) => {
            entry.action = Action::Skip(why.clone());
            return entry;
        }
    };
    if slug.is_empty() {
        entry.action = Action::Skip("its name gives no slug".to_owned());
    }
    entry.slug = slug;
    entry
}

/// What a job's entry is planned from.
struct Plan<'a> {
    slug: Result<String, String>,
    scheduled: Result<String, String>,
    needs_key: bool,
    /// Slugs chosen by hand or in use by wrapped lines.
    reserved: &'a HashSet<String>,
    /// Added to the default grace: how much later than its time a run may start
    /// (a timer's `RandomizedDelaySec=`).
    extra_grace: u64,
}

/// Fills in an entry's slug (made unique), schedule, grace and action.
fn plan_entry(
    config: &SyncConfig,
    entry: &mut Entry,
    plan: Plan<'_>,
    taken: &mut HashSet<String>,
    existing: &HashMap<String, Value>,
) {
    let (slug, scheduled) = match (plan.slug, plan.scheduled) {
        (Ok(slug), Ok(scheduled)) => (slug, scheduled),
        (Err(why), _) | (_, Err(why)) => {
            entry.action = Action::Skip(why);
            return;
        }
    };
    if plan.needs_key
        && let Some(why) = &config.no_key
    {
        entry.action = Action::Skip(why.clone());
        return;
    }
    // Two jobs never share a check: not in this run, and not with another host's or
    // file's sync (its description says whose a check is).
    let others = |s: &str| {
        existing.get(s).is_some_and(|c| {
            c.get("desc")
                .and_then(Value::as_str)
                .is_some_and(|d| d.starts_with("hcwrap sync: ") && d != entry.desc)
        })
    };
    let mut unique = slug.clone();
    if !entry.wrapped {
        let chosen_here = |s: &str| plan.reserved.contains(s) && s == slug;
        let mut n = 2;
        while taken.contains(&unique)
            || others(&unique)
            || (plan.reserved.contains(&unique) && !chosen_here(&unique))
        {
            unique = format!("{slug}-{n}");
            n += 1;
        }
    }
    taken.insert(unique.clone());
    entry.slug = unique;
    entry.grace = config
        .grace
        .unwrap_or_else(|| (default_grace(&scheduled) + plan.extra_grace).min(31_536_000));
    entry.schedule = scheduled;
    entry.action = match existing.get(&entry.slug) {
        None => Action::Create,
        Some(check) => {
            let wanted = [
                ("schedule", json!(entry.schedule)),
                ("tz", json!(entry.tz)),
                ("grace", json!(entry.grace)),
                ("desc", json!(entry.desc)),
            ];
            let differs: Vec<&str> = wanted
                .iter()
                .filter(|(key, value)| check.get(*key) != Some(value))
                .map(|(key, _)| *key)
                .collect();
            if differs.is_empty() {
                Action::Unchanged
            } else {
                Action::Update(differs.join(", "))
            }
        }
    };
}

/// Sets the entry's check up: one upsert by slug. The answer must be that check.
pub fn upsert(api: &Api, entry: &Entry) -> Result<(), String> {
    let mut body = json!({
        "slug": entry.slug,
        "unique": ["slug"],
        "schedule": entry.schedule,
        "tz": entry.tz,
        "grace": entry.grace,
        "desc": entry.desc,
    });
    if entry.action == Action::Create {
        body["name"] = json!(entry.slug);
    }
    let answer = api.call("POST", "checks/", Some(&body), None)?;
    match answer.status {
        200 | 201 if answer.json.get("slug").and_then(Value::as_str) == Some(&entry.slug) => Ok(()),
        200 | 201 => Err(format!(
            "the answer ({}) is not the check: is {} the Healthchecks site? (give it with \
             --site-url)",
            answer.status,
            api.site()
        )),
        status => Err(crate::setup::refusal(api, status, &answer, true)),
    }
}

/// A job's line with its command wrapped for `entry`'s check.
fn wrapped_line(config: &SyncConfig, entry: &Entry, job: &Job, text: &str) -> String {
    let (start, end) = (job.start, job.end);
    let command = &text[start..end];
    let hcwrap = hcwrap_command(config, entry);
    let wrapped = match entry.runitor {
        Some(inner) => command::wrap(&hcwrap, &entry.slug, &command[inner..], None),
        None => command::wrap(&hcwrap, &entry.slug, command, job.shell.as_deref()),
    };
    format!("{}{wrapped}{}", &text[..start], &text[end..])
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
                let (mut keyless, mut urlless) = (false, false);
                for entry in &wrap {
                    let Some(line_index) = entry.line else {
                        continue;
                    };
                    keyless |= ["HC_PING_KEY", "PING_KEY", "HC_API_KEY"]
                        .iter()
                        .all(|k| tab.env_above(line_index, k).is_none_or(str::is_empty));
                    urlless |= tab.env_above(line_index, "HC_API_URL").is_none();
                    let line = &mut tab.lines[line_index];
                    let Kind::Job(job) = &line.kind else { continue };
                    line.text = wrapped_line(config, entry, job, &line.text);
                }
                let inline = wrap.iter().any(|e| e.inline);
                let missing: Vec<String> = config
                    .key_lines
                    .iter()
                    .filter(|_| !inline)
                    .filter(|(name, _)| {
                        if name == "HC_API_URL" {
                            urlless
                        } else {
                            keyless
                        }
                    })
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect();
                if !missing.is_empty() {
                    let mut lines =
                        vec!["# Added by hcwrap sync: what the wrapped jobs ping with.".to_owned()];
                    lines.extend(missing);
                    tab.insert_before_jobs(&lines);
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
