"""Hardening: HSTS in production, proxy headers trusted only from configured proxies,
the per-account login throttle, password rules, and the PDF renderer's URL fetcher."""
from __future__ import annotations

import pytest

from app import create_app
from app.extensions import db, limiter
from config import ProductionConfig, TestConfig
from tests.conftest import Client


@pytest.fixture
def make_app(tmp_path, monkeypatch):
    """A separate app on its own SQLite file (tables created), built with ``config_class``."""
    monkeypatch.setenv("SECRET_KEY", "test-secret-key-for-hardening")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'hardening.sqlite'}")
    made = []

    def make(config_class=TestConfig, **overrides):
        overrides.setdefault("SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'hardening.sqlite'}")
        app = create_app(config_class, **overrides)
        app.test_client_class = Client
        with app.app_context():
            db.create_all()
            db.session.remove()
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()
            limiter.reset()  # the limiter's memory outlives the app: later tests sign in from 127.0.0.1


def test_production_sends_hsts(make_app):
    app = make_app(ProductionConfig, TESTING=True)
    response = app.test_client().get("/login", base_url="https://audit.example")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_development_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def _failed_logins(app, n: int) -> list[int]:
    """n failed sign-ins, each for another username from another forwarded address."""
    client = app.test_client()
    return [client.post("/login", data={"username": f"nobody{i}", "password": "wrong-password-1"},
                        headers={"X-Forwarded-For": f"203.0.113.{i + 1}"}).status_code for i in range(n)]


def test_forwarded_for_is_ignored_without_trusted_proxies(make_app):
    # production too: anyone can send X-Forwarded-For when no proxy is configured
    app = make_app(ProductionConfig, TESTING=True, WTF_CSRF_ENABLED=False)
    assert app.config["TRUSTED_PROXIES"] == 0
    statuses = _failed_logins(app, 11)
    assert statuses[:10] == [401] * 10 and statuses[10] == 429  # one address: the header changed nothing


def test_forwarded_for_counts_behind_a_trusted_proxy(make_app):
    app = make_app(TestConfig, TRUSTED_PROXIES=1)
    assert _failed_logins(app, 11) == [401] * 11  # each forwarded address has its own limit


def test_trusted_proxies_from_the_environment(monkeypatch):
    from config import Config

    monkeypatch.setenv("TRUSTED_PROXIES", "2")
    assert Config.load()["TRUSTED_PROXIES"] == 2
    monkeypatch.setenv("TRUSTED_PROXIES", "two")
    with pytest.raises(SystemExit, match="TRUSTED_PROXIES"):
        Config.load()
    monkeypatch.delenv("TRUSTED_PROXIES")
    assert Config.load()["TRUSTED_PROXIES"] == 0 and ProductionConfig.load()["TRUSTED_PROXIES"] == 0


def _add_user(app, username: str) -> None:
    from app.accounts.models import User
    from tests.conftest import _HASH

    with app.app_context():
        db.session.add(User(username=username, display_name=username, role="manager", password_hash=_HASH))
        db.session.commit()
        db.session.remove()


def test_failed_sign_ins_are_limited_per_account_across_addresses(make_app):
    from tests.conftest import PASSWORD

    app = make_app(TestConfig, TRUSTED_PROXIES=1)
    _add_user(app, "manager")
    _add_user(app, "leadership")
    client = app.test_client()

    def attempt(i: int, username: str, password: str) -> int:
        return client.post("/login", data={"username": username, "password": password},
                           headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code

    statuses = [attempt(i, "Manager " if i % 2 else "manager", "wrong-password-1") for i in range(1, 11)]
    assert statuses == [401] * 10
    # from a new address, even the right password: the account is throttled for now
    refused = client.post("/login", data={"username": "manager", "password": PASSWORD},
                          headers={"X-Forwarded-For": "198.51.100.200"})
    assert refused.status_code == 429 and "Too many attempts" in refused.get_data(as_text=True)
    # another account from that address is not affected
    assert attempt(201, "leadership", PASSWORD) == 302


def test_successful_sign_ins_do_not_count_against_the_account(make_app):
    from tests.conftest import PASSWORD

    app = make_app(TestConfig, TRUSTED_PROXIES=1)
    _add_user(app, "manager")
    for i in range(12):
        client = app.test_client()
        response = client.post("/login", data={"username": "manager", "password": PASSWORD},
                               headers={"X-Forwarded-For": f"192.0.2.{i + 1}"})
        assert response.status_code == 302


@pytest.mark.parametrize(("password", "message"), [
    ("elf-zeichen", "At least 12 characters."),  # 11 characters
    ("Passwort1234", "This password is too common; choose another."),
    ("qwertzuiop123", "This password is too common; choose another."),
    ("abababababab", "This password is too common; choose another."),
])
def test_admin_refuses_weak_new_passwords(app, as_role, users, password, message):
    from app.accounts.models import User

    admin = as_role("admin")
    created = admin.post("/admin/users/new", data={"username": "neu", "role": "service", "password": password})
    assert created.status_code == 422 and message in created.get_data(as_text=True)
    reset = admin.post(f"/admin/users/{users['service'].id}/password",
                       data={"reset-password": password, "reset-confirm": password})
    assert reset.status_code == 422 and message in reset.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(User).where(User.username == "neu")) is None
        db.session.remove()


