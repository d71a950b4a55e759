"""Observation logging: the fast form of the service staff, its htmx helpers (inline
validation, metric-dependent fields, customer search), undo and edit of own entries."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import RequestEntityTooLarge

from app.accounts.models import User
from app.extensions import db
from app.segments.analysis import find_customers
from app.segments.kinds import value_label
from app.segments.models import Customer, CustomerSegment, SegmentationRun
from app.touchpoint_audit.channels import vocabulary
from app.touchpoint_audit.evidence_files import (
    MAX_BYTES,
    MAX_PER_OBSERVATION,
    EvidenceRefused,
    attach,
    check_uploads,
    too_large_message,
    uploaded_files,
)
from app.touchpoint_audit.labels import template_helpers
from app.touchpoint_audit.models import Audit, Metric, Observation
from app.touchpoint_audit.offline import fields_digest, known_entry, offline_settings, store
from app.touchpoint_audit.rules import (
    TEXT_FIELDS,
    UNIT_LABELS,
    audit_metric,
    check_observation,
    check_row,
    may_log,
    status_from_tenure,
)
from app.touchpoint_audit.views import audit_for, refused
from app.web.args import db_int
from app.web.i18n import lang
from app.web.rendering import render, wants_fragment
from app.web.security import allow, has_role, require
from segmentation.definitions import PROFIT_TIERS

bp = Blueprint("observations", __name__, template_folder="templates")
bp.context_processor(template_helpers)
bp.context_processor(lambda: {"unit_labels": UNIT_LABELS, "channels": lambda: vocabulary().choices(lang()),
                              "evidence_limits": {"max_mb": MAX_BYTES // (1024 * 1024), "max_files": MAX_PER_OBSERVATION}})


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error):
    """Photos over the request limit: a clear 413, nothing saved."""
    return refused(too_large_message(), 413)

RECENT = 10


def loggable_audits() -> list[Audit]:
    """Open audits the current user may log into: assigned ones (managers: all open ones)."""
    query = db.select(Audit).where(Audit.status == "open").order_by(Audit.created_at.desc(), Audit.id.desc())
    if not has_role("manager"):

        query = query.where(Audit.staff.any(User.id == current_user.id))
    return db.session.scalars(query).all()


def writable_audit(audit_id: int):
    """(audit, None) when the user may log into it now, else (audit, refusal response)."""
    audit = audit_for(audit_id)
    require(may_log(audit))
    if not audit.is_open:
        return audit, refused(_("This audit is not open for logging (status: %(status)s); nothing was saved.",
                                status=audit.status), 409)
    return audit, None


def recent_entries(audit: Audit) -> list[Observation]:
    """The user's last entries in this audit, newest first."""
    return db.session.scalars(
        db.select(Observation).where(Observation.audit_id == audit.id, Observation.created_by_id == current_user.id)
        .options(selectinload(Observation.metric).selectinload(Metric.touchpoint), selectinload(Observation.customer))
        .order_by(Observation.id.desc()).limit(RECENT)
    ).all()


def _context(audit: Audit, values: dict | None = None, errors: dict | None = None, saved: Observation | None = None):
    values = values or {}
    metrics = [m for m in audit.metrics if m.touchpoint.active]
    metric = audit_metric(audit, values.get("metric_id")) or (metrics[0] if metrics else None)
    return dict(audit=audit, metrics=metrics, metric=metric, values=values, errors=errors or {}, saved=saved,
                recent=recent_entries(audit), customer=_customer_of(values), offline=offline_settings(audit))


def _customer_of(values: dict) -> Customer | None:
    try:
        return db.session.get(Customer, db_int(values.get("customer_id") or 0)) or None
    except (TypeError, ValueError):
        return None


