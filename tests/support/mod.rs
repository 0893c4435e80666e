//! Test support: a loopback Healthchecks ping server that behaves as
//! `../shared/healthchecks-ping-api.md` describes and records what it received, and a way
//! to run the built hcwrap in a clean environment.

#![allow(dead_code)] // Each test binary uses a different part of this module.

pub mod api;
pub mod pty;
pub mod runner;
pub mod tls;

use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

pub const UUID: &str = "1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b";
pub const PING_KEY: &str = "Abcdefghijklmnopqrstuv";
pub const SLUG: &str = "nightly-backup";
/// How long a test waits for an event before it fails. Generous: it bounds a hang, it
/// does not time anything.
pub const PATIENCE: Duration = Duration::from_secs(30);
/// The most a request body may hold (2.5 MiB), as on the real server.
const MAX_CONTENT_LENGTH: usize = 2_621_440;

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Which TCP connection carried it (0, 1, ...).
    pub connection: usize,
    /// The `host:port` of the proxy tunnel (CONNECT) it came through, if any.
    pub tunnel: Option<String>,
    pub at: Instant,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `rid=` query parameter.
    pub fn rid(&self) -> Option<&str> {
        self.query.split('&').find_map(|p| p.strip_prefix("rid="))
    }

    /// The body, without the line of resources a failed run's body ends with (its
    /// numbers differ from run to run; `tests/judge.rs` checks it).
    pub fn body_text(&self) -> String {
        let text = self.full_body();
        let end = "the processes it waited for)\n";
        match (text.rfind("[hcwrap] ran "), text.rfind(end)) {
            (Some(at), Some(to)) if to > at => {
                format!("{}{}", &text[..at], &text[to + end.len()..])
            }
            _ => text,
        }
    }

    /// The body as sent.
    pub fn full_body(&self) -> String {
        String::from_utf8(self.body.clone()).expect("the body is valid UTF-8")
    }

    /// The path after the check's own part: "" for success, "/start", "/3", ...
    pub fn suffix(&self) -> String {
        let path = self.path.strip_prefix("/ping/").unwrap_or(&self.path);
        let segments: Vec<&str> = path.split('/').collect();
        let skip = if segments[0] == UUID { 1 } else { 2 };
        segments.iter().skip(skip).flat_map(|s| ["/", s]).collect()
    }
}

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// As the real server would (see the module documentation).
    Normal,
    /// This status and body, with extra headers.
    Status(u16, &'static str, Vec<(&'static str, String)>),
    /// Never answer (the connection stays open until the server is dropped).
    Hang,
    /// Answer 200 OK one byte at a time, a millisecond apart.
    Trickle,
    /// Start an answer, then reset the connection (RST) in the middle of it.
    ResetMidAnswer,
    /// The other reply, after this long (a slow server).
    Late(Duration, Box<Reply>),
    /// 200 with this body and no Content-Length, the connection left open: the answer
    /// would end only when the server closes.
    Unframed(&'static str),
    /// 200 announcing a 100-byte body, then only "OK", the connection left open.
    CutShort,
}

#[derive(Default)]
struct State {
    requests: Vec<Request>,
    script: VecDeque<Reply>,
    created: HashSet<String>,
    /// The checks the management API keeps.
    checks: api::Checks,
    /// How many answers have been written.
    answered: usize,
}

/// A loopback ping server on a port of its own.
pub struct Server {
    pub port: u16,
    /// `http://127.0.0.1:<port>`, or `https://localhost:<port>`.
    origin: String,
    state: Arc<(Mutex<State>, Condvar)>,
    body_limit: Option<usize>,
    stop: Arc<AtomicBool>,
    /// Connections left unanswered, kept open until the server is dropped.
    hung: Arc<Mutex<Vec<Box<dyn Send>>>>,
}

impl Server {
    /// A server that knows check `UUID` and slug `SLUG` under `PING_KEY`, with no
    /// Ping-Body-Limit header.
    pub fn start() -> Server {
        Self::with_limit(None)
    }

