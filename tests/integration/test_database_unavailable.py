"""An unreachable database answers 503 with Retry-After and a page that says so,
never a 500 and never the driver's message."""
from __future__ import annotations

import pytest

from app import create_app
from config import TestConfig
from tests.conftest import PASSWORD, Client

UNREACHABLE = {
    "postgresql, closed port": "postgresql+psycopg://postgres@127.0.0.1:1/x",
    "sqlite, missing directory": "sqlite:////nonexistent-directory-for-the-test/x.sqlite",
}


@pytest.fixture(params=list(UNREACHABLE.values()), ids=list(UNREACHABLE))
def down_app(request):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=request.param,
                     SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}}
                     if request.param.startswith("postgresql") else {})
    app.test_client_class = Client
    yield app


def _assert_unavailable(response):
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    html = response.get_data(as_text=True)
    assert "The database cannot be reached at the moment" in html
    assert "Traceback" not in html and "OperationalError" not in html and "127.0.0.1" not in html


def test_signed_in_page_answers_503(down_app):
    client = down_app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = "1:1"
        sess["_fresh"] = True
    _assert_unavailable(client.get("/"))
    _assert_unavailable(client.get("/customers/", headers={"HX-Request": "true"}))


def test_sign_in_answers_503(down_app):
    client = down_app.test_client()
    response = client.post("/login", data={"username": "manager", "password": PASSWORD,
                                           "csrf_token": client.csrf_token()})
    _assert_unavailable(response)


def test_german_page_says_so_in_german(down_app):
    client = down_app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = "1:1"
    response = client.get("/", headers={"Accept-Language": "de"})
    assert response.status_code == 503
    assert "Die Datenbank ist gerade nicht erreichbar" in response.get_data(as_text=True)
