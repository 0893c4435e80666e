//! Every `unsafe` Unix call hcwrap makes, each behind a safe function that says why it is
//! sound. The rest of the code states what it wants (signal this group, hand over the
//! terminal, wait for that child) and reads as policy; the system details live here.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::time::Duration;

/// How a child's state changed, as `waitpid` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildState {
    /// Nothing to report.
    Running,
    /// Stopped by this signal.
    Stopped(i32),
    /// Continued after a stop.
    Continued,
    /// Exited with this status (reaped).
    Exited(i32),
    /// Killed by this signal (reaped).
    Signaled(i32),
    /// Not (or no longer) hcwrap's child: someone else reaped it.
    Gone,
}

/// What the kernel counted for an ended child and the descendants it waited for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// CPU time in user mode.
    pub user: Duration,
    /// CPU time in the kernel.
    pub system: Duration,
    /// The largest resident set of the child or any one of those descendants, in KiB.
    pub max_rss_kib: u64,
    /// hcwrap's own largest resident set when the child was reaped, in KiB. The kernel
    /// counts the child from its fork, when it was a copy of hcwrap, so a child's peak at
    /// or under this may be hcwrap's size rather than the command's.
    pub parent_max_rss_kib: u64,
}

/// Collects a change in child `pid`'s state without blocking; an ended child is reaped,
/// and what it used is put in `usage`.
pub fn wait_child(pid: i32, usage: &mut Usage) -> ChildState {
    let mut status = 0;
    loop {
        // SAFETY: rusage is plain data, for which zeroed is a valid value.
        let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = wait4(
            pid,
            &mut status,
            libc::WNOHANG | libc::WUNTRACED | libc::WCONTINUED,
            &mut rusage,
        );
        if r > 0 && (libc::WIFEXITED(status) || libc::WIFSIGNALED(status)) {
            let time = |t: libc::timeval| {
                Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
                    + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
            };
            // SAFETY: rusage is plain data, for which zeroed is a valid value.
            let mut own: libc::rusage = unsafe { std::mem::zeroed() };
            // SAFETY: own is valid, writable memory for the duration of the call.
            unsafe { libc::getrusage(libc::RUSAGE_SELF, &raw mut own) };
            let kib = |rss: libc::c_long| {
                // Linux counts KiB, macOS bytes.
                u64::try_from(rss).unwrap_or(0) / if cfg!(target_os = "macos") { 1024 } else { 1 }
            };
            *usage = Usage {
                user: time(rusage.ru_utime),
                system: time(rusage.ru_stime),
                parent_max_rss_kib: kib(own.ru_maxrss),
                max_rss_kib: kib(rusage.ru_maxrss),
            };
        }
        if r == 0 {
            return ChildState::Running;
        }
        if r < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return ChildState::Gone;
        }
        return if libc::WIFEXITED(status) {
            ChildState::Exited(libc::WEXITSTATUS(status))
        } else if libc::WIFSIGNALED(status) {
            ChildState::Signaled(libc::WTERMSIG(status))
        } else if libc::WIFSTOPPED(status) {
            ChildState::Stopped(libc::WSTOPSIG(status))
        } else {
            ChildState::Continued
        };
    }
}

/// wait4(2): the C library's.
#[cfg(not(all(target_env = "musl", target_pointer_width = "32")))]
fn wait4(pid: i32, status: &mut i32, options: i32, rusage: &mut libc::rusage) -> i32 {
    // SAFETY: status and rusage are valid, writable memory for the duration of the call.
    unsafe { libc::wait4(pid, status, options, rusage) }
}

