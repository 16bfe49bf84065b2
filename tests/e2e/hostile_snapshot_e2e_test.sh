#!/usr/bin/env bash
# End-to-end test: output a hostile workload could make the snapshot tool write cannot crash the
# controller (security review H3; ctest label: integration).
#
# The controller runs on this host, as in controller_e2e_test.sh, but its snapshot image is
# ephemera-hostile-snapshot (tests/target/hostile_snapshot.cc): it writes what a target that took
# the tool over could write, chosen per session by the extra pattern "ephemera-test-mode=MODE":
# bytes that are not JSON, a document nested 10 000 levels deep, {"apiVersion":1}, a degraded entry
# of the wrong type (all encrypted to the session key, so that the controller decrypts them), and a
# 50 MiB line. Every such session must end Failed with a reason that names the problem, its key
# shredded, its audit chain kept; the controller must keep serving (a session created after them
# still gets its answer) and never restart.
#
#   hostile_snapshot_e2e_test.sh BUILD_DIR
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build_dir=$(cd "${1:?usage: hostile_snapshot_e2e_test.sh BUILD_DIR}" && pwd)
cluster=$repo/tests/cluster/cluster.sh
controller_bin=$build_dir/controller/ephemera-controller
work=$(mktemp -d)

# shellcheck source=tests/e2e/host_controller.sh
source "$here/host_controller.sh"
# shellcheck source=tests/e2e/e2e_lib.sh
source "$here/e2e_lib.sh"

cleanup() {
  as admin -n team-a delete debugsessions -l ephemera.dev/e2e=hostile --wait=false >/dev/null 2>&1 || true
  if [ -n "$host_controller_pid" ] && kill -0 "$host_controller_pid" 2>/dev/null; then
    for _ in $(seq 1 30); do
      [ -z "$(as admin -n team-a get debugsessions -l ephemera.dev/e2e=hostile -o name 2>/dev/null)" ] && break
      sleep 0.5
    done
    host_controller_stop || true
  fi
  host_controller_unregister_webhooks
  host_controller_forget_mark_key
  as admin -n team-a delete deployment hostile-target --ignore-not-found >/dev/null 2>&1 || true
}
e2e_trap_exit
e2e_require_host_run "$controller_bin"

hostile_image=$("$cluster" image-ref ephemera.local/hostile-snapshot:0.1.0 2>/dev/null) ||
  e2e_setup_failed "the hostile-snapshot image is not loaded (run 'make cluster-up', which builds it)"

# --- Setup -----------------------------------------------------------------------------------------
host_controller_install
EPHEMERA_SNAPSHOT_IMAGE=$hostile_image host_controller_start "$controller_bin" "$work/controller.log" ||
  e2e_setup_failed "the controller did not start"
as alice -n team-a apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: hostile-target}
spec:
  replicas: 1
  selector: {matchLabels: {app: hostile-target}}
  template:
    metadata: {labels: {app: hostile-target}}
    spec:
      securityContext: {runAsUser: 1000, runAsGroup: 1000}
      containers:
      - name: app
        image: ephemera.local/target:0.1.0
        args: ["--threads", "2"]
YAML
as alice -n team-a rollout status deployment/hostile-target --timeout=90s >/dev/null
pod=$(as alice -n team-a get pods -l app=hostile-target -o jsonpath='{.items[0].metadata.name}')
recipient=$(age-keygen 2>/dev/null | age-keygen -y)
controller_pid=$host_controller_pid

session() { # name mode
  cat <<YAML
apiVersion: ephemera.dev/v1alpha1
kind: DebugSession
metadata: {name: $1, namespace: team-a, labels: {ephemera.dev/e2e: hostile}}
spec:
  target: {pod: $pod, container: app}
  reason: "HOSTILE-1 a target that took the snapshot tool over"
  ttl: 2m
  capture: [process]
  recipients: ["$recipient"]
  redaction: {extraPatterns: ["ephemera-test-mode=$2"]}
YAML
}

# failed_with SESSION TEXT...: the session ends Failed, its message says each TEXT, its key is gone
# and its audit head is in its status.
failed_with() { # session text...
  local name=$1; shift
  wait_phase "$name" Failed 90 || return 1
  local message
  message=$(as admin -n team-a get debugsession "$name" -o jsonpath='{.status.message}')
  echo "$name: $message"
  local text
  for text in "$@"; do
    grep -qF -- "$text" <<<"$message" || { echo "the reason does not say '$text'"; return 1; }
  done
  # Nothing is lost: the key is shredded and the audit chain holds the failure.
  local uid
  uid=$(as admin -n team-a get debugsession "$name" -o jsonpath='{.metadata.uid}')
  local left
  left=$(as admin -n ephemera-system get secrets -l "ephemera.dev/session-uid=$uid" -o name)
  [ -z "$left" ] || { echo "the session key is still there: $left"; return 1; }
  [ -n "$(as admin -n team-a get debugsession "$name" -o jsonpath='{.status.audit.head}')" ] ||
    { echo "the session's audit head is gone from its status"; return 1; }
}

# All at once: a controller that crashed on one would leave the others unanswered.
for mode in garbage deep apiversion degraded line; do
  session "hostile-$mode" "$mode" | as alice create -f - >/dev/null
done

check "garbage in place of a snapshot: Failed, 'not JSON'" failed_with hostile-garbage "not a valid snapshot" "not JSON"
check "a snapshot nested 10 000 levels deep: Failed, 'nests deeper than 128 levels'" \
  failed_with hostile-deep "nests deeper than 128 levels"
check "{\"apiVersion\":1}: Failed, 'apiVersion' 'is not a string'" failed_with hostile-apiversion "apiVersion" "is not a string"
check "a degraded entry of the wrong type: Failed, naming the field" failed_with hostile-degraded "not a valid snapshot" "degraded"
check "a 50 MiB line: Failed at the controller's log cap" failed_with hostile-line "cap of"

keeps_serving() {
  # The same process still runs, never restarted, and still answers a new session.
  kill -0 "$controller_pid" || { echo "the controller process is gone"; return 1; }
  session hostile-after garbage | as alice create -f - >/dev/null
  wait_phase hostile-after Failed 90
  kill -0 "$controller_pid" || { echo "the controller process is gone"; return 1; }
  if grep -qiE "terminate called|segmentation|core dumped" "$work/controller.log"; then
    grep -iE "terminate called|segmentation|core dumped" "$work/controller.log"; return 1
  fi
}
check "the controller keeps serving: same process, a later session still answered" keeps_serving
