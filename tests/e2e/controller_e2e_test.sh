#!/usr/bin/env bash
# End-to-end test of a DebugSession's whole life on the local cluster (ctest label: integration).
#
# The controller runs on this host with its own identity (user ephemera-controller, least RBAC), its
# admission webhooks reached by the API server at the node address. People act with their own
# kubeconfigs: alice debugs in team-a; bob and carol may not. Everything is real: kube-apiserver,
# RBAC, SubjectAccessReviews, the kubelet starting the ephemeral container from the local snapshot
# image pinned by digest, the snapshot tool reading /proc, age encryption checked with Debian's age.
#
#   controller_e2e_test.sh BUILD_DIR
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build_dir=$(cd "${1:?usage: controller_e2e_test.sh BUILD_DIR}" && pwd)
cluster=$repo/tests/cluster/cluster.sh
controller_bin=$build_dir/controller/ephemera-controller
work=$(mktemp -d)

# shellcheck source=tests/e2e/host_controller.sh
source "$here/host_controller.sh"
# shellcheck source=tests/e2e/e2e_lib.sh
source "$here/e2e_lib.sh"

cleanup() {
  as admin -n team-a delete debugsessions --all --wait=false >/dev/null 2>&1 || true
  # Tests run in subshells: a replica they started is known by its pid file.
  if [ -f "$work/replica.pid" ]; then kill -KILL "$(cat "$work/replica.pid")" 2>/dev/null || true; fi
  if [ -n "$host_controller_pid" ] && kill -0 "$host_controller_pid" 2>/dev/null; then
    # Let the controller release its finalizers before it stops.
    for _ in $(seq 1 30); do
      [ -z "$(as admin -n team-a get debugsessions -o name 2>/dev/null)" ] && break
      sleep 0.5
    done
    if host_controller_stop; then
      passed=$((passed + 1)); echo "PASS the controller stops within 10s of SIGTERM"
    else
      failed=$((failed + 1)); echo "FAIL the controller stops within 10s of SIGTERM"
    fi
  fi
  host_controller_unregister_webhooks
  host_controller_forget_mark_key
  as admin -n team-a delete deployment e2e-target --ignore-not-found >/dev/null 2>&1 || true
  as admin -n team-a delete pod e2e-image-user --ignore-not-found --wait=false >/dev/null 2>&1 || true
  as admin -n team-a delete secret e2e-db --ignore-not-found >/dev/null 2>&1 || true
  as admin -n team-a delete rolebinding e2e-alice-ptrace --ignore-not-found >/dev/null 2>&1 || true
  as admin -n team-a delete role e2e-ptrace --ignore-not-found >/dev/null 2>&1 || true
}
e2e_trap_exit
e2e_require_host_run "$controller_bin"


metrics_port=$host_controller_metrics_port


# --- Setup: CRDs, RBAC, the controller on this host, webhooks ------------------------------------
host_controller_install
host_controller_start "$controller_bin" "$work/controller.log" || e2e_setup_failed "the controller did not start"

# The workload alice will debug: runs as uid 1000, a Secret-backed password and a token in its env.
as admin -n team-a create secret generic e2e-db --from-literal=password=e2e-db-password-value-7f3a \
  --dry-run=client -o yaml | as admin apply -f - >/dev/null
as alice -n team-a apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: e2e-target}
spec:
  replicas: 1
  selector: {matchLabels: {app: e2e-target}}
  template:
    metadata: {labels: {app: e2e-target}}
    spec:
      securityContext: {runAsUser: 1000, runAsGroup: 1000}
      containers:
      - name: app
        image: ephemera.local/target:0.1.0
        args: ["--threads", "4"]
        env:
        - {name: API_TOKEN, value: "ghp_e2eTokenValue0123456789abcdefABCDEF01"}
        - {name: LOG_LEVEL, value: info}
        - name: DB_PASSWORD
          valueFrom: {secretKeyRef: {name: e2e-db, key: password}}
YAML
as alice -n team-a rollout status deployment/e2e-target --timeout=90s >/dev/null
pod=$(as alice -n team-a get pods -l app=e2e-target -o jsonpath='{.items[0].metadata.name}')
age-keygen -o "$work/alice.key" 2>/dev/null
recipient=$(age-keygen -y "$work/alice.key")

