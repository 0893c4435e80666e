//! The portable path macOS and FreeBSD take for the command's output, exercised on Linux
//! by hiding /proc from hcwrap (a mount namespace of its own, made by `unshare`, with an
//! empty /proc). With no way to reopen a pipe as an open file of its own, hcwrap must not
//! set `O_NONBLOCK` on the one it shares with the shell; it writes only what a pipe that
//! polls writable takes at once (`PIPE_BUF`). A slow or stalled reader still gets every
//! byte, and still never holds up the run.

mod support;

use std::io::Read;
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::runner::Case;
use support::{Server, stderr};

fn main() -> std::process::ExitCode {
    support::runner::main(&[
        Case {
            name: "a_slow_reader_gets_every_byte_and_the_shared_pipe_stays_blocking",
            needs: mount_namespace,
            run: a_slow_reader_gets_every_byte_and_the_shared_pipe_stays_blocking,
        },
        Case {
            name: "a_stalled_reader_does_not_hold_up_the_final_ping_after_a_timeout",
            needs: mount_namespace,
            run: a_stalled_reader_does_not_hold_up_the_final_ping_after_a_timeout,
        },
        Case {
            name: "a_signal_ends_hcwrap_while_a_stalled_reader_holds_its_output",
            needs: mount_namespace,
            run: a_signal_ends_hcwrap_while_a_stalled_reader_holds_its_output,
        },
        Case {
            name: "a_stalled_terminal_does_not_hold_up_the_final_ping_after_a_timeout",
            needs: mount_namespace,
            run: a_stalled_terminal_does_not_hold_up_the_final_ping_after_a_timeout,
        },
    ])
}

fn root() -> bool {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() == 0 }
}

fn user_namespace_args() -> &'static [&'static str] {
    if root() {
        &[]
    } else {
        &["--user", "--map-root-user"]
    }
}

/// Whether `unshare` can make a mount namespace and mount over /proc in it here: as root
/// or, where user namespaces allow, as anyone.
fn mount_namespace() -> Option<String> {
    let works = Command::new("unshare")
        .args(user_namespace_args())
        .args(["--mount", "sh", "-c", "mount -t tmpfs none /proc"])
        .status()
        .is_ok_and(|s| s.success());
    (!works).then(|| "unshare cannot make a mount namespace here".to_owned())
}

/// hcwrap with `args`, in a mount namespace where /proc is an empty directory.
fn without_proc(args: &[&str]) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(user_namespace_args())
        .args([
            "--mount",
            "sh",
            "-c",
            "mount -t tmpfs none /proc && exec \"$@\"",
            "sh",
        ])
        .arg(env!("CARGO_BIN_EXE_hcwrap"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HC_STATE_DIR", support::fresh_state_dir())
        .stdin(Stdio::null());
    cmd
}

fn a_slow_reader_gets_every_byte_and_the_shared_pipe_stays_blocking() {
    let server = Server::start();
    let (read, write) = support::pipe();
    // The same open file as hcwrap's stdout, as the shell that made the pipe keeps it.
    let shared = write.try_clone().unwrap();
    // The command says whether it sees a /proc: it shares hcwrap's mount namespace.
    let script = "[ -e /proc/self/fd ] && echo proc-is-there >&2; seq 1 300000; echo THE-END";
    let mut cmd = without_proc(&["--url", &server.check_url(), "--", "sh", "-c", script]);
    cmd.stdout(Stdio::from(write)).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    drop(cmd);
    // A reader that takes 64 KiB every 0.1 s: about 3 s for the 2 MB. Once hcwrap has met
    // a full pipe, the shell's open file must still be blocking; the reader then lets go
    // of it, so that the pipe ends when hcwrap and the command have closed theirs.
    let reader = std::thread::spawn(move || {
        let mut reader = std::fs::File::from(read);
        let mut shared = Some(shared);
        let mut got = Vec::new();
        let mut buf = vec![0u8; 65536];
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                return got;
            }
            got.extend_from_slice(&buf[..n]);
            std::thread::sleep(Duration::from_millis(100));
            if let Some(fd) = shared.take_if(|_| got.len() > 65536) {
                // SAFETY: fcntl F_GETFL on a descriptor we own.
                let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
                assert_eq!(
                    flags & libc::O_NONBLOCK,
                    0,
                    "the shell's pipe became non-blocking"
                );
            }
        }
    });
    let out = support::finish(child);
    let got = reader.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let expected: Vec<u8> = (1..=300_000)
        .flat_map(|i: u32| format!("{i}\n").into_bytes())
        .chain(*b"THE-END\n")
        .collect();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "the output changed on its way");
    let body = server.wait_for(2)[1].body_text();
    assert!(
        !body.contains("proc-is-there"),
        "/proc was not hidden: {body}"
    );
    assert!(body.ends_with("299999\n300000\nTHE-END\n"), "{body}");
}

