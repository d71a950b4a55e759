"""Paired test calls: the scenarios a manager defines for an audit round, and the pair form on
which the staff log the same request once as a prospect and once as an existing customer.

A pair is two observations of the scenario's metric in the same audit, linked by an
:class:`ObservationPair`; :func:`pair_problem` is the record rule every way of linking two
observations applies (a forged pair — other audit, other metric, a side missing, a side that
belongs to another pair — is refused)."""
from __future__ import annotations

import re
import secrets

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.touchpoint_audit.channels import vocabulary
from app.touchpoint_audit.labels import template_helpers
from app.touchpoint_audit.models import Audit, Metric, Observation, ObservationPair, Scenario
from app.touchpoint_audit.quotas import due_for
from app.touchpoint_audit.rules import UNIT_LABELS, audit_metric, check_channel, check_observation, may_log
from app.touchpoint_audit.views import audit_for, frozen_refusal, refused
from app.web.args import optional_id
from app.web.i18n import lang
from app.web.rendering import render
from app.web.security import allow, require

bp = Blueprint("pairs", __name__, url_prefix="/audits", template_folder="templates")
bp.context_processor(template_helpers)
bp.context_processor(lambda: {"unit_labels": UNIT_LABELS})

RECENT = 10
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
SCENARIO_LIMITS = {"title": 200, "product_key": 64, "channel": 32, "script": 4000}


# ----------------------------------------------------------------- the record rule

def pair_problem(audit: Audit, scenario: Scenario | None, new: Observation | None,
                 existing: Observation | None) -> str | None:
    """Why these two observations cannot be a pair of ``scenario`` in ``audit`` (None: they can)."""
    if scenario is None or scenario.audit_id != audit.id:
        return _("This scenario does not belong to this audit.")
    if new is None or existing is None:
        return _("A pair needs both sides: the prospect's and the existing customer's.")
    if new.id is not None and new.id == existing.id:
        return _("A pair needs two different observations.")
    if new.audit_id != audit.id or existing.audit_id != audit.id:
        return _("Both sides of a pair must belong to this audit.")
    if new.metric_id != scenario.metric_id or existing.metric_id != scenario.metric_id:
        return _("Both sides of a pair must be the scenario's metric.")
    if new.customer_status != "new" or existing.customer_status != "existing":
        return _("One side of a pair is the prospect (new), the other the existing customer.")
    ids = [o.id for o in (new, existing) if o.id is not None]
    if ids and db.session.scalar(db.select(ObservationPair.id).where(db.or_(
            ObservationPair.new_observation_id.in_(ids), ObservationPair.existing_observation_id.in_(ids)))):
        return _("An observation of this pair already belongs to another pair.")
    return None


def link_pair(audit: Audit, scenario: Scenario | None, new: Observation | None, existing: Observation | None,
              user_id: int | None = None, form_token: str | None = None) -> ObservationPair:
    """Link two observations as a pair of ``scenario`` (the caller commits); ValueError with the
    reason when :func:`pair_problem` refuses them."""
    problem = pair_problem(audit, scenario, new, existing)
    if problem:
        raise ValueError(problem)
    pair = ObservationPair(audit_id=audit.id, scenario_id=scenario.id, new_observation=new,
                           existing_observation=existing, created_by_id=user_id, form_token=form_token)
    db.session.add(pair)
    return pair


def audit_scenarios(audit: Audit, active_only: bool = True) -> list[Scenario]:
    """The audit's scenarios (active ones by default) with their metrics."""
    query = db.select(Scenario).where(Scenario.audit_id == audit.id).options(
        selectinload(Scenario.metric).selectinload(Metric.touchpoint)).order_by(Scenario.id)
    if active_only:
        query = query.where(Scenario.active.is_(True))
    return db.session.scalars(query).all()


def scenario_of(audit: Audit, raw) -> Scenario | None:
    """The audit's active scenario with this id (None for anything else, another audit's too)."""
    scenario_id = optional_id(raw)
    scenario = db.session.get(Scenario, scenario_id) if scenario_id else None
    if scenario is None or scenario.audit_id != audit.id or not scenario.active:
        return None
    return scenario