session() { # name ttl profile [extra spec lines]
  cat <<YAML
apiVersion: ephemera.dev/v1alpha1
kind: DebugSession
metadata: {name: $1, namespace: team-a}
spec:
  target: {pod: $pod, container: app}
  reason: "E2E-1 checking the checkout service"
  ttl: $2
  profile: $3
  capture: [process, threads, stacks, fds, sockets, maps, limits, cgroup, env]
  recipients: ["$recipient"]
${4:-}
YAML
}

# --- 1. alice: a restricted session completes, and its snapshot decrypts with age ------------------
restricted_session_completes() {
  # DB_PASSWORD is allowlisted too: being Secret-backed must still redact it.
  session s-restricted 40s restricted "  redaction: {allowEnv: [LOG_LEVEL, DB_PASSWORD]}" |
    as alice apply -f - >/dev/null
  wait_phase s-restricted Completed 90
  [ "$(as alice -n team-a get debugsession s-restricted -o jsonpath='{.spec.requestedBy.username}')" = alice ]
  decrypt_snapshot s-restricted "$work/alice.key"
  python3 - "$work/s-restricted.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["apiVersion"] == "ephemera.dev/snapshot/v1", doc.get("apiVersion")
main = doc["processes"][0]
names = {t["name"] for t in main["threads"]}
assert {"checkout-0", "orders-1", "acceptor"} <= names, names
assert any(s.get("state") == "LISTEN" and "8080" in json.dumps(s) for s in main.get("sockets", [])), main.get("sockets")
env = {e["name"]: e["value"] for e in main["env"]}
assert env["LOG_LEVEL"] == "info", env
assert env["API_TOKEN"] == "[REDACTED]", env
assert env["DB_PASSWORD"] == "[REDACTED]", env
assert doc["redaction"]["envRedacted"] >= 2, doc["redaction"]
PY
}
check "alice's restricted session completes; age decrypts a snapshot with threads, sockets, redacted env" \
  restricted_session_completes

# The common case: a pod that sets no runAsUser, so the image's USER (1000:1000 in the target
# image) decides. The container runtime reports the user the container runs as in
# status.containerStatuses[].user (containerd 2.x), and the restricted profile runs the tool as it:
# the target's env is readable. (The kubelet passes on only the image USER's uid, so the group is
# whatever the image's /etc/passwd says, 0 in an image without one: the reported gid must be the
# process's real one, whatever it is.)
image_user_session_completes() {
  as alice -n team-a apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: e2e-image-user}
spec:
  containers:
  - name: app
    image: ephemera.local/target:0.1.0
    args: ["--threads", "2"]
    env: [{name: LOG_LEVEL, value: info}]
YAML
  as alice -n team-a wait --for=condition=Ready pod/e2e-image-user --timeout=60s >/dev/null
  local uid gid tool
  uid=$(as alice -n team-a get pod e2e-image-user -o jsonpath='{.status.containerStatuses[0].user.linux.uid}')
  gid=$(as alice -n team-a get pod e2e-image-user -o jsonpath='{.status.containerStatuses[0].user.linux.gid}')
  [ "$uid" = 1000 ] || { echo "the runtime reports the container's uid as '$uid', not the image's 1000"; return 1; }
  [ -n "$gid" ] || { echo "the runtime reports no gid"; return 1; }
  session s-image-user 40s restricted "  redaction: {allowEnv: [LOG_LEVEL]}" | sed "s/pod: $pod,/pod: e2e-image-user,/" |
    as alice apply -f - >/dev/null
  wait_phase s-image-user Completed 90
  tool=$(as admin -n team-a get pod e2e-image-user -o jsonpath='{.spec.ephemeralContainers[0].securityContext.runAsUser}:{.spec.ephemeralContainers[0].securityContext.runAsGroup}')
  [ "$tool" = "$uid:$gid" ] || { echo "the tool ran as $tool, the target as $uid:$gid"; return 1; }
  decrypt_snapshot s-image-user "$work/alice.key"
  python3 - "$work/s-image-user.json" "$uid" "$gid" <<'PY'
import json, sys
main = json.load(open(sys.argv[1]))["processes"][0]
uid, gid = int(sys.argv[2]), int(sys.argv[3])
assert main["uids"]["effective"] == uid and main["gids"]["effective"] == gid, \
    (main.get("uids"), main.get("gids"), "reported", uid, gid)
