//! Making the models of a sweep: the original trained, every other model trained on a coreset
//! or derived from the original's weights, each evaluated and its activations extracted.

use super::config::{SweepConfig, EVAL_BATCH};
use super::extract;
use super::manifest;
use super::plan::ModelSpec;
use super::{Interrupted, Paths};
use crate::compress::{Make, SubsetInput};
use crate::data::Dataset;
use crate::interrupt;
use crate::model::{Architecture, Captured, Kernels, NetConfig, Network};
use crate::test_hooks;
use crate::train::{train, Subset, TrainOutcome, TrainState};
use anyhow::{Context, Result};
use candle_core::Device;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use reps::formats::snapshot::{Snapshot, SnapshotModel};
use std::collections::BTreeMap;
use std::time::Instant;

/// State shared by the models of one run.
pub(super) struct Run<'a> {
    pub(super) cfg: &'a SweepConfig,
    pub(super) arch: &'static Architecture,
    pub(super) paths: Paths,
    pub(super) device: Device,
    pub(super) data: Dataset,
    pub(super) samples: Vec<usize>,
    pub(super) original: Option<Network>,
    pub(super) original_weights: Option<Vec<f32>>,
    pub(super) embeddings: Option<(Vec<f32>, usize)>,
    pub(super) bars: MultiProgress,
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
        let (hook, delay) = (test_hooks::signal_at(name), test_hooks::step_delay());
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
    pub(super) fn make(&mut self, spec: &ModelSpec) -> Result<(SnapshotModel, Vec<u8>)> {
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
    pub(super) fn snapshot(&self, models: Vec<SnapshotModel>) -> Snapshot {
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
