"""Progress of a background job, polled by htmx until it ends; a failed job can run again."""
from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db, htmx
from app.web.jobs import TASKS, expire_stale_jobs, progress_here, retry, title
from app.web.models import Job, JobFile
from app.web.rendering import htmx_response, render
from app.web.security import any_user, require

bp = Blueprint("jobs", __name__, url_prefix="/jobs", template_folder="templates")


def _job_for_viewer(job_id: int) -> Job:
    record = db.get_or_404(Job, job_id)
    # A job's progress is for the person who started it (and administrators).
    require(record.created_by_id == current_user.id or current_user.role == "admin")
    return record


def _may_retry(record: Job) -> bool:
    """Its starter may run a failed job again (an administrator sees it, but it is not theirs)."""
    return record.status == "failed" and record.kind in TASKS and record.created_by_id == current_user.id


def error_text(record: Job) -> str:
    """Why the job failed, in the user's language: never an exception's text or SQL."""
    if record.error_code == "message" and record.error:
        return _("This did not work: %(error)s", error=_(record.error))
    if record.error_code == "stopped":
        return _("This job stopped unexpectedly: the server or its background worker was restarted while it "
                 "ran.")
    return _("This did not work; the administrators can see the details in the log.")


@bp.route("/<int:job_id>")
@any_user
def status(job_id: int):
    record = _job_for_viewer(job_id)
    if not record.finished and expire_stale_jobs(record.id):
        db.session.refresh(record)
    target = (record.result or {}).get("redirect") if record.status == "done" else None
    if target:
        if htmx:
            return htmx_response("", redirect=target)
        return redirect(target)
    progress, message = record.progress, record.message
    if not record.finished:
        progress, message = progress_here(record.id) or (progress, message)
    return render("jobs/progress.html", block="progress", job=record, title=title(record.kind),
                  progress=progress, message=_(message) if message else "",
                  error=error_text(record) if record.status == "failed" else "",
                  back=record.return_to or url_for("main.index"), may_retry=_may_retry(record),
                  download=url_for("jobs.download", job_id=record.id)
                  if record.status == "done" and (record.result or {}).get("file") else None)


@bp.route("/<int:job_id>/download")
@any_user
def download(job_id: int):
    """The file a finished job made (a large export), for the person who started it."""
    record = _job_for_viewer(job_id)
    stored = db.session.get(JobFile, record.id)
    if stored is None:
        abort(404)  # not made yet, or older than a day and removed
    return Response(stored.data, mimetype=stored.mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{stored.filename}"'})


@bp.route("/<int:job_id>/retry", methods=["POST"])
@any_user
def retry_job(job_id: int):
    """Run a failed job again with the same parameters; its page follows."""
    record = _job_for_viewer(job_id)
    if not _may_retry(record):
        return redirect(url_for("jobs.status", job_id=record.id), code=303)
    again = retry(record, current_user.id)
    return redirect(url_for("jobs.status", job_id=again.id), code=303)
