//! The command line: flags, help text and the wrapped command. Nothing here validates
//! or reads the environment; `config.rs` does both.

#![allow(clippy::doc_markdown)] // Doc comments here are --help text, not Markdown.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgMatches, Args, Command, FromArgMatches, Parser, Subcommand, ValueEnum, ValueHint};

use crate::check::Endpoint;

/// What a final ping reports for one kind of ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnEnd {
    /// A success ping: the check's plain URL.
    Success,
    /// A failure ping: /fail.
    Fail,
    /// The exit status: /<n> (0 is success, anything else failure).
    ExitCode,
    /// A log entry that changes no state: /log.
    Log,
    /// No ping at all.
    None,
}

/// The subcommands: hcwrap without wrapping a command.
///
/// Written out rather than derived for one reason: each subcommand's arguments are
/// defined only when it is used (`Command::defer`). A wrapped run, the common case, then
/// does not build the ~35 arguments of `ping` and `probe` on every start (BENCHMARKS.md).
#[derive(Debug)]
pub enum Sub {
    /// `hcwrap ping`.
    Ping(Box<PingCli>),
    /// `hcwrap probe`.
    Probe(ProbeCli),
    /// `hcwrap doctor`.
    Doctor(Box<DoctorCli>),
    /// `hcwrap sync`.
    Sync(Box<SyncCli>),
    /// `hcwrap flush`.
    Flush(Box<FlushCli>),
}

const PING_ABOUT: &str = "Send one ping, as a backup tool's or scheduler's hook would: \
                          start, success, fail, log or an exit status";
const AFTER_HELP: &str = "Examples:
  hcwrap --uuid 1f1c2e3d-... -- /usr/local/bin/backup.sh --full
  CHECK_UUID=file:/etc/hcwrap/backup.uuid hcwrap --quiet --timeout 2h -- backup.sh
  hcwrap --slug db-dump --ping-key file:/etc/hcwrap/ping-key --create -- pg_dump mydb
  hcwrap --every 5m --lock -- rsync -a /srv/ backup:/srv/
  hcwrap --dry-run -- echo hello

Values of --url, --uuid, --slug, --ping-key, --api-url and --api-key may be given as \
file:PATH to read them from a file (a secret then stays out of the crontab and of ps).

Exit status: the command's own; 128+n when it was killed by signal n, or hcwrap was \
interrupted by it; 124 it timed out (--timeout); 75 skipped, a previous run holds the lock \
(--lock); 125 hcwrap's own usage error (and, with --strict, no usable check in the \
environment); 126 the command cannot be executed; 127 not found.";
const PING_AFTER_HELP: &str = "Examples:
  hcwrap ping start --uuid file:/etc/hcwrap/backup.uuid
  hcwrap ping fail --uuid file:/etc/hcwrap/backup.uuid --message-env BACKUP_ERROR
  some-step 2>&1 | hcwrap ping log --body-file -

Values of --url, --uuid, --slug, --ping-key, --api-url and --api-key may be given as \
file:PATH to read them from a file. Inside a command hcwrap wraps, HC_PING_URL and HC_RUN_ID name its check \
and run, so a bare `hcwrap ping log --message ...` adds to that run.

A ping that cannot be delivered within --max-time prints one line and \
     exits 0, as does a check the environment does not name (a CI fork without its secrets), \
     so that a monitoring outage never fails or holds up the hook; --strict makes them exit 1 \
     and 125.\n\n\
     Exit status: 0 when the ping was recorded, or (without --strict) could not be; 1 with \
     --strict when it was not delivered or the server refused it; 125 for usage errors.";
const DOCTOR_ABOUT: &str = "Check what can silently defeat monitoring: the way to the server, \
                            and with an API key the check's settings, pause and filtering";
const SYNC_ABOUT: &str = "Make a crontab's jobs (or systemd timers) checks: set each one up with \
                          its schedule, and wrap its command with hcwrap";
