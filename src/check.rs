//! Which check the pings go to: the URL of each ping, and how that URL is shown.
//!
//! A check's ping URL holds a secret (its UUID, or the project's ping key), and hcwrap's
//! messages end up in cron mails and CI logs. So every URL hcwrap prints goes through
//! [`Check::redact`], which keeps the host and the slug but only the first characters of
//! a UUID or ping key.

use anyhow::{Result, bail};

use crate::hidden::{self, Hidden};
use crate::http::Url;
use crate::msg::printable;

/// The base URL of the hosted service's ping endpoints.
pub const HOSTED_API_URL: &str = "https://hc-ping.com";

/// A resolved, validated check: where its pings go.
#[derive(Debug, Clone)]
pub struct Check {
    /// The ping URL without suffix or query, e.g. `https://hc-ping.com/<uuid>`.
    base: String,
    /// Query parameters that every ping carries (`create=1`, or what `--url` had).
    query: Option<String>,
    /// Each secret and how it is shown instead.
    secrets: Hidden,
    /// `user:password` from the URL (percent-encoded), sent as Basic authorization and
    /// passed on in `HC_PING_URL`, never in the URL of a request.
    userinfo: Option<String>,
    /// The server's host name (or address), for `NO_PROXY`.
    host: String,
    /// The ping API's base (`https://hc-ping.com`, `<site>/ping`) and what the server
    /// knows the check by, where the URL has a shape the server uses.
    id: Option<(String, CheckId)>,
    /// A check named by slug with no ping key: its ping URL is the UUID the management
    /// API gives (see `setup.rs`); until then it has none, and no ping may be sent.
    awaiting_uuid: bool,
}

/// What the server knows a check by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckId {
    /// Its UUID (lower-case).
    Uuid(String),
    /// Its slug, within the project of the ping key or API key.
    Slug(String),
}

/// What the final or start ping reports, as the suffix of the check's URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// The job started: `/start`.
    Start,
    /// Success: the plain URL.
    Success,
    /// Failure: `/fail`.
    Fail,
    /// A log entry that changes no state: `/log`.
    Log,
    /// An exit status: `/<n>`; 0 is success, anything else failure.
    ExitCode(u8),
}

impl Endpoint {
    fn suffix(self) -> String {
        match self {
            Endpoint::Start => "/start".into(),
            Endpoint::Success => String::new(),
            Endpoint::Fail => "/fail".into(),
            Endpoint::Log => "/log".into(),
            Endpoint::ExitCode(n) => format!("/{n}"),
        }
    }

    /// A short name for messages: "start ping", "/fail ping".
    pub fn name(self) -> String {
        match self {
            Endpoint::Success => "success ping".into(),
            Endpoint::ExitCode(n) => format!("final ping for exit status {n}"),
            other => format!("{} ping", other.suffix().trim_start_matches('/')),
        }
    }
}

