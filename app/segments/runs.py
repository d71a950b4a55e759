"""Segmentation runs: load the window from the database, apply the five methods of
the ``segmentation`` package, store every customer's classes with the figures
that decided them, and explain them in words."""
from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np
import pandas as pd
import sqlalchemy as sa
from flask import has_request_context
from flask_babel import gettext

from app.extensions import db
from app.segments import counts, loaders
from app.segments.kinds import BY_COLUMN, BY_KEY, CLASS_COLUMNS, class_label
from app.segments.models import Customer, CustomerSegment, ImportLog, SegmentationRun
from app.web.bulk import insert_frame
from app.web.figures import cached_figures
from app.web.i18n import fmt_money, fmt_number, fmt_percent
from segmentation.pareto import abc_classes, cross_subsidy, profit_tiers
from segmentation.patient import patient_score
from segmentation.potential import potential_matrix
from segmentation.trajectory import value_trajectories


def _(text: str, **params) -> str:
    """gettext in a request; the English text elsewhere (CLI, jobs, demo data)."""
    if has_request_context():
        return gettext(text, **params)
    return text % params if params else text


DEFAULT_PARAMETERS: dict = {
    "abc": [0.8, 0.95],
    "tiers": [0.8, 0.95],
    "split_revenue": None,
    "split_potential": None,
    "potential_basis": "auto",  # auto | potential | rating
    "trajectory_value": "revenue",  # revenue | contribution
    "min_periods": 6,
    "burr_min_years": 5.0,
    "burr_max_margin": 0.02,
}

# customer_segments columns, in insert order
SEGMENT_COLUMNS = (
    "run_id", "customer_id", "abc_class", "potential_segment", "profit_tier", "trajectory", "burr",
    "revenue", "rank", "revenue_share", "cum_share_before", "untapped", "potential_rating", "contribution",
    "margin", "tier_rank", "tier_cum_share_before", "n_periods", "slope", "slope_rel", "p_value", "peak_index",
    "peak_ratio_start", "peak_ratio_end", "seasonal_acf", "cycle_strength", "trajectory_reason", "tenure_years",
)


def parameters_with_defaults(given: dict | None) -> dict:
    """The run parameters: the given ones over the documented defaults."""
    params = dict(DEFAULT_PARAMETERS)
    params.update({k: v for k, v in (given or {}).items() if v is not None or k.startswith("split_")})
    return params


