//! Turns the parsed command line and the environment into one validated [`Config`].
//!
//! Every mistake a user can fix is caught here, before the command runs, and reported as
//! one line naming the flag (or variable) and the value, with secrets redacted. This is
//! also the only place that reads environment variables (the `env` lookup is passed in,
//! which keeps the rules testable).

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ureq::Proxy;
use ureq::http::{HeaderName, HeaderValue};
use ureq::tls::{Certificate, PemItem, parse_pem};

use crate::check::{Check, HOSTED_API_URL};
use crate::cli::{Cli, OnEnd, OnLockBusy};
use crate::lock;
use crate::ping::{HttpOptions, MAX_BODY_LIMIT};

/// Everything a wrapped run needs, validated.
#[derive(Debug)]
pub struct Config {
    /// Where the pings go (a placeholder in a dry run with no check chosen).
    pub check: Check,
    /// Tag pings with a run id.
    pub run_id: bool,
    /// Send a start ping.
    pub start_ping: bool,
    /// Show the child's stdout.
    pub echo_stdout: bool,
    /// Show the child's stderr.
    pub echo_stderr: bool,
    /// Send the captured output with the final ping.
    pub send_output: bool,
    /// The ping for exit status 0.
    pub on_success: OnEnd,
    /// The ping for another exit status or a signal.
    pub on_nonzero_exit: OnEnd,
    /// The ping for a command that could not be started.
    pub on_exec_fail: OnEnd,
    /// `--body-limit`: the most the final ping's body may hold, whatever the server allows.
    pub body_limit: Option<usize>,
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
    pub lock: Option<PathBuf>,
    /// The ping for a run skipped because the lock was busy.
    pub on_lock_busy: OnLockBusy,
    /// The command and its arguments.
    pub command: Vec<OsString>,
}

/// One way of naming a check, and where it was given.
struct Choice {
    /// The flag or variable it came from, for messages.
    source: &'static str,
    check: Check,
}

