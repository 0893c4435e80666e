//! The man page and shell completions, generated from the clap definition, as ripgrep and
//! xh do, but by a test rather than by a hidden flag of every binary: the generator and its
//! crates (`clap_complete`, `clap_mangen`, `roff`) are not shipped. The generated files are checked
//! in under `man/` and `completions/`; `tests/generated.rs` fails when they drift from the
//! code, and rewrites them with `HCWRAP_UPDATE_GENERATED=1`.
//!
//! The man page adds, with the roff crate, what clap does not know: the run cycle, the exit
//! statuses, the environment, the lock files, examples.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;
use hcwrap::cli::Cli;
use roff::{Roff, bold, italic, roman};

/// What each checked-in file holds, by the file's path.
pub fn generate(file: &str) -> String {
    match file {
        "man/hcwrap.1" => man_page(),
        "man/hcwrap-ping.1" => {
            subcommand_page("ping", "hcwrap-ping", &ping_description(), &ping_sections())
        }
        "man/hcwrap-probe.1" => subcommand_page(
            "probe",
            "hcwrap-probe",
            &probe_description(),
            &probe_sections(),
        ),
        "man/hcwrap-doctor.1" => subcommand_page(
            "doctor",
            "hcwrap-doctor",
            &doctor_description(),
            &doctor_sections(),
        ),
        "man/hcwrap-sync.1" => {
            subcommand_page("sync", "hcwrap-sync", &sync_description(), &sync_sections())
        }
        "man/hcwrap-flush.1" => subcommand_page(
            "flush",
            "hcwrap-flush",
            &flush_description(),
            &flush_sections(),
        ),
        "completions/hcwrap.bash" => bash_completions(),
        "completions/_hcwrap" => zsh_completions(),
        "completions/hcwrap.fish" => fish_completions(),
        "completions/hcwrap.elv" => completions(Shell::Elvish),
        "completions/_hcwrap.ps1" => completions(Shell::PowerShell),
        other => panic!("no generator for {other}"),
    }
}

