//! The overlap lock (`--lock`): one run at a time per lock file.
//!
//! An advisory `flock(2)` on an open file: the kernel releases it when the file is closed,
//! which happens however hcwrap ends, SIGKILL included. So there are no stale locks and no
//! PID files to clean up. The descriptor is close-on-exec: the command does not inherit
//! it, so a daemon the command leaves behind cannot keep later runs out.
//!
//! A lock must be safe from other users: anyone who can open the file can flock it, and
//! anyone who can create it first can keep hcwrap out. So the default lock file lives in
//! a directory only its user can write (see [`default_dir`]), lock files are created
//! mode 0600, never through a symbolic link, and a lock file that another user owns is
//! refused (with a message, a failure ping and exit status 125) rather than used. An
//! existing file of the user's own is used as it is, its mode untouched (a script that
//! serves as its own lock stays executable).

use std::fs::{DirBuilder, File};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::sys;

/// A held lock; released when dropped (or when hcwrap ends).
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Where the lock file is, and whether its directory is hcwrap's own to make and check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockPath {
    path: PathBuf,
    /// For a default path (not under `$XDG_RUNTIME_DIR`): the directory to make mode
    /// 0700 and check to be the user's own before the lock file is opened.
    private_dir: Option<PathBuf>,
}

impl LockPath {
    /// The path `--lock=PATH` gives: used as it is.
    pub fn given(path: PathBuf) -> Self {
        LockPath {
            path,
            private_dir: None,
        }
    }

    /// The lock file for a check when `--lock` names none: in [`default_dir`], named from
    /// a hash of the check's URL (never the URL, which holds the secret).
    pub fn default_for(env: &dyn Fn(&str) -> Option<String>, check_url: &str) -> Self {
        let (dir, made_here) = default_dir(env);
        LockPath {
            path: default_path(&dir, check_url),
            private_dir: made_here.then_some(dir),
        }
    }

    /// The lock file's path.
    #[cfg(test)]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Takes the lock at `lock` without waiting: `None` when another process holds it. Makes
/// and checks its private directory first, for a default path.
pub fn try_lock(lock: &LockPath) -> Result<Option<Lock>> {
    if let Some(dir) = &lock.private_dir {
        private_dir(dir, &temp_dir())?;
    }
    let path = lock.path.as_path();
    let file = open(path).map_err(|e| {
        anyhow::anyhow!(
            "--lock: cannot open the lock file {}: {}",
            path.display(),
            what_is_wrong(path, &e)
        )
    })?;
    let meta = file
        .metadata()
        .with_context(|| format!("--lock: cannot read {}", path.display()))?;
    if !meta.is_file() {
        bail!(
            "--lock: cannot use {} as a lock file: it is not a regular file (a FIFO, socket \
             or device); give the path of a file",
            path.display()
        );
    }
    if meta.uid() != sys::uid() {
        bail!(
            "--lock: {} belongs to another user (uid {}), who could hold it to keep this job \
             from running; remove it, or give --lock=PATH in a directory only you can write",
            path.display(),
            meta.uid()
        );
    }
    if sys::try_flock(file.as_raw_fd())
        .with_context(|| format!("--lock: cannot lock {}", path.display()))?
    {
        Ok(Some(Lock { _file: file }))
    } else {
        Ok(None)
    }
}

/// Opens the lock file, making it (mode 0600) if it is missing. An existing file is opened
/// read-only (flock needs no more), so that a script used as its own lock can still be
/// executed (Linux refuses to run a file open for writing). Never through a symbolic
/// link; non-blocking, so that a FIFO someone put at the path cannot hang the open (it is
/// refused afterwards, as not a regular file).
fn open(path: &Path) -> std::io::Result<File> {
    let flags = libc::O_NOFOLLOW | libc::O_NONBLOCK;
    loop {
        match File::options().read(true).custom_flags(flags).open(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            other => return other,
        }
        match File::options()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(flags)
            .open(path)
        {
            // Made by another run in between: open it as it is.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            other => return other,
        }
    }
}

/// Why a lock file could not be opened, in words that say what is at the path and what
/// to do, where the system's error alone would not ("No such device or address").
fn what_is_wrong(path: &Path, error: &std::io::Error) -> String {
    let kind = std::fs::symlink_metadata(path).map(|m| m.file_type());
    match kind {
        Ok(t) if t.is_symlink() => {
            "it is a symbolic link, and lock files are never opened through one (another \
             user could point it anywhere); give the real path"
                .to_owned()
        }
        Ok(t) if !t.is_file() && !t.is_dir() => {
            "it is not a regular file (a FIFO, socket or device); give the path of a file"
                .to_owned()
        }
        _ => error.to_string(),
    }
}

/// The name of the private directory hcwrap makes for default lock files.
const PRIVATE_DIR_NAME: &str = "hcwrap";

/// Where default lock files live: `$XDG_RUNTIME_DIR` (the user's own, made by the login
/// manager), else for root `/run/hcwrap` (only root can write /run), else
/// `~/.cache/hcwrap`, else `hcwrap-<uid>` in the temp directory: never a directory
/// another user can write, so no one else can create, take or replace the lock file. (In
/// the last case another user could make that directory first: hcwrap then refuses it.)
/// The flag says whether hcwrap makes and checks the directory (all but the first).
fn default_dir(env: &dyn Fn(&str) -> Option<String>) -> (PathBuf, bool) {
    if let Some(dir) = env("XDG_RUNTIME_DIR") {
        return (PathBuf::from(dir), false);
    }
    let uid = sys::uid();
    let dir = if uid == 0 && Path::new("/run").is_dir() {
        PathBuf::from("/run").join(PRIVATE_DIR_NAME)
    } else if let Some(home) = env("HOME").filter(|h| h != "/" && Path::new(h).is_dir()) {
        Path::new(&home).join(".cache").join(PRIVATE_DIR_NAME)
    } else {
        temp_dir().join(format!("{PRIVATE_DIR_NAME}-{uid}"))
    };
    (dir, true)
}

/// The system's temporary directory: `$TMPDIR` when it is an absolute path, else `/tmp`
/// (an empty or relative one would put the lock wherever hcwrap happens to run).
fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir();
    if dir.is_absolute() {
        dir
    } else {
        PathBuf::from("/tmp")
    }
}

