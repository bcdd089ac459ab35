"""In Chromium: an operator filters the audit log as they type (htmx swaps the table), and takes a
break-glass kubeconfig from a cluster's page through its small reason form (a real download)."""

import pytest
import yaml

from audit import log as audit
from tenants.models import KubeconfigIssue, Membership, Phase
from tenants.services import kubeconfig, kubeconfig_download
from tests.browser.conftest import PASSWORD
from tests.factories import make_org, make_tenant, make_user
from tests.tenants.test_break_glass import ENDPOINT, FakeKube, subject_of

pytestmark = pytest.mark.browser


@pytest.fixture
def operator_page(page, live_server, transactional_db):
    org = make_org(slug="acme", name="Acme")
    owner = make_user(username="olga", role=Membership.Role.OWNER, org=org)
    tenant = make_tenant(org=org, name="prod", phase=Phase.READY, endpoint=ENDPOINT)
    audit.record(owner, "cluster.create", tenant)
    audit.record(owner, "cluster.update", tenant, replicas=2)
    staff = make_user(username="root-op", staff=True, password=PASSWORD)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", staff.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/clusters/")
    return page, tenant


def test_operator_filters_the_audit_log(operator_page, live_server):
    page, _ = operator_page
    page.click("nav.mainnav >> text=Audit log")
    page.wait_for_url(f"{live_server.url}/operator/audit/")
    assert page.locator("#audit-table-el tbody tr").count() == 2
    page.fill("#id_action", "cluster.update")
    page.wait_for_function("document.querySelectorAll('#audit-table-el tbody tr').length === 1")
    assert "replicas=2" in page.locator("#audit-table-el tbody").inner_text()
    assert "action=cluster.update" in page.url  # the filter is in the address bar


def test_operator_downloads_a_break_glass_kubeconfig(operator_page, live_server, monkeypatch, tmp_path):
    page, tenant = operator_page
    monkeypatch.setattr(kubeconfig_download, "management", lambda: FakeKube(tenant))
    page.goto(f"{live_server.url}/clusters/{tenant.pk}/")
    page.click("#break-glass summary")
    page.fill("#break-glass-reason", "INC-3: owners locked out")
    with page.expect_download() as caught:
        page.click("#break-glass button[type=submit]")
    download = caught.value
    assert download.suggested_filename == "acme-prod-root-op-break-glass.kubeconfig"
    text = download.path().read_text()
    assert subject_of(text)[:2] == ("root-op", ["system:masters"])
    assert yaml.safe_load(text)["clusters"][0]["cluster"]["server"] == ENDPOINT
    assert kubeconfig.server_of(text) == ENDPOINT
    assert KubeconfigIssue.objects.get().kind == KubeconfigIssue.Kind.BREAK_GLASS
    page.reload()
    assert "cluster.kubeconfig.break_glass" in page.locator("#audit-events").inner_text()
