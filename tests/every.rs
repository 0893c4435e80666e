//! Periodic runs (`--every`) and the random wait before a run (`--jitter`).

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::{Server, hcwrap};

#[test]
fn every_makes_runs_with_their_own_run_ids_that_never_overlap() {
    let server = Server::start();
    let mut cmd = hcwrap();
    // Each run outlasts the period, so ticks fall during runs and must be skipped.
    cmd.args([
        "--url",
        &server.check_url(),
        "--every",
        "100ms",
        "--",
        "sh",
        "-c",
        "echo tick; sleep 0.25",
    ]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for _ in 0..4 {
        assert_eq!(lines.next().unwrap().unwrap(), "tick");
    }
    // Three runs have ended (the fourth started after them).
    support::signal(&child, libc::SIGTERM);
    let out = support::finish(child);
    support::assert_ended_by(out.status, libc::SIGTERM);

    let reqs = server.requests();
    let mut runs: Vec<(String, usize, Option<usize>)> = Vec::new();
    for (i, r) in reqs.iter().enumerate() {
        let rid = r.rid().expect("every ping has a run id").to_owned();
        if r.suffix() == "/start" {
            assert!(
                runs.iter().all(|(id, ..)| *id != rid),
                "run ids are not reused"
            );
            runs.push((rid, i, None));
        } else {
            let run = runs
                .iter_mut()
                .find(|(id, ..)| *id == rid)
                .expect("an end pairs with a start");
            run.2 = Some(i);
        }
    }
    let done: Vec<_> = runs.iter().filter(|r| r.2.is_some()).collect();
    assert!(done.len() >= 3, "{reqs:#?}");
    for pair in runs.windows(2) {
        let end = pair[0].2.expect("a run ends before the next starts");
        assert!(end < pair[1].1, "runs overlap: {reqs:#?}");
    }
}

#[test]
fn jitter_0s_runs_at_once() {
    let server = Server::start();
    let out =
        support::run(hcwrap().args(["--url", &server.check_url(), "--jitter", "0s", "--", "true"]));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(server.wait_for(2).len(), 2);
}

#[test]
fn a_jittered_run_sends_its_start_ping_when_the_command_starts() {
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &server.check_url(),
        "--jitter",
        "2s",
        "--",
        "sh",
        "-c",
        "echo started",
    ]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let line = support::first_line(&mut child);
    let command_started = Instant::now();
    assert_eq!(line, "started\n");
    assert_eq!(support::finish(child).status.code(), Some(0));
    let start = &server.wait_for(2)[0];
    assert_eq!(start.suffix(), "/start");
    // Sent beside the command's start, not before the random wait (up to 2 s).
    assert!(
        start.at + Duration::from_millis(300) >= command_started,
        "start ping came before the wait"
    );
}

#[test]
fn a_signal_during_the_wait_ends_hcwrap_without_a_run() {
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &server.check_url(),
        "--every",
        "1h",
        "--",
        "sh",
        "-c",
        "echo ran",
    ]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let line = support::first_line(&mut child);
    assert_eq!(line, "ran\n");
    server.wait_for(2); // the first run has ended: hcwrap waits for the next tick
    support::signal(&child, libc::SIGINT);
    let out = support::finish(child);
    support::assert_ended_by(out.status, libc::SIGINT);
    assert_eq!(server.requests().len(), 2, "no run after the signal");
}

#[test]
fn runs_start_on_their_ticks_while_a_hanging_server_holds_the_pings() {
    let server = Server::start();
    server.script(std::iter::repeat_n(support::Reply::Hang, 200));
    let mut cmd = hcwrap();
    // Each run's pings take 5 s against this server; runs come every 100 ms regardless.
    // (Before, each run waited for the last one's pings: 10 s a run, 50 s for five.)
    cmd.args([
        "--url",
        &server.check_url(),
        "--every",
        "100ms",
        "--ping-timeout",
        "5s",
        "--ping-retries",
        "0",
        "--",
        "echo",
        "tick",
    ]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for _ in 0..5 {
        assert_eq!(lines.next().unwrap().unwrap(), "tick");
    }
    // Five start pings have reached the server, each with its own run id.
    let starts: Vec<String> = server
        .wait_for(5)
        .iter()
        .filter(|r| r.suffix() == "/start")
        .filter_map(|r| r.rid().map(str::to_owned))
        .collect();
    let mut distinct = starts.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), starts.len(), "{starts:?}");
    support::signal(&child, libc::SIGTERM);
    let out = support::finish(child);
    support::assert_ended_by(out.status, libc::SIGTERM);
}