    /// Like [`Server::start`], answering with `Ping-Body-Limit: limit`.
    pub fn with_limit(body_limit: Option<usize>) -> Server {
        Self::launch(body_limit, None)
    }

    /// A server that speaks HTTPS only, with the certificate in `tls` (for `localhost`).
    pub fn with_tls(tls: Arc<rustls::ServerConfig>) -> Server {
        Self::launch(None, Some(tls))
    }

    fn launch(body_limit: Option<usize>, tls: Option<Arc<rustls::ServerConfig>>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        let server = Server {
            port,
            origin: match tls {
                Some(_) => format!("https://localhost:{port}"),
                None => format!("http://127.0.0.1:{port}"),
            },
            state: Arc::default(),
            body_limit,
            stop: Arc::default(),
            hung: Arc::default(),
        };
        let (state, stop, hung) = (
            server.state.clone(),
            server.stop.clone(),
            server.hung.clone(),
        );
        let connections = Arc::new(AtomicUsize::new(0));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let id = connections.fetch_add(1, Ordering::SeqCst);
                let (state, hung) = (state.clone(), hung.clone());
                let tls = tls.clone();
                std::thread::spawn(move || match tls {
                    Some(config) => {
                        let Ok(conn) = rustls::ServerConnection::new(config) else {
                            return;
                        };
                        let stream = rustls::StreamOwned::new(conn, stream);
                        serve(stream, id, &state, body_limit, &hung);
                    }
                    None => serve(stream, id, &state, body_limit, &hung),
                });
            }
        });
        server
    }

    /// Answers the next requests as `replies` say, then normally again.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.0.lock().unwrap().script.extend(replies);
    }

    /// The base URL for `--api-url`.
    pub fn api_url(&self) -> String {
        format!("{}/ping", self.origin)
    }

    /// The site, for `--site-url`: where the management API is (`/api/v3/`).
    pub fn site_url(&self) -> String {
        self.origin.clone()
    }

    /// The checks the management API keeps now.
    pub fn checks(&self) -> Vec<serde_json::Map<String, serde_json::Value>> {
        self.state.0.lock().unwrap().checks.list.clone()
    }

    /// Changes the checks the management API keeps (to delete one, or fill the project).
    pub fn edit_checks(&self, edit: impl FnOnce(&mut api::Checks)) {
        edit(&mut self.state.0.lock().unwrap().checks);
    }

    /// The check's full ping URL, for `--url`.
    pub fn check_url(&self) -> String {
        format!("{}/{UUID}", self.api_url())
    }

    /// Waits until at least `n` requests arrived; returns all of them.
    pub fn wait_for(&self, n: usize) -> Vec<Request> {
        let (lock, cond) = &*self.state;
        let state = lock.lock().unwrap();
        let (state, timeout) = cond
            .wait_timeout_while(state, PATIENCE, |s| s.requests.len() < n)
            .unwrap();
        assert!(
            !timeout.timed_out(),
            "expected {n} requests, got {:#?}",
            state.requests
        );
        state.requests.clone()
    }

    /// Waits until at least `n` answers have been written.
    pub fn wait_answered(&self, n: usize) {
        let (lock, cond) = &*self.state;
        let state = lock.lock().unwrap();
        let (_state, timeout) = cond
            .wait_timeout_while(state, PATIENCE, |s| s.answered < n)
            .unwrap();
        assert!(!timeout.timed_out(), "expected {n} answers");
    }

    /// What arrived so far.
    pub fn requests(&self) -> Vec<Request> {
        self.state.0.lock().unwrap().requests.clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        self.hung.lock().unwrap().clear();
    }
}

/// A connection the server can reset (close with RST rather than FIN).
trait Conn: Read + Write + Send + 'static {
    fn reset(&mut self) {}
}

