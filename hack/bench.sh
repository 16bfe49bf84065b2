#!/usr/bin/env bash
# `make bench`: runs every benchmark program built in build/release/bench and prints their figures,
# with the machine's state (CPUs, load) so that figures from a shared machine can be judged.
# Takes about 15-20 minutes on 2 cores without the cluster benchmarks: the freeze bench's
# 1000-thread target and the traffic bench (15 windows of 20 s or more) dominate; each tool run in
# the freeze bench is capped (the bench says when a tool was cut off).
set -euo pipefail
cd "$(dirname "$0")/.."

bench_dir=build/release/bench
expected=(ephemera-bench-redact ephemera-bench-stacks ephemera-bench-freeze)

missing=()
for b in "${expected[@]}"; do
  [ -x "$bench_dir/$b" ] || missing+=("$b")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: not built: ${missing[*]} (run 'make bench', which builds them in build/release)" >&2
  exit 1
fi

for tool in eu-stack gdb; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "bench: MISSING $tool: its baseline rows will be skipped (install with 'sudo make deps')"
  fi
done
if [ "$(id -u)" -ne 0 ]; then
  echo "bench: not root: the stack benches need CAP_SYS_PTRACE to stop the target and to let"
  echo "bench: eu-stack and gdb attach; expect failed rows (run 'sudo make bench')"
fi

echo "bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r)"
status=0
for b in "${expected[@]}"; do
  echo
  echo "== $b"
  start=$(date +%s)
  args=()
  [ "$b" = ephemera-bench-freeze ] && args=(--json "$bench_dir/freeze.json")
  if ! "$bench_dir/$b" "${args[@]}"; then
    echo "bench: $b failed" >&2
    status=1
  fi
  echo "== $b took $(( $(date +%s) - start )) s; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
done
if [ -s "$bench_dir/freeze.json" ]; then
  bench/plot_bars.py "$bench_dir/freeze.json" "$bench_dir/freeze.svg" \
    --title "Total time the target's busy threads were frozen by one stack dump (sum over threads)" \
    --bar total_ms --bar-name "total freeze" --tick "" \
    --note "median of the runs; lower is better; the same target for every tool" &&
    bench/plot_bars.py "$bench_dir/freeze.json" "$bench_dir/freeze-wall.svg" \
      --title "Wall time of one stack dump of every thread" --bar wall_ms --bar-name "tool wall time" \
      --tick "" --note "median of the runs; lower is better" &&
    echo "bench: the freeze plots are in $bench_dir/freeze.svg and freeze-wall.svg (docs/plots/ holds those in the docs)"
fi
# The same freeze comparison with server-deep stacks: workers spinning 32 calls deep.
echo
echo "== ephemera-bench-freeze --threads 10,100 --depth 32"
"$bench_dir/ephemera-bench-freeze" --threads 10,100 --depth 32 || { echo "bench: the deep-stack freeze bench failed" >&2; status=1; }
# Language stacks (Go, Python, Java) against each runtime's own dump and jstack.
echo
echo "== bench/runtime_stacks.py"
bench/runtime_stacks.py build/release || { echo "bench: the runtime stacks bench failed" >&2; status=1; }
# What the target's users feel while it is debugged: HTTP at a fixed rate from vegeta (built from the
# Go module proxy, hack/build-vegeta.sh), undisturbed and while Ephemera, eu-stack and gdb capture it.
echo
echo "== bench/traffic.py (10, 100 and 1000 threads)"
start=$(date +%s)
if [ "$(id -u)" -ne 0 ]; then
  echo "bench: SKIPPED the traffic bench: it needs root (the target runs as nobody, the ptrace rows attach)"
elif vegeta=$(hack/build-vegeta.sh | tail -n 1); then
  if bench/traffic.py --target build/release/tests/target/ephemera-target \
    --snapshot build/release/debugpod/snapshot/ephemera-snapshot --vegeta "$vegeta" \
    --json build/release/bench/traffic-host.json; then
    bench/plot_bars.py build/release/bench/traffic-host.json build/release/bench/traffic-host.svg &&
      echo "bench: the traffic plot is in build/release/bench/traffic-host.svg (docs/plots/ holds the one in the docs)"
  else
    echo "bench: the traffic bench failed" >&2
    status=1
  fi
