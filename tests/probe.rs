//! `hcwrap probe`: a health probe for images without curl.

mod support;

use support::{Reply, Server, hcwrap, run, stderr, stdout};

fn probe(server: &Server, args: &[&str]) -> std::process::Output {
    let url = format!("http://127.0.0.1:{}/api/v3/status/", server.port);
    run(hcwrap().args(["probe", &url]).args(args))
}

fn answer(status: u16, body: &'static str) -> Reply {
    Reply::Status(status, body, vec![])
}

#[test]
fn a_2xx_is_healthy_and_anything_else_is_not() {
    let server = Server::start();
    server.script([
        answer(200, "OK"),
        answer(204, ""),
        answer(500, "down"),
        answer(301, ""),
    ]);
    for (want, says) in [
        (0, "healthy: 200 in "),
        (0, "healthy: 204 in "),
        (1, "unhealthy: status 500; the body starts: \"down\" ("),
        (1, "unhealthy: status 301 ("),
    ] {
        let out = probe(&server, &[]);
        assert_eq!(out.status.code(), Some(want), "{}", stdout(&out));
        assert!(stdout(&out).starts_with(says), "{}", stdout(&out));
        assert_eq!(stdout(&out).lines().count(), 1);
    }
    let reqs = server.requests();
    assert!(
        reqs.iter()
            .all(|r| r.method == "GET" && r.path == "/api/v3/status/")
    );
}

