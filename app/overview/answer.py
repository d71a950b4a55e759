"""What each role's start page says: the answer for leadership, the work for managers,
the assigned rounds and own actions for everyone who has some.

Figures are read through :func:`app.touchpoint_audit.labels.comparison_effect` and
:func:`~app.touchpoint_audit.labels.finding_effect` only, so a change of the stored
statistics changes one place; the answer's sentences come from
:func:`app.touchpoint_audit.labels.answer_sentences`, which the PDF report uses too.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import gettext as _

from app.accounts.models import User
from app.extensions import db
from app.reports.analysis import round_trend
from app.reports.models import ReportDocument
from app.touchpoint_audit.analysis import DEFAULT_PARAMS, latest_snapshot
from app.touchpoint_audit.labels import (
    Effect,
    answer_sentences,
    finding_effect,
    metric_label,
    segment_label,
    unit_amount,
    unit_of,
)
from app.touchpoint_audit.loaders import latest_segmentation_run_id
from app.touchpoint_audit.models import AnalysisSnapshot, Audit, Finding, FindingActivity, Observation, audit_staff
from app.web.i18n import fmt_date, fmt_number

SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
OPEN_STATUSES = ("open", "acknowledged")
TOP_FINDINGS = 5
# Gaps that grew, and gaps that shrank, listed on the start page (the report lists all).
CHANGES_SHOWN = 5
LIST_LIMIT = 5
# An assignment counts as new on the owner's start page for this many days.
NEW_ASSIGNMENT_DAYS = 7


# ------------------------------------------------------------------ leadership

def latest_analysed_round() -> tuple[Audit | None, AnalysisSnapshot | None]:
    """The newest round (by creation) that has a stored analysis, and that analysis."""
    audit = db.session.scalar(
        db.select(Audit).where(Audit.id.in_(db.select(AnalysisSnapshot.audit_id)), Audit.status != "draft")
        .order_by(Audit.created_at.desc(), Audit.id.desc()).limit(1))
    return (audit, latest_snapshot(audit.id)) if audit is not None else (None, None)


def owner_name(user: User | None) -> str:
    return (user.display_name or user.username) if user else ""


def ordered_findings(findings: list[Finding], names: dict) -> list[tuple[Finding, Effect | None]]:
    """Findings with their effect, by severity, then by the size of the effect today."""
    pairs = [(f, finding_effect(f, names)) for f in findings]
    return sorted(pairs, key=lambda fe: (SEVERITY_RANK.get(fe[0].severity, 9),
                                         -(fe[1].rank if fe[1] else float("-inf")), fe[0].id))


def yearly_cost(finding: Finding) -> tuple[float | None, float | None, float | None]:
    """The excess a year a finding estimates (value, low, high in €), or Nones when it has none."""
    figures = finding.figures or {}
    return figures.get("excess_year"), figures.get("excess_year_low"), figures.get("excess_year_high")


def top_findings(audit: Audit, names: dict, limit: int = TOP_FINDINGS) -> list[tuple[Finding, Effect | None]]:
    """The audit's current (not stale) findings that are still to act on, worst first."""
    findings = db.session.scalars(db.select(Finding).where(
        Finding.audit_id == audit.id, Finding.stale.is_(False), Finding.status.in_(OPEN_STATUSES))).all()
    ordered = ordered_findings(findings, names)
    # As on the report's first page: the question is how loyal customers are treated, so
    # loyalty-penalty findings lead, by what they cost a year (estimated), and after-sales
    # gaps fill the rest.
    penalty = sorted((pair for pair in ordered if pair[0].kind != "aftersales"),
                     key=lambda pair: -(yearly_cost(pair[0])[0] or 0.0))
    aftersales = [pair for pair in ordered if pair[0].kind == "aftersales"]
    share = min(len(penalty), max(limit - len(aftersales), (limit * 3) // 5))
    return penalty[:share] + aftersales[:limit - share]


@dataclass
class Changes:
    previous: Audit | None
    grew: list = field(default_factory=list)
    shrank: list = field(default_factory=list)
    stayed: int = 0


def changes_since_last_round(audit: Audit, snapshot: AnalysisSnapshot | None, names: dict) -> Changes:
    """Gaps that grew or shrank since the last published round on the same scope."""
    if audit.is_published:
        return Changes(previous=None)
    previous, rows = round_trend(audit, snapshot)
    changes = Changes(previous=previous)
    for row in rows:
        if row.verdict in ("grew", "shrank"):
            unit = unit_of(names, row.touchpoint, row.metric)
            item = {"where": metric_label(names, row.touchpoint, row.metric),
                    "segment": segment_label(row.segment_kind, row.segment),
                    "previous": unit_amount(row.previous, unit), "current": unit_amount(row.current, unit)}
            getattr(changes, row.verdict).append(item)
        elif row.verdict == "stayed":
            changes.stayed += 1
    return changes


def report_documents(audit: Audit) -> dict[str, bool]:
    """Which languages have a PDF to download now (published, else the latest draft)."""
    kind = "published" if audit.is_published else "draft"
    langs = db.session.scalars(db.select(ReportDocument.lang).where(
        ReportDocument.audit_id == audit.id, ReportDocument.kind == kind)).all()
    return {lang: lang in langs for lang in ("de", "en")}


def leadership_view(names: dict) -> dict:
    """The answer, the top findings, the changes and the PDF of the latest analysed round."""
    audit, snapshot = latest_analysed_round()
    if audit is None:
        return {"audit": None}
    owners = {u.id: u for u in db.session.scalars(db.select(User))}
    return {
        "audit": audit, "snapshot": snapshot, "sentences": answer_sentences(snapshot, names),
        "n_compared": sum(1 for r in (snapshot.comparisons or []) if r.get("status") == "ok"),
        "top": top_findings(audit, names), "owners": owners,
        "changes": changes_since_last_round(audit, snapshot, names),
        "documents": report_documents(audit), "yearly_cost": yearly_cost,
    }


# ------------------------------------------------------------------ managers

@dataclass
class TouchpointProgress:
    name: str
    n_new: int = 0
    n_existing: int = 0
    metrics: int = 0
    metrics_ready: int = 0


@dataclass
class RoundWork:
    audit: Audit
    n_observations: int
    touchpoints: list[TouchpointProgress]
    snapshot: AnalysisSnapshot | None
    stale_reasons: list[str]


def observation_counts(audit_id: int) -> dict[tuple[int, str], int]:
    """(metric id, customer status) → how many observations the audit holds.

    ``count(*)`` over the columns of ix_observations_audit_metric_status: read from the index
    alone (on PostgreSQL an index-only scan), not from the observations' rows."""
    return {(m, s): n for m, s, n in db.session.execute(
        db.select(Observation.metric_id, Observation.customer_status, db.func.count())
        .where(Observation.audit_id == audit_id).group_by(Observation.metric_id, Observation.customer_status))}


def round_progress(audit: Audit, locale: str, min_n: int,
                   counts: dict[tuple[int, str], int] | None = None) -> list[TouchpointProgress]:
    """Per touchpoint in scope: observations of new and existing customers, and how many
    of its metrics hold at least ``min_n`` of each (the analysis' minimum per group)."""
    counts = observation_counts(audit.id) if counts is None else counts
    rows: dict[int, TouchpointProgress] = {}
    for metric in sorted(audit.metrics, key=lambda m: (m.touchpoint.position, m.touchpoint_id, m.position)):
        row = rows.setdefault(metric.touchpoint_id, TouchpointProgress(metric.touchpoint.name(locale)))
        new, existing = counts.get((metric.id, "new"), 0), counts.get((metric.id, "existing"), 0)
        row.n_new += new
        row.n_existing += existing
        row.metrics += 1
        row.metrics_ready += int(new >= min_n and existing >= min_n)
    return list(rows.values())


def stale_reasons(audit: Audit, snapshot: AnalysisSnapshot | None, run_id: int | None, n_obs: int) -> list[str]:
    """Why the audit's analysis is out of date (empty when it is current); ``n_obs``: the audit's observations."""
    if snapshot is None:
        return [_("Not analysed yet.")] if n_obs else []
    reasons = []
    newer = db.session.scalar(db.select(db.func.count()).select_from(Observation).where(
        Observation.audit_id == audit.id, Observation.created_at > snapshot.created_at)) or 0
    if newer:
        reasons.append(_("%(n)s observations logged since the analysis of %(date)s.", n=fmt_number(newer),
                         date=fmt_date(snapshot.created_at)))
    if run_id is not None and snapshot.segmentation_run_id != run_id:
        reasons.append(_("A newer segmentation run exists than the one the analysis used."))
    return reasons


def manager_view(locale: str, today: dt.date, names: dict) -> dict:
    """Open rounds with their logging progress and stale analyses; actions overdue or unassigned."""
    audits = db.session.scalars(db.select(Audit).where(Audit.status.in_(("open", "review")))
                                .order_by(Audit.created_at.desc(), Audit.id.desc())).all()
    run_id = latest_segmentation_run_id()
    min_n = DEFAULT_PARAMS["min_n"]
    rounds = []
    for audit in audits:
        snapshot = latest_snapshot(audit.id)
        counts = observation_counts(audit.id)  # once: the progress and the stale check share them
        progress = round_progress(audit, locale, min_n, counts)
        rounds.append(RoundWork(audit, sum(t.n_new + t.n_existing for t in progress), progress, snapshot,
                                stale_reasons(audit, snapshot, run_id, sum(counts.values()))))
    actionable = db.session.scalars(
        db.select(Finding).join(Audit, Audit.id == Finding.audit_id)
        .where(Audit.status != "published", Finding.stale.is_(False), Finding.status.in_(OPEN_STATUSES))).all()
    overdue = [f for f in actionable if f.due_date is not None and f.due_date < today]
    unassigned = [f for f in actionable if f.owner_id is None]
    return {
        "rounds": rounds, "min_n": min_n,
        "overdue": ordered_findings(overdue, names), "unassigned": ordered_findings(unassigned, names),
        "limit": LIST_LIMIT,
    }


# ------------------------------------------------------------------ service staff and every owner

def assigned_rounds(user_id: int) -> list[tuple[Audit, int]]:
    """The open rounds the user is assigned to, with how many observations they logged there."""
    audits = db.session.scalars(
        db.select(Audit).join(audit_staff, audit_staff.c.audit_id == Audit.id)
        .where(audit_staff.c.user_id == user_id, Audit.status == "open")
        .order_by(Audit.created_at.desc(), Audit.id.desc())).all()
    own = dict(db.session.execute(
        db.select(Observation.audit_id, db.func.count(Observation.id))
        .where(Observation.created_by_id == user_id).group_by(Observation.audit_id)).all())
    return [(a, own.get(a.id, 0)) for a in audits]


def my_actions(user_id: int, names: dict) -> list[tuple[Finding, Effect | None]]:
    """The findings the user owns that are still to act on: overdue first, then by due date."""
    findings = db.session.scalars(db.select(Finding).where(
        Finding.owner_id == user_id, Finding.status.in_(OPEN_STATUSES), Finding.stale.is_(False))).all()
    pairs = [(f, finding_effect(f, names)) for f in findings]
    return sorted(pairs, key=lambda fe: (fe[0].due_date is None, fe[0].due_date or dt.date.max,
                                         SEVERITY_RANK.get(fe[0].severity, 9), fe[0].id))



def assigned_on(user_id: int, finding_ids: list[int]) -> dict[int, dt.datetime]:
    """When each of these findings was last assigned to the user (from the activity log)."""
    if not finding_ids:
        return {}
    rows = db.session.execute(
        db.select(FindingActivity.finding_id, db.func.max(FindingActivity.created_at))
        .where(FindingActivity.finding_id.in_(finding_ids), FindingActivity.field == "owner",
               FindingActivity.new_value == str(user_id))
        .group_by(FindingActivity.finding_id)).all()
    return dict(rows)
