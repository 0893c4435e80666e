//! `hcwrap doctor`: what can silently defeat monitoring, one line per finding.
//!
//! It checks the way to the server (the proxy in use, name resolution, the connection,
//! TLS, each with its time), and with an API key (a read-only one is enough) the check
//! itself: that it exists, that its schedule, time zone and grace are what the command
//! line says, and the settings under which pings are answered but not counted (keyword
//! filtering, a pause with manual resume). It sends nothing that changes the check: the
//! way to the server is tried with a GET of the ping API's root, which is not a ping;
//! only `--send-log` sends one, a `/log` entry, which changes no state.
//!
//! Each line starts with `ok`, `warning` or `problem` and says what to do; the exit status
//! is 1 when there is a problem.

use std::io::Write as _;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Result;
use serde_json::Value;

use crate::api::Api;
use crate::check::{Check, CheckId, Endpoint};
use crate::check_settings::Settings;
use crate::cli::DoctorCli;
use crate::http::{self, Url};
use crate::limit_cache::LimitCache;
use crate::msg::printable;
use crate::outbox::Outbox;
use crate::ping::{Delivery, HttpOptions, Pinger};
use crate::stop::Stop;

/// A validated `hcwrap doctor`.
#[derive(Debug)]
pub struct DoctorConfig {
    check: Check,
    http: HttpOptions,
    api: Option<Api>,
    settings: Option<Settings>,
    send_log: bool,
    limit_cache: Option<LimitCache>,
    /// The reports a run of the check could not deliver and kept.
    outbox: Option<Outbox>,
}

impl DoctorConfig {
    /// Validates `cli`, reading the environment through `env`.
    pub fn from_cli(cli: &DoctorCli, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let api_key = cli.setup.api.api_key.is_some() || env("HC_API_KEY").is_some();
        // Nothing that doctor sends creates a check: no `create=1`.
        let mut check_args = cli.check.clone();
        check_args.create = false;
        let check = crate::check_config::check(&check_args, api_key, false, &env)?;
        // Kept under the check as the runs name it (with --create's query, if given).
        let outbox = crate::check_config::check(&cli.check, api_key, false, &env)
            .ok()
            .zip(crate::check_config::state_dir(&env))
            .map(|(run_check, dir)| Outbox::new(dir, &run_check.plain_url()));
        let http = crate::check_config::http(&cli.http, &check, false, &env)?;
        let settings = Settings::from_cli(&cli.setup, &env)?;
        let api = crate::check_config::api(&cli.setup.api, &check, false, &http, &env)?;
        let limit_cache = LimitCache::for_server(&env, &check.plain_url());
        Ok(DoctorConfig {
            check,
            http,
            api,
            settings,
            send_log: cli.send_log,
            limit_cache,
            outbox,
        })
    }
}

/// The findings, printed as they are made (a stdout that is closed loses them, and never
/// panics).
struct Findings {
    out: std::io::Stdout,
    problems: usize,
}

impl Default for Findings {
    fn default() -> Self {
        Findings {
            out: std::io::stdout(),
            problems: 0,
        }
    }
}

impl Findings {
    fn say(&mut self, level: &str, text: &str) {
        let _ = writeln!(self.out, "{level:<8} {text}");
    }

    fn ok(&mut self, text: &str) {
        self.say("ok", text);
    }

    fn warning(&mut self, text: &str) {
        self.say("warning", text);
    }

    fn problem(&mut self, text: &str) {
        self.problems += 1;
        self.say("problem", text);
    }
}

/// Runs the checks; returns 1 if one found a problem, else 0.
#[allow(clippy::needless_pass_by_value, clippy::unnecessary_wraps)] // For `.and_then(doctor::run)`.
pub fn run(config: DoctorConfig) -> Result<i32> {
    let mut findings = Findings::default();
    let shown = config
        .check
        .redact(&config.check.url(Endpoint::Success, None));
    findings.ok(&format!("check: {shown}"));
    way_to_the_server(&config, &mut findings);
    let uuid = if let Some(api) = &config.api {
        on_the_server(&config, api, &mut findings)
    } else {
        findings.warning(
            "the check's settings were not checked (its schedule, grace, pause, keyword \
             filtering): give --api-key or set HC_API_KEY (a read-only key is enough)",
        );
        None
    };
    let check = match (config.check.is_awaiting_uuid(), uuid) {
        (false, _) => Some(config.check.clone()),
        (true, Some(uuid)) => config.check.with_uuid(&uuid).ok(),
        (true, None) => None,
    };
    if config.send_log {
        match check {
            Some(check) => send_log(&config, check, &mut findings),
            None => findings.problem("log ping: not sent, the check's ping URL is not known"),
        }
    } else {
        let limit = config.limit_cache.as_ref().and_then(LimitCache::read);
        match limit {
            Some(limit) => findings.ok(&format!(
                "body limit: the server keeps the first {limit} bytes of a ping's body (as it \
                 said last time); hcwrap sends the tail within it"
            )),
            None => findings.ok(
                "body limit: not known yet (the server says it in answer to a ping: try \
                 --send-log); hcwrap assumes 100000 bytes until then",
            ),
        }
    }
    kept_reports(&config, &mut findings);
    Ok(i32::from(findings.problems > 0))
}

