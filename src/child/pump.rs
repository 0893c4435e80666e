//! The command's output: passed through to hcwrap's own stdout and stderr as it comes,
//! its tail kept in the ring buffer for the final ping.
//!
//! Both pipes are read by the one loop that supervises the command (see
//! [`child`](crate::child)), so the ring gets the output in the order hcwrap read it,
//! without locks. A chunk is read straight into the ring and echoed from there: one read
//! and one write, no copy, while the reader keeps up.
//!
//! The echo never blocks the loop. hcwrap writes to a descriptor of its own that does
//! not block (see [`Sink`](crate::sink::Sink)); what a slow reader has not taken yet waits in a buffer, and
//! while it waits hcwrap reads no more of that stream, so the command is held back by a
//! slow reader exactly as it would be without hcwrap. The loop meanwhile keeps watching
//! for signals and deadlines, so a stalled reader never holds up `--timeout`.
//!
//! Once the command has exited, what it wrote is all in the pipes: hcwrap reads it at
//! once, whatever the reader does (it is the end of the output, which the final ping
//! needs), and passes it on as the reader takes it. Output that something the command
//! left in the background writes after that is read for at most [`DRAIN_AFTER_EXIT`].

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use super::scan::{Match, Scanner};
use crate::ring::Ring;
use crate::sink::Sink;
use crate::sys;

/// How long hcwrap keeps reading after the command exited, for output that something the
/// command left running in the background still writes.
pub const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(1);
/// The largest read. Into the ring a read also stops at the ring's end, so with the
/// default 100,000-byte ring reads are up to that long; this bounds them when a server's
/// larger limit grows the ring, and sizes the buffer used when nothing is kept.
const CHUNK: usize = 256 * 1024;
/// The smallest ring read into directly. A smaller one (`--body-limit 200`, or
/// `--no-output` with none at all) would make for tiny reads: output then goes through a
/// buffer of [`CHUNK`] bytes and only its end is copied into the ring.
const MIN_DIRECT: usize = 64 * 1024;
/// The capacity asked for the command's pipes (Linux; 64 KiB by default).
const PIPE_SIZE: i32 = 1024 * 1024;
/// After the command exited, the most output of background processes held for a slow
/// reader, per stream (on top of what the command itself wrote).
const MAX_PENDING: usize = 1024 * 1024;

/// What is echoed where.
#[derive(Debug, Clone, Copy)]
pub struct Echo {
    /// Pass the command's stdout to hcwrap's stdout.
    pub stdout: bool,
    /// Pass the command's stderr to hcwrap's stderr.
    pub stderr: bool,
}

/// The captured output once reading has ended.
#[derive(Debug)]
pub struct Capture {
    /// The tail of the output.
    pub ring: Ring,
    /// Something still held the output open when hcwrap stopped reading.
    pub still_open: bool,
    /// How many bytes were read from stdout and from stderr.
    pub printed: [u64; 2],
    /// The first line that matched `--fail-on`, if one did.
    pub matched: Option<Match>,
}

/// One of the command's output streams.
#[derive(Debug)]
struct Stream {
    /// The pipe's read end, until it is closed (end of file, or no longer read).
    pipe: Option<File>,
    sink: Option<Sink>,
    /// Once the command exited: how much of what it wrote is still to be read.
    owed: Option<usize>,
}

/// The command's two output streams, read and echoed.
#[derive(Debug)]
pub struct Pump {
    streams: [Stream; 2],
    /// For output read while the ring is small or keeps nothing; see [`MIN_DIRECT`].
    scratch: Vec<u8>,
    /// Set once the command exited: reading after it is bounded.
    drain_until: Option<Instant>,
    still_open: bool,
    /// When output was last read, and whether the two last pieces came close together.
    last_read: Option<Instant>,
    flowing: bool,
    printed: [u64; 2],
    /// `--fail-on`'s search, if it was given.
    scanner: Option<Scanner>,
}

/// Two pieces of output this close together mean output is flowing; see [`Pump::flowing`].
const FLOWING: Duration = Duration::from_micros(100);

/// Which descriptors a round of the loop waits on, in the order [`Pump::poll_set`] lists
/// them: for each stream, its pipe (readable) and its sink (writable).
pub const POLL_SLOTS: usize = 4;

