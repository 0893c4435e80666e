//! The wrapped run end to end: what the server receives, what the user sees, the exit
//! status.

mod support;

use support::{PING_KEY, Reply, SLUG, Server, TempDir, UUID, hcwrap, run, stderr, stdout, wrapped};

#[test]
fn success_sends_start_and_success_with_one_run_id_and_passes_output_through() {
    let server = Server::start();
    let out = wrapped(
        &server.check_url(),
        &[],
        &["sh", "-c", "echo to-stdout; echo to-stderr >&2"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "to-stdout\n");
    assert_eq!(stderr(&out), "to-stderr\n");

    let reqs = server.wait_for(2);
    assert_eq!(reqs.len(), 2);
    let (start, end) = (&reqs[0], &reqs[1]);
    assert_eq!(start.path, format!("/ping/{UUID}/start"));
    assert_eq!(end.path, format!("/ping/{UUID}"));
    let rid = start.rid().expect("start carries rid");
    assert_eq!(rid.len(), 36);
    assert_eq!(end.rid(), Some(rid));
    assert_eq!(start.body, b"");
    assert_eq!(end.body_text(), "to-stdout\nto-stderr\n");
    for r in &reqs {
        assert_eq!(r.method, "POST");
        assert_eq!(r.header("Content-Type"), Some("text/plain; charset=utf-8"));
        assert_eq!(
            r.header("Content-Length"),
            Some(r.body.len().to_string().as_str())
        );
        assert_eq!(r.header("Transfer-Encoding"), None);
        assert_eq!(
            r.header("User-Agent"),
            Some(concat!("hcwrap/", env!("CARGO_PKG_VERSION")))
        );
    }
    assert_eq!(
        start.connection, end.connection,
        "the run's pings reuse one connection"
    );
}

#[test]
fn nonzero_exit_reports_the_status_and_the_tail() {
    let server = Server::start();
    let out = wrapped(
        &server.check_url(),
        &[],
        &["sh", "-c", "echo working; echo broke >&2; exit 3"],
    );
    assert_eq!(out.status.code(), Some(3));
    let end = &server.wait_for(2)[1];
    assert_eq!(end.suffix(), "/3");
    assert_eq!(end.body_text(), "working\nbroke\n[hcwrap] exit status 3\n");
}

#[test]
fn a_child_killed_by_a_signal_counts_as_128_plus_n() {
    let server = Server::start();
    let out = wrapped(
        &server.check_url(),
        &[],
        &["sh", "-c", "echo before; kill -KILL $$"],
    );
    assert_eq!(out.status.code(), Some(137));
    let end = &server.wait_for(2)[1];
    assert_eq!(end.suffix(), "/137");
    assert_eq!(end.body_text(), "before\n[hcwrap] killed by SIGKILL\n");
}

#[test]
fn a_command_not_found_exits_127_and_sends_fail() {
    let server = Server::start();
    let out = wrapped(&server.check_url(), &[], &["hcwrap-no-such-command", "arg"]);
    assert_eq!(out.status.code(), Some(127));
    assert!(
        stderr(&out).contains("hcwrap: cannot run the command: not found: hcwrap-no-such-command")
    );
    let reqs = server.wait_for(1);
    let end = reqs.last().unwrap();
    assert_eq!(end.suffix(), "/fail");
    assert_eq!(
        end.body_text(),
        "[hcwrap] not found: hcwrap-no-such-command\n"
    );
    assert!(end.rid().is_some());
}

#[test]
fn a_command_that_cannot_be_executed_exits_126() {
    let server = Server::start();
    let dir = TempDir::new("noexec");
    let script = dir.file("script.sh", "#!/bin/sh\necho hi\n");
    let out = wrapped(
        &server.check_url(),
        &["--on-exec-fail", "exit-code"],
        &[&script],
    );
    assert_eq!(out.status.code(), Some(126));
    let end = server.wait_for(1).pop().unwrap();
    assert_eq!(end.suffix(), "/126");
    assert!(
        end.body_text().starts_with("[hcwrap] permission denied: "),
        "{}",
        end.body_text()
    );
}

#[test]
fn every_on_option_value_picks_its_ping() {
    let cases: &[(&str, &str, &[&str], Option<&str>)] = &[
        ("--on-success", "success", &["true"], Some("")),
        ("--on-success", "fail", &["true"], Some("/fail")),
        ("--on-success", "exit-code", &["true"], Some("/0")),
        ("--on-success", "log", &["true"], Some("/log")),
        ("--on-success", "none", &["true"], None),
        ("--on-nonzero-exit", "success", &["false"], Some("")),
        ("--on-nonzero-exit", "fail", &["false"], Some("/fail")),
        ("--on-nonzero-exit", "exit-code", &["false"], Some("/1")),
        ("--on-nonzero-exit", "log", &["false"], Some("/log")),
        ("--on-nonzero-exit", "none", &["false"], None),
        ("--on-exec-fail", "success", &["hcwrap-none"], Some("")),
        ("--on-exec-fail", "fail", &["hcwrap-none"], Some("/fail")),
        (
            "--on-exec-fail",
            "exit-code",
            &["hcwrap-none"],
            Some("/127"),
        ),
        ("--on-exec-fail", "log", &["hcwrap-none"], Some("/log")),
        ("--on-exec-fail", "none", &["hcwrap-none"], None),
    ];
    for (flag, value, command, want) in cases {
        let server = Server::start();
        // No start ping, so the final ping (if any) is the only request.
        let out = wrapped(
            &server.check_url(),
            &["--no-start-ping", flag, value],
            command,
        );
        let status = out.status.code().unwrap();
        assert!(
            matches!(status, 0 | 1 | 127),
            "{flag} {value}: {}",
            stderr(&out)
        );
        let got: Vec<String> = server
            .requests()
            .iter()
            .map(support::Request::suffix)
            .collect();
        let want: Vec<String> = want.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(got, want, "{flag} {value}");
    }
}

#[test]
fn slug_and_ping_key_urls_and_create() {
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.args([
        "--api-url",
        &server.api_url(),
        "--slug",
        SLUG,
        "--ping-key",
        PING_KEY,
        "--",
        "true",
    ]);
    assert_eq!(run(&mut cmd).status.code(), Some(0));
    let paths: Vec<String> = server.wait_for(2).iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            format!("/ping/{PING_KEY}/{SLUG}/start"),
            format!("/ping/{PING_KEY}/{SLUG}")
        ]
    );

    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.env("HC_API_URL", server.api_url())
        .env("HC_PING_KEY", PING_KEY);
    cmd.args(["--slug", "new-job", "--create", "--", "true"]);
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "", "201 Created is a delivery");
    let reqs = server.wait_for(2);
    assert_eq!(reqs[0].path, format!("/ping/{PING_KEY}/new-job/start"));
    assert!(
        reqs[0].query.starts_with("create=1&rid="),
        "{}",
        reqs[0].query
    );
    assert!(reqs[1].query.contains("create=1"));
}

