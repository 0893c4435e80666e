//! A job's command: whether hcwrap (or runitor) already wraps it, the slug it suggests,
//! and the command wrapped by hcwrap.
//!
//! **Wrapping.** A command of plain words becomes `<hcwrap> --slug SLUG -- <command>`. One
//! that uses the shell (pipes, lists, redirections, variables, quotes, an environment
//! assignment in front) is passed to the shell as one argument,
//! `<hcwrap> --slug SLUG -- sh -c '<command>'` (the crontab's `SHELL` if it sets one), so
//! that it means what it meant and hcwrap sees the whole of it: without that,
//! `backup | mail ops` would wrap only `backup`.
//!
//! **Slugs** come from the command: its program's name without directory or extension,
//! and for an interpreter or `run-parts` the script's or directory's, after leading
//! variable assignments, `cd DIR &&` and wrappers such as `nice`, `timeout 1h` or
//! `flock FILE`; in lower case, other characters as `-`. `/usr/local/bin/db-dump.sh
//! --full` gives `db-dump`, `cd /srv && python3 manage.py clearsessions` gives `manage`.

/// Who wraps a command already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wrapped {
    /// Nobody.
    No,
    /// hcwrap, with this slug if it gives one, the original command starting at `inner`.
    Hcwrap {
        /// The `--slug` value.
        slug: Option<String>,
    },
    /// runitor: the wrapped command starts at this byte.
    Runitor {
        /// Where the command after runitor's `--` starts.
        inner: usize,
        /// The slug runitor was given (`-slug`), if any.
        slug: Option<String>,
    },
}

/// Who wraps `command` already.
pub fn wrapped(command: &str) -> Wrapped {
    let all: Vec<&str> = command.split_whitespace().collect();
    // After assignments and wrappers (`CHECK_SLUG=x nice hcwrap -- job` is wrapped too).
    let first = program_index(&all);
    let words = &all[first.min(all.len())..];
    let program = words.first().map_or("", |w| basename(w));
    if program == "hcwrap" && first > 0 {
        // Its check comes from somewhere this line does not say: not a slug to keep.
        let slug = words
            .iter()
            .take_while(|w| **w != "--")
            .find_map(|w| w.strip_prefix("--slug=").map(str::to_owned));
        return Wrapped::Hcwrap { slug };
    }
    match program {
        "hcwrap" => Wrapped::Hcwrap {
            slug: words
                .windows(2)
                .take_while(|w| w[0] != "--")
                .find_map(|w| (w[0] == "--slug").then(|| w[1].to_owned()))
                .or_else(|| {
                    words
                        .iter()
                        .take_while(|w| **w != "--")
                        .find_map(|w| w.strip_prefix("--slug=").map(str::to_owned))
                }),
        },
        "runitor" => command
            .find(" -- ")
            .map_or(Wrapped::No, |at| Wrapped::Runitor {
                inner: at + 4,
                slug: words
                    .windows(2)
                    .take_while(|w| w[0] != "--")
                    .find_map(|w| (w[0] == "-slug" || w[0] == "--slug").then(|| w[1].to_owned())),
            }),
        _ => Wrapped::No,
    }
}

/// `command` wrapped by `hcwrap` (an absolute path) for the check `slug`, run by `shell`
/// where it needs one.
///
/// `hcwrap` is a plain path (see `hcwrap_path` in `mod.rs`), with any options before
/// `--slug`.
pub fn wrap(hcwrap: &str, slug: &str, command: &str, shell: Option<&str>) -> String {
    // `--slug=`: a slug that starts with '-' is still the option's value.
    let prefix = format!("{hcwrap} --slug={slug} -- ");
    if is_plain(command) {
        format!("{prefix}{command}")
    } else {
        // cron's own shell, where the crontab names none.
        let shell = quoted_if_needed(shell.unwrap_or("/bin/sh"));
        format!("{prefix}{shell} -c {}", single_quoted(command))
    }
}

