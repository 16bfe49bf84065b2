#!/usr/bin/env bash
# End-to-end test of language stacks on the local cluster (ctest label: integration): Go, Python
# and Java services in pods, read by sessions in the restricted profile (no CAP_SYS_PTRACE), as
# alice. The programs are the language readers' test programs (tests/debugpod/runtimes/*), in the
# runtimes image (tests/cluster/images.sh): each parks its threads in known places and blocks on
# stdin, which `stdin: true` keeps open.
# Checked, on the decrypted documents (names from docs/snapshot-format.md, "runtime"):
# - Go (a stripped binary): every goroutine, the 100 workers grouped as "chan receive" in
#   main.receiveWork, the mutex waiter in "sync.Mutex.Lock";
# - Python (Debian's 3.11): the 20 workers grouped in wait_for_work, the nested sleeper's frames;
# - Java (a jlink'd Java 17): the dump through the attach mechanism, the two-thread deadlock, the
#   20 workers grouped, and no thread dump in the pod's log (it would be plaintext there);
# - no target was stopped for Go and Python (freezeMicros 0), and the plugin's text report shows
#   the language frames.
#
#   runtimes_e2e_test.sh BUILD_DIR     (needs BUILD_DIR/controller/ephemera-controller and
#                                       BUILD_DIR/cli/kubectl-ephemera, and the runtimes and
#                                       snapshot images: 'make cluster-up')
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build_dir=$(cd "${1:?usage: runtimes_e2e_test.sh BUILD_DIR}" && pwd)
cluster=$repo/tests/cluster/cluster.sh
controller_bin=$build_dir/controller/ephemera-controller
cli=$build_dir/cli/kubectl-ephemera
work=$(mktemp -d)

# shellcheck source=tests/e2e/host_controller.sh
source "$here/host_controller.sh"
# shellcheck source=tests/e2e/e2e_lib.sh
source "$here/e2e_lib.sh"

workloads=(stacks-go stacks-python stacks-java)

cleanup() {
  as admin -n team-a delete debugsessions -l ephemera.dev/e2e=runtimes --wait=false >/dev/null 2>&1 || true
  if [ -n "$host_controller_pid" ] && kill -0 "$host_controller_pid" 2>/dev/null; then
    for _ in $(seq 1 30); do
      [ -z "$(as admin -n team-a get debugsessions -l ephemera.dev/e2e=runtimes -o name 2>/dev/null)" ] && break
      sleep 0.5
    done
    host_controller_stop || echo "the controller needed SIGKILL"
  fi
  host_controller_unregister_webhooks
  host_controller_forget_mark_key
  as admin -n team-a delete deployment "${workloads[@]}" --ignore-not-found >/dev/null 2>&1 || true
  as admin -n team-a delete rolebinding e2e-runtimes-alice-ptrace --ignore-not-found >/dev/null 2>&1 || true
  as admin -n team-a delete role e2e-runtimes-ptrace --ignore-not-found >/dev/null 2>&1 || true
}
e2e_trap_exit
e2e_require_host_run "$controller_bin" "$cli"

echo "runtimes-e2e: starting the controller on this host"
host_controller_install
host_controller_start "$controller_bin" "$work/controller.log" "$work/audit.jsonl" ||
  e2e_setup_failed "the controller did not start"

deployment() { # name command...
  local name=$1 args; shift
  args=$(printf '"%s", ' "$@")
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: $name}
spec:
  replicas: 1
  selector: {matchLabels: {app: $name}}
  template:
    metadata: {labels: {app: $name}}
    spec:
      securityContext: {runAsUser: 1000, runAsGroup: 1000}
      containers:
      - name: app
        image: ephemera.local/runtimes:0.1.0
        command: [${args%, }]
        stdin: true
---
YAML
}
echo "runtimes-e2e: starting ${workloads[*]} in team-a"
{ deployment stacks-go /go-parked-stripped
  deployment stacks-python /usr/bin/python3.11 /parked.py
  deployment stacks-java /jre/bin/java -cp /parked Parked
} | as alice -n team-a apply -f - >/dev/null
declare -A pods
for w in "${workloads[@]}"; do
  as alice -n team-a rollout status "deployment/$w" --timeout=120s >/dev/null ||
    e2e_setup_failed "$w did not become ready (image out of date? 'make cluster-up')"
  pods[$w]=$(as alice -n team-a get pods -l "app=$w" -o jsonpath='{.items[0].metadata.name}')
  ready=""
  for _ in $(seq 1 60); do
    if as admin -n team-a logs "${pods[$w]}" -c app 2>/dev/null | grep -q "^ready"; then ready=yes; break; fi
    sleep 0.5
  done
  [ -n "$ready" ] || e2e_setup_failed "$w (${pods[$w]}) did not print 'ready' in 30s; its log: \
$(as admin -n team-a logs "${pods[$w]}" -c app --tail 5 2>&1 | tr '\n' ' ')"
done

