//! hcwrap as PID 1 (a container's init), in a PID namespace of its own made by
//! `unshare`: it reaps the orphans the kernel hands it, and never the command's status.

mod support;

use std::process::Command;

use support::runner::Case;
use support::{Server, TempDir, stderr};

fn main() -> std::process::ExitCode {
    support::runner::main(&[
        Case {
            name: "as_pid1_hcwrap_reaps_orphans_and_passes_the_commands_status_on",
            needs: pid_namespace,
            run: as_pid1_hcwrap_reaps_orphans_and_passes_the_commands_status_on,
        },
        Case {
            name: "as_pid1_an_every_loop_leaves_no_zombies_and_ends_on_sigterm",
            needs: pid_namespace,
            run: as_pid1_an_every_loop_leaves_no_zombies_and_ends_on_sigterm,
        },
    ])
}

fn root() -> bool {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() == 0 }
}

/// Whether `unshare` can make a PID namespace here: as root or, where user namespaces
/// allow, as anyone.
fn pid_namespace() -> Option<String> {
    let works = Command::new("unshare")
        .args(if root() {
            &[][..]
        } else {
            &["--user", "--map-root-user"][..]
        })
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .status()
        .is_ok_and(|s| s.success());
    (!works).then(|| "unshare cannot make a PID namespace here".to_owned())
}

/// `unshare` that runs `args` as PID 1 of a new PID namespace (with /proc to match).
fn as_pid1(args: &[&str]) -> Command {
    let mut cmd = Command::new("unshare");
    if !root() {
        cmd.args(["--user", "--map-root-user"]);
    }
    cmd.args(["--pid", "--fork", "--mount-proc", "--kill-child"]);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .arg(env!("CARGO_BIN_EXE_hcwrap"))
        .args(args);
    cmd
}

fn as_pid1_hcwrap_reaps_orphans_and_passes_the_commands_status_on() {
    let server = Server::start();
    let dir = TempDir::new("pid1");
    let pidfile = dir.0.join("orphan");
    // The subshell starts a background sh and exits at once: that sh becomes an orphan,
    // handed to PID 1. The command waits (for an event, with a bound) until the orphan's
    // /proc entry is gone, which happens only once PID 1 has reaped it.
    let script = format!(
        "(sh -c 'echo $$ > {f}.tmp && mv {f}.tmp {f}' &); \
         i=0; until [ -s {f} ] || [ $i -ge 3000 ]; do sleep 0.01; i=$((i+1)); done; \
         p=$(cat {f}); i=0; \
         while [ -e /proc/$p ] && [ $i -ge 0 ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done; \
         if [ -e /proc/$p ]; then echo orphan-left-as-zombie; else echo orphan-reaped; fi; exit 7",
        f = pidfile.display()
    );
    let mut cmd = as_pid1(&["--url", &server.check_url(), "--", "sh", "-c", &script]);
    let out = support::run(&mut cmd);
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    let body = server.wait_for(2)[1].body_text();
    assert!(body.contains("orphan-reaped"), "{body}");
}

fn as_pid1_an_every_loop_leaves_no_zombies_and_ends_on_sigterm() {
    let server = Server::start();
    // Each run leaves a background sleep behind; by the fourth run the earlier ones have
    // ended and must have been reaped: count the zombies PID 1 left in the namespace then
    // (not this run's own sleep, which may have ended already under emulation: the shell,
    // its parent, reaps it).
    let script = "sleep 0.01 >/dev/null 2>&1 & \
                  echo zombies=$(for f in /proc/[0-9]*/status; do \
                  grep -q '^State:.Z' $f 2>/dev/null && grep -q '^PPid:.1$' $f && echo; \
                  done | wc -l)";
    let mut cmd = as_pid1(&[
        "--url",
        &server.check_url(),
        "--every",
        "300ms",
        "--",
        "sh",
        "-c",
        script,
    ]);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let requests = server.wait_for(8);
    // hcwrap is unshare's child (PID 1 inside, another pid outside).
    let children = format!("/proc/{}/task/{}/children", child.id(), child.id());
    let hcwrap: i32 = std::fs::read_to_string(children)
        .unwrap()
        .split_whitespace()
        .next()
        .expect("unshare's child")
        .parse()
        .unwrap();
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(hcwrap, libc::SIGTERM) };
    let out = support::finish(child);
    // unshare passes on how its child ended (as PID 1, hcwrap cannot end by the signal
    // itself, so it exits 128+15).
    let status = std::os::unix::process::ExitStatusExt::signal(&out.status)
        .map_or_else(|| out.status.code().unwrap(), |s| 128 + s);
    assert_eq!(status, 128 + libc::SIGTERM, "{}", stderr(&out));
    let last = requests
        .iter()
        .filter(|r| r.suffix().is_empty())
        .nth(3)
        .expect("a fourth final ping");
    assert_eq!(last.body_text(), "zombies=0\n");
}
