//! The final ping's body: the tail of the output plus hcwrap's notes, always valid UTF-8
//! and never over the limit.
//!
//! The server keeps only the first `Ping-Body-Limit` bytes of a body and cuts in bytes,
//! possibly inside a character; with keyword filtering it rejects invalid UTF-8 outright.
//! So hcwrap cuts the body itself, from the front (the end of a log says what went wrong),
//! on character boundaries, and turns invalid bytes into U+FFFD. Every line hcwrap adds
//! starts with `[hcwrap]`, and the notes count against the limit.

const REPLACEMENT: &str = "\u{FFFD}";

/// What the child printed, as kept by the ring buffer.
pub struct Output<'a> {
    /// The last bytes of the output, oldest first.
    pub kept: &'a [u8],
    /// How many bytes the child printed in all.
    pub total: u64,
}

/// A body before it is cut to a limit: what is kept of the output and how much was
/// printed in all, and hcwrap's notes. Kept so that a body can be built again for another
/// limit (a report delivered late, to the server's limit then).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parts {
    /// The output's tail and the total printed; `None` for a body without output.
    pub output: Option<(Vec<u8>, u64)>,
    /// hcwrap's notes, least important first.
    pub notes: Vec<String>,
}

impl Parts {
    /// The body within `limit` bytes (see [`build`]).
    pub fn build(&self, limit: usize) -> String {
        let output = self.output.as_ref().map(|(kept, total)| Output {
            kept,
            total: *total,
        });
        build(output, &self.notes, limit)
    }
}

/// Builds a body of at most `limit` bytes: a note on what was left out (when anything
/// was), the tail of `output`, and `notes` as the last lines (each gets `[hcwrap] `).
pub fn build(output: Option<Output<'_>>, notes: &[String], limit: usize) -> String {
    // Notes go whole or not at all: a note cut at the front could show a wrong number
    // ("5 bytes" of "588895 bytes"). The last notes (how the run ended) are kept first.
    let mut end = String::new();
    for note in notes.iter().rev() {
        let line = format!("[hcwrap] {note}\n");
        if end.len() + line.len() <= limit {
            end.insert_str(0, &line);
        }
    }
    let Some(output) = output else {
        return end;
    };

    let dropped_by_ring = output.total - output.kept.len() as u64;
    let mut raw = output.kept;
    let mut dropped_at_front = 0;
    if dropped_by_ring > 0 {
        // The ring may have cut inside a character: skip its orphaned continuation
        // bytes instead of showing them as U+FFFD.
        while dropped_at_front < 3 && raw.first().is_some_and(|b| b & 0xC0 == 0x80) {
            raw = &raw[1..];
            dropped_at_front += 1;
        }
    }

    // One byte to end the output's last line before the end note, if it needs it.
    let separator = usize::from(!end.is_empty());
    let text_budget = limit.saturating_sub(end.len() + separator);
    let decoded = decoded_len(raw);
    let (budget, head_room) = if dropped_by_ring == 0 && decoded <= text_budget {
        (decoded, 0)
    } else {
        // The note on what was left out, if it fits whole (else no note at all).
        let head_room = left_out_note(output.total).len();
        if head_room <= text_budget {
            (text_budget - head_room, head_room)
        } else {
            (text_budget, 0)
        }
    };

    // One allocation for the whole body: the text is decoded into it, then the note goes
    // in front, into room reserved for the longest it can be (the count is at most the
    // total). The output's tail is the largest thing hcwrap holds; it is not copied twice.
    let mut body = String::with_capacity(decoded.min(budget) + head_room + separator + end.len());
    let cut = decode_tail(raw, decoded, budget, &mut body);
    let dropped = dropped_by_ring + dropped_at_front + cut as u64;
    if dropped > 0 && head_room > 0 {
        body.insert_str(0, &left_out_note(dropped));
    }
    if !end.is_empty() && !body.is_empty() && !body.ends_with('\n') {
        if body.len() + 1 + end.len() > limit {
            // No room for the separator: give up one character of output for it.
            let at = (1..=body.len())
                .find(|&i| body.is_char_boundary(body.len() - i))
                .map_or(0, |i| body.len() - i);
            body.truncate(at);
        }
        if !body.is_empty() {
            body.push('\n');
        }
    }
    body.push_str(&end);
    body
}

