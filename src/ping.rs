//! The HTTP side: one ureq agent per run, the ping requests, retries, `Ping-Body-Limit`.
//!
//! Every ping is a POST with a `Content-Length` (the server records chunked bodies as
//! empty) and a UTF-8 body. Network errors, 408, 429 and 5xx are retried with exponential
//! backoff and jitter; errors that a retry cannot mend, and other answers, are final and
//! explained once. Redirects are followed as `http` says (same origin only), here rather
//! than by ureq, so that the body is sent again whole. Each attempt has one deadline,
//! `--ping-timeout`, for all of its hops.

use std::time::{Duration, Instant};

use ureq::http::{HeaderName, HeaderValue};
use ureq::tls::Certificate;
use ureq::{Agent, Proxy};

use crate::check::{Check, Endpoint};
use crate::http::settings::SystemRoots;
use crate::http::{self, AgentSpec, Hop, MAX_REDIRECTS, Url, describe};
use crate::msg::{printable, say};
use crate::stop::Stop;

/// The server's body limit when it does not announce one: the hosted service's.
pub const DEFAULT_BODY_LIMIT: usize = 100_000;
/// The most hcwrap ever sends: the server refuses requests over 2.5 MiB unrecorded.
pub const MAX_BODY_LIMIT: usize = 2_000_000;
/// The longest wait a `Retry-After` answer can impose on one retry.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Backoff before the first retry; it doubles each time, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// How pings are sent, as validated by `config.rs`.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Time limit for each attempt, redirects included.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub retries: u32,
    /// A bound on the whole ping, retries included (`hcwrap ping --max-time`).
    pub max_time: Option<Duration>,
    /// When the `max_time` clock started, if before the ping (a hook's setup came first).
    pub max_time_start: Option<Instant>,
    /// The proxy to use, if any.
    pub proxy: Option<Proxy>,
    /// Extra trusted CA certificates (`--cacert`).
    pub cacert: Vec<Certificate<'static>>,
    /// Where the system's trusted certificates are read from.
    pub system_roots: SystemRoots,
    /// Extra headers for every ping (`--header`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Print pings instead of sending them.
    pub dry_run: bool,
}

impl HttpOptions {
    /// An agent for requests to a server that speaks TLS if `https`, within `timeout`. The
    /// trust store is read (a few milliseconds) only when TLS will be spoken: to that
    /// server, or to an https proxy.
    pub fn agent(&self, https: bool, timeout: Duration) -> Agent {
        let https_proxy = self
            .proxy
            .as_ref()
            .is_some_and(|p| p.uri().scheme_str() == Some("https"));
        let tls = https || (https_proxy && !self.dry_run);
        http::agent(AgentSpec {
            timeout: Some(timeout),
            proxy: self.proxy.clone(),
            tls: tls.then_some(self.cacert.as_slice()),
            system_roots: self.system_roots.clone(),
        })
    }
}

/// What became of a ping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The server recorded it; `body_limit` is its `Ping-Body-Limit`, if it sent one.
    Delivered {
        /// The server's announced body limit.
        body_limit: Option<usize>,
    },
    /// It was not recorded, for the reason given; nothing has been printed yet.
    NotDelivered(Failure),
}

/// The start of why a ping was not recorded when the server does not know the check.
const UNKNOWN_CHECK: &str = "the server does not know this check";

impl Failure {
    /// Whether the server said it does not know the check (404, or the hosted service's
    /// `OK (not found)`): deleted, or never there.
    pub fn check_unknown(&self) -> bool {
        self.why.starts_with("404") || self.why.starts_with(UNKNOWN_CHECK)
    }
}

/// Why a ping was not recorded, for the one line that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The line for this ping alone.
    pub line: String,
    /// How it ended, in a few words: "refused", "1 attempt", "given up after 2 attempts".
    pub how: String,
    /// Why: the refusal, or the last attempt's error.
    pub why: String,
    /// Which ping: "start ping", "final ping for exit status 4".
    pub endpoint_name: String,
}

/// Sends the pings of one check, reusing one connection where the server allows.
#[derive(Debug, Clone)]
pub struct Pinger {
    agent: Agent,
    /// Basic authorization from the check URL's credentials.
    authorization: Option<String>,
    check: Check,
    options: HttpOptions,
}

/// What an answer said besides its status.
struct Answer {
    body_limit: Option<usize>,
    retry_after: Option<Duration>,
    location: Option<String>,
    /// Its text, redacted; `None` when it has none that could be read.
    text: Option<String>,
}

