//! The end of a residual block, `relu(a + b)`, as one op each way on the CPU instead of candle's
//! two (the sum, the ReLU) and the three of the ReLU's backward (mask, product, sum). Forward
//! `y = max(a + b, 0)`; backward `∂a = ∂b = 0 + ∂y·[a + b ≥ 0]`, with `a + b` recomputed, exactly
//! as candle's autograd computes it through the two ops. On other devices, candle's composition.

use super::custom_op::{contiguous_f32, relu, relu_grad};
use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Values handed to one task.
const CHUNK: usize = 1 << 14;

/// `relu(a + b)` for tensors of one shape: one fused op on the CPU when `fused`, candle's two ops
/// otherwise. Same bits either way.
pub fn add_relu(a: &Tensor, b: &Tensor, fused: bool) -> Result<Tensor> {
    if fused && a.device().is_cpu() && a.shape() == b.shape() {
        a.contiguous()?.apply_op2(&b.contiguous()?, AddRelu)
    } else {
        (a + b)?.relu()
    }
}

struct AddRelu;

impl CustomOp2 for AddRelu {
    fn name(&self) -> &'static str {
        "add-relu"
    }

    fn cpu_fwd(
        &self,
        sa: &CpuStorage,
        la: &Layout,
        sb: &CpuStorage,
        lb: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (a, b) = (
            contiguous_f32(sa, la, self.name())?,
            contiguous_f32(sb, lb, self.name())?,
        );
        let mut y = vec![0f32; a.len()];
        y.par_chunks_mut(CHUNK)
            .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
            .for_each(|(y, (a, b))| {
                for ((y, &a), &b) in y.iter_mut().zip(a).zip(b) {
                    *y = relu(a + b);
                }
            });
        Ok((CpuStorage::F32(y), la.shape().clone()))
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let g = a.apply_op3_no_bwd(b, &grad.contiguous()?, &AddReluBackward)?;
        Ok((Some(g.clone()), Some(g)))
    }
}

/// Inputs `(a, b, ∂y)`, output `0 + ∂y·[a + b ≥ 0]`.
struct AddReluBackward;

impl CustomOp3 for AddReluBackward {
    fn name(&self) -> &'static str {
        "add-relu-backward"
    }

    fn cpu_fwd(
        &self,
        sa: &CpuStorage,
        la: &Layout,
        sb: &CpuStorage,
        lb: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (a, b, dy) = (
            contiguous_f32(sa, la, self.name())?,
            contiguous_f32(sb, lb, self.name())?,
            contiguous_f32(sg, lg, self.name())?,
        );
        let mut g = vec![0f32; a.len()];
        g.par_chunks_mut(CHUNK)
            .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
            .zip(dy.par_chunks(CHUNK))
            .for_each(|((g, (a, b)), dy)| {
                for (((g, &a), &b), &d) in g.iter_mut().zip(a).zip(b).zip(dy) {
                    *g = relu_grad(a + b, d);
                }
            });
        Ok((CpuStorage::F32(g), la.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ops::custom_op::{test_bits as bits, test_values};
    use candle_core::{Device, Var};

    /// The fused op gives the bits of candle's sum then ReLU: output and both gradients, on six
    /// shapes (batch 1 among them), with values that make some sums exactly zero (where the
    /// gradient passes) and an input used twice (the identity shortcut: its two gradients add).
    #[test]
    fn fused_equals_add_then_relu_bitwise() {
        let dev = Device::Cpu;
        let shapes: [&[usize]; 6] = [
            &[4, 3, 5, 5],
            &[1, 6, 4, 4],
            &[5, 8, 1, 1],
            &[3, 2, 7, 4],
            &[2, 16, 16, 16],
            &[7],
        ];
        for (i, &shape) in shapes.iter().enumerate() {
            let n: usize = shape.iter().product();
            let seed = 20 * i as u64;
            let av = test_values(n, seed);
            // b = −a on every third value: those sums are exactly zero.
            let bv: Vec<f32> = test_values(n, seed + 1)
                .iter()
                .zip(&av)
                .enumerate()
                .map(|(j, (&b, &a))| if j % 3 == 0 { -a } else { b })
                .collect();
            let run = |fused: bool| {
                let a = Var::from_vec(av.clone(), shape, &dev).unwrap();
                let b = Var::from_vec(bv.clone(), shape, &dev).unwrap();
                // `a` also feeds the second input's branch, as x does in a block; the branch's
                // value is `b` exactly (`b + 0·a`), so that the planted zero sums stay zero.
                let branch = (b.as_tensor() + (a.as_tensor() * 0.0).unwrap()).unwrap();
                let y = add_relu(a.as_tensor(), &branch, fused).unwrap();
                let proj = Tensor::from_vec(test_values(n, seed + 2), shape, &dev).unwrap();
                let grads = (&y * &proj).unwrap().sum_all().unwrap().backward().unwrap();
                [
                    bits(&y),
                    bits(grads.get(a.as_tensor()).unwrap()),
                    bits(grads.get(b.as_tensor()).unwrap()),
                ]
            };
            let (fused, composed) = (run(true), run(false));
            for (k, name) in ["y", "∂a", "∂b"].iter().enumerate() {
                assert_eq!(fused[k], composed[k], "{shape:?} {name}");
            }
        }
    }
}
