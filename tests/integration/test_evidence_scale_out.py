"""An observation with a photo round-trips through two app servers that share only PostgreSQL:
logged with a photo on server A, the photo (without its location) served by server B.

Each gunicorn server runs from a copy of the code with an instance folder of its own, as in
test_scale_out.py, whose helpers this test uses."""
from __future__ import annotations

import hashlib
import io
import os
import re
import sys

import pytest
import sqlalchemy as sa
from PIL import Image

from tests.integration.evidence_samples import GPS_IFD, MAKE, jpeg_bytes
from tests.integration.test_scale_out import (  # noqa: F401  (processes, shared_database: fixtures)
    BIN,
    PASSWORD,
    csrf_token,
    machines,
    processes,
    run_cli,
    shared_database,
    signed_in,
    start_app_servers,
    wait_until_serving,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                       reason="needs PostgreSQL: set TEST_DATABASE_URL (.ci/run does)"),
]
requests = pytest.importorskip("requests")

SEED = """
from app import create_app
from app.accounts.passwords import hash_password
from app.accounts.models import User
from app.extensions import db
from app.touchpoint_audit.models import Audit, Metric, Touchpoint

app = create_app()
with app.app_context():
    user = User(username="chefin", display_name="Chefin", role="manager", password_hash=hash_password(%(password)r))
    audit = Audit(title="Runde mit Fotos", status="open", metrics=list(db.session.scalars(db.select(Metric))))
    db.session.add_all([user, audit])
    db.session.commit()
    wait = db.session.scalar(db.select(Metric.id).join(Touchpoint).where(Touchpoint.key == "hotline", Metric.key == "wait"))
    print(audit.id, wait)
"""


def test_a_photo_logged_on_one_server_is_served_by_the_other(shared_database, processes, tmp_path):  # noqa: F811
    database_url, engine = shared_database
    env_of = machines(tmp_path, DATABASE_URL=database_url)  # no Redis: jobs in the servers' threads
    cli = env_of("cli")
    run_cli(cli, str(BIN / "flask"), "db", "upgrade")
    servers = start_app_servers(processes, env_of)
    run_cli(cli, str(BIN / "flask"), "touchpoints", "seed")
    audit_id, metric_id = (int(v) for v in run_cli(cli, sys.executable, "-c", SEED % {"password": PASSWORD}).split()[-2:])
    for name, (base, process) in servers.items():
        wait_until_serving(processes, name, process, base)
    server_a, server_b = servers["a"][0], servers["b"][0]

    browser = signed_in(server_a)

    photo = jpeg_bytes((64, 48), gps=True)
    form = browser.get(f"{server_a}/log", params={"audit_id": audit_id}, timeout=30)
    assert 'capture="environment"' in form.text
    logged = browser.post(f"{server_a}/log/{audit_id}", allow_redirects=False, timeout=60,
                          data={"csrf_token": csrf_token(form.text), "metric_id": str(metric_id), "value": "95",
                                "customer_status": "new", "evidence_grade": "observed"},
                          files={"evidence": ("IMG_0042.JPG", photo, "image/jpeg")})
    assert logged.status_code == 303, logged.text[-2000:]
    with engine.connect() as conn:
        evidence_id, sha256 = conn.execute(sa.text("SELECT id, sha256 FROM observation_evidence")).one()

    # Server B, which never saw the upload, serves the photo and its thumbnail from the database.
    served = browser.get(f"{server_b}/evidence/{evidence_id}", timeout=30)
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in served.headers["Content-Security-Policy"]
    stored = Image.open(io.BytesIO(served.content))
    assert stored.size == (64, 48)
    assert not stored.getexif().get_ifd(GPS_IFD) and MAKE not in stored.getexif()
    assert hashlib.sha256(served.content).hexdigest() == sha256
    thumb = browser.get(f"{server_b}/evidence/{evidence_id}/thumbnail", timeout=30)
    assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.content)).format == "JPEG"
    # the edit page on B lists it, with its thumbnail
    observation_id = int(re.search(r'data-observation="(\d+)"', browser.get(
        f"{server_b}/log", params={"audit_id": audit_id}, timeout=30).text).group(1))
    edit = browser.get(f"{server_b}/observations/{observation_id}/edit", timeout=30)
    assert f'src="/evidence/{evidence_id}/thumbnail"' in edit.text
