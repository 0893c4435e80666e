//! How hcwrap talks to a server that misbehaves: retries, final answers, redirects.
//! In every case the command's exit status comes out unchanged.

mod support;

use std::time::Duration;

use support::{Reply, Server, UUID, hcwrap, run, stderr, wrapped};

#[test]
fn a_server_refusing_connections_never_changes_the_exit_status() {
    // A port that was just free: nothing listens there.
    let port = support::dead_port();
    let url = format!("http://127.0.0.1:{port}/ping/{UUID}");
    let out = wrapped(
        &url,
        &["--ping-retries", "2"],
        &["sh", "-c", "echo output; exit 7"],
    );
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(support::stdout(&out), "output\n");
    let err = stderr(&out);
    // One line for both pings: a server that is down is one problem.
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("hcwrap: neither the start ping (given up after 1 attempt) nor the final ping for exit status 7 (3 attempts) was recorded by http://127.0.0.1:")
            && err.contains("/ping/1f1c…: Connection refused (os error 111); kept in ")
            && err.ends_with(": the next run, or `hcwrap flush`, delivers it\n"),
        "{err}"
    );
    assert!(
        !err.contains(UUID),
        "the UUID is never printed whole: {err}"
    );
    for line in err.lines() {
        assert!(line.starts_with("hcwrap: "), "{line}");
    }
}