# ----------------------------------------------------------------- scenarios (manager)

def check_scenario(audit: Audit, form) -> tuple[dict, dict]:
    """The clean fields of a scenario from a form, and the errors per field."""
    values, errors = {}, {}
    metric = audit_metric(audit, form.get("metric_id"))
    if metric is None:
        errors["metric_id"] = _("Choose a touchpoint and metric of this audit.")
    else:
        values["metric_id"] = metric.id
    for name, longest in SCENARIO_LIMITS.items():
        text = str(form.get(name) or "").strip()
        if len(text) > longest:
            errors[name] = _("too long (%(length)d characters; at most %(max)d fit)", length=len(text), max=longest)
        values[name] = text
    if not values["title"] and "title" not in errors:
        errors["title"] = _("Give the scenario a title.")
    if metric is not None and metric.needs_product_key and not values["product_key"]:
        errors["product_key"] = _("This metric needs the product or tariff key for a like-for-like price.")
    if values["channel"] and "channel" not in errors:
        key, problem = check_channel(values["channel"], vocabulary())
        if problem:
            errors["channel"] = problem
        values["channel"] = key or ""
    values["product_key"] = values["product_key"] or None
    values["channel"] = values["channel"] or None
    return values, errors


def _scenarios_page(audit: Audit, values: dict | None = None, errors: dict | None = None, status: int = 200):
    metrics = [m for m in audit.metrics if m.touchpoint.active]
    return render("pairs/scenarios.html", audit=audit, scenarios=audit_scenarios(audit, active_only=False),
                  metrics=metrics, values=values or {}, errors=errors or {}, status=status,
                  channels=vocabulary().choices(lang()))


@bp.route("/<int:audit_id>/scenarios")
@allow("manager", "leadership", "service")
def scenarios(audit_id: int):
    """The audit's scenarios with their scripts (service staff: of the rounds they are on)."""
    return _scenarios_page(audit_for(audit_id))


@bp.route("/<int:audit_id>/scenarios/new", methods=["POST"])
@allow("manager")
def create_scenario(audit_id: int):
    """Add a scenario to the round (not once it is published)."""
    audit = audit_for(audit_id)
    if (refusal := frozen_refusal(audit)) is not None:
        return refusal
    values, errors = check_scenario(audit, request.form)
    if errors:
        return _scenarios_page(audit, dict(request.form), errors, 422)
    db.session.add(Scenario(audit_id=audit.id, **values))
    db.session.commit()
    flash(_("Scenario “%(title)s” added.", title=values["title"]), "success")
    return redirect(url_for("pairs.scenarios", audit_id=audit.id), code=303)


@bp.route("/<int:audit_id>/scenarios/<int:scenario_id>/active", methods=["POST"])
@allow("manager")
def scenario_active(audit_id: int, scenario_id: int):
    """Retire a scenario from the pair form (its pairs stay), or bring it back."""
    audit = audit_for(audit_id)
    if (refusal := frozen_refusal(audit)) is not None:
        return refusal
    scenario = db.get_or_404(Scenario, scenario_id)
    require(scenario.audit_id == audit.id)
    scenario.active = request.form.get("active") == "1"
    db.session.commit()
    return redirect(url_for("pairs.scenarios", audit_id=audit.id), code=303)


# ----------------------------------------------------------------- the pair form (staff)

def recent_pairs(audit: Audit) -> list[ObservationPair]:
    """The user's last pairs in this audit, newest first."""
    return db.session.scalars(
        db.select(ObservationPair).where(ObservationPair.audit_id == audit.id,
                                         ObservationPair.created_by_id == current_user.id)
        .options(selectinload(ObservationPair.scenario), selectinload(ObservationPair.new_observation),
                 selectinload(ObservationPair.existing_observation).selectinload(Observation.customer))
        .order_by(ObservationPair.id.desc()).limit(RECENT)).all()