@bp.route("/log")
@allow("service", "manager")
def log():
    """The logging page: the form and the user's last entries."""
    audits = loggable_audits()
    audit_id = request.args.get("audit_id", type=db_int)
    if audit_id is not None:
        audit = audit_for(audit_id)
        require(may_log(audit))
    elif len(audits) == 1:
        audit = audits[0]
    else:
        return render("observations/choose.html", audits=audits)
    values = {"metric_id": request.args.get("metric_id", type=db_int)}
    return render("observations/log.html", audits=audits, **_context(audit, values))


@bp.route("/log/<int:audit_id>", methods=["POST"])
@allow("service", "manager")
def create(audit_id: int):
    """Save one observation; the htmx answer is the form again, metric kept."""
    audit, refusal = writable_audit(audit_id)
    if refusal is not None:
        return refusal
    # The entry's id made on the device: sent again (its answer was lost), it is stored once.
    client_id, observation, conflict = known_entry(audit, request.form)
    if observation is None:
        checked = check_observation(audit, request.form)
        cleaned = []
        if checked.ok:
            try:
                cleaned = check_uploads(uploaded_files())
            except EvidenceRefused as exc:
                if exc.status == 413:
                    return refused(exc.message, 413)
                checked.errors["evidence"] = exc.message
        if not checked.ok:
            context = _context(audit, dict(request.form), checked.errors)
            return render("observations/log.html", block="panel", status=422, audits=[], **context)
        observation = Observation(
            audit_id=audit.id, created_by_id=current_user.id, client_id=client_id,
            client_digest=fields_digest(request.form) if client_id else None, **checked.values)
        attach(observation, cleaned)
        observation, conflict = store(audit, observation)
    if conflict is not None:
        return refused(conflict, 409)
    if not wants_fragment():
        flash(_("Observation saved."), "success")
        return redirect(url_for("observations.log", audit_id=audit.id, metric_id=observation.metric_id), code=303)
    # Keep touchpoint+metric (and product/channel) for the next entry; the value field gets the focus.
    keep = {k: request.form.get(k, "") for k in ("metric_id", "product_key", "channel", "observed_on", "evidence_grade")}
    return render("observations/log.html", block="panel", audits=[], **_context(audit, keep, saved=observation))


@bp.route("/log/<int:audit_id>/validate", methods=["POST"])
@allow("service", "manager")
def validate(audit_id: int):
    """Inline check of the value as the user types (htmx): the row rule's word on the value."""
    audit = audit_for(audit_id)
    require(may_log(audit))
    metric = audit_metric(audit, request.form.get("metric_id"))
    message = None
    if metric is None:
        message = _("Choose a touchpoint and metric of this audit.")
    elif (request.form.get("value") or "").strip():
        message = check_row(audit, metric, request.form, None, False, None).errors.get("value")
    if wants_fragment():  # the keystroke check: only the message
        return render("observations/log.html", block="value_feedback", message=message, metric=metric)
    context = _context(audit, {"metric_id": request.form.get("metric_id"), "value": request.form.get("value", "")})
    context["metric"] = metric or context["metric"]
    return render("observations/log.html", block="value_feedback", message=message, audits=[], **context)


@bp.route("/log/<int:audit_id>/fields")
@allow("service", "manager")
def metric_fields(audit_id: int):
    """The value, product and channel fields for the chosen metric (htmx)."""
    audit = audit_for(audit_id)
    require(may_log(audit))
    values = {k: request.args.get(k, "") for k in ("metric_id", "product_key", "channel")}
    # No autofocus here: the user may still be typing in the metric select.
    return render("observations/log.html", block="metric_fields", focus_value=False, **_context(audit, values))


@bp.route("/log/<int:audit_id>/customers")
@allow("service", "manager")
def customer_search(audit_id: int):
    """Customers whose number or name contains the text typed, case and accents ignored (htmx)."""
    audit = audit_for(audit_id)
    require(may_log(audit))
    text = (request.args.get("customer_q") or "").strip()[:64]
    # number or name, case and accents ignored, along the customer search's trigram index
    found = find_customers(text) if len(text) >= 2 else []
    return render("observations/log.html", block="customer_results", audit=audit, found=found, text=text)


