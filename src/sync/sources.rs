//! What `hcwrap sync` reads and writes: the user's crontab (through `crontab -l` and
//! `crontab -`), crontab files, and timers' drop-in files.
//!
//! Writing is careful because it runs as root on system files: a crontab file that is a
//! symbolic link, or not a regular file, is refused; a file is replaced atomically (a
//! file of its own beside it, renamed into place) with the old one's mode and owner; the
//! old text is kept as `FILE.hcwrap-backup` the same way (a symbolic link there is
//! replaced, never written through); and a file that changed since it was read (an edit
//! made while the checks were set up) is not overwritten.

use std::fs::File;
use std::io::Write as _;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use super::SyncConfig;
use super::crontab::Crontab;
use super::systemd::{self, Timer};
use crate::msg::printable;

/// Where a source's text goes back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The user's own crontab (`crontab -l`, `crontab -`).
    UserCrontab,
    /// A crontab file in the system's format.
    File(PathBuf),
    /// A timer's drop-in file.
    Systemd(PathBuf),
}

/// What a source holds.
#[derive(Debug)]
pub enum Content {
    /// A crontab.
    Crontab(Crontab),
    /// A timer.
    Timer(Timer),
}

/// One crontab or timer.
#[derive(Debug)]
pub struct Source {
    /// Where it goes back to.
    pub place: Place,
    /// How the plan names it.
    pub label: String,
    /// Its text as read (a drop-in's: empty if there is none).
    pub old_text: String,
    /// Its text as it will be.
    pub new_text: String,
    /// What it holds.
    pub content: Content,
}

impl Source {
    /// Whether the text changes.
    pub fn changed(&self) -> bool {
        self.old_text != self.new_text
    }
}

/// The sources `config` names, read. The same file given twice is read once.
pub fn read_sources(config: &SyncConfig) -> Result<Vec<Source>> {
    let mut sources = Vec::new();
    let crontab = |place: Place, label: String, text: String, system: bool| {
        let content = Crontab::parse(&text, system)
            .with_context(|| format!("{label} cannot be read as a crontab, so it is left alone"))?;
        Ok::<_, anyhow::Error>(Source {
            place,
            label,
            new_text: text.clone(),
            old_text: text,
            content: Content::Crontab(content),
        })
    };
    let mut seen = Vec::new();
    for path in &config.crontabs {
        let meta = std::fs::symlink_metadata(path)
            .with_context(|| format!("--crontab: cannot read {}", path.display()))?;
        if meta.file_type().is_symlink() {
            bail!(
                "--crontab: {} is a symbolic link; give the file it points to",
                path.display()
            );
        }
        if !meta.is_file() {
            bail!("--crontab: {} is not a regular file", path.display());
        }
        if seen.contains(&(meta.dev(), meta.ino())) {
            continue;
        }
        seen.push((meta.dev(), meta.ino()));
        let text = read_text(path)?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        sources.push(crontab(Place::File(path.clone()), name, text, true)?);
    }
    for dir in &config.systemd {
        for timer in systemd::timers(dir)? {
            let dropin =
                systemd::dropin_path(config.dropin_dir.as_deref().unwrap_or(dir), &timer.unit);
            let old = std::fs::read_to_string(&dropin).unwrap_or_default();
            sources.push(Source {
                place: Place::Systemd(dropin),
                label: format!("{}.timer", timer.name),
                new_text: old.clone(),
                old_text: old,
                content: Content::Timer(timer),
            });
        }
    }
    if config.crontabs.is_empty() && config.systemd.is_empty() {
        sources.push(crontab(
            Place::UserCrontab,
            "crontab".to_owned(),
            user_crontab()?,
            false,
        )?);
    }
    Ok(sources)
}

/// A crontab file's text; one that is not UTF-8 is refused naming the line.
fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("--crontab: cannot read {}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
            .split(|b| *b == b'\n')
            .count();
        anyhow::anyhow!(
            "{}: line {line} is not UTF-8 text, so the file is left alone",
            path.display()
        )
    })
}

