//! The options the wrapped run and `hcwrap ping` share: which check, and how to reach it
//! (proxy, trusted certificates, extra headers, timeouts). Validated here, before anything
//! runs; like `config.rs`, it reads the environment only through the `env` lookup it is
//! given.

use std::time::Duration;

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::api::Api;
use crate::check::{Check, HOSTED_API_URL};
use crate::check_settings::Settings;
use crate::cli::{ApiArgs, CheckArgs, HttpArgs, SetupArgs};
use crate::http::proxy::proxy;
use crate::http::settings::{parse_header, read_cacert, system_roots};
use crate::ping::HttpOptions;
use crate::setup::Setup;
use crate::small_file;

/// The check `args` (or the environment) choose; a placeholder for a dry run that chose
/// none. An error that is the environment's doing (see [`FromEnvironment`]) says so.
/// With `api_key` (one is given), a check named by slug needs no ping key: its ping URL
/// comes from the management API (`Check::awaiting_uuid`).
pub fn check(
    args: &CheckArgs,
    api_key: bool,
    dry_run: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Check> {
    let on_command_line = args.url.is_some() || args.uuid.is_some() || args.slug.is_some();
    let chosen = choose_check(args, api_key, env).map_err(|e| {
        // The environment's: marked so where it arose (a variable's value, a file), or
        // any error of a check the environment chose, but for what a typed flag added.
        let from_environment = e
            .chain()
            .any(<dyn std::error::Error>::is::<FromEnvironment>)
            || (!on_command_line && !e.chain().any(<dyn std::error::Error>::is::<Typed>));
        if from_environment {
            anyhow::Error::new(FromEnvironment(format!("{e:#}")))
        } else {
            e
        }
    })?;
    match chosen {
        Some(check) => Ok(check),
        None if dry_run => Ok(Check::placeholder()),
        None => Err(anyhow::Error::new(FromEnvironment(
            "no check chosen: give --url, --uuid, or --slug with --ping-key \
             (or set HC_PING_URL, CHECK_UUID, or CHECK_SLUG with HC_PING_KEY)"
                .to_owned(),
        ))),
    }
}

/// Why no check could be determined, where the environment is at fault rather than the
/// command line: nothing names a check (a CI fork without its secrets), a variable names
/// one badly, or a `file:` secret cannot be read (renamed, empty, unreadable). A wrapped
/// run then goes on unmonitored, unless `--strict`; a mistake typed on the command line
/// (a malformed `--url`, two checks) is refused whatever.
#[derive(Debug)]
pub struct FromEnvironment(pub String);

impl std::fmt::Display for FromEnvironment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FromEnvironment {}

/// A mistake in a value typed on hcwrap's command line, refused whatever the environment.
#[derive(Debug)]
struct Typed(String);

impl std::fmt::Display for Typed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Typed {}

/// `e` as the environment's doing.
fn environment(e: anyhow::Error) -> anyhow::Error {
    if e.chain()
        .any(<dyn std::error::Error>::is::<FromEnvironment>)
    {
        return e;
    }
    anyhow::Error::new(FromEnvironment(format!("{e:#}")))
}

/// `e` as a mistake on the command line (unless a file it named is at fault).
fn typed(e: anyhow::Error) -> anyhow::Error {
    if e.chain()
        .any(<dyn std::error::Error>::is::<FromEnvironment>)
    {
        return e;
    }
    anyhow::Error::new(Typed(format!("{e:#}")))
}

/// That `name`, given to `flag`, is an environment variable's name as a shell writes one
/// (letters, digits and '_', not starting with a digit). A value given by mistake for the
/// name (`--message-env "$ERROR"`) is refused without being shown: it may be private.
pub fn variable_name(flag: &str, name: &str) -> Result<String> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        bail!("{flag}: give the name of a variable (such as BACKUP_ERROR), not its value");
    }
    Ok(name.to_owned())
}

