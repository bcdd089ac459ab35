"""Build the pinned Kubernetes, etcd, kine and MetalLB binaries from the Go module proxy.

k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces the staging modules with
local paths), so each version gets a tiny module of its own under gomod/ that requires it and
pins every staging module to the matching v0.x.y. Those modules are generated once
(`pin`), committed, and built from here; outputs go to the cache, keyed by version, and a
build whose stamp matches is skipped.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import paths, versions

K8S_PKG = "k8s.io/kubernetes/cmd/{}"
LDFLAG_PKGS = ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
METALLB_MODULE = "go.universe.tf/metallb"
METALLB_COMMANDS = ("controller", "speaker")
METALLB_CRD_SOURCE = "config/crd/bases"  # the plain CRDs (the kustomize patches add webhooks we do not run)


def go_env() -> dict:
    env = dict(os.environ)
    env.update(
        CGO_ENABLED="0", GOMODCACHE=str(paths.GOMODCACHE), GOCACHE=str(paths.GOCACHE),
        GOFLAGS="-mod=mod", GOTOOLCHAIN="local",
    )
    return env


def run_go(args: list[str], cwd: Path) -> str:
    print("+ go", " ".join(args[:4]), "..." if len(args) > 4 else "", flush=True)
    out = subprocess.run(["go", *args], cwd=cwd, env=go_env(), check=True, capture_output=True, text=True)
    return out.stdout


def k8s_module_dir(version: str) -> Path:
    return paths.GOMOD_SRC / f"k8s-{version}"


def staging_names(version: str) -> list[str]:
    """The staging module names that k8s.io/kubernetes replaces with ./staging paths."""
    info = json.loads(run_go(["mod", "download", "-json", f"k8s.io/kubernetes@{version}"], paths.CACHE))
    gomod = Path(info["GoMod"]).read_text()
    return sorted(set(re.findall(r"^\s*k8s\.io/([\w.-]+) => \./staging/", gomod, re.M)))


def pin_k8s_module(version: str) -> None:
    """Write gomod/k8s-<version>/ (go.mod, tools.go, go.sum). Run once per new version."""
    mod_dir = k8s_module_dir(version)
    mod_dir.mkdir(parents=True, exist_ok=True)
    staging = f"v0.{version.split('.', 1)[1]}"
    names = staging_names(version)
    lines = [f"module kamaji-ui/localcluster/k8s-{version}", "", "go 1.24", "",
             f"require k8s.io/kubernetes {version}", "", "replace ("]
    lines += [f"\tk8s.io/{n} => k8s.io/{n} {staging}" for n in names]
    lines += [")", ""]
    (mod_dir / "go.mod").write_text("\n".join(lines))
    imports = "\n".join(f'\t_ "{K8S_PKG.format(b)}"' for b in versions.binaries_for(version))
    (mod_dir / "tools.go").write_text(
        "//go:build tools\n\n// Package tools pins the commands this module builds.\npackage tools\n\n"
        f"import (\n{imports}\n)\n"
    )
    run_go(["mod", "tidy"], mod_dir)


def k8s_ldflags(version: str) -> str:
    major, minor = version.lstrip("v").split(".")[:2]
    values = {"gitVersion": version, "gitMajor": major, "gitMinor": minor,
              "gitCommit": "0" * 40, "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z"}
    flags = [f"-X {pkg}.{k}={v}" for pkg in LDFLAG_PKGS for k, v in values.items()]
    return "-s -w " + " ".join(flags)


def stamp_of(mod_dir: Path, extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for name in ("go.mod", "go.sum"):
        h.update((mod_dir / name).read_bytes())
    return h.hexdigest()


def build_module(mod_dir: Path, out: Path, packages: list[str], ldflags: str) -> bool:
    """Build packages of mod_dir into out/ unless the stamp says they are current."""
    stamp_file = out / ".stamp"
    stamp = stamp_of(mod_dir, ldflags + " ".join(packages))
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        return False
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    run_go(["build", "-trimpath", "-ldflags", ldflags, "-o", str(out) + "/", *packages], mod_dir)
    stamp_file.write_text(stamp)
    seconds = time.monotonic() - started
    (out / ".build-seconds").write_text(f"{seconds:.1f}\n")  # the cold build time, for localcluster.bench
    print(f"built {out.name} in {seconds:.0f}s", flush=True)
    return True


def build_k8s(version: str) -> bool:
    mod_dir = k8s_module_dir(version)
    if not (mod_dir / "go.sum").exists():
        pin_k8s_module(version)
    pkgs = [K8S_PKG.format(b) for b in versions.binaries_for(version)]
    return build_module(mod_dir, paths.bin_dir("kubernetes", version), pkgs, k8s_ldflags(version))


def build_etcd() -> bool:
    mod_dir = paths.GOMOD_SRC / f"etcd-{versions.ETCD}"
    return build_module(mod_dir, paths.bin_dir("etcd", versions.ETCD), ["."], "-s -w")


def build_kine() -> bool:
    mod_dir = paths.GOMOD_SRC / f"kine-{versions.KINE}"
    return build_module(mod_dir, paths.bin_dir("kine", versions.KINE), ["."], "-s -w")


def metallb_crd_dir(version: str = versions.METALLB) -> Path:
    """Where the build leaves MetalLB's CRDs (copied from the module), so start needs no Go."""
    return paths.bin_dir("metallb", version) / "crds"


