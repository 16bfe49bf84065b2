#!/usr/bin/env bash
# End-to-end security checks on the local cluster (ctest label: integration):
#   1. the authorization matrix with the cluster's people (alice, bob, carol);
#   2. a canary secret planted in a target's env, argv and log appears nowhere after sessions under
#      both profiles: no API object of any kind, no controller log, no audit record, no snapshot
#      container log on the node, no decrypted snapshot;
#   3. `kubectl debug` by admin is flagged within seconds (audit mode) and denied (enforce mode);
#   4. the audit trail verifies, and one changed, removed or reordered record is detected.
# Also: the cluster policy's namespace rule, the controller's own SubjectAccessReview for the
# requester, strict audit refusing new sessions, DebugSession admission failing closed, and the
# controller's own lack of Secret rights outside its namespace.
# Host-namespace pods (docs/security.md, H2 and M2): sessions on a hostPID pod are denied unless the policy allows them and the
# requester may use debugprofiles/host, and then hold only the target container's processes; a
# shareProcessNamespace sidecar's argv canary is in no snapshot; allowEnv cannot reveal an
# envFrom.secretRef value; status carries no per-rule redaction counts.
# The controller runs on this host (tests/e2e/host_controller.sh) with its audit trail (stdout) in
# a file of its own.
#
#   security_e2e_test.sh BUILD_DIR
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build_dir=$(cd "${1:?usage: security_e2e_test.sh BUILD_DIR}" && pwd)
cluster=$repo/tests/cluster/cluster.sh
controller_bin=$build_dir/controller/ephemera-controller
work=$(mktemp -d)
# Unique per run, so that nothing left by an earlier run can make a check pass or fail.
canary="canary-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# Personal data in the target's argv and log: an e-mail address, masked under the policy's default
# PII mode (standard).
email="oncall-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')@payments.example.com"

# shellcheck source=tests/e2e/host_controller.sh
source "$here/host_controller.sh"
# shellcheck source=tests/e2e/e2e_lib.sh
source "$here/e2e_lib.sh"

cleanup() {
  as admin -n team-a delete debugsessions --all --wait=false >/dev/null 2>&1 || true
  if [ -n "$host_controller_pid" ]; then
    for _ in $(seq 1 30); do
      [ -z "$(as admin -n team-a get debugsessions -o name 2>/dev/null)" ] && break
      sleep 0.5
    done
    host_controller_stop || true
  fi
  host_controller_unregister_webhooks
  host_controller_forget_mark_key
  as admin -n team-a delete deployment sec-target --ignore-not-found --wait=false >/dev/null 2>&1 || true
  as admin -n team-a delete secret sec-canary --ignore-not-found >/dev/null 2>&1 || true
  as admin -n team-a delete rolebinding,role sec-alice-ptrace sec-carol-sessions sec-controller-pods \
    --ignore-not-found >/dev/null 2>&1 || true
  as admin delete namespace sec-team-b --ignore-not-found --wait=false >/dev/null 2>&1 || true
  as admin -n team-a delete pod sec-hostpid sec-shared sec-envfrom --ignore-not-found --wait=false \
    >/dev/null 2>&1 || true
  as admin -n team-a delete secret sec-envfrom --ignore-not-found >/dev/null 2>&1 || true
  as admin delete clusterrolebinding,clusterrole sec-alice-host --ignore-not-found >/dev/null 2>&1 || true
}
e2e_trap_exit
e2e_require_host_run "$controller_bin"


# The policy allows sessions in team-a only: "alice can debug in team-a and only there" is Ephemera's
# rule as well as RBAC's.
start_controller() { # extra flags...
  EPHEMERA_CONTROLLER_EXTRA_ARGS="--allowed-namespaces=team-a $*" host_controller_start "$controller_bin" \
    "$work/controller.log" "$work/audit.jsonl" || e2e_setup_failed "the controller did not start"
  host_controller_register_ephemeral_webhook
}

# --- Setup: the controller (audit mode), a target carrying the canary ------------------------------
host_controller_install
: >"$work/controller.log"
start_controller
# The canary reaches the process through a Secret (env) and the kubelet's $(VAR) expansion (argv),
# once after a secret key (token=) and once where only value-keyed redaction can find it (-p<value>,
# as in mysqld -p$(DB_PASSWORD)); the target prints both (log). The pod spec itself never holds it.
as admin -n team-a create secret generic sec-canary --from-literal=token="$canary" >/dev/null
as alice -n team-a apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: sec-target}
spec:
  replicas: 1
  selector: {matchLabels: {app: sec-target}}
  template:
    metadata: {labels: {app: sec-target}}
    spec:
      securityContext: {runAsUser: 1000, runAsGroup: 1000}
      containers:
      - name: app
        image: ephemera.local/target:0.1.0
        args: ["--threads", "3", "--port", "8081", "--say", "token=\$(CANARY_TOKEN)",
               "--say", "-p\$(CANARY_TOKEN)", "--say", "paging $email about it"]
        env:
        - name: CANARY_TOKEN
          valueFrom: {secretKeyRef: {name: sec-canary, key: token}}
YAML
as alice -n team-a rollout status deployment/sec-target --timeout=90s >/dev/null ||
  e2e_setup_failed "the target deployment did not become ready"