/// How pings to `check` are sent, from `args` and the environment.
pub fn http(
    args: &HttpArgs,
    check: &Check,
    dry_run: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<HttpOptions> {
    Ok(HttpOptions {
        timeout: positive("--ping-timeout", args.ping_timeout)?,
        retries: args.ping_retries,
        max_time: None,
        max_time_start: None,
        proxy: proxy(args.proxy.as_deref(), check, env)?,
        system_roots: system_roots(env, check.is_https() && !dry_run),
        cacert: match &args.cacert {
            Some(path) => read_cacert(path)?,
            None => Vec::new(),
        },
        headers: args
            .headers
            .iter()
            .map(|h| parse_header(h))
            .collect::<Result<_>>()?,
        dry_run,
    })
}

/// Where the check came from and what the environment gave, for [`setup`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SetupContext {
    /// `--create` was given.
    pub create: bool,
    /// `HC_API_KEY` is set but empty (a CI fork's secret that did not arrive).
    pub key_blank: bool,
    /// The check came from the environment, not from `--url`, `--uuid` or `--slug`.
    pub check_from_env: bool,
}

impl SetupContext {
    /// The context for the check `args` choose; `key_blank` as the raw environment says.
    pub fn new(args: &CheckArgs, key_blank: bool) -> Self {
        SetupContext {
            create: args.create,
            key_blank,
            check_from_env: [&args.url, &args.uuid, &args.slug]
                .iter()
                .all(|v| v.is_none()),
        }
    }
}

