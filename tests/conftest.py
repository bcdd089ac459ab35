"""Shared fixtures for the whole test suite."""

import os

import pytest

from localcluster import netns
from localcluster import testing as localcluster_testing
from tests.system_programs import ProgramRecorder

# The session lives in the node's network namespace, as the product's controller lives in its
# management cluster's network: the bridge, pods, NodePorts and datastore servers are there, and
# every thread and process the tests start inherits it (before any thread exists, so: at import).
# The stop/start tests stay on the machine: they take that namespace down and make a new one.
if os.environ.get("KAMAJI_UI_TEST_STOP") != "1":
    netns.enter()

pytest_plugins = ["tests.fixtures_users"]

# Every program the session starts must come from a package a fresh machine installs
# (tests/system_programs.py); checked once all tests have run.
_programs = ProgramRecorder()


def pytest_sessionstart(session):
    _programs.install()


def pytest_sessionfinish(session, exitstatus):
    _programs.uninstall()
    findings = _programs.findings()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if findings:
        lines = "\n".join(f"  {f}" for f in findings)
        message = f"programs started by the tests that a fresh machine would lack:\n{lines}"
        if reporter:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif reporter:
        reporter.write_line(f"fresh-machine check: {len(_programs.started)} programs started, each from a "
                            "listed or required package (or built by the project)")


@pytest.fixture(scope="session")
def management_cluster() -> localcluster_testing.ManagementCluster:
    """The real local management cluster: started once (or reused if up), never stopped here;
    `python -m localcluster stop` (run by .ci/run at the end) stops it."""
    return localcluster_testing.ensure_management_cluster()


@pytest.fixture
def namespace(management_cluster) -> str:
    """A fresh namespace in the management cluster, deleted (with all it holds) after the test."""
    api = management_cluster.api_client()
    name = localcluster_testing.create_namespace(api)
    yield name
    localcluster_testing.delete_namespace(api, name)
