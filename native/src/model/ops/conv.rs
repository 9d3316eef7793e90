//! Convolution at GEMM speed: `im2col`, then one matrix product. candle's own `conv2d` sends the
//! input gradient through a naive transposed convolution; here all three products (forward, input
//! gradient, weight gradient) are GEMMs:
//!
//! - forward: `Y = W₂ · cols(X)`, `W₂` = weights as `C_out × (C_in·k·k)`, `cols(X)` as
//!   `(C_in·k·k) × (B·H_o·W_o)`;
//! - weight gradient: `∇W₂ = ∇Y · cols(X)ᵀ`;
//! - input gradient: `∇cols = W₂ᵀ · ∇Y`, then `∇X = col2im(∇cols)`.
//!
//! On the CPU the whole convolution is one candle op ([`ConvGemm`]): one node in the autograd
//! graph instead of seven, so that candle does not allocate, zero and add a gradient for every
//! intermediate (the column matrix alone is `k²` times the input). On CUDA `im2col`/`col2im` are
//! two kernels (`cuda/im2col.rs`, typed launchers) around candle's matmul, whose backward candle
//! derives; on other devices `cols(X)` is assembled from candle tensor ops (padding, strided
//! views, stack).

use super::custom_op::{contiguous_f32, par_chunks_zeroed};
pub use super::geometry::ConvGeometry;
use super::matmul::{matmul, padded_stride, MatRef, Threads};
use super::profile::{self, Part};
use candle_core::{CpuStorage, CustomOp1, CustomOp2, Device, Layout, Result, Shape, Tensor};
use std::sync::Mutex;

/// The two data movements of the GEMM convolution, adjoint to each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Movement {
    /// `X (B × C × H × W) → cols ((C·k·k) × (B·H_o·W_o))`; row `(c, i, j)`, column `(b, y, x)`
    /// holds `X[b, c, y·s + i − p, x·s + j − p]` (0 outside).
    Im2Col,
    /// The adjoint: scatters-adds columns back into a `B × C × H × W` tensor.
    Col2Im,
}

/// One [`Movement`] for one geometry, as a candle op (CPU loops; CUDA kernels in `cuda/im2col.rs`).
#[derive(Clone, Copy)]
struct ConvLayout(ConvGeometry, Movement);

impl ConvLayout {
    fn out_shape(&self) -> Shape {
        let g = &self.0;
        match self.1 {
            Movement::Im2Col => Shape::from((g.rows(), g.cols())),
            Movement::Col2Im => Shape::from((g.batch, g.channels, g.height, g.width)),
        }
    }
}

/// `cols(X)`, rows `ld ≥ g.cols()` values apart (the rest of each row zero): row `(c, i, j)` is,
/// per image and output row, a (strided) copy of one input row, zero where the window reaches
/// into the padding.
fn im2col_cpu(x: &[f32], g: &ConvGeometry, ld: usize) -> Vec<f32> {
    let (ho, wo, k, s) = (g.out_height(), g.out_width(), g.kernel, g.stride);
    par_chunks_zeroed(g.rows() * ld, ld, |row, dst| {
        let (c, i, j) = (row / (k * k), (row / k) % k, row % k);
        let (ys, xs) = (g.inside(i, g.height, ho), g.inside(j, g.width, wo));
        for b in 0..g.batch {
            let plane = &x[(b * g.channels + c) * g.height * g.width..][..g.height * g.width];
            for y in ys.clone() {
                let src = &plane[(y * s + i - g.padding) * g.width..][..g.width];
                let d = &mut dst[(b * ho + y) * wo..][..wo];
                if s == 1 {
                    let from = xs.start + j - g.padding;
                    d[xs.clone()].copy_from_slice(&src[from..from + xs.len()]);
                } else {
                    for xo in xs.clone() {
                        d[xo] = src[xo * s + j - g.padding];
                    }
                }
            }
        }
    })
}

