//! The sweep a search starts from: its settings, its dataset and its original model, checked
//! before any work.

use crate::data::{balanced_test_indices, Dataset};
use crate::model::{Architecture, Kernels, NetConfig, Network};
use crate::sweep::config::SweepConfig;
use crate::sweep::manifest::{path_of, Manifest};
use crate::sweep::{load_dataset, Paths};
use anyhow::{bail, Context, Result};
use candle_core::Device;
use std::path::{Path, PathBuf};

/// A finished sweep's original model and what it was made with.
pub struct Source {
    pub dir: PathBuf,
    pub cfg: SweepConfig,
    pub arch: &'static Architecture,
    pub data: Dataset,
    pub net_config: NetConfig,
    /// The original's checkpoint, as recorded in the sweep's manifest.
    pub checkpoint: PathBuf,
    /// The test images the sweep analyses (its snapshot's samples).
    pub samples: Vec<usize>,
}

impl Source {
    /// The sweep in `dir`: refused unless its manifest exists and its original's checkpoint
    /// still has the recorded content.
    pub fn open(dir: &Path, device: &Device) -> Result<Self> {
        let manifest = Manifest::read(dir)?.with_context(|| {
            format!(
                "{}: no manifest.json: not a sweep directory (one that native train-sweep --out wrote)",
                dir.display()
            )
        })?;
        let relative = Paths::checkpoint("original");
        if let Err(why) = manifest.verified(dir, &relative) {
            bail!(
                "{}: {}: the sweep's original model is not finished (run its train-sweep first)",
                path_of(dir, &relative).display(),
                why.reason()
            );
        }
        let cfg = manifest.settings;
        let arch = cfg.architecture()?;
        let data = load_dataset(&cfg)
            .with_context(|| format!("{}: the sweep's dataset", dir.display()))?;
        let classes = data.class_names.len();
        let samples = balanced_test_indices(&data.test, cfg.samples, classes);
        Ok(Source {
            dir: dir.to_path_buf(),
            net_config: NetConfig {
                width: cfg.width,
                classes,
                kernels: cfg.kernels.unwrap_or_else(|| Kernels::for_device(device)),
            },
            arch,
            data,
            checkpoint: path_of(dir, &relative),
            samples,
            cfg,
        })
    }

    /// A fresh copy of the original network.
    pub fn original(&self, device: &Device) -> Result<Network> {
        Network::load(&self.checkpoint, self.arch, &self.net_config, device)
    }

    /// `n` training images for calibration: the first `n` of a permutation of the training set
    /// drawn from the sweep's seed (the same images on every run).
    pub fn calibration(&self, n: usize) -> Result<Vec<usize>> {
        let total = self.data.train.len();
        if n < 4 || n > total {
            bail!("--calibration {n}: must be between 4 and the sweep's {total} training images");
        }
        let mut order: Vec<usize> = (0..total).collect();
        reps::stats::Resampler::new(self.cfg.seed, CALIBRATION_STREAM).shuffle(&mut order);
        order.truncate(n);
        Ok(order)
    }
}

/// The random stream of the calibration images (apart from every other use of the seed).
const CALIBRATION_STREAM: u64 = 0x5ea7c4;
