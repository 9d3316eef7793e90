//! The settings of a sweep: presets, flag overrides, validation, and the file that pins them.

use crate::compress::coreset::CoresetMethod;
use crate::compress::quantize::QuantMode;
use crate::compress::{self, CompressionMethod, MethodSettings, PAPER_METHODS};
use crate::model::arch::{self, Architecture, Hyper};
use crate::model::Kernels;
use crate::train::{OptimizerKind, Schedule, TrainConfig};
use anyhow::{bail, Result};
use clap::ValueEnum;
use reps::repeats::first_repeat;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Which images to train on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
pub enum DatasetChoice {
    /// The embedded, generated dataset (no download).
    Synthetic,
    /// CIFAR-10 binary batches from --data-dir.
    Cifar10,
}

/// Named starting points for every setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
pub enum Preset {
    /// Synthetic data, CPU-sized: the whole 25-model sweep in a few minutes on 2 cores.
    Quick,
    /// The paper: CIFAR-10, 50 epochs, batch 128, seed 42, N = 200 (ResNet-18: width 64, lr 0.1).
    Paper,
}

/// Every setting of a sweep. Stored as `config.json` in the output directory: a rerun with other
/// settings into the same directory is refused rather than mixed with finished models.
///
/// Settings added after the first version are left out of `config.json` while they have their
/// default (a ResNet-18 trained with SGD, the paper's three methods), so that directories made
/// before them stay resumable; the paper's three grids keep their own fields for the same reason.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepConfig {
    pub preset: Preset,
    /// The architecture (a name in [`arch::ARCHITECTURES`]).
    #[serde(default = "default_arch", skip_serializing_if = "is_default_arch")]
    pub arch: String,
    pub dataset: DatasetChoice,
    pub data_dir: Option<PathBuf>,
    pub width: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub momentum: f64,
    pub weight_decay: f64,
    pub schedule: Schedule,
    #[serde(default, skip_serializing_if = "is_default")]
    pub optimizer: OptimizerKind,
    /// Epochs of linear learning-rate warm-up before the schedule.
    #[serde(default, skip_serializing_if = "is_default")]
    pub warmup_epochs: usize,
    pub seed: u64,
    /// Training images used (the first ones); `None` for all.
    pub train_size: Option<usize>,
    /// Test images used for accuracy (the first ones); `None` for all.
    pub test_size: Option<usize>,
    /// N: class-balanced test images whose activations are analysed.
    pub samples: usize,
    pub coreset: CoresetMethod,
    pub quant_mode: QuantMode,
    /// Keep conv1 and the stage outputs as full feature maps instead of pooling them.
    pub no_pool: bool,
    /// The `coreset` method's grid.
    pub fractions: Vec<f64>,
    /// The `prune` method's grid.
    pub ratios: Vec<f64>,
    /// The `quant` method's grid.
    pub bits: Vec<u32>,
    /// The compression methods (names in [`compress::METHODS`], in its order).
    #[serde(default = "paper_methods", skip_serializing_if = "is_paper_methods")]
    pub methods: Vec<String>,
    /// The grids of the selected methods other than the paper's three (`--grid`, the name a
    /// refusal of other settings gives).
    #[serde(default, rename = "grid", skip_serializing_if = "BTreeMap::is_empty")]
    pub grids: BTreeMap<String, Vec<f64>>,
    /// How convolutions and BatchNorm are computed; `None`: the faster on the device. Results
    /// agree to rounding, so it is not pinned.
    #[serde(skip)]
    pub kernels: Option<Kernels>,
}

fn default_arch() -> String {
    arch::ARCHITECTURES[0].name.to_string()
}