impl Conn for TcpStream {
    fn reset(&mut self) {
        use std::os::fd::AsRawFd;
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: setsockopt reads `linger`, a valid struct of the size given.
        unsafe {
            libc::setsockopt(
                self.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&raw const linger).cast(),
                libc::socklen_t::try_from(std::mem::size_of::<libc::linger>()).unwrap_or(8),
            );
        }
    }
}

impl Conn for rustls::StreamOwned<rustls::ServerConnection, TcpStream> {}

fn serve<S: Conn>(
    stream: S,
    id: usize,
    state: &Arc<(Mutex<State>, Condvar)>,
    limit: Option<usize>,
    hung: &Mutex<Vec<Box<dyn Send>>>,
) {
    // One object reads and writes: the server answers one request at a time.
    let mut reader = BufReader::new(stream);
    let mut tunnel = None;
    while let Some((mut request, too_long)) = read_request(&mut reader, id) {
        if request.method == "CONNECT" {
            // Play the proxy too: the tunnel leads back to this server.
            tunnel = Some(request.path.clone());
            if reader
                .get_mut()
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .is_err()
            {
                return;
            }
            continue;
        }
        request.tunnel.clone_from(&tunnel);
        let reply = {
            let (lock, cond) = &**state;
            let mut s = lock.lock().unwrap();
            s.requests.push(request.clone());
            cond.notify_all();
            s.script.pop_front().unwrap_or(Reply::Normal)
        };
        let reply = match reply {
            Reply::Late(delay, reply) => {
                std::thread::sleep(delay);
                *reply
            }
            reply => reply,
        };
        let (status, text, extra) = match reply {
            Reply::Hang => {
                hung.lock().unwrap().push(Box::new(reader));
                return;
            }
            Reply::Trickle => {
                let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK";
                for byte in answer {
                    if reader
                        .get_mut()
                        .write_all(&[*byte])
                        .and_then(|()| reader.get_mut().flush())
                        .is_err()
                    {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                mark_answered(state);
                continue;
            }
            Reply::ResetMidAnswer => {
                let _ = reader.get_mut().write_all(b"HTTP/1.1 200 OK\r\nContent-Le");
                reader.get_mut().reset();
                return;
            }
            Reply::Unframed(_) | Reply::CutShort => {
                let answer = match reply {
                    Reply::Unframed(text) => {
                        format!("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n{text}")
                    }
                    _ => "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nOK".to_owned(),
                };
                let _ = reader.get_mut().write_all(answer.as_bytes());
                mark_answered(state);
                hung.lock().unwrap().push(Box::new(reader));
                return;
            }
            Reply::Late(..) => unreachable!("unwrapped above"),
            Reply::Status(status, text, extra) => (status, text.to_owned(), extra),
            Reply::Normal if too_long => (400, "request body too large".to_owned(), vec![]),
            Reply::Normal => normal(&request, state, limit),
        };
        let content_type = if extra.iter().any(|(n, _)| *n == "Content-Type") {
            ""
        } else {
            "Content-Type: text/plain\r\n"
        };
        let mut answer = format!(
            "HTTP/1.1 {status} X\r\n{content_type}Content-Length: {}\r\n",
            text.len()
        );
        for (n, v) in extra {
            answer.push_str(n);
            answer.push_str(": ");
            answer.push_str(&v);
            answer.push_str("\r\n");
        }
        answer.push_str("\r\n");
        answer.push_str(&text);
        if reader.get_mut().write_all(answer.as_bytes()).is_err() {
            return;
        }
        mark_answered(state);
    }
}

/// The answer the real server would give: the management API's, or a ping's.
fn normal(
    request: &Request,
    state: &Arc<(Mutex<State>, Condvar)>,
    limit: Option<usize>,
) -> (u16, String, Vec<(&'static str, String)>) {
    let mut state = state.0.lock().unwrap();
    if request.path.starts_with("/api/v3/") {
        let ping_base = format!("http://{}/ping", request.header("Host").unwrap_or("-"));
        let (status, text) = api::answer(request, &mut state.checks, &ping_base);
        return (
            status,
            text,
            vec![("Content-Type", "application/json".to_owned())],
        );
    }
    let (status, text) = contract(request, &mut state);
    let extra = match (status, limit) {
        (200 | 201, Some(l)) => vec![("Ping-Body-Limit", l.to_string())],
        _ => vec![],
    };
    (status, text.to_owned(), extra)
}

/// Counts one more answer written, for [`Server::wait_answered`].
fn mark_answered(state: &Arc<(Mutex<State>, Condvar)>) {
    let (lock, cond) = &**state;
    lock.lock().unwrap().answered += 1;
    cond.notify_all();
}

/// Reads one request; also says whether its body was over the server's size limit.
fn read_request(reader: &mut BufReader<impl Read>, connection: usize) -> Option<(Request, bool)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    let mut too_long = false;
    if let Some(len) = get("Content-Length").and_then(|v| v.parse::<usize>().ok()) {
        too_long = len > MAX_CONTENT_LENGTH;
        body.resize(len, 0);
        reader.read_exact(&mut body).ok()?;
    } else if get("Transfer-Encoding").is_some_and(|v| v.contains("chunked")) {
        // Read the chunks, but record the body as empty, as common server set-ups do.
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            if reader.read_exact(&mut chunk).is_err() || size == 0 {
                break;
            }
        }
    }
    // A request through a proxy names the whole URL: keep its path (the Host header
    // still says which server it was for).
    let target = match target.split_once("://") {
        Some((_, rest)) => rest
            .find('/')
            .map_or("/".to_owned(), |i| rest[i..].to_owned()),
        None => target,
    };
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (target.clone(), String::new()),
    };
    Some((
        Request {
            method,
            path,
            query,
            headers,
            body,
            connection,
            tunnel: None,
            at: Instant::now(),
        },
        too_long,
    ))
}

