"""Background jobs of the report area: render a draft PDF, publish an audit."""
from __future__ import annotations

from contextlib import nullcontext

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from app.accounts.models import User
from app.extensions import db
from app.reports.document import LANGS, publish, render_pdf, store_document
from app.touchpoint_audit.models import Audit
from app.web.jobs import report


def _report_url(audit_id: int) -> str:
    return url_for("reports.audit_report", audit_id=audit_id)


def generate_report(job_id: int, audit_id: int, lang: str, user_id: int | None = None) -> dict:
    """Render the audit's report in ``lang`` and keep it as the latest draft."""
    audit = db.session.get(Audit, audit_id)
    if audit is None:
        raise ValueError(_("The audit no longer exists."))
    # Progress in the language of whoever waits for it (the job's), not the report's.
    rendering, storing = _("Rendering the report"), _("Storing the report")
    with force_locale(lang):
        user = db.session.get(User, user_id) if user_id else None
        report(job_id, 0.05, rendering)
        pdf, pages = render_pdf(audit, lang, user, progress=lambda f, m: report(job_id, 0.05 + 0.85 * f, rendering))
        report(job_id, 0.95, storing)
        kind = "draft"
        document = store_document(audit, lang, pdf, pages, kind, user_id)
        db.session.commit()
        with _request_context():
            return {"redirect": _report_url(audit_id), "document_id": document.id, "sha256": document.sha256}


def publish_report(job_id: int, audit_id: int, user_id: int | None = None, lang: str = "de") -> dict:
    """Publish the audit: status → published, both PDFs frozen with their SHA-256."""
    with force_locale(lang):
        audit = db.session.get(Audit, audit_id)
        if audit is None:
            raise ValueError(_("The audit no longer exists."))
        # Computed here: the progress callback runs inside each PDF's own language.
        names = {"de": _("Rendering the German report"), "en": _("Rendering the English report")}
        steps = [names[code] for code in LANGS]
        documents = publish(audit, user_id, progress=lambda f, m: report(
            job_id, 0.02 + 0.95 * f, steps[min(int(f * len(steps)), len(steps) - 1)]))
        report(job_id, 0.98, _("Storing the report"))
        db.session.commit()
        with _request_context():
            return {"redirect": _report_url(audit_id), "sha256": {d.lang: d.sha256 for d in documents}}


def _request_context():
    """url_for outside a request (RQ worker, thread pool) needs a request context."""
    if has_request_context():
        return nullcontext()
    return current_app.test_request_context("/")
