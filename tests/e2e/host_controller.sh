#!/usr/bin/env bash
# Runs ephemera-controller on this host against the local cluster, as `make run`, `make demo` and the
# host-run end-to-end test do: CRDs and the controller's RBAC applied, its own identity (user
# ephemera-controller), admission webhooks served over HTTPS at the node address with a certificate
# from the cluster CA, the snapshot image pinned by digest.
#
# Source it, then:
#   host_controller_install            CRDs, namespace, RBAC
#   host_controller_start BIN LOGFILE [AUDITFILE]
#                                      start in the background (sets host_controller_pid), wait
#                                      ready; logs (stderr) to LOGFILE, the audit trail (stdout) to
#                                      AUDITFILE, both appended (default: LOGFILE, overwritten)
#   host_controller_stop               SIGTERM, wait; unregister the webhooks
#   host_controller_args               the flags (for running in the foreground)
#   host_controller_register_ephemeral_webhook
#                                      also send pods/ephemeralcontainers to the controller
#   host_controller_forget_mark_key    delete the mark key it created (at the end of a run, so that
#                                      a Helm install finds the namespace as it was)
#   host_controller_metrics [PORT]     /metrics (HTTPS, self-signed) as ServiceAccount
#                                      ephemera-system/metrics-scraper, bound to the metrics-reader
#                                      role; fails unless answered 200
#   host_controller_metrics_code PORT [SERVICEACCOUNT]
#                                      the HTTP status of GET /metrics with a token of
#                                      ephemera-system/SERVICEACCOUNT, or without a token
# Ports: EPHEMERA_PROBE_PORT (/healthz, /readyz over HTTP; default 18080), EPHEMERA_METRICS_PORT
# (/metrics over HTTPS; default 18443), EPHEMERA_WEBHOOK_PORT (default 19443).
# EPHEMERA_CONTROLLER_EXTRA_ARGS: more flags (e.g. --ephemeral-containers=enforce).
# EPHEMERA_SNAPSHOT_IMAGE: the snapshot image (default: the local ephemera-snapshot, by digest).

_hc_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_hc_repo=$(cd "$_hc_dir/../.." && pwd)
_hc_cluster=$_hc_repo/tests/cluster/cluster.sh
# shellcheck source=tests/e2e/crd_wait.sh
source "$_hc_dir/crd_wait.sh"
host_controller_probe_port=${EPHEMERA_PROBE_PORT:-18080}
host_controller_metrics_port=${EPHEMERA_METRICS_PORT:-18443}
host_controller_webhook_port=${EPHEMERA_WEBHOOK_PORT:-19443}
host_controller_pid=

_hc_admin() { "$("$_hc_cluster" kubectl-path)" --kubeconfig "$("$_hc_cluster" kubeconfig admin)" "$@"; }

host_controller_install() {
  _hc_admin apply -f "$_hc_repo/crds/" >/dev/null
  wait_crd_established _hc_admin 30 debugsessions.ephemera.dev debugsnapshots.ephemera.dev
  _hc_admin apply -f "$_hc_dir/host-controller.yaml" >/dev/null
}

host_controller_args() {
  local certs; certs=$(mktemp -d)
  cp "$("$_hc_cluster" pki-path)/ephemera-webhook.crt" "$certs/tls.crt"
  cp "$("$_hc_cluster" pki-path)/ephemera-webhook.key" "$certs/tls.key"
  # Only the API server may call the webhooks: it presents a certificate from its own CA.
  cp "$("$_hc_cluster" pki-path)/webhook-client-ca.crt" "$certs/client-ca.crt"
  # The extra flags are words on purpose (several flags in one variable).
  # shellcheck disable=SC2086
  echo --kubeconfig "$("$_hc_cluster" kubeconfig ephemera-controller)" \
    --namespace ephemera-system \
    --snapshot-image "${EPHEMERA_SNAPSHOT_IMAGE:-$("$_hc_cluster" image-ref ephemera.local/snapshot:0.1.0)}" \
    --webhook-cert-dir "$certs" --webhook-address "0.0.0.0:$host_controller_webhook_port" \
    --webhook-client-ca-file "$certs/client-ca.crt" --webhook-client-auth require \
    --webhook-client-names kube-apiserver-admission \
    --health-probe-address "127.0.0.1:$host_controller_probe_port" \
    --metrics-address "127.0.0.1:$host_controller_metrics_port" ${EPHEMERA_CONTROLLER_EXTRA_ARGS:-}
}

