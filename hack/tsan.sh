#!/usr/bin/env bash
# ThreadSanitizer run of the concurrent parts: builds the tests of base/ (Mutex, CondVar, the
# token bucket), the Event recorder, the work queue, the informer, leader election, the HTTP server
# and the metrics registry with clang-14, -fsanitize=thread and -Wthread-safety -Werror (the tsan
# preset, in build/tsan), then runs each test binary with TSAN_OPTIONS=halt_on_error=1, under a
# timeout of its own. Fails on a compile error (including a thread-safety annotation the code
# breaks), a data race or lock-order report, a failed test or a timeout, and says which.
#
#   hack/tsan.sh [TEST...]        default: every test binary listed below
#
# Environment: TSAN_BUILD_DIR (default build/tsan), TSAN_TEST_TIMEOUT (seconds per binary,
# default 300). `make tsan` and a phase of `make test` run it; docs/testing.md explains it.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${TSAN_BUILD_DIR:-build/tsan}
per_test_timeout=${TSAN_TEST_TIMEOUT:-300}
cxx=clang++-14

# Test binary -> its directory under tests/ (the source tree's layout).
declare -A test_dirs=(
  [base_test]=base
  [kube_client_component_test]=kube/client
  [workqueue_test]=controller/workqueue
  [informer_test]=controller/informer
  [leader_test]=controller/leader
  [httpserver_handler_test]=controller/httpserver
  [httpserver_test]=controller/httpserver
  [metrics_test]=controller/metrics
  [metrics_scrape_authorizer_test]=controller/metrics
  [metrics_tls_server_test]=controller/metrics
  [reconciler_test]=controller/reconciler
  [debug_session_controller_test]=controller/reconciler
  [detection_test]=controller/detection
)

tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  mapfile -t tests < <(printf '%s\n' "${!test_dirs[@]}" | sort)
fi
for test in "${tests[@]}"; do
  if [ -z "${test_dirs[$test]:-}" ]; then
    echo "tsan: no test binary '$test'; known: ${!test_dirs[*]}" >&2
    exit 2
  fi
done

if ! command -v "$cxx" >/dev/null; then
  echo "tsan: $cxx not found: install the Debian packages clang-14 and libclang-rt-14-dev" \
    "('make deps')." >&2
  exit 1
fi
if [ ! -f "$("$cxx" -print-file-name=libclang_rt.tsan-x86_64.a)" ]; then
  echo "tsan: ThreadSanitizer's runtime is missing: install libclang-rt-14-dev ('make deps')." >&2
  exit 1
fi

start=$SECONDS
if [ ! -f "$build_dir/build.ninja" ]; then
  echo "tsan: configuring $build_dir (clang-14, -fsanitize=thread, -Wthread-safety)"
  if [ "$build_dir" = build/tsan ]; then
    cmake --preset tsan >/dev/null
  else
    cmake -S . -B "$build_dir" --preset tsan >/dev/null
  fi
fi
log_dir=$build_dir/tsan-logs
mkdir -p "$log_dir"
echo "tsan: building ${#tests[@]} test binaries in $build_dir"
if ! cmake --build "$build_dir" --target "${tests[@]}" >"$log_dir/build.log" 2>&1; then
  # A thread-safety warning is an error here: the annotations say which lock a member needs.
  grep -E -A 3 'error:|warning:' "$log_dir/build.log" | head -n 60 >&2 || tail -n 30 "$log_dir/build.log" >&2
  echo "tsan: the build failed (whole log: $log_dir/build.log)" >&2
  exit 1
fi
echo "tsan: built in $((SECONDS - start)) s"

# The analysis must be on: clang must reject tests/base/thread_safety_violation.cc (three broken
# rules) with the flags the work queue was compiled with.
flags=$(python3 - "$build_dir/compile_commands.json" <<'PY'
import json, shlex, sys
for entry in json.load(open(sys.argv[1])):
    if entry["file"].endswith("controller/workqueue/work_queue.cc"):
        words = shlex.split(entry["command"])
        print(" ".join(w for w in words if w.startswith(("-W", "-std=", "-fsanitize="))))
PY
)
if [[ " $flags " != *" -Wthread-safety "* || " $flags " != *" -fsanitize=thread "* ]]; then
  echo "tsan: $build_dir compiles without -Wthread-safety or -fsanitize=thread ($flags);" \
    "reconfigure with the tsan preset: rm -rf $build_dir" >&2
  exit 1
fi
# shellcheck disable=SC2086  # $flags is a list of flags
violations=$("$cxx" $flags -I. -fsyntax-only tests/base/thread_safety_violation.cc 2>&1 |
  grep -c 'error: .*\[-Werror,-Wthread-safety' || true)
if [ "$violations" -ne 3 ]; then
  echo "tsan: expected clang to report 3 thread-safety errors in" \
    "tests/base/thread_safety_violation.cc, got $violations: the annotations are not checked" >&2
  exit 1
fi
echo "tsan: thread-safety analysis on (3 of 3 planted violations rejected)"
# halt_on_error: the first report fails the binary (exit 66) rather than scrolling past.
# second_deadlock_stack: lock-order reports show where both locks were taken.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
failed=()
for test in "${tests[@]}"; do
  binary=$build_dir/tests/${test_dirs[$test]}/$test
  log=$log_dir/$test.log
  test_start=$SECONDS
  # setarch -R: no address-space randomization, which clang-14's TSan runtime cannot always map
  # around on kernels with many random mmap bits ("unexpected memory mapping").
  status=0
  timeout --kill-after=10 "$per_test_timeout" setarch "$(uname -m)" -R "$binary" --gtest_brief=1 \
    >"$log" 2>&1 || status=$?
  took=$((SECONDS - test_start))
  if [ $status -eq 0 ] && ! grep -q 'WARNING: ThreadSanitizer' "$log"; then
    printf 'tsan: %-32s ok      %4d s  %s\n' "$test" "$took" \
      "$(grep -E '^\[  PASSED  \]' "$log" | tail -n 1)"
    continue
  fi
  if [ $status -eq 124 ] || [ $status -eq 137 ]; then
    why="timed out after ${per_test_timeout} s"
  elif grep -q 'WARNING: ThreadSanitizer' "$log"; then
    why="ThreadSanitizer report"
  else
    why="test failure (exit $status)"
  fi
  printf 'tsan: %-32s FAILED  %4d s  %s (log %s)\n' "$test" "$took" "$why" "$log" >&2
  grep -E 'WARNING: ThreadSanitizer|SUMMARY: ThreadSanitizer|^\[  FAILED  \]' "$log" |
    head -n 10 >&2 || true
  failed+=("$test")
done

echo "tsan: ${#tests[@]} binaries in $((SECONDS - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "tsan: ${#failed[@]} failed: ${failed[*]}; reproduce one with: hack/tsan.sh ${failed[0]}" >&2
  exit 1
fi
echo "tsan: no races, all passed"
