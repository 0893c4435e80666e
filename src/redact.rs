//! `--redact` and `--redact-env`: values that must not leave the machine in a ping body.
//!
//! The replacement is made on the kept tail, once, when the body is built: the tail is
//! one contiguous buffer by then, so a value that the command printed across two writes
//! (and hcwrap read in two chunks) is found like any other. Where the ring buffer dropped
//! the front of the output, the tail may begin with the end of a value; so after such a
//! cut the first bytes that could belong to one are left out too.

/// What replaces each value.
pub const MARK: &[u8] = b"[redacted]";

/// `tail` with every occurrence of each value replaced by [`MARK`], longest values first.
/// When `cut` (output before `tail` was dropped), up to the longest value's length minus
/// one bytes are dropped from the front as well. Returns the text and how many bytes of
/// `tail` were dropped that way.
pub fn apply(tail: &[u8], values: &[String], cut: bool) -> (Vec<u8>, usize) {
    let mut values: Vec<&[u8]> = values
        .iter()
        .map(String::as_bytes)
        .filter(|v| !v.is_empty())
        .collect();
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    let skip = if cut {
        values
            .first()
            .map_or(0, |longest| (longest.len() - 1).min(tail.len()))
    } else {
        0
    };
    let tail = &tail[skip..];
    let mut out = Vec::with_capacity(tail.len());
    let mut i = 0;
    'scan: while i < tail.len() {
        for value in &values {
            if tail[i..].starts_with(value) {
                out.extend_from_slice(MARK);
                i += value.len();
                continue 'scan;
            }
        }
        out.push(tail[i]);
        i += 1;
    }
    (out, skip)
}

#[cfg(test)]
mod tests {
    use super::apply;

    fn redact(tail: &str, values: &[&str], cut: bool) -> (String, usize) {
        let values: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
        let (out, skipped) = apply(tail.as_bytes(), &values, cut);
        (String::from_utf8(out).unwrap(), skipped)
    }

    #[test]
    fn every_occurrence_is_replaced() {
        assert_eq!(
            redact("pw=hunter2 again hunter2.", &["hunter2"], false).0,
            "pw=[redacted] again [redacted]."
        );
        assert_eq!(
            redact("nothing here", &["hunter2"], false).0,
            "nothing here"
        );
    }

    #[test]
    fn longer_values_win_over_their_prefixes() {
        assert_eq!(
            redact("token=abcdef", &["abc", "abcdef"], false).0,
            "token=[redacted]"
        );
    }

    #[test]
    fn after_a_cut_the_end_of_a_value_is_not_shown() {
        // The ring kept "ter2 ...": the start of the value was dropped.
        // Up to six bytes (the value's length less one) go, whatever they were.
        assert_eq!(
            redact("ter2 done", &["hunter2"], true),
            ("one".to_owned(), 6)
        );
        assert_eq!(redact("2", &["hunter2"], true), (String::new(), 1));
    }

    #[test]
    fn empty_values_are_ignored() {
        assert_eq!(redact("abc", &[""], true), ("abc".to_owned(), 0));
    }
}
