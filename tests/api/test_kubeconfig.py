"""Kubeconfig download through the API: who may ask, and the answer before the cluster is up.

Issuing a real kubeconfig needs the cluster's CA from the management cluster; that path is
proven against the local cluster by the kubeconfig service's own integration tests.
"""

import pytest

from tenants.models import KubeconfigIssue


def kubeconfig_url(cluster) -> str:
    return f"/api/clusters/{cluster.pk}/kubeconfig/"


@pytest.mark.parametrize("method", ["get", "post"])
def test_member_asking_before_the_cluster_has_an_endpoint_gets_409(users, api, method):
    response = getattr(api(users.member), method)(kubeconfig_url(users.cluster))
    assert response.status_code == 409
    assert "endpoint" in response.json()["detail"]
    assert not KubeconfigIssue.objects.exists()


@pytest.mark.parametrize("role, expected", [("viewer", 403), ("outsider", 404)])
def test_viewer_is_forbidden_and_outsider_told_nothing(users, api, role, expected):
    assert api(users[role]).get(kubeconfig_url(users.cluster)).status_code == expected
    assert not KubeconfigIssue.objects.exists()
