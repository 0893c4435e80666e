//! The child: spawning it, passing its output through while capturing the tail, waiting
//! for it, and what its ending was.
//!
//! The child's stdout and stderr are two pipes read by one thread with poll(2), so both
//! feed the ring buffer in arrival order without locks and the output path costs one
//! read, one write and one copy per chunk. Writes to hcwrap's own stdout or stderr that
//! fail (a closed pipe, as in `hcwrap ... | head -1`) stop the echo, never the capture.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::exit_codes;
use crate::ring::Ring;
use crate::signals::{self, Forwarder};
use crate::terminal::{self, Terminal};

/// How long hcwrap keeps reading after the child exited, for output that something the
/// child left running in the background still holds open.
pub const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(1);
/// The read size. Reads this large (with pipes this large) keep the copy, the syscalls and
/// the context switches per byte below what `cat` pays; see BENCHMARKS.md.
const CHUNK: usize = 256 * 1024;
/// The capacity asked for the child's pipes (Linux, `F_SETPIPE_SZ`; 64 KiB by default).
#[cfg(target_os = "linux")]
const PIPE_SIZE: i32 = 1024 * 1024;

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
}

/// What is echoed where.
#[derive(Debug, Clone, Copy)]
pub struct Echo {
    /// Pass the child's stdout to hcwrap's stdout.
    pub stdout: bool,
    /// Pass the child's stderr to hcwrap's stderr.
    pub stderr: bool,
}

/// The captured output once reading has ended.
#[derive(Debug)]
pub struct Capture {
    /// The tail of the output.
    pub ring: Ring,
    /// Something still held the output open when hcwrap stopped reading.
    pub still_open: bool,
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
    let mut child = cmd.spawn().map_err(|e| exec_failure(program, &e))?;
    match (child.stdout.take(), child.stderr.take()) {
        (Some(stdout), Some(stderr)) => Ok(Running {
            child,
            stdout,
            stderr,
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

    /// Passes the output through and captures it on a thread of its own, waits for the
    /// child, then for the reading to end (at most [`DRAIN_AFTER_EXIT`] after the child
    /// exited). `capacity` is read as the ring grows to a limit learned during the run.
    pub fn finish(
        mut self,
        echo: Echo,
        ring: Ring,
        capacity: &Arc<AtomicUsize>,
        signals: &Forwarder,
        terminal: Option<&Terminal>,
    ) -> (Outcome, Capture) {
        let (wake_read, mut wake_write) = match io::pipe() {
            Ok(pipe) => (Some(pipe.0), Some(pipe.1)),
            // Without the wake-up pipe, reading still ends at end of file.
            Err(_) => (None, None),
        };
        let capacity = Arc::clone(capacity);
        let (stdout, stderr) = (self.stdout, self.stderr);
        let reader = std::thread::Builder::new()
            .name("output".into())
            .spawn(move || pump(stdout, stderr, wake_read, echo, ring, &capacity));
        let outcome = wait(&mut self.child, signals);
        if let Some(terminal) = terminal {
            terminal.take_back();
        }
        if let Some(w) = wake_write.as_mut() {
            let _ = w.write_all(b"x");
        }
        let capture = match reader.map(std::thread::JoinHandle::join) {
            Ok(Ok(capture)) => capture,
            // The reader thread could not start or panicked: report the run anyway.
            _ => Capture {
                ring: Ring::new(0),
                still_open: false,
            },
        };
        (outcome, capture)
    }
}

/// Waits for the child. The exit is announced to the signal forwarder before the child
/// is reaped (waitid with WNOWAIT), so its group id stays valid while it may be signalled.
fn wait(child: &mut Child, signals: &Forwarder) -> Outcome {
    let pid = child.id();
    loop {
        // SAFETY: siginfo_t is plain data that waitid fills in; zeroed is a valid value.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: info is a valid, writable siginfo_t for the duration of the call.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid,
                &raw mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            break;
        }
    }
    signals.child_exited();
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

/// One of the child's output streams.
struct Stream {
    pipe: File,
    echo: Option<File>,
    open: bool,
}

impl Stream {
    fn new(pipe: impl Into<OwnedFd>, echo: bool, to: BorrowedFd<'_>) -> Self {
        // A handle on hcwrap's own stdout or stderr for echoing, if wanted and available.
        let echo = echo
            .then(|| to.try_clone_to_owned().ok().map(File::from))
            .flatten();
        let pipe = File::from(pipe.into());
        // Larger pipes mean fewer, larger reads and fewer switches between the child and
        // hcwrap. Best effort: the system may cap the size (pipe-max-size), which is fine.
        #[cfg(target_os = "linux")]
        // SAFETY: fcntl with F_SETPIPE_SZ has no memory-safety preconditions; the fd is open.
        unsafe {
            libc::fcntl(pipe.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_SIZE);
        }
        Stream {
            pipe,
            echo,
            open: true,
        }
    }
}

fn pump(
    stdout: ChildStdout,
    stderr: ChildStderr,
    wake: Option<io::PipeReader>,
    echo: Echo,
    mut ring: Ring,
    capacity: &AtomicUsize,
) -> Capture {
    let mut streams = [
        Stream::new(stdout, echo.stdout, io::stdout().as_fd()),
        Stream::new(stderr, echo.stderr, io::stderr().as_fd()),
    ];
    let mut wake = wake;
    let mut deadline: Option<Instant> = None;
    let mut buf = vec![0u8; CHUNK];
    let mut still_open = false;
    let idle = libc::pollfd {
        fd: -1,
        events: libc::POLLIN,
        revents: 0,
    };

    while streams.iter().any(|s| s.open) {
        // poll(2) skips entries whose fd is negative.
        let mut fds = [idle; 3];
        for (fd, stream) in fds.iter_mut().zip(&streams) {
            if stream.open {
                fd.fd = stream.pipe.as_raw_fd();
            }
        }
        if let Some(w) = &wake {
            fds[2].fd = w.as_raw_fd();
        }
        // Checked on every round, not only when poll times out: a process that keeps
        // writing (`yes &`) never lets poll time out.
        let timeout = match deadline {
            None => -1,
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    still_open = true;
                    break;
                }
                // Rounded up, so that poll does not return early with time still left.
                i32::try_from(left.as_millis() + 1).unwrap_or(i32::MAX)
            }
        };
        // SAFETY: fds is a valid array of three pollfd, alive for the call.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), 3, timeout) };
        if ready < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        if ready == 0 {
            still_open = true;
            break;
        }
        for (stream, fd) in streams.iter_mut().zip(&fds) {
            if fd.revents == 0 {
                continue;
            }
            match stream.pipe.read(&mut buf) {
                Ok(0) => stream.open = false,
                Ok(n) => {
                    let chunk = &buf[..n];
                    if let Some(out) = stream.echo.as_mut()
                        && out.write_all(chunk).is_err()
                    {
                        stream.echo = None;
                    }
                    ring.write(chunk);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => stream.open = false,
            }
        }
        if fds[2].revents != 0 {
            // The child exited: from now on keep reading only what comes within the bound.
            wake = None;
            deadline = Some(Instant::now() + DRAIN_AFTER_EXIT);
        }
        let wanted = capacity.load(Ordering::Relaxed);
        if wanted > ring.capacity() {
            ring.grow(wanted);
        }
    }
    Capture { ring, still_open }
}
