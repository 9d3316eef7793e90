//! `native train-sweep`: train the original network (any registered architecture), make one
//! compressed model per value of each selected method's grid, evaluate them, extract activations,
//! and write the snapshot, `tables.md` and `results.json`.
//!
//! Every finished model is a file under `models/` (a one-model `.reps` snapshot) next to its
//! checkpoint under `checkpoints/`, both written atomically; a rerun of the same command skips
//! them, so a kill loses at most the model in progress. A training stopped by a signal
//! ([`crate::interrupt`]) writes `checkpoints/<model>.partial.safetensors` and continues from it.
//!
//! The work can be split over processes and machines sharing the directory ([`Stage`]): the
//! original, then shards of the compressed models in parallel, then the merge; its outputs are
//! byte-identical to those of one process.

pub mod config;
pub(crate) mod extract;
pub(crate) mod lock;
pub(crate) mod manifest;
mod outputs;
mod plan;
pub mod seeds;
mod stage;
pub mod summary;

pub use stage::Stage;

use crate::compress::{Make, SubsetInput};
use crate::data::{balanced_test_indices, cifar, synthetic, Dataset};
use crate::interrupt;
use crate::model::{Architecture, Captured, Kernels, NetConfig, Network};
use crate::output_file::{temporary_file_pid, write_atomic};
use crate::train::{train, Subset, TrainOutcome, TrainState};
use anyhow::{bail, Context, Result};
use candle_core::Device;
use config::{DatasetChoice, SweepConfig, EVAL_BATCH};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use lock::SweepLock;
use manifest::{Manifest, Unusable};
use plan::ModelSpec;
use reps::formats::snapshot::{self, Snapshot, SnapshotModel};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where a sweep writes. Files are named by their path relative to the root, `/`-separated, as
/// the manifest records them.
pub(crate) struct Paths {
    root: PathBuf,
    /// `sweep.log`, or a shard's own log under `logs/`.
    log_file: PathBuf,
}

impl Paths {
    pub(crate) fn model(name: &str) -> String {
        format!("models/{name}.reps")
    }
    pub(crate) fn checkpoint(name: &str) -> String {
        format!("checkpoints/{name}.safetensors")
    }
    /// The mid-training checkpoint of a training stopped by a signal.
    fn partial(name: &str) -> String {
        format!("checkpoints/{name}.partial.safetensors")
    }
    fn model_lock(name: &str) -> String {
        format!("locks/{name}.lock")
    }
    fn path(&self, relative: &str) -> PathBuf {
        manifest::path_of(&self.root, relative)
    }
    fn log(&self, line: &str) -> Result<()> {
        crate::output_file::append_line(&self.log_file, line)
    }
}

/// Loads the configured dataset, truncated to the configured sizes.
pub fn load_dataset(cfg: &SweepConfig) -> Result<Dataset> {
    let mut d = match cfg.dataset {
        DatasetChoice::Synthetic => synthetic::generate(
            cfg.seed,
            cfg.train_size.unwrap_or(10_000),
            cfg.test_size.unwrap_or(2_000),
        ),
        DatasetChoice::Cifar10 => cifar::load(cfg.data_dir.as_deref().expect("validated"))?,
    };
    if let Some(n) = cfg.train_size {
        d.train.truncate(n);
    }
    if let Some(n) = cfg.test_size {
        d.test.truncate(n);
    }
    Ok(d)
}

/// State shared by the models of one run.
struct Run<'a> {
    cfg: &'a SweepConfig,
    arch: &'static Architecture,
    paths: Paths,
    device: Device,
    data: Dataset,
    samples: Vec<usize>,
    original: Option<Network>,
    original_weights: Option<Vec<f32>>,
    embeddings: Option<(Vec<f32>, usize)>,
    bars: MultiProgress,
}

