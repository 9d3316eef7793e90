//! Lock files of a sweep directory: one process writes a given thing at a time.
//!
//! A lock is a file created exclusively, naming the host and the process id of its holder:
//! - `.lock`, the directory's, held for the whole run by a one-process run, `--stage original`
//!   and `--merge` (a second such run refuses, naming the holder, rather than mixing its models
//!   with the first's);
//! - `locks/<model>.lock`, held while a model is made, so that two processes (two shards given
//!   overlapping work, or a shard and a one-process run) never make the same model (the second
//!   waits, then reuses the first's model).
//!
//! A lock left by a process that died (killed, or the machine restarted) on the same host is
//! taken over, and the log says so; a lock of another host is never taken over, since its process
//! cannot be checked from here (shared storage).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The directory lock's file name in the sweep directory.
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

/// Why a lock could not be taken.
enum Refusal {
    /// A live process (or one on another host) holds it.
    Held(Holder),
    /// Anything else, with the message to give.
    Other(anyhow::Error),
}

impl SweepLock {
    /// Takes the directory lock of `dir` (refused while a live process holds it). `log`
    /// receives a line when a stale lock is taken over.
    pub fn acquire(dir: &Path, log: &mut dyn FnMut(&str) -> Result<()>) -> Result<Self> {
        Self::acquire_file(&dir.join(LOCK_FILE), &dir.display().to_string(), log)
    }

    /// Takes the lock file `path` of `subject` (what it protects, for the refusal: "runs/quick",
    /// "model prune-0.5 of runs/quick"), refused while a live process holds it.
    pub fn acquire_file(
        path: &Path,
        subject: &str,
        log: &mut dyn FnMut(&str) -> Result<()>,
    ) -> Result<Self> {
        match Self::try_take(path, log) {
            Ok(lock) => Ok(lock),
            Err(Refusal::Held(h)) => bail!(
                "{subject} is in use by process {} on host {} (lock file {}); wait for it to finish, or, if that process is gone, delete the lock file",
                h.pid,
                h.host,
                path.display()
            ),
            Err(Refusal::Other(e)) => Err(e),
        }
    }

    /// Takes the lock file `path`, waiting while another process holds it, for at most
    /// `patience`; then refuses as [`SweepLock::acquire_file`] does. `log` receives a line naming
    /// the holder when the wait begins.
    pub fn acquire_waiting(
        path: &Path,
        subject: &str,
        patience: Duration,
        log: &mut dyn FnMut(&str) -> Result<()>,
    ) -> Result<Self> {
        let started = Instant::now();
        let mut announced = false;
        // Polls often at first (another shard's model may be a moment from done), then at most
        // once a second: each try writes a small file, and a wait may last as long as a training.
        let mut pause = Duration::from_millis(20);
        loop {
            match Self::try_take(path, log) {
                Ok(lock) => return Ok(lock),
                Err(Refusal::Held(h)) if started.elapsed() < patience => {
                    if !announced {
                        log(&format!(
                            "waiting for process {} on host {}, which holds {} ({})",
                            h.pid,
                            h.host,
                            subject,
                            path.display()
                        ))?;
                        announced = true;
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                Err(Refusal::Held(_)) => return Self::acquire_file(path, subject, log),
                Err(Refusal::Other(e)) => return Err(e),
            }
        }
    }

    fn try_take(
        path: &Path,
        log: &mut dyn FnMut(&str) -> Result<()>,
    ) -> std::result::Result<Self, Refusal> {
        let me = Holder::me();
        let dir = path.parent().unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // The lock appears with its content or not at all: written to a temporary file, then
        // hard-linked to its name, which fails when the name exists (also on shared storage).
        let tmp = dir.join(format!(".{}.tmp{}", name.trim_start_matches('.'), me.pid));
        let other = |e: anyhow::Error| Refusal::Other(e);
        std::fs::write(&tmp, me.text())
            .and_then(|_| std::fs::File::open(&tmp)?.sync_all())
            .with_context(|| format!("cannot write {}", tmp.display()))
            .map_err(other)?;
        let result = (|| {
            for _ in 0..2 {
                match std::fs::hard_link(&tmp, path) {
                    Ok(()) => {
                        return Ok(SweepLock {
                            path: path.to_path_buf(),
                        })
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        let text = std::fs::read_to_string(path).unwrap_or_default();
                        match Holder::parse(&text) {
                            Some(h) if h.host == me.host && !process_alive(h.pid) => {
                                std::fs::remove_file(path)
                                    .with_context(|| {
                                        format!("cannot remove the stale lock {}", path.display())
                                    })
                                    .map_err(other)?;
                                let which = if name == LOCK_FILE {
                                    String::new()
                                } else {
                                    format!(" ({})", path.display())
                                };
                                log(&format!(
                                    "took over the lock of process {} on {}, which is no longer running{which}",
                                    h.pid, h.host
                                ))
                                .map_err(other)?;
                            }
                            Some(h) => return Err(Refusal::Held(h)),
                            // Being written by its holder right now (a lock is linked whole, so
                            // this is a foreign file): refused.
                            None => {
                                return Err(other(anyhow::anyhow!(
                                    "{} names no host and process; if no other sweep writes into {}, delete that file",
                                    path.display(),
                                    dir.display()
                                )))
                            }
                        }
                    }
                    Err(e) => {
                        return Err(other(
                            anyhow::Error::new(e)
                                .context(format!("cannot create {}", path.display())),
                        ))
                    }
                }
            }
            Err(other(anyhow::anyhow!(
                "cannot take the lock {}: another process took it at the same moment",
                path.display()
            )))
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
