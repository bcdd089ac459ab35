"""The interactive API docs load everything from our own server: nothing from a CDN."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_swagger_ui_page_references_only_our_own_static_files(client, users):
    client.force_login(users.member)
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r'"(https?://[^"]+)"', html)
    assert any("swagger-ui" in a for a in assets), html[:500]
    external = [a for a in assets if a.startswith(("http://", "https://", "//"))]
    assert external == []
