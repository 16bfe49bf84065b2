#!/usr/bin/env bash
# `make demo`: on the local cluster, start a sample workload and look inside it from an ephemeral
# container that shares its process namespace. Later issues replace the look with an Ephemera session.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cluster=$here/../tests/cluster/cluster.sh
kubectl=$("$cluster" kubectl-path)
as() { local user=$1; shift; "$kubectl" --kubeconfig "$("$cluster" kubeconfig "$user")" "$@"; }

echo "demo: starting the sample workload (deployment 'shop' in namespace team-a, as alice)"
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
      containers:
      - name: app
        image: ephemera.local/target:0.1.0
        args: ["--threads", "6"]
        env: [{name: DB_PASSWORD, value: not-a-real-password}]
YAML
as alice -n team-a rollout status deployment/shop --timeout=120s
pod=$(as alice -n team-a get pods -l app=shop -o jsonpath='{.items[0].metadata.name}')
echo "demo: pod $pod is running; its processes, seen from an ephemeral container (as admin):"
name=look-$(date +%s)
as admin -n team-a debug "pod/$pod" --target=app --image=ephemera.local/target:0.1.0 \
  --image-pull-policy=IfNotPresent --profile=restricted --container="$name" -- /ephemera-target ps >/dev/null
for _ in $(seq 1 120); do
  state=$(as admin -n team-a get pod "$pod" \
    -o jsonpath="{.status.ephemeralContainerStatuses[?(@.name==\"$name\")].state.terminated.reason}")
  [ -n "$state" ] && break
  sleep 0.5
done
as admin -n team-a logs "$pod" -c "$name"
echo "demo: done. The cluster stays up: 'make cluster-down' stops it."
