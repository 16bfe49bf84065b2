#!/usr/bin/env bash
# The traffic benchmark on the local cluster: ephemera-target --http in a pod behind a Service,
# vegeta sending it requests at a fixed rate from this host through the Service's cluster IP
# (bench/traffic.py measures; see its header), one window per method at each thread count:
#   undisturbed                    nothing else runs
#   ephemera restricted            a DebugSession (profile restricted) created as alice every --every s
#   ephemera ptrace                the same with profile ptrace (every section, stacks included)
#   kubectl debug eu-stack         `kubectl debug POD --profile=general --target=app` running Debian's
#                                  eu-stack -p 1, as admin, every --every s: the same capture by hand
#   kubectl debug empty            the same with `eu-stack --version` (it captures nothing): the cost
#                                  of starting any ephemeral container and reading its log, the floor
#                                  under every row above on this node
# Restarts are the target container's restartCount; at the end it prints how many sessions of each
# profile reached Completed. A benchmark: it prints figures, it does not pass or fail on them.
#
#   flock -o /tmp/ephemera-cluster.lock bench/traffic_cluster.sh [--threads 10,100,1000]
#     [--rate 1000] [--window 20] [--every 2] [--json FILE] [--guaranteed]
# --json writes every level's rows to FILE (bench/plot_bars.py draws them).
# --guaranteed gives the target pod 1 CPU as request and limit (QoS Guaranteed). On a cluster
# started with EPHEMERA_NODE_RESERVED_CPUS=0 under `taskset -c 0` (tests/cluster/cluster.sh), the
# kubelet's static CPU manager then gives the target a core of its own, as latency-sensitive
# services are run; run this script under `taskset -c 0` too, so that the controller and the
# clients share the system's core, while vegeta is moved onto the target's core (its packets are
# then handled there too: the request path stays off the system's CPUs, as with remote clients):
#   EPHEMERA_NODE_RESERVED_CPUS=0 taskset -c 0 tests/cluster/cluster.sh up
#   taskset -c 0 flock -o /tmp/ephemera-cluster.lock bench/traffic_cluster.sh --guaranteed
# The controller runs on this host as in the end-to-end tests (tests/e2e/host_controller.sh), from
# build/release (or EPHEMERA_CONTROLLER_BIN). Everything it creates carries the label
# bench.ephemera.dev/run and is deleted on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cluster=$repo/tests/cluster/cluster.sh
threads_list=10,100,1000
rate=1000
window=20
every=2
json_out=
resources=
while [ $# -gt 0 ]; do
  case $1 in
    --threads) threads_list=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --every) every=$2; shift 2 ;;
    --json) json_out=$2; shift 2 ;;
    --guaranteed)
      resources='    resources: {requests: {cpu: "1", memory: 256Mi}, limits: {cpu: "1", memory: 256Mi}}'
      shift ;;
    *) echo "usage: $0 [--threads 10,100,1000] [--rate 1000] [--window 20] [--every 2] [--json FILE] [--guaranteed]" >&2; exit 2 ;;
  esac
done

log() { echo "traffic-cluster: $*"; }
bench_prefix=traffic
# shellcheck source=bench/cluster_bench_lib.sh
source "$here/cluster_bench_lib.sh"
cleanup() {
  local code=$?
  set +e
  log "cleaning up (sessions, controller, pods and services of run $run_id)"
  bench_clean_up_run 120
  as admin -n "$ns" delete services -l "$run_label" --wait=false >/dev/null 2>&1
  as admin -n "$ns" delete rolebinding "$run_id-ptrace" --ignore-not-found >/dev/null 2>&1
  as admin -n "$ns" delete role "$run_id-ptrace" --ignore-not-found >/dev/null 2>&1
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT
kubectl_bin=$("$cluster" kubectl-path)
admin_kc=$("$cluster" kubeconfig admin)
alice_kc=$("$cluster" kubeconfig alice)
vegeta=$("$repo/hack/build-vegeta.sh" | tail -n 1)
eu_stack_image=$("$repo/tests/cluster/images.sh" list eu-stack)


log "$(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), this script on CPUs $(taskset -cp $$ | sed 's/.*: //')"
log "building the eu-stack image for the kubectl debug baseline"
"$repo/tests/cluster/images.sh" build eu-stack
"$cluster" load-image "$eu_stack_image" >/dev/null
cp "$controller_src" "$work/ephemera-controller"
host_controller_install
host_controller_start "$work/ephemera-controller" "$work/controller.log" "$work/audit.log"
age-keygen -o "$work/alice.key" 2>/dev/null
recipient=$(age-keygen -y "$work/alice.key")
# alice may use the ptrace profile for this run.
# debugprofiles is not a served resource, only an RBAC name, so the Role is written out.
as admin -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: $run_id-ptrace, namespace: $ns}
rules:
- {apiGroups: [ephemera.dev], resources: [debugprofiles], resourceNames: [ptrace], verbs: [use]}
YAML
as admin -n "$ns" create rolebinding "$run_id-ptrace" --role="$run_id-ptrace" --user=alice >/dev/null