fn completions(shell: Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "hcwrap", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// clap's zsh completions put the wrapped command and the subcommand both at the first
/// position and dispatch on the second, so neither `hcwrap ping s<TAB>` nor `hcwrap --
/// ec<TAB>` completes (zsh even reports "nesting level too deep"). Here the first position
/// is the subcommand's alone, and after `--` the words are completed as a command line of
/// their own (`_normal`), as zsh's own completions for `nice` or `env` do.
fn zsh_completions() -> String {
    let generated = completions(Shell::Zsh);
    let replace = |text: String, from: &str, to: &str| {
        assert!(
            text.contains(from),
            "clap's zsh script changed: no {from:?}"
        );
        text.replacen(from, to, 1)
    };
    let script = replace(
        generated,
        "':command -- The command to run, and its arguments:_cmdambivalent' \\\n",
        "",
    );
    let script = replace(
        script,
        "words=($line[2] \"${words[@]}\")",
        "words=($line[1] \"${words[@]}\")",
    );
    let script = replace(
        script,
        "curcontext=\"${curcontext%:*:*}:hcwrap-command-$line[2]:\"",
        "curcontext=\"${curcontext%:*:*}:hcwrap-command-$line[1]:\"",
    );
    let script = replace(
        script,
        "        case $line[2] in",
        "        case $line[1] in",
    );
    replace(
        script,
        "_hcwrap() {\n",
        "_hcwrap() {\n    # After `--`: the wrapped command line, completed as a command of its own.\n    \
         local dashdash=${words[(i)--]}\n    if (( dashdash < CURRENT )); then\n        \
         shift $dashdash words\n        (( CURRENT -= dashdash ))\n        _normal\n        \
         return\n    fi\n",
    )
}

/// clap's bash completions know the options and their values, but not that the words after
/// `--` are a command line of its own; this wrapper hands those to bash-completion's
/// `_command_offset`, so the wrapped command and its arguments complete as they would alone.
fn bash_completions() -> String {
    let generated = completions(Shell::Bash);
    let mut script = String::new();
    for line in generated.lines() {
        if line.starts_with("complete ") && line.ends_with(" hcwrap") {
            continue;
        }
        script.push_str(line);
        script.push('\n');
    }
    script.push_str(
        r#"
# After `--`, complete the wrapped command as a command (bash-completion's _command_offset).
_hcwrap_wrapped() {
    local i
    for (( i = 1; i < COMP_CWORD; i++ )); do
        if [[ ${COMP_WORDS[i]} == "--" ]]; then
            if declare -F _command_offset >/dev/null; then
                _command_offset $(( i + 1 ))
            else
                COMPREPLY=( $(compgen -c -- "${COMP_WORDS[COMP_CWORD]}") )
            fi
            return 0
        fi
    done
    _hcwrap "$@"
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _hcwrap_wrapped -o nosort -o bashdefault -o default hcwrap
else
    complete -F _hcwrap_wrapped -o bashdefault -o default hcwrap
fi
"#,
    );
    script
}

/// clap's fish completions do not complete a trailing command line; this adds it: after
/// `--`, fish completes the rest as a command line of its own (`complete -C`), as its
/// completions for `sudo` and `env` do.
fn fish_completions() -> String {
    let mut script = completions(Shell::Fish);
    script.push_str(
        r"
# After `--`, complete the wrapped command line as fish would complete it alone.
function __hcwrap_complete_wrapped
    set -l tokens (commandline -opc)
    set -l at (contains -i -- -- $tokens)
    set -l rest $tokens[(math $at + 1)..-1] (commandline -ct)
    complete -C (string join -- ' ' $rest)
end
complete -c hcwrap -n 'contains -- -- (commandline -opc)' -f -a '(__hcwrap_complete_wrapped)'
# `hcwrap ping`'s KIND (clap's fish completions leave positional values out).
complete -c hcwrap -n '__fish_hcwrap_using_subcommand ping; and not __fish_seen_subcommand_from start success fail log' -f -a 'start success fail log'
",
    );
    script
}

/// The man page of hcwrap: clap's sections, then the ones written here.
fn man_page() -> String {
    // Without clap's `help` subcommand, which has no page of its own.
    page(
        Cli::command().disable_help_subcommand(true),
        &description(),
        &extra_sections(),
    )
}

/// The page of subcommand `name`, titled `title` (hcwrap-ping.1, hcwrap-probe.1).
fn subcommand_page(name: &str, title: &'static str, description: &Roff, extra: &Roff) -> String {
    let cmd = Cli::command();
    let sub = cmd
        .find_subcommand(name)
        .unwrap_or_else(|| panic!("no subcommand {name}"))
        .clone()
        .name(title)
        .bin_name(format!("hcwrap {name}"))
        .version(env!("CARGO_PKG_VERSION"))
        .disable_version_flag(true);
    page(sub, description, extra)
}

/// A page: title, NAME, SYNOPSIS, `description`, OPTIONS (and SUBCOMMANDS), `extra`, VERSION.
fn page(cmd: clap::Command, description: &Roff, extra: &Roff) -> String {
    type Render = fn(&clap_mangen::Man, &mut dyn Write) -> std::io::Result<()>;
    let has_subcommands = cmd.has_subcommands();
    let man = clap_mangen::Man::new(cmd);
    let clap_part = |render: Render| -> Vec<u8> {
        let mut part = Vec::new();
        render(&man, &mut part).expect("rendering the man page");
        part
    };
    let mut parts = vec![
        clap_part(clap_mangen::Man::render_title),
        clap_part(clap_mangen::Man::render_name_section),
        clap_part(clap_mangen::Man::render_synopsis_section),
        description.render().into_bytes(),
        clap_part(clap_mangen::Man::render_options_section),
    ];
    if has_subcommands {
        parts.push(clap_part(clap_mangen::Man::render_subcommands_section));
    }
    parts.push(extra.render().into_bytes());
    parts.push(clap_part(clap_mangen::Man::render_version_section));

    // Each part starts with roff's apostrophe preamble; keep only the first.
    let mut page = String::new();
    for (i, part) in parts.iter().enumerate() {
        let text = String::from_utf8_lossy(part);
        for line in text.lines() {
            let preamble = line.starts_with(r".ie \n(.g .ds Aq") || line.starts_with(".el .ds Aq");
            if i == 0 || !preamble {
                page.push_str(line);
                page.push('\n');
            }
        }
    }
    page
}

fn paragraph(roff: &mut Roff, text: &str) {
    roff.control("PP", []).text([roman(text)]);
}

/// A tagged paragraph: `tag` in bold, then `text`.
fn item(roff: &mut Roff, tag: &str, text: &str) {
    roff.control("TP", []).text([bold(tag)]).text([roman(text)]);
}

fn example(roff: &mut Roff, what: &str, lines: &[&str]) {
    roff.control("PP", []).text([roman(what)]);
    roff.control("PP", [])
        .control("RS", ["4"])
        .control("nf", []);
    for line in lines {
        roff.text([roman(*line)]);
    }
    roff.control("fi", []).control("RE", []);
}

fn description() -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["DESCRIPTION"]);
    paragraph(
        &mut r,
        "hcwrap runs a command and tells a Healthchecks server (hc-ping.com, or a self-hosted one) \
         how it went, so that a cron job, backup hook or CI step that fails, hangs or stops being \
         run gets noticed.",
    );
    paragraph(
        &mut r,
        "A run: hcwrap makes a run id (a random UUID, sent as rid= with every ping so the server \
         pairs start and end). It starts the command at once, in a process group of its own, and \
         sends the start ping beside it, so a slow or dead server never delays the command. The \
         command's stdout and stderr are passed through as they come, and the last bytes of both, \
         in the order they came, are kept in a bounded buffer. When the command has ended, hcwrap \
         sends the final ping (after the start ping was delivered or given up): success for exit \
         status 0, the exit status (/n) otherwise, as the --on-* options say, with the tail of \
         the output as its body and, for a run that did not succeed, a last line saying how it \
         ended. hcwrap then exits with the command's own exit status.",
    );
    paragraph(
        &mut r,
        "The body is valid UTF-8 and never over the server's Ping-Body-Limit (100,000 bytes \
         when the server announces none). Lines hcwrap adds start with [hcwrap]. Pings are POST \
         requests, retried on network errors, 408, 429 and 5xx with backoff; a ping that could \
         not be delivered never changes the exit status.",
    );
    paragraph(
        &mut r,
        "On SIGINT, SIGTERM, SIGHUP or SIGQUIT, hcwrap passes the signal on to the command's \
         process group, waits for it to end (SIGKILL after --kill-after), reports the run as \
         interrupted and then ends by the same signal (status 128+n). SIGUSR1, SIGUSR2, SIGALRM \
         and SIGWINCH are passed on and the run goes on. --timeout stops the command with \
         SIGTERM (and SIGCONT) and exit status 124. In a terminal hcwrap behaves as a shell's job: \
         the command gets the terminal, Ctrl-Z stops the command and hcwrap, fg and bg resume \
         them. As PID 1 it reaps orphaned processes. --lock keeps runs from overlapping; --every \
         repeats the run on a fixed schedule.",
    );
    r
}

