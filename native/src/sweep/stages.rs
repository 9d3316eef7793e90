//! The stages of a sweep ([`Stage`]): the whole sweep in one process, the original, a shard of
//! the compressed models, and the merge of their files into the outputs.

use super::config::SweepConfig;
use super::lock::{self, SweepLock};
use super::make::Run;
use super::manifest::{self, Manifest, Unusable};
use super::plan::{self, ModelSpec};
use super::{load_dataset, outputs, Interrupted, Paths, Stage};
use crate::data::balanced_test_indices;
use crate::interrupt;
use crate::output_file::{temporary_file_pid, write_atomic};
use anyhow::{bail, Context, Result};
use candle_core::Device;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use reps::formats::snapshot::{self, SnapshotModel};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// How long a process waits for another that makes the same model before refusing.
const MODEL_LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Runs (or resumes) `stage` of a sweep into `out`. `max_models` stops after making that many
/// models in this run (for tests of resumption).
///
/// A one-process run, the original and the merge hold the directory's lock for the whole run;
/// every model is made under its own lock ([`lock`]) and recorded in its own file
/// ([`manifest`]), and each shard logs to its own file, so that shards run side by side in one
/// directory and never write the same file. Temporary files of killed
/// runs are removed; the settings must be those the directory was made with ([`manifest`],
/// `config.json`); a finished model is reused only when its files still have the content the
/// manifest recorded, and every model is made again when the original is (they all derive
/// from it). A shard needs the original made; the merge needs every model and, if one is
/// missing or does not verify, names it and writes nothing.
pub fn run(
    cfg: &SweepConfig,
    out: &Path,
    device: Device,
    stage: Stage,
    max_models: Option<usize>,
) -> Result<()> {
    match stage {
        Stage::All => run_all(cfg, out, device, max_models),
        Stage::Original | Stage::Shard { .. } => run_part(cfg, out, device, stage, max_models),
        Stage::Merge => merge(cfg, out, device),
    }
}

/// The whole sweep in one process: every model made (or reused), then the outputs.
fn run_all(cfg: &SweepConfig, out: &Path, device: Device, max_models: Option<usize>) -> Result<()> {
    let (mut run, mut manifest, _lock) = open(cfg, out, device, Stage::All)?;
    let Some(made) = make_models(&mut run, &mut manifest, Stage::All, max_models)? else {
        return Ok(());
    };
    write_outputs(&run, &mut manifest, made)
}

/// The original (`--stage original`) or one shard of the other models: their files only. A
/// shard needs the original made and verified.
fn run_part(
    cfg: &SweepConfig,
    out: &Path,
    device: Device,
    stage: Stage,
    max_models: Option<usize>,
) -> Result<()> {
    let (mut run, mut manifest, _lock) = open(cfg, out, device, stage)?;
    if let Stage::Shard { .. } = stage {
        let original = &plan::table_order(cfg)[0];
        if let Err(why) = reusable(&run.paths, &manifest, original)? {
            bail!(
                "{}; a shard needs the original: make it first (train-sweep --stage original, with the same flags)",
                missing_model(original, why)
            );
        }
    }
    let Some(made) = make_models(&mut run, &mut manifest, stage, max_models)? else {
        return Ok(());
    };
    eprintln!(
        "{}: {} model(s) made, {} already made, in {}",
        stage.describe(),
        made.made,
        made.reused,
        out.display()
    );
    Ok(())
}

/// The merge: every model of the sweep, made by the original's stage and the shards, verified
/// against the manifest; then the outputs. Nothing is written when one is missing.
fn merge(cfg: &SweepConfig, out: &Path, device: Device) -> Result<()> {
    let (run, manifest, _lock) = open(cfg, out, device, Stage::Merge)?;
    // What the shards recorded since the directory was opened.
    let mut manifest = Manifest::read(out)?.unwrap_or(manifest);
    let table = plan::table_order(cfg);
    let mut models = BTreeMap::new();
    let mut problems = Vec::new();
    for spec in &table {
        match reusable(&run.paths, &manifest, spec)? {
            Ok(model) => {
                models.insert(spec.name.clone(), model);
            }
            Err(why) => problems.push(missing_model(spec, why)),
        }
    }
    if !problems.is_empty() {
        bail!(
            "cannot merge {}: {} of {} models are not made or do not verify (nothing was written):\n  {}\nrun the shards that make them (with the same flags), then merge again",
            out.display(),
            problems.len(),
            table.len(),
            problems.join("\n  ")
        );
    }
    let made = Made {
        models,
        made: 0,
        reused: 0,
    };
    write_outputs(&run, &mut manifest, made)
}