fn is_default_arch(a: &str) -> bool {
    a == arch::ARCHITECTURES[0].name
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

fn paper_methods() -> Vec<String> {
    PAPER_METHODS.iter().map(|s| s.to_string()).collect()
}

fn is_paper_methods(m: &[String]) -> bool {
    m == paper_methods()
}

/// Evaluation, embedding and extraction run in batches of this many images.
pub const EVAL_BATCH: usize = 250;

/// The flag that sets a method's grid.
fn grid_flag(method: &str) -> String {
    match method {
        "coreset" => "--fractions".into(),
        "prune" => "--ratios".into(),
        "quant" => "--bits".into(),
        other => format!("--grid {other}"),
    }
}

impl SweepConfig {
    /// The settings of a preset for the default architecture.
    #[cfg(test)]
    pub fn preset(p: Preset) -> Self {
        Self::preset_for(p, &arch::ARCHITECTURES[0])
    }

    /// The settings of a preset for `arch` (its width and training hyper-parameters).
    pub fn preset_for(p: Preset, arch: &Architecture) -> Self {
        let h: Hyper = match p {
            Preset::Quick => arch.quick,
            Preset::Paper => arch.paper,
        };
        let (dataset, train_size, test_size) = match p {
            Preset::Quick => (DatasetChoice::Synthetic, Some(2000), Some(1000)),
            Preset::Paper => (DatasetChoice::Cifar10, None, None),
        };
        let grid = |name: &str| compress::find(name).expect("a paper method").grid.to_vec();
        SweepConfig {
            preset: p,
            arch: arch.name.to_string(),
            dataset,
            data_dir: None,
            width: h.width,
            epochs: h.epochs,
            batch_size: h.batch_size,
            lr: h.lr,
            momentum: 0.9,
            weight_decay: h.weight_decay,
            schedule: Schedule::Cosine,
            optimizer: h.optimizer,
            warmup_epochs: h.warmup_epochs,
            seed: 42,
            train_size,
            test_size,
            samples: 200,
            coreset: CoresetMethod::Craig,
            quant_mode: QuantMode::PerTensor,
            no_pool: false,
            fractions: grid("coreset"),
            ratios: grid("prune"),
            bits: grid("quant").iter().map(|&b| b as u32).collect(),
            methods: paper_methods(),
            grids: BTreeMap::new(),
            kernels: None,
        }
    }

    /// The architecture (validated: one of [`arch::ARCHITECTURES`]).
    pub fn architecture(&self) -> Result<&'static Architecture> {
        arch::find(&self.arch).ok_or_else(|| {
            anyhow::anyhow!(
                "--arch: unknown architecture '{}' (known: {})",
                self.arch,
                arch::names().join(", ")
            )
        })
    }

    /// The selected methods, in table order.
    pub fn selected_methods(&self) -> Vec<&'static CompressionMethod> {
        compress::METHODS
            .iter()
            .filter(|m| self.methods.iter().any(|n| n == m.name))
            .collect()
    }

    /// The values of `method`'s parameter, one model each.
    pub fn grid(&self, method: &CompressionMethod) -> Vec<f64> {
        match method.name {
            "coreset" => self.fractions.clone(),
            "prune" => self.ratios.clone(),
            "quant" => self.bits.iter().map(|&b| b as f64).collect(),
            name => self
                .grids
                .get(name)
                .cloned()
                .unwrap_or_else(|| method.grid.to_vec()),
        }
    }

    /// Sets `method`'s grid (the paper's three in their own fields), refusing a value the
    /// method does not take.
    pub fn set_grid(&mut self, method: &CompressionMethod, values: Vec<f64>) -> Result<()> {
        if let Some(why) = values.iter().find_map(|v| (method.check)(*v)) {
            bail!("--grid {}: {why}", method.name);
        }
        match method.name {
            "coreset" => self.fractions = values,
            "prune" => self.ratios = values,
            "quant" => self.bits = values.iter().map(|&b| b as u32).collect(),
            name => {
                self.grids.insert(name.to_string(), values);
            }
        }
        Ok(())
    }

    /// Selects `names` (or every method for `all`), in table order, and pins the default grid
    /// of every selected method that has none yet.
    pub fn select_methods(&mut self, names: &[String]) -> Result<()> {
        let all = names.iter().any(|n| n == "all");
        for n in names.iter().filter(|n| *n != "all") {
            if compress::find(n).is_none() {
                bail!(
                    "--methods: unknown method '{n}' (known: {}, or all)",
                    compress::names().join(", ")
                );
            }
        }
        self.methods = compress::METHODS
            .iter()
            .filter(|m| all || names.iter().any(|n| n == m.name))
            .map(|m| m.name.to_string())
            .collect();
        self.grids
            .retain(|k, _| names.iter().any(|n| n == k) || all);
        for m in self.selected_methods() {
            if !PAPER_METHODS.contains(&m.name) && !self.grids.contains_key(m.name) {
                self.grids.insert(m.name.to_string(), m.grid.to_vec());
            }
        }
        Ok(())
    }

    /// The settings methods read.
    pub fn method_settings(&self) -> MethodSettings {
        MethodSettings {
            coreset: self.coreset,
            quant_mode: self.quant_mode,
            seed: self.seed,
        }
    }

    /// The hyper-parameters of every training run.
    pub fn train_config(&self) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs,
            batch_size: self.batch_size,
            lr: self.lr,
            momentum: self.momentum,
            weight_decay: self.weight_decay,
            schedule: self.schedule,
            optimizer: self.optimizer,
            warmup_epochs: self.warmup_epochs,
            seed: self.seed,
        }
    }

    /// Checks every value, naming the flag of a bad one.
    pub fn validate(&self) -> Result<()> {
        let arch = self.architecture()?;
        if self.width == 0 {
            bail!("--width must be at least 1");
        }
        if let Some(why) = (arch.check_width)(self.width) {
            bail!("--width for {}: {why}", arch.name);
        }
        if self.epochs == 0 {
            bail!("--epochs must be at least 1");
        }
        if self.batch_size < 2 {
            bail!("--batch-size must be at least 2 (BatchNorm needs two images per batch)");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            bail!("--lr must be a positive number, got {}", self.lr);
        }
        if !(0.0..1.0).contains(&self.momentum) {
            bail!("--momentum must be in [0, 1), got {}", self.momentum);
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            bail!("--weight-decay must be ≥ 0, got {}", self.weight_decay);
        }
        if self.samples < 2 {
            bail!("--samples must be at least 2");
        }
        if self.train_size == Some(0) || self.test_size == Some(0) {
            bail!("--train-size and --test-size must be at least 1");
        }
        if self.methods.is_empty() {
            bail!("--methods: no method selected");
        }
        for name in self.grids.keys() {
            if !self.methods.contains(name) {
                bail!(
                    "--grid {name}: {name} is not among --methods ({})",
                    self.methods.join(",")
                );
            }
        }
        for method in compress::METHODS {
            let (flag, grid) = (grid_flag(method.name), self.grid(method));
            if let Some(why) = grid.iter().find_map(|v| (method.check)(*v)) {
                bail!("{flag}: {why}");
            }
            if grid.is_empty() && self.methods.iter().any(|n| n == method.name) {
                bail!("{flag}: no values");
            }
            if let Some((first, again)) = first_repeat(&grid) {
                bail!(
                    "{flag}: {} is given twice (positions {} and {}); each value makes one model",
                    grid[again],
                    first + 1,
                    again + 1
                );
            }
        }
        if self.dataset == DatasetChoice::Cifar10 && self.data_dir.is_none() {
            bail!("--dataset cifar10 needs --data-dir DIR holding data_batch_1.bin … data_batch_5.bin and test_batch.bin");
        }
        Ok(())
    }

    /// A rough upper bound of what training needs, in bytes (the architecture's estimate for
    /// the width and the larger of the training and evaluation batches).
    pub fn training_memory_estimate(&self) -> Result<u64> {
        let arch = self.architecture()?;
        let bytes = (arch.training_memory)(self.width, self.batch_size.max(EVAL_BATCH));
        Ok(bytes.min(u64::MAX as f64) as u64)
    }

    /// Refuses settings whose [`SweepConfig::training_memory_estimate`] exceeds `budget` bytes,
    /// naming the flags that set it, instead of letting an allocation abort the process.
    pub fn check_memory(&self, budget: u64) -> Result<()> {
        let need = self.training_memory_estimate()?;
        if need > budget {
            bail!(
                "--width {} with --batch-size {} needs about {} to train, more than the memory budget of {} (--max-memory); choose a smaller width or batch",
                self.width,
                self.batch_size,
                reps::formats::human_bytes(need),
                reps::formats::human_bytes(budget)
            );
        }
        Ok(())
    }

    /// The first setting that differs from `other`, as (name, this, other), for messages.
    pub fn first_difference(&self, other: &SweepConfig) -> Option<(String, String, String)> {
        let a = serde_json::to_value(self).ok()?;
        let b = serde_json::to_value(other).ok()?;
        let (a, b) = (a.as_object()?, b.as_object()?);
        // A setting at its default is left out of the stored form: name it so.
        let shown = |v: Option<&serde_json::Value>| {
            v.map_or_else(|| "the default".to_string(), |x| x.to_string())
        };
        a.keys()
            .chain(b.keys().filter(|k| !a.contains_key(*k)))
            .find(|k| a.get(*k) != b.get(*k))
            .map(|k| (k.replace('_', "-"), shown(a.get(k)), shown(b.get(k))))
    }
}
