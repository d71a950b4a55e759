"""Background work with progress: RQ workers when REDIS_URL is set, else a small
in-process thread pool (so `make run` needs no Redis).

A job kind names its function in :data:`TASKS` (``"module:function"``, imported
when a job of that kind runs, as microblog enqueues ``'app.tasks.' + name``); the
function is called as ``fn(job_id, **params)`` inside an app context; it reports progress with
``report(job_id, fraction, message)`` and returns a JSON-able result dict.
The browser polls ``/jobs/<id>`` (htmx) until the job is done.
"""
from __future__ import annotations

import importlib
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from flask import Flask, current_app

from app.extensions import db
from app.web.models import Job, utcnow

# kind -> "module:function". Dotted paths, not imports: the shell knows no area's code.
TASKS: dict[str, str] = {
    "customer_import": "app.segments.tasks:customer_import_job",
    "segmentation_run": "app.segments.tasks:segmentation_run_job",
    "audit_analysis": "app.touchpoint_audit.analysis:analysis_job",
    "report_pdf": "app.reports.tasks:generate_report",
    "report_publish": "app.reports.tasks:publish_report",
}
_executor: ThreadPoolExecutor | None = None
QUEUE_NAME = "reports"


def enqueue(kind: str, created_by_id: int | None = None, **params) -> Job:
    """Record a job and hand it to a worker; the caller commits nothing else."""
    if kind not in TASKS:
        raise ValueError(f"unknown job kind {kind!r}; known: {sorted(TASKS)}")
    record = Job(kind=kind, params=params, created_by_id=created_by_id)
    db.session.add(record)
    db.session.commit()
    app = current_app._get_current_object()
    if app.config.get("JOBS_SYNCHRONOUS"):
        run_job(record.id, app=app)
    elif app.config.get("REDIS_URL"):
        _rq_queue(app).enqueue("app.worker.run_job_in_worker", record.id, job_timeout=3600)
    else:
        _thread_pool().submit(run_job, record.id, app)
    return record


def _thread_pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="jobs")
    return _executor


def _rq_queue(app: Flask):
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE_NAME, connection=Redis.from_url(app.config["REDIS_URL"]))


def run_job(job_id: int, app: Flask | None = None) -> None:
    """Run one job to its end; failures are recorded on the job, never raised."""
    app = app or current_app._get_current_object()
    with app.app_context():
        record = db.session.get(Job, job_id)
        if record is None or record.finished:
            return
        record.status = "running"
        db.session.commit()
        try:
            result = task(record.kind)(job_id, **(record.params or {}))
            db.session.rollback()  # anything the job left uncommitted is not ours
            record = db.session.get(Job, job_id)
            record.status, record.progress, record.result = "done", 1.0, result or {}
        except Exception as exc:  # noqa: BLE001 - recorded for the user, logged in full
            db.session.rollback()
            app.logger.error("job %s (%s) failed:\n%s", job_id, record.kind, traceback.format_exc())
            record = db.session.get(Job, job_id)
            record.status = "failed"
            record.error = str(exc)[:2000] or exc.__class__.__name__
        record.finished_at = utcnow()
        db.session.commit()
        db.session.remove()


def task(kind: str) -> Callable:
    """The function that runs jobs of ``kind``."""
    module, _, name = TASKS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def report(job_id: int, fraction: float, message: str = "") -> None:
    """Record progress in its own short transaction, visible to the poller at once."""
    with db.engine.begin() as conn:
        conn.execute(
            db.update(Job).where(Job.id == job_id).values(progress=max(0.0, min(1.0, fraction)), message=message[:200])
        )
