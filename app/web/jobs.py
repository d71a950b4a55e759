"""Background work with progress: RQ workers when REDIS_URL is set, else a small
in-process thread pool (so `make run` needs no Redis).

A job kind names its function in :data:`TASKS` (``"module:function"``, imported
when a job of that kind runs, as microblog enqueues ``'app.tasks.' + name``); the
function is called as ``fn(job_id, **params)`` inside an app context, in the language of
the person who started it; it reports progress with ``report(job_id, fraction, message)``
and returns a JSON-able result dict. A ``ValueError`` it raises itself carries a message
for the user; anything else is logged and the user reads that it did not work.
The browser polls ``/jobs/<id>`` (htmx) until the job is done.

A job never stays "running" for ever: while it waits in this process's pool or runs, it
carries a heartbeat; when the heartbeat is older than ``JOB_LEASE_SECONDS`` the process
that had it is gone, and the job is marked failed when its page is polled or the next
job is enqueued.
"""
from __future__ import annotations

import datetime as dt
import importlib
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from redis import Redis
from rq import Queue
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.web import i18n
from app.web.models import Job, JobFile, utcnow

# kind -> "module:function". Dotted paths, not imports: the shell knows no area's code.
TASKS: dict[str, str] = {
    "customer_import": "app.segments.tasks:customer_import_job",
    "segmentation_run": "app.segments.tasks:segmentation_run_job",
    "audit_analysis": "app.touchpoint_audit.analysis:analysis_job",
    "report_pdf": "app.reports.tasks:generate_report",
    "report_publish": "app.reports.tasks:publish_report",
    "observation_import": "app.touchpoint_audit.tasks:observation_import_job",
    "outcome_import": "app.aftersales.tasks:outcome_import_job",
    "run_xlsx_export": "app.segments.tasks:run_xlsx_job",
    "customer_list_xlsx_export": "app.segments.tasks:customer_list_xlsx_job",
}
# What the job page calls a job of each kind.
TITLES = {
    "customer_import": _l("Importing customer values"),
    "segmentation_run": _l("Running the segmentation"),
    "audit_analysis": _l("Analysing the audit"),
    "report_pdf": _l("Generating the report"),
    "report_publish": _l("Publishing the report"),
    "observation_import": _l("Importing observations"),
    "outcome_import": _l("Importing after-sales outcomes"),
    "run_xlsx_export": _l("Writing the spreadsheet"),
    "customer_list_xlsx_export": _l("Writing the spreadsheet"),
}
QUEUE_NAME = "reports"
UNFINISHED = ("queued", "running")

_executor: ThreadPoolExecutor | None = None
# Jobs this process has in its pool or is running, with their latest progress
# (fraction, message): the job page of a job that holds SQLite's write lock reads it here.
_here: dict[int, tuple[float, str]] = {}
_here_lock = threading.Lock()


def title(kind: str):
    """What a job of ``kind`` does, for the user."""
    return TITLES.get(kind, _l("Working …"))


def enqueue(kind: str, created_by_id: int | None = None, **params) -> Job:
    """Record a job and hand it to a worker; the caller commits nothing else."""
    if kind not in TASKS:
        raise ValueError(f"unknown job kind {kind!r}; known: {sorted(TASKS)}")
    return _submit(Job(kind=kind, params=params, created_by_id=created_by_id, lang=_request_lang(),
                       return_to=_came_from()))


def retry(record: Job, user_id: int) -> Job:
    """A failed job again, with the same parameters and the same way back."""
    if record.status != "failed" or record.kind not in TASKS:
        raise ValueError("only a failed job of a known kind can run again")
    return _submit(Job(kind=record.kind, params=dict(record.params or {}), created_by_id=user_id,
                       lang=_request_lang() or record.lang, return_to=record.return_to))


def _submit(record: Job) -> Job:
    expire_stale_jobs()
    record.heartbeat_at = utcnow()
    db.session.add(record)
    db.session.commit()
    app = current_app._get_current_object()
    if app.config.get("JOBS_SYNCHRONOUS"):
        run_job(record.id, app=app)
    elif app.config.get("REDIS_URL"):
        _rq_queue(app).enqueue("app.worker.run_job_in_worker", record.id, job_timeout=3600)
    else:
        _hold(record.id)
        _thread_pool().submit(run_job, record.id, app)
    return record