/// wait4(2) as a system call: musl's `wait4` for 32-bit programs built against its old
/// 32-bit `time_t` (as Rust's libc crate is) never copies what the child used
/// (`__wait4_time32` takes the pid it returns for an error), so the figures would all be
/// 0. The kernel's own struct for this call is that same old layout.
#[cfg(all(target_env = "musl", target_pointer_width = "32"))]
fn wait4(pid: i32, status: &mut i32, options: i32, rusage: &mut libc::rusage) -> i32 {
    // The kernel writes the old layout: only sound while libc's struct has 32-bit times
    // (a timeval of two longs), which a build with 64-bit ones fails here to say.
    const _: () = assert!(size_of::<libc::timeval>() == 2 * size_of::<libc::c_long>());
    // SAFETY: the kernel writes a struct rusage of the old layout, which libc::rusage is
    // (asserted above), into valid, writable memory; status is valid, writable memory.
    let r = unsafe {
        libc::syscall(
            libc::SYS_wait4,
            pid,
            std::ptr::from_mut(status),
            options,
            std::ptr::from_mut(rusage),
        )
    };
    i32::try_from(r).unwrap_or(-1)
}

/// Reaps every ended child except `keep` (hcwrap's own command, whose status it collects
/// itself): what PID 1 owes the orphans the kernel hands it. Never blocks.
pub fn reap_others(keep: Option<i32>) {
    loop {
        // Look first (WNOWAIT), so that the command's own status is never taken here.
        // SAFETY: siginfo_t is plain data; zeroed is a valid value, and a zero si_pid is
        // how WNOHANG says that no child has ended.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: info is valid, writable memory for the duration of the call.
        let r = unsafe {
            libc::waitid(
                libc::P_ALL,
                0,
                &raw mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        // SAFETY: waitid succeeded, so info holds a child's state or zeros.
        let pid = if r == 0 { unsafe { info.si_pid() } } else { 0 };
        if pid == 0 || Some(pid) == keep {
            return;
        }
        let mut status = 0;
        // SAFETY: status is valid, writable memory; pid is an ended child of ours.
        unsafe { libc::waitpid(pid, &raw mut status, libc::WNOHANG) };
    }
}

/// Sends `signal` to process group `group`; an error (the group is gone) is ignored,
/// since there is then nothing left to signal.
pub fn kill_group(group: i32, signal: i32) {
    // SAFETY: killpg has no memory-safety preconditions.
    unsafe { libc::killpg(group, signal) };
}

/// Whether process group `group` still has a member.
pub fn group_exists(group: i32) -> bool {
    // SAFETY: killpg with signal 0 only checks; no memory-safety preconditions.
    let r = unsafe { libc::killpg(group, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// hcwrap's process id.
pub fn own_pid() -> i32 {
    // SAFETY: getpid has no preconditions.
    unsafe { libc::getpid() }
}

/// hcwrap's process group.
pub fn own_group() -> i32 {
    // SAFETY: getpgrp has no preconditions.
    unsafe { libc::getpgrp() }
}

/// The foreground process group of terminal `tty`, if it has one.
pub fn foreground(tty: RawFd) -> Option<i32> {
    // SAFETY: tcgetpgrp has no memory-safety preconditions.
    let group = unsafe { libc::tcgetpgrp(tty) };
    (group > 0).then_some(group)
}

/// Makes `group` the foreground process group of terminal `tty`. Uses only
/// async-signal-safe calls, so the child can call it between fork and exec. SIGTTOU is
/// blocked around the call: a background group would otherwise be stopped by it.
pub fn set_foreground(tty: RawFd, group: i32) {
    // SAFETY: the sigset_t values are initialised by sigemptyset before use; the calls
    // have no other preconditions, and an error leaves the terminal as it was.
    unsafe {
        let mut block: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&raw mut block);
        libc::sigaddset(&raw mut block, libc::SIGTTOU);
        libc::pthread_sigmask(libc::SIG_BLOCK, &raw const block, &raw mut old);
        libc::tcsetpgrp(tty, group);
        libc::pthread_sigmask(libc::SIG_SETMASK, &raw const old, std::ptr::null_mut());
    }
}

/// In the child between fork and exec: makes the child the leader of a new process group
/// and, when `tty` is given and hcwrap's group `parent_group` is its foreground group,
/// hands the terminal to the new group. Async-signal-safe.
pub fn child_takes_terminal(tty: RawFd, parent_group: i32) {
    // SAFETY: setpgid and getpid have no memory-safety preconditions.
    let own = unsafe {
        libc::setpgid(0, 0);
        libc::getpid()
    };
    if foreground(tty) == Some(parent_group) {
        set_foreground(tty, own);
    }
}

/// Changes the calling thread's mask: blocks (`block`) or unblocks `signal`. Called on the
/// main thread before any other thread starts, every thread then inherits it. (A command
/// starts with no signal blocked: the standard library resets the mask.)
pub fn mask(signal: i32, block: bool) {
    let how = if block {
        libc::SIG_BLOCK
    } else {
        libc::SIG_UNBLOCK
    };
    // SAFETY: the set is a local, initialised by sigemptyset before use; changing this
    // thread's mask has no memory-safety preconditions.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&raw mut set);
        libc::sigaddset(&raw mut set, signal);
        libc::pthread_sigmask(how, &raw const set, std::ptr::null_mut());
    }
}

/// Whether `signal`'s disposition is "ignore".
pub fn is_ignored(signal: i32) -> bool {
    // SAFETY: sigaction with a null new action only reads the current one into `old`,
    // which is valid, writable memory.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &raw mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    }
}

/// Sets `signal`'s disposition back to the default.
pub fn set_default(signal: i32) {
    // SAFETY: setting a disposition to SIG_DFL has no memory-safety preconditions.
    unsafe { libc::signal(signal, libc::SIG_DFL) };
}

/// Signals that arrived and have not been taken yet, one bit each.
static PENDING: AtomicU64 = AtomicU64::new(0);
/// The write end of the self-pipe: a byte per signal wakes whoever polls the read end.
static WAKE: AtomicI32 = AtomicI32::new(-1);
/// hcwrap's pid, to tell it from a child between fork and exec (see [`on_signal`]).
static OWNER: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    // Only async-signal-safe work: an atomic or, and a write(2) that never blocks (the
    // pipe is non-blocking; when it is full a wake-up is on its way anyway). errno is
    // saved and restored, since the code this interrupted may be about to read it.
    let saved = io::Error::last_os_error().raw_os_error();
    // SAFETY: getpid, signal and kill are async-signal-safe and have no memory-safety
    // preconditions.
    unsafe {
        if libc::getpid() != OWNER.load(Ordering::SeqCst) {
            // A child between fork and exec, which still has hcwrap's handlers: the signal
            // is the command's (a Ctrl-C the moment it took the terminal). Take the
            // default action, as the command would have, instead of losing it.
            libc::signal(signal, libc::SIG_DFL);
            libc::kill(libc::getpid(), signal);
            if let Some(errno) = saved {
                set_errno(errno);
            }
            return;
        }
    }
    if let Ok(bit) = u32::try_from(signal)
        && bit < 64
    {
        PENDING.fetch_or(1 << bit, Ordering::SeqCst);
    }
    let byte = 0u8;
    // SAFETY: writing one byte from a valid local; a closed or invalid fd only fails.
    unsafe { libc::write(WAKE.load(Ordering::SeqCst), (&raw const byte).cast(), 1) };
    if let Some(errno) = saved {
        set_errno(errno);
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn set_errno(value: i32) {
    // SAFETY: __errno_location returns this thread's errno, valid for writing.
    unsafe { *libc::__errno_location() = value };
}

#[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
fn set_errno(value: i32) {
    // SAFETY: __error returns this thread's errno, valid for writing.
    unsafe { *libc::__error() = value };
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd"
)))]
fn set_errno(_value: i32) {}

/// Creates the self-pipe and installs hcwrap's handler for each of `signals`: the handler
/// records the signal and writes a byte into the pipe. Returns the pipe's read end
/// (non-blocking, close-on-exec). Call once, before any thread starts.
pub fn install_handlers(signals: &[i32]) -> io::Result<OwnedFd> {
    let (read, write) = pipe()?;
    set_nonblocking(read.as_raw_fd())?;
    set_nonblocking(write.as_raw_fd())?;
    OWNER.store(own_pid(), Ordering::SeqCst);
    // The write end lives as long as the process: the handler may run at any time.
    WAKE.store(std::os::fd::IntoRawFd::into_raw_fd(write), Ordering::SeqCst);
    for &signal in signals {
        // SAFETY: the sigaction struct is zeroed (a valid value) and filled in before
        // use; the handler only does async-signal-safe work (see on_signal). SA_RESTART
        // keeps other threads' blocking calls from failing with EINTR.
        let r = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&raw mut action.sa_mask);
            libc::sigaction(signal, &raw const action, std::ptr::null_mut())
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(read)
}

/// Takes the signals that arrived since the last call (a bit per signal) and empties the
/// self-pipe `wake`.
pub fn take_signals(wake: BorrowedFd<'_>) -> u64 {
    let mut bytes = [0u8; 64];
    // SAFETY: bytes is valid, writable memory of the length given; the fd is
    // non-blocking, so this returns at once when it is empty.
    while unsafe { libc::read(wake.as_raw_fd(), bytes.as_mut_ptr().cast(), bytes.len()) } > 0 {}
    PENDING.swap(0, Ordering::SeqCst)
}

/// Stops hcwrap itself as the default action of `signal` (SIGTSTP, SIGTTIN, SIGTTOU)
/// would, for a shell's job control; returns once hcwrap is continued (or at once, if the
/// system discards the signal because hcwrap's group is orphaned).
pub fn stop_self(signal: i32) {
    // SAFETY: the sigaction structs are valid memory; the old action is put back as it
    // was. kill(getpid()) of an unblocked signal is delivered before kill returns, so
    // the default action (stop) happens in between.
    unsafe {
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, &raw const default, &raw mut old);
        mask(signal, false);
        libc::kill(libc::getpid(), signal);
        libc::sigaction(signal, &raw const old, std::ptr::null_mut());
    }
}