#[test]
fn secrets_from_files_are_read_and_trimmed() {
    let server = Server::start();
    let dir = TempDir::new("secrets");
    let uuid_file = dir.file("uuid", &format!("{}\n", UUID.to_uppercase()));
    let mut cmd = hcwrap();
    cmd.args([
        "--api-url",
        &server.api_url(),
        "--uuid",
        &format!("file:{uuid_file}"),
        "--",
        "true",
    ]);
    assert_eq!(run(&mut cmd).status.code(), Some(0));
    assert_eq!(server.wait_for(2)[1].path, format!("/ping/{UUID}"));

    let server = Server::start();
    let key_file = dir.file("key", &format!("  {PING_KEY}  \n"));
    let mut cmd = hcwrap();
    cmd.env("HC_PING_KEY", format!("file:{key_file}"));
    cmd.args(["--api-url", &server.api_url(), "--slug", SLUG, "--", "true"]);
    assert_eq!(run(&mut cmd).status.code(), Some(0));
    assert_eq!(
        server.wait_for(2)[1].path,
        format!("/ping/{PING_KEY}/{SLUG}")
    );
}

#[test]
fn the_child_gets_the_run_id_and_the_check_url() {
    let server = Server::start();
    let out = wrapped(
        &server.check_url(),
        &["--quiet"],
        &["sh", "-c", "echo \"$HC_RUN_ID $HC_PING_URL\""],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "", "--quiet hides stdout");
    let reqs = server.wait_for(2);
    let rid = reqs[0].rid().unwrap();
    assert_eq!(
        reqs[1].body_text(),
        format!("{rid} {}\n", server.check_url()),
        "--quiet still captures"
    );
}

