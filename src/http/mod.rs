//! All of hcwrap's HTTP policy, for the pings and for `hcwrap probe`: how agents are
//! built (trust roots, proxy, resolver, transport), which redirects are followed, which
//! errors are worth a retry, and how errors are put in words.
//!
//! **Redirects.** ureq follows none; the pings follow a redirect only to the same origin
//! (scheme, host and port) as the URL the user named, at most [`MAX_REDIRECTS`] of them,
//! and send the body and every `--header` again there. A redirect to any other origin
//! (another host or port, https to http, or http to https) is refused, not followed:
//! the job's output, the headers and the URL's credentials go only where the user said.
//! The ping is then not delivered, and the message names the origin it pointed to, so
//! that the user can put that URL in the configuration if it is right. `probe` follows no
//! redirect at all.

pub mod proxy;
mod resolve;
pub mod settings;
mod transport;
pub mod url;

use std::time::Duration;

use ureq::config::Config;
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::{Agent, Proxy};

pub use url::Url;

use crate::msg::printable;
use settings::SystemRoots;

/// The most headers an answer may have (ureq's limit).
pub const MAX_ANSWER_HEADERS: usize = 128;

/// The most redirects one attempt follows.
pub const MAX_REDIRECTS: usize = 5;

/// The longest answer head (status line and headers) hcwrap reads; a ping's answer has a
/// few hundred bytes.
pub const ANSWER_HEAD_LIMIT: usize = 16 * 1024;

/// What an agent is built for.
#[derive(Debug, Default)]
pub struct AgentSpec<'a> {
    /// The time limit of a request (a request may set a shorter one).
    pub timeout: Option<Duration>,
    /// The proxy, if any (ureq never reads the environment itself).
    pub proxy: Option<Proxy>,
    /// Certificates to trust beside the system's, when the agent will speak TLS; `None`
    /// when it will not, and the trust store is then not read (a few milliseconds).
    pub tls: Option<&'a [Certificate<'static>]>,
    /// Where the system's certificates are read from.
    pub system_roots: SystemRoots,
}

/// The agent for `spec`, as every request of hcwrap's is made: an answer's status is an
/// answer, not an error; ureq follows no redirect (see [`redirect`]); answer heads over
/// [`ANSWER_HEAD_LIMIT`] are refused; ureq's usual transport (proxies, TLS) runs over this
/// module's TCP connector and resolver (see `transport.rs` and `resolve.rs`).
pub fn agent(spec: AgentSpec<'_>) -> Agent {
    let mut config = Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("hcwrap/", env!("CARGO_PKG_VERSION")))
        .timeout_global(spec.timeout)
        // ureq's default 128 KiB input and output buffers are zeroed on the first
        // request: 64 page faults and a quarter of hcwrap's memory, for answers of a few
        // hundred bytes. The input buffer also bounds the answer's head: a little larger
        // than the limit, so that a head over the limit is reported as such rather than
        // as a connection that stopped making progress.
        .input_buffer_size(ANSWER_HEAD_LIMIT + 1024)
        .max_response_header_size(ANSWER_HEAD_LIMIT)
        .output_buffer_size(16 * 1024)
        .proxy(spec.proxy);
    if let Some(extra) = spec.tls {
        config = config.tls_config(
            TlsConfig::builder()
                .root_certs(root_certs(&spec.system_roots, extra))
                .build(),
        );
    }
    with_parts(config.build())
}

fn with_parts(config: Config) -> Agent {
    Agent::with_parts(
        config,
        transport::connector(),
        resolve::LiteralFirst::default(),
    )
}

