//! The wrapped run, end to end: start ping and child together, the output passed through
//! and captured, then the final ping and the exit status.
//!
//! The child is spawned first and the start ping goes out on a thread beside it, so a
//! slow or dead server never delays the job. The final ping waits for the start ping to be
//! delivered or given up (so the server sees them in order); once the child has exited,
//! the start ping gets no more retries, since the final ping now carries the news.

use std::fmt::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;

use anyhow::Result;

use crate::body::{self, Output};
use crate::check::Endpoint;
use crate::cli::{OnEnd, OnLockBusy};
use crate::config::Config;
use crate::exit_codes;
use crate::lock;
use crate::msg::{self, say};
use crate::output::{Capture, Echo};
use crate::ping::{DEFAULT_BODY_LIMIT, Delivery, MAX_BODY_LIMIT, Pinger};
use crate::random;
use crate::redact;
use crate::ring::Ring;
use crate::run::{self, Outcome};
use crate::signals::{self, Cut, Forwarder};
use crate::stop::Stop;
use crate::terminal::Terminal;

/// One wrapped run, as `config` says: the lock, the start ping and the child, the final
/// ping. Returns the exit status hcwrap should end with. Errors come only from before the
/// command starts.
pub fn once(config: &Config, signals: &Forwarder) -> Result<i32> {
    // Held until the run has ended.
    let _lock = match &config.lock {
        Some(path) => match lock::try_lock(path)? {
            Some(lock) => Some(lock),
            None => return Ok(skip_busy(config)),
        },
        None => None,
    };
    signals.begin_run();
    let run_id = config.run_id.then(new_run_id);
    let initial = if config.send_output {
        config.body_limit.unwrap_or(DEFAULT_BODY_LIMIT)
    } else {
        0
    };
    let capacity = Arc::new(AtomicUsize::new(initial));

    let env = [
        ("HC_RUN_ID", run_id.clone()),
        ("HC_PING_URL", Some(config.check.plain_url())),
    ];
    let terminal = Terminal::foreground();
    let running = match run::spawn(&config.command, &env, terminal.as_ref()) {
        Ok(running) => running,
        Err(outcome) => {
            say(&format!(
                "cannot run the command: {}",
                run::describe(&outcome)
            ));
            let pinger = Pinger::new(config.check.clone(), config.http.clone());
            let limit = body_limit(None, config.body_limit);
            report(
                config,
                &pinger,
                run_id.as_deref(),
                &outcome,
                None,
                None,
                limit,
                signals,
            );
            return Ok(run::exit_status(&outcome));
        }
    };
    signals.child_started(running.id());
    if let Some(timeout) = config.timeout {
        signals.start_timeout(timeout);
    }

    let child_done = Stop::default();
    let start = start_ping(config, run_id.clone(), &capacity, &child_done);

    let echo = Echo {
        stdout: config.echo_stdout,
        stderr: config.echo_stderr,
    };
    let (outcome, capture) = running.finish(
        echo,
        Ring::new(initial),
        &capacity,
        signals,
        terminal.as_ref(),
    );
    child_done.raise();

    // No thread, or one that panicked: the final ping goes out without the start ping.
    let (pinger, delivery) = start
        .ok()
        .and_then(|done| done.recv().ok())
        .unwrap_or_else(|| (Pinger::new(config.check.clone(), config.http.clone()), None));
    let server_limit = match delivery {
        Some(Delivery::Delivered { body_limit }) => body_limit,
        _ => None,
    };
    let limit = body_limit(server_limit, config.body_limit);
    let cut = signals.cut();
    report(
        config,
        &pinger,
        run_id.as_deref(),
        &outcome,
        Some(capture),
        cut,
        limit,
        signals,
    );
    Ok(exit_status(&outcome, cut))
}

/// Sends the start ping on a thread of its own, beside the child; the thread hands back
/// the pinger (its connection can carry the final ping) and what became of the ping. A
/// `Ping-Body-Limit` in the answer raises the ring's `capacity`.
///
/// The thread hands them back through a channel and is not joined: the final ping can go
/// out as soon as the start ping is done, while the thread is still being torn down (that
/// took a tenth of a millisecond, on the path of every run).
fn start_ping(
    config: &Config,
    run_id: Option<String>,
    capacity: &Arc<AtomicUsize>,
    child_done: &Stop,
) -> std::io::Result<mpsc::Receiver<(Pinger, Option<Delivery>)>> {
    let (check, http, done) = (
        config.check.clone(),
        config.http.clone(),
        child_done.clone(),
    );
    let (capacity, flag) = (Arc::clone(capacity), config.body_limit);
    let (send, send_output) = (config.start_ping, config.send_output);
    let (hand_back, handed) = mpsc::sync_channel(1);
    thread::Builder::new()
        .name("start-ping".into())
        .spawn(move || {
            // Building the agent (and reading the trust store) happens here too, off the
            // child's path.
            let pinger = Pinger::new(check, http);
            let delivery = send.then(|| pinger.send(Endpoint::Start, run_id.as_deref(), "", &done));
            if let (
                Some(Delivery::Delivered {
                    body_limit: Some(server),
                }),
                true,
            ) = (delivery, send_output)
            {
                capacity.fetch_max(body_limit(Some(server), flag), Ordering::Relaxed);
            }
            // The receiver is gone only if hcwrap is on its way out anyway.
            let _ = hand_back.send((pinger, delivery));
        })?;
    Ok(handed)
}

