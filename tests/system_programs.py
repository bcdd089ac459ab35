"""Which programs the code starts, and whether a fresh Debian 12 gets each one from a listed package.

A fresh machine has only Debian's required set plus what `scripts/system-packages.sh` installs
(`nft` was once run but never installed: the suite passed only where it happened to be). Two ways
to find the programs, used together:

- statically: every literal program name or absolute path in an argv position of the product's
  own code (`subprocess.*([...])`, the project's `run`/`_run` wrappers, `Daemon(name, [...])`) and
  every `Path("/usr/...")` constant;
- at run time: `ProgramRecorder` notes argv[0] of every process the test session starts (all of
  `subprocess` goes through `Popen`), so names built at run time are caught too.

Programs the project builds itself (under the local cluster's cache) and the virtualenv's own are
not Debian's business; `NOT_FROM_DEBIAN` names the few that come with the machine kind.
"""

import ast
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from localcluster import paths

ROOT = Path(__file__).resolve().parents[1]
PACKAGES_SCRIPT = ROOT / "scripts" / "system-packages.sh"
CODE_DIRS = ("kamaji_ui", "tenants", "datastores", "audit", "localcluster", "benchmarks", "scripts")
# Programs of the machine kind itself, not of any Debian package (the reason is the answer to "why?").
NOT_FROM_DEBIAN = {
    "go": "the Go toolchain comes with the machine kind (/usr/local/go); localcluster/build.py uses it",
}
RUNNERS = {"run", "_run", "check_output", "check_call", "Popen", "call"}


@cache
def listed_packages() -> frozenset[str]:
    """The names in the PACKAGES=( ... ) array of scripts/system-packages.sh."""
    text = PACKAGES_SCRIPT.read_text()
    block = re.search(r"PACKAGES=\((.*?)\)", text, re.S)
    assert block, f"no PACKAGES=( ... ) in {PACKAGES_SCRIPT}"
    body = "\n".join(line.split("#", 1)[0] for line in block.group(1).splitlines())
    return frozenset(body.split())


@cache
def installed_by_listed() -> frozenset[str]:
    """The listed packages and what they depend on (Depends/Pre-Depends, recursively): apt installs those too."""
    seen: set[str] = set()
    todo = list(listed_packages())
    while todo:
        package = todo.pop()
        if package in seen:
            continue
        seen.add(package)
        out = subprocess.run(["dpkg-query", "-W", "-f=${Depends}, ${Pre-Depends}", package],
                             capture_output=True, text=True)
        for alternative in re.split(r"[,|]", out.stdout):
            name = alternative.strip().split(" ", 1)[0].split(":", 1)[0]
            if name:
                todo.append(name)
    return frozenset(seen)


@cache
def package_of(path: str) -> str | None:
    """The Debian package that installed `path` (following symlinks), or None."""
    # Merged /usr: dpkg still records /bin/x and /sbin/x for what now lives in /usr/bin and /usr/sbin.
    spellings = [str(Path(path).resolve()), path]
    spellings += [s.removeprefix("/usr") for s in spellings if re.match(r"^/usr/s?bin/", s)]
    for candidate in dict.fromkeys(spellings):
        out = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout:
            return out.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


@cache
def is_required(package: str) -> bool:
    """Essential or Priority: required — on every Debian system, fresh or not."""
    out = subprocess.run(["dpkg-query", "-W", "-f=${Priority} ${Essential}", package],
                         capture_output=True, text=True)
    priority, _, essential = out.stdout.partition(" ")
    return priority == "required" or essential.strip() == "yes"


def is_own_build(path: str) -> bool:
    resolved = Path(path).resolve()
    return resolved.is_relative_to(paths.CACHE.resolve()) or resolved.is_relative_to(ROOT)


@dataclass(frozen=True)
class Finding:
    program: str
    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.program} ({self.where}): {self.problem}"


def check_program(program: str, where: str) -> Finding | None:
    """None when a fresh machine gets `program`; else what is wrong."""
    name = Path(program).name
    if name in NOT_FROM_DEBIAN or name.startswith("python"):
        return None
    found = program if program.startswith("/") else shutil.which(program)
    if found is None:
        if program.startswith("/") and is_own_build(program):
            return None  # built on first use (e.g. the bench's binaries before `localcluster build`)
        return Finding(program, where, "not on this machine, so no package installs it")
    if is_own_build(found):
        return None
    package = package_of(found)
    if package is None:
        return Finding(program, where, f"{found} belongs to no Debian package")
    if package in installed_by_listed() or is_required(package):
        return None
    return Finding(program, where, f"from package {package}, which {PACKAGES_SCRIPT.name} does not install")


# -- static: literal programs in the code ------------------------------------------------------------

def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _first_literal(node: ast.expr) -> str | None:
    if isinstance(node, ast.List | ast.Tuple) and node.elts:
        first = node.elts[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None


def literal_programs() -> dict[str, str]:
    """program -> "file:line" of its first literal use in the product's code."""
    found: dict[str, str] = {}
    for top in CODE_DIRS:
        for path in sorted((ROOT / top).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                name, candidates = _call_name(node), []
                if name in RUNNERS and node.args:
                    candidates.append(_first_literal(node.args[0]))
                elif name == "Daemon" and len(node.args) > 1:
                    candidates.append(_first_literal(node.args[1]))
                elif name == "Path" and node.args and isinstance(node.args[0], ast.Constant):
                    value = node.args[0].value
                    if isinstance(value, str) and re.match(r"^/(usr/)?s?bin/[^/]+$", value):
                        candidates.append(value)
                for program in filter(None, candidates):
                    found.setdefault(program, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


# -- at run time: what the test session really starts ------------------------------------------------

# Standard-library code that runs a program only to probe for it, and does without it when absent.
OPTIONAL_PROBES = ("ctypes/util.py",)  # find_library() tries gcc and ld after ldconfig


def _is_optional_probe() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.endswith(OPTIONAL_PROBES):
            return True
        frame = frame.f_back
    return False


class ProgramRecorder:
    """Records argv[0] of every Popen in this process while installed."""

    def __init__(self):
        self.started: dict[str, str] = {}
        self._lock = threading.Lock()
        self._original = None

    def install(self) -> None:
        original = self._original = subprocess.Popen
        recorder = self

        class RecordingPopen(original):
            def __init__(self, args, *rest, **kwargs):
                recorder.note(args, kwargs)
                super().__init__(args, *rest, **kwargs)

        subprocess.Popen = RecordingPopen

    def uninstall(self) -> None:
        if self._original is not None:
            subprocess.Popen = self._original

    def note(self, args, kwargs) -> None:
        if kwargs.get("shell") or _is_optional_probe():
            return
        argv = [args] if isinstance(args, str | bytes | Path) else list(args or [])
        if not argv:
            return
        program = str(kwargs.get("executable") or argv[0])
        if program.startswith("/"):
            resolved = program
        else:
            # Resolve now: the PATH and the working directory of this call are what counts.
            resolved = shutil.which(program, path=(kwargs.get("env") or {}).get("PATH")) or program
        with self._lock:
            self.started.setdefault(resolved, Path(program).name)

    def findings(self) -> list[Finding]:
        return [f for program in sorted(self.started) if (f := check_program(program, "started by the tests"))]
