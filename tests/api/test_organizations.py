"""The caller's organisations and role: what a script needs before it creates a cluster."""

import pytest


@pytest.mark.parametrize(
    "role, expected",
    [
        ("outsider", [("globex", "owner", True)]),
        ("viewer", [("acme", "viewer", False)]),
        ("member", [("acme", "member", True)]),
        ("staff", [("acme", None, True), ("globex", None, True)]),
    ],
)
def test_organizations_lists_the_callers_memberships(users, api, role, expected):
    response = api(users[role]).get("/api/organizations/")
    assert response.status_code == 200
    got = [(o["slug"], o["role"], o["can_create_clusters"]) for o in response.json()["results"]]
    assert got == expected
