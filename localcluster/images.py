"""Container images made from the locally built binaries, under the names a real cluster pulls.

Each image is one layer: a static binary plus an empty /tmp, no base image. The archives are
docker-archive tars (manifest.json with RepoTags, a config whose rootfs.diff_ids are the
layers' sha256, the layer tars), written reproducibly (fixed mtimes and owners) so the same
binary always gives the same digest, cached in paths.IMAGES, and imported into containerd's
`k8s.io` namespace. The product's manifests then say `registry.k8s.io/kube-apiserver:v1.35.4`
with `imagePullPolicy: IfNotPresent` and run unchanged here and on a real cluster.
"""

import hashlib
import io
import json
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from . import components, paths, versions

ARCHIVE_FORMAT = "1"  # bump to rewrite every cached archive
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Image:
    ref: str  # e.g. registry.k8s.io/kube-apiserver:v1.35.4
    binary: Path  # on the host
    path: str  # inside the image, absolute

    @property
    def archive(self) -> Path:
        return paths.IMAGES / (self.ref.replace("/", "_").replace(":", "_") + ".tar")

    @property
    def source_key(self) -> str:
        """What the archive was made from: the build's stamp for the binary, its size and mtime."""
        stamp = self.binary.parent / ".stamp"
        st = self.binary.stat()
        stamp_text = stamp.read_text().strip() if stamp.exists() else ""
        return f"{ARCHIVE_FORMAT} {self.ref} {self.path} {stamp_text} {st.st_size} {st.st_mtime_ns}"


def kine_ref() -> str:
    """The name settings.KINE_IMAGE defaults to."""
    return f"docker.io/rancher/kine:{versions.KINE}"


def etcd_ref() -> str:
    return f"registry.k8s.io/etcd:{versions.ETCD.lstrip('v')}-0"


def all_images() -> list[Image]:
    """Control-plane images per tenant version, kube-proxy for the node's version, pause, etcd, kine."""
    images = []
    for version in versions.TENANT_VERSIONS:
        for name in versions.TENANT_BINARIES:
            binary = paths.bin_dir("kubernetes", version) / name
            images.append(Image(f"registry.k8s.io/{name}:{version}", binary, f"/usr/local/bin/{name}"))
    mgmt = paths.bin_dir("kubernetes", versions.MANAGEMENT)
    images += [
        Image(f"registry.k8s.io/kube-proxy:{versions.MANAGEMENT}", mgmt / "kube-proxy", "/usr/local/bin/kube-proxy"),
        Image(components.PAUSE_IMAGE, paths.bin_dir("pause", versions.PAUSE) / "pause", "/pause"),
        Image(etcd_ref(), paths.bin_dir("etcd", versions.ETCD) / "etcd", "/usr/local/bin/etcd"),
        Image(kine_ref(), paths.bin_dir("kine", versions.KINE) / "kine", "/bin/kine"),
    ]
    return images


def _tar_info(name: str, *, kind: bytes, mode: int, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size = kind, mode, size
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    return info


def layer_tar(binary: bytes, path_in_image: str) -> bytes:
    """One reproducible layer: the parent directories, the binary, and /tmp (sticky, world-writable)."""
    buf = io.BytesIO()
    parts = path_in_image.strip("/").split("/")
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for i in range(1, len(parts)):
            tar.addfile(_tar_info("/".join(parts[:i]) + "/", kind=tarfile.DIRTYPE, mode=0o755))
        tar.addfile(_tar_info("/".join(parts), kind=tarfile.REGTYPE, mode=0o755, size=len(binary)),
                    io.BytesIO(binary))
        tar.addfile(_tar_info("tmp/", kind=tarfile.DIRTYPE, mode=0o1777))
    return buf.getvalue()


def image_config(*, entrypoint: str, layer_digest: str) -> bytes:
    """The image config JSON: entrypoint, PATH, and the layer's diff id."""
    config = {
        "architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
        "config": {"Entrypoint": [entrypoint], "Env": [PATH_ENV], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_digest}"]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "kamaji-ui localcluster.images"}],
    }
    return json.dumps(config, sort_keys=True, separators=(",", ":")).encode()


def docker_archive(*, ref: str, binary: bytes, path_in_image: str) -> bytes:
    """A docker-archive tar holding one image named ref."""
    layer = layer_tar(binary, path_in_image)
    layer_digest = hashlib.sha256(layer).hexdigest()
    config = image_config(entrypoint=path_in_image, layer_digest=layer_digest)
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [ref], "Layers": [f"{layer_digest}/layer.tar"]}])
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(_tar_info(f"{layer_digest}/", kind=tarfile.DIRTYPE, mode=0o755))
        for name, data in ((f"{layer_digest}/layer.tar", layer), (config_name, config),
                           ("manifest.json", manifest.encode())):
            tar.addfile(_tar_info(name, kind=tarfile.REGTYPE, mode=0o644, size=len(data)), io.BytesIO(data))
    return buf.getvalue()


def write_archive(image: Image) -> bool:
    """Write image.archive unless the cached one was made from the same binary; True if written."""
    if not image.binary.exists():
        raise FileNotFoundError(f"{image.binary} is missing: run `python -m localcluster build` first")
    key_file = image.archive.with_suffix(".key")
    key = image.source_key
    if image.archive.exists() and key_file.exists() and key_file.read_text() == key:
        return False
    paths.IMAGES.mkdir(parents=True, exist_ok=True)
    data = docker_archive(ref=image.ref, binary=image.binary.read_bytes(), path_in_image=image.path)
    tmp = image.archive.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.rename(image.archive)
    key_file.write_text(key)
    image.archive.with_suffix(".imported").unlink(missing_ok=True)
    return True


def write_archives() -> list[Image]:
    """Write every archive that is missing or stale; return the images written."""
    return [image for image in all_images() if write_archive(image)]


def present_digests() -> dict[str, str]:
    """ref -> manifest digest of the images containerd's k8s.io namespace holds."""
    out = subprocess.run(components.ctr("images", "list"), check=True, capture_output=True, text=True).stdout
    rows = [line.split() for line in out.splitlines()[1:] if line.strip()]
    return {row[0]: row[2] for row in rows if len(row) > 2}


def import_images() -> list[str]:
    """Import every image whose ref containerd lacks or holds at another digest; return the refs imported.

    Idempotent: after an import the digest containerd gave the image is kept next to the
    archive, and an image already present at that digest is skipped.
    """
    write_archives()
    present = present_digests()
    imported = []
    for image in all_images():
        record = image.archive.with_suffix(".imported")
        if record.exists() and present.get(image.ref) == record.read_text().strip():
            continue
        subprocess.run(components.ctr("images", "import", str(image.archive)),
                       check=True, capture_output=True, text=True)
        digest = present_digests().get(image.ref)
        if digest is None:
            raise RuntimeError(f"containerd did not list {image.ref} after importing {image.archive}")
        record.write_text(digest)
        imported.append(image.ref)
    return imported
