//! Reading a small file the user names (a `file:` secret, `--cacert`): never more than a
//! limit, and never waiting long. Opening does not block (a FIFO with no writer reads as
//! empty at once), and a pipe or device that says nothing is given up after [`PATIENCE`].

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

/// How long a pipe or device may take to say all it has.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// The content of `path`, at most `limit` bytes, a leading UTF-8 byte order mark left
/// out. Messages start with `what` (the flag) and show the file as `shown`.
pub fn read(what: &str, shown: &str, path: &Path, limit: usize) -> Result<Vec<u8>> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| anyhow::anyhow!("{what}: cannot read {shown}: {e}"))?;
    let content = match read_within(file, limit, Instant::now() + PATIENCE) {
        Ok(Some(content)) => content,
        Ok(None) => bail!(
            "{what}: {shown} is larger than {} KiB; is it the right file?",
            limit / 1024
        ),
        Err(e) if e.kind() == io::ErrorKind::TimedOut => bail!(
            "{what}: {shown} did not end within {}s (a pipe must be closed by its writer)",
            PATIENCE.as_secs()
        ),
        Err(e) => bail!("{what}: cannot read {shown}: {e}"),
    };
    Ok(match content.strip_prefix(b"\xef\xbb\xbf") {
        Some(rest) => rest.to_vec(),
        None => content,
    })
}

/// Reads to the end; `None` if there is more than `limit`.
fn read_within(mut file: File, limit: usize, deadline: Instant) -> io::Result<Option<Vec<u8>>> {
    let mut content = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match file.read(&mut chunk) {
            Ok(0) => return Ok(Some(content)),
            Ok(n) => {
                content.extend_from_slice(&chunk[..n]);
                if content.len() > limit {
                    return Ok(None);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let left = deadline.saturating_duration_since(Instant::now());
                let mut fds = [libc::pollfd {
                    fd: file.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                }];
                if left.is_zero() {
                    return Err(io::ErrorKind::TimedOut.into());
                }
                crate::sys::poll(&mut fds, Some(left))?;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_files_are_refused_and_a_bom_is_left_out() {
        let err = read("--cacert", "/dev/zero", Path::new("/dev/zero"), 4096)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "--cacert: /dev/zero is larger than 4 KiB; is it the right file?"
        );
        let dir = std::env::temp_dir().join(format!("hcwrap-small-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bom = dir.join("bom");
        std::fs::write(&bom, b"\xef\xbb\xbfkey\n").unwrap();
        assert_eq!(read("--url", "file:bom", &bom, 100).unwrap(), b"key\n");
        // A FIFO with no writer: empty at once, not a hang.
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        assert_eq!(read("--url", "file:fifo", &fifo, 100).unwrap(), b"");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
