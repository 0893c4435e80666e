//! hcwrap signalled during a run: the signal reaches the command's whole process group,
//! the final ping says what happened, and hcwrap exits 128+n.

mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::time::Instant;

use support::{Server, hcwrap, stderr};

/// Starts hcwrap around `script` and waits for the script's "ready" line. Returns the
/// child and the lines printed before "ready".
fn start(server: &Server, args: &[&str], script: &str) -> (Child, Vec<String>) {
    let mut cmd = hcwrap();
    cmd.args(["--url", &server.check_url()])
        .args(args)
        .args(["--", "sh", "-c", script]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut before = Vec::new();
    loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "the script ended before it was ready"
        );
        if line == "ready\n" {
            break;
        }
        before.push(line.trim_end().to_owned());
    }
    // Keep reading (and dropping) the rest so the script never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    (child, before)
}

/// Starts hcwrap around `command` against `server`, whose answers to the final ping are
/// 500s: hcwrap then retries it for a while (up to nine times).
fn retrying_final_ping(server: &Server, command: &[&str]) -> Child {
    server.script([support::Reply::Normal]);
    server.script(std::iter::repeat_n(
        support::Reply::Status(500, "down", vec![]),
        10,
    ));
    let mut cmd = hcwrap();
    cmd.args(["--url", &server.check_url(), "--ping-retries", "9", "--"])
        .args(command);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

/// Waits until no live process is left in process group `group`.
fn wait_group_gone(group: &str) {
    let started = Instant::now();
    loop {
        let live: Vec<String> = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("stat")).ok())
            .filter(|stat| {
                // Fields after the command name: state, ppid, pgrp, ...
                let fields: Vec<&str> = stat
                    .rsplit_once(')')
                    .map_or("", |(_, rest)| rest)
                    .split_whitespace()
                    .collect();
                fields.get(2) == Some(&group) && fields.first() != Some(&"Z")
            })
            .collect();
        if live.is_empty() {
            return;
        }
        assert!(
            started.elapsed() < support::PATIENCE,
            "still running in group {group}: {live:?}"
        );
        std::thread::yield_now();
    }
}

#[test]
fn each_signal_reaches_the_whole_group_and_is_reported() {
    // A pipeline in the foreground and, except for SIGINT, a job in the background: a
    // non-interactive sh starts background jobs with SIGINT ignored, as POSIX says.
    for (sig, name, background) in [
        (libc::SIGTERM, "SIGTERM", "sleep 600 &"),
        (libc::SIGINT, "SIGINT", ""),
        (libc::SIGHUP, "SIGHUP", "sleep 600 &"),
        (libc::SIGQUIT, "SIGQUIT", ""),
    ] {
        let server = Server::start();
        let script = format!("{background} echo $$; echo ready; sleep 600 | sleep 601");
        let (mut child, before) = start(&server, &[], &script);
        server.wait_for(1);
        support::signal(&child, sig);
        let status = child.wait().unwrap();
        support::assert_ended_by(status, sig);
        wait_group_gone(&before[0]);
        let end = &server.wait_for(2)[1];
        assert_eq!(end.suffix(), format!("/{}", 128 + sig));
        let body = end.body_text();
        assert!(
            body.ends_with(&format!(
                "[hcwrap] interrupted by {name}; the command ended: killed by {name}\n"
            )),
            "{body}"
        );
    }
}

#[test]
fn a_command_that_ignores_sigterm_gets_sigkill_after_kill_after() {
    let server = Server::start();
    let (mut child, _) = start(
        &server,
        &["--kill-after", "300ms"],
        "trap '' TERM; echo ready; sleep 600",
    );
    server.wait_for(1);
    support::signal(&child, libc::SIGTERM);
    let out = child.wait().unwrap();
    support::assert_ended_by(out, libc::SIGTERM);
    let body = server.wait_for(2)[1].body_text();
    assert!(
        body.ends_with("[hcwrap] interrupted by SIGTERM; sent SIGKILL after 300ms; the command ended: killed by SIGKILL\n"),
        "{body}"
    );
}

#[test]
fn a_command_that_exits_on_its_own_after_the_signal_is_still_reported_as_interrupted() {
    let server = Server::start();
    let (child, _) = start(
        &server,
        &[],
        "trap 'echo cleaning up; exit 0' TERM; echo ready; while :; do sleep 1; done",
    );
    server.wait_for(1);
    support::signal(&child, libc::SIGTERM);
    let out = child.wait_with_output().unwrap();
    support::assert_ended_by(out.status, libc::SIGTERM);
    // (The shell may say its sleep was "Terminated" first.)
    assert_eq!(
        stderr(&out).lines().last(),
        Some("hcwrap: interrupted by SIGTERM; the command ended: exit status 0"),
    );
    let body = server.wait_for(2)[1].body_text();
    assert!(body.contains("cleaning up\n"), "{body}");
    assert!(
        body.ends_with("[hcwrap] interrupted by SIGTERM; the command ended: exit status 0\n"),
        "{body}"
    );
}

