"""Repeating rounds: a round used as the template of a monthly or quarterly schedule, and the
next round made from it when its period begins — by ``flask audits schedule`` (for cron) or by
a manager on the schedule page; never two rounds for the same period."""
from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.touchpoint_audit.labels import template_helpers
from app.touchpoint_audit.models import (
    SCHEDULE_FREQUENCIES,
    Audit,
    RoundSchedule,
    Scenario,
    ScheduledRound,
)
from app.touchpoint_audit.views import audit_for, refused
from app.web.i18n import fmt_number
from app.web.rendering import render
from app.web.security import allow

bp = Blueprint("schedules", __name__, url_prefix="/audits", template_folder="templates")
bp.context_processor(template_helpers)

FREQUENCY_LABELS = {"monthly": _l("monthly"), "quarterly": _l("quarterly")}
# The largest quota a form accepts per staff member and round.
MAX_QUOTA = 10_000
_DIGITS = re.compile(r"[0-9]{1,6}")  # ASCII digits only (str.isdigit also takes '٣' and '²')


def period_of(day: dt.date, frequency: str) -> str:
    """The period a day falls in: '2026-12' (monthly) or '2026-Q4' (quarterly)."""
    if frequency == "monthly":
        return f"{day.year:04d}-{day.month:02d}"
    if frequency == "quarterly":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    raise ValueError(f"unknown frequency {frequency!r}; use one of {SCHEDULE_FREQUENCIES}")


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a period written as :func:`period_of` writes it."""
    year = int(period[:4])
    if "Q" in period:
        first_month = (int(period[-1]) - 1) * 3 + 1
        months = 3
    else:
        first_month, months = int(period[5:7]), 1
    start = dt.date(year, first_month, 1)
    after = dt.date(year + (first_month + months - 1) // 12, (first_month + months - 1) % 12 + 1, 1)
    return start, after - dt.timedelta(days=1)


def new_round(schedule: RoundSchedule, period: str) -> Audit:
    """A new open round for ``period`` from the schedule's template: scope, settings, owner,
    staff and the active scenarios (copied, so editing one round leaves the others)."""
    template = schedule.template
    start, end = period_bounds(period)
    audit = Audit(title=f"{template.title[:180]} · {period}", description=template.description,
                  scope_segments=list(template.scope_segments or []),
                  scope_products=list(template.scope_products or []),
                  settings=dict(template.settings or {}), owner_id=template.owner_id,
                  period_start=start, period_end=end, status="open")
    audit.metrics = list(template.metrics)
    audit.staff = list(template.staff)
    db.session.add(audit)
    db.session.flush()
    for scenario in db.session.scalars(db.select(Scenario).where(
            Scenario.audit_id == template.id, Scenario.active.is_(True)).order_by(Scenario.id)):
        db.session.add(Scenario(audit_id=audit.id, metric_id=scenario.metric_id, title=scenario.title,
                                product_key=scenario.product_key, channel=scenario.channel,
                                script=scenario.script))
    return audit


def create_due_rounds(today: dt.date, schedule_id: int | None = None) -> list[dict]:
    """Make the round of the current period for every active schedule (or the one given) that
    has none yet, and commit. Running it again, or at the same moment elsewhere, makes nothing
    twice. Returns one record per schedule: schedule, period, audit id, created (bool)."""
    query = db.select(RoundSchedule).where(RoundSchedule.active.is_(True)).order_by(RoundSchedule.id)
    if schedule_id is not None:
        query = query.where(RoundSchedule.id == schedule_id)
    results = []
    for schedule_id_, frequency in db.session.execute(
            query.with_only_columns(RoundSchedule.id, RoundSchedule.frequency)).all():
        period = period_of(today, frequency)
        existing = db.session.get(ScheduledRound, (schedule_id_, period))
        if existing is not None:
            results.append({"schedule": schedule_id_, "period": period, "audit": existing.audit_id, "created": False})
            continue
        schedule = db.session.get(RoundSchedule, schedule_id_)
        try:
            audit = new_round(schedule, period)
            db.session.add(ScheduledRound(schedule_id=schedule.id, period=period, audit_id=audit.id,
                                          quota_observations=schedule.quota_observations,
                                          quota_pairs=schedule.quota_pairs))
            db.session.commit()
        except IntegrityError:  # another process made this period's round at the same moment
            db.session.rollback()
            existing = db.session.get(ScheduledRound, (schedule_id_, period))
            results.append({"schedule": schedule_id_, "period": period,
                            "audit": existing.audit_id if existing else None, "created": False})
            continue
        results.append({"schedule": schedule.id, "period": period, "audit": audit.id, "created": True})
    return results


def schedule_of(audit: Audit) -> RoundSchedule | None:
    """The schedule whose template this round is."""
    return db.session.scalar(db.select(RoundSchedule).where(RoundSchedule.template_audit_id == audit.id))


def _quota(text, errors: dict, name: str) -> int:
    text = str(text or "").strip()
    if not text:
        return 0
    if not _DIGITS.fullmatch(text) or int(text) > MAX_QUOTA:
        errors[name] = _("A whole number from 0 to %(max)s.", max=fmt_number(MAX_QUOTA, 0))
        return 0
    return int(text)


@bp.route("/<int:audit_id>/schedule", methods=["GET", "POST"])
@allow("manager")
def schedule(audit_id: int):
    """Make this round the template of a monthly or quarterly schedule, with quotas per staff member."""
    audit = audit_for(audit_id)
    current = schedule_of(audit)
    errors, values = {}, {}
    if request.method == "POST":
        values = dict(request.form)
        frequency = request.form.get("frequency", "")
        if frequency not in SCHEDULE_FREQUENCIES:
            errors["frequency"] = _("Choose monthly or quarterly.")
        quotas = {name: _quota(request.form.get(name), errors, name) for name in ("quota_observations", "quota_pairs")}
        if not errors:
            if current is None:
                current = RoundSchedule(template_audit_id=audit.id, frequency=frequency, **quotas)
                db.session.add(current)
                db.session.flush()
                # the template is the round of its own period, so the next one starts with the next period
                day = audit.period_start or dt.date.today()
                db.session.add(ScheduledRound(schedule_id=current.id, period=period_of(day, frequency),
                                              audit_id=audit.id, **quotas))
            else:
                current.frequency = frequency
                current.quota_observations, current.quota_pairs = quotas["quota_observations"], quotas["quota_pairs"]
            current.active = request.form.get("active", "1") == "1"
            try:
                db.session.commit()
            except IntegrityError:  # the round is already part of another schedule, or was saved twice
                db.session.rollback()
                return refused(_("This round already belongs to a schedule; nothing was changed."), 409)
            flash(_("Schedule saved."), "success")
            return redirect(url_for("schedules.schedule", audit_id=audit.id), code=303)
    rounds = []
    if current is not None:
        rounds = db.session.execute(
            db.select(ScheduledRound, Audit).join(Audit, Audit.id == ScheduledRound.audit_id)
            .where(ScheduledRound.schedule_id == current.id).order_by(ScheduledRound.period.desc())
            .options(selectinload(Audit.staff))).all()
    return render("schedules/schedule.html", audit=audit, schedule=current, rounds=rounds, errors=errors,
                  values=values, frequencies=FREQUENCY_LABELS, max_quota=MAX_QUOTA,
                  status=422 if errors else 200)


@bp.route("/<int:audit_id>/schedule/run", methods=["POST"])
@allow("manager")
def run_schedule(audit_id: int):
    """Make the round of the current period now, if the schedule has none for it yet."""
    audit = audit_for(audit_id)
    current = schedule_of(audit)
    if current is None or not current.active:
        return refused(_("This round has no active schedule."), 409)
    result = create_due_rounds(dt.date.today(), current.id)[0]
    if result["created"]:
        flash(_("Round %(period)s created.", period=result["period"]), "success")
    else:
        flash(_("The round of %(period)s exists already; nothing was created.", period=result["period"]), "info")
    return redirect(url_for("schedules.schedule", audit_id=audit.id), code=303)
