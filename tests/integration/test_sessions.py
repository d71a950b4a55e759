"""Signing out ends the session on the server: an old session cookie or an old
remember-me cookie copied before the sign-out no longer signs anyone in."""
from __future__ import annotations

from tests.conftest import PASSWORD


def _sign_in(app, remember: bool):
    client = app.test_client()
    data = {"username": "manager", "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    assert client.post("/login", data=data).status_code == 302
    client._csrf = None  # signing in starts a new session, with a new CSRF token
    assert client.get("/").status_code == 200
    return client


def _cookie(client, name: str) -> str:
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def _replay(app, name: str, value: str):
    other = app.test_client()
    other.set_cookie(name, value)
    return other.get("/")


def test_old_session_cookie_no_longer_works_after_logout(app, users):
    client = _sign_in(app, remember=False)
    stolen = _cookie(client, "session")
    assert _replay(app, "session", stolen).status_code == 200  # the copy works while signed in
    assert client.post("/logout").status_code == 303
    response = _replay(app, "session", stolen)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_old_remember_cookie_no_longer_works_after_logout(app, users):
    client = _sign_in(app, remember=True)
    stolen = _cookie(client, "remember_token")
    assert _replay(app, "remember_token", stolen).status_code == 200  # restores the sign-in while valid
    assert client.post("/logout").status_code == 303
    response = _replay(app, "remember_token", stolen)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_signing_in_again_after_logout_works(app, users):
    client = _sign_in(app, remember=True)
    client.post("/logout")
    assert client.get_cookie("remember_token") is None  # the browser is told to forget it
    assert client.get("/").status_code == 302
    _sign_in(app, remember=True)
