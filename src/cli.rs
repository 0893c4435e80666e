//! The command line: flags, help text and the wrapped command. Nothing here validates
//! or reads the environment; `config.rs` does both.

#![allow(clippy::doc_markdown)] // Doc comments here are --help text, not Markdown.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, ValueEnum, ValueHint};

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

/// What `--generate` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Generate {
    /// The man page, hcwrap.1.
    Man,
    /// Completions for bash.
    CompleteBash,
    /// Completions for zsh.
    CompleteZsh,
    /// Completions for fish.
    CompleteFish,
    /// Completions for elvish.
    CompleteElvish,
    /// Completions for PowerShell.
    CompletePowershell,
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
    override_usage = "hcwrap [OPTIONS] -- <COMMAND> [ARGS]...",
    after_help = "Values of --url, --uuid, --slug, --ping-key and --api-url may be given as file:PATH \
                  to read them from a file.\nExit status: the command's own; 128+n for signal n; \
                  126 cannot execute; 127 not found; 125 hcwrap's own error."
)]
pub struct Cli {
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

    /// Do not show the command's stdout (it is still captured)
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,

    /// Do not show the command's stdout or stderr (both are still captured)
    #[arg(short, long, help_heading = "Output")]
    pub silent: bool,

    /// How pings are sent.
    #[command(flatten)]
    pub http: HttpArgs,

    /// Run only if no other run holds the lock (default file: from the check, under $XDG_RUNTIME_DIR or the temp directory)
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
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, help_heading = "Job control")]
    pub every: Option<Duration>,

    /// Wait a random time up to DURATION before each run
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, help_heading = "Job control")]
    pub jitter: Option<Duration>,

    /// Stop the command (SIGTERM to its process group) after it ran this long, and exit 124
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, help_heading = "Job control")]
    pub timeout: Option<Duration>,

    /// After passing on SIGINT, SIGTERM or SIGHUP, or a timeout's SIGTERM, send SIGKILL if the command still runs after this long
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration, help_heading = "Job control")]
    pub kill_after: Duration,

    /// Print a man page or a shell completion script generated from this definition
    #[arg(long, value_enum, value_name = "KIND", hide = true, exclusive = true)]
    pub generate: Option<Generate>,

    /// The command to run, and its arguments
    #[arg(
        last = true,
        required_unless_present = "generate",
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

    /// The check's slug, with --ping-key [env: CHECK_SLUG]
    #[arg(long, value_name = "SLUG", help_heading = "Check")]
    pub slug: Option<String>,

    /// The project's ping key, for --slug [env: HC_PING_KEY, then PING_KEY]
    #[arg(long, value_name = "KEY", help_heading = "Check")]
    pub ping_key: Option<String>,

    /// Create the check named by --slug if the server does not know it yet
    #[arg(long, help_heading = "Check")]
    pub create: bool,
}

/// How pings are sent; shared by the wrapped run and `hcwrap ping`.
#[derive(Debug, Clone, Args)]
pub struct HttpArgs {
    /// Time limit for each attempt to send a ping
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration, help_heading = "HTTP")]
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
        help_heading = "HTTP"
    )]
    pub headers: Vec<String>,
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
    let text = error.render().to_string();
    let mut line: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:"))
        .filter(|l| !l.is_empty())
        .collect();
    if let Some(first) = line.first_mut() {
        *first = first.strip_prefix("error: ").unwrap_or(first);
    }
    crate::msg::say(&format!(
        "error: {} (usage: hcwrap [OPTIONS] -- <COMMAND> [ARGS]...; see hcwrap --help)",
        line.join(" ")
    ));
    crate::exit_codes::USAGE
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
