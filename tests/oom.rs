//! A command the kernel's out-of-memory killer ends: hcwrap says so, to the user and in
//! the final ping. Run for real, in a memory cgroup of the test's own with a small limit
//! (root, and a cgroup v1 or v2 memory controller the container lets us use).

mod support;

use std::path::{Path, PathBuf};

use support::runner::Case;
use support::{Server, stderr};

fn main() -> std::process::ExitCode {
    support::runner::main(&[Case {
        name: "a_command_the_oom_killer_ends_is_reported_as_such",
        needs: memory_cgroup,
        run: a_command_the_oom_killer_ends_is_reported_as_such,
    }])
}

/// A memory cgroup made for one test, removed on drop; its path as /proc shows it.
struct Cgroup {
    dir: PathBuf,
    name: String,
}

impl Cgroup {
    /// A cgroup under the v1 memory hierarchy, else v2, limited to `bytes` without swap.
    fn make(bytes: u64) -> Result<Cgroup, String> {
        let name = format!("hcwrap-test-oom-{}", std::process::id());
        let v1 = Path::new("/sys/fs/cgroup/memory");
        let v2 = Path::new("/sys/fs/cgroup");
        let (dir, limits): (PathBuf, &[&str]) = if v1.join("memory.limit_in_bytes").is_file() {
            (
                v1.join(&name),
                &["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"],
            )
        } else if std::fs::read_to_string(v2.join("cgroup.subtree_control"))
            .is_ok_and(|c| c.split_whitespace().any(|c| c == "memory"))
        {
            (v2.join(&name), &["memory.max", "memory.swap.max"])
        } else {
            return Err("no memory cgroup controller".into());
        };
        std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let cgroup = Cgroup { dir, name };
        std::fs::write(cgroup.dir.join(limits[0]), bytes.to_string())
            .map_err(|e| format!("{}: {e}", limits[0]))?;
        if limits[1] == "memory.swap.max" {
            let _ = std::fs::write(cgroup.dir.join(limits[1]), "0");
        } else {
            let _ = std::fs::write(cgroup.dir.join(limits[1]), bytes.to_string());
        }
        Ok(cgroup)
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

fn memory_cgroup() -> Option<String> {
    match Cgroup::make(64 << 20) {
        Ok(_) => None,
        Err(why) => Some(support::runner::kernel_lacks(&format!(
            "a memory cgroup of the test's own ({why})"
        ))),
    }
}

fn a_command_the_oom_killer_ends_is_reported_as_such() {
    let server = Server::start();
    let cgroup = Cgroup::make(64 << 20).unwrap();
    let hcwrap = env!("CARGO_BIN_EXE_hcwrap");
    // hcwrap joins the cgroup before it starts, as under a service manager's limit.
    let script = format!(
        "echo $$ > {}/cgroup.procs && exec {hcwrap} --url {} --no-start-ping -- \
         python3 -c 'x = bytearray(1 << 30)'",
        cgroup.dir.display(),
        server.check_url()
    );
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", &script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap());
    cmd.env("HC_STATE_DIR", support::fresh_state_dir());
    let out = support::run(&mut cmd);
    assert_eq!(out.status.code(), Some(137), "{}", stderr(&out));
    let note = format!(
        "the out-of-memory killer acted in memory cgroup /{} during the run: the command was \
         most likely killed for lack of memory",
        cgroup.name
    );
    assert_eq!(stderr(&out), format!("hcwrap: {note}\n"));
    let body = server.wait_for(1)[0].body_text();
    assert_eq!(
        body,
        format!("[hcwrap] {note}\n[hcwrap] killed by SIGKILL\n")
    );
}
