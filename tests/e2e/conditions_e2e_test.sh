#!/usr/bin/env bash
# End-to-end test of debugging under error conditions on the local cluster (ctest label:
# integration): sessions against a target that is CPU-throttled to 10 %, one that is OOM-killed
# over and over, one that is crash-looping, and a healthy one while the node is under load. Each
# session must end with the right outcome (the evidence captured, or a clear failure that names
# what went wrong) within a bounded time, and never make the target worse: no restart or kill that
# the capture caused.
#
# Targets (ephemera-target, tests/target/ephemera_target.cc), in team-a, as Deployments:
# - cond-throttled: limits.cpu 100m, two threads spinning (--spin 2): the container is throttled
#   all the time, and so is the snapshot tool, which runs in the same pod's CPU quota;
# - cond-oom: limits.memory 64Mi, leaking 6 MiB a second (--leak 6): OOM-killed about every 10 s,
#   then restarted with the kubelet's growing back-off;
# - cond-crash: exits with code 1 two seconds after it starts (--exit-after 2): CrashLoopBackOff;
# - cond-healthy: a plain service, captured while every CPU of the node is kept busy.
# The controller runs on this host (tests/e2e/host_controller.sh).
#
#   conditions_e2e_test.sh BUILD_DIR   (needs BUILD_DIR/controller/ephemera-controller and the
#                                       target image built from a tree that has --leak and --spin:
#                                       'make cluster-up')
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build_dir=$(cd "${1:?usage: conditions_e2e_test.sh BUILD_DIR}" && pwd)
cluster=$repo/tests/cluster/cluster.sh
controller_bin=$build_dir/controller/ephemera-controller
work=$(mktemp -d)
hogs=()

# shellcheck source=tests/e2e/host_controller.sh
source "$here/host_controller.sh"
# shellcheck source=tests/e2e/e2e_lib.sh
source "$here/e2e_lib.sh"

deployments=(cond-throttled cond-oom cond-crash cond-healthy)

stop_hogs() {
  local p
  for p in "${hogs[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${hogs[@]}"; do wait "$p" 2>/dev/null || true; done
  hogs=()
}

cleanup() {
  stop_hogs
  as admin -n team-a delete debugsessions -l ephemera.dev/e2e=conditions --wait=false >/dev/null 2>&1 || true
  if [ -n "$host_controller_pid" ] && kill -0 "$host_controller_pid" 2>/dev/null; then
    for _ in $(seq 1 30); do
      [ -z "$(as admin -n team-a get debugsessions -l ephemera.dev/e2e=conditions -o name 2>/dev/null)" ] && break
      sleep 0.5
    done
    host_controller_stop || echo "the controller needed SIGKILL"
  fi
  host_controller_unregister_webhooks
  host_controller_forget_mark_key
  as admin -n team-a delete deployment "${deployments[@]}" --ignore-not-found >/dev/null 2>&1 || true
  as admin -n team-a delete rolebinding cond-alice-ptrace --ignore-not-found >/dev/null 2>&1 || true
  as admin -n team-a delete role cond-ptrace --ignore-not-found >/dev/null 2>&1 || true
}
e2e_trap_exit
e2e_require_host_run "$controller_bin"

# --- Setup ---------------------------------------------------------------------------------------------
echo "conditions-e2e: starting the controller on this host"
host_controller_install
host_controller_start "$controller_bin" "$work/controller.log" "$work/audit.jsonl" ||
  e2e_setup_failed "the controller did not start"
age-keygen -o "$work/alice.key" 2>/dev/null
recipient=$(age-keygen -y "$work/alice.key")
# debugprofiles is not a served resource, only an RBAC name, so the Role is written out.
as admin -n team-a apply -f - >/dev/null <<'YAML'
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: cond-ptrace, namespace: team-a}
rules:
- {apiGroups: [ephemera.dev], resources: [debugprofiles], resourceNames: [ptrace], verbs: [use]}
YAML
as admin -n team-a create rolebinding cond-alice-ptrace --role=cond-ptrace --user=alice >/dev/null

deployment() { # name args-json resources-json
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1, namespace: team-a}
spec:
  replicas: 1
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      terminationGracePeriodSeconds: 0
      securityContext: {runAsUser: 1000, runAsGroup: 1000}
      containers:
      - name: app
        image: ephemera.local/target:0.1.0
        args: $2
        resources: $3
YAML
}
echo "conditions-e2e: starting ${deployments[*]} in team-a"
{
  deployment cond-throttled '["--threads", "4", "--spin", "2"]' \
    '{limits: {cpu: 100m, memory: 128Mi}, requests: {cpu: 100m, memory: 128Mi}}'
  echo ---
  deployment cond-oom '["--threads", "4", "--leak", "6"]' \
    '{limits: {cpu: 500m, memory: 64Mi}, requests: {cpu: 100m, memory: 64Mi}}'
  echo ---
  deployment cond-crash '["--threads", "4", "--exit-after", "2", "--exit-code", "1"]' '{}'
  echo ---
  deployment cond-healthy '["--threads", "4"]' '{}'
} | as alice apply -f - >/dev/null
as admin -n team-a rollout status deployment/cond-throttled deployment/cond-healthy --timeout=120s >/dev/null ||
  e2e_setup_failed "cond-throttled and cond-healthy did not become ready"

