//! Ending the child early: when hcwrap is signalled, and when `--timeout` runs out.
//!
//! SIGINT, SIGTERM and SIGHUP are passed on to the child's process group (the child runs
//! in a group of its own, so a `sh -c` pipeline gets them too); a timeout sends SIGTERM to
//! it. If the child is still running `--kill-after` later, the group gets SIGKILL. What
//! came first (a signal or the timeout) decides how the run is reported and hcwrap's exit
//! status (128+n, or 124). A signal that arrives after the child has exited cuts the final
//! ping's retries short instead.
//!
//! The child's exit is announced (by [`Forwarder::child_exited`]) before it is reaped, so
//! the forwarder never signals a process group whose id the system may have reused.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result};
use signal_hook::consts::{SIGHUP, SIGINT, SIGKILL, SIGTERM};
use signal_hook::iterator::Signals;

use crate::stop::Stop;

/// The signals hcwrap passes on.
pub const FORWARDED: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];

/// Why the run was ended early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// hcwrap received this signal and passed it on.
    Signal(i32),
    /// `--timeout` ran out; the child's group got SIGTERM.
    Timeout,
}

/// The state of one run; `--every` starts a fresh one for each run.
#[derive(Debug, Default)]
struct Run {
    /// The child's process group, once it runs.
    group: Option<i32>,
    /// Raised once the child has exited (set under the lock).
    exited: Stop,
    /// What cut the run short, if anything did: the first signal that arrived while the
    /// child ran (or before it started), or the timeout.
    cut: Option<Cut>,
    /// Whether the SIGKILL timer has started.
    timer: bool,
    /// Raised when SIGKILL had to be sent.
    killed: Stop,
    /// Raised by a signal that arrives after the child exited: stop retrying pings.
    after_exit: Stop,
}

#[derive(Debug, Default)]
struct State {
    run: Run,
    /// The first signal hcwrap received at all: it ends an `--every` loop.
    received: Option<i32>,
}

/// Passes signals on to the child's process group; see the module documentation.
#[derive(Debug, Clone)]
pub struct Forwarder {
    state: Arc<Mutex<State>>,
    kill_after: Duration,
    /// Raised by any signal: ends a wait between runs.
    any_signal: Stop,
}

