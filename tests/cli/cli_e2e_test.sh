#!/usr/bin/env bash
# End-to-end test of kubectl-ephemera on the local cluster (ctest label: integration), used as a
# person would: alice takes snapshots of a running workload and reads the reports; bob and carol
# get clear refusals; an expired session says its snapshot was wiped.
#
# The controller runs on this host (tests/e2e/host_controller.sh). The cluster is shared: run this
# under `flock -o /tmp/ephemera-cluster.lock`; it leaves the cluster as it found it (its controller
# stopped, its sessions, deployment and grant deleted).
#
#   cli_e2e_test.sh BUILD_DIR     (needs BUILD_DIR/cli/kubectl-ephemera and
#                                  BUILD_DIR/controller/ephemera-controller)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build_dir=$(cd "${1:?usage: cli_e2e_test.sh BUILD_DIR}" && pwd)
cluster=$repo/tests/cluster/cluster.sh
cli=$build_dir/cli/kubectl-ephemera
controller_bin=$build_dir/controller/ephemera-controller
work=$(mktemp -d)
ns=team-a
label=app.kubernetes.io/created-by=kubectl-ephemera

# Ports of our own, so a controller someone runs by hand on the defaults does not clash.
export EPHEMERA_METRICS_PORT=${EPHEMERA_METRICS_PORT:-18180}
export EPHEMERA_WEBHOOK_PORT=${EPHEMERA_WEBHOOK_PORT:-19543}
# shellcheck source=tests/e2e/host_controller.sh
source "$repo/tests/e2e/host_controller.sh"
# check, as (kubectl as a person), passed/failed counters.
# shellcheck source=tests/e2e/e2e_lib.sh
source "$repo/tests/e2e/e2e_lib.sh"

fail_setup() { echo "cli-e2e: $*" >&2; failed=$((failed + 1)); exit 1; }
log() { echo "cli-e2e: $*"; }

"$cluster" status >/dev/null 2>&1 || fail_setup "the local cluster is not up (run 'make cluster-up')"
[ -x "$cli" ] || fail_setup "$cli is not built (cmake --build BUILD_DIR --target kubectl-ephemera)"
[ -x "$controller_bin" ] || fail_setup "$controller_bin is not built"
kubectl_bin=$("$cluster" kubectl-path)

# Each person has a home of their own (their identity lives there) and their own kubeconfig.
ephemera() { # user args... : kubectl-ephemera as that user
  local user=$1; shift
  mkdir -p "$work/home/$user"
  HOME=$work/home/$user XDG_CONFIG_HOME='' EPHEMERA_IDENTITY='' \
    KUBECONFIG=$("$cluster" kubeconfig "$user") "$cli" "$@"
}

cleanup() {
  log "cleaning up"
  as admin -n "$ns" delete debugsessions -l "$label" --wait=false >/dev/null 2>&1 || true
  if [ -n "$host_controller_pid" ] && kill -0 "$host_controller_pid" 2>/dev/null; then
    # Let the controller remove its finalizers before it stops.
    for _ in $(seq 1 40); do
      [ -z "$(as admin -n "$ns" get debugsessions -l "$label" -o name 2>/dev/null)" ] && break
      sleep 0.5
    done
    host_controller_stop || log "the controller needed SIGKILL"
  fi
  host_controller_unregister_webhooks
  host_controller_forget_mark_key
  # Sessions whose finalizer nobody removed (the controller died): release them by hand.
  for s in $(as admin -n "$ns" get debugsessions -l "$label" -o name 2>/dev/null); do
    as admin -n "$ns" patch "$s" --type=merge -p '{"metadata":{"finalizers":[]}}' >/dev/null 2>&1 || true
  done
  as admin -n "$ns" delete deployment cli-e2e-target --ignore-not-found >/dev/null 2>&1 || true
  as admin -n "$ns" delete rolebinding cli-e2e-alice-ptrace --ignore-not-found >/dev/null 2>&1 || true
  as admin -n "$ns" delete role cli-e2e-ptrace --ignore-not-found >/dev/null 2>&1 || true
  if [ "$failed" -ne 0 ] && [ -f "$work/controller.log" ]; then
    echo "--- controller log (last 30 lines)"; tail -n 30 "$work/controller.log"
  fi
  rm -rf "$work"
  echo "$passed passed, $failed failed"
}
finish() {
  local code=$?
  cleanup
  [ "$failed" -eq 0 ] && exit "$code" || exit 1
}
trap finish EXIT

