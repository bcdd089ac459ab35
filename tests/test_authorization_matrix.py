"""Every routed URL and WebSocket route, asked by every kind of person: the authorization rules, end to end.

The table below holds, per URL name, the expected HTTP status for each role and method. The
project's URL resolver is walked recursively, and a routed URL without an entry fails the
suite, so a new view cannot skip this check. The rules the table encodes:

- anonymous: UI pages redirect to the login page (302); the API answers 401 (token challenge).
- outsider (member of another organisation only): 404 for anything of `acme` — they must not
  learn that it exists; 404 for the operator console and datastore API, as for everyone but staff.
- viewer: may read their organisation's clusters; any change is 403 (they know the cluster).
- member, owner: read and change their organisation's clusters.
- staff: everything, everywhere.

Each (URL, method, role) runs on a fresh database, so a state change by one role cannot
colour the answer to the next. The WebSocket routes (kamaji_ui.asgi) get the same treatment:
a refused socket is accepted and closed with a code the page explains (4401/4403/4404).
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from datastores.models import DataStore
from kamaji_ui.asgi import application, websocket_urlpatterns
from tenants.consumers import CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED
from tenants.models import TenantControlPlane
from tests.factories import make_datastore
from tests.fixtures_users import People
from tests.live.conftest import clean_live_state  # noqa: F401 (fixture: no watchers, empty live store)

ROLES = ("anonymous", "outsider", "viewer", "member", "owner", "staff")
OLD_VERSION, NEW_VERSION = settings.KUBERNETES_VERSIONS[0], settings.KUBERNETES_VERSIONS[-1]

# Not walked: django-admin has its own staff/superuser login and permission system (it is not the
# product's authorization, and testing Django's admin is Django's job); static files are public.
EXCLUDED_NAMESPACES = {"admin"}


def by_role(anonymous: int, outsider: int, viewer: int, member: int, owner: int, staff: int) -> dict[str, int]:
    return dict(zip(ROLES, (anonymous, outsider, viewer, member, owner, staff), strict=True))


@dataclass
class World:
    """What the requests act on: the `users` organisation and cluster, plus a datastore."""

    people: People
    datastore: DataStore

    @property
    def cluster(self) -> TenantControlPlane:
        return self.people.cluster


@dataclass(frozen=True)
class Call:
    method: str
    expect: dict[str, int]
    data: Callable[[World], dict] | None = None
    json: bool = False  # API bodies are JSON; UI forms are form-encoded


def no_kwargs(w: World) -> dict:
    return {}


@dataclass(frozen=True)
class Route:
    calls: tuple[Call, ...]
    kwargs: Callable[[World], dict] = no_kwargs


def cluster_pk(w: World) -> dict:
    return {"pk": w.cluster.pk}


def datastore_pk(w: World) -> dict:
    return {"pk": w.datastore.pk}


def ui_create_form(w: World) -> dict:
    return {
        "organization": w.people.org.pk, "name": "created", "kubernetes_version": NEW_VERSION, "replicas": 1,
        "service_type": "NodePort", "port": 6443, "cert_sans": "", "pod_cidr": "10.244.0.0/16",
        "service_cidr": "10.96.0.0/16", "dns_service_ip": "10.96.0.10", "addon_coredns": "on",
        "addon_kube_proxy": "on",
    }


def ui_edit_form(w: World) -> dict:
    return {"replicas": 2, "service_type": "NodePort", "port": 6443, "cert_sans": "", "addon_coredns": "on",
            "addon_kube_proxy": "on"}


def ui_datastore_form(w: World) -> dict:
    return {"name": "registered", "driver": "etcd", "endpoints": "https://127.0.0.1:2379", "enabled": "on"}


def api_cluster(w: World) -> dict:
    return {"organization": w.people.org.slug, "name": "created"}


def api_datastore(w: World) -> dict:
    return {"name": "registered", "driver": "etcd", "endpoints": ["https://127.0.0.1:2379"]}


UI_PAGE = by_role(302, 200, 200, 200, 200, 200)
UI_CLUSTER_READ = by_role(302, 404, 200, 200, 200, 200)
UI_CLUSTER_CHANGE_FORM = by_role(302, 404, 403, 200, 200, 200)
UI_CLUSTER_CHANGED = by_role(302, 404, 403, 302, 302, 302)
UI_OPERATOR_PAGE = by_role(302, 404, 404, 404, 404, 200)
API_LIST = by_role(401, 200, 200, 200, 200, 200)
API_CLUSTER_READ = by_role(401, 404, 200, 200, 200, 200)
API_OPERATOR_READ = by_role(401, 404, 404, 404, 404, 200)
EVERYONE = lambda status: by_role(*(status,) * len(ROLES))  # noqa: E731

EXPECTATIONS: dict[str, Route] = {
    # --- pages outside the apps -----------------------------------------------------------
    "home": Route((Call("get", EVERYONE(302)),)),  # a redirect to the cluster list (which then asks for login)
    "login": Route((Call("get", EVERYONE(200)),)),
    # Logging out changes state, so it is POST only (Django 5); anyone may log out.
    "logout": Route((Call("get", EVERYONE(405)), Call("post", EVERYONE(302)))),
    # --- cluster UI -----------------------------------------------------------------------
    "tenants:list": Route((Call("get", UI_PAGE),)),
    # The outsider owns another organisation, so may create there (not in acme: the form says so, 400).
    # The viewer may create nowhere: 403.
    "tenants:create": Route((
        Call("get", by_role(302, 200, 403, 200, 200, 200)),
        Call("post", by_role(302, 400, 403, 302, 302, 302), data=ui_create_form),
    )),
    # Inline validation answers with the form's errors only; it saves nothing, so anyone signed in may ask.
    "tenants:validate": Route((
        Call("get", by_role(302, 405, 405, 405, 405, 405)),
        Call("post", by_role(302, 200, 200, 200, 200, 200), data=ui_create_form),
    )),
    "tenants:detail": Route((Call("get", UI_CLUSTER_READ),), kwargs=cluster_pk),
    "tenants:edit": Route((
        Call("get", UI_CLUSTER_CHANGE_FORM),
        Call("post", UI_CLUSTER_CHANGED, data=ui_edit_form),
    ), kwargs=cluster_pk),
    "tenants:upgrade": Route((
        Call("get", UI_CLUSTER_CHANGE_FORM),
        Call("post", UI_CLUSTER_CHANGED, data=lambda w: {"to_version": NEW_VERSION}),
    ), kwargs=cluster_pk),
    "tenants:delete": Route((
        Call("get", UI_CLUSTER_CHANGE_FORM),
        Call("post", UI_CLUSTER_CHANGED, data=lambda w: {"confirm_name": w.cluster.name}),
    ), kwargs=cluster_pk),
    # The cluster has no endpoint yet: those allowed are sent back to the cluster page with a message.
    "tenants:kubeconfig": Route((Call("get", by_role(302, 404, 403, 302, 302, 302)),), kwargs=cluster_pk),
    # Break-glass (system:masters) is staff only; to everyone else the URL does not exist, whatever the
    # method. No endpoint yet: staff are sent back to the cluster page with a message.
    "tenants:break-glass": Route((
        Call("get", by_role(302, 404, 404, 404, 404, 405)),
        Call("post", by_role(302, 404, 404, 404, 404, 302), data=lambda w: {"reason": "incident 42"}),
    ), kwargs=cluster_pk),
    # --- operator console -----------------------------------------------------------------
    "console:overview": Route((Call("get", UI_OPERATOR_PAGE),)),
    "console:datastore-create": Route((
        Call("get", UI_OPERATOR_PAGE),
        Call("post", by_role(302, 404, 404, 404, 404, 302), data=ui_datastore_form),
    )),
    "console:audit": Route((Call("get", UI_OPERATOR_PAGE),)),
    "console:datastore-edit": Route((
        Call("get", UI_OPERATOR_PAGE),
        Call("post", by_role(302, 404, 404, 404, 404, 302), data=ui_datastore_form),
    ), kwargs=datastore_pk),
    # --- REST API -------------------------------------------------------------------------
    "api-schema": Route((Call("get", EVERYONE(200)),)),  # the published contract is public
    "api-docs": Route((Call("get", EVERYONE(200)),)),
    # Obtaining a token is how a script logs in, so it is open; wrong credentials are a 400.
    "tenants-api:token": Route((
        Call("get", EVERYONE(405)),
        Call("post", EVERYONE(400), data=lambda w: {"username": "owner", "password": "wrong"}, json=True),
    )),
    "tenants-api:organization-list": Route((Call("get", API_LIST),)),
    # Creating in acme: outsider and viewer may not, and the answer does not reveal whether acme exists.
    "tenants-api:cluster-list": Route((
        Call("get", API_LIST),
        Call("post", by_role(401, 400, 400, 201, 201, 201), data=api_cluster, json=True),
    )),
    "tenants-api:cluster-detail": Route((
        Call("get", API_CLUSTER_READ),
        Call("patch", by_role(401, 404, 403, 200, 200, 200), data=lambda w: {"replicas": 2}, json=True),
        Call("put", by_role(401, 405, 405, 405, 405, 405), data=lambda w: {"replicas": 2}, json=True),
        Call("delete", by_role(401, 404, 403, 202, 202, 202)),
    ), kwargs=cluster_pk),
    # The cluster has no endpoint yet: those allowed get 409 (try again when Ready).
    "tenants-api:cluster-kubeconfig": Route((
        Call("get", by_role(401, 404, 403, 409, 409, 409)),
        Call("post", by_role(401, 404, 403, 409, 409, 409)),
    ), kwargs=cluster_pk),
    "tenants-api:cluster-upgrades": Route((
        Call("get", API_CLUSTER_READ),
        Call("post", by_role(401, 404, 403, 201, 201, 201), data=lambda w: {"to_version": NEW_VERSION}, json=True),
    ), kwargs=cluster_pk),
    "tenants-api:upgrade-list": Route((Call("get", API_LIST),)),
    # Staff only, 404 for everyone else whatever the method; no endpoint yet: staff get 409.
    "tenants-api:cluster-break-glass-kubeconfig": Route((
        Call("get", by_role(401, 404, 404, 404, 404, 405)),
        Call("post", by_role(401, 404, 404, 404, 404, 409), data=lambda w: {"reason": "incident 42"}, json=True),
    ), kwargs=cluster_pk),
    # Everyone signed in; what each may read (their organisations' events) is tests/test_audit_log.py's job.
    "audit-api:event-list": Route((Call("get", API_LIST),)),
    "datastores-api:datastore-list": Route((
        Call("get", API_OPERATOR_READ),
        Call("post", by_role(401, 404, 404, 404, 404, 201), data=api_datastore, json=True),
    )),
    "datastores-api:datastore-detail": Route((
        Call("get", API_OPERATOR_READ),
        Call("patch", by_role(401, 404, 404, 404, 404, 200), data=lambda w: {"max_tenants": 5}, json=True),
        Call("delete", by_role(401, 404, 404, 404, 404, 204)),
    ), kwargs=datastore_pk),
}


def routed_url_names(resolver: URLResolver | None = None, namespace: str = "") -> list[str]:
    """Every URL the project routes, as its namespaced name (or its pattern, if it has no name)."""
    resolver = resolver or get_resolver()
    found = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in EXCLUDED_NAMESPACES:
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found.extend(routed_url_names(pattern, inner))
        elif str(pattern.pattern).startswith(settings.STATIC_URL.lstrip("/")):
            continue  # static files: public by design
        else:
            found.append(f"{namespace}{pattern.name}" if pattern.name else f"<unnamed {pattern.pattern}>")
    return found


def test_every_routed_url_has_expectations():
    routed = routed_url_names()
    assert "tenants-api:cluster-detail" in routed and "tenants:detail" in routed  # the walk reaches included apps
    missing = sorted(set(routed) - set(EXPECTATIONS))
    stale = sorted(set(EXPECTATIONS) - set(routed))
    assert not missing, f"routed but not in the authorization matrix (add them to EXPECTATIONS): {missing}"
    assert not stale, f"in the authorization matrix but no longer routed: {stale}"


@pytest.fixture
def world(users) -> World:
    # An older version, so that an upgrade to the newest is a valid request.
    users.cluster.kubernetes_version = OLD_VERSION
    users.cluster.save()
    return World(people=users, datastore=make_datastore())


def client_as(world: World, role: str) -> Client:
    client = Client(raise_request_exception=False)  # a crash is an answer (500) to compare, not an abort
    if role != "anonymous":
        client.force_login(world.people[role])
    return client


def send(client: Client, url: str, call: Call, world: World):
    data = call.data(world) if call.data else None
    if call.json:
        return getattr(client, call.method)(url, data, content_type="application/json")
    if call.method in ("get", "post"):
        return getattr(client, call.method)(url, data or {})
    return getattr(client, call.method)(url)


# Behaviour that is wrong today, reported rather than written into the table as if intended.
# strict: the case fails as soon as the bug is fixed, so this list cannot go stale.
KNOWN_BUGS: dict = {}


def case_marks(name: str, call: Call, role: str) -> list:
    reason = KNOWN_BUGS.get((name, call.method, role))
    return [pytest.mark.xfail(reason=reason, strict=True)] if reason else []


CASES = [
    pytest.param(name, call, role, id=f"{name}-{call.method.upper()}-{role}", marks=case_marks(name, call, role))
    for name, route in EXPECTATIONS.items()
    for call in route.calls
    for role in ROLES
]


@pytest.mark.parametrize("name, call, role", CASES)
def test_answer_matches_the_matrix(world, name, call, role):
    url = reverse(name, kwargs=EXPECTATIONS[name].kwargs(world))
    response = send(client_as(world, role), url, call, world)
    assert response.status_code == call.expect[role], (
        f"{call.method.upper()} {url} as {role}: got {response.status_code}, expected {call.expect[role]}"
    )
    if response.status_code == 302 and role == "anonymous" and name.split(":")[0] in ("tenants", "console"):
        assert response["Location"].startswith(reverse("login"))


NOT_FOUND_PROBES = [
    pytest.param(name, call, id=f"{name}-{call.method.upper()}")
    for name, route in EXPECTATIONS.items()
    for call in route.calls
    if route.kwargs is not no_kwargs and call.expect["outsider"] == 404
]


@pytest.mark.parametrize("name, call", NOT_FOUND_PROBES)
def test_outsider_cannot_tell_a_hidden_object_from_a_missing_one(world, name, call):
    client = client_as(world, "outsider")
    hidden = send(client, reverse(name, kwargs=EXPECTATIONS[name].kwargs(world)), call, world)
    missing = send(client, reverse(name, kwargs={"pk": 999_999}), call, world)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


# --- WebSocket routes -------------------------------------------------------------------------
ACCEPTED = "accepted"  # the socket stays open and the first message is data, not a close
WS_TIMEOUT = 10

WS_EXPECTATIONS: dict[str, tuple[dict[str, int | str], Callable[[World], str]]] = {
    # The list page's phase badges: everyone signed in (their own clusters only: tests/tenants/test_consumers.py).
    "ws/clusters/": (by_role(CLOSE_UNAUTHENTICATED, *(ACCEPTED,) * 5), lambda w: "/ws/clusters/"),
    # A cluster's live status is reading it: viewers may, outsiders must not learn it exists.
    "ws/clusters/<int:pk>/": (
        by_role(CLOSE_UNAUTHENTICATED, CLOSE_NOT_FOUND, *(ACCEPTED,) * 4),
        lambda w: f"/ws/clusters/{w.cluster.pk}/",
    ),
}


def test_every_websocket_route_has_expectations():
    routed = {str(p.pattern) for p in websocket_urlpatterns}
    assert routed == set(WS_EXPECTATIONS), (
        f"missing: {sorted(routed - set(WS_EXPECTATIONS))}, stale: {sorted(set(WS_EXPECTATIONS) - routed)}"
    )


async def websocket_outcome(path: str, cookie: str | None) -> int | str:
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=WS_TIMEOUT)
    assert connected
    message = await communicator.receive_output(timeout=WS_TIMEOUT)
    await communicator.disconnect()
    return message["code"] if message["type"] == "websocket.close" else ACCEPTED


@pytest.mark.django_db(transaction=True)  # consumers read the database from other threads
@pytest.mark.usefixtures("clean_live_state")
@pytest.mark.parametrize("route", WS_EXPECTATIONS)
def test_websocket_answer_matches_the_matrix(world, route):
    expect, path_for = WS_EXPECTATIONS[route]
    got = {}
    for role in ROLES:
        cookie = None
        if role != "anonymous":
            client = client_as(world, role)
            cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        got[role] = asyncio.run(websocket_outcome(path_for(world), cookie))
    assert got == expect