const FLUSH_ABOUT: &str = "Deliver the final pings that earlier runs could not deliver and kept";
const PROBE_ABOUT: &str =
    "Check an HTTP(S) endpoint and exit 0 if it is healthy, for a container HEALTHCHECK";

impl Subcommand for Sub {
    fn augment_subcommands(cmd: Command) -> Command {
        subcommands(
            cmd,
            [
                PingCli::augment_args,
                ProbeCli::augment_args,
                DoctorCli::augment_args,
                SyncCli::augment_args,
                FlushCli::augment_args,
            ],
        )
    }

    fn augment_subcommands_for_update(cmd: Command) -> Command {
        subcommands(
            cmd,
            [
                PingCli::augment_args_for_update,
                ProbeCli::augment_args_for_update,
                DoctorCli::augment_args_for_update,
                SyncCli::augment_args_for_update,
                FlushCli::augment_args_for_update,
            ],
        )
    }

    fn has_subcommand(name: &str) -> bool {
        matches!(name, "ping" | "probe" | "doctor" | "sync" | "flush")
    }
}

/// `ping`, `probe`, `doctor`, `sync` and `flush`, each with its arguments deferred to its
/// own `args`.
fn subcommands(
    cmd: Command,
    [ping, probe, doctor, sync, flush]: [fn(Command) -> Command; 5],
) -> Command {
    cmd.subcommand(Command::new("ping").about(PING_ABOUT).defer(ping))
        .subcommand(Command::new("probe").about(PROBE_ABOUT).defer(probe))
        .subcommand(Command::new("doctor").about(DOCTOR_ABOUT).defer(doctor))
        .subcommand(Command::new("sync").about(SYNC_ABOUT).defer(sync))
        .subcommand(Command::new("flush").about(FLUSH_ABOUT).defer(flush))
}

impl FromArgMatches for Sub {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        match matches.subcommand() {
            Some(("ping", sub)) => Ok(Sub::Ping(Box::new(PingCli::from_arg_matches(sub)?))),
            Some(("probe", sub)) => Ok(Sub::Probe(ProbeCli::from_arg_matches(sub)?)),
            Some(("doctor", sub)) => Ok(Sub::Doctor(Box::new(DoctorCli::from_arg_matches(sub)?))),
            Some(("sync", sub)) => Ok(Sub::Sync(Box::new(SyncCli::from_arg_matches(sub)?))),
            Some(("flush", sub)) => Ok(Sub::Flush(Box::new(FlushCli::from_arg_matches(sub)?))),
            _ => Err(clap::Error::new(clap::error::ErrorKind::MissingSubcommand)),
        }
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

/// `hcwrap flush`: the kept reports delivered, or listed.
#[derive(Debug, Args)]
#[command(
    about = FLUSH_ABOUT,
    after_help = "Reports are kept in the state directory ($HC_STATE_DIR; for root \
                  /var/lib/hcwrap, on macOS and FreeBSD /var/db/hcwrap; else \
                  $XDG_STATE_HOME/hcwrap or ~/.local/state/hcwrap). A wrapped run delivers \
                  its own check's before its pings; this delivers every check's, oldest \
                  first.\n\nExit status: 0 when nothing is left waiting; 1 when \
                  some could not be delivered; 125 for usage errors."
)]
pub struct FlushCli {
    /// List what is waiting without sending anything
    #[arg(long)]
    pub dry_run: bool,

    /// How pings are sent.
    #[command(flatten)]
    pub http: HttpArgs,
}

/// `hcwrap ping`: one ping, with the wrapped run's check options and HTTP rules.
#[derive(Debug, Args)]
#[command(
    about = PING_ABOUT,
    after_help = PING_AFTER_HELP
)]
pub struct PingCli {
    /// What to report: start; success; fail; log (an entry in the check's log that changes nothing, for a step along the way); or an exit status from 0 to 255 (0 is success)
    #[arg(value_name = "KIND", value_parser = KindParser, hide_possible_values = true)]
    pub kind: Endpoint,