fn left_out_note(bytes: u64) -> String {
    format!("[hcwrap] {bytes} bytes of output left out\n")
}

/// The length of `raw` once invalid sequences are replaced by U+FFFD.
fn decoded_len(raw: &[u8]) -> usize {
    raw.utf8_chunks()
        .map(|c| {
            c.valid().len()
                + if c.invalid().is_empty() {
                    0
                } else {
                    REPLACEMENT.len()
                }
        })
        .sum()
}

/// Decodes `raw` lossily onto the end of `text`, keeping at most `budget` bytes from its
/// end. Returns how many bytes of `raw` were left out. Works in one pass without a copy
/// of the output, so binary output (one replacement per byte) costs no extra memory.
fn decode_tail(raw: &[u8], decoded: usize, budget: usize, text: &mut String) -> usize {
    let mut skip = decoded.saturating_sub(budget);
    let mut raw_skipped = 0;
    for chunk in raw.utf8_chunks() {
        let invalid = chunk.invalid();
        let pieces = [
            (chunk.valid(), chunk.valid().len()),
            (REPLACEMENT, invalid.len()),
        ];
        for (piece, raw_len) in pieces {
            if raw_len == 0 {
                continue;
            }
            if skip == 0 {
                text.push_str(piece);
            } else if skip >= piece.len() || piece == REPLACEMENT {
                // A replacement character is not split: it goes whole.
                skip = skip.saturating_sub(piece.len());
                raw_skipped += raw_len;
            } else {
                let at = (skip..piece.len())
                    .find(|&i| piece.is_char_boundary(i))
                    .unwrap_or(piece.len());
                text.push_str(&piece[at..]);
                raw_skipped += at;
                skip = 0;
            }
        }
    }
    raw_skipped
}

#[cfg(test)]
mod tests {
    use super::{Output, build};

