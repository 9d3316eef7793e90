//! BatchNorm for training as one fused op each way, on the CPU (two passes each) and on CUDA
//! (`cuda/batch_norm.rs`: one kernel each), instead of the ~15 separate elementwise candle ops
//! (each a full pass over the activations, several with a transpose copy) of
//! `candle_nn::BatchNorm`. Same parameters, same running statistics (PyTorch's: momentum 0.1,
//! unbiased variance), same variable names.
//!
//! Forward, per channel c over the N = B·H·W values: `μ = mean x`, `σ² = mean (x − μ)²`,
//! `x̂ = (x − μ)/sqrt(σ² + ε)`, `y = γ x̂ + β`. Backward: `∂β = Σ dy`, `∂γ = Σ dy·x̂`,
//! `∂x = γ/(N sqrt(σ² + ε)) · (N dy − Σ dy − x̂ Σ dy·x̂)`.
//!
//! The algorithm is stateless and the same on both devices: the forward op returns
//! `[y | μ | σ²]` packed in one tensor, and the backward op recomputes the statistics from `x`
//! (sums in f64) and returns `[∂x | ∂γ | ∂β]`.
//!
//! On the CPU the ReLU that follows a BatchNorm can join it ([`BatchNorm2d::forward_relu_t`]):
//! `y = max(γ x̂ + β, 0)` in the forward pass, and the backward pass masks `dy` where the
//! recomputed `γ x̂ + β` is negative, exactly as candle's ReLU backward does (`0 + dy·[z ≥ 0]`),
//! so the fused pair computes the bits of the two ops. One pass each way instead of two.

use super::custom_op::{contiguous_f32, relu, relu_grad, unpack3};
use super::profile::{self, Part};
use candle_core::{CpuStorage, CustomOp3, Layout, ModuleT, Result, Shape, Tensor, Var};
use rayon::prelude::*;

/// (batch, channels, plane size) of a `B × C × ...` layout.
fn dims(shape: &Shape) -> Result<(usize, usize, usize)> {
    let d = shape.dims();
    if d.len() < 2 {
        candle_core::bail!("batch norm needs B × C × ... input, got {d:?}");
    }
    Ok((d[0], d[1], d[2..].iter().product()))
}

/// Per-channel sums over all planes of channel c: `f(values of one plane)` summed in f64.
fn per_channel(
    b: usize,
    c: usize,
    hw: usize,
    f: impl Fn(usize, usize) -> (f64, f64) + Sync,
) -> Vec<(f64, f64)> {
    (0..c)
        .into_par_iter()
        .map(|ch| {
            (0..b).fold((0.0, 0.0), |acc, bi| {
                let (u, v) = f(bi * c * hw + ch * hw, ch);
                (acc.0 + u, acc.1 + v)
            })
        })
        .collect()
}

/// Per-channel batch statistics of `x` (`B × C × HW`, contiguous): mean, inverse standard
/// deviation `1/sqrt(σ² + ε)` and biased variance, from f64 sums.
fn channel_stats(x: &[f32], (b, c, hw): (usize, usize, usize), eps: f64) -> Vec<(f32, f32, f32)> {
    let n = (b * hw) as f64;
    per_channel(b, c, hw, |off, _| {
        x[off..off + hw].iter().fold((0.0, 0.0), |(s, q), &v| {
            (s + v as f64, q + (v as f64) * (v as f64))
        })
    })
    .into_iter()
    .map(|(s, q)| {
        let mean = s / n;
        let var = (q / n - mean * mean).max(0.0);
        (mean as f32, (1.0 / (var + eps).sqrt()) as f32, var as f32)
    })
    .collect()
}

/// The training forward pass: inputs `(x, γ, β)`, output `[y (B·C·HW) | μ (C) | σ² (C)]`,
/// differentiable through `y` ([`BnBackward`]); with `relu`, `y` is `max(γ x̂ + β, 0)` (the CPU
/// only).
struct BnForward {
    eps: f64,
    relu: bool,
}