pod=$(as alice -n team-a get pods -l app=sec-target -o jsonpath='{.items[0].metadata.name}')
# The canary really is where the test says it is: in the target's log (and so in its argv).
# The log is read into a variable, not piped to `grep -q`: grep exits at the first match, and with
# pipefail the writer's SIGPIPE would fail the check (it did once in CI).
target_log=""
for _ in $(seq 1 20); do
  target_log=$(as admin -n team-a logs "$pod" -c app 2>/dev/null || true)
  grep -q "token=$canary" <<<"$target_log" && break
  sleep 0.5
done
if ! grep -q "token=$canary" <<<"$target_log" || ! grep -qF -- "-p$canary" <<<"$target_log" ||
  ! grep -qF "paging $email" <<<"$target_log"; then
  e2e_setup_failed "the target did not log its canary and e-mail address; the test would prove nothing"
fi
age-keygen -o "$work/alice.key" 2>/dev/null
recipient=$(age-keygen -y "$work/alice.key")

session() { # namespace name profile [extra spec lines]
  cat <<YAML
apiVersion: ephemera.dev/v1alpha1
kind: DebugSession
metadata: {name: $2, namespace: $1}
spec:
  target: {pod: $pod, container: app}
  reason: "SEC-1 checking the security properties"
  ttl: 5m
  profile: $3
  capture: [process, threads, stacks, fds, sockets, maps, limits, cgroup, env]
  recipients: ["$recipient"]
${4:-}
YAML
}
expect_refused() { # pattern command...: the command fails and says `pattern`
  local pattern=$1 out; shift
  if out=$("$@" 2>&1); then echo "accepted: $out"; return 1; fi
  echo "$out" | grep -q -- "$pattern" || { echo "refused without saying '$pattern': $out"; return 1; }
}
wait_until_allowed() { # user verb resource namespace: a new grant has reached the authorizer
  local deadline=$((SECONDS + 20))
  until [ "$(as admin auth can-i "$2" "$3" -n "$4" --as="$1" 2>/dev/null)" = yes ]; do
    [ $SECONDS -lt $deadline ] || { echo "$1 still may not $2 $3 in $4 after 20s"; return 1; }
    sleep 0.5
  done
}
grant_in_team_a() { # name user rule: a Role in team-a with that one rule, bound to the user
  as admin -n team-a apply -f - >/dev/null <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: $1, namespace: team-a}
rules:
- $3
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: $1, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: $1}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: $2}
YAML
}
ephemeral_names() { as admin -n team-a get pod "$pod" -o jsonpath='{.spec.ephemeralContainers[*].name}'; }

# --- 1. Authorization matrix ------------------------------------------------------------------
alice_debugs_in_team_a() {
  session team-a sec-alice restricted | as alice apply -f - >/dev/null || return 1
  wait_phase sec-alice Completed 90 || return 1
  [ "$(as admin -n team-a get debugsession sec-alice -o jsonpath='{.spec.requestedBy.username}')" = alice ]
}
check "alice: a session in team-a completes, bound to her identity" alice_debugs_in_team_a

alice_not_elsewhere() {
  as admin create namespace sec-team-b >/dev/null 2>&1 || true
  expect_refused 'User "alice" cannot create resource "debugsessions"' \
    as alice create -f - < <(session sec-team-b sec-elsewhere restricted)
}
check "alice: refused in another namespace, naming the verb and resource" alice_not_elsewhere

alice_not_elsewhere_even_with_rights() {
  # With edit rights in sec-team-b, RBAC lets her create the session; the cluster policy does not.
  as admin -n sec-team-b create rolebinding sec-alice-edit --clusterrole=edit --user=alice \
    >/dev/null || return 1
  wait_until_allowed alice create debugsessions.ephemera.dev sec-team-b || return 1
  expect_refused "cluster policy does not allow debug sessions in namespace sec-team-b" \
    as alice create -f - < <(session sec-team-b sec-elsewhere restricted)
}
check "alice: refused by the cluster policy in a namespace where RBAC would let her" \
  alice_not_elsewhere_even_with_rights

check "bob (view only): refused, naming the verb and resource" \
  expect_refused 'User "bob" cannot create resource "debugsessions"' \
  as bob create -f - < <(session team-a sec-bob restricted)
check "carol (no rights): refused, naming the verb and resource" \
  expect_refused 'User "carol" cannot create resource "debugsessions"' \
  as carol create -f - < <(session team-a sec-carol restricted)
check "alice cannot set requestedBy to someone else" \
  expect_refused "spec.requestedBy is set by Ephemera" \
  as alice apply -f - < <(session team-a sec-forged restricted "  requestedBy: {username: bob}")
# alice may not even patch her session (the editor role has no update); admin may, but the spec,
# requestedBy included, is immutable for everyone.
check "alice cannot change requestedBy afterwards (no update right)" \
  expect_refused 'User "alice" cannot patch resource "debugsessions"' \
  as alice -n team-a patch debugsession sec-alice --type=merge -p '{"spec":{"requestedBy":{"username":"bob"}}}'
check "nobody, not even admin, can change requestedBy afterwards (immutable spec)" \
  expect_refused "spec is immutable" \
  as admin -n team-a patch debugsession sec-alice --type=merge -p '{"spec":{"requestedBy":{"username":"bob"}}}'

alice_ptrace_denied() {
  session team-a sec-ptrace-denied ptrace | as alice apply -f - >/dev/null || return 1
  wait_phase sec-ptrace-denied Denied 30 || return 1
  as admin -n team-a get debugsession sec-ptrace-denied -o jsonpath='{.status.message}' |
    grep -q "alice may not use debugprofiles/ptrace"
}
check "alice: ptrace is Denied until granted, with the reason" alice_ptrace_denied

