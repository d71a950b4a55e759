"""Background jobs: failures recorded for the user in their language (never an exception's
text), the job page (title, progress, way back, retry) for its starter and administrators,
and jobs whose process died marked failed instead of running for ever."""
from __future__ import annotations

import datetime as dt
import logging

import pytest

from app.extensions import db

GENERIC_EN = "This did not work; the administrators can see the details in the log."
GENERIC_DE = "Das hat nicht geklappt; die Administratoren sehen die Einzelheiten im Protokoll."
STOPPED_EN = "This job stopped unexpectedly"
STOPPED_DE = "Diese Arbeit wurde unerwartet abgebrochen"
SECRET = 'SELECT * FROM "users" -- see https://sqlalche.me/e/20/e3q8'


def always_fails(job_id, **params):
    """A job function that raises what a library would: its text must reach only the log."""
    raise RuntimeError(SECRET)


def refuses_outside_the_app(job_id, **params):
    """A ValueError not raised by the app's own code (as pandas or a driver raise them)."""
    raise ValueError(SECRET)


@pytest.fixture
def test_kinds(monkeypatch):
    from app.web.jobs import TASKS

    monkeypatch.setitem(TASKS, "test_always_fails", f"{__name__}:always_fails")
    monkeypatch.setitem(TASKS, "test_refuses", f"{__name__}:refuses_outside_the_app")


def start(app, kind, starter_id, /, referrer=None, **params) -> int:
    """Enqueue as a request from an English browser would (inline: the suite runs jobs synchronously)."""
    from app.web.jobs import enqueue

    headers = {"Accept-Language": "en", **({"Referer": referrer} if referrer else {})}
    with app.test_request_context("/", headers=headers):
        job_id = enqueue(kind, created_by_id=starter_id, **params).id
        db.session.remove()
    return job_id


def stored(app, job_id):
    from app.web.models import Job

    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        db.session.remove()
    return job


def add_job(app, user_id, **fields) -> int:
    from app.web.models import Job

    with app.app_context():
        record = Job(created_by_id=user_id, **{"kind": "report_publish", "params": {}, **fields})
        db.session.add(record)
        db.session.commit()
        job_id = record.id
        db.session.remove()
    return job_id


