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

use super::custom_op::{contiguous_f32, par_chunks_zeroed, with_cpu_f32};
pub use super::geometry::ConvGeometry;
use super::matmul::{matmul, padded_stride, MatRef, Threads};
use super::profile::{self, Part};
use candle_core::{CpuStorage, CustomOp1, CustomOp2, Device, Layout, Result, Shape, Tensor};
use std::ops::Range;
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

/// Row `row = (c, i, j)` of `cols(X)` for image `b`: `dst` (`H_o·W_o` values, zero on entry)
/// gets, per output row, a (strided) copy of one input row, left zero where the window reaches
/// into the padding.
fn im2col_image_row(x: &[f32], g: &ConvGeometry, row: usize, b: usize, dst: &mut [f32]) {
    let (ho, wo, k, s) = (g.out_height(), g.out_width(), g.kernel, g.stride);
    let (c, i, j) = (row / (k * k), (row / k) % k, row % k);
    let (ys, xs) = (g.inside(i, g.height, ho), g.inside(j, g.width, wo));
    let plane = &x[(b * g.channels + c) * g.height * g.width..][..g.height * g.width];
    for y in ys {
        let src = &plane[(y * s + i - g.padding) * g.width..][..g.width];
        let d = &mut dst[y * wo..][..wo];
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

/// Adds one image's columns back into its input plane of channel `c` (`dst`, `H × W`): `cols`
/// has rows `ld` values apart and the image's `H_o·W_o` columns from `first`. Kernel offsets
/// `(i, j)` are summed in order, so every element's sum has a fixed order.
fn col2im_image_plane(
    cols: &[f32],
    g: &ConvGeometry,
    ld: usize,
    first: usize,
    c: usize,
    dst: &mut [f32],
) {
    let (ho, wo, k, s) = (g.out_height(), g.out_width(), g.kernel, g.stride);
    for i in 0..k {
        let ys = g.inside(i, g.height, ho);
        for j in 0..k {
            let xs = g.inside(j, g.width, wo);
            let src = &cols[((c * k + i) * k + j) * ld + first..][..ho * wo];
            for y in ys.clone() {
                let v = &src[y * wo..][..wo];
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
}

/// Row `row` of `cols(X)` for the consecutive images `images`, into `dst` (zero on entry, one
/// `H_o·W_o` piece per image).
fn im2col_images_row(
    x: &[f32],
    g: &ConvGeometry,
    row: usize,
    images: Range<usize>,
    dst: &mut [f32],
) {
    let plane = g.out_height() * g.out_width();
    for (b, d) in images.zip(dst.chunks_mut(plane)) {
        im2col_image_row(x, g, row, b, d);
    }
}

/// `cols(X)` (`(C·k·k) × (B·H_o·W_o)`), rows `ld ≥ g.cols()` values apart (the rest of each row
/// zero); row `(c, i, j)`, column `(b, y, x)` holds `X[b, c, y·s + i − p, x·s + j − p]`.
fn im2col_cpu(x: &[f32], g: &ConvGeometry, ld: usize) -> Vec<f32> {
    par_chunks_zeroed(g.rows() * ld, ld, |row, dst| {
        im2col_images_row(x, g, row, 0..g.batch, &mut dst[..g.cols()]);
    })
}

/// The adjoint of [`im2col_cpu`] (columns' rows `ld` values apart), one input plane at a time.
fn col2im_cpu(cols: &[f32], g: &ConvGeometry, ld: usize) -> Vec<f32> {
    let (plane, out_plane) = (g.height * g.width, g.out_height() * g.out_width());
    par_chunks_zeroed(g.batch * g.channels * plane, plane, |plane, dst| {
        let (b, c) = (plane / g.channels, plane % g.channels);
        col2im_image_plane(cols, g, ld, b * out_plane, c, dst);
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

/// The inverse of [`batch_major_into`] for a whole batch: `Y (B × C_out × P)` to
/// `Y₂ (C_out × (B·P))` with rows `ld` values apart (the rest zero).
fn channel_major(y: &[f32], ld: usize, batch: usize, cout: usize, plane: usize) -> Vec<f32> {
    par_chunks_zeroed(cout * ld, ld, |o, dst| {
        for (b, d) in dst[..batch * plane].chunks_mut(plane).enumerate() {
            d.copy_from_slice(&y[(b * cout + o) * plane..][..plane]);
        }
    })
}

/// `Y₂ (C_out × (n·P))`, rows `ld` values apart, to `Y (n × C_out × P)` in `dst`.
fn batch_major_into(y2: &[f32], ld: usize, cout: usize, plane: usize, dst: &mut [f32]) {
    for (bo, d) in dst.chunks_mut(plane).enumerate() {
        let (b, o) = (bo / cout, bo % cout);
        d.copy_from_slice(&y2[o * ld + b * plane..][..plane]);
    }
}

/// Fewest columns in a block of [`image_blocks`]: more than 64, so that `gemm` takes the same
/// path for a block as for the whole matrix (for products wider than 64 it blocks the depth by a
/// size that depends on the depth alone, `gemm_common::cache::kernel_params`), and each output
/// element is the same dot product summed in the same order.
const MIN_BLOCK_COLUMNS: usize = 256;

/// The batch cut into consecutive blocks of whole images, each at least [`MIN_BLOCK_COLUMNS`]
/// columns (`plane` per image) wide; the remainder joins the last block, and a batch narrower
/// than that is one block.
fn image_blocks(batch: usize, plane: usize) -> Vec<Range<usize>> {
    let per = MIN_BLOCK_COLUMNS.div_ceil(plane.max(1));
    let count = (batch / per).max(usize::from(batch > 0));
    (0..count)
        .map(|i| i * per..if i + 1 == count { batch } else { (i + 1) * per })
        .collect()
}

/// `data` cut into consecutive pieces of `unit` values per image of each block.
fn pieces<'a>(mut data: &'a mut [f32], blocks: &[Range<usize>], unit: usize) -> Vec<&'a mut [f32]> {
    blocks
        .iter()
        .map(|r| {
            let (head, rest) = std::mem::take(&mut data).split_at_mut(r.len() * unit);
            data = rest;
            head
        })
        .collect()
}

/// A pointer the blocks of one computation write through, each to its own elements.
#[derive(Clone, Copy)]
struct BlockOutput(*mut f32);
// SAFETY: shared only by blocks that write disjoint elements, within a scope that the allocation
// outlives.
unsafe impl Send for BlockOutput {}
unsafe impl Sync for BlockOutput {}

impl BlockOutput {
    fn at(self, offset: usize) -> *mut f32 {
        self.0.wrapping_add(offset)
    }
}

/// The whole convolution as one op on the CPU: inputs `(X, W)`, output `Y`.
///
/// The forward pass and the input gradient run by blocks of whole images ([`image_blocks`]), in
/// parallel: a block's columns are built, multiplied and laid out while they are in cache,
/// instead of one pass over the whole column matrix each (`k²` times the input, far larger than
/// the caches). The forward pass also copies each block's columns into the whole `cols(X)`,
/// kept for the weight gradient when the output will be differentiated; that product sums over
/// every column and runs on the whole matrices.
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

    /// `Y = W₂ · cols(X)` by blocks of images, and `cols(X)` (rows `padded_stride` apart) if it
    /// is to be kept.
    fn forward(&self, x: &[f32], w: &[f32], cout: usize) -> (Vec<f32>, Option<Vec<f32>>) {
        use rayon::prelude::*;
        let g = &self.geometry;
        let (rows, plane) = (g.rows(), g.out_height() * g.out_width());
        let ld = padded_stride(g.cols());
        let blocks = image_blocks(g.batch, plane);
        let mut y = vec![0f32; g.batch * cout * plane];
        let mut kept: Vec<f32> = Vec::with_capacity(if self.keep_cols { rows * ld } else { 0 });
        let out = BlockOutput(kept.as_mut_ptr());
        let w2 = MatRef::rows_of(w, cout, rows, rows);
        profile::split(|shares| {
            let work = pieces(&mut y, &blocks, cout * plane);
            work.into_par_iter().zip(&blocks).for_each(|(y, images)| {
                let width = images.len() * plane;
                let cols = shares.time(Part::Im2Col, || {
                    let mut cols = vec![0f32; rows * width];
                    for (row, dst) in cols.chunks_mut(width).enumerate() {
                        im2col_images_row(x, g, row, images.clone(), dst);
                    }
                    cols
                });
                let y2 = shares.time(Part::ConvGemm, || {
                    let cols = MatRef::rows_of(&cols, rows, width, width);
                    matmul(w2, cols, width, Threads::One)
                });
                shares.time(Part::ConvTranspose, || {
                    batch_major_into(&y2, width, cout, plane, y)
                });
                if self.keep_cols {
                    shares.time(Part::Im2Col, || {
                        for (row, src) in cols.chunks(width).enumerate() {
                            // SAFETY: `kept` has room for `rows · ld` values; this block alone
                            // writes columns `images.start · plane ..` of width `width < ld`.
                            unsafe {
                                let dst = out.at(row * ld + images.start * plane);
                                std::ptr::copy_nonoverlapping(src.as_ptr(), dst, width);
                            }
                        }
                    });
                }
            });
        });
        if !self.keep_cols {
            return (y, None);
        }
        for row in 0..rows {
            // SAFETY: the padding after each row's `g.cols()` values, inside the capacity.
            unsafe { std::ptr::write_bytes(out.at(row * ld + g.cols()), 0, ld - g.cols()) };
        }
        // SAFETY: every value of `0..rows · ld` was written above: the blocks cover the columns,
        // and the padding was zeroed.
        unsafe { kept.set_len(rows * ld) };
        (y, Some(kept))
    }

    /// `∇X = col2im(W₂ᵀ · ∇Y₂)` by blocks of images (`dy2`: `∇Y₂`, rows `ld` apart).
    fn input_gradient(&self, w: &[f32], cout: usize, dy2: &[f32], ld: usize) -> Vec<f32> {
        use rayon::prelude::*;
        let g = &self.geometry;
        let (rows, plane) = (g.rows(), g.out_height() * g.out_width());
        let image = g.channels * g.height * g.width;
        let blocks = image_blocks(g.batch, plane);
        let mut dx = vec![0f32; g.batch * image];
        let w2t = MatRef::rows_of(w, cout, rows, rows).t();
        profile::split(|shares| {
            let work = pieces(&mut dx, &blocks, image);
            work.into_par_iter().zip(&blocks).for_each(|(dx, images)| {
                let width = images.len() * plane;
                let dy = MatRef::rows_of(&dy2[images.start * plane..], cout, width, ld);
                let dcols = shares.time(Part::ConvGemm, || matmul(w2t, dy, width, Threads::One));
                shares.time(Part::Col2Im, || {
                    for (b, dx) in dx.chunks_mut(image).enumerate() {
                        for (c, p) in dx.chunks_mut(g.height * g.width).enumerate() {
                            col2im_image_plane(&dcols, g, width, b * plane, c, p);
                        }
                    }
                });
            });
        });
        dx
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
        let (y, cols) = self.forward(x, w, cout);
        if let Some(cols) = cols {
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
        let dy2 = with_cpu_f32(grad, "convolution gradient", |grad| {
            Ok(profile::time(Part::ConvTranspose, || {
                channel_major(grad, ld, g.batch, cout, plane)
            }))
        })?;
        let kept = self.kept_cols().take();
        let cols = match kept {
            Some(c) => c,
            None => with_cpu_f32(x, "convolution", |x| Ok(im2col_cpu(x, g, ld)))?,
        };
        let cols = MatRef::rows_of(&cols, rows, ncols, ld);
        let dw = profile::time(Part::ConvGemm, || {
            matmul(
                MatRef::rows_of(&dy2, cout, ncols, ld),
                cols.t(),
                rows,
                Threads::Gemm,
            )
        });
        let dx = if x.track_op() {
            let dx = with_cpu_f32(w, "convolution", |w| {
                Ok(self.input_gradient(w, cout, &dy2, ld))
            })?;
            Some(Tensor::from_vec(dx, x.shape(), &Device::Cpu)?)
        } else {
            None
        };
        Ok((dx, Some(Tensor::from_vec(dw, w.shape(), &Device::Cpu)?)))
    }
}

/// Convolution of `x` (B × C × H × W) with `w` (C_out × C × k × k), no bias, through im2col + GEMM:
/// on the CPU one op ([`ConvGemm`]) when `fused`, else the composition of candle ops (the same
/// bits; the structure of the CUDA path).
pub fn conv2d_gemm(
    x: &Tensor,
    w: &Tensor,
    stride: usize,
    padding: usize,
    fused: bool,
) -> Result<Tensor> {
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
    if fused && x.device().is_cpu() {
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

    use crate::model::ops::custom_op::{test_bits as bits, test_values as rand};

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
    const CASES: [[usize; 8]; 7] = [
        [2, 3, 8, 8, 4, 3, 1, 1],
        [1, 5, 7, 9, 6, 3, 2, 1],
        [3, 4, 9, 7, 5, 1, 2, 0],
        [2, 2, 6, 6, 3, 3, 1, 0],
        [1, 8, 5, 5, 8, 1, 1, 0],
        [2, 3, 11, 10, 2, 3, 2, 0],
        [9, 3, 8, 8, 8, 3, 1, 1],
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
            let fused = conv2d_gemm(x.as_tensor(), wt.as_tensor(), s, p, true).unwrap();
            let composed = conv2d_composed(x.as_tensor(), wt.as_tensor(), &g).unwrap();
            assert_eq!(bits(&fused), bits(&composed), "case {i} forward");
            let proj = Tensor::from_vec(rand(fused.elem_count(), 50), fused.dims(), &dev).unwrap();
            let grads = |y: &Tensor| (y * &proj).unwrap().sum_all().unwrap().backward().unwrap();
            let (gf, gc) = (grads(&fused), grads(&composed));
            for v in [x.as_tensor(), wt.as_tensor()] {
                let (a, r) = (gf.get(v).unwrap(), gc.get(v).unwrap());
                assert_eq!(bits(a), bits(r), "case {i} gradient");
            }
            let images = x.as_tensor().detach();
            let y = conv2d_gemm(&images, wt.as_tensor(), s, p, true).unwrap();
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
                    conv2d_gemm(x.as_tensor(), wt.as_tensor(), s, p, true).unwrap()
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
