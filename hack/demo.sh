#!/usr/bin/env bash
# `make demo`: on the local cluster, alice asks Ephemera for a snapshot of a running service, reads
# the decrypted report with her own age key, and watches the session expire and its results vanish.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build_dir=${1:-$repo/build/dev}
cluster=$repo/tests/cluster/cluster.sh
kubectl=$("$cluster" kubectl-path)
as() { local user=$1; shift; "$kubectl" --kubeconfig "$("$cluster" kubeconfig "$user")" "$@"; }
say() { printf '\n\033[1mdemo: %s\033[0m\n' "$*"; }
work=$(mktemp -d)
# shellcheck source=tests/e2e/host_controller.sh
source "$repo/tests/e2e/host_controller.sh"
cleanup() {
  as alice -n team-a delete debugsession demo --ignore-not-found --wait=false >/dev/null 2>&1 || true
  sleep 1
  host_controller_stop || true
  rm -rf "$work"
}
trap cleanup EXIT

say "starting ephemera-controller on this host (its log: $work/controller.log)"
host_controller_install
host_controller_start "$build_dir/controller/ephemera-controller" "$work/controller.log"

say "alice runs a sample service 'shop' in team-a (uid 1000; a password in its environment)"
as alice -n team-a delete deployment shop --ignore-not-found --cascade=foreground --wait=true >/dev/null
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

say "alice makes her age key and asks for a 45s DebugSession on $pod"
age-keygen -o "$work/alice.key" 2>/dev/null
as alice -n team-a apply -f - <<YAML
apiVersion: ephemera.dev/v1alpha1
kind: DebugSession
metadata: {name: demo, namespace: team-a}
spec:
  target: {pod: $pod, container: app}
  reason: "DEMO-1 why is checkout slow?"
  ttl: 45s
  capture: [process, threads, fds, sockets, maps, limits, cgroup, env]
  redaction: {allowEnv: [LOG_LEVEL]}
  recipients: ["$(age-keygen -y "$work/alice.key")"]
YAML
for _ in $(seq 1 120); do
  phase=$(as alice -n team-a get debugsession demo -o jsonpath='{.status.phase}')
  case "$phase" in Completed|Failed|Denied) break ;; esac
  sleep 0.5
done
as alice -n team-a get debugsessions
[ "$phase" = Completed ] || { as alice -n team-a get debugsession demo -o yaml; exit 1; }

say "the DebugSnapshot holds ciphertext only; alice decrypts it with age"
as alice -n team-a get debugsnapshot demo -o jsonpath='{.spec.ciphertext}' | head -n 3
echo "..."
as alice -n team-a get debugsnapshot demo -o jsonpath='{.spec.ciphertext}' | age -d -i "$work/alice.key" | gunzip >"$work/snapshot.json"
python3 - "$work/snapshot.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for p in doc["processes"]:
    print(f"process {p['pid']} {p['name']}  rss {p['memory']['vmRssKiB']} KiB  threads {p['threadCount']}")
    for t in p.get("threads", []):
        print(f"  thread {t['tid']:>5} {t['name']:<16} {t['state']}  wchan {t.get('wchan', '')}")
    for s in p.get("sockets", []):
        print(f"  socket {s['protocol']} {s['local']} -> {s['remote']} {s['state']}")
    for e in p.get("env", []):
        print(f"  env {e['name']}={e['value']}")
print("redaction:", doc["redaction"], " degraded:", len(doc["degraded"]), " overhead:", doc["overhead"])
PY

say "waiting for the TTL to lapse: the snapshot and the session key are destroyed"
for _ in $(seq 1 120); do
  [ "$(as alice -n team-a get debugsession demo -o jsonpath='{.status.phase}')" = Expired ] && break
  sleep 1
done
as alice -n team-a get debugsessions
as alice -n team-a get debugsnapshots 2>&1 | sed 's/^/  /'
say "done. The cluster stays up: 'make cluster-down' stops it."
