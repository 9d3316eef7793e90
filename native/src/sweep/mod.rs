//! `native train-sweep`: train the original ResNet-18, make the 24 compressed models, evaluate them,
//! extract activations, and write the snapshot, `tables.md` and `results.json`.
//!
//! Every finished model is a file under `models/` (a one-model `.reps` snapshot) next to its
//! checkpoint under `checkpoints/`, both written atomically; a rerun of the same command skips
//! them, so a kill loses at most the model in progress.

pub mod config;
mod extract;
mod outputs;
mod plan;

use crate::compress::coreset::{craig_coreset, random_coreset, CoresetMethod};
use crate::compress::{prune::prune_global, quantize::quantize_tensor};
use crate::data::{balanced_test_indices, cifar, synthetic, Dataset};
use crate::model::Network;
use crate::output_file::write_atomic;
use crate::train::{evaluate, train, TrainConfig};
use anyhow::{bail, Context, Result};
use candle_core::Device;
use config::{DatasetChoice, SweepConfig};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use plan::{Method, ModelSpec};
use reps::formats::snapshot::{self, Snapshot, SnapshotModel};
use reps::histogram::{shared_range, weight_histogram, FINE_BINS};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

const EVAL_BATCH: usize = 250;

/// Where a sweep writes.
struct Paths {
    root: PathBuf,
}

impl Paths {
    fn model(&self, name: &str) -> PathBuf {
        self.root.join("models").join(format!("{name}.reps"))
    }
    fn checkpoint(&self, name: &str) -> PathBuf {
        self.root
            .join("checkpoints")
            .join(format!("{name}.safetensors"))
    }
    fn log(&self, line: &str) -> Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.root.join("sweep.log"))?;
        writeln!(f, "{line}")?;
        Ok(())
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

    /// A freshly initialised network trained on the training images `indices` (with per-image
    /// loss `weights` for CRAIG coresets), with a progress bar and a line in the log.
    fn train_fresh(
        &self,
        name: &str,
        indices: &[usize],
        weights: Option<&[f32]>,
    ) -> Result<Network> {
        let net = Network::new(self.cfg.width, self.classes(), self.cfg.seed, &self.device)?;
        let bar = self.step_bar(name);
        let r = train(
            &net,
            &self.data.train,
            indices,
            weights,
            &self.train_config(),
            &bar,
        )?;
        bar.finish_and_clear();
        self.paths.log(&format!(
            "{name}: {} images, trained {:.0} img/s, final loss {:.4}",
            indices.len(),
            r.images_per_second,
            r.final_loss
        ))?;
        Ok(net)
    }

    fn train_config(&self) -> TrainConfig {
        TrainConfig {
            epochs: self.cfg.epochs,
            batch_size: self.cfg.batch_size,
            lr: self.cfg.lr,
            momentum: self.cfg.momentum,
            weight_decay: self.cfg.weight_decay,
            schedule: self.cfg.schedule,
            seed: self.cfg.seed,
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
            let path = self.paths.checkpoint("original");
            let net = Network::load(&path, self.cfg.width, self.classes(), &self.device)?;
            self.original_weights = Some(net.flat_weights()?);
            self.original = Some(net);
        }
        Ok(self.original.as_ref().expect("set above"))
    }

    /// Avgpool embeddings of every training image under the original model (for CRAIG).
    fn embeddings(&mut self) -> Result<(Vec<f32>, usize)> {
        if self.embeddings.is_none() {
            let dim = 8 * self.cfg.width;
            let all: Vec<usize> = (0..self.data.train.len()).collect();
            let mut emb = Vec::with_capacity(all.len() * dim);
            self.original()?;
            let net = self.original.as_ref().expect("loaded above");
            for chunk in all.chunks(EVAL_BATCH) {
                let (x, _) = self.data.train.batch(chunk, None, &net.device)?;
                let mut cap = crate::model::Captured::default();
                net.model.forward(&x, false, Some(&mut cap))?;
                let pooled = &cap
                    .0
                    .iter()
                    .find(|(n, _)| n == "avgpool")
                    .expect("avgpool")
                    .1;
                emb.extend(pooled.flatten_all()?.to_vec1::<f32>()?);
            }
            self.embeddings = Some((emb, dim));
        }
        Ok(self.embeddings.clone().expect("set above"))
    }

    /// Makes one model: its network (trained or derived), checkpoint, accuracy and activations.
    fn make(&mut self, spec: &ModelSpec) -> Result<SnapshotModel> {
        let classes = self.classes();
        let all_train: Vec<usize> = (0..self.data.train.len()).collect();
        let started = Instant::now();
        let net = match spec.method {
            Method::Original => self.train_fresh(&spec.name, &all_train, None)?,
            Method::Prune | Method::Quant => {
                let original = self.original()?;
                let mut weights = original.weights()?;
                let p = spec.parameter.expect("compressed models have a parameter");
                if spec.method == Method::Prune {
                    let mut tensors: Vec<Vec<f32>> = weights
                        .iter_mut()
                        .map(|w| std::mem::take(&mut w.values))
                        .collect();
                    prune_global(&mut tensors, p);
                    for (w, t) in weights.iter_mut().zip(tensors) {
                        w.values = t;
                    }
                } else {
                    for w in weights.iter_mut() {
                        quantize_tensor(&mut w.values, &w.dims, p as u32, self.cfg.quant_mode);
                    }
                }
                let net = Network::load(
                    &self.paths.checkpoint("original"),
                    self.cfg.width,
                    classes,
                    &self.device,
                )?;
                net.set_weights(&weights)?;
                net
            }
            Method::Coreset => {
                let f = spec.parameter.expect("coresets have a fraction");
                let by_class = self.data.train.by_class(classes);
                let coreset = match self.cfg.coreset {
                    CoresetMethod::Random => {
                        random_coreset(&by_class, f, self.cfg.seed ^ f.to_bits())
                    }
                    CoresetMethod::Craig => {
                        let (emb, dim) = self.embeddings()?;
                        craig_coreset(&by_class, &emb, dim, f, &self.device)?
                    }
                };
                let weights = (self.cfg.coreset == CoresetMethod::Craig)
                    .then_some(coreset.weights.as_slice());
                self.train_fresh(&spec.name, &coreset.indices, weights)?
            }
        };
        net.save(&self.paths.checkpoint(&spec.name))?;
        let accuracy = evaluate(&net, &self.data.test, EVAL_BATCH)?;
        let layers = extract::extract(
            &net,
            &self.data.test,
            &self.samples,
            self.cfg.no_pool,
            EVAL_BATCH,
        )?;
        let flat = net.flat_weights()?;
        // The model's own fine histogram: the snapshot's shared-range histograms are made from
        // these at the end, without reading the checkpoints again.
        let (lo, hi) = shared_range([flat.as_slice()]);
        let histogram = weight_histogram(&flat, lo, hi, FINE_BINS)?;
        if spec.method == Method::Original {
            self.original_weights = Some(flat.clone());
            self.original = Some(net);
        }
        let reference = self
            .original_weights
            .as_deref()
            .context("the original model's weights")?;
        let weight_similarity = reps::baselines::weight_similarity(reference, &flat)?;
        self.paths.log(&format!(
            "{}: accuracy {accuracy:.4}, weight similarity {weight_similarity:.4}, {:.1} s",
            spec.name,
            started.elapsed().as_secs_f64()
        ))?;
        Ok(SnapshotModel {
            name: spec.name.clone(),
            method: spec.method.name().into(),
            parameter: spec.parameter,
            parameter_name: spec.method.parameter_name().map(str::to_string),
            accuracy: Some(accuracy),
            weight_similarity: Some(weight_similarity),
            histogram: Some(histogram),
            layers,
            logits: Some(extract::LOGITS_LAYER.into()),
        })
    }

    /// A snapshot of `models` with this run's metadata.
    fn snapshot(&self, models: Vec<SnapshotModel>) -> Snapshot {
        Snapshot {
            producer: "reps native train-sweep".into(),
            producer_version: env!("CARGO_PKG_VERSION").into(),
            dataset: self.data.name.clone(),
            architecture: "resnet18".into(),
            width: Some(self.cfg.width as u32),
            seed: Some(self.cfg.seed),
            preset: format!("{:?}", self.cfg.preset).to_lowercase(),
            sample_indices: self.samples.iter().map(|&i| i as u32).collect(),
            labels: Some(
                self.samples
                    .iter()
                    .map(|&i| self.data.test.labels[i] as u32)
                    .collect(),
            ),
            class_names: self.data.class_names.clone(),
            models,
        }
    }
}

