#!/usr/bin/env bash
# Ephemera's end-to-end suite (tests/helm/chart_e2e_test.sh: install the chart, debug a pod as alice
# with a DebugSession and with the kubectl plugin, metrics through the chart's Service, refusals,
# upgrade, uninstall) on a kind cluster, or on any cluster you point it at.
#
#   run.sh [--keep]                  create the kind cluster of cluster.yaml, build the images kind
#                                    needs (controller, snapshot, target: tests/cluster/images.sh) and
#                                    kubectl-ephemera, load the images with `kind load docker-image`,
#                                    run the suite, delete the cluster (--keep leaves it running for a
#                                    look afterwards)
#   run.sh --kubeconfig PATH [suite options]
#                                    run the same suite against an existing cluster whose nodes
#                                    already have the images; suite options (see chart_e2e_test.sh):
#                                    --users-dir DIR, --controller-image REF, --snapshot-image REF,
#                                    --target-image REF, --kubectl PATH, --helm PATH, --cli PATH
#
# kind must be able to pull its node image (cluster.yaml), so a machine with no registry access
# cannot create the cluster: there, `make test` runs the same suite against the local cluster.
# On kind, alice and bob are impersonated from the admin kubeconfig (kubectl --as alice --as-group
# system:authenticated); the plugin, which refuses impersonation, runs with a client certificate
# the cluster signs for alice. The suite grants them edit/view in team-a from
# tests/cluster/identities.yaml. On failure it prints the controller logs, Events and DebugSession
# statuses.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
suite=$repo/tests/helm/chart_e2e_test.sh
cluster_name=ephemera-e2e
# The images kind needs, by their tests/cluster/images.sh names (no pause, no kubectl: kind has its
# own, and the kubectl image would need the local Kubernetes build).
image_names=(controller snapshot target)
build_dir=${EPHEMERA_IMAGE_BUILD_DIR:-$repo/build/release}

log() { echo "kind-e2e: $*" >&2; }
die() { echo "kind-e2e: error: $*" >&2; exit 1; }

if [ "${1:-}" = "--kubeconfig" ]; then
  [ -f "${2:-}" ] || die "--kubeconfig needs the path of an existing kubeconfig"
  log "running the suite against the cluster of $2"
  exec "$suite" "$@"
fi

keep=false
case "${1:-}" in
  "") ;;
  --keep) keep=true ;;
  *) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac

# --- Preconditions: kind, Docker and kind's node image --------------------------------------------
command -v kind >/dev/null ||
  die "kind is not installed (https://kind.sigs.k8s.io); or run the suite on an existing cluster: $0 --kubeconfig PATH ..."
{ command -v docker >/dev/null && docker info >/dev/null 2>&1; } || die "kind needs a running Docker engine"
node_image=$(awk '$1 == "image:" {print $2; exit}' "$here/cluster.yaml")
if ! docker image inspect "$node_image" >/dev/null 2>&1; then
  log "kind's node image $node_image is not in the local Docker engine; pulling it"
  docker pull "$node_image" >/dev/null 2>&1 ||
    die "cannot pull kind's node image $node_image (no registry reachable?). Pull or load it where one is, or run the suite on an existing cluster: $0 --kubeconfig PATH ..."
fi
kind get clusters 2>/dev/null | grep -qx "$cluster_name" &&
  die "a kind cluster named $cluster_name exists already; delete it with 'kind delete cluster --name $cluster_name'"

for tool in kubectl helm; do # the suite takes them from 'make kube', else from PATH
  path=$("$repo/tests/cluster/cluster.sh" "$tool-path" 2>/dev/null || true)
  [ -x "$path" ] || command -v "$tool" >/dev/null || die "$tool is needed: on PATH, or built by 'make kube'"
done

# Build before creating the cluster: a build error then costs no cluster start.
log "building the images ${image_names[*]} (tests/cluster/images.sh, release build in $build_dir)"
EPHEMERA_IMAGE_BUILD_DIR=$build_dir "$repo/tests/cluster/images.sh" build "${image_names[@]}"
mapfile -t images < <("$repo/tests/cluster/images.sh" list "${image_names[@]}")
log "building kubectl-ephemera in $build_dir"
cmake --build "$build_dir" --target kubectl-ephemera >/dev/null || die "building kubectl-ephemera failed"
cli=$build_dir/cli/kubectl-ephemera

work=$(mktemp -d)
kubeconfig=$work/kubeconfig
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  if [ "$keep" = true ]; then
    log "kept the cluster: KUBECONFIG=$kubeconfig (delete it with 'kind delete cluster --name $cluster_name')"
  else
    log "deleting the kind cluster $cluster_name"
    kind delete cluster --name "$cluster_name" >/dev/null 2>&1 || true
    rm -rf "$work"
  fi
}
trap cleanup EXIT

log "creating the kind cluster $cluster_name from cluster.yaml"
kind create cluster --config "$here/cluster.yaml" --kubeconfig "$kubeconfig" --wait 180s

# Load each image, then name it by digest on the node as well (as cluster.sh load-image does), so the
# digest-pinned references the chart and the controller use resolve without a registry.
node=$cluster_name-control-plane
pinned=()
for image in "${images[@]}"; do
  log "loading $image into $node"
  kind load docker-image --name "$cluster_name" "$image" >/dev/null
  digest=$(docker exec "$node" ctr -n k8s.io images ls | awk -v ref="docker.io/$image" -v short="$image" \
    '$1 == ref || $1 == short {print $3; exit}')
  [ -n "$digest" ] || die "the node does not list $image after loading it"
  ref=$(docker exec "$node" ctr -n k8s.io images ls -q | grep -m1 -xE "(docker.io/)?${image//./\\.}") ||
    die "the node does not list $image by name after loading it"
  docker exec "$node" ctr -n k8s.io images tag --force "$ref" "${ref%:*}@$digest" >/dev/null
  pinned+=("${image%:*}@$digest")
done

log "running the suite"
status=0
"$suite" --kubeconfig "$kubeconfig" --cli "$cli" \
  --controller-image "${pinned[0]}" --snapshot-image "${pinned[1]}" --target-image "${images[2]}" || status=$?
if [ "$status" -ne 0 ]; then
  log "the suite failed; node logs: kind export logs --name $cluster_name (run with --keep to look around)"
fi
exit "$status"
