//! SGD with momentum and (decoupled from BatchNorm) weight decay, as PyTorch's `torch.optim.SGD`:
//! `g ← ∇ + wd·w` (weights only), `b ← μ b + g` (b = g at the first step), `w ← w − lr·b`.
//!
//! On the CPU each parameter's update is one pass over its values, the parameters in parallel
//! ([`update_fused`]); elsewhere it is candle's tensor ops ([`update_composed`]). Both compute
//! the same bits: candle's `t * s` is `t·s + 0` in f32, and the fused pass does exactly that.

use super::Optimizer;
use crate::model::ops::custom_op::with_cpu_f32;
use anyhow::Result;
use candle_core::backprop::GradStore;
use candle_core::{DType, Tensor, Var};
use rayon::prelude::*;
use std::collections::HashMap;

/// The optimiser state.
pub struct Sgd {
    names: Vec<String>,
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
            names: params.iter().map(|(n, _, _)| n.clone()).collect(),
            params: params.into_iter().map(|(_, v, d)| (v, d)).collect(),
            buffers,
            momentum,
            weight_decay,
        }
    }
}

/// The hyper-parameters of one step for one parameter.
#[derive(Clone, Copy)]
struct Step {
    lr: f64,
    momentum: f64,
    /// 0 where weight decay does not apply.
    weight_decay: f64,
}

impl Optimizer for Sgd {
    fn step(&mut self, grads: &GradStore, lr: f64) -> Result<()> {
        let updates: Vec<Result<Option<(Tensor, Tensor)>>> = self
            .params
            .par_iter()
            .zip(self.buffers.par_iter())
            .map(|((var, decay), buf)| {
                let Some(g) = grads.get(var.as_tensor()) else {
                    return Ok(None);
                };
                let step = Step {
                    lr,
                    momentum: self.momentum,
                    weight_decay: if *decay { self.weight_decay } else { 0.0 },
                };
                let w = var.as_tensor().detach();
                let fused = w.device().is_cpu() && w.dtype() == DType::F32;
                let update = if fused { update_fused } else { update_composed };
                update(&w, g, buf.as_ref(), step).map(Some)
            })
            .collect();
        for (((var, _), buf), update) in self.params.iter().zip(&mut self.buffers).zip(updates) {
            if let Some((w, b)) = update? {
                var.set(&w)?;
                *buf = Some(b);
            }
        }
        Ok(())
    }

    fn state(&self) -> Result<Vec<(String, Tensor)>> {
        Ok(self
            .names
            .iter()
            .zip(&self.buffers)
            .filter_map(|(n, b)| Some((format!("momentum/{n}"), b.clone()?)))
            .collect())
    }

    fn load_state(&mut self, state: &HashMap<String, Tensor>) -> Result<()> {
        for ((name, (var, _)), buf) in self.names.iter().zip(&self.params).zip(&mut self.buffers) {
            *buf = state
                .get(&format!("momentum/{name}"))
                .map(|t| t.to_device(var.device()))
                .transpose()?;
        }
        Ok(())
    }
}

/// The new weights and momentum buffer by candle's tensor ops.
fn update_composed(
    w: &Tensor,
    g: &Tensor,
    buf: Option<&Tensor>,
    s: Step,
) -> Result<(Tensor, Tensor)> {
    let g = if s.weight_decay > 0.0 {
        (g + (w * s.weight_decay)?)?
    } else {
        g.clone()
    };
    let b = match buf {
        Some(b) => ((b * s.momentum)? + g)?,
        None => g,
    };
    Ok(((w - (&b * s.lr)?)?, b.detach()))
}

/// The same update in one pass over the values (f32 on the CPU): per value
/// `g = ∇ + (w·wd + 0)`, `b = (b·μ + 0) + g`, `w = w − (b·lr + 0)`, the constants rounded to f32
/// as candle rounds them.
fn update_fused(w: &Tensor, g: &Tensor, buf: Option<&Tensor>, s: Step) -> Result<(Tensor, Tensor)> {
    /// Values per task.
    const CHUNK: usize = 1 << 15;
    let (lr, mu, wd) = (s.lr as f32, s.momentum as f32, s.weight_decay as f32);
    let n = w.elem_count();
    let (mut new_w, mut new_b) = (vec![0f32; n], vec![0f32; n]);
    let mut update = |wv: &[f32], gv: &[f32], old_b: Option<&[f32]>| {
        new_w
            .par_chunks_mut(CHUNK)
            .zip(new_b.par_chunks_mut(CHUNK))
            .enumerate()
            .for_each(|(c, (nw, nb))| {
                let at = c * CHUNK;
                for (i, (nw, nb)) in nw.iter_mut().zip(nb.iter_mut()).enumerate() {
                    let (w, g) = (wv[at + i], gv[at + i]);
                    let g = if s.weight_decay > 0.0 {
                        g + (w * wd + 0.0)
                    } else {
                        g
                    };
                    *nb = match old_b {
                        Some(b) => (b[at + i] * mu + 0.0) + g,
                        None => g,
                    };
                    *nw = w - (*nb * lr + 0.0);
                }
            });
        Ok(())
    };
    with_cpu_f32(w, "SGD weights", |wv| {
        with_cpu_f32(g, "SGD gradient", |gv| match buf {
            Some(b) => with_cpu_f32(b, "SGD momentum", |bv| update(wv, gv, Some(bv))),
            None => update(wv, gv, None),
        })
    })?;
    let shape = w.shape();
    Ok((
        Tensor::from_vec(new_w, shape, w.device())?,
        Tensor::from_vec(new_b, shape, w.device())?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ops::custom_op::{test_bits as bits, test_values};
    use candle_core::Device;

    /// The fused update and candle's tensor ops give the same bits over 20 steps with momentum,
    /// weight decay on one parameter and not the other, and a learning rate that changes.
    #[test]
    fn fused_update_equals_the_tensor_ops_bitwise_over_20_steps() {
        let dev = Device::Cpu;
        let shapes: [&[usize]; 2] = [&[4, 3, 3, 3], &[7]];
        for (k, &shape) in shapes.iter().enumerate() {
            let n: usize = shape.iter().product();
            let start = Tensor::from_vec(test_values(n, 5 + k as u64), shape, &dev).unwrap();
            let s = |i: usize| Step {
                lr: 0.1 / (1.0 + i as f64),
                momentum: 0.9,
                weight_decay: if k == 0 { 5e-4 } else { 0.0 },
            };
            let (mut wf, mut wc) = (start.clone(), start.clone());
            let (mut bf, mut bc): (Option<Tensor>, Option<Tensor>) = (None, None);
            for i in 0..20 {
                let g = Tensor::from_vec(test_values(n, 100 + i as u64), shape, &dev).unwrap();
                let (w, b) = update_fused(&wf, &g, bf.as_ref(), s(i)).unwrap();
                (wf, bf) = (w, Some(b));
                let (w, b) = update_composed(&wc, &g, bc.as_ref(), s(i)).unwrap();
                (wc, bc) = (w, Some(b));
            }
            assert_eq!(bits(&wf), bits(&wc), "{shape:?} weights");
            assert_eq!(
                bits(bf.as_ref().unwrap()),
                bits(bc.as_ref().unwrap()),
                "{shape:?} buffers"
            );
            assert_ne!(bits(&wf), bits(&start), "the weights moved");
        }
    }
}
