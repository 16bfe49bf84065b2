#!/usr/bin/env bash
# Runs one phase of a make target and says how long it took, so that `make test` and `make demo`
# show where their time goes (also when the phase fails).
#
#   hack/phase.sh NAME COMMAND [ARGS...]
set -uo pipefail

name=${1:?usage: phase.sh NAME COMMAND [ARGS...]}
shift
start=$(date +%s)
"$@"
status=$?
echo "== phase '$name' took $(($(date +%s) - start)) s (exit $status)" >&2
exit "$status"
