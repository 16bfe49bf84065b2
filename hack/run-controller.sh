#!/usr/bin/env bash
# `make run`: the controller on this host against the local cluster, in the foreground (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build/dev}
controller=$build_dir/controller/ephemera-controller
[ -x "$controller" ] || { echo "run: $controller is not built yet" >&2; exit 1; }
kubeconfig=$(tests/cluster/cluster.sh kubeconfig admin)
exec "$controller" --kubeconfig "$kubeconfig" --leader-elect=false
