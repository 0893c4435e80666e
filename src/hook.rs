//! `hcwrap ping`: one ping, for a backup tool's or scheduler's hooks, where people write
//! `curl -X POST -d @log https://.../fail` today. Same check options, `file:` secrets,
//! HTTP rules, retries and redaction as the wrapped run, and the same body rules: the tail
//! of the body is kept, within the limit, as valid UTF-8, read with bounded memory however
//! large the file.
//!
//! A ping other than `start` that cannot be delivered within `--max-time` is kept, as a
//! wrapped run's final ping is (see [`outbox`](crate::outbox)); the next ping of the check
//! delivers what is kept first, within half of its `--max-time`.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::FileTypeExt;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::body;
use crate::check::{self, Check, Endpoint};
use crate::check_config;
use crate::cli::PingCli;
use crate::exit_codes;
use crate::late;
use crate::limit_cache::LimitCache;
use crate::outbox::{self, Outbox, Report};
use crate::ping::{Delivery, HttpOptions, Pinger};
use crate::pings;
use crate::ring::Ring;
use crate::setup::Setup;
use crate::signals::Signals;
use crate::stop::Stop;
use crate::sys;

/// What `hcwrap ping` does.
#[derive(Debug)]
pub enum Hook {
    /// Sends the ping.
    Send(Box<HookConfig>),
    /// Sends nothing, with a warning: the environment names no usable check (a CI fork
    /// without its secrets, a renamed `file:` secret) and `--strict` was not given.
    Unmonitored {
        /// Why, for the warning.
        why: String,
        /// The body was to come from stdin: it is read to its end all the same, so that
        /// a command piping into the hook is not killed by SIGPIPE.
        drain_stdin: bool,
    },
}

/// Where the body comes from.
#[derive(Debug)]
enum Source {
    /// No body; stdin is not read.
    Empty,
    /// `--message`, or the variable `--message-env` names.
    Message(String),
    /// `--body-file PATH`.
    File(PathBuf),
    /// `--body-file -`.
    Stdin,
}

/// A validated `hcwrap ping`.
#[derive(Debug)]
pub struct HookConfig {
    check: Check,
    /// The check's setup, applied (when needed) before the ping.
    setup: Option<Setup>,
    http: HttpOptions,
    endpoint: Endpoint,
    run_id: Option<String>,
    source: Source,
    limit: usize,
    limit_cache: Option<LimitCache>,
    /// What `limit_cache` held, so that an unchanged limit is not written again.
    cached_limit: Option<usize>,
    strict: bool,
    /// Where an undelivered ping is kept; `None` in a dry run or with no state directory.
    outbox: Option<Outbox>,
}

