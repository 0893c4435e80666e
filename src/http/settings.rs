//! What the user gives for HTTP beside the URL: extra headers and trusted certificates.

use anyhow::{Context, Result, bail};
use ureq::http::{HeaderName, HeaderValue};
use ureq::tls::{Certificate, PemItem, parse_pem};

pub fn read_cacert(path: &std::path::Path) -> Result<Vec<Certificate<'static>>> {
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
pub fn parse_header(header: &str) -> Result<(HeaderName, HeaderValue)> {
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