/// The adjoint of [`im2col_cpu`] (columns' rows `ld` values apart): each `B × C` input plane sums
/// its columns' values back, kernel offsets `(i, j)` in order (so every element's sum has a fixed
/// order).
fn col2im_cpu(cols: &[f32], g: &ConvGeometry, ld: usize) -> Vec<f32> {
    let (ho, wo, k, s) = (g.out_height(), g.out_width(), g.kernel, g.stride);
    let ncols = g.cols();
    let plane = g.height * g.width;
    par_chunks_zeroed(g.batch * g.channels * plane, plane, |plane, dst| {
        let (b, c) = (plane / g.channels, plane % g.channels);
        for i in 0..k {
            let ys = g.inside(i, g.height, ho);
            for j in 0..k {
                let xs = g.inside(j, g.width, wo);
                let src = &cols[((c * k + i) * k + j) * ld..][..ncols];
                for y in ys.clone() {
                    let v = &src[(b * ho + y) * wo..][..wo];
                    let d = &mut dst[(y * s + i - g.padding) * g.width..][..g.width];
                    if s == 1 {
                        let from = xs.start + j - g.padding;
                        for (d, v) in d[from..from + xs.len()].iter_mut().zip(&v[xs.clone()]) {
                            *d += v;
                        }
                    } else {
                        for xo in xs.clone() {
                            d[xo * s + j - g.padding] += v[xo];
                        }
                    }
                }
            }
        }
    })
}

impl CustomOp1 for ConvLayout {
    fn name(&self) -> &'static str {
        match self.1 {
            Movement::Im2Col => "im2col",
            Movement::Col2Im => "col2im",
        }
    }
    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let v = contiguous_f32(s, l, self.name())?;
        let ld = self.0.cols();
        let out = match self.1 {
            Movement::Im2Col => profile::time(Part::Im2Col, || im2col_cpu(v, &self.0, ld)),
            Movement::Col2Im => profile::time(Part::Col2Im, || col2im_cpu(v, &self.0, ld)),
        };
        Ok((CpuStorage::F32(out), self.out_shape()))
    }
    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        s: &candle_core::CudaStorage,
        l: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        let out = match self.1 {
            Movement::Im2Col => super::cuda::im2col::im2col(s, l, &self.0)?,
            Movement::Col2Im => super::cuda::im2col::col2im(s, l, &self.0)?,
        };
        Ok((out, self.out_shape()))
    }
    /// Each movement's gradient is the other one.
    fn bwd(&self, _arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let other = match self.1 {
            Movement::Im2Col => Movement::Col2Im,
            Movement::Col2Im => Movement::Im2Col,
        };
        let op = ConvLayout(self.0, other);
        Ok(Some(grad.contiguous()?.apply_op1_no_bwd(&op)?))
    }
}

/// `cols(X)` from tensor ops, for devices without the custom op: pad, take the `k²` strided views,
/// stack, and reorder to `(C·k·k) × (B·H_o·W_o)`.
fn im2col_tensor_ops(x: &Tensor, g: &ConvGeometry) -> Result<Tensor> {
    let (ho, wo, k, s, p) = (g.out_height(), g.out_width(), g.kernel, g.stride, g.padding);
    // Pad p before, and after as much as the last strided window needs (at least p), so that every
    // view below is a plain narrow: rows i, i + s, …, i + s·(ho − 1) come from s·ho rows at i.
    let after_h = p.max((k - 1 + s * ho).saturating_sub(g.height + p));
    let after_w = p.max((k - 1 + s * wo).saturating_sub(g.width + p));
    let xp = x
        .pad_with_zeros(2, p, after_h)?
        .pad_with_zeros(3, p, after_w)?;
    let fold = |t: &Tensor, dim: usize, start: usize, count: usize| -> Result<Tensor> {
        let t = t.narrow(dim, start, s * count)?;
        let mut shape = t.dims().to_vec();
        shape[dim] = count;
        shape.insert(dim + 1, s);
        t.reshape(shape)?.narrow(dim + 1, 0, 1)?.squeeze(dim + 1)
    };
    let mut views = Vec::with_capacity(k * k);
    for i in 0..k {
        let rows = fold(&xp, 2, i, ho)?;
        for j in 0..k {
            views.push(fold(&rows, 3, j, wo)?);
        }
    }
    // (k², B, C, Ho, Wo) → (C, k², B, Ho, Wo) → (C·k², B·Ho·Wo)
    Tensor::stack(&views, 0)?
        .permute((2, 0, 1, 3, 4))?
        .contiguous()?
        .reshape((g.rows(), g.cols()))
}

