//! hcwrap's own messages: one line each on stderr, starting `hcwrap:`.
//!
//! They never wait for stderr's reader: a reader that stalls (a full pipe whose reader
//! sleeps, a terminal stopped with Ctrl-S) must hold up neither the run's deadlines and
//! signals nor the final ping. A line is written as far as the reader takes it now,
//! through a [`Sink`] of its own on stderr; the rest waits, in order, and goes out with
//! the next line (so a message may come before output of the command's that also waits
//! for the reader, as the command's stdout and stderr may pass each other in one pipe),
//! while hcwrap waits for the readers after a run ([`fd_to_poll`] and
//! [`write_waiting`]), or within [`finish`]'s bound at exit. Errors are ignored on
//! purpose: a closed or broken stderr must never stop the run or the final ping
//! (`eprintln!` would panic).

use std::os::fd::{AsFd, RawFd};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::sink::Sink;

/// Where hcwrap's messages go, and those stderr's reader has not taken yet.
enum Stderr {
    /// Before the first message.
    Unopened,
    /// Closed, or its reader has gone: nothing more is written.
    Closed,
    /// Open; how many messages were left out since the reader last took some.
    Open(Sink, u64),
}

static NOTICES: Mutex<Stderr> = Mutex::new(Stderr::Unopened);
/// The most that waits for the reader before messages are left out: more than a dry run
/// prints for the largest body hcwrap sends ([`MAX_BODY_LIMIT`](crate::ping::MAX_BODY_LIMIT),
/// shown with a prefix per line), so only a reader stalled for good loses any, and then
/// a last line says how many.
const MAX_WAITING: usize = 4 * 1024 * 1024;

fn notices() -> MutexGuard<'static, Stderr> {
    NOTICES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Prints `hcwrap: <text>` as one line on stderr, or as much as its reader takes now.
pub fn say(text: &str) {
    let line = format!("hcwrap: {text}\n");
    let mut stderr = notices();
    if matches!(*stderr, Stderr::Unopened) {
        *stderr =
            Sink::new(std::io::stderr().as_fd()).map_or(Stderr::Closed, |s| Stderr::Open(s, 0));
    }
    let Stderr::Open(sink, left_out) = &mut *stderr else {
        return;
    };
    // What waits goes first, then this line; either may wait for the reader.
    let mut written = sink.flush_ready();
    if sink.pending_len() >= MAX_WAITING {
        *left_out += 1;
    } else {
        if *left_out > 0 {
            let note = format!(
                "hcwrap: ({left_out} of hcwrap's lines left out here: stderr's reader took \
                 none for too long)\n"
            );
            written = written.and_then(|()| sink.offer(note.as_bytes()));
            *left_out = 0;
        }
        written = written
            .and_then(|()| sink.offer(line.as_bytes()))
            .and_then(|()| sink.flush_ready());
    }
    if written.is_err() {
        *stderr = Stderr::Closed;
    }
}

/// The descriptor to poll for writing while messages wait for stderr's reader.
pub fn fd_to_poll() -> Option<RawFd> {
    match &*notices() {
        Stderr::Open(sink, _) if sink.has_pending() => Some(sink.raw()),
        _ => None,
    }
}

/// Writes what the reader takes of the waiting messages now (after a poll said stderr can
/// be written).
pub fn write_waiting() {
    let mut stderr = notices();
    if let Stderr::Open(sink, _) = &mut *stderr
        && sink.flush_some().is_err()
    {
        *stderr = Stderr::Closed;
    }
}

/// At exit: lets the reader take the waiting messages, for at most `patience`.
pub fn finish(patience: Duration) {
    let until = Instant::now() + patience;
    while let Some(fd) = fd_to_poll() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        let mut fds = [libc::pollfd {
            fd,
            events: libc::POLLOUT,
            revents: 0,
        }];
        if crate::sys::poll(&mut fds, Some(left)).is_err() {
            return;
        }
        if fds[0].revents != 0 {
            write_waiting();
        }
    }
}

/// Text that came from outside (a server's answer, a file name) as it can be shown in a
/// message: control characters, which could move the cursor, recolour or clear a
/// terminal, or split the line, are shown escaped (`\n`, `\u{1b}`), and so are the
/// characters that reorder or break a line without showing (bidirectional overrides and
/// isolates, the line and paragraph separators).
pub fn printable(text: &str) -> String {
    text.chars()
        .fold(String::with_capacity(text.len()), |mut out, c| {
            if c.is_control() || is_invisible_layout(c) {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
            out
        })
}

/// U+061C and U+200E/F (direction marks), U+202A to U+202E and U+2066 to U+2069
/// (overrides, isolates), U+2028 and U+2029 (line and paragraph separators), U+200B to
/// U+200D, U+180E and U+FEFF (zero-width characters), U+FFF9 to U+FFFB (interlinear
/// annotation) and the tag characters U+E0000 to U+E007F.
fn is_invisible_layout(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{180e}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{e0000}'..='\u{e007f}'
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn bidirectional_overrides_and_separators_are_escaped() {
        assert_eq!(
            super::printable("a\u{202e}b\u{2028}c\u{2066}d\u{61c}e\u{feff}"),
            "a\\u{202e}b\\u{2028}c\\u{2066}d\\u{61c}e\\u{feff}"
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            super::printable("OK\u{1b}[2J\r\nnext\u{9b}1m café"),
            "OK\\u{1b}[2J\\r\\nnext\\u{9b}1m café"
        );
    }
}