/// Runs (or resumes) a sweep into `out`. `max_models` stops after making that many models in this
/// run (for tests of resumption).
pub fn run(cfg: &SweepConfig, out: &Path, device: Device, max_models: Option<usize>) -> Result<()> {
    cfg.validate()?;
    for dir in ["models", "checkpoints"] {
        std::fs::create_dir_all(out.join(dir))
            .with_context(|| format!("cannot create {}", out.join(dir).display()))?;
    }
    let config_path = out.join("config.json");
    if config_path.exists() {
        let text = std::fs::read_to_string(&config_path)?;
        let stored: SweepConfig = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a sweep configuration", config_path.display()))?;
        if let Some((name, now, was)) = cfg.first_difference(&stored) {
            bail!(
                "{} holds a sweep with other settings (--{name} was {was}, now {now}); use another --out or delete the directory",
                out.display()
            );
        }
    }
    let data = load_dataset(cfg)?;
    if !config_path.exists() {
        // Pinned only once the data loaded, so that a failed start leaves nothing to conflict with.
        write_atomic(&config_path, serde_json::to_string_pretty(cfg)?.as_bytes())?;
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
        paths: Paths {
            root: out.to_path_buf(),
        },
        device,
        data,
        samples,
        original: None,
        original_weights: None,
        embeddings: None,
        bars: MultiProgress::new(),
    };
    let work = plan::work_order(cfg);
    let overall = run.bars.add(ProgressBar::new(work.len() as u64));
    overall.set_style(
        ProgressStyle::with_template("model {pos}/{len} {msg} [{elapsed_precise}, ETA {eta}]")
            .expect("valid template"),
    );
    let started = Instant::now();
    let mut made = 0usize;
    for spec in &work {
        let path = run.paths.model(&spec.name);
        if path.exists() {
            overall.inc(1);
            continue;
        }
        if max_models.is_some_and(|m| made >= m) {
            overall.abandon_with_message("stopped (--max-models)");
            eprintln!("stopped after {made} models (--max-models); rerun to continue");
            return Ok(());
        }
        overall.set_message(spec.name.clone());
        let model = run
            .make(spec)
            .with_context(|| format!("making model {}", spec.name))?;
        let bytes = snapshot::encode(&run.snapshot(vec![model]))?;
        write_atomic(&path, &bytes)?;
        made += 1;
        overall.inc(1);
    }
    overall.finish_and_clear();
    let models = plan::table_order(cfg)
        .iter()
        .map(|spec| {
            let path = run.paths.model(&spec.name);
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let mut s = snapshot::decode(&path.display().to_string(), &bytes)?;
            Ok(s.models.remove(0))
        })
        .collect::<Result<Vec<_>>>()?;
    outputs::write_all(&run, models, made, started.elapsed().as_secs_f64())
}
