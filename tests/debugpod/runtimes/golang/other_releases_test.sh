#!/usr/bin/env bash
# The Go reader on programs built by older Go releases than the local toolchain: parked.go built by
# go1.21 (the oldest supported; normal and stripped) and go1.23, each toolchain fetched from the Go
# module proxy (GOTOOLCHAIN, cached in the module cache: about 70 MB each the first time), then
# GoRuntimeReaderTest.ReadsProgramsBuiltByOtherGoReleases on them. docs/decisions/go-stacks.md
# lists every release tested by hand.
#
#   other_releases_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build_dir=$(cd "${1:?usage: other_releases_test.sh BUILD_DIR}" && pwd)
test_bin=$build_dir/tests/debugpod/runtimes/golang/runtimes_golang_component_test
out=$build_dir/tests/debugpod/runtimes/golang/other-releases
go=${EPHEMERA_GO:-/usr/local/go/bin/go}
[ -x "$test_bin" ] || { echo "other-releases: $test_bin is not built" >&2; exit 1; }
[ -x "$go" ] || { echo "other-releases: no Go toolchain at $go (set EPHEMERA_GO)" >&2; exit 1; }
mkdir -p "$out"

binaries=()
build() { # release [stripped]
  local name=go-parked-$1${2:+-stripped} flags=()
  [ -n "${2:-}" ] && flags=(-ldflags=-s\ -w)
  echo "other-releases: building parked.go with $1${2:+ (stripped)}"
  if ! (cd "$here" && GOTOOLCHAIN=$1 GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0 \
    GOCACHE=$out/go-cache "$go" build "${flags[@]}" -o "$out/$name" .) 2>"$out/$name.err"; then
    cat "$out/$name.err" >&2
    echo "other-releases: could not build with $1: fetching its toolchain needs the Go module proxy ($("$go" env GOPROXY))" >&2
    exit 1
  fi
  binaries+=("$out/$name")
}
build go1.21.13
build go1.21.13 stripped
build go1.23.0

list=$(IFS=:; echo "${binaries[*]}")
EPHEMERA_GO_PARKED_BINARIES=$list "$test_bin" --gtest_filter='*ReadsProgramsBuiltByOtherGoReleases*'
