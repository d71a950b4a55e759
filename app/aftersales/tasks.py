"""Background jobs of the after-sales area: a large outcome import."""
from __future__ import annotations

from flask_babel import gettext as _

from app.aftersales.importing import import_outcomes
from app.web import uploads
from app.web.jobs import report


def outcome_import_job(job_id: int, token: str, user_id: int, redirect: str) -> dict:
    """Check the staged file again and write it (all or nothing), reporting progress."""
    report(job_id, 0.02, "Reading the file")
    staged = uploads.load(token, "aftersales", user_id)
    checked, counts = import_outcomes(staged.data, staged.filename, user_id)
    if counts is None:
        raise ValueError(_("The file no longer passes the checks; upload it again."))
    uploads.discard(token)
    return {**counts, "redirect": redirect}
