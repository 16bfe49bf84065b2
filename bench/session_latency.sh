#!/usr/bin/env bash
# Session latency on the local cluster: DebugSession create -> Completed for 1, 10 and 100
# concurrent sessions, against a baseline measured in the same run: the same capture done by hand
# with `kubectl debug` (as admin; the same snapshot image pinned by digest, the same command and args
# as Ephemera's container, --target=app, --profile=restricted with the session's user) followed by
# `kubectl logs`. Prints p50/p90/p99 and the ratio of the p50s, then where the time goes for one
# session. A benchmark: it prints figures, it does not pass or fail on them.
#
#   flock -o /tmp/ephemera-cluster.lock bench/session_latency.sh [--levels 1,10,100] [--timeout SECS]
#     [--single-rounds R] [--json FILE]
# --json FILE writes each level's p50/p90/p99 per method (seconds) for bench/plot_bars.py.
# Level 1 is measured R times (default 5), one session after the other, Ephemera and baseline
# alternating, so that its percentiles have more than one sample; the other levels once.
#
# The controller runs on this host as in the end-to-end tests (tests/e2e/host_controller.sh), from
# build/release (or EPHEMERA_CONTROLLER_BIN). Sessions are spread over at
# most 10 target pods per level, fresh for each level and each method, so no pod gets more than
# ~10 ephemeral containers. Timing (bench/session_latency.py): start = just before the one
# `kubectl create -f` of all the level's sessions (baseline: just before each `kubectl debug`); end =
# when a `kubectl get -w --output-watch-events -o json` stream first shows phase Completed (baseline:
# when `kubectl logs` returns, started as soon as the pod's watch shows the container terminated).
# Everything it creates carries the label bench.ephemera.dev/run and is deleted on exit.
# EPHEMERA_BENCH_KEEP=DIR keeps the run's files (controller log, audit trail, timings) in DIR.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cluster=$repo/tests/cluster/cluster.sh
levels=1,10,100
timeout_secs=420
single_rounds=5
json_out=
while [ $# -gt 0 ]; do
  case $1 in
    --json) json_out=$2; shift 2 ;;
    --levels) levels=$2; shift 2 ;;
    --timeout) timeout_secs=$2; shift 2 ;;
    --single-rounds) single_rounds=$2; shift 2 ;;
    *) echo "usage: $0 [--levels 1,10,100] [--timeout SECS] [--single-rounds R] [--json FILE]" >&2; exit 2 ;;
  esac
done

log() { echo "latency: $*"; }
bench_prefix=lat
# shellcheck source=bench/cluster_bench_lib.sh
source "$here/cluster_bench_lib.sh"
kubectl_bin=$("$cluster" kubectl-path 2>/dev/null)
admin_kc=$("$cluster" kubeconfig admin 2>/dev/null)
alice_kc=$("$cluster" kubeconfig alice 2>/dev/null)
helper=$here/session_latency.py
containerd_socket=$("$cluster" containerd-socket)
# The ctr of the node's containerd, for its task events (session_latency.py).
CTR=$("$cluster" ctr-path)
export CTR

