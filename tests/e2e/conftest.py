"""A live server on 127.0.0.1 and Debian's Chromium driven by Playwright."""
from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from config import TestConfig

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The app on a file database (the server thread needs its own connections)."""
    path = tmp_path_factory.mktemp("e2e") / "e2e.sqlite"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", LOGIN_RATE_LIMIT="1000 per minute")
    with app.app_context():
        db.create_all()
        from app.demo import build_demo

        build_demo(echo=lambda *_: None, customers=300)
        db.session.remove()
    return app


def closing(app):
    """``app`` with every response body closed as soon as it has been sent.

    Werkzeug's development server closes a body only after draining the socket; when the
    browser has reset the connection (it cancels a favicon or script fetch while navigating),
    that read raises and the body, e.g. an open static file, is left to the garbage collector.
    Its ResourceWarning then failed whichever test was running (the suite turns warnings into
    errors). Gunicorn, which production uses, closes bodies itself."""

    def sent(body):
        try:
            yield from body
        finally:  # exhausted, or the generator closed or collected after a dropped connection
            close = getattr(body, "close", None)
            if close is not None:
                close()

    def serve(environ, start_response):
        return sent(app(environ, start_response))  # the app runs now, its body is sent by the server

    return serve


@pytest.fixture(scope="session")
def live_server(live_app):
    server = make_server("127.0.0.1", 0, closing(live_app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (.ci/run does)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _open_page(browser, **context_options):
    """A page in a fresh context that collects the console's errors in ``page.console_errors``."""
    context = browser.new_context(locale="en-US", **context_options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.console_errors = errors
    return context, page


@pytest.fixture
def page(browser):
    context, page = _open_page(browser, viewport={"width": 1280, "height": 900})
    yield page
    context.close()


@pytest.fixture
def phone(browser):
    """A page on a 390 px wide touch screen."""
    context, page = _open_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    yield page
    context.close()


def sign_in(page, base: str, username: str, password: str = "demo-passwort") -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")
