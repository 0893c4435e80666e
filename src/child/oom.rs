//! Whether the kernel's out-of-memory killer ended the command.
//!
//! A process the OOM killer ends dies of SIGKILL like any other, and the kernel tells its
//! parent nothing more. What it does keep is a count of such kills per memory cgroup:
//! `oom_kill` in `memory.events` (cgroup v2, counting the cgroups below too) or in
//! `memory.oom_control` (v1). The command runs in hcwrap's cgroup, so hcwrap reads that
//! count when the command starts and again when it was killed by a SIGKILL hcwrap did not
//! send: a count that rose says the OOM killer acted in the command's cgroup during the
//! run. Where the count cannot be read (no memory controller, another system), nothing
//! is said.

use std::path::{Path, PathBuf};

/// The OOM kill counter of hcwrap's memory cgroup, and its value when the command started.
#[derive(Debug)]
pub struct OomCount {
    file: PathBuf,
    /// The cgroup's path as `/proc/self/cgroup` names it, for the message.
    cgroup: String,
    before: u64,
}

impl OomCount {
    /// Reads the counter now; `None` where there is none to read. Outside Linux always
    /// `None`: macOS and FreeBSD have no memory cgroups (and end a process for lack of
    /// memory with a SIGKILL that says nothing either), so a failed run's note stays
    /// silent about it there.
    pub fn start() -> Option<Self> {
        if !cfg!(any(target_os = "linux", target_os = "android")) {
            return None;
        }
        // On every run, beside the command's start: one read each, no more.
        let cgroups = read_small(Path::new("/proc/self/cgroup"))?;
        let (file, cgroup, before) = counter_file(&cgroups, Path::new("/sys/fs/cgroup"))?;
        Some(OomCount {
            file,
            cgroup,
            before,
        })
    }

    /// The cgroup's name if the OOM killer killed something in it since [`start`](Self::start).
    pub fn rose(&self) -> Option<&str> {
        read(&self.file)
            .is_some_and(|now| now > self.before)
            .then_some(self.cgroup.as_str())
    }
}

/// The file holding the OOM kill counter for the cgroups listed in `cgroups` (the text of
/// `/proc/self/cgroup`), under the hierarchy mounted at `root`; the cgroup's path; the
/// count now.
fn counter_file(cgroups: &str, root: &Path) -> Option<(PathBuf, String, u64)> {
    let mut found = None;
    for line in cgroups.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let relative = path.trim_start_matches('/');
        let candidates = if controllers.split(',').any(|c| c == "memory") {
            // v1. In a container the hierarchy is often mounted at the container's own
            // cgroup, whose path /proc still shows from the host's root: then the mount's
            // root is the cgroup.
            let mount = root.join("memory");
            [
                mount.join(relative).join("memory.oom_control"),
                mount.join("memory.oom_control"),
            ]
        } else if id == "0" && controllers.is_empty() {
            [
                root.join(relative).join("memory.events"),
                root.join("memory.events"),
            ]
        } else {
            continue;
        };
        if let Some((file, count)) = candidates
            .into_iter()
            .find_map(|f| read(&f).map(|n| (f, n)))
        {
            // v1 holds the memory controller on its own line; prefer it to v2's line.
            let v1 = !controllers.is_empty();
            if v1 || found.is_none() {
                found = Some((file, path.to_owned(), count));
            }
            if v1 {
                break;
            }
        }
    }
    found
}

/// The start of a small file (a few lines of /proc or /sys), in one read.
fn read_small(file: &Path) -> Option<String> {
    use std::io::Read;
    let mut buf = [0u8; 4096];
    let n = std::fs::File::open(file).ok()?.read(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// The `oom_kill` count in `file`.
fn read(file: &Path) -> Option<u64> {
    let text = read_small(file)?;
    text.lines()
        .find_map(|line| line.strip_prefix("oom_kill "))
        .and_then(|n| n.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_is_found_for_cgroup_v1_and_v2() {
        let root = std::env::temp_dir().join(format!("hcwrap-oom-{}", std::process::id()));
        let v2 = root.join("system.slice/cron.service");
        let v1 = root.join("memory/jobs");
        std::fs::create_dir_all(&v2).unwrap();
        std::fs::create_dir_all(&v1).unwrap();
        std::fs::write(v2.join("memory.events"), "low 0\noom 2\noom_kill 2\n").unwrap();
        std::fs::write(v1.join("memory.oom_control"), "under_oom 0\noom_kill 5\n").unwrap();
        let (file, cgroup, count) = counter_file("0::/system.slice/cron.service\n", &root).unwrap();
        assert_eq!((cgroup.as_str(), count), ("/system.slice/cron.service", 2));
        assert_eq!(read(&file), Some(2));
        let hybrid = "4:memory:/jobs\n1:cpu:/\n0::/system.slice/cron.service\n";
        let (file, cgroup, count) = counter_file(hybrid, &root).unwrap();
        assert_eq!((read(&file), cgroup.as_str(), count), (Some(5), "/jobs", 5));
        assert!(counter_file("0::/elsewhere\n", &root.join("none")).is_none());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
