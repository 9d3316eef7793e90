//! Writing output files atomically: a temporary file beside the target, synced, then a rename and
//! a sync of the directory, so that a crash never leaves a half-written file under the final name
//! and a power loss never loses a rename that was reported done.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The prefix and infix of temporary files: `.<name>.tmp<pid>`.
const TMP_INFIX: &str = ".tmp";

/// Appends `line` and a newline to the log file `path` (created when missing).
pub fn append_line(path: &Path, line: &str) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    writeln!(f, "{line}")?;
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file in the same directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    replace_atomic(path, |tmp| {
        let mut f = std::fs::File::create(tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        f.write_all(bytes)
            .and_then(|_| f.sync_all())
            .with_context(|| format!("cannot write {}", tmp.display()))
    })
}

/// Writes a command's output where the user pointed: `-` is standard output; a FIFO, a character
/// device, another non-regular file, or a path under `/dev/` or `/proc/` (`/dev/stdout`,
/// `/dev/fd/3`) is opened and written to as a stream; a symlink is followed and its target
/// replaced atomically (the link stays); anything else is replaced atomically with
/// [`write_atomic`]. Says which of the two it did.
pub fn write_output(path: &Path, bytes: &[u8]) -> Result<Written> {
    if path.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)
            .and_then(|_| out.flush())
            .context("cannot write to standard output")?;
        return Ok(Written::Stream);
    }
    let special = path.starts_with("/dev") || path.starts_with("/proc");
    let streamed =
        special || std::fs::metadata(path).is_ok_and(|meta| !meta.is_file() && !meta.is_dir());
    if streamed {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        f.write_all(bytes)
            .and_then(|_| f.flush())
            .with_context(|| format!("cannot write {}", path.display()))?;
        return Ok(Written::Stream);
    }
    write_atomic(&resolve_symlinks(path)?, bytes)?;
    Ok(Written::File)
}

/// Where [`write_output`] put the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// A file was replaced (atomically).
    File,
    /// They were written to a stream (standard output, a FIFO, a device).
    Stream,
}

/// `path` with every symlink followed (a dangling link gives its target, which is then created).
fn resolve_symlinks(path: &Path) -> Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)
                    .with_context(|| format!("cannot read the link {}", current.display()))?;
                current = match current.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            _ => return Ok(current),
        }
    }
    anyhow::bail!("{}: too many levels of symbolic links", path.display())
}

/// Runs `write` on a temporary path beside `path`, then renames it into place and syncs the
/// directory; the temporary file is removed when `write` fails.
pub fn replace_atomic(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let dir = parent_dir(path);
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    let tmp = dir.join(format!(
        ".{}{TMP_INFIX}{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = write(&tmp).and_then(|_| {
        let crash = crash_point();
        if crash == Some(CrashPoint::BeforeRename) {
            crash_now();
        }
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot move {} to {}", tmp.display(), path.display()))?;
        if crash == Some(CrashPoint::AfterRename) {
            crash_now();
        }
        sync_dir(dir)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Where the test hook `REPS_TEST_CRASH_AT_RENAME` kills the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CrashPoint {
    BeforeRename,
    AfterRename,
}

/// The test hook of the crash-recovery tests ([`crate::test_hooks::crash_at_rename`]): the
/// process ends at once (as a kill would: no destructor runs, the lock stays) right after its
/// N-th atomic rename, or right before it (its temporary file written).
fn crash_point() -> Option<CrashPoint> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static RENAMES: AtomicUsize = AtomicUsize::new(0);
    let (number, before) = crate::test_hooks::crash_at_rename()?;
    let this = RENAMES.fetch_add(1, Ordering::SeqCst) + 1;
    let point = if before {
        CrashPoint::BeforeRename
    } else {
        CrashPoint::AfterRename
    };
    (number == this).then_some(point)
}

/// Ends the process with the status of a SIGKILL (137), running no destructor and dumping no
/// core.
fn crash_now() -> ! {
    std::process::exit(137)
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Syncs a directory, so that a rename in it survives a power loss (a no-op where directories
/// cannot be opened).
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let d =
            std::fs::File::open(dir).with_context(|| format!("cannot open {}", dir.display()))?;
        d.sync_all()
            .with_context(|| format!("cannot sync {}", dir.display()))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Whether `name` is a temporary file of [`replace_atomic`] (`.<name>.tmp<pid>`), and the pid.
pub fn temporary_file_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let (_, pid) = rest.rsplit_once(TMP_INFIX)?;
    pid.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_round_trip() {
        assert_eq!(temporary_file_pid(".sweep.reps.tmp4242"), Some(4242));
        assert_eq!(temporary_file_pid("sweep.reps"), None);
        assert_eq!(temporary_file_pid(".x.tmp"), None);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_followed_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.json");
        std::fs::write(&target, "old").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        assert_eq!(write_output(&link, b"new").unwrap(), Written::File);
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        // A regular file is replaced.
        write_output(&target, b"newer").unwrap();
        assert_eq!(std::fs::read_to_string(&link).unwrap(), "newer");
    }
}
