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
/// terminal, or split the line, are shown escaped (`\n`, `\u{1b}`), and so are the
/// characters that reorder or break a line without showing (bidirectional overrides and
/// isolates, the line and paragraph separators).
pub fn printable(text: &str) -> String {
    text.chars()
        .fold(String::with_capacity(text.len()), |mut out, c| {
            if c.is_control() || is_invisible_layout(c) {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
            out
        })
}

/// U+061C and U+200E/F (direction marks), U+202A to U+202E and U+2066 to U+2069
/// (overrides, isolates), U+2028 and U+2029 (line and paragraph separators), U+200B to
/// U+200D, U+180E and U+FEFF (zero-width characters), U+FFF9 to U+FFFB (interlinear
/// annotation) and the tag characters U+E0000 to U+E007F.
fn is_invisible_layout(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{180e}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{e0000}'..='\u{e007f}'
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn bidirectional_overrides_and_separators_are_escaped() {
        assert_eq!(
            super::printable("a\u{202e}b\u{2028}c\u{2066}d\u{61c}e\u{feff}"),
            "a\\u{202e}b\\u{2028}c\\u{2066}d\\u{61c}e\\u{feff}"
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            super::printable("OK\u{1b}[2J\r\nnext\u{9b}1m café"),
            "OK\\u{1b}[2J\\r\\nnext\\u{9b}1m café"
        );
    }
}
