//! The child: spawning it, waiting for it while its output is passed through (on the
//! same thread, see [`output`](crate::output)), and what its ending was.
//!
//! The child's exit is learned in two ways: its pipes close (the usual case), or a
//! SIGCHLD writes a byte into a pipe the output loop watches (when something the child
//! left in the background still holds its output). Either way the exit is announced to
//! the signal forwarder before the child is reaped, so its process group id stays valid
//! while it may be signalled.

use std::ffi::OsString;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};
use std::sync::atomic::AtomicUsize;

use signal_hook::SigId;
use signal_hook::consts::SIGCHLD;

use crate::exit_codes;
use crate::output::{self, Capture, Echo, ExitCheck};
use crate::ring::Ring;
use crate::signals::{self, Forwarder};
use crate::terminal::{self, Terminal};

/// How the command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It exited with this status.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
    /// It could not be started; `status` is 127 (not found) or 126.
    ExecFailed {
        /// The exit status a shell would give.
        status: i32,
        /// Why, for the message and the ping body.
        reason: String,
    },
}

/// The command, started.
pub struct Running {
    child: Child,
    stdout: ChildStdout,
    stderr: ChildStderr,
    /// Wakes the output loop when the child exits; `None` if it could not be set up.
    exit_watch: Option<ExitWatch>,
}

/// A pipe that receives a byte whenever hcwrap gets SIGCHLD, for the time of one run.
struct ExitWatch {
    read: io::PipeReader,
    id: SigId,
}

impl ExitWatch {
    fn new() -> io::Result<Self> {
        let (read, write) = io::pipe()?;
        // The handler writes into the (then non-blocking) write end and does nothing else.
        let id = signal_hook::low_level::pipe::register(SIGCHLD, write)?;
        Ok(ExitWatch { read, id })
    }
}

impl Drop for ExitWatch {
    fn drop(&mut self) {
        signal_hook::low_level::unregister(self.id);
    }
}

/// Starts `command` in a process group of its own, with stdin inherited and its output
/// piped, plus the variables in `env`. A command that cannot be started comes back as the
/// [`Outcome`] to report.
pub fn spawn(
    command: &[OsString],
    env: &[(&str, Option<String>)],
    terminal: Option<&Terminal>,
) -> Result<Running, Outcome> {
    let (program, args) = command.split_first().ok_or_else(|| Outcome::ExecFailed {
        status: exit_codes::NOT_FOUND,
        reason: "no command given".into(),
    })?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for (name, value) in env {
        match value {
            Some(value) => cmd.env(name, value),
            None => cmd.env_remove(name),
        };
    }
    if let Some(terminal) = terminal {
        let tty = terminal.fd();
        // SAFETY: the closure runs between fork and exec and makes only async-signal-safe
        // calls (setpgid, sigprocmask, tcsetpgrp, getpid).
        unsafe {
            cmd.pre_exec(move || {
                libc::setpgid(0, 0);
                terminal::take_in_child(tty);
                Ok(())
            });
        }
    }
    // Set up before the child exists, so that its SIGCHLD cannot be missed. Without it the
    // output loop checks for the exit now and then instead.
    let exit_watch = ExitWatch::new().ok();
    let mut child = cmd.spawn().map_err(|e| exec_failure(program, &e))?;
    match (child.stdout.take(), child.stderr.take()) {
        (Some(stdout), Some(stderr)) => Ok(Running {
            child,
            stdout,
            stderr,
            exit_watch,
        }),
        // Cannot happen: both were set to piped above.
        _ => unreachable!("spawned child without piped stdout and stderr"),
    }
}

fn exec_failure(program: &OsString, error: &io::Error) -> Outcome {
    let program = program.to_string_lossy();
    match error.kind() {
        io::ErrorKind::NotFound => Outcome::ExecFailed {
            status: exit_codes::NOT_FOUND,
            reason: format!("not found: {program}"),
        },
        io::ErrorKind::PermissionDenied => Outcome::ExecFailed {
            status: exit_codes::CANNOT_EXECUTE,
            reason: format!("permission denied: {program}"),
        },
        _ => Outcome::ExecFailed {
            status: exit_codes::CANNOT_EXECUTE,
            reason: format!("cannot execute {program}: {error}"),
        },
    }
}