/// Ends hcwrap by `signal` with its default action, as a program interrupted by it
/// should (a shell then stops its loop on Ctrl-C). Returns where that cannot happen: as
/// PID 1, which signals with the default action do not end. That case returns without
/// trying: the kernel would drop the signal, but a user-mode emulator (qemu-user) cannot,
/// and waits for it forever.
pub fn die_by(signal: i32) {
    if own_pid() == 1 {
        return;
    }
    // SAFETY: a zeroed rlimit is a valid value; setrlimit, signal, kill have no
    // memory-safety preconditions.
    unsafe {
        if signal == libc::SIGQUIT {
            // SIGQUIT's default action dumps core: not what an interrupted run should leave.
            let none: libc::rlimit = std::mem::zeroed();
            libc::setrlimit(libc::RLIMIT_CORE, &raw const none);
        }
        libc::signal(signal, libc::SIG_DFL);
        mask(signal, false);
        libc::kill(libc::getpid(), signal);
    }
}

/// poll(2) on `fds` for at most `timeout` (`None`: no limit). An interrupted poll counts
/// as nothing ready.
pub fn poll(fds: &mut [libc::pollfd], timeout: Option<Duration>) -> io::Result<usize> {
    let millis = timeout.map_or(-1, |t| {
        // Rounded up, so that poll does not return early with time still left.
        let ms = t.as_nanos().div_ceil(1_000_000);
        i32::try_from(ms).unwrap_or(i32::MAX)
    });
    let count = libc::nfds_t::try_from(fds.len()).unwrap_or(libc::nfds_t::MAX);
    // SAFETY: fds is a valid array of pollfd of the length given, alive for the call.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), count, millis) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(0);
        }
        return Err(e);
    }
    Ok(usize::try_from(r).unwrap_or(0))
}

