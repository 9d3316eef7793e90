//! The settings of a sweep: presets, flag overrides, validation, and the file that pins them.

use crate::compress::coreset::CoresetMethod;
use crate::compress::quantize::QuantMode;
use crate::train::Schedule;
use anyhow::{bail, Result};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};
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
    /// The paper: CIFAR-10, width 64, 50 epochs, batch 128, lr 0.1, seed 42, N = 200.
    Paper,
}

/// Every setting of a sweep. Stored as `config.json` in the output directory: a rerun with other
/// settings into the same directory is refused rather than mixed with finished models.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepConfig {
    pub preset: Preset,
    pub dataset: DatasetChoice,
    pub data_dir: Option<PathBuf>,
    pub width: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub momentum: f64,
    pub weight_decay: f64,
    pub schedule: Schedule,
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
    pub fractions: Vec<f64>,
    pub ratios: Vec<f64>,
    pub bits: Vec<u32>,
}

/// Evaluation, embedding and extraction run in batches of this many images.
pub const EVAL_BATCH: usize = 250;

/// The paper's coreset fractions.
pub const FRACTIONS: [f64; 8] = [0.8, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.01];
/// The paper's pruning ratios.
pub const RATIOS: [f64; 8] = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9];
/// The paper's bit widths.
pub const BITS: [u32; 8] = [8, 7, 6, 5, 4, 3, 2, 1];

impl SweepConfig {
    /// The settings of a preset.
    pub fn preset(p: Preset) -> Self {
        let common = SweepConfig {
            preset: p,
            dataset: DatasetChoice::Synthetic,
            data_dir: None,
            width: 64,
            epochs: 50,
            batch_size: 128,
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 5e-4,
            schedule: Schedule::Cosine,
            seed: 42,
            train_size: None,
            test_size: None,
            samples: 200,
            coreset: CoresetMethod::Craig,
            quant_mode: QuantMode::PerTensor,
            no_pool: false,
            fractions: FRACTIONS.to_vec(),
            ratios: RATIOS.to_vec(),
            bits: BITS.to_vec(),
        };
        match p {
            Preset::Paper => SweepConfig {
                dataset: DatasetChoice::Cifar10,
                ..common
            },
            Preset::Quick => SweepConfig {
                width: 16,
                epochs: 5,
                batch_size: 64,
                lr: 0.05,
                train_size: Some(2000),
                test_size: Some(1000),
                ..common
            },
        }
    }

    /// Checks every value, naming the flag of a bad one.
    pub fn validate(&self) -> Result<()> {
        if self.width == 0 {
            bail!("--width must be at least 1");
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
        if let Some(f) = self.fractions.iter().find(|f| !(**f > 0.0 && **f <= 1.0)) {
            bail!("--fractions: {f} is not in (0, 1]");
        }
        if let Some(r) = self.ratios.iter().find(|r| !(0.0..=1.0).contains(*r)) {
            bail!("--ratios: {r} is not in [0, 1]");
        }
        if let Some(b) = self.bits.iter().find(|b| !(1..=16).contains(*b)) {
            bail!("--bits: {b} is not in 1..=16");
        }
        let bits: Vec<f64> = self.bits.iter().map(|&b| b as f64).collect();
        for (flag, grid) in [
            ("fractions", &self.fractions),
            ("ratios", &self.ratios),
            ("bits", &bits),
        ] {
            if let Some((i, v)) = grid
                .iter()
                .enumerate()
                .find(|(i, v)| grid[..*i].contains(v))
            {
                bail!(
                    "--{flag}: {v} is given twice (positions {} and {}); each value makes one model",
                    grid.iter().position(|x| x == v).expect("found") + 1,
                    i + 1
                );
            }
        }
        if self.dataset == DatasetChoice::Cifar10 && self.data_dir.is_none() {
            bail!("--dataset cifar10 needs --data-dir DIR holding data_batch_1.bin … data_batch_5.bin and test_batch.bin");
        }
        Ok(())
    }

    /// A rough upper bound of what training needs, in bytes: the CIFAR ResNet-18's weights
    /// (about 11.2 million at width 64, growing with width²) four times over (weights, gradients,
    /// momentum, the model being derived), and a batch's activations kept for the backward pass
    /// (about 40,000 · width floats per 32 × 32 image, im2col buffers included).
    pub fn training_memory_estimate(&self) -> u64 {
        let w = self.width as f64;
        let parameters = 11.2e6 * (w / 64.0).powi(2);
        let activations = 40_000.0 * w * self.batch_size.max(EVAL_BATCH) as f64;
        ((4.0 * parameters + activations) * 4.0).min(u64::MAX as f64) as u64
    }

    /// Refuses settings whose [`SweepConfig::training_memory_estimate`] exceeds `budget` bytes,
    /// naming the flags that set it, instead of letting an allocation abort the process.
    pub fn check_memory(&self, budget: u64) -> Result<()> {
        let need = self.training_memory_estimate();
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
        a.iter().find(|(k, v)| b.get(*k) != Some(v)).map(|(k, v)| {
            (
                k.replace('_', "-"),
                v.to_string(),
                b.get(k).map(|x| x.to_string()).unwrap_or_default(),
            )
        })
    }
}
