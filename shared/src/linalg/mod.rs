//! Linear algebra behind the metrics: centring, Gram/covariance products and symmetric eigenvalues.
//!
//! faer is used rather than nalgebra because the full report must not be slower than numpy+LAPACK
//! (docs/DESIGN.md §6): on this project's 2-core machine nalgebra needed ~3 s for the Gram matrix and
//! eigenvalues of a 2000 × 2048 matrix, against 0.47 s for numpy, while faer's blocked kernels
//! (and its rayon parallelism on native targets) are in numpy's range. The eigenvalues come from
//! [`eigen`]: from order 800 on a two-stage reduction built on faer's matrix products (a 2000 ×
//! 2000 matrix in 0.24 s on one core, against 0.41 s for faer's one-stage solver), below it faer's
//! one-stage reduction; root-free QL/QR in both cases.

/// The kernels the matrix products run in this build: in WebAssembly `"relaxed-simd"` (the
/// viewer's relaxed build: the Gram kernel's fused multiply-adds, and faer's products on the
/// gemm crate's simd128 kernels), `"simd128"` or `"scalar"` (the gemm crate's choice, fixed at
/// its first product); `"native"` elsewhere (runtime dispatch by CPU features). The viewer
/// reports it, and its tests fail on `"scalar"`.
pub fn product_kernels() -> &'static str {
    #[cfg(target_arch = "wasm32")]
    {
        match (gemm::get_wasm_simd128(), cfg!(feature = "relaxed-simd")) {
            (true, true) => "relaxed-simd",
            (true, false) => "simd128",
            (false, _) => "scalar",
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        "native"
    }
}

mod centered;
mod eigen;
mod gram;
pub mod moments;
pub(crate) mod reduce;
mod spectrum;

pub(crate) use centered::binary_exponent;
pub use centered::CenteredMatrix;
pub use gram::gram;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub use gram::gram_fused;
pub use spectrum::Kernel;
pub(crate) use spectrum::{
    frobenius_squared, kernel_inner_product as spectrum_kernel_inner_product, lower_inner_product,
    second_moment_eigenvalues, spectrum,
};
