"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

The live server is plain WSGI in a thread and the controller does not run: clusters created here
stay Pending, which is all the UI needs.
"""

import pytest
from playwright.sync_api import sync_playwright

from tenants.models import Membership
from tests.factories import make_org, make_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def chromium():
    """Chromium for one test module. Playwright's sync API runs an event loop in this thread while it
    is up: Django would refuse the tests' (plain, sync) ORM calls as "called from an async context",
    so they are allowed for exactly that time; and later asyncio tests need the thread free again."""
    with pytest.MonkeyPatch.context() as mp, sync_playwright() as playwright:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
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
