//! The output on its way through hcwrap, with readers that are slow, stalled, or
//! non-blocking: every byte reaches them, and none of it holds up the final ping once the
//! command has ended.

mod support;

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::process::Stdio;
use std::time::Duration;

use support::{Server, hcwrap, stderr};

#[test]
fn a_slow_reader_gets_every_byte_and_the_body_does_not_call_the_output_still_open() {
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.args(["--url", &server.check_url(), "--"])
        .args(["sh", "-c", "seq 1 300000; echo THE-END"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // A reader that takes 64 KiB every 0.1 s: about 3 s for the 2 MB, most of it after
    // the command has exited.
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    loop {
        let n = stdout.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = support::finish(child);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let expected: Vec<u8> = (1..=300_000)
        .flat_map(|i: u32| format!("{i}\n").into_bytes())
        .chain(*b"THE-END\n")
        .collect();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "the output changed on its way");
    let body = server.wait_for(2)[1].body_text();
    assert!(body.ends_with("299999\n300000\nTHE-END\n"), "{body}");
    assert!(!body.contains("still open"), "{body}");
}

#[test]
fn a_stalled_reader_does_not_hold_up_the_final_ping_after_a_timeout() {
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.args(["--url", &server.check_url(), "--timeout", "1s", "--", "yes"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // Nothing reads hcwrap's stdout until the final ping has arrived (the test fails
    // after PATIENCE if it never does).
    let end = &server.wait_for(2)[1];
    assert_eq!(end.suffix(), "/124");
    assert!(
        end.body_text()
            .ends_with("y\n[hcwrap] timed out after 1s; sent SIGTERM\n"),
        "{}",
        end.body_text()
    );
    // Now the reader takes the rest: all of it is still there, whole lines of "y".
    let mut rest = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut rest).unwrap();
    assert!(!rest.is_empty());
    assert!(rest.chunks(2).all(|c| c == b"y\n"), "the output changed");
    let out = support::finish(child);
    assert_eq!(out.status.code(), Some(124), "{}", stderr(&out));
}

#[test]
fn a_non_blocking_stdout_gets_every_byte() {
    let server = Server::start();
    let (read, write) = support::pipe();
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(write.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(write.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    let mut cmd = hcwrap();
    cmd.args(["--url", &server.check_url(), "--"])
        .args(["head", "-c", "300000", "/dev/zero"])
        .stdout(Stdio::from(write))
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    drop(cmd);
    // Wait until the pipe is full: hcwrap's writes have met EAGAIN.
    support::wait_filled(&read, 65536);
    let mut got = Vec::new();
    std::fs::File::from(read).read_to_end(&mut got).unwrap();
    let out = support::finish(child);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(got.len(), 300_000);
    assert_eq!(server.wait_for(2)[1].suffix(), "");
}

#[test]
fn with_a_small_body_limit_every_number_in_the_body_is_true() {
    let server = Server::start();
    let out = support::wrapped(
        &server.check_url(),
        &["--body-limit", "50", "-q"],
        &["sh", "-c", "seq 100000; exit 3"],
    );
    assert_eq!(out.status.code(), Some(3));
    let body = server.wait_for(2)[1].body_text();
    assert!(body.len() <= 50, "{body:?}");
    assert!(!body.contains("left out"), "a note cut short: {body:?}");
    assert!(
        body.ends_with("100000\n[hcwrap] exit status 3\n"),
        "{body:?}"
    );
}

#[test]
fn hcwraps_own_notice_to_a_stalled_stderr_holds_up_neither_the_ping_nor_the_end() {
    // `2>&1 | reader`: both streams in one pipe, whose reader stalls. The timeout's notice
    // must wait for it like the output does, not block hcwrap.
    let server = Server::start();
    let (read, write) = support::pipe();
    let mut cmd = hcwrap();
    cmd.args(["--url", &server.check_url(), "--timeout", "1s", "--"])
        .args(["sh", "-c", "yes | head -c 3000000; sleep 100"])
        .stdout(Stdio::from(write.try_clone().unwrap()))
        .stderr(Stdio::from(write));
    let child = cmd.spawn().unwrap();
    drop(cmd);
    let end = &server.wait_for(2)[1];
    assert_eq!(end.suffix(), "/124", "{}", end.body_text());
    // Now the reader takes everything: the output as the command wrote it until the
    // timeout ended it, and the notice, whole, on a line of its own (output that still
    // waited for the reader when it was said may come after it, as stdout's and stderr's
    // own may pass each other in one pipe).
    let mut all = Vec::new();
    std::fs::File::from(read).read_to_end(&mut all).unwrap();
    let text = String::from_utf8_lossy(&all);
    let notice = "hcwrap: timed out after 1s; sent SIGTERM";
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.iter().filter(|l| **l == notice).count(), 1);
    assert!(lines.len() > 32768 && lines.iter().all(|l| *l == "y" || *l == notice));
    let out = support::finish(child);
    assert_eq!(out.status.code(), Some(124));
}

#[test]
fn a_signal_ends_hcwrap_while_its_notice_waits_for_a_stalled_stderr() {
    let server = Server::start();
    let (read, write) = support::pipe();
    let mut cmd = hcwrap();
    cmd.args(["--url", &server.check_url(), "--"])
        .args([
            "sh",
            "-c",
            "yes | head -c 3000000; echo started >&2; sleep 100",
        ])
        .stdout(Stdio::from(write.try_clone().unwrap()))
        .stderr(Stdio::from(write));
    let child = cmd.spawn().unwrap();
    drop(cmd);
    // The pipe is full (its reader stalled) once the start ping is in: then SIGTERM.
    server.wait_for(1);
    support::wait_filled(&read, 65536);
    support::signal(&child, libc::SIGTERM);
    // hcwrap passes it on, reports the run and ends, though its notice is not read yet.
    let end = &server.wait_for(2)[1];
    assert_eq!(end.suffix(), "/143", "{}", end.body_text());
    let out = support::finish(child);
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&out.status),
        Some(libc::SIGTERM)
    );
    drop(read);
}

#[test]
fn hcwraps_own_lines_waiting_for_a_stalled_reader_do_not_hold_up_an_every_loop() {
    let server = Server::start();
    let (read, write) = support::pipe();
    // stderr's pipe is full already and its reader stalled: each run's timeout notice
    // waits, and the next runs start on their ticks all the same.
    std::fs::File::from(write.try_clone().unwrap())
        .write_all(&vec![b'x'; 65536])
        .unwrap();
    let mut cmd = hcwrap();
    cmd.args(["--url", &server.check_url(), "--no-start-ping"])
        .args(["--every", "300ms", "--timeout", "100ms", "--", "sleep", "5"])
        .stdout(Stdio::null())
        .stderr(Stdio::from(write));
    let child = cmd.spawn().unwrap();
    drop(cmd);
    let runs = server.wait_for(3);
    assert!(runs.iter().all(|r| r.suffix() == "/124"));
    support::signal(&child, libc::SIGTERM);
    let out = support::finish(child);
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&out.status),
        Some(libc::SIGTERM)
    );
    drop(read);
}