impl Run<'_> {
    fn classes(&self) -> usize {
        self.data.class_names.len()
    }

    /// The shape of every network of the sweep.
    fn net_config(&self) -> NetConfig {
        NetConfig {
            width: self.cfg.width,
            classes: self.classes(),
            kernels: self
                .cfg
                .kernels
                .unwrap_or_else(|| Kernels::for_device(&self.device)),
        }
    }

    /// The network of the checkpoint `name`.
    fn load(&self, name: &str) -> Result<Network> {
        let path = self.paths.path(&Paths::checkpoint(name));
        Network::load(&path, self.arch, &self.net_config(), &self.device)
    }

    /// A freshly initialised network trained on the training images `indices` (with per-image
    /// loss `weights` for CRAIG coresets), with a progress bar and a line in the log.
    ///
    /// A stop asked for by a signal ends the training at the next step boundary: its state is
    /// written to the model's mid-training checkpoint and the error is [`Interrupted`]. The
    /// next run continues from that checkpoint (and logs where), to the same bits.
    fn train_fresh(
        &self,
        name: &str,
        indices: &[usize],
        weights: Option<&[f32]>,
    ) -> Result<Network> {
        let fresh = || Network::new(self.arch, &self.net_config(), self.cfg.seed, &self.device);
        let mut net = fresh()?;
        let partial = self.paths.path(&Paths::partial(name));
        let resume = match TrainState::load(&partial, &net, &self.partial_tags(name)?) {
            Ok(state) => state,
            Err(e) => {
                self.paths
                    .log(&format!("{e:#}; training {name} from the start instead"))?;
                // Variables may be half set from the file: start from a fresh initialisation.
                net = fresh()?;
                None
            }
        };
        if let Some(s) = &resume {
            self.paths.log(&format!(
                "{name}: resumed at epoch {} step {}",
                s.epoch + 1,
                s.step
            ))?;
        }
        self.train_from(net, name, indices, weights, resume)
    }

    /// What a mid-training checkpoint must have been written for: this model, these settings.
    fn partial_tags(&self, name: &str) -> Result<BTreeMap<String, String>> {
        Ok(BTreeMap::from([
            ("model".to_string(), name.to_string()),
            (
                "settings_sha256".to_string(),
                manifest::sha256_hex(&manifest::settings_json(self.cfg)?),
            ),
        ]))
    }

    fn train_from(
        &self,
        net: Network,
        name: &str,
        indices: &[usize],
        weights: Option<&[f32]>,
        resume: Option<TrainState>,
    ) -> Result<Network> {
        let bar = self.step_bar(name);
        let (hook, delay) = (stop_hook(name), step_delay());
        let stop = |step: usize| {
            if hook == Some(step) {
                interrupt::raise_terminate();
            }
            if let Some(d) = delay {
                std::thread::sleep(d);
            }
            interrupt::requested()
        };
        let outcome = train(
            &net,
            &self.data.train,
            Subset { indices, weights },
            &self.cfg.train_config(),
            &bar,
            resume,
            &stop,
        )?;
        bar.finish_and_clear();
        let partial = self.paths.path(&Paths::partial(name));
        match outcome {
            TrainOutcome::Finished(r) => {
                self.paths.log(&format!(
                    "{name}: {} images, trained {:.0} img/s, final loss {:.4}",
                    indices.len(),
                    r.images_per_second,
                    r.final_loss
                ))?;
                Ok(net)
            }
            TrainOutcome::Stopped(state) => {
                state.save(&partial, &net, &self.partial_tags(name)?)?;
                let line = format!(
                    "{name}: stopped by a signal at epoch {} step {}; its state is in {}",
                    state.epoch + 1,
                    state.step,
                    Paths::partial(name)
                );
                self.paths.log(&line)?;
                Err(Interrupted(line).into())
            }
        }
    }

    fn step_bar(&self, name: &str) -> ProgressBar {
        let bar = self.bars.add(ProgressBar::new(0));
        bar.set_style(
            ProgressStyle::with_template(
                "  {prefix:14} [{bar:30}] {pos}/{len} steps {msg} (ETA {eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(name.to_string());
        bar
    }

    /// The original network (trained now, or loaded from its checkpoint).
    fn original(&mut self) -> Result<&Network> {
        if self.original.is_none() {
            let net = self.load("original")?;
            self.original_weights = Some(net.flat_weights()?);
            self.original = Some(net);
        }
        Ok(self.original.as_ref().expect("set above"))
    }

    /// The architecture's embedding (`avgpool` for the ResNet) of every training image under the
    /// original model, one row each (for CRAIG).
    fn embeddings(&mut self) -> Result<(Vec<f32>, usize)> {
        if self.embeddings.is_none() {
            let all: Vec<usize> = (0..self.data.train.len()).collect();
            let mut emb = Vec::new();
            let mut dim = 0;
            self.original()?;
            let net = self.original.as_ref().expect("loaded above");
            for chunk in all.chunks(EVAL_BATCH) {
                let (x, _) = self.data.train.batch(chunk, None, net.device())?;
                let mut cap = Captured::default();
                net.model.forward(&x, false, Some(&mut cap))?;
                let rows = &cap
                    .0
                    .iter()
                    .find(|(n, _)| n == self.arch.embedding)
                    .with_context(|| format!("no capture point {}", self.arch.embedding))?
                    .1;
                dim = rows.elem_count() / chunk.len();
                emb.extend(rows.flatten_all()?.to_vec1::<f32>()?);
            }
            self.embeddings = Some((emb, dim));
        }
        Ok(self.embeddings.clone().expect("set above"))
    }

    /// Makes one model: its network (trained or derived), checkpoint, accuracy and activations.
    /// Returns the model and its checkpoint's bytes (written to its file).
    fn make(&mut self, spec: &ModelSpec) -> Result<(SnapshotModel, Vec<u8>)> {
        let all_train: Vec<usize> = (0..self.data.train.len()).collect();
        let started = Instant::now();
        let settings = self.cfg.method_settings();
        let net = match spec.made_by {
            Some((method, p)) => match method.make {
                Make::Weights(apply) => {
                    let mut weights = self.original()?.weights()?;
                    apply(&mut weights, p, &settings)?;
                    let net = self.load("original")?;
                    net.set_weights(&weights)?;
                    net
                }
                Make::Train(select) => {
                    let by_class = self.data.train.by_class(self.classes());
                    let device = self.device.clone();
                    let chosen = select(
                        &mut SubsetInput {
                            by_class: &by_class,
                            embeddings: &mut || self.embeddings(),
                            settings,
                            device: &device,
                        },
                        p,
                    )?;
                    self.train_fresh(&spec.name, &chosen.indices, chosen.weights.as_deref())?
                }
            },
            None => self.train_fresh(&spec.name, &all_train, None)?,
        };
        let checkpoint = net.save(&self.paths.path(&Paths::checkpoint(&spec.name)))?;
        if spec.is_original() {
            self.original_weights = Some(net.flat_weights()?);
        }
        let reference = self
            .original_weights
            .as_deref()
            .context("the original model's weights")?;
        let (model, _) = extract::describe(
            &net,
            extract::Described {
                name: &spec.name,
                method: spec.method_name(),
                parameter: spec.made_by.map(|(m, p)| (m.parameter, p)),
            },
            &self.data.test,
            &self.samples,
            self.cfg.no_pool,
            reference,
        )?;
        if spec.is_original() {
            self.original = Some(net);
        }
        self.paths.log(&format!(
            "{}: accuracy {:.4}, weight similarity {:.4}, {:.1} s",
            spec.name,
            model.accuracy.unwrap_or(f64::NAN),
            model.weight_similarity.unwrap_or(f64::NAN),
            started.elapsed().as_secs_f64()
        ))?;
        Ok((model, checkpoint))
    }

    /// A snapshot of `models` with this run's metadata.
    fn snapshot(&self, models: Vec<SnapshotModel>) -> Snapshot {
        snapshot_of(self.cfg, &self.data, &self.samples, models)
    }
}

/// A snapshot of `models` with the metadata of a sweep of `cfg` on `data`, analysing the test
/// images `samples`.
pub(crate) fn snapshot_of(
    cfg: &SweepConfig,
    data: &Dataset,
    samples: &[usize],
    models: Vec<SnapshotModel>,
) -> Snapshot {
    Snapshot {
        producer: "reps native train-sweep".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        dataset: data.name.clone(),
        architecture: cfg.arch.clone(),
        width: Some(cfg.width as u32),
        seed: Some(cfg.seed),
        preset: format!("{:?}", cfg.preset).to_lowercase(),
        sample_indices: samples.iter().map(|&i| i as u32).collect(),
        labels: Some(
            samples
                .iter()
                .map(|&i| data.test.labels[i] as u32)
                .collect(),
        ),
        class_names: data.class_names.clone(),
        models,
    }
}

/// How long a process waits for another that makes the same model before refusing.
const MODEL_LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(3600);

/// The error of a sweep stopped by a signal at a safe point, with what was kept (the process
/// then ends with [`interrupt::EXIT_STATUS`]).
#[derive(Debug)]
pub struct Interrupted(pub String);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}; rerun the same command to continue", self.0)
    }
}

