//! Whether a run failed: by how it ended, and, for a run that exited 0, by the rules that
//! look further (`--min-runtime`, `--fail-on-stderr`, `--fail-on`). Pure, so every case is
//! a unit test without processes.
//!
//! A rule never touches a run that already failed (its exit status says enough), and it
//! changes hcwrap's exit status only when `--fail-exit` asks: a job's own status stays
//! what cron, CI and the shell see.

use std::time::Duration;

use crate::child::{Ended, Outcome};

/// The rules that can count a run that exited 0 as failed.
#[derive(Debug, Clone, Default)]
pub struct Judge {
    /// `--min-runtime`: a run that ended sooner failed.
    pub min_runtime: Option<Duration>,
    /// `--fail-on-stderr`: a run that wrote to stderr failed.
    pub fail_on_stderr: bool,
    /// `--fail-exit`: hcwrap's exit status for a run that a rule counts as failed.
    pub fail_exit: Option<u8>,
    /// Whether the output is sent (not `--no-output`): a matched line is quoted only then.
    pub quote: bool,
    /// The `--redact` values, hidden in a quoted line too.
    pub redact: Vec<String>,
}

/// How a run went, judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Exit status 0 (and not cut short), and no rule says otherwise.
    Succeeded,
    /// The command failed: a nonzero exit status, a signal, a timeout, not started.
    Failed,
    /// It exited 0, but these rules count it as failed.
    FailedRules(Vec<String>),
}

impl Verdict {
    /// Whether the run failed, by its status or by a rule.
    pub fn failed(&self) -> bool {
        *self != Verdict::Succeeded
    }
}

/// The verdict on `ended`, whose exit status (as hcwrap reports it) is `status`.
pub fn judge(ended: &Ended, status: i32, judge: &Judge) -> Verdict {
    if status != 0 || matches!(ended.outcome, Outcome::ExecFailed { .. }) {
        return Verdict::Failed;
    }
    let mut why = Vec::new();
    if let Some(min) = judge.min_runtime
        && ended.ran < min
    {
        why.push(format!(
            "it ran {}, less than --min-runtime {}",
            short_duration(ended.ran),
            humantime::format_duration(min)
        ));
    }
    if let Some(capture) = &ended.capture {
        let stderr = capture.printed[1];
        if judge.fail_on_stderr && stderr > 0 {
            why.push(format!(
                "it wrote {stderr} byte{} to stderr (--fail-on-stderr)",
                if stderr == 1 { "" } else { "s" }
            ));
        }
        if let Some(found) = &capture.matched {
            why.push(found.describe(judge.quote, &judge.redact));
        }
    }
    if why.is_empty() {
        Verdict::Succeeded
    } else {
        Verdict::FailedRules(why)
    }
}

/// hcwrap's exit status for a run that ended with `status` and was judged `verdict`.
pub fn exit_status(status: i32, verdict: &Verdict, judge: &Judge) -> i32 {
    match (verdict, judge.fail_exit) {
        (Verdict::FailedRules(_), Some(code)) => i32::from(code),
        _ => status,
    }
}

/// A duration to the millisecond, for what a person reads: `312ms`, `4s 20ms`.
/// Under a millisecond it says so, rather than a rounded "0s" that is not true.
pub fn short_duration(d: Duration) -> String {
    if !d.is_zero() && d < Duration::from_millis(1) {
        return "under 1ms".to_owned();
    }
    humantime::format_duration(Duration::from_millis(
        u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
    ))
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::child::{Capture, Match};
    use crate::ring::Ring;

    fn ended(ran_ms: u64, stderr: u64, matched: Option<Match>) -> Ended {
        Ended {
            outcome: Outcome::Exited(0),
            cut: None,
            sigkilled: None,
            capture: Some(Capture {
                ring: Ring::new(10),
                still_open: false,
                printed: [10, stderr],
                matched,
            }),
            late_signal: false,
            started_at: std::time::SystemTime::now(),
            ran: Duration::from_millis(ran_ms),
            usage: None,
            oom_killed_in: None,
        }
    }

    #[test]
    fn a_run_that_exited_0_fails_only_by_the_rules_given() {
        let none = Judge::default();
        assert_eq!(judge(&ended(5, 3, None), 0, &none), Verdict::Succeeded);
        let rules = Judge {
            min_runtime: Some(Duration::from_secs(2)),
            fail_on_stderr: true,
            fail_exit: None,
            quote: true,
            redact: Vec::new(),
        };
        assert_eq!(judge(&ended(2000, 0, None), 0, &rules), Verdict::Succeeded);
        assert_eq!(
            judge(&ended(312, 1, None), 0, &rules),
            Verdict::FailedRules(vec![
                "it ran 312ms, less than --min-runtime 2s".to_owned(),
                "it wrote 1 byte to stderr (--fail-on-stderr)".to_owned(),
            ])
        );
        let found = Match {
            stream: 1,
            line: 4,
            pattern: "ERROR".into(),
            excerpt: b"ERROR x".to_vec(),
            cut: (false, true),
        };
        assert_eq!(
            judge(&ended(5000, 0, Some(found)), 0, &rules),
            Verdict::FailedRules(vec![
                "stderr line 4 matched --fail-on 'ERROR': ERROR x".to_owned()
            ])
        );
    }

    #[test]
    fn short_durations_are_true() {
        assert_eq!(short_duration(Duration::from_micros(400)), "under 1ms");
        assert_eq!(short_duration(Duration::ZERO), "0s");
        assert_eq!(short_duration(Duration::from_millis(1500)), "1s 500ms");
    }

    #[test]
    fn a_failed_run_stays_failed_and_the_exit_status_changes_only_when_asked() {
        let rules = Judge {
            min_runtime: Some(Duration::from_secs(2)),
            fail_on_stderr: false,
            fail_exit: Some(3),
            quote: true,
            redact: Vec::new(),
        };
        let failed = judge(&ended(5, 0, None), 4, &rules);
        assert_eq!(failed, Verdict::Failed);
        assert_eq!(exit_status(4, &failed, &rules), 4);
        let by_rule = judge(&ended(5, 0, None), 0, &rules);
        assert_eq!(exit_status(0, &by_rule, &rules), 3);
        let quiet = Judge {
            fail_exit: None,
            ..rules
        };
        assert_eq!(exit_status(0, &by_rule, &quiet), 0);
    }
}