# expect_exit CODE FILE_PREFIX user args... : runs kubectl-ephemera, keeps stdout/stderr in
# FILE_PREFIX.out/.err, fails unless it exits with CODE.
expect_exit() {
  local want=$1 prefix=$2; shift 2
  local got=0
  ephemera "$@" >"$prefix.out" 2>"$prefix.err" || got=$?
  if [ "$got" -ne "$want" ]; then
    echo "exit $got, wanted $want; stderr:"; cat "$prefix.err"; return 1
  fi
}
show() { # file : what the person saw on stderr, for the test log
  if [ -s "$1" ]; then sed 's/^/    | /' "$1"; fi
}
contains() { # file text
  grep -qF -- "$2" "$1" || { echo "'$2' not in $1:"; head -c 3000 "$1"; echo; return 1; }
}

# --- Setup: the controller on this host, the workload, alice's ptrace grant -----------------------
log "starting the controller on this host (ports $EPHEMERA_METRICS_PORT, $EPHEMERA_WEBHOOK_PORT)"
host_controller_install
# Its log (stderr) and its audit trail (stdout, JSON lines) apart: audit verify reads the trail.
host_controller_start "$controller_bin" "$work/controller.log" "$work/audit.jsonl" ||
  fail_setup "the controller did not start"

log "starting the target workload in $ns"
target_image=$("$cluster" image-ref ephemera.local/target:0.1.0)
as alice -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: cli-e2e-target}
spec:
  replicas: 1
  selector: {matchLabels: {app: cli-e2e-target}}
  template:
    metadata: {labels: {app: cli-e2e-target}}
    spec:
      securityContext: {runAsUser: 1000, runAsGroup: 1000}
      containers:
      - name: app
        image: $target_image
        args: ["--threads", "4"]
        env:
        - {name: API_TOKEN, value: "ghp_cliE2eTokenValue0123456789abcdefABCDE"}
YAML
as alice -n "$ns" rollout status deployment/cli-e2e-target --timeout=90s >/dev/null
pod=$(as alice -n "$ns" get pods -l app=cli-e2e-target -o jsonpath='{.items[0].metadata.name}')

# --- 1. keys ----------------------------------------------------------------------------------------
keys_creates_a_private_identity() {
  ephemera alice keys >"$work/keys.out" 2>"$work/keys.err"
  local recipient; recipient=$(cat "$work/keys.out")
  [[ $recipient =~ ^age1[02-9ac-hj-np-z]{58}$ ]] || { echo "not a recipient: $recipient"; return 1; }
  local file=$work/home/alice/.config/ephemera/identity.txt
  [ "$(stat -c %a "$file")" = 600 ] || { echo "identity mode $(stat -c %a "$file")"; return 1; }
  [ "$(stat -c %a "$(dirname "$file")")" = 700 ] || { echo "dir mode wrong"; return 1; }
  [ "$(ephemera alice keys --show)" = "$recipient" ]
  # Nothing secret on the terminal.
  ! grep -q AGE-SECRET-KEY "$work/keys.out" "$work/keys.err"
}
check "keys creates alice's identity (file 0600, directory 0700) and prints only its recipient" \
  keys_creates_a_private_identity

# --- 2. a session the controller denies: exit 6 and the reason --------------------------------------
snapshot_denied_says_why() {
  # alice has no grant for the ptrace profile yet: admission lets the session in, the controller's
  # SubjectAccessReview for alice denies it.
  expect_exit 6 "$work/denied" alice -n "$ns" snapshot "$pod" -c app --profile ptrace \
    --reason "CLI-E2E before the ptrace grant" --ttl 5m --name cli-e2e-denied || return 1
  contains "$work/denied.err" "session cli-e2e-denied was denied" || return 1
  contains "$work/denied.err" "alice may not use debugprofiles/ptrace" || return 1
  # Nothing was injected for it.
  [ -z "$(as admin -n "$ns" get pod "$pod" -o jsonpath='{.spec.ephemeralContainers[*].name}')" ] ||
    { echo "a container was injected"; return 1; }
}
check "snapshot of a session the controller denies exits 6 and says why (ptrace not granted)" \
  snapshot_denied_says_why
