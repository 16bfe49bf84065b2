#!/usr/bin/env bash
# `make run`: the controller on this host against the local cluster, in the foreground (Ctrl-C stops
# it). It runs as user ephemera-controller with the RBAC the chart grants, serves its admission
# webhooks at the node address, and unregisters them when it stops.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build/dev}
controller=$build_dir/controller/ephemera-controller
[ -x "$controller" ] || { echo "run: $controller is not built; run 'make build'" >&2; exit 1; }
# shellcheck source=tests/e2e/host_controller.sh
source tests/e2e/host_controller.sh
host_controller_install
host_controller_register_webhooks
trap host_controller_unregister_webhooks EXIT
echo "run: /metrics on https://127.0.0.1:$host_controller_metrics_port/metrics (self-signed; a token of" \
  "ephemera-system/metrics-scraper: kubectl -n ephemera-system create token metrics-scraper)," \
  "/healthz and /readyz on http://127.0.0.1:$host_controller_probe_port; Ctrl-C stops" >&2
# shellcheck disable=SC2046
"$controller" $(host_controller_args) &
host_controller_pid=$!
trap 'kill -TERM $host_controller_pid 2>/dev/null || true' INT TERM
wait "$host_controller_pid" || true
wait "$host_controller_pid" 2>/dev/null || true