fn extra_sections() -> Roff {
    let mut r = Roff::new();
    exit_status(&mut r);
    environment(&mut r);
    files(&mut r);
    examples(&mut r);
    see_also(
        &mut r,
        &[
            ("hcwrap-ping", "1"),
            ("hcwrap-probe", "1"),
            ("hcwrap-doctor", "1"),
            ("hcwrap-sync", "1"),
            ("hcwrap-flush", "1"),
            ("cron", "8"),
            ("crontab", "5"),
            ("timeout", "1"),
            ("flock", "1"),
        ],
    );
    paragraph(
        &mut r,
        "The Healthchecks documentation: https://healthchecks.io/docs/",
    );
    r
}

fn exit_status(r: &mut Roff) {
    r.control("SH", ["EXIT STATUS"]);
    paragraph(
        r,
        "hcwrap exits with the command's own exit status, except:",
    );
    item(
        r,
        "128+n",
        "The command was killed by signal n. When hcwrap received signal n (SIGINT, SIGTERM, \
         SIGHUP, SIGQUIT) and passed it on, or the command died of the terminal's SIGINT or \
         SIGQUIT, hcwrap ends by that signal itself after the final ping, so a shell reports \
         128+n and stops a loop it runs in (as PID 1 it exits 128+n).",
    );
    item(
        r,
        "124",
        "The command ran longer than --timeout and was stopped.",
    );
    item(
        r,
        "75",
        "--lock found a previous run still holding the lock; the command did not run.",
    );
    item(
        r,
        "125",
        "hcwrap's own usage or configuration error, reported before anything runs; the command did not run. A check that the environment fails to give (nothing set, a bad variable, a file: secret that cannot be read) is not one: the command then runs unmonitored, with one warning line, unless --strict.",
    );
    item(r, "126", "The command was found but could not be executed.");
    item(r, "127", "The command was not found.");
    paragraph(
        r,
        "--min-runtime, --fail-on-stderr and --fail-on change the ping of a run that exited 0, \
         not the exit status: hcwrap still exits 0 unless --fail-exit STATUS is given. \
         --tolerate never changes the exit status.",
    );
    paragraph(
        r,
        "hcwrap ping exits 0 when the server recorded the ping and 1 when not; hcwrap probe \
         exits 0 when the endpoint is healthy and 1 when not; both exit 125 for usage errors \
         (see hcwrap-ping(1), hcwrap-probe(1)).",
    );
}

