//! hcwrap: run a command and report how it went to a Healthchecks server.
//!
//! A library only so that the man page and completion generator (a test,
//! `tests/generated.rs`) can read the command-line definition without being compiled into
//! every binary; the binary's `main` is [`run`].

mod api;
mod body;
mod check;
mod check_config;
mod check_settings;
mod child;
pub mod cli;
mod config;
mod doctor;
mod exit_codes;
mod flush;
mod handover;
mod hidden;
mod hook;
mod http;
mod late;
mod limit_cache;
mod lock;
mod msg;
mod outbox;
mod own_dir;
mod ping;
mod pings;
mod probe;
mod random;
mod records;
mod redact;
mod report;
mod ring;
mod run_state;
mod schedule;
mod setup;
mod signals;
mod sink;
mod small_file;
mod stop;
mod sync;
mod sys;
mod verdict;
mod wrap;

use clap::Parser;

/// Runs hcwrap with the process's arguments; returns its exit status.
pub fn run() -> i32 {
    let code = match cli::Cli::try_parse() {
        Ok(cli) => dispatch(cli),
        Err(e) => Ok(cli::report_clap_error(&e)),
    };
    let code = code.unwrap_or_else(|e| {
        msg::say(&format!("error: {e:#}"));
        exit_codes::USAGE
    });
    // hcwrap's own messages that stderr's reader has not taken yet get a moment more, no
    // longer: nothing may keep a hook or a probe from ending. (A wrapped run has waited
    // for the reader already, as long as it waited for the command's output.)
    msg::finish(std::time::Duration::from_secs(1));
    code
}

/// Validates and runs what the command line asks for; returns the exit status.
fn dispatch(cli: cli::Cli) -> anyhow::Result<i32> {
    // A value that is not UTF-8 is read with U+FFFD in place of other bytes: as text to
    // send it stays text, and as a check it is then refused saying what is wrong with it.
    let env = |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
    match cli.subcommand {
        Some(cli::Sub::Ping(args)) => hook::Hook::from_cli(*args, &env).and_then(hook::run),
        Some(cli::Sub::Probe(args)) => {
            probe::ProbeConfig::from_cli(args, &env).and_then(probe::run)
        }
        Some(cli::Sub::Sync(args)) => sync::SyncConfig::from_cli(&args, &env).and_then(sync::run),
        Some(cli::Sub::Doctor(args)) => {
            doctor::DoctorConfig::from_cli(&args, &env).and_then(doctor::run)
        }
        Some(cli::Sub::Flush(args)) => {
            flush::FlushConfig::from_cli(&args, &env).and_then(flush::run)
        }
        None => config::Config::from_cli(cli, &env).and_then(schedule::run),
    }
}
