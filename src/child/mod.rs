//! The command, from spawn to end: one loop on one thread owns it.
//!
//! [`start`] spawns it; [`Child::supervise`] then waits in one poll(2) for everything
//! that can happen during a run (output to read, a reader ready for more, a signal, the
//! command's state changing, `--timeout`, the SIGKILL after `--kill-after`, the bound on
//! output read after the exit) and acts on it, then returns one value, [`Ended`], and
//! what the readers have not taken yet. Nothing calls back into the rest of hcwrap, and
//! no other thread touches the command.
//!
//! The command is reaped by this loop as soon as it has exited. Its process group is
//! signalled only before that, so a group id the system may reuse is never signalled.

mod oom;
mod pump;
mod scan;
mod spawn;
mod terminal;

use std::ffi::OsString;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use libc::{SIGCONT, SIGKILL, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU};

pub use pump::{Capture, Echo, Unsent};
#[cfg(test)]
pub use scan::Match;

use crate::exit_codes;
use crate::msg;
use crate::ring::Ring;
use crate::signals::{self, Meaning, Signals};
use crate::sys::{self, ChildState, Usage};
use oom::OomCount;
use pump::{POLL_SLOTS, Pump};
use scan::Scanner;
use terminal::Terminal;

/// How the command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It exited with this status.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
    /// It could not be started (or hcwrap lost track of it).
    ExecFailed {
        /// The exit status a shell would give: 127 (not found) or 126.
        status: i32,
        /// Why, for the message and the ping body.
        reason: String,
    },
}

impl Outcome {
    /// The exit status a shell would report for it.
    pub fn status(&self) -> i32 {
        match self {
            Outcome::Exited(code) => *code,
            Outcome::Signaled(signal) => exit_codes::for_signal(*signal),
            Outcome::ExecFailed { status, .. } => *status,
        }
    }

    /// How it ended, in words: the last line of a failed run's body.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Exited(code) => format!("exit status {code}"),
            Outcome::Signaled(signal) => format!("killed by {}", signals::name(*signal)),
            Outcome::ExecFailed { reason, .. } => reason.clone(),
        }
    }
}

/// Why the run was ended early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// hcwrap received this interrupting signal and passed it on.
    Signal(i32),
    /// `--timeout` ran out; the command's group got SIGTERM.
    Timeout(Duration),
}

/// A run, ended: everything the report needs.
#[derive(Debug)]
pub struct Ended {
    /// How the command ended.
    pub outcome: Outcome,
    /// What ended the run early, if anything did.
    pub cut: Option<Cut>,
    /// `--kill-after` ran out and the group got SIGKILL (after this long).
    pub sigkilled: Option<Duration>,
    /// The output; `None` when the command did not start.
    pub capture: Option<Capture>,
    /// An interrupting signal arrived after the command had ended.
    pub late_signal: bool,
    /// When the command started.
    pub started_at: SystemTime,
    /// How long the command ran, from its start to its end.
    pub ran: Duration,
    /// What the command and the descendants it waited for used; `None` when it did not
    /// start.
    pub usage: Option<Usage>,
    /// The memory cgroup in which the out-of-memory killer killed something during the
    /// run, when the command died of a SIGKILL hcwrap did not send.
    pub oom_killed_in: Option<String>,
}

/// What to run and how.
#[derive(Debug)]
pub struct Spec<'a> {
    /// The command and its arguments.
    pub command: &'a [OsString],
    /// Variables set (or, for `None`, removed) for the command.
    pub env: &'a [(&'a str, Option<String>)],
    /// What is echoed.
    pub echo: Echo,
    /// `--timeout`.
    pub timeout: Option<Duration>,
    /// `--kill-after`.
    pub kill_after: Duration,
    /// `--fail-on`: texts searched for in the output's lines.
    pub fail_on: &'a [String],
}

/// The command, running.
#[derive(Debug)]
pub struct Child {
    pid: i32,
    pump: Pump,
    terminal: Option<Terminal>,
    started: Instant,
    started_at: SystemTime,
    timeout: Option<Duration>,
    kill_after: Duration,
    usage: Usage,
    oom: Option<OomCount>,
}

/// Starts the command; a command that cannot start comes back as its [`Ended`].
pub fn start(spec: &Spec<'_>) -> Result<Child, Box<Ended>> {
    let terminal = Terminal::open();
    let started = Instant::now();
    let started_at = SystemTime::now();
    match spawn::spawn(spec.command, spec.env, terminal.as_ref()) {
        Ok(s) => Ok(Child {
            pid: s.pid,
            pump: Pump::new(
                s.stdout,
                s.stderr,
                spec.echo,
                (!spec.fail_on.is_empty()).then(|| Scanner::new(spec.fail_on)),
            ),
            terminal,
            started,
            started_at,
            timeout: spec.timeout,
            kill_after: spec.kill_after,
            usage: Usage::default(),
            // Read while the command starts: the count before anything it does.
            oom: OomCount::start(),
        }),
        Err((status, reason)) => {
            if let Some(terminal) = &terminal {
                // The child took the terminal before its exec failed.
                terminal.take_back(None);
            }
            Err(Box::new(Ended {
                outcome: Outcome::ExecFailed { status, reason },
                cut: None,
                sigkilled: None,
                capture: None,
                late_signal: false,
                started_at,
                ran: started.elapsed(),
                usage: None,
                oom_killed_in: None,
            }))
        }
    }
}

