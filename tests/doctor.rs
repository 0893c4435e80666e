//! `hcwrap doctor`: the findings a user reads, the exit status, and that it changes
//! nothing on the server unless asked to send a log ping.

mod support;

use std::process::Output;

use serde_json::json;
use support::api::{API_KEY, READ_ONLY_KEY};
use support::{PING_KEY, SLUG, Server, TempDir, UUID, hcwrap, run, stderr, stdout};

fn doctor(server: &Server, cache: &TempDir, args: &[&str]) -> Output {
    run(hcwrap()
        .env("XDG_CACHE_HOME", &cache.0)
        .args(["doctor", "--api-url", &server.api_url()])
        .args(args))
}

/// The lines of a given level ("ok", "warning", "problem").
fn lines(out: &Output, level: &str) -> Vec<String> {
    stdout(out)
        .lines()
        .filter(|l| l.split_whitespace().next() == Some(level))
        .map(str::to_owned)
        .collect()
}

fn only_reads(server: &Server) {
    for r in server.requests() {
        assert_eq!(
            r.method, "GET",
            "doctor changed something: {} {}",
            r.method, r.path
        );
    }
}

#[test]
fn a_healthy_check_gets_ok_lines_and_exit_0_without_a_secret_in_them() {
    let server = Server::start();
    let cache = TempDir::new("doctor-ok");
    let out = doctor(
        &server,
        &cache,
        &[
            "--slug",
            SLUG,
            "--ping-key",
            PING_KEY,
            "--api-key",
            READ_ONLY_KEY,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(
        lines(&out, "problem").is_empty() && lines(&out, "warning").len() == 1,
        "{text}"
    );
    assert!(
        text.contains(&format!("ok       connection: 127.0.0.1:{}", server.port)),
        "{text}"
    );
    assert!(
        text.contains("ok       HTTP: the server answers (404 for /ping/"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "management API at {}: the check exists",
            server.site_url()
        )),
        "{text}"
    );
    assert!(
        text.contains("settings: period 86400 s, grace 3600 s"),
        "{text}"
    );
    assert!(
        lines(&out, "warning")[0].contains("never heard from the job"),
        "{text}"
    );
    for secret in [PING_KEY, READ_ONLY_KEY, UUID] {
        assert!(
            !text.contains(secret) && !stderr(&out).contains(secret),
            "{text}"
        );
    }
    only_reads(&server);
}

#[test]
fn keyword_filtering_and_a_manual_resume_pause_are_problems() {
    let server = Server::start();
    let cache = TempDir::new("doctor-filter");
    server.edit_checks(|checks| {
        let check = checks.list.iter_mut().find(|c| c["uuid"] == UUID).unwrap();
        check.insert("filter_http_body".into(), json!(true));
        check.insert("status".into(), json!("paused"));
        check.insert("manual_resume".into(), json!(true));
    });
    let out = doctor(&server, &cache, &["--uuid", UUID, "--api-key", API_KEY]);
    assert_eq!(out.status.code(), Some(1));
    let problems = lines(&out, "problem");
    assert_eq!(problems.len(), 2, "{}", stdout(&out));
    assert!(
        problems[0].contains("keyword filtering is on")
            && problems[0].contains("ignores its exit status")
    );
    assert!(problems[1].contains("paused with manual resume"));
    only_reads(&server);
}

#[test]
fn settings_that_differ_from_the_command_line_are_drift() {
    let server = Server::start();
    let cache = TempDir::new("doctor-drift");
    let out = doctor(
        &server,
        &cache,
        &[
            "--uuid",
            UUID,
            "--api-key",
            API_KEY,
            "--schedule",
            "0 3 * * *",
            "--tz",
            "UTC",
            "--grace",
            "1h",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let warnings = lines(&out, "warning");
    let drift = warnings
        .iter()
        .find(|l| l.contains("settings drift"))
        .expect("drift");
    assert!(
        drift.contains("schedule is not set on the server, '0 3 * * *' here"),
        "{drift}"
    );
    assert!(
        drift.contains("tz is not set on the server, 'UTC' here"),
        "{drift}"
    );
    assert!(!drift.contains("grace"), "grace matches: {drift}");
    only_reads(&server);
}

#[test]
fn a_missing_check_and_a_dead_server_are_problems() {
    let server = Server::start();
    let cache = TempDir::new("doctor-missing");
    let out = doctor(
        &server,
        &cache,
        &[
            "--slug",
            "gone",
            "--ping-key",
            PING_KEY,
            "--api-key",
            API_KEY,
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        lines(&out, "problem")[0].contains("the check does not exist"),
        "{}",
        stdout(&out)
    );

    let dead = format!("http://127.0.0.1:{}/ping", support::dead_port());
    let out = run(hcwrap().args(["doctor", "--api-url", &dead, "--uuid", UUID]));
    assert_eq!(out.status.code(), Some(1));
    let problems = lines(&out, "problem");
    assert!(
        problems[0].starts_with("problem  connection: 127.0.0.1:"),
        "{problems:?}"
    );
    assert!(!stdout(&out).contains(UUID));
}

#[test]
fn send_log_sends_one_log_entry_and_learns_the_body_limit() {
    let server = Server::with_limit(Some(10_000));
    let cache = TempDir::new("doctor-log");
    let out = doctor(&server, &cache, &["--uuid", UUID, "--send-log"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("log ping: recorded"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("keeps the first 10000 bytes"),
        "{}",
        stdout(&out)
    );
    let pings: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(pings.len(), 1);
    assert_eq!(pings[0].suffix(), "/log");
    // Remembered: the next doctor without --send-log says it.
    let out = doctor(&server, &cache, &["--uuid", UUID]);
    assert!(
        stdout(&out).contains("keeps the first 10000 bytes"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_url_of_another_shape_is_still_tried_and_a_down_check_is_a_problem() {
    let dead = format!(
        "http://127.0.0.1:{}/custom/endpoint/abc",
        support::dead_port()
    );
    let out = run(hcwrap().args(["doctor", "--url", &dead]));
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        lines(&out, "problem")[0].contains("connection: 127.0.0.1:"),
        "{}",
        stdout(&out)
    );

    let server = Server::start();
    let cache = TempDir::new("doctor-down");
    server.edit_checks(|checks| {
        checks.list[0].insert("status".into(), json!("down"));
        checks.list[0].insert("last_ping".into(), json!("2019-01-01T00:00:00+00:00"));
    });
    let out = doctor(&server, &cache, &["--uuid", UUID, "--api-key", API_KEY]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        lines(&out, "problem")[0].contains("the check is down"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn send_log_never_creates_a_check() {
    let server = Server::start();
    let cache = TempDir::new("doctor-create");
    let out = doctor(
        &server,
        &cache,
        &[
            "--slug",
            "brand-new",
            "--ping-key",
            PING_KEY,
            "--create",
            "--send-log",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let log = server
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert!(!log.query.contains("create"), "{}", log.query);
    assert!(
        lines(&out, "problem")
            .iter()
            .any(|l| l.contains("log ping")),
        "{}",
        stdout(&out)
    );
}