#[test]
fn a_dry_runs_lines_all_reach_a_reader_that_starts_late() {
    let (read, write) = support::pipe();
    let mut cmd = hcwrap();
    cmd.args(["--dry-run", "--", "sh", "-c", "yes | head -c 200000"])
        .stdout(Stdio::null())
        .stderr(Stdio::from(write));
    let child = cmd.spawn().unwrap();
    drop(cmd);
    // The reader starts once the pipe is full.
    support::wait_filled(&read, 60_000);
    let mut all = Vec::new();
    std::fs::File::from(read).read_to_end(&mut all).unwrap();
    let out = support::finish(child);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&all);
    // Every line of the body shown (its last 100,000 bytes, less the line saying what was
    // left out): as many as a run whose stderr is a file shows.
    let shown = |text: &str| text.lines().filter(|l| *l == "hcwrap: | y").count();
    let to_file = hcwrap()
        .args(["--dry-run", "--", "sh", "-c", "yes | head -c 200000"])
        .output()
        .unwrap();
    let expected = shown(&String::from_utf8_lossy(&to_file.stderr));
    assert!(expected > 49_000);
    assert_eq!(shown(&text), expected);
}

#[test]
fn a_message_longer_than_a_pipe_still_reaches_a_file() {
    let dir = support::TempDir::new("long-message");
    let file = dir.0.join("stderr");
    let program = format!("/nonexistent/{}", "a".repeat(70_000));
    let out = hcwrap()
        .args(["--dry-run", "--", &program])
        .stderr(std::fs::File::create(&file).unwrap())
        .output()
        .unwrap();
    // The name is too long for the system: "cannot run" (126), said whole all the same.
    assert_eq!(out.status.code(), Some(126));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("cannot run the command"),
        "{}",
        &text[..200.min(text.len())]
    );
}
