//! Each server's announced body limit, remembered between runs.
//!
//! A Healthchecks server says how much of a ping's body it keeps in the `Ping-Body-Limit`
//! header of its answers (the hosted service 100,000 bytes; a self-hosted server 10,000
//! unless configured). A server keeps the *head* of a longer body, so hcwrap must cut to
//! the limit itself to keep the tail, where the error is. A wrapped run learns the limit
//! from its start ping; a hook's single `hcwrap ping fail --body-file log`, or a run with
//! `--no-start-ping`, has nothing to learn it from. So the last limit each server
//! announced is kept in a small file per server, and used when the run has no answer of
//! its own yet.
//!
//! The files live in `$XDG_CACHE_HOME/hcwrap`, else `~/.cache/hcwrap`, in a directory of
//! the user's own that no one else can write (made mode 0700; see [`LimitCache::ready`]);
//! with neither variable set, or a directory that is not the user's, nothing is
//! remembered. The file is named by a
//! hash of the server's origin (scheme, host, port) and holds the number. Reading and
//! writing are best effort and silent: a cache that cannot be used only means the default
//! limit.

use std::fs::{DirBuilder, File};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::http::url::Url;
use crate::lock::fnv1a;
use crate::sys;

/// Where one server's limit is remembered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitCache {
    /// `$XDG_CACHE_HOME`, or `~/.cache`.
    base: PathBuf,
    /// The home directory, when `base` is `~/.cache` (which may be made if missing).
    home: Option<PathBuf>,
    dir: PathBuf,
    file: PathBuf,
}

impl LimitCache {
    /// The cache for the server `ping_url` goes to; `None` without a cache directory.
    pub fn for_server(env: &dyn Fn(&str) -> Option<String>, ping_url: &str) -> Option<Self> {
        let url = Url::parse(ping_url).ok()?;
        let scheme = if url.is_https() { "https" } else { "http" };
        let origin = format!("{scheme}://{}:{}", url.host(), url.port());
        let (base, home) = if let Some(cache) = env("XDG_CACHE_HOME").filter(|d| d.starts_with('/'))
        {
            (PathBuf::from(cache), None)
        } else {
            let home = PathBuf::from(env("HOME").filter(|h| h.starts_with('/') && h != "/")?);
            (home.join(".cache"), Some(home))
        };
        let dir = base.join("hcwrap");
        let file = dir.join(format!("body-limit-{:016x}", fnv1a(origin.as_bytes())));
        Some(LimitCache {
            base,
            home,
            dir,
            file,
        })
    }

    /// Makes the cache directory (mode 0700) if it is missing, and says whether it is fit
    /// to use. Nothing is made outside the user's own directories: the home directory must
    /// exist and be the user's (`sudo -E` keeps another user's HOME; Debian's `nobody` has
    /// HOME=/nonexistent), `~/.cache` is made only inside it, `$XDG_CACHE_HOME` must exist
    /// and be the user's, and the `hcwrap` directory must be the user's and writable by no
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
        is_own_dir(&self.base, Follow::Links, false)
            && make(&self.dir)
            && is_own_dir(&self.dir, Follow::NoLinks, true)
    }

    /// The limit last remembered, if any (and if the file is the user's own).
    pub fn read(&self) -> Option<usize> {
        let file = File::options()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&self.file)
            .ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.uid() != sys::uid() || meta.mode() & 0o022 != 0 {
            return None;
        }
        let mut text = String::new();
        file.take(32).read_to_string(&mut text).ok()?;
        text.trim().parse().ok().filter(|&limit| limit > 0)
    }

    /// Remembers `limit`, unless it is `known`, what [`read`](Self::read) gave this run.
    /// Written to a file of its own first and renamed into place, so a reader never sees
    /// half a number.
    pub fn remember(&self, limit: usize, known: Option<usize>) {
        // Never more than hcwrap sends at most.
        let limit = limit.min(crate::ping::MAX_BODY_LIMIT);
        if limit == 0 || known == Some(limit) || !self.ready() {
            return;
        }
        let temporary = self.dir.join(format!(
            ".body-limit-{}-{}",
            std::process::id(),
            crate::random::fraction().to_bits()
        ));
        let written = File::options()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&temporary)
            .and_then(|mut file| file.write_all(format!("{limit}\n").as_bytes()));
        if written.is_err() || std::fs::rename(&temporary, &self.file).is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
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
    use super::LimitCache;

    #[test]
    fn the_cache_is_per_server_and_needs_a_home_or_cache_directory() {
        let env = |name: &str| (name == "HOME").then(|| "/home/u".to_owned());
        let a = LimitCache::for_server(&env, "https://hc.example.org/ping/x").unwrap();
        let b = LimitCache::for_server(&env, "https://hc.example.org:443/ping/y").unwrap();
        let c = LimitCache::for_server(&env, "http://hc.example.org/ping/x").unwrap();
        assert_eq!(a, b, "the same server");
        assert_ne!(a, c, "another origin");
        assert!(a.file.starts_with("/home/u/.cache/hcwrap/"));

        let xdg = |name: &str| (name == "XDG_CACHE_HOME").then(|| "/var/c".to_owned());
        let d = LimitCache::for_server(&xdg, "https://hc.example.org/ping/x").unwrap();
        assert!(d.file.starts_with("/var/c/hcwrap/"));

        let none = |_: &str| None;
        assert_eq!(LimitCache::for_server(&none, "https://h/ping/x"), None);
        let relative = |name: &str| (name == "HOME").then(|| "relative".to_owned());
        assert_eq!(LimitCache::for_server(&relative, "https://h/ping/x"), None);
    }
}
