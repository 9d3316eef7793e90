//! `native search`: label-free, layer-wise compression guided by REPS, against rival strategies
//! at the same budget.
//!
//! From a finished sweep's original model, each weight tensor gets its own level of the method
//! (a ladder of pruning ratios, bit widths, kept ranks). The candidates are measured against the
//! original on training images (REPS of the architecture's two default layers, every component,
//! CKA, the logit baselines, and the accuracy from labels for the `labels` strategy only). Each
//! strategy's allocation ([`run`]) is then built, evaluated on the test set and written
//! ([`outputs`]). The arithmetic (budget, greedy steps, paired intervals) is crate `reps`'s
//! `search` module.

pub mod args;
mod markdown;
pub mod measure;
pub mod outputs;
pub mod run;
pub mod source;
mod trace;

pub use args::SearchArgs;

use crate::compress::{self, CompressionMethod, LayerSearch};
use crate::device;
use crate::output_file::{append_line, write_atomic};
use crate::sweep::lock::SweepLock;
use anyhow::{anyhow, bail, Context, Result};
use measure::{compress_layer, Calibration, Measurer};
use outputs::Recipe;
use reps::search::{
    strategy, strategy_names, Drive, SearchSettings, Strategy, Target, DEFAULT_STRATEGIES,
};
use run::{Plan, StateFiles};
use source::Source;
use std::path::Path;
use std::time::Instant;

/// Runs `native search` as `args` say.
pub fn run(args: &SearchArgs) -> Result<()> {
    let device = device::select(args.device)?;
    if let Some(recipe) = &args.apply {
        return apply(args, recipe, &device);
    }
    let (method, search) = method_of(args.method.as_deref().unwrap_or_default())?;
    let ladder = ladder_of(args, method, &search)?;
    let strategies = strategies_of(args, method, &search)?;
    let target = match (args.budget, args.min_reps) {
        (Some(b), None) => Target::Budget(b),
        (None, Some(t)) if t.is_finite() => Target::MinScore(t),
        (None, Some(t)) => bail!("--min-reps {t}: not a number"),
        _ => bail!(
            "give --budget B (the model's {}) or --min-reps T",
            search.budget
        ),
    };
    if let Some(c) = args.confidence.filter(|c| !(*c > 0.0 && *c < 1.0)) {
        bail!("--confidence {c}: must be in (0, 1), e.g. 0.95");
    }
    if args.resamples == 0 {
        bail!("--resamples 0: at least 1 resample is needed for the intervals");
    }
    let source = Source::open(&args.from, &device)?;
    let indices = source.calibration(args.calibration)?;
    let net = source.original(&device)?;
    let space = Plan::space(&search, &net.weights()?, &ladder)?;
    if let Target::Budget(b) = target {
        space
            .check_target(b)
            .map_err(|e| anyhow!("--budget {e} (the model's {})", search.budget))?;
    }
    let plan = Plan {
        method,
        search,
        ladder,
        space,
        target,
        strategies,
        refresh: args.refresh,
    };
    let out = &args.out;
    std::fs::create_dir_all(out.join("state"))
        .and_then(|()| std::fs::create_dir_all(out.join("checkpoints")))
        .with_context(|| format!("cannot create {}", out.display()))?;
    let log_path = out.join("search.log");
    let mut log = |line: &str| append_line(&log_path, line);
    let _lock = SweepLock::acquire(out, &mut log)?;
    let settings = settings_of(args, &plan, &source)?;
    pin_settings(out, &settings)?;
    log(&format!(
        "search of {} ({} layers, {} strategies) on {}",
        method.name,
        plan.space.layers.len(),
        plan.strategies.len(),
        device::describe(&device)
    ))?;
    let started = Instant::now();
    let calibration = Calibration {
        images: &source.data.train,
        indices: &indices,
        no_pool: source.cfg.no_pool,
        layers: source
            .arch
            .default_layers
            .iter()
            .map(|l| l.to_string())
            .collect(),
    };
    let confidence = args.confidence.map(|c| (c, source.cfg.seed));
    let mut m = Measurer::new(
        &net,
        method,
        source.cfg.method_settings(),
        calibration,
        confidence,
    )?;
    let files = StateFiles(out.join("state"));
    let table = run::sensitivity(&plan, &mut m, &files)?;
    let allocations = run::allocate(&plan, &mut m, &table, &files)?;
    let seconds = started.elapsed().as_secs_f64();
    let searched = outputs::Searched {
        table,
        allocations,
        settings,
        seconds,
    };
    let result = outputs::write(out, &source, &plan, &mut m, searched)?;
    let t = &result.timing;
    log(&format!(
        "finished: {} candidates, forward {:.1} s ({} segments run, {} taken from earlier passes), \
         analysis {:.1} s, compression {:.1} s, {seconds:.1} s in all",
        t.candidates, t.forward_s, t.segments_run, t.segments_reused, t.analysis_s, t.compress_s
    ))?;
    print!("{}", markdown::render(&result));
    eprintln!("wrote {}", out.join("search.json").display());
    Ok(())
}

/// The searchable method named `name`.
fn method_of(name: &str) -> Result<(&'static CompressionMethod, LayerSearch)> {
    let searchable: Vec<&str> = compress::METHODS
        .iter()
        .filter(|m| m.search.is_some())
        .map(|m| m.name)
        .collect();
    let method = compress::find(name).with_context(|| {
        format!(
            "--method {name}: unknown method (searchable: {})",
            searchable.join(", ")
        )
    })?;
    let search = method.search.with_context(|| {
        format!(
            "--method {name}: {name} trains its models, and a search only applies methods that derive weights from the original ({})",
            searchable.join(", ")
        )
    })?;
    Ok((method, search))
}