carol_denied_by_the_controller() {
  # carol may create DebugSessions in team-a but not read its pods: admission lets the session in,
  # and the controller's SubjectAccessReview for carol (not for itself) denies it.
  grant_in_team_a sec-carol-sessions carol \
    '{apiGroups: [ephemera.dev], resources: [debugsessions], verbs: [create, get, list, watch]}' ||
    return 1
  wait_until_allowed carol create debugsessions.ephemera.dev team-a || return 1
  session team-a sec-carol-denied restricted | as carol apply -f - >/dev/null || return 1
  wait_phase sec-carol-denied Denied 30 || return 1
  [ "$(as admin -n team-a get debugsession sec-carol-denied -o jsonpath='{.spec.requestedBy.username}')" = carol ] ||
    { echo "not bound to carol"; return 1; }
  as admin -n team-a get debugsession sec-carol-denied -o jsonpath='{.status.message}' |
    grep -q "carol may not get pods/$pod in namespace team-a"
}
check "carol with only DebugSession rights: Denied by the controller's check of her own rights, with the reason" \
  carol_denied_by_the_controller

nothing_injected_for_refusals() {
  # Only the completed session's container is in the pod.
  local names expected
  names=$(ephemeral_names)
  expected=$(as admin -n team-a get debugsession sec-alice -o jsonpath='{.status.ephemeralContainer}')
  [ "$names" = "$expected" ] || { echo "ephemeral containers: '$names', expected only '$expected'"; return 1; }
}
check "nothing is injected for any refused session" nothing_injected_for_refusals