/// `Y₂ (C_out × (B·P))`, rows `ld` values apart, to `Y (B × C_out × P)`.
fn batch_major(y2: &[f32], ld: usize, batch: usize, cout: usize, plane: usize) -> Vec<f32> {
    par_chunks_zeroed(batch * cout * plane, cout * plane, |b, dst| {
        for (o, d) in dst.chunks_mut(plane).enumerate() {
            d.copy_from_slice(&y2[o * ld + b * plane..][..plane]);
        }
    })
}

/// The inverse of [`batch_major`]: `Y (B × C_out × P)` to `Y₂ (C_out × (B·P))` with rows `ld`
/// values apart (the rest zero).
fn channel_major(y: &[f32], ld: usize, batch: usize, cout: usize, plane: usize) -> Vec<f32> {
    par_chunks_zeroed(cout * ld, ld, |o, dst| {
        for (b, d) in dst[..batch * plane].chunks_mut(plane).enumerate() {
            d.copy_from_slice(&y[(b * cout + o) * plane..][..plane]);
        }
    })
}

/// The whole convolution as one op on the CPU: inputs `(X, W)`, output `Y`. The forward pass
/// keeps `cols(X)` for the weight gradient when the output will be differentiated.
struct ConvGemm {
    geometry: ConvGeometry,
    cols: Mutex<Option<Vec<f32>>>,
    keep_cols: bool,
}

impl ConvGemm {
    /// The column matrix kept by the forward pass, rows `padded_stride(cols)` apart (a poisoned
    /// lock only means a panic elsewhere; the slot itself is still valid).
    fn kept_cols(&self) -> std::sync::MutexGuard<'_, Option<Vec<f32>>> {
        self.cols.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl CustomOp2 for ConvGemm {
    fn name(&self) -> &'static str {
        "conv2d-gemm"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sw: &CpuStorage,
        lw: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let g = &self.geometry;
        let x = contiguous_f32(sx, lx, "convolution")?;
        let w = contiguous_f32(sw, lw, "convolution")?;
        let cout = lw.shape().dims()[0];
        let ld = padded_stride(g.cols());
        let cols = profile::time(Part::Im2Col, || im2col_cpu(x, g, ld));
        let y2 = profile::time(Part::ConvGemm, || {
            let w2 = MatRef::rows_of(w, cout, g.rows(), g.rows());
            let cols = MatRef::rows_of(&cols, g.rows(), g.cols(), ld);
            matmul(w2, cols, ld, Threads::SplitColumns)
        });
        let plane = g.out_height() * g.out_width();
        let y = profile::time(Part::ConvTranspose, || {
            batch_major(&y2, ld, g.batch, cout, plane)
        });
        if self.keep_cols {
            *self.kept_cols() = Some(cols);
        }
        let shape = Shape::from((g.batch, cout, g.out_height(), g.out_width()));
        Ok((CpuStorage::F32(y), shape))
    }

