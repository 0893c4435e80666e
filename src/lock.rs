//! The overlap lock (`--lock`): one run at a time per lock file.
//!
//! An advisory `flock(2)` on an open file: the kernel releases it when the file is closed,
//! which happens however hcwrap ends, SIGKILL included. So there are no stale locks and no
//! PID files to clean up. The descriptor is close-on-exec: the command does not inherit
//! it, so a daemon the command leaves behind cannot keep later runs out.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A held lock; released when dropped (or when hcwrap ends).
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Takes the lock at `path` without waiting: `None` when another process holds it.
pub fn try_lock(path: &Path) -> Result<Option<Lock>> {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("--lock: cannot open the lock file {}", path.display()))?;
    // SAFETY: flock has no memory-safety preconditions; the descriptor is open.
    let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        return Ok(Some(Lock { _file: file }));
    }
    let error = std::io::Error::last_os_error();
    if error.kind() == std::io::ErrorKind::WouldBlock {
        return Ok(None);
    }
    Err(error).with_context(|| format!("--lock: cannot lock {}", path.display()))
}

/// The lock file for a check when `--lock` names none: in `dir`, named from a hash of the
/// check's URL (never the URL, which holds the secret).
pub fn default_path(dir: &Path, check_url: &str) -> PathBuf {
    dir.join(format!("hcwrap-{:016x}.lock", fnv1a(check_url.as_bytes())))
}

/// FNV-1a, 64 bits: stable across builds and Rust versions (unlike `DefaultHasher`), so
/// two hcwrap builds agree on the file name.
fn fnv1a(bytes: &[u8]) -> u64 {
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
        let first = try_lock(&path).unwrap().expect("free");
        assert!(
            try_lock(&path).unwrap().is_none(),
            "flock locks are per open file"
        );
        drop(first);
        assert!(try_lock(&path).unwrap().is_some());
        let _ = std::fs::remove_file(path);
    }
}