/// The check's setup through the management API (see `setup.rs`), from `args` and the
/// environment; `None` when there is nothing to set up. Settings with no API key are a
/// usage error, unless `HC_API_KEY` is set and empty (a CI fork without its secrets); an
/// API key, or a check, that the environment gives badly is the environment's doing
/// ([`FromEnvironment`]): the run goes on without the setup.
pub fn setup(
    args: &SetupArgs,
    check: &Check,
    context: SetupContext,
    http: &HttpOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Setup>> {
    let settings = Settings::from_cli(args, env)?;
    // A dry run with no check: there is nothing to set up.
    if check.is_placeholder() {
        return Ok(None);
    }
    let api = api(&args.api, check, settings.is_some(), http, env).map_err(|e| {
        if context.check_from_env {
            environment(e)
        } else {
            e
        }
    })?;
    let Some(api) = api else {
        if settings.is_some() {
            if context.key_blank {
                return Err(environment(anyhow::anyhow!(
                    "HC_API_KEY is empty (a CI fork without its secrets?)"
                )));
            }
            let given = [
                (args.schedule.is_some(), "--schedule"),
                (args.tz.is_some(), "--tz"),
                (args.period.is_some(), "--period"),
                (args.grace.is_some(), "--grace"),
                (args.name.is_some(), "--name"),
                (args.tags.is_some(), "--tags"),
                (args.desc.is_some(), "--desc"),
                (args.channels.is_some(), "--channels"),
            ];
            let flag = given
                .iter()
                .find(|(g, _)| *g)
                .map_or("a setting", |(_, f)| f);
            bail!(
                "{flag}: the check's settings are set through the management API, which \
                 needs the project's API key: give --api-key or set HC_API_KEY (a read-write \
                 key, from the project's settings)"
            );
        }
        return Ok(None);
    };
    Setup::new(api, check, settings.as_ref(), context.create, env)
}

/// The management API client for `check`, with the key and site that `args` and the
/// environment give; `None` without a key, or when the site cannot be told and nothing
/// needs it (`needed`: settings are given, or the check's ping URL is to come from it).
/// The site is `--site-url`, else the one the ping URL implies, else `HC_SITE_URL`: a
/// variable never sends the key elsewhere than the check's own server says.
pub fn api(
    args: &ApiArgs,
    check: &Check,
    needed: bool,
    http: &HttpOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Api>> {
    let key = match (&args.api_key, env("HC_API_KEY")) {
        (Some(v), _) => api_key("--api-key", v).map_err(typed)?,
        (None, Some(v)) => api_key("HC_API_KEY", &v).map_err(environment)?,
        (None, None) => return Ok(None),
    };
    let derived = check
        .id()
        .and_then(|(ping_api, _)| crate::api::site_for(ping_api));
    let site = match (&args.site_url, derived, env("HC_SITE_URL")) {
        (Some(v), _, _) => site_url("--site-url", v).map_err(typed)?,
        (None, Some(site), _) => site,
        (None, None, Some(v)) => site_url("HC_SITE_URL", &v).map_err(environment)?,
        (None, None, None) if !needed && !check.is_awaiting_uuid() => return Ok(None),
        (None, None, None) => bail!(
            "--site-url: the management API's site cannot be told from the check's ping URL \
             (it is not https://hc-ping.com or <site>/ping/...): give the site's URL with \
             --site-url or HC_SITE_URL"
        ),
    };
    Ok(Some(Api::new(&site, &key, http, check)))
}

/// An API key as given to `source`, or read from the file it names.
fn api_key(source: &str, value: &str) -> Result<String> {
    let key = secret(source, value)?;
    // None of it is shown: an API key has no public part.
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
        bail!(
            "{source}: the value is not an API key (it has spaces or other characters an API \
             key has not; find the key in the project's settings, under API Access)"
        );
    }
    Ok(key)
}

/// The management API's site as given to `source`: an http(s) URL with no query and no
/// credentials.
fn site_url(source: &str, value: &str) -> Result<String> {
    let url = crate::check::parse_http_url(source, &secret(source, value)?)?;
    if url.query().is_some() || url.userinfo().is_some() {
        bail!(
            "{source}: give the site's plain URL, such as https://healthchecks.io, with no \
             query or credentials in it"
        );
    }
    // The site, even where its API's own URL was given.
    let path = url.path().trim_end_matches('/');
    let path = path.strip_suffix("/api/v3").unwrap_or(path);
    Ok(format!("{}{path}", url.shown_origin()))
}

// Each value below is checked where it is read, so that a mistake is the command line's
// or the environment's by where the value came from.

/// The ping API's base URL: `--api-url`, else `HC_API_URL`, else the hosted service's.
/// Read only when a UUID or slug needs it: a --url never uses it, so a mistake in it must
/// not stop that run.
pub fn api_url(cli: &CheckArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<String> {
    let valid = |source: &str, v: &str| {
        let url = secret(source, v)?;
        crate::check::check_api_url(&url)?;
        Ok::<_, anyhow::Error>(url)
    };
    match &cli.api_url {
        Some(v) => valid("--api-url", v).map_err(typed),
        None => env("HC_API_URL").map_or_else(
            || Ok(HOSTED_API_URL.to_owned()),
            |v| valid("HC_API_URL", &v).map_err(environment),
        ),
    }
}

/// The project's ping key: `--ping-key`, else `HC_PING_KEY`, else `PING_KEY`.
pub fn ping_key(cli: &CheckArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>> {
    let valid = |source: &str, v: &str| {
        let key = secret(source, v)?;
        crate::check::check_ping_key(&key)?;
        Ok::<_, anyhow::Error>(key)
    };
    Ok(match (&cli.ping_key, env("HC_PING_KEY"), env("PING_KEY")) {
        (Some(v), _, _) => Some(valid("--ping-key", v).map_err(typed)?),
        (None, Some(v), _) => Some(valid("HC_PING_KEY", &v).map_err(environment)?),
        (None, None, Some(v)) => Some(valid("PING_KEY", &v).map_err(environment)?),
        (None, None, None) => None,
    })
}

/// One way of naming a check, and where it was given.
struct Choice {
    /// The flag or variable it came from, for messages.
    source: &'static str,
    check: Check,
}

/// Picks the check: the command line's choice if it makes one, else the environment's.
/// Two different checks at the same level are an error; two ways of naming the same check
/// are not (hcwrap sets `HC_PING_URL` for its child, which may also see `CHECK_UUID`).
fn choose_check(
    cli: &CheckArgs,
    api_key: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Check>> {
    let api_url = || api_url(cli, env);
    let ping_key = || ping_key(cli, env);
    let by_slug = |source: &'static str, slug: &str| -> Result<Check> {
        let slug = secret(source, slug)?;
        // A slug the server refuses is a mistake wherever the key is (a typed `--slug=`
        // is refused even in a CI fork without the key).
        let checked = crate::check::check_slug(&slug);
        if source.starts_with("--") {
            checked?;
        } else {
            checked.with_context(|| format!("from {source}"))?;
        }
        let check = match ping_key()? {
            Some(key) => Check::from_slug(&api_url()?, &key, &slug, cli.create),
            // The management API gives its ping URL.
            None if api_key => Check::awaiting_uuid(&api_url()?, &slug),
            // Nothing gives the key: the environment's doing (a CI fork without it).
            None => {
                return Err(environment(anyhow::anyhow!(
                    "{source} names a check by slug, which needs a ping key: give --ping-key \
                     or set HC_PING_KEY (or an API key, --api-key or HC_API_KEY)"
                )));
            }
        };
        // A message about --slug names it already; one about a variable says where from.
        if source.starts_with("--") {
            check
        } else {
            check.with_context(|| format!("from {source}"))
        }
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
                check: Check::from_uuid(&api_url()?, &secret("--uuid", uuid)?)?,
            });
        }
        if let Some(slug) = &cli.slug {
            choices.push(Choice {
                source: "--slug",
                check: by_slug("--slug", slug)?,
            });
        }
    } else {
        // HC_PING_URL as an outer hcwrap set it for its command names the outer run's
        // check. A script that names a check itself (CHECK_UUID, CHECK_SLUG) means that
        // one: what the script sets wins over what it inherited. (HC_PING_URL that the
        // script set itself is told apart by the fingerprint hcwrap sets beside it.)
        let inherited = env("HC_PING_URL").filter(|url| is_set_by_hcwrap(url, env));
        let named_here = env("CHECK_UUID").is_some() || env("CHECK_SLUG").is_some();
        if let Some(url) = env("HC_PING_URL").filter(|_| !(inherited.is_some() && named_here)) {
            let check = Check::from_url("HC_PING_URL", &secret("HC_PING_URL", &url)?)?;
            choices.push(Choice {
                source: "HC_PING_URL",
                check,
            });
        }
        if let Some(uuid) = env("CHECK_UUID") {
            let check = Check::from_uuid(&api_url()?, &secret("CHECK_UUID", &uuid)?)
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
        return Err(typed(anyhow::anyhow!(
            "--create works only with a check named by --slug (the server creates checks by slug)"
        )));
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

/// The variable hcwrap sets beside `HC_PING_URL` for its command: a fingerprint of the
/// URL it set (not the URL), so that a nested hcwrap can tell it from one the script set.
pub const PING_URL_MARK: &str = "HCWRAP_PING_URL_MARK";

/// The fingerprint of `url` for [`PING_URL_MARK`].
pub fn ping_url_mark(url: &str) -> String {
    format!("{:016x}", crate::lock::fnv1a(url.as_bytes()))
}

/// Whether `HC_PING_URL`'s value `url` is the one an outer hcwrap set.
pub fn is_set_by_hcwrap(url: &str, env: &dyn Fn(&str) -> Option<String>) -> bool {
    env(PING_URL_MARK).is_some_and(|mark| mark == ping_url_mark(url))
}

/// A value as given, or the trimmed content of the file it names as `file:PATH` (at most
/// [`MAX_SECRET_FILE`] bytes; see `small_file`).
fn secret(source: &str, value: &str) -> Result<String> {
    let Some(path) = value.strip_prefix("file:") else {
        return Ok(value.trim().to_owned());
    };
    let shown = format!("file:{}", crate::msg::printable(path));
    // A file that cannot be used is the environment's doing, wherever its name was given.
    let unusable = |e: anyhow::Error| anyhow::Error::new(FromEnvironment(format!("{e:#}")));
    let content =
        small_file::read(source, &shown, Path::new(path), MAX_SECRET_FILE).map_err(unusable)?;
    let Ok(content) = String::from_utf8(content) else {
        return Err(unusable(anyhow::anyhow!(
            "{source}: {shown} is not UTF-8 text"
        )));
    };
    let content = content.trim();
    if content.is_empty() {
        return Err(unusable(anyhow::anyhow!("{source}: {shown} is empty")));
    }
    Ok(content.to_owned())
}

/// The most a `file:` secret may hold: a URL or key is far shorter.
const MAX_SECRET_FILE: usize = 64 * 1024;

/// The state directory the environment names (see `own_dir.rs`), with a warning for an
/// `HC_STATE_DIR` that is not an absolute path (it is not used).
pub fn state_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<crate::own_dir::OwnDir> {
    if env("HC_STATE_DIR").is_some_and(|d| !d.starts_with('/')) {
        crate::msg::say(
            "warning: HC_STATE_DIR is not an absolute path: nothing is kept (failure counts, \
             undelivered reports); give the directory's full path",
        );
    }
    crate::own_dir::OwnDir::state(env)
}

pub fn positive(flag: &str, duration: Duration) -> Result<Duration> {
    if duration.is_zero() {
        bail!("{flag}: must be more than 0s (for example 10s)");
    }
    Ok(duration)
}