impl Check {
    /// The check at `url`, the full ping URL as the web UI shows it.
    pub fn from_url(flag: &str, url: &str) -> Result<Self> {
        let uri = parse_http_url(flag, url)?;
        let path = uri.path().trim_end_matches('/');
        let origin = uri.shown_origin();
        let host = uri.host().to_owned();
        let userinfo = uri.userinfo().map(str::to_owned);
        let credentials = credentials(&uri);
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let is_suffix = |s: &str| matches!(s, "start" | "fail" | "log") || s.parse::<u16>().is_ok();
        // `<uuid>/start` (or `<key>/<slug>/start`) is a pasted ping URL with its suffix.
        // After a ping key, though, the same word is a slug: "log" and "5" are slugs the
        // server accepts.
        if let [.., before, last] = segments.as_slice()
            && is_suffix(last)
            && (is_uuid(before)
                || segments.len() >= 3 && looks_like_key(segments[segments.len() - 3]))
        {
            bail!(
                "{flag}: the URL ends in '/{last}'; give the check's plain ping URL, without \
                 '/start', '/fail', '/log' or an exit status"
            );
        }
        // A UUID with its dashes lost, or a character short, would otherwise be taken for
        // a slug and shown whole.
        if let Some(last) = segments.last()
            && !is_uuid(last)
            && looks_like_uuid(last)
        {
            bail!(
                "{flag}: the URL ends in '{}', which is not a check UUID; it should look like \
                 5f4c8a2e-0b7d-4e1a-9c3f-2d6b8e0a1f47 (copy the ping URL from the check's page)",
                redact_partial(last)
            );
        }
        // `/ping/<x>` with no UUID: a self-hosted URL with the UUID mistyped, or the key
        // left out before a slug.
        if let [.., "ping", last] = segments.as_slice()
            && !is_uuid(last)
        {
            bail!(
                "{flag}: after /ping/ the URL should have the check's UUID, or the project's \
                 ping key and the check's slug; '{}' is neither",
                redact_partial(last)
            );
        }
        let query = uri.query().filter(|q| !q.is_empty()).map(str::to_owned);
        // Besides the check's own secret: the URL's credentials, and anything in the
        // query or the path before it that could be a UUID or a ping key.
        let query_text = query.clone().unwrap_or_default();
        let query_tokens: Vec<&str> = query_text.split(['&', '=']).collect();
        let others = |prefix: &[&str]| {
            let mut hidden = credentials.clone();
            for token in prefix {
                if looks_like_key(token) || is_uuid(token) {
                    hidden.add(token, &redact_partial(token));
                }
            }
            // A query's values may be anything, a token among them: 8 characters or more
            // are hidden.
            for token in &query_tokens {
                if token.chars().count() >= 8 {
                    hidden.add(token, &redact_partial(token));
                }
            }
            hidden
        };
        let (base, secrets, id) = match segments.as_slice() {
            [prefix @ .., last] if is_uuid(last) => {
                let uuid = last.to_ascii_lowercase();
                let api = format!("{origin}{}", join(prefix));
                let mut secrets = uuid_secrets(&uuid);
                secrets.extend(&others(prefix));
                (
                    format!("{api}/{uuid}"),
                    secrets,
                    Some((api, CheckId::Uuid(uuid))),
                )
            }
            [prefix @ .., key, slug] if looks_like_key(key) && is_slug(slug) => {
                let api = format!("{origin}{}", join(prefix));
                let mut secrets = others(prefix);
                secrets.add(key, &redact_partial(key));
                let id = Some((api.clone(), CheckId::Slug((*slug).to_owned())));
                (format!("{api}/{key}/{slug}"), secrets, id)
            }
            // Not a shape the Healthchecks server uses: keep it as it is, but show none
            // of its path or query, either of which may well be the secret.
            _ => {
                let mut secrets = others(&[]);
                if !path.is_empty() {
                    secrets.add(path, "/…");
                }
                if let Some(query) = &query {
                    secrets.add(query, "…");
                }
                (format!("{origin}{path}"), secrets, None)
            }
        };
        let check = Check {
            base,
            query,
            secrets,
            userinfo,
            host,
            id,
            awaiting_uuid: false,
        };
        Ok(check)
    }

    /// The check with UUID `uuid` on the ping API at `api_url`.
    pub fn from_uuid(api_url: &str, uuid: &str) -> Result<Self> {
        let (base, host) = parse_api_url(api_url)?;
        if !is_uuid(uuid) {
            bail!(
                "--uuid: '{}' is not a check UUID; it should look like \
                 5f4c8a2e-0b7d-4e1a-9c3f-2d6b8e0a1f47 (as the check's page shows it)",
                redact_partial(uuid)
            );
        }
        let uuid = uuid.to_ascii_lowercase();
        Ok(Check {
            base: format!("{base}/{uuid}"),
            query: None,
            secrets: uuid_secrets(&uuid),
            userinfo: None,
            host,
            id: Some((base, CheckId::Uuid(uuid))),
            awaiting_uuid: false,
        })
    }

    /// The check named `slug` in the project whose ping key is `key`.
    pub fn from_slug(api_url: &str, key: &str, slug: &str, create: bool) -> Result<Self> {
        let (base, host) = parse_api_url(api_url)?;
        check_ping_key(key)?;
        check_slug(slug)?;
        Ok(Check {
            base: format!("{base}/{key}/{slug}"),
            query: create.then(|| "create=1".to_owned()),
            secrets: {
                let mut secrets = Hidden::default();
                secrets.add(key, &redact_partial(key));
                secrets
            },
            userinfo: None,
            host,
            id: Some((base, CheckId::Slug(slug.to_owned()))),
            awaiting_uuid: false,
        })
    }