env = {e["name"]: e["value"] for e in main["env"]}
assert env.get("LOG_LEVEL") == "info", env
PY
}
check "a pod without runAsUser (the image's USER): the runtime reports the process's real user and the restricted session runs as it" \
  image_user_session_completes

# Standard API shapes: kubectl waits on the summary condition, every condition says which
# generation it is for, and a name too long for a label value is refused by the CRD's own rule.
kubectl_waits_for_ready() {
  session s-ready 40s restricted | sed 's/^  capture: .*/  capture: [process]/' |
    as alice apply -f - >/dev/null
  as alice -n team-a wait --for=condition=Ready debugsession/s-ready --timeout=90s >/dev/null
  [ "$(phase_of s-ready)" = Completed ] || { echo "Ready before Completed: $(phase_of s-ready)"; return 1; }
  as alice -n team-a get debugsession s-ready -o json | python3 -c '
import json, sys
conds = {c["type"]: c for c in json.load(sys.stdin)["status"]["conditions"]}
missing = {"Authorized", "Injected", "Captured", "Delivered", "Ready"} - set(conds)
if missing: sys.exit(f"conditions missing: {sorted(missing)}")
for c in conds.values():
    if c.get("observedGeneration") != 1 or not c.get("reason") or "lastTransitionTime" not in c:
        sys.exit(f"not a complete metav1.Condition: {c}")
if conds["Ready"]["status"] != "True" or conds["Ready"]["reason"] != "SnapshotDelivered":
    sys.exit("Ready: " + json.dumps(conds["Ready"]))
'
}
check "kubectl wait --for=condition=Ready returns when the snapshot is delivered; conditions are metav1.Conditions" \
  kubectl_waits_for_ready

pod_tells_who_debugs_it() {
  # Events go out on the API budget the control loop leaves over: give them a moment.
  local deadline=$((SECONDS + 30)) notes
  while :; do
    notes=$(as admin -n team-a get events --field-selector "involvedObject.name=$pod,reason=DebugSessionStarted" \
      -o jsonpath='{range .items[*]}{.message}{"\n"}{end}')
    grep -qF "DebugSession s-ready by alice added a snapshot container to debug container app: E2E-1 checking the checkout service" \
      <<<"$notes" && return 0
    [ $SECONDS -lt $deadline ] || { echo "no DebugSessionStarted Event on $pod for s-ready; events: $notes"; return 1; }
    sleep 1
  done
}
check "the debugged pod has an Event naming the session, the requester and the reason (kubectl describe pod)" \
  pod_tells_who_debugs_it

long_name_refused() {
  local out name
  name=s-$(printf 'x%.0s' $(seq 1 62))  # 64 characters
  if out=$(session "$name" 1m restricted | as alice apply -f - 2>&1); then
    echo "accepted: $out"; return 1
  fi
  echo "$out" | grep -q "metadata.name must be at most 63 characters" || { echo "$out"; return 1; }
}
check "a session name over 63 characters is refused by the CRD's rule, saying why" long_name_refused

# The controller collects a capture when its pod watch shows the snapshot container ended, not at a
# poll (the safety-net poll comes 5 s after injecting: controller/session/planner.h). Both moments
# are seen through API server watches; the difference is the controller's reaction.
collected_on_the_pod_event() {
  local i runs=()
  for i in 1 2 3; do
    session "s-end-$i" 40s restricted >"$work/s-end-$i.yaml"
    runs+=("s-end-$i=$work/s-end-$i.yaml")
  done
  python3 "$here/capture_end.py" "$("$cluster" kubectl-path)" "$("$cluster" kubeconfig alice)" team-a "$pod" \
    "$work/capture-end.json" "${runs[@]}" || return 1
  python3 - "$work/capture-end.json" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))
seconds = sorted(r["seconds"] for r in runs.values())
median = seconds[len(seconds) // 2]
print("Completed after the container's end was seen: %s s (median %.3f)" % (seconds, median))
# A poll would show as a second or more; the old first poll came 1 s after injecting.
assert median < 0.5, "median %.3f s: the session waited for a poll, not the pod event" % median
assert seconds[-1] < 2.0, "one session took %.3f s after its container ended" % seconds[-1]
PY
}
check "a capture is collected as soon as the pod shows its container ended (median under 0.5 s), not at a poll" \
  collected_on_the_pod_event

