//! Writing to hcwrap's stdout and stderr without ever waiting for their reader.
//!
//! They are shared: a pipe the shell made, a terminal, a file. A slow or stalled reader
//! must hold up neither the run (its deadlines, its signals) nor the final ping, so every
//! write hcwrap makes to them, the command's output it passes on and its own notices,
//! goes through a [`Sink`], which takes what the reader takes now and keeps the rest.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};

use crate::sys::{self, FileKind};

/// The most written at once to a descriptor that may block (where no non-blocking one
/// could be had: macOS, FreeBSD, a Linux without /proc): a pipe that polls writable takes
/// `PIPE_BUF` bytes without blocking (POSIX; Linux 4096, macOS and FreeBSD 512, where a
/// pipe polls writable once that much is free).
const SAFE_WRITE: usize = libc::PIPE_BUF;

/// Where output goes: a descriptor of hcwrap's own on its stdout or stderr, written
/// without blocking, and what the reader has not taken yet.
#[derive(Debug)]
pub struct Sink {
    fd: OwnedFd,
    socket: bool,
    /// The most one write may carry (see [`SAFE_WRITE`]).
    max_write: usize,
    /// Poll for writability before writing (a descriptor that could block).
    wait_first: bool,
    pending: Vec<u8>,
    at: usize,
}

impl Sink {
    /// A sink on `to` (hcwrap's stdout or stderr), or `None` when it is closed.
    ///
    /// A regular file never makes a writer wait: it is written as it is. A socket is
    /// written with `MSG_DONTWAIT`. A pipe or terminal is opened again, as a new open file
    /// of hcwrap's own, and made non-blocking: setting `O_NONBLOCK` on the inherited one
    /// would change it for every process sharing it (the shell, the reader's siblings).
    /// An inherited descriptor that is already non-blocking is used as it is. Where none
    /// of that works, writes wait for the descriptor to poll writable and carry at most
    /// [`SAFE_WRITE`] bytes.
    pub fn new(to: BorrowedFd<'_>) -> Option<Sink> {
        let kind = sys::file_kind(to.as_raw_fd()).ok()?;
        let (fd, socket, safe) = match kind {
            FileKind::File => (to.try_clone_to_owned().ok()?, false, true),
            FileKind::Socket => (to.try_clone_to_owned().ok()?, true, true),
            FileKind::Other if sys::is_nonblocking(to.as_raw_fd()) => {
                (to.try_clone_to_owned().ok()?, false, true)
            }
            FileKind::Other => match sys::reopen_nonblocking(to.as_raw_fd()) {
                Some(fd) => (fd, false, true),
                None => (to.try_clone_to_owned().ok()?, false, false),
            },
        };
        Some(Sink {
            fd,
            socket,
            max_write: if safe { usize::MAX } else { SAFE_WRITE },
            wait_first: !safe,
            pending: Vec::new(),
            at: 0,
        })
    }

    pub fn has_pending(&self) -> bool {
        self.at < self.pending.len()
    }

    pub fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Writes what the reader takes of `data` now; keeps the rest for later. Err when the
    /// reader has gone (the echo then stops; the capture goes on).
    pub fn offer(&mut self, data: &[u8]) -> io::Result<()> {
        if self.has_pending() || self.wait_first {
            self.pending.extend_from_slice(data);
            return Ok(());
        }
        // Nothing is pending (flush_some empties the buffer once it is all written).
        let written = self.write_some(data)?;
        self.pending.extend_from_slice(&data[written..]);
        Ok(())
    }

    /// Writes more of what is pending, once the descriptor polls writable.
    pub fn flush_some(&mut self) -> io::Result<()> {
        while self.has_pending() {
            let written = self.write_some(&self.pending[self.at..])?;
            if written == 0 {
                break;
            }
            self.at += written;
            if self.wait_first {
                // One safe write per time the descriptor polls writable.
                break;
            }
        }
        if !self.has_pending() {
            self.pending.clear();
            self.at = 0;
        }
        Ok(())
    }

    /// How many bytes wait for the reader.
    pub fn pending_len(&self) -> usize {
        self.pending.len() - self.at
    }

    /// Writes what the reader takes at once: after checking, without waiting, that the
    /// descriptor polls writable where a write could block.
    pub fn flush_ready(&mut self) -> io::Result<()> {
        if self.wait_first {
            let mut fd = [libc::pollfd {
                fd: self.raw(),
                events: libc::POLLOUT,
                revents: 0,
            }];
            if sys::poll(&mut fd, Some(std::time::Duration::ZERO))? == 0 {
                return Ok(());
            }
        }
        self.flush_some()
    }

    /// One or more writes of `data`, until it is all written or the descriptor would
    /// block; returns how much was written.
    fn write_some(&self, data: &[u8]) -> io::Result<usize> {
        let mut done = 0;
        while done < data.len() {
            let end = data.len().min(done.saturating_add(self.max_write));
            match sys::write_now(self.raw(), &data[done..end], self.socket) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
            if self.wait_first {
                break;
            }
        }
        Ok(done)
    }
}
