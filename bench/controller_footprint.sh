#!/usr/bin/env bash
# Controller footprint on the local cluster: ephemera-controller's memory and CPU idle,
# while M unrelated pods churn in the cluster, and with N live DebugSessions. Prints the figures and
# their ratio to idle. A benchmark: it prints figures, it does not pass or fail on them.
#
#   flock -o /tmp/ephemera-cluster.lock bench/controller_footprint.sh [--sessions N] [--churn-seconds S]
# (0 skips that phase; IDLE_SECONDS sets the idle window; SETTLE_SECONDS, default 120, caps the wait
# for the live sessions to be authorized before they are measured.)
#
# The controller runs on this host as in the end-to-end tests (tests/e2e/host_controller.sh), from
# build/release (or EPHEMERA_CONTROLLER_BIN). Memory: VmRSS (now) and VmHWM
# (peak so far) from /proc/PID/status, with VmRSS split into RssAnon (heap, stacks) and RssFile (the
# binary's and shared libraries' pages); CPU: utime+stime from /proc/PID/stat over each phase's wall
# time. Phases, in order:
#   idle    started, ready, then a quiet window (IDLE_SECONDS, default 30);
#   churn   pause pods (ephemera.local/pause:1.0) created and deleted in batches for S seconds
#           (default 150) in the namespace the controller watches, paced so that at most ~100 exist
#           at once (the kubelet runs at most 110 pods); M = pods created (and deleted);
#   live    N DebugSessions (default 500) created as alice against one pod that can never be
#           scheduled (a nodeSelector no node has): each is admitted through the controller's
#           webhooks, authorized with a SubjectAccessReview, then waits for its target (polled each
#           second) until the 60 s target wait ends it Failed; all stay in the controller's cache
#           until deleted. No container is injected: a pod takes a bounded number of ephemeral
#           containers, and N injections would measure the kubelet, not the controller.
# Everything it creates carries the label bench.ephemera.dev/run and is deleted on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cluster=$repo/tests/cluster/cluster.sh
sessions=500
churn_seconds=150
idle_seconds=${IDLE_SECONDS:-30}
churn_batch=25
settle_seconds=${SETTLE_SECONDS:-120}
while [ $# -gt 0 ]; do
  case $1 in
    --sessions) sessions=$2; shift 2 ;;
    --churn-seconds) churn_seconds=$2; shift 2 ;;
    *) echo "usage: $0 [--sessions N] [--churn-seconds S]" >&2; exit 2 ;;
  esac
done

log() { echo "footprint: $*"; }
bench_prefix=fp
# shellcheck source=bench/cluster_bench_lib.sh
source "$here/cluster_bench_lib.sh"
clk_tck=$(getconf CLK_TCK)
sampler_pid=