admission_decisions_recorded() {
  python3 - "$work/audit.jsonl" <<'PY'
import json, sys
records = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{") and '"hash"' in l]
def find(action, session):
    return [r for r in records if r.get("action") == action and r.get("session") == session]
admitted = find("admitted", "team-a/sec-alice")
assert admitted and admitted[0]["requester"] == "alice", admitted
assert admitted[0]["chain"].startswith("controller/"), admitted[0]
forged = find("denied", "team-a/sec-forged")
assert forged and forged[0]["requester"] == "alice", forged
assert "spec.requestedBy" in forged[0].get("message", ""), forged[0]
elsewhere = find("denied", "sec-team-b/sec-elsewhere")
assert elsewhere and "sec-team-b" in elsewhere[0].get("message", ""), elsewhere
PY
}
check "admission decisions are audit records: sec-alice admitted for alice, the forged requestedBy and the other namespace denied with the reason" \
  admission_decisions_recorded

controller_has_no_secret_rights_outside_its_namespace() {
  local verb answer
  for verb in "get secrets -n team-a" "list secrets -n team-a" "list secrets --all-namespaces" "watch secrets --all-namespaces"; do
    # shellcheck disable=SC2086
    answer=$(as admin auth can-i $verb --as=ephemera-controller 2>/dev/null || true)
    [ "$answer" = no ] || { echo "ephemera-controller can $verb: '$answer'"; return 1; }
  done
  answer=$(as admin auth can-i get secrets -n ephemera-system --as=ephemera-controller 2>/dev/null || true)
  [ "$answer" = yes ] || { echo "the check is not sound: no Secret rights in its own namespace either"; return 1; }
}
check "the controller's identity cannot read Secrets outside its own namespace" \
  controller_has_no_secret_rights_outside_its_namespace

# --- 2. The canary appears nowhere ---------------------------------------------------------------
ptrace_session_completes() {
  grant_in_team_a sec-alice-ptrace alice \
    '{apiGroups: [ephemera.dev], resources: [debugprofiles], resourceNames: [ptrace], verbs: [use]}' ||
    return 1
  local deadline=$((SECONDS + 30))
  until session team-a sec-ptrace ptrace | as alice apply -f - >/dev/null 2>&1 &&
    wait_phase sec-ptrace Completed 90; do
    [ $SECONDS -lt $deadline ] || return 1
    # The grant may not have reached the authorizer's cache yet: try again with a new session.
    as admin -n team-a delete debugsession sec-ptrace --wait=true >/dev/null 2>&1 || true
    sleep 1
  done
}
check "with the grant, alice's ptrace session completes" ptrace_session_completes

canary_not_in_snapshots() {
  decrypt_snapshot sec-alice "$work/alice.key" || return 1
  decrypt_snapshot sec-ptrace "$work/alice.key" || return 1
  for s in sec-alice sec-ptrace; do
    grep -q '"apiVersion":"ephemera.dev/snapshot/v1"\|"apiVersion": "ephemera.dev/snapshot/v1"' "$work/$s.json" ||
      { echo "$s: not a decrypted snapshot"; return 1; }
    if grep -q "$canary" "$work/$s.json"; then echo "$s: the canary is in the snapshot"; return 1; fi
    if grep -qF "$email" "$work/$s.json"; then echo "$s: the e-mail address is in the snapshot"; return 1; fi
  done
  # The snapshots did read the places the canary was planted: env names and the redacted argv.
  python3 - "$work/sec-ptrace.json" <<'PY' || return 1
import json, sys
doc = json.load(open(sys.argv[1]))
main = doc["processes"][0]
env = {e["name"]: e["value"] for e in main["env"]}
assert env["CANARY_TOKEN"] == "[REDACTED]", env
assert "--say" in main["cmdline"], main.get("cmdline")
# -p<canary> is found by the value only (value-keyed redaction names the merged match), and the
# e-mail address by the default PII mode.
assert "--say -p[REDACTED:secret-value] --say" in main["cmdline"], main["cmdline"]
assert "paging [REDACTED:email] about it" in main["cmdline"], main["cmdline"]
assert doc["redaction"]["pii"] == "standard", doc["redaction"]
symbols = [f.get("symbol", "") for t in main["threads"] for f in t.get("stack", {}).get("frames", [])]
assert any("SleepInCheckoutLoop" in s for s in symbols), symbols[:20]
PY
  # Under the restricted profile the stacks section is degraded, and says why.
  python3 - "$work/sec-alice.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
stacks = [d for d in doc["degraded"] if d.get("section") == "stacks"]
assert stacks and all(d.get("reason") for d in stacks), doc["degraded"]
env = {e["name"]: e["value"] for e in doc["processes"][0]["env"]}
assert env["CANARY_TOKEN"] == "[REDACTED]", env
PY
}
check "the canary (after token=, and as -p<canary> where only its value gives it away) and an e-mail address are in neither decrypted snapshot (restricted, ptrace), which read env, argv and stacks (restricted: stacks degraded, with the reason)" \
  canary_not_in_snapshots

# The canary and its base64 encodings at the three byte alignments (a Secret's data or a ConfigMap's
# binaryData would hold it encoded), one fixed string per line for grep -F -f.
python3 - "$canary" >"$work/canary.patterns" <<'PY'
import base64, sys
c = sys.argv[1].encode()
print(c.decode())
for k in range(3):
    enc = base64.b64encode(b"x" * k + c).decode()
    print(enc[-(-8 * k // 6):(8 * (k + len(c))) // 6])
PY
[ "$(wc -l <"$work/canary.patterns")" -eq 4 ] || e2e_setup_failed "cannot build the canary's patterns"
for prefix in "" x xy; do # each of the three byte alignments
  grep -qF -f "$work/canary.patterns" <<<"$(printf '%s%s' "$prefix" "$canary" | base64 -w0)" ||
    e2e_setup_failed "the canary's base64 patterns do not match its encoding after '$prefix'"
done

canary_not_in_any_api_object() {
  local resources found="" failed_lists="" r n=0 objects
  resources=$(as admin api-resources --verbs=list -o name | sort -u)
  for r in $resources; do
    if ! objects=$(as admin get "$r" -A -o json 2>"$work/list.err"); then
      failed_lists+=" $r($(head -c 200 "$work/list.err"))"
      continue
    fi
    n=$((n + 1))
    # The test's own Secret is the one place the canary may be (base64-encoded); it is left out.
    # The search is Python's (exit 3 on a hit): `| grep -q` under pipefail can miss a hit when the
    # writer gets SIGPIPE.
    local hit=0
    python3 -c '
import json, sys
doc = json.load(sys.stdin)
doc["items"] = [i for i in doc.get("items", []) if not (i.get("kind") == "Secret"
    and i["metadata"].get("namespace") == "team-a" and i["metadata"].get("name") == "sec-canary")]
text = json.dumps(doc)
patterns = [p for p in open(sys.argv[1]).read().splitlines() if p]
sys.exit(3 if any(p in text for p in patterns) else 0)' "$work/canary.patterns" <<<"$objects" || hit=$?
    case $hit in
      0) ;;
      3) found+=" $r" ;;
      *) failed_lists+=" $r(not JSON)" ;;
    esac
  done
  [ -z "$failed_lists" ] || { echo "could not list:$failed_lists"; return 1; }
  [ -z "$found" ] || { echo "the canary (or its base64) is in:$found"; return 1; }
  [ "$n" -ge 40 ] || { echo "only $n kinds of object searched"; return 1; }
  echo "searched $n kinds of object in every namespace"
  # The search does find the planted Secret when it is not left out.
  objects=$(as admin -n team-a get secret sec-canary -o json)
  grep -qF -f "$work/canary.patterns" <<<"$objects" ||
    { echo "the search cannot find the planted Secret"; return 1; }
  # Including the pod's ephemeral container specs and statuses (part of the pods above), and the
  # snapshot containers' termination messages.
  objects=$(as admin -n team-a get pod "$pod" -o json)
  ! grep -qF -f "$work/canary.patterns" <<<"$objects"
}
check "the canary, plain or base64, is in no API object of any kind in any namespace" canary_not_in_any_api_object

canary_not_in_controller_output() {
  ! grep -qF -f "$work/canary.patterns" "$work/controller.log" || { echo "in the controller log"; return 1; }
  ! grep -qF -f "$work/canary.patterns" "$work/audit.jsonl" || { echo "in the audit trail"; return 1; }
  [ -s "$work/audit.jsonl" ] || { echo "the audit trail is empty"; return 1; }
}
check "the canary is in neither the controller's logs nor its audit trail" canary_not_in_controller_output

canary_not_in_node_logs() {
  local logs dir uid n=0
  logs=$("$cluster" logs)
  uid=$(as admin -n team-a get pod "$pod" -o jsonpath='{.metadata.uid}')
  dir=$(dirname "$logs")/pod-logs/team-a_${pod}_$uid
  [ -d "$dir" ] || { echo "no pod log directory $dir"; return 1; }
  for ec in $(ephemeral_names); do
    [ -d "$dir/$ec" ] || { echo "no log directory for $ec"; return 1; }
    if grep -rqF -f "$work/canary.patterns" "$dir/$ec"; then echo "the canary is in $dir/$ec"; return 1; fi
    grep -rq "BEGIN AGE ENCRYPTED FILE" "$dir/$ec" || { echo "$ec logged no ciphertext"; return 1; }
    n=$((n + 1))
  done
  [ "$n" -ge 2 ] || { echo "only $n snapshot container logs"; return 1; }
  # The target's own log does hold it: the search above looks in the right place.
  grep -rq "$canary" "$dir/app"
}
check "the snapshot containers' logs on the node hold only ciphertext" canary_not_in_node_logs

# --- 3. kubectl debug: flagged in audit mode, denied in enforce mode -----------------------------
kubectl_debug() { # container name
  as admin -n team-a debug "$pod" --image=ephemera.local/target:0.1.0 --image-pull-policy=IfNotPresent \
    --container="$1" --profile=restricted -- /ephemera-target ps
}
flagged_in_audit_mode() {
  local start=$SECONDS
  kubectl_debug sec-debugger-1 >"$work/debug1.out" 2>&1 || { cat "$work/debug1.out"; return 1; }
  grep -q "was not added by Ephemera" "$work/debug1.out" ||
    { echo "kubectl showed no warning:"; cat "$work/debug1.out"; return 1; }
  local deadline=$((SECONDS + 20))
  until as admin -n team-a get events.events.k8s.io --field-selector regarding.name="$pod" \
      -o jsonpath='{range .items[*]}{.reason}{" "}{.note}{"\n"}{end}' |
      grep -q "UnsanctionedEphemeralContainer Ephemeral container sec-debugger-1"; do
    [ $SECONDS -lt $deadline ] || { echo "no Event on the pod after 20s"; return 1; }
    sleep 0.5
  done
  echo "flagged after $((SECONDS - start))s"
  grep -q '"action":"unsanctioned-container-seen".*sec-debugger-1' "$work/audit.jsonl" ||
    { echo "no audit record"; return 1; }
  host_controller_metrics "$host_controller_metrics_port" >"$work/metrics.txt" || return 1
  grep -E '^ephemera_unsanctioned_ephemeral_containers_total\{source="watch",decision="allowed"\} [1-9]' \
    "$work/metrics.txt" || { echo "no metric from the pod watch"; return 1; }
  grep -E '^ephemera_unsanctioned_ephemeral_containers_total\{source="admission",decision="allowed"\} [1-9]' \
    "$work/metrics.txt" || { echo "no metric from the admission webhook"; return 1; }
}
check "kubectl debug by admin is allowed with a warning and flagged within seconds (audit mode): Event, audit record, metric" \
  flagged_in_audit_mode

denied_in_enforce_mode() {
  expect_refused "sec-debugger-2 was not added by Ephemera" kubectl_debug sec-debugger-2 || return 1
  host_controller_metrics "$host_controller_metrics_port" >"$work/metrics.txt" || return 1
  grep -qE '^ephemera_unsanctioned_ephemeral_containers_total\{source="admission",decision="denied"\} [1-9]' \
    "$work/metrics.txt" || { echo "the denial is not counted"; return 1; }
  grep -q '"action":"unsanctioned-container-seen".*sec-debugger-2' "$work/audit.jsonl" ||
    { echo "no audit record of the denied container"; return 1; }
  # Ephemera's own containers still pass the webhook.
  session team-a sec-enforced restricted | as alice apply -f - >/dev/null || return 1
  wait_phase sec-enforced Completed 90 || return 1
  if ephemeral_names | grep -qw sec-debugger-2; then echo "sec-debugger-2 was added"; return 1; fi
}
# Controllers are started and stopped at the top level: checks run in subshells.
host_controller_stop || true
start_controller --ephemeral-containers=enforce
check "kubectl debug by admin is denied in enforce mode, while DebugSessions still work" denied_in_enforce_mode

# --- Strict audit: no new session starts while the audit sink fails -------------------------------
host_controller_stop || true
# stdout is /dev/full: every audit write fails with ENOSPC. Not started with host_controller_start,
# which waits for /readyz (that must fail here).
# shellcheck disable=SC2046
"$controller_bin" $(host_controller_args) --strict-audit >/dev/full 2>"$work/strict.log" &
host_controller_pid=$!
host_controller_register_webhooks
strict_audit_stops_new_sessions() {
  local deadline=$((SECONDS + 30)) code before
  until curl -sf "http://127.0.0.1:$host_controller_probe_port/healthz" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { echo "no /healthz"; tail -n 20 "$work/strict.log"; return 1; }
    sleep 0.3
  done
  before=$(ephemeral_names)
  # The webhook cannot write the "admitted" record, so it refuses the session, saying why.
  expect_refused "strict audit" as alice apply -f - < <(session team-a sec-strict restricted) || return 1
  if as admin -n team-a get debugsession sec-strict >/dev/null 2>&1; then
    echo "the session was stored"; return 1
  fi
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$host_controller_probe_port/readyz")
  [ "$code" = 503 ] || { echo "/readyz answered $code, not 503"; return 1; }
  [ "$(ephemeral_names)" = "$before" ] || { echo "a container was injected"; return 1; }
  grep -q "audit sink did not take the record" "$work/strict.log" ||
    { echo "the controller did not log the audit failure"; return 1; }
}
check "strict audit: with the audit sink failing, a new session is refused at admission and /readyz fails" \
  strict_audit_stops_new_sessions
host_controller_stop || true

# --- DebugSession admission fails closed ------------------------------------------------------------
# The webhooks are registered and nothing answers them: a session must not get in unchecked.
host_controller_register_webhooks
fails_closed() {
  expect_refused "failed calling webhook" \
    as alice apply -f - < <(session team-a sec-unchecked restricted) || return 1
  if as admin -n team-a get debugsession sec-unchecked >/dev/null 2>&1; then
    echo "the session was stored without admission"; return 1
  fi
}
check "with the controller down, DebugSession admission fails closed" fails_closed
# A normal controller again (for the rest and the clean-up).
start_controller

# --- 4. The audit trail verifies; tampering is detected -------------------------------------------
anchors() {
  local s uid records head
  for s in sec-alice sec-ptrace-denied sec-ptrace sec-enforced; do
    uid=$(as admin -n team-a get debugsession "$s" -o jsonpath='{.metadata.uid}')
    records=$(as admin -n team-a get debugsession "$s" -o jsonpath='{.status.audit.records}')
    head=$(as admin -n team-a get debugsession "$s" -o jsonpath='{.status.audit.head}')
    printf -- '--anchor session/%s=%s:%s ' "$uid" "$records" "$head"
  done
}
audit_verifies() {
  # Both controller runs wrote to the same file; each session lived in one of them.
  # shellcheck disable=SC2046
  "$controller_bin" audit verify "$work/audit.jsonl" $(anchors)
}
check "the audit trail verifies against the heads in the sessions' statuses" audit_verifies

tampering_detected() {
  python3 - "$work/audit.jsonl" "$work" <<'PY' || return 1
import collections, json, sys
lines = open(sys.argv[1]).read().splitlines()
records = [i for i, l in enumerate(lines) if l.startswith("{") and '"hash"' in l and '"session/' in l]
assert len(records) >= 4, len(records)
def write(name, out):
    open(sys.argv[2] + "/" + name + ".jsonl", "w").write("\n".join(out) + "\n")
changed = list(lines)
doc = json.loads(changed[records[1]])
doc["outcome"] = "ok" if doc.get("outcome") != "ok" else "Forbidden"
changed[records[1]] = json.dumps(doc, separators=(",", ":"))
write("changed", changed)
write("removed", [l for i, l in enumerate(lines) if i != records[2]])
# Two records of one session's chain swap places (records of different chains may interleave
# in any order, so the swap has to be within a chain to mean anything).
by_chain = collections.defaultdict(list)
for i in records:
    by_chain[json.loads(lines[i])["chain"]].append(i)
chain = max(by_chain.values(), key=len)
assert len(chain) >= 3, chain
reordered = list(lines)
reordered[chain[1]], reordered[chain[2]] = reordered[chain[2]], reordered[chain[1]]
write("reordered", reordered)
PY
  local out kind
  for kind in changed removed reordered; do
    [ -s "$work/$kind.jsonl" ] || return 1
    # shellcheck disable=SC2046
    if out=$("$controller_bin" audit verify "$work/$kind.jsonl" $(anchors) 2>&1); then
      echo "a $kind record verified: $out"; return 1
    fi
    echo "$kind: $out" | head -n 3
  done
}
check "one changed, removed or reordered audit record is detected by the verifier" tampering_detected

# --- 5. Policy: a debugged pod is annotated, and recycled through its owner when the session ends ---
# Both are off by default; they need patch and delete on pods, which the chart grants only when they
# are on. Here a Role in team-a gives the host-run controller those rights. The earlier sessions on
# the same pod are released first (by the controller without the policy), so that none of their
# TTLs recycles the pod before the session made for it.
as admin -n team-a delete debugsessions --all --wait=false >/dev/null 2>&1 || true
for _ in $(seq 1 60); do
  [ -z "$(as admin -n team-a get debugsessions -o name 2>/dev/null)" ] && break
  sleep 0.5
done
host_controller_stop || true
grant_in_team_a sec-controller-pods ephemera-controller \
  '{apiGroups: [""], resources: [pods], verbs: [patch, delete]}'
wait_until_allowed ephemera-controller patch pods team-a >/dev/null &&
  wait_until_allowed ephemera-controller delete pods team-a >/dev/null ||
  echo "the controller's pod rights have not reached the authorizer; the check below will say so"
start_controller --annotate-debugged-pods --recycle-debugged-pods
debugged_pod_annotated_and_recycled() {
  # The canary target's pod, which nothing after this needs.
  local old old_uid annotation new deadline
  old=$pod
  old_uid=$(as alice -n team-a get pod "$old" -o jsonpath='{.metadata.uid}')
  as alice apply -f - >/dev/null <<YAML || return 1
apiVersion: ephemera.dev/v1alpha1
kind: DebugSession
metadata: {name: sec-recycle, namespace: team-a}
spec:
  target: {pod: $old, container: app}
  reason: "SEC-2 the debugged pod is marked and replaced"
  ttl: 30s
  capture: [process]
  recipients: ["$recipient"]
YAML
  wait_phase sec-recycle Completed 90 || return 1
  annotation=$(as admin -n team-a get pod "$old" -o jsonpath='{.metadata.annotations.ephemera\.dev/debugged-by}')
  [[ $annotation == "team-a/sec-recycle by alice at "* ]] ||
    { echo "annotation on $old: '$annotation'"; return 1; }
  echo "annotated: ephemera.dev/debugged-by=$annotation"
  wait_phase sec-recycle Expired 90 || return 1
  # The debugged incarnation is gone (or going), and its owner made a clean one.
  deadline=$((SECONDS + 60))
  while :; do
    new=$(as admin -n team-a get pods -l app=sec-target \
      -o jsonpath='{range .items[?(@.metadata.uid!="'"$old_uid"'")]}{.metadata.name}{"\n"}{end}' | head -n 1)
    [ -n "$new" ] && [ "$(as admin -n team-a get pod "$new" -o jsonpath='{.status.phase}')" = Running ] && break
    [ $SECONDS -lt $deadline ] || { echo "no replacement pod running 60s after expiry"; return 1; }
    sleep 1
  done
  # One read: the old pod may finish terminating between two reads, and then the second would find
  # nothing where the first found it still there.
  local left
  left=$(as admin -n team-a get pod "$old" --ignore-not-found \
    -o jsonpath='{.metadata.uid} {.metadata.deletionTimestamp}')
  case $left in
    "" | *" "?*) ;;         # gone, or being deleted
    "$old_uid "*) echo "the debugged pod $old is still there"; return 1 ;;
  esac
  [ -z "$(as admin -n team-a get pod "$new" -o jsonpath='{.metadata.annotations.ephemera\.dev/debugged-by}')" ] ||
    { echo "the replacement $new carries the mark"; return 1; }
  echo "replaced: $old -> $new"
  python3 - "$work/audit.jsonl" <<'PY' || { echo "no audit record of the recycling"; return 1; }
