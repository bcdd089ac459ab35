"""start refuses, before touching anything, when the binaries are not built."""

import pytest

from localcluster import cluster, paths


def test_missing_binaries_names_every_unbuilt_binary(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "BIN", tmp_path)
    missing = cluster.missing_binaries()
    assert str(tmp_path / "kubernetes-v1.34.4" / "kubelet") in missing
    assert str(tmp_path / "kubernetes-v1.35.4" / "kube-apiserver") in missing
    assert str(tmp_path / "pause-3.10" / "pause") in missing


def test_start_fresh_stops_at_missing_binaries(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "BIN", tmp_path)
    with pytest.raises(cluster.StartError, match="python -m localcluster build"):
        cluster.start_fresh(cluster.Progress())