impl CustomOp3 for BnForward {
    fn name(&self) -> &'static str {
        "batch-norm-train"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sw: &CpuStorage,
        lw: &Layout,
        sb: &CpuStorage,
        lb: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        profile::time(Part::BatchNorm, || {
            let (x, w, bias) = (
                contiguous_f32(sx, lx, "batch norm")?,
                contiguous_f32(sw, lw, "batch norm")?,
                contiguous_f32(sb, lb, "batch norm")?,
            );
            let (b, c, hw) = dims(lx.shape())?;
            let stats = channel_stats(x, (b, c, hw), self.eps);
            let n = x.len();
            let mut out = vec![0f32; n + 2 * c];
            let (y, packed_stats) = out.split_at_mut(n);
            y.par_chunks_mut(hw).enumerate().for_each(|(plane, out)| {
                let ch = plane % c;
                let (m, is, _) = stats[ch];
                let (g, be) = (w[ch] * is, bias[ch]);
                let x = &x[plane * hw..(plane + 1) * hw];
                if self.relu {
                    for (o, &v) in out.iter_mut().zip(x) {
                        *o = relu((v - m) * g + be);
                    }
                } else {
                    for (o, &v) in out.iter_mut().zip(x) {
                        *o = (v - m) * g + be;
                    }
                }
            });
            for (ch, &(m, _, var)) in stats.iter().enumerate() {
                packed_stats[ch] = m;
                packed_stats[c + ch] = var;
            }
            Ok((CpuStorage::F32(out), Shape::from(n + 2 * c)))
        })
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        sx: &candle_core::CudaStorage,
        lx: &Layout,
        sw: &candle_core::CudaStorage,
        lw: &Layout,
        sb: &candle_core::CudaStorage,
        lb: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        if self.relu {
            candle_core::bail!("batch norm with ReLU is fused on the CPU only");
        }
        let d = dims(lx.shape())?;
        let out = super::cuda::batch_norm::forward((sx, lx), (sw, lw), (sb, lb), d, self.eps)?;
        Ok((out, Shape::from(d.0 * d.1 * d.2 + 2 * d.1)))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        bias: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (b, c, hw) = dims(x.shape())?;
        let n = b * c * hw;
        // Only `y` carries a gradient: the packed statistics are used detached.
        let dy = grad.narrow(0, 0, n)?.reshape(x.shape())?.contiguous()?;
        let op = BnBackward {
            eps: self.eps,
            relu: self.relu,
        };
        // The ReLU's mask needs β as well: `[γ | β]`.
        let params = if self.relu {
            Tensor::cat(&[w, bias], 0)?
        } else {
            w.clone()
        };
        let (dx, dw, db) = unpack3(
            &x.contiguous()?.apply_op3_no_bwd(&dy, &params, &op)?,
            x.shape(),
            c,
        )?;
        Ok((Some(dx), Some(dw), Some(db)))
    }
}

/// The training backward pass: inputs `(x, dy, γ)` (`(x, dy, [γ | β])` with `relu`), output
/// `[∂x (B·C·HW) | ∂γ (C) | ∂β (C)]`.
struct BnBackward {
    eps: f64,
    relu: bool,
}

impl CustomOp3 for BnBackward {
    fn name(&self) -> &'static str {
        "batch-norm-backward"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sd: &CpuStorage,
        ld: &Layout,
        sw: &CpuStorage,
        lw: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        profile::time(Part::BatchNorm, || {
            let (xs, gs, ws) = (
                contiguous_f32(sx, lx, "batch norm backward")?,
                contiguous_f32(sd, ld, "batch norm backward")?,
                contiguous_f32(sw, lw, "batch norm backward")?,
            );
            let (b, c, hw) = dims(lx.shape())?;
            let stats = channel_stats(xs, (b, c, hw), self.eps);
            // With the ReLU, `dy` masked where `γ x̂ + β` (recomputed as the forward pass did) is
            // negative.
            let masked;
            let gs = if self.relu {
                let mut d = vec![0f32; gs.len()];
                d.par_chunks_mut(hw).enumerate().for_each(|(plane, d)| {
                    let ch = plane % c;
                    let (m, is, _) = stats[ch];
                    let (g, be) = (ws[ch] * is, ws[c + ch]);
                    let at = plane * hw..(plane + 1) * hw;
                    for ((d, &v), &dy) in d.iter_mut().zip(&xs[at.clone()]).zip(&gs[at]) {
                        *d = relu_grad((v - m) * g + be, dy);
                    }
                });
                masked = d;
                &masked[..]
            } else {
                gs
            };
            let sums = per_channel(b, c, hw, |off, ch| {
                let (m, is, _) = stats[ch];
                xs[off..off + hw]
                    .iter()
                    .zip(&gs[off..off + hw])
                    .fold((0.0, 0.0), |(sd, sdx), (&v, &d)| {
                        (sd + d as f64, sdx + (d * (v - m) * is) as f64)
                    })
            });
            let n = (b * hw) as f32;
            let len = xs.len();
            let mut out = vec![0f32; len + 2 * c];
            let (dx, dwb) = out.split_at_mut(len);
            dx.par_chunks_mut(hw).enumerate().for_each(|(plane, out)| {
                let ch = plane % c;
                let (m, is, _) = stats[ch];
                let (sd, sdx) = (sums[ch].0 as f32, sums[ch].1 as f32);
                let k = ws[ch] * is / n;
                let off = plane * hw;
                for (i, o) in out.iter_mut().enumerate() {
                    let xh = (xs[off + i] - m) * is;
                    *o = k * (n * gs[off + i] - sd - xh * sdx);
                }
            });
            for (ch, &(sd, sdx)) in sums.iter().enumerate() {
                dwb[ch] = sdx as f32;
                dwb[c + ch] = sd as f32;
            }
            Ok((CpuStorage::F32(out), Shape::from(len + 2 * c)))
        })
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        sx: &candle_core::CudaStorage,
        lx: &Layout,
        sd: &candle_core::CudaStorage,
        ld: &Layout,
        sw: &candle_core::CudaStorage,
        lw: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        if self.relu {
            candle_core::bail!("batch norm with ReLU is fused on the CPU only");
        }
        let d = dims(lx.shape())?;
        let out = super::cuda::batch_norm::backward((sx, lx), (sd, ld), (sw, lw), d, self.eps)?;
        Ok((out, Shape::from(d.0 * d.1 * d.2 + 2 * d.1)))
    }
}

