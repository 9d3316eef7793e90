//! `native analyze`: read the inputs, run `reps::analyze`, write the report.

mod csv_output;
mod load;
mod pool;
mod streamed;
pub mod table;

pub use load::load_inputs;

use crate::cli::{flag_error, AnalyzeArgs, Format};
use crate::output_file::{write_output, Written};
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use reps::analysis::{analyze_with_progress, sample_bootstrap, InferenceOptions, Progress};
use reps::metrics::RepsWeights;
use reps::AnalysisOptions;

/// Runs the subcommand.
pub fn run(args: &AnalyzeArgs) -> Result<()> {
    let inference = InferenceOptions {
        bootstrap: args.bootstrap,
        permutations: args.permutations,
        seed: args.seed,
        stable_drop: args.stable_drop,
    };
    if args.pool {
        let summary =
            pool::summarize(&args.inputs, &inference).map_err(|e| match e.downcast() {
                Ok(lib) => flag_error(lib),
                Err(e) => e,
            })?;
        let text = match args.format {
            Format::Csv => anyhow::bail!(
                "--format csv has one row per model and layer; --pool writes table (Markdown) or json"
            ),
            Format::Table if args.claims => table::claims(&summary.claims),
            f => pool::render(&summary, f == Format::Json)?,
        };
        return emit(args, &text);
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
    let bar = |what: &str| {
        ProgressBar::new(0).with_style(
            ProgressStyle::with_template(&format!(
                "{{spinner}} {what} {{msg}} [{{bar:30}}] {{pos}}/{{len}} ({{eta}})"
            ))
            .expect("valid template")
            .progress_chars("=> "),
        )
    };
    let analysing = bar("analysing");
    let mut on_progress = |p: Progress<'_>| {
        analysing.set_length(p.total as u64);
        analysing.set_position(p.done as u64);
        analysing.set_message(format!("{} / {}", p.model, p.layer));
    };
    let (report, description, warnings) = if args.stream || args.tokens {
        let s = streamed::analyze(args, &options, &mut on_progress)?;
        for warning in &s.warnings {
            eprintln!("note: {warning}");
        }
        (s.report, s.description, s.warnings)
    } else {
        let loaded = load::load_inputs(&args.inputs, args.labels.as_deref(), args.memory.bytes())?;
        for warning in &loaded.warnings {
            eprintln!("note: {warning}");
        }
        let mut report =
            analyze_with_progress(&loaded.input, &options, &mut on_progress).map_err(flag_error)?;
        analysing.finish_and_clear();
        if let Some(b) = args.sample_bootstrap {
            let resampling = bar("resampling the samples");
            sample_bootstrap(
                &loaded.input,
                &mut report,
                b as usize,
                args.seed,
                &mut |done, total| {
                    resampling.set_length(total as u64);
                    resampling.set_position(done as u64);
                },
            )
            .map_err(flag_error)?;
            resampling.finish_and_clear();
        }
        (report, loaded.description, loaded.warnings)
    };
    analysing.finish_and_clear();
    let mut report = report.with_inference(&inference).map_err(flag_error)?;
    report.notes.extend(warnings);
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
        Format::Csv => csv_output::render(&report)?,
        Format::Table if args.claims => table::claims(&report.claims),
        Format::Table => table::render(&report, &description),
    };
    emit(args, &text)
}

/// Writes `text` to --out, or to standard output.
fn emit(args: &AnalyzeArgs, text: &str) -> Result<()> {
    match &args.out {
        Some(path) => {
            if write_output(path, text.as_bytes())? == Written::File {
                eprintln!("wrote {}", path.display());
            }
        }
        None => print!("{text}"),
    }
    Ok(())
}
