//! The custom ops of the training path, organised as candle's: one op struct per concept with
//! its CPU implementation and, behind the `cuda` feature, its CUDA one calling a typed launcher
//! in `cuda/` (kernels in that leaf module; the convolution's geometry in `geometry`, which both
//! sides import). Device checks live in `verify`.

pub mod batch_norm;
pub mod conv;
#[cfg(feature = "cuda")]
mod cuda;
pub(crate) mod custom_op;
pub mod geometry;
pub mod layer_norm;
mod matmul;
pub mod profile;
pub mod residual;
pub mod softmax;
pub mod verify;