/// A pipe, both ends close-on-exec.
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let (read, write) = io::pipe()?;
    Ok((read.into(), write.into()))
}

/// Sets `O_NONBLOCK` on `fd`, a descriptor hcwrap owns alone (never one it shares with
/// other processes: the flag belongs to the open file, not the descriptor).
pub fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl with F_GETFL/F_SETFL has no memory-safety preconditions.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// How many bytes are waiting to be read in pipe `fd`.
pub fn unread(fd: RawFd) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int into n, valid writable memory.
    let r = unsafe { libc::ioctl(fd, libc::FIONREAD, &raw mut n) };
    if r == 0 {
        usize::try_from(n).unwrap_or(0)
    } else {
        0
    }
}

/// Asks for a larger capacity of pipe `fd` (Linux; elsewhere nothing). Best effort: the
/// system may cap it (pipe-max-size), which is fine.
pub fn grow_pipe(fd: RawFd, size: i32) {
    #[cfg(target_os = "linux")]
    // SAFETY: fcntl with F_SETPIPE_SZ has no memory-safety preconditions.
    unsafe {
        libc::fcntl(fd, libc::F_SETPIPE_SZ, size);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (fd, size);
}

/// What kind of file `fd` is open on, as far as writing to it may block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file or block device: writes never wait for a reader.
    File,
    /// A socket: a write can be made non-blocking on its own (`MSG_DONTWAIT`).
    Socket,
    /// A pipe, a FIFO, a terminal or another character device.
    Other,
}

