//! `hcwrap ping`: one ping from a hook, with the wrapped run's check options and body rules.

mod support;

use std::io::Write;
use std::process::Stdio;

use support::{PING_KEY, Reply, SLUG, Server, TempDir, UUID, hcwrap, run, stderr, stdout};

fn ping(server: &Server, args: &[&str]) -> std::process::Output {
    let mut cmd = hcwrap();
    cmd.arg("ping")
        .args(args)
        .args(["--url", &server.check_url()]);
    run(&mut cmd)
}

#[test]
fn every_kind_goes_to_its_url() {
    let server = Server::start();
    for (kind, suffix) in [
        ("start", "/start"),
        ("success", ""),
        ("fail", "/fail"),
        ("log", "/log"),
        ("0", "/0"),
        ("7", "/7"),
        ("255", "/255"),
    ] {
        let out = ping(&server, &[kind]);
        assert_eq!(out.status.code(), Some(0), "{kind}: {}", stderr(&out));
        assert_eq!(stderr(&out), "");
        let last = server.requests().pop().unwrap();
        assert_eq!(
            (last.method.as_str(), last.suffix()),
            ("POST", suffix.to_owned()),
            "{kind}"
        );
        assert_eq!(last.body, b"");
        assert_eq!(last.header("Content-Length"), Some("0"));
    }
}

#[test]
fn the_body_comes_from_a_message_a_file_or_stdin() {
    let server = Server::start();
    ping(
        &server,
        &["fail", "--message", "snapshot failed: repository locked"],
    );
    assert_eq!(
        server.wait_for(1)[0].body_text(),
        "snapshot failed: repository locked"
    );

    let dir = TempDir::new("hook-body");
    let file = dir.file("log.txt", "line 1\nline 2\n");
    ping(&server, &["log", "--body-file", &file]);
    assert_eq!(server.wait_for(2)[1].body_text(), "line 1\nline 2\n");

    let mut cmd = hcwrap();
    cmd.args([
        "ping",
        "3",
        "--body-file",
        "-",
        "--url",
        &server.check_url(),
    ]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"from stdin\n")
        .unwrap();
    assert_eq!(support::finish(child).status.code(), Some(0));
    let last = &server.wait_for(3)[2];
    assert_eq!(
        (last.suffix().as_str(), last.body_text().as_str()),
        ("/3", "from stdin\n")
    );
}

#[test]
fn without_a_body_option_stdin_is_not_read() {
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.args(["ping", "success", "--url", &server.check_url()]);
    // stdin stays open and silent: reading it would hang until the test's bound.
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stdin = child.stdin.take();
    let out = support::finish(child);
    drop(stdin);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(server.wait_for(1)[0].body, b"");
}

#[test]
fn a_large_body_keeps_its_tail_within_the_limit_as_utf8() {
    let server = Server::start();
    let dir = TempDir::new("hook-large");
    let mut text = Vec::new();
    for i in 0..30_000 {
        text.extend_from_slice(format!("line {i:05} \u{e9}").as_bytes());
        text.extend_from_slice(b"\xff\n");
    }
    let path = dir.0.join("big.log");
    std::fs::write(&path, &text).unwrap();
    let out = ping(
        &server,
        &[
            "fail",
            "--body-file",
            path.to_str().unwrap(),
            "--body-limit",
            "5000",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let body = server.wait_for(1)[0].body_text(); // valid UTF-8, or this panics
    assert!(body.len() <= 5000, "{}", body.len());
    assert!(
        body.starts_with("[hcwrap] ")
            && body
                .lines()
                .next()
                .unwrap()
                .ends_with(" bytes of output left out")
    );
    assert!(
        body.ends_with("line 29999 \u{e9}\u{FFFD}\n"),
        "{}",
        &body[body.len() - 40..]
    );
}

#[test]
fn a_wrapped_script_reports_into_its_own_run() {
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.args(["--url", &server.check_url(), "--", "sh", "-c"]);
    cmd.arg(format!(
        "{} ping log --message 'halfway there'",
        env!("CARGO_BIN_EXE_hcwrap")
    ));
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let reqs = server.wait_for(3);
    let rid = reqs[0].rid().unwrap();
    let log = reqs
        .iter()
        .find(|r| r.suffix() == "/log")
        .expect("the script's /log ping");
    assert_eq!(log.rid(), Some(rid), "HC_RUN_ID names the run");
    assert_eq!(log.body_text(), "halfway there");
}

#[test]
fn rid_beats_the_environment_and_must_be_a_uuid() {
    let server = Server::start();
    let rid = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    let mut cmd = hcwrap();
    cmd.env("HC_RUN_ID", "11111111-2222-4333-8444-555555555555")
        .env("HC_PING_URL", server.check_url());
    cmd.args(["ping", "success", "--rid", &rid.to_uppercase()]);
    assert_eq!(run(&mut cmd).status.code(), Some(0));
    assert_eq!(server.wait_for(1)[0].rid(), Some(rid));

    let out = ping(&server, &["success", "--rid", "run-42"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).starts_with("hcwrap: error: --rid: 'run-42' is not a run id"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn slug_urls_and_file_secrets_work_as_in_the_wrapped_run() {
    let server = Server::start();
    let dir = TempDir::new("hook-slug");
    let key = dir.file("key", &format!("{PING_KEY}\n"));
    let mut cmd = hcwrap();
    cmd.args([
        "ping",
        "start",
        "--api-url",
        &server.api_url(),
        "--slug",
        SLUG,
        "--ping-key",
        &format!("file:{key}"),
    ]);
    assert_eq!(run(&mut cmd).status.code(), Some(0));
    assert_eq!(
        server.wait_for(1)[0].path,
        format!("/ping/{PING_KEY}/{SLUG}/start")
    );
}

#[test]
fn refusal_and_failure_exit_1_with_one_line() {
    let server = Server::start();
    server.script([Reply::Status(404, "not found", vec![])]);
    let out = ping(&server, &["success"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("was refused: 404 not found: the server does not know this check"),
        "{err}"
    );
    assert!(!err.contains(UUID));

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = hcwrap();
    cmd.args([
        "ping",
        "fail",
        "--ping-retries",
        "1",
        "--url",
        &format!("http://127.0.0.1:{port}/ping/{UUID}"),
    ]);
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("could not deliver the fail ping to ") && err.contains("after 2 attempts"),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_125_and_dry_run_prints() {
    let server = Server::start();
    for args in [
        &["300"][..],
        &["finished"],
        &["log", "--message", "a", "--body-file", "b"],
    ] {
        let out = ping(&server, args);
        assert_eq!(out.status.code(), Some(125), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1);
    }
    let out = ping(&server, &["log", "--body-file", "/nonexistent/log"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("--body-file: cannot read /nonexistent/log"));

    let out = ping(&server, &["fail", "--dry-run", "--message", "disk full"]);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("hcwrap: dry run: POST http://127.0.0.1:")
            && err.contains("/ping/1f1c…/fail (9 bytes)"),
        "{err}"
    );
    assert!(err.contains("hcwrap: | disk full"));
    assert!(server.requests().is_empty());
    assert_eq!(stdout(&out), "");
}

#[test]
fn a_server_that_never_answers_costs_the_ping_timeout_then_exit_1() {
    let server = Server::start();
    server.script([Reply::Hang]);
    let out = ping(
        &server,
        &["fail", "--ping-timeout", "300ms", "--ping-retries", "0"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("after 1 attempt: no answer within 300ms"),
        "{err}"
    );
}