/// The shell's builtins and words: a command that starts with one needs the shell (hcwrap
/// would look for a program of that name, or run /bin/echo where the shell's echo ran).
const SHELL_WORDS: &[&str] = &[
    "!",
    ".",
    ":",
    "[",
    "[[",
    "{",
    "alias",
    "bg",
    "break",
    "case",
    "cd",
    "command",
    "continue",
    "echo",
    "eval",
    "exec",
    "exit",
    "export",
    "false",
    "fc",
    "fg",
    "for",
    "function",
    "getopts",
    "hash",
    "if",
    "jobs",
    "kill",
    "local",
    "printf",
    "pwd",
    "read",
    "readonly",
    "return",
    "select",
    "set",
    "shift",
    "source",
    "test",
    "time",
    "times",
    "trap",
    "true",
    "type",
    "ulimit",
    "umask",
    "unalias",
    "unset",
    "until",
    "wait",
    "while",
    // bash's own.
    "bind",
    "builtin",
    "caller",
    "compgen",
    "complete",
    "compopt",
    "coproc",
    "declare",
    "dirs",
    "disown",
    "enable",
    "help",
    "history",
    "let",
    "logout",
    "mapfile",
    "popd",
    "pushd",
    "readarray",
    "shopt",
    "suspend",
    "typeset",
];

/// Whether `command` is plain words that mean the same as arguments of hcwrap: a program
/// (no builtin), no shell syntax but globs, and no assignment in front.
fn is_plain(command: &str) -> bool {
    let first = command.split_whitespace().next().unwrap_or("");
    if first.contains('=') || SHELL_WORDS.contains(&first) {
        return false;
    }
    let bytes = command.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            // cron's escaped percent sign: cron turns it into '%' before the shell sees it.
            b'\\' if bytes.get(i + 1) == Some(&b'%') => i += 2,
            b'|' | b'&' | b';' | b'<' | b'>' | b'(' | b')' | b'$' | b'`' | b'\\' | b'"' | b'\''
            | b'#' | b'\n' => return false,
            _ => i += 1,
        }
    }
    true
}

/// `text` in single quotes for the shell.
fn single_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// A path as a shell word.
fn quoted_if_needed(path: &str) -> String {
    if !path.is_empty()
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:@".contains(&b))
    {
        path.to_owned()
    } else {
        single_quoted(path)
    }
}

fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// Programs whose first argument names the job better than they do.
const INTERPRETERS: &[&str] = &[
    "sh",
    "bash",
    "dash",
    "zsh",
    "python",
    "python2",
    "python3",
    "perl",
    "ruby",
    "php",
    "node",
    "run-parts",
];

/// Wrappers to look past, with how many arguments each takes besides options.
const WRAPPERS: &[(&str, usize)] = &[
    ("nice", 0),
    ("ionice", 0),
    ("nohup", 0),
    ("chronic", 0),
    ("sudo", 0),
    ("env", 0),
    ("timeout", 1),
    ("flock", 1),
    ("setlock", 1),
];

/// If `words[i]` is one of the wrappers above, the index after it and its options and
/// arguments.
fn past_wrapper(words: &[&str], mut i: usize) -> Option<usize> {
    let (_, args) = WRAPPERS.iter().find(|(w, _)| *w == basename(words[i]))?;
    i += 1;
    let mut left = *args;
    while i < words.len() && (words[i].starts_with('-') || left > 0) {
        if words[i].starts_with('-') {
            // The options of these wrappers that take a value as the next word.
            if matches!(words[i], "-n" | "-u" | "-g" | "-c" | "-k" | "-s" | "-w") {
                i += 1;
            }
        } else {
            left -= 1;
        }
        i += 1;
    }
    Some(i)
}

/// The index of the word that is the program, after leading variable assignments and
/// the wrappers above (with their options and arguments); `words.len()` if none is.
fn program_index(words: &[&str]) -> usize {
    let mut i = 0;
    while i < words.len() {
        if words[i].contains('=') {
            i += 1;
        } else if let Some(next) = past_wrapper(words, i) {
            i = next;
        } else {
            return i;
        }
    }
    words.len()
}

/// The slug a command suggests (see the module documentation); `job` when nothing does.
pub fn suggested_slug(command: &str) -> String {
    let words: Vec<&str> = command
        .split(|c: char| c.is_whitespace() || c == ';')
        .filter(|w| !w.is_empty())
        .collect();
    let mut i = 0;
    let mut interpreter = None;
    while i < words.len() {
        let word = words[i];
        let name = basename(word);
        if word.contains('=') || word.starts_with('-') || word == "&&" {
            i += 1;
        } else if name == "cd" {
            i += 2;
        } else if let Some(next) = past_wrapper(&words, i) {
            i = next;
        } else if interpreter.is_none() && INTERPRETERS.contains(&name) {
            interpreter = Some(name);
            i += 1;
        } else {
            let slug = slugify(stem(name));
            return match interpreter {
                Some("run-parts") => format!("run-parts-{slug}"),
                _ if slug.is_empty() => "job".to_owned(),
                _ => slug,
            };
        }
    }
    interpreter.map_or_else(|| "job".to_owned(), slugify)
}