/// What `fd` is open on.
pub fn file_kind(fd: RawFd) -> io::Result<FileKind> {
    // SAFETY: a zeroed stat is a valid value; fstat fills it in.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: st is valid, writable memory for the call.
    if unsafe { libc::fstat(fd, &raw mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(match st.st_mode & libc::S_IFMT {
        libc::S_IFREG | libc::S_IFBLK => FileKind::File,
        libc::S_IFSOCK => FileKind::Socket,
        _ => FileKind::Other,
    })
}

/// Whether `O_NONBLOCK` is set on `fd`'s open file.
pub fn is_nonblocking(fd: RawFd) -> bool {
    // SAFETY: fcntl with F_GETFL has no memory-safety preconditions.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    flags >= 0 && flags & libc::O_NONBLOCK != 0
}

/// Opens the file behind `fd` again, write-only and non-blocking, as a new open file of
/// hcwrap's own (a pipe or terminal, never a regular file, whose offset must stay
/// shared). Its `O_NONBLOCK` then affects nobody else.
///
/// On Linux through /proc/self/fd. A terminal, on every system, by its name (ttyname(3)):
/// macOS's and FreeBSD's /dev/fd/N duplicates the descriptor instead, the very open file
/// others share. A pipe there (or on a Linux without /proc) cannot be opened again: `None`,
/// and the caller falls back to writes that poll first (see `child::pump::Sink`).
pub fn reopen_nonblocking(fd: RawFd) -> Option<OwnedFd> {
    let by_proc = cfg!(any(target_os = "linux", target_os = "android"))
        .then(|| format!("/proc/self/fd/{fd}"))
        .and_then(|path| open_nonblocking(&path, fd));
    by_proc.or_else(|| open_nonblocking(&terminal_name(fd)?, fd))
}

/// `path` opened write-only and non-blocking, if it is the file `fd` is open on.
fn open_nonblocking(path: &str, fd: RawFd) -> Option<OwnedFd> {
    let path = std::ffi::CString::new(path).ok()?;
    // SAFETY: path is NUL-terminated and alive for the call.
    let new = unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_WRONLY | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY,
        )
    };
    if new < 0 {
        return None;
    }
    // SAFETY: open returned a new descriptor that nothing else owns.
    let new = unsafe { OwnedFd::from_raw_fd(new) };
    same_file(fd, new.as_raw_fd()).then_some(new)
}

/// The path of the terminal `fd` is open on (`/dev/pts/3`, `/dev/ttys003`), if it is one.
/// musl's ttyname(3) reads it from /proc; without /proc, the pseudo-terminal with the same
/// device number is looked for in /dev/pts.
fn terminal_name(fd: RawFd) -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: buf is valid, writable memory of the length given; ttyname_r writes a
    // NUL-terminated name there or fails (not a terminal, too long).
    let r = unsafe { libc::ttyname_r(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if r == 0 {
        let name = std::ffi::CStr::from_bytes_until_nul(&buf).ok()?;
        return Some(name.to_str().ok()?.to_owned());
    }
    // SAFETY: isatty has no memory-safety preconditions.
    if unsafe { libc::isatty(fd) } != 1 {
        return None;
    }
    // SAFETY: fd is open for the call (the caller's); the copy is closed at once.
    let copy = unsafe { BorrowedFd::borrow_raw(fd) }
        .try_clone_to_owned()
        .ok()?;
    let device = std::os::unix::fs::MetadataExt::rdev(&std::fs::File::from(copy).metadata().ok()?);
    std::fs::read_dir("/dev/pts")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let same = entry
                .metadata()
                .is_ok_and(|m| std::os::unix::fs::MetadataExt::rdev(&m) == device);
            same.then(|| entry.path().to_str().map(str::to_owned))?
        })
}

