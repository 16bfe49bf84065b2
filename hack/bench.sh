#!/usr/bin/env bash
# `make bench`: runs every benchmark program built in build/release/bench and prints their figures.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
benches=(build/release/bench/ephemera-bench-*)
if [ ${#benches[@]} -eq 0 ]; then
  echo "bench: no benchmarks are built yet (see the performance issue)" >&2
  exit 1
fi
for b in "${benches[@]}"; do echo "== $b"; "$b"; done