/// The outcome of one attempt.
enum Attempt {
    Delivered {
        body_limit: Option<usize>,
        /// The answer's text; `None` for one that has no length and would end only when
        /// the server closes the connection (the status said enough).
        answer: Option<String>,
    },
    Retry {
        why: String,
        after: Option<Duration>,
    },
    Refused(String),
}

impl Pinger {
    /// Builds the agent. Reads the system's trust store (a few milliseconds) only when a
    /// ping will really go over TLS: not for http, not in a dry run.
    pub fn new(check: Check, options: HttpOptions) -> Self {
        let agent = options.agent(!options.dry_run && check.is_https(), options.timeout);
        // A server may quote a header's value back in its answer.
        let check = check.hiding(options.headers.iter().filter_map(|(_, v)| v.to_str().ok()));
        let own = options
            .headers
            .iter()
            .any(|(name, _)| name == ureq::http::header::AUTHORIZATION);
        Pinger {
            agent,
            authorization: check.authorization().filter(|_| !own),
            check,
            options,
        }
    }

    /// Sends one ping, retrying as the module documentation says, until it is delivered,
    /// refused, out of retries, or `stop` is raised during a backoff.
    pub fn send(
        &self,
        endpoint: Endpoint,
        run_id: Option<&str>,
        body: &str,
        stop: &Stop,
    ) -> Delivery {
        self.send_counted(endpoint, run_id, body, stop).0
    }

    /// [`send`](Self::send), saying also how many attempts were made.
    pub fn send_counted(
        &self,
        endpoint: Endpoint,
        run_id: Option<&str>,
        body: &str,
        stop: &Stop,
    ) -> (Delivery, u32) {
        let url = self.check.url(endpoint, run_id);
        // Redacted only for a message: a ping that goes through needs none.
        let shown = || self.check.redact(&url);
        if self.options.dry_run {
            print_dry_run(&shown(), body.len(), &self.check.redact(body));
            return (Delivery::Delivered { body_limit: None }, 0);
        }
        let start = self.options.max_time_start.unwrap_or_else(Instant::now);
        let give_up_at = self.options.max_time.map(|d| start + d);
        let attempts = self.options.retries.saturating_add(1);
        let mut last_error = String::new();
        for attempt in 1..=attempts {
            match self.attempt(&url, body, give_up_at) {
                Attempt::Delivered { body_limit, answer } => {
                    let delivery =
                        Self::delivered(endpoint, answer.as_deref(), body_limit, &shown());
                    return (delivery, attempt);
                }
                Attempt::Refused(why) => {
                    let failure = Failure {
                        line: format!("the {} to {} was refused: {why}", endpoint.name(), shown()),
                        how: "refused".to_owned(),
                        why,
                        endpoint_name: endpoint.name(),
                    };
                    return (Delivery::NotDelivered(failure), attempt);
                }
                Attempt::Retry { why, after } => {
                    last_error = why;
                    if attempt == attempts {
                        break;
                    }
                    // A Retry-After is honoured when it asks for longer than the backoff,
                    // never for less (`Retry-After: 0` on a 429 must not bring a flood).
                    let delay = after.map_or_else(
                        || backoff(attempt),
                        |d| d.max(backoff(attempt)).min(MAX_RETRY_AFTER),
                    );
                    // No time left for another attempt.
                    if let (Some(at), Some(max_time)) = (give_up_at, self.options.max_time)
                        && Instant::now() + delay >= at
                    {
                        let how = format!(
                            "{attempt} attempt{} within --max-time {}",
                            plural(attempt),
                            humantime::format_duration(max_time),
                        );
                        // Say when the server's own Retry-After is what ran past it.
                        let last_error = with_retry_after(last_error, after, at);
                        let failure = Failure {
                            line: format!(
                                "could not deliver the {} to {} within --max-time {} ({attempt} \
                                 attempt{}): {last_error}",
                                endpoint.name(),
                                shown(),
                                humantime::format_duration(max_time),
                                plural(attempt)
                            ),
                            how,
                            why: last_error,
                            endpoint_name: endpoint.name(),
                        };
                        return (Delivery::NotDelivered(failure), attempt);
                    }
                    if stop.sleep(delay) {
                        let failure = Failure {
                            line: format!(
                                "gave up on the {} to {} after {attempt} attempt{}: {last_error}",
                                endpoint.name(),
                                shown(),
                                plural(attempt)
                            ),
                            how: format!("given up after {attempt} attempt{}", plural(attempt)),
                            why: last_error,
                            endpoint_name: endpoint.name(),
                        };
                        return (Delivery::NotDelivered(failure), attempt);
                    }
                }
            }
        }
        let failure = Failure {
            line: format!(
                "could not deliver the {} to {} after {attempts} attempt{}: {last_error}",
                endpoint.name(),
                shown(),
                plural(attempts)
            ),
            how: format!("{attempts} attempt{}", plural(attempts)),
            why: last_error,
            endpoint_name: endpoint.name(),
        };
        (Delivery::NotDelivered(failure), attempts)
    }

