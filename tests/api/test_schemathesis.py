"""schemathesis against the served OpenAPI schema, in-process (WSGI, the test database, no controller).

Every check schemathesis has is on, as a member and as an operator (token auth): no 5xx, only
documented status codes and shapes, schema-invalid input refused, schema-valid input accepted.
Afterwards nothing is half-made: every cluster row the run left was accepted whole (valid by the
model's rules, in an organisation its creator may create in, with its audit record) and waits, in
Pending or Deleting, for the controller; every upgrade moved its cluster. The controller is not run
on the hundreds of rows: reconciling is level-triggered from exactly these fields, and the
reconcile's own tests prove that a valid row is reconciled.

Datastore endpoints are limited to this machine's own addresses (settings.DATASTORE_ENDPOINT_NETWORKS:
loopback and the local cluster's bridge network), so no registered datastore points anywhere else.
"""

import logging
import time

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token

from audit.models import AuditEvent
from datastores.models import DataStore
from localcluster import network
from tenants.authorization import Action, organizations_for
from tenants.models import Phase, TenantControlPlane, Upgrade

MAX_EXAMPLES = 20  # per operation and phase: the whole run stays near a minute per role on 2 cores

# Schema-valid input the API still refuses with a field error, because the rule spans fields or
# depends on stored state (no JSON Schema can say it): networks that overlap or a DNS IP outside
# the service network, a name already taken, an organisation the caller may not create in, an
# upgrade that is not one minor up, a certificate without its key, an endpoint off this machine.
CROSS_FIELD_RULES = ["2xx", "3xx", "400", "401", "403", "404", "409", "429"]
CONFIG = schemathesis.Config.from_dict({
    "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True},
               "stateful": {"enabled": False}},
    # Clusters are created in the `users` fixture's organisations (acme: the member's; both: staff's)
    # most of the time: a random slug names no organisation, and creates would never get through.
    # Likewise networks: a random CIDR has host bits set or overlaps the other network.
    "dictionaries": {"organisations": {"values": ["acme", "globex"]}, "pod_cidr": {"values": ["10.244.0.0/16"]},
                     "service_cidr": {"values": ["10.96.0.0/16"]}, "dns_service_ip": {"values": ["10.96.0.10"]}},
    "operations": [
        {"include-path-regex": path, "include-method": method,
         "checks": {"positive_data_acceptance": {"expected-statuses": CROSS_FIELD_RULES}},
         **({"parameters": {"body.organization": {"dictionary": "organisations", "probability": 0.8},
                            **{f"body.{name}": {"dictionary": name, "probability": 0.7}
                               for name in ("pod_cidr", "service_cidr", "dns_service_ip")}}}
            if path == "^/api/clusters/$" else {})}
        for path, method in [
            ("^/api/clusters/$", "POST"), ("^/api/clusters/{id}/$", "PATCH"),
            ("^/api/clusters/{id}/upgrades/$", "POST"),
            ("^/api/datastores/$", "POST"), ("^/api/datastores/{id}/$", "PATCH"),
        ]
    ],
})


def served_schema() -> schemathesis.schemas.BaseSchema:
    """The schema as /api/schema/ serves it, requests then served in the test's own transaction:
    Django's per-request connection closing is off while the tests run, as in its test client.
    (Loaded at collection: schemathesis' fixture-based lazy schema needs a pytest internal that
    pytest 9 no longer has. Building the schema reads no database.)"""
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=CONFIG)


schema = served_schema()


@pytest.fixture(autouse=True)
def requests_in_the_test_transaction(settings):
    settings.DATASTORE_ENDPOINT_NETWORKS = ("127.0.0.0/8", network.POD_CIDR)
    # /api/token/ hashes every guessed password: the fast hasher keeps hundreds of guesses cheap.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Thousands of refused requests are the point here; server errors are still logged (and fail the run).
    logging.getLogger("django.request").setLevel(logging.ERROR)
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
    logging.getLogger("django.request").setLevel(logging.NOTSET)


@pytest.fixture(params=["member", "staff"])
def caller(request, users):
    return users[request.param]


@pytest.fixture
def run_record(users, caller):
    record = {"requests": 0, "statuses": {}, "started": time.monotonic(),
              "clusters_before": set(TenantControlPlane.objects.values_list("pk", flat=True))}
    yield record
    assert_nothing_half_made(record["clusters_before"])
    elapsed = time.monotonic() - record["started"]
    print(f"\nschemathesis as {caller.username}: {record['requests']} requests in {elapsed:.1f} s, "
          f"statuses {dict(sorted(record['statuses'].items()))}")


def assert_nothing_half_made(clusters_before: set[int]) -> None:
    for tenant in TenantControlPlane.objects.exclude(pk__in=clusters_before).select_related("created_by"):
        tenant.full_clean(exclude=["created_by"])
        assert tenant.created_by is not None, tenant
        assert organizations_for(tenant.created_by, Action.CHANGE).filter(pk=tenant.organization_id).exists()
        assert AuditEvent.objects.filter(action="cluster.create", object_id=str(tenant.pk)).exists(), tenant
        assert tenant.phase in (Phase.PENDING, Phase.UPGRADING, Phase.DELETING), tenant.phase
    for upgrade in Upgrade.objects.select_related("tenant"):
        assert upgrade.tenant.kubernetes_version == upgrade.to_version or upgrade.tenant.upgrades.filter(
            created_at__gt=upgrade.created_at).exists()
    for datastore in DataStore.objects.all():
        datastore.full_clean()


def call_and_validate(case, caller, record) -> None:
    token, _ = Token.objects.get_or_create(user=caller)
    response = case.call_and_validate(headers={"Authorization": f"Token {token.key}"})
    record["requests"] += 1
    record["statuses"][response.status_code] = record["statuses"].get(response.status_code, 0) + 1


HYPOTHESIS = hypothesis_settings(
    max_examples=MAX_EXAMPLES, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@schema.parametrize()
@HYPOTHESIS
def test_api_conforms_to_its_schema(case, caller, run_record):
    call_and_validate(case, caller, run_record)
