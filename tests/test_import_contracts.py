"""The import contracts in pyproject.toml ([tool.importlinter]) hold, and the check can fail."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)


def test_every_import_contract_is_kept():
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert {c["id"] for c in contracts} >= {"apps", "localcluster", "tenants-layers", "datastore-drivers"}
    assert f"Contracts: {len(contracts)} kept, 0 broken." in result.stdout


def test_a_broken_contract_fails_the_check(tmp_path):
    # tenants imports datastores (a tenant's datastore); a contract that forbids it must be reported broken.
    config = tmp_path / "importlinter.toml"
    config.write_text("""
[tool.importlinter]
root_packages = ["tenants", "datastores"]

[[tool.importlinter.contracts]]
name = "tenants never imports datastores (false on purpose)"
type = "forbidden"
source_modules = ["tenants"]
forbidden_modules = ["datastores"]
""")
    result = lint_imports("--config", str(config))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout and "tenants is not allowed to import datastores" in result.stdout
