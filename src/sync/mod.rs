//! `hcwrap sync`: a crontab's jobs, or systemd timers, become checks.
//!
//! For each job it proposes a check: a slug (see `command.rs`; a `# hcwrap: slug=...`
//! comment on the line before overrides it, and a number is added where two jobs would
//! share one), the schedule as written, the time zone of the `CRON_TZ`/`TZ` line above
//! it or the system's, and a grace (see `grace.rs`). It reads the project's checks in
//! one request and says for each job whether its check is to be created, updated, left
//! as it is, or why the job is skipped. Without `--apply` it changes nothing and prints
//! the plan and the crontab as it would become; with it, it sets the checks up (one
//! request each) and then installs the rewritten crontab (`crontab -` for a user's own; a
//! file is replaced atomically, its old text kept beside it as `FILE.hcwrap-backup`) or
//! writes the timers' drop-in files. A job whose check could not be set up is left as it
//! was. Lines hcwrap already wraps are recognised, so a second run changes nothing.

mod command;
mod crontab;
mod grace;
mod plan;
mod show;
mod sources;
mod systemd;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::api::Api;
use crate::check::{Check, HOSTED_API_URL};
use crate::check_config;
use crate::cli::{CheckArgs, SyncCli};
use crate::msg::say;
use crate::sys;
use plan::Action;
use sources::Place;

/// A validated `hcwrap sync`.
#[derive(Debug)]
pub struct SyncConfig {
    /// The crontab files, or none for the user's own.
    crontabs: Vec<PathBuf>,
    /// The directories of timers.
    systemd: Vec<PathBuf>,
    dropin_dir: Option<PathBuf>,
    api: Api,
    apply: bool,
    migrate_runitor: bool,
    hcwrap: String,
    grace: Option<u64>,
    tz: String,
    /// The environment lines a crontab needs for its wrapped jobs to ping, where it does
    /// not set them itself: `HC_PING_KEY=file:...` (or `HC_API_KEY=file:...`), and
    /// `HC_API_URL=...` for a server other than the hosted one.
    key_lines: Vec<(String, String)>,
    /// Why no key line can be given, if none can.
    no_key: Option<String>,
    /// The ping API's base URL.
    api_url: String,
    /// This machine's name, for the checks' descriptions.
    host: String,
    /// Whether this machine's cron reads `CRON_TZ` lines (cronie does; Debian's cron
    /// does not, and runs every job in the system's time zone).
    cron_reads_cron_tz: bool,
}

impl SyncConfig {
    /// The key file the crontab names (`file:PATH` of the key line), if any.
    fn key_path(&self) -> Option<&Path> {
        self.key_lines
            .iter()
            .find(|(name, _)| name != "HC_API_URL")
            .and_then(|(_, value)| value.strip_prefix("file:"))
            .map(Path::new)
    }
}

impl SyncConfig {
    /// Validates `cli`, reading the environment through `env`.
    pub fn from_cli(cli: &SyncCli, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let check_args = CheckArgs {
            url: None,
            uuid: None,
            api_url: cli.api_url.clone(),
            slug: None,
            ping_key: cli.ping_key.clone(),
            create: false,
        };
        let api_url = check_config::api_url(&check_args, &env)?;
        // Read only to hide it in messages: the wrapped jobs read it when they run (it may
        // be readable only by the crontab's user).
        let ping_key = match check_config::ping_key(&check_args, &env) {
            Ok(key) => key,
            Err(e) => {
                say(&format!(
                    "warning: {e:#} (the wrapped jobs read it when they run: make sure they can)"
                ));
                None
            }
        };
        // The project's check, for what messages hide (the ping key).
        let project = match &ping_key {
            Some(key) => Check::from_slug(&api_url, key, "sync", false)?,
            None => Check::awaiting_uuid(&api_url, "sync")?,
        };
        let http = check_config::http(&cli.http, &project, false, &env)?;
        let Some(api) = check_config::api(&cli.api, &project, true, &http, &env)? else {
            bail!(
                "hcwrap sync sets checks up through the management API, which needs the \
                 project's API key: give --api-key or set HC_API_KEY"
            );
        };
        let grace = cli
            .grace
            .map(|g| {
                let secs = g.as_secs();
                if (60..=31_536_000).contains(&secs) {
                    Ok(secs)
                } else {
                    Err(anyhow::anyhow!(
                        "--grace: must be from 1m to 365d, the server's range"
                    ))
                }
            })
            .transpose()?;
        let tz = match &cli.tz {
            Some(tz) => crate::check_settings::time_zone("--tz", tz)?,
            // cron's own zone, the system's: not this shell's TZ or CRON_TZ.
            None => crate::check_settings::machine_time_zone(&|_| None),
        };
        let hcwrap = hcwrap_path(cli.hcwrap.as_deref())?;
        let systemd = systemd_dirs(&cli.systemd, &env)?;
        let (key_lines, no_key) = key_lines(cli, &api_url, &env)?;
        Ok(SyncConfig {
            crontabs: cli.crontab.clone(),
            systemd,
            dropin_dir: cli.dropin_dir.clone(),
            api,
            apply: cli.apply,
            migrate_runitor: cli.migrate_runitor,
            hcwrap,
            grace,
            tz,
            key_lines,
            no_key,
            api_url,
            host: sys::host_name().unwrap_or_else(|| "this host".to_owned()),
            cron_reads_cron_tz: cron_reads_cron_tz(),
        })
    }
}

