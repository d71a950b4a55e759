"""Staged uploads live in the database: any app server confirms what another one checked."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from werkzeug.exceptions import NotFound

from app import create_app
from app.extensions import db
from app.web import uploads
from app.web.models import StagedUpload, utcnow
from config import TestConfig
from tests.conftest import _HASH, Client

CSV = b"customer_id;period;revenue\n00123;2024-01;100\n00777;2024-01;50\n"


def test_stage_then_load_returns_the_same_bytes_for_the_same_user_and_purpose(app, users):
    with app.app_context():
        token = uploads.stage(CSV, "werte.csv", "customer_values", users["manager"].id)
        staged = uploads.load(token, "customer_values", users["manager"].id)
        assert (staged.data, staged.filename, staged.token) == (CSV, "werte.csv", token)
        db.session.remove()


@pytest.mark.parametrize("who,purpose", [("admin", "customer_values"), ("manager", "observations")])
def test_another_user_or_another_purpose_gets_404(app, users, who, purpose):
    with app.app_context():
        token = uploads.stage(CSV, "werte.csv", "customer_values", users["manager"].id)
        with pytest.raises(NotFound):
            uploads.load(token, purpose, users[who].id)
        db.session.remove()


@pytest.mark.parametrize("token", ["", "x" * 65, "no-such-token", "' OR 1=1 --"])
def test_unknown_tokens_get_404(app, users, token):
    with app.app_context():
        with pytest.raises(NotFound):
            uploads.load(token, "customer_values", users["manager"].id)
        db.session.remove()


def test_an_expired_upload_is_refused_and_swept_when_the_next_is_staged(app, users):
    manager = users["manager"].id
    with app.app_context():
        old = uploads.stage(CSV, "alt.csv", "customer_values", manager)
        fresh = uploads.stage(CSV, "neu.csv", "customer_values", manager)
        assert uploads.load(old, "customer_values", manager).filename == "alt.csv"
        with db.engine.begin() as conn:
            conn.execute(db.update(StagedUpload).where(StagedUpload.token == old)
                         .values(expires=utcnow() - dt.timedelta(seconds=1)))
        with pytest.raises(NotFound):
            uploads.load(old, "customer_values", manager)
        uploads.stage(CSV, "next.csv", "observations", users["admin"].id)  # anybody's staging sweeps
        tokens = set(db.session.scalars(db.select(StagedUpload.token)))
        assert old not in tokens and fresh in tokens and len(tokens) == 2
        db.session.remove()


def test_a_staged_upload_expires_after_a_day(app, users):
    with app.app_context():
        before = utcnow()
        token = uploads.stage(CSV, "werte.csv", "customer_values", users["manager"].id)
        row = db.session.get(StagedUpload, token)
        assert dt.timedelta(hours=23, minutes=59) < row.expires - before <= dt.timedelta(hours=24, seconds=5)
        db.session.remove()


def test_discard_forgets_the_file(app, users):
    with app.app_context():
        token = uploads.stage(CSV, "werte.csv", "customer_values", users["manager"].id)
        uploads.discard(token)
        with pytest.raises(NotFound):
            uploads.load(token, "customer_values", users["manager"].id)
        db.session.remove()


@pytest.fixture
def two_servers(tmp_path):
    """Two apps on one database file, each with its own instance folder (as two machines have)."""
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    servers = []
    for name in ("a", "b"):
        server = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, UPLOAD_FOLDER=str(tmp_path / name / "uploads"))
        server.test_client_class = Client
        servers.append(server)
    from app.accounts.models import User

    with servers[0].app_context():
        db.create_all()
        user = User(username="manager", display_name="Manager", role="manager", password_hash=_HASH)
        db.session.add(user)
        db.session.commit()
        manager_id = f"{user.id}:{user.session_version}"
        db.session.remove()
    yield servers, manager_id
    for server in servers:
        with server.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_file_checked_on_one_server_is_confirmed_on_another(two_servers):
    (server_a, server_b), manager_id = two_servers
    clients = []
    for server in (server_a, server_b):
        client = server.test_client()
        with client.session_transaction() as sess:
            sess["_user_id"], sess["_fresh"] = manager_id, True
        clients.append(client)
    checked = clients[0].post("/customers/import", data={"file": (io.BytesIO(CSV), "werte.csv")},
                              content_type="multipart/form-data")
    assert checked.status_code == 200
    action = re.search(r'action="(/customers/import/[^"]+)"', checked.get_data(as_text=True)).group(1)
    confirmed = clients[1].post(action)
    assert confirmed.status_code == 303, confirmed.status_code
    from app.segments.models import Customer

    with server_b.app_context():
        assert sorted(db.session.scalars(db.select(Customer.customer_no))) == ["00123", "00777"]
        assert db.session.scalar(db.select(db.func.count()).select_from(StagedUpload)) == 0, "confirmed: forgotten"
        db.session.remove()
