//! The Healthchecks management API (v3), as far as hcwrap uses it: find, create, update
//! and read one check (`../shared/healthchecks-management-api.md`).
//!
//! One request is one attempt: a run makes at most one management request, and a setup
//! that did not happen is tried again on the next run, so retrying here would only hold
//! up the run's pings. Requests go with the same proxy, trust roots and `--header`s as
//! the pings, to the site the user named or the one the ping URL implies (see
//! [`site_for`]); no redirect is followed. The API key is sent in `X-Api-Key` and, like
//! the check's own secrets, never appears in a message, even where the server quotes it.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::check::{Check, HOSTED_API_URL};
use crate::http::{Url, describe};
use crate::msg::printable;
use crate::ping::HttpOptions;

/// The hosted service's site, whose ping API is [`HOSTED_API_URL`].
pub const HOSTED_SITE: &str = "https://healthchecks.io";

/// The most of an answer that is read: a check's JSON is a few kilobytes, a list of
/// checks by slug holds one or two.
const MAX_ANSWER: u64 = 1024 * 1024;

/// The management API's site for a ping API base (`https://hc-ping.com` means
/// `https://healthchecks.io`; `<site>/ping` means `<site>`); `None` when the base says
/// neither.
pub fn site_for(ping_api: &str) -> Option<String> {
    let url = Url::parse(ping_api).ok()?;
    let path = url.path().trim_end_matches('/');
    if ping_api.trim_end_matches('/') == HOSTED_API_URL {
        return Some(HOSTED_SITE.to_owned());
    }
    let prefix = path.strip_suffix("/ping")?;
    Some(format!("{}{prefix}", url.shown_origin()))
}

/// A client of one site's management API, with one project's API key.
#[derive(Debug, Clone)]
pub struct Api {
    site: String,
    key: String,
    http: HttpOptions,
    /// What messages hide: the check's secrets, the key, the header values.
    hide: Check,
}

/// An answer: its status and its JSON (`Null` when it had none that could be read).
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body, parsed.
    pub json: Value,
}

impl Api {
    /// A client of the API at `site` (no trailing slash) with `key`; `check` is the
    /// check the requests are about, whose secrets messages hide.
    /// The `--header`s go along only to the server the pings go to (the same origin):
    /// they were given for it, not for another host.
    pub fn new(site: &str, key: &str, http: &HttpOptions, check: &Check) -> Self {
        let hide = check
            .clone()
            .hiding([key])
            .hiding(http.headers.iter().filter_map(|(_, v)| v.to_str().ok()));
        let origin = |url: &str| Url::parse(url).ok().map(|u| u.origin());
        let ping_origin = check.id().and_then(|(api, _)| origin(api));
        let mut http = http.clone();
        if ping_origin.is_none() || ping_origin != origin(site) {
            http.headers.clear();
        }
        // The key goes in one X-Api-Key header, hcwrap's.
        http.headers
            .retain(|(name, _)| !name.as_str().eq_ignore_ascii_case("x-api-key"));
        Api {
            site: site.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
            http,
            hide,
        }
    }

    /// Whether the key is a read-only one (`hcr_`), which cannot change checks.
    pub fn is_read_only(&self) -> bool {
        self.key.starts_with("hcr_")
    }

    /// A fingerprint of the key (which project it is), never the key.
    pub fn key_fingerprint(&self) -> String {
        format!("{:016x}", crate::lock::fnv1a(self.key.as_bytes()))
    }

    /// The site, for messages.
    pub fn site(&self) -> &str {
        &self.site
    }

    /// `text` with every secret hidden.
    pub fn redact(&self, text: &str) -> String {
        self.hide.redact(text)
    }

    /// Whether requests are printed instead of sent.
    pub fn is_dry_run(&self) -> bool {
        self.http.dry_run
    }

    /// One request: `method` to `/api/v3/<path>`, with `body` as JSON, answered before
    /// `deadline` (and within `--ping-timeout`). The error is a line for a message.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        deadline: Option<Instant>,
    ) -> Result<Answer, String> {
        let url = format!("{}/api/v3/{path}", self.site);
        let limit = deadline.map_or(self.http.timeout, |at| {
            self.http
                .timeout
                .min(at.saturating_duration_since(Instant::now()))
        });
        if limit.is_zero() {
            return Err("no time left for it".to_owned());
        }
        let agent = self.http.agent(self.site.starts_with("https:"), limit);
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("X-Api-Key", &self.key)
            .header("Accept", "application/json");
        for (name, value) in &self.http.headers {
            request = request.header(name, value);
        }
        let payload = body.map(Value::to_string);
        let sent = match payload {
            Some(payload) => request
                .header("Content-Type", "application/json")
                .body(payload.into_bytes())
                .map_err(|e| e.to_string())
                .and_then(|r| agent.run(r).map_err(|e| self.failed(&e, limit))),
            None => request
                .body(Vec::new())
                .map_err(|e| e.to_string())
                .and_then(|r| agent.run(r).map_err(|e| self.failed(&e, limit))),
        };
        let mut response = sent?;
        let status = response.status().as_u16();
        if (300..400).contains(&status) {
            let location = response
                .headers()
                .get("Location")
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_default();
            let to = Url::parse(&url)
                .ok()
                .and_then(|u| u.join(&location).ok())
                .map_or_else(|| "elsewhere".to_owned(), |u| u.shown_origin());
            return Err(self.redact(&format!(
                "the server answered {status}, a redirect to {to}, which hcwrap does not \
                 follow: give the site's URL as it answers with --site-url"
            )));
        }
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_vec()
            .unwrap_or_default();
        Ok(Answer {
            status,
            json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        })
    }

    /// A request that got no answer, in words.
    fn failed(&self, error: &ureq::Error, limit: Duration) -> String {
        let why = describe(error, limit, &|t| self.redact(t));
        match &self.http.proxy {
            Some(proxy) => format!(
                "{why} (through the proxy {}:{})",
                proxy.host(),
                proxy.port()
            ),
            None => why,
        }
    }

    /// What the server said in an error answer (`{"error": "..."}`), hidden, escaped
    /// and cut to one short line; empty when it said nothing.
    pub fn error_text(&self, answer: &Answer) -> String {
        let text = answer
            .json
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let text: String = self.redact(text).chars().take(200).collect();
        printable(&text)
    }
}

/// The checks in a list answer (`{"checks": [...]}`) whose slug is `slug`: only those,
/// for a server that ignored the `?slug=` filter must not have another check taken.
pub fn checks_with_slug<'a>(list: &'a Value, slug: &str) -> Vec<&'a Value> {
    list.get("checks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c.get("slug").and_then(Value::as_str) == Some(slug))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::site_for;

    #[test]
    fn the_site_follows_from_the_ping_api() {
        assert_eq!(
            site_for("https://hc-ping.com").as_deref(),
            Some("https://healthchecks.io")
        );
        assert_eq!(
            site_for("https://hc-ping.com/").as_deref(),
            Some("https://healthchecks.io")
        );
        assert_eq!(
            site_for("https://hc.example.org/ping").as_deref(),
            Some("https://hc.example.org")
        );
        assert_eq!(
            site_for("http://10.0.0.5:8000/hc/ping/").as_deref(),
            Some("http://10.0.0.5:8000/hc")
        );
        assert_eq!(site_for("https://pings.example.org"), None);
    }
}
