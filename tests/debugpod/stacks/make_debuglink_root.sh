#!/usr/bin/env bash
# Builds the fixture roots for the separate-debug-file tests from one unstripped binary:
#   OUT/proc/1/root: /app/bin/app stripped, its debug file at /usr/lib/debug/app/bin/app.debug
#   OUT/proc/2/root: the same, debug file in /app/bin/.debug/app.debug
#   OUT/proc/3/root: the same, debug file found by build ID under /usr/lib/debug/.build-id
#   OUT/proc/4/root: the same, but /app/bin/.debug/app.debug is another file (CRC mismatch)
#   OUT/marker.nm:   `nm -S` line of DebuglinkMarkerFunction in the unstripped binary
# Usage: make_debuglink_root.sh BINARY OUT
set -euo pipefail
binary=$1
out=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rm -rf "$out"
mkdir -p "$out"
objcopy --only-keep-debug "$binary" "$work/app.debug"
objcopy --strip-all --add-gnu-debuglink="$work/app.debug" "$binary" "$work/app"
nm -S "$binary" | grep ' DebuglinkMarkerFunction$' > "$out/marker.nm"
build_id=$(readelf -n "$binary" | awk '/Build ID:/ { print $3 }')
if [ -z "$build_id" ]; then
  echo "make_debuglink_root.sh: $binary has no build ID (linker without --build-id?)" >&2
  exit 1
fi

for n in 1 2 3 4; do
  mkdir -p "$out/proc/$n/root/app/bin"
  cp "$work/app" "$out/proc/$n/root/app/bin/app"
done
mkdir -p "$out/proc/1/root/usr/lib/debug/app/bin"
cp "$work/app.debug" "$out/proc/1/root/usr/lib/debug/app/bin/app.debug"
mkdir -p "$out/proc/2/root/app/bin/.debug"
cp "$work/app.debug" "$out/proc/2/root/app/bin/.debug/app.debug"
mkdir -p "$out/proc/3/root/usr/lib/debug/.build-id/${build_id:0:2}"
cp "$work/app.debug" "$out/proc/3/root/usr/lib/debug/.build-id/${build_id:0:2}/${build_id:2}.debug"
mkdir -p "$out/proc/4/root/app/bin/.debug"
cp "$binary" "$out/proc/4/root/app/bin/.debug/app.debug"
