#!/usr/bin/env bash
# What a user downloads, built from this tree into OUT_DIR (default build/release/dist):
#
#   kubectl-ephemera_vVERSION_linux_amd64.tar.gz   the CLI (a kubectl plugin) with its completion
#                                                  helper (kubectl_complete-ephemera), LICENSE,
#                                                  README.md
#   ephemera.yaml                                  its krew plugin manifest (uri under RELEASE_URL)
#   ephemera-CHART_VERSION.tgz                     the Helm chart (helm package)
#   controller-vVERSION.oci.tar, snapshot-vVERSION.oci.tar
#                                                  the two images as OCI archives (hack/oci-archive.py)
#   images.txt                                     each image's name and manifest digest
#   SHA256SUMS                                     sha256sum -c checks every file above
#
# docs/install.md ("Installing a release") says how to push the images and install by digest.
# The archives carry no times or owners: the same binary gives the same tarball, and the same local
# images give the same OCI archives (digests included). A rebuild from source is not bit for bit
# the same (docker build dates the image config; the chart archive is dated at packaging).
#
#   hack/release.sh [OUT_DIR]      RELEASE_URL=https://…/download/vVERSION overrides the krew uri base
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/build/release/dist}
version=$(sed -n 's/^project(ephemera VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
[ -n "$version" ] || { echo "release: no VERSION in CMakeLists.txt's project()" >&2; exit 1; }
release_url=${RELEASE_URL:-https://github.com/ephemera-dev/ephemera/releases/download/v$version}
log() { echo "release: $*" >&2; }

# OUT_DIR is emptied first: refuse a folder that is not empty and holds no earlier release.
if [ -d "$out" ] && [ -n "$(ls -A "$out")" ] && [ ! -f "$out/SHA256SUMS" ]; then
  echo "release: $out is not empty and holds no earlier release (no SHA256SUMS); give an empty or new folder" >&2
  exit 2
fi
helm=$("$repo/tests/cluster/cluster.sh" helm-path)
[ -x "$helm" ] || { echo "release: no helm at $helm; run 'make kube'" >&2; exit 1; }

log "building kubectl-ephemera and the controller and snapshot images (release build)"
[ -f "$repo/build/release/build.ninja" ] || cmake --preset release -S "$repo" >/dev/null
cmake --build "$repo/build/release" --target kubectl-ephemera >/dev/null
"$repo/tests/cluster/images.sh" build controller snapshot

rm -rf "$out"
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# The CLI: a tarball whose entries have no times or owners, so that its checksum is reproducible.
cli_tar=kubectl-ephemera_v${version}_linux_amd64.tar.gz
install -m 0755 "$repo/build/release/cli/kubectl-ephemera" "$stage/kubectl-ephemera"
strip --strip-debug "$stage/kubectl-ephemera"
install -m 0755 "$repo/cli/kubectl_complete-ephemera" "$stage/"
install -m 0644 "$repo/LICENSE" "$repo/README.md" "$stage/"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$stage" \
  -cf - LICENSE README.md kubectl-ephemera kubectl_complete-ephemera | gzip -n -9 >"$out/$cli_tar"
cli_sha=$(sha256sum "$out/$cli_tar" | cut -d' ' -f1)
log "$cli_tar sha256:$cli_sha"

# The krew manifest (https://krew.sigs.k8s.io/docs/developer-guide/plugin-manifest/).
cat >"$out/ephemera.yaml" <<YAML
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: ephemera
spec:
  version: v$version
  homepage: https://github.com/ephemera-dev/ephemera
  shortDescription: Encrypted, audited debug snapshots of running pods
  description: |
    Takes a snapshot of a running container (processes, threads and stacks, open files and
    sockets, memory map, limits, redacted environment and logs) through a shell-less ephemeral
    container that Ephemera's controller injects after checking your rights. The snapshot is
    encrypted to you, every step is audited, and everything is destroyed when its TTL lapses.
    Needs Ephemera's controller in the cluster (the Helm chart).
  platforms:
  - selector:
      matchLabels: {os: linux, arch: amd64}
    uri: $release_url/$cli_tar
    sha256: $cli_sha
    bin: kubectl-ephemera
    files:
    - {from: kubectl-ephemera, to: .}
    - {from: kubectl_complete-ephemera, to: .}
    - {from: LICENSE, to: .}
  caveats: |
    Shell completion of "kubectl ephemera" needs kubectl_complete-ephemera on your PATH; krew
    links only the plugin itself, so link the helper too:
      ln -s "\$HOME/.krew/store/ephemera/v$version/kubectl_complete-ephemera" "\$HOME/.krew/bin/"
    The cluster needs Ephemera's controller (its Helm chart).
YAML

# The chart.
"$helm" package "$repo/helm/ephemera" -d "$out" >/dev/null
log "$(cd "$out" && ls ephemera-*.tgz)"

# The images, as OCI archives, with their digests.
: >"$out/images.txt"
for name in controller snapshot; do
  image=$("$repo/tests/cluster/images.sh" list "$name")
  digest=$(python3 "$repo/hack/oci-archive.py" "$image" "$out/$name-v$version.oci.tar")
  echo "$image $digest" >>"$out/images.txt"
  log "$name-v$version.oci.tar $image@$digest"
done

(cd "$out" && sha256sum -- * >SHA256SUMS.tmp && grep -v ' SHA256SUMS.tmp$' SHA256SUMS.tmp >SHA256SUMS &&
  rm SHA256SUMS.tmp)
log "done: $out"
ls -l "$out" >&2