#[test]
fn silent_hides_both_streams_and_no_output_sends_none() {
    let server = Server::start();
    let out = wrapped(
        &server.check_url(),
        &["--silent"],
        &["sh", "-c", "echo out; echo err >&2; exit 2"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!((stdout(&out).as_str(), stderr(&out).as_str()), ("", ""));
    assert_eq!(
        server.wait_for(2)[1].body_text(),
        "out\nerr\n[hcwrap] exit status 2\n"
    );

    let server = Server::start();
    let out = wrapped(
        &server.check_url(),
        &["--no-output"],
        &["sh", "-c", "echo secret-output; exit 2"],
    );
    assert_eq!(stdout(&out), "secret-output\n");
    assert_eq!(
        server.wait_for(2)[1].body_text(),
        "[hcwrap] exit status 2\n"
    );
}

#[test]
fn no_start_ping_and_no_run_id() {
    let server = Server::start();
    let out = wrapped(
        &server.check_url(),
        &["--no-start-ping", "--no-run-id"],
        &["sh", "-c", "echo \"[$HC_RUN_ID]\""],
    );
    assert_eq!(stdout(&out), "[]\n");
    let reqs = server.wait_for(1);
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        (reqs[0].suffix().as_str(), reqs[0].query.as_str()),
        ("", "")
    );
}

#[test]
fn the_body_limit_comes_from_the_server_and_the_flag_only_lowers_it() {
    // 3000 lines of 10 bytes; the tail is what matters.
    let script =
        "i=0; while [ $i -lt 3000 ]; do printf 'line %04d\\n' $i; i=$((i+1)); done; exit 1";
    for (header, flag, want) in [
        (Some(1000), None, 1000),
        (Some(1000), Some("500"), 500),
        (Some(1000), Some("5000"), 1000),
        (None, Some("700"), 700),
    ] {
        let server = Server::with_limit(header);
        let mut args = vec![];
        if let Some(flag) = flag {
            args.extend(["--body-limit", flag]);
        }
        let out = wrapped(&server.check_url(), &args, &["sh", "-c", script]);
        assert_eq!(out.status.code(), Some(1));
        let body = server.wait_for(2)[1].full_body();
        assert!(
            body.len() <= want && body.len() > want - 20,
            "{header:?} {flag:?}: {} bytes",
            body.len()
        );
        let first = body.lines().next().unwrap();
        let left_out: usize = first
            .strip_prefix("[hcwrap] ")
            .and_then(|l| l.strip_suffix(" bytes of output left out"))
            .unwrap_or_else(|| panic!("cut note, got {first}"))
            .parse()
            .unwrap();
        let notes = body.len() - body.find("[hcwrap] ran ").unwrap();
        let text = &body[first.len() + 1..body.len() - notes];
        assert_eq!(
            left_out + text.len(),
            30_000,
            "the note counts what was left out"
        );
        assert!(body.contains("line 2999\n[hcwrap] ran "), "{body}");
        assert!(
            body.ends_with(" waited for)\n[hcwrap] exit status 1\n"),
            "{body}"
        );
    }
}

#[test]
fn invalid_utf8_is_replaced_and_the_body_stays_valid() {
    let server = Server::start();
    let out = wrapped(
        &server.check_url(),
        &[],
        &["printf", "ok \\377\\376 \\303\\251\\n"],
    );
    assert_eq!(
        out.stdout, b"ok \xff\xfe \xc3\xa9\n",
        "passthrough is byte for byte"
    );
    assert_eq!(server.wait_for(2)[1].body_text(), "ok \u{FFFD}\u{FFFD} é\n");
}

#[test]
fn closed_stdout_does_not_stop_the_run_or_the_capture() {
    use std::io::{BufRead, BufReader};
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &server.check_url(),
        "--",
        "sh",
        "-c",
        "i=0; while [ $i -lt 20000 ]; do echo line $i; i=$((i+1)); done",
    ]);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "line 0\n");
    // The reader is dropped here: hcwrap's stdout is now a closed pipe, as with `| head -1`.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let end = &server.wait_for(2)[1];
    assert_eq!(end.suffix(), "");
    assert!(end.body_text().ends_with("line 19999\n"));
}