show "$work/denied.err"

# debugprofiles is only an RBAC name (not a served resource), so the Role is written out.
as admin -n "$ns" apply -f - >/dev/null <<'YAML'
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: cli-e2e-ptrace}
rules:
- {apiGroups: [ephemera.dev], resources: [debugprofiles], resourceNames: [ptrace], verbs: [use]}
YAML
as admin -n "$ns" create rolebinding cli-e2e-alice-ptrace --role=cli-e2e-ptrace --user=alice >/dev/null
# The grant reaches the authorizer's cache within moments; wait for it, so the next session is not
# denied for a stale cache.
for _ in $(seq 1 20); do
  [ "$(as alice -n "$ns" auth can-i use debugprofiles.ephemera.dev/ptrace 2>/dev/null)" = yes ] && break
  sleep 0.5
done


# --- 3. snapshot: progress, text report with the target's threads and functions --------------------
snapshot_prints_a_report() {
  expect_exit 0 "$work/ptrace" alice -n "$ns" snapshot "$pod" -c app --profile ptrace \
    --reason "CLI-E2E checking the checkout service" --ttl 5m --name cli-e2e-ptrace || return 1
  for step in "Authorized" "Injecting ephemeral container into pod $pod" "Capturing" "Completed in"; do
    contains "$work/ptrace.err" "$step" || return 1
  done
  for name in checkout-0 orders-1 acceptor SleepInCheckoutLoop; do
    contains "$work/ptrace.out" "$name" || return 1
  done
  ! grep -q "ghp_cliE2eTokenValue" "$work/ptrace.out" "$work/ptrace.err"
}
check "snapshot shows progress on stderr and prints a text report with the target's threads and functions" \
  snapshot_prints_a_report
show "$work/ptrace.err"
if [ -s "$work/ptrace.out" ]; then
  echo "    the report's first lines:"; head -n 25 "$work/ptrace.out" | sed 's/^/    | /'
fi

json_decrypts() {
  expect_exit 0 "$work/json" alice -n "$ns" fetch cli-e2e-ptrace -o json || return 1
  python3 - "$work/json.out" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["apiVersion"] == "ephemera.dev/snapshot/v1", doc.get("apiVersion")
names = {t.get("name") for p in doc["processes"] for t in p.get("threads", [])}
assert {"checkout-0", "orders-1", "acceptor"} <= names, names
PY
}
check "fetch -o json prints the decrypted snapshot document" json_decrypts

# A short-lived session for the expiry check below (30s is the CRD's minimum TTL).
short_snapshot() {
  expect_exit 0 "$work/short" alice -n "$ns" snapshot "$pod" \
    --reason "CLI-E2E short lived session" --ttl 30s --capture process,threads || return 1
  contains "$work/short.out" "checkout-0"
}
check "a restricted snapshot with --ttl 30s and --capture completes (generated name)" short_snapshot
short_name=$(as admin -n "$ns" get debugsessions -l "$label" \
  -o jsonpath='{.items[?(@.spec.ttl=="30s")].metadata.name}' 2>/dev/null || true)

