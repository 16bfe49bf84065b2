#!/usr/bin/env bash
# Fault test on the local cluster (ctest e2e.faults, label integration; `make soak` runs it with 100
# sessions). While alice creates SESSIONS DebugSessions spread over several target pods, the
# controller is killed with SIGKILL at random moments and started again, and once, mid-watch, so is
# the kube-apiserver. Afterwards:
#   - every session reached Completed and delivered its snapshot; none failed, none is stuck;
#   - each snapshot container was injected exactly once;
#   - the audit trail written across all of the controller's lives verifies against each session's
#     head (a step cut short by the kill and done again by the next life shows as superseded);
#   - by expiresAt + 30 s each session is Expired and its key Secret and DebugSnapshot are gone, and
#     nothing labelled with a session is left in any namespace.
# The seed of the random schedule is printed; EPHEMERA_FAULT_SEED replays one.
#
#   fault_e2e_test.sh BUILD_DIR [SESSIONS]     (SESSIONS default 20)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build_dir=$(cd "${1:?usage: fault_e2e_test.sh BUILD_DIR [SESSIONS]}" && pwd)
sessions=${2:-20}
cluster=$repo/tests/cluster/cluster.sh
controller_bin=$build_dir/controller/ephemera-controller
work=$(mktemp -d)
pods_wanted=4
# Long enough that every session is delivered before it expires, even at the slowest moment.
ttl_seconds=$((sessions * 2 > 90 ? sessions * 2 : 90))
seed=${EPHEMERA_FAULT_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$seed

# shellcheck source=tests/e2e/host_controller.sh
source "$here/host_controller.sh"
# shellcheck source=tests/e2e/e2e_lib.sh
source "$here/e2e_lib.sh"

cleanup() {
  if [ -f "$work/creator.pid" ]; then kill "$(cat "$work/creator.pid")" 2>/dev/null || true; fi
  as admin -n team-a delete debugsessions -l e2e=faults --wait=false >/dev/null 2>&1 || true
  if [ -n "$host_controller_pid" ] && kill -0 "$host_controller_pid" 2>/dev/null; then
    for _ in $(seq 1 60); do
      [ -z "$(as admin -n team-a get debugsessions -l e2e=faults -o name 2>/dev/null)" ] && break
      sleep 0.5
    done
    host_controller_stop || true
  fi
  host_controller_unregister_webhooks
  host_controller_forget_mark_key
  as admin -n team-a delete deployment e2e-faults --ignore-not-found >/dev/null 2>&1 || true
}
e2e_trap_exit
e2e_require_host_run "$controller_bin"
echo "fault test: $sessions sessions over $pods_wanted pods, TTL ${ttl_seconds}s, seed $seed"

start_controller() {
  host_controller_start "$controller_bin" "$work/controller.log" "$work/audit.jsonl" ||
    e2e_setup_failed "the controller did not start"
}

# --- Setup: the controller, and the pods alice will debug ------------------------------------------
host_controller_install
start_controller
as alice -n team-a apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: e2e-faults}
spec:
  replicas: $pods_wanted
  selector: {matchLabels: {app: e2e-faults}}
  template:
    metadata: {labels: {app: e2e-faults}}
    spec:
      securityContext: {runAsUser: 1000, runAsGroup: 1000}
      containers:
      - name: app
        image: ephemera.local/target:0.1.0
        args: ["--threads", "2"]
YAML
as alice -n team-a rollout status deployment/e2e-faults --timeout=120s >/dev/null ||
  e2e_setup_failed "the target pods did not start"