#[test]
fn ten_megabytes_of_output_do_not_grow_hcwrap() {
    let peak = |bytes: u64| {
        let server = Server::start();
        let mut cmd = hcwrap();
        cmd.args([
            "--url",
            &server.check_url(),
            "--quiet",
            "--",
            "head",
            "-c",
            &bytes.to_string(),
            "/dev/zero",
        ]);
        cmd.stdout(std::process::Stdio::null());
        let child = cmd.spawn().unwrap();
        let (status, rss) = wait_with_peak_rss(child);
        assert_eq!(status, 0);
        let end = &server.wait_for(2)[1];
        assert!(end.body.len() <= 100_000);
        rss
    };
    let small = peak(1);
    let large = peak(10_000_000);
    assert!(
        large < small + 4096,
        "peak RSS {small} KiB with no output, {large} KiB with 10 MB"
    );
}

/// Waits for `child` and returns its exit status and the peak RSS (KiB) of its tree.
fn wait_with_peak_rss(child: std::process::Child) -> (i32, libc::c_long) {
    let pid = i32::try_from(child.id()).unwrap();
    let mut status = 0;
    // SAFETY: rusage is plain data filled in by wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: status and usage are valid for writes; pid is our own unreaped child.
    let r = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    assert_eq!(r, pid);
    std::mem::forget(child);
    (libc::WEXITSTATUS(status), usage.ru_maxrss)
}

#[test]
fn dry_run_sends_nothing_and_prints_the_pings_without_secrets() {
    let server = Server::start();
    let out = wrapped(
        &server.check_url(),
        &["--dry-run"],
        &["sh", "-c", "echo hi; exit 4"],
    );
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(stdout(&out), "hi\n");
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "hcwrap: dry run: POST http://127.0.0.1:{}/ping/1f1c…/start?rid=",
            server.port
        )),
        "{err}"
    );
    assert!(err.contains("/ping/1f1c…/4?rid="), "{err}");
    assert!(
        err.contains("hcwrap: | hi\nhcwrap: | [hcwrap] ran "),
        "{err}"
    );
    assert!(
        err.contains(" the processes it waited for)\nhcwrap: | [hcwrap] exit status 4\n"),
        "{err}"
    );
    assert!(!err.contains(UUID));
    assert!(server.requests().is_empty());
    // With no check at all, as in the README's first command.
    let out = run(hcwrap().args(["--dry-run", "--", "echo", "hello"]));
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("POST https://hc-ping.com/<check-uuid>?rid="),
        "{}",
        stderr(&out)
    );
}

#[test]
fn extra_headers_reach_the_server() {
    let server = Server::start();
    wrapped(
        &server.check_url(),
        &["--header", "X-Access: token-1", "-H", "X-Other:two"],
        &["true"],
    );
    for r in server.wait_for(2) {
        assert_eq!(r.header("X-Access"), Some("token-1"));
        assert_eq!(r.header("X-Other"), Some("two"));
    }
}

