"""Run the loyalty-penalty analysis of an audit, store it, and turn its flags into findings.

The statistics live in the pure :mod:`audits` package; this module loads the frame
(:mod:`app.touchpoint_audit.loaders`), calls it, stores one :class:`AnalysisSnapshot` that the
dashboard and the report read, and upserts the findings by their stable key.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
from flask import current_app, url_for

from app.extensions import db
from app.segments.analysis import class_sizes
from app.segments.kinds import AUDIT_KINDS, COLUMNS
from app.segments.models import SegmentationRun
from app.touchpoint_audit.loaders import (
    PENALISED_KINDS,
    customer_segments,
    latest_segmentation_run_id,
    metric_catalog,
    observation_frame,
    pair_frame,
    penalised_segments,
    trajectory_risk,
)
from app.touchpoint_audit.models import AnalysisSnapshot, Audit, Finding, upsert_findings
from app.touchpoint_audit.quotas import shortfall
from app.web.jobs import report
from app.web.models import Job
from audits import EVIDENCE_GRADES, to_python
from audits.findings import build_findings
from audits.paired import adjust_jointly, compare_pairs
from audits.penalty import (
    EXCESS_ASSUMPTIONS,
    case_flags,
    compare_groups,
    excess_per_year,
    tenure_gradient,
    total_excess,
)

# The analysis settings (alpha, minimum n, tolerance …); stored with every snapshot.
DEFAULT_PARAMS = {
    "min_n": 10, "alpha": 0.05, "materiality": 0.05, "n_boot": 2000, "seed": 20261123,
    "window_days": 30, "tolerance": 0.0, "confidence": 0.95,
}
# How many flagged cases a snapshot keeps for the case list (the total covers all).
MAX_STORED_CASES = 500
# Points per price-vs-tenure chart.
MAX_GRADIENT_POINTS = 400
# Above this many observations the web action runs as a background job.
BACKGROUND_THRESHOLD = 20_000


# The settings a manager may set per audit round, with their bounds.
SETTING_BOUNDS = {"alpha": (0.001, 0.2), "min_n": (3, 1000), "tolerance": (0.0, 0.5)}


def audit_params(audit: Audit) -> dict:
    """The analysis settings of ``audit``: the defaults, the round's own settings, and the
    materiality of each metric in scope (the round's value, else the catalog's), keyed
    "touchpoint.metric" so they are stored with the analysis as used."""
    settings = audit.settings or {}
    params = {**DEFAULT_PARAMS, **{k: settings[k] for k in SETTING_BOUNDS if settings.get(k) is not None}}
    overrides = {int(k): v for k, v in (settings.get("materiality") or {}).items()}
    materiality = {}
    for metric in audit.metrics:
        value = overrides.get(metric.id, metric.materiality)
        if value is not None:
            materiality[f"{metric.touchpoint.key}.{metric.key}"] = float(value)
    params["materiality_abs"] = materiality
    return params


def materiality_by_metric(params: dict) -> dict[tuple[str, str], float]:
    """{(touchpoint, metric): materiality in the effect's unit} from stored params."""
    return {tuple(key.split(".", 1)): value for key, value in (params.get("materiality_abs") or {}).items()}


def records(frame: pd.DataFrame) -> list[dict]:
    """The frame as a list of JSON-safe dicts."""
    return [{k: to_python(v) for k, v in row.items()} for row in frame.to_dict("records")]


def analyse_frame(frame: pd.DataFrame, catalog: pd.DataFrame, params: dict | None = None,
                  progress: Callable[[float, str], None] | None = None,
                  segment_sizes: dict | None = None, pairs: pd.DataFrame | None = None) -> dict:
    """Run the three analyses on an observation frame; returns JSON-safe parts of a snapshot.

    ``segment_sizes`` ({(segment_kind, segment): existing customers}, ('overall', 'all')
    for all) is the default yearly volume of the excess a year. ``pairs`` (one row per paired
    test call, as :func:`loaders.pair_frame` gives them) are compared by their differences and
    join the unpaired comparisons' Benjamini–Hochberg family."""

    params = {**DEFAULT_PARAMS, **(params or {})}
    progress = progress or (lambda fraction, message: None)
    price_metrics = [(r.touchpoint, r.metric) for r in catalog.itertuples() if r.is_price]
    kinds = [k for k in AUDIT_KINDS if k in frame.columns and frame[k].notna().any()]
    frame = frame[frame["value"].notna()]

    progress(0.1, "comparisons")
    comparisons = compare_frame(frame, catalog, params, kinds)
    paired = []
    if pairs is not None and len(pairs):
        directions = {(r.touchpoint, r.metric): r.direction for r in catalog.itertuples()}
        paired_frame = compare_pairs(
            pairs, directions, min_n=params["min_n"], alpha=params["alpha"], confidence=params["confidence"],
            materiality=params["materiality"], materiality_abs=materiality_by_metric(params))
        comparisons, paired_frame = adjust_jointly(comparisons, paired_frame, alpha=params["alpha"])
        paired = records(paired_frame)
    progress(0.45, "comparisons by evidence grade")
    by_grade = comparisons_by_grade(frame, catalog, params, kinds, comparisons)
    progress(0.6, "cases")
    priced = frame[[(t, m) in set(price_metrics) for t, m in zip(frame["touchpoint"], frame["metric"])]] \
        if len(frame) else frame
    cases_summary = {"total_excess": 0.0, "n_cases": 0, "n_flagged": 0, "n_customers": 0,
                     "by_metric": [], "flagged": [], "excess_year": [],
                     "assumptions": {k: dict(v) for k, v in EXCESS_ASSUMPTIONS.items()}}
    year = None
    gradient = {"rows": [], "series": []}
    all_flagged = []
    cases_frame = gradient_frame = None
    if len(priced) and price_metrics:
        cases = case_flags(priced, price_metrics, window_days=params["window_days"],
                           tolerance=params["tolerance"],
                           comparisons=comparisons if len(comparisons) else None)
        year = excess_per_year(comparisons, price_metrics, segment_sizes=segment_sizes) \
            if len(comparisons) else None
        flagged = cases[cases["flagged"]].sort_values("excess", ascending=False)
        by_metric = total_excess(cases, ["touchpoint", "metric"])
        all_flagged = flagged
        cases_frame = cases
        cases_summary = {
            **cases_summary,
            "excess_year": records(year) if year is not None else [],
            "total_excess": float(total_excess(cases)),
            "n_cases": int(cases["excess"].notna().sum()),
            "n_flagged": int(len(flagged)),
            "n_customers": int(flagged["customer_id"].nunique()),
            "by_metric": records(by_metric),
            "flagged": records(flagged[[
                "observation_id", "touchpoint", "metric", "customer_id", "product_key", "channel",
                "observed_at", "value", "reference_price", "reference_n", "excess", "excess_pct",
            ]].head(MAX_STORED_CASES)),
        }
        progress(0.8, "price walking")
        rows = tenure_gradient(priced, price_metrics, min_n=params["min_n"], alpha=params["alpha"],
                               seed=params["seed"])
        gradient_frame = rows
        gradient = {"rows": records(rows), "series": _gradient_series(priced, rows, params["seed"])}
    progress(0.95, "storing")

    found = build_findings(
        comparisons=comparisons if len(comparisons) else None,
        cases=cases_frame if cases_frame is not None and len(cases_frame) else None,
        gradients=gradient_frame if gradient_frame is not None and len(gradient_frame) else None,
        excess_year=year,
    )
    return {
        "findings": finding_specs(found),
        "params": params,
        "segment_kinds": kinds,
        "comparisons": records(comparisons) if len(comparisons) else [],
        "paired": paired,
        "by_grade": by_grade,
        "cases": cases_summary,
        "gradient": gradient,
        "all_flagged_cases": all_flagged,  # every flagged case (a frame), for the CLI; not stored
    }


def compare_frame(frame: pd.DataFrame, catalog: pd.DataFrame, params: dict, kinds: list[str]) -> pd.DataFrame:
    """Existing vs new customers on ``frame`` with the analysis settings ``params`` (the one
    place the comparison is called: the whole audit and each evidence grade alike)."""
    frame = frame[frame["value"].notna()]
    if not len(frame):
        return pd.DataFrame()
    directions = {(r.touchpoint, r.metric): r.direction for r in catalog.itertuples()}
    price_metrics = [(r.touchpoint, r.metric) for r in catalog.itertuples() if r.is_price]
    return compare_groups(
        frame, directions, kinds, min_n=params["min_n"], alpha=params["alpha"],
        materiality=params["materiality"], n_boot=params["n_boot"], seed=params["seed"],
        confidence=params["confidence"], price_metrics=price_metrics or None,
        materiality_abs=materiality_by_metric(params),
    )


def comparisons_by_grade(frame: pd.DataFrame, catalog: pd.DataFrame, params: dict, kinds: list[str],
                         comparisons: pd.DataFrame | None = None) -> dict[str, list[dict]]:
    """{grade: comparison records} of the comparison run again on the observations of each
    evidence grade alone (Benjamini–Hochberg within that grade's comparisons); a grade that
    holds every observation reuses ``comparisons``, a grade without observations is left out."""
    if "evidence_grade" not in frame.columns or not len(frame):
        return {}
    out = {}
    for grade in EVIDENCE_GRADES:
        subset = frame[frame["evidence_grade"] == grade]
        if not len(subset):
            continue
        if len(subset) == len(frame) and comparisons is not None:
            result = comparisons
        else:
            result = compare_frame(subset, catalog, params, kinds)
        out[grade] = records(result) if len(result) else []
    return out


#: What a flag of the whole audit becomes on observed evidence alone.
HOLDS_VERDICTS = ("still_flagged", "not_flagged", "insufficient")


def flags_on_observed(comparisons: list[dict], by_grade: dict | None) -> list[dict] | None:
    """Each flagged comparison with its verdict on observed evidence alone: still_flagged,
    not_flagged or insufficient (too few customers, or no observed evidence); None when the
    analysis was made before evidence grades existed."""
    if by_grade is None:
        return None
    observed = {_comparison_key(r): r for r in by_grade.get("observed") or []}
    out = []
    for row in comparisons or []:
        if not row.get("flagged"):
            continue
        alone = observed.get(_comparison_key(row))
        if alone is None or alone.get("status") != "ok":
            verdict = "insufficient"
        else:
            verdict = "still_flagged" if alone.get("flagged") else "not_flagged"
        out.append({"row": row, "observed": alone, "verdict": verdict})
    return out


def _comparison_key(row: dict) -> tuple:
    return (row.get("touchpoint"), row.get("metric"), row.get("segment_kind"), str(row.get("segment")))


def _gradient_series(priced: pd.DataFrame, rows: pd.DataFrame, seed: int) -> list[dict]:
    """Points and the Theil–Sen line of the price-vs-tenure groups worth drawing (flagged first)."""
    if rows.empty:
        return []
    ok = rows[rows["status"] == "ok"].copy()
    if ok.empty:
        return []
    ok = ok.sort_values(["flagged", "n"], ascending=[False, False]).head(4)
    rng = np.random.default_rng(seed)
    series = []
    existing = priced[(priced["customer_status"] == "existing") & priced["tenure_years"].notna()]
    for row in ok.itertuples():
        mask = (existing["touchpoint"] == row.touchpoint) & (existing["metric"] == row.metric)
        product = getattr(row, "product_key", None)
        if "product_key" in ok.columns:
            mask &= existing["product_key"].isna() if pd.isna(product) else existing["product_key"] == product
        points = existing.loc[mask, ["tenure_years", "value"]].to_numpy(dtype=float)
        if len(points) > MAX_GRADIENT_POINTS:
            points = points[np.sort(rng.choice(len(points), MAX_GRADIENT_POINTS, replace=False))]
        intercept = float(np.median(points[:, 1] - row.slope * points[:, 0])) if len(points) else None
        series.append({
            "touchpoint": row.touchpoint, "metric": row.metric,
            "product_key": None if pd.isna(product) else product,
            "slope": to_python(row.slope), "intercept": intercept, "rho": to_python(row.rho),
            "p": to_python(row.p), "p_adjusted": to_python(row.p_adjusted), "flagged": bool(row.flagged),
            "n": int(row.n), "points": [[round(x, 3), round(y, 2)] for x, y in points],
        })
    return series


# ------------------------------------------------------------------ findings

KIND_OF = {"aftersales_gap": "aftersales"}
FINDING_SOURCE = "analysis"


def finding_specs(found: list[dict]) -> list[dict]:
    """Rows for :class:`Finding` from :func:`audits.findings.build_findings` dicts."""
    specs = []
    for f in found:
        figures = dict(f.get("figures") or {})
        action = f.get("action") or {}
        figures.update(action_en=action.get("en"), action_de=action.get("de"),
                       title_de=(f.get("title") or {}).get("de"))
        specs.append({
            "key": f["key"][:255], "kind": KIND_OF.get(f["kind"], f["kind"]), "severity": f["severity"] or "low",
            "touchpoint_key": f.get("touchpoint"), "metric_key": f.get("metric"),
            "segment_kind": f.get("segment_kind"), "segment": None if f.get("segment") is None else str(f["segment"]),
            "title": ((f.get("title") or {}).get("en") or f["key"])[:300], "figures": figures,
        })
    return specs


def run_analysis(audit: Audit, user_id: int | None = None, params: dict | None = None,
                 progress: Callable[[float, str], None] | None = None,
                 keep: dict | None = None) -> AnalysisSnapshot:
    """Analyse the audit, store a snapshot and upsert its findings (the caller commits).

    ``keep``, when given, receives the full flagged-case records (the snapshot stores the
    first MAX_STORED_CASES)."""
    if audit.is_published:
        raise ValueError("a published audit is frozen; its analysis cannot change")
    run_id = latest_segmentation_run_id()
    frame = observation_frame(audit.id, run_id)
    catalog = metric_catalog()
    params = audit_params(audit) if params is None else params
    result = analyse_frame(frame, catalog, params, progress, segment_sizes(run_id), pair_frame(audit.id))
    add_trajectory_risk(audit.id, result["findings"], db.session.get(SegmentationRun, run_id) if run_id else None)
    if keep is not None:
        flagged = result["all_flagged_cases"]
        keep["flagged_cases"] = records(flagged) if len(flagged) else []
    snapshot = AnalysisSnapshot(
        audit_id=audit.id, created_by_id=user_id, segmentation_run_id=run_id, n_observations=len(frame),
        params={**result["params"], "segment_kinds": result["segment_kinds"],
                "shortfall": shortfall_records(audit, {**DEFAULT_PARAMS, **params}["min_n"])},
        comparisons=result["comparisons"], cases=result["cases"], gradient=result["gradient"],
        paired=result["paired"],
        by_grade=result["by_grade"],
    )
    db.session.add(snapshot)
    counts = upsert_findings(audit, FINDING_SOURCE, result["findings"])
    snapshot.params = {**snapshot.params, "findings": counts}
    db.session.flush()
    return snapshot


def shortfall_records(audit: Audit, min_n: int) -> list[dict]:
    """The comparisons below the minimum n when the round was analysed, JSON-safe."""
    return [{"kind": row["kind"], "touchpoint": row["metric"].touchpoint.key, "metric": row["metric"].key,
             **{k: row[k] for k in ("new", "existing", "pairs", "min_n") if k in row}}
            for row in shortfall(audit, min_n)]
def add_trajectory_risk(audit_id: int, specs: list[dict], run: SegmentationRun | None) -> None:
    """Store on each root-cause finding how many of its penalised customers shrink and the
    contribution a year at risk (``figures['trajectory']``; one query per finding)."""
    for spec in specs:
        if spec["kind"] in PENALISED_KINDS:
            risk = trajectory_risk(audit_id, spec["touchpoint_key"], spec["metric_key"],
                                   penalised_segments(spec["figures"]), run)
            if risk is not None:
                spec["figures"]["trajectory"] = risk


def segment_sizes(run_id: int | None) -> dict:
    """Existing customers per segment of a segmentation run (the default yearly volume): from the
    class counts the run keeps, else counted from its rows."""
    run = db.session.get(SegmentationRun, run_id) if run_id is not None else None
    kept = class_sizes(run)
    if kept is not None and run.n_customers:
        sizes = {("overall", "all"): int(run.n_customers)}
        for kind in AUDIT_KINDS:
            sizes.update({(kind, value): n for (column, value), n in kept.items() if column == COLUMNS[kind]})
        return sizes
    segments = customer_segments(run_id)
    if segments.empty:
        return {}
    sizes = {("overall", "all"): int(len(segments))}
    for kind in AUDIT_KINDS:
        for value, count in segments[kind].dropna().value_counts().items():
            sizes[(kind, value)] = int(count)
    return sizes


def latest_snapshot(audit_id: int) -> AnalysisSnapshot | None:
    """The audit's most recent stored analysis."""
    return db.session.scalar(
        db.select(AnalysisSnapshot).where(AnalysisSnapshot.audit_id == audit_id)
        .order_by(AnalysisSnapshot.id.desc()).limit(1)
    )


COMPARISON_FIELDS = ("touchpoint", "metric", "segment_kind", "segment", "n_new", "n_existing", "effect",
                     "effect_unit", "ci_low", "ci_high", "p", "p_adjusted", "flagged", "severity")
FINDING_FIELDS = ("key", "kind", "touchpoint", "metric", "segments", "effect_unit", "severity", "excess_observed",
                  "excess_year", "excess_year_low", "excess_year_high", "status")
SEGMENT_FIELDS = ("segment_kind", "segment", "n_new", "n_existing", "effect", "ci_low", "ci_high", "p_adjusted")


def finding_records(audit_id: int) -> list[dict]:
    """The CLI's records: one per current (not stale) finding of the audit, costliest first.

    ``segments`` lists where the gap holds: the headline comparison, then the other
    segments of a root-cause finding, each with its n, effect, interval and adjusted p."""
    rows = db.session.scalars(db.select(Finding).where(Finding.audit_id == audit_id, Finding.stale.is_(False))
                              .order_by(Finding.id)).all()
    out = []
    for finding in rows:
        figures = finding.figures or {}
        segments = []
        if finding.kind == "aggregate":
            segments.append({"segment_kind": finding.segment_kind, "segment": finding.segment,
                             **{k: figures.get(k) for k in SEGMENT_FIELDS[2:]}})
            segments += [{k: s.get(k) for k in SEGMENT_FIELDS} for s in figures.get("segments", [])
                         if (s.get("segment_kind"), str(s.get("segment"))) != (finding.segment_kind, finding.segment)]
        elif finding.segment_kind:
            segments.append({"segment_kind": finding.segment_kind, "segment": finding.segment})
        out.append({
            "key": finding.key, "kind": finding.kind, "touchpoint": finding.touchpoint_key,
            "metric": finding.metric_key, "segments": segments, "effect_unit": figures.get("effect_unit"),
            "severity": finding.severity,
            "excess_observed": figures.get("excess_observed", figures.get("total_excess")),
            "excess_year": figures.get("excess_year"), "excess_year_low": figures.get("excess_year_low"),
            "excess_year_high": figures.get("excess_year_high"), "status": finding.status,
        })
    return sorted(out, key=lambda r: -(r["excess_year"] or r["excess_observed"] or 0.0))
CASE_FIELDS = ("touchpoint", "metric", "customer_id", "product_key", "price", "reference_price", "excess")


def export_records(comparisons: list[dict], flagged_cases: list[dict]) -> tuple[list[dict], list[dict]]:
    """The CLI's records: one per comparison and one per flagged case."""
    rows = [{k: row.get(k) for k in COMPARISON_FIELDS} for row in comparisons]
    cases = [
        {"touchpoint": c["touchpoint"], "metric": c["metric"], "customer_id": c.get("customer_id"),
         "product_key": c.get("product_key"), "price": c["value"], "reference_price": c["reference_price"],
         "excess": c["excess"]}
        for c in flagged_cases
    ]
    return rows, cases


def analysis_job(job_id: int, audit_id: int) -> dict:
    """Background analysis of a large audit, with progress."""
    audit = db.session.get(Audit, audit_id)
    if audit is None:
        raise ValueError("the audit no longer exists")
    record = db.session.get(Job, job_id)
    run_analysis(audit, user_id=record.created_by_id if record else None,
                 progress=lambda f, m: report(job_id, f, m))
    db.session.commit()
    with current_app.test_request_context():  # url_for outside a request
        return {"redirect": url_for("audits.dashboard", audit_id=audit_id)}