#[test]
fn server_errors_are_retried_with_the_whole_body() {
    let server = Server::start();
    server.script([
        Reply::Normal,
        Reply::Status(500, "oops", vec![]),
        Reply::Status(503, "", vec![]),
    ]);
    let out = wrapped(
        &server.check_url(),
        &[],
        &["sh", "-c", "echo the-output; exit 2"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "",
        "a retried and then delivered ping says nothing"
    );
    let reqs = server.wait_for(4);
    assert_eq!(reqs.len(), 4);
    for r in &reqs[1..] {
        assert_eq!(r.suffix(), "/2");
        assert_eq!(r.body_text(), "the-output\n[hcwrap] exit status 2\n");
        assert_eq!(r.rid(), reqs[0].rid());
    }
}

#[test]
fn a_404_is_not_retried_and_is_explained_once() {
    let server = Server::start();
    let unknown = format!(
        "{}/ping/{}",
        server.api_url().trim_end_matches("/ping"),
        "0f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b"
    );
    let out = wrapped(&unknown, &[], &["true"]);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert_eq!(
        err,
        format!(
            "hcwrap: neither the start ping (refused) nor the success ping (refused) was recorded by \
             {}/ping/0f1c…: 404 not found: the server does not know this check: check the UUID, \
             or the slug and ping key\n",
            server.api_url().trim_end_matches("/ping")
        )
    );
    assert_eq!(
        server.requests().len(),
        2,
        "one request per ping, no retries"
    );
}

#[test]
fn an_answer_that_quotes_the_url_back_is_redacted() {
    let server = Server::start();
    let page: &'static str = Box::leak(format!("No route for /ping/{UUID}/start").into_boxed_str());
    server.script([
        Reply::Status(404, page, vec![]),
        Reply::Status(404, page, vec![]),
    ]);
    let out = wrapped(&server.check_url(), &[], &["true"]);
    let err = stderr(&out);
    assert!(err.contains("404 No route for /ping/1f1c…/start"), "{err}");
    assert!(!err.contains(UUID), "{err}");
}

#[test]
fn a_409_and_a_400_are_explained() {
    let server = Server::start();
    server.script([
        Reply::Status(409, "ambiguous slug", vec![]),
        Reply::Status(400, "invalid url format", vec![]),
    ]);
    let out = wrapped(&server.check_url(), &[], &["true"]);
    let err = stderr(&out);
    assert!(
        err.contains("409 ambiguous slug: more than one check has this slug"),
        "{err}"
    );
    assert!(
        err.contains("400 invalid url format: the server rejected the URL"),
        "{err}"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_429_waits_as_retry_after_says() {
    let server = Server::start();
    server.script([
        Reply::Normal,
        Reply::Status(429, "", vec![("Retry-After", "1".into())]),
    ]);
    let out = wrapped(&server.check_url(), &[], &["true"]);
    assert_eq!(out.status.code(), Some(0));
    let reqs = server.wait_for(3);
    assert_eq!(reqs[1].suffix(), "");
    assert_eq!(reqs[2].suffix(), "");
    let waited = reqs[2].at - reqs[1].at;
    assert!(
        waited >= Duration::from_millis(950),
        "retried after {waited:?}"
    );
}

#[test]
fn redirects_send_the_body_again_whole() {
    for (status, location) in [(308, "absolute"), (307, "/ping/relative")] {
        let server = Server::start();
        let target = format!("/ping/{UUID}/5");
        let location = match location {
            "absolute" => format!("http://127.0.0.1:{}{target}", server.port),
            _ => target.clone(),
        };
        server.script([Reply::Status(status, "", vec![("Location", location)])]);
        let out = wrapped(
            &server.check_url(),
            &["--no-start-ping"],
            &["sh", "-c", "echo body; exit 5"],
        );
        assert_eq!(out.status.code(), Some(5));
        assert_eq!(stderr(&out), "");
        let reqs = server.wait_for(2);
        assert_eq!(reqs.len(), 2, "{reqs:#?}");
        assert_eq!(reqs[1].path, target);
        for r in &reqs {
            assert_eq!(r.method, "POST");
            assert_eq!(r.body_text(), "body\n[hcwrap] exit status 5\n");
        }
    }
}

#[test]
fn a_redirect_to_another_origin_is_refused_and_gets_nothing() {
    // The other origin is another port of the same address: what an access proxy's login
    // page, or a hostile server, would be.
    let elsewhere = Server::start();
    for location in [
        elsewhere.check_url(),
        format!("//127.0.0.1:{}/ping/{UUID}", elsewhere.port),
    ] {
        let server = Server::start();
        server.script([Reply::Status(307, "", vec![("Location", location.clone())])]);
        let out = wrapped(
            &server.check_url(),
            &[
                "--no-start-ping",
                "--no-run-id",
                "--header",
                "Authorization: Bearer TOPSECRET-VALUE",
            ],
            &["sh", "-c", "echo private-output; exit 4"],
        );
        assert_eq!(out.status.code(), Some(4));
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "the final ping for exit status 4 to http://127.0.0.1:{}/ping/1f1c…/4 was refused: 307: a redirect \
                 to http://127.0.0.1:{}, which is not where the ping was sent",
                server.port, elsewhere.port
            )),
            "{location}: {err}"
        );
        assert!(!err.contains("TOPSECRET"), "{err}");
        assert_eq!(server.requests().len(), 1, "{location}: retried or looped");
    }
    assert!(
        elsewhere.requests().is_empty(),
        "{:#?}",
        elsewhere.requests()
    );
}

#[test]
fn redirect_hops_share_the_attempt_s_time_limit() {
    // Two slow same-origin redirects of 0.6 s each: the second one ends past the 1 s
    // limit of the attempt, so the third request is never made.
    let server = Server::start();
    let hop = || {
        Reply::Late(
            Duration::from_millis(600),
            Box::new(Reply::Status(
                307,
                "",
                vec![("Location", format!("/ping/{UUID}/3"))],
            )),
        )
    };
    server.script([hop(), hop()]);
    let out = wrapped(
        &server.check_url(),
        &[
            "--no-start-ping",
            "--ping-timeout",
            "1s",
            "--ping-retries",
            "0",
        ],
        &["sh", "-c", "exit 3"],
    );
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains("could not deliver the final ping for exit status 3")
            && err.contains("no answer within 1s"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 2, "{:#?}", server.requests());
}

