#!/usr/bin/env bash
# Builds the local images the cluster needs, with the local Docker engine. Nothing is pulled: every
# image starts FROM scratch and holds binaries built here (static, or with the shared libraries they
# link copied beside them, debug sections stripped).
#   images.sh build [NAME...]   build the images (Docker reuses unchanged layers); with NAMEs only
#                               those, e.g. `images.sh build controller snapshot target` for kind,
#                               which needs neither the local Kubernetes build (kubectl) nor pause
#   images.sh list [NAME...]    print the image references (all, or those of the NAMEs, in the
#                               order given)
#   images.sh names             print the short NAMEs: pause target kubectl snapshot controller
#                               hostile-snapshot (a test stand-in for the snapshot tool that writes
#                               hostile output, tests/target/hostile_snapshot.cc) runtimes (the
#                               Go, Python and Java programs whose stacks the tests read); and,
#                               built only when named, eu-stack (bench/traffic_cluster.sh)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build_dir=${EPHEMERA_IMAGE_BUILD_DIR:-$repo/build/release}

# Short name -> image reference, in build order.
names=(pause target kubectl snapshot controller hostile-snapshot runtimes)
declare -A images=(
  [pause]=ephemera.local/pause:1.0
  [target]=ephemera.local/target:0.1.0
  [kubectl]=ephemera.local/kubectl:0.1.0
  [snapshot]=ephemera.local/snapshot:0.1.0
  [controller]=ephemera.local/controller:0.1.0
  [hostile-snapshot]=ephemera.local/hostile-snapshot:0.1.0
  [runtimes]=ephemera.local/runtimes:0.1.0
  [eu-stack]=ephemera.local/eu-stack:0.1.0
)
# Built only when asked for by name: the traffic benchmark's baseline, not used by any test.
on_demand=(eu-stack)
# Short name -> the CMake target of its program (kubectl comes from hack/build-kube.sh instead).
declare -A targets=(
  [pause]=ephemera-pause [target]=ephemera-target [snapshot]=ephemera-snapshot
  [controller]=ephemera-controller [hostile-snapshot]=ephemera-hostile-snapshot
  [runtimes]="runtimes-go-parked runtimes-jvm-parked"
)

log() { echo "images: $*" >&2; }

die() { echo "images: error: $*" >&2; exit 1; }

