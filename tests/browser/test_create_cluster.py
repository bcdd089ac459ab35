"""A person signs in, creates a cluster through the form (fixing an inline error on the way),
finds it in the list and opens its page — in real Chromium."""

import re

import pytest
from playwright.sync_api import expect

from tenants.models import Phase, TenantControlPlane
from tests.factories import make_tenant

pytestmark = pytest.mark.browser


def test_sign_in_create_a_cluster_find_it_and_open_it(signed_in_page, live_server, member):
    page = signed_in_page
    expect(page.locator(".session .who")).to_contain_text("ada")
    page.click("text=New cluster")
    expect(page.locator("#summary")).to_contain_text("assigned automatically")

    # A bad name gets its error inline while typing, before anything is submitted.
    page.locator("#id_name").press_sequentially("Bad_Name", delay=30)
    expect(page.locator("#errors-name")).to_contain_text("lower-case letters")
    expect(page.locator("#summary")).to_contain_text("acme/Bad_Name")

    page.locator("#id_name").fill("")
    page.locator("#id_name").press_sequentially("web-prod", delay=30)
    expect(page.locator("#errors-name")).to_be_empty()
    expect(page.locator("#summary")).to_contain_text("acme/web-prod")

    page.locator("#id_replicas").fill("2")
    page.locator("#id_replicas").press("Tab")  # leaving the field fires "change"
    expect(page.locator("#summary")).to_contain_text("2 × kube-apiserver")
    page.click("button:has-text('Create cluster')")

    page.wait_for_url(re.compile(r"/clusters/\d+/$"))
    expect(page.locator("h1")).to_contain_text("web-prod")
    expect(page.locator(".page-head .badge")).to_have_text("Pending")
    tenant = TenantControlPlane.objects.get(name="web-prod")
    assert (tenant.organization.slug, tenant.replicas, tenant.phase, tenant.created_by_id) == (
        "acme", 2, Phase.PENDING, member.pk)
    assert not TenantControlPlane.objects.filter(name="Bad_Name").exists()

    # Find it in the list with the live search, then open it.
    make_tenant(org=tenant.organization, name="other-db")
    page.click("nav.mainnav >> text=Clusters")
    expect(page.locator("#cluster-table .table-meta")).to_have_text("2 clusters")
    page.locator("input[name=q]").press_sequentially("web", delay=30)
    page.wait_for_url(re.compile(r"[?&]q=web"))
    expect(page.locator("#cluster-table .table-meta")).to_have_text("1 cluster")
    expect(page.locator('tr[data-cluster="other-db"]')).to_have_count(0)
    row = page.locator('tr[data-cluster="web-prod"]')
    expect(row).to_be_visible()
    row.locator("a", has_text="web-prod").click()
    page.wait_for_url(f"{live_server.url}/clusters/{tenant.pk}/")
    expect(page.locator("#spec")).to_contain_text("assigned automatically")
    expect(page.locator("#conditions")).to_be_visible()
    expect(page.locator("#kubeconfig-download")).to_be_visible()


def test_bad_networks_and_sans_are_refused_with_field_errors(signed_in_page, live_server):
    page = signed_in_page
    page.goto(f"{live_server.url}/clusters/new/")
    page.fill("#id_name", "edge")
    page.locator("#id_service_cidr").fill("10.244.128.0/20")
    page.locator("#id_service_cidr").dispatch_event("change")
    expect(page.locator("#errors-service_cidr")).to_contain_text("overlaps the pod network")
    page.fill("#id_cert_sans", "bad..name")
    page.click("button:has-text('Create cluster')")

    expect(page.locator("#errors-service_cidr")).to_contain_text("overlaps the pod network 10.244.0.0/16")
    expect(page.locator("#errors-cert_sans")).to_contain_text("'bad..name' is neither an IP address")
    assert page.url == f"{live_server.url}/clusters/new/"
    assert not TenantControlPlane.objects.exists()
