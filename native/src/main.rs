//! `native`: the reps command line. Parses arguments and hands over to the subcommand modules.

mod analyze;
mod cli;
mod compress;
mod data;
mod device;
mod model;
mod output_file;
mod sweep;
mod train;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Analyze(args) => analyze::run(&args),
        cli::Command::TrainSweep(args) => train_sweep(&args),
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
    let cfg = args.config();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| format!("runs/{:?}", cfg.preset).to_lowercase().into());
    let device = device::select(args.device)?;
    sweep::run(&cfg, &out, device, args.max_models)
}
