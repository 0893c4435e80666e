//! systemd timers: each `*.timer` with `OnCalendar=` and the service it starts, and the
//! drop-in file that runs that service's command through hcwrap.
//!
//! The drop-in, `<unit>.d/hcwrap.conf` beside the unit (or in the directory given),
//! clears the service's `ExecStart=` and sets it again, wrapped, with the key it needs as
//! an `Environment=` line. Removing the file (and `systemctl daemon-reload`) undoes it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::command;

/// A timer and what it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    /// The timer's file.
    pub path: PathBuf,
    /// Its name without `.timer`.
    pub name: String,
    /// Its `OnCalendar=` expressions, one per line as the server takes them.
    pub schedule: Option<String>,
    /// The service it starts.
    pub unit: String,
    /// The service's one `ExecStart=` command, or why there is none to wrap.
    pub exec: Result<String, String>,
    /// `RandomizedDelaySec=`, in seconds: how much later than its time a run may start.
    pub delay: u64,
}

/// A drop-in in `dir` that sorts after `hcwrap.conf` and sets `ExecStart=`, if any.
fn overriding(dir: &Path) -> Option<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| {
            // systemd reads `.conf` in exactly that case.
            Path::new(n).extension().is_some_and(|e| e == "conf") && n.as_str() > "hcwrap.conf"
        })
        .collect();
    names.sort();
    names.into_iter().find(|n| {
        std::fs::read_to_string(dir.join(n)).is_ok_and(|text| {
            !values(&text, "Service", "ExecStart").is_empty() || text.contains("ExecStart=")
        })
    })
}

/// A systemd time span in seconds: `90`, `3h`, `1h 30min`.
fn parse_seconds(value: &str) -> Option<u64> {
    let value = value.trim();
    value
        .parse::<u64>()
        .ok()
        .or_else(|| humantime::parse_duration(value).ok().map(|d| d.as_secs()))
}

/// The timers in `dir`, in name order.
pub fn timers(dir: &Path) -> Result<Vec<Timer>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("--systemd: cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "timer") && p.is_file())
        .collect();
    paths.sort();
    let mut timers = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("--systemd: cannot read {}", path.display()))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let calendar = values(&text, "Timer", "OnCalendar");
        let unit = values(&text, "Timer", "Unit")
            .pop()
            .unwrap_or_else(|| format!("{name}.service"));
        let service = dir.join(&unit);
        let dropins = dir.join(format!("{unit}.d"));
        let exec = match std::fs::read_to_string(&service) {
            Ok(text) => exec_start(&with_dropins(text, &dropins)),
            Err(_) => Err(format!("its service {unit} is not in {}", dir.display())),
        };
        let exec = exec.and_then(|exec| match overriding(&dropins) {
            Some(name) => Err(format!(
                "its drop-in {name} sorts after hcwrap.conf and sets ExecStart=, so it would \
                 undo the wrapping: rename it to sort before, or wrap its command by hand"
            )),
            None => Ok(exec),
        });
        // A run may start that much later than the calendar says: the grace must allow it.
        let delay = values(&text, "Timer", "RandomizedDelaySec")
            .pop()
            .and_then(|v| parse_seconds(&v))
            .unwrap_or(0);
        timers.push(Timer {
            path,
            name,
            schedule: (!calendar.is_empty()).then(|| calendar.join("\n")),
            unit,
            exec,
            delay,
        });
    }
    Ok(timers)
}

/// A unit's text followed by its drop-ins' (`DIR/*.conf` in name order, but hcwrap's
/// own), as systemd reads them: a drop-in's `ExecStart=` replaces the unit's.
fn with_dropins(mut text: String, dir: &Path) -> String {
    let mut dropins: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().is_some_and(|e| e == "conf")
                        && p.file_name().is_some_and(|n| n != "hcwrap.conf")
                })
                .collect()
        })
        .unwrap_or_default();
    dropins.sort();
    for dropin in dropins {
        if let Ok(more) = std::fs::read_to_string(dropin) {
            text.push('\n');
            text.push_str(&more);
        }
    }
    text
}