/// A previous run still holds the lock: the command does not run; say so and exit 75.
fn skip_busy(config: &Config) -> i32 {
    const SKIPPED: &str = "skipped: previous run still running";
    msg::say(SKIPPED);
    let endpoint = match config.on_lock_busy {
        OnLockBusy::Log => Endpoint::Log,
        OnLockBusy::Fail => Endpoint::Fail,
        OnLockBusy::None => return exit_codes::LOCK_BUSY,
    };
    let pinger = Pinger::new(config.check.clone(), config.http.clone());
    let limit = body_limit(None, config.body_limit);
    pinger.send(
        endpoint,
        None,
        &body::build(None, &[SKIPPED.to_owned()], limit),
        &Stop::default(),
    );
    exit_codes::LOCK_BUSY
}

/// hcwrap's exit status: the command's own, unless the run was cut short.
fn exit_status(outcome: &Outcome, cut: Option<Cut>) -> i32 {
    match cut {
        Some(Cut::Signal(signal)) => exit_codes::for_signal(signal),
        Some(Cut::Timeout) => exit_codes::TIMED_OUT,
        None => run::exit_status(outcome),
    }
}

/// Sends the final ping for `outcome`, as the `--on-*` options say.
#[allow(clippy::too_many_arguments)]
fn report(
    config: &Config,
    pinger: &Pinger,
    run_id: Option<&str>,
    outcome: &Outcome,
    capture: Option<Capture>,
    cut: Option<Cut>,
    limit: usize,
    signals: &Forwarder,
) {
    let status = exit_status(outcome, cut);
    let action = match (outcome, status) {
        (Outcome::ExecFailed { .. }, _) => config.on_exec_fail,
        (_, 0) => config.on_success,
        _ => config.on_nonzero_exit,
    };
    let endpoint = match action {
        OnEnd::Success => Endpoint::Success,
        OnEnd::Fail => Endpoint::Fail,
        OnEnd::ExitCode => Endpoint::ExitCode(u8::try_from(status).unwrap_or(u8::MAX)),
        OnEnd::Log => Endpoint::Log,
        OnEnd::None => return,
    };

    let mut notes = Vec::new();
    if capture.as_ref().is_some_and(|c| c.still_open) {
        notes.push("output still open after the command exited; stopped reading".to_owned());
    }
    let kill_after = humantime::format_duration(config.kill_after);
    if let Some(Cut::Signal(signal)) = cut {
        let mut note = format!("interrupted by {}", signals::name(signal));
        if signals.sent_sigkill() {
            let _ = write!(note, "; sent SIGKILL after {kill_after}");
        }
        let _ = write!(note, "; the command ended: {}", run::describe(outcome));
        notes.push(note);
    } else if let (Some(Cut::Timeout), Some(timeout)) = (cut, config.timeout) {
        let mut note = format!(
            "timed out after {}; sent SIGTERM",
            humantime::format_duration(timeout)
        );
        if signals.sent_sigkill() {
            let _ = write!(note, " then SIGKILL after {kill_after}");
        }
        notes.push(note);
    } else if status != 0 {
        notes.push(run::describe(outcome));
    }

    let mut capture = capture.filter(|_| config.send_output);
    let redacted;
    let output = match capture.as_mut() {
        None => None,
        Some(c) => {
            let total = c.ring.total();
            let kept = c.ring.make_contiguous();
            if config.redact.is_empty() {
                Some(Output { kept, total })
            } else {
                let dropped = total - kept.len() as u64;
                let skipped;
                (redacted, skipped) = redact::apply(kept, &config.redact, dropped > 0);
                // What the body counts as left out: what the ring dropped, and what the
                // redaction dropped after it.
                let total = dropped + skipped as u64 + redacted.len() as u64;
                Some(Output {
                    kept: &redacted,
                    total,
                })
            }
        }
    };
    let body = body::build(output, &notes, limit);
    pinger.send(endpoint, run_id, &body, &signals.after_exit());
}

/// The final ping's body limit: the server's, or the default, lowered by `--body-limit`.
fn body_limit(server: Option<usize>, flag: Option<usize>) -> usize {
    server
        .unwrap_or(DEFAULT_BODY_LIMIT)
        .min(flag.unwrap_or(usize::MAX))
        .min(MAX_BODY_LIMIT)
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

    #[test]
    fn run_ids_are_version_4_uuids() {
        let a = new_run_id();
        assert!(crate::check::is_uuid(&a), "{a}");
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(a, new_run_id());
    }

    #[test]
    fn the_flag_only_lowers_the_limit() {
        assert_eq!(body_limit(None, None), 100_000);
        assert_eq!(body_limit(Some(10_000), None), 10_000);
        assert_eq!(body_limit(Some(10_000), Some(50_000)), 10_000);
        assert_eq!(body_limit(Some(500_000), Some(50_000)), 50_000);
        assert_eq!(body_limit(Some(500_000), None), 500_000);
        assert_eq!(body_limit(Some(10_000_000), None), MAX_BODY_LIMIT);
    }

    /// `build.rs` links GCC's unwinder into the binary instead of `libgcc_s`: a panic on the
    /// start-ping thread must still unwind, dropping the channel's sender so that the
    /// final ping goes out without it, instead of aborting hcwrap and its command.
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