def _page(audit: Audit, values: dict | None = None, errors: dict | None = None, status: int = 200):
    scenarios = audit_scenarios(audit)
    values = values or {}
    chosen = scenario_of(audit, values.get("scenario_id")) or (scenarios[0] if scenarios else None)
    return render("pairs/log.html", audit=audit, scenarios=scenarios, scenario=chosen, values=values,
                  errors=errors or {}, status=status, token=secrets.token_urlsafe(24),
                  recent=recent_pairs(audit), due=due_for(audit, current_user.id))


def _side(audit: Audit, scenario: Scenario, form, side: str) -> tuple[dict, dict]:
    """One side of the pair checked by the observation rule, with the scenario's metric,
    product and channel (whatever the form says about those)."""
    data = {"metric_id": str(scenario.metric_id), "value": form.get(f"value_{side}", ""),
            "product_key": scenario.product_key or "", "channel": scenario.channel or "",
            "observed_on": form.get(f"observed_on_{side}", ""), "note": form.get("note", ""),
            "customer_status": side}
    if side == "existing":
        data["customer_q"] = form.get("customer_q", "")
    checked = check_observation(audit, data)
    errors = {f"{name}_{side}" if name in ("value", "observed_on") else name: message
              for name, message in checked.errors.items()}
    return checked.values, errors


@bp.route("/<int:audit_id>/pairs", methods=["GET", "POST"])
@allow("service", "manager")
def log_pair(audit_id: int):
    """The pair form: one scenario, the prospect's and the existing customer's value."""
    audit = audit_for(audit_id)
    require(may_log(audit))
    if request.method == "GET":
        return _page(audit, {"scenario_id": request.args.get("scenario_id")})
    if not audit.is_open:
        return refused(_("This audit is not open for logging (status: %(status)s); nothing was saved.",
                         status=audit.status), 409)
    token = request.form.get("form_token", "")
    if not _TOKEN.match(token):
        return refused(_("This form has no valid id; reload the page and enter the pair again."), 400)
    if db.session.scalar(db.select(ObservationPair.id).where(ObservationPair.audit_id == audit.id,
                                                            ObservationPair.form_token == token)):
        return refused(_("This pair was already saved (the form was sent twice); nothing was stored again."), 409)
    scenario = scenario_of(audit, request.form.get("scenario_id"))
    if scenario is None:
        return _page(audit, dict(request.form), {"scenario_id": _("Choose a scenario of this audit.")}, 422)
    new_values, errors = _side(audit, scenario, request.form, "new")
    existing_values, existing_errors = _side(audit, scenario, request.form, "existing")
    errors.update(existing_errors)
    if errors:
        return _page(audit, dict(request.form), errors, 422)
    new = Observation(audit_id=audit.id, created_by_id=current_user.id, **new_values)
    existing = Observation(audit_id=audit.id, created_by_id=current_user.id, **existing_values)
    db.session.add_all([new, existing])
    try:
        link_pair(audit, scenario, new, existing, current_user.id, token)
        db.session.commit()
    except IntegrityError:  # the same form sent twice at the same moment
        db.session.rollback()
        return refused(_("This pair was already saved (the form was sent twice); nothing was stored again."), 409)
    flash(_("Pair saved: %(scenario)s.", scenario=scenario.title), "success")
    return redirect(url_for("pairs.log_pair", audit_id=audit.id, scenario_id=scenario.id), code=303)


@bp.route("/<int:audit_id>/pairs/<int:pair_id>/delete", methods=["POST"])
@allow("service", "manager")
def delete_pair(audit_id: int, pair_id: int):
    """Undo: remove the user's own pair (both observations) while the audit is open."""
    audit = audit_for(audit_id)
    require(may_log(audit))
    pair = db.get_or_404(ObservationPair, pair_id)
    require(pair.audit_id == audit.id and pair.created_by_id == current_user.id)
    if not audit.is_open:
        return refused(_("This audit is not open any more; its observations cannot change."), 409)
    for observation in (pair.new_observation, pair.existing_observation):
        db.session.delete(observation)
    db.session.delete(pair)
    db.session.commit()
    flash(_("Pair removed."), "success")
    return redirect(url_for("pairs.log_pair", audit_id=audit.id), code=303)