    /// `∇W₂ = ∇Y₂ · colsᵀ` and `∇X = col2im(W₂ᵀ · ∇Y₂)` (skipped when `X` needs no gradient):
    /// the products candle's matmul backward would compute, operand for operand.
    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let g = &self.geometry;
        let (cout, rows, ncols) = (w.dim(0)?, g.rows(), g.cols());
        let ld = padded_stride(ncols);
        let plane = g.out_height() * g.out_width();
        let grad = grad.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let dy2 = profile::time(Part::ConvTranspose, || {
            channel_major(&grad, ld, g.batch, cout, plane)
        });
        let dy2 = MatRef::rows_of(&dy2, cout, ncols, ld);
        let kept = self.kept_cols().take();
        let cols = match kept {
            Some(c) => c,
            None => im2col_cpu(&x.flatten_all()?.to_vec1::<f32>()?, g, ld),
        };
        let cols = MatRef::rows_of(&cols, rows, ncols, ld);
        let dw = profile::time(Part::ConvGemm, || {
            matmul(dy2, cols.t(), rows, Threads::Gemm)
        });
        let dx = if x.track_op() {
            let w = w.flatten_all()?.to_vec1::<f32>()?;
            let w2t = MatRef::rows_of(&w, cout, rows, rows).t();
            let dcols = profile::time(Part::ConvGemm, || {
                matmul(w2t, dy2, ld, Threads::SplitColumns)
            });
            let dx = profile::time(Part::Col2Im, || col2im_cpu(&dcols, g, ld));
            Some(Tensor::from_vec(dx, x.shape(), &Device::Cpu)?)
        } else {
            None
        };
        Ok((dx, Some(Tensor::from_vec(dw, w.shape(), &Device::Cpu)?)))
    }
}

/// Convolution of `x` (B × C × H × W) with `w` (C_out × C × k × k), no bias, through im2col + GEMM.
pub fn conv2d_gemm(x: &Tensor, w: &Tensor, stride: usize, padding: usize) -> Result<Tensor> {
    let (b, c, h, wd) = x.dims4()?;
    let (_, cin, k, k2) = w.dims4()?;
    if cin != c || k != k2 {
        candle_core::bail!(
            "conv2d_gemm: input {:?} and kernel {:?} do not match",
            x.dims(),
            w.dims()
        );
    }
    let g = ConvGeometry {
        batch: b,
        channels: c,
        height: h,
        width: wd,
        kernel: k,
        stride,
        padding,
    };
    if x.device().is_cpu() {
        let op = ConvGemm {
            geometry: g,
            cols: Mutex::new(None),
            keep_cols: x.track_op() || w.track_op(),
        };
        x.contiguous()?.apply_op2(&w.contiguous()?, op)
    } else {
        conv2d_composed(x, w, &g)
    }
}

/// The convolution as a composition of candle ops (im2col, matmul, permute), whose backward
/// candle derives: the path on CUDA (im2col and col2im as kernels) and other devices (`cols(X)`
/// from tensor ops). On the CPU it computes exactly what [`ConvGemm`] does.
fn conv2d_composed(x: &Tensor, w: &Tensor, g: &ConvGeometry) -> Result<Tensor> {
    let cout = w.dim(0)?;
    let cols = if x.device().is_cpu() || (cfg!(feature = "cuda") && x.device().is_cuda()) {
        x.contiguous()?
            .apply_op1(ConvLayout(*g, Movement::Im2Col))?
    } else {
        im2col_tensor_ops(x, g)?
    };
    let w2 = w.reshape((cout, g.rows()))?;
    let y = w2.matmul(&cols)?; // C_out × (B·Ho·Wo)
    y.reshape((cout, g.batch, g.out_height(), g.out_width()))?
        .permute((1, 0, 2, 3))?
        .contiguous()
}

/// `cols(X)` of geometry `g` for a contiguous `B × C × H × W` tensor (no gradient), on the CPU or
/// CUDA (for the device checks).
pub fn im2col(x: &Tensor, g: &ConvGeometry) -> Result<Tensor> {
    x.contiguous()?
        .apply_op1_no_bwd(&ConvLayout(*g, Movement::Im2Col))
}

