//! `native pack`: one activation file per model in, one `.reps` snapshot out.

use crate::analyze::load_inputs;
use crate::cli::PackArgs;
use crate::output_file::write_output;
use anyhow::{Context, Result};
use reps::activations::Values;
use reps::formats::snapshot;

/// Runs the subcommand.
pub fn run(args: &PackArgs) -> Result<()> {
    if let [single] = args.inputs.as_slice() {
        let mut budget = reps::formats::ReadBudget::new(args.memory.bytes());
        let bytes = crate::input_file::read_input(single, &mut budget)?;
        if bytes.starts_with(snapshot::MAGIC) {
            return upgrade(single, &bytes, args);
        }
    }
    let loaded = load_inputs(&args.inputs, args.labels.as_deref(), args.memory.bytes())?;
    for warning in &loaded.warnings {
        eprintln!("note: {warning}");
    }
    let narrowed: Vec<String> = loaded
        .input
        .models
        .iter()
        .flat_map(|m| {
            m.layers
                .iter()
                .filter(|(_, a)| matches!(a.values(), Values::F64(_)))
                .map(move |(layer, _)| format!("{}:{layer}", m.name))
        })
        .collect();
    if !narrowed.is_empty() {
        eprintln!(
            "note: {} float64 layer(s) stored as float32 (numbers may differ from the files' in the 7th digit): {}",
            narrowed.len(),
            narrowed.join(", ")
        );
    }
    let snap = loaded
        .input
        .to_snapshot("reps native pack", env!("CARGO_PKG_VERSION"));
    let bytes = snapshot::encode(&snap)?;
    write_output(&args.out, &bytes)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let methods: Vec<String> = snap
        .models
        .iter()
        .map(|m| format!("{} ({})", m.name, m.method))
        .collect();
    eprintln!(
        "wrote {}: {} models, N = {}, {:.1} MB: {}",
        args.out.display(),
        snap.models.len(),
        snap.samples(),
        bytes.len() as f64 / 1e6,
        methods.join(", ")
    );
    Ok(())
}

/// A snapshot given on its own is written again in the current format version (a version-1, 2
/// or 3 file becomes version 4, with its index and checksums), everything kept.
fn upgrade(path: &std::path::Path, bytes: &[u8], args: &PackArgs) -> Result<()> {
    if args.labels.is_some() {
        anyhow::bail!("--labels goes with activation files; a snapshot keeps its own labels");
    }
    let name = path.display().to_string();
    let found = snapshot::version(&name, bytes)?;
    let snap = snapshot::decode(&name, bytes)?;
    write_output(&args.out, &snapshot::encode(&snap)?)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!(
        "wrote {}: {} in format version {} (was {found})",
        args.out.display(),
        snap.description(&name),
        snapshot::VERSION
    );
    Ok(())
}