/// The hcwrap the wrapped lines run: `--hcwrap`, else this one, by an absolute path that
/// goes into crontabs and unit files as it is (where '%' and spaces mean more).
fn hcwrap_path(given: Option<&Path>) -> Result<String> {
    let hcwrap = match given {
        Some(path) if path.is_absolute() => path.to_string_lossy().into_owned(),
        Some(_) => bail!("--hcwrap: give an absolute path (cron's PATH is short)"),
        None => std::env::current_exe()
            .and_then(|p| p.canonicalize())
            .context("cannot tell where this hcwrap is: give --hcwrap PATH")?
            .to_string_lossy()
            .into_owned(),
    };
    if !Path::new(&hcwrap).is_file() {
        bail!("--hcwrap: {} is not a file", crate::msg::printable(&hcwrap));
    }
    if hcwrap
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "'\"%\\$`".contains(c))
    {
        bail!(
            "--hcwrap: {} has spaces, quotes, '%', '\\', '$' or control characters, which \
             cron and systemd read otherwise; give a plain path",
            crate::msg::printable(&hcwrap)
        );
    }
    Ok(hcwrap)
}

/// The unit directories `--systemd` names; `--systemd` alone means the administrator's
/// own units (/etc/systemd/system; the distribution's, in /usr/lib/systemd/system, are
/// its own business) for root, a user's (~/.config/systemd/user) for anyone else.
fn systemd_dirs(given: &[PathBuf], env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for dir in given {
        if !dir.as_os_str().is_empty() {
            dirs.push(dir.clone());
        } else if crate::sys::uid() == 0 {
            dirs.push(PathBuf::from("/etc/systemd/system"));
        } else {
            let Some(home) = env("HOME") else {
                bail!(
                    "--systemd: HOME is not set, so ~/.config/systemd/user is unknown: give \
                     --systemd=DIR"
                );
            };
            dirs.push(Path::new(&home).join(".config/systemd/user"));
        }
    }
    Ok(dirs)
}

/// The key lines, or why there can be none.
type KeyLines = (Vec<(String, String)>, Option<String>);

/// Whether this machine's cron reads `CRON_TZ` (cronie's `crond` does; Debian's
/// `cron` does not).
fn cron_reads_cron_tz() -> bool {
    !Path::new("/usr/sbin/cron").exists() || Path::new("/usr/sbin/crond").exists()
}