else
  echo "bench: vegeta could not be built; the traffic bench is skipped" >&2
  status=1
fi
echo "== bench/traffic.py took $(( $(date +%s) - start )) s; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
# --- Cluster benchmarks (session latency, throughput, controller footprint, traffic, and the
# error-condition outcomes of tests/e2e/conditions_e2e_test.sh) --------------------------------
# They need the local cluster and the release controller; without the cluster they are skipped and
# the benches above still count. Each run takes the cluster lock, so that it never overlaps another
# user of the cluster (its webhooks and ports are shared). `flock -o`: the lock's file descriptor is
# not inherited, so no process the bench leaves running (or a cluster it starts) keeps the lock.
echo
if ! cluster_why=$(tests/cluster/cluster.sh status 2>&1); then
  echo "bench: SKIPPED the cluster benchmarks (session latency, controller footprint): the local"
  echo "bench: cluster is not up ($(echo "$cluster_why" | tail -n 1)). Run them with:"
  echo "bench:   make cluster-up && make bench     (or, with the cluster up:"
  echo "bench:   flock -o /tmp/ephemera-cluster.lock bench/session_latency.sh"
  echo "bench:   flock -o /tmp/ephemera-cluster.lock bench/session_throughput.sh"
  echo "bench:   flock -o /tmp/ephemera-cluster.lock bench/controller_footprint.sh"
  echo "bench:   flock -o /tmp/ephemera-cluster.lock bench/traffic_cluster.sh"
  echo "bench:   flock -o /tmp/ephemera-cluster.lock tests/e2e/conditions_e2e_test.sh build/release)"
else
  if [ ! -x build/release/controller/ephemera-controller ]; then
    echo "bench: building ephemera-controller in build/release for the cluster benchmarks"
    cmake --build build/release --target ephemera-controller >/dev/null
  fi
  # Split so that no run holds the cluster for more than about 10 minutes.
  rm -f build/release/bench/latency-*.json
  for cluster_bench in "bench/session_latency.sh --levels 1,10 --json build/release/bench/latency-1-10.json" \
    "bench/session_latency.sh --levels 100 --json build/release/bench/latency-100.json" \
    "bench/session_throughput.sh" \
    "bench/controller_footprint.sh --sessions 0" "bench/controller_footprint.sh --churn-seconds 0" \
    "bench/traffic_cluster.sh --json build/release/bench/traffic-cluster.json" \
    "tests/e2e/conditions_e2e_test.sh build/release"; do
    echo "== $cluster_bench"
    start=$(date +%s)
    # Words on purpose: the script and its flags.
    # shellcheck disable=SC2086
    if ! flock -o /tmp/ephemera-cluster.lock $cluster_bench; then
      echo "bench: $cluster_bench failed" >&2
      status=1
    fi
    echo "== $cluster_bench took $(( $(date +%s) - start )) s; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
  done
  latency_rows=(build/release/bench/latency-*.json)
  if [ -s "${latency_rows[0]}" ]; then
    bench/plot_bars.py "${latency_rows[@]}" build/release/bench/session-latency.svg \
      --title "DebugSession create to Completed, against the same capture with kubectl debug" \
      --group concurrent --group-label "{} concurrent" --bar p50_s --bar-name p50 \
      --tick p90_s --tick-name p90 --unit s --note "lower is better; both measured in the same run" &&
      echo "bench: the session latency plot is in build/release/bench/session-latency.svg"
  fi
  if [ -s build/release/bench/traffic-cluster.json ]; then
    bench/plot_bars.py build/release/bench/traffic-cluster.json build/release/bench/traffic-cluster.svg \
      --title "Target latency on the local cluster while it is being captured" --every "2 seconds" &&
      echo "bench: the cluster traffic plot is in build/release/bench/traffic-cluster.svg"
  fi
fi
exit "$status"
