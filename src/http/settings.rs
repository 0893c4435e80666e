//! What the user gives for HTTP beside the URL: extra headers and trusted certificates.

use anyhow::{Result, bail};
use ureq::http::{HeaderName, HeaderValue};
use ureq::tls::{Certificate, PemItem, parse_pem};

/// The most a `--cacert` file may hold: a whole system bundle is about 200 KiB.
const MAX_CACERT: usize = 4 * 1024 * 1024;

/// Where the system's trust roots are read from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SystemRoots {
    /// As OpenSSL would: `SSL_CERT_FILE` and `SSL_CERT_DIR` if set, else the system's store.
    #[default]
    Native,
    /// Only these: what `SSL_CERT_FILE` and `SSL_CERT_DIR` name, less what could not be
    /// read safely.
    Paths {
        file: Option<std::path::PathBuf>,
        dirs: Vec<std::path::PathBuf>,
    },
}

/// The largest `SSL_CERT_FILE` read (Debian's bundle is about 200 KiB).
const MAX_CERT_FILE: u64 = 16 << 20;

/// Where the system's trust roots come from, by the environment. What could block forever
/// or fill the memory (and hold up the final ping with it) is left unread, with a warning
/// when `tls` (the agent will speak TLS): an `SSL_CERT_FILE` that is not a regular file (a
/// FIFO, `/dev/zero`) or is over 16 MiB, and an `SSL_CERT_DIR` directory holding anything
/// but such files and directories. The built-in roots stand in when nothing is left.
/// Without `tls` nothing is looked at.
pub fn system_roots(env: &dyn Fn(&str) -> Option<String>, tls: bool) -> SystemRoots {
    if !tls {
        // Nothing will be read.
        return SystemRoots::Native;
    }
    let warn = |what: &str, path: &str, why: &str| {
        crate::msg::say(&format!(
            "warning: {what} ({}) {why}; not reading it",
            crate::msg::printable(path)
        ));
    };
    // Empty is unset, as everywhere in hcwrap.
    let file = env("SSL_CERT_FILE").filter(|f| !f.is_empty());
    let dirs = env("SSL_CERT_DIR");
    let mut dropped = false;
    let file = file.filter(|file| {
        let fits = std::fs::metadata(file).is_ok_and(|m| m.is_file() && m.len() <= MAX_CERT_FILE);
        if !fits {
            warn(
                "SSL_CERT_FILE",
                file,
                "is not a readable regular file of at most 16 MiB",
            );
            dropped = true;
        }
        fits
    });
    let dirs: Vec<std::path::PathBuf> = std::env::split_paths(&dirs.unwrap_or_default())
        .filter(|dir| !dir.as_os_str().is_empty())
        .filter(|dir| {
            let safe = only_files(dir);
            if !safe {
                warn(
                    "SSL_CERT_DIR",
                    &dir.to_string_lossy(),
                    "holds a file that is not a regular file",
                );
                dropped = true;
            }
            safe
        })
        .collect();
    if dropped {
        SystemRoots::Paths {
            file: file.map(std::path::PathBuf::from),
            dirs,
        }
    } else {
        SystemRoots::Native
    }
}

/// Whether every entry of `dir` is a regular file of at most 16 MiB or a directory
/// (symbolic links followed).
fn only_files(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |entries| {
        entries.flatten().all(|entry| {
            std::fs::metadata(entry.path()).map_or(true, |m| {
                (m.is_file() && m.len() <= MAX_CERT_FILE) || m.is_dir()
            })
        })
    })
}

pub fn read_cacert(path: &std::path::Path) -> Result<Vec<Certificate<'static>>> {
    let shown = path.display();
    let pem = crate::small_file::read("--cacert", &shown.to_string(), path, MAX_CACERT)?;
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

/// Parses `Name: value`. The value may be a credential, so messages show only the name,
/// and of a header not well formed only its first characters that a name can hold.
pub fn parse_header(header: &str) -> Result<(HeaderName, HeaderValue)> {
    // What a message may show of a header that is not well formed: its first characters
    // that a header name can hold, and none after them.
    let shown = |text: &str| {
        let end = text
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(text.len());
        format!("{}…", &text[..end])
    };
    let Some((name, value)) = header.split_once(':') else {
        // With no ':' it may all be the value (`-H "$TOKEN"`): at most its start is shown.
        bail!(
            "--header: '{}' has no ':'; give it as 'Name: value'",
            crate::check::redact_partial(header)
        );
    };
    let name = name.trim();
    let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        anyhow::anyhow!(
            "--header: '{}' is not a valid header name (letters, digits and '-')",
            shown(name)
        )
    })?;
    // The request's framing and routing are hcwrap's: a second Content-Length or a
    // Transfer-Encoding would garble the request (and desynchronise a kept connection).
    if [
        "content-length",
        "transfer-encoding",
        "connection",
        "host",
        "content-type",
    ]
    .iter()
    .any(|framing| name.eq_ignore_ascii_case(framing))
    {
        let hint = if name.eq_ignore_ascii_case("host") {
            " (for a probe, use --host)"
        } else {
            ""
        };
        bail!("--header: {name} is set by hcwrap itself and cannot be given{hint}");
    }
    let value = HeaderValue::from_str(value.trim()).map_err(|_| {
        anyhow::anyhow!("--header: the value of '{name}' has characters a header cannot carry")
    })?;
    Ok((header_name, value))
}

#[cfg(test)]
mod tests {
    use super::parse_header;

    #[test]
    fn header_mistakes_never_show_the_value() {
        let err = |h: &str| parse_header(h).unwrap_err().to_string();
        assert_eq!(
            err("X-Api-Key=TOPSECRET"),
            "--header: 'X-Ap…' has no ':'; give it as 'Name: value'"
        );
        // A bare token (`-H "$TOKEN"`) shows its first characters only, a short one none.
        assert_eq!(
            err("s3cr3tT0kenValueXYZ"),
            "--header: 's3cr…' has no ':'; give it as 'Name: value'"
        );
        assert_eq!(
            err("s3cr3tT0ken"),
            "--header: '…' has no ':'; give it as 'Name: value'"
        );
        assert_eq!(err(""), "--header: '' has no ':'; give it as 'Name: value'");
        assert_eq!(
            err("Authorization Bearer TOPSECRET"),
            "--header: 'Auth…' has no ':'; give it as 'Name: value'"
        );
        assert_eq!(
            err("X-A\r\nAuthorization: Bearer TOPSECRET"),
            "--header: 'X-A…' is not a valid header name (letters, digits and '-')"
        );
        assert!(!err("X-Token: TOP\nSECRET").contains("TOP"));
        for framing in [
            "Content-Length: 9",
            "transfer-encoding: chunked",
            "Host: x",
            "Content-Type: a/b",
        ] {
            assert!(
                err(framing).contains("is set by hcwrap itself"),
                "{framing}"
            );
        }
    }
}