#[test]
fn a_slow_start_ping_does_not_hold_the_command_back() {
    use std::io::{BufRead, BufReader};
    let server = Server::start();
    server.script([Reply::Hang]);
    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &server.check_url(),
        "--ping-timeout",
        "2s",
        "--ping-retries",
        "0",
    ]);
    cmd.args(["--", "sh", "-c", "echo started; read line; echo done"]);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let started = std::time::Instant::now();
    let mut child = cmd.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "started\n");
    // The command runs while the server still sits on the start ping.
    let reqs = server.wait_for(1);
    assert_eq!(reqs[0].suffix(), "/start");
    assert_eq!(server.requests().len(), 1);
    drop(child.stdin.take()); // `read` ends; the command finishes.
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(
        started.elapsed() < support::PATIENCE,
        "ended within its bounds"
    );
    let reqs = server.wait_for(2);
    assert_eq!(reqs[1].suffix(), "");
    assert_eq!(reqs[1].body_text(), "started\ndone\n");
}

#[test]
fn a_command_that_reads_the_terminal_gets_it() {
    // hcwrap in the foreground of a terminal (made by script(1)): the command runs in a
    // process group of its own, and must still be able to read the terminal, not be
    // stopped by SIGTTIN.
    use std::io::Write;
    let server = Server::start();
    let inner = format!(
        "{} --url {} -- sh -c 'read answer; echo got $answer'",
        env!("CARGO_BIN_EXE_hcwrap"),
        server.check_url()
    );
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-q", "-e", "-c", &inner, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap());
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("script(1) from util-linux");
    child.stdin.take().unwrap().write_all(b"yes\n").unwrap();
    let out = support::finish(child);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let end = &server.wait_for(2)[1];
    assert_eq!(end.body_text().trim_end(), "got yes");
}

#[test]
fn a_background_process_holding_the_output_does_not_hold_hcwrap() {
    let server = Server::start();
    let out = wrapped(
        &server.check_url(),
        &[],
        &["sh", "-c", "sleep 600 & echo $!; echo done; exit 4"],
    );
    assert_eq!(out.status.code(), Some(4));
    let text = stdout(&out);
    let pid = text.lines().next().unwrap().to_owned();
    // The background process was started on purpose: it is left running.
    assert!(
        std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "{pid} was killed"
    );
    let body = server.wait_for(2)[1].body_text();
    assert_eq!(
        body,
        format!(
            "{pid}\ndone\n[hcwrap] output still open after the command exited; stopped reading\n[hcwrap] exit status 4\n"
        )
    );
    support::kill_printed_pid(&pid);
}

#[test]
fn a_parent_that_ignores_sigchld_does_not_cost_the_exit_status() {
    use std::os::unix::process::CommandExt;
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.args(["--url", &server.check_url(), "--", "sh", "-c", "exit 3"]);
    // SAFETY: the closure runs between fork and exec and only calls signal(2).
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGCHLD, libc::SIG_IGN);
            Ok(())
        });
    }
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(server.wait_for(2)[1].suffix(), "/3");
}

#[test]
fn a_parent_that_blocks_sigchld_does_not_keep_hcwrap_waiting_for_a_held_output() {
    use std::os::unix::process::CommandExt;
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &server.check_url(),
        "--",
        "sh",
        "-c",
        "sleep 600 & echo $!; exit 5",
    ]);
    // SAFETY: the closure runs between fork and exec and only calls sigprocmask(2) on
    // a signal set it owns.
    unsafe {
        cmd.pre_exec(|| {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&raw mut set);
            libc::sigaddset(&raw mut set, libc::SIGCHLD);
            libc::sigprocmask(libc::SIG_BLOCK, &raw const set, std::ptr::null_mut());
            Ok(())
        });
    }
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let pid = stdout(&out).lines().next().unwrap().to_owned();
    let body = server.wait_for(2)[1].body_text();
    assert!(
        body.ends_with("[hcwrap] output still open after the command exited; stopped reading\n[hcwrap] exit status 5\n"),
        "{body}"
    );
    support::kill_printed_pid(&pid);
}

