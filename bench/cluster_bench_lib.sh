#!/usr/bin/env bash
# Shared setup of the benchmarks that run on the local cluster (session latency, throughput,
# controller footprint). Source it after setting `repo`, `cluster` (tests/cluster/cluster.sh),
# `bench_prefix` (a short name for the run's objects) and defining `log`. It stops with a message
# when the cluster is not up, the release controller is not built or age-keygen is missing; then
# sets controller_src (the controller binary: build/release or EPHEMERA_CONTROLLER_BIN), work (a
# scratch folder), ns (team-a), run_id and run_label (the label every object of the run carries),
# and sources the end-to-end helpers (host_controller_*, as, ...).
: "${repo:?}" "${cluster:?}" "${bench_prefix:?}"
"$cluster" status >/dev/null 2>&1 || { log "the local cluster is not up (make cluster-up)" >&2; exit 1; }
controller_src=${EPHEMERA_CONTROLLER_BIN:-$repo/build/release/controller/ephemera-controller}
[ -x "$controller_src" ] || { log "no release ephemera-controller built (make bench builds build/release)" >&2; exit 1; }
command -v age-keygen >/dev/null || { log "age-keygen is needed (make deps)" >&2; exit 1; }

work=$(mktemp -d)
# shellcheck source=tests/e2e/host_controller.sh
source "$repo/tests/e2e/host_controller.sh"
# shellcheck source=tests/e2e/e2e_lib.sh
source "$repo/tests/e2e/e2e_lib.sh"
# Read by the scripts that source this file.
# shellcheck disable=SC2034
ns=team-a
run_id=$bench_prefix-$(date +%s)
# shellcheck disable=SC2034
run_label=bench.ephemera.dev/run=$run_id

# Creates COUNT target pods GROUP-1 … GROUP-COUNT as alice (the end-to-end target image, uid 1000,
# a token in its environment for the redactor to find), labelled with the run and the group, and
# waits until they are Ready.
bench_make_pods() { # group count
  local group=$1 count=$2 i
  for i in $(seq 1 "$count"); do
    cat <<YAML
---
apiVersion: v1
kind: Pod
metadata:
  name: $group-$i
  namespace: $ns
  labels: {bench.ephemera.dev/run: $run_id, bench.ephemera.dev/group: $group}
spec:
  terminationGracePeriodSeconds: 0
  securityContext: {runAsUser: 1000, runAsGroup: 1000}
  containers:
  - name: app
    image: ephemera.local/target:0.1.0
    args: ["--threads", "4"]
    env:
    - {name: API_TOKEN, value: "ghp_benchTokenValue0123456789abcdefABCDEF0"}
    - {name: LOG_LEVEL, value: info}
YAML
  done | as alice create -f - >/dev/null
  as alice -n "$ns" wait --for=condition=Ready pod -l "bench.ephemera.dev/group=$group" --timeout=240s >/dev/null
}

# Deletes the run's sessions and, while the controller runs, waits up to SECONDS for it to wipe
# them and release their finalizers; drops the finalizers of any still there, so nothing is left
# stuck.
bench_release_sessions() { # seconds
  local deadline=$((SECONDS + $1)) s
  as admin -n "$ns" delete debugsessions -l "$run_label" --wait=false >/dev/null 2>&1 || true
  while [ -n "$host_controller_pid" ] && kill -0 "$host_controller_pid" 2>/dev/null &&
    [ $SECONDS -lt $deadline ]; do
    [ -z "$(as admin -n "$ns" get debugsessions -l "$run_label" -o name 2>/dev/null)" ] && return 0
    sleep 0.5
  done
  for s in $(as admin -n "$ns" get debugsessions -l "$run_label" -o name 2>/dev/null); do
    log "$s was not released by the controller in time; removing its finalizer"
    as admin -n "$ns" patch "$s" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
  done
}

# The end of a run: its sessions released (waiting up to SECONDS), the controller stopped, its
# webhooks and mark key gone, its pods deleted.
bench_clean_up_run() { # seconds
  bench_release_sessions "$1"
  if [ -n "$host_controller_pid" ] && kill -0 "$host_controller_pid" 2>/dev/null; then
    host_controller_stop || log "the controller needed SIGKILL"
  fi
  host_controller_unregister_webhooks
  host_controller_forget_mark_key
  as admin -n "$ns" delete pods -l "$run_label" --grace-period=0 --force --wait=false >/dev/null 2>&1 || true
}
