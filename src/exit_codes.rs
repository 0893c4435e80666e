//! The exit-status contract in one place.
//!
//! hcwrap exits with the wrapped command's own status whenever the command ran, so a
//! crontab line or a CI step sees exactly what it would have seen without hcwrap. The codes
//! hcwrap adds follow the conventions of shells and of `env(1)` and `timeout(1)`: 125 for
//! hcwrap's own errors, 124 for a timeout, 126 and 127 for a command that could not be started, 128+n for a
//! signal. A ping that could not be delivered never changes the exit status.

/// `hcwrap ping`: the ping was not recorded (not delivered, or refused).
pub const NOT_DELIVERED: i32 = 1;
/// `hcwrap probe`: the endpoint is not healthy.
pub const UNHEALTHY: i32 = 1;
/// The command did not run: `--lock` found a previous run still running (`EX_TEMPFAIL`).
pub const LOCK_BUSY: i32 = 75;
/// The command ran longer than `--timeout` and was stopped, as `timeout(1)` reports it.
pub const TIMED_OUT: i32 = 124;
/// hcwrap's own usage or configuration error; the command did not run.
pub const USAGE: i32 = 125;
/// The command was found but could not be executed (permissions, not an executable).
pub const CANNOT_EXECUTE: i32 = 126;
/// The command was not found.
pub const NOT_FOUND: i32 = 127;
/// Added to a signal number: the status of a run ended by that signal.
pub const SIGNAL_BASE: i32 = 128;

/// The exit status of a run ended by signal `signal`, as shells report it.
pub fn for_signal(signal: i32) -> i32 {
    SIGNAL_BASE + signal
}