/// BatchNorm with the fused training ops on the CPU and CUDA, and `candle_nn::BatchNorm`
/// elsewhere and in evaluation.
pub struct BatchNorm2d {
    inner: candle_nn::BatchNorm,
    weight: Tensor,
    bias: Tensor,
    running_mean: Var,
    running_var: Var,
    eps: f64,
    momentum: f64,
    fused: bool,
}

impl BatchNorm2d {
    /// BatchNorm over `channels` with the scale `weight`, shift `bias` and the running statistics
    /// (variables, updated in training mode); `fused` selects the fused training ops.
    pub fn new(
        channels: usize,
        fused: bool,
        [weight, bias, running_mean, running_var]: [Tensor; 4],
    ) -> Result<Self> {
        let cfg = candle_nn::BatchNormConfig::default();
        let inner = candle_nn::BatchNorm::new_with_momentum(
            channels,
            running_mean.clone(),
            running_var.clone(),
            weight.clone(),
            bias.clone(),
            cfg.eps,
            cfg.momentum,
        )?;
        Ok(BatchNorm2d {
            inner,
            weight,
            bias,
            running_mean: Var::from_tensor(&running_mean)?,
            running_var: Var::from_tensor(&running_var)?,
            eps: cfg.eps,
            momentum: cfg.momentum,
            fused,
        })
    }

    /// The fused training forward pass (with the ReLU if `relu`); updates the running
    /// statistics.
    fn forward_fused(&self, x: &Tensor, relu: bool) -> Result<Tensor> {
        let (_, c, _) = dims(x.shape())?;
        let op = BnForward {
            eps: self.eps,
            relu,
        };
        let packed = x.contiguous()?.apply_op3(&self.weight, &self.bias, op)?;
        let (y, mean, var) = unpack3(&packed, x.shape(), c)?;
        self.update_running(&mean.detach(), &var.detach(), x.shape())?;
        Ok(y)
    }

    /// PyTorch's running statistics: `r ← (1 − m)·r + m·batch`, the variance unbiased.
    fn update_running(&self, mean: &Tensor, var: &Tensor, shape: &Shape) -> Result<()> {
        let (b, _, hw) = dims(shape)?;
        let n = (b * hw) as f64;
        let unbias = if n > 1.0 { n / (n - 1.0) } else { 1.0 };
        let m = self.momentum;
        self.running_mean
            .set(&((self.running_mean.as_tensor().detach() * (1.0 - m))? + (mean * m)?)?)?;
        self.running_var
            .set(&((self.running_var.as_tensor().detach() * (1.0 - m))? + (var * (m * unbias))?)?)
    }

    /// `relu(BatchNorm(x))`: one fused op each way when training on the CPU with the fused ops
    /// and `fuse_relu`, the two layers one after the other otherwise. Same bits either way.
    pub fn forward_relu_t(&self, x: &Tensor, train: bool, fuse_relu: bool) -> Result<Tensor> {
        if train && self.fused && fuse_relu && x.device().is_cpu() {
            self.forward_fused(x, true)
        } else {
            self.forward_t(x, train)?.relu()
        }
    }
}

