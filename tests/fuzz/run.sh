#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (a separate build directory, EPHEMERA_FUZZ=ON) and runs
# each one for SECONDS seconds from its seed corpus (tests/fuzz/corpus/<name>/).
#
#   tests/fuzz/run.sh [SECONDS] [NAME...]     default 10 seconds, every target
#
# `make fuzz` runs it with FUZZ_SECONDS (60); ctest's fuzz_smoke runs it briefly. Environment:
#   FUZZ_BUILD_DIR   the clang build (default build/fuzz)
#   FUZZ_WORK_DIR    where new corpus entries and crash inputs go (default $FUZZ_BUILD_DIR/runs);
#                    the checked-in seeds are only read.
# Exits non-zero when a target crashes, leaks, trips a sanitizer or times out; the input is kept
# under $FUZZ_WORK_DIR/<name>/artifacts/ and the command to reproduce it is printed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seconds="${1:-10}"
shift || true
build_dir="${FUZZ_BUILD_DIR:-$root/build/fuzz}"
work_dir="${FUZZ_WORK_DIR:-$build_dir/runs}"
cc=clang-14
cxx=clang++-14

if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz: SECONDS must be a positive integer, got '$seconds'" >&2
  exit 2
fi
if ! command -v "$cxx" >/dev/null; then
  echo "fuzz: $cxx not found: the fuzz targets need clang's libFuzzer." >&2
  echo "fuzz: install the Debian packages clang-14 and libclang-rt-14-dev ('make deps')." >&2
  exit 1
fi
if [ ! -f "$("$cxx" -print-file-name=libclang_rt.fuzzer-x86_64.a)" ]; then
  echo "fuzz: libFuzzer's runtime is missing: install libclang-rt-14-dev ('make deps')." >&2
  exit 1
fi

echo "fuzz: building the fuzz targets with $cxx in $build_dir"
start=$SECONDS
if [ ! -f "$build_dir/build.ninja" ]; then
  # -O1 and line tables: half the compile time of RelWithDebInfo, the same bugs, readable traces.
  CC="$cc" CXX="$cxx" cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=None \
    -DCMAKE_C_FLAGS="-O1 -gline-tables-only" -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only" \
    -DEPHEMERA_FUZZ=ON >/dev/null
fi
cmake --build "$build_dir" --target ephemera-fuzzers -j "$(nproc)" | tail -n 1
echo "fuzz: built in $((SECONDS - start)) s"

fuzzers=("$@")
if [ ${#fuzzers[@]} -eq 0 ]; then
  for seeds in "$root"/tests/fuzz/corpus/*/; do
    fuzzers+=("$(basename "$seeds")")
  done
fi

failed=()
for name in "${fuzzers[@]}"; do
  binary="$build_dir/tests/fuzz/${name}_fuzzer"
  seeds="$root/tests/fuzz/corpus/$name"
  if [ ! -x "$binary" ] || [ ! -d "$seeds" ]; then
    echo "fuzz: no target '$name' (want $binary and $seeds)" >&2
    exit 2
  fi
  corpus="$work_dir/$name/corpus"
  artifacts="$work_dir/$name/artifacts"
  log="$work_dir/$name/fuzz.log"
  mkdir -p "$corpus" "$artifacts"
  # New entries go to the first directory (the work corpus); the seeds are read only. -timeout:
  # one input taking longer than that is a bug (everything here is linear or close to it).
  if "$binary" "$corpus" "$seeds" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1; then
    # "#12345 DONE cov: 1167 ft: 1460 corp: 2/1067b lim: 539 exec/s: 1234 rss: 38Mb"
    done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)"
    printf 'fuzz: %-18s ok    %s\n' "$name" "${done_line:-"(no final line; see $log)"}"
  else
    printf 'fuzz: %-18s FAILED (log %s)\n' "$name" "$log" >&2
    grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -n 5 >&2 || true
    for input in "$artifacts"/*; do
      [ -e "$input" ] && echo "fuzz: reproduce with: $binary $input" >&2
    done
    failed+=("$name")
  fi
done

echo "fuzz: ${#fuzzers[@]} targets, ${seconds} s each, $((SECONDS - start)) s in all"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: $((${#fuzzers[@]})) passed, 0 failed"
