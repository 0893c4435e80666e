//! http and https URLs, as far as hcwrap needs them: parsed strictly (a port over 65535
//! or a space in the path is an error, not a guess), compared by origin, and a redirect's
//! `Location` resolved against the URL that answered with it as RFC 3986 (section 5.2)
//! says.

use std::fmt;

/// An http or https URL. The fragment, which never goes to a server, is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    https: bool,
    /// `user:password`, still percent-encoded, if the URL has it.
    userinfo: Option<String>,
    /// Lower case; an IPv6 address keeps its brackets.
    host: String,
    /// The port as written, if one was.
    port: Option<u16>,
    /// Starts with `/`.
    path: String,
    query: Option<String>,
}

/// Who a request goes to: scheme, host and port. Credentials, headers and bodies go only
/// to the origin the user named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    https: bool,
    host: String,
    port: u16,
}

/// Why a text is not a usable URL; the caller says which flag it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    /// Not `http://` or `https://` (the scheme, if it had one).
    Scheme(Option<String>),
    NoHost,
    /// The port is not a number from 1 to 65535 (as written).
    Port(String),
    /// A character a URL cannot hold here (a space, a control character, ...).
    Character,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Scheme(None) => f.write_str("is not an http:// or https:// URL"),
            UrlError::Scheme(Some(s)) => {
                write!(
                    f,
                    "is not an http:// or https:// URL ({s}: is not supported)"
                )
            }
            UrlError::NoHost => f.write_str("has no host name"),
            UrlError::Port(p) => write!(f, "has port '{p}', which is not a port (1 to 65535)"),
            UrlError::Character => f.write_str(
                "has a character a URL cannot hold (a space, a quote, a control character)",
            ),
        }
    }
}

impl Url {
    /// Parses an absolute http or https URL.
    pub fn parse(text: &str) -> Result<Url, UrlError> {
        let (scheme, rest) = split_scheme(text).ok_or(UrlError::Scheme(None))?;
        let https = match scheme.to_ascii_lowercase().as_str() {
            "http" => false,
            "https" => true,
            other => return Err(UrlError::Scheme(Some(other.to_owned()))),
        };
        let rest = rest.strip_prefix("//").ok_or(UrlError::Scheme(None))?;
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path_and_query) = rest.split_at(authority_end);
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo.to_owned()), host_port),
            None => (None, authority),
        };
        // Credentials may be UTF-8 text (curl sends them so); nothing else may be raw.
        if userinfo
            .as_deref()
            .is_some_and(|u| !u.bytes().all(|b| is_url_byte(b) || b >= 0x80))
        {
            return Err(UrlError::Character);
        }
        let (host, port) = split_port(host_port)?;
        if host.is_empty() || host == "[]" {
            return Err(UrlError::NoHost);
        }
        // An IPv6 address in brackets, whole; brackets nowhere else.
        let bracketed = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
        match bracketed {
            Some(inside) if inside.parse::<std::net::Ipv6Addr>().is_err() => {
                return Err(UrlError::Character);
            }
            // A second port, or an encoded character, would be sent as a broken host.
            None if host.contains(['[', ']', ':', '%']) => return Err(UrlError::Character),
            _ => {}
        }
        if !host.bytes().all(|b| is_url_byte(b) && b != b'@') {
            return Err(UrlError::Character);
        }
        let (path, query) = split_query(path_and_query);
        if !path_and_query.bytes().all(is_url_byte) {
            return Err(UrlError::Character);
        }
        Ok(Url {
            https,
            userinfo,
            host: host.to_ascii_lowercase(),
            port,
            path: if path.is_empty() {
                "/".to_owned()
            } else {
                path.to_owned()
            },
            query: query.map(str::to_owned),
        })
    }

    /// The URL a redirect's `Location` (an absolute URL or a reference relative to this
    /// one) points to, as RFC 3986 section 5.2 resolves it.
    pub fn join(&self, reference: &str) -> Result<Url, UrlError> {
        let reference = reference.trim();
        let reference = reference
            .split_once('#')
            .map_or(reference, |(before, _)| before);
        if split_scheme(reference).is_some() {
            return Url::parse(reference);
        }
        if reference.starts_with("//") {
            let scheme = if self.https { "https:" } else { "http:" };
            return Url::parse(&format!("{scheme}{reference}"));
        }
        if !reference.bytes().all(is_url_byte) {
            return Err(UrlError::Character);
        }
        let (ref_path, ref_query) = split_query(reference);
        let mut joined = self.clone();
        if ref_path.is_empty() {
            joined.query = ref_query.map(str::to_owned).or(self.query.clone());
            return Ok(joined);
        }
        let merged = if ref_path.starts_with('/') {
            ref_path.to_owned()
        } else {
            // Section 5.2.3: the base path up to its last '/', then the reference.
            let dir = &self.path[..self.path.rfind('/').map_or(0, |i| i + 1)];
            format!("{dir}{ref_path}")
        };
        joined.path = remove_dot_segments(&merged);
        joined.query = ref_query.map(str::to_owned);
        Ok(joined)
    }

    /// Scheme, host and effective port.
    pub fn origin(&self) -> Origin {
        Origin {
            https: self.https,
            host: self.host.clone(),
            port: self.port(),
        }
    }

    pub fn is_https(&self) -> bool {
        self.https
    }

    /// The host name or address (IPv6 in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port requests go to: the one written, else the scheme's.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(if self.https { 443 } else { 80 })
    }

    /// `user:password` as written (percent-encoded), if the URL has it.
    pub fn userinfo(&self) -> Option<&str> {
        self.userinfo.as_deref()
    }

    /// The path, from its leading `/`.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// This URL without credentials.
    #[must_use]
    pub fn without_userinfo(mut self) -> Url {
        self.userinfo = None;
        self
    }

    /// This URL with `other`'s credentials (or none, if it has none) in place of its own.
    #[must_use]
    pub fn with_userinfo_of(mut self, other: &Url) -> Url {
        self.userinfo.clone_from(&other.userinfo);
        self
    }

    /// `scheme://host[:port]`, with no credentials: what messages may show of a URL.
    pub fn shown_origin(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        match self.port {
            Some(port) => format!("{scheme}://{}:{port}", self.host),
            None => format!("{scheme}://{}", self.host),
        }
    }
}

