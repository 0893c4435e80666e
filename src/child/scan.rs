//! `--fail-on`: the output's lines searched, as they stream, for texts that mean the run
//! failed.
//!
//! Each stream is searched on its own, line by line, as it is read, in the pieces the
//! pipe gives. A text that one read cuts in two is still found: the end of the line read
//! so far (one byte less than the longest text, and [`CONTEXT`] more to show) is kept and
//! searched with the start of the next piece. Memory stays bounded whatever a line's length. The first match is
//! kept, with its stream, its line number and a piece of the line around it; searching
//! then stops, since one match decides.

use memchr::memmem::Finder;

/// The most of a matched line kept to show, either side of the match.
const CONTEXT: usize = 80;

/// A line that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// 0 for stdout, 1 for stderr.
    pub stream: usize,
    /// The line's number in its stream, from 1.
    pub line: u64,
    /// The text that matched.
    pub pattern: String,
    /// The line around the match: at most [`CONTEXT`] bytes either side, cut between
    /// characters.
    pub excerpt: Vec<u8>,
    /// Whether the line goes on before and after the excerpt.
    pub cut: (bool, bool),
}

impl Match {
    /// How the body and the local line name it: `stderr line 3 matched --fail-on 'ERROR':
    /// ...`. The excerpt is output, so it is shown only where the output is (`show`), and
    /// with the `--redact` values (`redact`) hidden: also a value that the excerpt's edge
    /// cuts, since the bytes that could be part of one are left out there.
    pub fn describe(&self, show: bool, redact: &[String]) -> String {
        let stream = if self.stream == 0 { "stdout" } else { "stderr" };
        let head = format!(
            "{stream} line {} matched --fail-on '{}'",
            self.line,
            crate::msg::printable(&self.pattern),
        );
        if !show {
            return head;
        }
        let longest = redact.iter().map(String::len).max().unwrap_or(0);
        let (mut excerpt, _) =
            crate::redact::apply(&self.excerpt, redact, self.cut.0 && longest > 0);
        if self.cut.1 {
            // The longest end that could start a value the next bytes would complete.
            let len = excerpt.len();
            if let Some(k) = (1..longest.min(len + 1)).rev().find(|&k| {
                redact
                    .iter()
                    .any(|v| v.len() > k && v.as_bytes().starts_with(&excerpt[len - k..]))
            }) {
                excerpt.truncate(len - k);
            }
        }
        format!(
            "{head}: {}",
            crate::msg::printable(&String::from_utf8_lossy(&excerpt))
        )
    }
}

/// `from..to` of `text` moved inwards to the nearest character boundaries.
fn between_characters(text: &[u8], mut from: usize, mut to: usize) -> (usize, usize) {
    let continuation = |b: u8| b & 0xc0 == 0x80;
    while from < to && continuation(text[from]) {
        from += 1;
    }
    while to > from && to < text.len() && continuation(text[to]) {
        to -= 1;
    }
    (from, to)
}

/// One stream's place in its current line.
#[derive(Debug, Default)]
struct Line {
    /// The current line's number, from 1.
    number: u64,
    /// The end of the line read so far: at most the longest text less one byte, and
    /// [`CONTEXT`] bytes.
    carry: Vec<u8>,
}

/// The search of both streams.
#[derive(Debug)]
pub struct Scanner {
    patterns: Vec<(String, Finder<'static>)>,
    longest: usize,
    lines: [Line; 2],
    found: Option<Match>,
    /// A piece of output, reused: the carry with the start of the next piece.
    joined: Vec<u8>,
}

impl Scanner {
    /// A search for `patterns` (none empty, none holding a newline: config.rs checks).
    pub fn new(patterns: &[String]) -> Self {
        let line = || Line {
            number: 1,
            carry: Vec::new(),
        };
        Scanner {
            patterns: patterns
                .iter()
                .map(|p| (p.clone(), Finder::new(p.as_bytes()).into_owned()))
                .collect(),
            longest: patterns.iter().map(String::len).max().unwrap_or(1),
            lines: [line(), line()],
            found: None,
            joined: Vec::new(),
        }
    }

    /// Searches the next piece of `stream`'s output.
    pub fn feed(&mut self, stream: usize, data: &[u8]) {
        let mut rest = data;
        while self.found.is_none() && !rest.is_empty() {
            let (segment, ends_line) = match memchr::memchr(b'\n', rest) {
                Some(at) => (&rest[..at], true),
                None => (rest, false),
            };
            self.search(stream, segment);
            let line = &mut self.lines[stream];
            if ends_line {
                line.number += 1;
                line.carry.clear();
                rest = &rest[segment.len() + 1..];
            } else {
                // Keep the line's last bytes for a text the next read completes.
                let keep = self.longest - 1 + CONTEXT;
                if segment.len() >= keep {
                    line.carry.clear();
                    line.carry
                        .extend_from_slice(&segment[segment.len() - keep..]);
                } else {
                    line.carry.extend_from_slice(segment);
                    let excess = line.carry.len().saturating_sub(keep);
                    line.carry.drain(..excess);
                }
                rest = &[];
            }
        }
    }

