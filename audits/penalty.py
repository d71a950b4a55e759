"""Loyalty-penalty detection: do existing customers fare worse than new ones?

Three views on the same observations:

* :func:`compare_groups` — aggregate level: existing customers (overall and per segment)
  against new customers per touchpoint and metric, one value per customer, one estimand
  per kind of metric with a test and an interval of that same estimand,
  Benjamini–Hochberg, materiality in the effect's unit, severity.
* :func:`case_flags` — case level, ENBP-style: an existing customer's price above a
  prediction bound over the new-business price for the same product and channel around
  the same date, under a flagged comparison; :func:`excess_observed` and
  :func:`excess_per_year` put a price on it.
* :func:`tenure_gradient` — "price walking": does the price rise with tenure?

Every function takes a DataFrame plus column names, never changes its input and returns
a new frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import special, stats

from ._common import (
    ALL_SEGMENTS,
    DIRECTIONS,
    OVERALL,
    benjamini_hochberg,
    day_numbers,
    group_codes,
    metric_mask,
    normalise_status,
    numeric_values,
    require_columns,
    severity_of,
    stable_seed,
)
from ._estimands import Estimate, mean_difference, share_difference, shift_by_rank_inversion

__all__ = [
    "DEFAULT_SEVERITY",
    "DEFAULT_MATERIALITY",
    "EFFECT_UNITS",
    "COMPARISON_WARNINGS",
    "CASE_REASONS",
    "case_flags",
    "total_excess",
    "excess_observed",
    "excess_per_year",
    "EXCESS_ASSUMPTIONS",
    "compare_groups",
    "tenure_gradient",
    "bootstrap_median_draws",
]

#: Severity of a flagged comparison, most severe first: the first level whose minimum
#: relative effect (vs the new customers' median) and minimum number of distinct
#: existing customers affected are both met. Unflagged rows get no severity.
DEFAULT_SEVERITY: Mapping[str, Mapping[str, float]] = MappingProxyType({
    "critical": MappingProxyType({"min_effect_rel": 0.25, "min_customers": 100}),
    "high": MappingProxyType({"min_effect_rel": 0.15, "min_customers": 50}),
    "medium": MappingProxyType({"min_effect_rel": 0.08, "min_customers": 20}),
    "low": MappingProxyType({"min_effect_rel": 0.0, "min_customers": 0}),
})

#: Why an existing customer's price observation has no verdict in :func:`case_flags`.
CASE_REASONS: Mapping[str, str] = MappingProxyType({
    "missing_value": "the observation has no value",
    "missing_date": "the observation has no date, so no window can be built",
    "missing_key": "product key or channel is missing (match_missing=False)",
    "no_reference": "no new-customer price for the same product and channel in the window",
    "too_few_references": "fewer new-customer prices in the window than min_reference_n",
})

# Ties within this relative distance of the threshold count as "not above": 100 × 1.15
# is 114.99999999999999 in binary floating point, and 115.00 must not be flagged.
_REL_EPS = 1e-9

# Cells per chunk of the padded window matrix in _window_medians (float64: ~32 MB).
_MAX_CELLS = 4_000_000


# --------------------------------------------------------------------------- cases

def case_flags(
    obs: pd.DataFrame,
    price_metrics: Iterable,
    *,
    comparisons: pd.DataFrame | None = None,
    window_days: int = 30,
    tolerance: float = 0.0,
    z: float = 1.645,
    min_reference_n: int = 3,
    match_missing: bool = True,
    touchpoint_col: str = "touchpoint",
    metric_col: str = "metric",
    value_col: str = "value",
    status_col: str = "customer_status",
    product_col: str = "product_key",
    channel_col: str = "channel",
    date_col: str = "observed_at",
) -> pd.DataFrame:
    """Flag existing customers' prices above a prediction bound over the new-business price.

    For every existing customer's observation of a price metric the reference is the
    median of the new customers' values at the same touchpoint and metric, for the same
    product key and channel, observed within ``window_days`` calendar days before or
    after it (both ends inclusive; time of day is ignored), from at least
    ``min_reference_n`` of them. The observation lies above the bound when

        log(value) − log(reference) > z · s · sqrt(1 + π / (2k))

    with k the number of those new prices and s = 1.4826 × the median absolute deviation
    of their logs: a fair price drawn like the new ones exceeds it with probability
    about 5 % (z = 1.645), the π / (2k) term accounting for the median's own error. The
    tolerance only raises the bar: the value must also exceed reference × (1 + tolerance).

    A case is flagged only when, in addition, ``comparisons`` (the output of
    :func:`compare_groups`) flags the same touchpoint × metric overall or in one of the
    customer's segments (a column of ``obs`` named like the segment kind): a single price
    above the bound is no evidence of a penalty when the aggregate comparison finds none.

    Parameters
    ----------
    obs : pandas.DataFrame
        Observations, one row each. ``product_col`` and ``channel_col`` are optional:
        an absent column is simply not part of the like-for-like key.
    price_metrics : iterable
        ``(touchpoint, metric)`` tuples, or bare metric names meaning that metric at
        every touchpoint, e.g. ``[("renewal", "price"), "premium"]``.
    comparisons : pandas.DataFrame, optional
        Output of :func:`compare_groups` on the same observations. Without it no case is
        gated (each price is judged on its own; the app always passes it).
    window_days : int, default 30
        Half-width of the window in calendar days, inclusive.
    tolerance : float, default 0.0
        Relative margin above the reference that is still accepted (0.02 = 2 %); it can
        only raise the prediction bound, never lower it.
    z : float, default 1.645
        Normal quantile of the one-sided prediction bound.
    min_reference_n : int, default 3
        Fewest new-customer prices a reference needs; with fewer the case gets the
        reason ``'too_few_references'`` and no verdict.
    match_missing : bool, default True
        How a missing product key or channel is treated. True: "missing" is a value of
        its own, so an observation without channel is compared with new-business prices
        without channel only. False: such observations get no verdict
        (reason ``'missing_key'``) and such new-business prices serve as no reference.

    Returns
    -------
    pandas.DataFrame
        The existing customers' price observations (original index and columns) plus
        ``reference_price`` (float, NaN without reference), ``reference_n`` (new prices
        in the window), ``reference_spread`` (s), ``limit_price`` (the price above which
        the observation lies above the bound), ``excess`` (value − reference, signed, in
        the value's unit), ``excess_pct`` (excess / reference), ``above_bound`` (bool),
        ``comparison_flagged`` (bool: the gate), ``flagged`` (both) and ``reason`` (None
        when a verdict was reached, else a key of :data:`CASE_REASONS`).

    Notes
    -----
    Cost is O(N log N): observations are grouped by (touchpoint, metric, product,
    channel), new-business prices sorted by day, and the window bounds for each distinct
    (group, day) of the existing customers found with ``searchsorted``; window medians
    are computed in vectorised chunks, never in a loop per observation.
    """
    if window_days < 0:
        raise ValueError("window_days must be >= 0.")
    if tolerance < 0:
        raise ValueError("tolerance must be >= 0 (a relative margin, 0.05 = 5 %).")
    if z < 0:
        raise ValueError("z must be >= 0 (1.645 for a one-sided 95 % bound).")
    if min_reference_n < 1:
        raise ValueError("min_reference_n must be at least 1.")
    require_columns(obs, [touchpoint_col, metric_col, value_col, status_col, date_col],
                    "observations")
    key_cols = [touchpoint_col, metric_col] + [c for c in (product_col, channel_col)
                                               if c in obs.columns]
    like_cols = key_cols[2:]

    frame = obs.loc[metric_mask(obs, price_metrics, touchpoint_col, metric_col,
                                "price_metrics")]
    status = normalise_status(frame[status_col]) if len(frame) else np.array([], dtype=object)
    values = numeric_values(frame[value_col])
    days, date_ok = day_numbers(frame[date_col])
    group = group_codes(frame, key_cols)
    if match_missing or not like_cols:
        key_ok = np.ones(len(frame), dtype=bool)
    else:
        key_ok = frame[like_cols].notna().all(axis=1).to_numpy()
    value_ok = ~np.isnan(values)

    is_new = status == "new"
    is_existing = ~is_new
    ref_mask = is_new & value_ok & date_ok & key_ok
    out = frame.loc[is_existing].copy()
    ex_pos = np.flatnonzero(is_existing)
    query_ok = value_ok[ex_pos] & date_ok[ex_pos] & key_ok[ex_pos]

    reference = np.full(len(ex_pos), np.nan)
    spread = np.full(len(ex_pos), np.nan)
    reference_n = np.zeros(len(ex_pos), dtype="int64")
    if ref_mask.any() and query_ok.any():
        d_min = int(min(days[ref_mask].min(), days[ex_pos[query_ok]].min()))
        d_max = int(max(days[ref_mask].max(), days[ex_pos[query_ok]].max()))
        # One sortable int64 per (group, day); groups are spaced further apart than any
        # window can reach, so a window never spills into the neighbouring group.
        span = (d_max - d_min) + 2 * window_days + 2
        ref_key = group[ref_mask].astype("int64") * span + (days[ref_mask] - d_min)
        order = np.argsort(ref_key, kind="stable")
        ref_key = ref_key[order]
        ref_values = values[ref_mask][order]

        q_pos = ex_pos[query_ok]
        q_key = group[q_pos].astype("int64") * span + (days[q_pos] - d_min)
        unique_key, inverse = np.unique(q_key, return_inverse=True)
        lo = np.searchsorted(ref_key, unique_key - window_days, side="left")
        hi = np.searchsorted(ref_key, unique_key + window_days, side="right")
        medians, log_mads = _window_medians(ref_values, lo, hi, with_log_mad=True)
        reference[query_ok] = medians[inverse]
        spread[query_ok] = 1.4826 * log_mads[inverse]
        reference_n[query_ok] = (hi - lo)[inverse]

    ex_values = values[ex_pos]
    enough = reference_n >= min_reference_n
    reference = np.where(enough, reference, np.nan)
    excess = ex_values - reference
    with np.errstate(divide="ignore", invalid="ignore"):
        excess_pct = np.where(reference != 0, excess / np.abs(reference), np.nan)
        bound = z * spread * np.sqrt(1 + np.pi / (2 * np.maximum(reference_n, 1)))
        factor = np.maximum(np.exp(bound), 1 + tolerance)
        limit = np.where(reference > 0, reference * factor, reference * (1 + tolerance))
    above = enough & ((ex_values - limit) > _REL_EPS * np.maximum(np.abs(limit), 1.0))
    gate = (_comparison_gate(out, comparisons, touchpoint_col, metric_col)
            if comparisons is not None else np.ones(len(ex_pos), dtype=bool))

    reason = np.full(len(ex_pos), None, dtype=object)
    reason[(reference_n > 0) & ~enough] = "too_few_references"
    reason[reference_n == 0] = "no_reference"
    reason[~key_ok[ex_pos]] = "missing_key"
    reason[~date_ok[ex_pos]] = "missing_date"
    reason[~value_ok[ex_pos]] = "missing_value"

    out["reference_price"] = reference
    out["reference_n"] = reference_n
    out["reference_spread"] = np.where(enough, spread, np.nan)
    out["limit_price"] = np.where(enough, limit, np.nan)
    out["excess"] = excess
    out["excess_pct"] = excess_pct
    out["above_bound"] = above
    out["comparison_flagged"] = gate
    out["flagged"] = above & gate
    out["reason"] = reason
    return out


def _comparison_gate(cases: pd.DataFrame, comparisons: pd.DataFrame, touchpoint_col: str,
                     metric_col: str) -> np.ndarray:
    """True where the case's touchpoint × metric is flagged overall or in its segment."""
    require_columns(comparisons, ["touchpoint", "metric", "segment_kind", "segment", "flagged"],
                    "comparisons")
    flagged = comparisons[comparisons["flagged"].eq(True)]
    gate = np.zeros(len(cases), dtype=bool)
    if flagged.empty or cases.empty:
        return gate
    pairs = pd.MultiIndex.from_arrays([cases[touchpoint_col].astype(object),
                                       cases[metric_col].astype(object)])
    for (kind, segment), rows in flagged.groupby(["segment_kind", "segment"], sort=False):
        on = pairs.isin(list(zip(rows["touchpoint"], rows["metric"])))
        if kind == OVERALL:
            gate |= on
        elif kind in cases.columns:
            gate |= on & (cases[kind].astype(object) == segment).to_numpy()
    return gate


def _window_medians(values: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                    with_log_mad: bool = False):
    """Median of ``values[lo[i]:hi[i]]`` for every i, vectorised in chunks.

    Windows are padded with +inf to a rectangle, sorted row-wise, and the middle
    element(s) picked. Rows are processed by ascending length so the padding stays
    small; each chunk holds at most ``_MAX_CELLS`` cells. With ``with_log_mad`` also the
    median absolute deviation of the windows' log values (positive values only).
    """
    length = hi - lo
    out = np.full(len(length), np.nan)
    mad = np.full(len(length), np.nan)
    order = np.argsort(length, kind="stable")
    sorted_len = length[order]
    start = int(np.searchsorted(sorted_len, 1))  # windows without values stay NaN
    last = len(values) - 1
    while start < len(order):
        stop = min(len(order), start + max(1, _MAX_CELLS // max(int(sorted_len[start]), 1)))
        # shrink until rows × widest window fits the budget
        rows = np.arange(1, stop - start + 1)
        fits = rows * sorted_len[start:stop] <= _MAX_CELLS
        stop = start + max(1, int(np.count_nonzero(fits)))
        idx = order[start:stop]
        width = int(sorted_len[stop - 1])
        cols = np.arange(width)
        padding = cols >= length[idx, None]
        block = values[np.minimum(lo[idx, None] + cols, last)]
        block[padding] = np.inf
        block.sort(axis=1)
        out[idx] = _middle(block, length[idx])
        if with_log_mad:
            with np.errstate(divide="ignore", invalid="ignore"):
                logs = np.log(np.where(padding, 1.0, block))
            centre = _middle(np.where(padding, np.inf, logs), length[idx])
            deviation = np.abs(logs - centre[:, None])
            deviation[padding] = np.inf
            deviation.sort(axis=1)
            mad[idx] = _middle(deviation, length[idx])
        start = stop
    return (out, mad) if with_log_mad else out


def _middle(sorted_block: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Median of each row's first n values (rows sorted ascending)."""
    r = np.arange(len(n))
    return 0.5 * (sorted_block[r, (n - 1) // 2] + sorted_block[r, n // 2])


def total_excess(
    cases: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    excess_col: str = "excess",
    flagged_col: str = "flagged",
):
    """Total excess paid in flagged cases, overall (a float) or per group (a frame).

    Parameters
    ----------
    cases : pandas.DataFrame
        Output of :func:`case_flags`.
    by : str or list of str, optional
        Columns to group by (e.g. ``["touchpoint", "metric"]``); missing group values
        are kept as a group of their own.

    Returns
    -------
    float or pandas.DataFrame
        Without ``by``: the sum of ``excess`` over flagged cases. With ``by``: one row
        per group with ``n_cases`` (cases with a verdict), ``n_flagged`` and
        ``total_excess``.
    """
    require_columns(cases, [excess_col, flagged_col], "cases")
    flagged = cases[flagged_col].eq(True)
    if by is None:
        return float(cases.loc[flagged, excess_col].sum())
    by = [by] if isinstance(by, str) else list(by)
    require_columns(cases, by, "cases")
    work = cases[by].copy()
    work["_has_verdict"] = cases[excess_col].notna()
    work["_flagged"] = flagged
    work["_excess"] = cases[excess_col].where(flagged, 0.0)
    grouped = work.groupby(by, dropna=False, sort=True, observed=True)
    return pd.DataFrame({
        "n_cases": grouped["_has_verdict"].sum().astype("int64"),
        "n_flagged": grouped["_flagged"].sum().astype("int64"),
        "total_excess": grouped["_excess"].sum().astype("float64"),
    }).reset_index()


#: The assumptions behind the two cost figures, in words (shown beside them).
EXCESS_ASSUMPTIONS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "observed": MappingProxyType({
        "en": "Excess observed: the sum, over the flagged cases in this sample, of the price "
              "paid minus the new-business reference. It covers only the prices logged in "
              "the audit, not the year.",
        "de": "Beobachteter Mehrbetrag: Summe über die markierten Fälle dieser Stichprobe "
              "(gezahlter Preis minus Neukunden-Referenz). Er umfasst nur die im Audit "
              "erfassten Preise, nicht das Jahr.",
    }),
    "year": MappingProxyType({
        "en": "Excess a year, estimated: the relative gap (with its 95 % interval) applied to "
              "the typical existing-customer price, times the yearly number of such "
              "transactions (default: the segment's existing customers, one transaction "
              "each a year). It assumes the sample's gap holds for all of them.",
        "de": "Mehrbetrag pro Jahr, geschätzt: die relative Lücke (mit 95-%-Intervall) auf den "
              "typischen Bestandskundenpreis angewandt, mal die Zahl solcher Vorgänge im Jahr "
              "(Standard: die Bestandskunden des Segments, je ein Vorgang im Jahr). "
              "Angenommen ist, dass die Lücke der Stichprobe für alle gilt.",
    }),
})


def excess_observed(
    cases: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    excess_col: str = "excess",
    flagged_col: str = "flagged",
):
    """Excess observed "in this sample": the sum of the excess over the flagged cases.

    Same figures as :func:`total_excess`; the name says what it is not — an estimate for
    the year (see :func:`excess_per_year` and :data:`EXCESS_ASSUMPTIONS`).
    """
    return total_excess(cases, by, excess_col=excess_col, flagged_col=flagged_col)


def excess_per_year(
    comparisons: pd.DataFrame,
    price_metrics: Iterable,
    volumes: Mapping | None = None,
    segment_sizes: Mapping[tuple[str, object], float] | None = None,
) -> pd.DataFrame:
    """Excess a year, estimated, for the flagged price comparisons (money, relative gap).

    Per flagged row of :func:`compare_groups` whose metric is a price (kind 'ratio'):
    with g the relative gap (``effect`` / 100) and P the typical existing-customer price
    (``median_existing``), an existing customer pays P · g / (1 + g) more than the
    new-business price for the same product; times the yearly volume of such
    transactions. The interval uses the gap's interval (ci_low, ci_high), the price and
    volume held fixed.

    Parameters
    ----------
    comparisons : pandas.DataFrame
        Output of :func:`compare_groups`.
    price_metrics : iterable
        ``(touchpoint, metric)`` tuples or metric names of prices.
    volumes : mapping, optional
        Transactions a year, set by the manager: ``{(touchpoint, metric): n}`` (whole
        customer base; a segment gets its share by customers) or
        ``{(touchpoint, metric, segment_kind, segment): n}``.
    segment_sizes : mapping, optional
        ``{(segment_kind, segment): existing customers}`` from the latest segmentation,
        with ``('overall', 'all')`` for all of them: the default volume (one transaction
        a customer a year). Without it the customers in the sample are the volume.

    Returns
    -------
    pandas.DataFrame
        touchpoint, metric, segment_kind, segment, ``typical_price, gap, gap_low,
        gap_high`` (shares), ``volume, volume_source`` ('set', 'segmentation' or
        'sample'), ``excess_year, excess_year_low, excess_year_high``.
    """
    require_columns(comparisons, ["touchpoint", "metric", "segment_kind", "segment", "flagged",
                                  "statistic", "effect", "ci_low", "ci_high",
                                  "median_existing", "n_customers"], "comparisons")
    columns = ["touchpoint", "metric", "segment_kind", "segment", "typical_price", "gap",
               "gap_low", "gap_high", "volume", "volume_source", "excess_year",
               "excess_year_low", "excess_year_high"]
    volumes, sizes = dict(volumes or {}), dict(segment_sizes or {})
    priced = metric_mask(comparisons, price_metrics, "touchpoint", "metric", "price_metrics")
    rows = comparisons[priced & comparisons["flagged"].eq(True).to_numpy()
                       & (comparisons["statistic"] == "hodges_lehmann_log").to_numpy()]
    out = []
    for row in rows.to_dict("records"):
        volume, source = _yearly_volume(row, volumes, sizes)
        gaps = np.array([row["effect"], row["ci_low"], row["ci_high"]], dtype=float) / 100
        per_transaction = row["median_existing"] * gaps / (1 + gaps)
        out.append(dict(
            {k: row[k] for k in ("touchpoint", "metric", "segment_kind", "segment")},
            typical_price=row["median_existing"], gap=gaps[0], gap_low=gaps[1], gap_high=gaps[2],
            volume=volume, volume_source=source, excess_year=per_transaction[0] * volume,
            excess_year_low=per_transaction[1] * volume,
            excess_year_high=per_transaction[2] * volume,
        ))
    return pd.DataFrame(out, columns=columns)


def _yearly_volume(row: dict, volumes: dict, sizes: dict) -> tuple[float, str]:
    """Transactions a year for one comparison row, and where the number comes from."""
    tp, metric, kind, segment = row["touchpoint"], row["metric"], row["segment_kind"], row["segment"]
    if (tp, metric, kind, segment) in volumes:
        return float(volumes[(tp, metric, kind, segment)]), "set"
    if (tp, metric) in volumes:
        total = float(volumes[(tp, metric)])
        if kind == OVERALL:
            return total, "set"
        whole = sizes.get((OVERALL, ALL_SEGMENTS))
        if whole and (kind, segment) in sizes:
            return total * sizes[(kind, segment)] / whole, "set"
    if (kind, segment) in sizes:
        return float(sizes[(kind, segment)]), "segmentation"
    return float(row["n_customers"]), "sample"


# ---------------------------------------------------------------- bootstrap medians

def _order_index_cdf(n: int, rank: int, j: np.ndarray) -> np.ndarray:
    """P(J <= j), J = index (1..n) of the ``rank``-th smallest of n draws from {1..n}.

    J <= j exactly when at least ``rank`` draws fall in {1..j}:
    P(Bin(n, j/n) >= rank) = I_{j/n}(rank, n - rank + 1), the regularised incomplete
    beta function.
    """
    return special.betainc(rank, n - rank + 1, j / n)


def bootstrap_median_draws(sorted_values: np.ndarray, size: int,
                           rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Bootstrap medians of a sorted sample, drawn from their exact distribution.

    Same distribution as ``np.median(rng.choice(x, len(x)))`` repeated ``size`` times,
    at a cost of O(sqrt(n) + size) instead of O(n · size): a resample's median is an
    order statistic of the sample, so only the index of that order statistic is drawn.

    * Odd n: the median is the resample's order statistic of rank m = (n+1)/2; its index
      J has P(J <= j) = P(Bin(n, j/n) >= m), sampled by inverse CDF.
    * Even n: the median is the mean of ranks k = n/2 and k+1 (as ``np.median``). J1 is
      drawn as above; given J1 = j, J2 = j with probability
      (P(J2 <= j) - P(J1 <= j-1) + P(N_{j-1} = k, no draw equals j)) / P(J1 = j), else
      the remaining n - k draws are uniform on {j+1..n} and J2 - j is the smallest of
      them, drawn by inverting P(J2 - j > t) = ((n - j - t) / (n - j))^(n - k).

    The index distribution is concentrated within a few sqrt(n)/2 of the middle, so the
    CDF is evaluated on ±12 standard deviations only (the mass outside is < 1e-30).

    Parameters
    ----------
    sorted_values : numpy.ndarray
        The sample, sorted ascending, at least one value.
    size : int
        Number of bootstrap medians.
    rng : numpy.random.Generator or int, optional
        Random source or seed.
    """
    x = np.asarray(sorted_values, dtype="float64")
    n = len(x)
    if n == 0:
        raise ValueError("cannot bootstrap the median of an empty sample.")
    rng = np.random.default_rng(rng)
    k = (n + 1) // 2 if n % 2 else n // 2
    spread = 12 * 0.5 * np.sqrt(n) + 3
    j = np.arange(max(0, int(np.floor(k - spread))), min(n, int(np.ceil(k + 1 + spread))) + 1)
    cdf1 = _order_index_cdf(n, k, j)
    cdf1[-1] = 1.0
    # first j with cdf >= u; j[0] has cdf ~0 (or is 0 itself), so never pick it
    pos = np.clip(np.searchsorted(cdf1, rng.random(size), side="left"), 1, len(j) - 1)
    j1 = j[pos]
    if n % 2:
        return x[j1 - 1]
    cdf2 = _order_index_cdf(n, k + 1, j)
    log_choose = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
    with np.errstate(divide="ignore"):
        log_none_at_j = (log_choose + k * np.log((j1 - 1) / n)
                         + (n - k) * np.log((n - j1) / n))
    p_j1 = cdf1[pos] - cdf1[pos - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        same = (cdf2[pos] - cdf1[pos - 1] + np.exp(log_none_at_j)) / p_j1
    same = np.clip(np.nan_to_num(same, nan=1.0), 0.0, 1.0)
    rest = n - j1
    step = np.ceil(rest * -np.expm1(np.log1p(-rng.random(size)) / (n - k)))
    j2 = np.where(rng.random(size) < same, j1,
                  j1 + np.clip(step, 1, np.maximum(rest, 1)).astype("int64"))
    j2 = np.minimum(j2, n)
    return 0.5 * (x[j1 - 1] + x[j2 - 1])


# ---------------------------------------------------------- stratified rank test

def _run_lengths(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start index and length of each run of equal values in a sorted array."""
    if len(sorted_values) == 0:
        return np.zeros(0, dtype="int64"), np.zeros(0, dtype="float64")
    starts = np.concatenate(([0], np.flatnonzero(np.diff(sorted_values)) + 1))
    lengths = np.diff(np.concatenate((starts, [len(sorted_values)])))
    return starts, lengths.astype("float64")


class _RankReference:
    """The new customers of one metric, keyed by (stratum, rank of value), sorted once.

    Keys are ``stratum * n_ranks + rank`` with the dense rank of the value among all
    observations of the metric, so one ``searchsorted`` answers "how many new customers
    of the same stratum have a lower / equal value" for every existing observation.
    """

    def __init__(self, keys: np.ndarray, n_ranks: int, n_strata: int):
        self.keys = np.sort(keys)
        self.n_ranks, self.n_strata = n_ranks, n_strata
        self.start = np.searchsorted(self.keys, np.arange(n_strata) * n_ranks)
        self.counts = np.bincount(self.keys // n_ranks, minlength=n_strata)
        starts, lengths = _run_lengths(self.keys)
        self.tie_term = np.bincount(self.keys[starts] // n_ranks, lengths ** 3 - lengths,
                                    minlength=n_strata)


def _stratified_rank_p(existing_keys: np.ndarray, ref: _RankReference,
                       raw_existing: np.ndarray | None = None,
                       raw_new: np.ndarray | None = None) -> float:
    """Two-sided p of the stratified Mann–Whitney (van Elteren) test.

    Each stratum contributes its Mann–Whitney U (existing vs new), weighted by
    1 / (N_s + 1); strata holding only one group contribute nothing, so product mix
    cannot create a difference. With a single stratum this is exactly
    ``scipy.stats.mannwhitneyu(..., alternative='two-sided')`` with its normal
    approximation, tie and continuity correction; samples below 8 go to scipy itself
    (``raw_existing`` / ``raw_new``), which may then use the exact distribution.
    """
    ek = np.sort(existing_keys)
    s_of = ek // ref.n_ranks
    left = np.searchsorted(ref.keys, ek, side="left")
    right = np.searchsorted(ref.keys, ek, side="right")
    equal = (right - left).astype("float64")
    below = (left - ref.start[s_of]).astype("float64")
    S = ref.n_strata
    n_e = np.bincount(s_of, minlength=S).astype("float64")
    n_n = ref.counts.astype("float64")
    used = (n_e > 0) & (n_n > 0)
    if not used.any():
        return np.nan
    if used.sum() == 1 and min(n_e[used][0], n_n[used][0]) < 8 and raw_existing is not None:
        return float(stats.mannwhitneyu(raw_existing, raw_new,
                                        alternative="two-sided").pvalue)
    u = np.bincount(s_of, below + 0.5 * equal, minlength=S)
    # ties in the pooled stratum: (a+b)^3-(a+b) = (a^3-a) + (b^3-b) + 3ab(a+b)
    starts, b = _run_lengths(ek)
    a = equal[starts]
    tie_term = ref.tie_term + np.bincount(s_of[starts], b ** 3 - b + 3 * a * b * (a + b),
                                          minlength=S)
    n_e, n_n, u, tie_term = n_e[used], n_n[used], u[used], tie_term[used]
    n = n_e + n_n
    variance = n_e * n_n / 12 * ((n + 1) - tie_term / (n * (n - 1)))
    weight = 1 / (n + 1)
    spread = float(np.sqrt(np.sum(weight ** 2 * variance)))
    if spread <= 0:
        return 1.0  # every value tied within its stratum: no evidence of a difference
    deviation = abs(float(np.sum(weight * (u - n_e * n_n / 2))))
    if len(n) == 1:
        deviation -= 0.5 * weight[0]  # continuity correction, as scipy
    return float(min(1.0, 2 * special.ndtr(-deviation / spread)))


# ----------------------------------------------------------------- compare groups

#: Materiality by kind of metric, in the unit of its effect: 5 % for money and durations
#: (relative shift), 0.25 points for ratings, 3 percentage points for yes/no; a shift in
#: the metric's own unit (metrics with negative values) needs 5 % of the reference level.
DEFAULT_MATERIALITY: Mapping[str, float] = MappingProxyType({
    "ratio": 5.0, "mean": 0.25, "proportion": 3.0, "shift": 0.05,
})

#: Unit of the effect per kind of metric; 'units' is the metric's own unit.
EFFECT_UNITS: Mapping[str, str] = MappingProxyType({
    "ratio": "%", "mean": "points", "proportion": "pp", "shift": "units",
})

#: Why a comparison carries a warning (and is never flagged).
COMPARISON_WARNINGS: Mapping[str, str] = MappingProxyType({
    "product_mix_not_controlled": "a price metric without product keys is compared pooled: "
                                  "a difference may come from the product mix",
})

_STATISTICS = {"ratio": "hodges_lehmann_log", "shift": "hodges_lehmann", "mean": "mean",
               "proportion": "proportion"}


def compare_groups(
    obs: pd.DataFrame,
    directions: Mapping[tuple[str, str], str],
    segment_kinds: Sequence[str] = (),
    *,
    min_n: int = 10,
    alpha: float = 0.05,
    materiality: float | Mapping[str, float] | None = None,
    materiality_abs: Mapping[tuple[str, str], float] | None = None,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 20240101,
    statistic: str | Mapping[tuple[str, str], str] = "auto",
    adjustment: str | Mapping[tuple[str, str], str] = "auto",
    min_stratum_n: int = 5,
    severity: Mapping[str, Mapping[str, float]] = DEFAULT_SEVERITY,
    like_for_like: Sequence[str] | None = None,
    price_metrics: Iterable | None = None,
    touchpoint_col: str = "touchpoint",
    metric_col: str = "metric",
    value_col: str = "value",
    status_col: str = "customer_status",
    customer_col: str = "customer_id",
    product_col: str = "product_key",
    channel_col: str = "channel",
) -> pd.DataFrame:
    """Compare existing with new customers per touchpoint × metric × segment.

    For each touchpoint and metric there is one comparison of all existing customers
    (``segment_kind='overall'``, ``segment='all'``) and one per value of every segment
    kind. The reference is always the new customers at that touchpoint and metric,
    whatever segment they may carry (new customers usually have none yet).

    One value per customer: a customer's repeated observations in a stratum are replaced
    by their median (the mean for ratings and yes/no) before anything is tested; new
    customers without an id count as one customer per observation.

    Like for like: the strata are the combinations of the ``like_for_like`` columns
    (default product key and channel, where present; a missing value is a stratum of its
    own). A comparison keeps the strata holding existing customers and at least
    ``min_stratum_n`` new customers.

    One estimand per kind of metric (``statistic``), positive = worse for the customer:

    ========== ======================================= ============================ ======
    kind       effect                                  test, interval               unit
    ========== ======================================= ============================ ======
    ratio      Hodges–Lehmann shift of log values      van Elteren; interval by     %
               (money, durations), as a percentage     inverting the same test
    shift      Hodges–Lehmann shift of the values      as ratio                     units
    mean       difference of means (ratings 1–5)       Welch t                      points
    proportion difference of shares (yes/no)           Cochran–Mantel–Haenszel;     pp
                                                       Newcombe from stratified
                                                       Wilson limits
    ========== ======================================= ============================ ======

    Differences across strata are weighted by the existing customers' strata (direct
    standardisation) for means and shares, by 1 / (N_s + 1) for the rank statistics.

    Parameters
    ----------
    obs : pandas.DataFrame
        Observations with touchpoint, metric, value, customer status, and optionally
        customer id, product key, channel and the segment columns.
    directions : mapping
        ``{(touchpoint, metric): 'lower' | 'higher'}`` — which way is better for the
        customer. Every pair in ``obs`` needs one. For yes/no metrics it names which
        answer is good, so coding "resolved" or "unresolved" gives the same verdict.
    segment_kinds : sequence of str
        Segment columns, e.g. ``["abc", "potential", "tier"]``. An existing customer
        without a value of a kind is part of the overall comparison only.
    min_n : int, default 10
        Minimum customers in each group (after the like-for-like restriction). Below
        it the status is ``'insufficient_data'``: medians and effect are shown, but there
        is no test, no interval, no part in the correction and never a flag.
    alpha : float, default 0.05
        Level for the Benjamini–Hochberg adjusted p-value.
    materiality : float or mapping, optional
        Minimum effect. Default :data:`DEFAULT_MATERIALITY` (per kind, in the effect's
        unit). A mapping overrides kinds; a float is the relative minimum for money,
        durations and shifts (0.05 = 5 %).
    materiality_abs : mapping, optional
        ``{(touchpoint, metric): minimum effect in the unit of its effect}``; replaces
        the default for those pairs (e.g. 10 for 10 %, 0.5 for half a point).
    n_boot, seed : int
        Accepted for compatibility; the intervals are computed without resampling.
    confidence : float, default 0.95
        Level of the interval.
    statistic : {'auto', 'ratio', 'shift', 'mean', 'proportion', 'median'} or mapping
        Kind of metric. ``'auto'``: 'proportion' when all values are 0/1, 'mean' when all
        are whole numbers from 1 to 5, 'ratio' when none is negative, else 'shift'.
        ``'median'`` means 'ratio' or 'shift' as ``adjustment`` says.
    adjustment : {'auto', 'ratio', 'difference'} or mapping
        For ``statistic='median'``: 'ratio' → kind 'ratio', 'difference' → 'shift'.
    min_stratum_n : int, default 5
        Fewest new customers a stratum needs to serve as a reference.
    severity : mapping
        Severity thresholds, see :data:`DEFAULT_SEVERITY`.
    like_for_like : sequence of str, optional
        Columns that define the strata; ``[]`` compares pooled values.
    price_metrics : iterable, optional
        ``(touchpoint, metric)`` tuples or metric names of prices. A price needs a
        product key: observations without one serve as no reference and are not
        compared (``n_existing_unmatched``); a price metric without any product key (or
        without ``product_col`` among the strata) is compared pooled with
        ``warning='product_mix_not_controlled'`` and never flagged.

    Returns
    -------
    pandas.DataFrame
        One row per comparison: ``touchpoint, metric, segment_kind, segment,
        direction, statistic, effect_unit, n_new, n_existing`` (customers compared),
        ``n_customers`` (distinct existing customers), ``n_obs_new, n_obs_existing``
        (their observations), ``n_existing_unmatched`` (existing customers without a
        like-for-like reference), ``n_strata, median_new, median_existing`` (plain
        medians of the customers' values; means for ratings and yes/no),
        ``reference_level`` (the new customers' level in the existing customers' strata
        mix), ``effect, ci_low, ci_high, threshold`` (in ``effect_unit``), ``effect_rel``
        (effect as a share of the reference level; for yes/no the difference of shares),
        ``effect_value`` (for kind 'ratio': the effect in the metric's unit at the
        reference level), ``p`` (two-sided test of the estimand), ``p_adjusted``
        (Benjamini–Hochberg over all tested rows), ``flagged, severity, status``
        (``'ok'`` or ``'insufficient_data'``), ``warning`` (None or a key of
        :data:`COMPARISON_WARNINGS`) and, for ratings, ``top2_new, top2_existing`` (share
        of customers rating 4 or 5; NaN for other kinds).

    Notes
    -----
    flagged = status 'ok' and no warning and p_adjusted < alpha and the interval
    excludes zero (ci_low > 0) and effect > threshold.
    """
    _check_settings(min_n, min_stratum_n, alpha, confidence, n_boot)
    kind_materiality = _materiality_by_kind(materiality)
    segment_kinds = [segment_kinds] if isinstance(segment_kinds, str) else list(segment_kinds)
    require_columns(obs, [touchpoint_col, metric_col, value_col, status_col] + segment_kinds,
                    "observations")
    if like_for_like is None:
        like_for_like = [c for c in (product_col, channel_col) if c in obs.columns]
    else:
        like_for_like = [like_for_like] if isinstance(like_for_like, str) \
            else list(like_for_like)
        require_columns(obs, like_for_like, "observations")
    materiality_abs = dict(materiality_abs or {})
    _check_directions(directions)

    values = numeric_values(obs[value_col])
    status = normalise_status(obs[status_col]) if len(obs) else np.array([], dtype=object)
    is_new = status == "new"
    stratum = group_codes(obs, like_for_like)
    if customer_col in obs.columns:
        customer = pd.factorize(obs[customer_col], use_na_sentinel=True)[0]
    else:
        customer = np.full(len(obs), -1)
    segment_codes = {kind: pd.factorize(obs[kind], sort=True, use_na_sentinel=True)
                     for kind in segment_kinds}
    is_price = (metric_mask(obs, price_metrics, touchpoint_col, metric_col, "price_metrics")
                if price_metrics is not None else np.zeros(len(obs), dtype=bool))
    has_product = (obs[product_col].notna().to_numpy() if product_col in obs.columns
                   else np.zeros(len(obs), dtype=bool))

    groups = obs.groupby([touchpoint_col, metric_col], sort=True, observed=True).indices
    unknown = [key for key in groups if key not in directions]
    if unknown:
        raise ValueError(
            f"no direction for {unknown[:5]}; add them to directions as "
            "{(touchpoint, metric): 'lower' or 'higher'}."
        )

    settings = _Settings(confidence=confidence, min_n=min_n, min_stratum_n=min_stratum_n)
    rows = []
    for (touchpoint, metric), positions in groups.items():
        positions = positions[~np.isnan(values[positions])]
        direction = directions[(touchpoint, metric)]
        kind = _metric_kind(statistic, adjustment, touchpoint, metric, values[positions])
        warning, needs_product = None, False
        if len(positions) and is_price[positions[0]]:
            if product_col in like_for_like and has_product[positions].any():
                needs_product = True
            else:
                warning = "product_mix_not_controlled"
        units = _customer_units(positions, values, stratum, customer, is_new, kind,
                                has_product if needs_product else None)
        context = _MetricContext(settings, units, kind, 1.0 if direction == "lower" else -1.0)
        comparisons = [(OVERALL, ALL_SEGMENTS, np.flatnonzero(~units.is_new))]
        for seg_kind in segment_kinds:
            codes, uniques = segment_codes[seg_kind]
            unit_codes = codes[units.first]
            for code in np.unique(unit_codes[(~units.is_new) & (unit_codes >= 0)]):
                comparisons.append((seg_kind, uniques[code], np.flatnonzero(unit_codes == code)))
        for seg_kind, segment, members in comparisons:
            row = context.compare(members)
            row.update(touchpoint=touchpoint, metric=metric, direction=direction,
                       segment_kind=seg_kind, segment=segment, warning=warning,
                       threshold=_threshold(kind, kind_materiality,
                                            materiality_abs.get((touchpoint, metric)),
                                            row["reference_level"]))
            rows.append(row)

    return _adjust_and_flag(pd.DataFrame(rows, columns=_COMPARISON_COLUMNS), alpha, severity)


def _check_settings(min_n, min_stratum_n, alpha, confidence, n_boot) -> None:
    """Refuse settings no comparison can use, with the fix in the message."""
    if min_n < 1:
        raise ValueError("min_n must be at least 1.")
    if min_stratum_n < 1:
        raise ValueError("min_stratum_n must be at least 1.")
    if not 0 < alpha < 1:
        raise ValueError("alpha must lie between 0 and 1, e.g. 0.05.")
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie between 0 and 1, e.g. 0.95.")
    if n_boot < 100:
        raise ValueError("n_boot must be at least 100.")


def _materiality_by_kind(materiality) -> dict[str, float]:
    """The materiality per kind: defaults, a float for the relative kinds, or a mapping."""
    out = dict(DEFAULT_MATERIALITY)
    if materiality is None:
        return out
    if isinstance(materiality, Mapping):
        unknown = set(materiality) - set(out)
        if unknown:
            raise ValueError(f"materiality names unknown kinds {sorted(unknown)}; "
                             f"use {sorted(out)}.")
        out.update({k: float(v) for k, v in materiality.items()})
    else:
        out.update(ratio=100 * float(materiality), shift=float(materiality))
    if any(v < 0 for v in out.values()):
        raise ValueError("materiality must be >= 0.")
    return out


def _threshold(kind, by_kind, absolute, reference_level) -> float:
    """Materiality of one comparison in the unit of its effect."""
    if absolute is not None:
        return float(absolute)
    if kind == "shift":
        return by_kind["shift"] * abs(reference_level) if np.isfinite(reference_level) else np.nan
    return by_kind[kind]


def _metric_kind(statistic, adjustment, touchpoint, metric, metric_values) -> str:
    """The kind of metric: 'ratio', 'shift', 'mean' or 'proportion'."""
    choice = _choose(statistic, touchpoint, metric,
                     ("auto", "ratio", "shift", "mean", "proportion", "median"))
    binary = bool(len(metric_values)) and bool(np.isin(metric_values, (0.0, 1.0)).all())
    non_negative = bool((metric_values >= 0).all()) and bool((metric_values > 0).any())
    if choice == "proportion" and not binary:
        raise ValueError(f"statistic 'proportion' needs 0/1 values; "
                         f"{(touchpoint, metric)} has others. Use 'ratio' or 'mean'.")
    if choice == "median":
        scale = _choose(adjustment, touchpoint, metric, ("auto", "ratio", "difference"))
        choice = "shift" if scale == "difference" or (scale == "auto" and not non_negative) \
            else "ratio"
    if choice == "auto":
        rating = bool(len(metric_values)) and bool(
            (np.isin(metric_values, (1.0, 2.0, 3.0, 4.0, 5.0))).all())
        choice = ("proportion" if binary else "mean" if rating
                  else "ratio" if non_negative else "shift")
    if choice == "ratio" and not non_negative:
        raise ValueError(f"kind 'ratio' needs values >= 0 (not all 0); {(touchpoint, metric)} "
                         "has negative ones. Use 'shift'.")
    return choice


def _adjust_and_flag(result: pd.DataFrame, alpha, severity, p_adjusted: np.ndarray | None = None) -> pd.DataFrame:
    """Benjamini–Hochberg over the tested rows (or the ``p_adjusted`` of a larger family the
    rows belong to, see :func:`audits.paired.adjust_jointly`), the flag and its severity."""
    if result.empty:
        return result.astype({"flagged": bool})
    tested = (result["status"] == "ok").to_numpy()
    if p_adjusted is None:
        p_adjusted = benjamini_hochberg(np.where(tested, result["p"].to_numpy(dtype=float), np.nan))
    with np.errstate(invalid="ignore"):
        flagged = (tested
                   & np.array([w is None for w in result["warning"]], dtype=bool)
                   & (p_adjusted < alpha)
                   & (result["ci_low"].to_numpy(dtype=float) > 0)
                   & (result["effect"].to_numpy(dtype=float)
                      > result["threshold"].to_numpy(dtype=float)))
    levels = severity_of(result["effect_rel"].to_numpy(dtype=float),
                         result["n_customers"].to_numpy(dtype=float), severity)
    result["p_adjusted"] = p_adjusted
    result["flagged"] = flagged
    result["severity"] = np.where(flagged, levels, None)
    return result


_COMPARISON_COLUMNS = [
    "touchpoint", "metric", "segment_kind", "segment", "direction", "statistic", "effect_unit",
    "n_new", "n_existing", "n_customers", "n_obs_new", "n_obs_existing", "n_existing_unmatched",
    "n_strata", "median_new", "median_existing", "reference_level", "effect", "effect_rel",
    "effect_value", "threshold", "ci_low", "ci_high", "p", "p_adjusted", "flagged", "severity",
    "status", "warning", "top2_new", "top2_existing",
]


def _check_directions(directions: Mapping) -> None:
    if not isinstance(directions, Mapping):
        raise ValueError("directions must be a mapping {(touchpoint, metric): 'lower'|'higher'}.")
    bad = {k: v for k, v in directions.items() if v not in DIRECTIONS}
    if bad:
        raise ValueError(f"directions must be 'lower' or 'higher', got {bad}.")


def _choose(option, touchpoint, metric, allowed: tuple[str, ...]) -> str:
    choice = option.get((touchpoint, metric), "auto") if isinstance(option, Mapping) else option
    if choice not in allowed:
        raise ValueError(f"expected one of {allowed}, got {choice!r}.")
    return choice


class _Settings(NamedTuple):
    confidence: float
    min_n: int
    min_stratum_n: int


class _Units(NamedTuple):
    """One touchpoint × metric as one value per customer and stratum."""

    value: np.ndarray       # the customer's median (mean for ratings and yes/no)
    stratum: np.ndarray     # like-for-like stratum code
    customer: np.ndarray    # customer code, -1 without id
    is_new: np.ndarray
    n_obs: np.ndarray       # observations behind the value
    first: np.ndarray       # position of the customer's first observation (for segments)
    usable: np.ndarray      # False: a price without product key, no like-for-like reference


def _customer_units(positions, values, stratum, customer, is_new, kind,
                    has_product: np.ndarray | None) -> _Units:
    """Collapse repeated observations of a customer in a stratum to one value."""
    cust, strat, new = customer[positions], stratum[positions], is_new[positions]
    key = (cust.astype("int64") * (int(stratum.max()) + 1 if len(stratum) else 1)
           + strat) * 2 + new
    # observations without a customer id are customers of their own
    key = np.where(cust >= 0, key, -1 - np.arange(len(positions)))
    codes, _ = pd.factorize(key)
    grouped = pd.Series(values[positions]).groupby(codes, sort=True)
    value = (grouped.mean() if kind in ("mean", "proportion") else grouped.median()).to_numpy()
    n_obs = np.bincount(codes, minlength=len(value))
    _, first_local = np.unique(codes, return_index=True)
    first = positions[first_local]
    usable = has_product[first] if has_product is not None else np.ones(len(first), dtype=bool)
    return _Units(value, stratum[first], customer[first], is_new[first], n_obs, first, usable)


class _MetricContext:
    """One touchpoint × metric: the new customers' side, reused by all its segments."""

    def __init__(self, settings: _Settings, units: _Units, kind: str, sign: float):
        self.s, self.units, self.kind, self.sign = settings, units, kind, sign
        n_strata = int(units.stratum.max()) + 1 if len(units.stratum) else 1
        self.n_strata = n_strata
        self.new_idx = np.flatnonzero(units.is_new & units.usable)
        new_counts = np.bincount(units.stratum[self.new_idx], minlength=n_strata)
        self.eligible = new_counts >= settings.min_stratum_n
        self.scaled = units.value
        if kind == "ratio":
            with np.errstate(divide="ignore"):
                self.scaled = np.log(units.value)
        self.level = _stratum_levels(units.value[self.new_idx], units.stratum[self.new_idx],
                                     n_strata, kind)
        if kind in ("ratio", "shift"):
            unique, rank = np.unique(units.value, return_inverse=True)
            self.n_ranks = max(len(unique), 1)
            self.rank_key = units.stratum * self.n_ranks + rank.reshape(-1)
        self._cache: dict[bytes, tuple] = {}

    def _new_side(self, common: np.ndarray):
        key = common.tobytes()
        if key not in self._cache:
            members = self.new_idx[common[self.units.stratum[self.new_idx]]]
            ranks = (_RankReference(self.rank_key[members], self.n_ranks, self.n_strata)
                     if self.kind in ("ratio", "shift") else None)
            self._cache[key] = (members, ranks)
        return self._cache[key]

    def compare(self, members: np.ndarray) -> dict:
        u = self.units
        ex_all = members[~u.is_new[members]]
        ex_counts = np.bincount(u.stratum[ex_all[u.usable[ex_all]]], minlength=self.n_strata)
        common = (ex_counts > 0) & self.eligible
        kept = ex_all[u.usable[ex_all] & common[u.stratum[ex_all]]]
        new, ranks = self._new_side(common)
        n_new, n_ex = len(new), len(kept)
        ids = u.customer[kept]
        weights = ex_counts[common] / max(n_ex, 1)
        level = float(weights @ self.level[common]) if n_ex else np.nan
        centre = np.mean if self.kind in ("mean", "proportion") else np.median
        row = dict(
            statistic=_STATISTICS[self.kind], effect_unit=EFFECT_UNITS[self.kind],
            n_new=n_new, n_existing=n_ex,
            n_customers=int(len(np.unique(ids[ids >= 0])) + np.count_nonzero(ids < 0)),
            n_obs_new=int(u.n_obs[new].sum()), n_obs_existing=int(u.n_obs[kept].sum()),
            n_existing_unmatched=int(len(ex_all) - n_ex),
            n_strata=int(np.count_nonzero(common)),
            median_new=float(centre(u.value[new])) if n_new else np.nan,
            median_existing=float(centre(u.value[kept])) if n_ex else np.nan,
            reference_level=level, effect=np.nan, effect_rel=np.nan, effect_value=np.nan,
            ci_low=np.nan, ci_high=np.nan, p=np.nan, status="insufficient_data",
            top2_new=np.nan, top2_existing=np.nan,
        )
        if self.kind == "mean":  # the top-2-box share (4 or 5) beside the mean
            row.update(top2_new=float(np.mean(u.value[new] >= 4)) if n_new else np.nan,
                       top2_existing=float(np.mean(u.value[kept] >= 4)) if n_ex else np.nan)
        if n_ex == 0 or n_new == 0:
            return row
        compact = np.cumsum(common) - 1          # common strata renumbered 0 … k-1
        k = int(np.count_nonzero(common))
        ex_s, new_s = compact[u.stratum[kept]], compact[u.stratum[new]]
        tested = n_new >= self.s.min_n and n_ex >= self.s.min_n
        estimate = self._estimate(kept, ex_s, new, new_s, k, ranks, tested)
        row.update(self._in_units(estimate, level))
        if tested:
            row["status"] = "ok"
        else:
            row.update(ci_low=np.nan, ci_high=np.nan, p=np.nan)
        return row

    def _estimate(self, kept, ex_s, new, new_s, k, ranks, tested) -> Estimate:
        x, y = self.scaled[kept], self.scaled[new]
        if self.kind == "mean":
            return mean_difference(x, ex_s, y, new_s, k, self.s.confidence)
        if self.kind == "proportion":
            return share_difference(x, ex_s, y, new_s, k, self.s.confidence)
        if not tested:  # the point estimate only
            x_med = np.median(x) if len(x) else np.nan
            return Estimate(float(x_med - np.median(y)), np.nan, np.nan, np.nan)
        p = _stratified_rank_p(self.rank_key[kept], ranks, self.units.value[kept],
                               self.units.value[new])
        return shift_by_rank_inversion(x, ex_s, y, new_s, k, self.s.confidence, p)

    def _in_units(self, estimate: Estimate, level: float) -> dict:
        """Effect and interval in the effect's unit, positive = worse for the customer."""
        effect, low, high = (self.sign * estimate.effect, self.sign * estimate.low,
                             self.sign * estimate.high)
        low, high = min(low, high), max(low, high)
        if self.kind == "ratio":
            effect, low, high = (100 * np.expm1(v) for v in (effect, low, high))
            rel = effect / 100
            value = rel * level if np.isfinite(level) else np.nan
        elif self.kind == "proportion":
            effect, low, high = 100 * effect, 100 * low, 100 * high
            rel, value = effect / 100, np.nan
        else:
            rel = effect / abs(level) if level and np.isfinite(level) else np.nan
            value = np.nan
        if not np.isfinite(effect):  # e.g. more than half of a group at 0 on the log scale
            effect = rel = value = np.nan
        return dict(effect=float(effect) + 0.0, ci_low=float(low) + 0.0, ci_high=float(high) + 0.0,
                    p=estimate.p, effect_rel=float(rel), effect_value=float(value))


def _stratum_levels(values, strata, n_strata, kind) -> np.ndarray:
    """The new customers' level per stratum: median, mean (ratings) or share (yes/no)."""
    if kind in ("mean", "proportion"):
        counts = np.bincount(strata, minlength=n_strata)
        sums = np.bincount(strata, values, minlength=n_strata)
        return np.divide(sums, counts, out=np.full(n_strata, np.nan), where=counts > 0)
    return _stratum_medians(values, strata, n_strata)[0]


def _stratum_medians(values: np.ndarray, strata: np.ndarray, n_strata: int):
    """Median and count of ``values`` per stratum code (NaN where a stratum is empty)."""
    counts = np.bincount(strata, minlength=n_strata)
    order = np.lexsort((values, strata))
    ordered = values[order]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    medians = np.full(n_strata, np.nan)
    has = counts > 0
    lo = starts[has] + (counts[has] - 1) // 2
    hi = starts[has] + counts[has] // 2
    medians[has] = 0.5 * (ordered[lo] + ordered[hi])
    return medians, counts



# ---------------------------------------------------------------- tenure gradient

def tenure_gradient(
    obs: pd.DataFrame,
    price_metrics: Iterable,
    tenure_col: str = "tenure_years",
    *,
    min_n: int = 10,
    alpha: float = 0.05,
    min_slope: float = 0.01,
    by_product: bool = True,
    adjust: bool = True,
    max_points: int = 2000,
    seed: int = 20240101,
    touchpoint_col: str = "touchpoint",
    metric_col: str = "metric",
    value_col: str = "value",
    status_col: str = "customer_status",
    product_col: str = "product_key",
    customer_col: str = "customer_id",
) -> pd.DataFrame:
    """Test for "price walking": do existing customers' prices rise with tenure?

    Per touchpoint and metric, pooled over products: each price as its log relative to
    the median price of its product (existing customers, same touchpoint and metric),
    then one value per customer (the median of its relative log prices, and of its
    tenure), so a customer seen ten times counts once. Spearman's rank correlation
    between tenure and that value with its p-value, and the Theil–Sen slope with its
    95 % interval, as a relative change per year of tenure.

    Parameters
    ----------
    obs : pandas.DataFrame
        Observations; only existing customers with a positive value and a tenure are
        used. Observations without customer id count as customers of their own.
    price_metrics : iterable
        ``(touchpoint, metric)`` tuples or bare metric names, as in :func:`case_flags`.
    tenure_col : str, default 'tenure_years'
        Tenure in years (e.g. from the customer-since date).
    min_n : int, default 10
        Fewest customers per metric for a test; below: ``'insufficient_data'``.
    alpha : float, default 0.05
        Level for the (adjusted) p-value.
    min_slope : float, default 0.01
        Minimum relative rise per year of tenure for a flag (0.01 = 1 % a year).
    by_product : bool, default True
        Express prices relative to their product's median (when ``product_col`` exists),
        so a product held by long-standing customers does not pass for price walking.
    adjust : bool, default True
        Flag on Benjamini–Hochberg adjusted p-values across the metrics of this call;
        False flags on the raw p-value.
    max_points : int, default 2000
        Theil–Sen costs O(n²); above this many customers the slope is computed on a
        seeded random subsample of this size (``n_slope``, ``subsampled``). Spearman
        always uses all customers.

    Returns
    -------
    pandas.DataFrame
        One row per touchpoint and metric: ``n`` (customers), ``n_obs``, ``n_slope,
        subsampled, median_value`` (median price), ``rho, p, p_adjusted``,
        ``slope_rel, slope_rel_low, slope_rel_high`` (relative change per year and its
        interval), ``slope, slope_low, slope_high`` (the same in value units per year at
        the median price), ``flagged`` (adjusted p below alpha and slope_rel above
        ``min_slope``) and ``status`` (``'ok'``, ``'insufficient_data'``, ``'constant'``
        when tenure or value does not vary).
    """
    if min_n < 3:
        raise ValueError("min_n must be at least 3 for a rank correlation.")
    if max_points < 10:
        raise ValueError("max_points must be at least 10.")
    require_columns(obs, [touchpoint_col, metric_col, value_col, status_col, tenure_col],
                    "observations")
    frame = obs.loc[metric_mask(obs, price_metrics, touchpoint_col, metric_col,
                                "price_metrics")]
    status = normalise_status(frame[status_col]) if len(frame) else np.array([], dtype=object)
    values = numeric_values(frame[value_col])
    tenure = numeric_values(frame[tenure_col], "tenure")
    usable = (status == "existing") & (values > 0) & ~np.isnan(tenure)
    units = _tenure_units(frame.loc[usable], values[usable], tenure[usable], by_product,
                          touchpoint_col, metric_col, product_col, customer_col)

    rows = []
    for (touchpoint, metric), part in units.groupby(["tp", "metric"], sort=True,
                                                    observed=True):
        x, y = part["tenure"].to_numpy(), part["relative"].to_numpy()
        rows.append(_gradient_row(x, y, (touchpoint, metric), part, min_n, max_points, seed))

    columns = ["touchpoint", "metric", "n", "n_obs", "n_slope", "subsampled", "median_value",
               "rho", "p", "p_adjusted", "slope_rel", "slope_rel_low", "slope_rel_high",
               "slope", "slope_low", "slope_high", "flagged", "status"]
    result = pd.DataFrame(rows, columns=[c for c in columns if c not in ("p_adjusted", "flagged")])
    if result.empty:
        return pd.DataFrame(columns=columns).astype({"flagged": bool})
    result["p_adjusted"] = benjamini_hochberg(result["p"].to_numpy()) if adjust \
        else result["p"]
    result["flagged"] = ((result["status"] == "ok") & (result["p_adjusted"] < alpha)
                         & (result["slope_rel"] > min_slope)).astype(bool)
    return result[columns]


def _tenure_units(frame, values, tenure, by_product, touchpoint_col, metric_col,
                  product_col, customer_col) -> pd.DataFrame:
    """One row per customer and metric: median relative log price and median tenure."""
    work = pd.DataFrame({
        "tp": frame[touchpoint_col].to_numpy(), "metric": frame[metric_col].to_numpy(),
        "log": np.log(values), "value": values, "tenure": tenure,
    })
    if by_product and product_col in frame.columns:
        work["product"] = group_codes(frame, [product_col])
        reference = work.groupby(["tp", "metric", "product"], sort=False)["log"].transform("median")
        work["relative"] = work["log"] - reference
    else:
        work["relative"] = work["log"]
    if customer_col in frame.columns:
        customer = pd.factorize(frame[customer_col], use_na_sentinel=True)[0]
    else:
        customer = np.full(len(frame), -1)
    work["unit"] = np.where(customer >= 0, customer, -1 - np.arange(len(frame)))
    grouped = work.groupby(["tp", "metric", "unit"], sort=True)
    units = grouped[["relative", "tenure", "value"]].median()
    units["n_obs"] = grouped.size()
    return units.reset_index()


def _gradient_row(x, y, label, part, min_n, max_points, seed) -> dict:
    """Spearman and Theil–Sen on one metric's customers."""
    n = len(x)
    median_value = float(part["value"].median())
    row = dict(touchpoint=label[0], metric=label[1], n=n, n_obs=int(part["n_obs"].sum()),
               n_slope=0, subsampled=False, median_value=median_value, rho=np.nan, p=np.nan,
               slope_rel=np.nan, slope_rel_low=np.nan, slope_rel_high=np.nan, slope=np.nan,
               slope_low=np.nan, slope_high=np.nan, status="insufficient_data")
    if n < min_n:
        return row
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        row["status"] = "constant"
        return row
    rho, p = stats.spearmanr(x, y)
    xs, ys = x, y
    if n > max_points:
        pick = np.sort(stable_seed(seed, *label).choice(n, size=max_points, replace=False))
        xs, ys = x[pick], y[pick]
        if np.ptp(xs) == 0:  # a subsample can lose all tenure variation
            xs, ys = x, y
    slope, _, low, high = stats.theilslopes(ys, xs, alpha=0.95)
    rel = np.expm1([slope, low, high])
    row.update(n_slope=len(xs), subsampled=len(xs) < n, rho=float(rho), p=float(p),
               slope_rel=float(rel[0]), slope_rel_low=float(rel[1]), slope_rel_high=float(rel[2]),
               slope=float(rel[0] * median_value), slope_low=float(rel[1] * median_value),
               slope_high=float(rel[2] * median_value), status="ok")
    return row