secrets_never_leave_in_clear() {
  ! grep -q "e2e-db-password-value-7f3a\|ghp_e2eTokenValue0123456789" "$work/s-restricted.json" &&
  ! as admin -n team-a get pod "$pod" -o json | grep -q "AGE-SECRET-KEY" &&
  ! as admin -n team-a logs "$pod" -c "$(as admin -n team-a get debugsession s-restricted -o jsonpath='{.status.ephemeralContainer}')" |
      grep -q "e2e-db-password\|ghp_e2eToken\|\"threads\""
}
check "no secret in the snapshot, the pod spec or the container log (ciphertext only)" secrets_never_leave_in_clear

key_shredded_after_delivery() {
  [ -z "$(as admin -n ephemera-system get secrets -l ephemera.dev/session-name=s-restricted -o name)" ]
}
check "the session key is destroyed once the snapshot is delivered" key_shredded_after_delivery

# --- 2. refusals -------------------------------------------------------------------------------
requested_by_cannot_be_forged() {
  local out
  if out=$(session s-forged 1m restricted "  requestedBy: {username: admin}" | as alice apply -f - 2>&1); then
    echo "accepted: $out"; return 1
  fi
  echo "$out" | grep -q "spec.requestedBy is set by Ephemera"
}
check "alice cannot set requestedBy herself" requested_by_cannot_be_forged

refused_by_rbac() { # user
  local out
  if out=$(session "s-$1" 1m restricted | as "$1" apply -f - 2>&1); then echo "accepted: $out"; return 1; fi
  echo "$out" | grep -q "forbidden"
}
check "bob (view only) cannot create a DebugSession" refused_by_rbac bob
check "carol (no rights) cannot create a DebugSession" refused_by_rbac carol

ttl_over_policy_rejected() {
  local out
  if out=$(session s-long 2h restricted | as alice apply -f - 2>&1); then echo "accepted: $out"; return 1; fi
  echo "$out" | grep -q "spec.ttl: 2h exceeds the cluster's maximum of 1h"
}
check "a TTL over the cluster's maximum is rejected at admission with the rule" ttl_over_policy_rejected

ptrace_denied_without_grant() {
  session s-ptrace-denied 1m ptrace | as alice apply -f - >/dev/null
  wait_phase s-ptrace-denied Denied 30
  as admin -n team-a get debugsession s-ptrace-denied -o jsonpath='{.status.message}' |
    grep -q "alice may not use debugprofiles/ptrace"
  local ec; ec=$(session_container_name s-ptrace-denied)
  ! as admin -n team-a get pod "$pod" -o jsonpath='{.spec.ephemeralContainers[*].name}' | grep -qw "$ec"
}
session_container_name() {
  local uid; uid=$(as admin -n team-a get debugsession "$1" -o jsonpath='{.metadata.uid}')
  echo "ephemera-$(printf '%s' "$uid" | sha256sum | cut -c1-10)"
}
check "alice's ptrace session is Denied until granted, and nothing is injected" ptrace_denied_without_grant

# --- 3. with the grant, ptrace captures symbolized stacks ----------------------------------------
# kubectl auth can-i cannot name a resource the server does not serve; ask the API directly.
alice_may_use_ptrace() {
  as alice create --validate=false -o jsonpath='{.status.allowed}' -f - <<'YAML' 2>/dev/null
apiVersion: authorization.k8s.io/v1
kind: SelfSubjectAccessReview
spec:
  resourceAttributes: {namespace: team-a, verb: use, group: ephemera.dev, resource: debugprofiles, name: ptrace}
YAML
}
ptrace_with_grant_has_stacks() {
  # debugprofiles is not a served resource, only an RBAC name, so the Role is written out.
  as admin -n team-a apply -f - >/dev/null <<'YAML'
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: e2e-ptrace, namespace: team-a}
rules:
- {apiGroups: [ephemera.dev], resources: [debugprofiles], resourceNames: [ptrace], verbs: [use]}
YAML
  as admin -n team-a create rolebinding e2e-alice-ptrace --role=e2e-ptrace --user=alice >/dev/null
  local deadline=$((SECONDS + 20))
  until [ "$(alice_may_use_ptrace)" = true ]; do
    [ $SECONDS -lt $deadline ] || { echo "the grant did not take effect in 20s"; return 1; }
    sleep 0.3
  done
  session s-ptrace 40s ptrace | as alice apply -f - >/dev/null
  wait_phase s-ptrace Completed 90
  decrypt_snapshot s-ptrace "$work/alice.key"
  python3 - "$work/s-ptrace.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