/// What the loop knows about the command.
#[derive(Debug, Default)]
struct Run {
    outcome: Option<Outcome>,
    cut: Option<Cut>,
    kill_at: Option<Instant>,
    sigkilled: Option<Duration>,
    late_signal: bool,
    ran: Duration,
}

impl Child {
    /// Passes the output through and keeps its tail in `ring` until the command has
    /// ended and its output is read (see [`pump`]), acting on signals and deadlines as
    /// they come. `capacity` is read as the ring grows to a limit learned during the run.
    pub fn supervise(
        mut self,
        mut ring: Ring,
        capacity: &AtomicUsize,
        signals: &mut Signals,
    ) -> (Ended, Unsent) {
        let timeout_at = self.timeout.and_then(|t| self.started.checked_add(t));
        let mut run = Run::default();
        // A state change may have come before the first poll (a command that exits at once).
        self.check(&mut run, Instant::now());
        while !(run.outcome.is_some() && self.pump.done()) {
            let idle = libc::pollfd {
                fd: -1,
                events: 0,
                revents: 0,
            };
            let mut fds = [idle; POLL_SLOTS + 1];
            fds[POLL_SLOTS].fd = std::os::fd::AsRawFd::as_raw_fd(&signals.fd());
            fds[POLL_SLOTS].events = libc::POLLIN;
            self.pump.poll_set(&mut fds[..POLL_SLOTS]);
            let running = run.outcome.is_none();
            let next = [
                timeout_at.filter(|_| running && run.cut.is_none()),
                run.kill_at.filter(|_| running),
                self.pump.deadline(),
            ]
            .into_iter()
            .flatten()
            .min();
            let wait = next.map(|at| at.saturating_duration_since(Instant::now()));
            if (!self.pump.flowing() || !spin(&mut fds)) && sys::poll(&mut fds, wait).is_err() {
                // Cannot happen with valid descriptors; do not spin if it does.
                std::thread::sleep(Duration::from_millis(10));
            }
            let now = Instant::now();
            if fds[POLL_SLOTS].revents != 0 {
                let keep = run.outcome.is_none().then_some(self.pid);
                for signal in signals.take(keep) {
                    self.on_signal(&mut run, signal, now);
                }
            }
            self.on_deadlines(&mut run, timeout_at, now);
            self.pump.service(&fds[..POLL_SLOTS], &mut ring, now);
            let wanted = capacity.load(Ordering::Relaxed);
            if wanted > ring.capacity() {
                ring.grow(wanted);
            }
        }
        let (capture, unsent) = self.pump.finish(ring);
        let outcome = run.outcome.unwrap_or(Outcome::Exited(1));
        // A SIGKILL hcwrap sent (--kill-after) is not the OOM killer's.
        let oom_killed_in = match (&outcome, run.sigkilled, &self.oom) {
            (Outcome::Signaled(SIGKILL), None, Some(count)) => count.rose().map(str::to_owned),
            _ => None,
        };
        let ended = Ended {
            outcome,
            cut: run.cut,
            sigkilled: run.sigkilled,
            capture: Some(capture),
            late_signal: run.late_signal,
            started_at: self.started_at,
            ran: run.ran,
            usage: Some(self.usage),
            oom_killed_in,
        };
        (ended, unsent)
    }

    fn on_signal(&mut self, run: &mut Run, signal: i32, now: Instant) {
        let running = run.outcome.is_none();
        match signals::meaning(signal) {
            Some(Meaning::Child) => self.check(run, now),
            Some(Meaning::Interrupt) if running => {
                run.cut.get_or_insert(Cut::Signal(signal));
                self.interrupt(run, signal, now);
            }
            Some(Meaning::Interrupt) => run.late_signal = true,
            Some(Meaning::PassOn) if running => sys::kill_group(self.pid, signal),
            // Job control needs a terminal (and a shell to continue the job): without one,
            // nobody could continue the command, and the system itself ignores SIGTSTP for
            // such a process group; so does hcwrap.
            Some(Meaning::Suspend) if running && self.terminal.is_some() => {
                sys::kill_group(self.pid, SIGTSTP);
            }
            Some(Meaning::Continued) if running => self.resume(),
            _ => {}
        }
    }

    /// Passes `signal` on to the group, with SIGCONT so that a stopped command acts on it
    /// (as timeout(1) does), and starts the SIGKILL timer.
    fn interrupt(&self, run: &mut Run, signal: i32, now: Instant) {
        sys::kill_group(self.pid, signal);
        sys::kill_group(self.pid, SIGCONT);
        if run.kill_at.is_none() {
            run.kill_at = Some(now.checked_add(self.kill_after).unwrap_or(now));
        }
    }

