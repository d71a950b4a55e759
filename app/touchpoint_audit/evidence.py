"""Evidence of an observation, served and changed: served to whoever may see the audit (with
the right type, nosniff and a CSP that lets the file do nothing), added and removed by whoever
may edit the observation. Checking and cleaning the files is :mod:`.evidence_files`."""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, send_file, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from app.extensions import db
from app.touchpoint_audit.evidence_files import (
    EvidenceRefused,
    attach,
    check_uploads,
    too_large_message,
    uploaded_files,
)
from app.touchpoint_audit.models import Evidence
from app.touchpoint_audit.observations import own_entry
from app.touchpoint_audit.views import audit_for, refused
from app.web.security import allow

bp = Blueprint("evidence", __name__, template_folder="templates")

#: What a served file may do in the browser: nothing but be shown.
FILE_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error):
    """More than the request limit at once: a clear 413, nothing saved."""
    return refused(too_large_message(), 413)


# ----------------------------------------------------------------- views

def _visible(evidence_id: int) -> Evidence:
    """The evidence, 404 when it does not exist, 403 when the user may not see its audit."""
    item = db.get_or_404(Evidence, evidence_id)
    audit_for(item.observation.audit_id)
    return item


def _served(body: bytes, content_type: str, filename: str, inline: bool):
    response = send_file(io.BytesIO(body), mimetype=content_type, as_attachment=not inline,
                         download_name=filename, max_age=0, conditional=False, etag=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@bp.route("/evidence/<int:evidence_id>")
@allow("service", "manager", "leadership")
def file(evidence_id: int):
    """The whole file: a photo shown inline, a PDF as a download."""
    item = _visible(evidence_id)
    return _served(item.data, item.content_type, item.filename, inline=item.is_image)


@bp.route("/evidence/<int:evidence_id>/thumbnail")
@allow("service", "manager", "leadership")
def thumbnail(evidence_id: int):
    """A photo's small JPEG (404 for a PDF, which has none)."""
    item = _visible(evidence_id)
    if item.thumbnail is None:
        abort(404)
    return _served(item.thumbnail, "image/jpeg", f"thumbnail-{item.id}.jpg", inline=True)


@bp.route("/observations/<int:observation_id>/evidence", methods=["POST"])
@allow("service", "manager")
def add(observation_id: int):
    """Add photos or files to the user's own observation while its audit is open."""
    observation, refusal = own_entry(observation_id)
    if refusal is not None:
        return refusal
    files = uploaded_files()
    if not files:
        flash(_("Choose a photo or file first."), "error")
        return redirect(url_for("observations.edit", observation_id=observation.id), code=303)
    try:
        cleaned = check_uploads(files, already=len(observation.evidence))
    except EvidenceRefused as exc:
        return refused(exc.message, exc.status)
    attach(observation, cleaned)
    db.session.commit()
    flash(_("%(n)d photos or files added.", n=len(cleaned)), "success")
    return redirect(url_for("observations.edit", observation_id=observation.id), code=303)


@bp.route("/evidence/<int:evidence_id>/delete", methods=["POST"])
@allow("service", "manager")
def delete(evidence_id: int):
    """Remove one photo or file of the user's own observation while its audit is open."""
    item = db.get_or_404(Evidence, evidence_id)
    observation, refusal = own_entry(item.observation_id)
    if refusal is not None:
        return refusal
    db.session.delete(item)
    db.session.commit()
    flash(_("Photo or file removed."), "success")
    return redirect(url_for("observations.edit", observation_id=observation.id), code=303)