cleanup() {
  local code=$?
  set +e
  log "cleaning up (sessions, controller, pods of run $run_id)"
  bench_clean_up_run 120
  if [ -n "${EPHEMERA_BENCH_KEEP:-}" ]; then
    mkdir -p "$EPHEMERA_BENCH_KEEP" && cp -r "$work"/. "$EPHEMERA_BENCH_KEEP"/ && log "kept the run's files in $EPHEMERA_BENCH_KEEP"
  fi
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT

echo "latency: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
cp "$controller_src" "$work/ephemera-controller"
log "controller: $controller_src (copied); snapshot image $("$cluster" image-ref ephemera.local/snapshot:0.1.0 2>/dev/null)"
host_controller_install
host_controller_start "$work/ephemera-controller" "$work/controller.log" "$work/audit.log"
age-keygen -o "$work/alice.key" 2>/dev/null
recipient=$(age-keygen -y "$work/alice.key")

controller_cpu_ticks() { sed 's/.*) //' "/proc/$host_controller_pid/stat" | awk '{print $12 + $13}'; }

pods_for() { # count -> pod count
  if [ "$1" -lt 10 ]; then echo "$1"; else echo 10; fi
}

session_manifest() { # group round level pods
  local group=$1 round=$2 level=$3 pods=$4 i
  for i in $(seq 1 "$level"); do
    cat <<YAML
---
apiVersion: ephemera.dev/v1alpha1
kind: DebugSession
metadata:
  name: $group-r$round-s$i
  namespace: $ns
  labels: {bench.ephemera.dev/run: $run_id, bench.ephemera.dev/group: $group, bench.ephemera.dev/round: "$round"}
spec:
  target: {pod: $group-$(( (i - 1) % pods + 1 )), container: app}
  reason: "BENCH-7 session latency"
  ttl: 15m
  profile: restricted
  capture: [process, threads, stacks, fds, sockets, maps, limits, cgroup, env]
  recipients: ["$recipient"]
YAML
  done
}

# The first session's ephemeral container, as Ephemera built it: the baseline copies image and args.
container_spec_of() { # session
  local ec pod
  ec=$(as admin -n "$ns" get debugsession "$1" -o jsonpath='{.status.ephemeralContainer}')
  pod=$(as admin -n "$ns" get debugsession "$1" -o jsonpath='{.spec.target.pod}')
  as admin -n "$ns" get pod "$pod" -o json | python3 -c '
import json, sys
name = sys.argv[1]
pod = json.load(sys.stdin)
spec = next(c for c in pod["spec"]["ephemeralContainers"] if c["name"] == name)
status = next((c for c in pod["status"].get("ephemeralContainerStatuses", []) if c["name"] == name), {})
json.dump({"spec": spec, "status": status}, sys.stdout)' "$ec"
}

debug_jobs() { # group round level pods spec-file custom-file
  # The tool is told its target's container ID (--container-id): each baseline pod's own.
  as admin -n "$ns" get pods -l "bench.ephemera.dev/group=$1" -o json >"$work/$1-pods.json"
  python3 - "$@" "$kubectl_bin" "$admin_kc" "$ns" "$work/$1-pods.json" <<'PY'
import json, sys
group, rnd, level, pods, spec_file, custom, kubectl, admin, ns, pods_file = sys.argv[1:]
spec = json.load(open(spec_file))["spec"]
target = spec["targetContainerName"]
container_ids = {}
for item in json.load(open(pods_file))["items"]:
    for status in item.get("status", {}).get("containerStatuses", []):
        if status.get("name") == target and status.get("containerID"):
            container_ids[item["metadata"]["name"]] = status["containerID"].split("://")[-1]
jobs = []
for i in range(1, int(level) + 1):
    pod = f"{group}-{(i - 1) % int(pods) + 1}"
    name = f"{group}-r{rnd}-c{i}"
    args = list(spec["args"])
    if "--container-id" in args:
        args[args.index("--container-id") + 1] = container_ids[pod]
    argv = ["--kubeconfig", admin, "-n", ns, "debug", pod, "--image", spec["image"],
            "--target", target, "--profile", "restricted", "--custom", custom,
            "-c", name, "--", *spec["command"], *args]
    jobs.append({"pod": pod, "container": name, "argv": argv})
json.dump(jobs, sys.stdout)
PY
}

spec_file=$work/ephemera-container.json
table=$work/table.txt
breakdown_session=
IFS=, read -r -a level_list <<<"$levels"
# ratio A B: A/B as '1.23x', or '-' when either is missing.
ratio() { python3 -c 'import sys; a, b = sys.argv[1:]; print(f"{float(a)/float(b):.2f}x" if a != "-" and b != "-" else "-")' "$1" "$2"; }

for level in "${level_list[@]}"; do
  pods=$(pods_for "$level")
  log "level $level: $level sessions over $pods fresh target pods ($([ "$level" -eq 1 ] && echo "$single_rounds rounds, one after the other" || echo "one round")) (load average $(cut -d' ' -f1 /proc/loadavg))"
  eph=eph$level-$run_id
  dbg=dbg$level-$run_id
  rounds=1
  [ "$level" -ne 1 ] || rounds=$single_rounds
  bench_make_pods "$eph" "$pods"
  bench_make_pods "$dbg" "$pods"
  : >"$work/$eph.lat"
  : >"$work/$dbg.lat"
  cpu_used=0
  for round in $(seq 1 "$rounds"); do
    # Ephemera: all the level's sessions in one `kubectl create -f`.
    tag=$eph-r$round
    session_manifest "$eph" "$round" "$level" "$pods" >"$work/$tag.yaml"
    cpu_before=$(controller_cpu_ticks)
    python3 "$helper" sessions "$kubectl_bin" "$admin_kc" "$alice_kc" "$ns" \
      "bench.ephemera.dev/group=$eph,bench.ephemera.dev/round=$round" "$work/$tag.yaml" "$level" \
      "$timeout_secs" "$work/$tag.json" "bench.ephemera.dev/group=$eph" "$containerd_socket" ||
      log "level $level: not every session ended (figures below cover those that did)"
    cpu_used=$(awk -v u="$cpu_used" -v a="$cpu_before" -v b="$(controller_cpu_ticks)" -v t="$(getconf CLK_TCK)" \
      'BEGIN {printf "%.2f", u + (b - a) / t}')
    python3 - "$work/$tag.json" >>"$work/$eph.lat" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for name, phases in sorted(doc["sessions"].items()):
    if "Completed" in phases:
        print(phases["Completed"])
    else:
        print(f"latency: {name} did not complete: {phases}", file=sys.stderr)
PY
    first=$tag-s1
    if [ ! -f "$spec_file" ]; then
      container_spec_of "$first" >"$spec_file"
      uid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["spec"]["securityContext"].get("runAsUser",""))' "$spec_file")
      gid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["spec"]["securityContext"].get("runAsGroup",""))' "$spec_file")
      # --profile=restricted sets runAsNonRoot, drops ALL capabilities, no privilege escalation and
      # RuntimeDefault seccomp; the session's container also runs as the target's user with a
      # read-only root filesystem.
      printf '{"securityContext": {"runAsUser": %s, "runAsGroup": %s, "readOnlyRootFilesystem": true}}\n' \
        "$uid" "$gid" >"$work/custom.json"
      log "baseline command: kubectl debug POD --image $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["spec"]["image"])' "$spec_file") --target app --profile restricted --custom $(cat "$work/custom.json") -- $(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["spec"]; print(" ".join(s["command"] + [a if len(a) < 40 else a[:20] + "…" for a in s["args"]]))' "$spec_file")"
      breakdown_session=$first
      cp "$work/$tag.json" "$work/breakdown-times.json"
      container_spec_of "$first" >"$work/breakdown-container.json"
    fi

    # Baseline: the same number of `kubectl debug` + `kubectl logs`, all started at once.
    debug_jobs "$dbg" "$round" "$level" "$pods" "$spec_file" "$work/custom.json" >"$work/$dbg-r$round-jobs.json"
    python3 "$helper" debug "$kubectl_bin" "$admin_kc" "$ns" "bench.ephemera.dev/group=$dbg" \
      "$work/$dbg-r$round-jobs.json" "$timeout_secs" "$work/$dbg-r$round.json" ||
      log "level $level: not every kubectl debug capture ended (figures below cover those that did)"
    python3 - "$work/$dbg-r$round.json" >>"$work/$dbg.lat" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for name, r in sorted(doc.items()):
    if r.get("latency") is not None and r.get("exitCode") == 0 and r.get("logBytes", 0) > 0:
        print(r["latency"])
    else:
        print(f"latency: baseline {name} failed: {r}", file=sys.stderr)