import json, sys
records = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{") and '"hash"' in l]
assert any(r.get("session") == "team-a/sec-recycle" and
           "deleted so that its owner replaces it" in r.get("message", "") for r in records)
PY
}
check "policy: the debugged pod is annotated and, at the TTL, recycled through its owner (audit record)" \
  debugged_pod_annotated_and_recycled


# --- 6. Pods that share namespaces (H2) and envFrom Secrets (M2) ---------------------------------
# Earlier sessions are released first, and the controller runs without the pod policies again.
as admin -n team-a delete debugsessions --all --wait=false >/dev/null 2>&1 || true
for _ in $(seq 1 60); do
  [ -z "$(as admin -n team-a get debugsessions -o name 2>/dev/null)" ] && break
  sleep 0.5
done
host_controller_stop || true
start_controller
sidecar_canary="sidecar-$canary"
envfrom_canary="envfrom-$canary"
as admin -n team-a create secret generic sec-envfrom --from-literal=SEC_ENVFROM_KEY="$envfrom_canary" >/dev/null
as alice -n team-a apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: sec-hostpid}
spec:
  hostPID: true
  securityContext: {runAsUser: 1000, runAsGroup: 1000}
  containers:
  - name: app
    image: ephemera.local/target:0.1.0
    args: ["--threads", "2", "--port", "8091"]