    /// The run id to report into [env: HC_RUN_ID, as hcwrap sets it for a wrapped command]
    #[arg(long, value_name = "UUID")]
    pub rid: Option<String>,

    /// The ping's body (it may start with '-', as an error text may)
    #[arg(
        long,
        value_name = "TEXT",
        group = "body",
        allow_hyphen_values = true,
        value_parser = clap::value_parser!(OsString),
        help_heading = "Body"
    )]
    pub message: Option<OsString>,

    /// The ping's body is the value of environment variable NAME (no shell quoting to get wrong)
    #[arg(long, value_name = "NAME", group = "body", help_heading = "Body")]
    pub message_env: Option<String>,

    /// Read the ping's body from this file, or from stdin with '-'; the tail is kept
    #[arg(long, value_name = "PATH", group = "body", help_heading = "Body")]
    pub body_file: Option<PathBuf>,

    /// Send at most this many bytes of body
    #[arg(long, value_name = "BYTES", help_heading = "Body")]
    pub body_limit: Option<usize>,

    /// Print the ping instead of sending it
    #[arg(long)]
    pub dry_run: bool,

    /// Give up on the ping after this long in all, retries included
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration, help_heading = "HTTP")]
    pub max_time: Duration,

    /// Exit 1 when the ping is not delivered, and 125 when the environment names no usable check (default: a warning, and exit 0, so that the monitor never fails the hook)
    #[arg(long, help_heading = "Check")]
    pub strict: bool,

    /// Which check the ping goes to.
    #[command(flatten)]
    pub check: CheckArgs,

    /// The check's settings on the server.
    #[command(flatten)]
    pub setup: SetupArgs,

    /// How the ping is sent.
    #[command(flatten)]
    pub http: HttpArgs,
}

/// `hcwrap doctor`: what can silently defeat monitoring.
#[derive(Debug, Args)]
#[command(
    about = DOCTOR_ABOUT,
    after_help = "Each line starts with ok, warning or problem, and says what to do.\n\n\
                  Exit status: 0 no problem found; 1 a problem; 125 for usage errors."
)]
pub struct DoctorCli {
    /// Also send a log ping (/log) as an end-to-end test: it is recorded in the check's log and changes nothing else
    #[arg(long)]
    pub send_log: bool,

    /// Which check.
    #[command(flatten)]
    pub check: CheckArgs,

    /// The check's settings to compare with the server's, and the API key to read them.
    #[command(flatten)]
    pub setup: SetupArgs,

    /// How the server is reached.
    #[command(flatten)]
    pub http: HttpArgs,
}

/// `hcwrap sync`: a crontab's jobs, or systemd timers, become checks.
#[derive(Debug, Args)]
#[command(
    about = SYNC_ABOUT,
    after_help = "Without --apply nothing changes: it prints the plan and the crontab as it \
                  would become. Exit status: 0 done (or nothing to do); 1 a check could not \
                  be set up, or a file not written; 125 for usage errors (a crontab that \
                  cannot be read is refused whole, with the line number)."
)]
pub struct SyncCli {
    /// Set the checks up and install the rewritten crontab (or drop-in files); without it, only print the plan
    #[arg(long)]
    pub apply: bool,

    /// A crontab file in the system's format, with a user field, such as /etc/crontab or /etc/cron.d/backup (repeatable) [default: your own crontab, through crontab -l]
    #[arg(long, value_name = "FILE")]
    pub crontab: Vec<PathBuf>,

    /// The *.timer units in DIR and the services they start (repeatable) [default DIR: /etc/systemd/system for root, else ~/.config/systemd/user]
    #[arg(long, value_name = "DIR", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    pub systemd: Vec<PathBuf>,

    /// Where to write the timers' drop-in files [default: beside each unit]
    #[arg(long, value_name = "DIR")]
    pub dropin_dir: Option<PathBuf>,

    /// The grace of every check [default: a quarter of the time between runs, 1m to 6h]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub grace: Option<Duration>,

