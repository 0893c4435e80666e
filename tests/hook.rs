//! `hcwrap ping`: one ping from a hook, with the wrapped run's check options and body rules.

mod support;

use std::io::Write;
use std::os::unix::ffi::OsStringExt;
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
fn refusal_and_failure_say_one_line_and_exit_1_with_strict() {
    let server = Server::start();
    server.script([Reply::Status(404, "not found", vec![])]);
    let out = ping(&server, &["success", "--strict"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("was refused: 404 not found: the server does not know this check"),
        "{err}"
    );
    assert!(!err.contains(UUID));

    let port = support::dead_port();
    let mut cmd = hcwrap();
    cmd.args([
        "ping",
        "fail",
        "--strict",
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
    let out = ping(
        &server,
        &["log", "--strict", "--body-file", "/nonexistent/log"],
    );
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("--body-file: cannot read /nonexistent/log"));
    assert!(server.requests().is_empty());
    for args in [
        &["log", "--message-env", ""][..],
        &["log", "--message-env", "A=B"],
    ] {
        let out = ping(&server, args);
        assert_eq!(out.status.code(), Some(125), "{args:?}");
        assert!(
            stderr(&out).contains("--message-env: give the name of a variable"),
            "{}",
            stderr(&out)
        );
    }

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
fn a_server_that_never_answers_costs_the_ping_timeout_then_exit_1_with_strict() {
    let server = Server::start();
    server.script([Reply::Hang]);
    let out = ping(
        &server,
        &[
            "fail",
            "--strict",
            "--ping-timeout",
            "300ms",
            "--ping-retries",
            "0",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("after 1 attempt: no answer within 300ms"),
        "{err}"
    );
}

/// A monitoring outage must not fail the hook: a backup tool cancels the backup when a
/// `before` hook fails. By default the ping that cannot be delivered costs at most
/// --max-time and the hook exits 0, with one line saying so.
#[test]
fn an_outage_neither_fails_the_hook_nor_holds_it_past_max_time() {
    // A server that never answers: the attempt is cut at what is left of --max-time
    // (1s), not at --ping-timeout (10s by default).
    let server = Server::start();
    server.script([Reply::Hang, Reply::Hang, Reply::Hang]);
    let started = std::time::Instant::now();
    let out = ping(&server, &["start", "--max-time", "1s"]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("could not deliver the start ping to ")
            && err.contains("within --max-time 1s")
            && err.contains("no answer"),
        "{err}"
    );
    // The bound is --max-time from hcwrap's start, kept by the clock (a socket timeout
    // alone overran it by a tenth of a second and more); the slack is hcwrap's start-up
    // on a busy machine.
    assert!(took < std::time::Duration::from_millis(1800), "{took:?}");

    // Nothing listening: retries go on while the next one fits in --max-time.
    let port = support::dead_port();
    let mut cmd = hcwrap();
    cmd.args([
        "ping",
        "start",
        "--max-time",
        "2s",
        "--url",
        &format!("http://127.0.0.1:{port}/ping/{UUID}"),
    ]);
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    // The backoffs (0.25-0.5 s, 0.5-1 s, 1-2 s: jittered) let two to four attempts fit.
    assert!(
        ["2", "3", "4"]
            .iter()
            .any(|n| err.contains(&format!("within --max-time 2s ({n} attempts): "))),
        "{err}"
    );
}

#[test]
fn without_a_check_the_hook_warns_and_goes_on_unless_strict() {
    let mut cmd = hcwrap();
    cmd.args(["ping", "log", "--message", "step done"])
        .env_remove("HC_PING_URL")
        .env_remove("CHECK_UUID")
        .env("CHECK_SLUG", "");
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stderr(&out),
        "hcwrap: warning: no ping sent: no check chosen: give --url, --uuid, or --slug with \
         --ping-key (or set HC_PING_URL, CHECK_UUID, or CHECK_SLUG with HC_PING_KEY) \
         (--strict refuses instead)\n"
    );

    let dir = TempDir::new("hook-unmonitored");
    let mut cmd = hcwrap();
    cmd.args(["ping", "fail", "--strict"]).env(
        "CHECK_UUID",
        format!("file:{}", dir.0.join("renamed.uuid").display()),
    );
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("renamed.uuid"), "{}", stderr(&out));

    // A log piped into an unmonitored hook is read to its end: the writer does not die of
    // SIGPIPE (a `set -o pipefail` script would fail on it).
    let mut child = hcwrap()
        .args(["ping", "log", "--body-file", "-"])
        .env_remove("HC_PING_URL")
        .env_remove("CHECK_UUID")
        .env_remove("CHECK_SLUG")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(&vec![b'x'; 4 << 20])
        .expect("the hook stopped reading what was piped in");
    drop(stdin);
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(0));
}

/// Text for the body that never goes through a shell's parsing: a backup tool's error
/// with quotes, backticks and `$(...)` arrives as it was.
#[test]
fn message_env_sends_the_variable_as_it_is() {
    let server = Server::start();
    let error = "repo \"main\" failed: `rm -rf /` $(reboot) ${HOME} 'x'\n\tline two";
    let mut cmd = hcwrap();
    cmd.args(["ping", "fail", "--message-env", "BACKUP_ERROR"])
        .args(["--url", &server.check_url()])
        .env("BACKUP_ERROR", error);
    assert_eq!(run(&mut cmd).status.code(), Some(0));
    let got = &server.wait_for(1)[0];
    assert_eq!(got.suffix(), "/fail");
    assert_eq!(got.body_text(), error);

    // Unset: an empty body, the ping still goes.
    let mut cmd = hcwrap();
    cmd.args(["ping", "fail", "--message-env", "NO_SUCH_VARIABLE_HERE"])
        .args(["--url", &server.check_url()])
        .env_remove("NO_SUCH_VARIABLE_HERE");
    assert_eq!(run(&mut cmd).status.code(), Some(0));
    assert_eq!(server.wait_for(2)[1].body_text(), "");

    let out = ping(&server, &["log", "--message", "a", "--message-env", "X"]);
    assert_eq!(out.status.code(), Some(125));
}

/// A self-hosted server keeps the first 10,000 bytes of a longer body: a single ping has
/// no start ping to learn the limit from, so each server's announced limit is remembered.
#[test]
fn a_servers_body_limit_is_remembered_for_pings_that_cannot_learn_it() {
    let server = Server::with_limit(Some(10_000));
    let cache = TempDir::new("limit-cache");
    let work = TempDir::new("limit-cache-log");
    let log = (0..20_000).fold(String::new(), |mut log, i| {
        log.push_str("line ");
        log.push_str(&i.to_string());
        log.push('\n');
        log
    });
    let log = work.file("log", &log);
    let hook = |args: &[&str]| {
        let mut cmd = hcwrap();
        cmd.env("XDG_CACHE_HOME", &cache.0)
            .args(["ping", "fail", "--body-file", &log])
            .args(args)
            .args(["--url", &server.check_url()]);
        run(&mut cmd)
    };

    // Nothing remembered yet: the default 100,000 bytes go.
    assert_eq!(hook(&[]).status.code(), Some(0));
    assert_eq!(server.wait_for(1)[0].body.len(), 100_000);

    // The answer said 10,000, which is now remembered: the tail is kept within it.
    assert_eq!(hook(&[]).status.code(), Some(0));
    let body = server.wait_for(2)[1].body_text();
    assert!(body.len() <= 10_000, "{}", body.len());
    assert!(body.ends_with("line 19999\n"), "{body}");

    // So does a wrapped run with no start ping, and --body-limit can only lower it.
    let mut cmd = hcwrap();
    cmd.env("XDG_CACHE_HOME", &cache.0)
        .args(["--no-start-ping", "--url", &server.check_url(), "--"])
        .args(["sh", "-c", &format!("cat {log}; exit 3")]);
    assert_eq!(run(&mut cmd).status.code(), Some(3));
    let body = server.wait_for(3)[2].body_text();
    assert!(body.len() <= 10_000, "{}", body.len());
    assert!(
        body.contains("line 19999\n") && body.ends_with("exit status 3\n"),
        "{body}"
    );
    assert_eq!(hook(&["--body-limit", "500"]).status.code(), Some(0));
    assert!(server.wait_for(4)[3].body.len() <= 500);

    // Another server is another file: its limit is its own.
    let other = Server::start();
    let mut cmd = hcwrap();
    cmd.env("XDG_CACHE_HOME", &cache.0)
        .args(["ping", "fail", "--body-file", &log])
        .args(["--url", &other.check_url()]);
    assert_eq!(run(&mut cmd).status.code(), Some(0));
    assert_eq!(other.wait_for(1)[0].body.len(), 100_000);
}

/// The log a failed job never wrote must not cancel its failure ping; a message that
/// starts with '-' is a message; Retry-After past --max-time is said to be the reason.
#[test]
fn a_hook_sends_what_it_can() {
    let server = Server::start();
    let out = ping(&server, &["fail", "--body-file", "/nonexistent/job.log"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stderr(&out),
        "hcwrap: warning: --body-file: cannot read /nonexistent/job.log: No such file or \
         directory (os error 2); sending the ping without it\n"
    );
    let got = server.wait_for(1);
    assert_eq!(got[0].suffix(), "/fail");
    assert_eq!(
        got[0].body_text(),
        "[hcwrap] --body-file: cannot read /nonexistent/job.log: No such file or directory \
         (os error 2)\n"
    );

    // A device never ends: it is not read, and the ping goes with a note.
    let out = ping(&server, &["log", "--body-file", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("--body-file: /dev/zero is a device, not a file or a pipe"),
        "{}",
        stderr(&out)
    );
    server.wait_for(2);

    let out = ping(
        &server,
        &["fail", "--message", "-rf: unknown option --help"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        server.wait_for(3)[2].body_text(),
        "-rf: unknown option --help"
    );

    let busy = Server::start();
    busy.script([Reply::Status(
        429,
        "slow down",
        vec![("Retry-After", "60".to_owned())],
    )]);
    let out = ping(&busy, &["fail", "--max-time", "5s"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains(
            "within --max-time 5s (1 attempt): the server answered 429 slow down, and asked to \
             retry after 1m"
        ),
        "{}",
        stderr(&out)
    );
}

/// The cache is made only in the user's own home: never the home directory itself (Debian's
/// `nobody` has HOME=/nonexistent), nor a `~/.cache` in another user's home (`sudo -E`).
#[test]
fn the_limit_cache_makes_nothing_outside_the_users_own_home() {
    let server = Server::with_limit(Some(10_000));
    let dir = TempDir::new("cache-homes");
    let ping_with_home = |home: &std::path::Path| {
        let mut cmd = hcwrap();
        cmd.env("HOME", home)
            .args(["ping", "start", "--url", &server.check_url()]);
        assert_eq!(run(&mut cmd).status.code(), Some(0));
    };

    let missing = dir.0.join("nonexistent");
    ping_with_home(&missing);
    assert!(!missing.exists(), "the home directory was made");

    let own = dir.0.join("home");
    std::fs::create_dir(&own).unwrap();
    ping_with_home(&own);
    let cache = own.join(".cache/hcwrap");
    let files: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
    assert_eq!(files.len(), 1, "one server, one file");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(own.join(".cache")).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o700);

    // A home that is a symbolic link to the user's own directory is the user's home.
    let linked = dir.0.join("linked-home");
    std::os::unix::fs::symlink(&own, &linked).unwrap();
    std::fs::remove_dir_all(own.join(".cache")).unwrap();
    ping_with_home(&linked);
    assert!(own.join(".cache/hcwrap").is_dir(), "nothing remembered");

    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } == 0 {
        let others = dir.0.join("alice");
        std::fs::create_dir(&others).unwrap();
        std::os::unix::fs::chown(&others, Some(65534), Some(65534)).unwrap();
        ping_with_home(&others);
        assert!(
            !others.join(".cache").exists(),
            "a .cache was made in another user's home"
        );
    }
}

/// What the second attack found. A slow producer piping into the hook: --max-time bounds
/// the sending, not the reading. Secrets and texts that start with '-', or are not UTF-8.
/// `Retry-After: 0` on a 429 gets the usual backoff, not a flood.
#[test]
fn slow_input_odd_values_and_retry_after_zero() {
    let server = Server::start();
    // The producer's pause is the scenario, not a wait for an event.
    let out = run(std::process::Command::new("sh")
        .env_clear()
        .env("HC_PING_URL", server.check_url())
        .arg("-c")
        .arg(format!(
            "(sleep 1.5; echo done) | {} ping log --max-time 1s --body-file -",
            env!("CARGO_BIN_EXE_hcwrap")
        )));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    assert_eq!(server.wait_for(1)[0].body_text(), "done\n");

    let mut cmd = hcwrap();
    cmd.args(["ping", "fail", "--dry-run", "--slug", "backup"])
        .args(["--ping-key", "-Xk3abcdefghijklmnopqr"]);
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("Xk3abcdefghijkl"),
        "{}",
        stderr(&out)
    );

    let text = std::ffi::OsString::from_vec(b"caf\xe9 error".to_vec());
    let mut cmd = hcwrap();
    cmd.args([
        "ping",
        "fail",
        "--url",
        &server.check_url(),
        "--message-env",
        "E",
    ])
    .env("E", &text);
    assert_eq!(run(&mut cmd).status.code(), Some(0));
    let mut cmd = hcwrap();
    cmd.args(["ping", "fail", "--url", &server.check_url(), "--message"])
        .arg(&text);
    assert_eq!(run(&mut cmd).status.code(), Some(0));
    let got = server.wait_for(3);
    assert_eq!(got[1].body_text(), "caf\u{fffd} error");
    assert_eq!(got[2].body_text(), "caf\u{fffd} error");

    let busy = Server::start();
    let retry_now = || Reply::Status(429, "slow down", vec![("Retry-After", "0".to_owned())]);
    busy.script([retry_now(), retry_now(), retry_now()]);
    let out = ping(&busy, &["fail", "--ping-retries", "2"]);
    assert_eq!(out.status.code(), Some(0));
    let got = busy.wait_for(3);
    // The first backoff is 0.25 to 0.5 s, the second 0.5 to 1 s.
    assert!(got[1].at - got[0].at >= std::time::Duration::from_millis(250));
    assert!(got[2].at - got[1].at >= std::time::Duration::from_millis(500));
}