symbols = [f.get("symbol", "") for p in doc["processes"] for t in p["threads"]
           for f in t.get("stack", {}).get("frames", [])]
assert any("SleepInCheckoutLoop" in s for s in symbols), symbols[:20]
assert doc["overhead"]["targetFreezeMicros"] > 0, doc["overhead"]
PY
}
check "with use on debugprofiles/ptrace, alice's ptrace session has symbolized stacks" ptrace_with_grant_has_stacks

# The overhead budget (docs/policy.md): a budget the tool reaches stops the capture early, and the
# session still delivers what it had, saying which budget and which sections.
budget_reached_still_delivers() {
  session s-budget 40s ptrace "  budget: {cpu: 1ms}" | as alice apply -f - >/dev/null
  wait_phase s-budget Completed 90
  [ "$(as alice -n team-a get debugsession s-budget -o jsonpath='{.status.overhead.budgetReached}')" = cpu ]
  decrypt_snapshot s-budget "$work/alice.key"
  python3 - "$work/s-budget.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["overhead"].get("budgetReached") == "cpu", doc["overhead"]
assert doc["budget"].get("cpuMillis") == 1, doc["budget"]
reasons = [d["reason"] for d in doc.get("degraded", [])]
assert any("CPU budget of 1ms reached" in r for r in reasons), reasons
PY
}
check "a session whose tool reaches its CPU budget completes, with budgetReached and the sections it cut" \
  budget_reached_still_delivers

budget_over_ceiling_rejected() {
  local out
  if out=$(session s-greedy 1m restricted "  budget: {cpu: 30s}" | as alice apply -f - 2>&1); then
    echo "accepted: $out"; return 1
  fi
  echo "$out" | grep -q "spec.budget.cpu: 30s exceeds the cluster's maximum of 10s" || { echo "$out"; return 1; }
}
check "a CPU budget over the cluster's ceiling is rejected at admission with the rule" budget_over_ceiling_rejected

# --- 4. expiry destroys the snapshot ------------------------------------------------------------
expiry_wipes_everything() {
  wait_phase s-restricted Expired 60
  if as admin -n team-a get debugsnapshot s-restricted >/dev/null 2>&1; then
    echo "DebugSnapshot s-restricted still exists after expiry"; return 1
  fi
  as admin -n team-a get debugsession s-restricted -o jsonpath='{.status.conditions[?(@.type=="Wiped")].status}' | grep -qx True
}
check "when the TTL lapses the DebugSnapshot is deleted and the session Expired" expiry_wipes_everything

metrics_count_steps() {
  host_controller_metrics "$metrics_port" | grep -E '^ephemera_session_steps_total\{action="Collect",outcome="ok"\} [1-9]'
}
check "the controller's /metrics counts delivered snapshots" metrics_count_steps

metrics_time_and_describe_the_controller() {
  local text
  text=$(host_controller_metrics "$metrics_port")
  for pattern in \
    '^ephemera_build_info\{version="[0-9]+\.[0-9]+\.[0-9]+"\} 1$' \
    '^ephemera_session_phase_seconds_count\{phase="Completed"\} [1-9]' \
    '^ephemera_session_phase_seconds_bucket\{phase="Capturing",le="\+Inf"\} [1-9]' \
    '^ephemera_capture_seconds_count [1-9]' \
    '^ephemera_kube_request_duration_seconds_count\{method="PATCH"\} [1-9]' \
    '^process_cpu_seconds_total [0-9.e+-]+$' \
    '^process_resident_memory_bytes [1-9]' \
    '^process_start_time_seconds 1[0-9]{9}' \
    '^process_open_fds [1-9]' \
    '^process_max_fds [1-9]'; do
    grep -Eq "$pattern" <<<"$text" || { echo "no line matches $pattern"; return 1; }
  done
}
check "/metrics has build_info, the standard process_* metrics and histograms of phases, captures and API latency" \
  metrics_time_and_describe_the_controller

