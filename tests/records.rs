//! What a run leaves behind: the run log and the metrics file (written by concurrent
//! runs), and the final pings kept through a server outage and delivered after it, by the
//! next run or by `hcwrap flush`.

mod support;

use std::process::Stdio;

use support::{Reply, Server, TempDir, hcwrap, stderr, stdout};

/// Starts `runs` wrapped runs of `command` at once with `args`, and waits for them all.
fn concurrently(runs: usize, args: &[String], command: &str) {
    let children: Vec<_> = (0..runs)
        .map(|_| {
            hcwrap()
                .args(args)
                .args(["--", "sh", "-c", command])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = support::finish(child);
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    }
}

#[test]
fn concurrent_runs_each_append_one_whole_json_line() {
    let server = Server::start();
    let dir = TempDir::new("run-log");
    let log = dir.0.join("runs.jsonl");
    let args: Vec<String> = [
        "--url",
        &server.check_url(),
        "--run-log",
        log.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    concurrently(8, &args, "printf 'out'; printf 'err!' >&2; exit 3");
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 8, "{text}");
    let mut rids = Vec::new();
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["exit_status"], 3, "{line}");
        assert_eq!(v["failed"], true);
        assert_eq!(v["check"], &support::UUID[..8]);
        assert_eq!(
            (v["stdout_bytes"].as_u64(), v["stderr_bytes"].as_u64()),
            (Some(3), Some(4))
        );
        assert!(v["max_rss_kib"].as_u64().unwrap() > 0, "{line}");
        assert!(v["duration_s"].as_f64().unwrap() >= 0.0);
        let pings = v["pings"].as_array().unwrap();
        assert_eq!(pings.len(), 2, "{line}");
        assert_eq!(
            (pings[0]["ping"].as_str(), pings[1]["ping"].as_str()),
            (Some("start"), Some("3"))
        );
        assert!(
            pings
                .iter()
                .all(|p| p["delivered"] == true && p["attempts"] == 1),
            "{line}"
        );
        let sent = v["sent_bytes"].as_u64().unwrap();
        rids.push(sent);
        assert!(
            !line.contains(support::UUID),
            "the check's secret is not in the log: {line}"
        );
    }
    // What the server received is what the log says was sent.
    let bodies: Vec<u64> = server
        .wait_for(16)
        .iter()
        .filter(|r| r.suffix() == "/3")
        .map(|r| r.body.len() as u64)
        .collect();
    rids.sort_unstable();
    let mut bodies = bodies;
    bodies.sort_unstable();
    assert_eq!(rids, bodies);
}

