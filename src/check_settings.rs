//! The check's settings on the server (`--schedule`, `--tz`, `--grace`, `--period`,
//! `--name`, `--tags`, `--desc`, `--channels`), validated, as the fields of a management
//! API request.
//!
//! hcwrap checks what it can before anything runs, so that a mistake is a usage error
//! naming the option rather than a run whose setup the server refuses: durations in the
//! server's range (1 minute to 365 days, whole seconds), a schedule that is not empty or a
//! cron expression with seconds, a time zone that is a name. The server has the last
//! word on the rest (whether an expression is valid cron or `OnCalendar`, whether a zone
//! exists), and its refusal is reported in one line by `setup.rs`.
//!
//! **Time zone.** A schedule is read in a time zone; without `--tz` it is the machine's,
//! found as cron finds it: `CRON_TZ`, then `TZ` (`:Europe/Riga` and
//! `/usr/share/zoneinfo/Europe/Riga` are read as `Europe/Riga`), then `/etc/timezone`,
//! then the zone `/etc/localtime` links to, else UTC.

use std::time::Duration;

use anyhow::{Result, bail};
use serde_json::{Map, Value};

use crate::cli::SetupArgs;
use crate::msg::printable;

/// The settings given, as the fields of a create or update request (in a stable order,
/// so that the same settings give the same request).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    fields: Map<String, Value>,
    /// `--name` was given (a check named by slug is otherwise named by its slug).
    pub named: bool,
}

/// The server's range for `grace` and `timeout`, in seconds.
const RANGE: std::ops::RangeInclusive<u64> = 60..=31_536_000;

/// The longest schedule and name the server takes, in characters.
const MAX_TEXT: usize = 100;

impl Settings {
    /// The settings `args` give; `None` when none is given. The time zone's default is
    /// read through `env` and the system's files.
    pub fn from_cli(
        args: &SetupArgs,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>> {
        let mut fields = Map::new();
        if let Some(expression) = &args.schedule {
            fields.insert("schedule".into(), Value::from(schedule(expression)?));
            let tz = match &args.tz {
                Some(tz) => time_zone("--tz", tz)?,
                None => machine_time_zone(env),
            };
            fields.insert("tz".into(), Value::from(tz));
        } else if args.tz.is_some() {
            bail!("--tz: a time zone applies to a --schedule; give one, or leave --tz out");
        }
        if let Some(period) = args.period {
            fields.insert("timeout".into(), Value::from(seconds("--period", period)?));
        }
        if let Some(grace) = args.grace {
            fields.insert("grace".into(), Value::from(seconds("--grace", grace)?));
        }
        if let Some(name) = &args.name {
            if name.trim().is_empty() || name.chars().count() > MAX_TEXT {
                bail!("--name: give a name of 1 to {MAX_TEXT} characters");
            }
            fields.insert("name".into(), Value::from(name.as_str()));
        }
        for (key, value) in [
            ("tags", &args.tags),
            ("desc", &args.desc),
            ("channels", &args.channels),
        ] {
            if let Some(value) = value {
                fields.insert(key.into(), Value::from(value.as_str()));
            }
        }
        Ok((!fields.is_empty()).then_some(Settings {
            fields,
            named: args.name.is_some(),
        }))
    }

    /// The request's fields.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }
}

/// A schedule as the server takes it: `@hourly` and its kind as five fields.
pub fn schedule(expression: &str) -> Result<String> {
    let expression = expression.trim();
    let translated = match expression {
        "" => bail!("--schedule: the expression is empty; give one such as '*/5 * * * *'"),
        "@reboot" => bail!(
            "--schedule: @reboot is not a schedule the server can expect runs on; \
             give --period instead"
        ),
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        other if other.starts_with('@') => bail!(
            "--schedule: '{}' is not one of @yearly, @annually, @monthly, @weekly, @daily, \
             @midnight or @hourly",
            printable(other)
        ),
        other => other,
    };
    let fields: Vec<&str> = translated.split_whitespace().collect();
    let cron_like = |f: &&str| {
        f.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"*/,-?LW#".contains(&b))
    };
    if (6..=7).contains(&fields.len()) && fields.iter().all(cron_like) && !translated.contains(':')
    {
        bail!(
            "--schedule: '{}' has {} fields; the server takes five (minute, hour, day of \
             month, month, day of week), with no seconds or year",
            printable(translated),
            fields.len()
        );
    }
    if translated.chars().count() > MAX_TEXT {
        bail!("--schedule: the expression is over {MAX_TEXT} characters, the server's limit");
    }
    Ok(translated.to_owned())
}

/// Whole seconds in the server's range, for `flag`.
fn seconds(flag: &str, duration: Duration) -> Result<u64> {
    let secs = duration.as_secs();
    if !RANGE.contains(&secs) {
        bail!("{flag}: must be from 1m to 365d, the server's range");
    }
    Ok(secs)
}

/// A time zone name as given to `source`: `Area/City`, `UTC`, `Etc/GMT+2`.
pub fn time_zone(source: &str, name: &str) -> Result<String> {
    let name = name.trim();
    let valid = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('/')
        && !name.contains("..")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+-/".contains(&b));
    if !valid {
        bail!(
            "{source}: '{}' is not a time zone name; give one such as Europe/Riga or UTC",
            printable(name)
        );
    }
    // Where the machine has the time zone database, a name not in it is a mistake (the
    // server would refuse it on every run); without it, the server decides.
    let database = std::path::Path::new("/usr/share/zoneinfo");
    if database.is_dir() && !database.join(name).is_file() {
        bail!(
            "{source}: '{}' is not a time zone this machine knows (/usr/share/zoneinfo); give \
             one such as Europe/Riga or UTC",
            printable(name)
        );
    }
    Ok(name.to_owned())
}