fn environment(r: &mut Roff) {
    r.control("SH", ["ENVIRONMENT"]);
    paragraph(
        r,
        "Read by hcwrap (a command-line option beats its variable; any of the check's values may be given as file:PATH):",
    );
    for (name, text) in [
        ("HC_PING_URL", "The check's full ping URL (--url)."),
        ("CHECK_UUID", "The check's UUID (--uuid)."),
        (
            "HC_API_URL",
            "The ping API's base URL (--api-url), default https://hc-ping.com.",
        ),
        ("CHECK_SLUG", "The check's slug (--slug)."),
        (
            "HC_PING_KEY, PING_KEY",
            "The project's ping key (--ping-key), in that order.",
        ),
        (
            "https_proxy, HTTPS_PROXY, http_proxy, HTTP_PROXY, ALL_PROXY",
            "The proxy for an https or an http check, as curl reads them (--proxy).",
        ),
        (
            "NO_PROXY, no_proxy",
            "Host names that are reached without the proxy.",
        ),
        (
            "SSL_CERT_FILE, SSL_CERT_DIR",
            "Where the system's trusted certificates are.",
        ),
        (
            "XDG_RUNTIME_DIR, HOME, TMPDIR",
            "Where the default lock file goes (see FILES).",
        ),
        (
            "XDG_CACHE_HOME, HOME",
            "Where each server's announced body limit is remembered (see FILES).",
        ),
        (
            "HC_STATE_DIR, XDG_STATE_HOME, HOME",
            "Where failure counts and undelivered reports are kept (see FILES).",
        ),
        ("PATH", "Where the command is looked for."),
        (
            "HC_RUN_ID",
            "Read by hcwrap ping: the run to report into, as hcwrap sets it for a wrapped command.",
        ),
    ] {
        item(r, name, text);
    }
    paragraph(r, "Set for the command:");
    item(
        r,
        "HC_RUN_ID",
        "The run id, so the command can add /log pings to its own run (unset with --no-run-id).",
    );
    item(r, "HC_PING_URL", "The check's ping URL.");
    item(
        r,
        "HCWRAP_PING_URL_MARK",
        "A fingerprint of that URL (not the URL), so that an hcwrap run inside the command can \
         tell the HC_PING_URL it inherited from one the command set: a check the command names \
         with CHECK_UUID or CHECK_SLUG wins over the inherited one.",
    );
}

