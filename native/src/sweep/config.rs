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
        if self.dataset == DatasetChoice::Cifar10 && self.data_dir.is_none() {
            bail!("--dataset cifar10 needs --data-dir DIR holding data_batch_1.bin … data_batch_5.bin and test_batch.bin");
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
