//! The signals hcwrap handles and what each one means for a run: the signal policy.
//!
//! | signal | while the command runs | otherwise |
//! |---|---|---|
//! | SIGINT, SIGTERM, SIGHUP, SIGQUIT | passed on to the command's process group (then SIGCONT, so a stopped command can act on it); the run is *interrupted*: reported as such, SIGKILL after `--kill-after`, and hcwrap ends by the same signal | ends an `--every` loop or a wait; a second one stops the final ping's retries |
//! | SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH | passed on to the group; the run goes on (if the command dies of it, that is how it ended) | nothing |
//! | SIGTSTP | with a controlling terminal, passed on to the group: the command stops, and hcwrap with it (job control); without one, ignored (nobody could continue the job) | hcwrap stops |
//! | SIGCONT | hcwrap was continued: the terminal goes back to the command if hcwrap is in the foreground, and the group gets SIGCONT | nothing |
//! | SIGCHLD | the command's state changed; as PID 1, orphans are reaped | as PID 1, orphans are reaped |
//!
//! A signal hcwrap was started with ignored (SIGINT for a script's background job, SIGHUP
//! under `nohup`) stays ignored, for hcwrap and for the command, as the shell meant.
//! SIGTTOU is blocked for all of hcwrap, so that its own writes to a terminal it handed to
//! the command (the echo, its messages) never stop it under `stty tostop`. SIGKILL and
//! SIGSTOP cannot be handled: SIGKILL ends hcwrap and leaves the command running, without
//! a final ping (the check then goes down after its grace time).
//!
//! The handler only records the signal and writes a byte into a pipe; the code that waits
//! (for the command, between runs, for the pings) polls that pipe and acts on the signals
//! itself, on its own thread. No helper thread, no lock.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use libc::{
    SIGALRM, SIGCHLD, SIGCONT, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP, SIGTTOU, SIGUSR1,
    SIGUSR2, SIGWINCH,
};

use crate::sys;

/// What a signal means for a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    /// Ends the run: passed on, the run reported as interrupted.
    Interrupt,
    /// Passed on to the command; the run goes on.
    PassOn,
    /// Job control: stop the command, and hcwrap with it.
    Suspend,
    /// hcwrap was continued.
    Continued,
    /// A child's state changed.
    Child,
}

/// Every signal hcwrap handles, with its meaning.
const POLICY: [(i32, Meaning); 12] = [
    (SIGINT, Meaning::Interrupt),
    (SIGTERM, Meaning::Interrupt),
    (SIGHUP, Meaning::Interrupt),
    (SIGQUIT, Meaning::Interrupt),
    (SIGUSR1, Meaning::PassOn),
    (SIGUSR2, Meaning::PassOn),
    (SIGALRM, Meaning::PassOn),
    (SIGWINCH, Meaning::PassOn),
    (SIGTSTP, Meaning::Suspend),
    (SIGCONT, Meaning::Continued),
    (SIGCHLD, Meaning::Child),
    // Listed so that its meaning is stated; it is blocked, never handled (see above).
    (SIGTTOU, Meaning::PassOn),
];

/// What `signal` means for a run.
pub fn meaning(signal: i32) -> Option<Meaning> {
    POLICY.iter().find(|(s, _)| *s == signal).map(|(_, m)| *m)
}

/// hcwrap's handled signals: installed once per process, read by whoever waits.
#[derive(Debug)]
pub struct Signals {
    wake: OwnedFd,
    /// The first interrupting signal received at all: it ends an `--every` loop.
    received: Option<i32>,
    /// Whether hcwrap is PID 1 (a container's init), which must reap orphans.
    pid1: bool,
}

impl Signals {
    /// Installs the handlers; call on the main thread before any other thread starts.
    pub fn install() -> Result<Self> {
        // A parent that ignores SIGCHLD passes that on through exec, and then the kernel
        // reaps hcwrap's child by itself: its exit status would be lost. A parent can also
        // pass SIGCHLD on blocked, and hcwrap would never hear of its command's exit.
        sys::set_default(SIGCHLD);
        sys::mask(SIGCHLD, false);
        sys::mask(SIGTTOU, true);
        let wanted: Vec<i32> = POLICY
            .iter()
            .map(|(s, _)| *s)
            .filter(|&s| s != SIGTTOU && !(s != SIGCHLD && sys::is_ignored(s)))
            .collect();
        let wake = sys::install_handlers(&wanted).context("while installing signal handlers")?;
        Ok(Signals {
            wake,
            received: None,
            pid1: sys::own_pid() == 1,
        })
    }

