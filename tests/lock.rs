//! The overlap lock: a second run while the first holds the lock is skipped and reported.

mod support;

use std::io::Write;
use std::process::{Child, Stdio};

use support::{Server, TempDir, hcwrap, run, stderr};

/// Starts a run holding `lock` whose command waits for a line on stdin; returns once the
/// command is running.
fn holder(server: &Server, lock: &str) -> Child {
    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &server.check_url(),
        &format!("--lock={lock}"),
        "--",
        "sh",
        "-c",
        "echo ready; read x; echo finished",
    ]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    assert_eq!(support::first_line(&mut child), "ready\n");
    child
}

#[test]
fn a_second_run_is_skipped_while_the_first_holds_the_lock() {
    let dir = TempDir::new("lock-busy");
    let lock = dir.0.join("job.lock").to_string_lossy().into_owned();
    let server = Server::start();
    let mut first = holder(&server, &lock);

    let busy = Server::start();
    let marker = dir.0.join("second-ran");
    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &busy.check_url(),
        &format!("--lock={lock}"),
        "--",
        "touch",
        marker.to_str().unwrap(),
    ]);
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(75));
    assert_eq!(
        stderr(&out),
        "hcwrap: skipped: previous run still running\n"
    );
    assert!(!marker.exists(), "the command must not run");
    let reqs = busy.wait_for(1);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].suffix(), "/log");
    assert_eq!(
        reqs[0].body_text(),
        "[hcwrap] skipped: previous run still running\n"
    );

    first.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let out = support::finish(first);
    assert_eq!(out.status.code(), Some(0));
    let end = &server.wait_for(2)[1];
    assert_eq!(
        (end.suffix().as_str(), end.body_text().as_str()),
        ("", "ready\nfinished\n")
    );
}

#[test]
fn on_lock_busy_fail_and_none() {
    let dir = TempDir::new("lock-busy-kinds");
    let lock = dir.0.join("job.lock").to_string_lossy().into_owned();
    let server = Server::start();
    let mut first = holder(&server, &lock);
    for (kind, want) in [("fail", Some("/fail")), ("none", None)] {
        let busy = Server::start();
        let mut cmd = hcwrap();
        cmd.args([
            "--url",
            &busy.check_url(),
            &format!("--lock={lock}"),
            "--on-lock-busy",
            kind,
            "--silent",
            "--",
            "true",
        ]);
        let out = run(&mut cmd);
        assert_eq!(out.status.code(), Some(75));
        // A skip every tick must not mail every tick: --silent keeps the notice back.
        assert_eq!(stderr(&out), "", "{kind}");
        let got: Vec<String> = busy
            .requests()
            .iter()
            .map(support::Request::suffix)
            .collect();
        assert_eq!(
            got,
            want.map(str::to_owned).into_iter().collect::<Vec<_>>(),
            "{kind}"
        );
    }
    first.stdin.take().unwrap().write_all(b"go\n").unwrap();
    assert_eq!(support::finish(first).status.code(), Some(0));
}

#[test]
fn a_lock_whose_holder_was_killed_is_free_again() {
    let dir = TempDir::new("lock-killed");
    let lock = dir.0.join("job.lock").to_string_lossy().into_owned();
    let server = Server::start();
    let first = holder(&server, &lock);
    support::signal(&first, libc::SIGKILL);
    let out = support::finish(first);
    assert_eq!(out.status.code(), None, "killed");
    // Its command (waiting on a closed stdin) ends by itself; the lock went with hcwrap.
    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &server.check_url(),
        &format!("--lock={lock}"),
        "--",
        "true",
    ]);
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn the_default_lock_file_is_named_from_the_check_under_xdg_runtime_dir() {
    let dir = TempDir::new("lock-default");
    let server = Server::start();
    let mut cmd = hcwrap();
    cmd.env("XDG_RUNTIME_DIR", &dir.0)
        .args(["--url", &server.check_url(), "--lock", "--", "true"]);
    assert_eq!(run(&mut cmd).status.code(), Some(0));
    let names: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(
        names[0].starts_with("hcwrap-")
            && std::path::Path::new(&names[0])
                .extension()
                .is_some_and(|e| e == "lock"),
        "{names:?}"
    );
    assert!(!names[0].contains(&support::UUID[..8]));
}

