"""Background jobs the way `make run` runs them: a SQLite file database, the schema from
the migrations, the demo company, jobs in the in-process thread pool (not inline).

The suite's other job tests run jobs inline (``JOBS_SYNCHRONOUS``); that hid a job that
locked itself out of its own database: publishing held SQLite's write lock while its
progress reports waited for it on another connection, until "database is locked".
"""
from __future__ import annotations

import hashlib
import threading

import pytest

from app import create_app
from app.extensions import db
from config import TestConfig
from tests.conftest import Client

# Publishing the small demo renders two PDFs; on a busy two-core machine that takes
# well under a minute. The bound only keeps a hanging job from hanging the suite.
JOB_WAIT_SECONDS = 300


@pytest.fixture(scope="module")
def default_app(tmp_path_factory):
    """The app on a fresh SQLite file, migrated and loaded with a small demo company."""
    from flask_migrate import upgrade

    from app.demo import build_demo

    path = tmp_path_factory.mktemp("default-path") / "loyalty_audit.sqlite"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", JOBS_SYNCHRONOUS=False,
                     REDIS_URL=None)
    app.test_client_class = Client
    with app.app_context():
        upgrade()
        build_demo(echo=lambda line: None, customers=150, seed=20261123, report_drafts=False)
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _manager(app) -> Client:
    from app.accounts.models import User
    from tests.conftest import UserRecord

    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "manager"))
        record = UserRecord(user.id, user.username, user.role, user.session_version)
        db.session.remove()
    return app.test_client().login_as(record)


def wait_for_job(app, job_id: int, poll) -> None:
    """Poll until the job has finished (or the bound is reached); ``poll`` is called between looks."""
    from app.web.models import Job

    stop = threading.Event()
    for _ in range(JOB_WAIT_SECONDS * 2):
        with app.app_context():
            status = db.session.get(Job, job_id).status
            db.session.remove()
        if status in ("done", "failed"):
            return
        poll()
        stop.wait(0.5)
    pytest.fail(f"job {job_id} still {status!r} after {JOB_WAIT_SECONDS} s")


def test_publishing_the_demo_audit_in_a_background_thread(default_app):
    from app.reports.models import ReportDocument
    from app.touchpoint_audit.models import Audit
    from app.web.models import Job

    app = default_app
    with app.app_context():
        audit_id = db.session.scalar(db.select(Audit.id).where(Audit.status != "published").order_by(Audit.id))
        db.session.remove()
    manager = _manager(app)
    started = manager.post(f"/reports/audits/{audit_id}/publish", data={"confirm": "yes"})
    assert started.status_code == 303 and "/jobs/" in started.headers["Location"]
    job_url = started.headers["Location"]
    job_id = int(job_url.rstrip("/").rsplit("/", 1)[1])

    # The browser polls the job page (htmx) while the job runs: the poller reads the
    # same database at the same time, as it does for a real user.
    def poll():
        response = manager.get(job_url, headers={"HX-Request": "true"})
        assert response.status_code == 200

    wait_for_job(app, job_id, poll)
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status == "done", job.error
        audit = db.session.get(Audit, audit_id)
        assert audit.is_published
        stored = {d.lang: d.sha256 for d in db.session.scalars(
            db.select(ReportDocument).where(ReportDocument.audit_id == audit_id,
                                            ReportDocument.kind == "published"))}
        db.session.remove()
    assert set(stored) == {"de", "en"}
    assert job.result["sha256"] == stored
    for lang, sha in stored.items():
        pdf = manager.get(f"/reports/audits/{audit_id}/pdf/{lang}")
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
        assert hashlib.sha256(pdf.data).hexdigest() == sha == pdf.headers["X-Content-SHA256"]


# ------------------------------------------------------------------ jobs that write while they report

CAN_COMMIT = threading.Event()


def writes_while_reporting(job_id, **params):
    """Holds SQLite's write lock (as an import writing all rows in one transaction does),
    reports progress, and commits only when the test has seen that progress."""
    from app.web.jobs import report
    from app.web.models import Job

    db.session.add(Job(kind="report_pdf", params={}, status="done"))
    db.session.flush()
    report(job_id, 0.5, "Storing the report")
    if not CAN_COMMIT.wait(JOB_WAIT_SECONDS):
        raise RuntimeError("the test never saw the progress")
    db.session.commit()
    return {"wrote": True}


def waits_for_its_heartbeat(job_id, **params):
    """Reports nothing: only the heartbeat thread can stamp the job meanwhile."""
    from app.web.models import Job

    def stamp():
        with db.engine.connect() as conn:
            return conn.scalar(db.select(Job.heartbeat_at).where(Job.id == job_id))

    first, stop = stamp(), threading.Event()
    for _ in range(600):  # 30 s: hundreds of heartbeats
        if stamp() > first:
            return {"stamped": True}
        stop.wait(0.05)
    return {"stamped": False}


def test_a_job_reports_progress_while_it_holds_the_write_lock(default_app, monkeypatch):
    """The progress cannot be written before the job commits (SQLite has one writer):
    the job goes on and the page shows the progress this process keeps."""
    from app.web.jobs import TASKS, enqueue
    from app.web.models import Job

    app = default_app
    monkeypatch.setitem(TASKS, "test_writes", f"{__name__}:writes_while_reporting")
    CAN_COMMIT.clear()
    manager = _manager(app)
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        from app.accounts.models import User

        manager_id = db.session.scalar(db.select(User.id).where(User.username == "manager"))
        job_id = enqueue("test_writes", created_by_id=manager_id).id
        db.session.remove()

    def poll():
        page = manager.get(f"/jobs/{job_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
        if "Storing the report" in page and 'value="0.500"' in page:
            CAN_COMMIT.set()

    wait_for_job(app, job_id, poll)
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert (job.status, job.error_code, job.result) == ("done", None, {"wrote": True})
        db.session.remove()


def test_a_running_job_stamps_its_heartbeat(default_app, monkeypatch):
    from app.web.jobs import TASKS, enqueue
    from app.web.models import Job

    app = default_app
    monkeypatch.setitem(TASKS, "test_heartbeat", f"{__name__}:waits_for_its_heartbeat")
    monkeypatch.setitem(app.config, "JOB_HEARTBEAT_SECONDS", 0.05)
    with app.test_request_context("/"):
        job_id = enqueue("test_heartbeat").id
        db.session.remove()
    wait_for_job(app, job_id, lambda: None)
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status == "done" and job.result == {"stamped": True}
        db.session.remove()
