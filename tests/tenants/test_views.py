"""The cluster pages: forms give field errors and create nothing on bad input, htmx gets fragments,
delete needs the typed name, and each role sees only what it may do."""

import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tenants.models import Phase, TenantControlPlane, Upgrade
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def create_data(users, **overrides) -> dict:
    data = {
        "organization": users.org.pk, "name": "staging", "kubernetes_version": "v1.35.4", "replicas": "2",
        "service_type": "NodePort", "port": "6443", "cert_sans": "api.example.test, 192.0.2.10",
        "pod_cidr": "10.244.0.0/16", "service_cidr": "10.96.0.0/16", "dns_service_ip": "10.96.0.10",
        "addon_coredns": "on", "addon_kube_proxy": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture(autouse=True)
def versions(settings):
    settings.KUBERNETES_VERSIONS = ("v1.34.4", "v1.35.4")
    settings.DEFAULT_KUBERNETES_VERSION = "v1.35.4"


@pytest.fixture
def member_client(client, users):
    client.force_login(users.member)
    return client


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"name": "Bad_Name"}, "name", "lower-case letters"),
    ({"name": "prod"}, "name", "already has a cluster named 'prod'"),
    ({"name": "x" * 41}, "name", "at most 40 characters"),
    ({"service_cidr": "10.244.128.0/20"}, "service_cidr", "overlaps the pod network"),
    ({"pod_cidr": "10.244.0.0/33"}, "pod_cidr", "not a network in CIDR notation"),
    ({"kubernetes_version": "v1.99.0"}, "kubernetes_version", "Version 'v1.99.0' is not supported"),
    ({"cert_sans": "good.example.test\nbad..name"}, "cert_sans", "'bad..name' is neither an IP address"),
    ({"dns_service_ip": "10.97.0.10"}, "dns_service_ip", "must lie inside the service network"),
    ({"replicas": "9"}, "replicas", "less than or equal to 5"),
])
def test_create_with_bad_input_shows_the_field_error_and_creates_nothing(member_client, users, overrides, field,
                                                                          message):
    before = TenantControlPlane.objects.count()
    response = member_client.post(reverse("tenants:create"), create_data(users, **overrides))

    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in e for e in form.errors[field]), form.errors
    assert len(form.errors[field]) == 1  # the model re-checks fields in clean(); say it once
    html = response.content.decode()
    assert f'id="errors-{field}"' in html
    assert message.replace("'", "&#x27;") in html
    assert TenantControlPlane.objects.count() == before
    assert not AuditEvent.objects.filter(action="cluster.create").exists()


def test_create_saves_the_cluster_and_opens_its_page(member_client, users):
    response = member_client.post(reverse("tenants:create"), create_data(users))

    tenant = TenantControlPlane.objects.get(organization=users.org, name="staging")
    assert response.status_code == 302
    assert response["Location"] == reverse("tenants:detail", args=[tenant.pk])
    assert tenant.cert_sans == ["api.example.test", "192.0.2.10"]
    assert (tenant.replicas, tenant.phase, tenant.created_by) == (2, Phase.PENDING, users.member)
    assert (tenant.addon_coredns, tenant.addon_konnectivity) == (True, False)
    assert AuditEvent.objects.get(action="cluster.create").actor == users.member


def test_create_offers_only_organisations_the_user_may_change(client, users):
    client.force_login(users.outsider)  # owner of other_org only
    form = client.get(reverse("tenants:create")).context["form"]
    assert list(form.fields["organization"].queryset) == [users.other_org]

    response = client.post(reverse("tenants:create"), create_data(users, organization=users.org.pk))
    assert response.status_code == 400
    assert "organization" in response.context["form"].errors
    assert not TenantControlPlane.objects.filter(name="staging").exists()


def test_viewers_cannot_open_the_create_page(client, users):
    client.force_login(users.viewer)
    assert client.get(reverse("tenants:create")).status_code == 403


def test_datastore_choice_is_for_operators_only(client, users):
    client.force_login(users.member)
    assert "datastore" not in client.get(reverse("tenants:create")).context["form"].fields
    client.force_login(users.staff)
    assert "datastore" in client.get(reverse("tenants:create")).context["form"].fields