fn same_file(a: RawFd, b: RawFd) -> bool {
    // SAFETY: zeroed stat values are valid; fstat fills them in.
    let (mut x, mut y): (libc::stat, libc::stat) = unsafe { std::mem::zeroed() };
    // SAFETY: x and y are valid, writable memory for the calls.
    let read = unsafe { libc::fstat(a, &raw mut x) == 0 && libc::fstat(b, &raw mut y) == 0 };
    read && x.st_dev == y.st_dev && x.st_ino == y.st_ino
}

/// Writes what it can of `data` to `fd` now: `send` with `MSG_DONTWAIT` for a socket, a
/// plain write otherwise (the caller picked a descriptor that does not block, or one that
/// never blocks for long). Returns how much was written; `WouldBlock` when nothing could be.
pub fn write_now(fd: RawFd, data: &[u8], socket: bool) -> io::Result<usize> {
    // SAFETY: data is valid memory of the length given, alive for the call.
    let r = unsafe {
        if socket {
            libc::send(
                fd,
                data.as_ptr().cast(),
                data.len(),
                libc::MSG_DONTWAIT | MSG_NOSIGNAL,
            )
        } else {
            libc::write(fd, data.as_ptr().cast(), data.len())
        }
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        // A socket that is not a stream one (ENOTSOCK never happens: the kind was read).
        return Err(e);
    }
    Ok(usize::try_from(r).unwrap_or(0))
}

/// No SIGPIPE for a send to a socket whose reader has gone. macOS has no such flag; there
/// the send fails with EPIPE all the same, since Rust's runtime ignores SIGPIPE in hcwrap
/// (and restores the default in the command it starts).
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
const MSG_NOSIGNAL: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
const MSG_NOSIGNAL: libc::c_int = 0;

/// Takes an exclusive `flock` on `fd` without waiting: `Ok(false)` when another open file
/// holds it.
pub fn try_flock(fd: RawFd) -> io::Result<bool> {
    // SAFETY: flock has no memory-safety preconditions; the descriptor is open.
    if unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    if e.kind() == io::ErrorKind::WouldBlock {
        return Ok(false);
    }
    Err(e)
}

/// Takes an exclusive `flock` on `fd`, waiting while another open file holds it (for the
/// moment another run takes to rewrite a small file), but no longer than [`LOCK_PATIENCE`]:
/// a lock someone keeps (a stopped process, another user's `flock FILE sleep`) must not
/// keep hcwrap from ending.
pub fn flock(fd: RawFd) -> io::Result<()> {
    flock_within(fd, LOCK_PATIENCE)
}