# The log pull: a session with capture [logs] that the controller fills with the redacted log.
# The target never restarted: its previous instance is not read, which is not an error.
logs_prints_the_redacted_log() {
  expect_exit 0 "$work/logs" alice -n "$ns" logs "$pod" -c app --name cli-e2e-logs --tail 100 \
    --since 1h --reason "CLI-E2E read the target's log" || return 1
  contains "$work/logs.err" "Completed in" &&
    contains "$work/logs.err" "== current instance (restart count 0" || return 1
  # The target never restarted: there is no previous instance to read, and none is shown.
  if grep -qF "== previous instance" "$work/logs.err"; then
    echo "a previous instance is shown for a container that never restarted"; return 1
  fi
  if grep -qF "ghp_cliE2eTokenValue" "$work/logs.out" "$work/logs.err"; then
    echo "the target's API_TOKEN value is in the logs output"; return 1
  fi
  [ "$(as admin -n "$ns" get debugsession cli-e2e-logs -o jsonpath='{.spec.capture}')" = '["logs"]' ] ||
    { echo "capture is not [logs]"; return 1; }
  python3 -c 'import json,sys; l=json.loads(sys.argv[1]); assert l=={"tailLines":100,"since":"1h"}, l' \
    "$(as admin -n "$ns" get debugsession cli-e2e-logs -o jsonpath='{.spec.logs}')" || return 1
  expect_exit 0 "$work/logsjson" alice -n "$ns" logs "$pod" -c app --no-previous -o json \
    --reason "CLI-E2E read the target's log as JSON" || return 1
  python3 - "$work/logsjson.out" <<'PY'
import json, sys
logs = json.load(open(sys.argv[1]))
assert logs["container"] == "app", logs.get("container")
assert [i["instance"] for i in logs["instances"]] == ["current"], logs["instances"]
PY
}
check "logs prints the container's redacted log (headers on stderr), sends only the bounds given, -o json" \
  logs_prints_the_redacted_log
show "$work/logs.err"

# --- 4. list, get, fetch -o html ------------------------------------------------------------------
list_shows_sessions() {
  expect_exit 0 "$work/list" alice -n "$ns" list || return 1
  contains "$work/list.out" "NAME" && contains "$work/list.out" "EXPIRES-IN" &&
    grep -E "^cli-e2e-ptrace +Completed +$pod/app +alice " "$work/list.out" >/dev/null &&
    contains "$work/list.out" "$short_name"
}
check "list shows the sessions with phase, target and requester" list_shows_sessions

get_shows_status() {
  expect_exit 0 "$work/get" alice -n "$ns" get cli-e2e-ptrace || return 1
  contains "$work/get.out" "Phase:       Completed" && contains "$work/get.out" "Requester:   alice" &&
    contains "$work/get.out" "Snapshot:    sha256:" && contains "$work/get.out" "Authorized=True" &&
    contains "$work/get.out" "Expires in:" || return 1
  expect_exit 0 "$work/getjson" alice -n "$ns" get cli-e2e-ptrace -o json || return 1
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"]["phase"]=="Completed"' \
    "$work/getjson.out"
}
check "get shows phase, requester, conditions, snapshot digest and time left (and -o json)" get_shows_status

fetch_writes_html() {
  expect_exit 0 "$work/html" alice -n "$ns" fetch cli-e2e-ptrace -o html -f "$work/report.html" || return 1
  [ -s "$work/report.html" ] || { echo "no html written"; return 1; }
  [ "$(stat -c %a "$work/report.html")" = 600 ] || { echo "report mode $(stat -c %a "$work/report.html")"; return 1; }
  contains "$work/report.html" "<html" && contains "$work/report.html" "checkout-0"
  [ ! -s "$work/html.out" ] || { echo "stdout should be empty with -f"; return 1; }
}
check "fetch -o html -f FILE writes one HTML file with mode 0600" fetch_writes_html

as_kubectl_plugin() {
  # kubectl runs kubectl-ephemera from PATH for `kubectl ephemera …`, passing the flags through.
  PATH=$build_dir/cli:$PATH HOME=$work/home/alice "$kubectl_bin" ephemera \
    --kubeconfig "$("$cluster" kubeconfig alice)" -n "$ns" get cli-e2e-ptrace >"$work/plugin.out" 2>&1 &&
    contains "$work/plugin.out" "Name:        cli-e2e-ptrace"
}
check "kubectl finds it as a plugin: kubectl ephemera get" as_kubectl_plugin