age-keygen -o "$work/alice.key" 2>/dev/null
chmod 600 "$work/alice.key"
recipient=$(age-keygen -y "$work/alice.key")

session() { # name pod [profile]
  cat <<YAML
apiVersion: ephemera.dev/v1alpha1
kind: DebugSession
metadata: {name: $1, namespace: team-a, labels: {ephemera.dev/e2e: runtimes}}
spec:
  target: {pod: $2, container: app}
  reason: "INC-E2E where are the threads stuck"
  ttl: 3m
  profile: ${3:-restricted}
  capture: [stacks]
  recipients: ["$recipient"]
YAML
}

session_completes() { # name workload [profile]
  session "$1" "${pods[$2]}" "${3:-}" | as alice apply -f - >/dev/null || { echo "$1 was not admitted"; return 1; }
  wait_phase "$1" Completed 120 || return 1
  decrypt_snapshot "$1" "$work/alice.key" || { echo "age could not decrypt $1"; return 1; }
}

cat >"$work/runtime.py" <<'PY'
import json, sys

def fail(message):
    print(message)
    sys.exit(1)

def runtime_of(path, language):
    doc = json.load(open(path))
    for p in doc.get("processes", []):
        r = p.get("runtime")
        if isinstance(r, dict) and r.get("language") == language:
            return doc, r
    fail("no process with a %s runtime; degraded: %s" % (language, doc.get("degraded")))

def group_with(runtime, function, min_count=1):
    for g in runtime.get("groups", []):
        names = [f.get("function", "") for f in g.get("frames", [])]
        if any(function in n for n in names) and g.get("count", 0) >= min_count:
            return g
    fail("no group of >= %d with a frame in %s; groups: %s" % (min_count, function,
         [(g.get("count"), g.get("state"), [f.get("function") for f in g.get("frames", [])][:4])
          for g in runtime.get("groups", [])]))
PY

check "a restricted session of the Go service completes and decrypts" session_completes s-go stacks-go
go_goroutines() {
  PYTHONPATH=$work python3 - "$work/s-go.json" <<'PY'
import sys
from runtime import runtime_of, group_with, fail
doc, go = runtime_of(sys.argv[1], "go")
workers = group_with(go, "main.receiveWork", 100)
if workers.get("state") != "chan receive":
    fail("the workers' state is %s, not 'chan receive'" % workers.get("state"))
mutex = group_with(go, "main.lockShared")
if mutex.get("state") != "sync.Mutex.Lock":
    fail("the mutex waiter's state is %s" % mutex.get("state"))
frame = [f for f in workers["frames"] if f.get("function") == "main.receiveWork"][0]
if not str(frame.get("file", "")).endswith("parked.go") or not isinstance(frame.get("line"), int):
    fail("main.receiveWork has no parked.go:line: %s" % frame)
if go.get("freezeMicros") != 0 or go.get("method") != "memory":
    fail("Go was not read from memory without a stop: %s %s" % (go.get("method"), go.get("freezeMicros")))
print("%s: %d goroutines, %d workers in chan receive at %s:%d" % (go.get("version"), go.get("count"),
      workers["count"], frame["file"], frame["line"]))
PY
}
check "Go: the 100 workers are one group in chan receive at main.receiveWork (parked.go:line), no stop" go_goroutines

check "a restricted session of the Python service completes and decrypts" session_completes s-python stacks-python
python_threads() {
  PYTHONPATH=$work python3 - "$work/s-python.json" <<'PY'
import sys
from runtime import runtime_of, group_with, fail
doc, py = runtime_of(sys.argv[1], "python")
workers = group_with(py, "wait_for_work", 20)
sleeper = group_with(py, "sleep_here")
if not any("middle_" in f.get("function", "") for f in sleeper["frames"]):
    fail("the sleeper's caller frames are missing: %s" % sleeper["frames"])
if py.get("freezeMicros") != 0:
    fail("Python was stopped: %s" % py.get("freezeMicros"))
print("python %s: %d threads, %d workers in wait_for_work" % (py.get("version"), py.get("count"), workers["count"]))
PY
}
check "Python: the 20 workers are one group in wait_for_work, the sleeper's nested frames are there" python_threads