fn files(r: &mut Roff) {
    r.control("SH", ["FILES"]);
    r.control("TP", []).text([italic("$XDG_RUNTIME_DIR/hcwrap-HASH.lock")]).text([roman(
        "The lock file of --lock without a path, HASH derived from the check's URL (never the URL \
         itself). Without XDG_RUNTIME_DIR: /run/hcwrap/ for root, else ~/.cache/hcwrap/, else \
         hcwrap-UID/hcwrap/ in the temporary directory; never a directory another user can \
         write. Directories hcwrap makes are mode 0700 and lock files 0600; a lock file owned by \
         another user, or a symbolic link, is refused. It holds an advisory flock(2) lock that \
         goes away however hcwrap ends.",
    )]);
    r.control("TP", [])
        .text([italic("$XDG_CACHE_HOME/hcwrap/body-limit-HASH")])
        .text([roman(
            "The Ping-Body-Limit a server announced last, HASH derived from its scheme, host \
             and port; used by pings with no start ping to learn it from. Else under \
             ~/.cache/hcwrap/; with neither variable set, nothing is remembered.",
        )]);
    r.control("TP", [])
        .text([italic("/var/lib/hcwrap/")])
        .text([roman(
            "The state directory for root (/var/db/hcwrap/ on macOS and FreeBSD): each \
             check's failures in a row (runs-HASH, for --tolerate and --metrics-file) and the \
             final pings that could not be delivered (report-HASH-*, see hcwrap-flush(1)), \
             HASH derived from the check's URL. For other users $XDG_STATE_HOME/hcwrap/, else ~/.local/state/hcwrap/; \
             $HC_STATE_DIR, when set, for anyone. Mode 0700, files 0600 (a report holds the \
             check's URL).",
        )]);
}

fn examples(r: &mut Roff) {
    r.control("SH", ["EXAMPLES"]);
    example(
        r,
        "A nightly backup in a crontab, the check's UUID read from a file:",
        &[
            "CHECK_UUID=file:/etc/hcwrap/backup.uuid",
            "30 2 * * * hcwrap --quiet --timeout 4h -- /usr/local/bin/backup.sh",
        ],
    );
    example(
        r,
        "A backup tool's hook, the check named by slug and created on first use:",
        &[
            "hcwrap --slug db-dump --ping-key file:/etc/hcwrap/ping-key --create -- pg_dump -f /backup/db.dump mydb",
        ],
    );
    example(
        r,
        "A CI step:",
        &["HC_PING_URL=$HC_URL hcwrap --on-nonzero-exit fail -- make integration"],
    );
    example(
        r,
        "A scheduled job in a container without cron, never two at once:",
        &["hcwrap --every 15m --lock --timeout 10m -- /app/sync.sh"],
    );
    example(
        r,
        "A container's health check, in an image without curl (see hcwrap-probe(1)):",
        &["HEALTHCHECK CMD [\"/hcwrap\", \"probe\", \"http://127.0.0.1:8000/api/v3/status/\"]"],
    );
    example(
        r,
        "Try it without a server: the pings are printed, not sent:",
        &["hcwrap --dry-run -- echo hello"],
    );
}

fn see_also(r: &mut Roff, pages: &[(&str, &str)]) {
    r.control("SH", ["SEE ALSO"]);
    let mut inlines = Vec::new();
    for (i, (name, section)) in pages.iter().enumerate() {
        if i > 0 {
            inlines.push(roman(", "));
        }
        inlines.push(bold(*name));
        inlines.push(roman(format!("({section})")));
    }
    r.text(inlines);
}

