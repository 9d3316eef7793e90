//! Softmax over the last axis as one op each way on the CPU, instead of candle's five (max,
//! subtract, exp, sum, divide) and their backward passes over the largest tensor of a
//! transformer (the attention weights):
//! `y_i = exp(x_i − max x) / Σ_j exp(x_j − max x)`; backward `∂x = y ⊙ (∂y − Σ_j ∂y_j y_j)`.
//! On other devices, candle's composition (whose backward candle derives).

use super::custom_op::contiguous_f32;
use candle_core::{CpuStorage, CustomOp1, CustomOp2, DType, Layout, Result, Shape, Tensor, D};
use rayon::prelude::*;

/// Rows handed to one task: enough work to amortise rayon's scheduling.
const MIN_ROWS: usize = 64;

/// Softmax of `x` over its last axis (any rank ≥ 1).
pub fn softmax_last_dim(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == DType::F32 && x.rank() >= 1 {
        x.contiguous()?.apply_op1(Softmax)
    } else {
        candle_nn::ops::softmax(x, D::Minus1)
    }
}

struct Softmax;

impl CustomOp1 for Softmax {
    fn name(&self) -> &'static str {
        "softmax-last-dim"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(s, l, self.name())?;
        let d = l.dims().last().copied().unwrap_or(1).max(1);
        let mut y = vec![0f32; x.len()];
        y.par_chunks_mut(d)
            .zip(x.par_chunks(d))
            .with_min_len(MIN_ROWS)
            .for_each(|(out, row)| {
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut total = 0f32;
                for (o, &v) in out.iter_mut().zip(row) {
                    *o = (v - max).exp();
                    total += *o;
                }
                let inv = 1.0 / total;
                out.iter_mut().for_each(|o| *o *= inv);
            });
        Ok((CpuStorage::F32(y), l.shape().clone()))
    }

    fn bwd(&self, _arg: &Tensor, res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(
            res.apply_op2_no_bwd(&grad.contiguous()?, &SoftmaxBackward)?,
        ))
    }
}

/// Inputs `(y, ∂y)`, output `∂x = y ⊙ (∂y − Σ_j ∂y_j y_j)` per row.
struct SoftmaxBackward;

impl CustomOp2 for SoftmaxBackward {
    fn name(&self) -> &'static str {
        "softmax-last-dim-backward"
    }

    fn cpu_fwd(
        &self,
        sy: &CpuStorage,
        ly: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (y, g) = (
            contiguous_f32(sy, ly, self.name())?,
            contiguous_f32(sg, lg, self.name())?,
        );
        let d = ly.dims().last().copied().unwrap_or(1).max(1);
        let mut dx = vec![0f32; y.len()];
        dx.par_chunks_mut(d)
            .zip(y.par_chunks(d).zip(g.par_chunks(d)))
            .with_min_len(MIN_ROWS)
            .for_each(|(out, (yr, gr))| {
                let s: f32 = yr.iter().zip(gr).map(|(a, b)| a * b).sum();
                for ((o, &yv), &gv) in out.iter_mut().zip(yr).zip(gr) {
                    *o = yv * (gv - s);
                }
            });
        Ok((CpuStorage::F32(dx), ly.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::custom_op::{rel_err as rel, test_values};
    use super::*;
    use candle_core::{Device, Var};

    /// Forward and gradient against candle's composition in f64, on six shapes (batch 1
    /// included); logits too large for a plain `exp` stay exact.
    #[test]
    fn matches_the_composition_of_candle_ops() {
        let dev = Device::Cpu;
        for (k, shape) in [
            vec![1, 5],
            vec![3, 7],
            vec![2, 4, 65],
            vec![1, 2, 3, 9],
            vec![64, 1],
            vec![2, 3, 17, 17],
        ]
        .into_iter()
        .enumerate()
        {
            let n: usize = shape.iter().product();
            let values: Vec<f32> = test_values(n, k as u64).iter().map(|v| 8.0 * v).collect();
            let x = Var::from_vec(values, shape.as_slice(), &dev).unwrap();
            let proj =
                Tensor::from_vec(test_values(n, 50 + k as u64), shape.as_slice(), &dev).unwrap();
            let ours = softmax_last_dim(x.as_tensor()).unwrap();
            // The reference in f64 (its graph reaches the f32 variable through `to_dtype`).
            let f64_ = |t: &Tensor| t.to_dtype(DType::F64).unwrap();
            let reference = candle_nn::ops::softmax(&f64_(x.as_tensor()), D::Minus1).unwrap();
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
            let (a, b) = (
                g1.get(x.as_tensor()).unwrap(),
                g2.get(x.as_tensor()).unwrap(),
            );
            assert!(rel(a, b) < 1e-5, "{shape:?} gradient: {}", rel(a, b));
        }
        // exp(1000) overflows f32: only the max subtraction gives e / (1 + e), 1 / (1 + e).
        let x = Tensor::new(&[[1001f32, 1000.0]], &dev).unwrap();
        let y = softmax_last_dim(&x).unwrap().to_vec2::<f32>().unwrap();
        let e = std::f32::consts::E;
        assert!((y[0][0] - e / (1.0 + e)).abs() < 1e-6 && (y[0][1] - 1.0 / (1.0 + e)).abs() < 1e-6);
    }
}
