//! Judging a run beyond its exit status (`--fail-on`, `--fail-on-stderr`, `--min-runtime`,
//! `--tolerate`), and the line of what a failed run used: what the server receives, what
//! the user sees, the exit status.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;

use support::{Server, TempDir, hcwrap, stderr, wrapped};

#[test]
fn a_text_cut_in_two_by_the_pipe_is_still_found_and_the_exit_status_stays_0() {
    let server = Server::start();
    let mut child = hcwrap()
        .args(["--url", &server.check_url(), "--fail-on", "ERROR"])
        .args(["--", "sh", "-c"])
        // The first half, then a wait for the test, which has seen hcwrap pass the first
        // half on (so hcwrap has read it), then the second half: two reads for sure.
        .arg("printf 'first line\\nxx ERR'; read go; printf 'OR yy\\nlast\\n'")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8];
    while !seen.ends_with(b"xx ERR") {
        assert_eq!(stdout.read(&mut byte).unwrap(), 1, "{seen:?}");
        seen.push(byte[0]);
    }
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    stdout.read_to_end(&mut seen).unwrap();
    let out = support::finish(child);
    assert_eq!(
        String::from_utf8_lossy(&seen),
        "first line\nxx ERROR yy\nlast\n"
    );
    assert_eq!(out.status.code(), Some(0), "the command's own status");
    assert_eq!(
        stderr(&out),
        "hcwrap: exit status 0, counted as failed: stdout line 2 matched --fail-on 'ERROR': \
         xx ERROR yy\n"
    );
    let end = &server.wait_for(2)[1];
    assert_eq!(end.suffix(), "/fail");
    assert_eq!(
        end.body_text(),
        "first line\nxx ERROR yy\nlast\n[hcwrap] exit status 0, counted as failed: stdout \
         line 2 matched --fail-on 'ERROR': xx ERROR yy\n"
    );
}