/// The trust roots: the system's certificates (from where `system` says), or the built-in
/// Mozilla roots where the system has none (a scratch container); and `--cacert`'s beside
/// either.
pub fn root_certs(system: &SystemRoots, extra: &[Certificate<'static>]) -> RootCerts {
    let native = match system {
        SystemRoots::Native => rustls_native_certs::load_native_certs().certs,
        SystemRoots::Paths { file, dirs } => {
            let mut certs = match file {
                Some(file) => rustls_native_certs::load_certs_from_paths(Some(file), None).certs,
                None => Vec::new(),
            };
            for dir in dirs {
                certs.extend(rustls_native_certs::load_certs_from_paths(None, Some(dir)).certs);
            }
            certs
        }
    };
    combine(&native, extra)
}

/// [`root_certs`] from the system's certificates as loaded.
fn combine<D: AsRef<[u8]>>(native: &[D], extra: &[Certificate<'static>]) -> RootCerts {
    if native.is_empty() && extra.is_empty() {
        return RootCerts::WebPki;
    }
    let base: Vec<Certificate<'static>> = if native.is_empty() {
        // The same Mozilla set as `RootCerts::WebPki`, as whole certificates, so that
        // `--cacert` can be added to it.
        webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .map(|der| Certificate::from_der(der.as_ref()).to_owned())
            .collect()
    } else {
        native
            .iter()
            .map(|der| Certificate::from_der(der.as_ref()).to_owned())
            .collect()
    };
    RootCerts::from(base.into_iter().chain(extra.iter().cloned()))
}

/// Where a redirect goes next, by the rule in the module documentation.
#[derive(Debug, PartialEq, Eq)]
pub enum Hop {
    /// To this URL, on the same origin.
    Follow(Url),
    /// Not followed: why, for a message (no credentials in it).
    Refuse(String),
}

/// The next hop from `from` for a redirect answer with this `Location`.
pub fn redirect(from: &Url, location: Option<&str>) -> Hop {
    let Some(location) = location else {
        return Hop::Refuse("a redirect without a Location".to_owned());
    };
    match from.join(location) {
        // The same server: the URL's credentials go along, as they would on the first hop;
        // the server never chooses others (a Location with a user and password of its own).
        Ok(next) if next.origin() == from.origin() => Hop::Follow(next.with_userinfo_of(from)),
        Ok(next) => Hop::Refuse(format!(
            "a redirect to {}, which is not where the ping was sent ({}); hcwrap sends \
             pings only to the origin it was given: if that is the right server, give its \
             URL instead",
            next.shown_origin(),
            from.shown_origin()
        )),
        Err(e) => Hop::Refuse(format!("a redirect to a Location that {e}")),
    }
}

/// Whether an error from ureq is worth another attempt: not when retrying cannot change
/// the outcome (a certificate that is not trusted, a proxy that refuses the tunnel, a URL
/// or proxy ureq cannot use).
pub fn is_transient(error: &ureq::Error) -> bool {
    match error {
        ureq::Error::BadUri(_)
        | ureq::Error::Http(_)
        | ureq::Error::InvalidProxyUrl
        | ureq::Error::ConnectProxyFailed(_)
        | ureq::Error::Tls(_)
        | ureq::Error::Pem(_)
        | ureq::Error::Rustls(_)
        | ureq::Error::RequireHttpsOnly(_)
        | ureq::Error::TlsRequired => false,
        // rustls reports a failed handshake (an untrusted or expired certificate, a name
        // that does not match) as invalid data on the connection.
        ureq::Error::Io(e) => e.kind() != std::io::ErrorKind::InvalidData,
        _ => true,
    }
}

/// A network error in words, for a message; for an error not worth a retry, with what to
/// do about it. Text in it that came from elsewhere (a certificate's names, a proxy's
/// answer) goes through `hide` first, then is escaped and cut to [`QUOTED`] characters:
/// hidden before the cut, so that no piece of a secret is left at it.
pub fn describe(error: &ureq::Error, timeout: Duration, hide: &dyn Fn(&str) -> String) -> String {
    let quoted = |text: &str| {
        let text = hide(text);
        let cut: String = text.chars().take(QUOTED).collect();
        let more = if text.chars().count() > QUOTED {
            "…"
        } else {
            ""
        };
        format!("{}{more}", printable(&cut))
    };
    match error {
        ureq::Error::Timeout(_) => {
            format!("no answer within {}", humantime::format_duration(timeout))
        }
        ureq::Error::HostNotFound => "host not found".to_owned(),
        ureq::Error::ConnectionFailed => "connection failed".to_owned(),
        ureq::Error::Protocol(e) if e.to_string().contains("too many headers") => format!(
            "the answer has more than {MAX_ANSWER_HEADERS} headers (a ping's answer has a few)"
        ),
        ureq::Error::LargeResponseHeader(..) => format!(
            "the answer's headers are over {} KiB (a ping's answer has a few hundred bytes)",
            ANSWER_HEAD_LIMIT / 1024
        ),
        ureq::Error::ConnectProxyFailed(why) => format!(
            "the proxy refused to open a tunnel to the server ({}): check the proxy's \
             address and credentials, or that it allows this host",
            quoted(why)
        ),
        ureq::Error::Rustls(e) => tls_advice(&quoted(&e.to_string())),
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            tls_advice(&quoted(&e.to_string()))
        }
        ureq::Error::Io(e) => quoted(&e.to_string()),
        other => quoted(&other.to_string()),
    }
}

