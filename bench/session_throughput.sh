#!/usr/bin/env bash
# Session throughput on the local cluster: how many DebugSessions per second the
# controller carries, and which process runs out first. A benchmark: it prints figures, it does not
# pass or fail on them.
#
#   flock -o /tmp/ephemera-cluster.lock bench/session_throughput.sh [--decided N] [--captured M]
#     [--qps Q,Q2,...]
#
# Two workloads, each created at once by 4 parallel `kubectl create -f` as alice:
#   decided   N sessions (default 200) with the ptrace profile, which alice is not granted: each is
#             admitted through both webhooks, gets its requester's SubjectAccessReview, its audit
#             records and status writes, and ends Denied. No container: this is the control-plane
#             path alone, where the controller and the API server are the only parties.
#   captured  M sessions (default 40) over 10 target pods that each end Completed: the above plus
#             a key Secret, the ephemeral container (kubelet, containerd, runc), the snapshot read
#             from its log, the DebugSnapshot.
# For each workload and each client rate limit Q of the controller (--kube-api-qps Q, burst 2Q;
# default "50,400": the shipped default and a generous one): sessions per second from the first
# create to the last terminal phase, the creates' own rate, and the CPU time (utime+stime from
# /proc/PID/stat) of the controller, kube-apiserver, etcd, kubelet and containerd (with its shims)
# over the window, each as a share of one CPU and per session. The process whose share nears a whole
# CPU (or the machine's) is the limit.
#
# The controller runs on this host as in the end-to-end tests, from build/release (or
# EPHEMERA_CONTROLLER_BIN). Everything it creates carries the label bench.ephemera.dev/run and is
# deleted on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cluster=$repo/tests/cluster/cluster.sh
decided=200
captured=40
qps_list=50,400
while [ $# -gt 0 ]; do
  case $1 in
    --decided) decided=$2; shift 2 ;;
    --captured) captured=$2; shift 2 ;;
    --qps) qps_list=$2; shift 2 ;;
    *) echo "usage: $0 [--decided N] [--captured M] [--qps Q,Q2,...]" >&2; exit 2 ;;
  esac
done

log() { echo "throughput: $*"; }
bench_prefix=tp
# shellcheck source=bench/cluster_bench_lib.sh
source "$here/cluster_bench_lib.sh"
clk_tck=$(getconf CLK_TCK)
cluster_pids=${EPHEMERA_CLUSTER_DIR:-/var/lib/ephemera-cluster}/pids

cleanup() {
  local code=$?
  set +e
  log "cleaning up (sessions, controller, pods of run $run_id)"
  bench_clean_up_run 120
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT

# CPU ticks (utime+stime) of the processes named by a cluster pid file, or of every process whose
# command name matches (containerd's shims).
ticks_of_pid() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0; }
ticks_of_name() { # comm prefix
  local total=0 p
  for p in $(pgrep "^$1" || true); do total=$((total + $(ticks_of_pid "$p"))); done
  echo "$total"
}
cpu_snapshot() { # -> "controller apiserver etcd kubelet containerd"
  echo "$(ticks_of_pid "$host_controller_pid") $(ticks_of_pid "$(cat "$cluster_pids/kube-apiserver.pid")")" \
    "$(ticks_of_pid "$(cat "$cluster_pids/etcd.pid")") $(ticks_of_pid "$(cat "$cluster_pids/kubelet.pid")")" \
    "$(( $(ticks_of_name containerd) ))"
}

# The controller's requests to the API server so far (its ephemera_kube_requests_total, all labels).
kube_requests() {
  host_controller_metrics "$host_controller_metrics_port" |
    awk '/^ephemera_kube_requests_total\{/ {sum += $NF} END {printf "%d\n", sum}'
}

start_controller() { # qps
  EPHEMERA_CONTROLLER_EXTRA_ARGS="--kube-api-qps $1 --kube-api-burst $(( $1 * 2 ))" \
    host_controller_start "$work/ephemera-controller" "$work/controller.log" "$work/audit.log"
}

