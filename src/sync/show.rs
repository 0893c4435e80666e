//! What `hcwrap sync` prints: the plan's table and each changed file as a diff, with what
//! could be a secret cut short. Printing never fails the run: a closed stdout loses the
//! plan, not the work.

use std::io::Write as _;
use std::time::Duration;

use super::plan::{Action, Entry};
use super::sources::{Place, Source};
use crate::check::{is_uuid, redact_partial};
use crate::msg::printable;

/// Prints one line to stdout; a stdout that is closed or full loses it.
pub fn out(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// The plan, as a table.
pub fn table(entries: &[Entry]) {
    let rows: Vec<[String; 6]> = entries
        .iter()
        .map(|e| {
            let skipped = matches!(e.action, Action::Skip(_));
            let dash = |s: String| if skipped { "-".to_owned() } else { s };
            [
                cut(&e.label, 48),
                dash(e.slug.clone()),
                dash(printable(&e.schedule.replace('\n', "; "))),
                dash(printable(&e.tz)),
                dash(humantime::format_duration(Duration::from_secs(e.grace)).to_string()),
                match &e.action {
                    Action::Create => "create".to_owned(),
                    Action::Update(what) => format!("update ({what})"),
                    Action::Unchanged => "unchanged".to_owned(),
                    Action::Skip(why) => format!("skip: {why}"),
                    Action::Failed(why) => format!("failed: {why}"),
                },
            ]
        })
        .collect();
    let header = ["JOB", "SLUG", "SCHEDULE", "TZ", "GRACE", "ACTION"].map(str::to_owned);
    let mut widths = [0; 6];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (w, cell)) in widths.iter().zip(row).enumerate() {
            line.push_str(cell);
            if i < 5 {
                line.push_str(&" ".repeat(w - cell.chars().count() + 2));
            }
        }
        out(line.trim_end());
    }
    if entries.is_empty() {
        out("(no jobs)");
    }
}

/// Each changed source as a diff of its lines.
pub fn diffs(sources: &[Source]) {
    for source in sources.iter().filter(|s| s.changed()) {
        let name = match &source.place {
            Place::UserCrontab => "crontab".to_owned(),
            Place::File(path) | Place::Systemd(path) => path.display().to_string(),
        };
        out(&format!(
            "\n--- {name} (as it is)\n+++ {name} (after hcwrap sync)"
        ));
        let old: Vec<&str> = source.old_text.lines().collect();
        let new: Vec<&str> = source.new_text.lines().collect();
        for line in diff(&old, &new) {
            out(&shown(&line));
        }
    }
    if !sources.iter().any(Source::changed) {
        out("\nNo crontab line or drop-in file changes.");
    }
}

/// The most lines looked ahead for an inserted block.
const LOOKAHEAD: usize = 16;

/// A line diff of `new` against `old`, for what hcwrap sync changes: lines changed in
/// place and a few lines inserted (a short look-ahead finds those). Linear in the
/// length: a crontab may be long. A new file (a drop-in) is all `+`.
fn diff(old: &[&str], new: &[&str]) -> Vec<String> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    let mut in_hunk = false;
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            in_hunk = false;
            i += 1;
            j += 1;
            continue;
        }
        if !in_hunk {
            out.push(format!("@@ line {} @@", i + 1));
            in_hunk = true;
        }
        // Lines inserted here: old[i] comes again a few lines on.
        let inserted = (i < old.len())
            .then(|| (1..=LOOKAHEAD).find(|k| new.get(j + k) == Some(&old[i])))
            .flatten();
        if let Some(k) = inserted {
            out.extend(new[j..j + k].iter().map(|l| format!("+{l}")));
            j += k;
        } else {
            if i < old.len() {
                out.push(format!("-{}", old[i]));
                i += 1;
            }
            if j < new.len() {
                out.push(format!("+{}", new[j]));
                j += 1;
            }
        }
    }
    out
}

/// Options whose next word is a secret (runitor's and hcwrap's).
const SECRET_OPTIONS: &[&str] = &[
    "-ping-key",
    "--ping-key",
    "-api-key",
    "--api-key",
    "-uuid",
    "--uuid",
    "-api-url",
];

