#!/usr/bin/env bash
# Properties of the two images Ephemera ships, as tests/cluster/images.sh built them into the local
# Docker engine (ctest: cluster.images, label integration; `make cluster-up` builds them first):
#   - ephemera.local/controller and ephemera.local/snapshot hold no shell: no sh, bash, dash, ash,
#     any other *sh program, busybox or toybox;
#   - each holds its program (the ENTRYPOINT) and the shared libraries it links, nothing else;
#   - each runs as 65532:65532 (.Config.User), never as root;
#   - each program is an ELF without debug sections (no .debug_info: images.sh strips them);
#   - each image stays within its size budget (about twice the size measured when the budget was set).
# It prints every image's size and its share of the budget.
#
#   images_test.sh
set -euo pipefail

user=65532:65532
# Budgets in MB (10^6 bytes): twice the sizes measured when they were set (release build, Debian
# bookworm's shared libraries: controller 19.4 MB, snapshot 11.2 MB). An image that doubles has to
# say why in the commit that raises its budget.
declare -A budget_mb=([ephemera.local/controller:0.1.0]=39 [ephemera.local/snapshot:0.1.0]=22)
images=(ephemera.local/controller:0.1.0 ephemera.local/snapshot:0.1.0)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

{ command -v docker >/dev/null && docker info >/dev/null 2>&1; } ||
  { echo "images-test: error: a running Docker engine is needed"; exit 1; }
for tool in readelf python3; do
  command -v "$tool" >/dev/null || { echo "images-test: error: $tool is needed (make deps)"; exit 1; }
done
for image in "${images[@]}"; do
  docker image inspect "$image" >/dev/null 2>&1 ||
    { echo "images-test: error: no local image $image; build it with 'tests/cluster/images.sh build' (make cluster-up does)"; exit 1; }
done

for image in "${images[@]}"; do
  name=${image#ephemera.local/}; name=${name%%:*}
  echo "--- $image ($(docker image inspect -f '{{.Id}}' "$image" | cut -c1-19))"

  # The image's own files: its layers from `docker save`, unpacked in order (the images are FROM
  # scratch, so there are no whiteouts to apply).
  mkdir -p "$work/$name.save" "$work/$name"
  docker save "$image" | tar -x -C "$work/$name.save"
  python3 -c 'import json, sys; print("\n".join(json.load(open(sys.argv[1]))[0]["Layers"]))' \
    "$work/$name.save/manifest.json" >"$work/$name.layers"
  while read -r layer; do tar -x -C "$work/$name" -f "$work/$name.save/$layer"; done <"$work/$name.layers"
  (cd "$work/$name" && find . -mindepth 1 ! -type d -printf '%P\n' | sort) >"$work/$name.files"

  shells=$(grep -E '(^|/)([a-z]*sh|busybox|toybox)$' "$work/$name.files" || true)
  if [ -z "$shells" ]; then
    pass "$name: no shell among its $(wc -l <"$work/$name.files") files (no *sh, busybox or toybox)"
  else
    fail "$name: holds a shell: $(echo "$shells" | tr '\n' ' ')"
  fi

  entrypoint=$(docker image inspect -f '{{join .Config.Entrypoint " "}}' "$image")
  program=${entrypoint#/}
  others=$(grep -v -x -F "$program" "$work/$name.files" | grep -v -E '(^|/)(ld-linux[^/]*|lib[^/]+\.so(\.[0-9]+)*)$' || true)
  if [ -f "$work/$name/$program" ] && [ -z "$others" ]; then
    pass "$name: only its program /$program and shared libraries ($(($(wc -l <"$work/$name.files") - 1)))"
  else
    fail "$name: ENTRYPOINT '$entrypoint'; files that are neither it nor a shared library: $(echo "$others" | tr '\n' ' ')"
  fi

  image_user=$(docker image inspect -f '{{.Config.User}}' "$image")
  if [ "$image_user" = "$user" ]; then
    pass "$name: runs as $image_user (.Config.User)"
  else
    fail "$name: .Config.User is '$image_user', not $user"
  fi

  if [ -f "$work/$name/$program" ]; then
    sections=$(readelf -S --wide "$work/$name/$program" 2>&1) || sections="readelf failed: $sections"
    debug=$(grep -oE '\.debug_[a-z_]+' <<<"$sections" | sort -u | tr '\n' ' ' || true)
    if grep -q '\.text' <<<"$sections" && [ -z "$debug" ]; then
      pass "$name: /$program has no debug sections ($(stat -c %s "$work/$name/$program") bytes)"
    else
      fail "$name: /$program is not a stripped ELF: ${debug:-$(head -n 3 <<<"$sections")}"
    fi
  fi

  size=$(docker image inspect -f '{{.Size}}' "$image")
  limit=${budget_mb[$image]}
  figure=$(awk -v s="$size" -v l="$limit" 'BEGIN { printf "%.1f MB of a %d MB budget (%.0f%%)", s / 1e6, l, 100 * s / (l * 1e6) }')
  if [ "$size" -le $((limit * 1000000)) ]; then
    pass "$name: size $figure"
  else
    fail "$name: size $figure: over budget"
  fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
