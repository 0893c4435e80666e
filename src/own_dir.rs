//! hcwrap's own directories for what it remembers between runs.
//!
//! The cache (each server's body limit, each check's last setup, what can be learnt
//! again): `$XDG_CACHE_HOME/hcwrap`, else `~/.cache/hcwrap`. The state (failure counts,
//! reports waiting to be delivered: what must not be lost): `$HC_STATE_DIR`; else, for
//! root, `/var/lib/hcwrap` (`/var/db/hcwrap` on macOS and FreeBSD, whose hier(7) keeps
//! such state there); else `$XDG_STATE_HOME/hcwrap`, else `~/.local/state/hcwrap`.
//!
//! Only a directory of the user's own that no one else can write is used (made mode 0700;
//! see [`OwnDir::ready`]); with no variable to name one, or a directory that is not the
//! user's, nothing is remembered. Files are read only when they are the user's and
//! written to a file of their own first, then renamed into place, so that a reader never
//! sees half of one. Everything here is best effort and silent: a cache that cannot be
//! used only means the run does what it would do the first time.

use std::fs::{DirBuilder, File};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::sys;

/// Where root's state directory is made: the system's place for programs' lasting state.
const ROOT_STATE_BASE: &str = if cfg!(any(target_os = "macos", target_os = "freebsd")) {
    "/var/db"
} else {
    "/var/lib"
};

/// A directory of hcwrap's own, as the environment names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnDir {
    /// `$XDG_CACHE_HOME`, `~/.cache`, and so on: where `dir` is made.
    base: PathBuf,
    /// The home directory, when `base` is in it (and may be made there if missing).
    home: Option<PathBuf>,
    /// `base/hcwrap`, or `base` itself for `$HC_STATE_DIR`.
    dir: PathBuf,
}

impl OwnDir {
    /// The cache directory the environment names; `None` when it names none.
    pub fn cache(env: &dyn Fn(&str) -> Option<String>) -> Option<Self> {
        Self::in_home_or(env, "XDG_CACHE_HOME", ".cache")
    }

    /// The state directory the environment names; `None` when it names none.
    pub fn state(env: &dyn Fn(&str) -> Option<String>) -> Option<Self> {
        if let Some(dir) = env("HC_STATE_DIR") {
            // A relative one names no directory (the caller warns): none is used, rather
            // than the default another program would then see.
            if !dir.starts_with('/') {
                return None;
            }
            let dir = PathBuf::from(dir);
            return Some(OwnDir {
                base: dir.clone(),
                home: None,
                dir,
            });
        }
        if sys::uid() == 0 {
            let base = PathBuf::from(ROOT_STATE_BASE);
            return Some(OwnDir {
                dir: base.join("hcwrap"),
                base,
                home: None,
            });
        }
        Self::in_home_or(env, "XDG_STATE_HOME", ".local/state")
    }

    /// `$variable/hcwrap`, else `~/in_home/hcwrap`.
    fn in_home_or(
        env: &dyn Fn(&str) -> Option<String>,
        variable: &str,
        in_home: &str,
    ) -> Option<Self> {
        let (base, home) = if let Some(base) = env(variable).filter(|d| d.starts_with('/')) {
            (PathBuf::from(base), None)
        } else {
            let home = PathBuf::from(env("HOME").filter(|h| h.starts_with('/') && h != "/")?);
            (home.join(in_home), Some(home))
        };
        let dir = base.join("hcwrap");
        Some(OwnDir { base, home, dir })
    }

    /// The directory itself.
    pub fn dir(&self) -> &Path {
        &self.dir
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
    pub fn ready(&self) -> bool {
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
        // `~/.local/state` may need `~/.local` first.
        if self.home.is_some()
            && DirBuilder::new()
                .mode(0o700)
                .recursive(true)
                .create(&self.base)
                .is_err()
        {
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

impl OwnDir {
    /// Removes the file `name`, if it is there.
    pub fn remove(&self, name: &str) {
        let _ = std::fs::remove_file(self.path(name));
    }
}

/// Opens `path` for reading and writing (made mode 0600 if missing and `create`), only if
/// it is a regular file of the user's own and not a symbolic link: the small files hcwrap
/// keeps and locks (a check's counts, a lock beside a metrics file, an outbox's lock).
pub fn open_own(path: &Path, create: bool) -> anyhow::Result<File> {
    use anyhow::Context;
    let file = File::options()
        .read(true)
        .write(true)
        .create(create)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let meta = file.metadata()?;
    if !meta.is_file() || meta.uid() != sys::uid() {
        anyhow::bail!("{} is not a file of the user's own", path.display());
    }
    Ok(file)
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
    use super::OwnDir;

    #[test]
    fn the_directory_needs_a_home_or_cache_variable() {
        let env = |name: &str| (name == "HOME").then(|| "/home/u".to_owned());
        let dir = OwnDir::cache(&env).unwrap();
        assert_eq!(
            dir.path("x"),
            std::path::Path::new("/home/u/.cache/hcwrap/x")
        );
        let xdg = |name: &str| (name == "XDG_CACHE_HOME").then(|| "/var/c".to_owned());
        assert!(
            OwnDir::cache(&xdg)
                .unwrap()
                .path("x")
                .starts_with("/var/c/hcwrap/")
        );
        assert_eq!(OwnDir::cache(&|_| None), None);
        let relative = |name: &str| (name == "HOME").then(|| "relative".to_owned());
        assert_eq!(OwnDir::cache(&relative), None);
    }
}
