"""Offline logging in Chromium: the log page opened online installs its service worker; with the
browser context offline, entries are kept on the device (pending, with a count), survive a
reload and a closed tab, and once online are sent exactly once each; an entry the server
refuses shows its reason and is corrected from the form. A server of its own counts every
request that reaches it, so "offline" is proven for the page and the worker alike."""
from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from app.extensions import db

from .conftest import _open_page, closing, sign_in
from .test_phone import SIDEWAYS, on_screen

pytestmark = pytest.mark.e2e


@pytest.fixture
def counted_server(live_app):
    """The e2e app on a port of its own, noting every request that reaches it."""
    seen: list[str] = []

    def counting(environ, start_response):
        seen.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        return live_app(environ, start_response)

    server = make_server("127.0.0.1", 0, closing(counting), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()
    thread.join(timeout=10)


def _rows(live_app) -> dict[str, float]:
    """client_id -> value of the observations logged with a device id."""
    from app.touchpoint_audit.models import Observation

    with live_app.app_context():
        rows = db.session.execute(db.select(Observation.client_id, Observation.value)
                                  .where(Observation.client_id.is_not(None))).all()
        db.session.remove()
    return {client_id: value for client_id, value in rows}


def _until(page, selector: str) -> None:
    """Wait for the state an element's attributes say (the section may be empty, so not visible)."""
    page.wait_for_selector(selector, state="attached")


def _log(page, value: str) -> None:
    page.fill("#value", value)
    page.press("#value", "Enter")


def test_offline_entries_survive_reload_and_closed_tab_and_are_sent_once(browser, counted_server, live_app):
    base, seen = counted_server
    context, page = _open_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        sign_in(page, base, "service")
        page.goto(f"{base}/log")
        _until(page, "#offline-log[data-ready]")
        assert page.evaluate("navigator.serviceWorker.controller !== null")
        before = _rows(live_app)

        # Offline twice over: the browser's network emulation (navigator.onLine, the offline event)
        # and every request of the page or its worker that would reach the network aborted.
        context.set_offline(True)
        context.route("**/*", lambda route: route.abort("internetdisconnected"))
        seen.clear()
        assert page.evaluate("navigator.onLine") is False
        # the metric's own fields come from the worker's copy
        page.select_option("#metric_id", label="Hotline · Waiting time")
        page.wait_for_selector("label[for=value]:has-text('mm:ss')")
        _log(page, "95")
        _until(page, "#offline-log[data-pending='1']")
        assert page.input_value("#value") == ""  # ready for the next entry
        _log(page, "3:10")
        _until(page, "#offline-log[data-pending='2']")
        status = page.inner_text("#offline-status")
        assert "No connection" in status and "2 entries waiting to be sent." in status
        assert page.get_attribute("#offline-status", "role") == "status"

        page.reload()  # offline: the page comes from the worker's cache, the entries from IndexedDB
        _until(page, "#offline-log[data-pending='2']")
        assert page.locator("#offline-entries li.pending").count() == 2
        page.select_option("#metric_id", label="Hotline · Waiting time")
        page.wait_for_selector("label[for=value]:has-text('mm:ss')")
        _log(page, "-5")  # the server will refuse this one: a waiting time cannot be negative
        _until(page, "#offline-log[data-pending='3']")

        page.close()  # the tab is closed and opened again, still offline
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{base}/log")
        _until(page, "#offline-log[data-pending='3']")
        assert page.evaluate(SIDEWAYS) == []
        assert on_screen(page, "#offline-entries li") == []

        # Nothing of the page or its worker reached the server: the reloads came from the worker's
        # cache. Only the browser's own update check of the worker script is neither emulated
        # offline nor routed in this Chromium; it changes nothing.
        assert [r for r in seen if r != "GET /log/sw.js"] == [], f"requests reached the server while offline: {seen}"
        assert _rows(live_app) == before

        context.unroute("**/*")
        context.set_offline(False)  # the online event sends them
        _until(page, "#offline-log[data-pending='0'][data-refused='1'][data-sent='2']")
        assert "2 entries sent." in page.inner_text("#offline-status")
        assert any(request.endswith("/sync") for request in seen)
        after = _rows(live_app)
        new = {k: v for k, v in after.items() if k not in before}
        assert sorted(new.values()) == [95.0, 190.0]  # exactly the entries made, none twice

        refused = page.locator("#offline-entries li.refused")
        assert "cannot be negative" in refused.locator(".reason").inner_text()
        assert on_screen(page, "#offline-entries li.refused button") == []
        refused.locator("button[data-action=correct]").focus()
        page.keyboard.press("Enter")  # by keyboard
        page.wait_for_selector("#value:focus")
        assert page.input_value("#value") == "-5"
        _log(page, "40")
        page.wait_for_selector("#saved-msg")
        _until(page, "#offline-log[data-refused='0']")
        assert page.locator("#offline-entries li").count() == 0
        new = {k: v for k, v in _rows(live_app).items() if k not in before}
        assert sorted(new.values()) == [40.0, 95.0, 190.0]
    finally:
        context.close()


def test_a_dropped_entry_is_never_sent(browser, counted_server, live_app):
    base, _seen = counted_server
    context, page = _open_page(browser, viewport={"width": 1280, "height": 900})
    try:
        sign_in(page, base, "service")
        page.goto(f"{base}/log")
        _until(page, "#offline-log[data-ready]")
        before = _rows(live_app)
        context.set_offline(True)
        page.select_option("#metric_id", label="Hotline · Waiting time")
        page.wait_for_selector("label[for=value]:has-text('mm:ss')")
        _log(page, "12")
        _until(page, "#offline-log[data-pending='1']")
        _log(page, "13")
        _until(page, "#offline-log[data-pending='2']")
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("#offline-entries li", has_text="= 12").locator("button[data-action=drop]").click()
        _until(page, "#offline-log[data-pending='1']")
        context.set_offline(False)
        _until(page, "#offline-log[data-pending='0'][data-sent='1']")
        new = {k: v for k, v in _rows(live_app).items() if k not in before}
        assert list(new.values()) == [13.0]
    finally:
        context.close()
