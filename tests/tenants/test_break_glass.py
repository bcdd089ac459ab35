"""Break-glass kubeconfigs (unit): staff only, a reason required, system:masters for
settings.BREAK_GLASS_VALIDITY, recorded as a KubeconfigIssue and in the audit log; the personal
kubeconfig (which shares the issuing code) is unchanged. A fake management cluster holds the CA."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from cryptography import x509
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from tenants.models import KubeconfigIssue, Phase
from tenants.services import kubeconfig, kubeconfig_download, pki
from tenants.services.kubeconfig_download import (
    KubeconfigUnavailable,
    issue_break_glass_kubeconfig_for,
    issue_kubeconfig_for,
)
from tenants.services.manifests import secrets

pytestmark = pytest.mark.django_db

CA = pki.issue_ca(common_name="kubernetes", now=datetime.now(UTC) - timedelta(minutes=5), validity=timedelta(days=30))
ENDPOINT = "https://10.212.0.1:31443"


class FakeKube:
    """Just enough of tenants.services.kube.Kube: the tenant's PKI Secret."""

    def __init__(self, tenant):
        self.name, self.namespace = secrets.secret_name(tenant, secrets.PKI), tenant.namespace

    def get(self, kind, name, namespace):
        assert (kind, name, namespace) == ("Secret", self.name, self.namespace)
        encode = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
        return {"data": {pki.CA_CERT: encode(CA.cert_pem), pki.CA_KEY: encode(CA.key_pem)}}


@pytest.fixture
def ready(users):
    users.cluster.phase, users.cluster.endpoint = Phase.READY, ENDPOINT
    users.cluster.save()
    return users


@pytest.fixture
def fake_management(monkeypatch, ready):
    """The views call the service without `kube`: it asks for the management cluster."""
    monkeypatch.setattr(kubeconfig_download, "management", lambda: FakeKube(ready.cluster))


def subject_of(text: str) -> tuple[str, list[str], x509.Certificate]:
    cert_pem, key_pem = kubeconfig.client_certificate_of(text)
    assert pki.key_matches(cert_pem, key_pem) and pki.signed_by(cert_pem, CA.cert_pem)
    cert = pki.load_cert(cert_pem)
    cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    orgs = [a.value for a in cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)]
    return cn, orgs, cert


def test_staff_get_system_masters_for_an_hour_recorded_with_the_reason(ready):
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.7")
    text = issue_break_glass_kubeconfig_for(user=ready.staff, tenant=ready.cluster, reason="  INC-42: etcd wedged ",
                                            request=request, kube=FakeKube(ready.cluster))
    cn, orgs, cert = subject_of(text)
    assert (cn, orgs) == ("staff", ["system:masters"])
    assert timedelta(minutes=59) < cert.not_valid_after_utc - datetime.now(UTC) <= timedelta(minutes=60)
    assert yaml.safe_load(text)["clusters"][0]["cluster"]["server"] == ENDPOINT

    issue = KubeconfigIssue.objects.get()
    assert (issue.kind, issue.user, issue.username, issue.tenant) == (
        KubeconfigIssue.Kind.BREAK_GLASS, ready.staff, "staff", ready.cluster)
    assert issue.serial_number == pki.serial_hex(kubeconfig.client_certificate_of(text)[0])
    event = AuditEvent.objects.get(action="cluster.kubeconfig.break_glass")
    assert (event.actor, event.object_id, event.organization, event.remote_addr) == (
        ready.staff, str(ready.cluster.pk), ready.org, "192.0.2.7")
    assert event.data["reason"] == "INC-42: etcd wedged"
    assert event.data["serial"] == issue.serial_number
    assert event.data["expires"] == issue.expires_at.isoformat(timespec="seconds")


def test_validity_comes_from_the_setting(ready, settings):
    settings.BREAK_GLASS_VALIDITY = timedelta(minutes=15)
    text = issue_break_glass_kubeconfig_for(user=ready.staff, tenant=ready.cluster, reason="drill",
                                            kube=FakeKube(ready.cluster))
    left = subject_of(text)[2].not_valid_after_utc - datetime.now(UTC)
    assert timedelta(minutes=14) < left <= timedelta(minutes=15)


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reason_is_required(ready, reason):
    with pytest.raises(ValidationError) as caught:
        issue_break_glass_kubeconfig_for(user=ready.staff, tenant=ready.cluster, reason=reason,
                                         kube=FakeKube(ready.cluster))
    assert "reason" in caught.value.message_dict
    assert not KubeconfigIssue.objects.exists() and not AuditEvent.objects.exists()


