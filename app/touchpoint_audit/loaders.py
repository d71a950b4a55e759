"""Observations of an audit, joined with the latest segmentation and tenure, as the
frame that :mod:`audits.penalty` takes."""
from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.segments.kinds import AUDIT_KINDS, COLUMNS
from app.segments.models import Customer, CustomerSegment, SegmentationRun
from app.touchpoint_audit.channels import vocabulary
from app.touchpoint_audit.models import Evidence, Metric, Observation, ObservationPair, Scenario, Touchpoint
from app.touchpoint_audit.quotas import due_for
from segmentation.windows import period_range

__all__ = ["latest_segmentation_run_id", "customer_segments", "ComparisonRows", "comparison_rows", "metric_catalog", "observation_frame", "pair_frame",
           "due_for", "evidence_summary", "PENALISED_KINDS", "penalised_segments", "penalised_condition",
           "trajectory_risk", "window_years"]


def latest_segmentation_run_id() -> int | None:
    """The id of the latest segmentation run that holds segments, or None.

    Asked of the runs (a handful), each probed for one row along the (run, customer) index:
    not ``max(run_id)`` over the segments, which reads a million index entries per run."""
    holds = sa.select(CustomerSegment.run_id).where(CustomerSegment.run_id == SegmentationRun.id).exists()
    return db.session.scalar(sa.select(SegmentationRun.id).where(SegmentationRun.status == "done", holds)
                             .order_by(SegmentationRun.id.desc()).limit(1))


def customer_segments(run_id: int | None) -> pd.DataFrame:
    """customer_id (int) -> abc, potential, tier for one segmentation run (empty frame without)."""
    columns = ["customer_pk", *AUDIT_KINDS]
    if run_id is None:
        return pd.DataFrame(columns=columns)

    fields = [CustomerSegment.customer_id.label("customer_pk")]
    for kind, attr in COLUMNS.items():
        column = getattr(CustomerSegment, attr, None)
        fields.append((column if column is not None else sa.null()).label(kind))
    rows = db.session.execute(sa.select(*fields).where(CustomerSegment.run_id == run_id)).all()
    return pd.DataFrame(rows, columns=columns)


@dataclass
class ComparisonRows:
    """The observations behind one comparison (see :func:`comparison_rows`)."""

    new_values: list[float]  # the reference: new customers' values
    existing_values: list[float]  # the compared segment's existing customers' values
    shown: list[Observation]  # both groups, newest first, at most ``limit``, with their customers
    numbers_in_segment: set[str]  # of the asked customer numbers, those observed in the segment
    ids_in_grade: set[int]  # of the asked observation ids, those of this metric (and grade)

    @property
    def n(self) -> int:
        return len(self.new_values) + len(self.existing_values)


def comparison_rows(audit_id: int, metric_id: int, grade: str | None, run_id: int | None, segment_kind: str,
                    segment: str, limit: int, numbers: set[str] = frozenset(),
                    ids: set[int] = frozenset()) -> ComparisonRows:
    """One comparison's observations, its segment's membership asked of the database: the existing
    customers' segment rows of run ``run_id`` are joined (one index probe each), never the whole
    run loaded (a million rows at a million customers). ``grade`` None: every grade.

    New customers are the reference (for a product comparison those of the product); existing
    ones count where they belong to the segment (``overall``: all of them)."""
    base = [Observation.audit_id == audit_id, Observation.metric_id == metric_id]
    if grade is not None:
        base.append(Observation.evidence_grade == grade)
    is_new = Observation.customer_status == "new"
    in_segment = Observation.customer_status == "existing"
    if segment_kind == "product":
        is_new = sa.and_(is_new, Observation.product_key == segment)
        in_segment = sa.and_(in_segment, Observation.product_key == segment)
    elif segment_kind not in ("overall", None):
        column = getattr(CustomerSegment, COLUMNS[segment_kind]) if segment_kind in AUDIT_KINDS else None
        if column is None or run_id is None:
            in_segment = sa.false()
        else:
            in_segment = sa.and_(in_segment, sa.exists().where(
                CustomerSegment.run_id == run_id, CustomerSegment.customer_id == Observation.customer_id,
                column == segment))
    chosen = sa.or_(is_new, in_segment)
    new_values, existing_values, order = [], [], []
    for status, value, observed_at, observation_id in db.session.execute(
            sa.select(Observation.customer_status, Observation.value, Observation.observed_at, Observation.id)
            .where(*base, chosen)):
        (new_values if status == "new" else existing_values).append(value)
        order.append((observed_at, observation_id))
    newest = [observation_id for _at, observation_id in heapq.nlargest(limit, order)]  # one pass, no second scan
    by_id = {o.id: o for o in db.session.scalars(sa.select(Observation).where(Observation.id.in_(newest))
                                                   .options(so.selectinload(Observation.customer)))} if newest else {}
    shown = [by_id[observation_id] for observation_id in newest]
    found_numbers = set()
    if numbers:
        found_numbers = set(db.session.scalars(
            sa.select(Customer.customer_no).join(Observation, Observation.customer_id == Customer.id)
            .where(*base, in_segment, Customer.customer_no.in_(sorted(numbers)))).all())
    found_ids = set()
    if ids:
        found_ids = set(db.session.scalars(sa.select(Observation.id).where(*base, Observation.id.in_(sorted(ids)))))
    return ComparisonRows(new_values, existing_values, list(shown), found_numbers, found_ids)


