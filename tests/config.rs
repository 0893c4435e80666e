//! Mistakes in the configuration: caught before the command runs, one line naming the
//! flag, exit status 125, no secret shown, nothing sent.

mod support;

use support::{PING_KEY, Server, TempDir, UUID, hcwrap, run, stderr};

/// Runs hcwrap `--strict` with `args` and a command that would leave a marker file;
/// asserts the command did not run and one `hcwrap: error:` line came out. Returns that
/// line. (`--strict`: a check the environment fails to give is refused too, rather than
/// leaving the run unmonitored; see `what_the_environment_gets_wrong_...` below.)
fn refused(args: &[&str], env: &[(&str, &str)]) -> String {
    let dir = TempDir::new(&format!(
        "refused-{}",
        args.join("-").replace(['/', ':'], "_")
    ));
    let marker = dir.0.join("ran");
    let mut cmd = hcwrap();
    cmd.envs(env.iter().copied())
        .arg("--strict")
        .args(args)
        .arg("--")
        .args(["touch", marker.to_str().unwrap()]);
    let out = run(&mut cmd);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(125), "{args:?}: {err}");
    assert!(!marker.exists(), "{args:?}: the command must not run");
    assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
    assert!(err.starts_with("hcwrap: error: "), "{err}");
    for secret in [UUID, PING_KEY] {
        assert!(!err.contains(secret), "{args:?}: secret shown: {err}");
    }
    err
}

#[test]
fn two_checks_on_the_command_line_are_refused_naming_both() {
    let server = Server::start();
    let other = "2f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b";
    let err = refused(&["--url", &server.check_url(), "--uuid", other], &[]);
    assert!(
        err.contains("--url and --uuid name different checks"),
        "{err}"
    );
    let err = refused(
        &["--uuid", UUID, "--slug", "s", "--ping-key", PING_KEY],
        &[],
    );
    assert!(
        err.contains("--uuid and --slug name different checks"),
        "{err}"
    );
    assert!(server.requests().is_empty());
}

#[test]
fn two_checks_in_the_environment_are_refused_naming_both() {
    let err = refused(
        &[],
        &[
            ("HC_PING_URL", &format!("https://hc-ping.com/{UUID}")),
            ("CHECK_SLUG", "x"),
            ("PING_KEY", PING_KEY),
        ],
    );
    assert!(
        err.contains("HC_PING_URL and CHECK_SLUG name different checks"),
        "{err}"
    );
}

#[test]
fn the_command_line_beats_the_environment() {
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.env(
        "HC_PING_URL",
        "https://hc-ping.com/2f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b",
    )
    .env("CHECK_SLUG", "other");
    cmd.args(["--url", &server.check_url(), "--", "true"]);
    assert_eq!(run(&mut cmd).status.code(), Some(0));
    assert_eq!(server.wait_for(2)[1].path, format!("/ping/{UUID}"));
}

#[test]
fn upper_case_uuids_are_accepted_and_lowered() {
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.env("CHECK_UUID", UUID.to_uppercase())
        .env("HC_API_URL", server.api_url())
        .args(["--", "true"]);
    assert_eq!(run(&mut cmd).status.code(), Some(0));
    assert_eq!(server.wait_for(2)[0].path, format!("/ping/{UUID}/start"));
}