/// The real server's answer to a ping, from the API contract.
fn contract(r: &Request, state: &mut State) -> (u16, &'static str) {
    let State {
        created, checks, ..
    } = state;
    if !matches!(r.method.as_str(), "POST" | "GET" | "HEAD") {
        return (405, "");
    }
    if let Some(rid) = r.query.split('&').find_map(|p| p.strip_prefix("rid="))
        && !is_uuid(rid)
    {
        return (400, "invalid uuid format");
    }
    let create = r.query.split('&').any(|p| p == "create=1");
    let Some(path) = r.path.strip_prefix("/ping/") else {
        return (404, "not found");
    };
    let segments: Vec<&str> = path.split('/').collect();
    let suffix_ok = |s: &str| match s {
        "start" | "fail" | "log" => Ok(()),
        n if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            if n.parse::<u32>().is_ok_and(|n| n <= 255) {
                Ok(())
            } else {
                Err((400, "invalid url format"))
            }
        }
        _ => Err((404, "not found")),
    };
    let slug_ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    };
    match segments.as_slice() {
        [uuid] | [uuid, _] if is_uuid(uuid) => {
            if let [_, suffix] = segments.as_slice()
                && let Err(e) = suffix_ok(suffix)
            {
                return e;
            }
            if *uuid == UUID || checks.knows(uuid) {
                (200, "OK")
            } else {
                (404, "not found")
            }
        }
        [key, slug] | [key, slug, _] => {
            if let [_, _, suffix] = segments.as_slice()
                && let Err(e) = suffix_ok(suffix)
            {
                return e;
            }
            if !slug_ok(slug) {
                return (400, "invalid url format");
            }
            if *key != PING_KEY {
                return (404, "not found");
            }
            if *slug == SLUG || created.contains(*slug) || checks.knows(slug) {
                (200, "OK")
            } else if create {
                created.insert((*slug).to_owned());
                (201, "Created")
            } else {
                (404, "not found")
            }
        }
        _ => (404, "not found"),
    }
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// The built hcwrap in a clean environment: only PATH is kept, so no HC_*, CHECK_*,
/// proxy or HOME settings of the machine leak in.
pub fn hcwrap() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hcwrap"));
    cmd.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    // A state directory of this command's own: a report one test's run keeps must never
    // be delivered by another's (ports are reused), nor land in /var/lib/hcwrap.
    cmd.env("HC_STATE_DIR", fresh_state_dir());
    cmd.stdin(Stdio::null());
    cmd
}

