#!/usr/bin/env bash
# Builds the pinned upstream Kubernetes binaries, Helm and containerd from the Go module proxy into a
# cache outside the repository ($EPHEMERA_CACHE, default ~/.cache/ephemera). A pin that is already
# built is not rebuilt. Prints the path of the Kubernetes bin folder on its last line. With
# --cached-only it never builds: it prints the path when everything is there and fails otherwise (for
# status queries that must stay quick). With --containerd-path it prints containerd's bin folder
# (containerd, containerd-shim-runc-v2, ctr) when that is built, and fails otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=hack/versions.env
source "$here/versions.env"
cache=${EPHEMERA_CACHE:-$HOME/.cache/ephemera}
kube_bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
bin="$cache/kube-$KUBE_VERSION-helm-$HELM_VERSION/bin"
containerd_bins=(containerd containerd-shim-runc-v2 ctr)
containerd_bin="$cache/containerd-$CONTAINERD_VERSION/bin"

containerd_built() {
  local b
  for b in "${containerd_bins[@]}"; do [ -x "$containerd_bin/$b" ] || return 1; done
}

all_built() {
  local b
  for b in helm "${kube_bins[@]}"; do [ -x "$bin/$b" ] || return 1; done
  containerd_built
}

if [ "${1:-}" = "--containerd-path" ]; then
  containerd_built || { echo "build-kube: containerd $CONTAINERD_VERSION is not built yet in $containerd_bin; run 'make kube'" >&2; exit 1; }
  echo "$containerd_bin"
  exit 0
fi

if all_built; then
  # Scripts ask with --cached-only for every kubectl path; only a person's `make kube` hears it.
  [ "${1:-}" = "--cached-only" ] ||
    echo "build-kube: cached Kubernetes $KUBE_VERSION and Helm $HELM_VERSION in $bin" >&2
  echo "$bin"
  exit 0
fi

if [ "${1:-}" = "--cached-only" ]; then
  echo "build-kube: Kubernetes $KUBE_VERSION and Helm $HELM_VERSION are not built yet in $bin; run 'make kube'" >&2
  exit 1
fi
# One build at a time: a second caller (another terminal, a test asking for kubectl) waits for the
# first and then finds the binaries cached.
mkdir -p "$cache"
if [ -z "${EPHEMERA_BUILD_KUBE_LOCKED:-}" ]; then
  echo "build-kube: waiting for the build lock $cache/.build-kube.lock (another build may be running)" >&2
  export EPHEMERA_BUILD_KUBE_LOCKED=1
  exec flock "$cache/.build-kube.lock" "$0" "$@"
fi

[ -x /usr/local/go/bin/go ] && export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { echo "build-kube: Go is needed to build Kubernetes; install Go 1.24 or newer" >&2; exit 1; }
mkdir -p "$bin"
work="$cache/src-kube-$KUBE_VERSION"
mkdir -p "$work"
start=$(date +%s)

# A line a minute while a long `go build` prints nothing. Stopped by stop_heartbeat or on exit.
heartbeat_pid=
start_heartbeat() { # what
  local what=$1 t0; t0=$(date +%s)
  (while sleep 60; do echo "build-kube: still building $what ($(( $(date +%s) - t0 ))s so far)" >&2; done) &
  heartbeat_pid=$!
}
stop_heartbeat() {
  [ -z "$heartbeat_pid" ] || kill "$heartbeat_pid" 2>/dev/null || true
  heartbeat_pid=
}
trap stop_heartbeat EXIT

# A throwaway module that requires k8s.io/kubernetes and pins each staging module it replaces with a local
# path upstream (those replaces only apply inside the kubernetes repository itself).
echo "build-kube: resolving k8s.io/kubernetes@$KUBE_VERSION from the Go module proxy" >&2
kube_mod=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
{
  echo "module ephemera.dev/kube-build"
  echo
  echo "go 1.24"
  echo
  echo "require k8s.io/kubernetes $KUBE_VERSION"
  echo
  sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#replace \1 => \1 '"$KUBE_STAGING_VERSION"'#p' "$kube_mod"
} >"$work/go.mod"
cat >"$work/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
(cd "$work" && { GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true; })
(cd "$work" && GOFLAGS=-mod=mod go mod download)

minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

# One `go build` for every missing binary: the go command then links one binary while it compiles
# packages for the next (a link is single-threaded), instead of leaving a core idle at each link.
missing=()
for b in "${kube_bins[@]}"; do [ -x "$bin/$b" ] || missing+=("$b"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "build-kube: building ${missing[*]} $KUBE_VERSION (cold, about 7 minutes on 2 cores)" >&2
  t0=$(date +%s)
  out="$bin/.building"
  rm -rf "$out" && mkdir -p "$out"
  start_heartbeat Kubernetes
  (cd "$work" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$out/" \
    "${missing[@]/#/k8s.io/kubernetes/cmd/}")
  stop_heartbeat
  for b in "${missing[@]}"; do mv "$out/$b" "$bin/$b"; done
  rmdir "$out"
  echo "build-kube: built ${missing[*]} in $(( $(date +%s) - t0 ))s" >&2
fi

if [ ! -x "$bin/helm" ]; then
  echo "build-kube: building helm $HELM_VERSION" >&2
  hwork="$cache/src-helm-$HELM_VERSION"
  mkdir -p "$hwork"
  t0=$(date +%s)
  if [ ! -f "$hwork/go.mod" ]; then (cd "$hwork" && go mod init ephemera.dev/helm-build >/dev/null 2>&1); fi
  (cd "$hwork" && { GOFLAGS=-mod=mod go get "helm.sh/helm/v3@$HELM_VERSION" >/dev/null 2>&1 || true; })
  start_heartbeat Helm
  (cd "$hwork" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" -o "$bin/helm.tmp" helm.sh/helm/v3/cmd/helm)
  stop_heartbeat
  mv "$bin/helm.tmp" "$bin/helm"
  echo "build-kube: built helm in $(( $(date +%s) - t0 ))s" >&2
fi

if ! containerd_built; then
  # containerd 2.x, not Debian's 1.6: it reports a container's user to the kubelet
  # (status.containerStatuses[].user) and sends CRI container events. Built without cgo; the btrfs,
  # devmapper and zfs snapshotters (which need C libraries) are left out: the cluster uses overlayfs.
  echo "build-kube: building containerd $CONTAINERD_VERSION" >&2
  cwork="$cache/src-containerd-$CONTAINERD_VERSION"
  mkdir -p "$cwork" "$containerd_bin"
  t0=$(date +%s)
  if [ ! -f "$cwork/go.mod" ]; then (cd "$cwork" && go mod init ephemera.dev/containerd-build >/dev/null 2>&1); fi
  (cd "$cwork" && GOFLAGS=-mod=mod go get "github.com/containerd/containerd/v2@$CONTAINERD_VERSION" >/dev/null)
  cldflags="-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION"
  out="$containerd_bin/.building"
  rm -rf "$out" && mkdir -p "$out"
  start_heartbeat containerd
  (cd "$cwork" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -tags "no_btrfs no_devmapper no_zfs" \
    -ldflags "$cldflags" -o "$out/" "${containerd_bins[@]/#/github.com/containerd/containerd/v2/cmd/}")
  stop_heartbeat
  for b in "${containerd_bins[@]}"; do mv "$out/$b" "$containerd_bin/$b"; done
  rmdir "$out"
  echo "build-kube: built containerd in $(( $(date +%s) - t0 ))s" >&2
fi

echo "build-kube: done in $(( $(date +%s) - start ))s; binaries in $bin and $containerd_bin" >&2
echo "$bin"
