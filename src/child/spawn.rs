//! Starting the command: a process group of its own, stdin inherited, stdout and stderr
//! piped, the terminal handed over when hcwrap holds it, and execvp's rule for scripts.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::terminal::Terminal;
use crate::exit_codes;
use crate::sys;

/// The started command: its pid (also its process group) and its output pipes.
pub struct Started {
    pub pid: i32,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

/// Starts `command` with the variables in `env` added (or removed, for `None`). The
/// error is why it could not start, as a shell would say it, with its exit status.
pub fn spawn(
    command: &[OsString],
    env: &[(&str, Option<String>)],
    terminal: Option<&Terminal>,
) -> Result<Started, (i32, String)> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| (exit_codes::NOT_FOUND, "no command given".to_owned()))?;
    let result = start(program, args, env, terminal);
    if result.is_err()
        && let Some(terminal) = terminal
    {
        // The child took the terminal before its exec failed.
        terminal.take_back(None);
    }
    match result {
        // A file without `#!` that the system will not execute: run it with /bin/sh, as
        // execvp, env(1), timeout(1) and cron's shell do.
        Err(e) if e.raw_os_error() == Some(libc::ENOEXEC) => {
            let script = find(program).unwrap_or_else(|| PathBuf::from(program));
            let mut sh_args = vec![script.into_os_string()];
            sh_args.extend(args.iter().cloned());
            start(OsStr::new("/bin/sh"), &sh_args, env, terminal).map_err(|e| failure(program, &e))
        }
        other => other.map_err(|e| failure(program, &e)),
    }
}

fn start(
    program: &OsStr,
    args: &[OsString],
    env: &[(&str, Option<String>)],
    terminal: Option<&Terminal>,
) -> io::Result<Started> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        match value {
            Some(value) => cmd.env(name, value),
            None => cmd.env_remove(name),
        };
    }
    match terminal {
        Some(terminal) => {
            let (tty, group) = (terminal.fd(), sys::own_group());
            // SAFETY: the closure runs between fork and exec and makes only
            // async-signal-safe calls (setpgid, getpid, tcgetpgrp, sigprocmask, tcsetpgrp).
            unsafe {
                cmd.pre_exec(move || {
                    sys::child_takes_terminal(tty, group);
                    Ok(())
                });
            }
        }
        // Without a terminal to hand over the standard library can use posix_spawn.
        None => {
            cmd.process_group(0);
        }
    }
    let mut child = cmd.spawn()?;
    let pid = i32::try_from(child.id()).map_err(io::Error::other)?;
    match (child.stdout.take(), child.stderr.take()) {
        (Some(stdout), Some(stderr)) => Ok(Started {
            pid,
            stdout: stdout.into(),
            stderr: stderr.into(),
        }),
        // Cannot happen: both were set to piped above.
        _ => Err(io::Error::other("the command's output pipes are missing")),
    }
}

/// Where `program` is: itself when it names a path, else the first executable file of
/// that name in PATH (execvp's search).
fn find(program: &OsStr) -> Option<PathBuf> {
    if program.as_bytes().contains(&b'/') {
        return Some(PathBuf::from(program));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| {
            if dir.as_os_str().is_empty() {
                Path::new(".").join(program)
            } else {
                dir.join(program)
            }
        })
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

fn failure(program: &OsStr, error: &io::Error) -> (i32, String) {
    let program = program.to_string_lossy();
    match error.kind() {
        // The file is there: what is missing is the interpreter its #! line names.
        io::ErrorKind::NotFound
            if find(OsStr::new(program.as_ref())).is_some_and(|p| p.is_file()) =>
        {
            (
                exit_codes::NOT_FOUND,
                format!(
                    "cannot execute {program}: the interpreter its #! line names was not found"
                ),
            )
        }
        io::ErrorKind::NotFound => (exit_codes::NOT_FOUND, format!("not found: {program}")),
        // The file may be executable and its #! interpreter not: say both.
        io::ErrorKind::PermissionDenied
            if find(OsStr::new(program.as_ref()))
                .and_then(|p| p.metadata().ok())
                .is_some_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0) =>
        {
            (
                exit_codes::CANNOT_EXECUTE,
                format!(
                    "cannot execute {program}: permission denied (for the interpreter its #! \
                     line names, or the file system it is on)"
                ),
            )
        }
        io::ErrorKind::PermissionDenied => (
            exit_codes::CANNOT_EXECUTE,
            format!("permission denied: {program}"),
        ),
        _ => (
            exit_codes::CANNOT_EXECUTE,
            format!("cannot execute {program}: {error}"),
        ),
    }
}
