//! SGD with momentum and (decoupled from BatchNorm) weight decay, as PyTorch's `torch.optim.SGD`:
//! `g ← ∇ + wd·w` (weights only), `b ← μ b + g` (b = g at the first step), `w ← w − lr·b`.

use super::Optimizer;
use anyhow::Result;
use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

/// The optimiser state.
pub struct Sgd {
    params: Vec<(Var, bool)>,
    buffers: Vec<Option<Tensor>>,
    momentum: f64,
    weight_decay: f64,
}

impl Sgd {
    /// `params`: (name, variable, whether weight decay applies).
    pub fn new(params: Vec<(String, Var, bool)>, momentum: f64, weight_decay: f64) -> Self {
        let buffers = vec![None; params.len()];
        Sgd {
            params: params.into_iter().map(|(_, v, d)| (v, d)).collect(),
            buffers,
            momentum,
            weight_decay,
        }
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, grads: &GradStore, lr: f64) -> Result<()> {
        for ((var, decay), buf) in self.params.iter().zip(self.buffers.iter_mut()) {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            let w = var.as_tensor().detach();
            let g = if *decay && self.weight_decay > 0.0 {
                (g + (&w * self.weight_decay)?)?
            } else {
                g.clone()
            };
            let b = match buf.take() {
                Some(b) => ((b * self.momentum)? + g)?,
                None => g,
            };
            var.set(&(w - (&b * lr)?)?)?;
            *buf = Some(b.detach());
        }
        Ok(())
    }
}