pod_of() { as admin -n team-a get pods -l "app=$1" -o jsonpath='{.items[0].metadata.name}'; }
restarts_of() { as admin -n team-a get pods -l "app=$1" -o jsonpath='{.items[0].status.containerStatuses[0].restartCount}'; }
# The terminations the target's container has had: "reason/exitCode" of its last one ("" if none).
last_termination_of() {
  as admin -n team-a get pods -l "app=$1" \
    -o jsonpath='{.items[0].status.containerStatuses[0].lastState.terminated.reason}/{.items[0].status.containerStatuses[0].lastState.terminated.exitCode}'
}

session() { # name pod profile
  cat <<YAML
apiVersion: ephemera.dev/v1alpha1
kind: DebugSession
metadata: {name: $1, namespace: team-a, labels: {ephemera.dev/e2e: conditions}}
spec:
  target: {pod: $2, container: app}
  reason: "E2E-20 debugging under error conditions"
  ttl: 5m
  profile: $3
  recipients: ["$recipient"]
YAML
}

# Waits up to SECONDS for the session to end (Completed or Failed); prints "phase reason", and
# notes the outcome with its time and message in $work/outcomes (printed at the end).
wait_end() { # name seconds
  local deadline=$((SECONDS + $2)) started=$SECONDS phase reason
  while [ $SECONDS -lt $deadline ]; do
    phase=$(phase_of "$1")
    case $phase in
      Completed | Failed)
        # The reason of the condition that says what went wrong (Injected or Captured False); Ready
        # only repeats the phase. A status has no reason of its own.
        reason=$(as admin -n team-a get debugsession "$1" -o json | python3 -c '
import json, sys
failed = [c for c in json.load(sys.stdin).get("status", {}).get("conditions", [])
          if c.get("status") == "False" and c.get("type") not in ("Ready", "ContainerTerminated")]
print(failed[-1].get("reason", "") if failed else "")')
        echo "$1: $phase $reason after $((SECONDS - started))s: $(as admin -n team-a get debugsession "$1" -o jsonpath='{.status.message}')" >>"$work/outcomes"
        echo "$phase $reason"
        return 0 ;;
    esac
    sleep 0.5
  done
  echo "$1: not ended after $2s ($(phase_of "$1"))" >>"$work/outcomes"
  echo "unended $(phase_of "$1")"
}

# Waits up to 90 s until the target's last termination is REASON/CODE.
wait_for_termination() { # deployment reason/code
  local deadline=$((SECONDS + 90))
  until [ "$(last_termination_of "$1")" = "$2" ]; do
    [ $SECONDS -lt $deadline ] || { echo "$1 did not end as $2 within 90s: '$(last_termination_of "$1")'"; return 1; }
    sleep 1
  done
}

# A session that failed ended rightly only with a reason that says what went wrong and a message.
failed_clearly() { # session "phase reason"
  case $2 in
    "Failed TargetNotRunning" | "Failed SnapshotToolFailed" | "Failed SnapshotContainerFailed" | "Failed SnapshotTimedOut")
      as admin -n team-a get debugsession "$1" -o jsonpath='{.status.message}' | grep -q . ;;
    *) echo "$1 ended as: $2 ($(as admin -n team-a get debugsession "$1" -o jsonpath='{.status.message}'))"; return 1 ;;
  esac
}

# --- 1. CPU-throttled to 10 % ------------------------------------------------------------------------
throttled_target_is_captured() {
  local pod; pod=$(pod_of cond-throttled)
  session s-throttled-restricted "$pod" restricted | as alice apply -f - >/dev/null
  session s-throttled-ptrace "$pod" ptrace | as alice apply -f - >/dev/null
  local a b
  a=$(wait_end s-throttled-restricted 120)
  b=$(wait_end s-throttled-ptrace 120)
  [ "$a" = "Completed " ] || { echo "restricted: $a"; as admin -n team-a get debugsession s-throttled-restricted -o jsonpath='{.status.message}'; return 1; }
  [ "$b" = "Completed " ] || { echo "ptrace: $b"; as admin -n team-a get debugsession s-throttled-ptrace -o jsonpath='{.status.message}'; return 1; }
  decrypt_snapshot s-throttled-restricted "$work/alice.key" || return 1
  decrypt_snapshot s-throttled-ptrace "$work/alice.key" || return 1
  # What the quota cost the tool, for the outcomes printed at the end.
  python3 - "$work"/s-throttled-*.json >>"$work/outcomes" <<'PY'
import json, sys
for path in sys.argv[1:]:
    doc = json.load(open(path))
    o = doc["overhead"]
    reasons = sorted({d["reason"].split(" (")[0] for d in doc.get("degraded", [])})
    print(f"{path.rsplit('/', 1)[-1]}: tool wall {o.get('wallMillis')} ms, cpu {o.get('toolCpuMillis')} ms, "
          f"budget reached: {o.get('budgetReached', 'none')}, degraded: {reasons or 'none'}")
PY
  python3 - "$work/s-throttled-ptrace.json" <<'PY' || return 1
import json, sys
doc = json.load(open(sys.argv[1]))
main = doc["processes"][0]
names = {t["name"] for t in main["threads"]}
assert {"spin-0", "spin-1"} <= names, names
# The spinning threads were stopped and unwound despite the quota (or the snapshot says why not).
spin = [t for t in main["threads"] if t["name"].startswith("spin-")]
for t in spin:
    frames = [f.get("symbol", "") for f in t.get("stack", {}).get("frames", [])]
    reason = [d for d in doc.get("degraded", []) if d.get("tid") == t.get("tid")]
    assert any("SpinForever" in f for f in frames) or reason, (t["name"], frames[:5], reason)
PY
  [ "$(restarts_of cond-throttled)" = 0 ] || { echo "cond-throttled restarted: $(last_termination_of cond-throttled)"; return 1; }
}
check "a target throttled to 10 % CPU: restricted and ptrace sessions complete (the tool shares its quota), no restart" \
  throttled_target_is_captured

