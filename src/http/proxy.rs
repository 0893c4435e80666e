//! Which proxy a check's pings go through: `--proxy`, else the environment's, as curl
//! reads it.

use anyhow::{Result, bail};
use ureq::Proxy;

use crate::check::Check;
use crate::http::Url;

/// `--proxy`, else the proxy the environment names for the check's scheme (as curl reads
/// them: `https_proxy`/`HTTPS_PROXY` for https, `http_proxy`/`HTTP_PROXY` for http, then
/// `ALL_PROXY`), unless `NO_PROXY` covers the check's host.
pub fn proxy(
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
    // Only HTTP proxies (CONNECT for https) are supported. A SOCKS proxy must be refused
    // here: hcwrap's connections would otherwise go straight to the server, around it.
    if let Some((scheme, _)) = url.split_once("://")
        && !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https")
    {
        bail!("{source}: {scheme} proxies are not supported; give an http:// proxy");
    }
    // The messages leave the URL out: it may carry a password.
    let full = if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    };
    if let Err(e) = Url::parse(&full) {
        bail!("{source}: the proxy URL {e}");
    }
    Proxy::new(url).map_err(|e| anyhow::anyhow!("{source}: not a usable proxy URL ({e})"))
}

/// Whether a `NO_PROXY` list covers `host`, as curl reads it: `*` covers everything; an
/// entry covers its own host name and every name under it (a leading `.` or `*.` is
/// optional); ports are ignored.
pub fn no_proxy_covers(list: &str, host: &str) -> bool {
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