---
apiVersion: v1
kind: Pod
metadata: {name: sec-shared}
spec:
  shareProcessNamespace: true
  securityContext: {runAsUser: 1000, runAsGroup: 1000}
  containers:
  - name: app
    image: ephemera.local/target:0.1.0
    args: ["--threads", "2", "--port", "8092"]
  - name: sidecar
    image: ephemera.local/target:0.1.0
    args: ["--threads", "1", "--port", "8093", "--say", "$sidecar_canary"]
---
apiVersion: v1
kind: Pod
metadata: {name: sec-envfrom}
spec:
  securityContext: {runAsUser: 1000, runAsGroup: 1000}
  containers:
  - name: app
    image: ephemera.local/target:0.1.0
    args: ["--threads", "1", "--port", "8094"]
    envFrom:
    - secretRef: {name: sec-envfrom}
YAML
for p in sec-hostpid sec-shared sec-envfrom; do
  as alice -n team-a wait --for=condition=Ready "pod/$p" --timeout=90s >/dev/null ||
    e2e_setup_failed "pod $p did not become ready"
done

session_on() { # name pod [extra spec lines]
  cat <<YAML
apiVersion: ephemera.dev/v1alpha1
kind: DebugSession
metadata: {name: $1, namespace: team-a}
spec:
  target: {pod: $2, container: app}
  reason: "SEC-3 namespaces shared with the node or other containers"
  ttl: 5m
  profile: restricted
  capture: [process, threads, fds, maps, limits, cgroup, env]
  recipients: ["$recipient"]
${3:-}
YAML
}
reason_of() { as admin -n team-a get debugsession "$1" -o jsonpath='{.status.conditions[?(@.type=="Authorized")].reason}'; }
message_of() { as admin -n team-a get debugsession "$1" -o jsonpath='{.status.message}'; }
# Fails if the decrypted snapshot of session $1 holds a process that is not its target container's:
# every captured command line must carry the target's own --port ($2), and no node daemon is there.
only_target_processes() { # session port
  python3 - "$work/$1.json" "$2" <<'PY'
import json, sys
doc, port = json.load(open(sys.argv[1])), sys.argv[2]
procs = doc["processes"]
assert procs, "no process captured: " + json.dumps(doc.get("degraded"))[:400]
daemons = {"kubelet", "containerd", "containerd-shim", "containerd-shim-runc-v2", "dockerd",
           "systemd", "kube-proxy", "kube-apiserver", "etcd", "pause", "sshd"}
for p in procs:
    name = p.get("name") or p.get("comm") or ""
    assert name not in daemons, ("a node or pod process was captured", p["pid"], name)
    assert port in (p.get("cmdline") or ""), ("a process of another container", p["pid"], p.get("cmdline"))
tree = {n.get("name") for n in doc.get("processTree", [])}
assert not (tree & daemons), tree
print(len(procs), "processes, all the target container's")
PY
}