/// A file name without its extension.
fn stem(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 4 => stem,
        _ => name,
    }
}

/// `text` as a slug: lower case, runs of other characters as one `-`, at most 50
/// characters, no `-` at either end.
pub fn slugify(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_matches('-').chars().take(50).collect();
    slug.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_name_what_runs() {
        for (command, slug) in [
            ("/usr/local/bin/db-dump.sh --full", "db-dump"),
            ("cd /srv/app && python3 manage.py clearsessions", "manage"),
            (
                "nice -n 19 ionice -c3 /opt/Backup_Tool/run.py >/dev/null 2>&1",
                "run",
            ),
            (
                "timeout 1h flock /tmp/x.lock rsync -a /srv/ b:/srv/",
                "rsync",
            ),
            (
                "sudo -u www-data timeout -k 5s 1h php /var/www/cron.php",
                "cron",
            ),
            ("PATH=/bin:/usr/bin BACKUP_DIR=/x restic backup", "restic"),
            ("run-parts --report /etc/cron.daily", "run-parts-cron-daily"),
            ("bash", "bash"),
            ("/usr/bin/Certbot renew -q", "certbot"),
        ] {
            assert_eq!(suggested_slug(command), slug, "{command}");
        }
    }

    #[test]
    fn plain_commands_are_wrapped_as_they_are_and_others_through_the_shell() {
        assert_eq!(
            wrap(
                "/usr/bin/hcwrap",
                "backup",
                "/usr/bin/backup --full *.db",
                None
            ),
            "/usr/bin/hcwrap --slug=backup -- /usr/bin/backup --full *.db"
        );
        assert_eq!(
            wrap("/usr/bin/hcwrap", "b", "date +\\%F", None),
            "/usr/bin/hcwrap --slug=b -- date +\\%F"
        );
        assert_eq!(
            wrap(
                "/usr/bin/hcwrap",
                "b",
                "backup | mail -s 'it is done' ops",
                Some("/bin/bash")
            ),
            "/usr/bin/hcwrap --slug=b -- /bin/bash -c 'backup | mail -s '\\''it is done'\\'' ops'"
        );
    }

    #[test]
    fn builtins_run_through_the_shell_as_they_did() {
        for command in [
            "exit 7",
            "declare -p HOME",
            "let x=1",
            "pushd /tmp",
            "shopt",
            "cd /tmp",
            ": nothing",
            "echo -e x",
            "ulimit -n 10",
            "test -f x",
        ] {
            assert_eq!(
                wrap("/usr/bin/hcwrap", "j", command, None),
                format!("/usr/bin/hcwrap --slug=j -- /bin/sh -c '{command}'")
            );
        }
        // A backslash other than cron's `\%` is the shell's business.
        assert_eq!(
            wrap("/usr/bin/hcwrap", "j", "echo a\\\\", None),
            "/usr/bin/hcwrap --slug=j -- /bin/sh -c 'echo a\\\\'"
        );
    }

    #[test]
    fn wrapped_commands_are_recognised() {
        assert_eq!(
            wrapped("/usr/bin/hcwrap --slug db -- pg_dump"),
            Wrapped::Hcwrap {
                slug: Some("db".into())
            }
        );
        assert_eq!(
            wrapped("hcwrap --slug=db -- x"),
            Wrapped::Hcwrap {
                slug: Some("db".into())
            }
        );
        assert_eq!(
            wrapped("hcwrap --uuid u -- x"),
            Wrapped::Hcwrap { slug: None }
        );
        assert_eq!(
            wrapped("/usr/local/bin/runitor -uuid 1f1c -- /usr/bin/backup"),
            Wrapped::Runitor {
                inner: 37,
                slug: None
            }
        );
        assert_eq!(wrapped("/usr/bin/backup"), Wrapped::No);
        assert_eq!(
            wrapped("CHECK_SLUG=x nice -n 5 /usr/bin/hcwrap -- job"),
            Wrapped::Hcwrap { slug: None }
        );
        assert_eq!(
            wrapped("nice /usr/bin/hcwrap --slug=db -- job"),
            Wrapped::Hcwrap {
                slug: Some("db".into())
            }
        );
    }
}
