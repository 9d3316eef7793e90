#!/usr/bin/env bash
# Submits a `native train-sweep` to Slurm as three jobs chained with --dependency=afterok:
#   1. the original (train-sweep --stage original),
#   2. an array of N shards (train-sweep --shard slurm), each making every N-th compressed model,
#   3. the merge (train-sweep --merge): sweep.reps, tables.md and results.json, byte-identical to
#      those of one process with the same flags.
# Every job is submitted with --requeue and --signal=B:USR1@120: preempted, requeued or near its
# time limit, a job stops at its next training step with nothing lost and continues when it runs
# again (scripts/slurm/job-step.sh). Each job's log is written beside the outputs, under
# OUT/slurm/.
#
# usage: scripts/slurm/sweep.sh [--shards N] [--gpus-per-task G] [--partition P]
#                               [--cpus-per-task C] [--time T] -- TRAIN_SWEEP_FLAGS... --out DIR
#
#   --shards N         array tasks (default 4)
#   --gpus-per-task G  GPUs per job (add --device cuda to the flags, with a CUDA build)
#   --partition P      the partition of every job (default: the cluster's default)
#   --cpus-per-task C  CPUs per job (default 1)
#   --time T           time limit of each job (sbatch's --time; default: the partition's)
#
# The binary is $NATIVE (default target/release/native; build it first with
# `cargo build --release -p native`). It and --out must be on storage every node sees.
# Prints the three job ids. Try it on one machine with scripts/slurm/local-cluster.sh start.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shards=4
cpus=1
extra=()
# The comment block at the top of this file, as help.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) shards=$2; shift 2 ;;
    --gpus-per-task) extra+=("--gpus-per-task=$2"); shift 2 ;;
    --partition) extra+=("--partition=$2"); shift 2 ;;
    --cpus-per-task) cpus=$2; shift 2 ;;
    --time) extra+=("--time=$2"); shift 2 ;;
    --) shift; break ;;
    -h|--help) usage ;;
    *) echo "sweep.sh: unknown option '$1' (train-sweep's flags go after --)" >&2; usage ;;
  esac
done
case "$shards" in ''|*[!0-9]*|0) echo "sweep.sh: --shards must be a positive integer, got '$shards'" >&2; exit 2 ;; esac
flags=("$@")
out=
for ((i = 0; i < ${#flags[@]}; i++)); do
  case "${flags[$i]}" in
    --out) out=${flags[$((i + 1))]:-} ;;
    --out=*) out=${flags[$i]#--out=} ;;
    --stage|--stage=*|--shard|--shard=*|--merge)
      echo "sweep.sh: ${flags[$i]} is set by sweep.sh itself; give the sweep's settings only" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || { echo "sweep.sh: give the output directory among the flags (--out DIR): every job writes there" >&2; exit 2; }
native=${NATIVE:-target/release/native}
[ -x "$native" ] || { echo "sweep.sh: $native is not an executable (build it: cargo build --release -p native, or set NATIVE)" >&2; exit 2; }
native=$(cd "$(dirname "$native")" && pwd)/$(basename "$native")
mkdir -p "$out/slurm"
out=$(cd "$out" && pwd)
# Every stage gets the same settings; --out made absolute (jobs may start elsewhere).
settings=()
for ((i = 0; i < ${#flags[@]}; i++)); do
  case "${flags[$i]}" in
    --out) settings+=(--out "$out"); i=$((i + 1)) ;;
    --out=*) settings+=(--out "$out") ;;
    *) settings+=("${flags[$i]}") ;;
  esac
done
common=(--parsable --requeue --signal=B:USR1@120 --open-mode=append --cpus-per-task="$cpus" ${extra[@]+"${extra[@]}"})
step=("$here/job-step.sh" "$native" train-sweep "${settings[@]}")
original=$(sbatch "${common[@]}" --job-name=reps-original -o "$out/slurm/original-%j.log" \
  "${step[@]}" --stage original)
array=$(sbatch "${common[@]}" --job-name=reps-shard --array="0-$((shards - 1))" \
  --dependency="afterok:$original" -o "$out/slurm/shard-%A_%a.log" "${step[@]}" --shard slurm)
merge=$(sbatch "${common[@]}" --job-name=reps-merge --dependency="afterok:$array" \
  -o "$out/slurm/merge-%j.log" "${step[@]}" --merge)
printf 'original %s\nshards %s (%d tasks)\nmerge %s\n' "$original" "$array" "$shards" "$merge" | tee "$out/slurm/jobs.txt"
