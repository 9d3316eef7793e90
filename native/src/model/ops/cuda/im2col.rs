//! `im2col` and `col2im` on CUDA, so that the GEMM convolution path does one gather and one cuBLAS
//! product per pass instead of assembling `cols(X)` from k² strided copies.
//!
//! Layouts are those of the CPU op (`conv.rs`): `cols` is `(C·k·k) × (B·H_o·W_o)`, row
//! `(c, i, j)`, column `(b, y, x)`. `col2im` gathers (each input element sums the columns that
//! read it), so it needs no atomics and is deterministic.

use super::{contiguous_view, grid_stride, ptx, wrap};
use crate::model::ops::geometry::ConvGeometry;
use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::PushKernelArg;
use candle_core::cuda_backend::WrapErr;
use candle_core::{CudaStorage, Layout, Result};
use std::sync::OnceLock;

const SOURCE: &str = r#"
extern "C" __global__ void im2col_f32(const float* x, float* cols, int B, int C, int H, int W,
                                      int K, int S, int P, int Ho, int Wo) {
    const long ncols = (long)B * Ho * Wo;
    const long n = (long)C * K * K * ncols;
    for (long idx = blockIdx.x * (long)blockDim.x + threadIdx.x; idx < n;
         idx += (long)gridDim.x * blockDim.x) {
        const long col = idx % ncols, row = idx / ncols;
        const int xo = col % Wo, yo = (col / Wo) % Ho, b = col / ((long)Wo * Ho);
        const int j = row % K, i = (row / K) % K, c = row / (K * K);
        const int iy = yo * S + i - P, ix = xo * S + j - P;
        float v = 0.0f;
        if (iy >= 0 && iy < H && ix >= 0 && ix < W) v = x[(((long)b * C + c) * H + iy) * W + ix];
        cols[idx] = v;
    }
}

extern "C" __global__ void col2im_f32(const float* cols, float* x, int B, int C, int H, int W,
                                      int K, int S, int P, int Ho, int Wo) {
    const long ncols = (long)B * Ho * Wo;
    const long n = (long)B * C * H * W;
    for (long idx = blockIdx.x * (long)blockDim.x + threadIdx.x; idx < n;
         idx += (long)gridDim.x * blockDim.x) {
        const int ix = idx % W, iy = (idx / W) % H, c = (idx / ((long)W * H)) % C;
        const int b = idx / ((long)W * H * C);
        float acc = 0.0f;
        for (int i = 0; i < K; i++) {
            const int ty = iy + P - i;
            if (ty < 0 || ty % S != 0 || ty / S >= Ho) continue;
            for (int j = 0; j < K; j++) {
                const int tx = ix + P - j;
                if (tx < 0 || tx % S != 0 || tx / S >= Wo) continue;
                acc += cols[((long)(c * K + i) * K + j) * ncols + ((long)b * Ho + ty / S) * Wo + tx / S];
            }
        }
        x[idx] = acc;
    }
}
"#;

/// `im2col` of geometry `g`: `(C·k·k) × (B·H_o·W_o)` columns from a `B × C × H × W` input.
pub fn im2col(s: &CudaStorage, l: &Layout, g: &ConvGeometry) -> Result<CudaStorage> {
    run("im2col_f32", s, l, g, g.rows() * g.cols())
}

/// `col2im` of geometry `g`: a `B × C × H × W` tensor from `(C·k·k) × (B·H_o·W_o)` columns.
pub fn col2im(s: &CudaStorage, l: &Layout, g: &ConvGeometry) -> Result<CudaStorage> {
    run(
        "col2im_f32",
        s,
        l,
        g,
        g.batch * g.channels * g.height * g.width,
    )
}

/// Runs `kernel` of geometry `g` on `s`, into a new buffer of `len` elements.
fn run(
    kernel: &'static str,
    s: &CudaStorage,
    l: &Layout,
    g: &ConvGeometry,
    len: usize,
) -> Result<CudaStorage> {
    static PTX: OnceLock<std::result::Result<String, String>> = OnceLock::new();
    let dev = s.device();
    let src = contiguous_view(s, l, kernel)?;
    // SAFETY: every element is written by the kernel below.
    let dst = unsafe { dev.alloc::<f32>(len)? };
    let func =
        dev.get_or_load_custom_func(kernel, "reps_im2col", ptx(&PTX, "reps_im2col", SOURCE)?)?;
    let dims = [
        g.batch,
        g.channels,
        g.height,
        g.width,
        g.kernel,
        g.stride,
        g.padding,
        g.out_height(),
        g.out_width(),
    ]
    .map(|v| v as i32);
    let mut b = func.builder();
    b.arg(&src);
    b.arg(&dst);
    for d in &dims {
        b.arg(d);
    }
    // SAFETY: the argument list matches the kernel's signature; sizes come from `g`.
    unsafe { b.launch(grid_stride(len)) }.w()?;
    Ok(wrap(dst, s))
}