/// Waits until `ready` holds (a file appears, say), checking every few milliseconds; fails
/// the test naming `what` if it does not within [`PATIENCE`].
pub fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let until = std::time::Instant::now() + PATIENCE;
    while !ready() {
        assert!(
            std::time::Instant::now() < until,
            "waited {PATIENCE:?} for {what}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A pipe: its read end, and its write end.
pub fn pipe() -> (std::os::fd::OwnedFd, std::os::fd::OwnedFd) {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: pipe writes two new descriptors into fds.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both are new descriptors owned by nothing else.
    unsafe {
        (
            std::os::fd::OwnedFd::from_raw_fd(fds[0]),
            std::os::fd::OwnedFd::from_raw_fd(fds[1]),
        )
    }
}

/// Waits until at least `bytes` wait unread in the pipe whose read end is `read` (its
/// reader has stalled, and the writer met a full pipe).
pub fn wait_filled(read: &std::os::fd::OwnedFd, bytes: libc::c_int) {
    use std::os::fd::AsRawFd;
    wait_until("the pipe to fill", || {
        let mut unread: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int.
        unsafe { libc::ioctl(read.as_raw_fd(), libc::FIONREAD, &raw mut unread) };
        unread >= bytes
    });
}

/// A state directory no other command uses (made by hcwrap when it needs it).
pub fn fresh_state_dir() -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("hcwrap-test-{}-state-{n}", std::process::id()))
}

/// Sends `signal` to the running `child`.
pub fn signal(child: &std::process::Child, signal: i32) {
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill has no memory-safety preconditions; the pid is our own unreaped child.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

/// Kills the process whose id a command printed (a background process it started).
pub fn kill_printed_pid(pid: &str) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid.trim().parse().unwrap(), libc::SIGKILL) };
}

/// Reads the first line the child prints on its (piped) stdout: the event a test waits
/// for. What the child prints after it may be buffered away; read no further.
pub fn first_line(child: &mut std::process::Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    line
}

/// Runs `hcwrap --url URL ARGS -- COMMAND` to its end, output captured.
pub fn wrapped(url: &str, args: &[&str], command: &[&str]) -> Output {
    let mut cmd = hcwrap();
    cmd.args(["--url", url]).args(args).arg("--").args(command);
    run(&mut cmd)
}

/// Runs `cmd` to its end, with stdout and stderr captured.
pub fn run(cmd: &mut Command) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.output().expect("run hcwrap")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A loopback port where nothing listens (bound, then let go): connections are refused.
pub fn dead_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind a loopback port")
        .port()
}

/// Makes a FIFO at `path`: a file whose reading waits for a writer that never comes.
pub fn mkfifo(path: &std::path::Path) {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

/// A temporary directory of the test's own, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("hcwrap-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn file(&self, name: &str, content: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, content).unwrap();
        path.to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Waits for `child` to end and collects its output; fails the test (after killing the
/// child) if it has not ended within [`PATIENCE`], so a hang is a failure, not a stuck run.
pub fn finish(child: std::process::Child) -> Output {
    let pid = i32::try_from(child.id()).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    if let Ok(out) = rx.recv_timeout(PATIENCE) {
        return out.unwrap();
    }
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    panic!("the process did not end within {PATIENCE:?}");
}

/// Asserts that hcwrap ended by `signal` (after its final ping), as a program interrupted
/// by a signal should: a shell then reports 128+n and stops a loop it runs in.
pub fn assert_ended_by(status: std::process::ExitStatus, signal: i32) {
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        (status.code(), status.signal()),
        (None, Some(signal)),
        "hcwrap did not end by signal {signal}: {status:?}"
    );
}