def _request_lang() -> str | None:
    return i18n.lang() if has_request_context() else None


def _came_from() -> str | None:
    """The page of this site the request came from (path and query), for the way back."""
    if not has_request_context() or not request.referrer:
        return None
    url = urlsplit(request.referrer)
    if url.netloc != request.host or not url.path.startswith("/"):
        return None
    back = url.path + (f"?{url.query}" if url.query else "")
    return back if len(back) <= 500 else None


def _thread_pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="jobs")
    return _executor


def _rq_queue(app: Flask):
    return Queue(QUEUE_NAME, connection=Redis.from_url(app.config["REDIS_URL"]))


def _hold(job_id: int) -> None:
    with _here_lock:
        _here.setdefault(job_id, (0.0, ""))


def _release(job_id: int) -> None:
    with _here_lock:
        _here.pop(job_id, None)


def progress_here(job_id: int) -> tuple[float, str] | None:
    """The latest progress of a job this process runs (fresher than the database's)."""
    with _here_lock:
        return _here.get(job_id)


def run_job(job_id: int, app: Flask | None = None) -> None:
    """Run one job to its end; failures are recorded on the job, never raised."""
    app = app or current_app._get_current_object()
    with app.app_context():
        try:
            _run(app, job_id)
        except Exception:  # noqa: BLE001 - the job's own record could not be written
            app.logger.error("job %s could not be recorded:\n%s", job_id, traceback.format_exc())
        finally:
            _release(job_id)
            db.session.remove()


def _run(app: Flask, job_id: int) -> None:
    record = db.session.get(Job, job_id)
    if record is None or record.finished:
        return
    _hold(job_id)
    record.status, record.heartbeat_at = "running", utcnow()
    db.session.commit()
    kind, params, lang = record.kind, dict(record.params or {}), record.lang
    heartbeat = _Heartbeat(app, job_id)
    heartbeat.start()
    try:
        with force_locale(lang) if lang else nullcontext():
            result = task(kind)(job_id, **params)
        outcome = {"status": "done", "progress": 1.0, "result": result or {}}
    except Exception as exc:  # noqa: BLE001 - recorded for the user, logged in full
        db.session.rollback()
        outcome = _failure(app, job_id, kind, exc)
    finally:
        heartbeat.stop()
    db.session.rollback()  # anything the job left uncommitted is not ours
    record = db.session.get(Job, job_id)
    for key, value in outcome.items():
        setattr(record, key, value)
    record.finished_at = utcnow()
    db.session.commit()


