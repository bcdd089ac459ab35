"""The one set of spec rules (tenants.validation) and the model's full_clean that applies them."""

import pytest
from django.core.exceptions import ValidationError

from tenants import validation
from tenants.models import TenantControlPlane
from tests.factories import make_org, make_tenant


@pytest.mark.parametrize("name", ["a", "prod", "team-1-dev", "0abc", "x" * validation.NAME_MAX])
def test_dns_label_names_are_accepted(name):
    validation.validate_cluster_name(name)


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "Give the cluster a name"),
        ("x" * (validation.NAME_MAX + 1), f"At most {validation.NAME_MAX}"),
        ("Prod", "lower-case"),
        ("my_cluster", "lower-case"),
        ("-prod", "starting and ending"),
        ("prod-", "starting and ending"),
        ("a.b", "DNS-1123"),
    ],
)
def test_bad_names_say_what_is_wrong(name, message):
    with pytest.raises(ValidationError) as exc:
        validation.validate_cluster_name(name)
    assert message in exc.value.messages[0]


def test_only_configured_versions_are_accepted(settings):
    settings.KUBERNETES_VERSIONS = ("v1.34.4", "v1.35.4")
    validation.validate_kubernetes_version("v1.35.4")
    with pytest.raises(ValidationError) as exc:
        validation.validate_kubernetes_version("v1.36.1")
    assert "v1.34.4, v1.35.4" in exc.value.messages[0]  # the message lists what to choose instead


@pytest.mark.parametrize("cidr", ["10.244.0.0/16", "192.168.0.0/24", "fd00:10:96::/108"])
def test_cidrs_of_a_usable_size_pass(cidr):
    validation.validate_cidr(cidr)


@pytest.mark.parametrize(
    "cidr, message",
    [
        ("10.244.0.1/16", "CIDR"),  # host bits set
        ("10.244.0.0", "too small"),  # a single address
        ("10.0.0.0/25", "too small"),
        ("banana", "CIDR"),
        ("10.0.0.0/33", "CIDR"),
    ],
)
def test_bad_cidrs_are_refused(cidr, message):
    with pytest.raises(ValidationError) as exc:
        validation.validate_cidr(cidr)
    assert message in exc.value.messages[0]


@pytest.mark.parametrize("san", ["10.0.0.1", "::1", "api.example.test", "*.example.test", "localhost"])
def test_ip_addresses_and_dns_names_are_valid_sans(san):
    validation.validate_san(san)


@pytest.mark.parametrize("san", ["", "bad_name", "-x.example", "a..b", "*.", "exa mple.test", "*.*.example.test"])
def test_bad_sans_are_refused(san):
    with pytest.raises(ValidationError):
        validation.validate_san(san)


def test_every_bad_san_in_a_list_is_reported():
    with pytest.raises(ValidationError) as exc:
        validation.validate_sans(["ok.example.test", "bad_one", 7, "bad_two"])
    assert len(exc.value.messages) == 3
    assert "7 is not text." in exc.value.messages


def test_sans_must_be_a_list():
    with pytest.raises(ValidationError):
        validation.validate_sans("api.example.test")
    validation.validate_sans([])


def networks(**overrides) -> dict[str, str]:
    spec = {"pod_cidr": "10.244.0.0/16", "service_cidr": "10.96.0.0/16", "dns_service_ip": "10.96.0.10"}
    return validation.validate_networks(**{**spec, **overrides})


def test_default_networks_are_consistent():
    assert networks() == {}


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"pod_cidr": "10.96.0.0/12"}, "service_cidr", "overlaps"),
        ({"service_cidr": "10.244.128.0/24", "dns_service_ip": "10.244.128.10"}, "service_cidr", "overlaps"),
        ({"service_cidr": "fd00::/108", "dns_service_ip": "fd00::a"}, "service_cidr", "same IP family"),
        ({"dns_service_ip": "10.97.0.10"}, "dns_service_ip", "inside the service network"),
        ({"dns_service_ip": "10.96.0.0"}, "dns_service_ip", "reserved"),
        ({"dns_service_ip": "10.96.0.1"}, "dns_service_ip", "reserved"),
        ({"dns_service_ip": "not-an-ip"}, "dns_service_ip", "not an IP address"),
        ({"pod_cidr": "nonsense"}, "pod_cidr", "CIDR"),
    ],
)
def test_network_conflicts_name_the_field(overrides, field, message):
    errors = networks(**overrides)
    assert message in errors[field], errors


def test_unparseable_service_cidr_skips_the_dns_check():
    assert set(networks(service_cidr="10.96.0.0/99")) == {"service_cidr"}


@pytest.mark.django_db
class TestModelFullClean:
    def clean(self, **fields):
        tenant = TenantControlPlane(organization=self.org, **{"name": "ok", **fields})
        with pytest.raises(ValidationError) as exc:
            tenant.full_clean(exclude=["created_by"])
        return exc.value.message_dict

    @pytest.fixture(autouse=True)
    def _org(self):
        self.org = make_org()

    def test_valid_spec_passes(self):
        TenantControlPlane(organization=self.org, name="ok", cert_sans=["a.example.test"]).full_clean(
            exclude=["created_by"]
        )

    def test_field_and_cross_field_errors_come_together(self):
        errors = self.clean(name="Bad", kubernetes_version="v0.1.0", cert_sans=["bad_san"],
                            pod_cidr="10.96.0.0/12", replicas=0)
        assert {"name", "kubernetes_version", "cert_sans", "service_cidr", "replicas"} <= set(errors)

    def test_name_is_unique_per_organisation_only(self):
        make_tenant(org=self.org, name="prod")
        assert "already has a cluster named 'prod'" in self.clean(name="prod")["name"][0]
        TenantControlPlane(organization=make_org(), name="prod").full_clean(exclude=["created_by"])
