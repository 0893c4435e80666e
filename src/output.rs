//! The child's output: passed through to hcwrap's own stdout and stderr as it comes, and
//! its tail kept in the ring buffer for the final ping.
//!
//! Both pipes are read by one loop with poll(2), on the thread that waits for the child,
//! so the output feeds the ring in arrival order without locks. Each chunk is read
//! straight into the ring and echoed from there: one read and one write, no copy, no
//! buffer besides the ring. Writes to hcwrap's own stdout or stderr that fail (a closed
//! pipe, as in `hcwrap ... | head -1`) stop the echo, never the capture.
//!
//! Reading ends when both pipes are closed, which is when the child exits unless it left
//! something running in the background that holds them. So the loop also watches for the
//! child's exit and from then on reads for at most [`DRAIN_AFTER_EXIT`].

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::process::{ChildStderr, ChildStdout};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::ring::Ring;

/// How long hcwrap keeps reading after the child exited, for output that something the
/// child left running in the background still holds open.
pub const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(1);
/// How often the loop checks for the child's exit when no SIGCHLD can wake it (the
/// wake-up pipe could not be set up).
const EXIT_CHECK_WITHOUT_WAKE: Duration = Duration::from_millis(100);
/// The largest read. Into the ring a read also stops at the ring's end, so with the
/// default 100,000-byte ring reads are up to that long; this bounds them when a server's
/// larger limit grows the ring, and sizes the buffer used when nothing is kept.
const CHUNK: usize = 256 * 1024;
/// The smallest ring read into directly. A smaller one (`--body-limit 200`, or
/// `--no-output` with none at all) would make for tiny reads: output then goes through a
/// buffer of [`CHUNK`] bytes and only its end is copied into the ring.
const MIN_DIRECT: usize = 64 * 1024;
/// How long the loop checks for more output without sleeping; see [`wait_ready`].
const SPIN: Duration = Duration::from_micros(20);
/// Two pieces of output this close together mean output is flowing; see [`wait_ready`].
const FLOWING: Duration = Duration::from_micros(100);
/// The capacity asked for the child's pipes (Linux, `F_SETPIPE_SZ`; 64 KiB by default).
#[cfg(target_os = "linux")]
const PIPE_SIZE: i32 = 1024 * 1024;

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

/// How the loop learns that the child has exited.
pub struct ExitCheck<'a> {
    /// Becomes readable when the child may have exited (a byte per SIGCHLD); without it
    /// the loop checks every [`EXIT_CHECK_WITHOUT_WAKE`].
    pub wake: Option<BorrowedFd<'a>>,
    /// Tells, without blocking, whether the child has exited.
    pub exited: &'a mut dyn FnMut() -> bool,
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

    /// Reads once into `buf` and echoes what was read; returns how much that was.
    fn pass(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.pipe.read(buf)?;
        if let Some(out) = self.echo.as_mut()
            && out.write_all(&buf[..n]).is_err()
        {
            self.echo = None;
        }
        Ok(n)
    }
}

