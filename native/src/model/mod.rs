//! The CIFAR ResNet-18 with torchvision's parameter and layer names, its seeded initialisation,
//! and the activations it exposes for analysis.

mod batch_norm;
mod conv;
#[cfg(feature = "cuda")]
mod cuda;
mod custom_op;
mod init;
mod network;
mod resnet;

pub use batch_norm::max_difference as max_batch_norm_difference;
pub use conv::max_op_difference;
pub use init::initialise;
pub use network::Network;
pub use resnet::{Captured, ConvPath, ResNet18, CAPTURE_LAYERS};
