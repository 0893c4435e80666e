//! The final ping, decided: from how a run [`Ended`] and the `--on-*` rules to the
//! endpoint and the body. Pure, so every case is a unit test without processes.

use std::fmt::Write;

use crate::body::{self, Output};
use crate::check::Endpoint;
use crate::child::{Cut, Ended, Outcome};
use crate::cli::OnEnd;
use crate::exit_codes;
use crate::redact;
use crate::signals;

/// The ping rules of a run, as the options set them.
#[derive(Debug, Clone)]
pub struct Rules {
    /// The ping for exit status 0.
    pub on_success: OnEnd,
    /// The ping for another exit status, a signal, a timeout.
    pub on_nonzero_exit: OnEnd,
    /// The ping for a command that could not be started.
    pub on_exec_fail: OnEnd,
    /// Send the output's tail.
    pub send_output: bool,
    /// Values replaced by `[redacted]` in the output sent.
    pub redact: Vec<String>,
}

/// hcwrap's exit status for a run: the command's own, unless the run was cut short.
pub fn exit_status(ended: &Ended) -> i32 {
    match ended.cut {
        Some(Cut::Signal(signal)) => exit_codes::for_signal(signal),
        Some(Cut::Timeout(_)) => exit_codes::TIMED_OUT,
        None => ended.outcome.status(),
    }
}