# The eu-stack baseline runs as root: with the pod's runAsUser (1000) the SYS_PTRACE that
# --profile general adds would not be effective.
printf '{"securityContext": {"runAsUser": 0, "runAsNonRoot": false}}\n' >"$work/as-root.json"

# Writes a script that takes one capture of POD the given way and returns when it has ended: exit
# status 0 only if it succeeded. A DebugSession (restricted or ptrace) as alice, waited for until
# Completed; or `kubectl debug` running eu-stack as admin, waited for until its container ended,
# then its log read (`kubectl logs`), as a person would.
capture_script() { # pod kind(restricted|ptrace|eu-stack|empty) -> path of the script
  local pod=$1 kind=$2 script=$work/capture-$1-$2.sh
  if [ "$kind" = eu-stack ] || [ "$kind" = empty ]; then
    local argv="/usr/bin/eu-stack -p 1" want='^TID '
    [ "$kind" = eu-stack ] || { argv="/usr/bin/eu-stack --version"; want='eu-stack'; }
    cat >"$script" <<SCRIPT
#!/usr/bin/env bash
set -euo pipefail
name=eu-\$(date +%s%N | tail -c 10)
$(printf '%q ' "$kubectl_bin" --kubeconfig "$admin_kc" -n "$ns") debug $(printf '%q' "$pod") \\
  --image $(printf '%q' "$eu_stack_image") --target app --profile general \\
  --custom $(printf '%q' "$work/as-root.json") -c "\$name" -- $argv >/dev/null 2>&1
$(printf '%q ' "$kubectl_bin" --kubeconfig "$admin_kc" -n "$ns") wait pod/$(printf '%q' "$pod") --timeout=60s \\
  --for=jsonpath="{.status.ephemeralContainerStatuses[?(@.name=='\$name')].state.terminated.reason}" >/dev/null
# eu-stack exits 1 when it cannot unwind some frame (the static target has no CFI), after printing
# what it could: the capture counts when its log has the threads (all of the log is read: grep -q
# would close the pipe early and fail the pipeline).
$(printf '%q ' "$kubectl_bin" --kubeconfig "$admin_kc" -n "$ns") logs $(printf '%q' "$pod") -c "\$name" | grep $(printf '%q' "$want") >/dev/null
SCRIPT
  else
    cat >"$work/session-$pod-$kind.yaml" <<YAML
apiVersion: ephemera.dev/v1alpha1
kind: DebugSession
metadata:
  generateName: $pod-$kind-
  namespace: $ns
  labels: {bench.ephemera.dev/run: $run_id, bench.ephemera.dev/profile: $kind}
spec:
  target: {pod: $pod, container: app}
  reason: "BENCH-20 debugging under traffic"
  ttl: 15m
  profile: $kind
  recipients: ["$recipient"]
YAML
    cat >"$script" <<SCRIPT
#!/usr/bin/env bash
set -euo pipefail
name=\$($(printf '%q ' "$kubectl_bin" --kubeconfig "$alice_kc") create -f $(printf '%q' "$work/session-$pod-$kind.yaml") -o name)
$(printf '%q ' "$kubectl_bin" --kubeconfig "$admin_kc" -n "$ns") wait "\$name" --timeout=60s \\
  --for=jsonpath='{.status.phase}'=Completed >/dev/null
SCRIPT
  fi
  chmod +x "$script"
  echo "$script"
}

