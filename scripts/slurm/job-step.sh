#!/usr/bin/env bash
# The batch script of every job scripts/slurm/sweep.sh submits: runs its arguments (a
# `native train-sweep` command) in the background and forwards Slurm's signals to it.
# - SIGUSR1 (sbatch --signal=B:USR1@120: the time limit is near) and SIGTERM (scancel, scontrol
#   requeue, preemption): native stops at its next training step, writes a mid-training
#   checkpoint and exits 143.
# - After a SIGUSR1, the job requeues itself, and its next run continues from that checkpoint.
#   (Preemption and `scontrol requeue` requeue it without help: the jobs are submitted with
#   --requeue.)
set -u
"$@" &
child=$!
usr1=0
trap 'usr1=1; kill -USR1 "$child" 2>/dev/null' USR1
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
status=0
while :; do
  wait "$child"
  status=$?
  # `wait` also returns when a trapped signal arrives: wait again while the child runs.
  kill -0 "$child" 2>/dev/null || break
done
if [ "$status" = 143 ] && [ "$usr1" = 1 ] && [ -n "${SLURM_JOB_ID:-}" ]; then
  echo "job-step.sh: stopped before the time limit; requeueing job $SLURM_JOB_ID" >&2
  scontrol requeue "$SLURM_JOB_ID"
fi
exit "$status"