    /// The schedules' time zone: cron's own, where it reads no CRON_TZ line [default: the system's]
    #[arg(long, value_name = "NAME")]
    pub tz: Option<String>,

    /// Rewrite lines that runitor wraps to use hcwrap (with the slug derived as for others)
    #[arg(long)]
    pub migrate_runitor: bool,

    /// The hcwrap that the wrapped lines run [default: this one's absolute path]
    #[arg(long, value_name = "PATH")]
    pub hcwrap: Option<PathBuf>,

    /// The ping API's base URL [env: HC_API_URL] [default: https://hc-ping.com]
    #[arg(long, value_name = "URL", help_heading = "Check")]
    pub api_url: Option<String>,

    /// The project's ping key, as file:PATH: the crontab gets HC_PING_KEY=file:PATH, never the key [env: HC_PING_KEY]
    #[arg(
        long,
        value_name = "KEY",
        allow_hyphen_values = true,
        help_heading = "Check"
    )]
    pub ping_key: Option<String>,

    /// The key (read-write for --apply) and site of the management API.
    #[command(flatten)]
    pub api: ApiArgs,

    /// How the server is reached.
    #[command(flatten)]
    pub http: HttpArgs,
}

/// `hcwrap probe`: an HTTP(S) GET that says whether an endpoint is healthy.
#[derive(Debug, Args)]
#[command(
    about = PROBE_ABOUT,
    after_help = "Exit status: 0 healthy; 1 not healthy; 125 for usage errors."
)]
pub struct ProbeCli {
    /// The URL to GET, such as http://127.0.0.1:8000/api/v3/status/
    #[arg(value_name = "URL")]
    pub url: String,

    /// Healthy only with exactly this status (default: any 2xx)
    #[arg(long, value_name = "N")]
    pub expect_status: Option<u16>,

    /// Healthy only if the answer's body contains TEXT
    #[arg(long, value_name = "TEXT")]
    pub expect_body: Option<String>,

    /// Send this Host header (a server behind a proxy or in a container may want its own name)
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,

    /// Add this header, as 'Name: value' (repeatable)
    #[arg(
        long = "header",
        short = 'H',
        value_name = "HEADER",
        allow_hyphen_values = true
    )]
    pub headers: Vec<String>,

    /// Time limit for the whole probe, retries included
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,

    /// Try again this many times when the endpoint is not healthy
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retries: u32,

    /// Print nothing; the exit status says it all
    #[arg(short, long)]
    pub quiet: bool,

    /// Also trust the CA certificates in this PEM file
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
}

/// Parses a ping kind: `start`, `success`, `fail`, `log` or an exit status 0..=255.
/// The longest duration any option takes: longer ones are mistakes (`500000000000y`), and
/// the clock arithmetic that uses them must never overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(3_155_760_000); // 100 × 365.25 days

/// A duration such as `90s` or `1h30m`, at most [`MAX_DURATION`].
fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if duration > MAX_DURATION {
        return Err("longer than 100 years; give a shorter duration".to_owned());
    }
    Ok(duration)
}

/// `hcwrap ping`'s KIND: the words, which the completions offer, or a number.
#[derive(Debug, Clone, Copy)]
struct KindParser;

impl clap::builder::TypedValueParser for KindParser {
    type Value = Endpoint;

    fn parse_ref(
        &self,
        cmd: &Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Endpoint, clap::Error> {
        parse_kind.parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let words = ["start", "success", "fail", "log"];
        Some(Box::new(
            words.into_iter().map(clap::builder::PossibleValue::new),
        ))
    }
}

fn parse_kind(kind: &str) -> Result<Endpoint, String> {
    match kind {
        "start" => Ok(Endpoint::Start),
        "success" => Ok(Endpoint::Success),
        "fail" => Ok(Endpoint::Fail),
        "log" => Ok(Endpoint::Log),
        n => n.parse::<u8>().map(Endpoint::ExitCode).map_err(|_| {
            "expected start, success, fail, log, or an exit status from 0 to 255".to_owned()
        }),
    }
}

/// What to send when the overlap lock is busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnLockBusy {
    /// A log entry (/log) saying the run was skipped.
    Log,
    /// A failure ping (/fail).
    Fail,
    /// No ping.
    None,
}