    #[allow(clippy::unnecessary_wraps)] // build() takes an Option.
    fn out(kept: &[u8], total: u64) -> Option<Output<'_>> {
        Some(Output { kept, total })
    }

    proptest::proptest! {
        /// Never over the limit, always valid UTF-8 (a String), the notes last.
        #[test]
        fn never_over_the_limit(
            kept in proptest::collection::vec(proptest::num::u8::ANY, 0..3000),
            earlier in 0u64..100_000,
            with_note in proptest::bool::ANY,
            limit in 0usize..4000,
        ) {
            let notes: Vec<String> = if with_note { vec!["exit status 3".into()] } else { vec![] };
            let total = earlier + kept.len() as u64;
            let body = build(Some(Output { kept: &kept, total }), &notes, limit);
            proptest::prop_assert!(body.len() <= limit);
            if with_note && limit >= 200 {
                proptest::prop_assert!(body.ends_with("[hcwrap] exit status 3\n"));
            }
        }

        /// For text, what is sent plus what the note says was left out is what was printed,
        /// and what is sent is the end of it.
        #[test]
        fn the_tail_is_kept_and_the_rest_counted(
            text in proptest::collection::vec(0x20u8..0x7f, 0..3000),
            earlier in 0u64..100_000,
            limit in 60usize..4000,
        ) {
            let total = earlier + text.len() as u64;
            let body = build(Some(Output { kept: &text, total }), &[], limit);
            let (left_out, sent) = match body.strip_prefix("[hcwrap] ") {
                Some(rest) => {
                    let (count, sent) = rest.split_once(" bytes of output left out\n").unwrap();
                    (count.parse::<u64>().unwrap(), sent)
                }
                None => (0, body.as_str()),
            };
            proptest::prop_assert_eq!(left_out + sent.len() as u64, total);
            proptest::prop_assert!(text.ends_with(sent.as_bytes()));
        }
    }

    #[test]
    fn small_output_goes_whole() {
        assert_eq!(build(out(b"hello\n", 6), &[], 100), "hello\n");
    }

    #[test]
    fn end_note_goes_on_its_own_line() {
        let body = build(out(b"oops", 4), &["exit status 3".into()], 100);
        assert_eq!(body, "oops\n[hcwrap] exit status 3\n");
    }

    #[test]
    fn no_output_gives_just_the_note() {
        assert_eq!(
            build(out(b"", 0), &["killed by SIGKILL".into()], 100),
            "[hcwrap] killed by SIGKILL\n"
        );
        assert_eq!(
            build(None, &["not found: x".into()], 100),
            "[hcwrap] not found: x\n"
        );
        assert_eq!(build(None, &[], 100), "");
    }

    #[test]
    fn cut_keeps_the_tail_and_counts_what_was_left_out() {
        let data: Vec<u8> = (0..1000u32)
            .map(|i| b'a' + u8::try_from(i % 26).unwrap())
            .collect();
        let body = build(out(&data, 1000), &["exit status 1".into()], 200);
        assert!(body.len() <= 200, "{} bytes", body.len());
        let note = body.lines().next().unwrap();
        let left_out: usize = note
            .strip_prefix("[hcwrap] ")
            .and_then(|n| n.strip_suffix(" bytes of output left out"))
            .unwrap()
            .parse()
            .unwrap();
        let text = body.lines().nth(1).unwrap();
        assert_eq!(left_out + text.len(), 1000);
        assert!(data.ends_with(text.as_bytes()));
        assert!(body.ends_with("\n[hcwrap] exit status 1\n"));
    }

    #[test]
    fn ring_drops_are_counted() {
        let body = build(out(b"tail\n", 5000), &[], 1000);
        assert_eq!(body, "[hcwrap] 4995 bytes of output left out\ntail\n");
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        let body = build(out(b"ok \xff\xfe end\n", 10), &[], 100);
        assert_eq!(body, "ok \u{FFFD}\u{FFFD} end\n");
    }

    #[test]
    fn cuts_fall_on_character_boundaries() {
        let text = "ééééé".repeat(40); // 400 bytes of two-byte characters
        for limit in 50..80 {
            let body = build(out(text.as_bytes(), 400), &[], limit);
            assert!(body.len() <= limit);
            assert!(body.ends_with("éé"));
        }
    }

    #[test]
    fn a_ring_cut_inside_a_character_is_not_shown_as_garbage() {
        // "é" is C3 A9; the ring kept only its second byte.
        let body = build(out(b"\xa9abc", 10), &[], 100);
        assert_eq!(body, "[hcwrap] 7 bytes of output left out\nabc");
    }

    #[test]
    fn binary_output_stays_under_the_limit() {
        let data = vec![0xffu8; 5000];
        for limit in [0, 1, 10, 60, 100, 1000] {
            let body = build(out(&data, 5000), &["exit status 2".into()], limit);
            assert!(body.len() <= limit, "limit {limit}: {} bytes", body.len());
        }
    }

    #[test]
    fn a_note_that_does_not_fit_whole_is_left_out() {
        let body = build(out(b"abc", 3), &["exit status 3".into()], 10);
        assert_eq!(body, "abc");
        // The issue's case: seq 100000 with --body-limit 50; "5 bytes of output left
        // out" was the end of "588895 bytes of output left out".
        let text: Vec<u8> = (1..=100_000)
            .flat_map(|i: u32| format!("{i}\n").into_bytes())
            .collect();
        let body = build(out(&text, text.len() as u64), &["exit status 3".into()], 50);
        assert!(body.len() <= 50, "{body:?}");
        assert!(!body.contains("left out"), "{body:?}");
        assert!(
            body.ends_with("99999\n100000\n[hcwrap] exit status 3\n"),
            "{body:?}"
        );
        // With room for it, the note is there and its count is exact.
        let body = build(out(&text, text.len() as u64), &["exit status 3".into()], 80);
        let (note, rest) = body.split_once('\n').unwrap();
        let sent = rest.strip_suffix("[hcwrap] exit status 3\n").unwrap();
        assert!(text.ends_with(sent.as_bytes()));
        assert_eq!(
            note,
            format!(
                "[hcwrap] {} bytes of output left out",
                text.len() - sent.len()
            )
        );
    }
}