impl Config {
    /// Validates `cli`, reading the environment through `env` (empty values count as unset).
    pub fn from_cli(cli: Cli, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let env = |name: &str| env(name).filter(|v| !v.is_empty());
        let check = match choose_check(&cli, &env)? {
            Some(check) => check,
            None if cli.dry_run => Check::placeholder(),
            None => bail!(
                "no check chosen: give --url, --uuid, or --slug with --ping-key \
                 (or set HC_PING_URL, CHECK_UUID, or CHECK_SLUG with HC_PING_KEY)"
            ),
        };
        if cli.body_limit == Some(0) && !cli.no_output {
            bail!("--body-limit: 0 leaves no room for anything; use --no-output to send no output");
        }
        let proxy = proxy(cli.proxy.as_deref(), &check, &env)?;
        let lock = cli.lock.clone().map(|path| {
            path.unwrap_or_else(|| {
                let dir = env("XDG_RUNTIME_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
                lock::default_path(&dir, &check.plain_url())
            })
        });
        Ok(Config {
            check,
            run_id: !cli.no_run_id,
            start_ping: !cli.no_start_ping,
            echo_stdout: !cli.quiet && !cli.silent,
            echo_stderr: !cli.silent,
            send_output: !cli.no_output,
            on_success: cli.on_success,
            on_nonzero_exit: cli.on_nonzero_exit,
            on_exec_fail: cli.on_exec_fail,
            body_limit: cli.body_limit.map(|b| b.min(MAX_BODY_LIMIT)),
            http: HttpOptions {
                timeout: positive("--ping-timeout", cli.ping_timeout)?,
                retries: cli.ping_retries,
                proxy,
                cacert: match &cli.cacert {
                    Some(path) => read_cacert(path)?,
                    None => Vec::new(),
                },
                headers: cli
                    .headers
                    .iter()
                    .map(|h| parse_header(h))
                    .collect::<Result<_>>()?,
                dry_run: cli.dry_run,
            },
            kill_after: cli.kill_after,
            lock,
            every: cli.every.map(|e| positive("--every", e)).transpose()?,
            jitter: cli.jitter,
            on_lock_busy: cli.on_lock_busy,
            timeout: cli.timeout.map(|t| positive("--timeout", t)).transpose()?,
            command: cli.command,
        })
    }
}

/// Picks the check: the command line's choice if it makes one, else the environment's.
/// Two different checks at the same level are an error; two ways of naming the same check
/// are not (hcwrap sets `HC_PING_URL` for its child, which may also see `CHECK_UUID`).
fn choose_check(cli: &Cli, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Check>> {
    let api_url = match &cli.api_url {
        Some(v) => secret("--api-url", v)?,
        None => env("HC_API_URL").map_or_else(
            || Ok(HOSTED_API_URL.to_owned()),
            |v| secret("HC_API_URL", &v),
        )?,
    };
    let ping_key = || -> Result<Option<String>> {
        Ok(match (&cli.ping_key, env("HC_PING_KEY"), env("PING_KEY")) {
            (Some(v), _, _) => Some(secret("--ping-key", v)?),
            (None, Some(v), _) => Some(secret("HC_PING_KEY", &v)?),
            (None, None, Some(v)) => Some(secret("PING_KEY", &v)?),
            (None, None, None) => None,
        })
    };
    let by_slug = |source: &'static str, slug: &str| -> Result<Check> {
        let slug = secret(source, slug)?;
        let Some(key) = ping_key()? else {
            bail!(
                "{source} names a check by slug, which needs a ping key: give --ping-key or set HC_PING_KEY"
            );
        };
        Check::from_slug(&api_url, &key, &slug, cli.create)
            .with_context(|| format!("from {source}"))
    };

    let mut choices = Vec::new();
    let given = [&cli.url, &cli.uuid, &cli.slug];
    if given.iter().any(|v| v.is_some()) {
        if let Some(url) = &cli.url {
            choices.push(Choice {
                source: "--url",
                check: Check::from_url("--url", &secret("--url", url)?)?,
            });
        }
        if let Some(uuid) = &cli.uuid {
            choices.push(Choice {
                source: "--uuid",
                check: Check::from_uuid(&api_url, &secret("--uuid", uuid)?)?,
            });
        }
        if let Some(slug) = &cli.slug {
            choices.push(Choice {
                source: "--slug",
                check: by_slug("--slug", slug)?,
            });
        }
    } else {
        if let Some(url) = env("HC_PING_URL") {
            let check = Check::from_url("HC_PING_URL", &secret("HC_PING_URL", &url)?)?;
            choices.push(Choice {
                source: "HC_PING_URL",
                check,
            });
        }
        if let Some(uuid) = env("CHECK_UUID") {
            let check = Check::from_uuid(&api_url, &secret("CHECK_UUID", &uuid)?)
                .context("from CHECK_UUID")?;
            choices.push(Choice {
                source: "CHECK_UUID",
                check,
            });
        }
        if let Some(slug) = env("CHECK_SLUG") {
            choices.push(Choice {
                source: "CHECK_SLUG",
                check: by_slug("CHECK_SLUG", &slug)?,
            });
        }
    }

    let slug_chosen = choices
        .iter()
        .any(|c| c.source.contains("SLUG") || c.source == "--slug");
    if cli.create && !slug_chosen {
        bail!(
            "--create works only with a check named by --slug (the server creates checks by slug)"
        );
    }
    let Some(first) = choices.first() else {
        return Ok(None);
    };
    for other in &choices[1..] {
        if other.check.plain_url() != first.check.plain_url() {
            bail!(
                "{} and {} name different checks; give only one of them",
                first.source,
                other.source
            );
        }
    }
    Ok(Some(first.check.clone()))
}

/// A value as given, or the trimmed content of the file it names as `file:PATH`.
fn secret(source: &str, value: &str) -> Result<String> {
    let Some(path) = value.strip_prefix("file:") else {
        return Ok(value.trim().to_owned());
    };
    let content = std::fs::read_to_string(path)
        .with_context(|| format!("{source}: cannot read file:{path}"))?;
    let content = content.trim();
    if content.is_empty() {
        bail!("{source}: file:{path} is empty");
    }
    Ok(content.to_owned())
}

fn positive(flag: &str, duration: Duration) -> Result<Duration> {
    if duration.is_zero() {
        bail!("{flag}: must be more than 0s (for example 10s)");
    }
    Ok(duration)
}

/// `--proxy`, else the proxy the environment names for the check's scheme (as curl reads
/// them: `https_proxy`/`HTTPS_PROXY` for https, `http_proxy`/`HTTP_PROXY` for http, then
/// `ALL_PROXY`), unless `NO_PROXY` covers the check's host.
fn proxy(
    flag: Option<&str>,
    check: &Check,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>> {
    if let Some(url) = flag {
        return make_proxy("--proxy", url).map(Some);
    }
    let names: &[&'static str] = if check.is_https() {
        &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
    } else {
        &["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
    };
    let Some((name, url)) = names.iter().find_map(|n| env(n).map(|v| (*n, v))) else {
        return Ok(None);
    };
    let no_proxy = env("no_proxy")
        .or_else(|| env("NO_PROXY"))
        .unwrap_or_default();
    if no_proxy_covers(&no_proxy, check.host()) {
        return Ok(None);
    }
    make_proxy(name, &url).map(Some)
}

fn make_proxy(source: &str, url: &str) -> Result<Proxy> {
    // The message leaves the URL out: it may carry a password.
    Proxy::new(url).map_err(|e| anyhow::anyhow!("{source}: not a usable proxy URL ({e})"))
}

/// Whether a `NO_PROXY` list covers `host`, as curl reads it: `*` covers everything; an
/// entry covers its own host name and every name under it (a leading `.` or `*.` is
/// optional); ports are ignored.
fn no_proxy_covers(list: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.trim_start_matches("*.").trim_start_matches('.');
            let entry = match entry.rsplit_once(':') {
                Some((name, port))
                    if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    name
                }
                _ => entry,
            };
            let entry = entry
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase();
            host == entry || host.ends_with(&format!(".{entry}"))
        })
}