/// The final ping for `ended`, with a body of at most `limit` bytes; `None` when the
/// rules say to send nothing.
pub fn final_ping(ended: &mut Ended, rules: &Rules, limit: usize) -> Option<(Endpoint, String)> {
    let status = exit_status(ended);
    let action = match (&ended.outcome, status) {
        (Outcome::ExecFailed { .. }, _) => rules.on_exec_fail,
        (_, 0) => rules.on_success,
        _ => rules.on_nonzero_exit,
    };
    let endpoint = match action {
        OnEnd::Success => Endpoint::Success,
        OnEnd::Fail => Endpoint::Fail,
        OnEnd::ExitCode => Endpoint::ExitCode(u8::try_from(status).unwrap_or(u8::MAX)),
        OnEnd::Log => Endpoint::Log,
        OnEnd::None => return None,
    };
    let notes = notes(ended, status);
    let capture = ended.capture.as_mut().filter(|_| rules.send_output);
    let redacted;
    let output = match capture {
        None => None,
        Some(c) => {
            let total = c.ring.total();
            let kept = c.ring.make_contiguous();
            if rules.redact.is_empty() {
                Some(Output { kept, total })
            } else {
                let dropped = total - kept.len() as u64;
                let skipped;
                (redacted, skipped) = redact::apply(kept, &rules.redact, dropped > 0);
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
    Some((endpoint, body::build(output, &notes, limit)))
}

/// hcwrap's lines at the end of the body.
fn notes(ended: &Ended, status: i32) -> Vec<String> {
    let mut notes = Vec::new();
    if ended.capture.as_ref().is_some_and(|c| c.still_open) {
        notes.push("output still open after the command exited; stopped reading".to_owned());
    }
    match cut_short(ended) {
        Some(note) => notes.push(note),
        None if status != 0 => notes.push(ended.outcome.describe()),
        None => {}
    }
    notes
}

/// How the run was cut short, if it was: a timeout or a signal. The final ping's note,
/// and hcwrap's one local line about it.
pub fn cut_short(ended: &Ended) -> Option<String> {
    let sigkill = ended.sigkilled.map(humantime::format_duration);
    match ended.cut? {
        Cut::Signal(signal) => {
            let mut note = format!("interrupted by {}", signals::name(signal));
            if let Some(after) = sigkill {
                let _ = write!(note, "; sent SIGKILL after {after}");
            }
            let _ = write!(note, "; the command ended: {}", ended.outcome.describe());
            Some(note)
        }
        Cut::Timeout(timeout) => {
            let mut note = format!(
                "timed out after {}; sent SIGTERM",
                humantime::format_duration(timeout)
            );
            if let Some(after) = sigkill {
                let _ = write!(note, " then SIGKILL after {after}");
            }
            Some(note)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::child::Capture;
    use crate::ring::Ring;
    use std::time::Duration;

    fn rules() -> Rules {
        Rules {
            on_success: OnEnd::Success,
            on_nonzero_exit: OnEnd::ExitCode,
            on_exec_fail: OnEnd::Fail,
            send_output: true,
            redact: Vec::new(),
        }
    }

    fn ended(outcome: Outcome, cut: Option<Cut>, output: &[u8]) -> Ended {
        let mut ring = Ring::new(1000);
        ring.write(output);
        Ended {
            outcome,
            cut,
            sigkilled: None,
            capture: Some(Capture {
                ring,
                still_open: false,
            }),
            late_signal: false,
        }
    }

    #[test]
    fn success_sends_the_output_alone() {
        let mut e = ended(Outcome::Exited(0), None, b"done\n");
        assert_eq!(
            final_ping(&mut e, &rules(), 1000),
            Some((Endpoint::Success, "done\n".to_owned()))
        );
        assert_eq!(exit_status(&e), 0);
    }

    #[test]
    fn a_failure_says_how_it_ended() {
        let mut e = ended(Outcome::Exited(3), None, b"oops");
        assert_eq!(
            final_ping(&mut e, &rules(), 1000),
            Some((
                Endpoint::ExitCode(3),
                "oops\n[hcwrap] exit status 3\n".to_owned()
            ))
        );
    }

    #[test]
    fn a_timeout_is_124_and_says_what_was_sent() {
        let mut e = ended(
            Outcome::Signaled(9),
            Some(Cut::Timeout(Duration::from_secs(2))),
            b"",
        );
        e.sigkilled = Some(Duration::from_secs(10));
        assert_eq!(exit_status(&e), 124);
        let (endpoint, body) = final_ping(&mut e, &rules(), 1000).unwrap();
        assert_eq!(endpoint, Endpoint::ExitCode(124));
        assert_eq!(
            body,
            "[hcwrap] timed out after 2s; sent SIGTERM then SIGKILL after 10s\n"
        );
    }

    #[test]
    fn an_interrupted_run_counts_as_such_even_when_the_command_exits_0() {
        let mut e = ended(Outcome::Exited(0), Some(Cut::Signal(libc::SIGTERM)), b"");
        assert_eq!(exit_status(&e), 143);
        let (endpoint, body) = final_ping(&mut e, &rules(), 1000).unwrap();
        assert_eq!(endpoint, Endpoint::ExitCode(143));
        assert_eq!(
            body,
            "[hcwrap] interrupted by SIGTERM; the command ended: exit status 0\n"
        );
    }

    #[test]
    fn a_command_that_did_not_start_follows_on_exec_fail() {
        let mut e = Ended {
            outcome: Outcome::ExecFailed {
                status: 127,
                reason: "not found: nope".into(),
            },
            cut: None,
            sigkilled: None,
            capture: None,
            late_signal: false,
        };
        assert_eq!(
            final_ping(&mut e, &rules(), 1000),
            Some((Endpoint::Fail, "[hcwrap] not found: nope\n".to_owned()))
        );
        let mut quiet = rules();
        quiet.on_exec_fail = OnEnd::None;
        assert_eq!(final_ping(&mut e, &quiet, 1000), None);
    }

    #[test]
    fn output_left_open_and_redaction_are_in_the_body() {
        let mut e = ended(Outcome::Exited(0), None, b"token=s3cret\n");
        e.capture.as_mut().unwrap().still_open = true;
        let mut r = rules();
        r.redact = vec!["s3cret".into()];
        let (_, body) = final_ping(&mut e, &r, 1000).unwrap();
        assert_eq!(
            body,
            "token=[redacted]\n[hcwrap] output still open after the command exited; stopped reading\n"
        );
    }
}
