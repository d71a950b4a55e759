"""A job that raises is recorded as failed with its message; the request that started it still answers."""
from __future__ import annotations

from app.extensions import db


def always_fails(job_id, **params):
    """A job function that raises, found through the task map like any other."""
    raise RuntimeError("the file vanished")


def test_a_failing_job_is_recorded_as_failed(app, users, monkeypatch):
    from app.web.jobs import TASKS, enqueue
    from app.web.models import Job

    monkeypatch.setitem(TASKS, "test_always_fails", f"{__name__}:always_fails")
    with app.test_request_context():
        record = enqueue("test_always_fails", created_by_id=users["manager"].id)
        job_id = record.id
        db.session.remove()
    with app.app_context():
        stored = db.session.get(Job, job_id)
        assert stored.status == "failed" and stored.error == "the file vanished"
        assert stored.finished_at is not None
        db.session.remove()


def test_every_task_in_the_map_can_be_found(app):
    """The static map names functions that exist (a renamed function fails here, not in a worker)."""
    from app.web.jobs import TASKS, task

    assert set(TASKS) == {"customer_import", "segmentation_run", "audit_analysis", "report_pdf", "report_publish"}
    for kind in TASKS:
        assert callable(task(kind)), kind


def test_a_job_message_is_shown_in_the_users_language(app, users, as_role):
    from app.web.models import Job

    with app.app_context():
        record = Job(kind="customer_import", params={}, created_by_id=users["manager"].id, status="running",
                     progress=0.6, message="Writing customers and values")
        db.session.add(record)
        db.session.commit()
        job_id = record.id
        db.session.remove()
    manager = as_role("manager")
    assert "Writing customers and values" in manager.get(f"/jobs/{job_id}").get_data(as_text=True)
    manager.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    assert "Kunden und Werte schreiben" in manager.get(f"/jobs/{job_id}").get_data(as_text=True)
