"""The start page: what the signed-in user can do next, and the company at a glance."""
from __future__ import annotations

from flask import Blueprint

from app.extensions import db
from app.segments.models import Customer
from app.touchpoint_audit.models import Metric, Touchpoint
from app.web.rendering import render
from app.web.security import any_user, has_role
from segmentation.windows import period_range

bp = Blueprint("main", __name__, template_folder="templates")


def company_overview(with_revenue: bool = True) -> dict:
    """Counts and the revenue of the latest twelve months (quarters where no months are held).

    The periods and the revenue come from the series blocks, not from a pass
    over customer_values (see :func:`app.segments.loaders.window_revenue`).
    """
    from app.segments import loaders

    customers = db.session.scalar(db.select(db.func.count(Customer.id))) or 0
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


@bp.route("/")
@any_user
def index():
    # Service staff do not see revenue figures (issue: service sees care, not margins).
    show_money = has_role("manager", "leadership")
    overview = company_overview(with_revenue=show_money)
    return render("main/index.html", overview=overview, show_money=show_money)