/// Runs `--lock=PATH` (or `--lock` with `env`) expecting a refusal: the command does not
/// run, one line says why, the exit status is 125, and the server hears it in a failure
/// ping. Returns the message.
fn refused_lock(lock_arg: &str, env: &[(&str, &str)]) -> String {
    let server = Server::start();
    let dir = TempDir::new("lock-refused-marker");
    let marker = dir.0.join("ran");
    let mut cmd = hcwrap();
    cmd.envs(env.iter().copied())
        .args(["--url", &server.check_url(), lock_arg, "--", "touch"])
        .arg(&marker)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Bounded: a lock that hangs hcwrap fails the test instead of holding it.
    let out = support::finish(cmd.spawn().unwrap());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert!(!marker.exists(), "the command ran");
    assert_eq!(err.lines().count(), 1, "{err}");
    let ping = &server.wait_for(1)[0];
    assert_eq!(ping.suffix(), "/fail");
    let body = ping.body_text();
    assert!(
        body.starts_with("[hcwrap] the command did not run: --lock: "),
        "{body}"
    );
    err
}

#[test]
fn a_lock_that_cannot_be_created_is_reported_to_the_server() {
    let dir = TempDir::new("lock-missing-dir");
    let path = dir.0.join("no/such/dir/x.lock");
    let err = refused_lock(&format!("--lock={}", path.display()), &[]);
    assert!(err.contains("cannot open the lock file"), "{err}");
}

#[test]
fn a_lock_file_that_is_a_symbolic_link_is_refused() {
    let dir = TempDir::new("lock-symlink");
    let target = dir.0.join("elsewhere");
    let link = dir.0.join("x.lock");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let err = refused_lock(&format!("--lock={}", link.display()), &[]);
    assert!(err.contains("cannot open the lock file"), "{err}");
    assert!(err.contains("it is a symbolic link"), "{err}");
    assert!(!target.exists(), "a file was created through the link");
}

#[test]
fn a_lock_file_another_user_owns_is_refused() {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        eprintln!("not root: another user's file cannot be made here; covered by root runs");
        return;
    }
    let dir = TempDir::new("lock-other-user");
    let path = dir.0.join("x.lock");
    std::fs::write(&path, "").unwrap();
    std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
    let err = refused_lock(&format!("--lock={}", path.display()), &[]);
    assert!(err.contains("belongs to another user (uid 65534)"), "{err}");
}

#[test]
fn default_lock_files_are_private_to_their_user() {
    use std::os::unix::fs::MetadataExt;
    let home = TempDir::new("lock-home");
    let server = Server::start();
    let mut cmd = hcwrap();
    // No XDG_RUNTIME_DIR (as under cron): root's go in /run/hcwrap, anyone else's under
    // ~/.cache/hcwrap, never in the shared temp directory.
    cmd.env("HOME", &home.0)
        .args(["--url", &server.check_url(), "--lock", "--", "true"]);
    assert_eq!(run(&mut cmd).status.code(), Some(0));
    // SAFETY: getuid has no preconditions.
    let dir = if unsafe { libc::getuid() } == 0 {
        std::path::PathBuf::from("/run/hcwrap")
    } else {
        home.0.join(".cache/hcwrap")
    };
    assert_eq!(std::fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
    // Named from the check's URL (FNV-1a), which holds this server's own port.
    let hash = server
        .check_url()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let lock = dir.join(format!("hcwrap-{hash:016x}.lock"));
    assert_eq!(std::fs::metadata(&lock).unwrap().mode() & 0o777, 0o600);
    let _ = std::fs::remove_file(lock);
}

#[test]
fn a_fifo_at_the_lock_path_is_refused_instead_of_hanging() {
    let dir = TempDir::new("lock-fifo");
    let path = dir.0.join("x.lock");
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads a NUL-terminated path, alive for the call.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o666) }, 0);
    let err = refused_lock(&format!("--lock={}", path.display()), &[]);
    assert!(err.contains("it is not a regular file (a FIFO"), "{err}");
}

#[test]
fn an_existing_file_used_as_the_lock_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let server = Server::start();
    let dir = TempDir::new("lock-self");
    // A script that is its own lock, a common habit.
    let script = dir.file("job.sh", "#!/bin/sh\necho ran\n");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = hcwrap();
    cmd.args([
        "--url",
        &server.check_url(),
        &format!("--lock={script}"),
        "--",
        &script,
    ]);
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(support::stdout(&out), "ran\n");
    let mode = std::fs::metadata(&script).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o755);
}
