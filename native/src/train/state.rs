//! A training run stopped at a step boundary, and its file (the mid-training checkpoint).
//!
//! The file is safetensors: every variable of the network as `net/<name>` (running statistics
//! included), the optimizer's state as `opt/<name>` ([`super::Optimizer::state`]) and this
//! epoch's shuffled order as `train/order`; its metadata holds the epoch, the steps done in it,
//! the positions of the shuffling and augmentation random streams, the epoch's loss and accuracy
//! sums (the loss as the bits of its f64, so that it round-trips exactly), and the caller's tags
//! (which model, which settings), which must match for the file to be used. Continuing from it
//! computes the same bits as a run that was never stopped.

use crate::model::Network;
use crate::output_file::write_atomic;
use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The value of the metadata key `format`.
const FORMAT: &str = "reps mid-training checkpoint 1";

/// Where a stopped training run stands: enough to continue it exactly.
pub struct TrainState {
    /// The epoch in progress (0-based).
    pub epoch: usize,
    /// Steps done in that epoch.
    pub batch: usize,
    /// Steps done in all (`epoch · steps per epoch + batch`).
    pub step: usize,
    /// The epoch's order of the training subset.
    pub(super) order: Vec<usize>,
    pub(super) shuffle_position: u128,
    pub(super) augment_position: u128,
    pub(super) loss_sum: f64,
    pub(super) correct: usize,
    pub(super) count: usize,
    pub(super) optimizer: Vec<(String, Tensor)>,
}

impl TrainState {
    /// Writes `net`'s variables and this state to `path` (atomically), with `tags`.
    pub fn save(&self, path: &Path, net: &Network, tags: &BTreeMap<String, String>) -> Result<()> {
        let mut tensors: Vec<(String, Tensor)> = {
            let data = net.params.varmap().data().lock().expect("varmap lock");
            data.iter()
                .map(|(k, v)| (format!("net/{k}"), v.as_tensor().clone()))
                .collect()
        };
        tensors.extend(
            self.optimizer
                .iter()
                .map(|(k, t)| (format!("opt/{k}"), t.clone())),
        );
        let order: Vec<u32> = self.order.iter().map(|&i| i as u32).collect();
        let n = order.len();
        tensors.push((
            "train/order".into(),
            Tensor::from_vec(order, n, &Device::Cpu)?,
        ));
        let mut meta: HashMap<String, String> = tags.clone().into_iter().collect();
        for (k, v) in [
            ("format", FORMAT.to_string()),
            ("epoch", self.epoch.to_string()),
            ("batch", self.batch.to_string()),
            ("step", self.step.to_string()),
            ("shuffle_position", self.shuffle_position.to_string()),
            ("augment_position", self.augment_position.to_string()),
            ("loss_sum_bits", format!("{:016x}", self.loss_sum.to_bits())),
            ("correct", self.correct.to_string()),
            ("count", self.count.to_string()),
        ] {
            meta.insert(k.into(), v);
        }
        let bytes = safetensors::tensor::serialize(tensors.iter().map(|(k, t)| (k, t)), Some(meta))
            .with_context(|| format!("cannot encode {}", path.display()))?;
        write_atomic(path, &bytes)
    }

    /// Reads `path` into `net`'s variables and returns the state; `Ok(None)` when there is no
    /// such file. A file that cannot be read, whose tags differ from `tags` or that does not fit
    /// `net` is an error saying so (`net` is then unchanged unless the file's tensors were
    /// being set).
    pub fn load(
        path: &Path,
        net: &Network,
        tags: &BTreeMap<String, String>,
    ) -> Result<Option<Self>> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes)
            .with_context(|| format!("{}: not a safetensors file", path.display()))?;
        let meta = header.metadata().clone().unwrap_or_default();
        let get = |k: &str| {
            meta.get(k)
                .with_context(|| format!("{}: no '{k}' in its metadata", path.display()))
        };
        if get("format")? != FORMAT {
            bail!("{}: not a mid-training checkpoint", path.display());
        }
        for (k, v) in tags {
            if get(k)? != v {
                bail!("{}: made for {k} {}, not {v}", path.display(), get(k)?);
            }
        }
        let number = |k: &str| -> Result<u128> {
            get(k)?
                .parse()
                .with_context(|| format!("{}: '{k}' is not a number", path.display()))
        };
        let loss_bits = u64::from_str_radix(get("loss_sum_bits")?, 16)
            .with_context(|| format!("{}: 'loss_sum_bits' is not hexadecimal", path.display()))?;
        let mut tensors = candle_core::safetensors::load_buffer(&bytes, net.device())
            .with_context(|| format!("cannot read the tensors of {}", path.display()))?;
        let order = tensors
            .remove("train/order")
            .with_context(|| format!("{}: no train/order", path.display()))?
            .to_vec1::<u32>()?
            .into_iter()
            .map(|i| i as usize)
            .collect();
        {
            let data = net.params.varmap().data().lock().expect("varmap lock");
            for (name, var) in data.iter() {
                let t = tensors
                    .remove(&format!("net/{name}"))
                    .with_context(|| format!("{}: no variable {name}", path.display()))?;
                var.set(&t)
                    .with_context(|| format!("{}: variable {name}", path.display()))?;
            }
        }
        let optimizer = tensors
            .into_iter()
            .filter_map(|(k, t)| Some((k.strip_prefix("opt/")?.to_string(), t)))
            .collect();
        Ok(Some(TrainState {
            epoch: number("epoch")? as usize,
            batch: number("batch")? as usize,
            step: number("step")? as usize,
            order,
            shuffle_position: number("shuffle_position")?,
            augment_position: number("augment_position")?,
            loss_sum: f64::from_bits(loss_bits),
            correct: number("correct")? as usize,
            count: number("count")? as usize,
            optimizer,
        }))
    }
}
