//! Layer normalisation over the last axis as one op each way on the CPU, instead of candle's
//! eleven elementwise and reduction ops forward (and their backward passes):
//! `x̂ = (x − μ)/sqrt(σ² + ε)`, `y = γ x̂ + β` per row (μ, σ² over the row, sums in f64).
//! Backward, with `g = ∂y · γ`: `∂x = (g − mean g − x̂ · mean(g x̂)) / sqrt(σ² + ε)`,
//! `∂γ = Σ_rows ∂y x̂`, `∂β = Σ_rows ∂y`. On other devices, candle's composition.

use super::custom_op::{contiguous_f32, unpack3};
use candle_core::{CpuStorage, CustomOp3, DType, Layout, Result, Shape, Tensor, D};
use rayon::prelude::*;

/// Rows handed to one task.
const ROWS_PER_TASK: usize = 64;

/// `LN(x)·γ + β` over the last axis of `x` (`γ`, `β`: one value per feature).
pub fn layer_norm(x: &Tensor, gamma: &Tensor, beta: &Tensor, eps: f64) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == DType::F32 {
        x.contiguous()?.apply_op3(gamma, beta, LayerNorm { eps })
    } else {
        composed(x, gamma, beta, eps)
    }
}

/// The same with candle's tensor ops (the reference, and the path on other devices).
pub fn composed(x: &Tensor, gamma: &Tensor, beta: &Tensor, eps: f64) -> Result<Tensor> {
    let d = x.dim(D::Minus1)? as f64;
    let centred = x.broadcast_sub(&(x.sum_keepdim(D::Minus1)? / d)?)?;
    let var = (centred.sqr()?.sum_keepdim(D::Minus1)? / d)?;
    centred
        .broadcast_div(&(var + eps)?.sqrt()?)?
        .broadcast_mul(gamma)?
        .broadcast_add(beta)
}

/// Mean and `1/sqrt(σ² + ε)` of one row, from f64 sums.
fn row_stats(row: &[f32], eps: f64) -> (f32, f32) {
    let n = row.len() as f64;
    let (s, q) = row.iter().fold((0.0f64, 0.0f64), |(s, q), &v| {
        (s + v as f64, q + v as f64 * v as f64)
    });
    let mean = s / n;
    let var = (q / n - mean * mean).max(0.0);
    (mean as f32, (1.0 / (var + eps).sqrt()) as f32)
}

struct LayerNorm {
    eps: f64,
}

impl CustomOp3 for LayerNorm {
    fn name(&self) -> &'static str {
        "layer-norm"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
        sb: &CpuStorage,
        lb: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, gamma, beta) = (
            contiguous_f32(sx, lx, self.name())?,
            contiguous_f32(sg, lg, self.name())?,
            contiguous_f32(sb, lb, self.name())?,
        );
        let d = gamma.len().max(1);
        if x.len() % d != 0 || beta.len() != gamma.len() {
            candle_core::bail!("layer norm: {:?} rows do not match {d} features", lx.dims());
        }
        let mut y = vec![0f32; x.len()];
        y.par_chunks_mut(d)
            .zip(x.par_chunks(d))
            .with_min_len(ROWS_PER_TASK)
            .for_each(|(out, row)| {
                let (m, is) = row_stats(row, self.eps);
                for (i, o) in out.iter_mut().enumerate() {
                    *o = (row[i] - m) * is * gamma[i] + beta[i];
                }
            });
        Ok((CpuStorage::F32(y), lx.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        gamma: &Tensor,
        _beta: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let op = LayerNormBackward { eps: self.eps };
        let packed = x.apply_op3_no_bwd(&grad.contiguous()?, gamma, &op)?;
        let (dx, dg, db) = unpack3(&packed, x.shape(), gamma.elem_count())?;
        Ok((Some(dx), Some(dg), Some(db)))
    }
}

/// Inputs `(x, ∂y, γ)`, output `[∂x | ∂γ | ∂β]`.
struct LayerNormBackward {
    eps: f64,
}