host_controller_register_webhooks() {
  sed -e "s#@URL@#https://$("$_hc_cluster" node-ip):$host_controller_webhook_port#" \
    -e "s#@CA_BUNDLE@#$(base64 -w0 <"$("$_hc_cluster" pki-path)/ca.crt")#" \
    "$_hc_dir/webhooks.yaml.in" | _hc_admin apply -f - >/dev/null
}

host_controller_register_ephemeral_webhook() {
  sed -e "s#@URL@#https://$("$_hc_cluster" node-ip):$host_controller_webhook_port#" \
    -e "s#@CA_BUNDLE@#$(base64 -w0 <"$("$_hc_cluster" pki-path)/ca.crt")#" \
    "$_hc_dir/ephemeral-containers-webhook.yaml.in" | _hc_admin apply -f - >/dev/null
}

host_controller_unregister_webhooks() {
  # With failurePolicy Fail they would block every DebugSession once the controller is gone.
  _hc_admin delete validatingwebhookconfiguration ephemera-ephemeral-containers --ignore-not-found >/dev/null 2>&1 || true
  _hc_admin delete mutatingwebhookconfiguration ephemera-requester --ignore-not-found >/dev/null 2>&1 || true
  _hc_admin delete validatingwebhookconfiguration ephemera-policy --ignore-not-found >/dev/null 2>&1 || true
}

host_controller_forget_mark_key() {
  local managed
  managed=$(_hc_admin -n ephemera-system get secret ephemera-mark-key --ignore-not-found \
    -o jsonpath='{.metadata.labels.app\.kubernetes\.io/managed-by}' 2>/dev/null || true)
  if [ "$managed" = ephemera-controller ]; then
    _hc_admin -n ephemera-system delete secret ephemera-mark-key --ignore-not-found >/dev/null 2>&1 || true
  fi
}

# GET https://127.0.0.1:PORT/metrics with a token of ephemera-system/SERVICEACCOUNT ("" = none);
# curl's options come after. The token goes to curl in a file (mode 0600), never on a command line.
# The certificate is self-signed (made at start, no --metrics-cert-dir), so it is not verified.
_hc_scrape() { # port serviceaccount curl-options...
  local port=$1 account=$2 header token status=0
  shift 2
  header=$(mktemp)
  if [ -n "$account" ]; then
    token=$(_hc_admin -n ephemera-system create token "$account" --duration 10m) || status=1
    printf 'Authorization: Bearer %s\n' "${token:-}" >"$header"
  fi
  [ $status -ne 0 ] || curl -sk -H @"$header" "$@" "https://127.0.0.1:$port/metrics" || status=1
  rm -f "$header"
  return $status
}

host_controller_metrics_code() { # port [serviceaccount]
  _hc_scrape "$1" "${2:-}" -o /dev/null -w '%{http_code}'
}

host_controller_metrics() { # [port]
  _hc_scrape "${1:-$host_controller_metrics_port}" metrics-scraper -f
}

host_controller_start() { # binary logfile [auditfile]
  if curl -s -o /dev/null "http://127.0.0.1:$host_controller_probe_port/healthz"; then
    echo "port $host_controller_probe_port is taken (another ephemera-controller running?); stop it first" >&2
    return 1
  fi
  # shellcheck disable=SC2046
  if [ -n "${3:-}" ]; then
    "$1" $(host_controller_args) >>"$3" 2>>"$2" &
  else
    "$1" $(host_controller_args) >"$2" 2>&1 &
  fi
  host_controller_pid=$!
  host_controller_register_webhooks
  for _ in $(seq 1 60); do
    curl -sf "http://127.0.0.1:$host_controller_probe_port/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$host_controller_pid" 2>/dev/null || { echo "the controller exited:" >&2; tail -n 20 "$2" >&2; return 1; }
    sleep 0.5
  done
  echo "the controller did not become ready in 30s" >&2
  return 1
}

# Returns 1 when the controller needed SIGKILL (it did not stop within 10s of SIGTERM).
host_controller_stop() {
  host_controller_unregister_webhooks
  [ -n "$host_controller_pid" ] || return 0
  local status=0
  kill -TERM "$host_controller_pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$host_controller_pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$host_controller_pid" 2>/dev/null; then
    kill -KILL "$host_controller_pid" 2>/dev/null || true
    status=1
  fi
  wait "$host_controller_pid" 2>/dev/null || true
  host_controller_pid=
  return $status
}
