//! The controlling terminal, and a shell's job control around the command.
//!
//! The command runs in a process group of its own (so signals reach everything it
//! starts), which makes it a background group. A background group that reads from the
//! terminal is stopped with SIGTTIN: a script asking for a password would hang for ever.
//! So, as a shell does for a job, hcwrap hands the terminal to the command's group while
//! it runs and takes it back afterwards, whenever hcwrap itself is in the terminal's
//! foreground. The command takes it itself, before `exec`, so it can never read from it
//! a moment too early. Keys such as Ctrl-C then reach the command directly.
//!
//! To the shell, hcwrap is the job. When the command stops for job control (Ctrl-Z, or a
//! read from the terminal in the background), hcwrap takes the terminal back and stops
//! itself with the same signal, so the shell sees its job stopped and shows its prompt.
//! When the shell continues hcwrap (`fg` or `bg`), hcwrap hands the terminal to the
//! command again if it is in the foreground, and continues the command.

use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};

use crate::sys;

/// hcwrap's controlling terminal.
#[derive(Debug)]
pub struct Terminal {
    tty: File,
}

impl Terminal {
    /// The controlling terminal, if hcwrap has one (in the foreground or not).
    pub fn open() -> Option<Self> {
        use std::os::unix::fs::OpenOptionsExt;
        let tty = File::options()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open("/dev/tty")
            .ok()?;
        Some(Terminal { tty })
    }

    /// The descriptor the child uses to take the terminal.
    pub fn fd(&self) -> RawFd {
        self.tty.as_raw_fd()
    }

    /// Whether hcwrap's group is the terminal's foreground group.
    pub fn is_ours(&self) -> bool {
        sys::foreground(self.fd()) == Some(sys::own_group())
    }

    /// Hands the terminal to `group` if hcwrap holds it.
    pub fn hand_to(&self, group: i32) {
        if self.is_ours() {
            sys::set_foreground(self.fd(), group);
        }
    }

    /// Takes the terminal back from `group` (the command's), if that group holds it; with
    /// `None` (the command never started), from a group that no longer exists.
    pub fn take_back(&self, group: Option<i32>) {
        let Some(foreground) = sys::foreground(self.fd()) else {
            return;
        };
        let from_command = match group {
            Some(group) => foreground == group,
            None => foreground != sys::own_group() && !sys::group_exists(foreground),
        };
        if from_command {
            sys::set_foreground(self.fd(), sys::own_group());
        }
    }
}