/// The adjoint of [`im2col`]: columns summed back into `B × C × H × W` (no gradient).
pub fn col2im(cols: &Tensor, g: &ConvGeometry) -> Result<Tensor> {
    cols.contiguous()?
        .apply_op1_no_bwd(&ConvLayout(*g, Movement::Col2Im))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    use crate::model::ops::custom_op::test_values as rand;

    use crate::model::ops::custom_op::rel_err;

    /// Gradients of `Σ Y·P` by direct loops over every (b, o, y, x, c, i, j):
    /// `∂/∂X[b, c, iy, ix] += W[o, c, i, j] P[b, o, y, x]` and `∂/∂W[o, c, i, j] += X[b, c, iy, ix] P[b, o, y, x]`
    /// with `iy = y·s + i − p`, `ix = x·s + j − p` inside the image.
    fn naive_grads(x: &Var, w: &Var, p: &Tensor, g: &ConvGeometry) -> (Tensor, Tensor) {
        let (co, k) = (w.dims()[0], g.kernel);
        let wv = w
            .as_tensor()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let pv = p.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let (ho, wo) = (g.out_height(), g.out_width());
        let xv = x
            .as_tensor()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let mut dx = vec![0f32; g.batch * g.channels * g.height * g.width];
        let mut dw = vec![0f32; wv.len()];
        for b in 0..g.batch {
            for o in 0..co {
                for y in 0..ho {
                    for xo in 0..wo {
                        let pval = pv[((b * co + o) * ho + y) * wo + xo];
                        for c in 0..g.channels {
                            for i in 0..k {
                                for j in 0..k {
                                    let iy = (y * g.stride + i) as isize - g.padding as isize;
                                    let ix = (xo * g.stride + j) as isize - g.padding as isize;
                                    if iy >= 0
                                        && ix >= 0
                                        && (iy as usize) < g.height
                                        && (ix as usize) < g.width
                                    {
                                        let xi = ((b * g.channels + c) * g.height + iy as usize)
                                            * g.width
                                            + ix as usize;
                                        let wi = ((o * g.channels + c) * k + i) * k + j;
                                        dx[xi] += wv[wi] * pval;
                                        dw[wi] += xv[xi] * pval;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        (
            Tensor::from_vec(dx, x.dims(), x.device()).unwrap(),
            Tensor::from_vec(dw, w.dims(), w.device()).unwrap(),
        )
    }

    /// Geometries of the tests: (B, C, H, W, C_out, k, stride, padding), batch 1 included, and
    /// windows that do not tile the input (H + 2p − k not a multiple of the stride).
    const CASES: [[usize; 8]; 6] = [
        [2, 3, 8, 8, 4, 3, 1, 1],
        [1, 5, 7, 9, 6, 3, 2, 1],
        [3, 4, 9, 7, 5, 1, 2, 0],
        [2, 2, 6, 6, 3, 3, 1, 0],
        [1, 8, 5, 5, 8, 1, 1, 0],
        [2, 3, 11, 10, 2, 3, 2, 0],
    ];

    /// Case `i`'s input and weights (test values from `seed`, `seed + 1`) and geometry.
    fn case(i: usize, seed: u64) -> (Var, Var, ConvGeometry) {
        let [b, c, h, w, co, k, stride, padding] = CASES[i];
        let dev = Device::Cpu;
        let x = Var::from_vec(rand(b * c * h * w, seed), (b, c, h, w), &dev).unwrap();
        let wt = Var::from_vec(rand(co * c * k * k, seed + 1), (co, c, k, k), &dev).unwrap();
        let g = ConvGeometry {
            batch: b,
            channels: c,
            height: h,
            width: w,
            kernel: k,
            stride,
            padding,
        };
        (x, wt, g)
    }

    /// The fused CPU op computes bit for bit what the composition of candle ops computes
    /// (forward, both gradients), so that training results do not depend on which one runs; an
    /// input that needs no gradient (the network's images) gets none.
    #[test]
    fn fused_op_equals_the_composition_bitwise() {
        let dev = Device::Cpu;
        for i in 0..CASES.len() {
            let (x, wt, g) = case(i, 30 + 2 * i as u64);
            let (s, p) = (g.stride, g.padding);
            let fused = conv2d_gemm(x.as_tensor(), wt.as_tensor(), s, p).unwrap();
            let composed = conv2d_composed(x.as_tensor(), wt.as_tensor(), &g).unwrap();
            let bits = |t: &Tensor| -> Vec<u32> {
                let v = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
                v.iter().map(|f| f.to_bits()).collect()
            };
            assert_eq!(bits(&fused), bits(&composed), "case {i} forward");
            let proj = Tensor::from_vec(rand(fused.elem_count(), 50), fused.dims(), &dev).unwrap();
            let grads = |y: &Tensor| (y * &proj).unwrap().sum_all().unwrap().backward().unwrap();
            let (gf, gc) = (grads(&fused), grads(&composed));
            for v in [x.as_tensor(), wt.as_tensor()] {
                let (a, r) = (gf.get(v).unwrap(), gc.get(v).unwrap());
                assert_eq!(bits(a), bits(r), "case {i} gradient");
            }
            let images = x.as_tensor().detach();
            let y = conv2d_gemm(&images, wt.as_tensor(), s, p).unwrap();
            let gi = grads(&y);
            assert!(
                gi.get(&images).is_none(),
                "case {i}: gradient for untracked input"
            );
            assert_eq!(
                bits(gi.get(wt.as_tensor()).unwrap()),
                bits(gf.get(wt.as_tensor()).unwrap())
            );
        }
    }

    /// Forward and both gradients against candle's own conv2d, for both im2col implementations.
    #[test]
    fn matches_candle_conv2d_forward_and_gradients() {
        let dev = Device::Cpu;
        for (i, &[b, c, h, w, co, k, s, p]) in CASES.iter().enumerate() {
            let (x, wt, g) = case(i, 2 * i as u64 + 100);
            let reference = x
                .as_tensor()
                .detach()
                .conv2d(wt.as_tensor(), p, s, 1, 1)
                .unwrap();
            for generic in [false, true] {
                let ours = if generic {
                    let cols = im2col_tensor_ops(x.as_tensor(), &g).unwrap();
                    let y = wt
                        .as_tensor()
                        .reshape((co, c * k * k))
                        .unwrap()
                        .matmul(&cols)
                        .unwrap();
                    y.reshape((co, b, g.out_height(), g.out_width()))
                        .unwrap()
                        .permute((1, 0, 2, 3))
                        .unwrap()
                        .contiguous()
                        .unwrap()
                } else {
                    conv2d_gemm(x.as_tensor(), wt.as_tensor(), s, p).unwrap()
                };
                assert_eq!(ours.dims(), reference.dims(), "case {i}");
                assert!(rel_err(&ours, &reference) < 1e-5, "case {i} forward");
                // Gradients of a fixed random projection P of the output.
                let proj = Tensor::from_vec(
                    rand(reference.elem_count(), 7 + i as u64),
                    reference.dims(),
                    &dev,
                )
                .unwrap();
                let go = (&ours * &proj)
                    .unwrap()
                    .sum_all()
                    .unwrap()
                    .backward()
                    .unwrap();
                // Both gradients against direct loops: candle 0.11's conv2d backward fails with a
                // shape mismatch when (H + 2p − k) is not a multiple of the stride.
                let (dx, dw) = naive_grads(&x, &wt, &proj, &g);
                let a = go.get(wt.as_tensor()).unwrap();
                assert!(
                    rel_err(a, &dw) < 1e-4,
                    "case {i} weight gradient (generic: {generic}): {}",
                    rel_err(a, &dw)
                );
                let a = go.get(x.as_tensor()).unwrap();
                assert!(
                    rel_err(a, &dx) < 1e-4,
                    "case {i} input gradient (generic: {generic}): {}",
                    rel_err(a, &dx)
                );
                if (h + 2 * p - k) % s == 0 && (w + 2 * p - k) % s == 0 {
                    let gr = (&reference * &proj)
                        .unwrap()
                        .sum_all()
                        .unwrap()
                        .backward()
                        .unwrap();
                    let r = gr.get(wt.as_tensor()).unwrap();
                    assert!(
                        rel_err(&dw, r) < 1e-4,
                        "case {i}: loops and candle disagree on the weight gradient"
                    );
                }
            }
        }
    }
}