/// The ladder: `--ladder`, each value checked by the method, or the method's default.
fn ladder_of(
    args: &SearchArgs,
    method: &CompressionMethod,
    search: &LayerSearch,
) -> Result<Vec<f64>> {
    let Some(ladder) = &args.ladder else {
        return Ok(search.ladder.to_vec());
    };
    if ladder.is_empty() {
        bail!("--ladder: give at least one level");
    }
    for v in ladder {
        if let Some(why) = (method.check)(*v) {
            bail!(
                "--ladder {v}: {why} (a {} of {})",
                method.parameter,
                method.name
            );
        }
    }
    Ok(ladder.clone())
}

/// The strategies of `--strategies`, or the default ones (with `global` where the method has a
/// global rule).
fn strategies_of(
    args: &SearchArgs,
    method: &CompressionMethod,
    search: &LayerSearch,
) -> Result<Vec<Strategy>> {
    let names: Vec<String> = match &args.strategies {
        Some(s) => s.clone(),
        None => DEFAULT_STRATEGIES
            .iter()
            .map(|s| s.to_string())
            .chain(search.global.map(|_| "global".to_string()))
            .collect(),
    };
    let mut out: Vec<Strategy> = Vec::new();
    for n in &names {
        let s = strategy(n).with_context(|| {
            format!(
                "--strategies {n}: unknown strategy (known: {})",
                strategy_names().join(", ")
            )
        })?;
        if out.iter().any(|o| o.name == s.name) {
            bail!("--strategies: {n} is given twice");
        }
        if matches!(s.drive, Drive::Global) && search.global.is_none() {
            bail!("--strategies global: {} has no global rule", method.name);
        }
        out.push(s);
    }
    if args.min_reps.is_some() && !out.iter().any(|s| s.name == "reps") {
        bail!("--min-reps needs the reps strategy among --strategies");
    }
    Ok(out)
}

/// The settings a search directory is pinned to.
fn settings_of(args: &SearchArgs, plan: &Plan, source: &Source) -> Result<SearchSettings> {
    Ok(SearchSettings {
        from: args.from.display().to_string(),
        sweep_settings_sha256: crate::sweep::manifest::sha256_hex(
            &crate::sweep::manifest::settings_json(&source.cfg)?,
        ),
        method: plan.method.name.to_string(),
        budget: args.budget,
        min_reps: args.min_reps,
        confidence: args.confidence,
        ladder: plan.ladder.clone(),
        calibration: args.calibration,
        strategies: plan.strategies.iter().map(|s| s.name.to_string()).collect(),
        refresh: plan.refresh,
        resamples: args.resamples,
    })
}

/// Pins `settings` to `out` (`search-settings.json`), or refuses when `out` holds a search with
/// other settings, naming the first that differs.
fn pin_settings(out: &Path, settings: &SearchSettings) -> Result<()> {
    let path = out.join("search-settings.json");
    let settings = serde_json::to_value(settings)?;
    if let Ok(bytes) = std::fs::read(&path) {
        let stored: serde_json::Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: not a search's settings", path.display()))?;
        if let Some((k, was)) = stored
            .as_object()
            .into_iter()
            .flatten()
            .find(|(k, v)| settings.get(k.as_str()) != Some(v))
        {
            bail!(
                "{} holds a search with other settings ({k} was {was}, now {}); use another --out or delete it",
                out.display(),
                settings[k.as_str()]
            );
        }
        return Ok(());
    }
    write_atomic(&path, &serde_json::to_vec_pretty(&settings)?)
}

/// `--apply`: rebuilds a recipe's model from the sweep's original and writes its checkpoint.
fn apply(args: &SearchArgs, recipe_path: &Path, device: &candle_core::Device) -> Result<()> {
    let text = std::fs::read(recipe_path)
        .with_context(|| format!("cannot read {}", recipe_path.display()))?;
    let recipe: Recipe = serde_json::from_slice(&text)
        .with_context(|| format!("{}: not a search recipe", recipe_path.display()))?;
    let (method, _) = method_of(&recipe.method)
        .with_context(|| format!("{}: its method", recipe_path.display()))?;
    let source = Source::open(&args.from, device)?;
    let net = source.original(device)?;
    let mut weights = net.weights()?;
    if let Some(unknown) = recipe
        .layers
        .keys()
        .find(|k| !weights.iter().any(|w| &w.name == *k))
    {
        bail!(
            "{}: layer {unknown} is not a weight of the sweep's {}",
            recipe_path.display(),
            source.arch.name
        );
    }
    let settings = source.cfg.method_settings();
    for w in &mut weights {
        match recipe.layers.get(&w.name) {
            None => bail!("{}: no level for layer {}", recipe_path.display(), w.name),
            Some(None) => {}
            Some(Some(v)) => {
                if let Some(why) = (method.check)(*v) {
                    bail!("{}: layer {}: {why}", recipe_path.display(), w.name);
                }
                w.values = compress_layer(method, &settings, w, *v)?;
            }
        }
    }
    net.set_weights(&weights)?;
    let path = args
        .out
        .join("checkpoints")
        .join(format!("{}.safetensors", recipe.strategy));
    std::fs::create_dir_all(path.parent().expect("a folder"))
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    net.save(&path)?;
    let accuracy =
        crate::train::evaluate(&net, &source.data.test, crate::sweep::config::EVAL_BATCH)?;
    println!(
        "{}: {} {} at {} {:.4}, test accuracy {accuracy:.4}",
        path.display(),
        recipe.strategy,
        method.name,
        method.search.map_or("budget", |s| s.budget),
        recipe.budget
    );
    Ok(())
}