fn a_stalled_reader_does_not_hold_up_the_final_ping_after_a_timeout() {
    let server = Server::start();
    let (read, write) = support::pipe();
    let script = "[ -e /proc/self/fd ] && echo proc-is-there; exec yes";
    let mut cmd = without_proc(&[
        "--url",
        &server.check_url(),
        "--timeout",
        "1s",
        "--",
        "sh",
        "-c",
        script,
    ]);
    cmd.stdout(Stdio::from(write)).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    drop(cmd);
    // Nothing reads hcwrap's stdout until the final ping has arrived (the test fails
    // after PATIENCE if it never does).
    let end = &server.wait_for(2)[1];
    assert_eq!(end.suffix(), "/124");
    assert!(
        end.body_text()
            .ends_with("y\n[hcwrap] timed out after 1s; sent SIGTERM\n"),
        "{}",
        end.body_text()
    );
    // Now the reader takes the rest: all of it is still there, whole lines of "y".
    let mut rest = Vec::new();
    std::fs::File::from(read).read_to_end(&mut rest).unwrap();
    assert!(!rest.starts_with(b"proc-is-there"), "/proc was not hidden");
    assert!(!rest.is_empty());
    assert!(rest.chunks(2).all(|c| c == b"y\n"), "the output changed");
    let out = support::finish(child);
    assert_eq!(out.status.code(), Some(124), "{}", stderr(&out));
}

/// A terminal polls writable with any room at all, so a write that polled first can still
/// block on one: hcwrap opens the terminal again by its name, as an open file of its own.
fn a_stalled_terminal_does_not_hold_up_the_final_ping_after_a_timeout() {
    let server = Server::start();
    let (master, slave) = support::pty::open();
    // "y\n" becomes "y\r\n" on the terminal, so its room runs out at odd sizes.
    let mut cmd = without_proc(&["--url", &server.check_url(), "--timeout", "1s", "--", "yes"]);
    cmd.stdout(Stdio::from(slave)).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    drop(cmd);
    // Nothing reads the terminal until the final ping has arrived.
    let end = &server.wait_for(2)[1];
    assert_eq!(end.suffix(), "/124", "{}", end.body_text());
    // Then everything is taken (the read ends with EIO once no one has the terminal open).
    let mut master = std::fs::File::from(master);
    let mut rest = Vec::new();
    let _ = master.read_to_end(&mut rest);
    assert!(rest.starts_with(b"y\r\n"));
    let out = support::finish(child);
    assert_eq!(out.status.code(), Some(124), "{}", stderr(&out));
}

/// After a signal hcwrap writes only what the reader takes at once: a write that did not
/// poll first would wait for a stalled reader, and for good.
fn a_signal_ends_hcwrap_while_a_stalled_reader_holds_its_output() {
    let server = Server::start();
    let (read, write) = support::pipe();
    let script = "yes | head -c 3000000; sleep 100";
    let mut cmd = without_proc(&["--url", &server.check_url(), "--", "sh", "-c", script]);
    cmd.stdout(Stdio::from(write.try_clone().unwrap()))
        .stderr(Stdio::from(write));
    let child = cmd.spawn().unwrap();
    drop(cmd);
    server.wait_for(1);
    // The pipe is full and its reader stalled: then SIGTERM.
    support::wait_filled(&read, 60_000);
    support::signal(&child, libc::SIGTERM);
    let end = &server.wait_for(2)[1];
    assert_eq!(end.suffix(), "/143", "{}", end.body_text());
    let out = support::finish(child);
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&out.status),
        Some(libc::SIGTERM),
        "{}",
        stderr(&out)
    );
    drop(read);
}
