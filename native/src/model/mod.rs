//! Networks: the architectures (`arch/`, a registry), the layers they are built from, their
//! parameters with the role each was created with, seeded initialisation, and the custom ops of
//! the fast training path.

pub mod arch;
mod init;
pub mod layers;
mod network;
pub mod ops;
pub mod params;

pub use arch::{Architecture, Captured, NetConfig, Reduce};
pub use init::initialise;
pub use layers::Kernels;
pub use network::{Network, WeightTensor};
