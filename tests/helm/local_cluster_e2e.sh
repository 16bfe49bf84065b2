#!/usr/bin/env bash
# The chart's end-to-end suite against the local cluster, exactly as kind-e2e/run.sh --kubeconfig runs
# it elsewhere: the admin kubeconfig, people's own kubeconfigs (alice, bob), and the images that
# `cluster.sh up` built and loaded, pinned by digest (ctest: helm.chart_e2e, label integration).
#
#   local_cluster_e2e.sh [KUBECTL_EPHEMERA]   the plugin alice runs (ctest passes the one it built;
#                                             default build/dev/cli/kubectl-ephemera)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cli=${1:-$repo/build/dev/cli/kubectl-ephemera}
cluster=$repo/tests/cluster/cluster.sh
"$cluster" status >/dev/null 2>&1 || { echo "chart-e2e: the local cluster is not up (run 'make cluster-up')" >&2; exit 1; }
admin_kubeconfig=$("$cluster" kubeconfig admin)
set -x
exec "$repo/kind-e2e/run.sh" --kubeconfig "$admin_kubeconfig" \
  --users-dir "$(dirname "$admin_kubeconfig")" \
  --controller-image "$("$cluster" image-ref ephemera.local/controller:0.1.0)" \
  --snapshot-image "$("$cluster" image-ref ephemera.local/snapshot:0.1.0)" \
  --target-image ephemera.local/target:0.1.0 \
  --kubectl "$("$cluster" kubectl-path)" --helm "$("$cluster" helm-path)" --cli "$cli" \
  --webhook-client-ca "$("$cluster" pki-path)/webhook-client-ca.crt" --webhook-client-name kube-apiserver-admission