    /// Searches `segment`, a piece of the current line, and where it meets what came
    /// before it on that line.
    fn search(&mut self, stream: usize, segment: &[u8]) {
        let line = &self.lines[stream];
        let mut hit: Option<(usize, usize, &[u8])> = None;
        if !line.carry.is_empty() {
            self.joined.clear();
            self.joined.extend_from_slice(&line.carry);
            self.joined
                .extend_from_slice(&segment[..segment.len().min(self.longest - 1 + CONTEXT)]);
            for (i, (_, finder)) in self.patterns.iter().enumerate() {
                if let Some(at) = finder.find(&self.joined) {
                    hit = Some((i, at, &self.joined));
                    break;
                }
            }
        }
        if hit.is_none() {
            for (i, (_, finder)) in self.patterns.iter().enumerate() {
                if let Some(at) = finder.find(segment) {
                    hit = Some((i, at, segment));
                    break;
                }
            }
        }
        if let Some((i, at, text)) = hit {
            let pattern = &self.patterns[i].0;
            let (from, to) = between_characters(
                text,
                at.saturating_sub(CONTEXT),
                text.len().min(at + pattern.len() + CONTEXT),
            );
            self.found = Some(Match {
                stream,
                line: line.number,
                pattern: pattern.clone(),
                excerpt: text[from..to].to_vec(),
                // Before the excerpt: more of the line, if it does not start the line read
                // so far. After it: the line may always go on in the next read.
                cut: (from > 0, true),
            });
        }
    }

    /// The first line that matched, if one did.
    pub fn finish(self) -> Option<Match> {
        self.found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(patterns: &[&str], pieces: &[(usize, &[u8])]) -> Option<Match> {
        let patterns: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        let mut scanner = Scanner::new(&patterns);
        for (stream, piece) in pieces {
            scanner.feed(*stream, piece);
        }
        scanner.finish()
    }

    #[test]
    fn a_text_is_found_in_its_line_and_stream() {
        let m = scan(&["ERROR"], &[(0, b"ok\nERROR: disk\n"), (1, b"x\n")]).unwrap();
        assert_eq!((m.stream, m.line), (0, 2));
        assert_eq!(m.excerpt, b"ERROR: disk");
        assert_eq!(
            m.describe(true, &[]),
            "stdout line 2 matched --fail-on 'ERROR': ERROR: disk"
        );
        assert_eq!(
            m.describe(false, &[]),
            "stdout line 2 matched --fail-on 'ERROR'"
        );
        let m = scan(&["nope", "fatal"], &[(0, b"a\nb\n"), (1, b"1\n2 fatal\n")]).unwrap();
        assert_eq!((m.stream, m.line, m.pattern.as_str()), (1, 2, "fatal"));
        assert_eq!(scan(&["ERROR"], &[(0, b"error\nERR\nOR\n")]), None);
    }

    #[test]
    fn a_text_cut_by_reads_is_found_in_every_place_it_can_be_cut() {
        let text = b"line one\nthe backup FAILED here\n";
        for cut in 0..=text.len() {
            for second in cut..=text.len() {
                let m = scan(
                    &["FAILED"],
                    &[
                        (0, &text[..cut]),
                        (1, b"noise FAI"),
                        (0, &text[cut..second]),
                        (0, &text[second..]),
                    ],
                );
                let m = m.unwrap_or_else(|| panic!("cut at {cut}, {second}"));
                assert_eq!((m.stream, m.line), (0, 2), "cut at {cut}, {second}");
                let excerpt = String::from_utf8_lossy(&m.excerpt).into_owned();
                assert!(excerpt.contains("FAILED"), "{excerpt}");
            }
        }
        // A text split by a newline is two lines, not a match.
        assert_eq!(scan(&["AB"], &[(0, b"xA"), (0, b"\nB")]), None);
    }

    #[test]
    fn a_long_line_keeps_memory_bounded_and_the_excerpt_short() {
        let mut scanner = Scanner::new(&["needle".to_owned()]);
        for _ in 0..1000 {
            scanner.feed(0, &[b'x'; 4096]);
            assert!(scanner.lines[0].carry.len() <= 5 + CONTEXT);
        }
        scanner.feed(0, b"needle");
        let m = scanner.finish().unwrap();
        assert_eq!(m.line, 1);
        assert!(m.excerpt.len() <= 2 * CONTEXT + 6, "{}", m.excerpt.len());
        assert!(m.excerpt.ends_with(b"needle"));
    }

    #[test]
    fn the_excerpt_hides_redacted_values_even_where_its_edges_cut_them() {
        let secret = "hunter2SECRET".to_owned();
        let line = format!(
            "{}{secret} ERROR {secret}{}",
            "x".repeat(75),
            "y".repeat(75)
        );
        let m = scan(&["ERROR"], &[(1, line.as_bytes())]).unwrap();
        let shown = m.describe(true, std::slice::from_ref(&secret));
        assert!(
            !shown.contains("hunter2") && !shown.contains("SECRET"),
            "{shown}"
        );
        assert!(
            !shown.contains("ECRET") && !shown.contains("hunte"),
            "{shown}"
        );
        assert!(shown.contains("[redacted] ERROR [redacted]"), "{shown}");
        // Cut between characters, never inside one.
        let euros = format!("{}ERROR{}", "€".repeat(40), "€".repeat(40));
        let m = scan(&["ERROR"], &[(0, euros.as_bytes())]).unwrap();
        assert!(!m.describe(true, &[]).contains('\u{fffd}'));
    }
}