PY
  done
  python3 - "$level" "$cpu_used" "$work/$eph"-r*.json >>"$work/phases.txt" <<'PY'
import json, math, sys
level, cpu, files = sys.argv[1], sys.argv[2], sys.argv[3:]
sessions = [p for f in files for p in json.load(open(f))["sessions"].values()]
cells = []
for phase in ("Pending", "Injecting", "Capturing", "Completed"):
    values = sorted(p[phase] for p in sessions if phase in p)
    cells.append(f"{values[max(1, math.ceil(0.5 * len(values))) - 1]:.2f}" if values else "-")
print(f"| {level} | " + " | ".join(cells) + f" | {cpu} |")
PY
  python3 - "$level" "$work/$eph"-r*.json >>"$work/stages.txt" <<'PY'
import json, math, sys
level, files = sys.argv[1], sys.argv[2:]
stages = {k: [] for k in ("start", "run", "report", "react")}
for f in files:
    doc = json.load(open(f))
    for phases in doc["sessions"].values():
        c = doc.get("containers", {}).get(phases.get("container", ""), {})
        task = doc.get("tasks", {}).get(c.get("id", ""), {})
        pairs = {"start": (phases.get("Capturing"), task.get("start")),
                 "run": (task.get("start"), task.get("exit")),
                 "report": (task.get("exit"), c.get("terminated")),
                 "react": (c.get("terminated"), phases.get("Completed"))}
        for key, (a, b) in pairs.items():
            if a is not None and b is not None:
                stages[key].append(b - a)
def cell(values):
    if not values:
        return "-"
    values.sort()
    rank = lambda q: values[max(1, math.ceil(q * len(values))) - 1]
    return f"{rank(0.5):.3f} / {rank(0.9):.3f}"