check "a restricted session of the Java service completes and decrypts" session_completes s-java stacks-java
java_threads() {
  PYTHONPATH=$work python3 - "$work/s-java.json" <<'PY'
import sys
from runtime import runtime_of, group_with, fail
doc, java = runtime_of(sys.argv[1], "java")
if java.get("method") != "attach":
    fail("method is %s, not attach" % java.get("method"))
group_with(java, "Parked.worker", 20)
deadlocks = java.get("deadlocks") or fail("no deadlock reported; degraded: %s" % doc.get("degraded"))
members = sorted(deadlocks[0].get("members", []))
if members != ["deadlock-a", "deadlock-b"]:
    fail("the deadlock's members are %s" % members)
print("java %s: %d threads, deadlock between %s" % (java.get("version"), java.get("count"), members))
PY
}
check "Java: through the attach mechanism, the deadlock-a/deadlock-b deadlock and the 20 workers grouped" java_threads

java_log_clean() {
  local log
  log=$(as admin -n team-a logs "${pods[stacks-java]}" -c app 2>&1) || { echo "$log"; return 1; }
  if grep -q "Full thread dump" <<<"$log"; then
    echo "the JVM printed a thread dump into its log (plaintext in the node's log files)"; return 1
  fi
}
check "the Java pod's log has no thread dump (the attach answered on its socket, not on stdout)" java_log_clean

# The ptrace profile adds the native frames of the same threads: a Python member's tid has a
# native stack in threads[], inside the interpreter's eval loop.
python_with_native_frames() {
  # debugprofiles is not a served resource, only an RBAC name, so the Role is written out.
  as admin -n team-a apply -f - >/dev/null <<'YAML'
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: e2e-runtimes-ptrace, namespace: team-a}
rules:
- {apiGroups: [ephemera.dev], resources: [debugprofiles], resourceNames: [ptrace], verbs: [use]}
YAML
  as admin -n team-a delete rolebinding e2e-runtimes-alice-ptrace --ignore-not-found >/dev/null
  as admin -n team-a create rolebinding e2e-runtimes-alice-ptrace --role=e2e-runtimes-ptrace \
    --user=alice >/dev/null
  local deadline=$((SECONDS + 20)) session_made=""
  while [ $SECONDS -lt $deadline ]; do
    if session_completes s-python-ptrace stacks-python ptrace 2>/dev/null; then session_made=yes; break; fi
    as alice -n team-a delete debugsession s-python-ptrace --ignore-not-found --wait=true >/dev/null 2>&1 || true
    sleep 1
  done
  [ -n "$session_made" ] || { echo "the ptrace session did not complete within 20 s of the grant"; return 1; }
  PYTHONPATH=$work python3 - "$work/s-python-ptrace.json" <<'PY'
import sys
from runtime import runtime_of, group_with, fail
doc, py = runtime_of(sys.argv[1], "python")
workers = group_with(py, "wait_for_work", 20)
tids = [m.get("tid") for m in workers.get("members", []) if isinstance(m.get("tid"), int)]
native = {t.get("tid"): t.get("stack", {}) for p in doc["processes"] for t in p.get("threads", [])}
stacks = [native.get(t) for t in tids if native.get(t, {}).get("frames")]
if not stacks:
    fail("no worker tid %s has a native stack; degraded: %s" % (tids, doc.get("degraded")))
symbols = [f.get("symbol", "") for f in stacks[0]["frames"]]
if not any("EvalFrame" in s or "PyEval" in s for s in symbols):
    fail("the worker's native stack is not in the interpreter: %s" % symbols)
print("worker tid %d: %d native frames, e.g. %s" % (tids[0], len(stacks[0]["frames"]),
      [s for s in symbols if "Eval" in s][:1]))
PY
}
check "with the ptrace profile, a Python worker's tid also has its native frames (in the eval loop)" \
  python_with_native_frames

report_shows_frames() {
  mkdir -p "$work/home"
  HOME=$work/home XDG_CONFIG_HOME='' EPHEMERA_IDENTITY=$work/alice.key \
    KUBECONFIG=$("$cluster" kubeconfig alice) "$cli" -n team-a fetch s-go -o text \
    >"$work/s-go.txt" 2>"$work/s-go.err" ||
    { echo "kubectl-ephemera fetch failed:"; cat "$work/s-go.err"; return 1; }
  grep -q "main.receiveWork" "$work/s-go.txt" || { echo "no main.receiveWork in the report:"; head -40 "$work/s-go.txt"; return 1; }
}
check "the plugin's text report of the Go snapshot shows main.receiveWork" report_shows_frames

[ "$failed" -eq 0 ]