/// `text` as the plan shows it: control characters escaped, and what could be a secret
/// cut short: a URL's credentials, a UUID, a URL's path segment that could be a ping key
/// (16 characters or more of letters, digits, `-` and `_`), the value after an option
/// such as `-ping-key`, and the value of a variable named like a key, token or password
/// (unless it is `file:PATH`).
pub fn shown(text: &str) -> String {
    let mut previous = "";
    let words: Vec<String> = text
        .split(' ')
        .map(|word| {
            let after_option = SECRET_OPTIONS.contains(&previous);
            previous = word;
            if after_option && !word.starts_with("file:") {
                return redact_partial(word);
            }
            if let Some((name, value)) = word.split_once('=') {
                let upper = name.trim_start_matches(['+', '-']).to_ascii_uppercase();
                let secret = ["KEY", "TOKEN", "SECRET", "PASS"]
                    .iter()
                    .any(|w| upper.contains(w));
                if secret && !value.starts_with("file:") && !value.is_empty() {
                    return format!("{name}=…");
                }
            }
            match word.find("://") {
                Some(at) => url_shown(word, at),
                None => hide_uuids(word),
            }
        })
        .collect();
    printable(&words.join(" "))
}

/// A word with a URL in it (`://` at `at`), its credentials and secret-like path
/// segments cut short.
fn url_shown(word: &str, at: usize) -> String {
    let rest = &word[at + 3..];
    let end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("…@{host}"),
        None => authority.to_owned(),
    };
    let path: Vec<String> = path
        .split('/')
        .map(|segment| {
            let key_like = segment.len() >= 16
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if key_like {
                redact_partial(segment)
            } else {
                hide_uuids(segment)
            }
        })
        .collect();
    format!("{}{authority}{}", &word[..at + 3], path.join("/"))
}

/// `word` with any UUID in it cut to its first four characters.
fn hide_uuids(word: &str) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < word.len() {
        if word.is_char_boundary(i)
            && word.len() >= i + 36
            && word.is_char_boundary(i + 36)
            && is_uuid(&word[i..i + 36])
        {
            out.push_str(&redact_partial(&word[i..i + 36]));
            i += 36;
        } else if let Some(c) = word[i..].chars().next() {
            out.push(c);
            i += c.len_utf8();
        } else {
            break;
        }
    }
    out
}

/// `text` cut to `max` characters.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diff_shows_changed_and_added_lines() {
        let old = ["# c", "0 3 * * * a", "x=1"];
        let new = ["# c", "K=v", "0 3 * * * h a", "x=1"];
        assert_eq!(
            diff(&old, &new),
            ["@@ line 2 @@", "-0 3 * * * a", "+K=v", "+0 3 * * * h a"]
        );
        let old = ["a", "b"];
        let new = ["A", "b", "C"];
        assert_eq!(
            diff(&old, &new),
            ["@@ line 1 @@", "-a", "+A", "@@ line 3 @@", "+C"]
        );
        assert_eq!(diff(&[], &["x"]), ["@@ line 1 @@", "+x"]);
    }

    #[test]
    fn a_long_crontab_is_diffed_in_linear_time_and_space() {
        let mut old: Vec<String> = (0..200_000).map(|i| format!("# {i}")).collect();
        old.insert(100_000, "0 3 * * * job".to_owned());
        let mut new = old.clone();
        new[100_000] = "0 3 * * * hcwrap --slug=job -- job".to_owned();
        let old: Vec<&str> = old.iter().map(String::as_str).collect();
        let new: Vec<&str> = new.iter().map(String::as_str).collect();
        assert_eq!(diff(&old, &new).len(), 3);
    }

    #[test]
    fn secrets_in_commands_are_cut_short() {
        let said = shown(
            "curl -fsS https://hc-ping.com/1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b/start; x 1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b",
        );
        assert!(!said.contains("4b5a"), "{said}");
        assert!(said.contains("https://hc-ping.com/1f1c…/start"), "{said}");
        assert_eq!(
            shown("HC_API_URL=http://u:pw@127.0.0.1:8000/ping/Abcdefghijklmnopqrstuv/db"),
            "HC_API_URL=http://…@127.0.0.1:8000/ping/Abcd…/db"
        );
        assert_eq!(
            shown("runitor -ping-key Abcdefghijklmnopqrstuv -slug x -- y"),
            "runitor -ping-key Abcd… -slug x -- y"
        );
        assert_eq!(shown("+PING_KEY=Abcdefghijkl job"), "+PING_KEY=… job");
        assert_eq!(shown("HC_PING_KEY=file:/etc/k"), "HC_PING_KEY=file:/etc/k");
    }
}