/// The machine's time zone, as the module documentation says.
pub fn machine_time_zone(env: &dyn Fn(&str) -> Option<String>) -> String {
    // A variable that holds no zone name (a POSIX rule such as EST5EDT,M3.2.0,M11.1.0)
    // is passed over, saying so: the zone used instead may not be what was meant.
    let from_variable = ["CRON_TZ", "TZ"].into_iter().find_map(|name| {
        let value = env(name)?;
        let zone = zone_name(&value);
        if zone.is_none() {
            crate::msg::say(&format!(
                "warning: {name}='{}' is not a time zone name the server takes; the schedule's \
                 time zone comes from the system instead (give --tz to choose)",
                printable(&value)
            ));
        }
        zone
    });
    from_variable
        .or_else(|| {
            std::fs::read_to_string("/etc/timezone")
                .ok()
                .and_then(|text| zone_name(text.lines().next().unwrap_or_default()))
        })
        .or_else(|| {
            std::fs::read_link("/etc/localtime")
                .ok()
                .and_then(|target| zone_name(&target.to_string_lossy()))
        })
        .unwrap_or_else(|| "UTC".to_owned())
}

/// The zone's name in a `TZ`-like value, if it holds one.
pub fn zone_name(value: &str) -> Option<String> {
    let value = value.trim().trim_start_matches(':');
    let name = match value.rsplit_once("zoneinfo/") {
        Some((_, name)) => name,
        None if value.starts_with('/') => return None,
        None => value,
    };
    time_zone("TZ", name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    fn settings(args: &[&str], env: &[(&str, &str)]) -> Result<Option<Settings>> {
        let mut line = vec!["hcwrap"];
        line.extend_from_slice(args);
        line.extend_from_slice(&["--", "true"]);
        let cli = Cli::try_parse_from(line)?;
        let env = |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        Settings::from_cli(&cli.setup, &env)
    }

    fn json(args: &[&str], env: &[(&str, &str)]) -> String {
        let settings = settings(args, env).unwrap().unwrap();
        serde_json::to_string(settings.fields()).unwrap()
    }

    fn error(args: &[&str]) -> String {
        format!("{:#}", settings(args, &[]).unwrap_err())
    }

    #[test]
    fn settings_become_the_fields_the_api_takes() {
        assert_eq!(
            json(
                &[
                    "--schedule",
                    "@daily",
                    "--grace",
                    "10m",
                    "--name",
                    "DB",
                    "--tags",
                    "a b"
                ],
                &[("TZ", ":Europe/Riga")]
            ),
            r#"{"grace":600,"name":"DB","schedule":"0 0 * * *","tags":"a b","tz":"Europe/Riga"}"#
        );
        assert_eq!(
            json(&["--period", "1h", "--channels", "*"], &[]),
            r#"{"channels":"*","timeout":3600}"#
        );
        assert_eq!(settings(&[], &[]).unwrap(), None);
    }

    #[test]
    fn the_time_zone_is_read_as_cron_reads_it() {
        let tz = |env: &[(&str, &str)]| {
            let settings = settings(&["--schedule", "0 3 * * *"], env)
                .unwrap()
                .unwrap();
            settings.fields()["tz"].as_str().unwrap().to_owned()
        };
        assert_eq!(
            tz(&[("CRON_TZ", "Asia/Tokyo"), ("TZ", "UTC")]),
            "Asia/Tokyo"
        );
        assert_eq!(
            tz(&[("TZ", "/usr/share/zoneinfo/America/New_York")]),
            "America/New_York"
        );
        assert_eq!(
            json(
                &["--schedule", "0 3 * * *", "--tz", "Etc/GMT+2"],
                &[("TZ", "UTC")]
            ),
            r#"{"schedule":"0 3 * * *","tz":"Etc/GMT+2"}"#
        );
        assert_eq!(zone_name("/etc/localtime"), None);
    }

    #[test]
    fn mistakes_name_the_option() {
        assert_eq!(
            error(&["--grace", "30s"]),
            "--grace: must be from 1m to 365d, the server's range"
        );
        assert!(error(&["--period", "400d"]).starts_with("--period: must be from 1m"));
        assert!(error(&["--tz", "UTC"]).starts_with("--tz: a time zone applies to a --schedule"));
        assert!(
            error(&["--schedule", "0 0 3 * * *"]).contains("has 6 fields; the server takes five")
        );
        assert!(error(&["--schedule", "@reboot"]).contains("give --period instead"));
        assert!(error(&["--schedule", " "]).contains("the expression is empty"));
        assert!(
            error(&["--schedule", "* * * * *", "--tz", "Europe/Riga; rm"])
                .contains("is not a time zone name")
        );
        assert!(error(&["--name", ""]).starts_with("--name: give a name"));
        assert!(
            format!(
                "{:#}",
                settings(&["--schedule", "@daily", "--period", "1h"], &[]).unwrap_err()
            )
            .contains("cannot be used with")
        );
    }

    #[test]
    fn on_calendar_expressions_pass_through() {
        assert_eq!(
            json(
                &["--schedule", "Mon..Fri *-*-* 09:00:00", "--tz", "UTC"],
                &[]
            ),
            r#"{"schedule":"Mon..Fri *-*-* 09:00:00","tz":"UTC"}"#
        );
    }
}
