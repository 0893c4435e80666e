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
use crate::hidden::{Hidden, basic_authorization};
use crate::http::settings::{parse_header, read_cacert, system_roots};
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
    hidden: Hidden,
}

impl ProbeConfig {
    /// Validates `cli`.
    pub fn from_cli(cli: ProbeCli, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let uri = parse_http_url("probe", &cli.url)?;
        let mut headers: Vec<_> = cli
            .headers
            .iter()
            .map(|h| parse_header(h))
            .collect::<Result<_>>()?;
        // What the verdict may quote of the service (its answer, a redirect's target)
        // must not show a header's value or the URL's credentials.
        let mut hidden = Hidden::default();
        hidden.add_values(headers.iter().filter_map(|(_, v)| v.to_str().ok()));
        // The URL's credentials go as a header, decoded as curl does, unless -H gives one.
        let own = headers
            .iter()
            .any(|(name, _)| name == ureq::http::header::AUTHORIZATION);
        if let Some(userinfo) = uri.userinfo() {
            hidden.add_credentials(userinfo);
            if !own {
                let value = HeaderValue::from_str(&basic_authorization(userinfo))?;
                headers.push((ureq::http::header::AUTHORIZATION, value));
            }
        }
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
            system_roots: system_roots(env, uri.is_https()),
        });
        Ok(ProbeConfig {
            url: uri.without_userinfo().to_string(),
            hidden,
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
        if Instant::now() >= deadline {
            // No time for another attempt: the last one's verdict stands.
            break;
        }
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
        let _ = writeln!(std::io::stdout(), "{}", config.hidden.apply(&line));
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
    let hide = |text: &str| config.hidden.apply(text);
    let mut response = request
        .call()
        .map_err(|e| describe(&e, config.timeout, &hide))?;
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("Location")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
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
            // Hidden before it is cut, so that no piece of a secret is left at the cut.
            let location = config.hidden.apply(&location);
            let location = printable(&location.chars().take(200).collect::<String>());
            why = format!("{why} (a redirect to {location}, not followed)");
        }
        // More than is shown: secrets are hidden before the cut, so the cut must not fall
        // inside one.
        return Err(with_start_of(why, &first(4096).0, &config.hidden));
    }
    if let Some(text) = &config.expect_body {
        // The first MiB is where the text is looked for, as it arrives: found, the probe
        // is healthy at once, without waiting for the rest of the body.
        let (body, read) = until_found(response.body_mut().as_reader(), text.as_bytes());
        if let Some(found) = read {
            return found
                .map(|()| status)
                .map_err(|e| format!("status {status}, but the body could not be read: {e}"));
        }
        let why = format!(
            "status {status}, but the body{} does not contain '{}'",
            if body.len() as u64 >= MAX_BODY {
                "'s first MiB"
            } else {
                ""
            },
            printable(text)
        );
        return Err(with_start_of(why, &body, &config.hidden));
    }
    Ok(status)
}

/// Reads `reader` until `text` is in what was read (`Some(Ok)`), it fails (`Some(Err)`)
/// or ends or [`MAX_BODY`] was read (`None`); returns what was read.
fn until_found(mut reader: impl Read, text: &[u8]) -> (Vec<u8>, Option<std::io::Result<()>>) {
    let mut body = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let room = usize::try_from(MAX_BODY).unwrap_or(usize::MAX) - body.len();
        if room == 0 {
            return (body, None);
        }
        let want = room.min(chunk.len());
        let n = match reader.read(&mut chunk[..want]) {
            Ok(0) => return (body, None),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return (body, Some(Err(e))),
        };
        // Only where the text could newly be: the new bytes and the text's length before.
        let from = body.len().saturating_sub(text.len());
        body.extend_from_slice(&chunk[..n]);
        if text.is_empty() || body[from..].windows(text.len()).any(|w| w == text) {
            return (body, Some(Ok(())));
        }
    }
}

/// How much of the body an unhealthy verdict quotes.
const SHOWN: usize = 100;

/// `why`, followed by the first bytes of the body (control characters escaped), if any.
/// What is hidden is hidden before the cut, so that no piece of a secret is left at it.
fn with_start_of(why: String, body: &[u8], hidden: &Hidden) -> String {
    if body.is_empty() {
        return why;
    }
    let text = hidden.apply(&String::from_utf8_lossy(body));
    let start: String = text.chars().take(SHOWN).collect();
    let more = if text.chars().count() > SHOWN {
        "…"
    } else {
        ""
    };
    format!("{why}; the body starts: \"{}{more}\"", printable(&start))
}
