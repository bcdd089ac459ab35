"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

The live server is plain WSGI in a thread and the controller does not run: clusters created here
stay Pending, which is all the UI needs.
"""

import os

import pytest
from playwright.sync_api import sync_playwright

from tenants.models import Membership
from tests.factories import make_org, make_user

# Playwright's sync API keeps an event loop running in this thread; Django's ORM calls made from
# the test body would otherwise be refused as "called from an async context".
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def member(transactional_db):
    """A member of organisation 'acme' who signs in with PASSWORD."""
    org = make_org(slug="acme", name="Acme")
    return make_user(username="ada", role=Membership.Role.MEMBER, org=org, password=PASSWORD)


@pytest.fixture
def signed_in_page(page, live_server, member):
    """`page` signed in as `member` through the sign-in form, on the cluster list."""
    page.goto(f"{live_server.url}/clusters/")
    page.fill("input[name=username]", member.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/clusters/")
    return page