def segment_frames(totals: pd.DataFrame, matrix: pd.DataFrame, params: dict) -> tuple[pd.DataFrame, dict]:
    """All methods on the window's per-customer totals and value matrix.

    Returns one row per customer (columns of :data:`SEGMENT_COLUMNS` except
    run_id) and the run summary (counts, split values, cross-subsidy, Pareto
    curve, typical series per trajectory).
    """
    params = parameters_with_defaults(params)
    ids = totals["customer_id"].to_numpy()
    basis = params["potential_basis"]
    if basis == "auto":
        basis = "potential" if totals["potential"].notna().any() else "rating"
    pm_kwargs = {"potential_col": "potential"} if basis == "potential" else {"rating_col": "potential_rating"}
    split = (params["split_revenue"], params["split_potential"])
    periods_per_year = 4 if len(matrix.columns) and "Q" in str(matrix.columns[0]) else 12
    # the potential is a year's spend: the window's revenue is compared with it per year
    window_years = len(matrix.columns) / periods_per_year if len(matrix.columns) else None

    def ranked():  # the methods on the totals; their sorts leave the GIL
        return (abc_classes(totals, "revenue", params["abc"], order_by="input"),
                potential_matrix(totals, "revenue", split=split, window_years=window_years,
                                 **pm_kwargs),  # in input order
                profit_tiers(totals, "revenue", contribution_col="contribution", thresholds=params["tiers"],
                             order_by="input"))

    # the per-customer inputs of the burr flag, on the matrix's own index (no realignment)
    if not np.array_equal(matrix.index.to_numpy(), ids):
        matrix = matrix.reindex(pd.Index(ids, name="customer_id"))
    by_customer = {name: pd.Series(totals[name].to_numpy(), index=matrix.index)
                   for name in ("customer_since", "contribution", "revenue")}
    with ThreadPoolExecutor(max_workers=1) as pool:
        # beside the trajectories, which keep both cores busy only part of the time
        ranking = pool.submit(ranked)
        trajectories = value_trajectories(
            matrix, periods_per_year=periods_per_year, min_periods=int(params["min_periods"]),
            customer_since=by_customer["customer_since"], contribution=by_customer["contribution"],
            revenue=by_customer["revenue"], burr_min_years=float(params["burr_min_years"]),
            burr_max_margin=float(params["burr_max_margin"]),
        )  # in matrix order = ids order
        abc, pm, tiers = ranking.result()

    columns = {
        "customer_id": ids,
        "abc_class": abc["abc_class"].to_numpy(),
        "potential_segment": pm["potential_segment"].to_numpy(),
        "profit_tier": tiers["profit_tier"].to_numpy(),
        "trajectory": trajectories["trajectory"].to_numpy(),
        "burr": trajectories["burr"].fillna(False).to_numpy(dtype=bool),
        "revenue": abc["revenue"].to_numpy(),
        "rank": abc["rank"].to_numpy(),
        "revenue_share": abc["share"].to_numpy(),
        "cum_share_before": abc["cum_share_before"].to_numpy(),
        "untapped": pm["y"].to_numpy(),
        "potential_rating": totals["potential_rating"].array,
        "contribution": tiers["contribution"].to_numpy(),
        "margin": tiers["margin"].to_numpy(),
        "tier_rank": tiers["rank"].to_numpy(),
        "tier_cum_share_before": tiers["cum_share_before"].to_numpy(),
    }
    for name in ("n_periods", "slope", "slope_rel", "p_value", "peak_index", "peak_ratio_start",
                 "peak_ratio_end", "seasonal_acf", "cycle_strength", "tenure_years"):
        columns[name] = trajectories[name].to_numpy()
    columns["trajectory_reason"] = trajectories["reason"].to_numpy()
    out = pd.DataFrame(columns, copy=False)  # the arrays as they are, not copied into 2-D blocks

    subsidy = cross_subsidy(tiers)
    abc_tally = _tally(out["abc_class"], BY_KEY["abc"].values, out["revenue"])
    segment_tally = _tally(out["potential_segment"], BY_KEY["potential"].values, out["revenue"])
    tier_tally = _tally(out["profit_tier"], BY_KEY["tier"].values, out["contribution"])
    summary = {
        "customers": int(len(out)),
        "total_revenue": float(np.nansum(out["revenue"].to_numpy(dtype=float))),
        "total_contribution": float(np.nansum(out["contribution"].to_numpy(dtype=float))),
        "counts": {
            "abc_class": abc_tally[0],
            "potential_segment": segment_tally[0],
            "profit_tier": tier_tally[0],
            "trajectory": _tally(out["trajectory"], BY_KEY["trajectory"].values)[0],
            "burr": int(out["burr"].sum()),
        },
        "revenue_by": {"abc_class": abc_tally[1], "potential_segment": segment_tally[1]},
        "contribution_by_tier": tier_tally[1],
        "split_revenue": _finite(pm["split_x"].iloc[0]) if len(pm) else None,
        "split_potential": _finite(pm["split_y"].iloc[0]) if len(pm) else None,
        "potential_basis": basis,
        # how the untapped potential was worked out; runs without this key summed the potential over the
        # window's periods and need to be run again
        "potential_rule": "latest_a_year" if basis == "potential" else None,
        "cross_subsidy": subsidy,
        "pareto": pareto_points(out["revenue"].to_numpy(dtype=float)),
        "typical": typical_series(matrix, trajectories["trajectory"].to_numpy()),
        "periods": [str(c) for c in matrix.columns],
    }
    return out, summary


def _tally(classes: pd.Series, keys, amounts: pd.Series | None = None) -> tuple[dict, dict]:
    """Customers per class (every key, 0 when none) and the sum of ``amounts`` per class present.

    One pass of hashing for both (a million class names); customers without a
    class are left out, a missing amount counts as 0, as in a pandas group-by sum.
    """
    codes, names = pd.factorize(classes)
    classed = codes >= 0
    counts = np.bincount(codes[classed], minlength=len(names))
    found = dict(zip(names, counts.tolist()))
    sums = {}
    if amounts is not None:
        weights = np.nan_to_num(amounts.to_numpy(dtype=float, na_value=np.nan)[classed], nan=0.0)
        totals = np.bincount(codes[classed], weights=weights, minlength=len(names))
        by_name = sorted(enumerate(names), key=lambda pair: pair[1])
        sums = {str(name): float(totals[position]) for position, name in by_name}
    return {key: int(found.get(key, 0)) for key in keys}, sums


