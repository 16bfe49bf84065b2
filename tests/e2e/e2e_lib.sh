#!/usr/bin/env bash
# Shared by the end-to-end suites on the local cluster: counting checks, people's kubectl, sessions.
# Source it after setting `cluster` (tests/cluster/cluster.sh) and `work` (a scratch folder), then:
#   check DESCRIPTION COMMAND...   runs COMMAND in a subshell with errexit (its first failing step
#                                  fails it), prints PASS/FAIL and its output's tail;
#                                  counts in `passed` / `failed`. Controllers must be started and
#                                  stopped outside checks (state set in a subshell is lost).
#   as USER ARGS...                kubectl as one of the cluster's people (admin, alice, bob, carol)
#   phase_of SESSION               the DebugSession's status.phase in team-a ("" when unset)
#   wait_phase SESSION PHASE SECS  waits for the phase; prints the status and fails on timeout
#   decrypt_snapshot SESSION KEY   the session's DebugSnapshot decrypted with `age` into
#                                  $work/SESSION.json
#   e2e_trap_exit                  on exit: runs the script's `cleanup` function, prints the
#                                  tally and, after a failure, the tail of $work/controller.log;
#                                  exits non-zero when any check failed
#   e2e_require_host_run BINARY... the cluster is up, `age` is installed and each binary is built
#                                  (else a setup failure saying what to run)
: "${cluster:?set cluster before sourcing e2e_lib.sh}" "${work:?set work before sourcing e2e_lib.sh}"
passed=0
failed=0
_e2e_kubectl=$("$cluster" kubectl-path)

as() { local user=$1; shift; "$_e2e_kubectl" --kubeconfig "$("$cluster" kubeconfig "$user")" "$@"; }

check() { # description command...
  local what=$1; shift
  local out status errexit=
  # The command runs with errexit, so that a check fails at its first failing step, not only at
  # its last. Inside an `if` (or `&&`, `||`) bash would ignore errexit for everything the command
  # runs, so it is called outside one.
  case $- in *e*) errexit=1 ;; esac
  set +e
  out=$(set -e; "$@" 2>&1)
  status=$?
  [ -z "$errexit" ] || set -e
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1)); echo "PASS $what"
  else
    failed=$((failed + 1)); echo "FAIL $what"; echo "$out" | sed 's/^/    /' | tail -n 25
  fi
}

phase_of() { as admin -n team-a get debugsession "$1" -o jsonpath='{.status.phase}' 2>/dev/null; }

wait_phase() { # name phase timeout
  local deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(phase_of "$1")" = "$2" ] && return 0
    sleep 0.5
  done
  echo "session $1 is '$(phase_of "$1")', not $2, after $3s:"
  as admin -n team-a get debugsession "$1" -o jsonpath='{.status}'; echo
  return 1
}

decrypt_snapshot() { # name identity-file
  as alice -n team-a get debugsnapshot "$1" -o jsonpath='{.spec.ciphertext}' >"$work/$1.age" || return 1
  age -d -i "$2" "$work/$1.age" | gunzip >"$work/$1.json"
}

e2e_finish() {
  local code=$?
  cleanup
  echo "$passed passed, $failed failed"
  if [ "$failed" -ne 0 ] && [ -f "$work/controller.log" ]; then
    echo "--- controller log (last 40 lines)"; tail -n 40 "$work/controller.log"
  fi
  rm -rf "$work"
  [ "$failed" -eq 0 ] && exit "$code" || exit 1
}
e2e_trap_exit() { trap e2e_finish EXIT; }

e2e_setup_failed() { echo "e2e: $*" >&2; failed=$((failed + 1)); exit 1; }
e2e_require_host_run() { # binary...
  "$cluster" status >/dev/null 2>&1 || e2e_setup_failed "the local cluster is not up (run 'make cluster-up')"
  command -v age >/dev/null || e2e_setup_failed "Debian's age is needed to decrypt snapshots (run 'make deps')"
  local binary
  for binary in "$@"; do
    [ -x "$binary" ] || e2e_setup_failed "$binary is not built (run 'make build')"
  done
}