    /// The check named `slug` in the project of an API key, on the ping API at
    /// `api_url`, with no ping key: its ping URL is not known until the management API
    /// gives its UUID ([`Check::with_uuid`]).
    pub fn awaiting_uuid(api_url: &str, slug: &str) -> Result<Self> {
        let (base, host) = parse_api_url(api_url)?;
        check_slug(slug)?;
        Ok(Check {
            base: format!("{base}/<uuid of {slug}>"),
            query: None,
            secrets: Hidden::default(),
            userinfo: None,
            host,
            id: Some((base, CheckId::Slug(slug.to_owned()))),
            awaiting_uuid: true,
        })
    }

    /// Whether the check has a ping URL to pass on to the command: not the placeholder,
    /// and not a check whose URL is still to come from the management API.
    pub fn has_ping_url(&self) -> bool {
        !self.is_placeholder() && !self.awaiting_uuid
    }

    /// Whether the check's ping URL is still to come from the management API.
    pub fn is_awaiting_uuid(&self) -> bool {
        self.awaiting_uuid
    }

    /// The ping API's base and what the server knows the check by; `None` for a URL of a
    /// shape the server does not use.
    pub fn id(&self) -> Option<(&str, &CheckId)> {
        self.id.as_ref().map(|(api, id)| (api.as_str(), id))
    }

    /// The check with UUID `uuid` on this check's ping API (the management API's answer
    /// for a check named by slug), keeping what this check hides.
    pub fn with_uuid(&self, uuid: &str) -> Result<Self> {
        let Some((api, _)) = &self.id else {
            bail!("the check's ping URL has no ping API base to put a UUID on");
        };
        let mut check = Check::from_uuid(api, uuid)?;
        check.secrets.extend(&self.secrets);
        Ok(check)
    }

    /// A stand-in for `--dry-run` with no check chosen.
    pub fn placeholder() -> Self {
        Check {
            base: format!("{HOSTED_API_URL}/<check-uuid>"),
            query: None,
            secrets: Hidden::default(),
            userinfo: None,
            host: "hc-ping.com".into(),
            id: None,
            awaiting_uuid: false,
        }
    }

    /// Whether this is the stand-in of a dry run (or an unmonitored run) with no check.
    pub fn is_placeholder(&self) -> bool {
        self.base == format!("{HOSTED_API_URL}/<check-uuid>")
    }

    /// Whether pings go over TLS.
    pub fn is_https(&self) -> bool {
        self.base.starts_with("https:")
    }

    /// The server's host name or address.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The full URL of a ping: the check, the endpoint's suffix and the query.
    pub fn url(&self, endpoint: Endpoint, run_id: Option<&str>) -> String {
        let mut url = format!("{}{}", self.base, endpoint.suffix());
        let params = self
            .query
            .iter()
            .map(String::as_str)
            .chain(run_id.map(|_| "rid="));
        for (i, param) in params.enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(param);
        }
        if let Some(rid) = run_id {
            url.push_str(rid);
        }
        url
    }

    /// The check's URL as hcwrap sets it in the child's `HC_PING_URL`.
    pub fn plain_url(&self) -> String {
        let base = match &self.userinfo {
            Some(userinfo) => self.base.replacen("://", &format!("://{userinfo}@"), 1),
            None => self.base.clone(),
        };
        match &self.query {
            Some(q) => format!("{base}?{q}"),
            None => base,
        }
    }

    /// The `Authorization` header value for the URL's credentials, if it has any.
    pub fn authorization(&self) -> Option<String> {
        self.userinfo.as_deref().map(hidden::basic_authorization)
    }

    /// `text` with every secret of this check replaced by its shown form.
    /// The same check, with `values` (the `--header` values) kept out of messages too.
    #[must_use]
    pub fn hiding<'a>(mut self, values: impl IntoIterator<Item = &'a str>) -> Self {
        self.secrets.add_values(values);
        self
    }

    /// `text` with each secret replaced by how it is shown (see `hidden.rs`).
    pub fn redact(&self, text: &str) -> String {
        self.secrets.apply(text)
    }
}

