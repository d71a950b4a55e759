"""The start page: what the signed-in user can do next, and the company at a glance."""
from __future__ import annotations

from flask import Blueprint

from app.extensions import db
from app.models import Customer, CustomerValue, Metric, Touchpoint
from app.rendering import render
from app.security import any_user, has_role

bp = Blueprint("main", __name__)


def company_overview() -> dict:
    """Counts and the revenue of the latest twelve periods, in two queries."""
    customers = db.session.scalar(db.select(db.func.count(Customer.id))) or 0
    periods = db.session.scalars(
        db.select(CustomerValue.period).distinct().order_by(CustomerValue.period.desc()).limit(12)
    ).all()
    revenue = 0.0
    if periods:
        revenue = db.session.scalar(
            db.select(db.func.sum(CustomerValue.revenue)).where(CustomerValue.period.in_(periods))
        ) or 0.0
    return {
        "customers": customers,
        "periods": sorted(periods),
        "revenue_12": revenue,
        "touchpoints": db.session.scalar(db.select(db.func.count(Touchpoint.id))) or 0,
        "metrics": db.session.scalar(db.select(db.func.count(Metric.id))) or 0,
    }


@bp.route("/")
@any_user
def index():
    overview = company_overview()
    # Service staff do not see revenue figures (issue: service sees care, not margins).
    show_money = has_role("manager", "leadership")
    return render("main/index.html", overview=overview, show_money=show_money)
