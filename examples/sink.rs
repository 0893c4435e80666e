//! A loopback ping sink for the benchmark (`benches/bench.py`): answers every request at
//! once with `200 OK`, keep-alive, `TCP_NODELAY`; or, with `hang`, accepts connections and
//! never answers. Prints its port on stdout, then serves until killed.
//!
//!     cargo run --release --example sink [ok|hang]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

fn main() -> std::io::Result<()> {
    let hang = std::env::args().nth(1).is_some_and(|mode| mode == "hang");
    let listener = TcpListener::bind("127.0.0.1:0")?;
    println!("{}", listener.local_addr()?.port());
    std::io::stdout().flush()?;
    let mut held = Vec::new();
    for stream in listener.incoming() {
        let stream = stream?;
        if hang {
            // Keep the connection open, unanswered.
            held.push(stream);
            continue;
        }
        std::thread::spawn(move || {
            let _ = serve(stream);
        });
    }
    drop(held);
    std::thread::sleep(Duration::MAX);
    Ok(())
}

fn serve(stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut line = String::new();
    loop {
        let mut length = 0;
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
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
        writer.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nPing-Body-Limit: 100000\r\n\r\nOK",
        )?;
    }
}