mapfile -t pods < <(as alice -n team-a get pods -l app=e2e-faults \
  --field-selector=status.phase=Running -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')
[ "${#pods[@]}" -ge 1 ] || e2e_setup_failed "no running target pod"
age-keygen -o "$work/alice.key" 2>/dev/null
recipient=$(age-keygen -y "$work/alice.key")

session_yaml() { # name pod
  cat <<YAML
apiVersion: ephemera.dev/v1alpha1
kind: DebugSession
metadata: {name: $1, namespace: team-a, labels: {e2e: faults}}
spec:
  target: {pod: $2, container: app}
  reason: "FAULT-1 latency spike while the controller restarts"
  ttl: ${ttl_seconds}s
  profile: restricted
  recipients: ["$recipient"]
YAML
}

# Creates the sessions one after another with random gaps. While the controller is down its webhooks
# do not answer and the API server refuses the DebugSession (failurePolicy Fail): alice retries, as
# she would by hand. Counts created sessions and refusals in files for the chaos loop and the report.
create_sessions() {
  local i name refused=0 deadline
  for i in $(seq 1 "$sessions"); do
    name=$(printf 'fault-%03d' "$i")
    deadline=$((SECONDS + 120))
    until session_yaml "$name" "${pods[$((i % ${#pods[@]}))]}" | as alice apply -f - >/dev/null 2>"$work/create.err"; do
      refused=$((refused + 1))
      [ $SECONDS -lt $deadline ] || { echo "could not create $name in 120s: $(cat "$work/create.err")" >"$work/creator.failed"; return 1; }
      sleep 0.5
    done
    echo "$i" >"$work/created"
    echo "$refused" >"$work/refused"
    sleep "0.$((RANDOM % 6))"
  done
}

# --- The run: sessions created while the controller is killed, and the API server once --------------
t0=$SECONDS
echo 0 >"$work/created"
echo 0 >"$work/refused"
create_sessions &
echo $! >"$work/creator.pid"
kills=0
min_kills=$((sessions / 10 > 5 ? sessions / 10 : 5))
apiserver_restarted=0
while kill -0 "$(cat "$work/creator.pid")" 2>/dev/null || [ "$kills" -lt "$min_kills" ]; do
  sleep "$((RANDOM % 3)).$((RANDOM % 10))"
  kill -KILL "$host_controller_pid" 2>/dev/null || true
  wait "$host_controller_pid" 2>/dev/null || true
  kills=$((kills + 1))
  echo "  $((SECONDS - t0))s: controller killed (#$kills) with $(cat "$work/created") sessions created"
  sleep "0.$((RANDOM % 9))"
  start_controller
  if [ "$apiserver_restarted" -eq 0 ] && [ "$(cat "$work/created")" -ge $((sessions / 2)) ]; then
    echo "  $((SECONDS - t0))s: kube-apiserver killed and restarted"
    "$cluster" restart-apiserver 2>&1 | sed 's/^/  /'
    apiserver_restarted=1
  fi
done
wait "$(cat "$work/creator.pid")" || true
rm -f "$work/creator.pid"
echo "  $((SECONDS - t0))s: $(cat "$work/created") sessions created ($(cat "$work/refused") creates refused" \
  "while the controller was down), $kills kills, API server restarted: $apiserver_restarted"

all_created() {
  [ ! -f "$work/creator.failed" ] || { cat "$work/creator.failed"; return 1; }
  [ "$(cat "$work/created")" -eq "$sessions" ] && [ "$apiserver_restarted" -eq 1 ]
}
check "all $sessions sessions were created across $kills controller kills and an API server restart" all_created

sessions_json() { as admin -n team-a get debugsessions -l e2e=faults -o json; }

# Completed, or Expired with the Delivered condition true (a session may expire before we look).
all_delivered() {
  local deadline=$((SECONDS + 120 + sessions * 3)) summary
  while :; do
    summary=$(sessions_json | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
def delivered(s):
    st = s.get("status", {})
    conds = {c["type"]: c["status"] for c in st.get("conditions", [])}
    return st.get("phase") in ("Completed", "Expired") and conds.get("Delivered") == "True"
pending = [s["metadata"]["name"] + "=" + s.get("status", {}).get("phase", "-") for s in items if not delivered(s)]
failed = [s["metadata"]["name"] + ": " + s["status"].get("message", "") for s in items
          if s.get("status", {}).get("phase") in ("Failed", "Denied")]
print(len(items), len(pending), "; ".join(failed[:5]) or "-", " ".join(pending[:10]))
')
    read -r count pending failed rest <<<"$summary"
    if [ "$count" -eq "$sessions" ] && [ "$pending" -eq 0 ]; then
      echo "all $sessions delivered $((SECONDS - t0))s after the first create" >>"$work/figures"; return 0
    fi
    if [ "$failed" != "-" ] || [ $SECONDS -ge $deadline ]; then
      echo "$count sessions, $pending not delivered; failed: $failed; waiting: $rest"; return 1
    fi
    sleep 2
  done
}
check "every session reached Completed and delivered its snapshot" all_delivered

injected_once() {
  python3 - <(as admin -n team-a get pods -l app=e2e-faults -o json) <(sessions_json) <<'PY'
import collections, json, sys
pods = json.load(open(sys.argv[1]))["items"]
sessions = json.load(open(sys.argv[2]))["items"]
names = collections.Counter()
for p in pods:
    for ec in p["spec"].get("ephemeralContainers", []):
        names[(p["metadata"]["name"], ec["name"])] += 1
problems = []
for s in sessions:
    key = (s["spec"]["target"]["pod"], s.get("status", {}).get("ephemeralContainer", ""))
    if names[key] != 1:
        problems.append(f'{s["metadata"]["name"]}: {names[key]} containers named {key[1]!r} in {key[0]}')
total = sum(names.values())
if total != len(sessions):
    problems.append(f"{total} ephemeral containers for {len(sessions)} sessions")
print("\n".join(problems) or f"{total} containers, one per session")
sys.exit(1 if problems else 0)
PY
}
check "each snapshot container was injected exactly once" injected_once

audit_verifies() {
  local anchors
  anchors=$(sessions_json | python3 -c '
import json, sys
for s in json.load(sys.stdin)["items"]:
    a = s.get("status", {}).get("audit", {})
    print("--anchor session/%s=%s:%s" % (s["metadata"]["uid"], a.get("records"), a.get("head")))
')
  local out
  # shellcheck disable=SC2086
  out=$("$controller_bin" audit verify "$work/audit.jsonl" $anchors) || { echo "$out"; return 1; }
  echo "audit: $out" >>"$work/figures"
}
check "the audit trail of all the controller's lives verifies against every session's head" audit_verifies

# Polls until every session is Expired with its key and snapshot gone, noting when each got there.
nothing_left_after_expiry() {
  python3 - "$("$cluster" kubectl-path)" "$("$cluster" kubeconfig admin)" "$work/figures" <<'PY'
import datetime, json, subprocess, sys, time
kubectl, kubeconfig = sys.argv[1], sys.argv[2]
def get(*args):
    out = subprocess.run([kubectl, "--kubeconfig", kubeconfig, "get", *args, "-o", "json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["items"]
def ts(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
sessions = get("debugsessions", "-n", "team-a", "-l", "e2e=faults")
expires = {s["metadata"]["uid"]: (s["metadata"]["name"], ts(s["status"]["expiresAt"])) for s in sessions}
done = {}
deadline = max(e for _, e in expires.values()) + 45
while len(done) < len(expires) and time.time() < deadline:
    now = time.time()
    phase = {s["metadata"]["uid"]: s.get("status", {}).get("phase") for s in
             get("debugsessions", "-n", "team-a", "-l", "e2e=faults")}
    keys = {s["metadata"]["labels"].get("ephemera.dev/session-uid") for s in
            get("secrets", "-n", "ephemera-system", "-l", "ephemera.dev/session-uid")}
    snaps = {s["metadata"]["labels"].get("ephemera.dev/session-uid") for s in
             get("debugsnapshots", "-n", "team-a")}
    for uid in expires:
        if uid not in done and phase.get(uid) == "Expired" and uid not in keys and uid not in snaps:
            done[uid] = now
    time.sleep(2)
late = [f"{name}: {'never' if uid not in done else f'{done[uid] - e:.0f}s after expiresAt'}"
        for uid, (name, e) in expires.items() if uid not in done or done[uid] > e + 30]
after = sorted(done[uid] - e for uid, (_, e) in expires.items() if uid in done)
if after:
    with open(sys.argv[3], "a") as figures:
        print(f"wiped {after[len(after) // 2]:.1f}s (p50) / {after[-1]:.1f}s (max) after expiresAt,"
              " polled every 2s", file=figures)
print("\n".join(late))
sys.exit(1 if late else 0)
PY
  # Nothing labelled with a session is left anywhere (no grant, key or snapshot of any kind).
  local kind left
  for kind in secrets debugsnapshots roles rolebindings configmaps; do
    left=$(as admin get "$kind" -A -l ephemera.dev/session-uid -o name)
    [ -z "$left" ] || { echo "left behind: $left"; return 1; }
  done
}
check "by expiresAt + 30s every session is Expired and its key and snapshot are gone" nothing_left_after_expiry
[ ! -f "$work/figures" ] || sed 's/^/  /' "$work/figures"

[ "$failed" -eq 0 ]
