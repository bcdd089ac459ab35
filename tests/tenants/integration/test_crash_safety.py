"""Kill the controller at points in a reconcile; a restart reaches the same end state, with no
duplicated or leaked objects and no orphaned etcd users or keys.

The controller runs as `manage.py controller --once <pk>` in a subprocess; KAMAJI_UI_CRASH_AT
makes it exit 137 (os._exit, like kill -9) when it reaches the named point.
"""

import uuid

import pytest

from datastores.drivers.etcd import etcd_prefix_for, etcd_user_for
from datastores.services.registration import register_local_datastores
from localcluster import versions
from tenants.models import TenantControlPlane
from tenants.services import pki
from tenants.services.manifests import secrets
from tests.tenants.integration.conftest import etcd_keys_under, etcd_users, objects_of
from tests.tenants.integration.controller_process import ManagePy

pytestmark = [pytest.mark.cluster, pytest.mark.django_db]


def secret(kube, namespace, name) -> dict[str, str]:
    return secrets.secret_text(kube.get("Secret", name, namespace))


def test_killed_at_each_point_a_restart_converges_and_deletion_leaves_nothing(
    tmp_path, tenant_kube, local_etcd_server
):
    manage = ManagePy(tmp_path)
    manage.migrate()
    name = f"crash-{uuid.uuid4().hex[:6]}"
    pk, uid, namespace = manage.create_tenant(name=name, version=versions.TENANT_VERSIONS[0])

    killed = manage.run("controller", "--once", str(pk), crash_at="after-datastore")
    assert killed.returncode == 137, killed.stderr
    assert secret(tenant_kube, namespace, f"{name}-datastore")["prefix"].endswith(uid)
    assert tenant_kube.get("Secret", f"{name}-pki", namespace) is None

    killed = manage.run("controller", "--once", str(pk), crash_at="after-certificates")
    assert killed.returncode == 137, killed.stderr
    issued = secret(tenant_kube, namespace, f"{name}-pki")
    assert tenant_kube.get("Deployment", name, namespace) is None

    killed = manage.run("controller", "--once", str(pk), crash_at="after-deployment")
    assert killed.returncode == 137, killed.stderr
    assert tenant_kube.get("Deployment", name, namespace) is not None

    done = manage.run("controller", "--once", str(pk))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"tenant {pk}: Ready")
    assert manage.row(pk)["phase"] == "Ready"

    # Restarts re-used what was there: same CA and serving certificate, so no rollout either.
    final = secret(tenant_kube, namespace, f"{name}-pki")
    assert final == issued
    assert pki.signed_by(final["apiserver.crt"], final["ca.crt"])
    found = objects_of(tenant_kube, uid)
    assert len(found["Secret"]) == 3
    assert len(found["Deployment"]) == 1 and len(found["ReplicaSet"]) == 1 and len(found["Service"]) == 1
    assert len(found["Pod"]) == 1

    etcd = next(d for d in register_local_datastores() if d.driver == "etcd")
    tenant = TenantControlPlane(pk=pk, uid=uuid.UUID(uid))
    assert etcd_users(etcd).count(etcd_user_for(tenant)) == 1

    manage.delete_tenant(pk)
    killed = manage.run("controller", "--once", str(pk), crash_at="mid-delete")
    assert killed.returncode == 137, killed.stderr
    ns = tenant_kube.get("Namespace", namespace)
    assert ns is None or ns["metadata"].get("deletionTimestamp")

    killed = manage.run("controller", "--once", str(pk), crash_at="after-deprovision")
    assert killed.returncode == 137, killed.stderr
    assert manage.row(pk)["phase"] == "Deleting"  # the row goes last
    assert etcd_user_for(tenant) not in etcd_users(etcd)

    done = manage.run("controller", "--once", str(pk))
    assert done.returncode == 0, done.stderr
    assert manage.row(pk) is None
    assert objects_of(tenant_kube, uid) == {}
    assert tenant_kube.get("Namespace", namespace) is None
    assert etcd_user_for(tenant) not in etcd_users(etcd)
    assert etcd_keys_under(etcd, etcd_prefix_for(tenant)) == 0