#[test]
fn an_ok_whose_text_is_cut_short_is_delivered_without_a_false_report() {
    // 200 with a body that never comes whole: the status says it was recorded; hcwrap
    // must not report that the server "answered with \"\"".
    let server = Server::start();
    server.script([Reply::CutShort]);
    let out = wrapped(
        &server.check_url(),
        &["--no-start-ping", "--ping-timeout", "1s"],
        &["true"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "");
    assert_eq!(server.requests().len(), 1, "not retried");
}

#[test]
fn an_ok_without_a_length_is_taken_at_once() {
    // 200 with no Content-Length on a connection the server keeps open: the status says
    // the ping was recorded; waiting for the end of the body would take the whole timeout.
    let server = Server::start();
    server.script([Reply::Unframed("OK")]);
    let out = wrapped(
        &server.check_url(),
        &["--no-start-ping", "--ping-timeout", "60s"],
        &["true"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn an_ok_that_is_not_ok_is_delivered_but_reported() {
    let server = Server::start();
    server.script([
        Reply::Normal,
        Reply::Status(200, "OK (rate limited)", vec![]),
    ]);
    let out = wrapped(&server.check_url(), &[], &["true"]);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("answered the success ping with \"OK (rate limited)\""),
        "{err}"
    );
    assert_eq!(server.requests().len(), 2, "not retried");
}

#[test]
fn a_server_that_never_answers_costs_at_most_the_ping_timeouts() {
    let server = Server::start();
    server.script([Reply::Hang, Reply::Hang]);
    let started = std::time::Instant::now();
    let out = wrapped(
        &server.check_url(),
        &["--ping-timeout", "500ms", "--ping-retries", "0"],
        &["sh", "-c", "exit 9"],
    );
    assert_eq!(out.status.code(), Some(9));
    let err = stderr(&out);
    assert!(err.contains("no answer within 500ms"), "{err}");
    assert_eq!(server.requests().len(), 2);
    assert!(started.elapsed() < support::PATIENCE);
}

#[test]
fn the_start_limit_header_sizes_a_larger_body() {
    // The server allows more than the default 100,000 bytes: the body may use it.
    let server = Server::with_limit(Some(150_000));
    // The output starts once hcwrap has read the server's answer to the start ping and
    // remembered its limit (after letting the ring grow to it): under emulation
    // (qemu-user) reading the answer can take longer than 10 MB of output does.
    let cache = support::TempDir::new("limit-cache");
    let mut cmd = hcwrap();
    cmd.env("XDG_CACHE_HOME", &cache.0);
    cmd.args(["--url", &server.check_url(), "--quiet", "--"]);
    cmd.args([
        "sh",
        "-c",
        "read x; head -c 10000000 /dev/zero | tr '\\0' a",
    ]);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let remembered = cache.0.join("hcwrap");
    support::wait_until("the limit remembered", || {
        std::fs::read_dir(&remembered).is_ok_and(|mut d| d.next().is_some())
    });
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"go\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let body = &server.wait_for(2)[1].body;
    assert!(
        body.len() > 140_000 && body.len() <= 150_000,
        "{} bytes",
        body.len()
    );
}

#[test]
fn pings_go_through_the_proxy_the_environment_names_unless_no_proxy_says_otherwise() {
    // The test server plays the proxy: it receives requests for another host.
    let proxy = Server::start();
    let mut cmd = hcwrap();
    cmd.env("http_proxy", format!("http://127.0.0.1:{}", proxy.port));
    cmd.args([
        "--url",
        &format!("http://hc.invalid/ping/{UUID}"),
        "--",
        "true",
    ]);
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "");
    let reqs = proxy.wait_for(2);
    assert_eq!(reqs[1].path, format!("/ping/{UUID}"));
    assert_eq!(reqs[1].header("Host"), Some("hc.invalid"));
    assert_eq!(reqs[1].tunnel.as_deref(), Some("hc.invalid:80"));

    // NO_PROXY covers the server: the proxy (a dead port) is not used.
    let server = Server::start();
    let dead = support::dead_port();
    let mut cmd = hcwrap();
    cmd.env("http_proxy", format!("http://127.0.0.1:{dead}"))
        .env("NO_PROXY", "localhost 10.0.0.0/8,127.0.0.0/8");
    cmd.args(["--url", &server.check_url(), "--", "true"]);
    assert_eq!(run(&mut cmd).status.code(), Some(0));
    assert_eq!(server.wait_for(2).len(), 2);

    // A proxy that is not there: the message says the failure was on the way through it.
    let out = run(hcwrap().args([
        "--ping-retries",
        "0",
        "--proxy",
        &format!("http://127.0.0.1:{dead}"),
        "--url",
        &server.check_url(),
        "--",
        "true",
    ]));
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains(&format!("(through the proxy 127.0.0.1:{dead})")),
        "{}",
        stderr(&out)
    );

    // Upper-case HTTP_PROXY is not read for an http check, as curl does not ("httpoxy"):
    // the pings go straight to the server.
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.env("HTTP_PROXY", format!("http://127.0.0.1:{dead}"));
    cmd.args(["--url", &server.check_url(), "--", "true"]);
    let out = run(&mut cmd);
    assert_eq!((out.status.code(), stderr(&out)), (Some(0), String::new()));
    assert_eq!(server.wait_for(2).len(), 2);
}

#[test]
fn https_with_a_private_ca_needs_cacert() {
    let (ca_pem, tls) = support::tls::private_ca();
    let dir = support::TempDir::new("cacert");
    let ca_file = dir.file("ca.pem", &ca_pem);

    let server = Server::with_tls(tls.clone());
    let out = wrapped(
        &server.check_url(),
        &["--cacert", &ca_file],
        &["sh", "-c", "echo secure; exit 3"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stderr(&out), "");
    let reqs = server.wait_for(2);
    assert_eq!(reqs[1].body_text(), "secure\n[hcwrap] exit status 3\n");
    assert_eq!(
        reqs[0].connection, reqs[1].connection,
        "one TLS connection for the run"
    );

    // Without it the server's certificate is not trusted: nothing is recorded, and the
    // command's exit status still comes out unchanged. A retry cannot mend that, so each
    // ping is refused at its first attempt (with the default five retries), saying what
    // to do.
    let server = Server::with_tls(tls);
    let out = wrapped(&server.check_url(), &[], &["sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains("neither the start ping (refused) nor the final ping for exit status 3 (refused) was recorded by https://localhost:")
            && err.contains(": the secure connection failed (invalid peer certificate")
            && err.contains("give it with --cacert"),
        "{err}"
    );
    assert!(!err.contains("attempt"), "retried: {err}");
    assert!(server.requests().is_empty());
}

#[test]
fn a_429_without_retry_after_backs_off_and_retries() {
    let server = Server::start();
    server.script([Reply::Normal, Reply::Status(429, "", vec![])]);
    let out = wrapped(&server.check_url(), &[], &["true"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "");
    let reqs = server.wait_for(3);
    assert_eq!(
        (reqs[1].suffix(), reqs[2].suffix()),
        (String::new(), String::new())
    );
}

#[test]
fn a_proxy_that_refuses_the_tunnel_is_not_retried() {
    // A proxy that answers every CONNECT with 403, and counts them.
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = proxy.local_addr().unwrap().port();
    let connects = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = connects.clone();
    std::thread::spawn(move || {
        for stream in proxy.incoming() {
            let Ok(mut stream) = stream else { return };
            // The whole request head, so that closing sends no reset.
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n")
                && std::io::Read::read(&mut stream, &mut byte).unwrap_or(0) == 1
            {
                head.push(byte[0]);
            }
            if head.starts_with(b"CONNECT ") {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            let _ = std::io::Write::write_all(
                &mut stream,
                b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
            );
            let _ = stream.shutdown(std::net::Shutdown::Write);
            let _ = std::io::Read::read_to_end(&mut stream, &mut Vec::new());
        }
    });
    let out = run(hcwrap().args([
        "--proxy",
        &format!("http://127.0.0.1:{port}"),
        "--url",
        &format!("https://hc.invalid/ping/{UUID}"),
        "--",
        "sh",
        "-c",
        "exit 6",
    ]));
    assert_eq!(out.status.code(), Some(6));
    let err = stderr(&out);
    assert!(
        err.contains("(refused) was recorded by https://hc.invalid/ping/1f1c…: the proxy refused to open a tunnel to the server"),
        "{err}"
    );
    assert!(!err.contains("attempt"), "retried: {err}");
    assert_eq!(
        connects.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "{err}"
    );
}

#[test]
fn credentials_in_the_url_are_sent_decoded_as_curl_sends_them() {
    let server = Server::start();
    let url = format!(
        "http://alice:p%40ss%3Aw0rd@127.0.0.1:{}/ping/{UUID}",
        server.port
    );
    let out = wrapped(&url, &["--no-start-ping"], &["true"]);
    assert_eq!((out.status.code(), stderr(&out)), (Some(0), String::new()));
    let reqs = server.wait_for(1);
    // base64 of alice:p@ss:w0rd
    assert_eq!(
        reqs[0].header("authorization"),
        Some("Basic YWxpY2U6cEBzczp3MHJk")
    );
}

/// An `SSL_CERT_FILE` that is a FIFO (or another file that would block) is not read: the
/// pings go out with the other trust roots instead of waiting forever for a writer.
#[test]
fn an_ssl_cert_file_that_would_block_is_not_read() {
    let (ca_pem, tls) = support::tls::private_ca();
    let dir = support::TempDir::new("cert-fifo");
    let ca_file = dir.file("ca.pem", &ca_pem);
    let fifo = dir.0.join("certs-fifo");
    support::mkfifo(&fifo);
    let server = Server::with_tls(tls);
    let child = hcwrap()
        .env("SSL_CERT_FILE", &fifo)
        .args(["--url", &server.check_url(), "--cacert", &ca_file])
        .args(["--", "sh", "-c", "echo secure; exit 3"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // finish() fails the test if hcwrap hangs.
    let out = support::finish(child);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert_eq!(
        err,
        format!(
            "hcwrap: warning: SSL_CERT_FILE ({}) is not a readable regular file of at most 16 MiB; not reading it\n",
            fifo.display()
        )
    );
    assert_eq!(
        server.wait_for(2)[1].body_text(),
        "secure\n[hcwrap] exit status 3\n"
    );

    // /dev/zero would fill the memory; a directory in SSL_CERT_DIR holding a FIFO would
    // block as the FIFO does. Neither is read.
    let certs = dir.0.join("certs");
    std::fs::create_dir(&certs).unwrap();
    support::mkfifo(&certs.join("fifo.pem"));
    // And a file too large for a certificate bundle (sparse: it takes no room).
    let huge = dir.0.join("huge-certs");
    std::fs::create_dir(&huge).unwrap();
    std::fs::File::create(huge.join("big.pem"))
        .unwrap()
        .set_len(17 << 20)
        .unwrap();
    let cert_dirs = format!("{}:{}", certs.display(), huge.display());
    let child = hcwrap()
        .env("SSL_CERT_FILE", "/dev/zero")
        .env("SSL_CERT_DIR", &cert_dirs)
        .args([
            "ping",
            "log",
            "--url",
            &server.check_url(),
            "--cacert",
            &ca_file,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = support::finish(child);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("SSL_CERT_FILE (/dev/zero) is not a readable regular file")
            && err.contains(&format!(
                "SSL_CERT_DIR ({}) holds a file that is not a regular file",
                certs.display()
            ))
            && err.contains(&format!("SSL_CERT_DIR ({}) holds", huge.display())),
        "{err}"
    );
    assert_eq!(server.wait_for(3)[2].suffix(), "/log");
}
