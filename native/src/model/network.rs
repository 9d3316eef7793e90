//! A built network together with its parameters: creation, checkpoints, and the groups of
//! parameters that training and compression treat differently (by role).

use super::arch::{Architecture, Model, NetConfig};
use super::initialise;
use super::params::{Params, Role};
use crate::output_file::write_atomic;
use anyhow::{Context, Result};
use candle_core::{Device, Tensor, Var};
use std::path::Path;

/// One conv or linear weight tensor on the host.
#[derive(Clone, Debug)]
pub struct WeightTensor {
    pub name: String,
    pub values: Vec<f32>,
    pub dims: Vec<usize>,
}

/// A model and the parameters it reads.
pub struct Network {
    pub params: Params,
    pub model: Box<dyn Model>,
    pub arch: &'static Architecture,
}

impl Network {
    /// A freshly built `arch` network of shape `cfg`, initialised from `seed` ([`initialise`]).
    pub fn new(
        arch: &'static Architecture,
        cfg: &NetConfig,
        seed: u64,
        device: &Device,
    ) -> Result<Self> {
        let net = Self::build(arch, cfg, device)?;
        initialise(&net.params, seed)?;
        Ok(net)
    }

    /// The layers of `arch`, their parameters created but not yet given values.
    fn build(arch: &'static Architecture, cfg: &NetConfig, device: &Device) -> Result<Self> {
        let params = Params::new(device);
        let model = (arch.build)(cfg, &params)?;
        Ok(Network {
            params,
            model,
            arch,
        })
    }

    /// The device its parameters live on.
    pub fn device(&self) -> &Device {
        self.params.device()
    }

    /// A network with the weights of a checkpoint.
    pub fn load(
        path: &Path,
        arch: &'static Architecture,
        cfg: &NetConfig,
        device: &Device,
    ) -> Result<Self> {
        let mut net = Self::build(arch, cfg, device)?;
        net.params
            .varmap_mut()
            .load(path)
            .with_context(|| format!("cannot load checkpoint {}", path.display()))?;
        Ok(net)
    }

    /// The variables as safetensors bytes (the bytes `VarMap::save` writes).
    pub fn checkpoint_bytes(&self) -> Result<Vec<u8>> {
        let data = self.params.varmap().data().lock().expect("varmap lock");
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

    /// The parameters the optimizer updates, sorted by name, with whether weight decay applies
    /// ([`Role::trained`], [`Role::decays`]).
    pub fn trainable(&self) -> Vec<(String, Var, bool)> {
        self.params
            .all()
            .into_iter()
            .filter(|p| p.spec.role.trained())
            .map(|p| (p.name, p.var, p.spec.role.decays()))
            .collect()
    }

    /// The [`Role::Weight`] parameters (what compression, the weight histograms and weight
    /// similarity cover), sorted by name, as host vectors.
    pub fn weights(&self) -> Result<Vec<WeightTensor>> {
        self.params
            .with_role(Role::Weight)
            .into_iter()
            .map(|p| {
                Ok(WeightTensor {
                    dims: p.var.dims().to_vec(),
                    values: p.var.as_tensor().flatten_all()?.to_vec1::<f32>()?,
                    name: p.name,
                })
            })
            .collect()
    }

    /// Replaces the named weights with host values of the same shapes.
    pub fn set_weights(&self, weights: &[WeightTensor]) -> Result<()> {
        let data = self.params.varmap().data().lock().expect("varmap lock");
        for w in weights {
            let var = data
                .get(&w.name)
                .with_context(|| format!("no variable {}", w.name))?;
            var.set(&Tensor::from_vec(
                w.values.clone(),
                w.dims.as_slice(),
                self.device(),
            )?)?;
        }
        Ok(())
    }

    /// All weights concatenated in name order.
    pub fn flat_weights(&self) -> Result<Vec<f32>> {
        Ok(self.weights()?.into_iter().flat_map(|w| w.values).collect())
    }
}

#[cfg(test)]
impl Network {
    /// An untrained network `arch` of width `width`, 10 classes, initialised from `seed`, on the
    /// CPU with its default kernels (for tests).
    pub fn untrained(arch: &str, width: usize, seed: u64) -> Network {
        let device = Device::Cpu;
        let arch = super::arch::find(arch).expect("a registered architecture");
        let cfg = NetConfig {
            width,
            classes: 10,
            kernels: super::Kernels::for_device(&device),
        };
        Network::new(arch, &cfg, seed, &device).expect("a network")
    }
}
