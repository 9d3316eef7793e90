//! Networks: the architectures (`arch/`, a registry), the layers they are built from, their
//! parameters with the role each was created with, seeded initialisation, and the custom ops of
//! the fast training path.

pub mod arch;
mod batch_norm;
mod conv;
#[cfg(feature = "cuda")]
mod cuda;
mod custom_op;
mod init;
pub mod layers;
mod network;
pub mod params;

pub use arch::{Architecture, Captured, NetConfig, Reduce};
pub use batch_norm::max_difference as max_batch_norm_difference;
pub use conv::max_op_difference;
pub use init::initialise;
pub use layers::Kernels;
pub use network::{Network, WeightTensor};
