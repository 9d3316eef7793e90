//! BatchNorm training on CUDA, forward and backward each as one kernel with one block per channel
//! (the formulas of `model/batch_norm.rs`; sums in f64). Outputs are packed so that one custom op
//! returns everything: forward `[y (B·C·HW) | mean (C) | var (C)]`, backward
//! `[∂x (B·C·HW) | ∂γ (C) | ∂β (C)]`. The backward recomputes the batch statistics from `x`
//! rather than keeping them between the passes.

use super::{contiguous_view, ptx, wrap};
use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::{LaunchConfig, PushKernelArg};
use candle_core::cuda_backend::WrapErr;
use candle_core::{CudaStorage, Layout, Result};
use std::sync::OnceLock;

const SOURCE: &str = r#"
// Sums a and b over the block; every thread gets the totals.
__device__ void block_sum2(double& a, double& b) {
    __shared__ double sa[32], sb[32];
    __syncthreads();  // a previous call's readers are done with sa[0], sb[0]
    for (int o = 16; o > 0; o >>= 1) {
        a += __shfl_down_sync(0xffffffff, a, o);
        b += __shfl_down_sync(0xffffffff, b, o);
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { sa[warp] = a; sb[warp] = b; }
    __syncthreads();
    if (warp == 0) {
        const int warps = (blockDim.x + 31) >> 5;
        a = lane < warps ? sa[lane] : 0.0;
        b = lane < warps ? sb[lane] : 0.0;
        for (int o = 16; o > 0; o >>= 1) {
            a += __shfl_down_sync(0xffffffff, a, o);
            b += __shfl_down_sync(0xffffffff, b, o);
        }
        if (lane == 0) { sa[0] = a; sb[0] = b; }
    }
    __syncthreads();
    a = sa[0];
    b = sb[0];
}

// Mean and biased variance of channel c over the B·HW values.
__device__ void channel_stats(const float* x, int B, int C, int HW, int c, double& mean, double& var) {
    const long n = (long)B * HW;
    double s = 0.0, q = 0.0;
    for (long k = threadIdx.x; k < n; k += blockDim.x) {
        const double v = x[((k / HW) * C + c) * HW + k % HW];
        s += v;
        q += v * v;
    }
    block_sum2(s, q);
    mean = s / n;
    var = fmax(q / n - mean * mean, 0.0);
}

extern "C" __global__ void bn_train_fwd(const float* x, const float* w, const float* bias, float* out,
                                        int B, int C, int HW, float eps) {
    const int c = blockIdx.x;
    const long n = (long)B * HW;
    double mean, var;
    channel_stats(x, B, C, HW, c, mean, var);
    const float m = (float)mean, g = (float)(w[c] / sqrt(var + eps)), be = bias[c];
    for (long k = threadIdx.x; k < n; k += blockDim.x) {
        const long i = ((k / HW) * C + c) * HW + k % HW;
        out[i] = (x[i] - m) * g + be;
    }
    if (threadIdx.x == 0) {
        const long total = (long)B * C * HW;
        out[total + c] = (float)mean;
        out[total + C + c] = (float)var;
    }
}

extern "C" __global__ void bn_train_bwd(const float* x, const float* dy, const float* w, float* out,
                                        int B, int C, int HW, float eps) {
    const int c = blockIdx.x;
    const long n = (long)B * HW;
    double mean, var;
    channel_stats(x, B, C, HW, c, mean, var);
    const double inv = 1.0 / sqrt(var + eps);
    double sd = 0.0, sdx = 0.0;
    for (long k = threadIdx.x; k < n; k += blockDim.x) {
        const long i = ((k / HW) * C + c) * HW + k % HW;
        sd += dy[i];
        sdx += dy[i] * (x[i] - mean) * inv;
    }
    block_sum2(sd, sdx);
    const float k0 = (float)(w[c] * inv / n), nf = (float)n, m = (float)mean, is = (float)inv;
    const float sdf = (float)sd, sdxf = (float)sdx;
    for (long k = threadIdx.x; k < n; k += blockDim.x) {
        const long i = ((k / HW) * C + c) * HW + k % HW;
        out[i] = k0 * (nf * dy[i] - sdf - (x[i] - m) * is * sdxf);
    }
    if (threadIdx.x == 0) {
        const long total = (long)B * C * HW;
        out[total + c] = (float)sdx;
        out[total + C + c] = (float)sd;
    }
}
"#;

/// The forward pass on `(x, γ, β)`: `[y | mean | var]` (`B·C·HW + 2C` values).
pub fn forward(
    x: (&CudaStorage, &Layout),
    w: (&CudaStorage, &Layout),
    bias: (&CudaStorage, &Layout),
    dims: (usize, usize, usize),
    eps: f64,
) -> Result<CudaStorage> {
    run("bn_train_fwd", x, w, bias, dims, eps)
}

/// The backward pass on `(x, dy, γ)`: `[∂x | ∂γ | ∂β]` (`B·C·HW + 2C` values).
pub fn backward(
    x: (&CudaStorage, &Layout),
    dy: (&CudaStorage, &Layout),
    w: (&CudaStorage, &Layout),
    dims: (usize, usize, usize),
    eps: f64,
) -> Result<CudaStorage> {
    run("bn_train_bwd", x, dy, w, dims, eps)
}

/// Runs the kernel `name` with one 256-thread block per channel, returning the packed
/// `B·C·HW + 2C` outputs.
fn run(
    name: &'static str,
    a: (&CudaStorage, &Layout),
    b: (&CudaStorage, &Layout),
    c: (&CudaStorage, &Layout),
    dims: (usize, usize, usize),
    eps: f64,
) -> Result<CudaStorage> {
    static PTX: OnceLock<std::result::Result<String, String>> = OnceLock::new();
    let (batch, channels, hw) = dims;
    let len = batch * channels * hw + 2 * channels;
    let dev = a.0.device();
    let (va, vb, vc) = (
        contiguous_view(a.0, a.1, name)?,
        contiguous_view(b.0, b.1, name)?,
        contiguous_view(c.0, c.1, name)?,
    );
    // SAFETY: the kernel writes every element (each block its channel, thread 0 the two sums).
    let out = unsafe { dev.alloc::<f32>(len)? };
    let func = dev.get_or_load_custom_func(
        name,
        "reps_batch_norm",
        ptx(&PTX, "reps_batch_norm", SOURCE)?,
    )?;
    let ints = [batch, channels, hw].map(|v| v as i32);
    let eps = eps as f32;
    let mut builder = func.builder();
    builder.arg(&va);
    builder.arg(&vb);
    builder.arg(&vc);
    builder.arg(&out);
    for v in &ints {
        builder.arg(v);
    }
    builder.arg(&eps);
    let cfg = LaunchConfig {
        grid_dim: (channels as u32, 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    };
    // SAFETY: the argument list matches the kernel's signature.
    unsafe { builder.launch(cfg) }.w()?;
    Ok(wrap(out, a.0))
}
