#!/usr/bin/env bash
# `make demo`: Ephemera as a cluster operator and a developer meet it, on the local cluster.
#   1. the operator installs the Helm chart (images built here, pinned by digest);
#   2. alice runs a sample service in team-a;
#   3. alice runs `kubectl ephemera snapshot` against it and reads the report (the operator has
#      granted her the ptrace profile in team-a, so it has the threads' stacks);
#   3b. she takes the goroutines of a Go service with the default restricted profile;
#   4. the session expires: fetching it says so, its DebugSnapshot is gone and no key Secret of it is
#      left (the demo fails loudly if any of that is not so within 120 s);
#   5. the audit trail of the session verifies.
# Each step says in a few sentences what happens and why. At the end the chart is uninstalled (KEEP=1
# keeps it) and the cluster stays up.
#
#   hack/demo.sh [BUILD_DIR]     (BUILD_DIR holds cli/kubectl-ephemera; `make demo` uses build/release)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build_dir=$(cd "${1:-$repo/build/dev}" && pwd)
cluster=$repo/tests/cluster/cluster.sh
kubectl=$("$cluster" kubectl-path)
helm=$("$cluster" helm-path)
namespace=ephemera-system
release=ephemera
work=$(mktemp -d)
admin_kubeconfig=$("$cluster" kubeconfig admin)

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# explain SENTENCE...: what the step does and why, wrapped, before its commands run.
explain() { printf '%s\n' "$*" | fold -s -w 100 | sed 's/ *$//'; echo; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }
as() { local user=$1; shift; "$kubectl" --kubeconfig "$("$cluster" kubeconfig "$user")" "$@"; }
die() { echo "demo: $*" >&2; exit 1; }

cleanup() {
  local code=$?
  if [ "${KEEP:-0}" != 1 ]; then
    # While the controller still runs, so that it releases them (its finalizer) and their keys.
    as alice -n team-a delete debugsession demo demo-orders --ignore-not-found --wait=true --timeout=60s >/dev/null 2>&1 || true
    as alice -n team-a delete deployment shop orders --ignore-not-found --wait=false >/dev/null 2>&1 || true
    as admin -n team-a delete rolebinding demo-alice-ptrace --ignore-not-found >/dev/null 2>&1 || true
    "$helm" --kubeconfig "$admin_kubeconfig" -n "$namespace" uninstall "$release" --wait >/dev/null 2>&1 || true
  fi
  if [ "$code" -ne 0 ]; then
    echo "demo: failed; the controller's last log lines:" >&2
    as admin -n "$namespace" logs -l app.kubernetes.io/name=ephemera --tail=20 --prefix 2>/dev/null >&2 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

[ -x "$build_dir/cli/kubectl-ephemera" ] || die "$build_dir/cli/kubectl-ephemera is not built (run 'make build')"
# kubectl finds plugins on PATH: `kubectl ephemera` runs kubectl-ephemera.
PATH="$build_dir/cli:$(dirname "$kubectl"):$PATH"
export PATH
export EPHEMERA_IDENTITY=$work/alice-identity.txt

if "$helm" --kubeconfig "$admin_kubeconfig" -n "$namespace" status "$release" >/dev/null 2>&1; then
  die "release $release is already installed in $namespace (a previous KEEP=1 demo?); remove it with: $helm --kubeconfig $admin_kubeconfig -n $namespace uninstall $release"
fi

say "1. The operator installs Ephemera with Helm (2 replicas, webhooks, least RBAC)"
explain "A cluster operator installs the chart once per cluster. It runs two controller replicas" \
  "(one leads through a Lease, both answer the admission webhooks), the CRDs, and RBAC that lets" \
  "the controller read Secrets only in its own namespace. Both images were built on this machine" \
  "and are named only by digest, so exactly these bytes run. The webhooks answer only the API" \
  "server, which proves itself with a client certificate from its own CA (any pod can reach the" \
  "webhook port). Helm's notes below say what to do next."
controller_image=$("$cluster" image-ref ephemera.local/controller:0.1.0)
snapshot_image=$("$cluster" image-ref ephemera.local/snapshot:0.1.0)
echo "controller image $controller_image"
echo "snapshot image   $snapshot_image"
run "$helm" --kubeconfig "$admin_kubeconfig" install "$release" "$repo/helm/ephemera" -n "$namespace" \
  --create-namespace --wait --timeout 4m \
  --set "image.repository=${controller_image%@*}" --set "image.digest=${controller_image#*@}" \
  --set "snapshotImage.repository=${snapshot_image%@*}" --set "snapshotImage.digest=${snapshot_image#*@}" \
  --set-file "webhooks.clientAuth.caBundle=$("$cluster" pki-path)/webhook-client-ca.crt" \
  --set "webhooks.clientAuth.allowedNames={kube-apiserver-admission}"
as admin -n "$namespace" get pods -o wide

explain "Native stacks need CAP_SYS_PTRACE in the debug container, so the ptrace profile is a right" \
  "the operator grants: here, to alice in team-a, with the chart's ptrace-profile ClusterRole."
as admin -n team-a delete rolebinding demo-alice-ptrace --ignore-not-found >/dev/null
run "$kubectl" --kubeconfig "$admin_kubeconfig" -n team-a create rolebinding demo-alice-ptrace \
  --clusterrole "$release-ptrace-profile-role" --user alice

say "2. alice runs a sample service 'shop' in team-a: it is dropping requests"
explain "alice is an ordinary developer: she may edit workloads in team-a and nothing else. Her" \
  "service 'shop' is bleeding requests: its accept queue is full, its threads wait on one lock," \
  "it is short of file descriptors, and its log prints a bearer token and its database password," \
  "the kind of values a debugging tool must never leak."
as alice -n team-a delete deployment shop --ignore-not-found --wait=true >/dev/null
as alice -n team-a apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop, namespace: team-a}
spec:
  replicas: 1
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      securityContext: {runAsUser: 1000, runAsGroup: 1000}
      containers:
      - name: app
        image: ephemera.local/target:0.1.0
        args: ["--threads", "6", "--bleed"]
        env:
        - {name: EPHEMERA_TARGET_DB_PASSWORD, value: not-a-real-password}
        - {name: LOG_LEVEL, value: debug}
