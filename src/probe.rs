//! `hcwrap probe URL`: a small, dependable HTTP(S) health probe for images that have no
//! curl (scratch, distroless), meant for a container's HEALTHCHECK.
//!
//! One GET (more with `--retries`), all within `--timeout`. Healthy is a 2xx answer (or
//! exactly `--expect-status`) whose body contains `--expect-body`, if given. Redirects are
//! not followed and proxies are not used: a health probe talks to the service itself.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use anyhow::Result;
use ureq::Agent;
use ureq::http::{HeaderName, HeaderValue};

use crate::check::parse_http_url;
use crate::check_config::positive;
use crate::cli::ProbeCli;
use crate::exit_codes;
use crate::http::settings::{parse_header, read_cacert};
use crate::http::{self, AgentSpec, describe};
use crate::msg::printable;

/// How much of an answer's body `--expect-body` looks at (and is read at all).
const MAX_BODY: u64 = 1024 * 1024;
/// The pause between attempts (never past the deadline).
const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// A validated probe.
#[derive(Debug)]
pub struct ProbeConfig {
    url: String,
    expect_status: Option<u16>,
    expect_body: Option<String>,
    headers: Vec<(HeaderName, HeaderValue)>,
    timeout: Duration,
    retries: u32,
    quiet: bool,
    agent: Agent,
}

impl ProbeConfig {
    /// Validates `cli`.
    pub fn from_cli(cli: ProbeCli) -> Result<Self> {
        let uri = parse_http_url("probe", &cli.url)?;
        let mut headers: Vec<_> = cli
            .headers
            .iter()
            .map(|h| parse_header(h))
            .collect::<Result<_>>()?;
        if let Some(host) = &cli.host {
            let value = HeaderValue::from_str(host)
                .map_err(|_| anyhow::anyhow!("--host: '{host}' is not a host name"))?;
            headers.push((ureq::http::header::HOST, value));
        }
        // Read even for an http URL: a mistake in it is one whatever the URL.
        let extra = match &cli.cacert {
            Some(path) => read_cacert(path)?,
            None => Vec::new(),
        };
        // No proxy: a health probe talks to the service itself.
        let agent = http::agent(AgentSpec {
            timeout: None,
            proxy: None,
            tls: uri.is_https().then_some(extra.as_slice()),
        });
        Ok(ProbeConfig {
            url: cli.url,
            expect_status: cli.expect_status,
            expect_body: cli.expect_body,
            headers,
            timeout: positive("--timeout", cli.timeout)?,
            retries: cli.retries,
            quiet: cli.quiet,
            agent,
        })
    }
}

/// Probes; prints one line (unless `--quiet`) and returns 0 if healthy, else 1.
#[allow(clippy::needless_pass_by_value, clippy::unnecessary_wraps)] // For `.and_then(probe::run)`.
pub fn run(config: ProbeConfig) -> Result<i32> {
    let started = Instant::now();
    let deadline = started + config.timeout;
    let mut verdict;
    let mut attempt = 0;
    loop {
        attempt += 1;
        verdict = attempt_once(&config, deadline);
        let left = deadline.saturating_duration_since(Instant::now());
        if verdict.is_ok() || attempt > config.retries || left.is_zero() {
            break;
        }
        std::thread::sleep(RETRY_PAUSE.min(left));
    }
    let took = started.elapsed().as_millis();
    let (line, status) = match verdict {
        Ok(status) => (format!("healthy: {status} in {took} ms"), 0),
        Err(why) => (
            format!("unhealthy: {why} ({took} ms)"),
            exit_codes::UNHEALTHY,
        ),
    };
    if !config.quiet {
        // Not println!, which panics when stdout is closed (`hcwrap probe ... | true`):
        // the verdict is the exit status either way.
        let _ = writeln!(std::io::stdout(), "{line}");
    }
    Ok(status)
}

/// One GET within what is left of the time limit: the status, or why it is not healthy.
fn attempt_once(config: &ProbeConfig, deadline: Instant) -> Result<u16, String> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err("no time left".to_owned());
    }
    let mut request = config
        .agent
        .get(&config.url)
        .config()
        .timeout_global(Some(left))
        .build();
    for (name, value) in &config.headers {
        request = request.header(name, value);
    }
    let mut response = request.call().map_err(|e| describe(&e, config.timeout))?;
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("Location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Up to `limit` bytes of the body; what could not be read is left out.
    let mut first = |limit: u64| {
        let mut body = Vec::new();
        let read = response
            .body_mut()
            .as_reader()
            .take(limit)
            .read_to_end(&mut body);
        (body, read)
    };
    let status_ok = match config.expect_status {
        Some(want) => status == want,
        None => (200..300).contains(&status),
    };
    if !status_ok {
        let mut why = match config.expect_status {
            Some(want) => format!("status {status}, expected {want}"),
            None => format!("status {status}"),
        };
        if let Some(location) = location.filter(|_| (300..400).contains(&status)) {
            let location = printable(&location.chars().take(200).collect::<String>());
            why = format!("{why} (a redirect to {location}, not followed)");
        }
        return Err(with_start_of(why, &first(SHOWN as u64).0));
    }
    if let Some(text) = &config.expect_body {
        // The first MiB: where the text is looked for.
        let (body, read) = first(MAX_BODY);
        if let Err(e) = read {
            return Err(format!(
                "status {status}, but the body could not be read: {e}"
            ));
        }
        if !String::from_utf8_lossy(&body).contains(text.as_str()) {
            let why = format!(
                "status {status}, but the body{} does not contain '{}'",
                if body.len() as u64 >= MAX_BODY {
                    "'s first MiB"
                } else {
                    ""
                },
                printable(text)
            );
            return Err(with_start_of(why, &body));
        }
    }
    Ok(status)
}

/// How much of the body an unhealthy verdict quotes.
const SHOWN: usize = 100;

/// `why`, followed by the first bytes of the body (control characters escaped), if any.
fn with_start_of(why: String, body: &[u8]) -> String {
    if body.is_empty() {
        return why;
    }
    let start = String::from_utf8_lossy(&body[..body.len().min(SHOWN)]);
    let more = if body.len() > SHOWN { "…" } else { "" };
    format!("{why}; the body starts: \"{}{more}\"", printable(&start))
}
