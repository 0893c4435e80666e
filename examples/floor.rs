//! The physical floor of a wrapped run, for the benchmark (`benches/bench.py`): the least
//! any wrapper must do, with nothing else. One loopback connection; POST /start; spawn the
//! command and wait for it; POST the final ping on the same connection. Standard library
//! only, no threads, no parsing beyond Content-Length. What hcwrap adds on top of this is
//! what its features cost.
//!
//!     cargo build --release --example floor
//!     target/release/examples/floor http://127.0.0.1:PORT/ping/UUID -- true

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (url, command) = match args.split_first() {
        Some((url, rest)) if rest.first().is_some_and(|a| a == "--") && rest.len() > 1 => {
            (url.clone(), rest[1..].to_vec())
        }
        _ => {
            eprintln!("usage: floor http://HOST:PORT/PATH -- COMMAND [ARGS]...");
            std::process::exit(2);
        }
    };
    let rest = url.strip_prefix("http://").unwrap_or(&url);
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let stream = TcpStream::connect(host).expect("connect to the sink");
    stream.set_nodelay(true).expect("TCP_NODELAY");
    let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
    let mut writer = stream;
    post(&mut writer, &mut reader, host, &format!("{path}/start"));
    let status = Command::new(&command[0])
        .args(&command[1..])
        .status()
        .expect("run the command");
    let suffix = match status.code() {
        Some(0) => String::new(),
        Some(code) => format!("/{code}"),
        None => "/fail".to_owned(),
    };
    post(&mut writer, &mut reader, host, &format!("{path}{suffix}"));
    std::process::exit(status.code().unwrap_or(1));
}

/// One POST with an empty body and its answer, read to its end.
fn post(writer: &mut TcpStream, reader: &mut BufReader<TcpStream>, host: &str, path: &str) {
    let request = format!("POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n");
    writer.write_all(request.as_bytes()).expect("send");
    let mut length = 0;
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("read the answer");
        if line.trim_end().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("read the body");
}
