#!/usr/bin/env bash
# The GPU checks, in one script, for a session that has a CUDA machine (see the README):
#   1. one training step of both convolution paths on the GPU against the CPU reference (--verify);
#   2. `native bench-train` on the GPU (GEMM rate; width 16 and 64, batch 128; candle vs GEMM path);
#   3. the same ResNet-18 shape in PyTorch eager on the same card (bench/torch_resnet18.py);
#   4. one epoch at paper width (64, batch 128, 20 000 synthetic 32×32 images) through
#      `native train-sweep --device cuda`, once per convolution path; its log gives images/s;
#   5. the README's quick sweep (25 models) on the GPU.
# Build first, on the CPU machine: scripts/build-cuda.sh (writes target-cuda/native-cuda.xz).
# Then carry target-cuda/native-cuda.xz and run:  bash scripts/gpu-check.sh
# Results go to $OUT (or /tmp/gpu-check). GPU_CHECK_STEPS picks steps (default "12345"; "1" runs
# only verify + bench-train, whose --breakdown splits a step into forward, backward and update).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/gpu-check}
mkdir -p "$out"
bin=target-cuda/native-cuda
if [ ! -x "$bin" ]; then
  xz -dkc target-cuda/native-cuda.xz > "$bin" && chmod +x "$bin" || { echo "no $bin(.xz): run scripts/build-cuda.sh first" >&2; exit 1; }
fi
# CUDA 13 libraries: the driver's libcuda.so.1 plus PyTorch's nvidia/cu13 wheels.
libs=$(python3 - <<'PY' 2>/dev/null
import os, glob
dirs = set()
try:
    import nvidia
    for base in nvidia.__path__:
        for lib in glob.glob(os.path.join(base, "**", "lib*.so*"), recursive=True):
            dirs.add(os.path.dirname(lib))
except Exception:
    pass
print(":".join(sorted(dirs)))
PY
)
export LD_LIBRARY_PATH="${libs}:${LD_LIBRARY_PATH:-}"
if ldd "$bin" | grep -q "not found"; then
  echo "missing libraries:" >&2; ldd "$bin" | grep "not found" >&2
  for l in libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libcudart.so.13; do
    d=$(find / -name "$l" -not -path "*/proc/*" 2>/dev/null | head -1); [ -n "$d" ] && export LD_LIBRARY_PATH="$(dirname "$d"):$LD_LIBRARY_PATH"
  done
  ldd "$bin" | grep "not found" && exit 1
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.txt"
status=0
want() { [[ "${GPU_CHECK_STEPS:-12345}" == *"$1"* ]]; }
# Each step has its own time limit so that one slow step cannot eat the whole device lease.
if want 1 || want 2; then
echo "== 1+2. verify and bench-train on the GPU"
timeout 120 "$bin" bench-train --device cuda --verify --breakdown --widths 16,64 --batch 128 --steps 5 2>&1 | tee "$out/bench-train.txt" || status=1
fi
if want 3; then
echo "== 3. PyTorch eager, same shapes, same card"
{ timeout 60 python3 bench/torch_resnet18.py --width 64 --batch 128 --images 50000 &&
  timeout 60 python3 bench/torch_resnet18.py --width 16 --batch 128 --images 20000; } 2>&1 | tee "$out/torch.txt" || status=1
fi
if want 4; then
echo "== 4. one epoch at paper width (train-sweep, original model only), each convolution path"
for conv in candle gemm; do
  rm -rf "$out/paper-epoch"
  start=$(date +%s)
  timeout ${PAPER_EPOCH_LIMIT:-150} "$bin" train-sweep --preset paper --dataset synthetic --train-size ${PAPER_IMAGES:-20000} \
    --test-size 10000 --epochs 1 --device cuda --conv $conv --max-models 1 --out "$out/paper-epoch" >> "$out/train-sweep.txt" 2>&1 || status=1
  echo "paper-width epoch on cuda, --conv $conv: $(( $(date +%s) - start )) s" | tee -a "$out/train-sweep.txt"
  grep -E "trained|accuracy" "$out/paper-epoch/sweep.log" 2>/dev/null | sed "s/^/[$conv] /" | tee -a "$out/train-sweep.txt"
done
fi
if want 5; then
echo "== 5. the README's quick sweep (25 models) on the GPU"
rm -rf "$out/quick"
start=$(date +%s)
timeout ${QUICK_LIMIT:-150} "$bin" train-sweep --device cuda --out "$out/quick" > "$out/quick.txt" 2>&1 || status=1
echo "quick sweep on cuda: $(( $(date +%s) - start )) s"
tail -5 "$out/quick/sweep.log" 2>/dev/null
cat "$out/quick/sweep.log" >> "$out/quick.txt" 2>/dev/null
cp "$out/quick/results.json" "$out/quick-results.json" 2>/dev/null
cp "$out/quick/tables.md" "$out/quick-tables.md" 2>/dev/null
fi
# At most 8 files come back from the device: keep the logs above, drop checkpoints and folders.
rm -rf "$out/quick" "$out/paper-epoch"
exit $status
