//! hcwrap: run a command and report how it went to a Healthchecks server.

mod body;
mod check;
mod check_config;
mod cli;
mod config;
mod exit_codes;
mod generate;
mod lock;
mod msg;
mod ping;
mod random;
mod ring;
mod run;
mod schedule;
mod signals;
mod stop;
mod terminal;
mod wrap;

use clap::Parser;

fn main() {
    let code = match cli::Cli::try_parse() {
        Ok(cli) => match cli.generate {
            Some(kind) => generate::print(kind).map(|()| 0),
            None => config::Config::from_cli(cli, &|name| std::env::var(name).ok())
                .and_then(schedule::run),
        },
        Err(e) => Ok(cli::report_clap_error(&e)),
    };
    std::process::exit(code.unwrap_or_else(|e| {
        msg::say(&format!("error: {e:#}"));
        exit_codes::USAGE
    }));
}
