#!/usr/bin/env bash
# `make demo`'s build: Kubernetes, Helm and containerd (Go, hack/build-kube.sh) and the C++ release
# build of the programs the demo's images hold (tests/cluster/images.sh binaries), side by side.
# Each leaves a core idle at times (Go links one binary at a time; CMake configures on one core),
# and the other fills it. `make cluster-up` then finds both built and only makes the images.
# Reads EPHEMERA_CLUSTER_IMAGES and EPHEMERA_EXTRA_BUILD_TARGETS as images.sh does.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)

# In a session of its own, so that a failure of the C++ build can stop the whole Go build with it.
setsid "$here/build-kube.sh" >/dev/null &
kube=$!
# shellcheck disable=SC2086 # a space-separated list of image names
if ! "$repo/tests/cluster/images.sh" binaries ${EPHEMERA_CLUSTER_IMAGES:-}; then
  kill -- "-$kube" 2>/dev/null || true
  wait "$kube" 2>/dev/null || true
  echo "demo-build: the C++ release build failed (above); the Kubernetes build was stopped" >&2
  exit 1
fi
wait "$kube" || { echo "demo-build: building Kubernetes failed (above)" >&2; exit 1; }
