"""Fixtures shared by integration and e2e tests.

The database is SQLite in memory, or PostgreSQL when TEST_DATABASE_URL is set
(`.ci/run` creates a fresh database per run). Tables are created once per
session and emptied after every test.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from app import create_app
from app.accounts.passwords import hash_password
from app.extensions import db, limiter
from config import TestConfig

PASSWORD = "correct-horse-battery"
_HASH = hash_password(PASSWORD)  # hashing is slow on purpose; do it once
ROLES = ("admin", "manager", "service", "leadership")
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Client(FlaskClient):
    """A test client that sends the CSRF token like the browser does."""

    _csrf: str | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Tests read English unless they switch; the app's default is German.
        self.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    def csrf_token(self) -> str:
        if self._csrf is None:
            page = super().open("/login" if not self._logged_in() else "/", method="GET")
            html = page.get_data(as_text=True)
            match = _TOKEN.search(html)
            assert match, f"no CSRF token on the page ({page.status_code} {page.headers.get('Location')})"
            self._csrf = match.group(1)
        return self._csrf

    def _logged_in(self) -> bool:
        with self.session_transaction() as sess:
            return "_user_id" in sess

    def open(self, *args, csrf: bool = True, **kwargs):
        method = kwargs.get("method", "GET").upper()
        if csrf and method not in ("GET", "HEAD", "OPTIONS"):
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def login_as(self, user) -> "Client":
        """Sign in by setting the session (fast); the real form is tested separately."""
        with self.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
        self._csrf = None
        return self


@pytest.fixture(scope="session")
def app():
    app = create_app(TestConfig)
    app.test_client_class = Client
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()  # a held transaction blocks DROP on PostgreSQL
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request):
    yield
    if "app" not in request.fixturenames:
        return  # unit tests never build the app
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
            if conn.dialect.name == "postgresql":
                # ids start at 1 again, as they do on SQLite once a table is empty: a test may
                # place customers in series blocks by id and must not depend on what ran before
                for table in db.metadata.sorted_tables:
                    if "id" in table.columns and table.columns["id"].autoincrement in (True, "auto"):
                        conn.execute(sa.text("SELECT setval(pg_get_serial_sequence(:t, 'id'), 1, false) "
                                             "WHERE pg_get_serial_sequence(:t, 'id') IS NOT NULL"),
                                     {"t": table.name})
    limiter.reset()


@dataclass(frozen=True)
class UserRecord:
    """A plain copy of a user row: tests must not hold an app context open
    across requests (Flask would then share ``g`` between requests)."""

    id: int
    username: str
    role: str
    session_version: int = 1

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


@pytest.fixture
def users(app):
    """One user per role, named after the role."""
    from app.accounts.models import User

    made = {}
    with app.app_context():
        for role in ROLES:
            user = User(username=role, display_name=role.title(), role=role, password_hash=_HASH)
            db.session.add(user)
            made[role] = user
        db.session.commit()
        records = {role: UserRecord(u.id, u.username, u.role, u.session_version) for role, u in made.items()}
        db.session.remove()
    return records


@pytest.fixture
def client(app) -> Client:
    return app.test_client()


@pytest.fixture
def as_role(app, users):
    """as_role('manager') -> a client signed in as that role."""

    def make(role: str) -> Client:
        return app.test_client().login_as(users[role])

    return make