/// Reports of the check that runs could not deliver: a warning, since the server has not
/// heard of those runs.
fn kept_reports(config: &DoctorConfig, findings: &mut Findings) {
    let waiting = config
        .outbox
        .as_ref()
        .map(Outbox::waiting)
        .unwrap_or_default();
    if let Some(oldest) = waiting.first() {
        findings.warning(&format!(
            "kept reports: {} final ping{} of this check could not be delivered and wait, \
             the oldest from the run that ended at {}: the check's next run delivers them, or \
             hcwrap flush now",
            waiting.len(),
            if waiting.len() == 1 { "" } else { "s" },
            crate::outbox::rfc3339(oldest.ended)
        ));
    }
}

/// The proxy, name resolution, the connection and the server's answer.
fn way_to_the_server(config: &DoctorConfig, findings: &mut Findings) {
    // The ping API's root; for a URL of another shape, its server's root.
    let root = match config.check.id() {
        Some((api, _)) => format!("{api}/"),
        None => match Url::parse(&config.check.plain_url()) {
            Ok(url) => format!("{}/", url.shown_origin()),
            Err(_) => return,
        },
    };
    let Ok(url) = Url::parse(&root) else {
        return;
    };
    let timeout = config.http.timeout;
    if let Some(proxy) = &config.http.proxy {
        findings.ok(&format!(
            "proxy: the pings go through {}:{}, which resolves the server's name and \
             connects to it (the next line says whether that works)",
            proxy.host(),
            proxy.port()
        ));
    } else {
        let host = url.host().trim_start_matches('[').trim_end_matches(']');
        let started = Instant::now();
        let addresses: Vec<_> = match (host, url.port()).to_socket_addrs() {
            Ok(addresses) => addresses.collect(),
            Err(e) => {
                findings.problem(&format!(
                    "name resolution: {} was not found ({}): check the URL, and this \
                     machine's DNS",
                    printable(host),
                    printable(&e.to_string())
                ));
                return;
            }
        };
        let Some(first) = addresses.first() else {
            findings.problem(&format!(
                "name resolution: {} has no address",
                printable(host)
            ));
            return;
        };
        if host.parse::<std::net::IpAddr>().is_err() {
            findings.ok(&format!(
                "name resolution: {} is {} ({})",
                printable(host),
                first.ip(),
                ms(started.elapsed())
            ));
        }
        let started = Instant::now();
        match TcpStream::connect_timeout(first, timeout) {
            Ok(_) => findings.ok(&format!("connection: {first} ({})", ms(started.elapsed()))),
            Err(e) => {
                findings.problem(&format!(
                    "connection: {first} failed ({}): is the server up, and does a firewall \
                     let this machine through?",
                    printable(&e.to_string())
                ));
                return;
            }
        }
    }
    let agent = config.http.agent(url.is_https(), timeout);
    let started = Instant::now();
    let mut request = agent.get(url.to_string());
    for (name, value) in &config.http.headers {
        request = request.header(name, value);
    }
    let what = if url.is_https() {
        "TLS and HTTP"
    } else {
        "HTTP"
    };
    match request.call() {
        Ok(answer) => findings.ok(&format!(
            "{what}: the server answers ({} for {}, {})",
            answer.status().as_u16(),
            url.path(),
            ms(started.elapsed())
        )),
        Err(e) => findings.problem(&format!(
            "{what}: {}",
            config
                .check
                .redact(&http::describe(&e, timeout, &|t| config.check.redact(t)))
        )),
    }
}

/// The check as the management API shows it; returns its UUID if it has one.
fn on_the_server(config: &DoctorConfig, api: &Api, findings: &mut Findings) -> Option<String> {
    let (_, id) = config.check.id()?;
    let path = match id {
        CheckId::Uuid(uuid) => format!("checks/{uuid}"),
        CheckId::Slug(slug) => format!("checks/?slug={slug}"),
    };
    let started = Instant::now();
    let answer = match api.call("GET", &path, None, None) {
        Ok(answer) => answer,
        Err(why) => {
            findings.problem(&format!("management API at {}: {why}", api.site()));
            return None;
        }
    };
    let check = match (answer.status, id) {
        (200, CheckId::Slug(slug)) => {
            let found = crate::api::checks_with_slug(&answer.json, slug);
            if found.len() > 1 {
                findings.problem(&format!(
                    "{} checks have the slug '{slug}': its pings are refused as ambiguous \
                     (409); give one of them another slug, or use --uuid",
                    found.len()
                ));
                return None;
            }
            found.first().map(|c| (*c).clone())
        }
        (200, CheckId::Uuid(_)) => Some(answer.json.clone()),
        (401, _) => {
            findings.problem(&format!(
                "management API at {}: the API key was refused (401): check it in the \
                 project's settings",
                api.site()
            ));
            return None;
        }
        (404, _) => None,
        (status, _) => {
            findings.problem(&format!(
                "management API at {}: it answered {status} {}",
                api.site(),
                api.error_text(&answer)
            ));
            return None;
        }
    };
    let Some(check) = check else {
        findings.problem(
            "the check does not exist in the API key's project: hcwrap creates it with \
             --create or a setting (such as --schedule), or create it in the web UI",
        );
        return None;
    };
    findings.ok(&format!(
        "management API at {}: the check exists ({})",
        api.site(),
        ms(started.elapsed())
    ));
    settings(config, &check, findings);
    state(&check, findings);
    check.get("uuid").and_then(Value::as_str).map(str::to_owned)
}