/// The user's crontab, through `crontab -l` (empty when there is none).
fn user_crontab() -> Result<String> {
    let out = Command::new("crontab")
        .arg("-l")
        .output()
        .context("cannot run crontab -l (is cron installed?)")?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        if stderr.contains("no crontab for") {
            return Ok(String::new());
        }
        bail!("crontab -l failed: {}", printable(stderr.trim()));
    }
    String::from_utf8(out.stdout).context("the crontab is not UTF-8 text")
}

/// Whether the source can be written, tried before any check is set up: a check set up
/// for a line that then cannot be written would go down.
pub fn preflight(source: &Source) -> Result<()> {
    let writable = crate::sys::can_write;
    match &source.place {
        Place::UserCrontab => Ok(()),
        Place::File(path) => {
            let dir = path.parent().unwrap_or(Path::new("."));
            if !writable(dir) {
                bail!(
                    "cannot write in {}, so {} is left alone",
                    dir.display(),
                    path.display()
                );
            }
            if backup_path(path).is_dir() {
                bail!(
                    "{} is a directory, so {} is left alone",
                    backup_path(path).display(),
                    path.display()
                );
            }
            Ok(())
        }
        Place::Systemd(path) => {
            let mut dir = path.parent().unwrap_or(Path::new("."));
            while !dir.exists() {
                dir = dir.parent().unwrap_or(Path::new("/"));
            }
            if !writable(dir) {
                bail!("cannot write {}", path.display());
            }
            Ok(())
        }
    }
}

/// Writes a source's new text where it belongs, if it changed; says what it did.
pub fn install(source: &Source) -> Result<String> {
    match &source.place {
        Place::UserCrontab => {
            if user_crontab()? != source.old_text {
                bail!(
                    "the crontab changed while hcwrap sync ran; nothing was written: run it again"
                );
            }
            let mut child = Command::new("crontab")
                .arg("-")
                .stdin(Stdio::piped())
                .spawn()
                .context("cannot run crontab - to install the new crontab")?;
            if let Some(mut stdin) = child.stdin.take() {
                stdin
                    .write_all(source.new_text.as_bytes())
                    .context("cannot hand the new crontab to crontab -")?;
            }
            let status = child.wait().context("crontab - did not end")?;
            if !status.success() {
                bail!("crontab - refused the new crontab ({status}); nothing was changed");
            }
            Ok("Installed the new crontab (crontab -).".to_owned())
        }
        Place::File(path) => {
            if std::fs::read(path).ok().as_deref() != Some(source.old_text.as_bytes()) {
                bail!(
                    "{} changed while hcwrap sync ran; nothing was written: run it again",
                    path.display()
                );
            }
            let backup = backup_path(path);
            replace(&backup, &source.old_text, Some(path))?;
            replace(path, &source.new_text, Some(path))?;
            Ok(format!(
                "Wrote {} (the old one is {}).",
                path.display(),
                backup.display()
            ))
        }
        Place::Systemd(path) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot make {}", dir.display()))?;
            }
            if path.exists() {
                let backup = backup_path(path);
                replace(&backup, &source.old_text, Some(path))?;
            }
            replace(path, &source.new_text, None)?;
            Ok(format!("Wrote {}.", path.display()))
        }
    }
}

/// Where the old text of `path` is kept: `.NAME.hcwrap-backup` beside it, a name no cron
/// reads as a crontab (cronie skips names that start with a dot, Debian's cron names
/// with a dot in them).
pub fn backup_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.hcwrap-backup"))
}

/// Replaces `path` with `text` atomically: a new file beside it (never an existing one
/// or a symbolic link), renamed over it, with the mode and owner of `like` (a file that
/// is there; else 0644 and the caller's).
fn replace(path: &Path, text: &str, like: Option<&Path>) -> Result<()> {
    let meta = like.and_then(|l| std::fs::metadata(l).ok());
    let mode = meta
        .as_ref()
        .map_or(0o644, |m| m.permissions().mode() & 0o7777);
    let temporary = path.with_file_name(format!(
        ".{}.hcwrap-{}-{}",
        path.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        std::process::id(),
        crate::random::fraction().to_bits()
    ));
    let written = File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&temporary)
        .and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            if let Some(meta) = &meta {
                std::os::unix::fs::fchown(&file, Some(meta.uid()), Some(meta.gid()))?;
            }
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temporary, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}