    /// What a delivered answer means: the hosted service's `OK (not found)` is a ping not
    /// recorded; any other text but `OK` is said.
    fn delivered(
        endpoint: Endpoint,
        answer: Option<&str>,
        body_limit: Option<usize>,
        shown: &str,
    ) -> Delivery {
        if answer.is_some_and(|a| a.trim() == "OK (not found)") {
            let why = format!("{UNKNOWN_CHECK} (it answered \"OK (not found)\")");
            return Delivery::NotDelivered(Failure {
                line: format!("the {} to {shown} was not recorded: {why}", endpoint.name()),
                how: "refused".to_owned(),
                why,
                endpoint_name: endpoint.name(),
            });
        }
        if let Some(answer) = answer
            && !matches!(answer.trim(), "OK" | "Created")
        {
            say(&format!(
                "the server answered the {} with \"{}\": the check may be unknown or rate \
                 limited (more than about 5 pings a minute)",
                endpoint.name(),
                short(answer)
            ));
        }
        Delivery::Delivered { body_limit }
    }

    /// One attempt: the request and the redirects it is given, within one deadline. What
    /// it returns to be shown has been through the check's redaction (a server may quote
    /// the URL back) and has no control characters.
    fn attempt(&self, url: &str, body: &str, give_up_at: Option<Instant>) -> Attempt {
        let now = Instant::now();
        // The attempt's own limit, or what is left of --max-time if that is less.
        // Rounded to the millisecond, as the messages show it.
        let limit = give_up_at.map_or(self.options.timeout, |at| {
            let left = at.saturating_duration_since(now).as_micros() + 500;
            self.options.timeout.min(Duration::from_millis(
                u64::try_from(left / 1000).unwrap_or(u64::MAX),
            ))
        });
        let deadline = now + limit;
        let mut url = match Url::parse(url) {
            Ok(url) => url,
            Err(e) => return Attempt::Refused(format!("the URL {e}")),
        };
        for _ in 0..=MAX_REDIRECTS {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Attempt::Retry {
                    why: describe(&ureq::Error::Timeout(ureq::Timeout::Global), limit, &|t| {
                        self.check.redact(t)
                    }),
                    after: None,
                };
            }
            let mut request = self
                .agent
                .post(url.to_string())
                .config()
                .timeout_global(Some(left))
                .build()
                .header("Content-Type", "text/plain; charset=utf-8");
            // The URL's credentials, decoded as curl does, unless a --header gives its own.
            if let Some(authorization) = &self.authorization {
                request = request.header("Authorization", authorization);
            }
            for (name, value) in &self.options.headers {
                request = request.header(name, value);
            }
            let mut response = match request.send(body.as_bytes()) {
                Ok(response) => response,
                Err(e) => return self.failed(&e, limit),
            };
            let status = response.status().as_u16();
            let Answer {
                body_limit,
                retry_after,
                location,
                text: answer,
            } = self.read(&mut response);
            let answer_text = answer.as_deref().unwrap_or_default();
            match status {
                200 | 201 => return Attempt::Delivered { body_limit, answer },
                301 | 302 | 303 | 307 | 308 => match http::redirect(&url, location.as_deref()) {
                    Hop::Follow(next) => url = next,
                    Hop::Refuse(why) => {
                        return Attempt::Refused(self.check.redact(&format!("{status}: {why}")));
                    }
                },
                408 | 429 | 500..=599 => {
                    let why = format!("the server answered {status} {}", short(answer_text));
                    return Attempt::Retry {
                        why: why.trim_end().to_owned(),
                        after: retry_after,
                    };
                }
                status => return Attempt::Refused(explain(status, answer_text)),
            }
        }
        Attempt::Refused(format!("more than {MAX_REDIRECTS} redirects"))
    }

    /// An attempt that got no answer: retried or not as `http::is_transient` says.
    fn failed(&self, e: &ureq::Error, limit: Duration) -> Attempt {
        let hide = |text: &str| self.check.redact(text);
        let mut why = self.check.redact(&describe(e, limit, &hide));
        // Say so when the failure may be the proxy's rather than the server's.
        if let Some(proxy) = &self.options.proxy
            && !matches!(e, ureq::Error::ConnectProxyFailed(_))
        {
            why = format!(
                "{why} (through the proxy {}:{})",
                proxy.host(),
                proxy.port()
            );
        }
        if http::is_transient(e) {
            Attempt::Retry { why, after: None }
        } else {
            Attempt::Refused(why)
        }
    }

    /// What an answer says besides its status.
    fn read(&self, response: &mut ureq::http::Response<ureq::Body>) -> Answer {
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .map(str::to_owned)
        };
        let body_limit = header("Ping-Body-Limit").and_then(|v| v.parse().ok());
        // Seconds; a number too large for the clock is the longest wait there is (and is
        // then capped like any other).
        let retry_after = header("Retry-After")
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .map(|v| Duration::from_secs(v.parse().unwrap_or(u64::MAX)));
        // A Location that is not ASCII is still one (and is then refused as a URL).
        let location = response
            .headers()
            .get("Location")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned());
        let delimited = header("Content-Length").is_some() || header("Transfer-Encoding").is_some();
        // Read the answer to its end so the connection can carry the next ping; one with no
        // length ends only when the server closes, so it is not waited for. An answer that
        // could not be read whole (cut short, over 64 KiB, badly chunked) says nothing:
        // only its status counts.
        let text = delimited
            .then(|| {
                response
                    .body_mut()
                    .with_config()
                    .limit(64 * 1024)
                    .read_to_vec()
                    .ok()
            })
            .flatten()
            .map(|bytes| self.check.redact(&String::from_utf8_lossy(&bytes)));
        Answer {
            body_limit,
            retry_after,
            location,
            text,
        }
    }
}