YAML
as alice -n team-a rollout status deployment/shop --timeout=120s
pod=$(as alice -n team-a get pods -l app=shop -o jsonpath='{.items[0].metadata.name}')

say "3. alice asks for a snapshot of $pod (her age identity is created on first use)"
explain "kubectl ephemera creates a DebugSession; the webhook stamps alice as the requester and the" \
  "controller checks she may read the pod before injecting a shell-less ephemeral container into it." \
  "The snapshot tool in that container reads the process state, redacts secrets and encrypts the" \
  "result to alice's key only. The controller adds the container's recent log, redacted with the" \
  "values the tool hid; the plugin decrypts it all on her machine and prints the report, findings" \
  "first."
KUBECONFIG=$("$cluster" kubeconfig alice)
export KUBECONFIG
session=demo
"$kubectl" -n team-a delete debugsession "$session" --ignore-not-found --wait=true >/dev/null
report=$(mktemp)
run kubectl ephemera snapshot "$pod" -n team-a --name "$session" --reason "DEMO-1 why is checkout slow?" \
  --ttl 45s --profile ptrace --capture process,threads,stacks,fds,sockets,maps,limits,cgroup,env,logs \
  --tail 20 | tee "$report"
# The password is in the service's environment and printed bare in its log: the report shows
# neither, and it opens with what is wrong.
if grep -qF not-a-real-password "$report"; then rm -f "$report"; die "the report shows the database password"; fi
grep -q "FINDINGS" "$report" || { rm -f "$report"; die "the report has no findings"; }
# The threads waiting for the pool lock, by function name (ptrace stacks, symbolized).
grep -q "WaitForDbConnection" "$report" ||
  { rm -f "$report"; die "the report has no symbolized stack of the threads waiting on the pool lock"; }
rm -f "$report"

say "3b. alice reads the goroutines of a Go service, with the default restricted profile"
explain "Most services are written in Go, Python or Java, and their native stacks say little. The" \
  "snapshot tool reads every goroutine (Python frames, Java threads) from the process's memory or," \
  "for a JVM, through its own attach mechanism: no CAP_SYS_PTRACE, the target is not stopped," \
  "identical stacks are grouped. 'orders' is a Go worker service (the test program of the Go reader:" \
  "100 workers waiting for work, one stuck on a mutex), built stripped."
as alice -n team-a delete deployment orders --ignore-not-found --wait=true >/dev/null
as alice -n team-a apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: orders, namespace: team-a}
spec:
  replicas: 1
  selector: {matchLabels: {app: orders}}
  template:
    metadata: {labels: {app: orders}}
    spec:
      securityContext: {runAsUser: 1000, runAsGroup: 1000}
      containers:
      - {name: app, image: "ephemera.local/runtimes:0.1.0", command: [/go-parked-stripped], stdin: true}