/// Makes `dir` (mode 0700) if it is missing and checks that it is the user's own and
/// writable by no one else. Its parent is made first if missing (`~/.cache`), unless it is
/// the system's temporary directory `temp`, which hcwrap never makes (a root-only /tmp would
/// break every other program in a container); the directory itself is made on its own, so
/// nothing is ever made inside a directory someone else created at its name.
fn private_dir(dir: &Path, temp: &Path) -> Result<()> {
    if let Some(parent) = dir.parent()
        && !parent.exists()
    {
        if parent == temp {
            bail!(
                "--lock: the temporary directory {} does not exist, and hcwrap does not make \
                 it; give the lock file's path (--lock=PATH)",
                parent.display()
            );
        }
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .with_context(|| format!("--lock: cannot create the directory {}", parent.display()))?;
    }
    if let Err(e) = DirBuilder::new().mode(0o700).create(dir)
        && e.kind() != std::io::ErrorKind::AlreadyExists
    {
        return Err(e)
            .with_context(|| format!("--lock: cannot create the directory {}", dir.display()));
    }
    let meta = std::fs::symlink_metadata(dir)
        .with_context(|| format!("--lock: cannot read {}", dir.display()))?;
    if !meta.is_dir() || meta.uid() != sys::uid() || meta.mode() & 0o022 != 0 {
        bail!(
            "--lock: {} is not a directory of this user's that only it can write (another user \
             may have made it), so the lock could be taken; remove it, or give --lock=PATH",
            dir.display()
        );
    }
    Ok(())
}

/// The lock file's name in `dir`: from a hash of the check's URL.
fn default_path(dir: &Path, check_url: &str) -> PathBuf {
    dir.join(format!("hcwrap-{:016x}.lock", fnv1a(check_url.as_bytes())))
}

/// FNV-1a, 64 bits: stable across builds and Rust versions (unlike `DefaultHasher`), so
/// two hcwrap builds agree on the file name.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_name_hides_the_url_and_is_stable() {
        let path = default_path(
            Path::new("/run/user/1000"),
            "https://hc-ping.com/1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b",
        );
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with("hcwrap-")
                && Path::new(name).extension().is_some_and(|e| e == "lock")
                && name.len() == 28,
            "{name}"
        );
        assert!(!name.contains("1f1c"));
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn a_second_lock_on_the_same_file_is_refused_until_the_first_is_dropped() {
        let path = std::env::temp_dir().join(format!("hcwrap-unit-{}.lock", std::process::id()));
        let lock = LockPath::given(path.clone());
        let first = try_lock(&lock).unwrap().expect("free");
        assert!(
            try_lock(&lock).unwrap().is_none(),
            "flock locks are per open file"
        );
        drop(first);
        assert!(try_lock(&lock).unwrap().is_some());
        assert_eq!(
            std::fs::metadata(&path).unwrap().mode() & 0o777,
            0o600,
            "only its user may open it"
        );
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn a_missing_temporary_directory_is_not_made() {
        // As in an empty root (a scratch image), where /tmp may not exist.
        let temp = std::env::temp_dir().join(format!("hcwrap-unit-tmp-{}", std::process::id()));
        let err = private_dir(&temp.join("hcwrap-0"), &temp).unwrap_err();
        assert!(
            format!("{err:#}").contains("does not exist, and hcwrap does not make it"),
            "{err:#}"
        );
        assert!(!temp.exists());
    }

    #[test]
    fn the_default_directory_is_never_one_others_can_write() {
        let env = |name: &str| (name == "XDG_RUNTIME_DIR").then(|| "/run/user/1000".to_owned());
        assert_eq!(default_dir(&env), (PathBuf::from("/run/user/1000"), false));
        let none = |_: &str| None;
        let (dir, made_here) = default_dir(&none);
        assert!(made_here);
        assert!(
            dir.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("hcwrap")),
            "{}",
            dir.display()
        );
        assert_ne!(dir, std::env::temp_dir());
        let lock = LockPath::default_for(&none, "https://hc-ping.com/x");
        assert!(lock.path().starts_with(&dir));
    }
}