def _finite(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def pareto_points(revenue: np.ndarray, points: int = 200) -> list[list[float]]:
    """A downsampled Pareto curve: [customer share, cumulative revenue share] pairs."""
    values = np.sort(np.where(np.isfinite(revenue) & (revenue > 0), revenue, 0.0))[::-1]
    n, total = len(values), values.sum()
    if n == 0 or total <= 0:
        return []
    cumulative = np.cumsum(values) / total
    positions = np.unique(np.linspace(0, n - 1, min(points, n)).astype(int))
    return [[0.0, 0.0]] + [[float((i + 1) / n), float(cumulative[i])] for i in positions]


def typical_series(matrix: pd.DataFrame, trajectory: np.ndarray, examples: int = 4) -> dict:
    """Per trajectory type: the median shape (values / customer mean) and a few examples."""
    out = {}
    values = matrix.to_numpy(dtype=float)
    rng = np.random.default_rng(0)
    for key in (k for k in BY_KEY["trajectory"].values if k != "unknown"):
        rows = np.flatnonzero(trajectory == key)
        if rows.size > 5000:  # a sample is enough for a median shape
            rows = np.sort(rng.choice(rows, 5000, replace=False))
        if rows.size == 0:
            continue
        with np.errstate(invalid="ignore", divide="ignore"), _quiet():
            block = values[rows]
            means = np.nanmean(block, axis=1)
            keep = np.isfinite(means) & (means > 0)
            normalised = block[keep] / means[keep, None]
            if len(normalised) == 0:
                continue
            median = np.nanmedian(normalised, axis=0)
        picks = rng.choice(len(normalised), min(examples, len(normalised)), replace=False)
        out[key] = {
            "median": [_finite(v) for v in median],
            "examples": [[_finite(v) for v in normalised[i]] for i in picks],
        }
    return out


class _quiet:
    """Silence numpy's all-NaN slice warnings inside a block."""

    def __enter__(self):
        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._catch.__exit__(*exc)


def run_segmentation(
    window_start: str | None = None,
    window_end: str | None = None,
    parameters: dict | None = None,
    user_id: int | None = None,
    progress: Callable[[float, str], None] | None = None,
    commit: bool = True,
) -> SegmentationRun:
    """Segment every customer with values in the window and store the run.

    Raises ValueError (with a message for the user) when there is nothing to segment.
    """
    progress = progress or (lambda fraction, message: None)
    params = parameters_with_defaults(parameters)
    # read before the values: an import committed meanwhile makes the run look out of date, never current
    last_import = db.session.scalar(sa.select(sa.func.max(ImportLog.id))) or 0
    if not window_start or not window_end:
        window = loaders.default_window()
        if window is None:
            raise ValueError(_("There are no customer values yet; import them first."))
        window_start = window_start or window[0]
        window_end = window_end or window[1]
    if window_end < window_start:
        raise ValueError(_("The window ends before it starts."))
    progress(0.05, _("Summing values per customer"))
    basis = params["potential_basis"]
    # the 1–5 rating is read only when the potential matrix will use it
    with_rating = basis == "rating" or (basis == "auto" and not loaders.window_has_potential(window_start,
                                                                                             window_end))
    totals, matrix = loaders.load_window(window_start, window_end, params["trajectory_value"],
                                         with_rating=with_rating, with_cost=False)
    if basis == "auto" and not with_rating and not totals.empty and totals["potential"].isna().all():
        # potential amounts only outside the window after all: the matrix uses the rating
        totals, matrix = loaders.load_window(window_start, window_end, params["trajectory_value"],
                                             with_rating=True, with_cost=False)
    if totals.empty:
        raise ValueError(_("No customer has values between %(start)s and %(end)s.", start=window_start,
                           end=window_end))
    progress(0.45, _("Segmenting"))
    frame, summary = segment_frames(totals, matrix, params)
    summary["last_import_id"] = int(last_import)
    summary["combinations"] = counts.combinations(frame)  # the customer list's class counts (counts.py)
    run = SegmentationRun(parameters=params, window_start=window_start, window_end=window_end,
                          created_by_id=user_id, status="running", summary=summary, n_customers=len(frame))
    db.session.add(run)
    db.session.flush()
    progress(0.7, _("Storing the results"))
    store_segments(run.id, frame)
    run.status = "done"
    counts.compact()
    if commit:
        db.session.commit()
    progress(1.0, _("Done"))
    return run


def store_segments(run_id: int, frame: pd.DataFrame) -> None:
    """Bulk-insert a run's per-customer rows (COPY on PostgreSQL, executemany on SQLite)."""
    data = frame.copy()
    data.insert(0, "run_id", run_id)
    for name in ("rank", "tier_rank", "n_periods", "peak_index", "potential_rating"):
        data[name] = pd.to_numeric(data[name], errors="coerce").astype("Int64")
    insert_frame("customer_segments", data, SEGMENT_COLUMNS)


def latest_run() -> SegmentationRun | None:
    """The newest finished run."""
    return db.session.scalar(
        sa.select(SegmentationRun).where(SegmentationRun.status == "done").order_by(SegmentationRun.id.desc()).limit(1)
    )


def newer_import(run: SegmentationRun | None) -> ImportLog | None:
    """The latest customer-value import that changed values after ``run`` was made (None: the run is current).

    Runs remember the last import they saw; for older runs the import's time decides.
    """
    if run is None:
        return None
    seen = (run.summary or {}).get("last_import_id")
    after = ImportLog.id > int(seen) if seen is not None else ImportLog.created_at > run.created_at
    changed = sa.or_(ImportLog.values_new > 0, ImportLog.values_changed > 0, ImportLog.customers_new > 0)
    return db.session.scalar(sa.select(ImportLog).where(ImportLog.kind == "customer_values", after, changed)
                             .order_by(ImportLog.id.desc()).limit(1))


def transition_counts(run_a: int, run_b: int, dimension: str) -> list[list]:
    """``[class in run A, class in run B, customers]`` for every pair that occurs (None: no class)."""
    if dimension not in CLASS_COLUMNS:
        raise ValueError("unknown dimension")
    a = sa.orm.aliased(CustomerSegment)
    b = sa.orm.aliased(CustomerSegment)
    col_a, col_b = getattr(a, dimension), getattr(b, dimension)
    rows = db.session.execute(
        sa.select(col_a, col_b, sa.func.count())
        .select_from(a).join(b, sa.and_(b.customer_id == a.customer_id, b.run_id == run_b))
        .where(a.run_id == run_a).group_by(col_a, col_b)
    ).all()
    return [[before, after, int(count)] for before, after, count in rows]


def transition_matrix(run_a: int, run_b: int, dimension: str, keep: bool = False) -> pd.DataFrame:
    """Counts of customers by class in run A (rows) and in run B (columns).

    ``keep``: the counts are kept in the database (``figure_cache``) for the next request (a
    page; this commits): two stored runs never change, and joining two runs of a million
    customers each takes about 300 ms on PostgreSQL."""
    if dimension not in CLASS_COLUMNS:
        raise ValueError("unknown dimension")
    if keep:
        made = {run.id: run.created_at.isoformat() for run in db.session.scalars(
            sa.select(SegmentationRun).where(SegmentationRun.id.in_((run_a, run_b))))}
        # the runs' times too: SQLite may give a deleted run's id to the next one
        rows = cached_figures("transitions", "runs", (run_a, made.get(run_a), run_b, made.get(run_b), dimension),
                              lambda: {"rows": transition_counts(run_a, run_b, dimension)})["rows"]
    else:
        rows = transition_counts(run_a, run_b, dimension)
    frame = pd.DataFrame(rows, columns=["from", "to", "count"])
    if frame.empty:
        return pd.DataFrame()
    frame = frame.fillna("—")
    # the classes either run has, in their defined order (Stars before Fokus …), as rows and
    # as columns, so the matrix is square and its diagonal is "stayed"; unclassified ("—") last
    present = set(frame["from"]) | set(frame["to"])
    keys = [key for key in BY_COLUMN[dimension].values if key in present]
    keys += sorted(present - set(keys), key=lambda k: (k == "—", str(k)))
    matrix = frame.pivot_table(index="from", columns="to", values="count", aggfunc="sum", fill_value=0)
    return matrix.reindex(index=keys, columns=keys, fill_value=0).astype(int)


# --- words and exports ---------------------------------------------------------

def explain(segment: CustomerSegment, run: SegmentationRun, lang: str, show_money: bool) -> dict:
    """Every class of a customer with its reason in words; money figures only when allowed."""
    params = parameters_with_defaults(run.parameters)
    first, second = params["abc"]
    reasons = {}
    if segment.abc_class:
        if segment.revenue is None or segment.revenue <= 0:
            reasons["abc_class"] = _("C because it has no revenue in the window.")
        elif not show_money:
            reasons["abc_class"] = _("%(cls)s by its rank in revenue.", cls=segment.abc_class)
        else:
            limit = first if segment.abc_class == "A" else second
            relation = _("under") if segment.abc_class in ("A", "B") else _("at or above")
            reasons["abc_class"] = _(
                "%(cls)s because the customers before it make %(share)s of revenue, %(relation)s the %(limit)s "
                "threshold (rank %(rank)s).",
                cls=segment.abc_class, share=fmt_percent(segment.cum_share_before), relation=relation,
                limit=fmt_percent(limit, 0), rank=fmt_number(segment.rank))
    summary = run.summary or {}
    if segment.potential_segment:
        name = class_label("potential_segment", segment.potential_segment, lang)
        if show_money:
            split_x, split_y = summary.get("split_revenue"), summary.get("split_potential")
            rating = summary.get("potential_basis") == "rating"
            high_x = _("at or above") if segment.potential_segment in ("star", "cash_cow") else _("below")
            high_y = _("at or above") if segment.potential_segment in ("star", "focus") else _("below")
            y_text = fmt_number(segment.untapped, 1) if rating else fmt_money(segment.untapped, 0)
            y_split = fmt_number(split_y, 1) if rating else fmt_money(split_y, 0)
            reasons["potential_segment"] = _(
                "%(name)s: revenue %(revenue)s is %(hx)s the split of %(sx)s; untapped potential %(y)s is %(hy)s "
                "the split of %(sy)s.",
                name=name, revenue=fmt_money(segment.revenue, 0), hx=high_x, sx=fmt_money(split_x, 0), y=y_text,
                hy=high_y, sy=y_split)
        else:
            reasons["potential_segment"] = _("%(name)s by revenue and untapped potential.", name=name)
    if segment.profit_tier:
        if segment.profit_tier == "Z":
            reasons["profit_tier"] = (_("Z because its contribution margin (%(value)s) is negative.",
                                        value=fmt_money(segment.contribution, 0)) if show_money else
                                      _("Z because its contribution margin is negative."))
        elif show_money:
            reasons["profit_tier"] = _(
                "%(tier)s because the customers before it make %(share)s of the positive contribution "
                "(its own: %(value)s).", tier=segment.profit_tier,
                share=fmt_percent(segment.tier_cum_share_before), value=fmt_money(segment.contribution, 0))
        else:
            reasons["profit_tier"] = _("%(tier)s by its rank in contribution margin.", tier=segment.profit_tier)
    if segment.trajectory:
        reasons["trajectory"] = _trajectory_reason(segment, run, params)
    if segment.burr:
        reasons["burr"] = _("Customer for %(years)s years with a contribution margin near zero or negative.",
                            years=fmt_number(segment.tenure_years, 1))
    return reasons


def _trajectory_reason(segment: CustomerSegment, run: SegmentationRun, params: dict) -> str:
    """The value trajectory's reason in words."""
    reason = segment.trajectory_reason or ""
    if reason == "insufficient_data":
        text = _("Only %(n)s periods with values; at least %(min)s are needed.", n=segment.n_periods,
                 min=params["min_periods"])
    elif reason == "seasonal_autocorrelation":
        text = _("The value correlates with its value one year earlier (r = %(acf)s).",
                 acf=fmt_number(segment.seasonal_acf, 2))
    elif reason == "inner_peak":
        text = _("It peaked in period %(peak)s; start and end are at %(start)s and %(end)s of the peak.",
                 peak=_period_at(run, segment.peak_index), start=fmt_percent(segment.peak_ratio_start, 0),
                 end=fmt_percent(segment.peak_ratio_end, 0))
    elif reason == "too_short_to_tell":
        text = _("Only %(n)s periods with values: too short to tell a shape (below 18 periods only "
                 "overwhelming evidence counts; trend p %(p)s).", n=segment.n_periods,
                 p=_p_text(segment.p_value))
    elif reason in ("significant_rise", "significant_fall"):
        text = _("Linear trend of %(rel)s per year over %(n)s periods, p %(p)s (significant below 0.05).",
                 rel=fmt_percent(segment.slope_rel, 0), n=segment.n_periods, p=_p_text(segment.p_value))
    else:
        text = _("No significant trend over %(n)s periods (p %(p)s) and no yearly pattern (r = %(acf)s).",
                 n=segment.n_periods, p=_p_text(segment.p_value), acf=fmt_number(segment.seasonal_acf, 2))
    return text


def _p_text(p_value) -> str:
    """'= 0.032' or '< 0.001' (a p-value is never shown as 0)."""
    if p_value is None or (isinstance(p_value, float) and math.isnan(p_value)):
        return "= –"
    return "< " + fmt_number(0.001, 3) if p_value < 0.001 else "= " + fmt_number(p_value, 3)


def _period_at(run: SegmentationRun, index) -> str:
    periods = (run.summary or {}).get("periods") or []
    if index is None or not 0 <= int(index) < len(periods):
        return "–"
    return periods[int(index)]


EXPORT_COLUMNS = (
    "customer_id", "name", "abc_class", "potential_segment", "profit_tier", "trajectory", "burr",
    "revenue", "rank", "cum_share_before", "untapped", "potential_rating", "contribution", "margin",
    "tier_cum_share_before", "n_periods", "slope", "slope_rel", "p_value", "peak_index", "seasonal_acf",
    "trajectory_reason", "tenure_years",
)


def _export_query(run_id: int) -> sa.Select:
    names = [c for c in EXPORT_COLUMNS if c not in ("customer_id", "name")]
    return (
        sa.select(Customer.customer_no, Customer.name, *[getattr(CustomerSegment, c) for c in names])
        .join(Customer, Customer.id == CustomerSegment.customer_id)
        .where(CustomerSegment.run_id == run_id).order_by(CustomerSegment.rank, Customer.customer_no)
    )


def _export_rows(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(EXPORT_COLUMNS))
    # Sums of cents carry float noise (…0.30000000075): money to cents, figures to 6 digits.
    for column in ("revenue", "untapped", "contribution"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").round(2)
    for column in ("cum_share_before", "margin", "tier_cum_share_before", "slope", "slope_rel", "p_value",
                   "seasonal_acf", "tenure_years"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").round(6)
    return frame


def export_frame(run_id: int) -> pd.DataFrame:
    """One row per customer of a run with its classes and deciding figures (customer_id = customer number)."""
    return _export_rows(db.session.execute(_export_query(run_id)).all())


def export_chunks(run_id: int, rows: int = 10_000) -> Iterator[pd.DataFrame]:
    """:func:`export_frame` in pieces of ``rows`` rows, read through a server-side cursor
    (a million customers' rows never sit in memory at once). Nothing for a run without rows."""
    if db.session.get_bind().dialect.name == "postgresql":
        # A cursor is planned for its first rows by default (a nested loop along the customers);
        # every row is read here, so plan for all of them (this transaction only).
        db.session.execute(sa.text("SET LOCAL cursor_tuple_fraction = 1.0"))
    result = db.session.execute(_export_query(run_id).execution_options(yield_per=rows))
    for partition in result.partitions():
        yield _export_rows(partition)


def checklist_score(answers: dict) -> tuple[float | None, str]:
    """Score (0 = customer … 1 = patient) and class of one checklist, by ``segmentation.patient``."""
    row = patient_score(pd.DataFrame([{key: bool(value) for key, value in answers.items()}])).iloc[0]
    score = _finite(row["score"])
    return score, str(row["patient_class"])