impl Pump {
    /// Takes the command's pipes; echoes as `echo` says, and searches as `scanner` does.
    pub fn new(stdout: OwnedFd, stderr: OwnedFd, echo: Echo, scanner: Option<Scanner>) -> Self {
        let stream = |pipe: OwnedFd, echo: bool, to: BorrowedFd<'_>| {
            // Larger pipes mean fewer, larger reads and fewer switches between the
            // command and hcwrap.
            sys::grow_pipe(pipe.as_raw_fd(), PIPE_SIZE);
            // The read end is hcwrap's alone: making it non-blocking changes nothing for
            // the command, and a read after the exit can never hang.
            let _ = sys::set_nonblocking(pipe.as_raw_fd());
            Stream {
                pipe: Some(File::from(pipe)),
                sink: if echo { Sink::new(to) } else { None },
                owed: None,
            }
        };
        Pump {
            streams: [
                stream(stdout, echo.stdout, io::stdout().as_fd()),
                stream(stderr, echo.stderr, io::stderr().as_fd()),
            ],
            scratch: Vec::new(),
            drain_until: None,
            still_open: false,
            last_read: None,
            flowing: false,
            printed: [0; 2],
            scanner,
        }
    }

    /// Whether output is flowing: the last two pieces came less than [`FLOWING`] apart.
    ///
    /// A command that writes small pieces (4 or 8 KiB, a stdio buffer) as fast as hcwrap
    /// reads them leaves the pipe empty after every read. Sleeping in poll then means the
    /// command has to wake hcwrap for every piece, and waking a sleeping CPU is slow (an
    /// interrupt to it; under a hypervisor, a trip through the hypervisor too), a cost the
    /// command pays in its write. While output flows, the loop checks a little longer
    /// without sleeping (see the child module): 1 GiB from `head -c` gets through about
    /// 20 to 40 % faster for the same CPU time. A command that prints a line now and then,
    /// even a thousand a second, costs nothing more.
    pub fn flowing(&self) -> bool {
        self.flowing
    }

    /// Whether reading has ended: both pipes closed.
    pub fn done(&self) -> bool {
        self.streams.iter().all(|s| s.pipe.is_none())
    }

    /// The command has exited: what it wrote is all in the pipes now. It is read whatever
    /// the reader does; anything after it only until [`DRAIN_AFTER_EXIT`] from now.
    pub fn command_exited(&mut self, now: Instant) {
        for stream in &mut self.streams {
            if let Some(pipe) = &stream.pipe {
                stream.owed = Some(sys::unread(pipe.as_raw_fd()));
            }
        }
        self.drain_until = Some(now + DRAIN_AFTER_EXIT);
    }

    /// When the loop must wake up for the drain bound, if it has one.
    pub fn deadline(&self) -> Option<Instant> {
        self.drain_until.filter(|_| !self.done())
    }

    /// What to poll a stream's pipe for: `POLLIN` when it may be read, 0 (a hang-up
    /// only) when the command has exited and what was read after it waits for the reader.
    fn pipe_events(stream: &Stream) -> Option<libc::c_short> {
        stream.pipe.as_ref()?;
        let pending = stream.sink.as_ref().map_or(0, Sink::pending_len);
        match stream.owed {
            // While the command runs, a stream waits for its reader.
            None => (pending == 0).then_some(libc::POLLIN),
            Some(owed) if owed > 0 || pending < MAX_PENDING => Some(libc::POLLIN),
            // Enough waits for the reader: only learn whether the writers are all gone.
            Some(_) => Some(0),
        }
    }

    /// Fills `fds` with what to wait for: each stream's pipe when it may be read, its sink
    /// when output waits for the reader.
    pub fn poll_set(&self, fds: &mut [libc::pollfd]) {
        for (i, stream) in self.streams.iter().enumerate() {
            if let (Some(events), Some(pipe)) = (Self::pipe_events(stream), &stream.pipe) {
                fds[2 * i].fd = pipe.as_raw_fd();
                fds[2 * i].events = events;
            }
            if let Some(sink) = &stream.sink
                && sink.has_pending()
            {
                fds[2 * i + 1].fd = sink.raw();
                fds[2 * i + 1].events = libc::POLLOUT;
            }
        }
    }

    /// Does what `fds` (as filled by [`poll_set`](Self::poll_set), after poll) says can be
    /// done: reads into `ring` and echoes, writes what waits. Applies the drain bound.
    pub fn service(&mut self, fds: &[libc::pollfd], ring: &mut Ring, now: Instant) {
        for i in 0..2 {
            if fds[2 * i + 1].revents != 0
                && let Some(sink) = &mut self.streams[i].sink
                && sink.flush_some().is_err()
            {
                self.streams[i].sink = None;
            }
            let revents = fds[2 * i].revents;
            if fds[2 * i].events == 0 && revents != 0 {
                // Hung up while what was read waits for the reader: every writer is gone,
                // and what they wrote last is not the command's.
                self.streams[i].pipe = None;
            } else if revents != 0 {
                self.read(i, ring);
            }
        }
        if let Some(until) = self.drain_until
            && now >= until
        {
            for stream in &mut self.streams {
                if stream.pipe.is_some() && stream.owed == Some(0) {
                    // Whatever comes now is not the command's: stop reading.
                    stream.pipe = None;
                    self.still_open = true;
                }
            }
        }
    }

    fn read(&mut self, i: usize, ring: &mut Ring) {
        let direct = ring.capacity() >= MIN_DIRECT;
        let stream = &mut self.streams[i];
        let Some(pipe) = stream.pipe.as_mut() else {
            return;
        };
        let buf = if direct {
            ring.spare(CHUNK)
        } else {
            if self.scratch.is_empty() {
                self.scratch = vec![0; CHUNK];
            }
            &mut self.scratch[..]
        };
        match pipe.read(buf) {
            Ok(0) => stream.pipe = None,
            Ok(n) => {
                if let Some(sink) = stream.sink.as_mut()
                    && sink.offer(&buf[..n]).is_err()
                {
                    stream.sink = None;
                }
                if let Some(owed) = stream.owed.as_mut() {
                    *owed = owed.saturating_sub(n);
                }
                self.printed[i] += n as u64;
                if let Some(scanner) = self.scanner.as_mut() {
                    scanner.feed(i, &buf[..n]);
                }
                let now = Instant::now();
                self.flowing = self
                    .last_read
                    .is_some_and(|at| now.duration_since(at) < FLOWING);
                self.last_read = Some(now);
                if direct {
                    ring.commit(n);
                } else {
                    ring.write(&self.scratch[..n]);
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
                ) => {}
            Err(_) => stream.pipe = None,
        }
    }

    /// Reading has ended: the capture, and what the readers have not taken yet.
    pub fn finish(self, ring: Ring) -> (Capture, Unsent) {
        let [out, err] = self.streams;
        (
            Capture {
                ring,
                still_open: self.still_open,
                printed: self.printed,
                matched: self.scanner.and_then(Scanner::finish),
            },
            Unsent {
                sinks: [out.sink, err.sink],
            },
        )
    }
}

