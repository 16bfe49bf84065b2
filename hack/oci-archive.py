#!/usr/bin/env python3
"""Writes a local Docker image as an OCI image layout in a tar file (an "OCI archive"), the form
`skopeo copy oci-archive:FILE docker://REGISTRY/NAME` and `ctr images import` take, and prints the
image's manifest digest: the digest a registry will hold after a copy that preserves digests, and
the one the chart's image.digest values pin.

  hack/oci-archive.py IMAGE OUT.tar      e.g. ephemera.local/controller:0.1.0 controller.oci.tar

Docker 20.10 (Debian's) saves only its own archive format, so this converts one: the image config
is kept byte for byte (its rootfs.diff_ids are the layers' uncompressed digests), each layer is
gzip-compressed with no timestamp, and the archive's entries are sorted with fixed owners and
times. The same image gives the same bytes, so the digest printed is reproducible.
"""
import gzip
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def digest_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def descriptor(media_type, data):
    return {"mediaType": media_type, "digest": digest_of(data), "size": len(data)}


def canonical(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def read_docker_save(image):
    """(config bytes, [uncompressed layer bytes]) of `image`, from `docker save`."""
    with tempfile.TemporaryFile() as saved:
        subprocess.run(["docker", "save", image], stdout=saved, check=True)
        saved.seek(0)
        with tarfile.open(fileobj=saved) as archive:
            entries = json.load(archive.extractfile("manifest.json"))
            if len(entries) != 1:
                sys.exit(f"oci-archive: docker save {image} holds {len(entries)} images, not 1")
            entry = entries[0]
            config = archive.extractfile(entry["Config"]).read()
            layers = [archive.extractfile(path).read() for path in entry["Layers"]]
    diff_ids = json.loads(config)["rootfs"]["diff_ids"]
    if diff_ids != [digest_of(layer) for layer in layers]:
        sys.exit(f"oci-archive: the layers of {image} do not match its config's diff_ids")
    return config, layers


def write_layout(out_path, image, config, layers):
    blobs = {}
    layer_descriptors = []
    for layer in layers:
        compressed = gzip.compress(layer, compresslevel=9, mtime=0)
        blobs[digest_of(compressed)] = compressed
        layer_descriptors.append(descriptor(LAYER, compressed))
    blobs[digest_of(config)] = config
    manifest = canonical({"schemaVersion": 2, "mediaType": MANIFEST,
                          "config": descriptor(CONFIG, config), "layers": layer_descriptors})
    blobs[digest_of(manifest)] = manifest
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else "latest"
    index = canonical({"schemaVersion": 2, "mediaType": INDEX, "manifests": [
        dict(descriptor(MANIFEST, manifest),
             annotations={"org.opencontainers.image.ref.name": tag,
                          "io.containerd.image.name": image})]})
    files = {"oci-layout": canonical({"imageLayoutVersion": "1.0.0"}), "index.json": index}
    for digest, data in blobs.items():
        files["blobs/sha256/" + digest.split(":", 1)[1]] = data
    with tarfile.open(out_path, "w", format=tarfile.PAX_FORMAT) as out:
        for name in ["blobs", "blobs/sha256"]:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
            out.addfile(info)
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(files[name]), 0o644, 0
            out.addfile(info, io.BytesIO(files[name]))
    return digest_of(manifest)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().split("\n\n")[1])
    image, out_path = sys.argv[1:]
    config, layers = read_docker_save(image)
    print(write_layout(out_path, image, config, layers))


if __name__ == "__main__":
    main()
