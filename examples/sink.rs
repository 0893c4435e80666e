//! A loopback ping sink for the benchmark and the soak (`benches/`): answers every request
//! at once with `200 OK`, keep-alive, `TCP_NODELAY`; with `hang`, accepts connections and
//! never answers; with `flaky`, answers every third request with 500 and logs each answer
//! (`<status> <path>`) on stdout; with `split`, answers as many small servers do (Python's
//! http.server, for one): without `TCP_NODELAY`, the head and the body in two writes.
//! Prints its port on stdout first, then serves until killed.
//!
//!     cargo run --release --example sink [ok|hang|flaky|split]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

fn main() -> std::io::Result<()> {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let hang = mode == "hang";
    let flaky = mode == "flaky";
    let split = mode == "split";
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let listener = TcpListener::bind("127.0.0.1:0")?;
    println!("{}", listener.local_addr()?.port());
    std::io::stdout().flush()?;
    if hang {
        // Keep every connection open, unanswered.
        let held: Vec<TcpStream> = listener.incoming().collect::<Result<_, _>>()?;
        drop(held);
        std::thread::sleep(Duration::MAX);
        return Ok(());
    }
    // Workers started up front, each blocking in accept() and serving its connection to
    // the end: no thread start-up and no hand-over between threads per connection, so the
    // sink's own work on a small machine stays out of what the benchmark charges to
    // hcwrap. Each hcwrap run holds one connection; more workers than runs at a time.
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (listener, count) = (listener.try_clone()?, std::sync::Arc::clone(&count));
            Ok(std::thread::spawn(move || {
                loop {
                    if let Ok((stream, _)) = listener.accept() {
                        let _ = serve(stream, flaky.then_some(&*count), split);
                    }
                }
            }))
        })
        .collect::<std::io::Result<_>>()?;
    for worker in workers {
        let _ = worker.join();
    }
    Ok(())
}

/// Connections served at the same time (the soak runs four hcwrap at a time).
const WORKERS: usize = 32;

fn serve(
    stream: TcpStream,
    flaky: Option<&std::sync::atomic::AtomicUsize>,
    split: bool,
) -> std::io::Result<()> {
    stream.set_nodelay(!split)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut line = String::new();
    loop {
        let mut length = 0;
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let target = line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        std::io::copy(&mut (&mut reader).take(length), &mut std::io::sink())?;
        if split {
            writer.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")?;
            writer.write_all(b"OK")?;
            continue;
        }
        let Some(count) = flaky else {
            writer.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nPing-Body-Limit: 100000\r\n\r\nOK",
            )?;
            continue;
        };
        let fail = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) % 3 == 2;
        if fail {
            writer.write_all(
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\ndown",
            )?;
        } else {
            writer.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")?;
        }
        let mut out = std::io::stdout().lock();
        writeln!(out, "{} {target}", if fail { 500 } else { 200 })?;
        out.flush()?;
    }
}
