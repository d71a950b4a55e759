"""Observation and after-sales imports: the loser of two identical imports at the same moment
gets a clear answer (never a 500) and nothing is written twice; large files are checked and
written by a background job with progress."""
from __future__ import annotations

import re

import pytest
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from tests.integration import test_aftersales
from tests.integration.audit_fixtures import count_observations
from tests.integration.test_aftersales import HEADER, _count
from tests.integration.test_aftersales import _upload as upload_outcomes
from tests.integration.test_audits_import import GOOD_CSV
from tests.integration.test_audits_import import _upload as upload_observations


@pytest.fixture
def customers(app):
    """The after-sales tests' customers (004711 …)."""
    return test_aftersales.customers.__wrapped__(app)


def _token(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def _competitor(real, times: int):
    """A write that meets another import's rows: the first time 'another import' writes the same
    rows and commits just before this one's insert, which then fails on the unique constraint; up
    to ``times`` the insert fails again (yet another import got in first)."""
    state = {"calls": 0}

    def write(*args, **kwargs):
        state["calls"] += 1
        if state["calls"] == 1:
            real(*args, **kwargs)  # the other import's rows …
            db.session.commit()  # … are committed while this one is writing
        if state["calls"] <= times:
            raise IntegrityError("INSERT …", {}, Exception("duplicate key value violates unique constraint"))
        return real(*args, **kwargs)

    return write


def test_observation_import_that_collides_once_is_redone_and_writes_each_row_once(app, as_role, world, monkeypatch):
    from app.touchpoint_audit import importing

    client = as_role("manager")
    token = _token(upload_observations(client, world.audit_id, GOOD_CSV))
    monkeypatch.setattr(importing, "write_observations", _competitor(importing.write_observations, 1))
    response = client.post(f"/audits/{world.audit_id}/import/confirm", data={"token": token})
    assert response.status_code == 303
    assert count_observations(app) == 4  # the competitor's four, none twice


def test_observation_import_that_collides_twice_is_refused_clearly(app, as_role, world, monkeypatch):
    from app.touchpoint_audit import importing

    client = as_role("manager")
    token = _token(upload_observations(client, world.audit_id, GOOD_CSV))
    monkeypatch.setattr(importing, "write_observations", _competitor(importing.write_observations, 2))
    response = client.post(f"/audits/{world.audit_id}/import/confirm", data={"token": token})
    assert response.status_code == 409
    assert "Another import of the same observations ran at the same moment" in response.get_data(as_text=True)
    assert count_observations(app) == 4  # what the other import wrote stands, nothing more


def test_outcome_import_that_collides_is_redone_or_refused_clearly(app, as_role, customers, monkeypatch):
    from app.aftersales import importing

    client = as_role("manager")
    text = HEADER + "004711;15.03.2025;5;2;ja\n004712;2025-04-01;4;ja;nein\n"
    token = _token(upload_outcomes(client, text))
    monkeypatch.setattr(importing, "write_outcomes", _competitor(importing.write_outcomes, 1))
    assert client.post("/after-sales/import/confirm", data={"token": token}).status_code == 303
    assert _count(app) == 2

    monkeypatch.undo()
    other = HEADER + "004711;16.03.2025;5;2;ja\n"
    token = _token(upload_outcomes(client, other))
    monkeypatch.setattr(importing, "write_outcomes", _competitor(importing.write_outcomes, 2))
    response = client.post("/after-sales/import/confirm", data={"token": token}, follow_redirects=True)
    assert "Another import of the same outcomes ran at the same moment" in response.get_data(as_text=True)
    assert _count(app) == 3


def test_a_large_observation_file_is_imported_by_a_job(app, as_role, world, monkeypatch):
    from app.touchpoint_audit import views
    from app.web.models import Job

    monkeypatch.setattr(views, "IMPORT_BACKGROUND_BYTES", 10)
    monkeypatch.setitem(app.config, "JOBS_SYNCHRONOUS", True)
    client = as_role("manager")
    token = _token(upload_observations(client, world.audit_id, GOOD_CSV))
    response = client.post(f"/audits/{world.audit_id}/import/confirm", data={"token": token})
    assert response.status_code == 303 and "/jobs/" in response.headers["Location"]
    with app.app_context():
        job = db.session.scalars(db.select(Job).where(Job.kind == "observation_import")).one()
        assert job.status == "done" and job.result["written"] == 4
        db.session.remove()
    assert count_observations(app) == 4
    page = client.get(response.headers["Location"])
    assert page.status_code in (200, 302, 303)


def test_a_large_outcome_file_is_imported_by_a_job(app, as_role, customers, monkeypatch):
    from app.aftersales import views
    from app.web.models import Job

    monkeypatch.setattr(views, "IMPORT_BACKGROUND_BYTES", 10)
    monkeypatch.setitem(app.config, "JOBS_SYNCHRONOUS", True)
    client = as_role("manager")
    token = _token(upload_outcomes(client, HEADER + "004711;15.03.2025;5;2;ja\n"))
    response = client.post("/after-sales/import/confirm", data={"token": token})
    assert response.status_code == 303 and "/jobs/" in response.headers["Location"]
    with app.app_context():
        job = db.session.scalars(db.select(Job).where(Job.kind == "outcome_import")).one()
        assert job.status == "done" and job.result["new"] == 1
        db.session.remove()
    assert _count(app) == 1


def test_cli_observation_import_that_collides_twice_says_so(app, world, tmp_path, monkeypatch):
    from app.touchpoint_audit import importing

    path = tmp_path / "obs.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    monkeypatch.setattr(importing, "write_observations", _competitor(importing.write_observations, 2))
    result = app.test_cli_runner().invoke(args=["audits", "import-observations", str(world.audit_id), str(path)])
    assert result.exit_code == 1  # a clear refusal, not a traceback
    assert "another import of the same observations ran at the same moment" in result.output
    assert count_observations(app) == 4  # the other import's rows, nothing twice
