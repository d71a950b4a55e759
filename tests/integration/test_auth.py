"""Sign-in, sessions, CSRF, security headers, errors and the two renderings."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD


def login(client, username, password=PASSWORD, **extra):
    return client.post("/login", data={"username": username, "password": password, **extra})


def test_login_success_redirects_to_start(client, users):
    response = login(client, "manager")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Manager" in page.get_data(as_text=True)


def test_password_fields_tell_password_managers_what_they_hold(client, users):
    import re

    page = client.get("/login").get_data(as_text=True)
    assert re.search(r'autocomplete="username"[^>]*name="username"', page)
    assert re.search(r'autocomplete="current-password"[^>]*name="password"', page)
    login(client, "admin")
    new_user = client.get("/admin/users/new").get_data(as_text=True)
    assert re.search(r'autocomplete="new-password"[^>]*name="password"', new_user)
    assert re.search(r'autocomplete="off"[^>]*name="username"', new_user)


@pytest.mark.parametrize("username,password", [("manager", "wrong-password"), ("nobody", PASSWORD)])
def test_login_failure_is_generic(client, users, username, password):
    response = login(client, username, password)
    assert response.status_code == 401
    body = response.get_data(as_text=True)
    assert 'id="login-error"' in body
    # The same message whether the user exists or not.
    assert body.count("login-error") == 1
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


def test_unknown_and_wrong_password_say_the_same(client, users):
    a = login(client, "manager", "wrong-password").get_data(as_text=True)
    b = login(client, "nobody", "wrong-password").get_data(as_text=True)
    extract = lambda html: html.split('id="login-error">')[1].split("<")[0]  # noqa: E731
    assert extract(a) == extract(b)


def test_deactivated_user_cannot_sign_in(app, client, users):
    from app.accounts.models import User
    from app.extensions import db

    with app.app_context():
        db.session.get(User, users["service"].id).active = False
        db.session.commit()
    assert login(client, "service").status_code == 401


def test_login_is_rate_limited(client, users):
    statuses = [login(client, "manager", "wrong-password").status_code for _ in range(12)]
    assert statuses[:10] == [401] * 10
    assert statuses[-1] == 429
    assert "Too many attempts" in login(client, "manager").get_data(as_text=True)


def test_open_redirect_is_refused(client, users):
    response = client.post("/login?next=https://evil.example/", data={"username": "manager", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_logout_needs_post_and_ends_session(as_role):
    client = as_role("manager")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 303
    assert client.get("/").status_code == 302


def test_missing_csrf_token_is_refused(app, as_role, users):
    client = as_role("admin")
    response = client.post("/admin/users/new", data={"username": "x1", "role": "service", "password": "p" * 12},
                           csrf=False)
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    from app.accounts.models import User
    from app.extensions import db

    with app.app_context():
        assert db.session.scalar(db.select(User).where(User.username == "x1")) is None


def test_stale_csrf_token_is_refused(as_role):
    client = as_role("admin")
    response = client.post("/admin/users/new", data={"username": "x2", "role": "service", "password": "p" * 12},
                           headers={"X-CSRFToken": "IjEyMyI.stale.token"})
    assert response.status_code == 400


def test_oversize_request_is_refused(as_role, app):
    client = as_role("admin")
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    response = client.post("/admin/users/new", data={"username": big})
    assert response.status_code == 413
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "<html" in body


@pytest.mark.parametrize("url", ["/admin/users/abc", "/admin/users/999999", "/admin/users/-1", "/nowhere"])
def test_malformed_or_unknown_ids_give_404(as_role, url):
    response = as_role("admin").get(url)
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)


def test_forbidden_page_explains(as_role):
    response = as_role("service").get("/admin/users")
    assert response.status_code == 403
    assert "Your role does not allow" in response.get_data(as_text=True)


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    script_src = [d for d in csp.split(";") if d.strip().startswith("script-src")][0]
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    login(client, "nobody")  # sets the session cookie


def test_session_cookie_flags(client, users):
    response = login(client, "manager")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_server_error_page_has_no_traceback(app, as_role):
    from app.web.security import allow

    @allow("manager")
    def boom():
        raise RuntimeError("secret internals")

    app.view_functions["main.index"], original = boom, app.view_functions["main.index"]
    try:
        response = as_role("manager").get("/")
    finally:
        app.view_functions["main.index"] = original
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret internals" not in body and "Traceback" not in body
    assert "Something went wrong" in body


def test_two_renderings(as_role):
    client = as_role("manager")
    full = client.get("/")
    fragment = client.get("/", headers={"HX-Request": "true"})
    boosted = client.get("/", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in full.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    assert "tiles" in fragment.get_data(as_text=True)
    assert "<html" in boosted.get_data(as_text=True)
    for response in (full, fragment):
        assert "HX-Request" in response.headers["Vary"]


def test_language_switch_is_remembered_and_formats_numbers(app, as_role, users):
    from app.accounts.models import User
    from app.extensions import db
    from app.segments.models import Customer, CustomerValue

    with app.app_context():
        customer = Customer(customer_no="0001", name="Test GmbH")
        customer.values.append(CustomerValue(period="2026-01", revenue=1234.56))
        db.session.add(customer)
        db.session.commit()
    client = as_role("manager")
    response = client.post("/language", data={"lang": "de", "next": "/"})
    assert response.status_code == 303
    german = client.get("/").get_data(as_text=True)
    assert "Übersicht" in german and "1.235 €" in german
    client.post("/language", data={"lang": "en", "next": "/"})
    english = client.get("/").get_data(as_text=True)
    assert "Overview" in english and "€1,235" in english
    with app.app_context():
        assert db.session.get(User, users["manager"].id).locale == "en"
    # A new session for the same user keeps the choice.
    assert "Overview" in as_role("manager").get("/").get_data(as_text=True)


def test_language_switch_rejects_unknown_language(client):
    assert client.post("/language", data={"lang": "xx"}).status_code == 400


def test_language_switch_refuses_offsite_next(client):
    response = client.post("/language", data={"lang": "en", "next": "//evil.example"})
    assert response.headers["Location"] == "/"