def test_admin_accepts_a_twelve_character_password(app, as_role, users):
    response = as_role("admin").post("/admin/users/new",
                                     data={"username": "neu", "role": "service", "password": "zwoelf-zeich"})
    assert response.status_code == 303


def test_weak_password_refused_in_german(as_role, users):
    admin = as_role("admin")
    admin.post("/language", data={"lang": "de", "next": "/"})
    html = admin.post("/admin/users/new", data={"username": "neu", "role": "service",
                                                "password": "password1234"}).get_data(as_text=True)
    assert "Dieses Passwort ist zu verbreitet" in html


@pytest.mark.parametrize(("password", "message"), [
    ("elf-zeichen", "at least 12 characters"), ("Password1234", "too common"), ("111111111111", "too common"),
])
def test_cli_refuses_weak_passwords(app, users, password, message):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["users", "create", "neu", "--role", "service", "--password", password])
    assert created.exit_code != 0 and message in created.output
    changed = runner.invoke(args=["users", "set-password", "service", "--password", password])
    assert changed.exit_code != 0 and message in changed.output


def test_demo_password_is_still_accepted():
    from app.accounts.passwords import password_problem

    assert password_problem("demo-passwort") is None


SMALL_PAGES = "@page { size: 30mm 30mm; margin: 1mm }"


def _pages(app, link: str) -> int:
    from app.reports.document import html_to_pdf

    body = "".join(f"<p>Absatz {i}</p>" for i in range(40))
    with app.app_context():
        _pdf, pages = html_to_pdf(f"<html><head>{link}</head><body>{body}</body></html>")
    return pages


def test_pdf_loads_no_file_outside_the_static_folder(app, tmp_path):
    outside = tmp_path / "small-pages.css"
    outside.write_text(SMALL_PAGES)
    plain = _pages(app, "")
    assert _pages(app, f'<link rel="stylesheet" href="{outside.as_uri()}">') == plain
    assert _pages(app, '<link rel="stylesheet" href="http://127.0.0.1:1/small-pages.css">') == plain
    # the same rules as a data: URL are loaded: the check above could fail
    data_url = "data:text/css," + SMALL_PAGES.replace(" ", "%20")
    assert _pages(app, f'<link rel="stylesheet" href="{data_url}">') > plain


def test_allowed_resources(app, tmp_path):
    from pathlib import Path

    from app.reports.document import allowed_resource

    static = Path(app.static_folder)
    css = static / "css" / "app.css"
    assert allowed_resource(css.as_uri(), static)
    assert allowed_resource("data:text/plain,x", static)
    assert not allowed_resource((static / "css" / ".." / ".." / "__init__.py").as_uri(), static)
    assert not allowed_resource("file:///etc/passwd", static)
    assert not allowed_resource("file://evil.example" + str(css), static)
    assert not allowed_resource("https://example.org/x.css", static)
    link = static / "css" / "link-out.css"
    try:
        link.symlink_to(tmp_path)
        assert not allowed_resource(link.as_uri(), static)
    finally:
        link.unlink(missing_ok=True)


def test_an_office_behind_one_address_can_all_sign_in(make_app):
    """The per-address limit counts refused sign-ins only: fifteen colleagues behind one
    NAT address signing in within a minute all get in, and guessing is still throttled."""
    from tests.conftest import PASSWORD

    app = make_app(TestConfig)
    names = [f"colleague{i}" for i in range(15)]
    for name in names:
        _add_user(app, name)
    statuses = [app.test_client().post("/login", data={"username": name, "password": PASSWORD}).status_code
                for name in names]
    assert statuses == [302] * 15
    guesses = [app.test_client().post("/login", data={"username": f"colleague{i}", "password": "wrong-password-1"})
               .status_code for i in range(11)]
    assert guesses[:10] == [401] * 10 and guesses[10] == 429