impl Hook {
    /// Validates `cli`, reading the environment through `env` (empty or blank values count
    /// as unset).
    pub fn from_cli(cli: PingCli, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let key_blank = env("HC_API_KEY").is_some_and(|v| v.trim().is_empty());
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let drain_stdin = cli.body_file.as_ref().is_some_and(|p| p.as_os_str() == "-");
        let unmonitored = |e: anyhow::Error| Hook::Unmonitored {
            why: format!("{e:#}"),
            drain_stdin,
        };
        let api_key = cli.setup.api.api_key.is_some() || env("HC_API_KEY").is_some();
        let check = match check_config::check(&cli.check, api_key, cli.dry_run, &env) {
            Ok(check) => check,
            Err(e) if !cli.strict && e.is::<check_config::FromEnvironment>() => {
                return Ok(unmonitored(e));
            }
            Err(e) => return Err(e),
        };
        let mut http = check_config::http(&cli.http, &check, cli.dry_run, &env)?;
        http.max_time = Some(check_config::positive("--max-time", cli.max_time)?);
        let context = check_config::SetupContext::new(&cli.check, key_blank);
        let setup = match check_config::setup(&cli.setup, &check, context, &http, &env) {
            Ok(setup) => setup,
            Err(e) if !cli.strict && e.is::<check_config::FromEnvironment>() => {
                // A check by slug whose ping URL was to come from the API: no ping.
                if check.is_awaiting_uuid() {
                    return Ok(unmonitored(e));
                }
                crate::msg::say(&format!(
                    "warning: the check's settings are not applied: {e:#}"
                ));
                None
            }
            Err(e) => return Err(e),
        };
        // HC_RUN_ID as an outer hcwrap set it belongs to that run's check: it is used only
        // for pings to that check.
        let inherited_rid_fits = match env("HC_PING_URL") {
            Some(url) if check_config::is_set_by_hcwrap(&url, &env) => check.plain_url() == url,
            _ => true,
        };
        let env_rid = env("HC_RUN_ID").filter(|_| inherited_rid_fits);
        // An inherited run id that is not one is ignored, with a warning: the ping still
        // goes out, unpaired, rather than not at all.
        let run_id = match (cli.rid, env_rid) {
            (Some(rid), _) => Some(run_id("--rid", &rid)?),
            (None, Some(rid)) => run_id("HC_RUN_ID", &rid)
                .map_err(|e| {
                    crate::msg::say(&format!("warning: {e:#}; sending the ping without it"));
                })
                .ok(),
            (None, None) => None,
        };
        let source = match (cli.message, cli.message_env, cli.body_file) {
            // Not UTF-8 (a file name in an error): other bytes become U+FFFD, as in any body.
            (Some(message), _, _) => Source::Message(message.to_string_lossy().into_owned()),
            // An unset variable is an empty message: a hook without an error to tell.
            (None, Some(name), _) => Source::Message(
                env(&check_config::variable_name("--message-env", &name)?).unwrap_or_default(),
            ),
            (None, None, Some(path)) if path.as_os_str() == "-" => Source::Stdin,
            (None, None, Some(path)) => Source::File(path),
            (None, None, None) => Source::Empty,
        };
        if cli.body_limit == Some(0) && !matches!(source, Source::Empty) {
            bail!("--body-limit: 0 leaves no room for the body");
        }
        // The limit the server announced last time, if it was remembered (a single ping
        // has no start ping to learn it from).
        let limit_cache = LimitCache::for_server(&env, &check.plain_url());
        let cached_limit = limit_cache.as_ref().and_then(LimitCache::read);
        let limit = pings::body_limit(cached_limit, cli.body_limit);
        Ok(Hook::Send(Box::new(HookConfig {
            setup,
            http,
            endpoint: cli.kind,
            run_id,
            source,
            limit,
            limit_cache,
            cached_limit,
            strict: cli.strict,
            outbox: check_config::state_dir(&env)
                .filter(|_| !cli.dry_run)
                .map(|dir| Outbox::new(dir, &check.plain_url())),
            check,
        })))
    }
}

/// How long a hook's ping may take in all when `--max-time` does not say.
const DEFAULT_MAX_TIME: Duration = Duration::from_secs(10);

fn run_id(source: &str, value: &str) -> Result<String> {
    if !check::is_uuid(value) {
        bail!(
            "{source}: '{}' is not a run id (a UUID such as hcwrap sets in HC_RUN_ID)",
            // A long value may hold a secret (a check's UUID): only its start is shown.
            if value.chars().count() < 16 {
                crate::msg::printable(value)
            } else {
                crate::check::redact_partial(value)
            }
        );
    }
    Ok(value.to_ascii_lowercase())
}