completes_in_kubectl_and_bash() {
  # kubectl's own plugin completion, through kubectl_complete-ephemera beside the binary.
  local got
  got=$(PATH=$build_dir/cli:$PATH "$kubectl_bin" __complete ephemera snapshot "$pod" --profile "" 2>/dev/null)
  [ "$got" = "$(printf 'restricted\nptrace\n:4')" ] || { echo "kubectl completed --profile as: $got"; return 1; }
  got=$(PATH=$build_dir/cli:$PATH "$kubectl_bin" __complete ephemera li 2>/dev/null | head -n 1)
  [ "$got" = list ] || { echo "kubectl completed 'li' as: $got"; return 1; }
  # The bash script, driven the way bash drives it.
  got=$(PATH=$build_dir/cli:$PATH bash -c 'source <(kubectl-ephemera completion bash)
    COMP_WORDS=(kubectl-ephemera list -o ""); COMP_CWORD=3; _kubectl_ephemera
    printf "%s " "${COMPREPLY[@]}"')
  [ "$got" = "text json yaml wide " ] || { echo "bash completed 'list -o' as: $got"; return 1; }
}
check "kubectl ephemera <TAB> completes through kubectl_complete-ephemera, and the bash script completes too" \
  completes_in_kubectl_and_bash

# --- 5. logging in like kubectl, printing like kubectl get ------------------------------------------
# alice's kubeconfig taken apart the way people keep theirs: the cluster and context in one file,
# the user (certificate files named relative to it) in another directory's file.
alice_kc=$("$cluster" kubeconfig alice)
kc_field() { "$kubectl_bin" --kubeconfig "$alice_kc" config view --raw --flatten --minify -o jsonpath="$1"; }
mkdir -p "$work/kc/clusters" "$work/kc/users"
kc_field '{.users[0].user.client-certificate-data}' | base64 -d >"$work/kc/users/alice.crt"
kc_field '{.users[0].user.client-key-data}' | base64 -d >"$work/kc/users/alice.key"
chmod 600 "$work/kc/users/alice.key"
kc_server=$(kc_field '{.clusters[0].cluster.server}')
kc_ca=$(kc_field '{.clusters[0].cluster.certificate-authority-data}')
cat >"$work/kc/clusters/config" <<YAML
apiVersion: v1
kind: Config
current-context: local-alice
clusters:
- name: local
  cluster: {server: "$kc_server", certificate-authority-data: "$kc_ca"}
contexts:
- name: local-alice
  context: {cluster: local, user: alice, namespace: $ns}
YAML
cat >"$work/kc/users/config" <<'YAML'
apiVersion: v1
kind: Config
current-context: nowhere
users:
- name: alice
  user: {client-certificate: alice.crt, client-key: alice.key}
YAML

merged_kubeconfig_files() {
  # From another directory, with an empty entry and a file that does not exist in the list, and
  # without the flag: $KUBECONFIG decides, as for kubectl.
  (cd / && HOME=$work/home/alice \
    KUBECONFIG=":$work/kc/clusters/config:$work/kc/missing:$work/kc/users/config" \
    "$cli" list) >"$work/merged.out" 2>"$work/merged.err" ||
    { echo "exit $?:"; cat "$work/merged.err"; return 1; }
  grep -E "^cli-e2e-ptrace +Completed +$pod/app +alice " "$work/merged.out" >/dev/null ||
    { echo "not in the list:"; cat "$work/merged.out"; return 1; }
}
check "KUBECONFIG with two files (cluster in one, user with relative certificate paths in another) is merged like kubectl's" \
  merged_kubeconfig_files

# An exec credential plugin that logs in the way OIDC and SSO helpers do: it asks on the terminal,
# then hands over alice's certificate.
cat >"$work/kc/users/login.sh" <<'SH'
#!/bin/sh
printf 'password for the local cluster: ' >&2
IFS= read -r answer || exit 4
[ "$answer" = "open sesame" ] || exit 5
here=$(cd "$(dirname "$0")" && pwd)
exec python3 -c '
import json, sys
cert, key = (open(p).read() for p in sys.argv[1:3])
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {"clientCertificateData": cert, "clientKeyData": key}}))
' "$here/alice.crt" "$here/alice.key"
SH
chmod +x "$work/kc/users/login.sh"
# Its context and user only: the cluster comes from the first file, merged in front of it.
cat >"$work/kc/users/exec-config" <<YAML
apiVersion: v1
kind: Config
contexts:
- name: local-exec
  context: {cluster: local, user: sso, namespace: $ns}