/// Run a command and report how it went to Healthchecks.
///
/// hcwrap sends a start ping, runs the command with its output shown as usual while
/// keeping the tail of it, then reports success or failure with the exit status and the
/// end of the output. It exits with the command's own exit status.
#[derive(Debug, Parser)]
#[command(
    name = "hcwrap",
    version,
    about = "Run a command and report how it went to Healthchecks",
    override_usage = "hcwrap [OPTIONS] -- <COMMAND> [ARGS]...\n       hcwrap ping <KIND> [OPTIONS]\n       hcwrap probe <URL> [OPTIONS]\n       hcwrap doctor [OPTIONS]\n       hcwrap sync [OPTIONS]\n       hcwrap flush [OPTIONS]",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// A subcommand instead of a wrapped run.
    #[command(subcommand)]
    pub subcommand: Option<Sub>,

    /// Which check the pings go to.
    #[command(flatten)]
    pub check: CheckArgs,

    /// Do not send a start ping
    #[arg(long, help_heading = "Pings")]
    pub no_start_ping: bool,

    /// Do not tag the pings with a run id (rid=)
    #[arg(long, help_heading = "Pings")]
    pub no_run_id: bool,

    /// The ping to send when the command exits with status 0
    #[arg(
        long,
        value_enum,
        value_name = "PING",
        default_value = "success",
        help_heading = "Pings"
    )]
    pub on_success: OnEnd,

    /// The ping to send when the command exits with another status or is killed
    #[arg(
        long,
        value_enum,
        value_name = "PING",
        default_value = "exit-code",
        help_heading = "Pings"
    )]
    pub on_nonzero_exit: OnEnd,

    /// The ping to send when the command cannot be started
    #[arg(
        long,
        value_enum,
        value_name = "PING",
        default_value = "fail",
        help_heading = "Pings"
    )]
    pub on_exec_fail: OnEnd,

    /// Send at most this many bytes of output (can only lower the server's limit)
    #[arg(long, value_name = "BYTES", help_heading = "Pings")]
    pub body_limit: Option<usize>,

    /// Send no output with the final ping, only how the run ended
    #[arg(long, help_heading = "Pings")]
    pub no_output: bool,

    /// Print the pings instead of sending them
    #[arg(long, help_heading = "Pings")]
    pub dry_run: bool,

    /// Refuse to run (exit 125) when the environment names no usable check, instead of running the command unmonitored
    #[arg(long, help_heading = "Check")]
    pub strict: bool,

    /// Replace VALUE by [redacted] in the output sent with the final ping (repeatable)
    #[arg(
        long,
        value_name = "VALUE",
        allow_hyphen_values = true,
        help_heading = "Pings"
    )]
    pub redact: Vec<String>,

    /// Replace the value of environment variable NAME by [redacted] in the output sent (repeatable)
    #[arg(long, value_name = "NAME", help_heading = "Pings")]
    pub redact_env: Vec<String>,

    /// Do not show the command's stdout (it is still captured)
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,

    /// Do not show the command's stdout or stderr (both are still captured), nor hcwrap's notices (a timeout, a signal, a skipped run); errors and warnings still show
    #[arg(short, long, help_heading = "Output")]
    pub silent: bool,

    /// The check's settings on the server.
    #[command(flatten)]
    pub setup: SetupArgs,

    /// How pings are sent.
    #[command(flatten)]
    pub http: HttpArgs,

    /// Report up to N failures in a row as log pings; the next one as a failure (a success resets the count)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10000), help_heading = "Judging")]
    pub tolerate: Option<u32>,

    /// Count a run that exits 0 sooner than DURATION as failed
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Judging")]
    pub min_runtime: Option<Duration>,

    /// Count a run that exits 0 but writes to stderr as failed
    #[arg(long, help_heading = "Judging")]
    pub fail_on_stderr: bool,

    /// Count a run that exits 0 as failed when a line of its output contains TEXT (plain text, case-sensitive; repeatable)
    #[arg(
        long,
        value_name = "TEXT",
        allow_hyphen_values = true,
        help_heading = "Judging"
    )]
    pub fail_on: Vec<String>,

    /// Exit with STATUS instead of 0 when --min-runtime, --fail-on-stderr or --fail-on counts a run as failed
    #[arg(long, value_name = "STATUS", value_parser = clap::value_parser!(u8).range(1..=255), help_heading = "Judging")]
    pub fail_exit: Option<u8>,

    /// Append one JSON line per run to FILE
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, help_heading = "Records")]
    pub run_log: Option<PathBuf>,

    /// Keep the last run's numbers in FILE, in node_exporter's textfile format (labelled by check)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, help_heading = "Records")]
    pub metrics_file: Option<PathBuf>,

    /// Run only if no other run holds the lock (default file: named from the check, in $XDG_RUNTIME_DIR, else /run/hcwrap for root, else ~/.cache/hcwrap)
    #[arg(long, value_name = "PATH", num_args = 0..=1, require_equals = true, help_heading = "Job control")]
    #[allow(clippy::option_option)] // clap's form of a flag with an optional value.
    pub lock: Option<Option<PathBuf>>,

    /// The ping to send when --lock finds a previous run still running
    #[arg(
        long,
        value_enum,
        value_name = "PING",
        default_value = "log",
        help_heading = "Job control"
    )]
    pub on_lock_busy: OnLockBusy,

    /// Run the command now and then every DURATION after the first start, until a signal ends hcwrap
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Job control")]
    pub every: Option<Duration>,

    /// Wait a random time up to DURATION before each run
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Job control")]
    pub jitter: Option<Duration>,

    /// Stop the command (SIGTERM to its process group) after it ran this long, and exit 124
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Job control")]
    pub timeout: Option<Duration>,

    /// After passing on SIGINT, SIGTERM, SIGHUP or SIGQUIT, or a timeout's SIGTERM, send SIGKILL if the command still runs after this long
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration, help_heading = "Job control")]
    pub kill_after: Duration,

    /// The command to run, and its arguments
    #[arg(
        last = true,
        required = true,
        value_name = "COMMAND",
        value_hint = ValueHint::CommandWithArguments
    )]
    pub command: Vec<OsString>,
}