def metric_catalog(metric_ids: list[int] | None = None) -> pd.DataFrame:
    """One row per metric: ids, keys, names, unit, direction, is_price, needs_product_key."""
    query = sa.select(
        Metric.id.label("metric_id"), Touchpoint.key.label("touchpoint"), Metric.key.label("metric"),
        Touchpoint.name_de.label("touchpoint_de"), Touchpoint.name_en.label("touchpoint_en"),
        Metric.name_de.label("metric_de"), Metric.name_en.label("metric_en"), Metric.unit,
        Metric.direction, Metric.is_price, Metric.needs_product_key,
    ).join(Touchpoint, Metric.touchpoint_id == Touchpoint.id).order_by(Touchpoint.position, Metric.position)
    if metric_ids is not None:
        query = query.where(Metric.id.in_(metric_ids))
    return pd.DataFrame(db.session.execute(query).all(), columns=[
        "metric_id", "touchpoint", "metric", "touchpoint_de", "touchpoint_en", "metric_de", "metric_en",
        "unit", "direction", "is_price", "needs_product_key",
    ])


def observation_frame(audit_id: int, run_id: int | None = None) -> pd.DataFrame:
    """The audit's observations with touchpoint/metric keys, customer number, tenure and segments.

    Columns: observation_id, touchpoint, metric, value, customer_status, customer_id
    (the customer number, text; missing for anonymous new customers), product_key, channel,
    observed_at, evidence_grade (observed, system, self_reported), tenure_years (from
    customer_since, existing customers only), abc, potential, tier (from segmentation run
    ``run_id``, default the latest).
    """
    if run_id is None:
        run_id = latest_segmentation_run_id()
    # The observed customers' segments joined in the database (one index probe per observation),
    # not the run loaded whole: a run holds a million customers, an audit observes a few thousand.
    segment_fields = [(getattr(CustomerSegment, COLUMNS[kind]) if run_id is not None else sa.null()).label(kind)
                      for kind in AUDIT_KINDS]
    query = (
        sa.select(
            Observation.id.label("observation_id"), Touchpoint.key.label("touchpoint"),
            Metric.key.label("metric"), Observation.value, Observation.customer_status,
            Observation.customer_id.label("customer_pk"), Customer.customer_no.label("customer_id"),
            Customer.customer_since, Observation.product_key, Observation.channel, Observation.observed_at,
            Observation.evidence_grade, *segment_fields,
        )
        .join(Metric, Observation.metric_id == Metric.id)
        .join(Touchpoint, Metric.touchpoint_id == Touchpoint.id)
        .outerjoin(Customer, Observation.customer_id == Customer.id)
        .where(Observation.audit_id == audit_id)
        .order_by(Observation.id)
    )
    if run_id is not None:
        query = query.outerjoin(CustomerSegment, sa.and_(CustomerSegment.customer_id == Observation.customer_id,
                                                         CustomerSegment.run_id == run_id))
    frame = pd.DataFrame(db.session.execute(query).all(), columns=[
        "observation_id", "touchpoint", "metric", "value", "customer_status", "customer_pk", "customer_id",
        "customer_since", "product_key", "channel", "observed_at", "evidence_grade", *AUDIT_KINDS,
    ])
    frame["value"] = frame["value"].astype("float64")
    frame["observed_at"] = pd.to_datetime(frame["observed_at"])
    since = pd.to_datetime(frame["customer_since"])
    tenure = (frame["observed_at"] - since).dt.days / 365.25
    frame["tenure_years"] = tenure.where(
        (frame["customer_status"] == "existing") & (tenure >= 0)
    ).astype("float64")
    frame["customer_pk"] = frame["customer_pk"].astype("Int64")
    # New customers are compared as the reference, never as a segment.
    is_new = frame["customer_status"] == "new"
    for kind in AUDIT_KINDS:
        frame[kind] = frame[kind].astype(object).where(~is_new & frame[kind].notna(), None)
    # Empty product/channel mean "not given": one like-for-like stratum.
    for column in ("product_key", "channel"):
        frame[column] = frame[column].replace("", np.nan)
    # a channel stored in another spelling (before the vocabulary, or an alias) is compared as its key,
    # so "Telefon" and "phone" are one stratum
    channels = vocabulary(active_only=False)
    frame["channel"] = frame["channel"].map(
        {word: channels.key_of(word) or str(word).strip() for word in frame["channel"].dropna().unique()})
    order = [c for c in frame.columns if c not in (*AUDIT_KINDS, "customer_since")] + list(AUDIT_KINDS)
    return frame[order]  # the segments last, as before they were joined in the database