fn ping_description() -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["DESCRIPTION"]);
    paragraph(
        &mut r,
        "hcwrap ping sends one ping, as a backup tool's or a scheduler's hook would, without \
         wrapping a command. It takes the same check options, environment variables and file: \
         secrets as a wrapped run, and follows the same HTTP rules: a POST with a \
         Content-Length, retries on network errors, 408, 429 and 5xx, proxies, TLS, extra \
         headers, and messages that never show a secret whole.",
    );
    paragraph(
        &mut r,
        "KIND is start, success, fail, log (a log entry that changes no state) or an exit \
         status from 0 to 255. The body comes from --message, --message-env NAME (a variable's \
         value: an error text that never goes through a shell's quoting), --body-file PATH or \
         --body-file - (stdin); with none of them the body is empty and stdin is not read. A body \
         over the limit (the one the server announced last, remembered per server; else \
         100,000 bytes; --body-limit only lowers it) keeps its tail and starts with a line \
         saying how much was left out; it is always valid UTF-8.",
    );
    paragraph(
        &mut r,
        "A monitoring outage never fails the hook: a ping not delivered within --max-time (10s \
         in all, retries included) or refused prints one line and exits 0, and so does a check \
         the environment does not name (a CI fork without its secrets); an unreadable \
         --body-file sends the ping with a note instead. --strict makes these exit 1 (125 for \
         no usable check, or an unreadable --body-file).",
    );
    paragraph(
        &mut r,
        "Without --rid, a ping uses the run id in HC_RUN_ID, and without a check option the check \
         in HC_PING_URL: hcwrap sets both for the command it wraps, so a wrapped script can add \
         /log entries to its own run.",
    );
    paragraph(
        &mut r,
        "A ping other than start that is not delivered (the server or the network down) is \
         kept in the state directory, and the check's next ping delivers it first, within \
         half of its --max-time: a late success as a log ping, a late failure as the failure \
         it was (see hcwrap-flush(1)).",
    );
    r
}

fn ping_sections() -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["EXIT STATUS"]);
    item(
        &mut r,
        "0",
        "The server recorded the ping; or, without --strict, it could not be delivered within \
         --max-time, or was refused, or the environment names no check (one line on stderr \
         says which): a monitoring outage never fails the hook.",
    );
    item(
        &mut r,
        "1",
        "With --strict: the ping could not be delivered, or the server refused it.",
    );
    item(
        &mut r,
        "125",
        "A usage error (a bad option, an unreadable --body-file; with --strict, no usable check \
         in the environment); nothing was sent.",
    );
    r.control("SH", ["EXAMPLES"]);
    example(
        &mut r,
        "A backup tool's hooks:",
        &[
            "hcwrap ping start --uuid file:/etc/hcwrap/backup.uuid",
            "hcwrap ping success --uuid file:/etc/hcwrap/backup.uuid",
            "hcwrap ping fail --uuid file:/etc/hcwrap/backup.uuid --message-env BACKUP_ERROR",
        ],
    );
    example(
        &mut r,
        "A log entry from inside a wrapped script, into its own run:",
        &["hcwrap ping log --message \"database dumped, uploading\""],
    );
    see_also(&mut r, &[("hcwrap", "1"), ("hcwrap-probe", "1")]);
    r
}

fn probe_description() -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["DESCRIPTION"]);
    paragraph(
        &mut r,
        "hcwrap probe sends an HTTP(S) GET to URL and exits 0 if the answer is healthy: a 2xx \
         status (or exactly --expect-status) and, with --expect-body, a body that contains the \
         text. It is meant for a container's HEALTHCHECK in images that have no curl. Redirects \
         are not followed and proxies are not used. It prints one line (healthy or not, the \
         status or what went wrong, the time taken) unless --quiet.",
    );
    paragraph(
        &mut r,
        "--timeout bounds the whole probe, retries included. A server behind a proxy or in a \
         container often answers 400 unless the Host header is a name it expects: give it with \
         --host.",
    );
    r
}

