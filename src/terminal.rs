//! The controlling terminal, when hcwrap runs in the foreground of one.
//!
//! The child runs in a process group of its own (so signals reach everything it starts),
//! which makes it a background group. A background group that reads from the terminal is
//! stopped with SIGTTIN: a script asking for a password would hang for ever. So, as a
//! shell does for a job, hcwrap hands the terminal to the child's group while it runs and
//! takes it back afterwards. The child takes the terminal itself, before `exec`, so it can
//! never read from it a moment too early. Keys such as Ctrl-C then reach the command
//! directly, as they would without hcwrap.

use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};

/// hcwrap's controlling terminal, held while hcwrap is its foreground process group.
#[derive(Debug)]
pub struct Terminal {
    tty: File,
}

impl Terminal {
    /// The controlling terminal, if there is one and hcwrap is in its foreground.
    pub fn foreground() -> Option<Self> {
        let tty = File::options()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .ok()?;
        // SAFETY: tcgetpgrp and getpgrp only read process state; the fd is open.
        let foreground = unsafe { libc::tcgetpgrp(tty.as_raw_fd()) == libc::getpgrp() };
        foreground.then_some(Terminal { tty })
    }

    /// The descriptor the child uses to take the terminal (see [`take_in_child`]).
    pub fn fd(&self) -> RawFd {
        self.tty.as_raw_fd()
    }

    /// Gives the terminal back to hcwrap's own process group once the child has exited.
    pub fn take_back(&self) {
        // SAFETY: getpgrp has no preconditions.
        let own = unsafe { libc::getpgrp() };
        set_foreground(self.tty.as_raw_fd(), own);
    }
}

/// Makes the calling process's group the terminal's foreground group. Async-signal-safe,
/// for the child between fork and exec.
pub fn take_in_child(tty: RawFd) {
    // SAFETY: getpid has no preconditions.
    let own = unsafe { libc::getpid() };
    set_foreground(tty, own);
}

/// `tcsetpgrp` from a background group, which needs SIGTTOU blocked (else the caller is
/// stopped). Uses only async-signal-safe calls.
fn set_foreground(tty: RawFd, group: libc::pid_t) {
    // SAFETY: the sigset_t values are initialised by sigemptyset before use, and the
    // calls have no other preconditions; errors leave the terminal as it was.
    unsafe {
        let mut block: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&raw mut block);
        libc::sigaddset(&raw mut block, libc::SIGTTOU);
        libc::pthread_sigmask(libc::SIG_BLOCK, &raw const block, &raw mut old);
        libc::tcsetpgrp(tty, group);
        libc::pthread_sigmask(libc::SIG_SETMASK, &raw const old, std::ptr::null_mut());
    }
}