    /// The descriptor that becomes readable when a signal arrives.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.wake.as_fd()
    }

    /// The signals that arrived since the last call, lowest number first. Notes the first
    /// interrupting one (see [`received`](Self::received)); as PID 1, reaps orphans
    /// (except `keep`, the command, whose status is collected by its own code).
    pub fn take(&mut self, keep: Option<i32>) -> Vec<i32> {
        let bits = sys::take_signals(self.wake.as_fd());
        let signals: Vec<i32> = (1..64).filter(|s| bits & (1 << s) != 0).collect();
        for &signal in &signals {
            if meaning(signal) == Some(Meaning::Interrupt) {
                self.received.get_or_insert(signal);
            }
            if signal == SIGTSTP && keep.is_none() && !self.pid1 {
                // Nothing runs that could stop first: hcwrap stops, as it would by default
                // (PID 1 is never stopped by it).
                sys::stop_self(SIGTSTP);
            }
        }
        if self.pid1 && bits & (1 << SIGCHLD) != 0 {
            sys::reap_others(keep);
        }
        signals
    }

    /// The first interrupting signal hcwrap received, if any.
    pub fn received(&self) -> Option<i32> {
        self.received
    }

    /// Waits up to `duration` (between runs); returns early with the interrupting signal
    /// that arrived, if one did (or had before).
    pub fn sleep(&mut self, duration: Duration) -> Option<i32> {
        let until = Instant::now().checked_add(duration);
        while self.received.is_none() {
            let left = until.map(|u| u.saturating_duration_since(Instant::now()));
            if left.is_some_and(|l| l.is_zero()) {
                break;
            }
            self.wait(left);
        }
        self.received
    }

    /// Waits until a signal arrives or `timeout` passes, then takes the signals.
    pub fn wait(&mut self, timeout: Option<Duration>) -> Vec<i32> {
        let mut fds = [libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(&self.wake),
            events: libc::POLLIN,
            revents: 0,
        }];
        let _ = sys::poll(&mut fds, timeout);
        self.take(None)
    }
}

/// Whether hcwrap, having been interrupted by `signal`, should end by it (after the final
/// ping) rather than exit with 128+n: a shell running it in a loop stops the loop only
/// when its job died of the signal (Ctrl-C ends `for i in 1 2 3; do hcwrap ...; done`).
pub fn ends_hcwrap(signal: i32) -> bool {
    meaning(signal) == Some(Meaning::Interrupt)
}

/// Whether the command dying of `signal` is the user's interrupt from the terminal
/// (Ctrl-C, Ctrl-\), which hcwrap then ends by too, as the job the shell sees.
pub fn is_terminal_interrupt(signal: i32) -> bool {
    signal == SIGINT || signal == SIGQUIT
}

/// The conventional name of a signal, such as `SIGTERM`.
pub fn name(signal: i32) -> String {
    let known = [
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGQUIT, "SIGQUIT"),
        (libc::SIGILL, "SIGILL"),
        (libc::SIGTRAP, "SIGTRAP"),
        (libc::SIGABRT, "SIGABRT"),
        (libc::SIGBUS, "SIGBUS"),
        (libc::SIGFPE, "SIGFPE"),
        (libc::SIGKILL, "SIGKILL"),
        (libc::SIGUSR1, "SIGUSR1"),
        (libc::SIGSEGV, "SIGSEGV"),
        (libc::SIGUSR2, "SIGUSR2"),
        (libc::SIGPIPE, "SIGPIPE"),
        (libc::SIGALRM, "SIGALRM"),
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGCHLD, "SIGCHLD"),
        (libc::SIGCONT, "SIGCONT"),
        (libc::SIGSTOP, "SIGSTOP"),
        (libc::SIGTSTP, "SIGTSTP"),
        (libc::SIGTTIN, "SIGTTIN"),
        (libc::SIGTTOU, "SIGTTOU"),
        (libc::SIGXCPU, "SIGXCPU"),
        (libc::SIGXFSZ, "SIGXFSZ"),
        (libc::SIGWINCH, "SIGWINCH"),
    ];
    known.iter().find(|(n, _)| *n == signal).map_or_else(
        || format!("signal {signal}"),
        |(_, name)| (*name).to_owned(),
    )
}