/// The check's schedule, time zone and grace against the command line's.
fn settings(config: &DoctorConfig, check: &Value, findings: &mut Findings) {
    let shown = |v: Option<&Value>| match v {
        Some(Value::String(s)) => format!("'{}'", printable(s)),
        Some(Value::Number(n)) => format!("{n} s"),
        Some(other) => printable(&other.to_string()),
        None => "not set".to_owned(),
    };
    let Some(settings) = &config.settings else {
        let what = if check.get("schedule").is_some() {
            format!(
                "schedule {} in {}",
                shown(check.get("schedule")),
                shown(check.get("tz"))
            )
        } else {
            format!("period {}", shown(check.get("timeout")))
        };
        findings.ok(&format!(
            "settings: {what}, grace {} (give --schedule or --period, and --grace, to \
             check them against the job's)",
            shown(check.get("grace"))
        ));
        return;
    };
    let mut drift = Vec::new();
    for (key, wanted) in settings.fields() {
        if key == "channels" {
            continue; // The server shows channels by UUID, not as given.
        }
        let on_server = check.get(key);
        if on_server != Some(wanted) {
            drift.push(format!(
                "{key} is {} on the server, {} here",
                shown(on_server),
                shown(Some(wanted))
            ));
        }
    }
    if drift.is_empty() {
        findings.ok("settings: the check's schedule, time zone and grace are the command line's");
    } else {
        findings.warning(&format!(
            "settings drift: {}; the next run with an API key and these options sets them",
            drift.join("; ")
        ));
    }
}

/// What makes pings count for nothing, and when the check last heard from the job.
fn state(check: &Value, findings: &mut Findings) {
    let flag = |key: &str| check.get(key).and_then(Value::as_bool).unwrap_or(false);
    if flag("filter_http_body") {
        findings.problem(
            "keyword filtering is on: the server classifies each ping by keywords in its \
             body and ignores its exit status (`echo done; exit 3` counts as a success): \
             turn it off in the check's Filtering Rules",
        );
    }
    let status = check.get("status").and_then(Value::as_str).unwrap_or("");
    match status {
        "paused" if flag("manual_resume") => findings.problem(
            "the check is paused with manual resume: every ping is answered 200 but \
             ignored; resume it in the web UI",
        ),
        "paused" => findings.warning("the check is paused: its next ping resumes it"),
        "down" => findings.problem(
            "the check is down: the server has not heard from the job in time (its \
             integrations have been told)",
        ),
        _ => {}
    }
    let last = check.get("last_ping").and_then(Value::as_str);
    match last.and_then(ago) {
        Some(ago) => findings.ok(&format!(
            "last ping: {} ago (status {})",
            humantime::format_duration(ago),
            printable(status)
        )),
        None if last.is_none() => {
            findings.warning("last ping: the check has never heard from the job");
        }
        None => {}
    }
}

/// How long ago an ISO 8601 time the server gave was, to the second.
fn ago(time: &str) -> Option<Duration> {
    let time = time.replace("+00:00", "Z");
    let then = humantime::parse_rfc3339_weak(&time).ok()?;
    let ago = SystemTime::now().duration_since(then).ok()?;
    Some(Duration::from_secs(ago.as_secs()))
}

/// An end-to-end test: a `/log` ping, which changes nothing of the check's state.
fn send_log(config: &DoctorConfig, check: Check, findings: &mut Findings) {
    let pinger = Pinger::new(check, config.http.clone());
    let started = Instant::now();
    let body = "hcwrap doctor: an end-to-end test (a log entry; it changes nothing)";
    match pinger.send(Endpoint::Log, None, body, &Stop::default()) {
        Delivery::Delivered { body_limit } => {
            let limit = body_limit.map_or_else(
                || "announces no body limit".to_owned(),
                |l| format!("keeps the first {l} bytes of a ping's body"),
            );
            if let (Some(cache), Some(l)) = (&config.limit_cache, body_limit) {
                cache.remember(l, None);
            }
            findings.ok(&format!(
                "log ping: recorded ({}); the server {limit}",
                ms(started.elapsed())
            ));
        }
        Delivery::NotDelivered(failure) => findings.problem(&format!("log ping: {}", failure.why)),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_from_the_server_are_read() {
        assert!(super::ago("2020-01-01T00:00:00+00:00").is_some());
        assert!(super::ago("not a time").is_none());
    }
}