def copy_metallb_crds(mod_dir: Path, version: str) -> None:
    """Copy every CRD MetalLB ships for its controller and speaker out of the module cache."""
    info = json.loads(run_go(["mod", "download", "-json", f"{METALLB_MODULE}@{version}"], mod_dir))
    source = Path(info["Dir"]) / METALLB_CRD_SOURCE
    crds = sorted(source.glob("*.yaml"))
    if not crds:
        raise RuntimeError(f"no CRDs in {source}")
    out = metallb_crd_dir(version)
    out.mkdir(parents=True, exist_ok=True)
    for crd in crds:
        shutil.copyfile(crd, out / crd.name)  # the cache's files are read-only; the copies need not be


def build_metallb() -> bool:
    """MetalLB's controller and speaker (L2 mode), plus its CRDs, into bin/metallb-<version>/.

    MetalLB requires github.com/metallb/frr-k8s at versions the module proxy does not serve
    (v0.0.20 for v0.15.2, v0.0.27 for v0.16.2); gomod/metallb-<version>/go.mod replaces it with
    v0.0.21, the nearest served one. Only its API types are compiled in (registered in the
    client's scheme, used by the frr-k8s BGP mode, which never runs here). That is why the pin is
    v0.15.2: v0.16.2 uses frr-k8s API newer than v0.0.21 (AsPathPrependPrefixes) and does not
    compile against it.
    """
    version = versions.METALLB
    mod_dir = paths.GOMOD_SRC / f"metallb-{version}"
    pkgs = [f"{METALLB_MODULE}/{name}" for name in METALLB_COMMANDS]
    built = build_module(mod_dir, paths.bin_dir("metallb", version), pkgs, "-s -w")
    if built or not any(metallb_crd_dir(version).glob("*.yaml")):
        copy_metallb_crds(mod_dir, version)
    return built


def build_pause() -> bool:
    """The pod sandbox's pause binary: a small Go program of our own (gomod/pause)."""
    mod_dir = paths.GOMOD_SRC / "pause"
    return build_module(mod_dir, paths.bin_dir("pause", versions.PAUSE), ["."], "-s -w")


def build_all() -> None:
    """Build everything the local cluster and the tenants need; a no-op when all is current."""
    paths.CACHE.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    built = [build_etcd()]
    for version in dict.fromkeys((versions.MANAGEMENT, *versions.TENANT_VERSIONS)):
        built.append(build_k8s(version))
    built += [build_kine(), build_metallb(), build_pause()]
    seconds = time.monotonic() - started
    if any(built):
        (paths.CACHE / ".build-seconds").write_text(f"{seconds:.1f}\n")  # the last build that compiled anything
    print(f"build complete in {seconds:.1f}s; cache {paths.CACHE}", flush=True)


if __name__ == "__main__":
    try:
        build_all()
    except subprocess.CalledProcessError as exc:
        sys.stderr.write(exc.stderr or "")
        raise SystemExit(exc.returncode) from None