users:
- name: sso
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./login.sh
      interactiveMode: IfAvailable
YAML
# Runs ARGS on a pseudo-terminal, answers the plugin's prompt after 1.5 s (past nothing: a person
# may take minutes), prints what the terminal showed; exit 0 only if it answered and ARGS exited 0.
cat >"$work/at_a_terminal.py" <<'PY'
import os, pty, select, signal, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
seen, answered, deadline = b"", False, time.time() + 60
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.5)
    if ready:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    if not answered and b"password for the local cluster:" in seen:
        time.sleep(1.5)
        os.write(fd, b"open sesame\n")
        answered = True
done, status = os.waitpid(pid, os.WNOHANG)
if done == 0:  # still running at the deadline: it is hung, and a hang is a failure
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
ok = answered and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
sys.exit(0 if ok else 1)
PY

exec_plugin_prompts_on_the_terminal() {
  HOME=$work/home/alice KUBECONFIG=$work/kc/clusters/config:$work/kc/users/exec-config \
    python3 "$work/at_a_terminal.py" "$cli" --context local-exec list >"$work/exec.out" ||
    { echo "the prompting plugin's login failed:"; cat "$work/exec.out"; return 1; }
  grep -E "cli-e2e-ptrace +Completed +$pod/app +alice " "$work/exec.out" >/dev/null ||
    { echo "not in the list:"; cat "$work/exec.out"; return 1; }
  # No terminal: the plugin gets no input, fails, and the person is told which plugin failed.
  local code=0
  HOME=$work/home/alice KUBECONFIG=$work/kc/clusters/config:$work/kc/users/exec-config \
    "$cli" --context local-exec list </dev/null >"$work/noterm.out" 2>"$work/noterm.err" || code=$?
  [ "$code" -eq 3 ] || { echo "exit $code without a terminal, wanted 3"; cat "$work/noterm.err"; return 1; }
  contains "$work/noterm.err" "login.sh\" exited with code 4"
}
check "an exec plugin that prompts gets the person's terminal and time; without a terminal it fails clearly" \
  exec_plugin_prompts_on_the_terminal
show "$work/noterm.err"

through_a_proxy() {
  # proxy-url: requests go through an HTTP proxy's CONNECT tunnel; TLS stays end to end.
  local port=18998 proxy_pid server
  server=$(kc_field '{.clusters[0].cluster.server}')
  python3 "$here/connect_proxy.py" "$port" "$work/proxy.log" &
  proxy_pid=$!
  sed "s|^  cluster: {server: |  cluster: {proxy-url: \"http://127.0.0.1:$port\", server: |" \
    "$work/kc/clusters/config" >"$work/kc/clusters/proxied"
  sleep 0.5
  local code=0
  HOME=$work/home/alice KUBECONFIG=$work/kc/clusters/proxied:$work/kc/users/config "$cli" list \
    >"$work/proxied.out" 2>"$work/proxied.err" || code=$?
  kill "$proxy_pid" 2>/dev/null; wait "$proxy_pid" 2>/dev/null || true
  [ "$code" -eq 0 ] || { echo "exit $code through the proxy:"; cat "$work/proxied.err"; return 1; }
  grep -E "^cli-e2e-ptrace +Completed " "$work/proxied.out" >/dev/null || { cat "$work/proxied.out"; return 1; }
  grep -qx "CONNECT ${server#https://} HTTP/1.1" "$work/proxy.log" ||
    { echo "the proxy saw no CONNECT to ${server#https://}:"; cat "$work/proxy.log"; return 1; }
  # With the proxy gone, the error says so.
  code=0
  HOME=$work/home/alice KUBECONFIG=$work/kc/clusters/proxied:$work/kc/users/config "$cli" list \
    >/dev/null 2>"$work/noproxy.err" || code=$?
  [ "$code" -eq 3 ] && contains "$work/noproxy.err" "proxy"
}
check "a kubeconfig's proxy-url takes the requests through an HTTP proxy's CONNECT tunnel" through_a_proxy
show "$work/noproxy.err"

