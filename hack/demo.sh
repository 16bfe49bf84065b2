#!/usr/bin/env bash
# `make demo`: Ephemera as a cluster operator and a developer meet it, on the local cluster.
#   1. the operator installs the Helm chart (images built here, pinned by digest);
#   2. alice runs a sample service in team-a;
#   3. alice runs `kubectl ephemera snapshot` against it and reads the report;
#   4. the session expires: its snapshot and key are destroyed, and fetching it says so;
#   5. the audit trail of the session verifies.
# At the end the chart is uninstalled (KEEP=1 keeps it) and the cluster stays up.
#
#   hack/demo.sh [BUILD_DIR]
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
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }
as() { local user=$1; shift; "$kubectl" --kubeconfig "$("$cluster" kubeconfig "$user")" "$@"; }
die() { echo "demo: $*" >&2; exit 1; }

cleanup() {
  local code=$?
  if [ "${KEEP:-0}" != 1 ]; then
    as alice -n team-a delete deployment shop --ignore-not-found --wait=false >/dev/null 2>&1 || true
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

# A controller run on this host (make run, the host-run tests) leaves a mark key that Helm would
# refuse to adopt; the chart makes its own.
if [ -n "$(as admin -n "$namespace" get secret ephemera-mark-key --ignore-not-found -o name)" ] &&
  [ "$(as admin -n "$namespace" get secret ephemera-mark-key -o jsonpath='{.metadata.labels.app\.kubernetes\.io/managed-by}')" != Helm ]; then
  echo "demo: removing $namespace/ephemera-mark-key left by a controller run on this host"
  as admin -n "$namespace" delete secret ephemera-mark-key >/dev/null
fi

say "1. The operator installs Ephemera with Helm (2 replicas, webhooks, least RBAC)"
controller_image=$("$cluster" image-ref ephemera.local/controller:0.1.0)
snapshot_image=$("$cluster" image-ref ephemera.local/snapshot:0.1.0)
echo "controller image $controller_image"
echo "snapshot image   $snapshot_image"
run "$helm" --kubeconfig "$admin_kubeconfig" install "$release" "$repo/helm/ephemera" -n "$namespace" \
  --create-namespace --wait --timeout 4m \
  --set "image.repository=${controller_image%@*}" --set "image.digest=${controller_image#*@}" \
  --set "snapshotImage.repository=${snapshot_image%@*}" --set "snapshotImage.digest=${snapshot_image#*@}" |
  sed -n '1,/^NOTES/p'
as admin -n "$namespace" get pods -o wide

say "2. alice runs a sample service 'shop' in team-a (a database password in its environment)"
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
        args: ["--threads", "6"]
        env: [{name: DB_PASSWORD, value: not-a-real-password}, {name: LOG_LEVEL, value: debug}]
YAML
as alice -n team-a rollout status deployment/shop --timeout=120s
pod=$(as alice -n team-a get pods -l app=shop -o jsonpath='{.items[0].metadata.name}')

say "3. alice asks for a snapshot of $pod (her age identity is created on first use)"
KUBECONFIG=$("$cluster" kubeconfig alice)
export KUBECONFIG
session=demo
"$kubectl" -n team-a delete debugsession "$session" --ignore-not-found --wait=true >/dev/null
run kubectl ephemera snapshot "$pod" -n team-a --name "$session" --reason "DEMO-1 why is checkout slow?" \
  --ttl 45s --capture process,threads,fds,sockets,maps,limits,cgroup,env
run kubectl ephemera list -n team-a

say "4. The TTL lapses: the snapshot and the session key are destroyed"
for _ in $(seq 1 120); do
  [ "$("$kubectl" -n team-a get debugsession "$session" -o jsonpath='{.status.phase}')" = Expired ] && break
  sleep 1
done
run kubectl ephemera get "$session" -n team-a
run kubectl ephemera fetch "$session" -n team-a || true

say "5. The session's audit trail verifies against the head in its status"
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