#[test]
fn a_signal_after_the_command_ended_stops_the_final_pings_retries() {
    let server = Server::start();
    let child = retrying_final_ping(&server, &["sh", "-c", "exit 6"]);
    server.wait_for(2); // start, then the first attempt of the final ping
    support::signal(&child, libc::SIGTERM);
    let out = support::finish(child);
    // The final ping already said how the command ended (/6); hcwrap itself was
    // interrupted, and ends by the signal, so that a shell loop around it stops.
    support::assert_ended_by(out.status, libc::SIGTERM);
    let err = stderr(&out);
    assert!(
        err.contains("hcwrap: gave up on the final ping for exit status 6 to "),
        "{err}"
    );
    assert!(server.requests().len() < 11, "retries stopped");
}

#[test]
fn a_timeout_ends_the_whole_tree_and_exits_124() {
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.args(["--url", &server.check_url(), "--timeout", "300ms", "--"]);
    cmd.args(["sh", "-c", "sleep 600 & echo $$; echo working; sleep 601"]);
    let out = support::run(&mut cmd);
    assert_eq!(out.status.code(), Some(124), "{}", stderr(&out));
    // One local line says so (cron mails it), unless --silent.
    assert_eq!(
        stderr(&out),
        "hcwrap: timed out after 300ms; sent SIGTERM\n"
    );
    let group = support::stdout(&out).lines().next().unwrap().to_owned();
    wait_group_gone(&group);
    let end = &server.wait_for(2)[1];
    assert_eq!(end.suffix(), "/124");
    assert_eq!(
        end.body_text(),
        format!("{group}\nworking\n[hcwrap] timed out after 300ms; sent SIGTERM\n")
    );

    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &server.check_url(),
        "--silent",
        "--timeout",
        "100ms",
    ]);
    cmd.args(["--", "sleep", "600"]);
    let out = support::run(&mut cmd);
    assert_eq!(out.status.code(), Some(124));
    assert_eq!(stderr(&out), "", "--silent keeps the notice back");
    assert_eq!(server.wait_for(4)[3].suffix(), "/124");
}

#[test]
fn a_timeout_sends_sigkill_to_a_command_that_ignores_sigterm() {
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &server.check_url(),
        "--timeout",
        "200ms",
        "--kill-after",
        "200ms",
        "--",
    ]);
    cmd.args(["sh", "-c", "trap '' TERM; echo $$; sleep 600"]);
    let out = support::run(&mut cmd);
    assert_eq!(out.status.code(), Some(124), "{}", stderr(&out));
    wait_group_gone(support::stdout(&out).trim());
    let body = server.wait_for(2)[1].body_text();
    assert!(
        body.ends_with("\n[hcwrap] timed out after 200ms; sent SIGTERM then SIGKILL after 200ms\n"),
        "{body}"
    );
}

#[test]
fn a_command_that_ends_in_time_is_not_touched_by_the_timeout() {
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &server.check_url(),
        "--timeout",
        "1h",
        "--",
        "sh",
        "-c",
        "exit 3",
    ]);
    assert_eq!(support::run(&mut cmd).status.code(), Some(3));
    assert_eq!(
        server.wait_for(2)[1].body_text(),
        "[hcwrap] exit status 3\n"
    );
}

#[test]
fn a_signal_hcwrap_was_started_with_ignored_stays_ignored() {
    use std::io::Write;
    use std::os::unix::process::CommandExt;
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &server.check_url(),
        "--",
        "sh",
        "-c",
        "echo ready; read line; echo still here",
    ]);
    // As a shell starts a script's background job: SIGINT ignored.
    // SAFETY: the closure runs between fork and exec and only calls signal(2).
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_IGN);
            Ok(())
        });
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    support::signal(&child, libc::SIGINT);
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    line.clear();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "still here\n", "the command was not interrupted");
    let status = support::finish(child).status;
    assert_eq!(status.code(), Some(0));
    assert_eq!(server.wait_for(2)[1].suffix(), "");
}

