//! Name resolution for the pings: an address given as an IP literal is used as it is.
//!
//! ureq's own resolver runs every lookup on a fresh thread (so that a lookup can time
//! out) and does so for every request, even when the URL names an address and the
//! connection is already open: two thread start-ups per run that a loopback or LAN
//! server such as `http://10.0.0.5:8000` does not need. Host names still go to ureq's
//! resolver, with its timeout.
//!
//! The resolver trait is part of ureq's `unversioned` API, which may change in a minor
//! release; Cargo.toml pins ureq to the exact version this is built against.

use std::net::{IpAddr, SocketAddr};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// Resolves IP literals at once and host names through ureq's [`DefaultResolver`].
#[derive(Debug, Default)]
pub struct LiteralFirst {
    names: DefaultResolver,
}

impl Resolver for LiteralFirst {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        match literal(uri) {
            Some(address) => {
                let mut addresses = self.empty();
                addresses.push(address);
                Ok(addresses)
            }
            None => self.names.resolve(uri, config, timeout),
        }
    }
}

/// The socket address `uri` names, if its host is an IP address rather than a name.
fn literal(uri: &Uri) -> Option<SocketAddr> {
    let host = uri.host()?;
    // An IPv6 address comes in brackets.
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let ip: IpAddr = host.parse().ok()?;
    let port = uri.port_u16().or(match uri.scheme_str() {
        Some("http") => Some(80),
        Some("https") => Some(443),
        _ => None,
    })?;
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(uri: &str) -> Option<SocketAddr> {
        literal(&uri.parse().expect("a valid URI"))
    }

    #[test]
    fn ip_literals_are_used_as_they_are() {
        assert_eq!(
            parse("http://127.0.0.1:8000/ping/x"),
            Some("127.0.0.1:8000".parse().expect("address"))
        );
        assert_eq!(
            parse("https://[::1]/ping/x"),
            Some("[::1]:443".parse().expect("address"))
        );
        assert_eq!(
            parse("http://10.0.0.5/x"),
            Some("10.0.0.5:80".parse().expect("address"))
        );
    }

    #[test]
    fn names_and_odd_schemes_are_left_to_the_lookup() {
        assert_eq!(parse("https://hc-ping.com/x"), None);
        assert_eq!(parse("http://localhost:8000/x"), None);
        assert_eq!(parse("socks5://127.0.0.1/x"), None);
    }
}
