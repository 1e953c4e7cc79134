#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes an OCI image archive (image-spec 1.0 layout in a tar) from one
root filesystem tarball, with nothing but the standard library:

    oci.py ROOTFS.tar NAME:TAG UID OUT.oci.tar

The layer is the tarball gzip-compressed without a timestamp, so the same
rootfs gives the same digests. The image runs as UID (runAsUser in the
manifests says the same). index.json names the image both ways importers
read it (org.opencontainers.image.ref.name, io.containerd.image.name).
"""
import gzip
import hashlib
import io
import json
import sys
import tarfile


def blob(out, data, media):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo("blobs/sha256/" + digest[7:])
    info.size = len(data)
    out.addfile(info, io.BytesIO(data))
    return {"mediaType": media, "digest": digest, "size": len(data)}


def main():
    rootfs, ref, uid, dest = sys.argv[1:5]
    raw = open(rootfs, "rb").read()
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        gz.write(raw)
    layer = buf.getvalue()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"User": f"{uid}:{uid}", "WorkingDir": "/",
                   "Env": ["PATH=/usr/sbin:/usr/bin"]},
        "rootfs": {"type": "layers",
                   "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]},
        "history": [{"created_by": "deploy/k8s/image/build.sh (mmdebstrap)"}],
    }
    with tarfile.open(dest, "w") as out:
        lay = blob(out, layer, "application/vnd.oci.image.layer.v1.tar+gzip")
        cfg = blob(out, json.dumps(config, sort_keys=True).encode(),
                   "application/vnd.oci.image.config.v1+json")
        manifest = {"schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": cfg, "layers": [lay]}
        man = blob(out, json.dumps(manifest, sort_keys=True).encode(),
                   "application/vnd.oci.image.manifest.v1+json")
        man["annotations"] = {"org.opencontainers.image.ref.name": ref,
                              "io.containerd.image.name": ref}
        for path, doc in (("oci-layout", {"imageLayoutVersion": "1.0.0"}),
                          ("index.json", {"schemaVersion": 2, "manifests": [man]})):
            data = json.dumps(doc, sort_keys=True).encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))


if __name__ == "__main__":
    main()