def german(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    return client


# ------------------------------------------------------------------ failures


def test_an_unexpected_failure_shows_a_generic_message_and_logs_the_details(app, users, as_role, test_kinds,
                                                                            caplog):
    caplog.set_level(logging.ERROR)
    job_id = start(app, "test_always_fails", users["manager"].id)
    job = stored(app, job_id)
    assert job.status == "failed" and job.error_code == "internal" and job.finished_at is not None
    assert job.error is None  # the exception's text is not kept for any page
    assert SECRET in caplog.text and "Traceback" in caplog.text
    manager = as_role("manager")
    page = manager.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert GENERIC_EN in page and "SELECT" not in page and "sqlalche.me" not in page
    page = german(manager).get(f"/jobs/{job_id}").get_data(as_text=True)
    assert GENERIC_DE in page and "SELECT" not in page


def test_a_valueerror_from_outside_the_app_is_not_shown(app, users, as_role, test_kinds):
    job_id = start(app, "test_refuses", users["manager"].id)
    assert stored(app, job_id).error_code == "internal"
    page = as_role("manager").get(f"/jobs/{job_id}").get_data(as_text=True)
    assert GENERIC_EN in page and "SELECT" not in page


def test_the_apps_own_refusal_is_shown_in_the_users_language(app, users, as_role):
    """Publishing without an analysis: the job's own message, in English and in German."""
    from tests.integration.test_reports import build_bare_audit

    audit_id = build_bare_audit(app, users, with_snapshot=False)
    job_id = start(app, "report_publish", users["manager"].id, audit_id=audit_id, user_id=users["manager"].id,
                   lang="en")
    job = stored(app, job_id)
    assert job.status == "failed" and job.error_code == "message" and job.lang == "en"
    manager = as_role("manager")
    page = manager.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "This did not work: Run the analysis before publishing" in page
    page = german(manager).get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Das hat nicht geklappt: Vor dem Veröffentlichen die Analyse ausführen" in page


def test_a_job_speaks_the_language_it_was_started_in(app, users, as_role):
    """Started from a German page, the job's message is German, whatever language its PDF has."""
    from app.web.jobs import enqueue

    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        job_id = enqueue("report_pdf", created_by_id=users["manager"].id, audit_id=10 ** 6, lang="en").id
        db.session.remove()
    job = stored(app, job_id)
    assert job.lang == "de" and job.error_code == "message" and job.error == "Das Audit gibt es nicht mehr."


# ------------------------------------------------------------------ the page


def test_a_job_message_is_shown_in_the_users_language(app, users, as_role):
    job_id = add_job(app, users["manager"].id, kind="customer_import", status="running", progress=0.6,
                     message="Writing customers and values")
    manager = as_role("manager")
    assert "Writing customers and values" in manager.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Kunden und Werte schreiben" in german(manager).get(f"/jobs/{job_id}").get_data(as_text=True)


@pytest.mark.parametrize("kind,english,german_title", [
    ("report_publish", "Publishing the report", "Bericht wird veröffentlicht"),
    ("report_pdf", "Generating the report", "Bericht wird erzeugt"),
    ("customer_import", "Importing customer values", "Kundenwerte werden importiert"),
    ("segmentation_run", "Running the segmentation", "Segmentierung läuft"),
    ("audit_analysis", "Analysing the audit", "Audit wird analysiert"),
])
def test_the_page_names_what_runs(app, users, as_role, kind, english, german_title):
    job_id = add_job(app, users["manager"].id, kind=kind, status="running")
    manager = as_role("manager")
    assert f"<h1>{english}</h1>" in manager.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert f"<h1>{german_title}</h1>" in german(manager).get(f"/jobs/{job_id}").get_data(as_text=True)


def test_the_htmx_poll_gets_the_fragment_only(app, users, as_role):
    job_id = add_job(app, users["manager"].id, status="running", progress=0.25, message="Storing the report")
    fragment = as_role("manager").get(f"/jobs/{job_id}", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and "<h1>" not in body
    assert "Storing the report" in body and 'value="0.250"' in body and "every 1s" in body


def test_the_way_back_leads_where_the_job_was_started(app, users, as_role, test_kinds):
    job_id = start(app, "test_always_fails", users["manager"].id, referrer="http://localhost/audits/7?tab=report")
    assert stored(app, job_id).return_to == "/audits/7?tab=report"
    page = as_role("manager").get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'href="/audits/7?tab=report"' in page


def test_a_foreign_referrer_is_not_a_way_back(app, users, as_role, test_kinds):
    job_id = start(app, "test_always_fails", users["manager"].id, referrer="https://elsewhere.example/phish")
    assert stored(app, job_id).return_to is None
    page = as_role("manager").get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "elsewhere.example" not in page and 'href="/">' in page


@pytest.mark.parametrize("role,allowed", [("manager", True), ("admin", True), ("leadership", False),
                                          ("service", False)])
def test_only_the_starter_and_administrators_see_a_job(app, users, as_role, role, allowed):
    job_id = add_job(app, users["manager"].id, status="failed", error_code="internal")
    assert as_role(role).get(f"/jobs/{job_id}").status_code == (200 if allowed else 403)


# ------------------------------------------------------------------ retry


def test_the_starter_runs_a_failed_job_again_with_the_same_parameters(app, users, as_role, test_kinds):
    from app.web.models import Job

    job_id = start(app, "test_always_fails", users["manager"].id, referrer="http://localhost/reports/",
                   audit_id=3, lang="en")
    manager = as_role("manager")
    page = manager.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert f'action="/jobs/{job_id}/retry"' in page and "Try again" in page
    assert "Noch einmal versuchen" in german(manager).get(f"/jobs/{job_id}").get_data(as_text=True)
    again = manager.post(f"/jobs/{job_id}/retry")
    assert again.status_code == 303
    new_id = int(again.headers["Location"].rsplit("/", 1)[1])
    assert new_id != job_id
    with app.app_context():
        first, second = db.session.get(Job, job_id), db.session.get(Job, new_id)
        assert (second.kind, second.params, second.created_by_id, second.return_to) == (
            first.kind, {"audit_id": 3, "lang": "en"}, users["manager"].id, "/reports/")
        assert second.status == "failed"  # it ran (inline) and failed again
        db.session.remove()


def test_retry_needs_the_csrf_token(app, users, as_role, test_kinds):
    job_id = start(app, "test_always_fails", users["manager"].id)
    assert as_role("manager").post(f"/jobs/{job_id}/retry", csrf=False).status_code == 400


@pytest.mark.parametrize("role,status", [("admin", 303), ("leadership", 403), ("service", 403)])
def test_nobody_else_retries_a_job(app, users, as_role, test_kinds, role, status):
    """An administrator sees the job but does not start it again in its owner's name."""
    from app.web.models import Job

    job_id = start(app, "test_always_fails", users["manager"].id)
    client = as_role(role)
    if role == "admin":
        assert "Try again" not in client.get(f"/jobs/{job_id}").get_data(as_text=True)
    response = client.post(f"/jobs/{job_id}/retry")
    assert response.status_code == status
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Job.id))) == 1
        db.session.remove()


