//! hcwrap: run a command and report how it went to a Healthchecks server.

fn main() {
    std::process::exit(hcwrap::run());
}
