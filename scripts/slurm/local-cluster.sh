#!/usr/bin/env bash
# A one-node Slurm cluster on this machine (Debian's slurm-wlm and munge), to try
# scripts/slurm/sweep.sh on a laptop and for the test suite. Needs root.
#
#   scripts/slurm/local-cluster.sh start   # installs slurm-wlm and munge if missing, starts the
#                                          # daemons, waits for the node; prints the SLURM_CONF
#                                          # line to export
#   scripts/slurm/local-cluster.sh stop    # stops the daemons it started
#
# Everything lives in $REPS_SLURM_DIR (default /tmp/reps-slurm): slurm.conf, state, spool, logs.
# Recipe in docs/TOOLCHAIN.md ("Slurm on one machine").
set -euo pipefail
dir=${REPS_SLURM_DIR:-/tmp/reps-slurm}
conf=$dir/slurm.conf

fail() {
  echo "local-cluster.sh: $*" >&2
  exit 1
}

stop_daemon() { # pid file
  if [ -f "$1" ]; then
    local pid
    pid=$(cat "$1")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$1"
  fi
}

case "${1:-}" in
start)
  [ "$(id -u)" = 0 ] || fail "needs root (it starts munged, slurmctld and slurmd)"
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null ||
      fail "cannot install slurm-wlm and munge with apt-get"
  fi
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  if ! pgrep -x munged >/dev/null; then
    # munged refuses a log directory others may write to, and needs /run/munge for its socket.
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown -R munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge
    runuser -u munge -- /usr/sbin/munged || fail "munged did not start (see /var/log/munge/munged.log)"
    touch "$dir/munged.ours"
  fi
  cpus=$(nproc)
  memory=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.8 }' /proc/meminfo)
  cat >"$conf" <<CONF
ClusterName=local
SlurmctldHost=localhost
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmUser=root
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
NodeName=localhost CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=main Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  stop_daemon "$dir/slurmd.pid"
  stop_daemon "$dir/slurmctld.pid"
  for d in slurmctld slurmd; do
    # Exited daemons whose parent never reaped them (a container's init) do not count.
    pid=$({ ps -C "$d" -o pid=,stat= || true; } | awk '$2 !~ /^Z/ { print $1 }')
    if [ -n "$pid" ]; then
      fail "a $d already runs here (pid $(echo $pid)), with another configuration: stop it first (local-cluster.sh stop with the REPS_SLURM_DIR that started it)"
    fi
  done
  slurmctld -f "$conf" || fail "slurmctld did not start: $(tail -5 "$dir/log/slurmctld.log" 2>/dev/null)"
  slurmd -f "$conf" || fail "slurmd did not start: $(tail -5 "$dir/log/slurmd.log" 2>/dev/null)"
  for _ in $(seq 60); do
    if SLURM_CONF=$conf sinfo -h -o '%t' 2>/dev/null | grep -qx idle; then
      echo "export SLURM_CONF=$conf"
      exit 0
    fi
    sleep 0.5
  done
  fail "the node did not become idle in 30 s: sinfo says '$(SLURM_CONF=$conf sinfo -h -o '%t %E' 2>&1)'; slurmctld: $(tail -3 "$dir/log/slurmctld.log" 2>/dev/null); slurmd: $(tail -3 "$dir/log/slurmd.log" 2>/dev/null)"
  ;;
stop)
  stop_daemon "$dir/slurmd.pid"
  stop_daemon "$dir/slurmctld.pid"
  if [ -f "$dir/munged.ours" ]; then
    pkill -x munged 2>/dev/null || true
    rm -f "$dir/munged.ours"
  fi
  ;;
*)
  echo "usage: $0 start|stop   (state in \$REPS_SLURM_DIR, default /tmp/reps-slurm)" >&2
  exit 2
  ;;
esac