ttl_left_to_the_policy() {
  # The logs session above gave no --ttl: admission filled in the policy's defaultTtl.
  contains "$work/logs.err" "(ttl 5m, the cluster's default" || return 1
  expect_exit 0 "$work/getyaml" alice -n "$ns" get cli-e2e-logs -o yaml || return 1
  contains "$work/getyaml.out" "kind: DebugSession" && contains "$work/getyaml.out" "  ttl: 5m" &&
    contains "$work/getyaml.out" "  phase: Completed"
}
check "without --ttl the session takes the cluster policy's defaultTtl (5m here); get -o yaml" \
  ttl_left_to_the_policy

list_all_namespaces_wide() {
  expect_exit 0 "$work/all" admin list -A -o wide || return 1
  contains "$work/all.out" "NAMESPACE" && contains "$work/all.out" "EPHEMERAL-CONTAINER" || return 1
  grep -E "^$ns +cli-e2e-ptrace +Completed .* ptrace +ephemera-[0-9a-f]+ +CLI-E2E checking the checkout service" \
    "$work/all.out" >/dev/null || { echo "no wide row for cli-e2e-ptrace:"; cat "$work/all.out"; return 1; }
  expect_exit 0 "$work/alljson" admin list -A -o json || return 1
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["kind"]=="List" and any(i["metadata"]["name"]=="cli-e2e-ptrace" for i in d["items"]) else "not a List with cli-e2e-ptrace")' \
    "$work/alljson.out" || return 1
  # alice may list only in her namespace.
  expect_exit 4 "$work/alicea" alice list -A || return 1
  contains "$work/alicea.err" "may not list debugsessions.ephemera.dev"
}
check "list -A -o wide (admin) shows every namespace with profile, container and reason; -o json is a List; alice is refused -A" \
  list_all_namespaces_wide

# --- 6. refusals and clear errors -------------------------------------------------------------------
bob_has_no_rights() {
  expect_exit 4 "$work/bob" bob -n "$ns" snapshot "$pod" --reason "CLI-E2E bob tries too" || return 1
  contains "$work/bob.err" "no rights: you (bob) may not create debugsessions.ephemera.dev in namespace $ns" &&
    contains "$work/bob.err" "ask an administrator of namespace $ns"
}
check "bob (view only) is told he may not create debugsessions in team-a, exit 4" bob_has_no_rights
show "$work/bob.err"

carol_cannot_list() {
  expect_exit 4 "$work/carol" carol -n "$ns" list || return 1
  contains "$work/carol.err" "may not list debugsessions.ephemera.dev in namespace $ns"
}
check "carol (no rights) cannot list, exit 4" carol_cannot_list
show "$work/carol.err"

wrong_identity_is_named() {
  local mine; mine=$(ephemera alice keys --show)
  mkdir -p "$work/other"
  local other
  other=$(EPHEMERA_IDENTITY=$work/other/id.txt HOME=$work/home/alice \
    KUBECONFIG=$("$cluster" kubeconfig alice) "$cli" keys 2>/dev/null)
  local got=0
  EPHEMERA_IDENTITY=$work/other/id.txt HOME=$work/home/alice KUBECONFIG=$("$cluster" kubeconfig alice) \
    "$cli" -n "$ns" fetch cli-e2e-ptrace >"$work/wrong.out" 2>"$work/wrong.err" || got=$?
  [ "$got" -eq 9 ] || { echo "exit $got"; cat "$work/wrong.err"; return 1; }
  contains "$work/wrong.err" "this snapshot is encrypted to $mine, your identity is $other"
}
check "fetch with another identity says which recipient the snapshot is for, exit 9" wrong_identity_is_named
show "$work/wrong.err"

insecure_identity_refused() {
  local file=$work/home/alice/.config/ephemera/identity.txt
  chmod 644 "$file"
  local got=0
  ephemera alice -n "$ns" fetch cli-e2e-ptrace >"$work/mode.out" 2>"$work/mode.err" || got=$?
  chmod 600 "$file"
  [ "$got" -eq 9 ] || { echo "exit $got"; cat "$work/mode.err"; return 1; }
  contains "$work/mode.err" "chmod 600 $file"
}
check "an identity file others can read is refused with 'chmod 600 …', exit 9" insecure_identity_refused
show "$work/mode.err"

