"""Findings and their actions: the filterable list, one finding with its figures and
comment thread, status/owner/due changes, manual findings."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields import SelectChoice

from app.accounts.models import User
from app.extensions import db
from app.touchpoint_audit.actions import activity_lines, notify_assigned, record_changes
from app.touchpoint_audit.forms import CommentForm, FindingForm, FindingUpdateForm
from app.touchpoint_audit.labels import (
    FINDING_STATUS_LABELS,
    SEVERITY_LABELS,
    default_action,
    metric_names,
    template_helpers,
)
from app.touchpoint_audit.models import FINDING_STATUSES, SEVERITIES, Audit, Finding, FindingComment, Metric, Touchpoint
from app.touchpoint_audit.rules import may_see_finding
from app.touchpoint_audit.views import audit_for, frozen_refusal
from app.web.args import optional_id
from app.web.i18n import lang
from app.web.models import utcnow
from app.web.rendering import render
from app.web.security import allow, require

bp = Blueprint("findings", __name__, url_prefix="/findings", template_folder="templates")
bp.context_processor(template_helpers)

SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}


def _owner_choices() -> list[SelectChoice]:
    """Any active user may own an action (service team leads included)."""
    people = db.session.scalars(db.select(User).where(User.active.is_(True)).order_by(User.display_name)).all()
    return [SelectChoice(0, "–")] + [SelectChoice(u.id, u.display_name or u.username) for u in people]


def latest_round_id() -> int | None:
    """The newest audit round: the list's default."""
    return db.session.scalar(db.select(Audit.id).order_by(Audit.created_at.desc(), Audit.id.desc()).limit(1))


def _filtered(args) -> tuple[object, int | None]:
    """The findings query for the list's filters, and the round it shows (None: all rounds)."""
    query = db.select(Finding)
    audit_arg = args.get("audit_id", "")
    # "all" rounds, a round's id, or (by default, and for an id that is not one) the latest round
    audit_id = None if audit_arg == "all" else (optional_id(audit_arg) or latest_round_id())
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
    owner = args.get("owner", "")
    if owner == "none":
        query = query.where(Finding.owner_id.is_(None))
    elif owner == "me":
        query = query.where(Finding.owner_id == current_user.id)
    elif owner.isdigit():
        query = query.where(Finding.owner_id == int(owner))
    if args.get("overdue"):
        query = query.where(Finding.due_date < dt.date.today(), Finding.status.in_(("open", "acknowledged")))
    if not args.get("stale"):
        query = query.where(Finding.stale.is_(False))
    return query, audit_id


@bp.route("/")
@allow("manager", "leadership")
def index():
    """Findings of a round (default: the latest) filtered by severity, touchpoint, segment,
    status, owner and overdue; overdue first, then by severity."""
    args = request.args
    audits = db.session.scalars(db.select(Audit).order_by(Audit.created_at.desc(), Audit.id.desc())).all()
    query, audit_id = _filtered(args)
    findings = db.session.scalars(query).all()
    findings.sort(key=lambda f: (not f.is_overdue, SEVERITY_ORDER.get(f.severity, 9), f.id))
    touchpoints = db.session.scalars(db.select(Touchpoint).order_by(Touchpoint.position)).all()
    segments = sorted({(f.segment_kind, f.segment) for f in db.session.scalars(db.select(Finding))
                       if f.segment_kind and f.segment})
    owners = {u.id: u for u in db.session.scalars(db.select(User))}
    people = sorted((u for u in owners.values() if u.active), key=lambda u: (u.display_name or u.username).lower())
    return render("findings/index.html", findings=findings, audits=audits, touchpoints=touchpoints,
                  segments=segments, owners=owners, people=people, names=metric_names(), args=args,
                  audit_id=audit_id, today=dt.date.today(),
                  block="results" if request.headers.get("HX-Target") == "findings-results" else "content")