/// Checks that `value` is an absolute http(s) URL with a host.
pub fn parse_http_url(flag: &str, value: &str) -> Result<Url> {
    if value.trim().is_empty() {
        bail!("{flag}: the value is empty; give a URL such as https://hc-ping.com/<uuid>");
    }
    Url::parse(value).map_err(|e| anyhow::anyhow!("{flag}: '{}' {e}", redact_url_text(value)))
}

/// That `slug` is one the server accepts (lower-case letters, digits, '-' and '_', at
/// most 100 of them).
pub fn check_slug(slug: &str) -> Result<()> {
    if slug.len() > 100 {
        bail!("--slug: the slug is over 100 characters, the server's limit");
    }
    if slug.is_empty()
        || !slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        // A long value may be the ping key given in the wrong place (or a secret file
        // read as a slug): shown whole only when it is short, and on one line.
        if slug.chars().count() >= 16 || slug.contains(['\n', '\r']) {
            bail!(
                "--slug: '{}' is not a slug the server accepts: use lower-case letters, \
                 digits, '-' and '_' (is it the ping key, or another value, in its place?)",
                redact_partial(slug)
            );
        }
        bail!(
            "--slug: '{}' is not a slug the server accepts: use lower-case letters, \
             digits, '-' and '_' (for example '{}')",
            printable(slug),
            printable(&suggest_slug(slug))
        );
    }
    Ok(())
}

/// That `key` is a ping key.
pub fn check_ping_key(key: &str) -> Result<()> {
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        bail!(
            "--ping-key: '{}' is not a ping key (letters, digits, '-' and '_'; \
             find it in the project's settings)",
            redact_partial(key)
        );
    }
    Ok(())
}

/// That `api_url` is a usable ping API base URL.
pub fn check_api_url(api_url: &str) -> Result<()> {
    parse_api_url(api_url).map(|_| ())
}

fn parse_api_url(api_url: &str) -> Result<(String, String)> {
    let uri = parse_http_url("--api-url", api_url)?;
    if uri.query().is_some() {
        bail!(
            "--api-url: '{}' has a query string; give the ping API's base URL, such as {HOSTED_API_URL}",
            redact_url_text(api_url)
        );
    }
    if uri.userinfo().is_some() {
        bail!(
            "--api-url: '{}' has a user name or password in it; give the ping API's base URL, \
             such as {HOSTED_API_URL}, and credentials for a proxy in front of it with --header",
            redact_url_text(api_url)
        );
    }
    Ok((
        format!("{}{}", uri.shown_origin(), uri.path().trim_end_matches('/')),
        uri.host().to_owned(),
    ))
}

/// Whether a path segment could be a project's ping key (22 URL-safe characters on the
/// hosted service; at least 16 here).
fn looks_like_key(segment: &str) -> bool {
    segment.len() >= 16
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether a segment is most likely a UUID with a typo: 30 to 40 hex digits and dashes,
/// at least 28 of them digits.
fn looks_like_uuid(segment: &str) -> bool {
    (30..=40).contains(&segment.len())
        && segment.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        && segment.bytes().filter(u8::is_ascii_hexdigit).count() >= 28
}

/// A URL's credentials as secrets (see [`Hidden::add_credentials`]).
fn credentials(uri: &Url) -> Hidden {
    let mut hidden = Hidden::default();
    if let Some(userinfo) = uri.userinfo() {
        hidden.add_credentials(userinfo);
    }
    hidden
}

/// A UUID as a secret, and the same without its dashes, as a server may quote it.
fn uuid_secrets(uuid: &str) -> Hidden {
    let mut hidden = Hidden::default();
    hidden.add(uuid, &redact_partial(uuid));
    hidden.add(&uuid.replace('-', ""), &redact_partial(uuid));
    hidden
}

/// Whether a segment is a slug the server accepts: lower-case letters, digits, '-', '_'.
fn is_slug(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn join(segments: &[&str]) -> String {
    segments.iter().fold(String::new(), |mut path, s| {
        path.push('/');
        path.push_str(s);
        path
    })
}

/// True for a UUID in the 8-4-4-4-12 form, in either case.
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// The first four characters of a secret-like value and an ellipsis.
pub fn redact_partial(value: &str) -> String {
    if value.is_empty() {
        // Nothing to hide: '' says the value is empty, where '…' would look hidden.
        String::new()
    } else if value.chars().count() >= 16 {
        let head: String = value.chars().take(4).collect();
        format!("{}…", printable(&head))
    } else {
        "…".to_owned()
    }
}

/// A URL given by the user, shown in an error: host kept, path hidden.
/// A URL given by the user, as an error message may show it: scheme and host, no
/// credentials, no path (which may be the secret), control characters escaped.
pub fn redact_url_text(value: &str) -> String {
    let shown = match value.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(end);
            let authority = match authority.rsplit_once('@') {
                Some((_, host)) => format!("…@{host}"),
                None => authority.to_owned(),
            };
            let tail = if tail.len() > 1 { "/…" } else { tail };
            format!("{scheme}://{authority}{tail}")
        }
        None => redact_partial(value),
    };
    printable(&shown)
}

