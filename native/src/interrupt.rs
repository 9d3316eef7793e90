//! Stopping at the next safe point instead of dying: what schedulers ask for before they preempt
//! or requeue a job.
//!
//! After [`install`], SIGTERM (Slurm's and Kubernetes' stop), SIGINT (Ctrl-C) and SIGUSR1 (what
//! `sbatch --signal=B:USR1@120` sends before a time limit) only set a flag; long work asks
//! [`requested`] at its safe points (a training run before each step, a sweep between models),
//! writes what it needs to continue and ends with [`EXIT_STATUS`]. A second SIGINT ends the
//! process at once (status 130), for a user who does not want to wait.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// The exit status of a process that stopped on a signal at a safe point: 128 + SIGTERM, what
/// a shell reports for a process that SIGTERM ended.
pub const EXIT_STATUS: u8 = 143;

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Makes SIGTERM, SIGINT and SIGUSR1 set the stop flag instead of ending the process.
pub fn install() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
        let flag = FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)));
        // Registered first, so that it sees the flag as it was before this signal: a second
        // SIGINT ends the process.
        signal_hook::flag::register_conditional_shutdown(SIGINT, 130, Arc::clone(flag))?;
        for signal in [SIGTERM, SIGINT, SIGUSR1] {
            signal_hook::flag::register(signal, Arc::clone(flag))?;
        }
    }
    Ok(())
}

/// Whether a stop was asked for since [`install`] (never, without it).
pub fn requested() -> bool {
    FLAG.get().is_some_and(|f| f.load(Ordering::SeqCst))
}

/// Sends SIGTERM to this process (through the handlers [`install`] registered): the test hook
/// that stops a training at an exact step.
pub fn raise_terminate() {
    #[cfg(unix)]
    // SAFETY: raise only delivers a signal to the calling thread.
    unsafe {
        libc::raise(libc::SIGTERM);
    }
}
