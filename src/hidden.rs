//! Values kept out of what hcwrap prints: a check's UUID or ping key, a URL's credentials,
//! `--header` values. Each is replaced by how it may be shown (`1f1c…`, `…@`, `…`), in any
//! letter case, longest first, wherever it occurs: in hcwrap's own messages and in any
//! text of a server's that a message quotes.

/// The shortest piece of a value that is hidden wherever it appears.
const PIECE: usize = 8;

/// A set of values and how each is shown instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hidden(Vec<(String, String)>);

impl Hidden {
    /// Hides `secret`, showing `shown` instead (an empty secret hides nothing).
    pub fn add(&mut self, secret: &str, shown: &str) {
        if !secret.is_empty() {
            self.0.push((secret.to_owned(), shown.to_owned()));
        }
    }

    /// Hides each of `values` (`--header` values) as `…`. Values under 4 characters are
    /// left alone: hiding them would garble every message.
    pub fn add_values<'a>(&mut self, values: impl IntoIterator<Item = &'a str>) {
        for value in values {
            if value.chars().count() >= 4 {
                self.add(value, "…");
            }
        }
    }

    /// Hides a URL's `user:password` (as written, percent-encoded): `user:password@` is
    /// shown as `…@`, and the password alone (as written and decoded) and the Basic
    /// authorization they make (with or without its padding) as `…`.
    pub fn add_credentials(&mut self, userinfo: &str) {
        self.add(&format!("{userinfo}@"), "…@");
        let basic = base64(&decoded_userinfo(userinfo));
        self.add(basic.trim_end_matches('='), "…");
        // The password, or the user name where there is no password (a token given as
        // `https://TOKEN@host/`), as written, decoded, and in base64.
        let secret = match userinfo.split_once(':') {
            Some((_, password)) if !password.is_empty() => password,
            _ => user_or_all(userinfo),
        };
        let decoded = percent_decode(secret);
        for form in [
            secret.to_owned(),
            String::from_utf8_lossy(&decoded).into_owned(),
            base64(&decoded).trim_end_matches('=').to_owned(),
        ] {
            if form.chars().count() >= 4 {
                self.add(&form, "…");
            }
        }
    }

    /// Adds every value of `other`.
    pub fn extend(&mut self, other: &Hidden) {
        self.0.extend(other.0.iter().cloned());
    }

    /// `text` with every value replaced by how it is shown, then any piece of
    /// [`PIECE`] characters or more of a value (a server may quote one cut short, split
    /// or glued to other text) by `…`.
    pub fn apply(&self, text: &str) -> String {
        let mut values: Vec<&(String, String)> = self.0.iter().collect();
        // Longest first: a value that holds another is replaced whole.
        values.sort_by_key(|(secret, _)| std::cmp::Reverse(secret.len()));
        let text = values
            .iter()
            .fold(text.to_owned(), |text, (secret, shown)| {
                replace_ignoring_case(&text, secret, shown)
            });
        self.hide_pieces(&text)
    }

    /// `text` with each run of characters that is covered by pieces of [`PIECE`]
    /// characters of a value (in any letter case) replaced by `…`.
    fn hide_pieces(&self, text: &str) -> String {
        // Most text a message quotes is a short answer ("OK"): nothing to look for.
        if text.chars().count() < PIECE {
            return text.to_owned();
        }
        let lower = |s: &str| -> Vec<char> { s.chars().map(|c| c.to_ascii_lowercase()).collect() };
        let pieces: std::collections::HashSet<Vec<char>> = self
            .0
            .iter()
            .flat_map(|(secret, _)| {
                let chars = lower(secret);
                chars
                    .windows(PIECE)
                    .map(<[char]>::to_vec)
                    .collect::<Vec<_>>()
            })
            .collect();
        let chars: Vec<char> = text.chars().collect();
        let folded = lower(text);
        let mut covered = vec![false; chars.len()];
        for (i, window) in folded.windows(PIECE).enumerate() {
            if pieces.contains(window) {
                covered[i..i + PIECE].iter_mut().for_each(|c| *c = true);
            }
        }
        let mut out = String::with_capacity(text.len());
        for (i, c) in chars.iter().enumerate() {
            match (covered[i], i > 0 && covered[i - 1]) {
                (false, _) => out.push(*c),
                (true, false) => out.push('…'),
                (true, true) => {}
            }
        }
        out
    }
}

