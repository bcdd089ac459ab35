"""An upgrade one minor up rolls the control plane to the new version; kubeconfigs keep working."""

import uuid

import pytest
from kubernetes import client, config

from localcluster import versions
from tenants.models import Membership, Phase, Upgrade
from tenants.services import lifecycle
from tenants.services.controller import Controller
from tenants.services.kubeconfig_download import issue_kubeconfig_for
from tests.factories import make_org, make_user

pytestmark = [pytest.mark.cluster, pytest.mark.django_db]

OLD, NEW = versions.TENANT_VERSIONS[0], versions.TENANT_VERSIONS[1]


def test_upgrade_rolls_to_the_next_minor_and_old_kubeconfigs_still_work(etcd_datastore, tenant_kube, tmp_path):
    org = make_org()
    owner = make_user(role=Membership.Role.OWNER, org=org)
    controller = Controller(kube=tenant_kube, workers=1)
    tenant = lifecycle.tenant_create(organization=org, by=owner, name=f"up-{uuid.uuid4().hex[:6]}",
                                     kubernetes_version=OLD)
    try:
        controller.run_until_settled(tenant.pk, timeout=300)
        tenant.refresh_from_db()
        assert (tenant.phase, tenant.observed_version) == (Phase.READY, OLD)
        path = tmp_path / "kubeconfig"
        path.write_text(issue_kubeconfig_for(user=owner, tenant=tenant, kube=tenant_kube))

        upgrade = lifecycle.upgrade_request(tenant=tenant, to_version=NEW, by=owner)
        assert controller.run_once(tenant.pk).phase == Phase.UPGRADING
        controller.run_until_settled(tenant.pk, timeout=300)
        tenant.refresh_from_db()
        upgrade.refresh_from_db()
        assert (tenant.phase, tenant.observed_version) == (Phase.READY, NEW)
        assert upgrade.state == Upgrade.State.SUCCEEDED
        assert [s["message"] for s in upgrade.steps][-1] == f"All 1 replica(s) run {NEW}"
        api = config.new_client_from_config(config_file=str(path))
        assert client.VersionApi(api).get_code().git_version == NEW  # same CA: the old kubeconfig still works
    finally:
        lifecycle.tenant_delete(tenant=tenant, by=owner)
        controller.run_until_settled(tenant.pk, timeout=300)
