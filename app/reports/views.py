"""The leadership report of an audit: the report page (status, hashes, round-over-round
trend), background generation, download, publishing, and the problem-solving chain."""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.reports.document import LANGS, frozen_document, latest_draft, latest_snapshot, published_document, round_trend
from app.reports.forms import ROLE_LABELS, ChainForm
from app.reports.models import CHAIN_ROLES, ChainActor, ReportDocument
from app.touchpoint_audit.labels import metric_label, metric_names, segment_label
from app.touchpoint_audit.models import Audit
from app.web.jobs import enqueue
from app.web.rendering import render
from app.web.security import allow

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")
ACTOR_FIELDS = ("name", "size", "importance", "competitive_position", "count", "relationship", "success_factors",
                "known_person", "direct_contact")


def _lang_arg(value: str | None) -> str:
    if value not in LANGS:
        abort(404)
    return value


@bp.route("/")
@allow("manager", "leadership")
def index():
    """Every audit with its report state."""
    audits = db.session.scalars(db.select(Audit).order_by(Audit.created_at.desc(), Audit.id.desc())).all()
    published = {
        (d.audit_id, d.lang): d for d in db.session.scalars(
            db.select(ReportDocument).where(ReportDocument.kind == "published"))
    }
    return render("reports/index.html", audits=audits, published=published)


@bp.route("/audits/<int:audit_id>")
@allow("manager", "leadership")
def audit_report(audit_id: int):
    """An audit's report page: PDFs with hashes, trend, chain."""
    audit = db.get_or_404(Audit, audit_id)
    documents = {lang: (published_document(audit.id, lang) if audit.is_published else latest_draft(audit.id, lang))
                 for lang in LANGS}
    snapshot = latest_snapshot(audit.id)
    previous, trend = round_trend(audit, snapshot)
    chain = {a.role: a for a in db.session.scalars(db.select(ChainActor).where(ChainActor.audit_id == audit.id))}
    return render(
        "reports/audit.html", audit=audit, documents=documents, snapshot=snapshot, previous=previous, trend=trend,
        chain=chain, chain_roles=CHAIN_ROLES, role_labels=ROLE_LABELS, names=metric_names(),
        metric_label=metric_label, segment_label=segment_label,
        counts={v: sum(1 for t in trend if t.verdict == v) for v in ("grew", "shrank", "stayed", "not_comparable")},
    )


@bp.route("/audits/<int:audit_id>/generate", methods=["POST"])
@allow("manager")
def generate(audit_id: int):
    """Start rendering a draft PDF in the background."""
    audit = db.get_or_404(Audit, audit_id)
    lang = _lang_arg(request.form.get("lang"))
    if audit.is_published:
        flash(_("This audit is published; its report is frozen and can only be downloaded."), "error")
        return redirect(url_for("reports.audit_report", audit_id=audit.id), code=303)
    record = enqueue("report_pdf", created_by_id=current_user.id, audit_id=audit.id, lang=lang,
                     user_id=current_user.id)
    return redirect(url_for("jobs.status", job_id=record.id), code=303)


@bp.route("/audits/<int:audit_id>/publish", methods=["POST"])
@allow("manager")
def publish(audit_id: int):
    """Ask, then publish the audit in the background (freezes it and its PDFs)."""
    audit = db.get_or_404(Audit, audit_id)
    if audit.is_published and all(published_document(audit.id, lang) for lang in LANGS):
        flash(_("This audit is already published."), "error")
        return redirect(url_for("reports.audit_report", audit_id=audit.id), code=303)
    if latest_snapshot(audit.id) is None:
        flash(_("Run the analysis before publishing: a published audit is frozen with its last analysis."), "error")
        return redirect(url_for("reports.audit_report", audit_id=audit.id), code=303)
    if request.form.get("confirm") != "yes":
        return render("reports/confirm_publish.html", audit=audit)
    record = enqueue("report_publish", created_by_id=current_user.id, audit_id=audit.id, user_id=current_user.id,
                     lang=str(request.accept_languages.best_match(LANGS) or "de"))
    return redirect(url_for("jobs.status", job_id=record.id), code=303)


@bp.route("/audits/<int:audit_id>/pdf/<lang>")
@allow("manager", "leadership")
def download(audit_id: int, lang: str):
    """The PDF: a published audit's frozen bytes, else the latest draft."""
    audit = db.get_or_404(Audit, audit_id)
    lang = _lang_arg(lang)
    if audit.is_published:
        document = frozen_document(audit, lang)
    else:
        document = latest_draft(audit.id, lang)
    if document is None:
        return render("reports/missing.html", status=404, audit=audit, lang=lang)
    filename = f"audit-{audit.id}-{'bericht' if lang == 'de' else 'report'}-{lang}.pdf"
    response = make_response(document.pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-SHA256"] = document.sha256
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/audits/<int:audit_id>/chain", methods=["GET", "POST"])
@allow("manager")
def chain(audit_id: int):
    """Describe the audit's problem-solving chain."""
    audit = db.get_or_404(Audit, audit_id)
    actors = {a.role: a for a in db.session.scalars(db.select(ChainActor).where(ChainActor.audit_id == audit.id))}
    if audit.is_published:
        flash(_("This audit is published; its chain is frozen."), "error")
        return redirect(url_for("reports.audit_report", audit_id=audit.id), code=303)
    form = ChainForm(data={role: {f: getattr(actors[role], f) for f in ACTOR_FIELDS} for role in actors}
                     if request.method == "GET" else None)
    if form.validate_on_submit():
        for role in CHAIN_ROLES:
            values = {f: getattr(form, role).form[f].data for f in ACTOR_FIELDS}
            for f in ACTOR_FIELDS:
                if isinstance(values[f], str):
                    values[f] = values[f].strip()
            actor = actors.get(role) or ChainActor(audit_id=audit.id, role=role)
            for f, v in values.items():
                setattr(actor, f, v if v is not None else "")
            db.session.add(actor)
        db.session.commit()
        flash(_("The problem-solving chain is saved."), "success")
        return redirect(url_for("reports.audit_report", audit_id=audit.id), code=303)
    return render("reports/chain.html", audit=audit, form=form, chain_roles=CHAIN_ROLES, role_labels=ROLE_LABELS,
                  status=422 if form.errors else 200)
