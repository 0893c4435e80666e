//! Turns the parsed command line and the environment into one validated [`Config`].
//!
//! Every mistake a user can fix is caught here, before the command runs, and reported as
//! one line naming the flag (or variable) and the value, with secrets redacted. This is
//! also, with `check_config.rs`, the only place that reads environment variables (the `env` lookup is passed in,
//! which keeps the rules testable).

use std::ffi::OsString;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};

use crate::check::Check;
use crate::check_config;
use crate::cli::{Cli, OnEnd, OnLockBusy};
use crate::limit_cache::LimitCache;
use crate::lock;
use crate::outbox::Outbox;
use crate::ping::{HttpOptions, MAX_BODY_LIMIT};
use crate::records::{self, Records};
use crate::run_state::RunState;
use crate::setup::Setup;
use crate::verdict::Judge;

/// Everything a wrapped run needs, validated.
#[derive(Debug)]
pub struct Config {
    /// Where the pings go (a placeholder in a dry run with no check chosen, or when the run
    /// goes unmonitored).
    pub check: Check,
    /// Why the run goes unmonitored, if it does: the environment names no usable check
    /// (see [`check_config::FromEnvironment`]) and `--strict` was not given. Then no ping is
    /// sent and nothing of a check is passed to the command.
    pub unmonitored: Option<String>,
    /// The check's setup through the management API, applied before the first ping.
    pub setup: Option<Arc<Setup>>,
    /// Tag pings with a run id.
    pub run_id: bool,
    /// Send a start ping.
    pub start_ping: bool,
    /// Show the child's stdout.
    pub echo_stdout: bool,
    /// Show the child's stderr.
    pub echo_stderr: bool,
    /// Print hcwrap's notices (a timeout, a signal, a skipped run); `--silent` keeps them
    /// back, but never an error or a warning.
    pub notices: bool,
    /// Send the captured output with the final ping.
    pub send_output: bool,
    /// The ping for exit status 0.
    pub on_success: OnEnd,
    /// The ping for another exit status or a signal.
    pub on_nonzero_exit: OnEnd,
    /// The ping for a command that could not be started.
    pub on_exec_fail: OnEnd,
    /// `--redact` and `--redact-env`: values replaced in the output that is sent.
    pub redact: Vec<String>,
    /// `--body-limit`: the most the final ping's body may hold, whatever the server allows.
    pub body_limit: Option<usize>,
    /// Where the server's announced body limit is remembered between runs.
    pub limit_cache: Option<LimitCache>,
    /// How pings are sent.
    pub http: HttpOptions,
    /// How long a signalled child gets before SIGKILL.
    pub kill_after: Duration,
    /// `--timeout`: how long the command may run.
    pub timeout: Option<Duration>,
    /// `--every`: run on this period until a signal ends hcwrap.
    pub every: Option<Duration>,
    /// `--jitter`: the longest random wait before each run.
    pub jitter: Option<Duration>,
    /// `--lock`: the lock file to hold during the run.
    pub lock: Option<lock::LockPath>,
    /// The ping for a run skipped because the lock was busy.
    pub on_lock_busy: OnLockBusy,
    /// The command and its arguments.
    pub command: Vec<OsString>,
    /// `--fail-on`: texts that make a line of output count as a failure.
    pub fail_on: Vec<String>,
    /// The rules that can count a run that exited 0 as failed.
    pub judge: Judge,
    /// `--tolerate`.
    pub tolerate: Option<u32>,
    /// What the run keeps besides its pings.
    pub records: Arc<Records>,
}

