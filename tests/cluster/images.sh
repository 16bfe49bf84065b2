#!/usr/bin/env bash
# Builds the local images the cluster needs, with the local Docker engine. Nothing is pulled: every
# image starts FROM scratch and holds binaries built here (static, or with the shared libraries they
# link copied beside them).
#   images.sh build   build the images (Docker reuses unchanged layers)
#   images.sh list    print the image names
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build_dir=${EPHEMERA_IMAGE_BUILD_DIR:-$repo/build/release}

images=(ephemera.local/pause:1.0 ephemera.local/target:0.1.0 ephemera.local/kubectl:0.1.0
  ephemera.local/snapshot:0.1.0 ephemera.local/controller:0.1.0)

log() { echo "images: $*" >&2; }

build_binaries() {
  if [ ! -f "$build_dir/build.ninja" ]; then
    log "configuring the release build in $build_dir"
    cmake --preset release >/dev/null
  fi
  local out
  out=$(cmake --build "$build_dir" --target ephemera-pause ephemera-target ephemera-snapshot \
    ephemera-controller 2>&1) ||
    { echo "$out" >&2; exit 1; }
}

# docker_build IMAGE DOCKERFILE PATH... : builds IMAGE from a context holding only the PATHs.
docker_build() {
  local image=$1 dockerfile=$2; shift 2
  local ctx out status=0
  ctx=$(mktemp -d)
  cp "$dockerfile" "$ctx/Dockerfile"
  cp -r "$@" "$ctx/"
  out=$(docker build -q -t "$image" "$ctx" 2>&1) || status=$?
  rm -rf "$ctx"
  if [ $status -ne 0 ]; then log "docker build of $image failed:"; echo "$out" >&2; exit 1; fi
}

# docker_build_with_libs IMAGE DOCKERFILE BINARY [strip-debug] : the binary at /, plus the shared
# libraries it links (as ldd resolves them on this machine) at their paths, in a context folder named
# rootfs/. strip-debug drops the binary's debug sections (the controller: 63 MB -> 2.6 MB).
docker_build_with_libs() {
  local image=$1 dockerfile=$2 binary=$3
  local staging lib
  staging=$(mktemp -d)
  mkdir -p "$staging/rootfs"
  cp "$binary" "$staging/rootfs/"
  if [ "${4:-}" = strip-debug ]; then strip --strip-debug "$staging/rootfs/$(basename "$binary")"; fi
  for lib in $(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/lib64\// {print $1}'); do
    mkdir -p "$staging/rootfs$(dirname "$lib")"
    cp -L "$lib" "$staging/rootfs$lib"
  done
  docker_build "$image" "$dockerfile" "$staging/rootfs"
  rm -rf "$staging"
}

build_all() {
  command -v docker >/dev/null || { log "error: docker is needed to build images"; exit 1; }
  build_binaries
  local kubectl; kubectl=$("$here/cluster.sh" kubectl-path)
  docker_build ephemera.local/pause:1.0 "$here/pause/Dockerfile" "$build_dir/tests/cluster/ephemera-pause"
  docker_build ephemera.local/target:0.1.0 "$repo/tests/target/Dockerfile" "$build_dir/tests/target/ephemera-target"
  docker_build ephemera.local/kubectl:0.1.0 "$here/kubectl.Dockerfile" "$kubectl"
  docker_build_with_libs ephemera.local/snapshot:0.1.0 "$repo/debugpod/Dockerfile" \
    "$build_dir/debugpod/snapshot/ephemera-snapshot"
  docker_build_with_libs ephemera.local/controller:0.1.0 "$repo/controller/Dockerfile" \
    "$build_dir/controller/ephemera-controller" strip-debug
}

case "${1:-}" in
  build) build_all ;;
  list) printf '%s\n' "${images[@]}" ;;
  *) echo "usage: images.sh build|list" >&2; exit 2 ;;
esac
