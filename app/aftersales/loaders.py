"""After-sales outcomes joined with the latest segmentation, as the frame that
:mod:`audits.aftersales` takes (satisfaction already turned into yes/no at the
chosen threshold, so scores and yes/no answers can sit side by side)."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa

from app.aftersales.models import DEFAULT_THRESHOLD, Outcome
from app.extensions import db
from app.segments.kinds import AUDIT_KINDS
from app.segments.kinds import COLUMNS as SEGMENT_COLUMNS
from app.segments.models import Customer, CustomerSegment
from app.touchpoint_audit.loaders import latest_segmentation_run_id

COLUMNS = ["outcome_id", "customer_pk", "customer_no", "name", "outcome_date", "sale_satisfaction",
           "after_sales_satisfaction", "repurchased", *AUDIT_KINDS]


def _flags(score: pd.Series, yes: pd.Series, threshold: int) -> pd.Series:
    given = yes.astype("boolean")
    from_score = pd.to_numeric(score, errors="coerce") >= threshold
    return given.where(given.notna(), from_score).astype(bool)


def outcome_frame(
    threshold: int = DEFAULT_THRESHOLD,
    start: dt.date | None = None,
    end: dt.date | None = None,
    run_id: int | None = None,
) -> pd.DataFrame:
    """One row per outcome (optionally within [start, end]) with yes/no flags and segments.

    Segments come from segmentation run ``run_id`` (default: the latest); a customer
    without one has empty segment columns and counts in "overall" only.
    """
    if run_id is None:
        run_id = latest_segmentation_run_id()
    # Only the outcomes' customers' segments, joined in the database: a run holds a row for
    # every customer (a million), the outcomes name a few thousand.
    segment_fields = [
        (getattr(CustomerSegment, SEGMENT_COLUMNS[kind]) if run_id is not None else sa.null()).label(kind)
        for kind in AUDIT_KINDS
    ]
    query = (
        sa.select(
            Outcome.id, Outcome.customer_id, Customer.customer_no, Customer.name, Outcome.outcome_date,
            Outcome.sale_score, Outcome.sale_yes, Outcome.after_sales_score, Outcome.after_sales_yes,
            Outcome.repurchased, *segment_fields,
        )
        .join(Customer, Outcome.customer_id == Customer.id)
        .order_by(Outcome.id)
    )
    if run_id is not None:
        query = query.outerjoin(CustomerSegment, sa.and_(CustomerSegment.customer_id == Outcome.customer_id,
                                                         CustomerSegment.run_id == run_id))
    if start is not None:
        query = query.where(Outcome.outcome_date >= start)
    if end is not None:
        query = query.where(Outcome.outcome_date <= end)
    raw = pd.DataFrame(db.session.execute(query).all(), columns=[
        "outcome_id", "customer_pk", "customer_no", "name", "outcome_date", "sale_score", "sale_yes",
        "after_sales_score", "after_sales_yes", "repurchased", *AUDIT_KINDS,
    ])
    frame = raw[["outcome_id", "customer_pk", "customer_no", "name", "outcome_date"]].copy()
    frame["sale_satisfaction"] = _flags(raw["sale_score"], raw["sale_yes"], threshold)
    frame["after_sales_satisfaction"] = _flags(raw["after_sales_score"], raw["after_sales_yes"], threshold)
    frame["repurchased"] = raw["repurchased"].astype(bool)
    for kind in AUDIT_KINDS:
        frame[kind] = raw[kind].astype(object).where(raw[kind].notna(), None)
    return frame[COLUMNS]