    fn on_deadlines(&self, run: &mut Run, timeout_at: Option<Instant>, now: Instant) {
        if run.outcome.is_some() {
            return;
        }
        if let (Some(at), None, Some(timeout)) = (timeout_at, run.cut, self.timeout)
            && now >= at
        {
            run.cut = Some(Cut::Timeout(timeout));
            self.interrupt(run, SIGTERM, now);
        }
        if let Some(at) = run.kill_at
            && now >= at
        {
            sys::kill_group(self.pid, SIGKILL);
            run.sigkilled = Some(self.kill_after);
            run.kill_at = None;
        }
    }

    /// Collects the command's state changes.
    fn check(&mut self, run: &mut Run, now: Instant) {
        while run.outcome.is_none() {
            let outcome = match sys::wait_child(self.pid, &mut self.usage) {
                ChildState::Running | ChildState::Continued => return,
                ChildState::Stopped(signal) => {
                    self.stopped(signal);
                    continue;
                }
                ChildState::Exited(code) => Outcome::Exited(code),
                ChildState::Signaled(signal) => Outcome::Signaled(signal),
                ChildState::Gone => Outcome::ExecFailed {
                    status: 1,
                    reason: "lost track of the command (something else reaped it)".to_owned(),
                },
            };
            if let Some(terminal) = &self.terminal {
                terminal.take_back(Some(self.pid));
            }
            self.pump.command_exited(now);
            run.ran = now.saturating_duration_since(self.started);
            run.outcome = Some(outcome);
        }
    }

    /// The command stopped. For job control (a terminal's Ctrl-Z, or a read from or write
    /// to it in the background), hcwrap follows it, as the job the shell sees; a plain
    /// SIGSTOP from someone is theirs to undo, and hcwrap goes on.
    fn stopped(&self, signal: i32) {
        let Some(terminal) = &self.terminal else {
            return;
        };
        if !matches!(signal, SIGTSTP | SIGTTIN | SIGTTOU) {
            return;
        }
        if signal != SIGTSTP && terminal.is_ours() {
            // It tried the terminal just before hcwrap, in the foreground, handed it over
            // (after `fg`): hand it over and let it go on.
            terminal.hand_to(self.pid);
            sys::kill_group(self.pid, SIGCONT);
            return;
        }
        terminal.take_back(Some(self.pid));
        // Returns when the shell continues hcwrap; the SIGCONT then resumes the command.
        sys::stop_self(signal);
    }

    /// hcwrap was continued (`fg`, `bg`, or a SIGCONT from someone): the terminal goes to
    /// the command if hcwrap is in the foreground, and the command goes on.
    fn resume(&self) {
        if let Some(terminal) = &self.terminal {
            terminal.hand_to(self.pid);
        }
        sys::kill_group(self.pid, SIGCONT);
    }
}

/// How long the loop checks for more output without sleeping while output flows (see
/// [`Pump::flowing`]).
const SPIN: Duration = Duration::from_micros(20);

/// Polls `fds` without sleeping for up to [`SPIN`]; whether something became ready.
fn spin(fds: &mut [libc::pollfd]) -> bool {
    let until = Instant::now() + SPIN;
    loop {
        if sys::poll(fds, Some(Duration::ZERO)).is_ok_and(|n| n > 0) {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::hint::spin_loop();
    }
}

/// Lets the readers take what waits for them (the command's output, and hcwrap's own
/// messages when `notices` says so), until they have or an interrupting signal arrives;
/// returns that signal, if one did. After each run only the output is waited for: the
/// messages wait until hcwrap's end, so that they never hold up an `--every` loop's next
/// run.
pub fn pass_on(unsent: &mut Unsent, signals: &mut Signals, notices: bool) -> Option<i32> {
    loop {
        let notices = msg::fd_to_poll().filter(|_| notices);
        if unsent.is_empty() && notices.is_none() {
            return None;
        }
        let idle = libc::pollfd {
            fd: -1,
            events: 0,
            revents: 0,
        };
        let mut fds = [idle; 4];
        fds[2].fd = notices.unwrap_or(-1);
        fds[2].events = libc::POLLOUT;
        fds[3].fd = std::os::fd::AsRawFd::as_raw_fd(&signals.fd());
        fds[3].events = libc::POLLIN;
        unsent.poll_set(&mut fds[..2]);
        if sys::poll(&mut fds, None).is_err() {
            return None;
        }
        if fds[2].revents != 0 {
            msg::write_waiting();
        }
        if fds[3].revents != 0 {
            let interrupted = signals
                .take(None)
                .into_iter()
                .find(|&s| signals::meaning(s) == Some(Meaning::Interrupt));
            if interrupted.is_some() {
                return interrupted;
            }
        }
        unsent.service(&fds[..2]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_read_as_a_shell_reports_them() {
        assert_eq!(Outcome::Exited(3).status(), 3);
        assert_eq!(Outcome::Signaled(9).status(), 137);
        assert_eq!(Outcome::Signaled(15).describe(), "killed by SIGTERM");
    }
}