/// Sends the ping; returns 0 when the server recorded it, and when it did not (a line said
/// why) unless `--strict`, then 1. Errors (an unreadable body file) come before anything
/// is sent.
#[allow(clippy::needless_pass_by_value)] // Called as `.and_then(hook::run)`.
pub fn run(hook: Hook) -> Result<i32> {
    let config = match hook {
        Hook::Send(config) => config,
        Hook::Unmonitored { why, drain_stdin } => return Ok(unmonitored(&why, drain_stdin)),
    };
    let body = body_or_why(&config)?;
    // --max-time bounds the sending; reading the body (what a command pipes in) takes what
    // it takes, as it would with curl.
    let started = Instant::now();
    let max_time = config.http.max_time.unwrap_or(DEFAULT_MAX_TIME);
    let strict = config.strict;
    let not_delivered = || if strict { exit_codes::NOT_DELIVERED } else { 0 };
    let shown = config
        .check
        .redact(&config.check.url(config.endpoint, config.run_id.as_deref()));
    // The attempt's own time limits rest on socket timeouts, which the kernel may overrun
    // by a tenth of a second or more: --max-time is kept here, by the clock.
    let (tx, rx) = mpsc::channel();
    // Before the thread starts: a signal (a service manager stopping the backup) must not
    // lose the ping it interrupts.
    let mut signals = Signals::install()?;
    let (done, done_write) = sys::pipe().context("while making a pipe")?;
    let (endpoint, run_id) = (config.endpoint, config.run_id);
    let (check, setup, http) = (config.check, config.setup, config.http);
    let kept_http = http.clone();
    let keep = |check: &Check| report_of(check, endpoint, &body, &kept_http);
    let kept_check = check.clone();
    let outbox = config.outbox.clone();
    let report = keep(&check);
    let limit = config.limit;
    std::thread::spawn(move || {
        // The check's setup first, within --max-time; with none to ping (a slug whose
        // UUID is unknown), a line said why.
        // The setup gets half of --max-time at most: the ping always gets its turn.
        let check = match &setup {
            Some(setup) => setup.prepare(&check, Some(started + max_time / 2)),
            None => Some(check),
        };
        let mut http = http;
        http.max_time_start = Some(started);
        if let (Some(outbox), Some(check)) = (&outbox, &check) {
            deliver_kept(outbox, check, &http, max_time, limit);
        }
        let delivery = check.map(|check| {
            Pinger::new(check, http).send(
                endpoint,
                run_id.as_deref(),
                &report.body.build(limit),
                &Stop::default(),
            )
        });
        // A check the server does not know (deleted there): set it up again next time.
        if let (Some(setup), Some(Delivery::NotDelivered(failure))) = (&setup, &delivery)
            && failure.check_unknown()
        {
            setup.forget();
        }
        let _ = tx.send(delivery);
        drop(done_write);
    });
    let deadline = started + max_time;
    if let Some(signal) = interrupted(&mut signals, &done, deadline) {
        crate::msg::say(&format!(
            "gave up on the {} to {shown}: interrupted by {}{}",
            endpoint.name(),
            crate::signals::name(signal),
            kept(config.outbox.as_ref(), endpoint, || keep(&kept_check))
        ));
        sys::die_by(signal);
        return Ok(exit_codes::for_signal(signal));
    }
    let Ok(delivery) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) else {
        crate::msg::say(&format!(
            "could not deliver the {} to {shown} within --max-time {}: no answer in time{}",
            endpoint.name(),
            humantime::format_duration(max_time),
            kept(config.outbox.as_ref(), endpoint, || keep(&kept_check))
        ));
        return Ok(not_delivered());
    };
    let Some(delivery) = delivery else {
        return Ok(not_delivered());
    };
    match delivery {
        Delivery::Delivered {
            body_limit: Some(limit),
        } => {
            if let Some(cache) = &config.limit_cache {
                cache.remember(limit, config.cached_limit);
            }
            Ok(0)
        }
        Delivery::Delivered { .. } => Ok(0),
        Delivery::NotDelivered(failure) => {
            let kept = if failure.how == "refused" {
                String::new()
            } else {
                kept(config.outbox.as_ref(), endpoint, || keep(&kept_check))
            };
            crate::msg::say(&format!("{}{kept}", failure.line));
            // Without --strict the hook goes on: a monitoring outage must not fail it.
            Ok(not_delivered())
        }
    }
}

/// No ping: says why; exit status 0.
fn unmonitored(why: &str, drain_stdin: bool) -> i32 {
    crate::msg::say(&format!(
        "warning: no ping sent: {why} (--strict refuses instead)"
    ));
    if drain_stdin {
        // What the hook pipes in has nowhere to go, but its writer must not fail.
        let _ = copy_into(io::stdin().lock(), &mut Ring::new(1));
    }
    0
}

