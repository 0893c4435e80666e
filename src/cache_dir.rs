//! hcwrap's own directory for what it remembers between runs (each server's body limit,
//! each check's last setup): `$XDG_CACHE_HOME/hcwrap`, else `~/.cache/hcwrap`.
//!
//! Only a directory of the user's own that no one else can write is used (made mode 0700;
//! see [`CacheDir::ready`]); with neither variable set, or a directory that is not the
//! user's, nothing is remembered. Files are read only when they are the user's and
//! written to a file of their own first, then renamed into place, so that a reader never
//! sees half of one. Everything here is best effort and silent: a cache that cannot be
//! used only means the run does what it would do the first time.

use std::fs::{DirBuilder, File};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::sys;

/// The cache directory, as the environment names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheDir {
    /// `$XDG_CACHE_HOME`, or `~/.cache`.
    base: PathBuf,
    /// The home directory, when `base` is `~/.cache` (which may be made if missing).
    home: Option<PathBuf>,
    /// `base/hcwrap`.
    dir: PathBuf,
}

impl CacheDir {
    /// The directory the environment names; `None` when it names none.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Option<Self> {
        let (base, home) = if let Some(cache) = env("XDG_CACHE_HOME").filter(|d| d.starts_with('/'))
        {
            (PathBuf::from(cache), None)
        } else {
            let home = PathBuf::from(env("HOME").filter(|h| h.starts_with('/') && h != "/")?);
            (home.join(".cache"), Some(home))
        };
        let dir = base.join("hcwrap");
        Some(CacheDir { base, home, dir })
    }

    /// The path of the file `name` in the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Makes the directory (mode 0700) if it is missing, and says whether it is fit to
    /// use. Nothing is made outside the user's own directories: the home directory must
    /// exist and be the user's (`sudo -E` keeps another user's HOME; Debian's `nobody` has
    /// HOME=/nonexistent), `~/.cache` is made only inside it, `$XDG_CACHE_HOME` must be the
    /// user's (made if missing, inside a directory of the user's), and the `hcwrap` directory must be the user's and writable by no
    /// one else.
    fn ready(&self) -> bool {
        // The home and the cache base may be symbolic links to the user's own directories
        // (a home on another disk); the `hcwrap` directory itself may not.
        if let Some(home) = &self.home
            && !is_own_dir(home, Follow::Links, false)
        {
            return false;
        }
        let make = |dir: &Path| match DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => true,
            Err(e) => e.kind() == std::io::ErrorKind::AlreadyExists,
        };
        if self.home.is_some() && !make(&self.base) {
            return false;
        }
        // `$XDG_CACHE_HOME` not made yet: made, in a directory of the user's own.
        if self.home.is_none()
            && !self.base.exists()
            && self
                .base
                .parent()
                .is_some_and(|parent| is_own_dir(parent, Follow::Links, false))
        {
            make(&self.base);
        }
        is_own_dir(&self.base, Follow::Links, false)
            && make(&self.dir)
            && is_own_dir(&self.dir, Follow::NoLinks, true)
    }

    /// The text of the file `name`, at most `max` bytes of it, if the file is the user's
    /// own, writable by no one else, and not a symbolic link.
    pub fn read(&self, name: &str, max: u64) -> Option<String> {
        let file = File::options()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(self.path(name))
            .ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.uid() != sys::uid() || meta.mode() & 0o022 != 0 {
            return None;
        }
        let mut text = String::new();
        file.take(max).read_to_string(&mut text).ok()?;
        Some(text)
    }

    /// Replaces the file `name` with `text` (mode 0600): written to a file of its own
    /// first and renamed into place. Says whether it was written.
    pub fn write(&self, name: &str, text: &str) -> bool {
        if !self.ready() {
            return false;
        }
        let temporary = self.dir.join(format!(
            ".{name}-{}-{}",
            std::process::id(),
            crate::random::fraction().to_bits()
        ));
        let written = File::options()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&temporary)
            .and_then(|mut file| file.write_all(text.as_bytes()));
        if written.is_err() || std::fs::rename(&temporary, self.path(name)).is_err() {
            let _ = std::fs::remove_file(&temporary);
            return false;
        }
        true
    }
}

impl CacheDir {
    /// Removes the file `name`, if it is there.
    pub fn remove(&self, name: &str) {
        let _ = std::fs::remove_file(self.path(name));
    }
}

/// Whether a symbolic link at the path is followed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Follow {
    Links,
    NoLinks,
}

/// Whether `dir` is a directory of this user's; and, with `private`, one no one else can
/// write.
fn is_own_dir(dir: &Path, follow: Follow, private: bool) -> bool {
    let meta = match follow {
        Follow::Links => std::fs::metadata(dir),
        Follow::NoLinks => std::fs::symlink_metadata(dir),
    };
    meta.is_ok_and(|meta| {
        meta.is_dir() && meta.uid() == sys::uid() && !(private && meta.mode() & 0o022 != 0)
    })
}

#[cfg(test)]
mod tests {
    use super::CacheDir;

    #[test]
    fn the_directory_needs_a_home_or_cache_variable() {
        let env = |name: &str| (name == "HOME").then(|| "/home/u".to_owned());
        let dir = CacheDir::from_env(&env).unwrap();
        assert_eq!(
            dir.path("x"),
            std::path::Path::new("/home/u/.cache/hcwrap/x")
        );
        let xdg = |name: &str| (name == "XDG_CACHE_HOME").then(|| "/var/c".to_owned());
        assert!(
            CacheDir::from_env(&xdg)
                .unwrap()
                .path("x")
                .starts_with("/var/c/hcwrap/")
        );
        assert_eq!(CacheDir::from_env(&|_| None), None);
        let relative = |name: &str| (name == "HOME").then(|| "relative".to_owned());
        assert_eq!(CacheDir::from_env(&relative), None);
    }
}
