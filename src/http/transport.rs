//! The TCP connection under every request: ureq's own, but one that acknowledges an
//! answer's segments at once.
//!
//! Many small servers (Python's http.server, a reverse proxy without `TCP_NODELAY`) send
//! an answer's head and body in two segments. Nagle's algorithm then holds the body until
//! the head is acknowledged, and on a connection already used once Linux delays that
//! acknowledgement by up to 40 ms: reusing the start ping's connection for the final ping
//! cost 40 ms per run (BENCHMARKS.md). So, before each read, the socket is put in quick-ack
//! mode (`TCP_QUICKACK`, Linux; the mode does not last, hence before every read).
//! Everything else is ureq's: the connector chain is ureq's default one (CONNECT proxies,
//! rustls) with this connector in place of its TCP one.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use ureq::Error;
use ureq::unversioned::transport::{
    Buffers, ConnectProxyConnector, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout,
    RustlsConnector, Transport,
};

/// The connector chain: a CONNECT proxy if configured, this module's TCP, then TLS.
pub fn connector() -> impl Connector<(), Out = impl Transport> {
    ().chain(ConnectProxyConnector::default())
        .chain(QuickAckConnector)
        .chain(RustlsConnector::default())
}

/// Opens the TCP connection (unless a connector before it in the chain already did).
#[derive(Debug, Default)]
pub struct QuickAckConnector;

impl<In: Transport> Connector<In> for QuickAckConnector {
    type Out = Either<In, QuickAckTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, Error> {
        if let Some(chained) = chained {
            return Ok(Some(Either::A(chained)));
        }
        let stream = connect(&details.addrs, details.timeout)?;
        if details.config.no_delay() {
            stream.set_nodelay(true)?;
        }
        let config = details.config;
        Ok(Some(Either::B(QuickAckTransport {
            stream,
            buffers: LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size()),
        })))
    }
}

/// Tries each address in turn within what is left of the time limit.
fn connect(addrs: &[SocketAddr], timeout: NextTimeout) -> Result<TcpStream, Error> {
    let deadline = timeout.not_zero().map(|t| Instant::now() + *t);
    let mut last = None;
    for addr in addrs {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left.is_some_and(|l| l.is_zero()) {
            return Err(Error::Timeout(timeout.reason));
        }
        let attempt = match left {
            Some(left) => TcpStream::connect_timeout(addr, left),
            None => TcpStream::connect(addr),
        };
        match attempt {
            Ok(stream) => return Ok(stream),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                last = Some(Error::Timeout(timeout.reason));
            }
            Err(e) => last = Some(Error::Io(e)),
        }
    }
    Err(last.unwrap_or(Error::ConnectionFailed))
}

/// A TCP connection that acknowledges at once what it reads.
#[derive(Debug)]
pub struct QuickAckTransport {
    stream: TcpStream,
    buffers: LazyBuffers,
}

impl Transport for QuickAckTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), Error> {
        let timeout = timeout.for_write();
        self.stream
            .set_write_timeout(timeout.not_zero().map(|t| *t))?;
        let output = &self.buffers.output()[..amount];
        self.stream
            .write_all(output)
            .map_err(|e| io_error(e, timeout))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        let timeout = timeout.for_read();
        self.stream
            .set_read_timeout(timeout.not_zero().map(|t| *t))?;
        quick_ack(&self.stream);
        let input = self.buffers.input_append_buf();
        let amount = loop {
            match self.stream.read(input) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => break other.map_err(|e| io_error(e, timeout))?,
            }
        };
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        // Open if nothing is waiting to be read and the peer has not closed: a byte the
        // server sent unasked, or an end of file, means the connection cannot be reused.
        if self.stream.set_nonblocking(true).is_err() {
            return false;
        }
        let open = matches!(
            self.stream.peek(&mut [0u8]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock
        );
        self.stream.set_nonblocking(false).is_ok() && open
    }
}

/// A read or write error as ureq reports it: a timeout as the timeout it was.
fn io_error(e: io::Error, timeout: NextTimeout) -> Error {
    if matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    ) {
        Error::Timeout(timeout.reason)
    } else {
        Error::Io(e)
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn quick_ack(stream: &TcpStream) {
    crate::sys::quick_ack(std::os::fd::AsRawFd::as_raw_fd(stream));
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn quick_ack(_stream: &TcpStream) {}
