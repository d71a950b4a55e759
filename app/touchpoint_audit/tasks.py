"""Background jobs of the audit area: a large observation import."""
from __future__ import annotations

from flask_babel import gettext as _

from app.extensions import db
from app.touchpoint_audit.importing import import_observations
from app.touchpoint_audit.models import Audit
from app.web import uploads
from app.web.jobs import report


def observation_import_job(job_id: int, audit_id: int, token: str, user_id: int, redirect: str) -> dict:
    """Check the staged file again and write its new rows (all or nothing), reporting progress."""
    report(job_id, 0.02, "Reading the file")
    audit = db.session.get(Audit, audit_id)
    if audit is None or not audit.is_open:
        raise ValueError(_("The audit is no longer open for observations."))
    staged = uploads.load(token, "observations", user_id)
    checked, written = import_observations(audit, staged.data, staged.filename, user_id,
                                           progress=lambda f, m: report(job_id, 0.5 + 0.5 * f, m))
    if not checked.ok:
        raise ValueError(_("The file no longer passes the checks; upload it again."))
    uploads.discard(token)
    return {"written": written, "redirect": redirect}
