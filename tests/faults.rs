//! Faults on either side: the command's exit status comes out right, hcwrap ends, and the
//! final ping arrives (or one line says why not).

mod support;

use std::io::Write;
use std::process::Stdio;

use support::{Reply, Server, hcwrap, run, stderr, stdout, wrapped};

#[test]
fn every_exit_status_comes_out_unchanged_and_is_reported() {
    let server = Server::start();
    // Four runs at a time (256 one after another take minutes under emulation).
    std::thread::scope(|scope| {
        for first in 0..4 {
            let server = &server;
            scope.spawn(move || {
                for n in (first..=255).step_by(4) {
                    let out = wrapped(
                        &server.check_url(),
                        &["--no-start-ping"],
                        &["sh", "-c", &format!("exit {n}")],
                    );
                    assert_eq!(out.status.code(), Some(n), "exit {n}: {}", stderr(&out));
                }
            });
        }
    });
    // Each status reported once: "" (success) for 0, "/N" for the others.
    let mut got: Vec<String> = server
        .requests()
        .iter()
        .map(support::Request::suffix)
        .collect();
    got.sort();
    let mut want: Vec<String> = (0..=255)
        .map(|n| {
            if n == 0 {
                String::new()
            } else {
                format!("/{n}")
            }
        })
        .collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn commands_killed_by_signals() {
    let server = Server::start();
    for (signal, name, status) in [
        ("TERM", "SIGTERM", 143),
        ("KILL", "SIGKILL", 137),
        ("SEGV", "SIGSEGV", 139),
    ] {
        let out = wrapped(
            &server.check_url(),
            &["--no-start-ping"],
            &["sh", "-c", &format!("kill -{signal} $$")],
        );
        assert_eq!(out.status.code(), Some(status), "{name}");
        let last = server.requests().pop().unwrap();
        assert_eq!(last.suffix(), format!("/{status}"));
        assert_eq!(last.body_text(), format!("[hcwrap] killed by {name}\n"));
    }
}

#[test]
fn odd_output_is_handled() {
    let server = Server::start();
    // Nothing at all.
    let out = wrapped(&server.check_url(), &["--no-start-ping"], &["true"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(server.requests().pop().unwrap().body, b"");

    // A single 50 MB line without a newline.
    let out = wrapped(
        &server.check_url(),
        &["--no-start-ping", "--quiet"],
        &["sh", "-c", "head -c 50000000 /dev/zero | tr '\\0' a"],
    );
    assert_eq!(out.status.code(), Some(0));
    let body = server.requests().pop().unwrap().body_text();
    assert!(
        body.len() <= 100_000 && body.len() > 99_000,
        "{}",
        body.len()
    );
    assert!(body.starts_with("[hcwrap] ") && body.ends_with("aaaa"));

    // Binary bytes: the body is valid UTF-8 (body_text panics otherwise) and within the limit.
    let out = wrapped(
        &server.check_url(),
        &["--no-start-ping", "--quiet"],
        &["head", "-c", "300000", "/dev/urandom"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(server.requests().pop().unwrap().body_text().len() <= 100_000);
}

#[test]
fn a_command_that_reads_all_of_stdin_gets_it() {
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.args(["--url", &server.check_url(), "--", "wc", "-c"]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::thread::spawn(move || stdin.write_all(&vec![b'x'; 1_000_000]));
    let out = support::finish(child);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out).trim(), "1000000");
    assert_eq!(server.wait_for(2)[1].body_text().trim(), "1000000");
}

#[test]
fn a_command_that_closes_its_stdout_early_is_still_followed() {
    let server = Server::start();
    let out = wrapped(
        &server.check_url(),
        &[],
        &["sh", "-c", "exec 1>&-; echo still here >&2; exit 5"],
    );
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(
        server.wait_for(2)[1].body_text(),
        "still here\n[hcwrap] exit status 5\n"
    );
}

#[test]
fn a_server_answering_byte_by_byte_is_waited_for() {
    let server = Server::start();
    server.script([Reply::Trickle, Reply::Trickle]);
    let out = wrapped(&server.check_url(), &[], &["sh", "-c", "exit 2"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out), "");
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn a_server_resetting_mid_answer_gets_the_ping_again() {
    let server = Server::start();
    server.script([Reply::Normal, Reply::ResetMidAnswer]);
    let out = wrapped(&server.check_url(), &[], &["sh", "-c", "echo body; exit 4"]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(stderr(&out), "", "retried and delivered");
    let reqs = server.wait_for(3);
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[1].body_text(), reqs[2].body_text());
    assert_eq!(reqs[2].body_text(), "body\n[hcwrap] exit status 4\n");
}

#[test]
fn an_answer_with_huge_headers_is_retried_and_said_to_be_one() {
    let server = Server::start();
    let huge = vec![("X-Padding", "a".repeat(20_000))];
    server.script([
        Reply::Status(200, "OK", huge.clone()),
        Reply::Status(200, "OK", huge),
    ]);
    let mut cmd = hcwrap();
    cmd.args([
        "ping",
        "--strict",
        "--ping-retries",
        "1",
        "--url",
        &server.check_url(),
        "success",
    ]);
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(server.wait_for(2).len(), 2, "retried once");
    let err = stderr(&out);
    assert!(
        err.contains("the answer's headers are over 16 KiB"),
        "{err}"
    );
}