def _failure(app: Flask, job_id: int, kind: str, exc: Exception) -> dict:
    """What the job records about ``exc``: the job's own message, or only that it failed."""
    if isinstance(exc, ValueError) and _raised_in(exc, Path(app.root_path)):
        app.logger.warning("job %s (%s) refused: %s", job_id, kind, exc)
        return {"status": "failed", "error_code": "message", "error": str(exc)[:2000]}
    app.logger.error("job %s (%s) failed:\n%s", job_id, kind,
                     "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    return {"status": "failed", "error_code": "internal", "error": None}


def _raised_in(exc: BaseException, package: Path) -> bool:
    """Was ``exc`` raised by code in ``package`` (the app), not by a library it called?
    Only the app's own messages are written for users; a library's may show SQL or paths."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(package.resolve())


def task(kind: str) -> Callable:
    """The function that runs jobs of ``kind``."""
    module, _, name = TASKS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def report(job_id: int, fraction: float, message: str = "") -> None:
    """Record progress (and a heartbeat) in its own short transaction, visible to the poller at once.

    Progress is advisory: a lock that does not come free in time skips this report and
    the job goes on."""
    fraction, message = max(0.0, min(1.0, fraction)), str(message)[:200]
    with _here_lock:
        if job_id in _here:
            _here[job_id] = (fraction, message)
    if _holds_sqlite_write_lock():
        # Another connection would wait for this very thread's transaction to end:
        # SQLite allows one writer. The page reads this process's copy meanwhile.
        return
    try:
        with db.engine.begin() as conn:
            conn.execute(db.update(Job).where(Job.id == job_id).values(
                progress=fraction, message=message, heartbeat_at=utcnow()))
    except OperationalError:
        current_app.logger.warning("job %s: progress not recorded (database busy)", job_id)


FILE_MAX_AGE = dt.timedelta(days=1)


def store_file(job_id: int, filename: str, mimetype: str, data: bytes) -> None:
    """Keep the file a job made for its starter's download (``/jobs/<id>/download``), in a
    transaction of its own; files older than a day, anybody's, are removed on the way."""
    with db.engine.begin() as conn:
        conn.execute(db.delete(JobFile).where(JobFile.created_at < utcnow() - FILE_MAX_AGE))
        conn.execute(db.delete(JobFile).where(JobFile.job_id == job_id))
        conn.execute(db.insert(JobFile).values(job_id=job_id, filename=filename[:255], mimetype=mimetype[:100],
                                               data=data, created_at=utcnow()))


def _holds_sqlite_write_lock() -> bool:
    """Has this thread's session written to an SQLite database in a transaction still open?"""
    session = db.session()
    if db.engine.dialect.name != "sqlite" or not session.in_transaction():
        return False
    return bool(getattr(session.connection().connection.dbapi_connection, "in_transaction", False))


class _Heartbeat:
    """Stamps a running job's heartbeat every JOB_HEARTBEAT_SECONDS from a thread of its own,
    so a long step without progress reports does not look like a dead process."""

    def __init__(self, app: Flask, job_id: int):
        self.app, self.job_id = app, job_id
        self.interval = float(app.config.get("JOB_HEARTBEAT_SECONDS") or 30)
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        if self.app.config.get("JOBS_SYNCHRONOUS") or _in_memory(db.engine):
            return  # the job runs in the request (or in a memory database no other process can see)
        self.thread = threading.Thread(target=self._beat, name=f"job-{self.job_id}-heartbeat", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join()

    def _beat(self) -> None:
        with self.app.app_context():
            engine = db.engine
        while not self.stopped.wait(self.interval):
            try:
                with engine.begin() as conn:
                    conn.execute(db.update(Job).where(Job.id == self.job_id, Job.status == "running")
                                 .values(heartbeat_at=utcnow()))
            except OperationalError:
                self.app.logger.warning("job %s: heartbeat not recorded (database busy)", self.job_id)


def _in_memory(engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


def _stale_filter(now: dt.datetime):
    lease = dt.timedelta(seconds=float(current_app.config.get("JOB_LEASE_SECONDS") or 120))
    # A job waiting in RQ's queue has no process yet that could stamp it; it may wait long.
    statuses = ("running",) if current_app.config.get("REDIS_URL") else UNFINISHED
    return db.and_(Job.status.in_(statuses), db.func.coalesce(Job.heartbeat_at, Job.created_at) < now - lease)


def expire_stale_jobs(job_id: int | None = None) -> list[int]:
    """Mark failed the unfinished jobs (or only ``job_id``) whose heartbeat ran out: their
    process died. Returns their ids; writes nothing when there are none."""
    now = utcnow()
    query = db.select(Job.id).where(_stale_filter(now))
    if job_id is not None:
        query = query.where(Job.id == job_id)
    with _here_lock:
        alive = set(_here)
    stale = [i for i in db.session.scalars(query) if i not in alive]
    if not stale:
        return []
    try:
        # The filter again: a job that stamped its heartbeat since the look above lives.
        db.session.execute(db.update(Job).where(Job.id.in_(stale), _stale_filter(now)).values(
            status="failed", error_code="stopped", finished_at=now), execution_options={"synchronize_session": False})
        db.session.commit()
    except OperationalError:
        db.session.rollback()
        current_app.logger.warning("jobs %s: could not be marked as stopped (database busy)", stale)
        return []
    current_app.logger.warning("jobs %s stopped unexpectedly (no heartbeat for the lease); marked failed", stale)
    return stale