/// The options that choose the check; shared by the wrapped run and `hcwrap ping`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The check's full ping URL, as its page shows it [env: HC_PING_URL]
    #[arg(long, value_name = "URL", help_heading = "Check")]
    pub url: Option<String>,

    /// The check's UUID [env: CHECK_UUID]
    #[arg(long, value_name = "UUID", help_heading = "Check")]
    pub uuid: Option<String>,

    /// The ping API's base URL, for --uuid and --slug [env: HC_API_URL] [default: https://hc-ping.com]
    #[arg(long, value_name = "URL", help_heading = "Check")]
    pub api_url: Option<String>,

    /// The check's slug, with --ping-key or --api-key [env: CHECK_SLUG]
    #[arg(long, value_name = "SLUG", help_heading = "Check")]
    pub slug: Option<String>,

    /// The project's ping key, for --slug [env: HC_PING_KEY, then PING_KEY]
    #[arg(
        long,
        value_name = "KEY",
        allow_hyphen_values = true,
        help_heading = "Check"
    )]
    pub ping_key: Option<String>,

    /// Create the check named by --slug if the server does not know it yet
    #[arg(long, help_heading = "Check")]
    pub create: bool,
}

/// The management API: the project's key and the site; shared by every subcommand that
/// uses it.
#[derive(Debug, Clone, Args)]
pub struct ApiArgs {
    /// The project's API key, for the management API, through which hcwrap sets the check up with the settings given (a read-write key; doctor needs only a read-only one) [env: HC_API_KEY]
    #[arg(
        long,
        value_name = "KEY",
        allow_hyphen_values = true,
        help_heading = "Check setup"
    )]
    pub api_key: Option<String>,

    /// The Healthchecks site whose management API to use, when it cannot be told from the ping URL (https://hc-ping.com means https://healthchecks.io, and <site>/ping means <site>) [env: HC_SITE_URL]
    #[arg(long, value_name = "URL", help_heading = "Check setup")]
    pub site_url: Option<String>,
}

