"""Journeys through the app shell in a real browser."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

NAV = "nav.mainnav a"


@pytest.mark.parametrize(
    "username,must_see,must_not_see",
    [
        ("admin", ["Overview", "Users"], []),
        ("manager", ["Overview"], ["Users"]),
        ("service", ["Overview"], ["Users"]),
        ("leadership", ["Overview"], ["Users"]),
    ],
)
def test_each_role_sees_its_navigation(page, live_server, username, must_see, must_not_see):
    sign_in(page, live_server, username)
    links = [t.strip() for t in page.locator(NAV).all_inner_texts()]
    for label in must_see:
        assert label in links
    for label in must_not_see:
        assert label not in links
    assert page.locator("nav.mainnav").get_attribute("data-role") == ("admin" if username == "admin" else username)
    # htmx is loaded and no script was blocked by the CSP.
    assert page.evaluate("typeof window.htmx") == "object"
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


def test_forbidden_page_is_refused(page, live_server):
    sign_in(page, live_server, "service")
    response = page.goto(f"{live_server}/admin/users")
    assert response.status == 403
    assert "Your role does not allow" in page.inner_text("main")


def test_wrong_password_shows_generic_error(page, live_server):
    page.goto(f"{live_server}/login")
    page.fill("#username", "manager")
    page.fill("#password", "not-the-password")
    page.click("button[type=submit].primary")
    assert "Unknown username or wrong password" in page.inner_text("#login-error")


def test_language_switch_changes_the_page(page, live_server):
    sign_in(page, live_server, "manager")
    page.click("form.lang-switch button[value=de]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Übersicht"
    assert page.get_attribute("html", "lang") == "de"
    page.click("form.lang-switch button[value=en]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Overview"


def test_admin_creates_user_by_keyboard(page, live_server):
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/admin/users/new")
    # the username field has focus; wait for it, a loaded browser applies autofocus late
    page.wait_for_selector("#username:focus")
    page.keyboard.type("hotline7")
    page.keyboard.press("Tab")
    page.keyboard.type("Hotline Sieben")
    page.select_option("#role", "service")
    page.fill("#password", "a-long-enough-pw")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/admin/users")
    assert "hotline7" in page.inner_text("table")
