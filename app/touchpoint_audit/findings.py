"""Findings and their actions: the filterable list, one finding with its figures and
comment thread, status/owner/due changes, manual findings."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields import SelectChoice

from app.accounts.models import User
from app.extensions import db
from app.touchpoint_audit.forms import CommentForm, FindingForm, FindingUpdateForm
from app.touchpoint_audit.labels import FINDING_STATUS_LABELS, SEVERITY_LABELS, metric_names, template_helpers
from app.touchpoint_audit.models import FINDING_STATUSES, SEVERITIES, Audit, Finding, FindingComment, Metric, Touchpoint
from app.touchpoint_audit.views import audit_for, frozen_refusal
from app.web.i18n import lang
from app.web.models import utcnow
from app.web.rendering import render
from app.web.security import allow, has_role, require

bp = Blueprint("findings", __name__, url_prefix="/findings", template_folder="templates")
bp.context_processor(template_helpers)

SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}


def _owner_choices() -> list[SelectChoice]:
    people = db.session.scalars(db.select(User).where(User.active.is_(True)).order_by(User.display_name)).all()
    return [SelectChoice(0, "–")] + [SelectChoice(u.id, u.display_name or u.username) for u in people
                                     if u.role in ("manager", "admin", "leadership")]


@bp.route("/")
@allow("manager", "leadership")
def index():
    """Findings filtered by audit, severity, touchpoint, segment and status; overdue first."""
    args = request.args
    audits = db.session.scalars(db.select(Audit).order_by(Audit.created_at.desc(), Audit.id.desc())).all()
    query = db.select(Finding)
    audit_id = args.get("audit_id", type=int)
    if audit_id:
        query = query.where(Finding.audit_id == audit_id)
    if args.get("severity") in SEVERITIES:
        query = query.where(Finding.severity == args["severity"])
    if args.get("status") in FINDING_STATUSES:
        query = query.where(Finding.status == args["status"])
    elif args.get("status") != "all":
        query = query.where(Finding.status.in_(("open", "acknowledged")))
    if args.get("touchpoint"):
        query = query.where(Finding.touchpoint_key == args["touchpoint"])
    if args.get("segment"):
        kind, _sep, value = args["segment"].partition(":")
        query = query.where(Finding.segment_kind == kind, Finding.segment == value)
    if not args.get("stale"):
        query = query.where(Finding.stale.is_(False))
    findings = db.session.scalars(query).all()
    findings.sort(key=lambda f: (not f.is_overdue, SEVERITY_ORDER.get(f.severity, 9), f.id))
    touchpoints = db.session.scalars(db.select(Touchpoint).order_by(Touchpoint.position)).all()
    segments = sorted({(f.segment_kind, f.segment) for f in db.session.scalars(db.select(Finding))
                       if f.segment_kind and f.segment})
    owners = {u.id: u for u in db.session.scalars(db.select(User))}
    return render("findings/index.html", findings=findings, audits=audits, touchpoints=touchpoints,
                  segments=segments, owners=owners, names=metric_names(), args=args, today=dt.date.today(),
                  block="results" if request.headers.get("HX-Target") == "findings-results" else "content")


def _finding_or_404(finding_id: int) -> Finding:
    """The finding, 404 when it does not exist; service staff see only the ones they own."""
    finding = db.get_or_404(Finding, finding_id)
    if has_role("manager", "leadership"):
        audit_for(finding.audit_id)
    else:
        require(finding.owner_id is not None and finding.owner_id == current_user.id)
    return finding


def _forms(finding: Finding) -> tuple[FindingUpdateForm, CommentForm]:
    form = FindingUpdateForm(obj=finding, prefix="upd")
    form.owner_id.choices = _owner_choices()
    form.status.choices = [SelectChoice(s, FINDING_STATUS_LABELS[s]) for s in FINDING_STATUSES]
    return form, CommentForm(prefix="c")


def _page(finding: Finding, form, comment_form, status: int = 200):
    return render("findings/view.html", finding=finding, form=form, comment_form=comment_form,
                  names=metric_names(), status=status, today=dt.date.today())


@bp.route("/<int:finding_id>")
@allow("manager", "leadership", "service")
def view(finding_id: int):
    """One finding with its figures, action and comment thread."""
    finding = _finding_or_404(finding_id)
    form, comment_form = _forms(finding)
    form.owner_id.data = finding.owner_id or 0
    if not finding.recommended_action:
        from app.touchpoint_audit.labels import default_action

        form.recommended_action.data = default_action(finding)
    return _page(finding, form, comment_form)


@bp.route("/<int:finding_id>/update", methods=["POST"])
@allow("manager")
def update(finding_id: int):
    """Set a finding's status, owner, due date and recommended action."""
    finding = _finding_or_404(finding_id)
    if (refusal := frozen_refusal(finding.audit)) is not None:
        return refusal
    form, comment_form = _forms(finding)
    if form.validate_on_submit():
        finding.status = form.status.data
        finding.owner_id = form.owner_id.data or None
        finding.due_date = form.due_date.data
        finding.recommended_action = (form.recommended_action.data or "").strip()
        finding.updated_at = utcnow()
        db.session.commit()
        flash(_("Finding updated."), "success")
        return redirect(url_for("findings.view", finding_id=finding.id), code=303)
    return _page(finding, form, comment_form, 422)