print(f"| {level} | {len(stages['react'])} | " + " | ".join(cell(stages[k]) for k in stages) + " |")
PY
  read -r en ep50 ep90 ep99 < <(python3 "$helper" stats "$work/$eph.lat")
  read -r dn dp50 dp90 dp99 < <(python3 "$helper" stats "$work/$dbg.lat")
  printf '| %s | %s/%s | %s | %s | %s | %s/%s | %s | %s | %s | %s | %s |\n' "$level" "$en" "$((level * rounds))" "$ep50" \
    "$ep90" "$ep99" "$dn" "$((level * rounds))" "$dp50" "$dp90" "$dp99" "$(ratio "$ep50" "$dp50")" \
    "$(ratio "$ep90" "$dp90")" >>"$table"
  for row in "ephemera $en $ep50 $ep90 $ep99" "kubectl-debug $dn $dp50 $dp90 $dp99"; do
    echo "$level $row" >>"$work/json-rows"
  done
  log "level $level done: Ephemera p50 ${ep50}s, kubectl debug p50 ${dp50}s; removing its sessions and pods"
  as admin -n "$ns" delete debugsessions -l "bench.ephemera.dev/group=$eph" --timeout=180s >/dev/null ||
    log "level $level: sessions not yet released"
  as admin -n "$ns" delete pods -l "bench.ephemera.dev/group in ($eph,$dbg)" --grace-period=0 --force --wait=false >/dev/null 2>&1
done

echo
echo "Session latency, create -> Completed (seconds; nearest-rank percentiles), load average now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| concurrent | Ephemera n | p50 | p90 | p99 | kubectl debug n | p50 | p90 | p99 | p50 ratio | p90 ratio |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
cat "$table"
if [ -n "$json_out" ]; then
  python3 - "$work/json-rows" "$json_out" <<'PY'
import json, sys
rows = []
for line in open(sys.argv[1]):
    level, method, n, p50, p90, p99 = line.split()
    number = lambda v: None if v == "-" else float(v)
    rows.append({"concurrent": int(level), "method": method.replace("-", " "), "n": int(n),
                 "p50_s": number(p50), "p90_s": number(p90), "p99_s": number(p99)})
json.dump(rows, open(sys.argv[2], "w"), indent=1)
PY
  log "rows written to $json_out"
fi

echo
echo "Ephemera: p50 of when each phase was first seen (seconds after the create call)"
echo "| concurrent | Pending | Injecting | Capturing | Completed | controller CPU s (whole level) |"
echo "|---:|---:|---:|---:|---:|---:|"
cat "$work/phases.txt"

echo
echo "Ephemera: where the time goes after injection, p50 / p90 seconds (containerd's task events, a pod watch)"
echo "| concurrent | n | phase Capturing seen -> tool started | tool ran | tool exited -> pod shows it terminated (the kubelet's relist) | pod shows it terminated -> phase Completed seen |"
echo "|---:|---:|---:|---:|---:|---:|"
cat "$work/stages.txt"

if [ -n "$breakdown_session" ]; then
  echo
  echo "Where the time goes for $breakdown_session (seconds after the create call; controller log 'Session step' lines are written when a step ends):"
  python3 - "$work/breakdown-times.json" "$work/controller.log" "$work/breakdown-container.json" "$ns/$breakdown_session" <<'PY'
import datetime, json, sys
times, log_path, container_path, key = sys.argv[1:]
doc = json.load(open(times))
start = doc["start"]
rows = []
name = key.split("/")[1]
for phase, t in doc["sessions"].get(name, {}).items():
    if isinstance(t, (int, float)):
        rows.append((t, f"watch: phase {phase} seen"))
def epoch(stamp):
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
for line in open(log_path, errors="replace"):
    line = line.strip()
    if not line.startswith("{"):
        continue
    try:
        rec = json.loads(line)
    except json.JSONDecodeError:
        continue
    if rec.get("msg") == "Session step" and rec.get("debugsession") == key:
        rows.append((epoch(rec["ts"]) - start, f"controller: {rec.get('action')} {rec.get('outcome')}"))
container = json.load(open(container_path))
ec_name = container["spec"]["name"]
for state, t in doc.get("containers", {}).get(ec_name, {}).items():
    if state != "id":
        rows.append((t, f"watch: the pod shows the snapshot container {state}"))
ec_id = container["status"].get("containerID", "").split("://")[-1]
for kind, t in doc.get("tasks", {}).get(ec_id, {}).items():
    rows.append((t, f"containerd: the tool's process {'started' if kind == 'start' else 'exited'}"))
state = container["status"].get("state", {}).get("terminated", {})
for field, what in (("startedAt", "kubelet: snapshot container started"),
                    ("finishedAt", "kubelet: snapshot container finished")):
    if state.get(field):
        # RFC 3339 seconds: the moment lies in [t, t + 1); listed at the latest it can be.
        low = epoch(state[field]) - start
        order = 1e-6 if field == "finishedAt" else 0  # started before finished in the same second
        rows.append((low + 1 + order, f"{what} (by; whole seconds: between {low:.2f} and {low + 1:.2f})"))
completed = doc["sessions"].get(name, {}).get("Completed", float("inf"))
previous = 0.0
for t, what in sorted(rows):
    if t > completed + 1:
        continue  # later steps (the wipe when the bench deletes the session)
    print(f"  {t:7.3f}  (+{t - previous:6.3f})  {what}")
    previous = t
PY
fi
