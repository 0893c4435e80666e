//! An interactive bash (or zsh) in a pseudo-terminal, driven as a user at a keyboard would:
//! type a line or a key, wait for what the terminal shows.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use super::PATIENCE;

/// bash, interactive, in a terminal of its own (it is the session leader and the
/// terminal is its controlling one), with hcwrap on its PATH.
pub struct Shell {
    master: File,
    child: Child,
    seen: Vec<u8>,
}

impl Shell {
    pub fn start() -> Shell {
        let mut shell = Shell::spawn(
            "bash",
            &["--norc", "--noprofile", "-i"],
            &[("PS1", "PROMPT$ ")],
        );
        shell.expect("PROMPT$ ");
        // No bracketed paste, no line editing surprises.
        shell.line("bind 'set enable-bracketed-paste off' 2>/dev/null; stty -echoctl");
        shell.expect("PROMPT$ ");
        shell
    }

    /// zsh, interactive, with no start-up files, its completion system loaded with the
    /// completions in `fpath_dir` first.
    pub fn zsh(fpath_dir: &std::path::Path) -> Shell {
        let mut shell = Shell::spawn("zsh", &["-f", "-i"], &[]);
        shell.line(&format!(
            // (Quoted in two pieces, so that the echo of this line does not show the prompt.)
            "PS1='PROM''PT$ '; fpath=({} $fpath); autoload -U compinit; compinit -u -D; \
             zstyle ':completion:*' menu no",
            fpath_dir.display()
        ));
        shell.expect("PROMPT$ ");
        shell
    }

    /// Types `text` with no Enter (a Tab in it asks for completions).
    pub fn keys(&mut self, text: &str) {
        self.master.write_all(text.as_bytes()).unwrap();
    }

    /// `program` in a terminal of its own, with hcwrap on its PATH and a clean environment
    /// but for `env`.
    fn spawn(program: &str, args: &[&str], env: &[(&str, &str)]) -> Shell {
        let (master, slave) = open();
        let bin = std::path::Path::new(env!("CARGO_BIN_EXE_hcwrap"))
            .parent()
            .unwrap()
            .to_owned();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env_clear()
            .env("PATH", path)
            .env("TERM", "dumb")
            .envs(env.iter().copied())
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: setsid and ioctl are async-signal-safe; the closure runs between fork
        // and exec and touches no memory of the parent's.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                // The request's type differs: c_ulong on Linux, u32 widened on macOS.
                #[allow(clippy::useless_conversion)]
                let request = libc::TIOCSCTTY.into();
                if libc::ioctl(0, request, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("the shell starts");
        Shell {
            master: File::from(master),
            child,
            seen: Vec::new(),
        }
    }

    /// Types `text` and Enter.
    pub fn line(&mut self, text: &str) {
        self.master
            .write_all(format!("{text}\n").as_bytes())
            .unwrap();
    }

    /// Presses a control key: `'Z'` for Ctrl-Z, `'C'` for Ctrl-C.
    pub fn ctrl(&mut self, key: char) {
        let byte = u8::try_from(key).unwrap() & 0x1f;
        self.master.write_all(&[byte]).unwrap();
    }

    /// Waits until the terminal shows `text` (after what earlier expects consumed);
    /// returns everything shown up to and including it. Fails after [`PATIENCE`].
    pub fn expect(&mut self, text: &str) -> String {
        let started = Instant::now();
        loop {
            if let Some(at) = find(&self.seen, text.as_bytes()) {
                let rest = self.seen.split_off(at + text.len());
                let shown = std::mem::replace(&mut self.seen, rest);
                return String::from_utf8_lossy(&shown).into_owned();
            }
            assert!(
                started.elapsed() < PATIENCE,
                "the terminal never showed {text:?}; it showed {:?}",
                String::from_utf8_lossy(&self.seen)
            );
            let mut fds = [libc::pollfd {
                fd: self.master.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            }];
            // SAFETY: fds is a valid array of one pollfd.
            unsafe { libc::poll(fds.as_mut_ptr(), 1, 100) };
            if fds[0].revents != 0 {
                let mut buf = [0u8; 4096];
                match self.master.read(&mut buf) {
                    // Line ends as the terminal shows them (CR LF) read as LF.
                    Ok(n) if n > 0 => self.seen.extend(buf[..n].iter().filter(|&&b| b != b'\r')),
                    _ => {}
                }
            }
        }
    }

    /// Waits until process group `group` is the terminal's foreground group.
    pub fn wait_foreground(&mut self, group: i32) {
        let started = Instant::now();
        // SAFETY: tcgetpgrp on the master reports the terminal's foreground group.
        while unsafe { libc::tcgetpgrp(self.master.as_raw_fd()) } != group {
            assert!(
                started.elapsed() < PATIENCE,
                "group {group} never got the terminal"
            );
            std::thread::yield_now();
        }
    }

    /// Runs `command` in the shell and returns what its exit status was (`$?`).
    pub fn status_of_last(&mut self) -> i32 {
        self.line("echo \"status=$?.\"");
        let shown = self.expect(".\n");
        let at = shown.rfind("status=").unwrap();
        shown[at + 7..shown.len() - 2].parse().unwrap()
    }
}

impl Drop for Shell {
    /// Ends every process of the terminal's session (bash is its leader), jobs included,
    /// so that a failed test leaves nothing behind.
    fn drop(&mut self) {
        let session = i32::try_from(self.child.id()).unwrap();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // Fields after the command name: state, ppid, pgrp, session, ...
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map_or("", |(_, rest)| rest)
                .split_whitespace()
                .collect();
            if fields.get(3) == Some(&session.to_string().as_str())
                && let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>()
            {
                // SAFETY: kill has no memory-safety preconditions.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A new pseudo-terminal: its master, and its slave.
pub fn open() -> (OwnedFd, OwnedFd) {
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two descriptors into the two ints; null name, termios and
    // winsize are allowed.
    let r = unsafe {
        libc::openpty(
            &raw mut master,
            &raw mut slave,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(r, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty returned two new descriptors that nothing else owns.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}