/// Opens `out` for `stage`: its folders, log and lock (a shard takes none: it writes no file
/// another process writes), the settings checked or pinned, the data loaded.
fn open<'a>(
    cfg: &'a SweepConfig,
    out: &Path,
    device: Device,
    stage: Stage,
) -> Result<(Run<'a>, Manifest, Option<SweepLock>)> {
    cfg.validate()?;
    for dir in ["models", "checkpoints", "locks", manifest::RECORDS_DIR] {
        std::fs::create_dir_all(out.join(dir))
            .with_context(|| format!("cannot create {}", out.join(dir).display()))?;
    }
    // Each shard logs to its own file; everything else to sweep.log.
    let log_file = match stage {
        Stage::Shard { index, count } => {
            std::fs::create_dir_all(out.join("logs"))
                .with_context(|| format!("cannot create {}", out.join("logs").display()))?;
            out.join("logs")
                .join(format!("shard-{index}-of-{count}.log"))
        }
        _ => out.join("sweep.log"),
    };
    let paths = Paths {
        root: out.to_path_buf(),
        log_file,
    };
    let mut log = |line: &str| paths.log(line);
    let lock = match stage {
        Stage::Shard { .. } => None,
        _ => Some(SweepLock::acquire(out, &mut log)?),
    };
    remove_temporaries(&paths)?;
    paths.log(&format!("running on {}", crate::device::describe(&device)))?;
    let state = settle_settings(cfg, &paths)?;
    let writes_settings = matches!(stage, Stage::All | Stage::Original);
    if !writes_settings && state.fresh {
        bail!(
            "{} holds no sweep: make its original first (train-sweep --stage original, with the same flags)",
            out.display()
        );
    }
    let data = load_dataset(cfg)?;
    // Pinned only once the data loaded, so that a failed start leaves nothing to conflict with.
    if state.write_config && writes_settings {
        write_atomic(&out.join("config.json"), &manifest::settings_json(cfg)?)?;
    }
    let manifest = state.manifest;
    // Pins the settings of a new directory. (A shard writes no file another process writes; a
    // merge writes nothing until it has every model.)
    if writes_settings {
        manifest.write(out)?;
    }
    let classes = data.class_names.len();
    let samples = balanced_test_indices(&data.test, cfg.samples, classes);
    if samples.len() < 2 {
        bail!(
            "the test set has too few images for --samples {}",
            cfg.samples
        );
    }
    let run = Run {
        cfg,
        arch: cfg.architecture()?,
        paths,
        device,
        data,
        samples,
        original: None,
        original_weights: None,
        embeddings: None,
        bars: MultiProgress::new(),
    };
    if stage != Stage::All {
        run.paths.log(&format!("{}: started", stage.describe()))?;
    }
    Ok((run, manifest, lock))
}

/// The models a stage made or reused, by name.
struct Made {
    models: BTreeMap<String, SnapshotModel>,
    made: usize,
    reused: usize,
}