/// Reads the child's output until both pipes are closed, or until [`DRAIN_AFTER_EXIT`]
/// after `exit` reports the child gone. `capacity` is read as the ring grows to a limit
/// learned during the run.
pub fn pump(
    stdout: ChildStdout,
    stderr: ChildStderr,
    echo: Echo,
    mut ring: Ring,
    capacity: &AtomicUsize,
    exit: ExitCheck<'_>,
) -> Capture {
    let mut streams = [
        Stream::new(stdout, echo.stdout, io::stdout().as_fd()),
        Stream::new(stderr, echo.stderr, io::stderr().as_fd()),
    ];
    let ExitCheck { wake, exited } = exit;
    let mut deadline: Option<Instant> = None;
    // For output read while the ring is small or keeps nothing; see MIN_DIRECT.
    let mut scratch = Vec::new();
    let mut still_open = false;
    let mut last_output: Option<Instant> = None;
    let mut flowing = false;
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
        if let (Some(w), None) = (wake, deadline) {
            fds[2].fd = w.as_raw_fd();
        }
        // Checked on every round, not only when poll times out: a process that keeps
        // writing (`yes &`) never lets poll time out.
        let timeout = match deadline {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    still_open = true;
                    break;
                }
                left
            }
            None if wake.is_none() => EXIT_CHECK_WITHOUT_WAKE,
            None => Duration::MAX,
        };
        let ready = wait_ready(&mut fds, timeout, flowing);
        if ready < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        for (stream, fd) in streams.iter_mut().zip(&fds) {
            if fd.revents == 0 {
                continue;
            }
            let direct = ring.capacity() >= MIN_DIRECT;
            let read = if direct {
                stream.pass(ring.spare(CHUNK))
            } else {
                if scratch.is_empty() {
                    scratch = vec![0; CHUNK];
                }
                stream.pass(&mut scratch)
            };
            match read {
                Ok(0) => stream.open = false,
                Ok(n) => {
                    if direct {
                        ring.commit(n);
                    } else {
                        ring.write(&scratch[..n]);
                    }
                    let now = Instant::now();
                    flowing = last_output.is_some_and(|at| now.duration_since(at) < FLOWING);
                    last_output = Some(now);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => stream.open = false,
            }
        }
        let woken = fds[2].revents != 0;
        if woken && let Some(w) = wake {
            drain(w);
        }
        if deadline.is_none() && (woken || (wake.is_none() && ready == 0)) && exited() {
            // From now on keep reading only what comes within the bound.
            deadline = Some(Instant::now() + DRAIN_AFTER_EXIT);
        }
        let wanted = capacity.load(Ordering::Relaxed);
        if wanted > ring.capacity() {
            ring.grow(wanted);
        }
    }
    Capture { ring, still_open }
}

/// poll(2) on `fds` for at most `timeout`; while output is `flowing`, checks for
/// [`SPIN`] without sleeping first. Returns what poll returns.
///
/// A command that writes small pieces (4 or 8 KiB, a stdio buffer) as fast as hcwrap
/// reads them leaves the pipe empty after every read. Sleeping in poll then means the
/// command has to wake hcwrap for every piece, and waking a sleeping CPU is slow (an
/// interrupt to it; under a hypervisor, a trip through the hypervisor too), a cost the
/// command pays in its write. Checking a little longer without sleeping catches the next
/// piece instead: 1 GiB from `head -c` gets through about 20 % faster (BENCHMARKS.md)
/// for the same CPU time. Only while pieces come less than [`FLOWING`] apart: a command
/// that prints a line now and then, even a thousand a second, costs nothing more, hcwrap
/// sleeps until it prints.
fn wait_ready(fds: &mut [libc::pollfd; 3], timeout: Duration, flowing: bool) -> i32 {
    if flowing {
        let until = Instant::now() + SPIN;
        loop {
            // SAFETY: fds is a valid array of three pollfd, alive for the call.
            let ready = unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) };
            if ready != 0 {
                return ready;
            }
            if Instant::now() >= until {
                break;
            }
            std::hint::spin_loop();
        }
    }
    // SAFETY: fds is a valid array of three pollfd, alive for the call.
    unsafe { libc::poll(fds.as_mut_ptr(), 3, poll_timeout(timeout)) }
}

/// `timeout` for poll(2), in milliseconds rounded up (so that poll does not return early
/// with time still left); -1, for ever, for [`Duration::MAX`].
fn poll_timeout(timeout: Duration) -> i32 {
    if timeout == Duration::MAX {
        return -1;
    }
    i32::try_from(timeout.as_millis() + 1).unwrap_or(i32::MAX)
}

/// Empties the wake-up pipe (its write end is non-blocking, its bytes carry no data).
fn drain(wake: BorrowedFd<'_>) {
    let mut bytes = [0u8; 64];
    // SAFETY: bytes is valid, writable memory of the length given.
    unsafe {
        libc::read(wake.as_raw_fd(), bytes.as_mut_ptr().cast(), bytes.len());
    }
}
