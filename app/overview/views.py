"""The start page: what the signed-in user can do next, and the company at a glance."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.overview import answer
from app.segments import loaders
from app.segments.models import SegmentationRun
from app.touchpoint_audit.labels import metric_names, template_helpers
from app.touchpoint_audit.loaders import due_for
from app.touchpoint_audit.models import Audit, Metric, Touchpoint
from app.web.i18n import lang
from app.web.rendering import render
from app.web.security import any_user, has_role
from segmentation.windows import period_range

bp = Blueprint("main", __name__, template_folder="templates")
bp.context_processor(template_helpers)


def company_overview(with_revenue: bool = True) -> dict:
    """Counts and the revenue of the latest twelve months (quarters where no months are held).

    The periods and the revenue come from the series blocks, not from a pass
    over customer_values (see :func:`app.segments.loaders.window_revenue`).
    """

    customers = loaders.customer_count()
    held = loaders.available_periods()
    window = loaders.default_window([p for p in held if "Q" not in p] or held, length=12)  # months first
    periods = period_range(*window) if window else []
    revenue = loaders.window_revenue(*window) if window and with_revenue else 0.0
    return {
        "customers": customers,
        "periods": periods,
        "revenue_12": revenue,
        "touchpoints": db.session.scalar(db.select(db.func.count(Touchpoint.id))) or 0,
        "metrics": db.session.scalar(db.select(db.func.count(Metric.id))) or 0,
    }


def next_steps(overview: dict) -> list[dict]:
    """What is missing before the product can answer its question, first things first.

    Each step is a sentence and, for a role that may do it, the link that does it;
    other roles are told who does it. A database with data in every place gives none.
    """
    manager = has_role("manager")
    steps = []

    def step(name: str, missing: str, action: str, endpoint: str) -> None:
        steps.append({"name": name, "text": missing, "action": action if manager else None,
                      "url": url_for(endpoint) if manager else None})

    if not overview["touchpoints"]:
        step("catalog", _("The touchpoint catalog is empty."), _("Load the default catalog or define touchpoints"),
             "touchpoints.index")
    if not overview["customers"]:
        step("customers", _("No customers yet."), _("Import customer values"), "customers.import_upload")
    elif not db.session.scalar(db.select(SegmentationRun.id).limit(1)):
        step("segmentation", _("The customers are not segmented yet."), _("Run a segmentation"), "segments.run")
    if overview["touchpoints"] and not db.session.scalar(db.select(Audit.id).limit(1)):
        step("audit", _("No audit round yet."), _("Create an audit round"), "audits.create")
    if steps and not manager:
        steps.append({"name": "who", "text": _("A touchpoint manager sets these up."), "action": None, "url": None})
    return steps


@bp.route("/")
@any_user
def index():
    # Service staff do not see revenue figures (issue: service sees care, not margins).
    show_money = has_role("manager", "leadership")
    overview = company_overview(with_revenue=show_money)
    return render("main/index.html", overview=overview, show_money=show_money, next_steps=next_steps(overview),
                  **role_start(), today=dt.date.today(), new_assignment_days=answer.NEW_ASSIGNMENT_DAYS,
                  changes_shown=answer.CHANGES_SHOWN)


def role_start() -> dict:
    """What the signed-in user's role starts with: the answer (leadership), the work
    (managers), assigned rounds (service staff), and everyone's own actions."""
    names = metric_names()
    today = dt.date.today()
    start: dict = {"names": names, "my_actions": answer.my_actions(current_user.id, names),
                   "leadership": None, "work": None, "assigned": None}
    start["assigned_on"] = answer.assigned_on(current_user.id, [f.id for f, _e in start["my_actions"]])
    if has_role("leadership"):
        start["leadership"] = answer.leadership_view(names)
    if has_role("manager"):
        start["work"] = answer.manager_view(lang(), today, names)
    if current_user.role == "service":
        start["assigned"] = answer.assigned_rounds(current_user.id)
        start["due"] = {a.id: due_for(a, current_user.id) for a, _own in start["assigned"]}
    return start
