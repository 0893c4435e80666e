//! One wrapped run, end to end: the lock, the command and its pings started together, the
//! command supervised to its end, the final ping handed to the run's ping thread.
//!
//! The command is spawned first and the start ping goes out beside it, so a slow or dead
//! server never delays the job; the final ping follows the start ping on the same thread
//! (see [`pings`](crate::pings)). Once the command has ended, the start ping gets no more
//! retries, since the final ping now carries the news.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use anyhow::Result;

use crate::check::Endpoint;
use crate::check_config::{PING_URL_MARK, ping_url_mark};
use crate::child::{self, Cut, Echo, Ended, Outcome, Spec};
use crate::cli::OnLockBusy;
use crate::config::Config;
use crate::exit_codes;
use crate::lock;
use crate::msg::{printable, say};
use crate::ping::DEFAULT_BODY_LIMIT;
use crate::pings::{Final, JudgedRun, RunPings, Target};
use crate::random;
use crate::report::{self, Rules};
use crate::ring::Ring;
use crate::run_state::Counts;
use crate::signals::{self, Signals};
use crate::verdict::{self, Verdict};

/// A run, over: how hcwrap should end for it, and its pings, which may still be going.
#[derive(Debug)]
pub struct RunEnd {
    /// The exit status.
    pub status: i32,
    /// The signal hcwrap should end by instead, once its pings are done.
    pub die_by: Option<i32>,
    /// The run's pings.
    pub pings: RunPings,
    /// An interrupting signal came after the command ended: give up the pings' retries.
    pub late_signal: bool,
}

/// What the pings of a run with `run_id` need to know.
fn target(config: &Config, run_id: Option<String>) -> Target {
    Target {
        check: config.check.clone(),
        http: config.http.clone(),
        run_id,
        body_limit: config.body_limit,
        limit_cache: config.limit_cache.clone(),
        setup: config.setup.clone(),
        records: Arc::clone(&config.records),
        last_run: config.every.is_none(),
    }
}

/// One wrapped run, as `config` says. Errors come only from before the command starts
/// (the lock), and are reported to the server too.
pub fn once(config: &Config, signals: &mut Signals) -> Result<RunEnd> {
    let target = |run_id: Option<String>| target(config, run_id);
    // Held until the run has ended.
    let _lock = match &config.lock {
        Some(lock_path) => match lock::try_lock(lock_path) {
            Ok(Some(lock)) => Some(lock),
            Ok(None) => return Ok(skip_busy(config, target(None))),
            Err(e) if config.unmonitored.is_some() => return Err(e),
            Err(e) => {
                // The job does not run: the server must hear why, not only the terminal.
                let mut pings = RunPings::begin(target(None), false, None);
                let why = format!("the command did not run: {e:#}");
                pings.finish(Final::Fixed(Endpoint::Fail, vec![why]));
                pings.wait(signals, false);
                return Err(e);
            }
        },
        None => None,
    };
    let run_id = config.run_id.then(new_run_id);
    let initial = if config.send_output {
        config.body_limit.unwrap_or(DEFAULT_BODY_LIMIT)
    } else {
        0
    };
    let plain_url = config.check.plain_url();
    // Unmonitored, or a dry run with no check, the command's environment is left as it is:
    // there is no check to pass on.
    let env = if config.unmonitored.is_some() || !config.check.has_ping_url() {
        Vec::new()
    } else {
        vec![
            ("HC_RUN_ID", run_id.clone()),
            (PING_URL_MARK, Some(ping_url_mark(&plain_url))),
            ("HC_PING_URL", Some(plain_url)),
        ]
    };
    let spec = Spec {
        command: &config.command,
        env: &env,
        echo: Echo {
            stdout: config.echo_stdout,
            stderr: config.echo_stderr,
        },
        timeout: config.timeout,
        kill_after: config.kill_after,
        fail_on: &config.fail_on,
    };
    let rules = Rules {
        on_success: config.on_success,
        on_nonzero_exit: config.on_nonzero_exit,
        on_exec_fail: config.on_exec_fail,
        send_output: config.send_output,
        redact: config.redact.clone(),
        judge: config.judge.clone(),
        tolerate: config.tolerate,
    };
    let (ended, mut pings, unsent) = match child::start(&spec) {
        Ok(child) => {
            let capacity = Arc::new(AtomicUsize::new(initial));
            let send_output = config.send_output.then(|| Arc::clone(&capacity));
            let pings = RunPings::begin(target(run_id), config.start_ping, send_output);
            let (ended, unsent) = child.supervise(Ring::new(initial), &capacity, signals);
            (ended, pings, Some(unsent))
        }
        Err(ended) => {
            // The command's path may hold the check's secret (a script under a directory
            // named by its UUID), and the message may end up in a mail.
            say(&config.check.redact(&format!(
                "cannot run the command: {}",
                printable(&ended.outcome.describe())
            )));
            // No start ping for a command that did not start.
            (*ended, RunPings::begin(target(run_id), false, None), None)
        }
    };
    let verdict = report::verdict(&ended, &rules);
    let status = verdict::exit_status(report::exit_status(&ended), &verdict, &rules.judge);
    if config.notices {
        notices(&ended, &verdict);
    }
    let mut die_by = ending_signal(&ended);
    let mut late_signal = ended.late_signal;
    let interrupted = matches!(ended.cut, Some(Cut::Signal(_))) || late_signal;
    let counts = count(config, &ended, &verdict);
    pings.finish(Final::Run(Box::new(JudgedRun {
        ended,
        rules,
        verdict,
        counts,
    })));
    // The final ping goes out while what the readers have not taken yet is passed on;
    // for a run that was interrupted, only what they take at once (the signal asked
    // hcwrap to stop, not to wait for a reader).
    if let Some(mut unsent) = unsent {
        if interrupted {
            unsent.flush_now();
        } else if let Some(signal) = child::pass_on(&mut unsent, signals, false) {
            late_signal = true;
            die_by = die_by.or(Some(signal));
        }
    }
    Ok(RunEnd {
        status,
        die_by,
        pings,
        late_signal,
    })
}

