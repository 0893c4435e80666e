//! `hcwrap flush`: delivers every check's kept reports (see [`outbox`](crate::outbox)),
//! oldest first, or with `--dry-run` lists them.
//!
//! Each check's reports are delivered while holding that check's outbox lock, so a run of
//! the check starting meanwhile does not send them twice; a check whose lock another run
//! holds is left to it. A report that cannot be delivered stops that check's (they must
//! arrive in order); the other checks' go on.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::check::Check;
use crate::check_config;
use crate::cli::FlushCli;
use crate::exit_codes;
use crate::limit_cache::LimitCache;
use crate::msg::say;
use crate::outbox::{self, Report};
use crate::ping::{HttpOptions, Pinger};
use crate::stop::Stop;

/// One kept report, with where and how to send it.
#[derive(Debug)]
struct Item {
    report: Report,
    check: Check,
    http: HttpOptions,
    /// The body limit its server announced last (or the default).
    limit: usize,
}

/// What `hcwrap flush` does, validated.
#[derive(Debug)]
pub struct FlushConfig {
    dry_run: bool,
    /// The state directory, if the environment names one.
    dir: Option<PathBuf>,
    /// The kept reports, by their outbox lock file, oldest first.
    checks: BTreeMap<PathBuf, Vec<Item>>,
    /// Files named as reports that cannot be delivered.
    unusable: Vec<PathBuf>,
    /// Why the state directory could not be read, if it could not.
    unreadable: Option<String>,
}

impl FlushConfig {
    /// Reads the kept reports and the HTTP options for each one's server.
    pub fn from_cli(cli: &FlushCli, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        // The options are checked whether or not a report waits: a mistake is a mistake.
        check_config::http(&cli.http, &Check::placeholder(), cli.dry_run, &env)?;
        let state = check_config::state_dir(&env);
        let mut checks: BTreeMap<PathBuf, Vec<Item>> = BTreeMap::new();
        let mut unreadable = None;
        let (reports, unusable) = match &state {
            Some(dir) => outbox::all_waiting(dir).unwrap_or_else(|e| {
                unreadable = Some(format!(
                    "cannot read the state directory {}: {e}",
                    dir.dir().display()
                ));
                (Vec::new(), Vec::new())
            }),
            None => (Vec::new(), Vec::new()),
        };
        for report in reports {
            let check = Check::from_url("a kept report's URL", &report.url)
                .with_context(|| format!("in {}", report.file.display()))?;
            let mut http = check_config::http(&cli.http, &check, cli.dry_run, &env)?;
            // A header given here goes only to the reports of runs that sent it: a proxy's
            // token must not reach every other server with a kept report.
            http.headers
                .retain(|(name, _)| report.headers.iter().any(|h| h == name.as_str()));
            let limit = crate::pings::body_limit(
                LimitCache::for_server(&env, &report.url).and_then(|c| c.read()),
                None,
            );
            let Some(lock) = outbox::lock_of(&report) else {
                continue;
            };
            checks.entry(lock).or_default().push(Item {
                report,
                check,
                http,
                limit,
            });
        }
        Ok(FlushConfig {
            dry_run: cli.dry_run,
            dir: state.map(|s| s.dir().to_owned()),
            checks,
            unusable,
            unreadable,
        })
    }
}

/// Delivers (or lists) the kept reports; exit status 0 when none is left waiting.
#[allow(clippy::needless_pass_by_value, clippy::unnecessary_wraps)] // `.and_then(flush::run)`.
pub fn run(config: FlushConfig) -> Result<i32> {
    let Some(dir) = &config.dir else {
        say("no state directory (set HC_STATE_DIR, or HOME): no reports are kept");
        return Ok(0);
    };
    if let Some(why) = &config.unreadable {
        say(why);
        return Ok(exit_codes::NOT_DELIVERED);
    }
    let total: usize = config.checks.values().map(Vec::len).sum();
    if let Some(first) = config.unusable.first() {
        let n = config.unusable.len();
        say(&format!(
            "{n} file{} in {} cannot be delivered and {} left as {}: not a report of this \
             user's own, or damaged (the first: {})",
            plural(n),
            dir.display(),
            if n == 1 { "is" } else { "are" },
            if n == 1 { "it is" } else { "they are" },
            first.display()
        ));
    }
    let unusable = if config.unusable.is_empty() {
        0
    } else {
        exit_codes::NOT_DELIVERED
    };
    if total == 0 {
        println!("no reports to deliver in {}", dir.display());
        return Ok(if config.dry_run { 0 } else { unusable });
    }
    if config.dry_run {
        for item in config.checks.values().flatten() {
            println!("{}", item.report.describe(&|t| item.check.redact(t)));
        }
        println!(
            "{total} report{} waiting in {}",
            plural(total),
            dir.display()
        );
        return Ok(0);
    }
    let stop = Stop::default();
    let mut left = 0;
    for (lock, items) in &config.checks {
        let Some(_held) = outbox::claim(lock, crate::sys::LOCK_PATIENCE) else {
            say(&format!(
                "{} report{} of one check left: another hcwrap is delivering them now",
                items.len(),
                plural(items.len())
            ));
            left += items.len();
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            // Delivered meanwhile by a run of the check, or another flush, before this one
            // held the lock: not again.
            if !item.report.file.exists() {
                continue;
            }
            let pinger = Pinger::new(item.check.clone(), item.http.clone());
            let redact = |t: &str| item.check.redact(t);
            if let Err(why) =
                crate::late::deliver_late(&pinger, &item.report, &redact, &stop, item.limit)
            {
                let rest = items.len() - i;
                let later = match rest - 1 {
                    0 => String::new(),
                    n => format!(" and {n} later report{} of the check", plural(n)),
                };
                let hint = if why.starts_with("401") || why.starts_with("403") {
                    " (if the runs send headers with -H, give them to hcwrap flush too)"
                } else {
                    ""
                };
                say(&format!(
                    "could not deliver {} ({why}){hint}; it{later} stay{} kept",
                    item.report.describe(&redact),
                    if rest == 1 { "s" } else { "" },
                ));
                left += rest;
                break;
            }
        }
    }
    Ok(if left == 0 {
        unusable
    } else {
        exit_codes::NOT_DELIVERED
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
