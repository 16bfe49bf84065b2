#!/usr/bin/env bash
# Builds the local images the cluster needs, with the local Docker engine (nothing is pulled: every image
# starts FROM scratch and holds static binaries built here).
#   images.sh build   build any image whose inputs changed
#   images.sh list    print the image names
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build_dir=${EPHEMERA_IMAGE_BUILD_DIR:-$repo/build/release}

images=(ephemera.local/pause:1.0 ephemera.local/target:0.1.0 ephemera.local/kubectl:0.1.0)

log() { echo "images: $*" >&2; }

build_binaries() {
  if [ ! -f "$build_dir/build.ninja" ]; then
    log "configuring the release build in $build_dir"
    cmake --preset release >/dev/null
  fi
  local out
  out=$(cmake --build "$build_dir" --target ephemera-pause ephemera-target 2>&1) || { echo "$out" >&2; exit 1; }
}

# docker_build IMAGE DOCKERFILE FILE... : builds IMAGE from a context holding only FILEs.
docker_build() {
  local image=$1 dockerfile=$2; shift 2
  local ctx out status=0
  ctx=$(mktemp -d)
  cp "$dockerfile" "$ctx/Dockerfile"
  cp "$@" "$ctx/"
  out=$(docker build -q -t "$image" "$ctx" 2>&1) || status=$?
  rm -rf "$ctx"
  if [ $status -ne 0 ]; then log "docker build of $image failed:"; echo "$out" >&2; exit 1; fi
}

build() {
  command -v docker >/dev/null || { log "error: docker is needed to build images"; exit 1; }
  build_binaries
  local kubectl; kubectl=$("$here/cluster.sh" kubectl-path)
  docker_build ephemera.local/pause:1.0 "$here/pause/Dockerfile" "$build_dir/tests/cluster/ephemera-pause"
  docker_build ephemera.local/target:0.1.0 "$repo/tests/target/Dockerfile" "$build_dir/tests/target/ephemera-target"
  docker_build ephemera.local/kubectl:0.1.0 "$here/kubectl.Dockerfile" "$kubectl"
}

case "${1:-}" in
  build) build ;;
  list) printf '%s\n' "${images[@]}" ;;
  *) echo "usage: images.sh build|list" >&2; exit 2 ;;
esac
