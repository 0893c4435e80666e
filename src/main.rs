//! hcwrap: run a command and report how it went to a Healthchecks server.

mod body;
mod check;
mod check_config;
mod child;
mod cli;
mod config;
mod exit_codes;
mod generate;
mod hidden;
mod hook;
mod http;
mod limit_cache;
mod lock;
mod msg;
mod ping;
mod pings;
mod probe;
mod random;
mod redact;
mod report;
mod ring;
mod schedule;
mod signals;
mod small_file;
mod stop;
mod sys;
mod wrap;

use clap::Parser;

fn main() {
    let code = match cli::Cli::try_parse() {
        Ok(cli) => dispatch(cli),
        Err(e) => Ok(cli::report_clap_error(&e)),
    };
    std::process::exit(code.unwrap_or_else(|e| {
        msg::say(&format!("error: {e:#}"));
        exit_codes::USAGE
    }));
}

/// Validates and runs what the command line asks for; returns the exit status.
fn dispatch(cli: cli::Cli) -> anyhow::Result<i32> {
    let env = |name: &str| std::env::var(name).ok();
    if let Some(kind) = cli.generate {
        return generate::print(kind).map(|()| 0);
    }
    match cli.subcommand {
        Some(cli::Sub::Ping(args)) => hook::Hook::from_cli(*args, &env).and_then(hook::run),
        Some(cli::Sub::Probe(args)) => probe::ProbeConfig::from_cli(args).and_then(probe::run),
        None => config::Config::from_cli(cli, &env).and_then(schedule::run),
    }
}
