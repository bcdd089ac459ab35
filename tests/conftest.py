"""Shared fixtures for the whole test suite."""

import pytest

from localcluster import testing as localcluster_testing

pytest_plugins = ["tests.fixtures_users"]


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