not_found_is_clear() {
  expect_exit 5 "$work/nf1" alice -n "$ns" get no-such-session || return 1
  contains "$work/nf1.err" "debugsessions.ephemera.dev no-such-session not found in namespace $ns" || return 1
  expect_exit 5 "$work/nf2" alice -n "$ns" snapshot no-such-pod --reason "CLI-E2E a pod that is not there" || return 1
  contains "$work/nf2.err" "pod no-such-pod not found in namespace $ns" || return 1
  expect_exit 5 "$work/nf3" alice -n "$ns" snapshot "$pod" -c nope --reason "CLI-E2E a container that is not there" || return 1
  contains "$work/nf3.err" "has no container nope (it has: app)"
}
check "missing session, pod or container: one clear sentence, exit 5" not_found_is_clear
show "$work/nf3.err"

unreachable_cluster_is_clear() {
  sed -E 's#server: .*#server: https://127.0.0.1:1#' "$("$cluster" kubeconfig alice)" >"$work/dead.kubeconfig"
  local got=0
  "$cli" --kubeconfig "$work/dead.kubeconfig" -n "$ns" list >/dev/null 2>"$work/dead.err" || got=$?
  [ "$got" -eq 3 ] || { echo "exit $got"; cat "$work/dead.err"; return 1; }
  contains "$work/dead.err" "cannot reach the cluster at https://127.0.0.1:1" &&
    contains "$work/dead.err" "is the cluster up, and is --kubeconfig right?"
}
check "an unreachable API server is named, with what to check, exit 3" unreachable_cluster_is_clear
show "$work/dead.err"

# --- 6. expiry ---------------------------------------------------------------------------------------
expired_fetch_says_wiped() {
  [ -n "$short_name" ] || { echo "the short session was not created"; return 1; }
  local deadline=$((SECONDS + 90)) phase=
  while [ $SECONDS -lt $deadline ]; do
    phase=$(as alice -n "$ns" get debugsession "$short_name" -o jsonpath='{.status.phase}')
    [ "$phase" = Expired ] && break
    sleep 1
  done
  [ "$phase" = Expired ] || { echo "session $short_name is $phase after 90s"; return 1; }
  expect_exit 8 "$work/expired" alice -n "$ns" fetch "$short_name" || return 1
  contains "$work/expired.err" "session $short_name expired at" &&
    contains "$work/expired.err" "its snapshot was wiped then, so there is nothing to fetch"
}
check "fetching an expired session says its snapshot was wiped, exit 8" expired_fetch_says_wiped
show "$work/expired.err"

# --- 7. audit verify, anchored at the heads the sessions record ------------------------------------
audit_trail_verifies() {
  # Every session of ours has settled (Completed or Expired), so each chain ends at its recorded
  # head. The namespace is shared: only our sessions are anchored, and a chain this controller
  # continued for someone else's session (begun before our trail) is accepted as partial.
  local sessions=(--session cli-e2e-ptrace --session "$short_name")
  expect_exit 0 "$work/audit" alice -n "$ns" audit verify "$work/audit.jsonl" --allow-partial \
    "${sessions[@]}" || { cat "$work/audit.out"; return 1; }
  contains "$work/audit.err" "Anchoring 2 session chain(s) at the heads recorded in namespace $ns" ||
    return 1
  # Drop the newest record of one session's chain: the file alone still looks consistent, the anchor
  # from the DebugSession's status.audit does not.
  local uid; uid=$(as alice -n "$ns" get debugsession cli-e2e-ptrace -o jsonpath='{.metadata.uid}')
  python3 - "$work/audit.jsonl" "session/$uid" >"$work/cut.jsonl" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
last = max(i for i, l in enumerate(lines) if json.loads(l).get("chain") == sys.argv[2])
sys.stdout.write("".join(l + "\n" for i, l in enumerate(lines) if i != last))
PY
  expect_exit 1 "$work/cut" alice -n "$ns" audit verify "$work/cut.jsonl" --allow-partial \
    "${sessions[@]}"
}
check "audit verify checks the controller's trail against each session's recorded head, and catches a cut chain" \
  audit_trail_verifies

[ "$failed" -eq 0 ]