impl Config {
    /// Validates `cli`, reading the environment through `env` (empty or blank values count
    /// as unset).
    pub fn from_cli(cli: Cli, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let key_blank = env("HC_API_KEY").is_some_and(|v| v.trim().is_empty());
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let api_key = cli.setup.api.api_key.is_some() || env("HC_API_KEY").is_some();
        let (check, mut unmonitored) =
            match check_config::check(&cli.check, api_key, cli.dry_run, &env) {
                Ok(check) => (check, None),
                Err(e) if !cli.strict && e.is::<check_config::FromEnvironment>() => {
                    (Check::placeholder(), Some(format!("{e:#}")))
                }
                Err(e) => return Err(e),
            };
        let monitored = unmonitored.is_none();
        if cli.body_limit == Some(0) && !cli.no_output {
            bail!("--body-limit: 0 leaves no room for anything; use --no-output to send no output");
        }
        // Unmonitored, nothing is sent: proxy and trust store variables cannot matter (and
        // one hcwrap does not support must not stop the job). What was typed is still
        // checked.
        let http_env = |name: &str| {
            let sending =
                name.to_ascii_lowercase().ends_with("_proxy") || name.starts_with("SSL_CERT_");
            if monitored || !sending {
                env(name)
            } else {
                None
            }
        };
        let http = check_config::http(&cli.http, &check, cli.dry_run, &http_env)?;
        let setup = if monitored {
            let context = check_config::SetupContext::new(&cli.check, key_blank);
            setup(&cli, &check, context, &http, &env, &mut unmonitored)?
        } else {
            None
        };
        let monitored = unmonitored.is_none();
        let check = if monitored {
            check
        } else {
            Check::placeholder()
        };
        let lock = cli.lock.clone().map(|path| match path {
            Some(path) => lock::LockPath::given(path),
            // Keyed by the check; unmonitored, by the command (there is no check, and
            // unrelated jobs must not share one lock).
            None if monitored => lock::LockPath::default_for(&env, &check.plain_url()),
            None => lock::LockPath::default_for(&env, &format!("unmonitored {:?}", cli.command)),
        });
        let limit_cache = LimitCache::for_server(&env, &check.plain_url()).filter(|_| monitored);
        // A check by slug with no ping key whose UUID an earlier setup found: its ping URL
        // is known now, and the command gets it (the lock stays keyed by the slug).
        let check = match setup.as_ref().and_then(Setup::known_uuid) {
            Some(uuid) if check.is_awaiting_uuid() => check.with_uuid(&uuid)?,
            _ => check,
        };
        let mut redact = Vec::new();
        for value in &cli.redact {
            if value.is_empty() {
                bail!("--redact: the value is empty; give the text to hide from pings");
            }
            redact.push(value.clone());
        }
        // A variable that is unset or empty holds nothing to hide (a CI fork has no
        // secrets): the run goes on.
        for name in &cli.redact_env {
            let name = check_config::variable_name("--redact-env", name)?;
            redact.extend(env(&name));
        }
        // Unmonitored: every ping is off, so that nothing is sent anywhere.
        let ping = |on: OnEnd| if monitored { on } else { OnEnd::None };
        let (judge, fail_on) = judging(&cli, &redact)?;
        let records = records(&cli, &check, monitored, &env)?;
        Ok(Config {
            judge,
            fail_on,
            tolerate: cli.tolerate,
            records: Arc::new(records),
            check,
            setup: setup.map(Arc::new),
            unmonitored,
            redact,
            run_id: !cli.no_run_id && monitored,
            // A start ping that no success or failure follows (a tolerated failure sends a
            // log entry) makes the server count the run as failed after the grace time.
            start_ping: !cli.no_start_ping && monitored && cli.tolerate.is_none(),
            // Unmonitored, the output goes nowhere else: --quiet and --silent do not hide it.
            echo_stdout: !(cli.quiet || cli.silent) || !monitored,
            echo_stderr: !cli.silent || !monitored,
            notices: !cli.silent,
            send_output: !cli.no_output,
            on_success: ping(cli.on_success),
            on_nonzero_exit: ping(cli.on_nonzero_exit),
            on_exec_fail: ping(cli.on_exec_fail),
            body_limit: cli.body_limit.map(|b| b.min(MAX_BODY_LIMIT)),
            limit_cache,
            http,
            kill_after: cli.kill_after,
            lock,
            every: cli
                .every
                .map(|e| check_config::positive("--every", e))
                .transpose()?,
            jitter: cli.jitter,
            on_lock_busy: if monitored {
                cli.on_lock_busy
            } else {
                OnLockBusy::None
            },
            timeout: cli
                .timeout
                .map(|t| check_config::positive("--timeout", t))
                .transpose()?,
            command: cli.command,
        })
    }
}

/// The most `--fail-on` texts.
const MAX_FAIL_ON: usize = 32;