metrics_need_an_authorized_token() {
  # Over HTTPS only, for a token whose identity RBAC lets get /metrics (TokenReview, then a
  # SubjectAccessReview); /healthz stays open over plain HTTP on the probe port.
  local code
  code=$(host_controller_metrics_code "$metrics_port") || return 1
  [ "$code" = 401 ] || { echo "without a token: $code, not 401"; return 1; }
  code=$(host_controller_metrics_code "$metrics_port" default) || return 1
  [ "$code" = 403 ] || { echo "as ephemera-system/default (not bound): $code, not 403"; return 1; }
  code=$(host_controller_metrics_code "$metrics_port" metrics-scraper) || return 1
  [ "$code" = 200 ] || { echo "as ephemera-system/metrics-scraper (bound): $code, not 200"; return 1; }
  # Outputs are read whole before searching: grep -q in a pipe stops reading at a hit, and under
  # pipefail the writer's SIGPIPE would fail (or, negated, pass) the check.
  local scraped plain
  scraped=$(host_controller_metrics "$metrics_port")
  grep -qE '^ephemera_leader 1$' <<<"$scraped" ||
    { echo "no ephemera_leader 1 in the authorized scrape"; return 1; }
  plain=$(curl -s --max-time 5 "http://127.0.0.1:$metrics_port/metrics" 2>/dev/null || true)
  if grep -q '^ephemera_' <<<"$plain"; then
    echo "/metrics answered over plain HTTP"; return 1
  fi
  curl -sf "http://127.0.0.1:$host_controller_probe_port/healthz" | grep -qx ok ||
    { echo "/healthz is not open over HTTP on port $host_controller_probe_port"; return 1; }
}
check "/metrics answers 401 without a token, 403 to an identity without the metrics-reader role, 200 to one with it (HTTPS only); /healthz stays open" \
  metrics_need_an_authorized_token

events_recorded() {
  as admin -n team-a get events.events.k8s.io --field-selector regarding.name=s-ptrace \
    -o jsonpath='{.items[*].reason}' | tr ' ' '\n' | grep -qx Collect
}
check "the delivery is an Event on the DebugSession" events_recorded

# --- 4b. sessions created at once -----------------------------------------------------------------
concurrent_creates_all_admitted() {
  # Six creates at the same moment: the API server calls both admission webhooks for all of them
  # concurrently, and the controller must answer every call within the webhook timeout
  # (failurePolicy Fail would refuse the session otherwise). Then all six complete.
  local i pids=() refused=0
  for i in 1 2 3 4 5 6; do
    session "s-burst-$i" 40s restricted | as alice apply -f - >"$work/burst-$i.out" 2>&1 &
    pids+=("$!")
  done
  for i in 1 2 3 4 5 6; do
    if ! wait "${pids[$((i - 1))]}"; then
      refused=$((refused + 1))
      echo "create s-burst-$i refused: $(cat "$work/burst-$i.out")"
    fi
  done
  [ "$refused" -eq 0 ] || return 1
  for i in 1 2 3 4 5 6; do wait_phase "s-burst-$i" Completed 120 || return 1; done
}
check "six sessions created at once are all admitted and all complete" concurrent_creates_all_admitted