/// Makes (or reuses, when its files verify) every model `stage` makes, in the plan's work order.
/// `None` when stopped by `max_models`.
fn make_models(
    run: &mut Run,
    manifest: &mut Manifest,
    stage: Stage,
    max_models: Option<usize>,
) -> Result<Option<Made>> {
    let out = run.paths.root.clone();
    let table = plan::table_order(run.cfg);
    let position = |name: &str| table.iter().position(|m| m.name == name);
    let work: Vec<ModelSpec> = plan::work_order(run.cfg)
        .into_iter()
        .filter(|m| position(&m.name).is_some_and(|p| stage.makes(p)))
        .collect();
    let mut models: BTreeMap<String, SnapshotModel> = BTreeMap::new();
    let overall = run.bars.add(ProgressBar::new(work.len() as u64));
    overall.set_style(
        ProgressStyle::with_template("model {pos}/{len} {msg} [{elapsed_precise}, ETA {eta}]")
            .expect("valid template"),
    );
    let started = Instant::now();
    let mut verifying = std::time::Duration::ZERO;
    let mut made = 0usize;
    let mut original_made = false;
    for spec in &work {
        if interrupt::requested() {
            return Err(Interrupted(format!(
                "stopped by a signal before making {} ({made} made in this run)",
                spec.name
            ))
            .into());
        }
        // Another process making the same model (a shard given overlapping work, the process
        // of a requeued job that is still being stopped): wait for it, then reuse its model.
        let _model_lock = SweepLock::acquire_waiting(
            &run.paths.path(&Paths::model_lock(&spec.name)),
            &format!("model {} of {}", spec.name, out.display()),
            MODEL_LOCK_PATIENCE,
            &mut |line| run.paths.log(line),
        )?;
        if !original_made {
            // With what another process (a shard) recorded of this model since.
            manifest.read_model_record(&out, &spec.name)?;
            let checking = Instant::now();
            let found = reusable(&run.paths, manifest, spec)?;
            verifying += checking.elapsed();
            match found {
                Ok(model) => {
                    models.insert(spec.name.clone(), model);
                    overall.inc(1);
                    continue;
                }
                Err(Some((file, why))) => run.paths.log(&format!(
                    "{file}: {}; making {} again{}",
                    why.reason(),
                    spec.name,
                    if spec.is_original() {
                        " (and every model, since they all derive from it)"
                    } else {
                        ""
                    }
                ))?,
                Err(None) => {}
            }
        }
        if max_models.is_some_and(|m| made >= m) {
            overall.abandon_with_message("stopped (--max-models)");
            eprintln!("stopped after {made} models (--max-models); rerun to continue");
            return Ok(None);
        }
        overall.set_message(spec.name.clone());
        if spec.is_original() {
            // Every other model and output derives from the original: once it is made again,
            // none of theirs may be reused, in this run or a later one.
            manifest.forget_all_files(&out)?;
        }
        let (model, checkpoint) = run
            .make(spec)
            .with_context(|| format!("making model {}", spec.name))?;
        let bytes = snapshot::encode(&run.snapshot(vec![model.clone()]))?;
        let files = ModelFiles::of(&spec.name);
        write_atomic(&run.paths.path(&files.model), &bytes)?;
        manifest.record_model(
            &out,
            &spec.name,
            &[(&files.model, &bytes), (&files.checkpoint, &checkpoint)],
        )?;
        let partial = run.paths.path(&Paths::partial(&spec.name));
        if partial.exists() {
            std::fs::remove_file(&partial)
                .with_context(|| format!("cannot remove {}", partial.display()))?;
        }
        original_made |= spec.is_original();
        models.insert(spec.name.clone(), model);
        made += 1;
        overall.inc(1);
    }
    overall.finish_and_clear();
    let reused = work.len() - made;
    if reused > 0 {
        run.paths.log(&format!(
            "{reused} model(s) verified against the manifest and reused ({:.2} s)",
            verifying.as_secs_f64()
        ))?;
    }
    if made > 0 {
        run.paths.log(&format!(
            "{}: made {made} model(s) in {:.0} s",
            stage.describe(),
            started.elapsed().as_secs_f64()
        ))?;
    }
    Ok(Some(Made {
        models,
        made,
        reused,
    }))
}

/// The sweep's outputs from every model of the table ([`outputs::write_all`]).
fn write_outputs(run: &Run, manifest: &mut Manifest, mut made: Made) -> Result<()> {
    let models = plan::table_order(run.cfg)
        .iter()
        .map(|spec| {
            made.models
                .remove(&spec.name)
                .expect("every model made or reused")
        })
        .collect();
    outputs::write_all(run, manifest, models, made.made)
}

/// The two files of a model, as the manifest names them.
struct ModelFiles {
    model: String,
    checkpoint: String,
}

impl ModelFiles {
    fn of(name: &str) -> Self {
        ModelFiles {
            model: Paths::model(name),
            checkpoint: Paths::checkpoint(name),
        }
    }
}

/// Why `spec` cannot be used, in words: a file and why, or that it was never made.
fn missing_model(spec: &ModelSpec, why: Option<(String, Unusable)>) -> String {
    match why {
        Some((file, why)) => format!("{file}: {}", why.reason()),
        None => format!("{}: not made yet", spec.name),
    }
}

/// A model's files (`models/<name>.reps`, then its checkpoint) when both still have the content
/// the manifest recorded: `Ok` with the decoded model; otherwise `Err` with a file that cannot be
/// reused and why (one that exists, or is recorded, first), or `Err(None)` when neither exists
/// nor is recorded (a model not made yet).
fn reusable(
    paths: &Paths,
    manifest: &Manifest,
    spec: &ModelSpec,
) -> Result<Result<SnapshotModel, Option<(String, Unusable)>>> {
    let files = ModelFiles::of(&spec.name);
    let mut model_bytes = None;
    let mut problem = None;
    let mut absent = false;
    for f in [&files.model, &files.checkpoint] {
        match manifest.verified(&paths.root, f) {
            Ok(bytes) => model_bytes = model_bytes.or(Some(bytes)),
            Err(Unusable::Unrecorded) if !paths.path(f).exists() => absent = true,
            Err(why) => {
                problem.get_or_insert((f.clone(), why));
            }
        }
    }
    if problem.is_some() || absent {
        return Ok(Err(problem));
    }
    let bytes = model_bytes.expect("the model file verified");
    let name = paths.path(&files.model).display().to_string();
    let mut s = snapshot::decode(&name, &bytes)?;
    Ok(Ok(s.models.remove(0)))
}

