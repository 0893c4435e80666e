//! When runs happen: once, or every `--every` (on a fixed grid from the first start, so
//! the length of a run never makes the schedule drift), each after a `--jitter` wait; and
//! how hcwrap ends once they are over.
//!
//! Runs never overlap: a tick that falls during a run is skipped. A run's pings do not
//! hold up the next run: they go on in the background, each run's in order (see
//! [`pings`](crate::pings)); when [`MAX_BEHIND`] runs' pings are still going, the oldest
//! gives up its retries. An interrupting signal ends the loop: a run going on is
//! interrupted as a single run would be, a wait ends at once. hcwrap then waits for the
//! pings still going (a second signal gives up their retries) and ends by that signal.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::child::{self, Unsent};
use crate::config::Config;
use crate::exit_codes;
use crate::pings::RunPings;
use crate::random;
use crate::signals::Signals;
use crate::sys;
use crate::wrap;

/// The most runs whose pings may still be going when another run starts.
const MAX_BEHIND: usize = 4;

/// Runs the command as `config` says, once or on a schedule; returns hcwrap's exit status
/// (or ends hcwrap by the signal that interrupted it).
#[allow(clippy::needless_pass_by_value)] // Called as `.and_then(schedule::run)`.
pub fn run(config: Config) -> Result<i32> {
    if let Some(why) = &config.unmonitored {
        crate::msg::say(&format!(
            "warning: not monitored: {why}; running the command anyway (--strict refuses \
             instead)"
        ));
    }
    let mut signals = Signals::install()?;
    let first = Instant::now();
    let mut behind: VecDeque<RunPings> = VecDeque::new();
    let mut late = false;
    let (status, die_by) = loop {
        if let Some(jitter) = config.jitter
            && let Some(signal) = signals.sleep(jitter.mul_f64(random::fraction()))
        {
            break (exit_codes::for_signal(signal), Some(signal));
        }
        let end = match wrap::once(&config, &mut signals) {
            Ok(end) => end,
            Err(e) => {
                wait_all(behind, &mut signals, late);
                return Err(e);
            }
        };
        late |= end.late_signal;
        behind.push_back(end.pings);
        let Some(every) = config.every else {
            break (end.status, end.die_by);
        };
        if let Some(signal) = signals.received() {
            break (end.status, end.die_by.or(Some(signal)));
        }
        behind.retain(|p| !p.is_done());
        while behind.len() > MAX_BEHIND {
            if let Some(oldest) = behind.pop_front() {
                oldest.give_up();
                // Its thread ends on its own now; nothing waits for it.
            }
        }
        if let Some(signal) = signals.sleep(until_next_tick(first.elapsed(), every)) {
            break (exit_codes::for_signal(signal), Some(signal));
        }
    };
    wait_all(behind, &mut signals, late);
    // hcwrap's own last messages (a ping that failed) wait for stderr's reader as the
    // command's output did, until a signal says not to.
    let interrupted = if die_by.is_none() && signals.received().is_none() {
        child::pass_on(&mut Unsent::none(), &mut signals, true)
    } else {
        None
    };
    // An interrupting signal received at any point (during the final ping's retries, or
    // while a reader was being waited for) ends hcwrap too: Ctrl-C must stop a shell loop.
    if let Some(signal) = die_by.or(interrupted).or(signals.received()) {
        // Returns only where the signal cannot end hcwrap (as PID 1).
        sys::die_by(signal);
        return Ok(exit_codes::for_signal(signal));
    }
    Ok(status)
}

/// Waits for every run's pings; after one interrupting signal (or `late`), gives up
/// their retries.
fn wait_all(behind: VecDeque<RunPings>, signals: &mut Signals, mut late: bool) {
    for pings in behind {
        late |= pings.wait(signals, late).is_some();
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