hostpid_denied_by_default() {
  session_on sec-host-denied sec-hostpid | as alice apply -f - >/dev/null || return 1
  wait_phase sec-host-denied Denied 60 || return 1
  [ "$(reason_of sec-host-denied)" = HostNamespacesNotAllowed ] ||
    { echo "reason: $(reason_of sec-host-denied)"; return 1; }
  message_of sec-host-denied | grep -q "uses hostPID.*policy.hostNamespaces to allow.*debugprofiles/host" ||
    { echo "message: $(message_of sec-host-denied)"; return 1; }
  [ -z "$(as admin -n team-a get pod sec-hostpid -o jsonpath='{.spec.ephemeralContainers[*].name}')" ] ||
    { echo "a container was injected into the hostPID pod"; return 1; }
}
check "a session on a hostPID pod is Denied under the default policy, with a sentence naming hostPID and what would allow it; nothing is injected" \
  hostpid_denied_by_default

shared_pid_session_holds_only_the_target() {
  session_on sec-shared-s sec-shared | as alice apply -f - >/dev/null || return 1
  wait_phase sec-shared-s Completed 90 || return 1
  decrypt_snapshot sec-shared-s "$work/alice.key" || return 1
  if grep -q "$canary" "$work/sec-shared-s.json"; then echo "the sidecar's canary is in the snapshot"; return 1; fi
  only_target_processes sec-shared-s 8092
}
check "shareProcessNamespace: the snapshot holds only the target container's processes; the sidecar's argv canary appears nowhere in it" \
  shared_pid_session_holds_only_the_target

