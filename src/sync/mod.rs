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
mod systemd;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::api::Api;
use crate::check::{Check, HOSTED_API_URL};
use crate::check_config;
use crate::cli::{CheckArgs, SetupArgs, SyncCli};
use crate::msg::say;
use plan::{Action, Place};

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
        let setup = SetupArgs {
            api_key: cli.api_key.clone(),
            site_url: cli.site_url.clone(),
            schedule: None,
            tz: None,
            grace: None,
            period: None,
            name: None,
            tags: None,
            desc: None,
            channels: None,
        };
        let Some(api) = check_config::api(&setup, &project, true, &http, &env)? else {
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
            None => crate::check_settings::machine_time_zone(&env),
        };
        let hcwrap = match &cli.hcwrap {
            Some(path) if path.is_absolute() => path.to_string_lossy().into_owned(),
            Some(_) => bail!("--hcwrap: give an absolute path (cron's PATH is short)"),
            None => std::env::current_exe()
                .and_then(|p| p.canonicalize())
                .context("cannot tell where this hcwrap is: give --hcwrap PATH")?
                .to_string_lossy()
                .into_owned(),
        };
        let (key_lines, no_key) = key_lines(cli, &api_url, &env);
        // `--systemd` alone: the administrator's own units (the distribution's, in
        // /usr/lib/systemd/system, are its own business), or a user's.
        let mut systemd = Vec::new();
        for dir in &cli.systemd {
            if !dir.as_os_str().is_empty() {
                systemd.push(dir.clone());
            } else if crate::sys::uid() == 0 {
                systemd.push(PathBuf::from("/etc/systemd/system"));
            } else {
                let Some(home) = env("HOME") else {
                    bail!(
                        "--systemd: HOME is not set, so ~/.config/systemd/user is unknown: give --systemd=DIR"
                    );
                };
                systemd.push(Path::new(&home).join(".config/systemd/user"));
            }
        }
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
        })
    }
}

/// The environment lines wrapped jobs need (see [`SyncConfig::key_lines`]), or why there
/// are none: a key given as itself, which must not be written into a crontab.
fn key_lines(
    cli: &SyncCli,
    api_url: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> (Vec<(String, String)>, Option<String>) {
    let mut lines = Vec::new();
    if api_url.trim_end_matches('/') != HOSTED_API_URL {
        lines.push(("HC_API_URL".to_owned(), api_url.to_owned()));
    }
    let ping_key = cli
        .ping_key
        .clone()
        .or_else(|| env("HC_PING_KEY"))
        .or_else(|| env("PING_KEY"));
    let api_key = cli.api_key.clone().or_else(|| env("HC_API_KEY"));
    match (ping_key, api_key) {
        (Some(key), _) if key.starts_with("file:") => {
            lines.push(("HC_PING_KEY".to_owned(), key));
            (lines, None)
        }
        (None, Some(key)) if key.starts_with("file:") => {
            lines.push(("HC_API_KEY".to_owned(), key));
            (lines, None)
        }
        _ => (
            lines,
            Some(
                "the wrapped jobs need a key to ping with, and the crontab sets none: give \
                 --ping-key file:PATH (the crontab gets HC_PING_KEY=file:PATH, not the key \
                 itself), or set HC_PING_KEY in the crontab"
                    .to_owned(),
            ),
        ),
    }
}

/// Plans, prints the plan, and with `--apply` carries it out.
#[allow(clippy::needless_pass_by_value)] // For `.and_then(sync::run)`.
pub fn run(config: SyncConfig) -> Result<i32> {
    let mut sources = plan::read_sources(&config)?;
    let existing = plan::existing_checks(&config.api)?;
    let mut entries = plan::entries(&config, &sources, &existing);
    plan::print_table(&entries);
    let mut failed = 0;
    if config.apply {
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
    plan::print_diffs(&sources);
    if !config.apply {
        println!("Nothing was changed: run with --apply to set the checks up and install this.");
        return Ok(0);
    }
    for source in &sources {
        if let Err(e) = install(source) {
            say(&format!("error: {e:#}"));
            failed += 1;
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
        println!("Run {command} for the drop-in files to take effect.");
    }
    Ok(i32::from(failed > 0))
}

/// Writes a source's new text where it belongs, if it changed.
fn install(source: &plan::Source) -> Result<()> {
    if !source.changed() {
        return Ok(());
    }
    match &source.place {
        Place::UserCrontab => {
            let mut child = Command::new("crontab")
                .arg("-")
                .stdin(Stdio::piped())
                .spawn()
                .context("cannot run crontab - to install the new crontab")?;
            if let Some(mut stdin) = child.stdin.take() {
                stdin
                    .write_all(source.new_text.as_bytes())
                    .context("cannot hand the new crontab to crontab -")?;
            }
            let status = child.wait().context("crontab - did not end")?;
            if !status.success() {
                bail!("crontab - refused the new crontab ({status}); nothing was changed");
            }
            println!("Installed the new crontab (crontab -).");
        }
        Place::File(path) => {
            replace_file(path, &source.old_text, &source.new_text)?;
            println!(
                "Wrote {} (the old one is {}).",
                path.display(),
                backup_path(path).display()
            );
        }
        Place::Systemd(path) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot make {}", dir.display()))?;
            }
            replace_file(path, "", &source.new_text)?;
            println!("Wrote {}.", path.display());
        }
    }
    Ok(())
}

fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".hcwrap-backup");
    PathBuf::from(name)
}

/// Replaces `path` with `text` atomically (a file beside it, renamed into place), with
/// the old file's mode; a file that existed is kept as `<path>.hcwrap-backup`.
fn replace_file(path: &Path, old: &str, text: &str) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777);
    if path.exists() {
        std::fs::write(backup_path(path), old)
            .with_context(|| format!("cannot keep the old {} beside it", path.display()))?;
    }
    let temporary = path.with_file_name(format!(
        ".{}.hcwrap-{}",
        path.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        std::process::id()
    ));
    let written = std::fs::File::options()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&temporary)
        .and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temporary, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}