/// `why` an attempt failed, saying also when the server's `Retry-After` (`after`) is what
/// would have run past `deadline`.
fn with_retry_after(why: String, after: Option<Duration>, deadline: Instant) -> String {
    match after.filter(|&a| Instant::now() + a >= deadline) {
        Some(after) if after > MAX_RETRY_AFTER => format!(
            "{why}, and asked to retry after more than {}",
            humantime::format_duration(MAX_RETRY_AFTER)
        ),
        Some(after) => format!(
            "{why}, and asked to retry after {}",
            humantime::format_duration(after)
        ),
        None => why,
    }
}

/// The backoff before retry number `attempt` (1-based): 0.5 s doubling up to 10 s, with
/// "equal jitter" (half fixed, half random) so a fleet of hosts does not retry in step.
fn backoff(attempt: u32) -> Duration {
    let base = FIRST_BACKOFF
        .saturating_mul(1 << (attempt - 1).min(16))
        .min(MAX_BACKOFF);
    let fraction = crate::random::fraction();
    base.mul_f64(0.5 + fraction / 2.0)
}

/// What a final (not retried) answer most likely means.
fn explain(status: u16, answer: &str) -> String {
    let meaning = match status {
        404 => "the server does not know this check: check the UUID, or the slug and ping key",
        409 => "more than one check has this slug: use the check's UUID instead",
        400 => "the server rejected the URL: check the slug, and that the URL is a ping URL",
        401 | 403 => "the server or a proxy in front of it wants credentials (see --header)",
        _ => "the server refused the ping",
    };
    match short(answer) {
        text if text.is_empty() => format!("{status}: {meaning}"),
        text => format!("{status} {text}: {meaning}"),
    }
}

/// A server answer (already redacted) shortened to its first line, at most 100
/// characters, control characters escaped, for a message.
fn short(answer: &str) -> String {
    let line = answer.trim().lines().next().unwrap_or_default();
    printable(&line.chars().take(100).collect::<String>())
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// What a dry run would send; the body as the check's redaction shows it (the command's
/// path in a note may hold the check's secret), control characters escaped.
fn print_dry_run(shown: &str, bytes: usize, body: &str) {
    say(&format!("dry run: POST {shown} ({bytes} bytes)"));
    for line in body.lines() {
        say(&format!("| {}", printable(line)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        for attempt in 1..=8 {
            let base = FIRST_BACKOFF
                .saturating_mul(1 << (attempt - 1))
                .min(MAX_BACKOFF);
            let d = backoff(attempt);
            assert!(d >= base / 2 && d <= base, "attempt {attempt}: {d:?}");
        }
    }

    #[test]
    fn final_answers_are_explained() {
        assert!(
            explain(404, "not found")
                .starts_with("404 not found: the server does not know this check")
        );
        assert!(explain(409, "ambiguous slug").contains("use the check's UUID"));
    }
}