fn probe_sections() -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["EXIT STATUS"]);
    item(&mut r, "0", "Healthy.");
    item(
        &mut r,
        "1",
        "Not healthy: another status, a body without the text, no answer in time, or no connection.",
    );
    item(&mut r, "125", "A usage error; nothing was sent.");
    r.control("SH", ["EXAMPLES"]);
    example(
        &mut r,
        "A Dockerfile's health check of a Healthchecks server:",
        &[
            "HEALTHCHECK --interval=30s --timeout=10s CMD [\"/hcwrap\", \"probe\", \"--host\", \"hc.example.org\", \\",
            "    \"--expect-body\", \"OK\", \"http://127.0.0.1:8000/api/v3/status/\"]",
        ],
    );
    see_also(&mut r, &[("hcwrap", "1"), ("hcwrap-ping", "1")]);
    r
}

fn doctor_description() -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["DESCRIPTION"]);
    paragraph(
        &mut r,
        "hcwrap doctor checks what can silently defeat monitoring of the check that its options \
         (the same as a wrapped run's) name, and prints one line per finding, starting with ok, \
         warning or problem, that says what to do.",
    );
    paragraph(
        &mut r,
        "The way to the server: the proxy in use, name resolution, the connection, TLS and \
         HTTP, each with its time, tried with a GET of the ping API's root, which is not a \
         ping. With an API key (a read-only one is enough): that the check exists; its \
         schedule, time zone, period and grace against --schedule, --tz, --period and --grace \
         (drift); keyword filtering, under which the server ignores exit statuses; a pause \
         with manual resume, under which every ping is answered 200 and ignored; and how long \
         ago the check last heard from the job.",
    );
    paragraph(
        &mut r,
        "It changes nothing on the server. --send-log sends one log ping (/log), which changes \
         no state, as an end-to-end test, and learns the server's body limit from its answer.",
    );
    r
}

fn doctor_sections() -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["EXIT STATUS"]);
    item(&mut r, "0", "No problem found (there may be warnings).");
    item(&mut r, "1", "At least one problem.");
    item(&mut r, "125", "A usage error; nothing was sent.");
    r.control("SH", ["EXAMPLES"]);
    example(
        &mut r,
        "Check a job's check and its schedule against the server's:",
        &[
            "hcwrap doctor --slug db-dump --api-key file:/etc/hcwrap/api-key --schedule '0 3 * * *' --grace 1h",
        ],
    );
    see_also(&mut r, &[("hcwrap", "1"), ("hcwrap-ping", "1")]);
    r
}

fn flush_description() -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["DESCRIPTION"]);
    paragraph(
        &mut r,
        "When a wrapped run's final ping cannot be delivered after all its retries (no \
         network, the server down), hcwrap keeps the report in its state directory: the five \
         newest per check, each at most 100,000 bytes. The next run of the check delivers \
         them, oldest first, one attempt each, before its own pings. hcwrap flush delivers \
         every check's now; with --dry-run it lists them and sends nothing.",
    );
    paragraph(
        &mut r,
        "The server records a ping when it arrives, so a late report says so in its first \
         line (\"[hcwrap] delivered late: the run that ended at TIME (...)\"), carries no run \
         id, and is sent so that it cannot mislead: a success, or a tolerated failure, as a log \
         ping (/log), which changes no state, so the check does not look recently up; a \
         failure as the failure ping it was (/fail or /STATUS), so the people alerted still \
         hear of it, and the check stays down until a run succeeds. A report is removed once \
         the server recorded it, or refused it (a refusal would only come again).",
    );
    r
}