fn read_cacert(path: &std::path::Path) -> Result<Vec<Certificate<'static>>> {
    let shown = path.display();
    let pem = std::fs::read(path).with_context(|| format!("--cacert: cannot read {shown}"))?;
    let mut certs = Vec::new();
    for item in parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(cert)) => certs.push(cert),
            Ok(_) => {}
            Err(e) => bail!("--cacert: {shown} is not a valid PEM file: {e}"),
        }
    }
    if certs.is_empty() {
        bail!("--cacert: {shown} holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
    Ok(certs)
}

/// Parses `Name: value`. The value may be a credential, so messages show only the name.
fn parse_header(header: &str) -> Result<(HeaderName, HeaderValue)> {
    let Some((name, value)) = header.split_once(':') else {
        bail!(
            "--header: '{}' is not of the form 'Name: value'",
            header.chars().take(40).collect::<String>()
        );
    };
    let name = name.trim();
    let header_name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| anyhow::anyhow!("--header: '{name}' is not a valid header name"))?;
    let value = HeaderValue::from_str(value.trim()).map_err(|_| {
        anyhow::anyhow!("--header: the value of '{name}' has characters a header cannot carry")
    })?;
    Ok((header_name, value))
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
            &[],
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
    fn mistakes_are_named() {
        assert!(error(&[], &[]).starts_with("no check chosen"));
        assert!(error(&["--slug", "s"], &[]).contains("needs a ping key"));
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
            ("HTTP_PROXY", "http://p2:3128"),
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
    fn no_proxy_lists_read_as_curl_reads_them() {
        assert!(no_proxy_covers("*", "anything"));
        assert!(no_proxy_covers("example.org", "hc.example.org"));
        assert!(no_proxy_covers("a, .example.org:443", "example.org"));
        assert!(no_proxy_covers("127.0.0.1", "127.0.0.1"));
        assert!(!no_proxy_covers("example.org", "badexample.org"));
        assert!(!no_proxy_covers("", "example.org"));
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