def _finding_or_404(finding_id: int) -> Finding:
    """The finding, 404 when it does not exist; service staff see only the ones they own."""
    finding = db.get_or_404(Finding, finding_id)
    require(may_see_finding(finding))
    return finding


def _forms(finding: Finding) -> tuple[FindingUpdateForm, CommentForm]:
    form = FindingUpdateForm(obj=finding, prefix="upd")
    form.previous_due = finding.due_date
    form.owner_id.choices = _owner_choices()
    form.status.choices = [SelectChoice(s, FINDING_STATUS_LABELS[s]) for s in FINDING_STATUSES]
    return form, CommentForm(prefix="c")


def _page(finding: Finding, form, comment_form, status: int = 200, conflict: str | None = None):
    return render("findings/view.html", finding=finding, form=form, comment_form=comment_form,
                  names=metric_names(), status=status, today=dt.date.today(), conflict=conflict,
                  activity=activity_lines(finding))


@bp.route("/<int:finding_id>")
@allow("manager", "leadership", "service")
def view(finding_id: int):
    """One finding with its figures, action, activity log and comment thread."""
    finding = _finding_or_404(finding_id)
    form, comment_form = _forms(finding)
    form.owner_id.data = finding.owner_id or 0
    if not finding.recommended_action:

        form.recommended_action.data = default_action(finding)
    return _page(finding, form, comment_form)


@bp.route("/<int:finding_id>/update", methods=["POST"])
@allow("manager")
def update(finding_id: int):
    """Set a finding's status, owner, due date and recommended action; log the changes."""
    finding = _finding_or_404(finding_id)
    if (refusal := frozen_refusal(finding.audit)) is not None:
        return refusal
    form, comment_form = _forms(finding)
    if form.validate_on_submit():
        # Compare and set in one statement: of two saves made on the same version,
        # exactly one matches; the other changes nothing and is refused.
        saved = db.session.execute(
            sa.update(Finding)
            .where(Finding.id == finding.id, Finding.version == optional_id(form.version.data))
            .values(updated_at=utcnow(), updated_by_id=current_user.id, version=Finding.version + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if saved != 1:
            db.session.rollback()
            return _stale_edit(finding_id)
        changes = record_changes(finding, current_user.id, status=form.status.data,
                                 owner_id=form.owner_id.data or None, due_date=form.due_date.data)
        finding.recommended_action = (form.recommended_action.data or "").strip()
        db.session.commit()
        if any(c.field == "owner" and c.new_value for c in changes):
            notify_assigned(finding)
        flash(_("Finding updated."), "success")
        return redirect(url_for("findings.view", finding_id=finding.id), code=303)
    return _page(finding, form, comment_form, 422)


def _stale_edit(finding_id: int):
    """The refusal of an edit made on an older version: the finding as it is now, and who changed it."""
    finding = _finding_or_404(finding_id)
    form, comment_form = _forms(finding)
    form.process(formdata=None, obj=finding)  # the current values, not the refused ones
    form.owner_id.data = finding.owner_id or 0
    who = (finding.updated_by.display_name or finding.updated_by.username) if finding.updated_by else _("someone else")
    message = _("This finding was changed by %(name)s since you opened it. Nothing of your change was saved; "
                "its current state is shown below.", name=who)
    return _page(finding, form, comment_form, 409, conflict=message)


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
            recommended_action=(form.recommended_action.data or "").strip(), figures={},
        )
        db.session.add(finding)
        db.session.flush()
        changes = record_changes(finding, current_user.id, status=finding.status or "open",
                                 owner_id=form.owner_id.data or None, due_date=form.due_date.data)
        db.session.commit()
        if any(c.field == "owner" and c.new_value for c in changes):
            notify_assigned(finding)
        flash(_("Finding created."), "success")
        return redirect(url_for("findings.view", finding_id=finding.id), code=303)
    return render("findings/form.html", form=form, audit=audit, status=422 if form.errors else 200)