#[test]
fn expect_status_and_expect_body() {
    let server = Server::start();
    server.script([
        answer(404, ""),
        answer(200, "OK"),
        answer(200, "database: OK"),
        answer(200, "database: down"),
    ]);
    assert_eq!(
        probe(&server, &["--expect-status", "404"]).status.code(),
        Some(0)
    );
    let out = probe(&server, &["--expect-status", "204"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("unhealthy: status 200, expected 204"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        probe(&server, &["--expect-body", "OK"]).status.code(),
        Some(0)
    );
    let out = probe(&server, &["--expect-body", "OK"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("the body does not contain 'OK'"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn host_and_headers_reach_the_server() {
    let server = Server::start();
    server.script([answer(200, "OK")]);
    let out = probe(
        &server,
        &["--host", "hc.example.org", "--header", "X-Probe: yes"],
    );
    assert_eq!(out.status.code(), Some(0));
    let r = &server.wait_for(1)[0];
    assert_eq!(r.header("Host"), Some("hc.example.org"));
    assert_eq!(r.header("X-Probe"), Some("yes"));
}

#[test]
fn a_server_that_never_answers_is_unhealthy_within_the_timeout() {
    let server = Server::start();
    server.script([Reply::Hang, Reply::Hang, Reply::Hang]);
    let started = std::time::Instant::now();
    let out = probe(&server, &["--timeout", "500ms", "--retries", "2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("unhealthy: no answer within"),
        "{}",
        stdout(&out)
    );
    assert!(started.elapsed() < support::PATIENCE);
}

#[test]
fn retries_give_a_starting_service_another_chance() {
    let server = Server::start();
    server.script([answer(503, ""), answer(200, "OK")]);
    let out = probe(&server, &["--retries", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(server.requests().len(), 2);
    // Without retries, one attempt only.
    server.script([answer(503, "")]);
    assert_eq!(probe(&server, &[]).status.code(), Some(1));
    assert_eq!(server.requests().len(), 3);
    // Retries cut short by the time limit: the line says what the last attempt got, not
    // that the time ran out.
    server.script((0..20).map(|_| answer(503, "starting")));
    let out = probe(&server, &["--retries", "100", "--timeout", "600ms"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("unhealthy: status 503"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn quiet_prints_nothing() {
    let server = Server::start();
    server.script([answer(500, "")]);
    let out = probe(&server, &["--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!((stdout(&out).as_str(), stderr(&out).as_str()), ("", ""));
}

#[test]
fn https_with_a_private_ca() {
    let (ca_pem, tls) = support::tls::private_ca();
    let dir = support::TempDir::new("probe-ca");
    let ca = dir.file("ca.pem", &ca_pem);
    let server = Server::with_tls(tls);
    server.script([answer(200, "OK"), answer(200, "OK")]);
    let url = format!("https://localhost:{}/health", server.port);
    let out = run(hcwrap().args(["probe", &url, "--cacert", &ca]));
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = run(hcwrap().args(["probe", &url]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).to_lowercase().contains("certificate"),
        "{}",
        stdout(&out)
    );

    // An SSL_CERT_FILE that would block (a FIFO) is not read: the probe answers at once.
    let fifo = dir.0.join("certs-fifo");
    support::mkfifo(&fifo);
    server.script([answer(200, "OK")]);
    let child = hcwrap()
        .env("SSL_CERT_FILE", &fifo)
        .args(["probe", &url, "--cacert", &ca])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = support::finish(child);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        support::stderr(&out).contains("SSL_CERT_FILE")
            && support::stderr(&out).contains("not reading it"),
        "{}",
        support::stderr(&out)
    );
}

#[test]
fn usage_errors_exit_125() {
    for args in [
        &["ftp://x/"][..],
        &["http://x/", "--timeout", "0s"],
        &["http://x/", "--expect-status", "many"],
        // A --cacert that cannot be read is a mistake for an http URL too.
        &["http://x/", "--cacert", "/nonexistent/ca.pem"],
        &["http://x/", "-H", "Host: y"],
    ] {
        let out = run(hcwrap().arg("probe").args(args));
        assert_eq!(out.status.code(), Some(125), "{args:?}");
        assert!(
            stderr(&out).starts_with("hcwrap: error: "),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn a_closed_stdout_does_not_make_the_probe_panic() {
    let server = Server::start();
    let mut cmd = hcwrap();
    server.script([answer(200, "OK")]);
    cmd.args([
        "probe",
        &format!("http://127.0.0.1:{}/api/v3/status/", server.port),
    ]);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // Close the read end before the probe prints its verdict.
    drop(child.stdout.take());
    let out = support::finish(child);
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    assert_eq!(support::stderr(&out), "");
}

#[test]
fn expect_body_looks_in_the_first_mib_and_unhealthy_lines_say_why() {
    let server = Server::start();
    let big: &'static str =
        Box::leak(format!("status: ready\n{}", "x".repeat(2 << 20)).into_boxed_str());
    server.script([
        answer(200, big),
        answer(200, big),
        Reply::Status(
            302,
            "\u{1b}[31mgo away\r\nforged: line",
            vec![("Location", "http://login.example/sso?next=/status".into())],
        ),
    ]);
    // The text is in the first MiB of a 2 MiB body: healthy (it used to be unhealthy for
    // the body's size alone).
    let out = probe(&server, &["--expect-body", "status: ready"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = probe(&server, &["--expect-body", "status: down"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains(
            "unhealthy: status 200, but the body's first MiB does not contain 'status: down'; \
             the body starts: \"status: ready\\nxxx"
        ),
        "{}",
        stdout(&out)
    );
    // A redirect: where it pointed, and the body's first bytes, escaped.
    let out = probe(&server, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
    assert!(!stdout(&out).contains('\u{1b}'), "{}", stdout(&out));
    assert!(
        stdout(&out).starts_with(
            "unhealthy: status 302 (a redirect to http://login.example/sso?next=/status, not \
             followed); the body starts: \"\\u{1b}[31mgo away\\r\\nforged: line\" ("
        ),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_probe_hides_what_the_service_quotes_back_and_sends_credentials_decoded() {
    let server = Server::start();
    // The third quotes the password across the 100th byte, where the quote is cut.
    let across: &'static str =
        Box::leak(format!("{}S3cretPassw0rdXYZ", "A".repeat(90)).into_boxed_str());
    server.script([
        answer(
            500,
            "key=HdrValueSecret12345 auth=Basic YWxpY2U6UzNjcmV0UGFzc3cwcmRYWVo=",
        ),
        Reply::Status(
            302,
            "",
            vec![(
                "Location",
                "/k/HdrValueSecret12345/S3cretPassw0rdXYZ".into(),
            )],
        ),
        answer(500, across),
    ]);
    let url = format!(
        "http://alice:S3cretPassw0rdXYZ@127.0.0.1:{}/status",
        server.port
    );
    for _ in 0..3 {
        let out = run(hcwrap().args(["probe", &url, "-H", "X-Api-Key: HdrValueSecret12345"]));
        assert_eq!(out.status.code(), Some(1));
        let line = stdout(&out);
        for piece in ["HdrValue", "S3cretPa", "YWxpY2U6"] {
            assert!(!line.contains(piece), "{line}");
        }
    }
    let reqs = server.requests();
    assert_eq!(
        reqs[0].header("authorization"),
        Some("Basic YWxpY2U6UzNjcmV0UGFzc3cwcmRYWVo=")
    );
    assert!(reqs[0].path == "/status");
}

#[test]
fn expect_body_is_healthy_as_soon_as_the_text_has_come() {
    // 200 announcing 100 bytes, sending "OK", then nothing more: the text is there.
    let server = Server::start();
    server.script([Reply::CutShort]);
    let out = probe(&server, &["--expect-body", "OK", "--timeout", "30s"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}