impl Forwarder {
    /// Installs the handlers, once per process; call before the first child is spawned so
    /// no signal is missed.
    pub fn install(kill_after: Duration) -> Result<Self> {
        // A parent that ignores SIGCHLD passes that on through exec, and then the kernel
        // reaps hcwrap's child by itself: its exit status would be lost. Waiting for the
        // child needs the default disposition back.
        // SAFETY: setting a signal's disposition to SIG_DFL has no memory-safety
        // preconditions; nothing else in hcwrap handles SIGCHLD.
        unsafe {
            libc::signal(libc::SIGCHLD, libc::SIG_DFL);
        }
        // A parent can also pass SIGCHLD on blocked. hcwrap learns from it that its child
        // exited while something else still holds the output (run.rs), so it unblocks it,
        // here on the main thread before any other thread starts and inherits the mask.
        // (The child starts with no signal blocked: the standard library resets the mask.)
        // SAFETY: the set is a local, initialised by sigemptyset before use; changing this
        // thread's mask has no memory-safety preconditions.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&raw mut set);
            libc::sigaddset(&raw mut set, libc::SIGCHLD);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &raw const set, std::ptr::null_mut());
        }
        // A signal hcwrap was started with ignored (SIGINT and SIGQUIT for a shell script's
        // background job, SIGHUP under nohup) stays ignored, for hcwrap and for the command,
        // as the shell meant.
        let wanted: Vec<i32> = FORWARDED
            .into_iter()
            .filter(|&signal| !ignored(signal))
            .collect();
        let mut signals = Signals::new(wanted).context("while installing signal handlers")?;
        let forwarder = Forwarder {
            state: Arc::default(),
            kill_after,
            any_signal: Stop::default(),
        };
        let handler = forwarder.clone();
        thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for signal in signals.forever() {
                    handler.on_signal(signal);
                }
            })
            .context("while starting the signal thread")?;
        Ok(forwarder)
    }

    /// A forwarder with no handlers installed, for tests of the code that uses one.
    #[cfg(test)]
    pub fn inert() -> Self {
        Forwarder {
            state: Arc::default(),
            kill_after: Duration::from_secs(1),
            any_signal: Stop::default(),
        }
    }

    /// Starts the state of a new run. A signal that already arrived (between two runs of
    /// `--every`) cuts the new run short at once: its child gets the signal as it starts.
    pub fn begin_run(&self) {
        let mut state = self.lock();
        state.run = Run::default();
        state.run.cut = state.received.map(Cut::Signal);
    }

    /// The child runs, as the leader of process group `group`.
    pub fn child_started(&self, group: u32) {
        let mut state = self.lock();
        state.run.group = i32::try_from(group).ok();
        if let Some(Cut::Signal(signal)) = state.run.cut {
            // A signal came in while the child was being spawned.
            self.forward(&mut state.run, signal);
        }
    }

    /// Sends SIGTERM to the child's group if it still runs after `timeout`.
    pub fn start_timeout(&self, timeout: Duration) {
        let this = self.clone();
        let exited = self.lock().run.exited.clone();
        // Without a thread there is no timeout; the run itself goes on.
        let _ = thread::Builder::new()
            .name("timeout".into())
            .spawn(move || {
                if exited.sleep(timeout) {
                    return;
                }
                let mut state = this.lock();
                if !exited.is_raised() && state.run.cut.is_none() {
                    state.run.cut = Some(Cut::Timeout);
                    this.forward(&mut state.run, SIGTERM);
                }
            });
    }

    /// The child has exited (and is not reaped yet).
    pub fn child_exited(&self) {
        self.lock().run.exited.raise();
    }

    /// What cut the run short, if anything did.
    pub fn cut(&self) -> Option<Cut> {
        self.lock().run.cut
    }

    /// Whether the child had to be killed with SIGKILL.
    pub fn sent_sigkill(&self) -> bool {
        self.lock().run.killed.is_raised()
    }

    /// Raised when a signal arrives after the child exited: stop retrying pings.
    pub fn after_exit(&self) -> Stop {
        self.lock().run.after_exit.clone()
    }

    /// The first signal hcwrap received, if any.
    pub fn received(&self) -> Option<i32> {
        self.lock().received
    }

    /// Sleeps for `duration` unless a signal arrives; returns that signal if one did
    /// (or had before).
    pub fn sleep(&self, duration: Duration) -> Option<i32> {
        self.any_signal.sleep(duration);
        self.received()
    }

    fn on_signal(&self, signal: i32) {
        let mut state = self.lock();
        state.received.get_or_insert(signal);
        self.any_signal.raise();
        let run = &mut state.run;
        if run.exited.is_raised() {
            run.after_exit.raise();
            return;
        }
        run.cut.get_or_insert(Cut::Signal(signal));
        self.forward(run, signal);
    }

    fn forward(&self, run: &mut Run, signal: i32) {
        let Some(group) = run.group else { return };
        kill_group(group, signal);
        if !run.timer {
            run.timer = true;
            let (this, exited, killed) = (self.clone(), run.exited.clone(), run.killed.clone());
            // If no thread can be started, the child just gets no SIGKILL: the signal
            // itself has been passed on, which is what matters most.
            let _ = thread::Builder::new()
                .name("kill-after".into())
                .spawn(move || {
                    if !exited.sleep(this.kill_after) {
                        // Under the lock, so the child cannot be announced as exited
                        // (and then reaped) between the check and the kill.
                        let _state = this.lock();
                        if !exited.is_raised() {
                            kill_group(group, SIGKILL);
                            killed.raise();
                        }
                    }
                });
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether `signal`'s disposition is "ignore".
fn ignored(signal: i32) -> bool {
    // SAFETY: sigaction with a null new action only reads the current one into `old`,
    // which is valid, writable memory.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &raw mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    }
}

fn kill_group(group: i32, signal: i32) {
    // SAFETY: killpg has no memory-safety preconditions. An error (the group is gone)
    // means there is nothing left to signal.
    unsafe {
        libc::killpg(group, signal);
    }
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
        (libc::SIGXCPU, "SIGXCPU"),
        (libc::SIGXFSZ, "SIGXFSZ"),
    ];
    known.iter().find(|(n, _)| *n == signal).map_or_else(
        || format!("signal {signal}"),
        |(_, name)| (*name).to_owned(),
    )
}
