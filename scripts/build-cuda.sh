#!/usr/bin/env bash
# Builds the `native` binary with CUDA support on a machine without a GPU or CUDA toolkit, from the
# Python package index's NVIDIA wheels (CUDA 13.0, sm_90; see docs/TOOLCHAIN.md), into
# target-cuda/release/native. Run the result with --device cuda on a CUDA 13 machine whose
# LD_LIBRARY_PATH holds libcuda.so.1, libcublas.so.13, libcublasLt.so.13, libcurand.so.10 and
# libcudart.so.13.
set -euo pipefail
cd "$(dirname "$0")/.."
root=${CUDA_BUILD_DIR:-$HOME/.cache/reps-cuda13}
cu=$root/nvidia/cu13
if [ ! -x "$cu/bin/nvcc" ]; then
  mkdir -p "$root"
  python3 -m pip install -q --no-deps --target "$root" \
    "nvidia-cuda-nvcc==13.0.88" "nvidia-cuda-runtime==13.0.96" "nvidia-cuda-cccl==13.0.*" \
    "nvidia-cuda-crt==13.0.*" "nvidia-nvvm==13.0.*" "nvidia-cublas==13.0.*" "nvidia-curand==10.4.*" \
    "nvidia-cuda-nvrtc==13.0.*"
fi
for l in libcublas libcublasLt libcudart libnvrtc; do ln -sf "$l.so.13" "$cu/lib/$l.so"; done
ln -sf libcurand.so.10 "$cu/lib/libcurand.so"
if [ ! -f "$root/stubs/libcuda.so" ]; then
  # A link-time stand-in for the driver library; the real libcuda.so.1 is used at run time.
  mkdir -p "$root/stubs"
  grep -ohE '\bcu[A-Z][A-Za-z0-9_]*\b' "$cu/include/cuda.h" | sort -u | awk '{print "void " $1 "(void) {}"}' > "$root/stubs/libcuda_stub.c"
  gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$root/stubs/libcuda.so" "$root/stubs/libcuda_stub.c"
fi
export CUDA_HOME=$cu CUDA_PATH=$cu CUDA_ROOT=$cu PATH=$cu/bin:$PATH
export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-90} CUDARC_CUDA_VERSION=13000
export LIBRARY_PATH=$root/stubs:$cu/lib:${LIBRARY_PATH:-}
export RUSTFLAGS="${RUSTFLAGS:-} -L $root/stubs -L $cu/lib"
cargo build --release -p native --features cuda --target-dir target-cuda
ls -la target-cuda/release/native
# A stripped, compressed copy to carry to the GPU machine (scripts/gpu-check.sh unpacks it).
strip -o target-cuda/native-cuda target-cuda/release/native
xz -T0 -6 -kf target-cuda/native-cuda
ls -la target-cuda/native-cuda target-cuda/native-cuda.xz