/// The values of `key` in `[section]`, continuation lines joined; an empty assignment
/// clears the ones before it, as systemd reads them.
fn values(text: &str, section: &str, key: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut current = String::new();
    let mut logical = Vec::new();
    for line in text.lines() {
        if let Some(start) = line.strip_suffix('\\') {
            current.push_str(start);
            current.push(' ');
            continue;
        }
        current.push_str(line);
        logical.push(std::mem::take(&mut current));
    }
    let mut in_section = false;
    for line in logical {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line == format!("[{section}]");
        } else if in_section
            && let Some((k, v)) = line.split_once('=')
            && k.trim() == key
        {
            let v = v.trim();
            if v.is_empty() {
                values.clear();
            } else {
                values.push(v.to_owned());
            }
        }
    }
    values
}

/// The one `ExecStart=` of a service, or why it cannot be wrapped.
fn exec_start(service: &str) -> Result<String, String> {
    let mut exec = values(service, "Service", "ExecStart");
    match exec.len() {
        0 => Err("its service has no ExecStart=".to_owned()),
        1 => {
            let exec = exec.remove(0);
            if exec
                .trim_start_matches(['-', ':', '+', '!'])
                .starts_with('@')
            {
                Err(
                    "its ExecStart= sets argv[0] with '@', which hcwrap does not pass on"
                        .to_owned(),
                )
            } else {
                Ok(exec)
            }
        }
        n => Err(format!("its service has {n} ExecStart= lines")),
    }
}

/// Where the drop-in for `unit` goes, under `dir`.
pub fn dropin_path(dir: &Path, unit: &str) -> PathBuf {
    dir.join(format!("{unit}.d")).join("hcwrap.conf")
}

/// The slug an existing drop-in wraps its service for, if there is one.
pub fn dropin_slug(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let exec = values(&text, "Service", "ExecStart").pop()?;
    let exec = exec.trim_start_matches(['-', ':', '+', '!']);
    match command::wrapped(exec) {
        command::Wrapped::Hcwrap { slug } => slug,
        _ => None,
    }
}

/// The drop-in's text: `exec` (the service's command) run by `hcwrap` for `slug`, with
/// `environment` (`NAME=value`) set.
pub fn dropin(hcwrap: &str, slug: &str, exec: &str, environment: &[String]) -> String {
    // The prefixes that change how systemd runs the command stay in front.
    let flags_end = exec
        .find(|c| !matches!(c, '-' | ':' | '+' | '!'))
        .unwrap_or(exec.len());
    let (flags, command) = exec.split_at(flags_end);
    let mut text = format!(
        "# Written by hcwrap sync: the service's command runs through hcwrap, which reports\n\
         # each run to the check '{slug}'. To undo, remove this file and run\n\
         # systemctl daemon-reload.\n[Service]\n"
    );
    for line in environment {
        let _ = writeln!(text, "Environment={line}");
    }
    let _ = writeln!(
        text,
        "ExecStart=\nExecStart={flags}{hcwrap} --slug={slug} -- {command}"
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_and_service_values_are_read_as_systemd_reads_them() {
        let timer = "[Unit]\nDescription=x\n[Timer]\nOnCalendar=\nOnCalendar=Mon *-*-* 02:00\nOnCalendar=Fri *-*-* 02:00\nPersistent=true\n";
        assert_eq!(
            values(timer, "Timer", "OnCalendar"),
            ["Mon *-*-* 02:00", "Fri *-*-* 02:00"]
        );
        let service = "[Service]\nType=oneshot\nExecStart=/usr/bin/backup \\\n  --full\n";
        assert_eq!(exec_start(service).unwrap(), "/usr/bin/backup    --full");
        assert!(
            exec_start("[Service]\nExecStart=a\nExecStart=b\n")
                .unwrap_err()
                .contains("2 ExecStart=")
        );
        assert!(exec_start("[Service]\nExecStart=@/bin/x x\n").is_err());
    }

    #[test]
    fn the_drop_in_keeps_the_prefixes_and_is_recognised_again() {
        let text = dropin(
            "/usr/bin/hcwrap",
            "backup",
            "-/usr/bin/backup --full",
            &["HC_PING_KEY=file:/k".into()],
        );
        assert!(text.ends_with(
            "[Service]\nEnvironment=HC_PING_KEY=file:/k\nExecStart=\nExecStart=-/usr/bin/hcwrap --slug=backup -- /usr/bin/backup --full\n"
        ), "{text}");
        let dir = std::env::temp_dir().join(format!("hcwrap-dropin-{}", std::process::id()));
        let path = dropin_path(&dir, "backup.service");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        assert_eq!(dropin_slug(&path).as_deref(), Some("backup"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