manifest() { # kind count pods-or-empty -> one file per quarter in $work/<kind>.<k>.yaml
  local kind=$1 count=$2 pods=$3 i profile=restricted target
  [ "$kind" = decided ] && profile=ptrace
  rm -f "$work/$kind".*.yaml
  for i in $(seq 1 "$count"); do
    if [ -n "$pods" ]; then target=$kind-pod-$(( (i - 1) % pods + 1 )); else target=$first_pod; fi
    cat >>"$work/$kind.$(( i % 4 )).yaml" <<YAML
---
apiVersion: ephemera.dev/v1alpha1
kind: DebugSession
metadata:
  name: $kind-$i
  namespace: $ns
  labels: {bench.ephemera.dev/run: $run_id, bench.ephemera.dev/kind: $kind}
spec:
  target: {pod: $target, container: app}
  reason: "BENCH-7 session throughput"
  ttl: 15m
  profile: $profile
  capture: [process, threads, fds, sockets, limits, cgroup, env]
  recipients: ["$recipient"]
YAML
  done
}


# Runs one workload; prints its row.
measure() { # kind count qps done-phase
  local kind=$1 count=$2 qps=$3 want=$4
  local t0 t_created t_done before after pids k left requests
  requests=$(kube_requests)
  before=$(cpu_snapshot)
  t0=$(date +%s.%N)
  pids=()
  for k in 0 1 2 3; do
    [ -f "$work/$kind.$k.yaml" ] || continue
    as alice create -f "$work/$kind.$k.yaml" >/dev/null 2>"$work/create.$k.err" &
    pids+=($!)
  done
  for k in "${pids[@]}"; do wait "$k" || { log "creating sessions failed: $(cat "$work"/create.*.err)"; return 1; }; done
  t_created=$(date +%s.%N)
  left=$count
  for _ in $(seq 1 1200); do
    left=$(as admin -n "$ns" get debugsessions -l "bench.ephemera.dev/kind=$kind" \
      -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' | grep -cvx "$want" || true)
    [ "$left" -eq 0 ] && break
    sleep 0.25
  done
  t_done=$(date +%s.%N)
  after=$(cpu_snapshot)
  requests=$(( $(kube_requests) - requests ))
  # The two CPU snapshots are five numbers each, passed as words.
  # shellcheck disable=SC2086
  python3 - "$kind" "$count" "$qps" "$t0" "$t_created" "$t_done" "$clk_tck" "$left" "$want" "$requests" $before $after <<'PY'
import sys
kind, count, qps = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t0, t_created, t_done, hz = map(float, sys.argv[4:8])
left, want, requests = int(sys.argv[8]), sys.argv[9], int(sys.argv[10])
cpu = [(int(b) - int(a)) / hz for a, b in zip(sys.argv[11:16], sys.argv[16:21])]
wall = t_done - t0
names = ["controller", "apiserver", "etcd", "kubelet", "containerd"]
shares = "  ".join(f"{n} {c / wall * 100:5.1f}% ({c / count * 1000:5.1f} ms/s.)" for n, c in zip(names, cpu))
note = f"  ({left} not {want} after 300 s)" if left else ""
print(f"{kind:9s} qps {qps:>4s}  {count:4d} sessions  {count / wall:6.2f} sessions/s "
      f"(created at {count / (t_created - t0):6.1f}/s)  wall {wall:6.1f} s  "
      f"API requests {requests / count:4.1f}/session, {requests / wall:5.1f}/s{note}")
print(f"{'':9s} CPU share of one CPU, and per session:  {shares}")
PY
}

echo "throughput: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
cp "$controller_src" "$work/ephemera-controller"
host_controller_install
age-keygen -o "$work/alice.key" 2>/dev/null
recipient=$(age-keygen -y "$work/alice.key")
log "target pods: 10 for the captured workload"
bench_make_pods captured-pod 10
first_pod="captured-pod-1"
manifest decided "$decided" ""
manifest captured "$captured" 10

IFS=, read -r -a qps_values <<<"$qps_list"
for qps in "${qps_values[@]}"; do
  start_controller "$qps"
  measure decided "$decided" "$qps" Denied
  bench_release_sessions 120
  host_controller_stop || log "the controller needed SIGKILL"
done
# Each captured session leaves an ephemeral container in its pod for good: one round, at the
# highest rate limit.
start_controller "${qps_values[-1]}"
measure captured "$captured" "${qps_values[-1]}" Completed