@pytest.mark.parametrize("role", ["outsider", "viewer", "member", "owner"])
def test_everyone_but_staff_is_told_it_does_not_exist(ready, role):
    with pytest.raises(Http404):
        issue_break_glass_kubeconfig_for(user=ready[role], tenant=ready.cluster, reason="please",
                                         kube=FakeKube(ready.cluster))
    assert not KubeconfigIssue.objects.exists() and not AuditEvent.objects.exists()


def test_no_endpoint_yet_is_unavailable(users):
    with pytest.raises(KubeconfigUnavailable):
        issue_break_glass_kubeconfig_for(user=users.staff, tenant=users.cluster, reason="x",
                                         kube=FakeKube(users.cluster))
    assert not KubeconfigIssue.objects.exists()


def test_personal_kubeconfig_is_unchanged_by_the_shared_issuing(ready):
    text = issue_kubeconfig_for(user=ready.member, tenant=ready.cluster, kube=FakeKube(ready.cluster))
    cn, orgs, cert = subject_of(text)
    assert (cn, orgs) == ("member", [ready.org.admin_group])
    assert timedelta(hours=23, minutes=59) < cert.not_valid_after_utc - datetime.now(UTC) <= timedelta(hours=24)
    assert KubeconfigIssue.objects.get().kind == KubeconfigIssue.Kind.USER
    event = AuditEvent.objects.get()
    assert event.action == "cluster.kubeconfig.download"
    assert set(event.data) == {"serial", "expires_at", "identity", "group"}


# --- UI and API ---------------------------------------------------------------------------------

def test_staff_see_the_button_and_nobody_else_does(client, ready):
    url = reverse("tenants:detail", kwargs={"pk": ready.cluster.pk})
    for role in ("viewer", "member", "owner"):
        client.force_login(ready[role])
        assert b"Break-glass kubeconfig" not in client.get(url).content
    client.force_login(ready.staff)
    page = client.get(url).content.decode()
    assert "Break-glass kubeconfig" in page
    assert reverse("tenants:break-glass", kwargs={"pk": ready.cluster.pk}) in page
    assert 'name="reason"' in page and "csrfmiddlewaretoken" in page


def test_ui_post_downloads_and_an_empty_reason_goes_back_with_a_message(client, ready, fake_management):
    client.force_login(ready.staff)
    url = reverse("tenants:break-glass", kwargs={"pk": ready.cluster.pk})
    response = client.post(url, {"reason": "INC-7"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="{ready.org.slug}-{ready.cluster.name}-staff-break-glass.kubeconfig"')
    assert subject_of(response.content.decode())[1] == ["system:masters"]
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]

    response = client.post(url, {"reason": " "}, follow=True)
    assert b"No break-glass kubeconfig" in response.content
    assert KubeconfigIssue.objects.count() == 1


def test_ui_needs_csrf(ready, fake_management):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(ready.staff)
    response = client.post(reverse("tenants:break-glass", kwargs={"pk": ready.cluster.pk}), {"reason": "x"})
    assert response.status_code == 403
    assert not KubeconfigIssue.objects.exists()


def test_api_staff_get_yaml_others_404_and_a_reason_is_required(ready, fake_management):
    api = APIClient()
    url = f"/api/clusters/{ready.cluster.pk}/break-glass-kubeconfig/"
    api.force_authenticate(ready.member)
    assert api.post(url, {"reason": "x"}, format="json").status_code == 404
    api.force_authenticate(ready.staff)
    assert api.post(url, {}, format="json").status_code == 400
    assert api.post(url, {"reason": ""}, format="json").status_code == 400
    response = api.post(url, {"reason": "INC-9"}, format="json")
    assert response.status_code == 200 and response["Content-Type"] == "application/yaml"
    assert response["Cache-Control"] == "no-store"
    assert subject_of(response.content.decode())[:2] == ("staff", ["system:masters"])
    assert AuditEvent.objects.get(action="cluster.kubeconfig.break_glass").data["reason"] == "INC-9"