fn suggest_slug(slug: &str) -> String {
    let s: String = slug
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() {
        "nightly-backup".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b";

    proptest::proptest! {
        /// Every way of naming a check builds the URL the server expects, and its shown
        /// form never holds the secret.
        #[test]
        fn urls_from_every_check_option(
            bytes in proptest::array::uniform16(proptest::num::u8::ANY),
            key in proptest::collection::vec(proptest::sample::select(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_".to_vec()), 16..30),
            slug in proptest::collection::vec(proptest::sample::select(b"abcdefghijklmnopqrstuvwxyz0123456789-_".to_vec()), 1..20),
            create in proptest::bool::ANY,
            code in proptest::num::u8::ANY,
        ) {
            let hex: String = bytes.iter().fold(String::new(), |mut s, b| {
                let _ = std::fmt::Write::write_fmt(&mut s, format_args!("{b:02x}"));
                s
            });
            let uuid = format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]);
            let key = String::from_utf8(key).unwrap();
            let slug = String::from_utf8(slug).unwrap();

            let by_uuid = Check::from_uuid(HOSTED_API_URL, &uuid.to_uppercase()).unwrap();
            let url = by_uuid.url(Endpoint::ExitCode(code), Some("r"));
            proptest::prop_assert_eq!(&url, &format!("https://hc-ping.com/{uuid}/{code}?rid=r"));
            proptest::prop_assert!(!by_uuid.redact(&url).contains(&uuid));
            let by_url = Check::from_url("--url", &by_uuid.plain_url()).unwrap();
            proptest::prop_assert_eq!(by_url.url(Endpoint::Start, None), by_uuid.url(Endpoint::Start, None));

            let by_slug = Check::from_slug("http://hc.local/ping", &key, &slug, create).unwrap();
            let url = by_slug.url(Endpoint::Fail, None);
            let query = if create { "?create=1" } else { "" };
            proptest::prop_assert_eq!(&url, &format!("http://hc.local/ping/{key}/{slug}/fail{query}"));
            proptest::prop_assert!(!by_slug.redact(&url).contains(&key));
            let by_url = Check::from_url("--url", &by_slug.plain_url()).unwrap();
            proptest::prop_assert_eq!(by_url.url(Endpoint::Log, Some("r")), by_slug.url(Endpoint::Log, Some("r")));
        }
    }

    #[test]
    fn uuid_urls() {
        let c = Check::from_uuid("https://hc.example.org/ping/", &UUID.to_uppercase()).unwrap();
        assert_eq!(
            c.url(Endpoint::Success, None),
            format!("https://hc.example.org/ping/{UUID}")
        );
        assert_eq!(
            c.url(Endpoint::Start, Some("abc")),
            format!("https://hc.example.org/ping/{UUID}/start?rid=abc")
        );
        assert_eq!(
            c.url(Endpoint::ExitCode(3), None),
            format!("https://hc.example.org/ping/{UUID}/3")
        );
        assert_eq!(
            c.redact(&c.url(Endpoint::Fail, None)),
            "https://hc.example.org/ping/1f1c…/fail"
        );
    }

    #[test]
    fn slug_urls_with_create() {
        let c = Check::from_slug(
            HOSTED_API_URL,
            "abcdefghijklmnopqrstuv",
            "db-backup_1",
            true,
        )
        .unwrap();
        assert_eq!(
            c.url(Endpoint::Log, Some("r")),
            "https://hc-ping.com/abcdefghijklmnopqrstuv/db-backup_1/log?create=1&rid=r"
        );
        assert_eq!(
            c.redact(&c.url(Endpoint::Success, None)),
            "https://hc-ping.com/abcd…/db-backup_1?create=1"
        );
    }

    #[test]
    fn slugs_the_server_rejects_are_refused() {
        for slug in ["Backup", "a b", "", "x/y"] {
            let err = Check::from_slug(HOSTED_API_URL, "key", slug, false).unwrap_err();
            assert!(err.to_string().starts_with("--slug: "), "{err}");
        }
    }

    #[test]
    fn full_urls_of_both_kinds() {
        let c = Check::from_url(
            "--url",
            &format!("http://127.0.0.1:8000/ping/{}/", UUID.to_uppercase()),
        )
        .unwrap();
        assert_eq!(
            c.url(Endpoint::Fail, Some("r")),
            format!("http://127.0.0.1:8000/ping/{UUID}/fail?rid=r")
        );
        assert_eq!(c.redact(&c.plain_url()), "http://127.0.0.1:8000/ping/1f1c…");

        let c = Check::from_url(
            "--url",
            "https://hc-ping.com/abcdefghijklmnopqrstuv/nightly?create=1",
        )
        .unwrap();
        assert_eq!(
            c.url(Endpoint::Start, Some("r")),
            "https://hc-ping.com/abcdefghijklmnopqrstuv/nightly/start?create=1&rid=r"
        );
        assert_eq!(
            c.redact(&c.plain_url()),
            "https://hc-ping.com/abcd…/nightly?create=1"
        );
    }

    #[test]
    fn slugs_that_look_like_suffixes_are_slugs() {
        for slug in ["log", "start", "5"] {
            let c = Check::from_url(
                "--url",
                &format!("https://hc-ping.com/abcdefghijklmnopqrstuv/{slug}"),
            )
            .unwrap();
            assert_eq!(
                c.url(Endpoint::Fail, None),
                format!("https://hc-ping.com/abcdefghijklmnopqrstuv/{slug}/fail")
            );
        }
    }

    #[test]
    fn urls_that_are_not_ping_urls_are_refused() {
        for (url, says) in [
            (
                "ftp://hc-ping.com/x",
                "not an http:// or https:// URL (ftp: is not",
            ),
            ("hc-ping.com/x", "not an http:// or https:// URL"),
            (
                &format!("https://hc-ping.com/{UUID}/start"),
                "ends in '/start'",
            ),
            ("https://", "has no host name"),
            (
                &format!("http://127.0.0.1:99999/ping/{UUID}"),
                "has port '99999', which is not a port",
            ),
            (
                &format!("https://hc-ping.com/{UUID} x"),
                "a character a URL cannot hold",
            ),
        ] {
            let err = Check::from_url("--url", url).unwrap_err().to_string();
            assert!(err.contains(says), "{url}: {err}");
            assert!(!err.contains(UUID), "{err}");
        }
    }

    #[test]
    fn mistyped_uuids_and_keyless_urls_are_refused_without_showing_them() {
        for (url, says) in [
            (
                "https://hc.example/ping/140da8b7d41e491b9833638fb7ebe760",
                "'140d…', which is not a check UUID",
            ),
            (
                "https://hc.example/140da8b7-d41e-491b-9833-638fb7ebe76",
                "'140d…', which is not a check UUID",
            ),
            (
                "https://hc.example/ping/nightly-backup",
                "after /ping/ the URL should have",
            ),
        ] {
            let err = Check::from_url("--url", url).unwrap_err().to_string();
            assert!(err.contains(says), "{url}: {err}");
            assert!(
                !err.contains("140da8b7d41e") && !err.contains("d41e-491b"),
                "{err}"
            );
        }
        // A key/slug URL pasted with its suffix: the key is not shown, and nothing is sent.
        let err = Check::from_url(
            "--url",
            "https://hc-ping.com/abcdefghijklmnopqrstuv/db/start",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("ends in '/start'") && !err.contains("abcdefghijkl"),
            "{err}"
        );
        // A slug named like a suffix is still a slug.
        let check = Check::from_url("--url", "https://hc-ping.com/abcdefghijklmnopqrstuv/log")
            .expect("a key and a slug");
        assert_eq!(
            check.url(Endpoint::Success, None),
            "https://hc-ping.com/abcdefghijklmnopqrstuv/log"
        );
        // A key deeper in an odd path is hidden too.
        let check = Check::from_url("--url", "https://hc.example/x/abcdefghijklmnopqrstuv/a/b")
            .expect("a URL");
        assert!(
            !check
                .redact(&check.url(Endpoint::Fail, None))
                .contains("abcdefghijkl")
        );
    }

    #[test]
    fn what_a_server_may_quote_back_is_hidden_too() {
        let check = Check::from_url(
            "--url",
            &format!("http://alice:S%40CRETPW@127.0.0.1:1/ping/{UUID}?x=abcdefghijklmnopqrstuv"),
        )
        .expect("a URL")
        .hiding(["SECRETVALUE", "abc"]);
        let quoted = format!(
            "S%40CRETPW S@CRETPW YWxpY2U6U0BDUkVUUFc= SECRETVALUE {} abcdefghijklmnopqrstuv abc",
            UUID.replace('-', "")
        );
        assert_eq!(check.redact(&quoted), "… … …= … 1f1c… abcd… abc");
    }

    #[test]
    fn odd_url_shapes_show_none_of_their_path_or_query() {
        for url in [
            "http://127.0.0.1:1/x/pK3yS3cr3tV4lu3xYz0123",
            "http://127.0.0.1:1/p/pK3yS3cr3tV4lu3xYz0123",
            "http://h:1/1/pK3yS3cr3tV4lu3xYz0123",
            "http://127.0.0.1:1/hc/?check=1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b",
            "http://127.0.0.1:1/ping/pK3yS3cr3tV4lu3xYz0123/1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b",
        ] {
            let check = Check::from_url("--url", url).expect("a URL");
            let shown = check.redact(&check.url(Endpoint::Start, Some("r")));
            assert!(shown.starts_with("http://"), "{url}: {shown}");
            for piece in ["S3cr3tV4", "4b5a-697", "1f1c2e3d"] {
                assert!(!shown.contains(piece), "{url}: {shown}");
            }
        }
    }

    #[test]
    fn credentials_in_a_url_are_sent_but_never_shown() {
        let check = Check::from_url(
            "--url",
            &format!("https://alice:s3cret@hc.example/ping/{UUID}"),
        )
        .expect("a valid URL");
        // Sent as a header, not in the request's URL; passed on whole to the command.
        let url = check.url(Endpoint::Start, None);
        assert_eq!(url, format!("https://hc.example/ping/{UUID}/start"));
        assert_eq!(
            check.authorization().as_deref(),
            Some("Basic YWxpY2U6czNjcmV0")
        );
        let plain = check.plain_url();
        assert_eq!(
            plain,
            format!("https://alice:s3cret@hc.example/ping/{UUID}")
        );
        assert_eq!(check.redact(&plain), "https://…@hc.example/ping/1f1c…");
        let err = Check::from_url("--url", "https://alice:s3cret@hc.example:70000/ping/x")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("s3cret") && !err.contains("alice"), "{err}");
        let err = Check::from_uuid("https://alice:s3cret@hc.example", UUID)
            .unwrap_err()
            .to_string();
        assert!(
            !err.contains("s3cret") && err.contains("user name or password"),
            "{err}"
        );
    }

    #[test]
    fn malformed_uuids_are_refused_without_showing_them() {
        let err = Check::from_uuid(HOSTED_API_URL, "1f1c2e3d4b5a69788a9b0c1d2e3f4a5b")
            .unwrap_err()
            .to_string();
        assert!(err.contains("'1f1c…' is not a check UUID"), "{err}");
    }

    #[test]
    fn redact_hides_secrets_in_any_text() {
        let c = Check::from_uuid(HOSTED_API_URL, UUID).unwrap();
        let text = format!("error sending to https://hc-ping.com/{UUID}/start: refused");
        assert_eq!(
            c.redact(&text),
            "error sending to https://hc-ping.com/1f1c…/start: refused"
        );
    }
}
