//! Choosing the compute device.

use crate::cli::DeviceChoice;
use anyhow::Result;
use candle_core::Device;

/// The candle device for `--device`.
pub fn select(choice: DeviceChoice) -> Result<Device> {
    match choice {
        DeviceChoice::Cpu => Ok(Device::Cpu),
        #[cfg(feature = "cuda")]
        DeviceChoice::Cuda => {
            let d = Device::new_cuda(0)
                .map_err(|e| anyhow::anyhow!("cannot open CUDA device 0: {e}"))?;
            candle_core::cuda::set_gemm_reduced_precision_f32(true);
            Ok(d)
        }
        #[cfg(not(feature = "cuda"))]
        DeviceChoice::Cuda => anyhow::bail!(
            "--device cuda: this binary was built without CUDA support; build it with `cargo build --release -p native --features cuda` (see scripts/build-cuda.sh)"
        ),
    }
}