/// The report to keep of a hook's ping that was not delivered.
fn report_of(check: &Check, endpoint: Endpoint, body: &body::Parts, http: &HttpOptions) -> Report {
    Report {
        file: PathBuf::new(),
        // A check whose ping URL is still to come from the API has none to keep.
        url: if check.is_awaiting_uuid() {
            String::new()
        } else {
            check.plain_url()
        },
        endpoint,
        ended: outbox::now_secs(),
        summary: format!("sent by hcwrap ping as a {}", endpoint.name()),
        body: body.clone(),
        headers: pings::header_names(http),
    }
}

/// Waits until the ping thread is done (`done` reads end of file) or `deadline`; returns
/// the interrupting signal that came first, if one did.
fn interrupted(signals: &mut Signals, done: &OwnedFd, deadline: Instant) -> Option<i32> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        let mut fds = [
            libc::pollfd {
                fd: done.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: signals.fd().as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        if sys::poll(&mut fds, Some(left)).is_err() || fds[0].revents != 0 {
            return None;
        }
        if fds[1].revents != 0
            && let Some(signal) = signals
                .take(None)
                .into_iter()
                .find(|&s| crate::signals::meaning(s) == Some(crate::signals::Meaning::Interrupt))
        {
            return Some(signal);
        }
    }
}

/// Delivers what earlier pings of the check could not, first: within half of --max-time,
/// one attempt each.
fn deliver_kept(
    outbox: &Outbox,
    check: &Check,
    http: &HttpOptions,
    max_time: Duration,
    limit: usize,
) {
    let late = late::Late {
        http: HttpOptions {
            retries: 0,
            max_time: Some(max_time / 2),
            ..http.clone()
        },
        limit,
        patience: max_time / 4,
    };
    late::deliver_waiting(outbox, check, late, &Stop::default());
}

/// The ping's body; or, for a body that cannot be read, why (unless `--strict`).
fn body_or_why(config: &HookConfig) -> Result<body::Parts> {
    match read_body(&config.source, config.limit) {
        Ok(body) => Ok(body),
        Err(e) if config.strict => Err(e),
        // The log a failed job never wrote must not cancel its failure ping: the ping goes,
        // saying why its body is missing.
        Err(e) => {
            let why = format!("{e:#}");
            crate::msg::say(&format!("warning: {why}; sending the ping without it"));
            Ok(body::Parts {
                output: None,
                notes: vec![why],
            })
        }
    }
}

/// Keeps the report `report` makes in `outbox`, for a ping that reports how a run went
/// (not `start`) to a check whose ping URL is known (not one still to come from the
/// management API); what to add to the line that says it was not delivered.
fn kept(outbox: Option<&Outbox>, endpoint: Endpoint, report: impl FnOnce() -> Report) -> String {
    match outbox {
        Some(outbox) if endpoint != Endpoint::Start => {
            let report = report();
            if report.url.is_empty() {
                String::new()
            } else {
                late::keep(outbox, &report)
            }
        }
        _ => String::new(),
    }
}

/// The body from `source`, its tail kept within `limit`, read in chunks so that memory
/// stays bounded by the limit.
fn read_body(source: &Source, limit: usize) -> Result<body::Parts> {
    let mut ring = Ring::new(limit);
    match source {
        Source::Empty => return Ok(body::Parts::default()),
        Source::Message(text) => ring.write(text.as_bytes()),
        Source::File(path) => {
            let file = File::open(path)
                .with_context(|| format!("--body-file: cannot read {}", path.display()))?;
            // A device such as /dev/zero never ends: only files and pipes are read.
            let kind = file.metadata().map(|m| m.file_type());
            if kind.is_ok_and(|t| t.is_char_device() || t.is_block_device()) {
                bail!(
                    "--body-file: {} is a device, not a file or a pipe",
                    path.display()
                );
            }
            copy_into(file, &mut ring)
                .with_context(|| format!("--body-file: cannot read {}", path.display()))?;
        }
        Source::Stdin => {
            copy_into(io::stdin().lock(), &mut ring).context("--body-file: cannot read stdin")?;
        }
    }
    let total = ring.total();
    Ok(body::Parts {
        output: Some((ring.make_contiguous().to_vec(), total)),
        notes: Vec::new(),
    })
}

fn copy_into(mut from: impl Read, ring: &mut Ring) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => ring.write(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
