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

/// What the computation runs on, for `sweep.log`: the CPU's model name (from `/proc/cpuinfo` on
/// Linux), its architecture and the widest SIMD the matrix products dispatch to, and the threads;
/// or the CUDA device. Results are bit-reproducible on the same CPU model; across CPU models the
/// GEMM kernels' blocking (from the cache sizes and instruction set the CPU reports) orders the
/// sums differently, so training ends elsewhere, and the log says where a run came from.
pub fn describe(device: &Device) -> String {
    if device.is_cuda() {
        return "CUDA device 0".into();
    }
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!(
        "CPU {model} ({}, {}, {threads} threads)",
        std::env::consts::ARCH,
        simd_level()
    )
}

/// The widest vector instructions this CPU offers the GEMM kernels.
fn simd_level() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return "AVX-512";
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return "AVX2 + FMA";
        }
        "SSE2"
    }
    #[cfg(target_arch = "aarch64")]
    {
        "NEON"
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        "scalar"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_is_described_with_its_architecture_and_threads() {
        let d = describe(&Device::Cpu);
        let threads = std::thread::available_parallelism().unwrap().get();
        assert!(d.starts_with("CPU "), "{d}");
        assert!(d.contains(std::env::consts::ARCH), "{d}");
        assert!(d.ends_with(&format!("{threads} threads)")), "{d}");
        #[cfg(target_arch = "x86_64")]
        assert!(
            ["AVX-512", "AVX2 + FMA", "SSE2"]
                .iter()
                .any(|s| d.contains(s)),
            "{d}"
        );
    }
}