impl CustomOp3 for LayerNormBackward {
    fn name(&self) -> &'static str {
        "layer-norm-backward"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sd: &CpuStorage,
        ld: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, dy, gamma) = (
            contiguous_f32(sx, lx, self.name())?,
            contiguous_f32(sd, ld, self.name())?,
            contiguous_f32(sg, lg, self.name())?,
        );
        let d = gamma.len().max(1);
        let mut dx = vec![0f32; x.len()];
        let chunk = d * ROWS_PER_TASK;
        let sums = dx
            .par_chunks_mut(chunk)
            .zip(x.par_chunks(chunk).zip(dy.par_chunks(chunk)))
            .map(|(out, (xs, gs))| {
                // Per feature: Σ ∂y x̂ (∂γ) and Σ ∂y (∂β) over this task's rows.
                let mut acc = vec![0f64; 2 * d];
                let mut xhat = vec![0f32; d];
                for ((o, row), g) in out.chunks_mut(d).zip(xs.chunks(d)).zip(gs.chunks(d)) {
                    let (m, is) = row_stats(row, self.eps);
                    let (mut mg, mut mgx) = (0f32, 0f32);
                    for i in 0..d {
                        xhat[i] = (row[i] - m) * is;
                        let gg = g[i] * gamma[i];
                        mg += gg;
                        mgx += gg * xhat[i];
                        acc[i] += (g[i] * xhat[i]) as f64;
                        acc[d + i] += g[i] as f64;
                    }
                    let (mg, mgx) = (mg / d as f32, mgx / d as f32);
                    for i in 0..d {
                        o[i] = (g[i] * gamma[i] - mg - xhat[i] * mgx) * is;
                    }
                }
                acc
            })
            .reduce(
                || vec![0f64; 2 * d],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                    a
                },
            );
        dx.extend(sums.iter().map(|&v| v as f32));
        let len = dx.len();
        Ok((CpuStorage::F32(dx), Shape::from(len)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::custom_op::{rel_err as rel, test_values};
    use super::*;
    use candle_core::{Device, Var};

    /// Forward and the three gradients against candle's composition (run in f64), on six shapes
    /// (a single row included), with an offset so that the mean matters.
    #[test]
    fn matches_the_composition_of_candle_ops() {
        let dev = Device::Cpu;
        for (k, shape) in [
            vec![1, 8],
            vec![5, 3],
            vec![2, 65, 16],
            vec![1, 1, 7],
            vec![130, 64],
            vec![3, 2, 33],
        ]
        .into_iter()
        .enumerate()
        {
            let d = *shape.last().unwrap();
            let n: usize = shape.iter().product();
            let values: Vec<f32> = test_values(n, k as u64)
                .iter()
                .map(|v| 3.0 + 4.0 * v)
                .collect();
            let x = Var::from_vec(values, shape.as_slice(), &dev).unwrap();
            let gamma = Var::from_vec(
                test_values(d, 10 + k as u64)
                    .iter()
                    .map(|v| 1.0 + v)
                    .collect(),
                d,
                &dev,
            )
            .unwrap();
            let beta = Var::from_vec(test_values(d, 20 + k as u64), d, &dev).unwrap();
            let proj =
                Tensor::from_vec(test_values(n, 30 + k as u64), shape.as_slice(), &dev).unwrap();
            let ours =
                layer_norm(x.as_tensor(), gamma.as_tensor(), beta.as_tensor(), 1e-6).unwrap();
            let f64_ = |t: &Tensor| t.to_dtype(DType::F64).unwrap();
            let reference = composed(
                &f64_(x.as_tensor()),
                &f64_(gamma.as_tensor()),
                &f64_(beta.as_tensor()),
                1e-6,
            )
            .unwrap();
            assert!(rel(&ours, &reference) < 1e-5, "{shape:?} forward");
            let g1 = (&ours * &proj)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            let g2 = (&reference * &f64_(&proj))
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            for (name, v) in [("x", &x), ("γ", &gamma), ("β", &beta)] {
                let a = g1.get(v.as_tensor()).unwrap();
                // The f64 graph reaches the f32 variables through `to_dtype`.
                let b = g2.get(v.as_tensor()).unwrap();
                assert!(rel(a, b) < 1e-5, "{shape:?} ∂{name}: {}", rel(a, b));
            }
        }
    }
}
