//! Where a CPU training step spends its time (`native bench-train --breakdown`): the custom ops
//! add their wall time to named counters while profiling is on. The counters belong to the thread
//! that runs the step (the ops time themselves on the thread that calls them, around their
//! parallel loops), so concurrent work elsewhere is never counted. Off (the default) an op pays
//! one thread-local read. On CUDA the ops run asynchronously, so the counters would measure
//! launches only; they are read on the CPU.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// What the counters distinguish, in the order `bench-train` prints them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// `cols(X)` built from the input, and kept for the weight gradient.
    Im2Col,
    /// The input gradient's columns summed back into an image (`col2im`).
    Col2Im,
    /// The convolutions' matrix products (forward, input and weight gradients).
    ConvGemm,
    /// Between the GEMM's `C_out × (B·H·W)` layout and the network's `B × C_out × H × W`.
    ConvTranspose,
    /// BatchNorm (with its ReLU where fused), forward and backward.
    BatchNorm,
}

impl Part {
    pub const ALL: [Part; 5] = [
        Part::Im2Col,
        Part::Col2Im,
        Part::ConvGemm,
        Part::ConvTranspose,
        Part::BatchNorm,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Part::Im2Col => "im2col",
            Part::Col2Im => "col2im",
            Part::ConvGemm => "conv GEMM",
            Part::ConvTranspose => "transpose",
            Part::BatchNorm => "BatchNorm",
        }
    }
}

thread_local! {
    /// `Some(seconds per part)` while profiling is on.
    static SECONDS: Cell<Option<[f64; Part::ALL.len()]>> = const { Cell::new(None) };
}

/// Runs `f`, adding its wall time to `part` while profiling is on (on this thread).
pub fn time<T>(part: Part, f: impl FnOnce() -> T) -> T {
    if SECONDS.get().is_none() {
        return f();
    }
    let t = Instant::now();
    let out = f();
    let dt = t.elapsed().as_secs_f64();
    if let Some(mut s) = SECONDS.get() {
        s[part as usize] += dt;
        SECONDS.set(Some(s));
    }
    out
}

/// The parts of one parallel computation, timed on whichever threads run them: their CPU times
/// are summed per part, and [`split`] attributes the computation's wall time to the parts in
/// proportion (the calling thread's counters measure wall time, which a thread pool's CPU time
/// would overcount by the number of threads).
pub struct Shares {
    active: bool,
    nanos: [AtomicU64; Part::ALL.len()],
}

impl Shares {
    /// Runs `f`, adding its time to `part` if the computation is being profiled.
    pub fn time<T>(&self, part: Part, f: impl FnOnce() -> T) -> T {
        if !self.active {
            return f();
        }
        let t = Instant::now();
        let out = f();
        let ns = t.elapsed().as_nanos().min(u64::MAX as u128) as u64;
        self.nanos[part as usize].fetch_add(ns, Ordering::Relaxed);
        out
    }
}

/// Runs the parallel computation `f`, which times its parts through the [`Shares`] it is given,
/// and adds its wall time to this thread's counters split as the parts' CPU times are (nothing
/// when profiling is off, or when `f` timed no part).
pub fn split<T>(f: impl FnOnce(&Shares) -> T) -> T {
    let shares = Shares {
        active: SECONDS.get().is_some(),
        nanos: Default::default(),
    };
    let t = Instant::now();
    let out = f(&shares);
    let wall = t.elapsed().as_secs_f64();
    let cpu = shares.nanos.map(|n| n.into_inner() as f64);
    let total: f64 = cpu.iter().sum();
    if let (Some(mut s), true) = (SECONDS.get(), total > 0.0) {
        for (s, c) in s.iter_mut().zip(cpu) {
            *s += wall * c / total;
        }
        SECONDS.set(Some(s));
    }
    out
}

/// Resets the counters and turns profiling on (on this thread).
pub fn start() {
    SECONDS.set(Some([0.0; Part::ALL.len()]));
}

/// Turns profiling off and returns the seconds per part since [`start`], in [`Part::ALL`]'s
/// order.
pub fn stop() -> [f64; Part::ALL.len()] {
    SECONDS.take().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_while_on_and_only_this_thread() {
        let nap = || std::thread::sleep(std::time::Duration::from_millis(20));
        start();
        time(Part::Col2Im, nap);
        std::thread::spawn(move || time(Part::Im2Col, nap))
            .join()
            .unwrap();
        let on = stop();
        assert!(on[Part::Col2Im as usize] >= 0.02, "{on:?}");
        assert_eq!(
            on[Part::Im2Col as usize],
            0.0,
            "another thread's time was counted"
        );
        time(Part::Col2Im, nap);
        assert_eq!(stop(), [0.0; Part::ALL.len()], "counted while off");
    }

    /// Two threads each spend 20 ms in `Im2Col` and 60 ms in `ConvGemm`: the parts are charged
    /// the computation's wall time (about 80 ms, not the 160 ms of CPU time) split 1 : 3.
    #[test]
    fn split_charges_wall_time_in_proportion_to_cpu_time() {
        let nap = |ms| std::thread::sleep(std::time::Duration::from_millis(ms));
        start();
        split(|shares| {
            std::thread::scope(|s| {
                for _ in 0..2 {
                    s.spawn(|| {
                        shares.time(Part::Im2Col, || nap(20));
                        shares.time(Part::ConvGemm, || nap(60));
                    });
                }
            })
        });
        let got = stop();
        let (im2col, gemm) = (got[Part::Im2Col as usize], got[Part::ConvGemm as usize]);
        let wall = im2col + gemm;
        assert!((0.08..0.15).contains(&wall), "{got:?}");
        assert!((2.0..4.0).contains(&(gemm / im2col)), "{got:?}");
        split(|shares| shares.time(Part::Col2Im, || nap(5)));
        assert_eq!(stop(), [0.0; Part::ALL.len()], "counted while off");
    }
}
