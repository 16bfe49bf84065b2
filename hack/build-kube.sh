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
  # sleep holds no copy of stderr: left behind when the loop is killed, it must not keep a reader
  # of our output waiting.
  (while sleep 60 >/dev/null 2>&1; do echo "build-kube: still building $what ($(( $(date +%s) - t0 ))s so far)" >&2; done) &
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

i=0
for b in "${kube_bins[@]}"; do
  i=$((i + 1))
  if [ -x "$bin/$b" ]; then continue; fi
  echo "build-kube: [$i/${#kube_bins[@]}] building $b $KUBE_VERSION (cold, all six take about 6 minutes on 2 cores; the first most of it)" >&2
  t0=$(date +%s)
  start_heartbeat "$b"
  (cd "$work" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$bin/$b.tmp" "k8s.io/kubernetes/cmd/$b")
  stop_heartbeat
  mv "$bin/$b.tmp" "$bin/$b"
  echo "build-kube: built $b in $(( $(date +%s) - t0 ))s" >&2
done

if [ ! -x "$bin/helm" ]; then
  echo "build-kube: building helm $HELM_VERSION" >&2
  hwork="$cache/src-helm-$HELM_VERSION"
  mkdir -p "$hwork"
  t0=$(date +%s)
  if [ ! -f "$hwork/go.mod" ]; then (cd "$hwork" && go mod init ephemera.dev/helm-build >/dev/null 2>&1); fi
  (cd "$hwork" && { GOFLAGS=-mod=mod go get "helm.sh/helm/v3@$HELM_VERSION" >/dev/null 2>&1 || true; })
  start_heartbeat helm
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
  start_heartbeat containerd
  for b in "${containerd_bins[@]}"; do
    [ -x "$containerd_bin/$b" ] && continue
    (cd "$cwork" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -tags "no_btrfs no_devmapper no_zfs" \
      -ldflags "$cldflags" -o "$containerd_bin/$b.tmp" "github.com/containerd/containerd/v2/cmd/$b")
    mv "$containerd_bin/$b.tmp" "$containerd_bin/$b"
  done
  stop_heartbeat
  echo "build-kube: built containerd in $(( $(date +%s) - t0 ))s" >&2
fi

echo "build-kube: done in $(( $(date +%s) - start ))s; binaries in $bin and $containerd_bin" >&2
echo "$bin"
