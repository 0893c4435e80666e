//! The final ping, decided: from how a run [`Ended`], its [`Verdict`], the `--on-*`
//! rules and `--tolerate` to the endpoint and the body. Pure, so every case is a unit
//! test without processes.
//!
//! A run judged failed sends what `--on-nonzero-exit` says; for one that exited 0 but
//! failed by a rule, `exit-code` means `/fail` (`/0` would be a success). Within
//! `--tolerate`, a failure that would be a `/fail` or `/<status>` ping is a `/log` ping
//! instead, saying so. A run that did not succeed ends its body with one line of what it
//! used (wall time, peak memory, CPU), and says when the out-of-memory killer ended it.

use std::fmt::Write;

use crate::body;
use crate::check::Endpoint;
use crate::child::{Cut, Ended, Outcome};
use crate::cli::OnEnd;
use crate::exit_codes;
use crate::redact;
use crate::signals;
use crate::sys::Usage;
use crate::verdict::{self, Judge, Verdict};

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
    /// The rules that can count a run that exited 0 as failed.
    pub judge: Judge,
    /// `--tolerate`: this many failures in a row are reported as `/log` pings.
    pub tolerate: Option<u32>,
}

/// hcwrap's exit status for a run: the command's own, unless the run was cut short.
pub fn exit_status(ended: &Ended) -> i32 {
    match ended.cut {
        Some(Cut::Signal(signal)) => exit_codes::for_signal(signal),
        Some(Cut::Timeout(_)) => exit_codes::TIMED_OUT,
        None => ended.outcome.status(),
    }
}

/// The verdict on `ended` by `rules`.
pub fn verdict(ended: &Ended, rules: &Rules) -> Verdict {
    verdict::judge(ended, exit_status(ended), &rules.judge)
}

/// The final ping for `ended`, with a body of at most `limit` bytes; `None` when the
/// rules say to send nothing. `streak` is the number of failures in a row this run ends,
/// where it was counted.
#[cfg(test)]
pub fn final_ping(
    ended: &mut Ended,
    rules: &Rules,
    limit: usize,
    streak: Option<u64>,
) -> Option<(Endpoint, String)> {
    let verdict = verdict(ended, rules);
    final_parts(ended, rules, &verdict, streak)
        .map(|(endpoint, parts)| (endpoint, parts.build(limit)))
}

/// The final ping for `ended`, judged `verdict` (see [`verdict`]): its endpoint and its
/// body's parts (see [`final_ping`]).
pub fn final_parts(
    ended: &mut Ended,
    rules: &Rules,
    verdict: &Verdict,
    streak: Option<u64>,
) -> Option<(Endpoint, body::Parts)> {
    let status = exit_status(ended);
    let action = match (&ended.outcome, verdict) {
        (Outcome::ExecFailed { .. }, _) => rules.on_exec_fail,
        (_, Verdict::Succeeded) => rules.on_success,
        _ => rules.on_nonzero_exit,
    };
    let mut endpoint = match action {
        OnEnd::Success => Endpoint::Success,
        OnEnd::Fail => Endpoint::Fail,
        // `/0` would be a success.
        OnEnd::ExitCode if matches!(verdict, Verdict::FailedRules(_)) => Endpoint::Fail,
        OnEnd::ExitCode => Endpoint::ExitCode(u8::try_from(status).unwrap_or(u8::MAX)),
        OnEnd::Log => Endpoint::Log,
        OnEnd::None => return None,
    };
    // Notes in the order of how much they matter, least first: where the limit leaves no
    // room for all, the last ones (how the run ended) are kept.
    let mut notes = Vec::new();
    if verdict.failed()
        && let Some(usage) = &ended.usage
    {
        notes.push(resources(ended.ran, usage));
    }
    if let (Some(of), Some(streak)) = (rules.tolerate, streak)
        && verdict.failed()
        && matches!(endpoint, Endpoint::Fail | Endpoint::ExitCode(_))
        && streak <= u64::from(of)
    {
        endpoint = Endpoint::Log;
        notes.push(format!(
            "failure {streak} of {of} tolerated (--tolerate {of}): sent as a log entry; \
             failure {} in a row is reported as a failure",
            u64::from(of) + 1
        ));
    }
    notes.extend(how_it_ended(ended, status, verdict));
    let capture = ended.capture.as_mut().filter(|_| rules.send_output);
    let output = capture.map(|c| {
        let total = c.ring.total();
        let kept = c.ring.make_contiguous();
        if rules.redact.is_empty() {
            (kept.to_vec(), total)
        } else {
            let dropped = total - kept.len() as u64;
            let (redacted, skipped) = redact::apply(kept, &rules.redact, dropped > 0);
            // What the body counts as left out: what the ring dropped, and what the
            // redaction dropped after it.
            let total = dropped + skipped as u64 + redacted.len() as u64;
            (redacted, total)
        }
    });
    Some((endpoint, body::Parts { output, notes }))
}