YAML
as alice -n team-a rollout status deployment/orders --timeout=120s
orders=$(as alice -n team-a get pods -l app=orders -o jsonpath='{.items[0].metadata.name}')
for _ in $(seq 1 30); do
  as alice -n team-a logs "$orders" 2>/dev/null | grep -q '^ready' && break
  sleep 1
done
"$kubectl" -n team-a delete debugsession demo-orders --ignore-not-found --wait=true >/dev/null
report=$(mktemp)
run kubectl ephemera snapshot "$orders" -n team-a --name demo-orders --reason "DEMO-2 orders stall" \
  --ttl 45s --capture stacks | tee "$report"
grep -q "main.receiveWork" "$report" ||
  { rm -f "$report"; die "the report of 'orders' does not show its goroutines (main.receiveWork)"; }
rm -f "$report"
run kubectl ephemera list -n team-a

say "4. The TTL lapses: the snapshot and the session key are destroyed"
explain "The session asked for 45 seconds. When they are over, the controller deletes the" \
  "DebugSnapshot and the session's key Secret, so the ciphertext still sitting in the node's" \
  "container log can never be decrypted again. Fetching the snapshot now says so, the snapshot object" \
  "is gone, and no key Secret of this session is left in the controller's namespace."
echo "waiting up to 120 s for the session to be Expired …"
phase=
deadline=$((SECONDS + 120))
while [ $SECONDS -lt $deadline ]; do
  phase=$("$kubectl" -n team-a get debugsession "$session" -o jsonpath='{.status.phase}' || true)
  [ "$phase" = Expired ] && break
  sleep 1
done
[ "$phase" = Expired ] ||
  die "session $session is still '$phase' 120 s after its snapshot was delivered (its TTL is 45 s): the TTL was not enforced; see the controller's log below"
run kubectl ephemera get "$session" -n team-a
fetch_status=0
run kubectl ephemera fetch "$session" -n team-a || fetch_status=$?
[ "$fetch_status" -eq 8 ] || die "fetching the expired session exited $fetch_status, not 8 (expired, snapshot wiped)"
printf '\033[2m$ kubectl -n team-a get debugsnapshot %s\033[0m\n' "$session"
if out=$(kubectl -n team-a get debugsnapshot "$session" 2>&1); then
  echo "$out"; die "the DebugSnapshot $session still exists after the TTL"
fi
echo "$out"
grep -q NotFound <<<"$out" || die "reading the DebugSnapshot failed for another reason than NotFound"
session_uid=$(kubectl -n team-a get debugsession "$session" -o jsonpath='{.metadata.uid}')
run kubectl --kubeconfig "$admin_kubeconfig" -n "$namespace" get secrets -l "ephemera.dev/session-uid=$session_uid"
keys=$(as admin -n "$namespace" get secrets -l "ephemera.dev/session-uid=$session_uid" -o name)
[ -z "$keys" ] || die "the session's key is still in $namespace: $keys"
echo "no DebugSnapshot and no key Secret left for session $session (uid $session_uid)"

say "5. The session's audit trail verifies against the head in its status"
explain "Every step the controller took for the session is an audit record on its stdout, each one" \
  "chained to the one before by a hash. The session's status keeps the number of records and the" \
  "last hash, so 'audit verify' can prove that no record was changed, removed or added afterwards."
unset KUBECONFIG
uid=$(as admin -n team-a get debugsession "$session" -o jsonpath='{.metadata.uid}')
records=$(as admin -n team-a get debugsession "$session" -o jsonpath='{.status.audit.records}')
head=$(as admin -n team-a get debugsession "$session" -o jsonpath='{.status.audit.head}')
# The leader wrote the records to its stdout, among its other replicas' lines.
for p in $(as admin -n "$namespace" get pods -l app.kubernetes.io/name=ephemera -o name); do
  as admin -n "$namespace" logs "$p" 2>/dev/null
done >"$work/audit.jsonl"
grep "session/$uid" "$work/audit.jsonl" | head -n 2 | cut -c1-160 | sed 's/$/…/'
run kubectl ephemera audit verify "$work/audit.jsonl" --anchor "session/$uid=$records:$head"

say "done. The cluster stays up ('make cluster-down' stops it); the chart is removed unless KEEP=1."
if [ -n "${EPHEMERA_DEMO_START:-}" ]; then
  took=$(($(date +%s) - EPHEMERA_DEMO_START))
  echo "make demo took $((took / 60)) min $((took % 60)) s, building included (the phases above say where it went)"
fi