/// Arguments, environment, and what the error line must say.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[test]
fn a_slug_typed_wrong_is_refused_even_without_a_ping_key() {
    // The key may be missing from the environment (a CI fork): that runs unmonitored; a
    // slug typed wrong is the command line's mistake all the same.
    let out = run(hcwrap().args(["--slug=", "--", "true"]));
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).starts_with("hcwrap: error: --slug: '' is not a slug the server accepts"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_empty_url_is_called_empty() {
    assert!(
        refused(&["--url", ""], &[])
            .contains("--url: the value is empty; give a URL such as https://hc-ping.com/<uuid>")
    );
}

#[test]
fn each_mistake_is_named() {
    let cases: &[Case] = &[
        (&[], &[], "no check chosen"),
        (
            &["--uuid", "1f1c2e3d4b5a69788a9b0c1d2e3f4a5b"],
            &[],
            "--uuid: '1f1c…' is not a check UUID",
        ),
        (
            &[],
            &[("CHECK_UUID", "nope")],
            "from CHECK_UUID: --uuid: '…' is not a check UUID",
        ),
        (
            &["--slug", "Nightly Backup", "--ping-key", PING_KEY],
            &[],
            "--slug: 'Nightly Backup' is not a slug the server accepts",
        ),
        (
            &["--slug", "nightly"],
            &[],
            "--slug names a check by slug, which needs a ping key",
        ),
        (
            &["--uuid", UUID, "--create"],
            &[],
            "--create works only with a check named by --slug",
        ),
        (
            &["--url", "ftp://hc-ping.com/x"],
            &[],
            "--url: 'ftp://hc-ping.com/…' is not an http:// or https:// URL",
        ),
        (
            &["--url", &format!("hc-ping.com/{UUID}")],
            &[],
            "is not an http:// or https:// URL",
        ),
        (
            &["--uuid", UUID, "--api-url", "hc.example.org/ping"],
            &[],
            "--api-url: ",
        ),
        (
            &["--uuid", UUID, "--body-limit", "lots"],
            &[],
            "invalid value 'lots' for '--body-limit <BYTES>'",
        ),
        (
            &["--uuid", UUID, "--ping-timeout", "soon"],
            &[],
            "invalid value 'soon' for '--ping-timeout <DURATION>'",
        ),
        (
            &["--uuid", UUID, "--on-success", "maybe"],
            &[],
            "invalid value 'maybe' for '--on-success <PING>'",
        ),
        (
            &["--uuid", UUID, "--header", "X-Token"],
            &[],
            "--header: '…' has no ':'; give it as 'Name: value'",
        ),
        (
            &["--uuid", UUID, "--cacert", "/nonexistent/ca.pem"],
            &[],
            "--cacert: cannot read /nonexistent/ca.pem",
        ),
        (
            &["--uuid", UUID, "--proxy", "ftp://proxy.local:3128"],
            &[],
            "--proxy: ftp proxies are not supported",
        ),
        (
            &["--uuid", UUID, "--proxy", "http://[::1"],
            &[],
            "--proxy: the proxy URL has a character a URL cannot hold",
        ),
        (
            &["--uuid", UUID, "--proxy", "https://proxy.local:3128"],
            &[],
            "--proxy: https proxies are not supported; give an http:// proxy",
        ),
        (
            &["--uuid", UUID, "--header", "Content-Length: 99999999"],
            &[],
            "--header: Content-Length is set by hcwrap itself",
        ),
        (
            &["--url", "http://[::1:9/ping/x"],
            &[],
            "--url: 'http://[::1:9/…' has a character a URL cannot hold",
        ),
    ];
    for (args, env, says) in cases {
        let err = refused(args, env);
        assert!(err.contains(says), "{args:?}: want {says:?}, got {err}");
    }
}

#[test]
fn unreadable_or_empty_secret_files_are_named() {
    let dir = TempDir::new("bad-secrets");
    let empty = dir.file("empty", "\n  \n");
    let err = refused(&["--uuid", &format!("file:{empty}")], &[]);
    assert!(
        err.contains(&format!("--uuid: file:{empty} is empty")),
        "{err}"
    );
    let missing = dir.0.join("missing");
    let err = refused(
        &[],
        &[
            ("HC_PING_KEY", &format!("file:{}", missing.display())),
            ("CHECK_SLUG", "s"),
        ],
    );
    assert!(
        err.contains(&format!(
            "HC_PING_KEY: cannot read file:{}",
            missing.display()
        )),
        "{err}"
    );
}

#[test]
fn a_missing_command_is_a_usage_error() {
    let out = run(hcwrap().args(["--uuid", UUID]));
    assert_eq!(out.status.code(), Some(125));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("hcwrap: error: "), "{err}");
    assert!(
        err.contains("hcwrap [OPTIONS] -- <COMMAND> [ARGS]..."),
        "{err}"
    );

    let out = run(hcwrap().args(["--uuid", UUID, "true"]));
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("unexpected argument 'true'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn help_and_version_exit_0() {
    // Help wraps to the terminal (COLUMNS when not one); not here, where lines are matched.
    let out = run(hcwrap().arg("--help").env("COLUMNS", "1000"));
    assert_eq!(out.status.code(), Some(0));
    let help = support::stdout(&out);
    assert!(help.contains("--on-nonzero-exit <PING>"));
    // Examples, file: secrets, and every exit status hcwrap gives of its own.
    assert!(help.contains("Examples:\n  hcwrap --uuid"), "{help}");
    assert!(help.contains("file:PATH"), "{help}");
    for status in ["128+n", "124", "75", "125", "126", "127"] {
        assert!(help.contains(status), "{status} missing: {help}");
    }
    let out = run(hcwrap().args(["ping", "--help"]).env("COLUMNS", "1000"));
    let help = support::stdout(&out);
    assert!(
        help.contains("file:PATH") && help.contains("--message-env"),
        "{help}"
    );
    assert!(
        help.contains("log (an entry in the check's log that changes nothing"),
        "{help}"
    );
    let out = run(hcwrap().arg("--version"));
    assert_eq!(
        support::stdout(&out),
        concat!("hcwrap ", env!("CARGO_PKG_VERSION"), "\n")
    );
}

#[test]
fn a_duration_too_long_for_the_clock_is_a_usage_error_naming_the_option() {
    let server = Server::start();
    for option in [
        "--jitter",
        "--timeout",
        "--kill-after",
        "--every",
        "--ping-timeout",
    ] {
        let err = refused(
            &["--url", &server.check_url(), option, "500000000000y"],
            &[],
        );
        assert!(err.contains(option), "{err}");
        assert!(err.contains("longer than 100 years"), "{err}");
    }
    assert!(server.requests().is_empty());
}

#[test]
fn an_argument_that_is_not_utf8_is_a_usage_error_not_a_panic() {
    use std::os::unix::ffi::OsStrExt;
    let dir = TempDir::new("not-utf8");
    let marker = dir.0.join("ran");
    let mut cmd = hcwrap();
    cmd.arg("--url")
        .arg(std::ffi::OsStr::from_bytes(b"https://hc-ping.com/\xff"))
        .arg("--")
        .args(["touch", marker.to_str().unwrap()]);
    let out = run(&mut cmd);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert_eq!(
        err,
        "hcwrap: error: the value of --url is not valid UTF-8; give it as UTF-8 text \
         (the command after -- may take any bytes)\n"
    );
    assert!(!marker.exists());
}

#[test]
fn a_socks_proxy_is_refused_rather_than_bypassed() {
    let server = Server::start();
    let err = refused(
        &[
            "--url",
            &server.check_url(),
            "--proxy",
            "socks5://127.0.0.1:1080",
        ],
        &[],
    );
    assert!(
        err.contains("--proxy: socks5 proxies are not supported"),
        "{err}"
    );
    let err = refused(
        &["--url", &server.check_url()],
        &[("http_proxy", "socks5h://127.0.0.1:1080")],
    );
    assert!(err.contains("socks5h proxies are not supported"), "{err}");
    assert!(
        server.requests().is_empty(),
        "nothing went around the proxy"
    );
}

#[test]
fn files_that_never_end_or_never_open_are_refused_at_once() {
    let dir = TempDir::new("endless-files");
    // A FIFO no one writes to: opening it used to wait for ever.
    let fifo = dir.0.join("fifo");
    support::mkfifo(&fifo);
    let fifo = format!("file:{}", fifo.display());
    let err = refused(&["--slug", "db", "--ping-key", &fifo], &[]);
    assert!(
        err.contains(&format!("--ping-key: {fifo} is empty")),
        "{err}"
    );
    // Endless files are read up to a limit, not to the end.
    let err = refused(&["--uuid", UUID, "--cacert", "/dev/zero"], &[]);
    assert!(err.contains("--cacert: /dev/zero is larger than"), "{err}");
    let err = refused(&["--url", "file:/dev/zero"], &[]);
    assert!(
        err.contains("--url: file:/dev/zero is larger than 64 KiB"),
        "{err}"
    );
}

#[test]
fn a_secret_file_saved_with_a_byte_order_mark_works() {
    let server = Server::start();
    let dir = TempDir::new("bom");
    let path = dir.0.join("url");
    std::fs::write(&path, format!("\u{feff}{}\n", server.check_url())).unwrap();
    let url = format!("file:{}", path.display());
    let out = run(hcwrap().args(["--url", &url, "--", "true"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(server.wait_for(2).len(), 2);
}

#[test]
fn only_settings_that_are_used_can_fail() {
    let server = Server::start();
    // HC_API_URL serves --uuid and --slug; a --url run does not read it.
    let out = run(hcwrap()
        .env("HC_API_URL", "file:/nonexistent/api-url")
        .args(["--url", &server.check_url(), "--", "true"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(server.wait_for(2).len(), 2);
    // An inherited run id that is not one: the ping goes out without it, with a warning.
    let out = run(hcwrap().env("HC_RUN_ID", "garbage").args([
        "ping",
        "fail",
        "--url",
        &server.check_url(),
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("HC_RUN_ID: 'garbage' is not a run id")
            && stderr(&out).contains("sending the ping without it"),
        "{}",
        stderr(&out)
    );
    let reqs = server.wait_for(3);
    assert_eq!(
        (reqs[2].suffix(), reqs[2].rid()),
        ("/fail".to_owned(), None)
    );
}

#[test]
fn what_the_environment_gets_wrong_leaves_the_run_unmonitored_unless_strict() {
    let server = Server::start();
    let dir = TempDir::new("unmonitored");
    let missing = format!("file:{}", dir.0.join("renamed.uuid").display());
    // A CI fork without its secrets (the variable empty), a renamed secret file, a
    // variable that names no check: the command runs, its status comes out, one line says
    // it was not monitored, and nothing is sent anywhere.
    // Nothing about sending may matter either: a proxy hcwrap does not support, a trust
    // store that would never finish reading (a FIFO).
    let fifo = dir.0.join("certs-fifo");
    support::mkfifo(&fifo);
    let fifo = fifo.display().to_string();
    let api_url = server.api_url();
    for env in [
        vec![("HC_PING_URL", "")],
        vec![("CHECK_UUID", missing.as_str())],
        vec![
            ("CHECK_UUID", "not-a-uuid"),
            ("HC_API_URL", api_url.as_str()),
        ],
        vec![
            ("ALL_PROXY", "socks5h://127.0.0.1:9"),
            ("SSL_CERT_FILE", fifo.as_str()),
        ],
        vec![("HC_PING_KEY", "")],
    ] {
        // The last one: a slug typed on the command line, its key's secret empty.
        let slug = env.iter().any(|(name, _)| *name == "HC_PING_KEY");
        let child = hcwrap()
            .envs(env.iter().copied())
            .args(if slug { &["--slug", "db"][..] } else { &[][..] })
            .args([
                "--",
                "sh",
                "-c",
                "echo the job ran; echo \"url=${HC_PING_URL-unset}\"; exit 7",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let out = support::finish(child);
        assert_eq!(out.status.code(), Some(7), "{env:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{env:?}: {err}");
        assert!(
            err.starts_with("hcwrap: warning: not monitored: ")
                && err
                    .trim_end()
                    .ends_with("running the command anyway (--strict refuses instead)"),
            "{err}"
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.starts_with("the job ran\n"), "{stdout}");
        assert!(
            !stdout.contains("url=http"),
            "a check was passed on: {stdout}"
        );
    }
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
    // Unmonitored, --quiet and --silent do not hide the output: it would go nowhere.
    for flag in ["--quiet", "--silent"] {
        let out = run(hcwrap().env("HC_PING_URL", "").args([
            flag,
            "--",
            "sh",
            "-c",
            "echo out; echo err >&2",
        ]));
        assert_eq!(support::stdout(&out), "out\n", "{flag}");
        assert!(
            stderr(&out).ends_with("\nerr\n"),
            "{flag}: {}",
            stderr(&out)
        );
    }
    // --strict refuses instead; a mistake typed on the command line is refused whatever.
    let err = refused(&[], &[("CHECK_UUID", missing.as_str())]);
    assert!(err.contains("cannot read file:"), "{err}");
    let out = run(hcwrap().args(["--uuid", "not-a-uuid", "--", "true"]));
    assert_eq!(out.status.code(), Some(125));
}

#[test]
fn a_dry_run_with_no_check_passes_no_placeholder_to_the_command() {
    let out = run(hcwrap().args([
        "--dry-run",
        "--",
        "sh",
        "-c",
        "echo \"url=${HC_PING_URL-unset} rid=${HC_RUN_ID-unset}\"",
    ]));
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout, "url=unset rid=unset\n");
}
