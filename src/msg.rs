//! hcwrap's own messages: one line each on stderr, starting `hcwrap:`.
//!
//! Writes ignore errors on purpose: a closed or broken stderr must never stop the run or
//! the final ping (`eprintln!` would panic).

use std::io::Write;

/// Prints `hcwrap: <text>` as one line on stderr.
pub fn say(text: &str) {
    let line = format!("hcwrap: {text}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Text that came from outside (a server's answer, a file name) as it can be shown in a
/// message: control characters, which could move the cursor, recolour or clear a
/// terminal, or split the line, are shown escaped (`\n`, `\u{1b}`).
pub fn printable(text: &str) -> String {
    text.chars()
        .fold(String::with_capacity(text.len()), |mut out, c| {
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
            out
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            super::printable("OK\u{1b}[2J\r\nnext\u{9b}1m café"),
            "OK\\u{1b}[2J\\r\\nnext\\u{9b}1m café"
        );
    }
}