fn flush_sections() -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["EXIT STATUS"]);
    item(
        &mut r,
        "0",
        "Nothing is left waiting (and always with --dry-run).",
    );
    item(
        &mut r,
        "1",
        "Some reports could not be delivered; they stay kept.",
    );
    item(&mut r, "125", "A usage error.");
    r.control("SH", ["EXAMPLES"]);
    example(
        &mut r,
        "After a network outage, see what is waiting, then deliver it:",
        &["hcwrap flush --dry-run", "hcwrap flush"],
    );
    see_also(&mut r, &[("hcwrap", "1")]);
    r
}

fn sync_description() -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["DESCRIPTION"]);
    paragraph(
        &mut r,
        "hcwrap sync makes the jobs of a crontab (your own, through crontab -l, or the files \
         given with --crontab, in the system's format with a user field) and of systemd timers \
         (--systemd) checks on the server, with their schedules, and wraps each job's command \
         with hcwrap so that its runs are reported.",
    );
    paragraph(
        &mut r,
        "For each job it proposes a check: a slug from the command (a '# hcwrap: slug=NAME' \
         comment on the line before overrides it; a number is added where two jobs would \
         share one), the schedule as written (@daily and the like translated, @reboot \
         skipped), cron's own time zone (the system's or --tz; a CRON_TZ line where cron \
         reads one), and a grace (--grace, or a quarter of the time between runs, from 1 minute to 6 hours). \
         It reads the project's checks in one request and prints a table: job, slug, \
         schedule, time zone, grace, and whether the check is to be created, updated, left \
         unchanged, or why the job is skipped; then each file as it would become, as a diff.",
    );
    paragraph(
        &mut r,
        "Without --apply nothing changes. With it, each check is set up (one request each), \
         then the crontab is installed (crontab - for your own; a file is replaced atomically, \
         its old text kept as .FILE.hcwrap-backup beside it) or the timers' drop-in files are written \
         (then run systemctl daemon-reload). A job whose check could not be set up is left as \
         it was. Everything else in a crontab stays byte for byte: comments, blank lines, \
         environment lines, % and its escapes, trailing spaces. A command that uses the shell \
         is wrapped as hcwrap --slug=SLUG -- /bin/sh -c 'COMMAND' so that it means what it \
         meant. \
         Lines hcwrap already wraps are recognised, so a second run changes nothing; lines \
         runitor wraps are rewritten with --migrate-runitor.",
    );
    paragraph(
        &mut r,
        "The wrapped jobs need a key to ping with: give --ping-key file:PATH and the crontab \
         gets HC_PING_KEY=file:PATH (never the key itself) unless it sets one already, and \
         HC_API_URL for a server other than the hosted one.",
    );
    r
}

fn sync_sections() -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["EXIT STATUS"]);
    item(
        &mut r,
        "0",
        "Done, or nothing to do (and always without --apply).",
    );
    item(
        &mut r,
        "1",
        "A check could not be set up, or a file could not be written.",
    );
    item(
        &mut r,
        "125",
        "A usage error, or a crontab that cannot be read (refused whole, with the line number).",
    );
    r.control("SH", ["EXAMPLES"]);
    example(
        &mut r,
        "See what would change in your crontab, then do it:",
        &[
            "hcwrap sync --api-key file:/etc/hcwrap/api-key --ping-key file:/etc/hcwrap/ping-key",
            "hcwrap sync --api-key file:/etc/hcwrap/api-key --ping-key file:/etc/hcwrap/ping-key --apply",
        ],
    );
    example(
        &mut r,
        "A system crontab file and the timers in /etc/systemd/system:",
        &[
            "hcwrap sync --crontab /etc/cron.d/backup --systemd --api-key file:/root/hc-api-key --apply",
        ],
    );
    see_also(
        &mut r,
        &[
            ("hcwrap", "1"),
            ("hcwrap-doctor", "1"),
            ("crontab", "5"),
            ("systemd.timer", "5"),
        ],
    );
    r
}