def pair_frame(audit_id: int) -> pd.DataFrame:
    """The audit's paired test calls, one row per pair: pair_id, scenario_id, scenario, touchpoint,
    metric, value_new (the prospect's), value_existing (the existing customer's), product_key, channel."""
    new = so.aliased(Observation)
    existing = so.aliased(Observation)
    query = (
        sa.select(ObservationPair.id, Scenario.id, Scenario.title, Touchpoint.key, Metric.key,
                  new.value, existing.value, Scenario.product_key, Scenario.channel)
        .join(Scenario, ObservationPair.scenario_id == Scenario.id)
        .join(new, ObservationPair.new_observation_id == new.id)
        .join(existing, ObservationPair.existing_observation_id == existing.id)
        .join(Metric, Scenario.metric_id == Metric.id)
        .join(Touchpoint, Metric.touchpoint_id == Touchpoint.id)
        .where(ObservationPair.audit_id == audit_id)
        .order_by(ObservationPair.id)
    )
    frame = pd.DataFrame(db.session.execute(query).all(), columns=[
        "pair_id", "scenario_id", "scenario", "touchpoint", "metric", "value_new", "value_existing",
        "product_key", "channel"])
    for column in ("value_new", "value_existing"):
        frame[column] = frame[column].astype("float64")
    return frame


def evidence_summary(audit_id: int) -> dict:
    """The audit's observations per evidence grade and how many of them carry a photo or file:
    {"n": all, "with_evidence": k, "files": photos and files, "by_grade": {grade: n}}."""
    by_grade = dict(db.session.execute(
        sa.select(Observation.evidence_grade, sa.func.count(Observation.id))
        .where(Observation.audit_id == audit_id).group_by(Observation.evidence_grade)).all())
    with_evidence, files = db.session.execute(
        sa.select(sa.func.count(sa.distinct(Evidence.observation_id)), sa.func.count(Evidence.id))
        .join(Observation, Evidence.observation_id == Observation.id).where(Observation.audit_id == audit_id)).one()
    return {"n": int(sum(by_grade.values())), "with_evidence": int(with_evidence or 0), "files": int(files or 0),
            "by_grade": {grade: int(n) for grade, n in by_grade.items()}}


# ------------------------------------------------------------------ a finding's penalised customers

#: The finding kinds whose penalised customers are defined: the root-cause comparisons of a
#: touchpoint × metric (they name the segments in which the gap holds).
PENALISED_KINDS = ("aggregate",)


