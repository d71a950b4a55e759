"""A job that raises is recorded as failed with its message; the request that started it still answers."""
from __future__ import annotations

from app.extensions import db


def test_a_failing_job_is_recorded_as_failed(app, users):
    from app.jobs import JOBS, enqueue, job
    from app.models import Job

    @job("test_always_fails")
    def always_fails(job_id, **params):
        raise RuntimeError("the file vanished")

    try:
        with app.test_request_context():
            record = enqueue("test_always_fails", created_by_id=users["manager"].id)
            job_id = record.id
            db.session.remove()
        with app.app_context():
            stored = db.session.get(Job, job_id)
            assert stored.status == "failed" and stored.error == "the file vanished"
            assert stored.finished_at is not None
            db.session.remove()
    finally:
        JOBS.pop("test_always_fails", None)
