"""Progress of a background job, polled by htmx until it ends."""
from __future__ import annotations

from flask import Blueprint, redirect
from flask_login import current_user

from app.extensions import db, htmx
from app.web.models import Job
from app.web.rendering import htmx_response, render
from app.web.security import any_user, require

bp = Blueprint("jobs", __name__, url_prefix="/jobs", template_folder="templates")


@bp.route("/<int:job_id>")
@any_user
def status(job_id: int):
    record = db.get_or_404(Job, job_id)
    # A job's progress is for the person who started it (and administrators).
    require(record.created_by_id == current_user.id or current_user.role == "admin")
    target = (record.result or {}).get("redirect") if record.status == "done" else None
    if target:
        if htmx:
            return htmx_response("", redirect=target)
        return redirect(target)
    return render("jobs/progress.html", block="progress", job=record)
