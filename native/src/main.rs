//! `native`: the reps command line. Parses arguments and hands over to the subcommand modules.

mod analyze;
mod bench_train;
mod cli;
mod compress;
mod data;
mod device;
mod input_file;
mod model;
mod output_file;
mod pack;
mod sweep;
mod train;

use clap::Parser;

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
    // mimalloc returns freed memory to the system after 10 ms by default; training frees and
    // reallocates the same large buffers every step, and the page faults and kernel page clearing
    // that follow cost about a quarter of a CPU step. Keep freed memory (and use large pages).
    for (key, value) in [
        ("MIMALLOC_PURGE_DELAY", "-1"),
        ("MIMALLOC_ALLOW_LARGE_OS_PAGES", "1"),
    ] {
        if std::env::var_os(key).is_none() {
            std::env::set_var(key, value);
        }
    }
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Analyze(args) => analyze::run(&args),
        cli::Command::Pack(args) => pack::run(&args),
        cli::Command::TrainSweep(args) => train_sweep(&args),
        cli::Command::BenchTrain(args) => {
            device::select(args.device).and_then(|d| bench_train::run(&args, &d))
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
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
            .unwrap_or_else(input_file::default_budget_bytes),
    )?;
    let device = device::select(args.device)?;
    sweep::run(&cfg, &out, device, args.max_models)
}