def test_only_a_failed_job_runs_again(app, users, as_role):
    from app.web.models import Job

    job_id = add_job(app, users["manager"].id, status="running")
    manager = as_role("manager")
    assert "Try again" not in manager.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert manager.post(f"/jobs/{job_id}/retry").headers["Location"].endswith(f"/jobs/{job_id}")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Job.id))) == 1
        db.session.remove()


# ------------------------------------------------------------------ lease


def minutes_ago(n: int) -> dt.datetime:
    from app.web.models import utcnow

    return utcnow() - dt.timedelta(minutes=n)


def test_a_job_whose_heartbeat_ran_out_is_shown_failed(app, users, as_role):
    dead = add_job(app, users["manager"].id, status="running", progress=0.4, message="Storing the report",
                   created_at=minutes_ago(30), heartbeat_at=minutes_ago(10))
    manager = as_role("manager")
    page = manager.get(f"/jobs/{dead}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert STOPPED_EN in page and 'data-status="failed"' in page and "every 1s" not in page
    assert "Try again" in page
    job = stored(app, dead)
    assert (job.status, job.error_code) == ("failed", "stopped") and job.finished_at is not None
    assert STOPPED_DE in german(manager).get(f"/jobs/{dead}").get_data(as_text=True)


def test_a_job_with_a_fresh_heartbeat_keeps_running(app, users, as_role):
    """Started long ago, but its process stamped it a minute ago: alive."""
    alive = add_job(app, users["manager"].id, status="running", progress=0.4, message="Storing the report",
                    created_at=minutes_ago(60), heartbeat_at=minutes_ago(1))
    page = as_role("manager").get(f"/jobs/{alive}").get_data(as_text=True)
    assert STOPPED_EN not in page and 'data-status="running"' in page and "Storing the report" in page
    assert stored(app, alive).status == "running"


def test_the_lease_is_configurable(app, users, as_role, monkeypatch):
    alive = add_job(app, users["manager"].id, status="running", heartbeat_at=minutes_ago(10))
    monkeypatch.setitem(app.config, "JOB_LEASE_SECONDS", 3600)
    as_role("manager").get(f"/jobs/{alive}")
    assert stored(app, alive).status == "running"
    monkeypatch.setitem(app.config, "JOB_LEASE_SECONDS", 60)
    as_role("manager").get(f"/jobs/{alive}")
    assert stored(app, alive).status == "failed"


def test_enqueueing_marks_every_dead_job_failed(app, users, test_kinds):
    """Also the jobs nobody polls any more, and one that never left the queue of a dead process."""
    dead_running = add_job(app, users["leadership"].id, status="running", heartbeat_at=minutes_ago(5))
    dead_queued = add_job(app, users["leadership"].id, status="queued", created_at=minutes_ago(5))
    alive = add_job(app, users["leadership"].id, status="running", heartbeat_at=minutes_ago(0))
    done = add_job(app, users["leadership"].id, status="done", heartbeat_at=minutes_ago(50))
    start(app, "test_always_fails", users["manager"].id)
    assert [stored(app, i).status for i in (dead_running, dead_queued, alive, done)] == [
        "failed", "failed", "running", "done"]
    assert stored(app, dead_queued).error_code == "stopped"


def test_with_rq_a_queued_job_may_wait_but_a_running_one_needs_its_heartbeat(app, users, monkeypatch):
    """In RQ's queue no process stamps a job yet; once a worker runs it, it must."""
    from app.web.jobs import expire_stale_jobs

    queued = add_job(app, users["manager"].id, status="queued", created_at=minutes_ago(30))
    running = add_job(app, users["manager"].id, status="running", heartbeat_at=minutes_ago(30))
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:6379/11")
    with app.app_context():
        assert expire_stale_jobs() == [running]
        db.session.remove()
    assert stored(app, queued).status == "queued"


def test_a_job_this_process_holds_is_not_declared_dead(app, users, monkeypatch):
    """Waiting in this process's pool behind long jobs is not dying."""
    from app.web import jobs

    waiting = add_job(app, users["manager"].id, status="queued", created_at=minutes_ago(30))
    monkeypatch.setitem(jobs._here, waiting, (0.0, ""))
    with app.app_context():
        assert jobs.expire_stale_jobs() == []
        db.session.remove()
    assert stored(app, waiting).status == "queued"


def test_every_task_in_the_map_can_be_found(app):
    """The static map names functions that exist (a renamed function fails here, not in a worker)."""
    from app.web.jobs import TASKS, TITLES, task

    assert set(TASKS) == {"customer_import", "segmentation_run", "audit_analysis", "report_pdf", "report_publish",
                          "observation_import", "outcome_import", "run_xlsx_export", "customer_list_xlsx_export"}
    assert set(TITLES) == set(TASKS)
    for kind in TASKS:
        assert callable(task(kind)), kind