impl std::error::Error for Interrupted {}

/// The test hook of the preemption tests: with `REPS_TEST_SIGNAL_AT=<model>:<step>` the process
/// sends itself SIGTERM when the training of that model has done that many steps (`search:<n>`:
/// when a search has measured n candidates).
pub(crate) fn stop_hook(model: &str) -> Option<usize> {
    let spec = std::env::var("REPS_TEST_SIGNAL_AT").ok()?;
    let (name, step) = spec.rsplit_once(':')?;
    (name == model).then(|| step.parse().ok())?
}

/// The test hook of the scheduler tests: with `REPS_TEST_STEP_DELAY_MS=<ms>` every training step
/// waits that long first, so that a test can preempt a training while it runs.
fn step_delay() -> Option<std::time::Duration> {
    let ms = std::env::var("REPS_TEST_STEP_DELAY_MS")
        .ok()?
        .parse()
        .ok()?;
    Some(std::time::Duration::from_millis(ms))
}

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
    let _lock = match stage {
        Stage::Shard { .. } => None,
        _ => Some(SweepLock::acquire(out, &mut log)?),
    };
    remove_temporaries(&paths)?;
    paths.log(&format!("running on {}", crate::device::describe(&device)))?;
    let state = settle_settings(cfg, &paths)?;
    if matches!(stage, Stage::Shard { .. } | Stage::Merge) && state.fresh {
        bail!(
            "{} holds no sweep: make its original first (train-sweep --stage original, with the same flags)",
            out.display()
        );
    }
    let data = load_dataset(cfg)?;
    // Pinned only once the data loaded, so that a failed start leaves nothing to conflict with.
    if state.write_config && !matches!(stage, Stage::Shard { .. } | Stage::Merge) {
        write_atomic(&out.join("config.json"), &manifest::settings_json(cfg)?)?;
    }
    let mut manifest = state.manifest;
    // Pins the settings of a new directory. (A shard writes no file another process writes; a
    // merge writes nothing until it has every model.)
    if !matches!(stage, Stage::Shard { .. } | Stage::Merge) {
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
    let mut run = Run {
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
    let table = plan::table_order(cfg);
    let position = |name: &str| table.iter().position(|m| m.name == name);
    let work: Vec<ModelSpec> = plan::work_order(cfg)
        .into_iter()
        .filter(|m| position(&m.name).is_some_and(|p| stage.makes(p)))
        .collect();
    let mut models: BTreeMap<String, SnapshotModel> = BTreeMap::new();
    if let Stage::Shard { .. } = stage {
        // Every model of a shard derives from the original: it must be made and verify.
        if let Err(why) = reusable(&run.paths, &manifest, &table[0])? {
            bail!(
                "{}; a shard needs the original: make it first (train-sweep --stage original, with the same flags)",
                missing_model(&table[0], why)
            );
        }
    }
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
            manifest.read_model_record(out, &spec.name)?;
            let checking = Instant::now();
            let found = reusable(&run.paths, &manifest, spec)?;
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
            return Ok(());
        }
        overall.set_message(spec.name.clone());
        if spec.is_original() {
            // Every other model and output derives from the original: once it is made again,
            // none of theirs may be reused, in this run or a later one.
            manifest.forget_all_files(out)?;
        }
        let (model, checkpoint) = run
            .make(spec)
            .with_context(|| format!("making model {}", spec.name))?;
        let bytes = snapshot::encode(&run.snapshot(vec![model.clone()]))?;
        let files = ModelFiles::of(&spec.name);
        write_atomic(&run.paths.path(&files.model), &bytes)?;
        manifest.record_model(
            out,
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
    match stage {
        Stage::Original | Stage::Shard { .. } => {
            eprintln!(
                "{}: {made} model(s) made, {reused} already made, in {}",
                stage.describe(),
                out.display()
            );
            return Ok(());
        }
        Stage::Merge => {
            let manifest_now = Manifest::read(out)?.unwrap_or(manifest.clone());
            manifest = manifest_now;
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
        }
        Stage::All => {}
    }
    let models = table
        .iter()
        .map(|spec| {
            models
                .remove(&spec.name)
                .expect("every model made or reused")
        })
        .collect();
    outputs::write_all(&run, &mut manifest, models, made)
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