# --- 4c. the webhook's certificate renewed while the controller runs -------------------------------
webhook_certificate_renewed() {
  # A new CA and a new serving certificate for the same names, written over the files the
  # controller serves from (as a Secret volume is updated), and the webhook configurations told to
  # trust only the new CA. The API server then admits a session only if the controller serves the
  # new certificate: it must pick the files up without a restart.
  local dir node_ip served want
  dir=$(tr '\0' '\n' <"/proc/$host_controller_pid/cmdline" | sed -n '/^--webhook-cert-dir$/{n;p;}')
  [ -d "$dir" ] || { echo "cannot find the controller's --webhook-cert-dir"; return 1; }
  node_ip=$("$cluster" node-ip)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj /CN=e2e-renewed-webhook-ca -keyout "$work/ca2.key" -out "$work/ca2.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=ephemera-webhook \
    -keyout "$work/tls2.key" -out "$work/tls2.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:%s\n' "$node_ip" >"$work/tls2.ext"
  openssl x509 -req -in "$work/tls2.csr" -CA "$work/ca2.crt" -CAkey "$work/ca2.key" \
    -CAcreateserial -days 1 -extfile "$work/tls2.ext" -out "$work/tls2.crt" 2>/dev/null
  cp "$work/tls2.key" "$dir/tls.key.new" && cp "$work/tls2.crt" "$dir/tls.crt.new"
  mv "$dir/tls.key.new" "$dir/tls.key" && mv "$dir/tls.crt.new" "$dir/tls.crt"
  local bundle patch
  bundle=$(base64 -w0 <"$work/ca2.crt")
  patch="[{\"op\":\"replace\",\"path\":\"/webhooks/0/clientConfig/caBundle\",\"value\":\"$bundle\"}]"
  as admin patch mutatingwebhookconfiguration ephemera-requester --type=json -p "$patch" >/dev/null
  as admin patch validatingwebhookconfiguration ephemera-policy --type=json -p "$patch" >/dev/null
  want=$(openssl x509 -in "$work/tls2.crt" -noout -fingerprint -sha256)
  # s_client fails the handshake (the webhook asks for a client certificate) after the server's
  # certificate has been printed: only that is read.
  served=$({ openssl s_client -connect "$node_ip:$host_controller_webhook_port" </dev/null 2>/dev/null || true; } |
    openssl x509 -noout -fingerprint -sha256)
  [ "$served" = "$want" ] || { echo "the controller serves $served, not the renewed $want"; return 1; }
  # Admission can take a moment to see the new caBundle: retry the create for a few seconds.
  local out=""
  for _ in $(seq 1 20); do
    out=$(session s-renewed 40s restricted | as alice apply -f - 2>&1) && break
    sleep 0.5
  done
  as alice -n team-a get debugsession s-renewed >/dev/null 2>&1 || { echo "not admitted: $out"; return 1; }
  wait_phase s-renewed Completed 90
}
check "the webhook's certificate renewed on disk is served at once, and sessions are admitted through it" \
  webhook_certificate_renewed

# --- 5. two replicas; the leader killed mid-session --------------------------------------------
replica_takes_over() {
  # A second replica with its own ports; the webhooks move to it.
  local first=$host_controller_pid first_metrics=$host_controller_metrics_port
  host_controller_probe_port=18081
  host_controller_metrics_port=18444
  host_controller_webhook_port=19444
  # shellcheck disable=SC2046
  "$controller_bin" $(host_controller_args) >"$work/replica2.log" 2>&1 &
  local second=$!
  echo "$second" >"$work/replica.pid"
  host_controller_register_webhooks
  for _ in $(seq 1 40); do curl -sf "http://127.0.0.1:18081/healthz" >/dev/null && break; sleep 0.25; done
  host_controller_metrics "$first_metrics" | grep -x 'ephemera_leader 1' >/dev/null ||
    { echo "the first replica does not lead:"; host_controller_metrics "$first_metrics" | grep leader; return 1; }
  host_controller_metrics 18444 | grep -x 'ephemera_leader 0' >/dev/null ||
    { echo "the second replica leads too"; return 1; }
  session s-failover 60s restricted | as alice apply -f - >/dev/null
  kill -KILL "$first"
  wait_phase s-failover Completed 90
  host_controller_metrics 18444 | grep -x 'ephemera_leader 1' >/dev/null
  local ec count
  ec=$(as admin -n team-a get debugsession s-failover -o jsonpath='{.status.ephemeralContainer}')
  count=$(as admin -n team-a get pod "$pod" -o jsonpath='{.spec.ephemeralContainers[*].name}' | tr ' ' '\n' | grep -cx "$ec")
  [ "$count" -eq 1 ] || { echo "$count ephemeral containers named $ec"; return 1; }
  # Ends on time with nothing left behind: Expired by expiresAt + 30s, no key, no snapshot.
  local expires; expires=$(as admin -n team-a get debugsession s-failover -o jsonpath='{.status.expiresAt}')
  local deadline; deadline=$(( $(date -d "$expires" +%s) + 30 - $(date +%s) ))
  wait_phase s-failover Expired "$deadline"
  [ -z "$(as admin -n ephemera-system get secrets -l ephemera.dev/session-name=s-failover -o name)" ]
  ! as admin -n team-a get debugsnapshot s-failover >/dev/null 2>&1 || { echo "snapshot left"; return 1; }
  # The surviving replica shuts down cleanly on SIGTERM (releasing its Lease).
  host_controller_pid=$second
  host_controller_stop || { echo "the replica did not stop within 10s of SIGTERM"; return 1; }
}
check "two replicas: one leads; the leader killed mid-session, the other completes it once, wipes it on time, stops on SIGTERM" \
  replica_takes_over

[ "$failed" -eq 0 ]
