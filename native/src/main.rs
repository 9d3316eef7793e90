//! `native`: the reps command line. Parses arguments and hands over to the subcommand modules.

use anyhow::Context;
use clap::Parser;
use native::{analyze, bench_train, cli, device, interrupt, pack, search, sweep};

/// Training allocates and frees many large tensors; glibc's allocator returns each to the system
/// and faults it back in (about 15 % of a CPU training step in a profile), mimalloc reuses them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Output piped into `head` and the like: end quietly when the reader goes away, as other
    // command-line tools do, instead of panicking on a write error.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // candle's CPU worker pool spins 25 000 times before sleeping after each elementwise op; on a
    // few cores that steals time from the GEMM threads that run next. Keep it short unless set.
    if std::env::var_os("CANDLE_BARRIER_POOL_SPIN_LIMIT").is_none() {
        std::env::set_var("CANDLE_BARRIER_POOL_SPIN_LIMIT", "200");
    }
    keep_freed_memory();
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Analyze(args) => analyze::run(&args),
        cli::Command::Pack(args) => pack::run(&args),
        cli::Command::TrainSweep(args) => train_sweep(&args),
        cli::Command::Search(args) => interrupt::install()
            .context("cannot install the signal handlers")
            .and_then(|()| search::run(&args)),
        cli::Command::BenchTrain(args) => {
            device::select(args.device).and_then(|d| bench_train::run(&args, &d))
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<sweep::Interrupted>().is_some() => {
            let stopped = e.downcast_ref::<sweep::Interrupted>().expect("matched");
            eprintln!("stopped: {stopped}");
            std::process::ExitCode::from(interrupt::EXIT_STATUS)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}

/// mimalloc returns freed memory to the system after 10 ms by default; training frees and
/// reallocates the same large buffers every step, and the page faults and kernel page clearing
/// that follow cost about a sixth of a CPU step (10,000 faults per ResNet step at width 16). Keep
/// freed memory unless `MIMALLOC_PURGE_DELAY` says otherwise. The option is set through the API:
/// mimalloc reads its environment variables before `main`, so setting them here would be too late.
fn keep_freed_memory() {
    /// `mi_option_purge_delay` of `mimalloc.h` (the same position in mimalloc v2 and v3); the
    /// Rust bindings do not name it.
    const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one integer option; mimalloc allows it at any time.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

fn train_sweep(args: &cli::TrainSweepArgs) -> anyhow::Result<()> {
    let cfg = args.config()?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| format!("runs/{:?}", cfg.preset).to_lowercase().into());
    cfg.check_memory(
        args.max_memory
            .unwrap_or_else(reps::formats::machine_read_budget),
    )?;
    let device = device::select(args.device)?;
    let stage = args.stage()?;
    // From here on a SIGTERM, SIGINT or SIGUSR1 stops at the next training step or model, with
    // nothing lost.
    interrupt::install().context("cannot install the signal handlers")?;
    match &args.seeds {
        Some(seeds) => sweep::seeds::run(&cfg, &out, device, stage, seeds, args.max_models),
        None => sweep::run(&cfg, &out, device, stage, args.max_models),
    }
}