/// The check's settings on the server, set through the management API; shared by the
/// wrapped run and `hcwrap ping`.
#[derive(Debug, Clone, Args)]
pub struct SetupArgs {
    /// The key and site of the management API.
    #[command(flatten)]
    pub api: ApiArgs,

    /// When the job runs: a five-field cron expression (or @daily, @hourly, ...) or a systemd OnCalendar expression
    #[arg(long, value_name = "EXPR", help_heading = "Check setup")]
    pub schedule: Option<String>,

    /// The schedule's time zone, such as Europe/Riga [default: CRON_TZ, else TZ, else the system's]
    #[arg(long, value_name = "NAME", help_heading = "Check setup")]
    pub tz: Option<String>,

    /// How late a run may be before the check is reported down (1m to 365d)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Check setup")]
    pub grace: Option<Duration>,

    /// Instead of a schedule: how often the job runs (1m to 365d)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, conflicts_with = "schedule", help_heading = "Check setup")]
    pub period: Option<Duration>,

    /// The check's name in the web UI [default: the slug, for a check named by slug]
    #[arg(long, value_name = "TEXT", help_heading = "Check setup")]
    pub name: Option<String>,

    /// The check's tags, separated by spaces
    #[arg(long, value_name = "TAGS", help_heading = "Check setup")]
    pub tags: Option<String>,

    /// The check's description
    #[arg(
        long,
        value_name = "TEXT",
        allow_hyphen_values = true,
        help_heading = "Check setup"
    )]
    pub desc: Option<String>,

    /// The integrations to notify: '*' for all, '' for none, or a comma-separated list of their names or UUIDs
    #[arg(long, value_name = "LIST", help_heading = "Check setup")]
    pub channels: Option<String>,
}

/// How pings are sent; shared by the wrapped run and `hcwrap ping`.
#[derive(Debug, Clone, Args)]
pub struct HttpArgs {
    /// Time limit for each attempt to send a ping
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration, help_heading = "HTTP")]
    pub ping_timeout: Duration,

    /// How many times to retry a ping that failed for a reason worth retrying
    #[arg(long, value_name = "N", default_value_t = 5, help_heading = "HTTP")]
    pub ping_retries: u32,

    /// Send pings through this proxy (default: https_proxy, http_proxy or ALL_PROXY, minus NO_PROXY)
    #[arg(long, value_name = "URL", help_heading = "HTTP")]
    pub proxy: Option<String>,

    /// Also trust the CA certificates in this PEM file
    #[arg(long, value_name = "FILE", help_heading = "HTTP")]
    pub cacert: Option<PathBuf>,

    /// Add this header to every ping, as 'Name: value' (repeatable)
    #[arg(
        long = "header",
        short = 'H',
        value_name = "HEADER",
        allow_hyphen_values = true,
        help_heading = "HTTP"
    )]
    pub headers: Vec<String>,
}

/// Names the first argument that is not UTF-8 (for an option's value, the option), its
/// bytes left out: they may be a secret.
fn first_non_utf8_argument() -> String {
    let mut previous = None;
    for (i, arg) in std::env::args_os().enumerate().skip(1) {
        match arg.into_string() {
            Ok(text) => previous = Some(text),
            Err(_) => {
                return match previous.filter(|p| p.starts_with("--") && !p.contains('=')) {
                    Some(option) => format!("the value of {option}"),
                    None => format!("argument {i}"),
                };
            }
        }
    }
    "an argument".to_owned()
}