IFS=, read -r -a levels <<<"$threads_list"
for threads in "${levels[@]}"; do
  pod=traffic-$threads-$run_id
  cat <<YAML | as admin create -f - >/dev/null
apiVersion: v1
kind: Pod
metadata:
  name: $pod
  namespace: $ns
  labels: {bench.ephemera.dev/run: $run_id, bench.ephemera.dev/traffic: "$threads"}
spec:
  terminationGracePeriodSeconds: 0
  securityContext: {runAsUser: 1000, runAsGroup: 1000}
  containers:
  - name: app
    image: ephemera.local/target:0.1.0
    args: ["--http", "--threads", "$threads", "--port", "8080"]
    ports: [{containerPort: 8080}]
    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 2}
$resources
---
apiVersion: v1
kind: Service
metadata:
  name: $pod
  namespace: $ns
  labels: {bench.ephemera.dev/run: $run_id}
spec:
  selector: {bench.ephemera.dev/traffic: "$threads", bench.ephemera.dev/run: $run_id}
  ports: [{port: 8080, targetPort: 8080}]
YAML
  as admin -n "$ns" wait --for=condition=Ready "pod/$pod" --timeout=120s >/dev/null
  load_generator=$vegeta
  for pid in $(pgrep -f -- "--http --threads $threads --port 8080" || true); do
    target_cpus=$(awk '/^Cpus_allowed_list/ {print $2}' "/proc/$pid/status")
    log "target pid $pid may run on CPUs $target_cpus"
    # With a core of its own, the load generator shares it: the whole request path (vegeta, the
    # packets' softirqs, the target) stays off the system's CPUs, as when clients are elsewhere.
    if [ -n "$resources" ]; then
      printf '#!/bin/sh\nexec taskset -c %s %q "$@"\n' "$target_cpus" "$vegeta" >"$work/vegeta-pinned"
      chmod +x "$work/vegeta-pinned"
      load_generator=$work/vegeta-pinned
      log "vegeta runs on CPUs $target_cpus too"
    fi
  done
  ip=$(as admin -n "$ns" get service "$pod" -o jsonpath='{.spec.clusterIP}')
  restarts="$(printf '%q ' "$kubectl_bin" --kubeconfig "$admin_kc" -n "$ns") get pod $pod -o jsonpath='{.status.containerStatuses[?(@.name==\"app\")].restartCount}'"
  python3 "$here/traffic.py" --vegeta "$load_generator" --url "http://$ip:8080/checkout" \
    --threads "$threads" --rate "$rate" --window "$window" --every "$every" \
    --restarts-cmd "$restarts" --floor "kubectl debug empty" --json "$work/rows-$threads.json" \
    --disturb "undisturbed=" \
    --disturb "ephemera restricted=$(capture_script "$pod" restricted)" \
    --disturb "ephemera ptrace=$(capture_script "$pod" ptrace)" \
    --disturb "kubectl debug eu-stack=$(capture_script "$pod" eu-stack)" \
    --disturb "kubectl debug empty=$(capture_script "$pod" empty)"
  # The next level's target gets the node to itself (with --guaranteed, the only CPU it may own).
  as admin -n "$ns" delete pod "$pod" --wait=true --timeout=120s >/dev/null
done

if [ -n "$json_out" ]; then
  mkdir -p "$(dirname "$json_out")"
  python3 -c 'import json, sys; json.dump([r for f in sys.argv[2:] for r in json.load(open(f))], open(sys.argv[1], "w"), indent=1)' \
    "$json_out" "$work"/rows-*.json
  log "rows written to $json_out"
fi
log "sessions of this run, by profile and phase:"
as admin -n "$ns" get debugsessions -l "$run_label" \
  -o jsonpath='{range .items[*]}{.spec.profile} {.status.phase}{"\n"}{end}' | sort | uniq -c |
  sed 's/^/  /'
