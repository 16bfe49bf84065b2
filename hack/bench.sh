#!/usr/bin/env bash
# `make bench`: runs every benchmark program built in build/release/bench and prints their figures,
# with the machine's state (CPUs, load) so that figures from a shared machine can be judged.
# Takes about 5-10 minutes on 2 cores: the freeze bench's 1000-thread target dominates, and each
# tool run there is capped (the bench says when a tool was cut off).
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
  if ! "$bench_dir/$b"; then
    echo "bench: $b failed" >&2
    status=1
  fi
  echo "== $b took $(( $(date +%s) - start )) s; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
done
exit "$status"
