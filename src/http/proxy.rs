//! Which proxy a check's pings go through: `--proxy`, else the environment's, as curl
//! reads it.

use std::net::IpAddr;

use anyhow::{Result, bail};
use ureq::Proxy;

use crate::check::Check;
use crate::http::Url;

/// `--proxy`, else the proxy the environment names for the check's scheme, as curl reads
/// them: `https_proxy` or `HTTPS_PROXY` for https; for http only `http_proxy`, never
/// `HTTP_PROXY` (a CGI-style environment may set that from a request's `Proxy:` header:
/// "httpoxy"); then `all_proxy` or `ALL_PROXY`. Unless `no_proxy` (else `NO_PROXY`) covers
/// the check's host. A redirect is followed only to the same host, so the decision holds
/// for it too.
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
        &["http_proxy", "all_proxy", "ALL_PROXY"]
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
    // Only plain HTTP proxies are supported (hcwrap tunnels through them with CONNECT). A
    // SOCKS or https proxy must be refused here: a SOCKS one would be gone around, and
    // TLS to the proxy itself is not supported.
    if let Some((scheme, _)) = url.split_once("://")
        && !scheme.eq_ignore_ascii_case("http")
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

/// Whether a `NO_PROXY` list covers `host`, by curl's rules (lib/noproxy.c): the list is
/// split at commas and blanks; `*` as the whole list covers everything; a host name is covered by an
/// entry equal to it or to a domain it is under (`example.org` and `.example.org` both
/// cover `hc.example.org`, not `badexample.org`), in any case, a trailing dot on either
/// side ignored; an IP address only by an equal address or a CIDR range that holds it
/// (`10.0.0.0/8`, `fd00::/8`), never by a suffix. One addition to curl: an entry may carry
/// brackets and a port (`[::1]:8080`, `localhost:8000`), which curl would never match;
/// hcwrap matches the host and ignores the port.
pub fn no_proxy_covers(list: &str, host: &str) -> bool {
    if list == "*" {
        return true;
    }
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let ip: Option<IpAddr> = host.parse().ok();
    let name = host.strip_suffix('.').unwrap_or(host);
    list.split([',', ' ', '\t'])
        .filter(|token| !token.is_empty())
        .map(without_port)
        .any(|token| match ip {
            Some(ip) => ip_matches(ip, token),
            None => name_matches(name, token),
        })
}

/// An entry without brackets and port: `[::1]:8080` is `::1`, `host:80` is `host`.
fn without_port(token: &str) -> &str {
    if let Some(rest) = token.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((inside, _)) => inside,
            None => rest,
        };
    }
    match token.split_once(':') {
        // One colon and digits after it: a port (an IPv6 address has more colons).
        Some((name, port))
            if !port.is_empty()
                && !port.contains(':')
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            name
        }
        _ => token,
    }
}

fn name_matches(name: &str, token: &str) -> bool {
    let token = token.strip_suffix('.').unwrap_or(token);
    let token = token.strip_prefix('.').unwrap_or(token);
    if token.is_empty() || token.len() > name.len() {
        return false;
    }
    let tail = &name[name.len() - token.len()..];
    tail.eq_ignore_ascii_case(token)
        && (token.len() == name.len() || name.as_bytes()[name.len() - token.len() - 1] == b'.')
}

fn ip_matches(ip: IpAddr, token: &str) -> bool {
    let (network, bits) = match token.split_once('/') {
        Some((network, bits)) => (network, bits.parse::<u32>().ok()),
        None => (token, None),
    };
    let Ok(network) = network.parse::<IpAddr>() else {
        return false;
    };
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            // As in curl, /0 (or no number) means the whole address.
            let bits = bits.filter(|&b| b > 0).unwrap_or(32);
            bits <= 32
                && prefix_eq(
                    u128::from(u32::from(ip)) << 96,
                    u128::from(u32::from(net)) << 96,
                    bits,
                )
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let bits = bits.filter(|&b| b > 0).unwrap_or(128);
            bits <= 128 && prefix_eq(u128::from(ip), u128::from(net), bits)
        }
        _ => false,
    }
}

/// Whether the first `bits` bits of `a` and `b` are equal.
fn prefix_eq(a: u128, b: u128, bits: u32) -> bool {
    bits == 0 || (a ^ b) >> (128 - bits) == 0
}

#[cfg(test)]
mod tests {
    use super::no_proxy_covers as covers;

    #[test]
    fn host_names_match_as_curl_matches_them() {
        assert!(covers("*", "anything"));
        assert!(!covers(" * ", "anything"), "only '*' itself, as in curl");
        assert!(
            !covers("*.example.org", "hc.example.org"),
            "curl has no wildcards"
        );
        assert!(covers("example.org", "hc.example.org"));
        assert!(covers("a, .example.org", "example.org"));
        assert!(covers("a b\tEXAMPLE.org.", "hc.example.org."));
        assert!(covers("example.org", "example.org."));
        assert!(!covers("example.org", "badexample.org"));
        assert!(!covers("", "example.org"));
        assert!(!covers(",,", "example.org"));
        assert!(covers("localhost:8000", "localhost"));
    }

    #[test]
    fn addresses_match_whole_or_by_range() {
        assert!(covers("127.0.0.1", "127.0.0.1"));
        assert!(!covers("0.1", "10.0.0.1"), "no suffix match for addresses");
        assert!(!covers("1.2.3", "10.1.2.3"));
        assert!(covers("10.0.0.0/8", "10.20.30.40"));
        assert!(!covers("10.0.0.0/8", "11.0.0.1"));
        assert!(covers("192.168.1.0/24, fd00::/8", "192.168.1.77"));
        assert!(!covers("10.0.0.0/33", "10.0.0.1"));
        assert!(
            !covers("10.0.0.0/0", "10.0.0.1"),
            "/0 is the whole address, as in curl"
        );
        assert!(covers("10.0.0.1:8080", "10.0.0.1"));
        assert!(covers("::1", "[::1]"));
        assert!(covers("[::1]:8080", "[::1]"));
        assert!(covers("[::1]", "[::1]"));
        assert!(covers("fd00::/8", "[fd12:3456::1]"));
        assert!(!covers("fd00::/8", "[fe80::1]"));
        assert!(!covers("::1", "127.0.0.1"));
        assert!(
            !covers("localhost", "127.0.0.1"),
            "names never cover addresses"
        );
    }
}
