"""A script authenticates with a token over real HTTP (live server on loopback, `requests`)."""

import pytest
import requests

from tenants.models import Membership, TenantControlPlane
from tests.factories import make_user

PASSWORD = "correct horse battery staple"


@pytest.fixture
def http():
    session = requests.Session()
    session.trust_env = False  # loopback only: never through a proxy from the environment
    return session


def test_script_obtains_a_token_and_uses_it(users, live_server, http):
    make_user(username="script", password=PASSWORD, role=Membership.Role.MEMBER, org=users.org)
    response = http.post(f"{live_server.url}/api/token/", data={"username": "script", "password": PASSWORD},
                         timeout=30)
    assert response.status_code == 200
    auth = {"Authorization": f"Token {response.json()['token']}"}

    listed = http.get(f"{live_server.url}/api/clusters/", headers=auth, timeout=30)
    assert listed.status_code == 200
    assert [c["name"] for c in listed.json()["results"]] == ["prod"]

    # Token-authenticated writes need no CSRF token (that is for browser sessions).
    created = http.post(f"{live_server.url}/api/clusters/", json={"organization": "acme", "name": "from-script"},
                        headers=auth, timeout=30)
    assert created.status_code == 201, created.text
    assert TenantControlPlane.objects.get(name="from-script").created_by.username == "script"


def test_wrong_password_gets_no_token(users, live_server, http):
    make_user(username="script", password=PASSWORD)
    response = http.post(f"{live_server.url}/api/token/", data={"username": "script", "password": "nope"},
                         timeout=30)
    assert response.status_code == 400
    assert "token" not in response.json()


def test_unknown_token_is_401(users, live_server, http):
    response = http.get(f"{live_server.url}/api/clusters/", headers={"Authorization": "Token 0123456789abcdef"},
                        timeout=30)
    assert response.status_code == 401