#[test]
fn usr1_usr2_and_alrm_reach_the_command_and_the_run_goes_on() {
    let server = Server::start();
    let (child, _) = start(
        &server,
        &[],
        "trap 'echo got USR1 >&2' USR1; trap 'echo got USR2 >&2' USR2; \
         trap 'echo got ALRM >&2; exit 0' ALRM; echo ready; \
         while :; do sleep 0.05; done",
    );
    server.wait_for(1);
    for sig in [libc::SIGUSR1, libc::SIGUSR2, libc::SIGALRM] {
        support::signal(&child, sig);
    }
    let out = support::finish(child);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    for line in ["got USR1", "got USR2", "got ALRM"] {
        assert!(err.contains(line), "{err}");
    }
    let end = &server.wait_for(2)[1];
    assert_eq!(end.suffix(), "");
    assert!(!end.body_text().contains("interrupted"));
}

#[test]
fn a_command_killed_by_a_passed_on_signal_is_reported_as_killed_by_it() {
    let server = Server::start();
    let (child, _) = start(&server, &[], "echo ready; sleep 600");
    server.wait_for(1);
    support::signal(&child, libc::SIGUSR1);
    let out = support::finish(child);
    assert_eq!(out.status.code(), Some(128 + libc::SIGUSR1));
    let end = &server.wait_for(2)[1];
    assert_eq!(end.suffix(), format!("/{}", 128 + libc::SIGUSR1));
    assert!(
        end.body_text().ends_with("[hcwrap] killed by SIGUSR1\n"),
        "{}",
        end.body_text()
    );
}

#[test]
fn a_stopped_command_gets_sigcont_with_the_timeouts_sigterm_and_its_handler_runs() {
    let server = Server::start();
    // The command stops itself (SIGSTOP, not job control: hcwrap does not follow it).
    // Without a SIGCONT after the SIGTERM, its handler could not run before SIGKILL.
    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &server.check_url(),
        "--timeout",
        "1s",
        "--kill-after",
        "25s",
        "--",
        "sh",
        "-c",
        "trap 'echo handled TERM; exit 3' TERM; kill -STOP $$; echo resumed without TERM",
    ]);
    let out = support::run(&mut cmd);
    assert_eq!(out.status.code(), Some(124), "{}", stderr(&out));
    let body = server.wait_for(2)[1].body_text();
    assert_eq!(
        body,
        "handled TERM\n[hcwrap] timed out after 1s; sent SIGTERM\n"
    );
}

#[test]
fn a_sigint_during_the_final_pings_retries_ends_hcwrap_by_sigint_after_a_success() {
    let server = Server::start();
    let child = retrying_final_ping(&server, &["true"]);
    server.wait_for(2);
    support::signal(&child, libc::SIGINT);
    let out = support::finish(child);
    support::assert_ended_by(out.status, libc::SIGINT);
}

#[test]
fn one_sigterm_ends_hcwrap_even_when_its_reader_has_stalled() {
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.args(["--url", &server.check_url(), "--", "yes"]);
    // stdout is a pipe nobody reads: hcwrap is soon waiting for its reader.
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stalled = child.stdout.take().unwrap();
    server.wait_for(1);
    support::signal(&child, libc::SIGTERM);
    let out = support::finish(child);
    support::assert_ended_by(out.status, libc::SIGTERM);
    assert_eq!(server.wait_for(2)[1].suffix(), "/143");
    drop(stalled);
}

#[test]
fn without_a_terminal_sigtstp_is_not_passed_on_and_the_run_goes_on() {
    let server = Server::start();
    let dir = support::TempDir::new("tstp");
    let go = dir.0.join("go");
    let script = format!(
        "echo ready; while [ ! -e {} ]; do sleep 0.01; done; echo finished",
        go.display()
    );
    let mut cmd = hcwrap();
    cmd.args(["--url", &server.check_url(), "--", "sh", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // In a session of its own: no controlling terminal, even when the tests run in one.
    // SAFETY: setsid is async-signal-safe and touches no memory.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    assert_eq!(support::first_line(&mut child), "ready\n");
    server.wait_for(1);
    support::signal(&child, libc::SIGTSTP);
    // hcwrap ignores it (nobody could continue a stopped job here), so the command still
    // runs, and ends once told to.
    std::fs::write(&go, "").unwrap();
    let out = support::finish(child);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(server.wait_for(2)[1].suffix(), "");
}

#[test]
fn a_signal_ends_hcwrap_while_the_final_ping_waits_for_a_silent_server() {
    let server = Server::start();
    // The start ping is answered; the final ping never is, and its one attempt may take
    // a minute. A signal must not have to wait for it.
    server.script([support::Reply::Normal, support::Reply::Hang]);
    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &server.check_url(),
        "--ping-timeout",
        "60s",
        "--",
        "true",
    ]);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    server.wait_for(2);
    support::signal(&child, libc::SIGTERM);
    let out = support::finish(child);
    support::assert_ended_by(out.status, libc::SIGTERM);
    assert!(
        stderr(&out).contains("gave up on the pings still on their way"),
        "{}",
        stderr(&out)
    );
}
