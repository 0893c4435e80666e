//! Each server's announced body limit, remembered between runs.
//!
//! A Healthchecks server says how much of a ping's body it keeps in the `Ping-Body-Limit`
//! header of its answers (the hosted service 100,000 bytes; a self-hosted server 10,000
//! unless configured). A server keeps the *head* of a longer body, so hcwrap must cut to
//! the limit itself to keep the tail, where the error is. A wrapped run learns the limit
//! from its start ping; a hook's single `hcwrap ping fail --body-file log`, or a run with
//! `--no-start-ping`, has nothing to learn it from. So the last limit each server
//! announced is kept in a small file per server in hcwrap's cache directory (see
//! `own_dir.rs`), and used when the run has no answer of its own yet. The file is named
//! by a hash of the server's origin (scheme, host, port) and holds the number.

use crate::http::url::Url;
use crate::lock::fnv1a;
use crate::own_dir::OwnDir;

/// Where one server's limit is remembered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitCache {
    dir: OwnDir,
    name: String,
}

impl LimitCache {
    /// The cache for the server `ping_url` goes to; `None` without a cache directory.
    pub fn for_server(env: &dyn Fn(&str) -> Option<String>, ping_url: &str) -> Option<Self> {
        let url = Url::parse(ping_url).ok()?;
        let scheme = if url.is_https() { "https" } else { "http" };
        let origin = format!("{scheme}://{}:{}", url.host(), url.port());
        Some(LimitCache {
            dir: OwnDir::cache(env)?,
            name: format!("body-limit-{:016x}", fnv1a(origin.as_bytes())),
        })
    }

    /// The limit last remembered, if any (and if the file is the user's own).
    pub fn read(&self) -> Option<usize> {
        let text = self.dir.read(&self.name, 32)?;
        text.trim().parse().ok().filter(|&limit| limit > 0)
    }

    /// Remembers `limit`, unless it is `known`, what [`read`](Self::read) gave this run.
    pub fn remember(&self, limit: usize, known: Option<usize>) {
        // Never more than hcwrap sends at most.
        let limit = limit.min(crate::ping::MAX_BODY_LIMIT);
        if limit == 0 || known == Some(limit) {
            return;
        }
        self.dir.write(&self.name, &format!("{limit}\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::LimitCache;

    #[test]
    fn the_cache_is_per_server() {
        let env = |name: &str| (name == "HOME").then(|| "/home/u".to_owned());
        let a = LimitCache::for_server(&env, "https://hc.example.org/ping/x").unwrap();
        let b = LimitCache::for_server(&env, "https://hc.example.org:443/ping/y").unwrap();
        let c = LimitCache::for_server(&env, "http://hc.example.org/ping/x").unwrap();
        assert_eq!(a, b, "the same server");
        assert_ne!(a, c, "another origin");
        let none = |_: &str| None;
        assert_eq!(LimitCache::for_server(&none, "https://h/ping/x"), None);
    }
}