@bp.route("/log/<int:audit_id>/customers/<int:customer_id>")
@allow("service", "manager")
def customer_pick(audit_id: int, customer_id: int):
    """The customer field with the chosen customer and the status from its tenure (htmx)."""
    audit = audit_for(audit_id)
    require(may_log(audit))
    customer = db.get_or_404(Customer, customer_id)
    status = status_from_tenure(customer)
    values = {"customer_id": customer.id, "customer_q": customer.customer_no, "customer_status": status or ""}
    return render("observations/log.html", block="customer_field", audit=audit, values=values, errors={},
                  customer=customer, status_guess=status, care=customer_care(customer))


def customer_care(customer: Customer) -> dict | None:
    """The customer's potential segment and care level (service level of its profit tier) in the
    latest finished segmentation run; None when the customer is not in it."""
    run_id = db.session.scalar(db.select(SegmentationRun.id).where(SegmentationRun.status == "done")
                               .order_by(SegmentationRun.id.desc()).limit(1))
    segment = run_id and db.session.scalar(db.select(CustomerSegment).where(
        CustomerSegment.run_id == run_id, CustomerSegment.customer_id == customer.id))
    if not segment:
        return None
    tier = PROFIT_TIERS.get(segment.profit_tier or "")
    return {"segment": value_label("potential", segment.potential_segment, lang()) if segment.potential_segment else None,
            "care": tier[f"label_{lang()}"] if tier else None}


def own_entry(observation_id: int) -> tuple[Observation, object]:
    """The user's own observation in an open audit (404/403 otherwise), or a refusal."""
    observation = db.get_or_404(Observation, observation_id)
    audit = audit_for(observation.audit_id)
    require(observation.created_by_id == current_user.id and may_log(audit))
    if not audit.is_open:
        return observation, refused(_("This audit is not open any more; its observations cannot change."), 409)
    return observation, None


@bp.route("/observations/<int:observation_id>/delete", methods=["POST"])
@allow("service", "manager")
def delete(observation_id: int):
    """Undo: remove the user's own entry while the audit is open."""
    observation, refusal = own_entry(observation_id)
    if refusal is not None:
        return refusal
    audit = observation.audit_id
    db.session.delete(observation)
    db.session.commit()
    if wants_fragment():
        audit_obj = db.session.get(Audit, audit)
        return render("observations/log.html", block="recent", audit=audit_obj, recent=recent_entries(audit_obj),
                      undone=True)
    flash(_("Observation removed."), "success")
    return redirect(url_for("observations.log", audit_id=audit), code=303)


@bp.route("/observations/<int:observation_id>/edit", methods=["GET", "POST"])
@allow("service", "manager")
def edit(observation_id: int):
    """Edit the user's own entry while the audit is open."""
    observation, refusal = own_entry(observation_id)
    if refusal is not None:
        return refusal
    audit = db.session.get(Audit, observation.audit_id)
    if request.method == "POST":
        checked = check_observation(audit, request.form)
        if checked.ok:
            for key, value in checked.values.items():
                setattr(observation, key, value)
            db.session.commit()
            flash(_("Observation updated."), "success")
            return redirect(url_for("observations.log", audit_id=audit.id), code=303)
        values, errors = dict(request.form), checked.errors
    else:
        values = {
            "metric_id": observation.metric_id, "value": f"{observation.value:g}",
            "customer_id": observation.customer_id or "",
            "customer_q": observation.customer.customer_no if observation.customer else "",
            "customer_status": observation.customer_status,
            "observed_on": observation.observed_at.date().isoformat(),
            "evidence_grade": observation.evidence_grade,
            **{name: getattr(observation, name) or "" for name in TEXT_FIELDS},
        }
        errors = {}
    context = _context(audit, values, errors)
    return render("observations/edit.html", observation=observation, status=422 if errors else 200, **context)
