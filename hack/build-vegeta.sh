#!/usr/bin/env bash
# Builds vegeta, the traffic benchmark's load generator, at the pinned version from the Go module
# proxy into the cache outside the repository ($EPHEMERA_CACHE, default ~/.cache/ephemera), once.
# Prints the binary's path on its last line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=hack/versions.env
source "$here/versions.env"
cache=${EPHEMERA_CACHE:-$HOME/.cache/ephemera}
bin="$cache/vegeta-$VEGETA_VERSION/bin/vegeta"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
[ -x /usr/local/go/bin/go ] && export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { echo "build-vegeta: Go is needed to build vegeta; install Go 1.24 or newer" >&2; exit 1; }
work="$cache/src-vegeta-$VEGETA_VERSION"
mkdir -p "$work" "$(dirname "$bin")"
exec 9>"$cache/.build-vegeta.lock"
flock 9
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
echo "build-vegeta: building github.com/tsenart/vegeta/v12@$VEGETA_VERSION from the Go module proxy" >&2
start=$(date +%s)
trap 'rm -f "$bin.tmp"' EXIT
[ -f "$work/go.mod" ] || (cd "$work" && go mod init ephemera.dev/vegeta-build >/dev/null 2>&1)
(cd "$work" && GOFLAGS=-mod=mod go get "github.com/tsenart/vegeta/v12@$VEGETA_VERSION" >/dev/null 2>&1) ||
  { echo "build-vegeta: go get of vegeta $VEGETA_VERSION failed (is the Go module proxy reachable?)" >&2; exit 1; }
(cd "$work" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$bin.tmp" \
  github.com/tsenart/vegeta/v12)
mv "$bin.tmp" "$bin"
echo "build-vegeta: built in $(( $(date +%s) - start ))s: $bin" >&2
echo "$bin"