impl Running {
    /// The child's process id, which is also its process group id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Passes the output through and captures it until the child has exited and the
    /// reading has ended (at most [`output::DRAIN_AFTER_EXIT`] after the exit), then reaps
    /// the child. `capacity` is read as the ring grows to a limit learned during the run.
    /// When the child exits, the forwarder is told and the terminal taken back.
    pub fn finish(
        mut self,
        echo: Echo,
        ring: Ring,
        capacity: &AtomicUsize,
        signals: &Forwarder,
        terminal: Option<&Terminal>,
    ) -> (Outcome, Capture) {
        let pid = self.child.id();
        let mut announced = false;
        let mut announce = || {
            if !announced {
                announced = true;
                signals.child_exited();
                if let Some(terminal) = terminal {
                    terminal.take_back();
                }
            }
        };
        let mut exited = || {
            let gone = has_exited(pid, false);
            if gone {
                announce();
            }
            gone
        };
        let exit = ExitCheck {
            wake: self.exit_watch.as_ref().map(|w| w.read.as_fd()),
            exited: &mut exited,
        };
        let capture = output::pump(self.stdout, self.stderr, echo, ring, capacity, exit);
        has_exited(pid, true);
        announce();
        drop(self.exit_watch);
        (reap(&mut self.child), capture)
    }
}

/// Whether the child `pid` has exited, waiting for it if `block`. It is not reaped
/// (waitid with WNOWAIT), so its process group id stays reserved.
fn has_exited(pid: u32, block: bool) -> bool {
    let flags = if block {
        libc::WEXITED | libc::WNOWAIT
    } else {
        libc::WEXITED | libc::WNOWAIT | libc::WNOHANG
    };
    loop {
        // SAFETY: siginfo_t is plain data that waitid fills in; zeroed is a valid value
        // (and a zero si_pid is how WNOHANG says "still running").
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: info is a valid, writable siginfo_t for the duration of the call.
        let r = unsafe { libc::waitid(libc::P_PID, pid, &raw mut info, flags) };
        if r == 0 {
            // SAFETY: waitid succeeded, so info holds a child's state (or zeros).
            return unsafe { info.si_pid() } != 0;
        }
        if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            // No such child any more: nothing left to wait for.
            return true;
        }
    }
}

/// Reaps the child, which has exited, and says how it ended.
fn reap(child: &mut Child) -> Outcome {
    match child.wait() {
        Ok(status) => match (status.code(), status.signal()) {
            (Some(code), _) => Outcome::Exited(code),
            (None, Some(signal)) => Outcome::Signaled(signal),
            (None, None) => Outcome::Exited(1),
        },
        // Someone else reaped it; its status is lost.
        Err(e) => Outcome::ExecFailed {
            status: 1,
            reason: format!("lost track of the command: {e}"),
        },
    }
}

/// The exit status hcwrap passes on for `outcome`.
pub fn exit_status(outcome: &Outcome) -> i32 {
    match outcome {
        Outcome::Exited(code) => *code,
        Outcome::Signaled(signal) => exit_codes::for_signal(*signal),
        Outcome::ExecFailed { status, .. } => *status,
    }
}

/// The last line of a failed run's body: how it ended.
pub fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Exited(code) => format!("exit status {code}"),
        Outcome::Signaled(signal) => format!("killed by {}", signals::name(*signal)),
        Outcome::ExecFailed { reason, .. } => reason.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_the_wake_up_pipe_the_exit_is_still_noticed() {
        // The background sleep holds the output open after sh has exited.
        let command = ["sh", "-c", "sleep 60 & echo started"].map(OsString::from);
        let mut running = spawn(&command, &[], None).expect("sh starts");
        let group = running.id();
        running.exit_watch = None;
        let echo = Echo {
            stdout: false,
            stderr: false,
        };
        let (outcome, mut capture) = running.finish(
            echo,
            Ring::new(1000),
            &AtomicUsize::new(1000),
            &Forwarder::inert(),
            None,
        );
        // SAFETY: killpg has no memory-safety preconditions; the sleep is in that group.
        unsafe {
            libc::killpg(i32::try_from(group).expect("a pid"), libc::SIGKILL);
        }
        assert_eq!(outcome, Outcome::Exited(0));
        assert!(capture.still_open);
        assert_eq!(capture.ring.make_contiguous(), b"started\n");
    }
}
