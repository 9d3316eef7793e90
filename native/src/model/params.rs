//! A network's parameters and what each one is. A layer records a parameter's [`Role`] and
//! [`Init`] when it creates it; initialisation, weight decay, pruning, quantization, the weight
//! histograms and weight similarity then ask the role, never the name.

use anyhow::Result;
use candle_core::{DType, Device, Shape, Tensor, Var};
use candle_nn::VarMap;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// What a parameter is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A convolution or linear weight (a filter bank or a matrix that multiplies the input):
    /// trained with weight decay, and what compression, the weight histograms and weight
    /// similarity cover.
    Weight,
    /// A bias added after a convolution or linear layer: trained with weight decay (as
    /// PyTorch's SGD applies it to every parameter it is given), not compressed.
    Bias,
    /// A normalisation layer's scale or shift (BatchNorm, LayerNorm): trained without weight
    /// decay, not compressed.
    Norm,
    /// A learned vector added to or put beside the activations (a position embedding, a class
    /// token): trained without weight decay, not compressed.
    Embedding,
    /// A running statistic (BatchNorm's mean and variance): updated by forward passes in
    /// training mode, never by the optimizer.
    RunningStatistic,
}

impl Role {
    /// Whether the optimizer updates it.
    pub fn trained(self) -> bool {
        self != Role::RunningStatistic
    }

    /// Whether weight decay applies to it.
    pub fn decays(self) -> bool {
        matches!(self, Role::Weight | Role::Bias)
    }
}

/// How a parameter is initialised ([`super::initialise`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// Every value `c`.
    Constant(f32),
    /// Kaiming normal, fan-out mode, ReLU gain: `N(0, 2 / fan_out)` with
    /// `fan_out = dims[0] · Π dims[2..]` (torchvision's ResNet convolutions).
    KaimingNormalFanOut,
    /// Uniform in `[−b, b)` (PyTorch's `Linear` default with `b = 1/sqrt(fan_in)`).
    Uniform(f32),
    /// `N(0, σ²)` (the Vision Transformer's linear layers and embeddings, σ = 0.02).
    Normal(f32),
}

/// One parameter as its layer declared it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParamSpec {
    pub role: Role,
    pub init: Init,
}

/// One parameter: its full name, variable and declaration.
#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub var: Var,
    pub spec: ParamSpec,
}

/// The parameters of one network and a path into them: the builder layers create their
/// parameters with (as candle's `VarBuilder`), recording each one's [`ParamSpec`].
#[derive(Clone)]
pub struct Params {
    varmap: VarMap,
    specs: Arc<Mutex<BTreeMap<String, ParamSpec>>>,
    prefix: String,
    device: Device,
}

impl Params {
    /// No parameters yet, created on `device`.
    pub fn new(device: &Device) -> Self {
        Params {
            varmap: VarMap::new(),
            specs: Arc::default(),
            prefix: String::new(),
            device: device.clone(),
        }
    }

    /// The same parameters under `prefix.name` (torchvision's dotted names).
    pub fn pp(&self, name: impl std::fmt::Display) -> Self {
        let prefix = if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        };
        Params {
            prefix,
            ..self.clone()
        }
    }

    /// Creates the f32 parameter `name` (under this path) of `shape`, with its role and
    /// initialisation; its values are set by [`super::initialise`] or a checkpoint.
    pub fn get(
        &self,
        shape: impl Into<Shape>,
        name: &str,
        role: Role,
        init: Init,
    ) -> Result<Tensor> {
        let full = self.pp(name).prefix;
        let t = self.varmap.get(
            shape,
            &full,
            candle_nn::Init::Const(0.0),
            DType::F32,
            &self.device,
        )?;
        self.specs
            .lock()
            .expect("parameter specs lock")
            .insert(full, ParamSpec { role, init });
        Ok(t)
    }

    /// The device parameters are created on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The variables, as candle's map (for loading and saving checkpoints).
    pub fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    /// Every parameter, sorted by name.
    pub fn all(&self) -> Vec<Param> {
        let specs = self.specs.lock().expect("parameter specs lock");
        let vars = self.varmap.data().lock().expect("varmap lock");
        specs
            .iter()
            .map(|(name, spec)| Param {
                name: name.clone(),
                var: vars[name].clone(),
                spec: *spec,
            })
            .collect()
    }

    /// The variables, mutable (for loading a checkpoint into them).
    pub fn varmap_mut(&mut self) -> &mut VarMap {
        &mut self.varmap
    }

    /// The parameters of `role`, sorted by name.
    pub fn with_role(&self, role: Role) -> Vec<Param> {
        self.all()
            .into_iter()
            .filter(|p| p.spec.role == role)
            .collect()
    }
}