impl fmt::Display for Url {
    /// The whole URL, credentials included: what is sent, never what is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://")?;
        if let Some(userinfo) = &self.userinfo {
            write!(f, "{userinfo}@")?;
        }
        f.write_str(&self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        f.write_str(&self.path)?;
        if let Some(query) = &self.query {
            write!(f, "?{query}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://{}:{}", self.host, self.port)
    }
}

/// `scheme` and what follows `scheme:`, if `text` starts with a scheme (RFC 3986 3.1).
fn split_scheme(text: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = text.split_once(':')?;
    let mut bytes = scheme.bytes();
    let first = bytes.next()?;
    (first.is_ascii_alphabetic()
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
    .then_some((scheme, rest))
}

/// The host and the port of `host[:port]` (an IPv6 address in brackets).
fn split_port(host_port: &str) -> Result<(&str, Option<u16>), UrlError> {
    let port_start = match host_port.rfind(']') {
        Some(bracket) => host_port[bracket..].find(':').map(|i| bracket + i),
        None => host_port.rfind(':'),
    };
    let Some(colon) = port_start else {
        return Ok((host_port, None));
    };
    let (host, port) = (&host_port[..colon], &host_port[colon + 1..]);
    if port.is_empty() {
        return Ok((host, None));
    }
    match port.parse::<u16>() {
        Ok(n) if n > 0 && port.bytes().all(|b| b.is_ascii_digit()) => Ok((host, Some(n))),
        _ => Err(UrlError::Port(port.chars().take(12).collect())),
    }
}

/// The path and the query of `path[?query]`.
fn split_query(text: &str) -> (&str, Option<&str>) {
    match text.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (text, None),
    }
}

/// Printable ASCII other than the space and the characters RFC 3986 never allows
/// unencoded (`"`, `<`, `>`, `\`, `^`, backquote, `{`, `|`, `}`).
fn is_url_byte(b: u8) -> bool {
    b.is_ascii_graphic()
        && !matches!(
            b,
            b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
        )
}

/// RFC 3986 section 5.2.4.
fn remove_dot_segments(path: &str) -> String {
    let mut input = path;
    let mut output: Vec<&str> = Vec::new();
    while !input.is_empty() {
        if let Some(rest) = input
            .strip_prefix("../")
            .or_else(|| input.strip_prefix("./"))
        {
            input = rest;
        } else if input.starts_with("/./") {
            input = &input[2..];
        } else if input == "/." {
            input = "/";
        } else if input.starts_with("/../") || input == "/.." {
            input = if input == "/.." { "/" } else { &input[3..] };
            output.pop();
        } else if input == "." || input == ".." {
            input = "";
        } else {
            // The first segment, with its leading '/' if any, up to the next '/'.
            let start = usize::from(input.starts_with('/'));
            let end = input[start..].find('/').map_or(input.len(), |i| start + i);
            output.push(&input[..end]);
            input = &input[end..];
        }
    }
    output.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("a valid URL")
    }