/// The rules that judge a run beyond its exit status, and `--fail-on`'s texts.
fn judging(cli: &Cli, redact: &[String]) -> Result<(Judge, Vec<String>)> {
    if cli.fail_on.len() > MAX_FAIL_ON {
        bail!(
            "--fail-on: {} texts given, at most {MAX_FAIL_ON}: each one is searched for in all \
             the output, which would slow the command's output down",
            cli.fail_on.len()
        );
    }
    for text in &cli.fail_on {
        if text.is_empty() {
            bail!(
                "--fail-on: the text is empty, and would match every line; give the text to look for"
            );
        }
        if text.contains('\n') {
            bail!(
                "--fail-on: the text holds a newline, and lines are matched one at a time; give one line's text"
            );
        }
        if text.len() > 1024 {
            bail!("--fail-on: the text is longer than 1024 bytes; give a shorter part of the line");
        }
    }
    let min_runtime = cli
        .min_runtime
        .map(|d| check_config::positive("--min-runtime", d))
        .transpose()?;
    if cli.fail_exit.is_some()
        && min_runtime.is_none()
        && !cli.fail_on_stderr
        && cli.fail_on.is_empty()
    {
        bail!(
            "--fail-exit: no rule can count a run as failed; give --min-runtime, \
             --fail-on-stderr or --fail-on with it"
        );
    }
    let judge = Judge {
        min_runtime,
        fail_on_stderr: cli.fail_on_stderr,
        fail_exit: cli.fail_exit,
        quote: !cli.no_output,
        // A quoted line is output: hidden as the output is.
        redact: redact.to_vec(),
    };
    Ok((judge, cli.fail_on.clone()))
}

/// What the run keeps besides its pings: the counts `--tolerate` and `--metrics-file`
/// need, the outbox for an undelivered final ping, `--run-log`, `--metrics-file`.
fn records(
    cli: &Cli,
    check: &Check,
    monitored: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Records> {
    for (flag, path) in [
        ("--run-log", &cli.run_log),
        ("--metrics-file", &cli.metrics_file),
    ] {
        let Some(path) = path else { continue };
        if path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/') {
            bail!(
                "{flag}: {} is a directory; name a file in it",
                path.display()
            );
        }
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(parent) = parent
            && !parent.is_dir()
        {
            bail!(
                "{flag}: the directory {} does not exist; make it first",
                parent.display()
            );
        }
    }
    // A dry run sends nothing: records of pings that were never sent would not be true.
    if cli.dry_run {
        return Ok(Records::default());
    }
    if !monitored {
        return Ok(Records {
            run_log: cli.run_log.clone(),
            ..Records::default()
        });
    }
    // A dry run changes no state: it counts nothing, and neither keeps nor delivers
    // reports (a kept report "delivered" by printing it would be lost).
    let state = check_config::state_dir(env).filter(|_| !cli.dry_run);
    let url = check.plain_url();
    let counted = cli.tolerate.is_some() || cli.metrics_file.is_some();
    if counted && state.is_none() && !cli.dry_run {
        crate::msg::say(
            "warning: no state directory to count failures in a row in (set HC_STATE_DIR, or \
             HOME); --tolerate tolerates none, and --metrics-file has no count",
        );
    }
    Ok(Records {
        label: Some(records::label(check)),
        counts: state
            .clone()
            .filter(|_| counted)
            .map(|dir| RunState::new(dir.clone(), &url)),
        kept_counts: state
            .clone()
            .filter(|_| !counted)
            .map(|dir| RunState::new(dir, &url)),
        outbox: state.map(|dir| Outbox::new(dir, &url)),
        run_log: cli.run_log.clone(),
        metrics: cli.metrics_file.clone(),
    })
}