@bp.route("/<int:finding_id>/comments", methods=["POST"])
@allow("manager", "leadership", "service")
def comment(finding_id: int):
    """Add a comment to a finding."""
    finding = _finding_or_404(finding_id)
    if (refusal := frozen_refusal(finding.audit)) is not None:
        return refusal
    form, comment_form = _forms(finding)
    if comment_form.validate_on_submit():
        db.session.add(FindingComment(finding_id=finding.id, author_id=current_user.id,
                                      body=comment_form.body.data.strip()))
        db.session.commit()
        return redirect(url_for("findings.view", finding_id=finding.id, _anchor="comments"), code=303)
    return _page(finding, form, comment_form, 422)


@bp.route("/new/<int:audit_id>", methods=["GET", "POST"])
@allow("manager")
def create(audit_id: int):
    """A manual finding of an audit."""
    audit = audit_for(audit_id)
    if (refusal := frozen_refusal(audit)) is not None:
        return refusal
    form = FindingForm()
    form.owner_id.choices = _owner_choices()
    form.severity.choices = [SelectChoice(s, SEVERITY_LABELS[s]) for s in SEVERITIES]
    de = lang() == "de"
    form.metric_id.choices = [SelectChoice(0, "–")] + [
        SelectChoice(m.id, f"{m.touchpoint.name_de if de else m.touchpoint.name_en} · {m.name_de if de else m.name_en}")
        for m in audit.metrics]
    if request.method == "GET":
        form.severity.data = "medium"
    if form.validate_on_submit():
        metric = db.session.get(Metric, form.metric_id.data) if form.metric_id.data else None
        finding = Finding(
            audit_id=audit.id, key=f"manual:{utcnow().strftime('%Y%m%d%H%M%S%f')}", kind="manual", source="manual",
            severity=form.severity.data, title=form.title.data.strip(),
            touchpoint_key=metric.touchpoint.key if metric else None, metric_key=metric.key if metric else None,
            segment_kind="manual" if form.segment.data else None, segment=(form.segment.data or "").strip() or None,
            recommended_action=(form.recommended_action.data or "").strip(), owner_id=form.owner_id.data or None,
            due_date=form.due_date.data, figures={},
        )
        db.session.add(finding)
        db.session.commit()
        flash(_("Finding created."), "success")
        return redirect(url_for("findings.view", finding_id=finding.id), code=303)
    return render("findings/form.html", form=form, audit=audit, status=422 if form.errors else 200)