    #[test]
    fn urls_parse_strictly() {
        let u = url("HTTPS://Alice:p%40ss@HC.Example.com:8443/ping/x?create=1#frag");
        assert!(u.is_https());
        assert_eq!(u.userinfo(), Some("Alice:p%40ss"));
        assert_eq!(u.host(), "hc.example.com");
        assert_eq!(u.port(), 8443);
        assert_eq!((u.path(), u.query()), ("/ping/x", Some("create=1")));
        assert_eq!(
            u.to_string(),
            "https://Alice:p%40ss@hc.example.com:8443/ping/x?create=1"
        );
        assert_eq!(u.shown_origin(), "https://hc.example.com:8443");
        assert_eq!(url("http://[::1]/").port(), 80);
        assert_eq!(url("http://[::1]:8000").host(), "[::1]");
        assert_eq!(url("http://h:/p").port(), 80);

        let err = |text: &str| Url::parse(text).expect_err(text);
        assert_eq!(
            err("http://127.0.0.1:99999/x"),
            UrlError::Port("99999".into())
        );
        assert_eq!(err("http://h:0/x"), UrlError::Port("0".into()));
        assert_eq!(err("http://h:8o/x"), UrlError::Port("8o".into()));
        assert_eq!(err("ftp://h/x"), UrlError::Scheme(Some("ftp".into())));
        assert_eq!(err("hc-ping.com/x"), UrlError::Scheme(None));
        assert_eq!(err("http:/h/x"), UrlError::Scheme(None));
        assert_eq!(err("http:///x"), UrlError::NoHost);
        assert_eq!(err("http://h/a b"), UrlError::Character);
        assert_eq!(err("http://h/a\r\nX: y"), UrlError::Character);
        assert_eq!(err("http://[::1:9/x"), UrlError::Character);
        assert_eq!(err("http://[nothex]/x"), UrlError::Character);
        assert_eq!(err("http://127.0.0.1:1:2/x"), UrlError::Character);
        assert_eq!(err("http://127.0.0.1%3a2/x"), UrlError::Character);
    }

    #[test]
    fn references_resolve_as_rfc_3986_says() {
        // The examples of RFC 3986 section 5.4, with an http base.
        let base = url("http://a/b/c/d;p?q");
        for (reference, want) in [
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g/"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p?q"),
            ("g#s", "http://a/b/c/g"),
            (";x", "http://a/b/c/;x"),
            ("", "http://a/b/c/d;p?q"),
            (".", "http://a/b/c/"),
            ("./", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../g", "http://a/g"),
            ("../../../g", "http://a/g"),
            ("/./g", "http://a/g"),
            ("/../g", "http://a/g"),
            ("g.", "http://a/b/c/g."),
            ("..g", "http://a/b/c/..g"),
            ("./../g", "http://a/b/g"),
            ("g/./h", "http://a/b/c/g/h"),
            ("g/../h", "http://a/b/c/h"),
            ("g;x=1/../y", "http://a/b/c/y"),
            ("g?y/./x", "http://a/b/c/g?y/./x"),
            ("https://other:8443/p", "https://other:8443/p"),
        ] {
            assert_eq!(
                base.join(reference).map(|u| u.to_string()),
                Ok(want.to_owned()),
                "{reference}"
            );
        }
        // A '/' in the query does not move the base's directory.
        let base = url("http://h:1/ping/x?next=/a/b");
        assert_eq!(
            base.join("y").map(|u| u.to_string()),
            Ok("http://h:1/ping/y".to_owned())
        );
        // `//other/p` is another host, not a path.
        let joined = base.join("//other/p").expect("a URL");
        assert_eq!((joined.host(), joined.path()), ("other", "/p"));
        assert_ne!(joined.origin(), base.origin());
    }

    #[test]
    fn origins_compare_scheme_host_and_effective_port() {
        assert_eq!(url("http://H:80/a").origin(), url("http://h/b?c").origin());
        assert_eq!(
            url("https://u:p@h/a").origin(),
            url("https://h:443/").origin()
        );
        assert_ne!(url("http://h/").origin(), url("https://h/").origin());
        assert_ne!(
            url("http://h:8000/").origin(),
            url("http://h:8001/").origin()
        );
        assert_ne!(url("http://h/").origin(), url("http://h.evil/").origin());
    }
}