/// The check's setup (see `setup.rs`). What the environment gets wrong (`HC_API_KEY`
/// naming a missing file) is a warning, unless `--strict`: the run goes on without the
/// setup, and unmonitored if the check's ping URL was to come from the API (`why` says so).
fn setup(
    cli: &Cli,
    check: &Check,
    context: check_config::SetupContext,
    http: &HttpOptions,
    env: &dyn Fn(&str) -> Option<String>,
    why: &mut Option<String>,
) -> Result<Option<Setup>> {
    match check_config::setup(&cli.setup, check, context, http, env) {
        Ok(setup) => Ok(setup),
        Err(e) if !cli.strict && e.is::<check_config::FromEnvironment>() => {
            if check.is_awaiting_uuid() {
                *why = Some(format!("{e:#}"));
            } else {
                crate::msg::say(&format!(
                    "warning: the check's settings are not applied: {e:#}"
                ));
            }
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Endpoint;
    use clap::Parser;
    use std::collections::HashMap;

    const UUID: &str = "1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b";
    const OTHER: &str = "2f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b";

    fn config(args: &[&str], env: &[(&str, &str)]) -> Result<Config> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut command_line = vec!["hcwrap"];
        command_line.extend_from_slice(args);
        command_line.extend_from_slice(&["--", "true"]);
        let cli = Cli::try_parse_from(command_line)?;
        Config::from_cli(cli, &|name| env.get(name).cloned())
    }

    fn url(args: &[&str], env: &[(&str, &str)]) -> String {
        config(args, env)
            .unwrap()
            .check
            .url(Endpoint::Success, None)
    }

    fn error(args: &[&str], env: &[(&str, &str)]) -> String {
        format!("{:#}", config(args, env).unwrap_err())
    }

    #[test]
    fn command_line_beats_environment() {
        let env = [("HC_PING_URL", "https://example.org/ping/x/y")];
        assert_eq!(
            url(&["--uuid", UUID], &env),
            format!("https://hc-ping.com/{UUID}")
        );
        assert_eq!(url(&[], &env), "https://example.org/ping/x/y");
    }

    #[test]
    fn api_url_and_ping_key_come_from_the_environment() {
        let env = [
            ("HC_API_URL", "http://hc.local/ping"),
            ("PING_KEY", "abc"),
            ("CHECK_SLUG", "nightly"),
        ];
        assert_eq!(url(&[], &env), "http://hc.local/ping/abc/nightly");
        let env = [("HC_PING_KEY", "first"), ("PING_KEY", "second")];
        assert_eq!(url(&["--slug", "s"], &env), "https://hc-ping.com/first/s");
    }

    #[test]
    fn two_checks_at_one_level_are_an_error_naming_both() {
        let err = error(
            &[
                "--uuid",
                UUID,
                "--url",
                &format!("https://hc-ping.com/{OTHER}"),
            ],
            &[],
        );
        assert_eq!(
            err,
            "--url and --uuid name different checks; give only one of them"
        );
        let err = error(
            &["--strict"],
            &[("CHECK_UUID", UUID), ("CHECK_SLUG", "s"), ("PING_KEY", "k")],
        );
        assert_eq!(
            err,
            "CHECK_UUID and CHECK_SLUG name different checks; give only one of them"
        );
    }

    #[test]
    fn two_names_for_the_same_check_are_fine() {
        let env = [
            ("CHECK_UUID", UUID),
            ("HC_PING_URL", &format!("https://hc-ping.com/{UUID}")),
        ];
        assert_eq!(url(&[], &env), format!("https://hc-ping.com/{UUID}"));
    }

    #[test]
    fn what_the_environment_gets_wrong_leaves_the_run_unmonitored_unless_strict() {
        for env in [
            &[][..],
            &[("HC_PING_URL", "file:/nonexistent/url")],
            &[("CHECK_UUID", "not-a-uuid")],
        ] {
            let config = config(&[], env).expect("an unmonitored run");
            assert!(config.unmonitored.is_some(), "{env:?}");
            assert!(
                !config.start_ping && config.on_success == OnEnd::None,
                "{env:?}"
            );
            assert!(config.on_nonzero_exit == OnEnd::None && config.on_exec_fail == OnEnd::None);
            assert!(config.on_lock_busy == OnLockBusy::None && !config.run_id);
        }
        // A file named on the command line is the environment's too; a malformed value
        // typed there is not.
        assert!(config(&["--uuid", "file:/nonexistent/uuid"], &[]).is_ok());
        assert!(config(&["--uuid", "not-a-uuid"], &[]).is_err());
        assert!(error(&["--strict"], &[]).starts_with("no check chosen"));
        // What a bad variable spoils is the environment's, even for a check typed on the
        // command line (a CI fork where the key's secret is empty)...
        for (args, env) in [
            (&["--slug", "db"][..], &[("HC_PING_KEY", "bad/key!")][..]),
            (&["--uuid", UUID], &[("HC_API_URL", "garbage")]),
        ] {
            let config = config(args, env).expect("an unmonitored run");
            assert!(config.unmonitored.is_some(), "{args:?} {env:?}");
        }
        // ... and what a typed flag spoils is the command line's, even for a check the
        // environment names.
        for args in [
            &["--api-url", "garbage"][..],
            &["--create"],
            &["--ping-key", "bad/key!"],
        ] {
            let env = [("CHECK_UUID", UUID), ("CHECK_SLUG", "db")];
            let env = if args[0] == "--ping-key" {
                &env[1..]
            } else {
                &env[..1]
            };
            assert!(config(args, env).is_err(), "{args:?}");
        }
        // Proxy variables do not matter to a run that sends nothing.
        let config = config(&[], &[("ALL_PROXY", "socks5h://proxy:1080")]).expect("a run");
        assert!(config.unmonitored.is_some());
    }

    #[test]
    fn mistakes_are_named() {
        assert!(error(&["--strict", "--slug", "s"], &[]).contains("needs a ping key"));
        assert!(error(&["--uuid", UUID, "--create"], &[]).starts_with("--create works only with"));
        assert!(error(&["--uuid", UUID, "--header", "nocolon"], &[]).starts_with("--header:"));
        assert!(
            error(&["--uuid", UUID, "--ping-timeout", "0s"], &[]).starts_with("--ping-timeout")
        );
        assert!(
            error(&["--api-url", "hc.example.org", "--uuid", UUID], &[]).starts_with("--api-url:")
        );
    }

    #[test]
    fn empty_variables_count_as_unset() {
        assert_eq!(
            url(&["--uuid", UUID], &[("HC_API_URL", "")]),
            format!("https://hc-ping.com/{UUID}")
        );
        // Blank too: a variable of spaces names no check (an unmonitored run says "no
        // check chosen", not "' ' is not a check UUID"), and an inherited HC_PING_URL is
        // used as when it is empty.
        let c = config(&[], &[("CHECK_UUID", "  ")]).unwrap();
        assert!(
            c.unmonitored
                .is_some_and(|why| why.starts_with("no check chosen"))
        );
        assert_eq!(
            url(
                &[],
                &[
                    ("CHECK_UUID", " "),
                    ("HC_PING_URL", "https://example.org/ping/x/y")
                ]
            ),
            "https://example.org/ping/x/y"
        );
    }

    #[test]
    fn dry_run_without_a_check_uses_a_placeholder() {
        let c = config(&["--dry-run"], &[]).unwrap();
        assert_eq!(
            c.check.url(Endpoint::Start, None),
            "https://hc-ping.com/<check-uuid>/start"
        );
    }

    #[test]
    fn proxies_follow_the_scheme_and_no_proxy() {
        let https = [
            ("HTTPS_PROXY", "http://p1:3128"),
            ("http_proxy", "http://p2:3128"),
        ];
        let proxy_host = |args: &[&str], env: &[(&str, &str)]| {
            config(args, env)
                .unwrap()
                .http
                .proxy
                .map(|p| p.host().to_owned())
        };
        assert_eq!(proxy_host(&["--uuid", UUID], &https).as_deref(), Some("p1"));
        let http = ["--uuid", UUID, "--api-url", "http://hc.local/ping"];
        assert_eq!(proxy_host(&http, &https).as_deref(), Some("p2"));
        // Upper-case HTTP_PROXY is not read for http, as curl does not ("httpoxy").
        assert_eq!(proxy_host(&http, &[("HTTP_PROXY", "http://p2:3128")]), None);
        let no = [
            ("HTTPS_PROXY", "http://p1:3128"),
            ("NO_PROXY", "localhost, .hc-ping.com"),
        ];
        assert_eq!(proxy_host(&["--uuid", UUID], &no), None);
        assert_eq!(
            proxy_host(&["--uuid", UUID, "--proxy", "http://p3:8080"], &no).as_deref(),
            Some("p3")
        );
    }

    #[test]
    fn header_values_are_not_shown_in_errors() {
        let err = error(
            &[
                "--uuid",
                UUID,
                "--header",
                "Authorization: Bearer s3\x01cret",
            ],
            &[],
        );
        assert!(!err.contains("s3cret"), "{err}");
    }
}
