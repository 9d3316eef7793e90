//! The lock of a sweep directory: one process writes into an `--out` at a time.
//!
//! The lock is a file `.lock` in the directory, created exclusively, naming the host and the
//! process id of its holder. A second run refuses (naming the holder) rather than mixing its
//! models with the first's. A lock left by a process that died (killed, or the machine restarted)
//! on the same host is taken over, and the log says so; a lock of another host is never taken
//! over, since its process cannot be checked from here (shared storage).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The lock's file name in the sweep directory.
pub const LOCK_FILE: &str = ".lock";

/// A held lock, released (its file removed) when dropped.
#[derive(Debug)]
pub struct SweepLock {
    path: PathBuf,
}

/// Who holds a lock.
#[derive(Debug, PartialEq, Eq)]
struct Holder {
    host: String,
    pid: u32,
}

impl Holder {
    fn me() -> Self {
        Holder {
            host: hostname(),
            pid: std::process::id(),
        }
    }

    fn text(&self) -> String {
        format!("host {}\npid {}\n", self.host, self.pid)
    }

    fn parse(text: &str) -> Option<Self> {
        let mut host = None;
        let mut pid = None;
        for line in text.lines() {
            match line.split_once(' ') {
                Some(("host", h)) => host = Some(h.to_string()),
                Some(("pid", p)) => pid = p.parse().ok(),
                _ => {}
            }
        }
        Some(Holder {
            host: host?,
            pid: pid?,
        })
    }
}

impl SweepLock {
    /// Takes the lock of `dir`. `log` receives a line when a stale lock is taken over.
    pub fn acquire(dir: &Path, log: &mut dyn FnMut(&str) -> Result<()>) -> Result<Self> {
        let path = dir.join(LOCK_FILE);
        let me = Holder::me();
        // The lock appears with its content or not at all: written to a temporary file, then
        // hard-linked to its name, which fails when the name exists (also on shared storage).
        let tmp = dir.join(format!("{LOCK_FILE}.tmp{}", me.pid));
        std::fs::write(&tmp, me.text())
            .and_then(|_| std::fs::File::open(&tmp)?.sync_all())
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        let result = (|| {
            for _ in 0..2 {
                match std::fs::hard_link(&tmp, &path) {
                    Ok(()) => return Ok(SweepLock { path: path.clone() }),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        let text = std::fs::read_to_string(&path).unwrap_or_default();
                        match Holder::parse(&text) {
                            Some(h) if h.host == me.host && !process_alive(h.pid) => {
                                std::fs::remove_file(&path).with_context(|| {
                                    format!("cannot remove the stale lock {}", path.display())
                                })?;
                                log(&format!(
                                    "took over the lock of process {} on {}, which is no longer running",
                                    h.pid, h.host
                                ))?;
                            }
                            Some(h) => bail!(
                                "{} is in use by process {} on host {} (lock file {}); wait for it to finish, or, if that process is gone, delete the lock file",
                                dir.display(),
                                h.pid,
                                h.host,
                                path.display()
                            ),
                            None => bail!(
                                "{} is locked by {}, which names no host and process; if no other sweep writes into this directory, delete that file",
                                dir.display(),
                                path.display()
                            ),
                        }
                    }
                    Err(e) => {
                        return Err(e).with_context(|| format!("cannot create {}", path.display()))
                    }
                }
            }
            bail!(
                "cannot take the lock {}: another process took it at the same moment",
                path.display()
            )
        })();
        let _ = std::fs::remove_file(&tmp);
        result
    }
}

impl Drop for SweepLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// This machine's host name (empty where it cannot be read).
fn hostname() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: gethostname writes at most buf.len() bytes into buf.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            return String::from_utf8_lossy(&buf[..end]).into_owned();
        }
    }
    String::new()
}

/// Whether a process with this id runs on this machine (it may belong to another user).
pub(super) fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 only checks that the process exists and may be signalled.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_and_a_dead_one_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut lines = Vec::new();
        let held = SweepLock::acquire(dir.path(), &mut |l| {
            lines.push(l.to_string());
            Ok(())
        })
        .unwrap();
        let e = SweepLock::acquire(dir.path(), &mut |_| Ok(())).unwrap_err();
        assert!(
            e.to_string()
                .contains(&format!("is in use by process {}", std::process::id())),
            "{e}"
        );
        drop(held);
        assert!(!dir.path().join(LOCK_FILE).exists());
        // A lock of a process that has exited (a child that has been waited for).
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = Holder {
            host: hostname(),
            pid: dead,
        };
        std::fs::write(dir.path().join(LOCK_FILE), stale.text()).unwrap();
        let _lock = SweepLock::acquire(dir.path(), &mut |l| {
            lines.push(l.to_string());
            Ok(())
        })
        .unwrap();
        assert_eq!(
            lines,
            [format!(
                "took over the lock of process {dead} on {}, which is no longer running",
                hostname()
            )]
        );
        // Another host's lock is never taken over.
        std::fs::write(
            dir.path().join(LOCK_FILE),
            "host elsewhere.example\npid 1\n",
        )
        .unwrap();
        let e = SweepLock::acquire(dir.path(), &mut |_| Ok(())).unwrap_err();
        assert!(e.to_string().contains("on host elsewhere.example"), "{e}");
    }
}
