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
    /// The line around the match (at most [`CONTEXT`] bytes either side), lossily decoded.
    pub excerpt: String,
}

impl Match {
    /// How the body and the local line name it: `stderr line 3 matched --fail-on 'ERROR': ...`.
    pub fn describe(&self) -> String {
        let stream = if self.stream == 0 { "stdout" } else { "stderr" };
        format!(
            "{stream} line {} matched --fail-on '{}': {}",
            self.line,
            crate::msg::printable(&self.pattern),
            crate::msg::printable(&self.excerpt)
        )
    }
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
            let from = at.saturating_sub(CONTEXT);
            let to = text.len().min(at + pattern.len() + CONTEXT);
            self.found = Some(Match {
                stream,
                line: line.number,
                pattern: pattern.clone(),
                excerpt: String::from_utf8_lossy(&text[from..to]).into_owned(),
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
        assert_eq!(m.excerpt, "ERROR: disk");
        assert_eq!(
            m.describe(),
            "stdout line 2 matched --fail-on 'ERROR': ERROR: disk"
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
                assert!(m.excerpt.contains("FAILED"), "{}", m.excerpt);
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
        assert!(m.excerpt.ends_with("needle"));
    }
}