#[test]
fn a_text_on_no_line_or_split_by_a_newline_does_not_match() {
    let server = Server::start();
    let out = wrapped(
        &server.check_url(),
        &["--fail-on", "ERROR", "--fail-on", "FATAL"],
        &["sh", "-c", "echo ERR; echo OR; echo error >&2"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(server.wait_for(2)[1].suffix(), "");
}

#[test]
fn fail_on_stderr_counts_any_byte_and_fail_exit_changes_the_status_only_then() {
    let server = Server::start();
    let out = wrapped(
        &server.check_url(),
        &["--fail-on-stderr", "--fail-exit", "3"],
        &["sh", "-c", "echo fine; printf w >&2"],
    );
    assert_eq!(out.status.code(), Some(3));
    let end = &server.wait_for(2)[1];
    assert_eq!(end.suffix(), "/fail");
    assert!(
        end.body_text()
            .ends_with("[hcwrap] exit status 0, counted as failed: it wrote 1 byte to stderr (--fail-on-stderr)\n"),
        "{}",
        end.body_text()
    );
    // Quiet stderr: a success, and the status stays 0.
    let out = wrapped(
        &server.check_url(),
        &["--fail-on-stderr", "--fail-exit", "3"],
        &["echo", "fine"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(server.wait_for(4)[3].suffix(), "");
    // A command that failed keeps its own status and ping.
    let out = wrapped(
        &server.check_url(),
        &["--fail-on-stderr", "--fail-exit", "3"],
        &["sh", "-c", "echo oops >&2; exit 5"],
    );
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(server.wait_for(6)[5].suffix(), "/5");
}

#[test]
fn a_run_sooner_than_min_runtime_failed_and_a_longer_one_did_not() {
    let server = Server::start();
    let out = wrapped(&server.check_url(), &["--min-runtime", "1h"], &["true"]);
    assert_eq!(out.status.code(), Some(0));
    let end = &server.wait_for(2)[1];
    assert_eq!(end.suffix(), "/fail");
    let body = end.body_text();
    assert!(
        body.starts_with("[hcwrap] exit status 0, counted as failed: it ran ")
            && body.ends_with(", less than --min-runtime 1h\n"),
        "{body}"
    );
    let out = wrapped(
        &server.check_url(),
        &["--min-runtime", "5ms"],
        &["sleep", "0.05"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(server.wait_for(4)[3].suffix(), "");
}

/// A wrapped run with the state directory `state`: the failure counts live there.
fn counted(server: &Server, state: &TempDir, args: &[&str], command: &str) -> i32 {
    let mut cmd = hcwrap();
    cmd.env("HC_STATE_DIR", &state.0)
        .args(["--url", &server.check_url()])
        .args(args)
        .args(["--", "sh", "-c", command]);
    support::run(&mut cmd).status.code().unwrap()
}

#[test]
fn tolerated_failures_are_log_entries_until_one_too_many_and_a_success_resets_the_count() {
    let server = Server::start();
    let state = TempDir::new("tolerate");
    // No start ping: --tolerate sends none (a started run that ends in a log entry would
    // count as failed after the grace time).
    let tolerate = ["--tolerate", "2"];
    for _ in 0..3 {
        assert_eq!(counted(&server, &state, &tolerate, "echo bad; exit 4"), 4);
    }
    assert_eq!(counted(&server, &state, &tolerate, "exit 0"), 0);
    assert_eq!(counted(&server, &state, &tolerate, "exit 4"), 4);
    let reqs = server.wait_for(5);
    let seen: Vec<(String, String)> = reqs.iter().map(|r| (r.suffix(), r.body_text())).collect();
    let tolerated = |n| {
        format!(
            "[hcwrap] failure {n} of 2 tolerated (--tolerate 2): sent as a log entry; failure 3 \
             in a row is reported as a failure\n"
        )
    };
    assert_eq!(
        seen,
        [
            (
                "/log".into(),
                format!("bad\n{}[hcwrap] exit status 4\n", tolerated(1))
            ),
            (
                "/log".into(),
                format!("bad\n{}[hcwrap] exit status 4\n", tolerated(2))
            ),
            ("/4".into(), "bad\n[hcwrap] exit status 4\n".into()),
            (String::new(), String::new()),
            (
                "/log".into(),
                format!("{}[hcwrap] exit status 4\n", tolerated(1))
            ),
        ]
    );
}

#[test]
fn concurrent_failures_are_each_counted_once() {
    let server = Server::start();
    let state = TempDir::new("tolerate-concurrent");
    let runs = 8;
    let children: Vec<_> = (0..runs)
        .map(|_| {
            hcwrap()
                .env("HC_STATE_DIR", &state.0)
                .args(["--url", &server.check_url(), "--no-start-ping"])
                .args(["--tolerate", "100", "--", "false"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        assert_eq!(support::finish(child).status.code(), Some(1));
    }
    let mut counts: Vec<usize> = server
        .wait_for(runs)
        .iter()
        .map(|r| {
            let body = r.body_text();
            let at = body.find("failure ").expect("a tolerated failure") + "failure ".len();
            body[at..].split(' ').next().unwrap().parse().unwrap()
        })
        .collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=runs).collect::<Vec<_>>());
}

#[test]
fn a_failed_run_says_what_it_and_its_children_used_and_a_success_does_not() {
    let server = Server::start();
    // A child of the shell holds 64 MiB (written, so resident) before the run fails.
    let hold = "python3 -c 'x = bytearray(64 << 20)'; exit 2";
    let out = wrapped(
        &server.check_url(),
        &["--no-start-ping"],
        &["sh", "-c", hold],
    );
    assert_eq!(out.status.code(), Some(2));
    let body = server.wait_for(1)[0].full_body();
    let line = body
        .lines()
        .find(|l| l.starts_with("[hcwrap] ran "))
        .unwrap_or_else(|| panic!("no resource line: {body}"));
    let mib: f64 = line
        .split("peak memory ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!((64.0..1024.0).contains(&mib), "{line}");
    assert!(
        line.contains(" user, ")
            && line.ends_with(" system (the command and the processes it waited for)"),
        "{line}"
    );
    let out = wrapped(&server.check_url(), &["--no-start-ping"], &["true"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!server.wait_for(2)[1].full_body().contains("[hcwrap] ran "));
}

#[test]
fn bad_rule_options_are_usage_errors_before_the_command_runs() {
    for (args, want) in [
        (
            &["--fail-on", ""][..],
            "hcwrap: error: --fail-on: the text is empty",
        ),
        (
            &["--fail-exit", "3"][..],
            "hcwrap: error: --fail-exit: no rule can count a run as failed",
        ),
        (
            &["--min-runtime", "0s"][..],
            "hcwrap: error: --min-runtime: must be more than 0s",
        ),
        (
            &["--tolerate", "0"][..],
            "hcwrap: error: invalid value '0' for '--tolerate <N>'",
        ),
        (
            &["--run-log", "/nonexistent/dir/runs.jsonl"][..],
            "hcwrap: error: --run-log: the directory /nonexistent/dir does not exist",
        ),
    ] {
        let mut cmd = hcwrap();
        cmd.args([
            "--url",
            &format!("http://127.0.0.1:9/ping/{}", support::UUID),
        ])
        .args(args);
        cmd.args(["--", "sh", "-c", "echo ran"]);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let out = cmd.output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(125), "{args:?}: {err}");
        assert!(err.starts_with(want), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: the command ran");
        assert_eq!(BufReader::new(err.as_bytes()).lines().count(), 1, "{err}");
    }
}

#[test]
fn a_quoted_line_hides_what_the_output_hides() {
    let server = Server::start();
    let dir = TempDir::new("judge-redact");
    let log = dir.0.join("runs.jsonl");
    let line = "echo 'ERROR: login failed with password hunter2SECRET'";
    let out = wrapped(
        &server.check_url(),
        &[
            "--fail-on",
            "ERROR",
            "--redact",
            "hunter2SECRET",
            "--run-log",
            log.to_str().unwrap(),
        ],
        &["sh", "-c", line],
    );
    assert_eq!(out.status.code(), Some(0));
    let body = server.wait_for(2)[1].body_text();
    assert!(
        body.ends_with("matched --fail-on 'ERROR': ERROR: login failed with password [redacted]\n"),
        "{body}"
    );
    assert!(
        !body.contains("hunter2") && !stderr(&out).contains("hunter2"),
        "{body}"
    );
    assert!(!std::fs::read_to_string(&log).unwrap().contains("hunter2"));
    // With --no-output, no line of output at all: where it matched, not what it said.
    let out = wrapped(
        &server.check_url(),
        &["--fail-on", "ERROR", "--no-output"],
        &["sh", "-c", line],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        server.wait_for(4)[3].body_text(),
        "[hcwrap] exit status 0, counted as failed: stdout line 1 matched --fail-on 'ERROR'\n"
    );
}

#[test]
fn a_success_without_tolerate_still_resets_the_count() {
    let server = Server::start();
    let state = TempDir::new("tolerate-reset");
    assert_eq!(counted(&server, &state, &["--tolerate", "1"], "exit 1"), 1);
    assert_eq!(counted(&server, &state, &[], "exit 0"), 0);
    assert_eq!(counted(&server, &state, &["--tolerate", "1"], "exit 1"), 1);
    let reqs = server.wait_for(4);
    // The run without --tolerate has a start ping; the others do not.
    let suffixes: Vec<String> = reqs.iter().map(support::Request::suffix).collect();
    assert_eq!(suffixes, ["/log", "/start", "", "/log"], "{suffixes:?}");
    assert!(
        reqs[3].body_text().contains("failure 1 of 1 tolerated"),
        "{}",
        reqs[3].body_text()
    );
}