#[test]
fn a_background_process_that_keeps_writing_does_not_hold_hcwrap_either() {
    use std::io::Read;
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &server.check_url(),
        "--",
        "sh",
        "-c",
        // The pid goes to stderr: on stdout, `yes` may well print before `echo` does.
        "yes & echo $! >&2; exit 3",
    ]);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // A slow reader of hcwrap's stdout: the pipe from `yes` never runs dry, so poll never
    // times out; the bound must hold anyway.
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    });
    let out = support::finish(child);
    reader.join().unwrap();
    let pid = stderr(&out).lines().next().unwrap_or_default().to_owned();
    support::kill_printed_pid(&pid);
    assert_eq!(out.status.code(), Some(3));
    let body = server.wait_for(2)[1].body_text();
    assert!(
        body.ends_with("\n[hcwrap] output still open after the command exited; stopped reading\n[hcwrap] exit status 3\n"),
        "{}",
        &body[body.len().saturating_sub(200)..]
    );
}

#[test]
fn a_nested_hcwrap_reports_to_the_check_its_script_names() {
    let server = Server::start();
    let outer = format!(
        "{}/{}/{}",
        server.api_url(),
        support::PING_KEY,
        support::SLUG
    );
    // The outer run sets HC_PING_URL (its own check) for the script; the script names
    // another check for a step of its own. That step must run and report there.
    let script = format!(
        "CHECK_UUID={} HC_API_URL={} hcwrap -- echo step-ran",
        support::UUID,
        server.api_url()
    );
    let mut cmd = hcwrap();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_hcwrap"))
        .parent()
        .unwrap();
    cmd.env(
        "PATH",
        format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
    )
    .args(["--url", &outer, "--", "sh", "-c", &script]);
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "step-ran\n");
    let requests = server.wait_for(4);
    let inner: Vec<&support::Request> = requests
        .iter()
        .filter(|r| r.path.contains(support::UUID))
        .collect();
    assert_eq!(inner.len(), 2, "{requests:?}");
    assert_eq!(inner[1].body_text(), "step-ran\n");
    let outer_pings = requests
        .iter()
        .filter(|r| r.path.contains(support::SLUG))
        .count();
    assert_eq!(outer_pings, 2);
}

#[test]
fn a_script_without_a_shebang_runs_with_bin_sh_as_execvp_runs_it() {
    let server = Server::start();
    let dir = TempDir::new("no-shebang");
    let script = dir.file("job", "echo from-the-script \"$1\"\nexit 4\n");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // By path, and found in PATH.
    let out = wrapped(&server.check_url(), &[], &[&script, "arg"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(stdout(&out), "from-the-script arg\n");
    let mut cmd = hcwrap();
    cmd.env(
        "PATH",
        format!("{}:{}", dir.0.display(), std::env::var("PATH").unwrap()),
    )
    .args(["--url", &server.check_url(), "--", "job", "found"]);
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(stdout(&out), "from-the-script found\n");
    let end = &server.wait_for(4)[3];
    assert_eq!(end.suffix(), "/4");
}

#[test]
fn a_script_whose_interpreter_is_missing_is_named_as_such() {
    let server = Server::start();
    let dir = TempDir::new("bad-interpreter");
    let script = dir.file("job", "#!/nonexistent/interpreter\necho never\n");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = wrapped(&server.check_url(), &[], &[&script]);
    assert_eq!(out.status.code(), Some(127));
    assert!(
        stderr(&out).contains("the interpreter its #! line names was not found"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_script_whose_interpreter_is_not_executable_says_so() {
    let server = Server::start();
    let dir = TempDir::new("interpreter-not-executable");
    let interpreter = dir.file("interp", "not a program\n");
    let script = dir.file("job", &format!("#!{interpreter}\necho never\n"));
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = wrapped(&server.check_url(), &[], &[&script]);
    assert_eq!(out.status.code(), Some(126));
    assert!(
        stderr(&out).contains("for the interpreter its #! line names"),
        "{}",
        stderr(&out)
    );
}