/// The user part of `user:` or of a bare `user`.
fn user_or_all(userinfo: &str) -> &str {
    userinfo.split(':').next().unwrap_or(userinfo)
}

/// The `Authorization` value for a URL's `user:password`, decoded first as curl does
/// (`p%40ss` is the password `p@ss`; `%FF` is the byte 0xFF).
pub fn basic_authorization(userinfo: &str) -> String {
    format!("Basic {}", base64(&decoded_userinfo(userinfo)))
}

/// `user:password` with each part percent-decoded, as bytes.
fn decoded_userinfo(userinfo: &str) -> Vec<u8> {
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    [
        percent_decode(user),
        b":".to_vec(),
        percent_decode(password),
    ]
    .concat()
}

/// `%XX` sequences decoded, as bytes.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

/// Standard base64 with padding, as in `Authorization: Basic`.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `text` with every ASCII-case-insensitive occurrence of `from` replaced by `to`.
fn replace_ignoring_case(text: &str, from: &str, to: &str) -> String {
    let (haystack, needle) = (text.to_ascii_lowercase(), from.to_ascii_lowercase());
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    // ASCII lower-casing keeps every byte where it was, so positions carry over.
    for (start, _) in haystack.match_indices(&needle) {
        out.push_str(&text[last..start]);
        out.push_str(to);
        last = start + needle.len();
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_decoded_for_sending_and_hidden_in_every_form() {
        assert_eq!(base64(b"alice:SECRETPW"), "YWxpY2U6U0VDUkVUUFc=");
        assert_eq!(base64(b"ab"), "YWI=");
        // As curl sends it: alice:Pw@ss:w/rd%SecretVal!
        assert_eq!(
            basic_authorization("alice:Pw%40ss%3Aw%2Frd%25SecretVal%21"),
            "Basic YWxpY2U6UHdAc3M6dy9yZCVTZWNyZXRWYWwh"
        );
        let mut hidden = Hidden::default();
        hidden.add_credentials("alice:S%40CRETPW");
        hidden.add_values(["SECRETVALUE", "abc"]);
        let quoted = "alice:S%40CRETPW@h S%40CRETPW S@CRETPW YWxpY2U6U0BDUkVUUFc= \
                      YWxpY2U6U0BDUkVUUFc Basic%20YWxpY2U6U0BDUkVUUFc%3D secretvalue abc";
        assert_eq!(hidden.apply(quoted), "…@h … … …= … Basic%20…%3D … abc");
    }

    #[test]
    fn pieces_and_other_forms_of_a_secret_are_hidden() {
        let mut hidden = Hidden::default();
        hidden.add_credentials("TOKEN1234567:");
        hidden.add_credentials("alice:s3cretPassw0rd");
        hidden.add("1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b", "1f1c…");
        let said = hidden.apply(
            "[TOKEN1234567] s3cretPassw0 xxcretPassw0rdyy czNjcmV0UGFzc3cwcmQ= \
             1f1c2e3d_4b5a_6978_8a9b_0c1d2e3f4a5b 78-8a9b-0c1d2e3f4a5b ok",
        );
        assert_eq!(said, "[…] … xx…yy …= …_4b5a_6978_8a9b_… … ok");
        // Non-UTF-8 escapes are decoded to their bytes, as curl sends them.
        assert_eq!(basic_authorization("%C3%A9:%FF"), "Basic w6k6/w==");
    }

    #[test]
    fn longer_values_go_first() {
        let mut hidden = Hidden::default();
        hidden.add("abcd", "A…");
        hidden.add("?check=abcdefgh", "…");
        assert_eq!(hidden.apply("x?check=abcdefgh abcd"), "x… A…");
    }
}