def test_inline_validation_returns_the_fields_error_fragment_and_the_summary(member_client, users):
    response = member_client.post(reverse("tenants:validate"), create_data(users, name="Bad_Name"),
                                  HTTP_HX_TRIGGER_NAME="name", **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div class="field-errors" id="errors-name"')
    assert "lower-case letters" in html
    assert 'id="summary" hx-swap-oob="true"' in html
    assert "acme/Bad_Name" in html  # the summary shows what was typed
    assert "errors-kubernetes_version" not in html  # only the field being typed in
    assert not TenantControlPlane.objects.filter(name="Bad_Name").exists()


def test_inline_validation_of_a_good_value_clears_the_error(member_client, users):
    response = member_client.post(reverse("tenants:validate"), create_data(users, name="fine-name"),
                                  HTTP_HX_TRIGGER_NAME="name", **HTMX)
    html = response.content.decode()
    assert '<div class="field-errors" id="errors-name" aria-live="polite"></div>' in html


def test_inline_validation_of_a_network_updates_the_related_fields_out_of_band(member_client, users):
    response = member_client.post(
        reverse("tenants:validate"), create_data(users, service_cidr="10.100.0.0/16"),
        HTTP_HX_TRIGGER_NAME="service_cidr", **HTMX,
    )
    html = response.content.decode()
    assert 'id="errors-dns_service_ip" hx-swap-oob="true"' in html
    assert "must lie inside the service network 10.100.0.0/16" in html


def test_create_page_shows_defaults_and_the_summary(member_client, users):
    html = member_client.get(reverse("tenants:create")).content.decode()
    assert "What will be created" in html
    assert "assigned automatically" in html
    assert 'value="10.244.0.0/16"' in html
    assert 'hx-post="/clusters/new/validate/"' in html
    assert 'hx-trigger="keyup changed delay:300ms, change"' in html
    assert "csrfmiddlewaretoken" in html


@pytest.mark.parametrize("url_name", ["tenants:list", "tenants:detail"])
def test_htmx_gets_the_fragment_and_a_normal_request_the_full_page(member_client, users, url_name):
    url = reverse(url_name, args=[users.cluster.pk] if url_name == "tenants:detail" else [])
    full = member_client.get(url).content.decode()
    fragment = member_client.get(url, **HTMX).content.decode()

    assert "<html" in full and 'class="topbar"' in full
    assert "<html" not in fragment and 'class="topbar"' not in fragment
    assert users.cluster.name in fragment
    assert fragment.strip() in full  # the page is built from the same partial


@pytest.mark.parametrize(("url_name", "form_id"), [
    ("tenants:create", "create-form"), ("tenants:edit", "edit-form"), ("tenants:upgrade", "upgrade-form"),
    ("tenants:delete", "delete-form"),
])
def test_form_pages_give_htmx_just_the_form(member_client, users, url_name, form_id):
    url = reverse(url_name, args=[] if url_name == "tenants:create" else [users.cluster.pk])
    full = member_client.get(url).content.decode()
    fragment = member_client.get(url, **HTMX).content.decode()

    assert "<html" in full and f'id="{form_id}"' in full
    assert fragment.lstrip().startswith(f'<form method="post" action="{url}"')
    assert "<html" not in fragment and "csrfmiddlewaretoken" in fragment


def test_history_restore_gets_the_full_page(member_client):
    html = member_client.get(reverse("tenants:list"), HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert "<html" in html.content.decode()


def test_list_shows_only_the_users_organisations(member_client, users):
    html = member_client.get(reverse("tenants:list")).content.decode()
    assert 'data-cluster="prod"' in html
    assert 'data-cluster="theirs"' not in html


def test_list_searches_filters_by_phase_sorts_and_paginates(member_client, users):
    make_tenant(org=users.org, name="alpha", phase=Phase.READY)
    make_tenant(org=users.org, name="beta-db", phase=Phase.FAILED)
    for n in range(25):
        make_tenant(org=users.org, name=f"bulk-{n:02d}")

    search = member_client.get(reverse("tenants:list"), {"q": "beta"}, **HTMX).content.decode()
    assert 'data-cluster="beta-db"' in search and 'data-cluster="alpha"' not in search

    ready = member_client.get(reverse("tenants:list"), {"phase": "Ready"}, **HTMX).content.decode()
    assert 'data-cluster="alpha"' in ready and 'data-cluster="prod"' not in ready

    table = member_client.get(reverse("tenants:list"), {"sort": "-name"}).context["table"]
    names = [row.record.name for row in table.page.object_list]
    assert names[0] == "prod" and names == sorted(names, reverse=True)
    assert table.paginator.num_pages == 2 and len(names) == 20


def test_detail_shows_spec_status_conditions_endpoint_and_upgrades(member_client, users):
    tenant = users.cluster
    tenant.endpoint = "10.212.0.1:31443"
    tenant.set_condition("Ready", False, "WaitingForPods", "0/1 API server replicas ready")
    tenant.save()
    upgrade = Upgrade.objects.create(tenant=tenant, from_version="v1.34.4", to_version="v1.35.4",
                                     state=Upgrade.State.SUCCEEDED)
    upgrade.log("Rolled kube-apiserver")
    upgrade.save()

    html = member_client.get(reverse("tenants:detail", args=[tenant.pk])).content.decode()
    for marker in (f'data-phase-of="{tenant.pk}"', 'id="conditions"', 'id="pods"', 'id="events"',
                   'id="endpoint"', "10.212.0.1:31443", "WaitingForPods", "0/1 API server replicas ready",
                   "v1.34.4 → v1.35.4", "Rolled kube-apiserver", "Download kubeconfig", "Upgrade", "Delete"):
        assert marker in html, marker


def test_viewers_see_no_kubeconfig_or_change_buttons_and_are_refused(client, users):
    client.force_login(users.viewer)
    pk = users.cluster.pk
    html = client.get(reverse("tenants:detail", args=[pk])).content.decode()
    assert "Download kubeconfig" not in html
    assert reverse("tenants:edit", args=[pk]) not in html
    for name in ("kubeconfig", "edit", "upgrade", "delete"):
        assert client.get(reverse(f"tenants:{name}", args=[pk])).status_code == 403, name


def test_outsiders_get_404_for_another_organisations_cluster(client, users):
    client.force_login(users.outsider)
    for name in ("detail", "kubeconfig", "edit", "upgrade", "delete"):
        assert client.get(reverse(f"tenants:{name}", args=[users.cluster.pk])).status_code == 404, name


def test_anonymous_users_are_sent_to_sign_in(client, users):
    response = client.get(reverse("tenants:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_delete_needs_the_typed_name(member_client, users):
    url = reverse("tenants:delete", args=[users.cluster.pk])

    wrong = member_client.post(url, {"confirm_name": "prod2"})
    assert wrong.status_code == 400
    assert "type 'prod' exactly" in wrong.context["form"].errors["confirm_name"][0]
    users.cluster.refresh_from_db()
    assert users.cluster.phase == Phase.PENDING

    right = member_client.post(url, {"confirm_name": "prod"})
    assert right.status_code == 302 and right["Location"] == reverse("tenants:list")
    users.cluster.refresh_from_db()
    assert users.cluster.phase == Phase.DELETING
    assert AuditEvent.objects.filter(action="cluster.delete", object_id=str(users.cluster.pk)).exists()
    detail = member_client.get(reverse("tenants:detail", args=[users.cluster.pk])).content.decode()
    assert "Deletion requested" in detail
    assert reverse("tenants:edit", args=[users.cluster.pk]) not in detail  # nothing left to change


def test_edit_changes_allowed_fields_and_reports_bad_ones(member_client, users):
    url = reverse("tenants:edit", args=[users.cluster.pk])
    data = {"replicas": "3", "service_type": "ClusterIP", "port": "6443", "cert_sans": "", "addon_coredns": "on"}

    bad = member_client.post(url, {**data, "cert_sans": "no_underscores.example"})
    assert bad.status_code == 400 and "cert_sans" in bad.context["form"].errors
    users.cluster.refresh_from_db()
    assert users.cluster.replicas == 1

    assert member_client.post(url, data).status_code == 302
    users.cluster.refresh_from_db()
    assert (users.cluster.replicas, users.cluster.service_type, users.cluster.generation) == (3, "ClusterIP", 2)


def test_upgrade_requests_the_next_minor_and_refuses_a_downgrade(member_client, users):
    old = make_tenant(org=users.org, name="old", kubernetes_version="v1.34.4")
    form = member_client.get(reverse("tenants:upgrade", args=[old.pk])).context["form"]
    assert [v for v, _ in form.fields["to_version"].choices] == ["v1.35.4"]

    assert member_client.post(reverse("tenants:upgrade", args=[old.pk]), {"to_version": "v1.35.4"}).status_code == 302
    old.refresh_from_db()
    assert (old.kubernetes_version, old.phase) == ("v1.35.4", Phase.UPGRADING)
    assert old.upgrades.get().state == Upgrade.State.PENDING

    down = member_client.post(reverse("tenants:upgrade", args=[old.pk]), {"to_version": "v1.34.4"})
    assert down.status_code == 400
    assert "to_version" in down.context["form"].errors


def test_kubeconfig_of_a_cluster_without_an_endpoint_says_why_on_its_page(member_client, users):
    response = member_client.get(reverse("tenants:kubeconfig", args=[users.cluster.pk]), follow=True)
    assert response.redirect_chain == [(reverse("tenants:detail", args=[users.cluster.pk]), 302)]
    assert "No kubeconfig yet: Available once the cluster is Ready" in response.content.decode()


def test_an_htmx_request_without_a_session_sends_the_whole_page_to_sign_in(client, users):
    response = client.post(reverse("tenants:validate"), {"name": "x"}, HTTP_HX_CURRENT_URL="http://testserver/clusters/new/",
                           **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{reverse('login')}?next=%2Fclusters%2Fnew%2F"


def test_refusals_render_the_sites_pages_with_the_reason(client, users):
    client.force_login(users.viewer)
    refused = client.get(reverse("tenants:edit", args=[users.cluster.pk]))
    assert refused.status_code == 403
    assert "Your role does not allow change on this cluster." in refused.content.decode()
    client.force_login(users.outsider)
    missing = client.get(reverse("tenants:detail", args=[users.cluster.pk]))
    assert missing.status_code == 404 and 'class="topbar"' in missing.content.decode()


def test_the_table_fragment_carries_the_sort_into_the_filter_form(member_client):
    fragment = member_client.get(reverse("tenants:list"), {"sort": "-created_at"}, **HTMX).content.decode()
    assert '<input type="hidden" name="sort" form="cluster-filters" value="-created_at">' in fragment
    page = member_client.get(reverse("tenants:list")).content.decode()
    assert 'id="cluster-filters"' in page


@pytest.mark.parametrize(("state", "reason"), [
    ({}, "Available once the cluster is Ready: its endpoint does not answer yet."),
    ({"endpoint": "10.212.0.1:31443", "phase": Phase.PROVISIONING,
      "conditions": [{"type": "Ready", "status": "False", "reason": "Unreachable", "message": "ConnectError"}]},
     "Available once the cluster is Ready: its endpoint does not answer yet (ConnectError)."),
    ({"endpoint": "10.212.0.1:31443", "phase": Phase.DELETING}, "The cluster is being deleted."),
])
def test_download_button_is_disabled_with_the_reason_until_the_cluster_is_ready(member_client, users, state, reason):
    tenant = make_tenant(org=users.org, name="coming", **state)
    html = member_client.get(reverse("tenants:detail", args=[tenant.pk])).content.decode()
    assert '<button type="button" class="btn btn-primary" id="kubeconfig-download" disabled' in html
    assert f'id="kubeconfig-reason">{reason}</span>' in html
    assert reverse("tenants:kubeconfig", args=[tenant.pk]) not in html


@pytest.mark.parametrize("state", [
    {"phase": Phase.READY},
    {"phase": Phase.UPGRADING,  # an upgrade rolls while the old API server still answers
     "conditions": [{"type": "Ready", "status": "True", "reason": "Serving", "message": ""}]},
])
def test_download_is_a_link_once_the_api_server_answers(member_client, users, state):
    tenant = make_tenant(org=users.org, name="up", endpoint="10.212.0.1:31443", **state)
    html = member_client.get(reverse("tenants:detail", args=[tenant.pk])).content.decode()
    url = reverse("tenants:kubeconfig", args=[tenant.pk])
    assert f'<a class="btn btn-primary" id="kubeconfig-download" href="{url}" download>' in html
    assert "kubeconfig-reason" not in html


def test_viewers_get_an_empty_hidden_slot_for_the_live_download_button(client, users):
    client.force_login(users.viewer)
    html = client.get(reverse("tenants:detail", args=[users.cluster.pk])).content.decode()
    assert '<span id="kubeconfig-action" hidden></span>' in html


def test_detail_page_shows_one_phase_in_every_badge(member_client, users):
    tenant = make_tenant(org=users.org, name="one-phase", phase=Phase.PROVISIONING)
    html = member_client.get(reverse("tenants:detail", args=[tenant.pk])).content.decode()
    badges = re.findall(rf'<span class="badge phase-(\w+)" data-phase-of="{tenant.pk}">(\w+)</span>', html)
    assert badges == [("provisioning", "Provisioning")] * 2  # the header and the status card