/// The most characters of an error's text that a message quotes.
const QUOTED: usize = 200;

/// A TLS failure (its text already hidden, escaped and cut) with what to do about it.
fn tls_advice(error: &str) -> String {
    let lower = error.to_ascii_lowercase();
    let says = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    let advice = if says(&["unknownissuer", "unknown issuer"]) {
        "if the server uses a certificate of your own authority, give it with --cacert"
    } else if says(&["notvalidforname", "not valid for name"]) {
        "the certificate is not for the host in the URL: check the URL"
    } else if says(&["expired", "notvalidyet", "not valid yet"]) {
        "the certificate is out of its dates (or this machine's clock is wrong)"
    } else {
        "check the server's certificate and TLS setup"
    };

    format!(
        "the secure connection failed ({}): {advice}",
        printable(error)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("a valid URL")
    }

    #[test]
    fn cacert_is_trusted_beside_the_built_in_roots_where_the_system_has_none() {
        let extra = Certificate::from_der(b"not parsed here").to_owned();
        let none: &[Vec<u8>] = &[];
        let RootCerts::Specific(roots) = combine(none, std::slice::from_ref(&extra)) else {
            panic!("not a list of certificates");
        };
        assert_eq!(
            roots.len(),
            webpki_root_certs::TLS_SERVER_ROOT_CERTS.len() + 1
        );
        assert!(roots.iter().any(|c| c.der() == extra.der()));
        assert!(matches!(combine(none, &[]), RootCerts::WebPki));
    }

    #[test]
    fn tls_errors_are_escaped_and_advise_what_fits() {
        let error = ureq::Error::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "invalid peer certificate: NotValidForName: DnsName(\"evil\u{1b}[2J\nhcwrap: forged\")",
        ));
        let said = describe(&error, Duration::from_secs(1), &|t| t.to_owned());
        assert!(!said.contains('\u{1b}') && !said.contains('\n'), "{said}");
        assert!(said.ends_with("the certificate is not for the host in the URL: check the URL"));
        assert!(
            tls_advice("invalid peer certificate: UnknownIssuer")
                .ends_with("give it with --cacert")
        );
    }

    #[test]
    fn only_same_origin_redirects_are_followed() {
        let from = url("https://user:pw@hc.example/ping/x?rid=1");
        let followed = |location| match redirect(&from, Some(location)) {
            Hop::Follow(next) => next.to_string(),
            Hop::Refuse(why) => panic!("{location} was refused: {why}"),
        };
        assert_eq!(followed("/ping/y"), "https://user:pw@hc.example/ping/y");
        assert_eq!(
            followed("https://HC.example:443/p"),
            "https://user:pw@hc.example:443/p"
        );
        assert_eq!(
            followed("https://bob:other@hc.example/p"),
            "https://user:pw@hc.example/p"
        );
        for location in [
            "http://hc.example/ping/x",
            "https://hc.example:8443/ping/x",
            "https://login.example/?next=/ping/x",
            "//login.example/p",
        ] {
            let Hop::Refuse(why) = redirect(&from, Some(location)) else {
                panic!("{location} was followed");
            };
            assert!(!why.contains("pw"), "{why}");
            assert!(!why.contains("next="), "{why}");
        }
        assert!(matches!(redirect(&from, None), Hop::Refuse(_)));
        assert!(matches!(
            redirect(&from, Some("http://h:99999/")),
            Hop::Refuse(_)
        ));
    }
}
