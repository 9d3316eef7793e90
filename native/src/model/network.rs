//! A ResNet-18 together with its variables: creation, checkpoints, and the groups of parameters
//! that training, pruning and quantization treat differently.

use super::{initialise, ConvPath, ResNet18};
use crate::output_file::write_atomic;
use anyhow::{Context, Result};
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};
use std::path::Path;

/// One conv or linear weight tensor on the host.
#[derive(Clone, Debug)]
pub struct WeightTensor {
    pub name: String,
    pub values: Vec<f32>,
    pub dims: Vec<usize>,
}

/// A model and the variables it reads.
pub struct Network {
    pub varmap: VarMap,
    pub model: ResNet18,
    pub device: Device,
}

/// Whether a variable is a BatchNorm parameter or statistic (torchvision names: `bn1`, `bn2`,
/// `downsample.1`).
pub fn is_batch_norm(name: &str) -> bool {
    name.contains(".bn") || name.starts_with("bn") || name.contains("downsample.1")
}

/// Whether a variable is a conv or linear weight: what pruning, quantization, weight similarity and
/// the weight histograms cover.
pub fn is_weight(name: &str) -> bool {
    !is_batch_norm(name) && name.ends_with(".weight")
}

impl Network {
    /// A freshly initialised network (seeded host RNG), with the faster convolution path for
    /// `device` ([`ConvPath::for_device`]).
    pub fn new(width: usize, classes: usize, seed: u64, device: &Device) -> Result<Self> {
        Self::with_path(width, classes, seed, ConvPath::for_device(device), device)
    }

    /// [`Network::new`] with a chosen convolution implementation.
    pub fn with_path(
        width: usize,
        classes: usize,
        seed: u64,
        path: ConvPath,
        device: &Device,
    ) -> Result<Self> {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, device);
        let model = ResNet18::new(width, classes, path, vb)?;
        initialise(&varmap, seed)?;
        Ok(Network {
            varmap,
            model,
            device: device.clone(),
        })
    }

    /// A network with the weights of a checkpoint.
    pub fn load(path: &Path, width: usize, classes: usize, device: &Device) -> Result<Self> {
        let mut net = Network::new(width, classes, 0, device)?;
        net.varmap
            .load(path)
            .with_context(|| format!("cannot load checkpoint {}", path.display()))?;
        Ok(net)
    }

    /// The variables as safetensors bytes (the bytes `VarMap::save` writes).
    pub fn checkpoint_bytes(&self) -> Result<Vec<u8>> {
        let data = self.varmap.data().lock().expect("varmap lock");
        let tensors = data.iter().map(|(k, v)| (k, v.as_tensor()));
        Ok(safetensors::tensor::serialize(tensors, None)?)
    }

    /// Writes the variables as safetensors (atomically, synced, with the mode of every other
    /// output) and returns the bytes written.
    pub fn save(&self, path: &Path) -> Result<Vec<u8>> {
        let bytes = self.checkpoint_bytes()?;
        write_atomic(path, &bytes)?;
        Ok(bytes)
    }

    /// Variables by name, sorted.
    pub fn named_vars(&self) -> Vec<(String, Var)> {
        let data = self.varmap.data().lock().expect("varmap lock");
        let mut v: Vec<(String, Var)> = data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Trainable variables (everything but BatchNorm running statistics), with whether weight
    /// decay applies (not to BatchNorm parameters).
    pub fn trainable(&self) -> Vec<(String, Var, bool)> {
        self.named_vars()
            .into_iter()
            .filter(|(n, _)| !n.ends_with("running_mean") && !n.ends_with("running_var"))
            .map(|(n, v)| {
                let decay = !is_batch_norm(&n);
                (n, v, decay)
            })
            .collect()
    }

    /// The conv and linear weights, by name, as host vectors.
    pub fn weights(&self) -> Result<Vec<WeightTensor>> {
        self.named_vars()
            .into_iter()
            .filter(|(n, _)| is_weight(n))
            .map(|(name, v)| {
                Ok(WeightTensor {
                    dims: v.dims().to_vec(),
                    values: v.as_tensor().flatten_all()?.to_vec1::<f32>()?,
                    name,
                })
            })
            .collect()
    }

    /// Replaces the named conv/linear weights with host values of the same shapes.
    pub fn set_weights(&self, weights: &[WeightTensor]) -> Result<()> {
        let data = self.varmap.data().lock().expect("varmap lock");
        for w in weights {
            let var = data
                .get(&w.name)
                .with_context(|| format!("no variable {}", w.name))?;
            var.set(&Tensor::from_vec(
                w.values.clone(),
                w.dims.as_slice(),
                &self.device,
            )?)?;
        }
        Ok(())
    }

    /// All conv and linear weights concatenated in name order.
    pub fn flat_weights(&self) -> Result<Vec<f32>> {
        Ok(self.weights()?.into_iter().flat_map(|w| w.values).collect())
    }
}
