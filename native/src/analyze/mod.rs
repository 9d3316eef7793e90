//! `native analyze`: read the inputs, run `reps::analyze`, write the report.

mod csv_output;
mod load;
pub mod table;

pub use load::load_inputs;

use crate::cli::{AnalyzeArgs, Format};
use crate::output_file::write_atomic;
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use reps::metrics::RepsWeights;
use reps::{analysis::analyze_with_progress, AnalysisOptions};

/// Runs the subcommand.
pub fn run(args: &AnalyzeArgs) -> Result<()> {
    let loaded = load::load_inputs(&args.inputs, args.labels.as_deref())?;
    for warning in &loaded.warnings {
        eprintln!("note: {warning}");
    }
    let user_weights = args
        .weights
        .as_deref()
        .map(RepsWeights::parse)
        .transpose()
        .map_err(flag_error)?;
    let options = AnalysisOptions {
        reference: args.reference.clone(),
        layers: args.layers.clone(),
        top_m: args.top_m as usize,
        user_weights,
    };
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{spinner} analysing {msg} [{bar:30}] {pos}/{len} ({eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let mut report = analyze_with_progress(&loaded.input, &options, &mut |p| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
        bar.set_message(format!("{} / {}", p.model, p.layer));
    })
    .map_err(flag_error)?;
    bar.finish_and_clear();
    report.notes.extend(loaded.warnings);
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
        Format::Csv => csv_output::render(&report)?,
        Format::Table => table::render(&report, &loaded.description),
    };
    match &args.out {
        Some(path) => {
            write_atomic(path, text.as_bytes())?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// A library error about an analysis option, in the command line's terms: the option's name
/// becomes its flag (`top_m` → `--top-m`). Other errors pass as they are.
pub fn flag_error(e: reps::RepsError) -> anyhow::Error {
    match e {
        reps::RepsError::Option { option, reason } => {
            anyhow::anyhow!("--{}: {reason}", option.replace('_', "-"))
        }
        other => other.into(),
    }
}