/// The environment lines wrapped jobs need (see [`SyncConfig::key_lines`]), or why there
/// are none: a key given as itself, which must not be written into a crontab. A key's
/// `file:` path goes into crontabs and unit files as it is: it must be absolute (cron
/// runs jobs from the home directory) and plain (no spaces, quotes, `%`, `\` or control
/// characters, which cron or systemd would read otherwise).
fn key_lines(
    cli: &SyncCli,
    api_url: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<KeyLines> {
    let mut lines = Vec::new();
    if api_url.trim_end_matches('/') != HOSTED_API_URL {
        lines.push(("HC_API_URL".to_owned(), api_url.to_owned()));
    }
    let ping_key = cli
        .ping_key
        .clone()
        .map(|k| ("--ping-key", k))
        .or_else(|| env("HC_PING_KEY").map(|k| ("HC_PING_KEY", k)))
        .or_else(|| env("PING_KEY").map(|k| ("PING_KEY", k)));
    let api_key = cli
        .api
        .api_key
        .clone()
        .map(|k| ("--api-key", k))
        .or_else(|| env("HC_API_KEY").map(|k| ("HC_API_KEY", k)));
    let (variable, (source, value)) = match (ping_key, api_key) {
        (Some(key), _) if key.1.starts_with("file:") => ("HC_PING_KEY", key),
        (None, Some(key)) if key.1.starts_with("file:") => ("HC_API_KEY", key),
        _ => {
            return Ok((
                lines,
                Some(
                    "the wrapped jobs need a key to ping with, and the crontab sets none: \
                     give --ping-key file:PATH (the crontab gets HC_PING_KEY=file:PATH, not \
                     the key itself), or set HC_PING_KEY in the crontab"
                        .to_owned(),
                ),
            ));
        }
    };
    let path = value.trim_start_matches("file:");
    let plain = path.starts_with('/')
        && !path
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "'\"%\\$`".contains(c));
    if !plain {
        bail!(
            "{source}: the crontab would name {}, which must be an absolute path with no \
             spaces, quotes, '%', '\\', '$' or control characters",
            crate::msg::printable(&value)
        );
    }
    lines.push((variable.to_owned(), value));
    Ok((lines, None))
}

/// Plans, prints the plan, and with `--apply` carries it out.
#[allow(clippy::needless_pass_by_value)] // For `.and_then(sync::run)`.
pub fn run(config: SyncConfig) -> Result<i32> {
    let mut sources = sources::read_sources(&config)?;
    // The server's trouble, not a usage error: exit 1.
    let existing = match plan::existing_checks(&config.api) {
        Ok(existing) => existing,
        Err(e) => {
            say(&format!("error: {e:#}"));
            return Ok(1);
        }
    };
    let mut entries = plan::entries(&config, &sources, &existing);
    show::table(&entries);
    let mut failed = 0;
    if config.apply {
        // A check is set up only for a job whose line can then be written.
        for (index, source) in sources.iter().enumerate() {
            if let Err(e) = sources::preflight(source) {
                say(&format!("error: {e:#}"));
                failed += 1;
                for entry in entries
                    .iter_mut()
                    .filter(|e| e.source == index && e.to_wrap())
                {
                    entry.action = Action::Failed(format!("{e:#}"));
                }
            }
        }
        for entry in &mut entries {
            if matches!(entry.action, Action::Create | Action::Update(_))
                && let Err(why) = plan::upsert(&config.api, entry)
            {
                say(&format!(
                    "could not set up the check '{}': {why}",
                    entry.slug
                ));
                entry.action = Action::Failed(why);
                failed += 1;
            }
        }
    }
    // A job whose check could not be set up is not wrapped.
    plan::rewrite(&config, &mut sources, &entries);
    show::diffs(&sources);
    if !config.apply {
        show::out("Nothing was changed: run with --apply to set the checks up and install this.");
        return Ok(0);
    }
    for source in sources.iter().filter(|s| s.changed()) {
        match sources::install(source) {
            Ok(said) => show::out(&said),
            Err(e) => {
                say(&format!("error: {e:#}"));
                failed += 1;
            }
        }
    }
    let changed_unit = sources.iter().find_map(|s| match &s.place {
        Place::Systemd(path) if s.changed() => Some(path),
        _ => None,
    });
    if let Some(path) = changed_unit {
        let user = path.to_string_lossy().contains("/.config/systemd/user/");
        let command = if user {
            "systemctl --user daemon-reload"
        } else {
            "systemctl daemon-reload"
        };
        show::out(&format!(
            "Run {command} for the drop-in files to take effect."
        ));
    }
    Ok(i32::from(failed > 0))
}
