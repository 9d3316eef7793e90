//! CUDA kernels for training (`--features cuda`): `im2col`/`col2im` for the GEMM convolution path
//! and a fused BatchNorm. Each source is compiled once per process by NVRTC (part of every CUDA
//! runtime), so the build needs no CUDA compiler beyond what candle already uses.

pub mod batch_norm;
pub mod im2col;

use candle_core::cuda_backend::cudarc::driver::{CudaSlice, CudaView, LaunchConfig};
use candle_core::cuda_backend::CudaStorageSlice;
use candle_core::{CudaStorage, Layout, Result};
use std::sync::OnceLock;

/// The PTX of `source` (the kernels of `module`), compiled by NVRTC at first use.
fn ptx(
    cell: &'static OnceLock<std::result::Result<String, String>>,
    module: &str,
    source: &str,
) -> Result<&'static str> {
    cell.get_or_init(|| {
        candle_core::cuda_backend::cudarc::nvrtc::compile_ptx(source)
            .map(|p| p.to_src())
            .map_err(|e| format!("NVRTC cannot compile the {module} kernels: {e:?}"))
    })
    .as_ref()
    .map(String::as_str)
    .map_err(|e| candle_core::Error::Msg(e.clone()))
}

/// The f32 elements of a contiguous tensor's storage; `what` names the op in errors.
fn contiguous_view<'a>(s: &'a CudaStorage, l: &Layout, what: &str) -> Result<CudaView<'a, f32>> {
    let (start, end) = l
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg(format!("{what}: input must be contiguous")))?;
    Ok(s.as_cuda_slice::<f32>()?.slice(start..end))
}

/// 256 threads per block and enough blocks for `n` elements (the kernels loop grid-stride).
fn grid_stride(n: usize) -> LaunchConfig {
    let block = 256u32;
    LaunchConfig {
        grid_dim: (n.div_ceil(block as usize).clamp(1, 1 << 20) as u32, 1, 1),
        block_dim: (block, 1, 1),
        shared_mem_bytes: 0,
    }
}

fn wrap(slice: CudaSlice<f32>, like: &CudaStorage) -> CudaStorage {
    CudaStorage {
        slice: CudaStorageSlice::F32(slice),
        device: like.device.clone(),
    }
}
