"""Image archives: the docker-archive layout containerd imports, reproducible byte for byte."""

import hashlib
import io
import json
import tarfile

from localcluster import images, versions


def members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def test_archive_names_the_image_and_its_layer_is_the_binary_at_its_path():
    archive = images.docker_archive(ref="registry.k8s.io/kube-apiserver:v1.35.4", binary=b"\x7fELF fake",
                                    path_in_image="/usr/local/bin/kube-apiserver")
    files = members(archive)
    [manifest] = json.loads(files["manifest.json"])
    assert manifest["RepoTags"] == ["registry.k8s.io/kube-apiserver:v1.35.4"]
    layer = files[manifest["Layers"][0]]
    config = json.loads(files[manifest["Config"]])
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(layer).hexdigest()]
    assert config["config"]["Entrypoint"] == ["/usr/local/bin/kube-apiserver"]
    assert (config["os"], config["architecture"]) == ("linux", "amd64")
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        entries = {m.name: m for m in tar.getmembers()}
        assert tar.extractfile("usr/local/bin/kube-apiserver").read() == b"\x7fELF fake"
    assert entries["usr/local/bin/kube-apiserver"].mode == 0o755
    assert entries["tmp"].mode == 0o1777


def test_archive_is_reproducible_so_reimport_is_a_no_op():
    one = images.docker_archive(ref="registry.k8s.io/pause:3.10", binary=b"pause", path_in_image="/pause")
    two = images.docker_archive(ref="registry.k8s.io/pause:3.10", binary=b"pause", path_in_image="/pause")
    assert one == two
    other = images.docker_archive(ref="registry.k8s.io/pause:3.10", binary=b"pause2", path_in_image="/pause")
    assert other != one


def test_image_set_covers_every_tenant_version_and_the_upstream_names():
    refs = {image.ref for image in images.all_images()}
    for version in versions.TENANT_VERSIONS:
        for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
            assert f"registry.k8s.io/{name}:{version}" in refs
    assert {f"registry.k8s.io/kube-proxy:{versions.MANAGEMENT}", "registry.k8s.io/pause:3.10",
            "registry.k8s.io/etcd:3.6.16-0", "docker.io/rancher/kine:v0.17.5"} <= refs
