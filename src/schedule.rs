//! When runs happen: once, or every `--every` (on a fixed grid from the first start, so
//! the length of a run never makes the schedule drift), each after a `--jitter` wait.
//!
//! Runs never overlap: a tick that falls during a run is skipped. SIGINT, SIGTERM or
//! SIGHUP ends the loop: a run going on is interrupted as a single run would be, a wait
//! ends at once, and hcwrap exits 128+n.

use std::time::{Duration, Instant};

use anyhow::Result;

use crate::config::Config;
use crate::exit_codes;
use crate::random;
use crate::signals::Forwarder;
use crate::wrap;

/// Runs the command as `config` says, once or on a schedule; returns hcwrap's exit status.
#[allow(clippy::needless_pass_by_value)] // Called as `.and_then(schedule::run)`.
pub fn run(config: Config) -> Result<i32> {
    let signals = Forwarder::install(config.kill_after)?;
    let first = Instant::now();
    loop {
        if let Some(jitter) = config.jitter
            && let Some(signal) = signals.sleep(jitter.mul_f64(random::fraction()))
        {
            return Ok(exit_codes::for_signal(signal));
        }
        let status = wrap::once(&config, &signals)?;
        let Some(every) = config.every else {
            return Ok(status);
        };
        if let Some(signal) = signals.received() {
            return Ok(exit_codes::for_signal(signal));
        }
        if let Some(signal) = signals.sleep(until_next_tick(first.elapsed(), every)) {
            return Ok(exit_codes::for_signal(signal));
        }
    }
}

/// How long from `elapsed` (since the first start) to the next multiple of `every`.
fn until_next_tick(elapsed: Duration, every: Duration) -> Duration {
    let every_ns = every.as_nanos().max(1);
    let next_ns = (elapsed.as_nanos() / every_ns + 1) * every_ns;
    let wait_ns = next_ns - elapsed.as_nanos();
    Duration::from_nanos(u64::try_from(wait_ns).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::until_next_tick;
    use std::time::Duration;

    #[test]
    fn ticks_stay_on_the_grid_and_skip_what_a_long_run_missed() {
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        assert_eq!(until_next_tick(ms(200), s(60)), ms(59_800));
        // A run that took 2.5 periods: the two ticks it covered are skipped.
        assert_eq!(until_next_tick(ms(150_000), s(60)), s(30));
        assert_eq!(until_next_tick(s(120), s(60)), s(60));
    }
}