/// Counts the run in the check's failures in a row, where they are kept (see
/// `run_state.rs`); says why when they cannot be.
fn count(config: &Config, ended: &Ended, verdict: &Verdict) -> Option<Counts> {
    let end = (ended.started_at + ended.ran)
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if let Some(kept) = &config.records.kept_counts {
        // Only to keep them true; this run uses none.
        let _ = kept.record_if_kept(verdict.failed(), end);
        return None;
    }
    let counts = config.records.counts.as_ref()?;
    counts
        .record(verdict.failed(), end)
        .map_err(|e| {
            say(&format!(
                "cannot count this run's failures in a row ({e:#}); it is reported as it ended"
            ));
        })
        .ok()
}

/// hcwrap's own lines about how a run ended, where it says more than the exit status: a
/// timeout or signal, the out-of-memory killer, a rule that counts it as failed.
fn notices(ended: &Ended, verdict: &Verdict) {
    if let Some(line) = report::cut_short(ended) {
        say(&line);
    }
    if let Some(cgroup) = &ended.oom_killed_in {
        say(&report::oom_note(cgroup));
    }
    if let Verdict::FailedRules(why) = verdict {
        for reason in why {
            say(&format!("exit status 0, counted as failed: {reason}"));
        }
    }
}

/// The signal hcwrap should end by for a run that ended as `ended` did (see
/// [`signals::ends_hcwrap`]): the interrupting signal it received and passed on, or the
/// terminal's interrupt that killed the command.
fn ending_signal(ended: &Ended) -> Option<i32> {
    match (ended.cut, &ended.outcome) {
        (Some(Cut::Signal(signal)), _) if signals::ends_hcwrap(signal) => Some(signal),
        (None, Outcome::Signaled(signal)) if signals::is_terminal_interrupt(*signal) => {
            Some(*signal)
        }
        _ => None,
    }
}

/// A previous run still holds the lock: the command does not run; say so and exit 75.
fn skip_busy(config: &Config, target: Target) -> RunEnd {
    const SKIPPED: &str = "skipped: previous run still running";
    if config.notices {
        say(SKIPPED);
    }
    let mut pings = RunPings::begin(target, false, None);
    let endpoint = match config.on_lock_busy {
        OnLockBusy::Log => Some(Endpoint::Log),
        OnLockBusy::Fail => Some(Endpoint::Fail),
        OnLockBusy::None => None,
    };
    if let Some(endpoint) = endpoint {
        pings.finish(Final::Fixed(endpoint, vec![SKIPPED.to_owned()]));
    } else {
        pings.finish_nothing();
    }
    RunEnd {
        status: exit_codes::LOCK_BUSY,
        die_by: None,
        pings,
        late_signal: false,
    }
}

/// A random (version 4) UUID.
fn new_run_id() -> String {
    let mut b = [0u8; 16];
    random::fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = b.iter().fold(String::with_capacity(32), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    });
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::thread;

    #[test]
    fn run_ids_are_version_4_uuids() {
        let a = new_run_id();
        assert!(crate::check::is_uuid(&a), "{a}");
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(a, new_run_id());
    }

    #[test]
    fn hcwrap_ends_by_an_interrupt_it_passed_on_or_that_killed_the_command_from_the_terminal() {
        let ended = |outcome, cut| Ended {
            outcome,
            cut,
            sigkilled: None,
            capture: None,
            late_signal: false,
            started_at: std::time::SystemTime::now(),
            ran: std::time::Duration::ZERO,
            usage: None,
            oom_killed_in: None,
        };
        let sigint = libc::SIGINT;
        assert_eq!(
            ending_signal(&ended(Outcome::Exited(0), Some(Cut::Signal(libc::SIGTERM)))),
            Some(libc::SIGTERM)
        );
        assert_eq!(
            ending_signal(&ended(Outcome::Signaled(sigint), None)),
            Some(sigint)
        );
        assert_eq!(
            ending_signal(&ended(Outcome::Signaled(libc::SIGKILL), None)),
            None
        );
        assert_eq!(ending_signal(&ended(Outcome::Exited(130), None)), None);
    }

    /// `build.rs` links GCC's unwinder into the binary instead of `libgcc_s`: a panic on the
    /// pings thread must still unwind, dropping the channel's sender so that hcwrap goes
    /// on, instead of aborting hcwrap and its command.
    #[test]
    fn a_panic_on_a_helper_thread_unwinds_and_lets_go_of_its_channel() {
        let (hand_back, handed) = mpsc::sync_channel::<()>(1);
        let thread = thread::spawn(move || {
            let _held = hand_back;
            panic!("on purpose");
        });
        assert!(handed.recv().is_err(), "the sender was not dropped");
        assert!(thread.join().is_err(), "the panic was not reported");
        // Backtraces walk the stack with the same unwinder.
        let trace = std::backtrace::Backtrace::force_capture().to_string();
        assert!(trace.contains("a_panic_on_a_helper_thread"), "{trace}");
    }
}