impl ModuleT for BatchNorm2d {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let device_has_op = x.device().is_cpu() || (cfg!(feature = "cuda") && x.device().is_cuda());
        if train && self.fused && device_has_op {
            self.forward_fused(x, false)
        } else {
            self.inner.forward_t(x, train)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::verify::{
        batch_norm_step as one_step, max_batch_norm_difference as max_difference, max_rel,
    };
    use candle_core::{DType, Device};

    /// Output, gradients of x, γ, β and the running statistics equal candle_nn's BatchNorm run in
    /// f64 (candle's f32 BatchNorm is itself off by ~5e-4 in the input gradient: its sums are f32).
    #[test]
    fn fused_matches_candle_nn_in_f64() {
        let dev = Device::Cpu;
        for shape in [(4, 3, 5, 5), (5, 8, 1, 1), (3, 2, 7, 4), (8, 4, 16, 16)] {
            let reference = one_step(&dev, DType::F64, false, shape).unwrap();
            let fused = one_step(&dev, DType::F32, true, shape).unwrap();
            for ((name, a), (_, r)) in fused.iter().zip(&reference) {
                let e = max_rel(a, r).unwrap();
                assert!(e < 2e-5, "{shape:?} {name}: {e}");
            }
        }
        // On the CPU the device check compares the op with itself.
        assert_eq!(max_difference(&dev).unwrap(), 0.0);
    }

    /// BatchNorm fused with its ReLU gives the bits of the fused BatchNorm followed by candle's
    /// ReLU: output and the gradients of x, γ and β, on six shapes (batch 1 among them), with a
    /// shift that puts some pre-activations exactly at zero (the ReLU's gradient passes there).
    #[test]
    fn relu_fused_equals_batch_norm_then_relu_bitwise() {
        use super::BatchNorm2d;
        use crate::model::ops::custom_op::{test_bits as bits, test_values};
        use candle_core::{Tensor, Var};
        let dev = Device::Cpu;
        let shapes = [
            (4, 3, 5, 5),
            (1, 6, 4, 4),
            (5, 8, 1, 1),
            (3, 2, 7, 4),
            (8, 4, 16, 16),
            (2, 5, 3, 9),
        ];
        for (i, &(b, c, h, w)) in shapes.iter().enumerate() {
            let seed = 10 * i as u64;
            let x = Var::from_vec(test_values(b * c * h * w, seed), (b, c, h, w), &dev).unwrap();
            // A zero scale for channel 0 makes its pre-activation β exactly; β = 0 there.
            let mut gamma = test_values(c, seed + 1);
            gamma[0] = 0.0;
            let mut beta = test_values(c, seed + 2);
            beta[0] = 0.0;
            let run = |fused_relu: bool| {
                let (g, be) = (
                    Var::from_vec(gamma.clone(), c, &dev).unwrap(),
                    Var::from_vec(beta.clone(), c, &dev).unwrap(),
                );
                let stats = [
                    Tensor::zeros(c, DType::F32, &dev).unwrap(),
                    Tensor::ones(c, DType::F32, &dev).unwrap(),
                ];
                let bn = BatchNorm2d::new(
                    c,
                    true,
                    [
                        g.as_tensor().clone(),
                        be.as_tensor().clone(),
                        stats[0].clone(),
                        stats[1].clone(),
                    ],
                )
                .unwrap();
                let y = if fused_relu {
                    bn.forward_relu_t(x.as_tensor(), true, true).unwrap()
                } else {
                    bn.forward_fused(x.as_tensor(), false)
                        .unwrap()
                        .relu()
                        .unwrap()
                };
                let proj = Tensor::from_vec(test_values(y.elem_count(), seed + 3), y.dims(), &dev)
                    .unwrap();
                let grads = (&y * &proj).unwrap().sum_all().unwrap().backward().unwrap();
                [
                    bits(&y),
                    bits(grads.get(x.as_tensor()).unwrap()),
                    bits(grads.get(g.as_tensor()).unwrap()),
                    bits(grads.get(be.as_tensor()).unwrap()),
                ]
            };
            let (fused, composed) = (run(true), run(false));
            for (k, name) in ["y", "∂x", "∂γ", "∂β"].iter().enumerate() {
                assert_eq!(fused[k], composed[k], "{:?} {name}", shapes[i]);
            }
            // The mask is not trivial: some outputs are cut, some pass.
            let y0: Vec<f32> = fused[0].iter().map(|&u| f32::from_bits(u)).collect();
            assert!(y0.contains(&0.0) && y0.iter().any(|&v| v > 0.0));
        }
    }
}