envfrom_allow_env_not_honoured() {
  session_on sec-envfrom-allow sec-envfrom "  redaction: {allowEnv: [SEC_ENVFROM_KEY]}" | as alice apply -f - >/dev/null || return 1
  wait_phase sec-envfrom-allow Completed 90 || return 1
  as admin -n team-a get debugsession sec-envfrom-allow -o jsonpath='{.status.conditions[?(@.type=="Injected")].message}' |
    grep -q "allowEnv is not honoured.*envFrom.secretRef" ||
    { echo "the Injected condition does not say why allowEnv was not honoured"; return 1; }
  decrypt_snapshot sec-envfrom-allow "$work/alice.key" || return 1
  if grep -q "$envfrom_canary" "$work/sec-envfrom-allow.json"; then echo "the envFrom value is in the snapshot"; return 1; fi
  # The snapshot did read the variable: it is there, redacted.
  python3 - "$work/sec-envfrom-allow.json" <<'PY' || return 1
import json, sys
doc = json.load(open(sys.argv[1]))
env = {e["name"]: e.get("value") for e in doc["processes"][0]["env"]}
assert env.get("SEC_ENVFROM_KEY") == "[REDACTED]", env
PY
  # Per-rule counts stay in the snapshot; status shows a total at most (L9).
  [ -z "$(as alice -n team-a get debugsession sec-envfrom-allow -o jsonpath='{.status.redaction.patternsMatched}')" ] ||
    { echo "status still carries per-rule counts"; return 1; }
  # Read whole before searching: grep -q in a pipe stops reading at a hit, and under pipefail the
  # writer's SIGPIPE would turn the found leak into a pass.
  local objects
  objects=$(as admin -n team-a get debugsession,debugsnapshot,pod,event -o json)
  if grep -qF -- "$envfrom_canary" <<<"$objects"; then
    echo "the envFrom value is in an API object in team-a"; return 1
  fi
}
check "envFrom.secretRef: allowEnv naming one of the Secret's keys is not honoured (the Injected condition says why); the value is [REDACTED] and appears in no snapshot, status or API object" \
  envfrom_allow_env_not_honoured

# The policy allows host namespaces and alice holds use on debugprofiles/host (cluster-wide).
host_controller_stop || true
start_controller --host-namespaces=allow
as admin apply -f - >/dev/null <<'YAML'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: sec-alice-host}
rules:
- {apiGroups: [ephemera.dev], resources: [debugprofiles], resourceNames: [host], verbs: [use]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: sec-alice-host}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: sec-alice-host}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
YAML
hostpid_allowed_holds_only_the_target() {
  local deadline=$((SECONDS + 30))
  # The controller's own question, as a SubjectAccessReview (kubectl auth can-i answers "no" for
  # this cluster-scoped name of a resource type the API does not serve).
  local allowed=""
  while :; do
    allowed=$(as admin create -o jsonpath='{.status.allowed}' -f - 2>/dev/null <<'JSON' || true
{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"alice",
 "groups":["system:authenticated"],"resourceAttributes":{"group":"ephemera.dev",
 "resource":"debugprofiles","name":"host","verb":"use"}}}
JSON
    )
    [ "$allowed" = true ] && break
    [ $SECONDS -lt $deadline ] || { echo "alice's host grant has not reached the authorizer"; return 1; }
    sleep 0.5
  done
  session_on sec-host-allowed sec-hostpid | as alice apply -f - >/dev/null || return 1
  wait_phase sec-host-allowed Completed 90 || return 1
  decrypt_snapshot sec-host-allowed "$work/alice.key" || return 1
  only_target_processes sec-host-allowed 8091
}
check "with hostNamespaces=allow and alice's use on debugprofiles/host, a hostPID session completes and its snapshot holds only the target container's processes (no kubelet, containerd or other node process)" \
  hostpid_allowed_holds_only_the_target

[ "$failed" -eq 0 ]
