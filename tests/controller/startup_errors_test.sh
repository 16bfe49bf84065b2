#!/usr/bin/env bash
# The real ephemera-controller binary, started with a broken kubeconfig or settings file: each
# start must end within a few seconds with a non-zero exit and exactly one message on stderr that
# names the file and the problem, and never with a crash, an abort or a stack trace.
#
# The unit tests (tests/controller/config, tests/kube/auth/kube_config_test.cc) check the
# parsers' messages; this checks what the binary does with them.
#
# Usage: startup_errors_test.sh PATH-TO-ephemera-controller TESTDATA-DIR
set -euo pipefail

bin=${1:?usage: startup_errors_test.sh PATH-TO-ephemera-controller TESTDATA-DIR}
testdata=${2:?usage: startup_errors_test.sh PATH-TO-ephemera-controller TESTDATA-DIR}
if [[ ! -x "$bin" ]]; then
  echo "FAIL: $bin is not an executable; build the ephemera-controller target first" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A start must end well within this (seconds); the run is killed at twice it.
readonly max_seconds=5
# Valid settings, so that only the kubeconfig is wrong in the kubeconfig cases.
readonly image_flags=(--snapshot-image=ephemera.local/snapshot:dev --allow-unpinned-image)
readonly image_line='snapshotImage: ephemera.local/snapshot:dev
allowUnpinnedImage: true'
failures=0
cases=0

fail() {
  echo "FAIL: $1: $2" >&2
  failures=$((failures + 1))
}

# TEXT as it appears inside a JSON string (backslashes and quotes escaped).
json_escaped() {
  local text=${1//\\/\\\\}
  echo "${text//\"/\\\"}"
}

# expect_startup_error NAME FILE PROBLEM ARGS...: runs the binary with ARGS and checks the exit and
# stderr. FILE (when not empty) and PROBLEM must both appear in the message.
expect_startup_error() {
  local name=$1 file=$2 problem=$3
  shift 3
  cases=$((cases + 1))
  echo "--- $name"
  local rc=0 started ended elapsed_ms
  started=$(date +%s%N)
  env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT \
    timeout -s KILL $((2 * max_seconds)) "$bin" "$@" \
    </dev/null >"$work/stdout" 2>"$work/stderr" || rc=$?
  ended=$(date +%s%N)
  elapsed_ms=$(((ended - started) / 1000000))
  local stderr
  stderr=$(cat "$work/stderr")
  echo "    exit $rc after ${elapsed_ms} ms; stderr: $stderr"

  if ((rc == 0)); then fail "$name" "exited 0; a broken start must fail"; fi
  if ((rc >= 128)); then fail "$name" "ended by signal $((rc - 128)) (crash, abort or timeout)"; fi
  if ((elapsed_ms > max_seconds * 1000)); then
    fail "$name" "took ${elapsed_ms} ms; a start with bad input must fail at once"
  fi
  local lines
  lines=$(grep -c . "$work/stderr" || true)
  if ((lines != 1)); then fail "$name" "wrote $lines non-blank lines to stderr, not exactly one"; fi
  # After the settings are read, messages are JSON log lines: quotes inside come escaped.
  if [[ "$stderr" == "{"* ]]; then
    file=$(json_escaped "$file")
    problem=$(json_escaped "$problem")
  fi
  if [[ -n "$file" && "$stderr" != *"$file"* ]]; then
    fail "$name" "the message does not name the file $file"
  fi
  if [[ "$stderr" != *"$problem"* ]]; then
    fail "$name" "the message does not say \"$problem\""
  fi
  local crash
  for crash in 'terminate called' 'what():' 'Aborted' 'core dumped' 'Segmentation fault' \
    'Stack trace' 'stack trace' '#0 ' 'AddressSanitizer' 'runtime error:'; do
    if grep -qF -- "$crash" "$work/stderr"; then fail "$name" "stderr shows a crash ($crash)"; fi
  done
  if [[ -s "$work/stdout" ]]; then
    fail "$name" "wrote to stdout (the audit stream) before it could start: $(head -c 200 "$work/stdout")"
  fi
}

# The problem a malformed kubeconfig fixture states on its first line ("# expect: …").
expected_of() {
  sed -n '1s/^# expect: //p' "$1"
}

# --- Kubeconfigs --------------------------------------------------------------------------------

malformed=$testdata/kube/malformed

expect_startup_error "kubeconfig does not exist" "$work/missing-kubeconfig" \
  "No such file or directory" \
  "${image_flags[@]}" --kubeconfig="$work/missing-kubeconfig"

expect_startup_error "kubeconfig is a directory" "$work" "is a directory" \
  "${image_flags[@]}" --kubeconfig="$work"

for fixture in not-yaml no-current-context unknown-context unknown-user unknown-cluster \
  ca-file-missing wrong-kind missing-server; do
  problem=$(expected_of "$malformed/$fixture.yaml")
  if [[ -z "$problem" ]]; then
    fail "kubeconfig $fixture" "the fixture has no '# expect:' first line"
    continue
  fi
  expect_startup_error "kubeconfig $fixture" "$malformed/$fixture.yaml" "$problem" \
    "${image_flags[@]}" --kubeconfig="$malformed/$fixture.yaml"
done

expect_startup_error "no kubeconfig outside a cluster" "" \
  "outside a cluster, give a kubeconfig with --kubeconfig=FILE" \
  "${image_flags[@]}"

# A good kubeconfig, but no webhooks: nothing would bind spec.requestedBy (review M1, scenario B).
expect_startup_error "no --webhook-cert-dir without --insecure-no-admission" "" \
  "Cannot reconcile without serving the admission webhooks" \
  "${image_flags[@]}" --kubeconfig="$testdata/kube/valid-data.yaml"

# --- Settings files (--config) ------------------------------------------------------------------

# settings_file NAME CONTENT: writes $work/NAME.yaml and prints its path.
settings_file() {
  printf '%s\n' "$2" >"$work/$1.yaml"
  echo "$work/$1.yaml"
}

file=$work/missing-settings.yaml
expect_startup_error "settings file does not exist" "$file" "does not exist" --config="$file"

file=$(settings_file not-yaml "$image_line
policy: [defaultTtl: 5m")
expect_startup_error "settings file is not YAML" "$file" "not valid YAML" --config="$file"

file=$(settings_file unknown-key "$image_line
policy:
  maxTTL: 1h")
expect_startup_error "settings file has an unknown key" "$file" 'unknown key "maxTTL"' \
  --config="$file"

file=$(settings_file bad-duration "$image_line
policy:
  defaultTtl: five minutes")
expect_startup_error "settings file has a bad duration" "$file" 'invalid duration "five minutes"' \
  --config="$file"

file=$(settings_file ttl-order "$image_line
policy:
  defaultTtl: 2h
  maxTtl: 1h")
expect_startup_error "settings file has maxTtl below defaultTtl" "$file" \
  "policy.defaultTtl (2h) must not exceed policy.maxTtl (1h)" \
  --config="$file"

file=$(settings_file bad-namespace "$image_line
policy:
  forbiddenNamespaces: [kube-system, Team_A]")
expect_startup_error "settings file has a bad namespace name" "$file" \
  '"Team_A" is not a valid namespace name' --config="$file"

file=$(settings_file not-a-map "- snapshotImage: x")
expect_startup_error "settings file is a list" "$file" "$file" --config="$file"

echo "$cases cases run, $failures failed checks"
if ((failures > 0)); then exit 1; fi
echo "PASS: every bad start failed cleanly with one message naming the file and the problem"