cleanup() {
  local code=$?
  set +e
  log "cleaning up (sessions, controller, pods of run $run_id)"
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null
  bench_clean_up_run 180
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT

kib_of() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$host_controller_pid/status"; }
cpu_ticks() { # utime + stime (fields 14 and 15; the command name before them may hold spaces)
  sed 's/.*) //' "/proc/$host_controller_pid/stat" | awk '{print $12 + $13}'
}
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
phase_start() { phase_ticks=$(cpu_ticks); phase_time=$(date +%s.%N); }
declare -A rss hwm anon file cpu_s wall cpu_pct # per phase name
phase_end() { # name : records the phase's VmRSS, VmHWM, CPU seconds, wall seconds and CPU %
  local name=$1 ticks now
  ticks=$(cpu_ticks); now=$(date +%s.%N)
  rss[$name]=$(kib_of VmRSS); hwm[$name]=$(kib_of VmHWM)
  anon[$name]=$(kib_of RssAnon); file[$name]=$(kib_of RssFile)
  cpu_s[$name]=$(awk -v a="$phase_ticks" -v b="$ticks" -v t="$clk_tck" 'BEGIN {printf "%.2f", (b - a) / t}')
  wall[$name]=$(awk -v a="$phase_time" -v b="$now" 'BEGIN {printf "%.1f", b - a}')
  cpu_pct[$name]=$(awk -v c="${cpu_s[$name]}" -v w="${wall[$name]}" 'BEGIN {printf "%.2f", 100 * c / w}')
}
sample_rss() { # file : VmRSS in KiB every second until killed
  while kill -0 "$host_controller_pid" 2>/dev/null; do
    kib_of VmRSS >>"$1" 2>/dev/null || true
    sleep 1
  done
}
rss_range() { sort -n "$1" | awk 'NR == 1 {min = $1} {max = $1} END {printf "%.1f-%.1f", min / 1024, max / 1024}'; }

echo "footprint: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
cp "$controller_src" "$work/ephemera-controller"
log "controller: $controller_src (copied), default settings (2 workers)"
host_controller_install
host_controller_start "$work/ephemera-controller" "$work/controller.log" "$work/audit.log"
log "controller pid $host_controller_pid ready; RSS $(mib "$(kib_of VmRSS)") MiB; idle window ${idle_seconds}s"
sleep 5
phase_start
sleep "$idle_seconds"
phase_end idle

# --- churn: unrelated pods created and deleted -------------------------------------------------
if [ "$churn_seconds" -gt 0 ]; then
pause_pods() { # batch-number
  local i
  for i in $(seq 1 "$churn_batch"); do
    cat <<YAML
---
apiVersion: v1
kind: Pod
metadata:
  name: churn-$run_id-$1-$i
  namespace: $ns
  labels: {bench.ephemera.dev/run: $run_id, bench.ephemera.dev/group: churn, bench.ephemera.dev/batch: "$1"}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: pause
    image: ephemera.local/pause:1.0
    resources: {requests: {cpu: 1m, memory: 4Mi}}
YAML
  done
}
log "churn: batches of $churn_batch pause pods created, then the previous batch deleted, for ${churn_seconds}s"
sample_rss "$work/churn-rss.txt" &
sampler_pid=$!
phase_start
churned=0
batch=0
end=$((SECONDS + churn_seconds))
while [ $SECONDS -lt $end ]; do
  # Paced to what the node can run: at most ~100 churn pods at once (the kubelet's limit is 110).
  while [ "$(as admin -n "$ns" get pods -l "bench.ephemera.dev/group=churn" -o name 2>/dev/null | wc -l)" -gt $((100 - churn_batch)) ] &&
    [ $SECONDS -lt $end ]; do
    sleep 1
  done
  batch=$((batch + 1))
  pause_pods "$batch" | as admin create -f - >/dev/null
  churned=$((churned + churn_batch))
  if [ "$batch" -gt 1 ]; then
    as admin -n "$ns" delete pods -l "bench.ephemera.dev/batch=$((batch - 1))" --grace-period=0 \
      --wait=false >/dev/null 2>&1 || true
  fi
done
as admin -n "$ns" delete pods -l "bench.ephemera.dev/group=churn" --grace-period=0 --wait=false >/dev/null 2>&1 || true
for _ in $(seq 1 120); do
  [ -z "$(as admin -n "$ns" get pods -l "bench.ephemera.dev/group=churn" -o name 2>/dev/null)" ] && break
  sleep 1
done
phase_end churn
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=
log "churn: $churned pods created and deleted in ${wall[churn]}s (the wall time includes waiting for the last deletions)"
fi

# --- live sessions -------------------------------------------------------------------------------
if [ "$sessions" -gt 0 ]; then
age-keygen -o "$work/alice.key" 2>/dev/null
recipient=$(age-keygen -y "$work/alice.key")
as alice create -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: unschedulable-$run_id
  namespace: $ns
  labels: {bench.ephemera.dev/run: $run_id}
spec:
  terminationGracePeriodSeconds: 0
  nodeSelector: {bench.ephemera.dev/never: "true"}
  securityContext: {runAsUser: 1000, runAsGroup: 1000}
  containers:
  - {name: app, image: ephemera.local/target:0.1.0}
YAML
live_sessions() { # from to
  local i
  for i in $(seq "$1" "$2"); do
    cat <<YAML
---
apiVersion: ephemera.dev/v1alpha1
kind: DebugSession
metadata:
  name: live-$run_id-$i
  namespace: $ns
  labels: {bench.ephemera.dev/run: $run_id}
spec:
  target: {pod: unschedulable-$run_id, container: app}
  reason: "BENCH-7 controller footprint"
  ttl: 30m
  profile: restricted
  recipients: ["$recipient"]
YAML
  done
}
log "live: $sessions DebugSessions created as alice in batches of 100 against a pod that is never scheduled"
sample_rss "$work/live-rss.txt" &
sampler_pid=$!
phase_start
created=0
while [ "$created" -lt "$sessions" ]; do
  upto=$((created + 100 < sessions ? created + 100 : sessions))
  live_sessions $((created + 1)) "$upto" | as alice create -f - >/dev/null
  created=$upto
done
created_at=$SECONDS
# Every session authorized and waiting (phase Pending with Authorized=True) or already Failed.
for _ in $(seq 1 "$settle_seconds"); do
  settled=$(as admin -n "$ns" get debugsessions -l "$run_label" -o json | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
print(sum(1 for s in items if any(c["type"] == "Authorized" for c in s.get("status", {}).get("conditions", []))))')
  [ "$settled" -ge "$sessions" ] && break
  sleep 1
done
log "live: $settled of $sessions sessions authorized $((SECONDS - created_at))s after the last create"
phase_end live
sleep 10
rss_live_later=$(kib_of VmRSS)
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=
phases=$(as admin -n "$ns" get debugsessions -l "$run_label" -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' | sort | uniq -c | awk '{printf "%s%s %s", sep, (NF > 1 ? $2 : "no phase yet"), $1; sep = ", "}')
log "live: session phases now: $phases; RSS 10 s later $(mib "$rss_live_later") MiB"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; }
echo
echo "Controller footprint (MiB; CPU = (utime+stime) / wall time of the phase), load average now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| phase | VmRSS at end | of which anon / file | RSS range sampled each second | VmHWM (peak so far) | RSS / idle | CPU s | wall s | CPU % |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
row() { # label phase range
  echo "| $1 | $(mib "${rss[$2]}") | $(mib "${anon[$2]}") / $(mib "${file[$2]}") | $3 | $(mib "${hwm[$2]}") | $(ratio "${rss[$2]}" "${rss[idle]}") | ${cpu_s[$2]} | ${wall[$2]} | ${cpu_pct[$2]} |"
}
row "idle (${idle_seconds} s after ready)" idle –
[ "$churn_seconds" -le 0 ] || row "$churned pods churned" churn "$(rss_range "$work/churn-rss.txt")"
[ "$sessions" -le 0 ] || row "$sessions live sessions" live "$(rss_range "$work/live-rss.txt")"
[ "$sessions" -le 0 ] || echo "CPU per session while creating and authorizing them: $(awk -v c="${cpu_s[live]}" -v n="$sessions" 'BEGIN {printf "%.1f", 1000 * c / n}') ms"