# --- 2. OOM-killed over and over ---------------------------------------------------------------------
oom_killed_target_ends_cleanly() {
  # After the first OOM kill, so that the session meets a target that has been killed before.
  wait_for_termination cond-oom OOMKilled/137 || return 1
  session s-oom "$(pod_of cond-oom)" restricted | as alice apply -f - >/dev/null
  local end; end=$(wait_end s-oom 150)
  if [ "$end" = "Completed " ]; then
    decrypt_snapshot s-oom "$work/alice.key" || return 1
    python3 - "$work/s-oom.json" <<'PY' || return 1
import json, sys
doc = json.load(open(sys.argv[1]))
main = doc["processes"][0]
assert "cache-filler" in {t["name"] for t in main["threads"]}, main["threads"]
# The memory limit the container runs into, and how close it is: 64 MiB.
cgroup = main.get("cgroup", {})
assert cgroup.get("memoryLimitBytes") == 67108864, cgroup
assert 0 < cgroup.get("memoryUsageBytes", 0) <= 67108864, cgroup
PY
  else
    # The target was killed under the tool: a clear failure is right.
    failed_clearly s-oom "$end" || return 1
  fi
  # Every kill of the target is the kernel's OOM kill of its leak, none the capture's doing.
  [ "$(last_termination_of cond-oom)" = "OOMKilled/137" ] || { echo "last termination: $(last_termination_of cond-oom)"; return 1; }
}
check "a target OOM-killed over and over: the session completes with its memory limit in the evidence, or fails saying why" \
  oom_killed_target_ends_cleanly

# --- 3. Crash-looping --------------------------------------------------------------------------------
crash_looping_target_ends_cleanly() {
  wait_for_termination cond-crash Error/1 || return 1
  session s-crash "$(pod_of cond-crash)" restricted | as alice apply -f - >/dev/null
  local end; end=$(wait_end s-crash 150)
  [ "$end" = "Completed " ] || failed_clearly s-crash "$end" || return 1
  # It still ends the way it always does: its own exit code 1, never a kill.
  [ "$(last_termination_of cond-crash)" = "Error/1" ] || { echo "last termination: $(last_termination_of cond-crash)"; return 1; }
}
check "a crash-looping target: the session ends within 150 s, completed or failed with a clear reason, and the target still exits only by itself" \
  crash_looping_target_ends_cleanly

# --- 4. The node under load --------------------------------------------------------------------------
node_under_load_still_captures() {
  local i cpus; cpus=$(nproc)
  # Bounded on their own (a killed test leaves nothing spinning); output away from the check's
  # capture, which would otherwise wait for them.
  for i in $(seq 1 $((cpus * 2))); do
    timeout 300 bash -c 'while :; do :; done' >/dev/null 2>&1 &
    hogs+=($!)
  done
  local pod; pod=$(pod_of cond-healthy)
  for i in 1 2 3; do session "s-loaded-$i" "$pod" restricted; echo ---; done | as alice apply -f - >/dev/null
  local status=0 end
  for i in 1 2 3; do
    end=$(wait_end "s-loaded-$i" 120)
    [ "$end" = "Completed " ] || { echo "s-loaded-$i: $end"; status=1; }
  done
  stop_hogs
  [ "$(restarts_of cond-healthy)" = 0 ] || { echo "cond-healthy restarted"; status=1; }
  return $status
}
check "with every CPU of the node kept busy, three sessions on a healthy target complete" \
  node_under_load_still_captures

# The controller kept running through all of it.
check "the controller is still running" kill -0 "$host_controller_pid"
echo "conditions-e2e: outcomes:"
sed 's/^/  /' "$work/outcomes" 2>/dev/null || true