/// hcwrap's lines on how the run ended, at the end of the body, the most telling last.
fn how_it_ended(ended: &Ended, status: i32, verdict: &Verdict) -> Vec<String> {
    let mut notes = Vec::new();
    if ended.capture.as_ref().is_some_and(|c| c.still_open) {
        notes.push("output still open after the command exited; stopped reading".to_owned());
    }
    if let Some(cgroup) = &ended.oom_killed_in {
        notes.push(oom_note(cgroup));
    }
    if let Verdict::FailedRules(why) = verdict {
        for reason in why {
            notes.push(format!("exit status 0, counted as failed: {reason}"));
        }
    }
    match cut_short(ended) {
        Some(note) => notes.push(note),
        None if status != 0 => notes.push(ended.outcome.describe()),
        None => {}
    }
    notes
}

/// What a run killed by the out-of-memory killer says.
pub fn oom_note(cgroup: &str) -> String {
    format!(
        "the out-of-memory killer acted in memory cgroup {cgroup} during the run: the \
         command was most likely killed for lack of memory"
    )
}

/// The line of what a run used: `ran 2.31s; peak memory 45.2 MiB; CPU 1.2s user, 310ms
/// system`.
pub fn resources(ran: std::time::Duration, usage: &Usage) -> String {
    #[allow(clippy::cast_precision_loss)] // A MiB figure to one decimal.
    let mib = usage.max_rss_kib as f64 / 1024.0;
    // The kernel counts the command from its fork, as a copy of hcwrap: a peak no larger
    // than hcwrap's own may be hcwrap's, so it is only a bound.
    let bound = if usage.max_rss_kib <= usage.parent_max_rss_kib {
        "at most "
    } else {
        ""
    };
    format!(
        "ran {}; peak memory {bound}{mib:.1} MiB; CPU {} user, {} system (the command and \
         the processes it waited for)",
        verdict::short_duration(ran),
        verdict::short_duration(usage.user),
        verdict::short_duration(usage.system),
    )
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
            judge: Judge::default(),
            tolerate: None,
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
                printed: [output.len() as u64, 0],
                matched: None,
            }),
            late_signal: false,
            started_at: std::time::SystemTime::now(),
            ran: Duration::from_millis(1500),
            usage: None,
            oom_killed_in: None,
        }
    }

    #[test]
    fn success_sends_the_output_alone() {
        let mut e = ended(Outcome::Exited(0), None, b"done\n");
        assert_eq!(
            final_ping(&mut e, &rules(), 1000, None),
            Some((Endpoint::Success, "done\n".to_owned()))
        );
        assert_eq!(exit_status(&e), 0);
    }

    #[test]
    fn a_failure_says_how_it_ended() {
        let mut e = ended(Outcome::Exited(3), None, b"oops");
        assert_eq!(
            final_ping(&mut e, &rules(), 1000, None),
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
        let (endpoint, body) = final_ping(&mut e, &rules(), 1000, None).unwrap();
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
        let (endpoint, body) = final_ping(&mut e, &rules(), 1000, None).unwrap();
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
            started_at: std::time::SystemTime::now(),
            ran: Duration::ZERO,
            usage: None,
            oom_killed_in: None,
        };
        assert_eq!(
            final_ping(&mut e, &rules(), 1000, None),
            Some((Endpoint::Fail, "[hcwrap] not found: nope\n".to_owned()))
        );
        let mut quiet = rules();
        quiet.on_exec_fail = OnEnd::None;
        assert_eq!(final_ping(&mut e, &quiet, 1000, None), None);
    }

    #[test]
    fn output_left_open_and_redaction_are_in_the_body() {
        let mut e = ended(Outcome::Exited(0), None, b"token=s3cret\n");
        e.capture.as_mut().unwrap().still_open = true;
        let mut r = rules();
        r.redact = vec!["s3cret".into()];
        let (_, body) = final_ping(&mut e, &r, 1000, None).unwrap();
        assert_eq!(
            body,
            "token=[redacted]\n[hcwrap] output still open after the command exited; stopped reading\n"
        );
    }

    #[test]
    fn a_run_failed_by_a_rule_sends_fail_not_a_success_for_status_0() {
        let mut e = ended(Outcome::Exited(0), None, b"done\n");
        let mut r = rules();
        r.judge.min_runtime = Some(Duration::from_secs(60));
        let (endpoint, body) = final_ping(&mut e, &r, 1000, None).unwrap();
        assert_eq!(endpoint, Endpoint::Fail);
        assert_eq!(
            body,
            "done\n[hcwrap] exit status 0, counted as failed: it ran 1s 500ms, less \
             than --min-runtime 1m\n"
        );
        assert_eq!(exit_status(&e), 0);
    }

    #[test]
    fn failures_within_tolerate_are_log_entries_and_the_next_one_a_failure() {
        let mut r = rules();
        r.tolerate = Some(2);
        let mut e = ended(Outcome::Exited(4), None, b"");
        let (endpoint, body) = final_ping(&mut e, &r, 1000, Some(2)).unwrap();
        assert_eq!(endpoint, Endpoint::Log);
        assert!(
            body.contains("failure 2 of 2 tolerated (--tolerate 2)"),
            "{body}"
        );
        assert!(
            body.ends_with("a failure\n[hcwrap] exit status 4\n"),
            "{body}"
        );
        let (endpoint, body) = final_ping(&mut e, &r, 1000, Some(3)).unwrap();
        assert_eq!(endpoint, Endpoint::ExitCode(4));
        assert!(!body.contains("tolerated"), "{body}");
        // Not counted (no state directory): reported as the failure it is.
        assert_eq!(
            final_ping(&mut e, &r, 1000, None).unwrap().0,
            Endpoint::ExitCode(4)
        );
        // A success is never a log entry.
        let mut ok = ended(Outcome::Exited(0), None, b"");
        assert_eq!(
            final_ping(&mut ok, &r, 1000, Some(0)).unwrap().0,
            Endpoint::Success
        );
    }

    #[test]
    fn a_failed_run_ends_with_what_it_used_and_an_oom_kill_says_so() {
        let mut e = ended(Outcome::Signaled(libc::SIGKILL), None, b"");
        e.usage = Some(Usage {
            user: Duration::from_millis(1200),
            system: Duration::from_millis(310),
            max_rss_kib: 46_285,
            parent_max_rss_kib: 3_900,
        });
        e.oom_killed_in = Some("/system.slice/cron.service".into());
        let (_, body) = final_ping(&mut e, &rules(), 1000, None).unwrap();
        assert_eq!(
            body,
            "[hcwrap] ran 1s 500ms; peak memory 45.2 MiB; CPU 1s 200ms user, 310ms system \
             (the command and the processes it waited for)\n[hcwrap] the out-of-memory killer \
             acted in memory cgroup /system.slice/cron.service during the run: the command \
             was most likely killed for lack of memory\n[hcwrap] killed by SIGKILL\n"
        );
        // With little room, what matters most stays: how it ended, then why.
        let (_, body) = final_ping(&mut e, &rules(), 190, None).unwrap();
        assert!(
            !body.contains("peak memory") && body.ends_with("[hcwrap] killed by SIGKILL\n"),
            "{body}"
        );
        let small = Usage {
            max_rss_kib: 1_800,
            ..e.usage.unwrap()
        };
        assert!(resources(Duration::ZERO, &small).contains("; peak memory at most 1.8 MiB;"));
        let mut ok = ended(Outcome::Exited(0), None, b"");
        ok.usage = e.usage;
        let (_, body) = final_ping(&mut ok, &rules(), 1000, None).unwrap();
        assert!(!body.contains("peak memory"), "{body}");
    }
}