/// [`flock`], waiting `patience` at most.
pub fn flock_within(fd: RawFd, patience: Duration) -> io::Result<()> {
    let until = std::time::Instant::now() + patience;
    loop {
        if try_flock(fd)? {
            return Ok(());
        }
        if std::time::Instant::now() >= until {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "another process has held its lock for over {}",
                    humantime::format_duration(patience)
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The longest [`flock`] waits.
pub const LOCK_PATIENCE: Duration = Duration::from_secs(2);

/// hcwrap's real user id.
pub fn uid() -> u32 {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() }
}

/// Whether this process may write in `path` (`access(2)` with `W_OK`: the real user's
/// permissions, as root's are).
pub fn can_write(path: &std::path::Path) -> bool {
    let Ok(path) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: access reads a NUL-terminated path that lives through the call.
    unsafe { libc::access(path.as_ptr(), libc::W_OK) == 0 }
}

/// This machine's host name (gethostname(2), on every Unix), if it has one.
pub fn host_name() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: buf is valid, writable memory of the length given; gethostname writes a
    // name there (NUL-terminated when it fits, hence one byte kept back).
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    if r != 0 {
        return None;
    }
    let name = std::ffi::CStr::from_bytes_until_nul(&buf).ok()?;
    Some(name.to_string_lossy().trim().to_owned()).filter(|n| !n.is_empty())
}

/// The name of the user hcwrap runs as (`LOGNAME`'s way of naming it), or its uid.
pub fn user_name() -> String {
    let uid = uid();
    // SAFETY: getpwuid returns null or a pointer to a static entry, read at once here
    // (hcwrap reads it from one thread).
    let name = unsafe {
        let entry = libc::getpwuid(uid);
        if entry.is_null() || (*entry).pw_name.is_null() {
            None
        } else {
            Some(
                std::ffi::CStr::from_ptr((*entry).pw_name)
                    .to_string_lossy()
                    .into_owned(),
            )
        }
    };
    name.unwrap_or_else(|| uid.to_string())
}

/// Whether `user` may read the file at `path`, by its permission bits (root may read
/// anything; directories on the way and access lists are not looked at). Unknown users
/// and missing files count as able: only a clear "no" is worth a warning.
pub fn may_read(path: &std::path::Path, user: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    let (Some((uid, gid)), Ok(meta)) = (user_ids(user), std::fs::metadata(path)) else {
        return true;
    };
    let mode = meta.mode();
    uid == 0
        || mode & 0o004 != 0
        || (meta.uid() == uid && mode & 0o400 != 0)
        || (meta.gid() == gid && mode & 0o040 != 0)
}

/// Whether `user` may run the program at `path`, by the permission bits of the file and
/// of each directory above it (root needs one execute bit on the file). Unknown users
/// count as able.
pub fn may_run(path: &std::path::Path, user: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some((uid, gid)) = user_ids(user) else {
        return true;
    };
    let allowed = |meta: &std::fs::Metadata| {
        let mode = meta.mode();
        if uid == 0 {
            return !meta.is_file() || mode & 0o111 != 0;
        }
        let bits = if meta.uid() == uid {
            mode >> 6
        } else if meta.gid() == gid {
            mode >> 3
        } else {
            mode
        };
        bits & 0o1 != 0
    };
    path.ancestors()
        .all(|p| std::fs::metadata(p).is_ok_and(|meta| allowed(&meta)))
}

/// A user's ids (uid, gid) by name; `None` when there is no such user.
pub fn user_ids(name: &str) -> Option<(u32, u32)> {
    let name = std::ffi::CString::new(name).ok()?;
    let mut entry = std::mem::MaybeUninit::<libc::passwd>::uninit();
    let mut buffer = vec![0 as libc::c_char; 16 * 1024];
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwnam_r writes the entry into `entry` and its strings into `buffer`, both
    // valid for the sizes given, and sets `found` to `entry` or null; only the two ids are
    // read, and only when it found the user.
    let status = unsafe {
        libc::getpwnam_r(
            name.as_ptr(),
            entry.as_mut_ptr(),
            buffer.as_mut_ptr(),
            buffer.len(),
            &raw mut found,
        )
    };
    if status != 0 || found.is_null() {
        return None;
    }
    // SAFETY: getpwnam_r succeeded and found the user: `entry` is initialised.
    let entry = unsafe { entry.assume_init() };
    Some((entry.pw_uid, entry.pw_gid))
}

/// Puts TCP socket `fd` in quick-ack mode: the segments it receives next are acknowledged
/// at once (Linux; the mode ends by itself, so this is set before each read).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn quick_ack(fd: RawFd) {
    let on: libc::c_int = 1;
    // SAFETY: setsockopt reads one int from `on`, valid for the call; an error (not a TCP
    // socket) changes nothing.
    unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&raw const on).cast(),
            libc::socklen_t::try_from(std::mem::size_of::<libc::c_int>()).unwrap_or(4),
        );
    }
}