# EPHEMERA_EXTRA_BUILD_TARGETS: more CMake targets built in the same run (`make demo` adds the
# plugin, so that it compiles beside the images' programs instead of after them).
build_binaries() { # cmake-target...
  # shellcheck disable=SC2086 # a space-separated list of targets
  [ -z "${EPHEMERA_EXTRA_BUILD_TARGETS:-}" ] || set -- "$@" ${EPHEMERA_EXTRA_BUILD_TARGETS}
  [ $# -gt 0 ] || return 0
  if [ ! -f "$build_dir/build.ninja" ]; then
    log "configuring the release build in $build_dir"
    cmake --preset release >/dev/null
  fi
  log "building $* in $build_dir"
  local out
  out=$(cmake --build "$build_dir" --target "$@" 2>&1) || { echo "$out" >&2; die "building $* failed"; }
}

# docker_build IMAGE DOCKERFILE PATH... : builds IMAGE from a context holding only the PATHs.
docker_build() {
  local image=$1 dockerfile=$2; shift 2
  local ctx out status=0
  ctx=$(mktemp -d)
  cp "$dockerfile" "$ctx/Dockerfile"
  cp -a "$@" "$ctx/"  # -a: modes as built (the runtimes image's /tmp is 1777)
  out=$(docker build -q -t "$image" "$ctx" 2>&1) || status=$?
  rm -rf "$ctx"
  if [ $status -ne 0 ]; then log "docker build of $image failed:"; echo "$out" >&2; exit 1; fi
}

# docker_build_with_libs IMAGE DOCKERFILE BINARY : the binary at /, plus the shared libraries it
# links (as ldd resolves them on this machine) at their paths, in a context folder named rootfs/. The
# binary's debug sections are dropped (the controller: 63 MB -> 2.6 MB); its symbol table stays, so
# its own stack traces keep function names. tests/cluster/images_test.sh checks the result.
docker_build_with_libs() {
  local image=$1 dockerfile=$2 binary=$3
  local staging lib
  staging=$(mktemp -d)
  mkdir -p "$staging/rootfs"
  cp "$binary" "$staging/rootfs/"
  strip --strip-debug "$staging/rootfs/$(basename "$binary")"
  for lib in $(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/lib64\// {print $1}'); do
    mkdir -p "$staging/rootfs$(dirname "$lib")"
    cp -L "$lib" "$staging/rootfs$lib"
  done
  docker_build "$image" "$dockerfile" "$staging/rootfs"
  rm -rf "$staging"
}

# copy_with_libs ROOTFS FILE... : each FILE at its path under ROOTFS, with the shared libraries it
# links (as ldd resolves them here) at theirs.
copy_with_libs() {
  local rootfs=$1 file lib; shift
  for file in "$@"; do
    mkdir -p "$rootfs$(dirname "$file")"
    cp -L "$file" "$rootfs$file"
    for lib in $(ldd "$file" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/lib64\// {print $1}'); do
      [ -e "$rootfs$lib" ] && continue
      mkdir -p "$rootfs$(dirname "$lib")"
      cp -L "$lib" "$rootfs$lib"
    done
  done
}

# The runtimes image: the test programs of the language readers (tests/debugpod/runtimes), as a
# user would deploy them. /go-parked and /go-parked-stripped (static Go); Debian's python3.11 with
# its standard library and /parked.py; a Java 17 runtime made with jlink (java.base only: the
# attach listener is part of the VM) and /parked/Parked.class. /tmp is writable for the JVM's
# attach files. ~80 MB.
build_runtimes_image() { # image
  local image=$1 staging rootfs jdk=/usr/lib/jvm/java-17-openjdk-amd64
  local go_dir=$build_dir/tests/debugpod/runtimes/golang
  [ -x "$jdk/bin/jlink" ] || die "jlink not found in $jdk: install openjdk-17-jdk-headless (make deps)"
  [ -x /usr/bin/python3.11 ] || die "/usr/bin/python3.11 not found: install python3 (make deps)"
  staging=$(mktemp -d)
  rootfs=$staging/rootfs
  mkdir -p "$rootfs/tmp" "$rootfs/parked"
  chmod 1777 "$rootfs/tmp"
  cp "$go_dir/go-parked" "$go_dir/go-parked-stripped" "$rootfs/"
  cp "$repo/tests/debugpod/runtimes/python/parked.py" "$rootfs/parked.py"
  copy_with_libs "$rootfs" /usr/bin/python3.11
  mkdir -p "$rootfs/usr/lib/python3.11"
  (cd /usr/lib/python3.11 && tar --exclude=test --exclude=idlelib --exclude=tkinter \
    --exclude=ensurepip --exclude=lib2to3 --exclude=__pycache__ --exclude=site-packages \
    --exclude=dist-packages -cf - .) | tar -xf - -C "$rootfs/usr/lib/python3.11"
  "$jdk/bin/jlink" --add-modules java.base --output "$rootfs/jre" --strip-debug \
    --no-header-files --no-man-pages
  copy_with_libs "$rootfs" "$rootfs/jre/bin/java" "$rootfs/jre/lib/server/libjvm.so"
  cp "$build_dir/tests/debugpod/runtimes/jvm/parked_classes/Parked"*.class "$rootfs/parked/"
  docker_build "$image" "$here/runtimes.Dockerfile" "$rootfs"
  rm -rf "$staging"
}

build_image() { # short-name
  local image=${images[$1]}
  log "building $image"
  case "$1" in
    pause) docker_build "$image" "$here/pause/Dockerfile" "$build_dir/tests/cluster/ephemera-pause" ;;
    target) docker_build "$image" "$repo/tests/target/Dockerfile" "$build_dir/tests/target/ephemera-target" ;;
    kubectl) docker_build "$image" "$here/kubectl.Dockerfile" "$kubectl_bin" ;;
    snapshot) docker_build_with_libs "$image" "$repo/debugpod/Dockerfile" \
      "$build_dir/debugpod/snapshot/ephemera-snapshot" ;;
    controller) docker_build_with_libs "$image" "$repo/controller/Dockerfile" \
      "$build_dir/controller/ephemera-controller" ;;
    hostile-snapshot) # laid out like the snapshot image: the controller runs /ephemera-snapshot
      local staging
      staging=$(mktemp -d)
      cp "$build_dir/tests/target/ephemera-hostile-snapshot" "$staging/ephemera-snapshot"
      docker_build_with_libs "$image" "$repo/debugpod/Dockerfile" "$staging/ephemera-snapshot"
      rm -rf "$staging" ;;
    runtimes) build_runtimes_image "$image" ;;
    eu-stack)
      [ -x /usr/bin/eu-stack ] || die "/usr/bin/eu-stack not found: install elfutils (make deps)"
      local staging
      staging=$(mktemp -d)
      copy_with_libs "$staging/rootfs" /usr/bin/eu-stack
      docker_build "$image" "$here/eu-stack.Dockerfile" "$staging/rootfs"
      rm -rf "$staging" ;;
  esac
}

check_names() { # NAME...
  local want
  for want in "$@"; do
    [ -n "${images[$want]:-}" ] || die "unknown image '$want'; known: ${names[*]}"
  done
}

# selected NAME... : the short names asked for (all but the on-demand ones when none), in build
# order.
selected() {
  local n
  for n in "${names[@]}" "${on_demand[@]}"; do
    if [ $# -eq 0 ]; then
      if printf '%s\n' "${names[@]}" | grep -qx "$n"; then echo "$n"; fi
    elif printf '%s\n' "$@" | grep -qx "$n"; then
      echo "$n"
    fi
  done
}

build() { # NAME...
  command -v docker >/dev/null || die "docker is needed to build images"
  # kubectl_bin is read by build_image, called from here.
  local chosen n cmake_targets=() kubectl_bin=
  check_names "$@"
  mapfile -t chosen < <(selected "$@")
  for n in "${chosen[@]}"; do
    # shellcheck disable=SC2206 # a name's targets are space-separated
    if [ -n "${targets[$n]:-}" ]; then cmake_targets+=(${targets[$n]}); fi
    if [ "$n" = kubectl ]; then
      kubectl_bin=$("$here/cluster.sh" kubectl-path 2>/dev/null || true)
      [ -x "$kubectl_bin" ] ||
        die "the kubectl image needs the local Kubernetes build ('make kube'); build only the images you need, e.g. 'images.sh build controller snapshot target'"
    fi
  done
  build_binaries "${cmake_targets[@]}"
  for n in "${chosen[@]}"; do build_image "$n"; done
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
  build) build "$@" ;;
  list) # in the order of the NAMEs given (callers index the result), else in build order
    check_names "$@"
    if [ $# -eq 0 ]; then set -- "${names[@]}"; fi
    for n in "$@"; do echo "${images[$n]}"; done ;;
  names) printf '%s\n' "${names[@]}" ;;
  *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