def penalised_segments(figures: dict | None) -> list[tuple[str, str]]:
    """The (kind, class) segments in which a finding's gap holds, from its ``segments`` list;
    empty when it holds overall only (then every observed existing customer counts)."""
    return [(s["segment_kind"], str(s["segment"])) for s in (figures or {}).get("segments") or []
            if s.get("segment_kind") in COLUMNS and s.get("segment") is not None]


def observed_existing(audit_id: int, touchpoint_key: str | None, metric_key: str | None,
                      distinct: bool = True) -> sa.Select:
    """The ids of the existing customers observed at a touchpoint × metric in an audit round.

    The metric's id is looked up first and given as a value: PostgreSQL then estimates the
    observations it selects from their statistics (13,000, not 1,500 through the catalog's
    join), which decides whether a customer list walks its sort index (see penalised_condition)."""
    metric_id = db.session.scalar(sa.select(Metric.id).join(Touchpoint, Metric.touchpoint_id == Touchpoint.id)
                                  .where(Touchpoint.key == touchpoint_key, Metric.key == metric_key))
    query = sa.select(Observation.customer_id).where(
        Observation.audit_id == audit_id, Observation.metric_id == metric_id,
        Observation.customer_status == "existing", Observation.customer_id.is_not(None))
    return query.distinct() if distinct else query  # (an IN needs no DISTINCT, and plans better without)


def in_segments(segments: list[tuple[str, str]], segment=CustomerSegment) -> sa.ColumnElement | None:
    """The condition "in one of these segments" on a customer's segment row (None: no condition)."""
    if not segments:
        return None
    return sa.or_(*(getattr(segment, COLUMNS[kind]) == value for kind, value in segments))


def penalised_condition(finding, segment=CustomerSegment) -> sa.ColumnElement:
    """The condition on ``Customer``/``segment`` (the segment row of the run in question) that
    selects a finding's penalised customers: observed as existing customers at its touchpoint ×
    metric in its round, and in a segment where its gap holds (any, when it holds overall only)."""
    asked = observed_existing(finding.audit_id, finding.touchpoint_key, finding.metric_key, distinct=False)
    where = in_segments(penalised_segments(finding.figures), segment)
    if where is None:
        return Customer.id.in_(asked)
    # A segment condition needs the segment row, whose customer is the customer: asking the row
    # lets PostgreSQL walk the list's revenue index and probe the observations per row (about
    # 10 ms at a million customers) instead of joining every observed customer first (150 ms).
    return sa.and_(segment.customer_id.in_(asked), where)


def trajectory_risk(audit_id: int, touchpoint_key: str | None, metric_key: str | None,
                    segments: list[tuple[str, str]], run: SegmentationRun | None) -> dict | None:
    """How many penalised customers a finding has, how many of them shrink, and their contribution.

    One query over the distinct observed customers, joined with segmentation run ``run``.
    The contribution a year is the run's stored contribution (over its window) divided by the
    window's length in years. None without a run."""
    if run is None:
        return None
    observed = observed_existing(audit_id, touchpoint_key, metric_key).subquery()
    segment = so.aliased(CustomerSegment)
    shrinking = segment.trajectory == "shrinking"
    query = (sa.select(sa.func.count(observed.c.customer_id),
                       sa.func.count(sa.case((shrinking, 1))),
                       sa.func.sum(sa.case((shrinking, segment.contribution))))
             .select_from(observed)
             .outerjoin(segment, sa.and_(segment.customer_id == observed.c.customer_id, segment.run_id == run.id)))
    where = in_segments(segments, segment)
    if where is not None:
        query = query.where(where)
    penalised, n_shrinking, contribution = db.session.execute(query).one()
    years = window_years(run)
    return {
        "run_id": run.id, "run_date": run.created_at.date().isoformat(),
        "window": [run.window_start, run.window_end], "window_years": years,
        "basis": "segments" if segments else "overall", "segments": [list(s) for s in segments],
        "penalised": int(penalised), "shrinking": int(n_shrinking),
        "contribution_year": None if contribution is None or not years else float(contribution) / years,
    }


def window_years(run: SegmentationRun) -> float | None:
    """The length of a run's window in years (24 months = 2.0)."""
    try:
        periods = period_range(run.window_start, run.window_end)
    except ValueError:
        return None
    return len(periods) / (4 if "Q" in periods[0] else 12) if periods else None