/// Removes the temporary files that killed runs left beside the outputs, and logs how many. This
/// run holds the lock, so no live process writes outputs here; a file of a process that still
/// runs (another run's candidate lock, about to be refused) is left alone.
fn remove_temporaries(paths: &Paths) -> Result<()> {
    let mut removed = 0;
    for dir in [
        paths.root.clone(),
        paths.root.join("models"),
        paths.root.join("checkpoints"),
        paths.root.join("locks"),
        paths.root.join(manifest::RECORDS_DIR),
    ] {
        for entry in std::fs::read_dir(&dir)
            .with_context(|| format!("cannot list {}", dir.display()))?
            .flatten()
        {
            let name = entry.file_name();
            let pid = temporary_file_pid(&name.to_string_lossy());
            if pid.is_some_and(|p| p == std::process::id() || !lock::process_alive(p)) {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => removed += 1,
                    // Another shard removed it first.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(e)
                            .with_context(|| format!("cannot remove {}", entry.path().display()))
                    }
                }
            }
        }
    }
    if removed > 0 {
        paths.log(&format!(
            "removed {removed} temporary file(s) left by a run that was killed"
        ))?;
    }
    Ok(())
}

/// The manifest a run continues, once its settings are known to be the directory's.
struct Settled {
    manifest: Manifest,
    /// The directory held no sweep (no manifest, no `config.json`).
    fresh: bool,
    /// `config.json` is missing or differs from the settings, and is (re)written.
    write_config: bool,
}

/// Checks `cfg` against the settings the directory was made with (the manifest's, else
/// `config.json`'s) and refuses other settings, naming the first flag that differs. A directory
/// written before manifests existed (a matching `config.json`, no manifest) has its files adopted
/// as they are, and the log says so.
fn settle_settings(cfg: &SweepConfig, paths: &Paths) -> Result<Settled> {
    let config_path = paths.root.join("config.json");
    let stored = Manifest::read(&paths.root)?;
    let config_text = std::fs::read(&config_path).ok();
    let pinned = match (&stored, &config_text) {
        (Some(m), _) => Some(m.settings.clone()),
        (None, Some(text)) => Some(
            serde_json::from_slice::<SweepConfig>(text)
                .with_context(|| format!("{}: not a sweep configuration", config_path.display()))?,
        ),
        (None, None) => None,
    };
    if let Some((name, now, was)) = pinned.as_ref().and_then(|p| cfg.first_difference(p)) {
        bail!(
            "{} holds a sweep with other settings (--{name} was {was}, now {now}); use another --out or delete the directory",
            paths.root.display()
        );
    }
    let settings = manifest::settings_json(cfg)?;
    let write_config = config_text.as_deref() != Some(settings.as_slice());
    if write_config && config_text.is_some() {
        paths.log("config.json differed from the settings in manifest.json; rewritten")?;
    } else if write_config && stored.is_some() {
        paths.log("config.json was missing; rebuilt from manifest.json")?;
    }
    let fresh = stored.is_none() && config_text.is_none();
    let manifest = match stored {
        Some(m) => m,
        None if config_text.is_some() => adopt_unverified(cfg, paths)?,
        None => Manifest::new(cfg)?,
    };
    Ok(Settled {
        manifest,
        fresh,
        write_config,
    })
}

/// A manifest for a directory written before manifests existed: every output file there is
/// recorded as it is now (it cannot be verified), and the log says how many.
fn adopt_unverified(cfg: &SweepConfig, paths: &Paths) -> Result<Manifest> {
    let mut m = Manifest::new(cfg)?;
    for dir in ["models", "checkpoints"] {
        for entry in std::fs::read_dir(paths.root.join(dir))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = format!("{dir}/{name}");
            if entry.path().is_file() {
                m.record(&relative, &std::fs::read(entry.path())?);
            }
        }
    }
    for name in outputs::FINAL_OUTPUTS {
        if let Ok(content) = std::fs::read(paths.root.join(name)) {
            m.record(name, &content);
        }
    }
    if !m.files.is_empty() {
        paths.log(&format!(
            "no manifest.json (the directory was written by an earlier version): adopted its {} files as they are, unverified",
            m.files.len()
        ))?;
    }
    Ok(m)
}