/// Prints a command-line error as one `hcwrap: error:` line (help and version as clap
/// prints them) and returns the exit status: 0 for help and version, else 125.
pub fn report_clap_error(error: &clap::Error) -> i32 {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        let _ = error.print();
        return 0;
    }
    if error.kind() == ErrorKind::InvalidUtf8 {
        crate::msg::say(&format!(
            "error: {} is not valid UTF-8; give it as UTF-8 text \
             (the command after -- may take any bytes)",
            first_non_utf8_argument()
        ));
        return crate::exit_codes::USAGE;
    }
    let text = error.render().to_string();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    // The usage of the subcommand the error is about, if any (clap does not always print it).
    // args_os: an argument that is not UTF-8 must not panic here (it is what the error
    // may be about).
    let subcommand = std::env::args_os()
        .skip(1)
        .filter_map(|a| a.into_string().ok())
        .find(|a| !a.starts_with('-'))
        .filter(|a| matches!(a.as_str(), "ping" | "probe" | "doctor" | "sync"));
    let fallback = match subcommand.as_deref() {
        Some("ping") => "hcwrap ping [OPTIONS] <KIND>",
        Some("probe") => "hcwrap probe [OPTIONS] <URL>",
        Some("doctor") => "hcwrap doctor [OPTIONS]",
        Some("sync") => "hcwrap sync [OPTIONS]",
        _ => "hcwrap [OPTIONS] -- <COMMAND> [ARGS]...",
    };
    let usage = lines
        .iter()
        .find_map(|l| l.strip_prefix("Usage: "))
        .unwrap_or(fallback);
    let help = "--help";
    let what: Vec<&str> = lines
        .iter()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .copied()
        .collect();
    let what = quoted_values_hidden(&what.join(" "));
    let what = what.strip_prefix("error: ").unwrap_or(&what);
    let command = match subcommand.as_deref() {
        Some(name) => format!("hcwrap {name}"),
        None => "hcwrap".to_owned(),
    };
    crate::msg::say(&format!(
        "error: {what} (usage: {usage}; see {command} {help})"
    ));
    crate::exit_codes::USAGE
}

/// A clap error with each value it quotes (`'…'`) that may be a secret shown as hcwrap
/// shows secrets: a stray argument is often a check URL, a UUID, a ping key or a header
/// given without its flag. A URL keeps its scheme and host, a `Name: value` its name, and
/// any other value of 12 characters or more its first 4; options (`'--flag'`) and short
/// values stay as they are. Control characters are escaped.
fn quoted_values_hidden(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut parts = text.split('\'');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for (i, part) in parts.enumerate() {
        out.push('\'');
        // Every other part is inside quotes.
        if i % 2 == 1 || part.starts_with('-') || part.starts_with('<') {
            out.push_str(part);
        } else if part.contains("://") {
            out.push_str(&crate::check::redact_url_text(part));
        } else if let Some((name, _)) = part.split_once(": ") {
            out.push_str(&crate::msg::printable(name));
            out.push_str(": …");
        } else if part.chars().count() >= 12 {
            out.push_str(&crate::check::redact_partial(part));
        } else {
            out.push_str(&crate::msg::printable(part));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn stray_values_in_usage_errors_are_hidden() {
        let said = super::quoted_values_hidden(
            "unexpected argument 'http://alice:pw@h/ping/1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b' \
             found; invalid value 'Abcdefghijklmnopqrstuv' for '<KIND>'; 'X-Key: hunter3hunter3'; \
             'maybe' for '--on-success <PING>'",
        );
        assert_eq!(
            said,
            "unexpected argument 'http://…@h/…' found; invalid value 'Abcd…' for '<KIND>'; \
             'X-Key: …'; 'maybe' for '--on-success <PING>'"
        );
    }

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