/// Output read from the command that its readers have not taken yet.
#[derive(Debug)]
pub struct Unsent {
    sinks: [Option<Sink>; 2],
}

impl Unsent {
    /// Nothing: for waiting on hcwrap's own messages alone (see [`pass_on`](super::pass_on)).
    pub fn none() -> Self {
        Unsent {
            sinks: [None, None],
        }
    }

    /// Whether anything still waits for a reader.
    pub fn is_empty(&self) -> bool {
        self.sinks.iter().flatten().all(|s| !s.has_pending())
    }

    /// Fills `fds` (two slots) with the sinks that wait to be written.
    pub fn poll_set(&self, fds: &mut [libc::pollfd]) {
        for (fd, sink) in fds.iter_mut().zip(&self.sinks) {
            if let Some(sink) = sink
                && sink.has_pending()
            {
                fd.fd = sink.raw();
                fd.events = libc::POLLOUT;
            }
        }
    }

    /// Writes what the readers take at once, without waiting for them.
    pub fn flush_now(&mut self) {
        for sink in self.sinks.iter_mut().flatten() {
            // Without polling first, a sink that could block (a pipe without /proc) would
            // wait for the reader: what the signal asked hcwrap not to do.
            let _ = sink.flush_ready();
        }
    }

    /// Writes what the readers take now, after poll said which can be written.
    pub fn service(&mut self, fds: &[libc::pollfd]) {
        for (fd, sink) in fds.iter().zip(&mut self.sinks) {
            if fd.revents != 0
                && let Some(s) = sink
                && s.flush_some().is_err()
            {
                *sink = None;
            }
        }
    }
}
