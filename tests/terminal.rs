//! hcwrap in a terminal, under an interactive bash, driven as a user would: job control
//! (Ctrl-Z, `fg`, `bg`, `&`), Ctrl-C in a shell loop, `stty tostop`, and the terminal
//! always coming back. Each case runs in a pseudo-terminal of its own.

mod support;

use support::TempDir;
use support::pty::Shell;

// The commands print their pid and then `exec sleep` or `read` (a builtin): a key pressed
// while a non-interactive sh forks a child is lost by sh itself (dash catches SIGINT
// while it waits, and the child has not exec'd yet), with or without hcwrap.

/// Waits for the `pid=N` line the wrapped command prints (typed as `p\"\"id=$$`, so that
/// the typed line does not match): its pid is also its process group's.
fn command_pid(sh: &mut Shell) -> i32 {
    sh.expect("pid=");
    sh.expect("\n").trim().parse().unwrap()
}

/// Ctrl-Z on the running command `pid`: the job stops and the prompt comes back; then
/// `fg` gives the command the terminal again.
fn suspend_and_resume(sh: &mut Shell, pid: i32) {
    sh.wait_foreground(pid);
    sh.ctrl('Z');
    sh.expect("Stopped");
    sh.expect("PROMPT$ ");
    sh.line("fg");
    sh.wait_foreground(pid);
}

#[test]
fn ctrl_z_stops_the_whole_job_and_fg_gives_the_command_the_terminal_again() {
    let mut sh = Shell::start();
    sh.line("hcwrap --dry-run -- sh -c 'echo p\"\"id=$$; read x; echo got=$x'");
    let pid = command_pid(&mut sh);
    suspend_and_resume(&mut sh, pid);
    sh.line("hello");
    sh.expect("got=hello");
    sh.expect("PROMPT$ ");
    assert_eq!(sh.status_of_last(), 0);
}

#[test]
fn ctrl_c_after_fg_ends_the_job_and_hcwrap_by_sigint() {
    let mut sh = Shell::start();
    sh.line("hcwrap --dry-run -- sh -c 'echo p\"\"id=$$; exec sleep 600'");
    let pid = command_pid(&mut sh);
    suspend_and_resume(&mut sh, pid);
    sh.ctrl('C');
    let shown = sh.expect("PROMPT$ ");
    assert!(shown.contains("killed by SIGINT"), "{shown}");
    assert_eq!(sh.status_of_last(), 130);
}

#[test]
fn a_job_started_in_the_background_stops_on_reading_and_fg_lets_it_read() {
    let mut sh = Shell::start();
    sh.line("hcwrap --dry-run -- sh -c 'echo p\"\"id=$$; read x; echo got=$x' &");
    sh.expect("PROMPT$ ");
    // The command reads the terminal in the background: it stops, and hcwrap with it.
    sh.line("until jobs | grep -q Stopped; do sleep 0.01; done; echo is\"\"-stopped");
    sh.expect("is-stopped\n");
    sh.expect("PROMPT$ ");
    sh.line("bg");
    // Continued in the background, it reads again and stops again.
    sh.line("until jobs | grep -q Stopped; do sleep 0.01; done; echo stopped\"\"-again");
    sh.expect("stopped-again\n");
    sh.expect("PROMPT$ ");
    sh.line("fg");
    sh.expect("read x");
    sh.line("hello");
    sh.expect("got=hello");
    sh.expect("PROMPT$ ");
    assert_eq!(sh.status_of_last(), 0);
}

#[test]
fn after_a_run_whose_command_was_not_found_the_next_run_gets_the_terminal() {
    let dir = TempDir::new("every-not-found");
    let mut sh = Shell::start();
    sh.line(&format!(
        "cd {} && hcwrap --dry-run --every 200ms -- ./later.sh",
        dir.0.display()
    ));
    sh.expect("not found: ./later.sh");
    let script = dir.file(
        "later.tmp",
        "#!/bin/sh\necho p\"\"id=$$; echo hcwrap=$PPID; read x; echo got=$x\n",
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::rename(&script, dir.0.join("later.sh")).unwrap();
    let pid = command_pid(&mut sh);
    sh.expect("hcwrap=");
    let hcwrap: i32 = sh.expect("\n").trim().parse().unwrap();
    sh.wait_foreground(pid);
    std::fs::remove_file(dir.0.join("later.sh")).unwrap();
    sh.line("hello");
    sh.expect("got=hello");
    // Between runs hcwrap holds the terminal again; Ctrl-C ends the loop.
    sh.wait_foreground(hcwrap);
    sh.ctrl('C');
    sh.expect("PROMPT$ ");
    assert_eq!(sh.status_of_last(), 130);
}

#[test]
fn with_tostop_hcwraps_own_echo_does_not_stop_the_job() {
    let mut sh = Shell::start();
    sh.line("stty tostop; hcwrap --dry-run -- sh -c 'echo first; echo second >&2; echo th\"\"ird'");
    let shown = sh.expect("PROMPT$ ");
    assert!(shown.contains("third"), "{shown}");
    assert!(!shown.contains("Stopped"), "{shown}");
    assert_eq!(sh.status_of_last(), 0);
}

#[test]
fn one_ctrl_c_ends_a_shell_loop_of_wrapped_commands() {
    let mut sh = Shell::start();
    sh.line(
        "for i in 1 2 3; do hcwrap --dry-run -- sh -c 'echo p\"\"id=$$; exec sleep 600'; \
         echo ne\"\"xt-$i; done; echo loop\"\"-over",
    );
    let pid = command_pid(&mut sh);
    sh.wait_foreground(pid);
    sh.ctrl('C');
    let shown = sh.expect("PROMPT$ ");
    assert!(!shown.contains("next-1"), "the loop went on: {shown}");
    assert!(!shown.contains("loop-over"), "the loop went on: {shown}");
    assert_eq!(sh.status_of_last(), 130);
}