#[test]
fn concurrent_runs_of_two_checks_keep_both_in_one_metrics_file() {
    let server = Server::start();
    let dir = TempDir::new("metrics");
    let prom = dir.0.join("jobs.prom");
    let state = TempDir::new("metrics-state");
    let by_slug = format!(
        "{}/{}/{}",
        server.api_url(),
        support::PING_KEY,
        support::SLUG
    );
    let children: Vec<_> = [server.check_url(), by_slug]
        .iter()
        .cycle()
        .take(8)
        .map(|url| {
            hcwrap()
                .env("HC_STATE_DIR", &state.0)
                .args(["--url", url, "--metrics-file", prom.to_str().unwrap()])
                .args(["--", "sh", "-c", "exit 3"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        assert_eq!(support::finish(child).status.code(), Some(3));
    }
    let text = std::fs::read_to_string(&prom).unwrap();
    let uuid = &support::UUID[..8];
    for check in [uuid, support::SLUG] {
        assert!(
            text.contains(&format!("hcwrap_last_exit_status{{check=\"{check}\"}} 3\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "hcwrap_consecutive_failures{{check=\"{check}\"}} 4\n"
            )),
            "{text}"
        );
    }
    assert_eq!(
        text.matches("# TYPE hcwrap_last_exit_status gauge\n")
            .count(),
        1,
        "{text}"
    );
    assert!(
        !text.contains(support::UUID) && !text.contains(support::PING_KEY),
        "{text}"
    );
    // A success afterwards: its time is kept, the count reset, the other check untouched.
    let mut cmd = hcwrap();
    cmd.env("HC_STATE_DIR", &state.0)
        .args([
            "--url",
            &server.check_url(),
            "--metrics-file",
            prom.to_str().unwrap(),
        ])
        .args(["--", "true"]);
    assert_eq!(support::run(&mut cmd).status.code(), Some(0));
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(
        text.contains(&format!(
            "hcwrap_consecutive_failures{{check=\"{uuid}\"}} 0\n"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "hcwrap_last_success_time_seconds{{check=\"{uuid}\"}} "
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "hcwrap_consecutive_failures{{check=\"{}\"}} 4\n",
            support::SLUG
        )),
        "{text}"
    );
}

/// `hcwrap flush ARGS` with the state directory `state`, to its end.
fn flush(state: &TempDir, args: &[&str]) -> std::process::Output {
    let mut cmd = hcwrap();
    cmd.env("HC_STATE_DIR", &state.0).arg("flush").args(args);
    support::run(&mut cmd)
}

/// A wrapped run with the state directory `state`, one attempt per ping.
fn run_with_state(server: &Server, state: &TempDir, command: &str) -> std::process::Output {
    let mut cmd = hcwrap();
    cmd.env("HC_STATE_DIR", &state.0)
        .args(["--url", &server.check_url(), "--ping-retries", "0"])
        .args(["--", "sh", "-c", command]);
    support::run(&mut cmd)
}

#[test]
fn a_report_kept_through_an_outage_is_delivered_late_by_the_next_run_first() {
    let server = Server::start();
    let state = TempDir::new("outage");
    let down = || Reply::Status(503, "down for maintenance", Vec::new());
    // The first run's two pings; the second run's attempt at the first's report, then its
    // two pings.
    server.script((0..5).map(|_| down()));
    // A failure and a success, neither delivered.
    let out = run_with_state(&server, &state, "echo broke; exit 3");
    assert_eq!(
        out.status.code(),
        Some(3),
        "the outage never changes the status"
    );
    let err = stderr(&out);
    assert!(
        err.contains("; kept in ")
            && err.ends_with(": the next run, or `hcwrap flush`, delivers it\n"),
        "{err}"
    );
    assert_eq!(
        run_with_state(&server, &state, "echo fine").status.code(),
        Some(0)
    );
    server.wait_answered(5);
    // The server is back.
    let out = run_with_state(&server, &state, "echo again");
    assert_eq!(out.status.code(), Some(0));
    let reqs = server.wait_for(9);
    let reqs = &reqs[5..];
    let seen: Vec<(String, Option<&str>)> = reqs.iter().map(|r| (r.suffix(), r.rid())).collect();
    assert_eq!(
        seen[0],
        ("/3".to_owned(), None),
        "the late failure, as a failure, without a run id"
    );
    assert_eq!(
        seen[1],
        ("/log".to_owned(), None),
        "the late success, as a log entry"
    );
    assert_eq!(seen[2].0, "/start");
    assert_eq!(seen[3].0, "");
    let late = reqs[0].body_text();
    assert!(
        late.starts_with("[hcwrap] delivered late: the run that ended at 20"),
        "{late}"
    );
    assert!(
        late.contains(
            " (exit status 3) could not be reported then\nbroke\n[hcwrap] exit status 3\n"
        ),
        "{late}"
    );
    assert!(
        reqs[1]
            .body_text()
            .contains(" (it succeeded) could not be reported then\nfine\n"),
        "{}",
        reqs[1].body_text()
    );
    let err = stderr(&out);
    assert_eq!(err.matches("hcwrap: delivered late: ").count(), 2, "{err}");
    assert!(!err.contains(support::UUID), "{err}");
    // Nothing is left to deliver.
    let out = flush(&state, &["--dry-run"]);
    assert!(
        stdout(&out).starts_with("no reports to deliver in "),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_full_outbox_keeps_the_newest_and_flush_delivers_them_in_order() {
    let server = Server::start();
    let state = TempDir::new("outbox-full");
    let down = || Reply::Status(503, "down", Vec::new());
    // Two pings a run, and from the second run on, one attempt at the oldest kept report.
    server.script((0..20).map(|_| down()));
    for i in 0..7 {
        let out = run_with_state(&server, &state, &format!("echo run {i}; exit 1"));
        assert_eq!(out.status.code(), Some(1));
        if i >= 5 {
            assert!(
                stderr(&out)
                    .contains("the oldest kept report was dropped to make room: 5 are kept"),
                "{}",
                stderr(&out)
            );
        }
    }
    server.wait_answered(20);
    let out = flush(&state, &["--dry-run"]);
    assert_eq!(out.status.code(), Some(0));
    let listed = stdout(&out);
    assert_eq!(listed.lines().count(), 6, "{listed}");
    assert!(
        listed
            .lines()
            .last()
            .unwrap()
            .starts_with("5 reports waiting in "),
        "{listed}"
    );
    assert!(!listed.contains(support::UUID), "{listed}");
    assert_eq!(server.requests().len(), 20, "a dry run sends nothing");
    let out = flush(&state, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let late: Vec<String> = server.wait_for(25)[20..]
        .iter()
        .map(support::Request::body_text)
        .collect();
    for (i, body) in late.iter().enumerate() {
        assert!(
            body.contains(&format!("\nrun {}\n", i + 2)),
            "oldest first: {late:?}"
        );
    }
    let out = flush(&state, &["--dry-run"]);
    assert!(
        stdout(&out).starts_with("no reports to deliver"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn flush_keeps_what_the_server_still_cannot_take_and_says_so() {
    let server = Server::start();
    let state = TempDir::new("outbox-still-down");
    let down = || Reply::Status(503, "down", Vec::new());
    server.script([down(), down(), down()]);
    assert_eq!(
        run_with_state(&server, &state, "exit 2").status.code(),
        Some(2)
    );
    server.wait_answered(2);
    let out = flush(&state, &["--ping-retries", "0"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("hcwrap: could not deliver http://127.0.0.1:")
            && err.contains("); it stays kept"),
        "{err}"
    );
    assert!(!err.contains(support::UUID), "{err}");
    assert!(
        stdout(&flush(&state, &["--dry-run"]))
            .ends_with(&format!("1 report waiting in {}\n", state.0.display()))
    );
}

#[test]
fn a_hooks_failure_ping_is_kept_and_delivered_by_the_checks_next_ping() {
    let server = Server::start();
    let state = TempDir::new("outbox-hook");
    let down = || Reply::Status(503, "down", Vec::new());
    server.script([down()]);
    let ping = |args: &[&str]| {
        let mut cmd = hcwrap();
        cmd.env("HC_STATE_DIR", &state.0)
            .args(["ping"])
            .args(args)
            .args(["--url", &server.check_url(), "--ping-retries", "0"]);
        support::run(&mut cmd)
    };
    let out = ping(&["fail", "--message", "borg: repository locked"]);
    assert_eq!(out.status.code(), Some(0), "an outage never fails the hook");
    assert!(stderr(&out).contains("; kept in "), "{}", stderr(&out));
    // The next backup's start hook: the kept failure goes first, still a failure.
    let out = ping(&["start"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let reqs = server.wait_for(3);
    assert_eq!(reqs[1].suffix(), "/fail");
    let body = reqs[1].body_text();
    assert!(
        body.starts_with("[hcwrap] delivered late: the run that ended at 20")
            && body.ends_with(" (sent by hcwrap ping as a fail ping) could not be reported then\nborg: repository locked"),
        "{body}"
    );
    assert_eq!(reqs[2].suffix(), "/start");
    // A start ping that is not delivered is not kept: it would only mislead later.
    server.script([down()]);
    let out = ping(&["start"]);
    assert!(!stderr(&out).contains("kept"), "{}", stderr(&out));
}

#[test]
fn a_dry_run_neither_delivers_nor_counts() {
    let server = Server::start();
    let state = TempDir::new("outbox-dry-run");
    server.script((0..2).map(|_| Reply::Status(503, "down", Vec::new())));
    assert_eq!(
        run_with_state(&server, &state, "exit 1").status.code(),
        Some(1)
    );
    server.wait_answered(2);
    let log = state.0.join("dry.jsonl");
    let mut cmd = hcwrap();
    cmd.env("HC_STATE_DIR", &state.0)
        .args(["--dry-run", "--tolerate", "3", "--url", &server.check_url()])
        .args(["--run-log", log.to_str().unwrap()])
        .args(["--", "false"]);
    let out = support::run(&mut cmd);
    assert_eq!(out.status.code(), Some(1));
    assert!(!stderr(&out).contains("delivered late"), "{}", stderr(&out));
    assert_eq!(server.requests().len(), 2, "a dry run sends nothing");
    assert!(stdout(&flush(&state, &["--dry-run"])).contains("1 report waiting in "));
    let names: Vec<String> = std::fs::read_dir(&state.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with("runs-")), "{names:?}");
    assert!(
        !log.exists(),
        "a dry run writes no records of pings it did not send"
    );
}

#[test]
fn doctor_says_when_reports_of_the_check_wait() {
    let server = Server::start();
    let state = TempDir::new("outbox-doctor");
    server.script((0..2).map(|_| Reply::Status(503, "down", Vec::new())));
    assert_eq!(
        run_with_state(&server, &state, "exit 1").status.code(),
        Some(1)
    );
    server.wait_answered(2);
    let mut doctor = hcwrap();
    doctor
        .env("HC_STATE_DIR", &state.0)
        .args(["doctor", "--url", &server.check_url()]);
    let out = support::run(&mut doctor);
    let said = stdout(&out);
    assert!(
        said.lines().any(|l| l.starts_with("warning  kept reports: 1 final ping of this check could not be delivered and wait, the oldest from the run that ended at 20")),
        "{said}"
    );
    assert_eq!(
        server.requests().len(),
        3,
        "doctor delivers nothing: {said}"
    );
}

#[test]
fn a_run_log_someone_keeps_locked_costs_a_line_not_a_hang() {
    let server = Server::start();
    let dir = TempDir::new("run-log-held");
    let log = dir.file("runs.jsonl", "");
    let mut holder = std::process::Command::new("flock")
        .args([&log, "sh", "-c", "echo held; exec sleep 60"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(support::first_line(&mut holder), "held\n");
    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &server.check_url(),
        "--run-log",
        &log,
        "--",
        "echo",
        "job",
    ]);
    let out = support::run(&mut cmd);
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "job\n");
    assert!(
        stderr(&out).starts_with("hcwrap: --run-log: cannot lock ")
            && stderr(&out).ends_with("another process has held its lock for over 2s\n"),
        "{}",
        stderr(&out)
    );
    assert_eq!(server.wait_for(2).len(), 2);
}

/// A run whose pings go to a server that answers as `replies` say, interrupted by SIGTERM
/// once `wait_for` requests arrived; its output and the state directory.
fn interrupted_while_pinging(
    server: &Server,
    state: &TempDir,
    log: &std::path::Path,
    replies: Vec<Reply>,
    wait_for: usize,
) -> std::process::Output {
    server.script(replies);
    let child = hcwrap()
        .env("HC_STATE_DIR", &state.0)
        .args([
            "--url",
            &server.check_url(),
            "--run-log",
            log.to_str().unwrap(),
        ])
        .args(["--", "sh", "-c", "echo important; exit 7"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    server.wait_for(wait_for);
    support::signal(&child, libc::SIGTERM);
    // Nothing here can wait for the command to end first: when the signal reached it, the
    // run was interrupted and its pings are waited for (hcwrap says so first), and a
    // second signal gives them up, as the README says.
    let mut child = child;
    let mut first = String::new();
    let mut stderr_pipe = std::io::BufReader::new(child.stderr.take().unwrap());
    std::io::BufRead::read_line(&mut stderr_pipe, &mut first).unwrap();
    if first.starts_with("hcwrap: interrupted by SIGTERM") {
        support::signal(&child, libc::SIGTERM);
    }
    let mut out = support::finish(child);
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut stderr_pipe, &mut rest).unwrap();
    out.stderr = [first.into_bytes(), rest].concat();
    out
}

#[test]
fn a_signal_while_the_final_ping_waits_for_a_silent_server_keeps_the_report() {
    let server = Server::start();
    let state = TempDir::new("outbox-signal-final");
    let log = state.0.join("runs.jsonl");
    let out = interrupted_while_pinging(&server, &state, &log, vec![Reply::Normal, Reply::Hang], 2);
    support::assert_ended_by(out.status, libc::SIGTERM);
    let err = stderr(&out);
    assert!(
        err.starts_with("hcwrap: gave up on the pings still on their way: interrupted; the final ping was kept in "),
        "{err}"
    );
    let line = std::fs::read_to_string(&log).unwrap();
    let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(v["exit_status"], 7);
    assert_eq!(v["pings"][0]["delivered"], true, "{line}");
    assert_eq!(
        (
            v["pings"][1]["ping"].as_str(),
            v["pings"][1]["delivered"].as_bool()
        ),
        (Some("7"), Some(false)),
        "{line}"
    );
    // The next run delivers it first.
    assert_eq!(
        run_with_state(&server, &state, "true").status.code(),
        Some(0)
    );
    let reqs = server.wait_for(5);
    assert_eq!(reqs[2].suffix(), "/7");
    assert!(
        reqs[2].body_text().ends_with(
            "(exit status 7) could not be reported then\nimportant\n[hcwrap] exit status 7\n"
        ),
        "{}",
        reqs[2].body_text()
    );
}

#[test]
fn a_signal_before_the_final_pings_turn_keeps_the_report() {
    let server = Server::start();
    let state = TempDir::new("outbox-signal-start");
    let log = state.0.join("runs.jsonl");
    // The start ping waits for a silent server; the final ping never gets its turn.
    let out = interrupted_while_pinging(&server, &state, &log, vec![Reply::Hang], 1);
    support::assert_ended_by(out.status, libc::SIGTERM);
    let err = stderr(&out);
    assert!(err.contains("; the final ping was kept in "), "{err}");
    // The signal may also have reached the command (nothing here waits for it to end):
    // either way, the final ping is kept and the run is in the log.
    let line = std::fs::read_to_string(&log).unwrap();
    let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    let final_ping = v["pings"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(final_ping["delivered"], false, "{line}");
    assert_eq!(
        final_ping["error"], "not sent: hcwrap was interrupted before its turn",
        "{line}"
    );
    let listed = stdout(&flush(&state, &["--dry-run"]));
    assert!(
        listed.contains(", as a late final ping for exit status "),
        "{listed}"
    );
    assert!(
        listed.ends_with(&format!("1 report waiting in {}\n", state.0.display())),
        "{listed}"
    );
}

#[test]
fn the_metrics_file_is_never_a_device_fifo_or_link_and_keeps_what_others_wrote() {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let server = Server::start();
    let dir = TempDir::new("metrics-odd");
    let fifo = dir.0.join("fifo.prom");
    support::mkfifo(&fifo);
    let link = dir.0.join("link.prom");
    std::os::unix::fs::symlink(dir.0.join("elsewhere"), &link).unwrap();
    for path in [&fifo, &link] {
        let mut cmd = hcwrap();
        cmd.args([
            "--url",
            &server.check_url(),
            "--metrics-file",
            path.to_str().unwrap(),
        ])
        .args(["--", "echo", "job"]);
        let out = support::run(&mut cmd);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(stdout(&out), "job\n");
        assert!(
            stderr(&out).starts_with("hcwrap: --metrics-file: ")
                && stderr(&out).contains(" is not a regular file"),
            "{}",
            stderr(&out)
        );
    }
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(!dir.0.join("elsewhere").exists());
    // Another program's samples and the file's mode stay.
    let prom = dir.file(
        "jobs.prom",
        "# HELP node_custom_thing Mine.\nnode_custom_thing 42\n",
    );
    std::fs::set_permissions(&prom, std::fs::Permissions::from_mode(0o640)).unwrap();
    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &server.check_url(),
        "--metrics-file",
        &prom,
        "--",
        "true",
    ]);
    assert_eq!(support::run(&mut cmd).status.code(), Some(0));
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(
        text.starts_with(
            "# HELP node_custom_thing Mine.\nnode_custom_thing 42\n# HELP hcwrap_last_exit_status"
        ),
        "{text}"
    );
    assert_eq!(
        std::fs::metadata(&prom).unwrap().permissions().mode() & 0o777,
        0o640
    );
}

#[test]
fn a_run_log_of_another_user_is_not_written_to() {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        eprintln!("not root: another user's file cannot be made here; covered by root runs");
        return;
    }
    let server = Server::start();
    let dir = TempDir::new("run-log-other-user");
    let log = dir.file("runs.jsonl", "theirs\n");
    std::os::unix::fs::chown(&log, Some(65534), Some(65534)).unwrap();
    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &server.check_url(),
        "--run-log",
        &log,
        "--",
        "true",
    ]);
    let out = support::run(&mut cmd);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("belongs to another user"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "theirs\n");
}

#[test]
fn flush_names_what_it_cannot_deliver_instead_of_saying_nothing_waits() {
    let state = TempDir::new("outbox-damaged");
    let damaged = state.file(
        "report-0123456789abcdef-00000000000000000001-1-0",
        "hcwrap report 1\nurl ",
    );
    std::fs::set_permissions(
        &damaged,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let out = flush(&state, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("hcwrap: 1 file in ")
            && stderr(&out).contains("cannot be delivered and is left as it is"),
        "{}",
        stderr(&out)
    );
    assert!(std::path::Path::new(&damaged).exists());
}

#[test]
fn a_hook_interrupted_while_its_ping_waits_keeps_it() {
    let server = Server::start();
    let state = TempDir::new("outbox-hook-signal");
    server.script([Reply::Hang]);
    let child = hcwrap()
        .env("HC_STATE_DIR", &state.0)
        .args([
            "ping",
            "fail",
            "--message",
            "disk full",
            "--url",
            &server.check_url(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    server.wait_for(1);
    support::signal(&child, libc::SIGTERM);
    let out = support::finish(child);
    support::assert_ended_by(out.status, libc::SIGTERM);
    let err = stderr(&out);
    assert!(
        err.starts_with("hcwrap: gave up on the fail ping to http://127.0.0.1:")
            && err.contains(": interrupted by SIGTERM; kept in "),
        "{err}"
    );
    assert!(!err.contains(support::UUID), "{err}");
    // The next ping of the check delivers it first, as the failure it was.
    let mut start = hcwrap();
    start
        .env("HC_STATE_DIR", &state.0)
        .args(["ping", "start", "--url", &server.check_url()]);
    assert_eq!(support::run(&mut start).status.code(), Some(0));
    let reqs = server.wait_for(3);
    assert_eq!(
        (reqs[1].suffix().as_str(), reqs[2].suffix().as_str()),
        ("/fail", "/start")
    );
    assert!(
        reqs[1]
            .body_text()
            .ends_with("could not be reported then\ndisk full"),
        "{}",
        reqs[1].body_text()
    );
}

#[test]
fn a_run_log_link_another_user_made_is_not_followed() {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        eprintln!("not root: another user's link cannot be made here; covered by root runs");
        return;
    }
    let server = Server::start();
    let dir = TempDir::new("run-log-link");
    let target = dir.file("mine.conf", "root's\n");
    let link = dir.0.join("runs.jsonl");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    std::os::unix::fs::lchown(&link, Some(65534), Some(65534)).unwrap();
    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &server.check_url(),
        "--run-log",
        link.to_str().unwrap(),
        "--",
        "true",
    ]);
    let out = support::run(&mut cmd);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("is a symbolic link another user made"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "root's\n");
    // Nor a link to a directory on the way.
    let dir_link = dir.0.join("dirlink");
    std::os::unix::fs::symlink(&dir.0, &dir_link).unwrap();
    std::os::unix::fs::lchown(&dir_link, Some(65534), Some(65534)).unwrap();
    let through = dir_link.join("mine.conf");
    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &server.check_url(),
        "--run-log",
        through.to_str().unwrap(),
        "--",
        "true",
    ]);
    let out = support::run(&mut cmd);
    assert!(
        stderr(&out).contains("dirlink is a symbolic link another user made"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "root's\n");
}

#[test]
fn a_late_report_is_cut_to_the_limit_the_server_announced_between_characters() {
    let server = Server::with_limit(Some(300));
    let state = TempDir::new("outbox-late-limit");
    let cache = TempDir::new("outbox-late-limit-cache");
    let run = |command: &str| {
        let mut cmd = hcwrap();
        cmd.env("HC_STATE_DIR", &state.0)
            .env("XDG_CACHE_HOME", &cache.0)
            .args(["--url", &server.check_url(), "--ping-retries", "0"])
            .args(["--", "sh", "-c", command]);
        support::run(&mut cmd)
    };
    // The server's limit is learnt; then a run whose output ends inside nothing but
    // two-byte characters, with no newline, is kept while the server is down.
    assert_eq!(run("true").status.code(), Some(0));
    server.wait_for(2);
    server.script((0..2).map(|_| Reply::Status(503, "down", Vec::new())));
    let out = run(
        "printf 'xxxxxxxxxx'; i=0; while [ $i -lt 500 ]; do printf 'é'; i=$((i+1)); done; exit 3",
    );
    assert!(stderr(&out).contains("; kept in "), "{}", stderr(&out));
    let out = run("true");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let late = &server.wait_for(7)[4];
    assert_eq!(late.suffix(), "/3");
    let body = late.full_body();
    assert!(body.len() <= 300, "{} bytes: {body}", body.len());
    assert!(body.starts_with("[hcwrap] delivered late: "), "{body}");
    assert!(
        body.contains("é\n[hcwrap] ran ") && body.ends_with("\n[hcwrap] exit status 3\n"),
        "{body}"
    );
    let left: u64 = body
        .lines()
        .nth(1)
        .and_then(|l| l.strip_prefix("[hcwrap] "))
        .and_then(|l| l.strip_suffix(" bytes of output left out"))
        .unwrap_or_else(|| panic!("{body}"))
        .parse()
        .unwrap();
    let shown = body.matches('é').count() as u64 * 2;
    assert_eq!(left + shown, 1010, "{body}");
}

#[test]
fn two_flushes_at_once_deliver_each_report_once() {
    let server = Server::start();
    let state = TempDir::new("outbox-two-flushes");
    server.script((0..5).map(|_| Reply::Status(503, "down", Vec::new())));
    for i in 0..3 {
        let mut cmd = hcwrap();
        cmd.env("HC_STATE_DIR", &state.0)
            .args([
                "ping",
                "fail",
                "--ping-retries",
                "0",
                "--url",
                &server.check_url(),
            ])
            .args(["--message", &format!("r{i}")]);
        support::run(&mut cmd);
    }
    // Three pings, and two attempts at the oldest kept one by the second and third hooks.
    server.wait_answered(5);
    let slow = || {
        Reply::Late(
            std::time::Duration::from_millis(200),
            Box::new(Reply::Normal),
        )
    };
    server.script((0..6).map(|_| slow()));
    let flushes: Vec<_> = (0..2)
        .map(|_| {
            hcwrap()
                .env("HC_STATE_DIR", &state.0)
                .arg("flush")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for flush in flushes {
        assert_eq!(support::finish(flush).status.code(), Some(0));
    }
    let late: Vec<String> = server.requests()[5..]
        .iter()
        .map(support::Request::body_text)
        .collect();
    assert_eq!(late.len(), 3, "{late:?}");
    for (i, body) in late.iter().enumerate() {
        assert!(
            body.ends_with(&format!("r{i}")),
            "in order, once each: {late:?}"
        );
    }
}

#[test]
fn a_relative_state_dir_keeps_nothing_and_says_so() {
    let server = Server::start();
    let dir = TempDir::new("state-relative");
    let mut cmd = hcwrap();
    cmd.current_dir(&dir.0)
        .env("HC_STATE_DIR", "relative/state")
        .args([
            "--url",
            &server.check_url(),
            "--tolerate",
            "2",
            "--",
            "false",
        ]);
    let out = support::run(&mut cmd);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out)
            .starts_with("hcwrap: warning: HC_STATE_DIR is not an absolute path: nothing is kept"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.0.join("relative").exists());
    assert_eq!(
        server.wait_for(1)[0].suffix(),
        "/1",
        "not counted: reported as the failure it is"
    );
}
