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
///
/// On Linux the model name is followed by the CPU's family, model and stepping and its cache
/// sizes (a virtual machine's model name can be as vague as `AMD EPYC`, shared by CPU generations
/// that train to different results): `CPU AMD EPYC (family 26 model 2 stepping 1, caches
/// 48K 32K 1024K 32768K; x86_64, AVX-512, 2 threads)`.
pub fn describe(device: &Device) -> String {
    if device.is_cuda() {
        return "CUDA device 0".into();
    }
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |key: &str| {
        info.lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim().to_string())
    };
    let model = field("model name").unwrap_or_else(|| "unknown CPU".into());
    let ids: Vec<String> = [
        ("cpu family", "family"),
        ("model", "model"),
        ("stepping", "stepping"),
    ]
    .iter()
    .filter_map(|(key, label)| field(key).map(|v| format!("{label} {v}")))
    .collect();
    let caches = cache_sizes();
    let mut parts = Vec::new();
    if !ids.is_empty() {
        parts.push(ids.join(" "));
    }
    if !caches.is_empty() {
        parts.push(format!("caches {}", caches.join(" ")));
    }
    let identity = if parts.is_empty() {
        String::new()
    } else {
        format!("{}; ", parts.join(", "))
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!(
        "CPU {model} ({identity}{}, {}, {threads} threads)",
        std::env::consts::ARCH,
        simd_level()
    )
}

/// The sizes of the first core's caches as Linux lists them (`index0`, `index1`, …), which the
/// GEMM kernels' blocking is chosen from; empty elsewhere.
fn cache_sizes() -> Vec<String> {
    let dir = std::path::Path::new("/sys/devices/system/cpu/cpu0/cache");
    (0..8)
        .map_while(|i| std::fs::read_to_string(dir.join(format!("index{i}/size"))).ok())
        .map(|s| s.trim().to_string())
        .collect()
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
        // Where Linux lists them, the CPU's family and first cache size are named (read here
        // directly from the files).
        if let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") {
            if let Some(family) = info
                .lines()
                .find(|l| l.starts_with("cpu family"))
                .and_then(|l| l.split_once(':'))
            {
                assert!(d.contains(&format!("family {}", family.1.trim())), "{d}");
            }
        }
        if let Ok(size) = std::fs::read_to_string("/sys/devices/system/cpu/cpu0/cache/index0/size")
        {
            assert!(d.contains(&format!("caches {}", size.trim())), "{d}");
        }
        #[cfg(target_arch = "x86_64")]
        assert!(
            ["AVX-512", "AVX2 + FMA", "SSE2"]
                .iter()
                .any(|s| d.contains(s)),
            "{d}"
        );
    }
}
