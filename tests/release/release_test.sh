#!/usr/bin/env bash
# Test of `make release` (hack/release.sh; ctest label: integration, because it imports the images
# into the local cluster's containerd): every artifact is there and checksummed, the CLI tarball
# holds a CLI that runs, the krew manifest names the tarball by its real checksum, the packaged
# chart renders with the images pinned by the digests the release lists, and each OCI archive
# imports into containerd (layers unpacked against the config's diff_ids) under that same digest,
# reproducibly.
#
#   release_test.sh     (run under `flock -o /tmp/ephemera-cluster.lock`)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cluster=$repo/tests/cluster/cluster.sh
work=$(mktemp -d)
dist=$work/dist
# A containerd namespace of the test's own, so the cluster's images are never touched.
ctr_ns=ephemera-release-test
# shellcheck source=tests/e2e/e2e_lib.sh
source "$repo/tests/e2e/e2e_lib.sh"

"$cluster" status >/dev/null 2>&1 || e2e_setup_failed "the local cluster is not up (run 'make cluster-up')"
sock=$("$cluster" containerd-socket)
helm=$("$cluster" helm-path)
ctr_bin=$("$cluster" ctr-path)
ctr_() { "$ctr_bin" --address "$sock" -n "$ctr_ns" "$@"; }
cleanup() {
  for ref in $(ctr_ images ls -q 2>/dev/null); do ctr_ images rm "$ref" >/dev/null 2>&1 || true; done
  ctr_ content prune references >/dev/null 2>&1 || true
}
e2e_trap_exit

version=$(sed -n 's/^project(ephemera VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
echo "release-test: hack/release.sh $dist"
"$repo/hack/release.sh" "$dist" 2>"$work/release.err" ||
  { cat "$work/release.err"; e2e_setup_failed "hack/release.sh failed"; }

every_artifact_is_checksummed() {
  local want got
  want="controller-v$version.oci.tar ephemera-$version.tgz ephemera.yaml images.txt kubectl-ephemera_v${version}_linux_amd64.tar.gz snapshot-v$version.oci.tar"
  got=$(awk '{print $2}' "$dist/SHA256SUMS" | sort | tr '\n' ' ' | sed 's/ $//')
  [ "$got" = "$want" ] || { echo "SHA256SUMS lists '$got', wanted '$want'"; return 1; }
  (cd "$dist" && sha256sum --quiet -c SHA256SUMS)
}
check "every artifact is in SHA256SUMS and matches it" every_artifact_is_checksummed

cli_tarball_runs() {
  local tarball=$dist/kubectl-ephemera_v${version}_linux_amd64.tar.gz
  [ "$(tar -tzf "$tarball" | tr '\n' ' ')" = "LICENSE README.md kubectl-ephemera kubectl_complete-ephemera " ] ||
    { echo "tarball holds: $(tar -tzf "$tarball" | tr '\n' ' ')"; return 1; }
  mkdir -p "$work/cli" && tar -xzf "$tarball" -C "$work/cli"
  "$work/cli/kubectl-ephemera" version | grep -qF "$version" || { echo "version says: $("$work/cli/kubectl-ephemera" version)"; return 1; }
  grep -q "Apache License" "$work/cli/LICENSE" || return 1
  # kubectl's plugin completion, through the helper beside the binary.
  [ "$(PATH=$work/cli:$PATH "$work/cli/kubectl_complete-ephemera" snapshot pod --profile "")" = \
    "$(printf 'restricted\nptrace\n:4')" ] || { echo "the completion helper does not complete --profile"; return 1; }
}
check "the CLI tarball holds the CLI (which runs and says its version), its completion helper, the LICENSE and the README" \
  cli_tarball_runs

krew_manifest_names_the_tarball() {
  local sha
  sha=$(sha256sum "$dist/kubectl-ephemera_v${version}_linux_amd64.tar.gz" | cut -d' ' -f1)
  grep -qx "    sha256: $sha" "$dist/ephemera.yaml" || { echo "no sha256: $sha in:"; cat "$dist/ephemera.yaml"; return 1; }
  grep -qE "^    uri: https://.*/kubectl-ephemera_v${version}_linux_amd64\.tar\.gz$" "$dist/ephemera.yaml" &&
    grep -qx "  version: v$version" "$dist/ephemera.yaml" && grep -qx "    bin: kubectl-ephemera" "$dist/ephemera.yaml"
}
check "the krew manifest names the tarball with its real sha256, version and binary" krew_manifest_names_the_tarball

chart_renders_by_digest() {
  local controller snapshot rendered
  controller=$(awk '$1 ~ /controller/ {print $2}' "$dist/images.txt")
  snapshot=$(awk '$1 ~ /snapshot/ {print $2}' "$dist/images.txt")
  [[ $controller =~ ^sha256:[0-9a-f]{64}$ && $snapshot =~ ^sha256:[0-9a-f]{64}$ ]] ||
    { echo "images.txt:"; cat "$dist/images.txt"; return 1; }
  "$helm" show chart "$dist/ephemera-$version.tgz" | grep -qx "version: $version"
  rendered=$("$helm" template ephemera "$dist/ephemera-$version.tgz" -n ephemera-system \
    --kube-version 1.34.0 --set 'networkPolicy.apiServer.cidrs={192.0.2.10/32}' \
    --set image.repository=registry.example/ephemera/controller --set image.digest="$controller" \
    --set snapshotImage.repository=registry.example/ephemera/snapshot \
    --set snapshotImage.digest="$snapshot")
  if ! grep -qF "image: registry.example/ephemera/controller@$controller" <<<"$rendered" ||
    ! grep -qF "registry.example/ephemera/snapshot@$snapshot" <<<"$rendered"; then
    echo "the rendered chart does not pin both images by the release's digests"; return 1
  fi
}
check "the packaged chart renders with both images pinned by the digests images.txt lists" chart_renders_by_digest

oci_archives_import_under_their_digest() {
  local name image digest listed again
  for name in controller snapshot; do
    read -r image digest < <(grep "/$name:" "$dist/images.txt")
    # Unpacking checks every layer against the config's diff_ids.
    ctr_ images import "$dist/$name-v$version.oci.tar" >/dev/null
    listed=$(ctr_ images ls | awk -v ref="$image" '$1 == ref {print $3}')
    [ "$listed" = "$digest" ] || { echo "$name: containerd lists $image as '$listed', the release says $digest"; return 1; }
    ctr_ images check | grep -F "$image" | grep -q "complete" ||
      { echo "$name: not complete in containerd:"; ctr_ images check; return 1; }
    # Reproducible: the same image written again is the same archive.
    again=$(python3 "$repo/hack/oci-archive.py" "$image" "$work/again.tar")
    if [ "$again" != "$digest" ] || ! cmp -s "$work/again.tar" "$dist/$name-v$version.oci.tar"; then
      echo "$name: a second archive differs ($again)"; return 1
    fi
  done
}
check "each OCI archive imports into containerd, unpacked, under the digest the release lists, and is reproducible" \
  oci_archives_import_under_their_digest
