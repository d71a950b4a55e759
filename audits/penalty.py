"""Loyalty-penalty detection: do existing customers fare worse than new ones?

Three views on the same observations:

* :func:`case_flags` — case level, ENBP-style: each existing customer's price against the
  new-business price for the same product and channel around the same date.
* :func:`compare_groups` — aggregate level: existing customers (overall and per segment)
  against new customers per touchpoint and metric, with effect, bootstrap CI,
  Mann–Whitney U (stratified by product and channel), Benjamini–Hochberg, materiality
  and severity.
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

__all__ = [
    "DEFAULT_SEVERITY",
    "CASE_REASONS",
    "case_flags",
    "total_excess",
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
    window_days: int = 30,
    tolerance: float = 0.0,
    min_reference_n: int = 1,
    match_missing: bool = True,
    touchpoint_col: str = "touchpoint",
    metric_col: str = "metric",
    value_col: str = "value",
    status_col: str = "customer_status",
    product_col: str = "product_key",
    channel_col: str = "channel",
    date_col: str = "observed_at",
) -> pd.DataFrame:
    """Flag existing customers' prices above the equivalent new-business price.

    For every existing customer's observation of a price metric the reference is the
    median of the new customers' values at the same touchpoint and metric, for the same
    product key and channel, observed within ``window_days`` calendar days before or
    after it (both ends inclusive; time of day is ignored). The observation is flagged
    when ``value > reference × (1 + tolerance)``.

    Parameters
    ----------
    obs : pandas.DataFrame
        Observations, one row each. ``product_col`` and ``channel_col`` are optional:
        an absent column is simply not part of the like-for-like key.
    price_metrics : iterable
        ``(touchpoint, metric)`` tuples, or bare metric names meaning that metric at
        every touchpoint, e.g. ``[("renewal", "price"), "premium"]``.
    window_days : int, default 30
        Half-width of the window in calendar days, inclusive.
    tolerance : float, default 0.0
        Relative margin above the reference that is still accepted (0.02 = 2 %).
    min_reference_n : int, default 1
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
        in the window), ``excess`` (value − reference, signed, in the value's unit),
        ``excess_pct`` (excess / reference), ``flagged`` (bool) and ``reason`` (None when
        a verdict was reached, else a key of :data:`CASE_REASONS`).

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
        medians = _window_medians(ref_values, lo, hi)
        reference[query_ok] = medians[inverse]
        reference_n[query_ok] = (hi - lo)[inverse]

    ex_values = values[ex_pos]
    enough = reference_n >= min_reference_n
    reference = np.where(enough, reference, np.nan)
    excess = ex_values - reference
    with np.errstate(divide="ignore", invalid="ignore"):
        excess_pct = np.where(reference != 0, excess / np.abs(reference), np.nan)
    limit = reference * (1 + tolerance)
    flagged = enough & ((ex_values - limit) > _REL_EPS * np.maximum(np.abs(limit), 1.0))

    reason = np.full(len(ex_pos), None, dtype=object)
    reason[(reference_n > 0) & ~enough] = "too_few_references"
    reason[reference_n == 0] = "no_reference"
    reason[~key_ok[ex_pos]] = "missing_key"
    reason[~date_ok[ex_pos]] = "missing_date"
    reason[~value_ok[ex_pos]] = "missing_value"

    out["reference_price"] = reference
    out["reference_n"] = reference_n
    out["excess"] = excess
    out["excess_pct"] = excess_pct
    out["flagged"] = flagged
    out["reason"] = reason
    return out


def _window_medians(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Median of ``values[lo[i]:hi[i]]`` for every i, vectorised in chunks.

    Windows are padded with +inf to a rectangle, sorted row-wise, and the middle
    element(s) picked. Rows are processed by ascending length so the padding stays
    small; each chunk holds at most ``_MAX_CELLS`` cells.
    """
    length = hi - lo
    out = np.full(len(length), np.nan)
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
        block = values[np.minimum(lo[idx, None] + cols, last)]
        block[cols >= length[idx, None]] = np.inf
        block.sort(axis=1)
        n = length[idx]
        r = np.arange(len(idx))
        out[idx] = 0.5 * (block[r, (n - 1) // 2] + block[r, n // 2])
        start = stop
    return out


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

def compare_groups(
    obs: pd.DataFrame,
    directions: Mapping[tuple[str, str], str],
    segment_kinds: Sequence[str] = (),
    *,
    min_n: int = 10,
    alpha: float = 0.05,
    materiality: float = 0.05,
    materiality_abs: Mapping[tuple[str, str], float] | None = None,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 20240101,
    statistic: str | Mapping[tuple[str, str], str] = "auto",
    adjustment: str | Mapping[tuple[str, str], str] = "auto",
    min_stratum_n: int = 5,
    severity: Mapping[str, Mapping[str, float]] = DEFAULT_SEVERITY,
    like_for_like: Sequence[str] | None = None,
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

    Like for like: the strata are the combinations of the ``like_for_like`` columns
    (default product key and channel, where present; a missing value is a stratum of
    its own). Each value is expressed against the median of the new customers in its
    stratum — as a ratio (``value / reference``: "pays 12 % more than new customers for
    the same product") or, for metrics with zero or negative values, as a difference
    (``value − reference``). A comparison keeps only the strata holding both groups and
    at least ``min_stratum_n`` new customers. With a single stratum this is exactly the
    plain comparison median(existing) − median(new); with several it removes the
    product mix: a segment that buys dearer products does not look overcharged.
    Yes/no metrics (statistic ``'proportion'``) compare shares within each stratum and
    weight the differences by the existing customers' strata (direct standardisation);
    their bootstrap is binomial per stratum. The test is a Mann–Whitney U within strata
    (van Elteren), so product mix cannot create a significant difference either.

    Parameters
    ----------
    obs : pandas.DataFrame
        Observations with touchpoint, metric, value, customer status, and optionally
        customer id, product key, channel and the segment columns.
    directions : mapping
        ``{(touchpoint, metric): 'lower' | 'higher'}`` — which way is better for the
        customer. Every pair in ``obs`` needs one.
    segment_kinds : sequence of str
        Segment columns, e.g. ``["abc", "potential", "tier"]``. An existing customer
        without a value of a kind is part of the overall comparison only.
    min_n : int, default 10
        Minimum observations in each group (after the like-for-like restriction).
        Below it the status is ``'insufficient_data'``: medians and effect are shown,
        but there is no test, no CI, no part in the correction and never a flag.
    alpha : float, default 0.05
        Level for the Benjamini–Hochberg adjusted p-value.
    materiality : float, default 0.05
        Minimum effect as a share of the reference level (the new customers' median
        for the existing customers' product mix).
    materiality_abs : mapping, optional
        ``{(touchpoint, metric): minimum effect in the metric's unit}``; replaces the
        relative threshold for those pairs (e.g. 60 s of hotline wait).
    n_boot : int, default 2000
        Bootstrap draws per group.
    confidence : float, default 0.95
        Level of the bootstrap percentile interval of the effect.
    seed : int
        Seed of the bootstrap; each comparison derives its own stream from the seed and
        its labels, so a result does not depend on which other comparisons are run.
    statistic : {'auto', 'median', 'proportion'} or mapping
        ``'auto'``: the share for metrics whose values are all 0/1 (resolved yes/no),
        where a median could only be 0 or 1; the median otherwise. A mapping sets it
        per (touchpoint, metric).
    adjustment : {'auto', 'ratio', 'difference'} or mapping
        Like-for-like scale for medians. ``'auto'``: ratio when all values of the
        metric are positive (prices, ratings), difference otherwise (waits that can be
        0 s, discounts of 0 %).
    min_stratum_n : int, default 5
        Fewest new customers a stratum needs to serve as a reference.
    severity : mapping
        Severity thresholds, see :data:`DEFAULT_SEVERITY`.
    like_for_like : sequence of str, optional
        Columns that define the strata; ``[]`` compares pooled values.

    Returns
    -------
    pandas.DataFrame
        One row per comparison: ``touchpoint, metric, segment_kind, segment,
        direction, statistic, adjustment`` ('ratio', 'difference' or 'none'),
        ``n_new, n_existing`` (observations compared, after the like-for-like
        restriction: 0 new when the segment has no existing observations),
        ``n_customers`` (distinct
        existing customers; an observation without id counts as one),
        ``n_existing_unmatched`` (existing observations without a like-for-like
        reference), ``n_strata, median_new, median_existing`` (plain medians, or
        shares, of the compared observations, for display), ``reference_level`` (the
        new customers' median weighted by the existing customers' strata; the share for
        proportions), ``effect`` (in the metric's unit, positive = worse for the
        existing customers), ``effect_rel`` (effect / |reference_level|),
        ``threshold`` (materiality in the metric's unit), ``ci_low, ci_high``
        (bootstrap percentile interval of the effect), ``p`` (Mann–Whitney U,
        two-sided, stratified by the like-for-like strata: van Elteren; with one
        stratum exactly ``scipy.stats.mannwhitneyu``), ``p_adjusted``
        (Benjamini–Hochberg over all tested rows), ``flagged, severity`` and
        ``status`` (``'ok'`` or
        ``'insufficient_data'``). Missing numbers are NaN.

    Notes
    -----
    flagged = status 'ok' and p_adjusted < alpha and effect > threshold and ci_low > 0.
    The bootstrap treats the strata references as fixed; their sampling error enters
    through the new customers' bootstrap, which is accurate when both groups have a
    similar product mix. Observations are treated as independent: many observations of
    the same customer make the test somewhat optimistic.
    """
    _check_settings(min_n, min_stratum_n, alpha, confidence, materiality, n_boot)
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
    n_strata_total = int(stratum.max()) + 1 if len(stratum) else 1
    if customer_col in obs.columns:
        customer = pd.factorize(obs[customer_col], use_na_sentinel=True)[0]
    else:
        customer = np.full(len(obs), -1)
    segment_codes = {}
    for kind in segment_kinds:
        codes, uniques = pd.factorize(obs[kind], sort=True, use_na_sentinel=True)
        present = np.unique(codes[(~is_new) & (codes >= 0)])
        segment_codes[kind] = (codes, uniques, present)

    groups = obs.groupby([touchpoint_col, metric_col], sort=True, observed=True).indices
    unknown = [key for key in groups if key not in directions]
    if unknown:
        raise ValueError(
            f"no direction for {unknown[:5]}; add them to directions as "
            "{(touchpoint, metric): 'lower' or 'higher'}."
        )

    settings = _Settings(n_boot=n_boot, tails=((1 - confidence) / 2, (1 + confidence) / 2),
                         min_n=min_n, min_stratum_n=min_stratum_n, seed=seed,
                         n_strata=n_strata_total)
    rows = []
    for (touchpoint, metric), positions in groups.items():
        positions = positions[~np.isnan(values[positions])]
        direction = directions[(touchpoint, metric)]
        metric_values = values[positions]
        stat, scale = _statistic_and_scale(statistic, adjustment, touchpoint, metric, metric_values)
        context = _MetricContext(settings, (touchpoint, metric), values, stratum, customer,
                                 positions, is_new, stat, scale,
                                 1.0 if direction == "lower" else -1.0)
        ex_pos = positions[~is_new[positions]]
        comparisons = [(OVERALL, ALL_SEGMENTS, ex_pos)]
        for kind in segment_kinds:
            codes, uniques, present = segment_codes[kind]
            ex_codes = codes[ex_pos]
            for code in present:
                comparisons.append((kind, uniques[code], ex_pos[ex_codes == code]))
        for kind, segment, members in comparisons:
            row = context.compare(members, kind, segment)
            row.update(touchpoint=touchpoint, metric=metric, direction=direction,
                       segment_kind=kind, segment=segment)
            rows.append(row)

    return _adjust_and_flag(pd.DataFrame(rows, columns=_COMPARISON_COLUMNS), alpha, materiality,
                            materiality_abs, severity)


def _check_settings(min_n, min_stratum_n, alpha, confidence, materiality, n_boot) -> None:
    """Refuse settings no comparison can use, with the fix in the message."""
    if min_n < 1:
        raise ValueError("min_n must be at least 1.")
    if min_stratum_n < 1:
        raise ValueError("min_stratum_n must be at least 1.")
    if not 0 < alpha < 1:
        raise ValueError("alpha must lie between 0 and 1, e.g. 0.05.")
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie between 0 and 1, e.g. 0.95.")
    if materiality < 0:
        raise ValueError("materiality must be >= 0 (a share of the reference level).")
    if n_boot < 100:
        raise ValueError("n_boot must be at least 100 for a usable percentile interval.")


def _statistic_and_scale(statistic, adjustment, touchpoint, metric, metric_values) -> tuple[str, str]:
    """The statistic (median or proportion) and the like-for-like scale of one metric."""
    stat = _choose(statistic, touchpoint, metric, ("auto", "median", "proportion"))
    binary = bool(len(metric_values)) and bool(np.isin(metric_values, (0.0, 1.0)).all())
    if stat == "auto":
        stat = "proportion" if binary else "median"
    elif stat == "proportion" and not binary:
        raise ValueError(f"statistic 'proportion' needs 0/1 values; "
                         f"{(touchpoint, metric)} has others. Use 'median'.")
    scale = _choose(adjustment, touchpoint, metric, ("auto", "ratio", "difference"))
    if stat == "proportion":
        scale = "none"
    elif scale == "auto":
        scale = "ratio" if bool((metric_values > 0).all()) else "difference"
    elif scale == "ratio" and not bool((metric_values > 0).all()):
        raise ValueError(f"adjustment 'ratio' needs positive values; {(touchpoint, metric)} "
                         "has zero or negative ones. Use 'difference'.")
    return stat, scale


def _adjust_and_flag(result: pd.DataFrame, alpha, materiality, materiality_abs, severity) -> pd.DataFrame:
    """Benjamini–Hochberg over the tested rows, the materiality threshold, the flag and its severity."""
    if result.empty:
        return result.astype({"flagged": bool})
    tested = (result["status"] == "ok").to_numpy()
    result["p_adjusted"] = benjamini_hochberg(result["p"].where(tested).to_numpy())
    absolute = pd.Series(
        [materiality_abs.get((t, m), np.nan)
         for t, m in zip(result["touchpoint"], result["metric"])],
        index=result.index, dtype="float64",
    )
    result["threshold"] = absolute.fillna(materiality * result["reference_level"].abs())
    result["flagged"] = (tested
                         & (result["p_adjusted"] < alpha)
                         & (result["effect"] > result["threshold"])
                         & (result["ci_low"] > 0)).astype(bool)
    levels = severity_of(result["effect_rel"], result["n_customers"], severity)
    result["severity"] = np.where(result["flagged"], levels, None)
    return result


_COMPARISON_COLUMNS = [
    "touchpoint", "metric", "segment_kind", "segment", "direction", "statistic", "adjustment",
    "n_new", "n_existing", "n_customers", "n_existing_unmatched", "n_strata",
    "median_new", "median_existing", "reference_level", "effect", "effect_rel", "threshold",
    "ci_low", "ci_high", "p", "p_adjusted", "flagged", "severity", "status",
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
    n_boot: int
    tails: tuple[float, float]
    min_n: int
    min_stratum_n: int
    seed: int
    n_strata: int


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


class _MetricContext:
    """One touchpoint+metric: the new customers' side, reused by all its segments."""

    def __init__(self, settings: _Settings, label, values, stratum, customer, positions,
                 is_new, stat, scale, sign):
        self.s, self.label = settings, label
        self.raw, self.stratum, self.customer = values, stratum, customer
        self.stat, self.scale, self.sign = stat, scale, sign
        self.new_pos = positions[is_new[positions]]
        S = settings.n_strata
        self.reference, self.new_counts = _stratum_medians(
            values[self.new_pos], stratum[self.new_pos], S)
        self.new_success = np.bincount(stratum[self.new_pos], values[self.new_pos],
                                       minlength=S)
        self.eligible = self.new_counts >= settings.min_stratum_n
        if stat == "proportion":
            self.reference = self.new_success / np.maximum(self.new_counts, 1)
        # dense ranks of the values for the stratified rank test
        unique, rank = np.unique(values[positions], return_inverse=True)
        self.n_ranks = max(len(unique), 1)
        self.key = dict(positions=positions, keys=stratum[positions] * self.n_ranks + rank)
        self._cache: dict[bytes, dict] = {}

    def _keys(self, members: np.ndarray) -> np.ndarray:
        # members are sorted positions of this metric: locate them in `positions`
        where = np.searchsorted(self.key["positions"], members)
        return self.key["keys"][where]

    def _adjusted(self, positions: np.ndarray) -> np.ndarray:
        if self.scale == "ratio":
            return self.raw[positions] / self.reference[self.stratum[positions]]
        if self.scale == "difference":
            return self.raw[positions] - self.reference[self.stratum[positions]]
        return self.raw[positions]

    def _new_side(self, common: np.ndarray) -> dict:
        key = common.tobytes()
        if key not in self._cache:
            members = self.new_pos[common[self.stratum[self.new_pos]]]
            keys = self._keys(members)
            self._cache[key] = dict(
                members=members,
                sorted=np.sort(self._adjusted(members)),
                ranks=_RankReference(keys, self.n_ranks, self.s.n_strata),
                draws=None,
            )
        return self._cache[key]

    def _median_draws(self, sorted_values, rng):
        return bootstrap_median_draws(sorted_values, self.s.n_boot, rng)

    def _share_draws(self, counts, shares, rng):
        """Stratum-wise binomial bootstrap of shares: array (strata, n_boot)."""
        return rng.binomial(counts[:, None].astype("int64"), shares[:, None],
                            size=(len(counts), self.s.n_boot)) / counts[:, None]

    def compare(self, members: np.ndarray, kind, segment) -> dict:
        S = self.s.n_strata
        ex_counts = np.bincount(self.stratum[members], minlength=S)
        common = (ex_counts > 0) & self.eligible
        kept = members[common[self.stratum[members]]]
        new = self._new_side(common)
        n_new, n_ex = len(new["members"]), len(kept)
        weights = ex_counts[common] / max(n_ex, 1)
        raw_new, raw_ex = self.raw[new["members"]], self.raw[kept]
        ids = self.customer[kept]
        row = dict(
            statistic=self.stat, adjustment=self.scale, n_new=n_new, n_existing=n_ex,
            n_customers=int(len(np.unique(ids[ids >= 0])) + np.count_nonzero(ids < 0)),
            n_existing_unmatched=int(len(members) - n_ex),
            n_strata=int(np.count_nonzero(common)),
            ci_low=np.nan, ci_high=np.nan, p=np.nan, status="insufficient_data",
        )
        if self.stat == "proportion":
            share_ex = (np.bincount(self.stratum[kept], raw_ex, minlength=S)[common]
                        / np.maximum(ex_counts[common], 1))
            share_new = self.reference[common]
            level = float(weights @ share_new) if n_ex else np.nan
            effect = self.sign * float(weights @ (share_ex - share_new)) if n_ex else np.nan
            row.update(median_new=float(raw_new.mean()) if n_new else np.nan,
                       median_existing=float(raw_ex.mean()) if n_ex else np.nan)
        else:
            level = float(weights @ self.reference[common]) if n_ex else np.nan
            to_units = level if self.scale == "ratio" else 1.0
            adj_ex = np.sort(self._adjusted(kept))
            effect = (self.sign * (np.median(adj_ex) - np.median(new["sorted"])) * to_units
                      if n_ex and n_new else np.nan)
            row.update(median_new=float(np.median(raw_new)) if n_new else np.nan,
                       median_existing=float(np.median(raw_ex)) if n_ex else np.nan)
        row.update(reference_level=level, effect=effect,
                   effect_rel=effect / abs(level) if level and np.isfinite(level) else np.nan)
        if n_new < self.s.min_n or n_ex < self.s.min_n:
            return row

        rng_ex = stable_seed(self.s.seed, *self.label, kind, segment)
        if new["draws"] is None:
            rng_new = stable_seed(self.s.seed, *self.label, "new",
                                  np.flatnonzero(common).tolist())
            new["draws"] = (self._share_draws(self.new_counts[common], self.reference[common],
                                              rng_new)
                            if self.stat == "proportion"
                            else self._median_draws(new["sorted"], rng_new))
        if self.stat == "proportion":
            ex_draws = self._share_draws(ex_counts[common], share_ex, rng_ex)
            diffs = self.sign * (weights @ (ex_draws - new["draws"]))
        else:
            diffs = self.sign * (self._median_draws(adj_ex, rng_ex) - new["draws"]) * to_units
        low, high = np.quantile(diffs, self.s.tails)
        p = _stratified_rank_p(self._keys(kept), new["ranks"], raw_ex, raw_new)
        row.update(ci_low=float(low) + 0.0, ci_high=float(high) + 0.0, p=p, status="ok")
        return row


# ---------------------------------------------------------------- tenure gradient

def tenure_gradient(
    obs: pd.DataFrame,
    price_metrics: Iterable,
    tenure_col: str = "tenure_years",
    *,
    min_n: int = 10,
    alpha: float = 0.05,
    by_product: bool = True,
    adjust: bool = True,
    max_points: int = 2000,
    seed: int = 20240101,
    touchpoint_col: str = "touchpoint",
    metric_col: str = "metric",
    value_col: str = "value",
    status_col: str = "customer_status",
    product_col: str = "product_key",
) -> pd.DataFrame:
    """Test for "price walking": do existing customers' prices rise with tenure?

    Per touchpoint and metric (and product key, when present and ``by_product``):
    Spearman's rank correlation between tenure and value with its p-value, and the
    Theil–Sen slope (value units per year of tenure) with its 95 % interval.

    Parameters
    ----------
    obs : pandas.DataFrame
        Observations; only existing customers with a value and a tenure are used.
    price_metrics : iterable
        ``(touchpoint, metric)`` tuples or bare metric names, as in :func:`case_flags`.
    tenure_col : str, default 'tenure_years'
        Tenure in years (e.g. from the customer-since date).
    min_n : int, default 10
        Fewest observations per group for a test; below: ``'insufficient_data'``.
    alpha : float, default 0.05
        Level for the p-value.
    by_product : bool, default True
        Separate groups per product key, so a price level difference between products
        held by long-standing and recent customers does not pass for price walking.
    adjust : bool, default True
        Flag on Benjamini–Hochberg adjusted p-values across the groups of this call
        (one test per product adds up); False flags on the raw p-value.
    max_points : int, default 2000
        Theil–Sen costs O(n²); above this many points the slope is computed on a
        seeded random subsample of this size (``n_slope``, ``subsampled``). Spearman
        always uses all points.

    Returns
    -------
    pandas.DataFrame
        One row per group: touchpoint, metric, [product_key], ``n, n_slope,
        subsampled, median_value, rho, p, p_adjusted, slope, slope_low, slope_high,
        slope_rel`` (slope / median value, per year), ``flagged`` (p or p_adjusted
        below alpha and slope > 0), ``status`` (``'ok'``, ``'insufficient_data'``,
        ``'constant'`` when tenure or value does not vary).
    """
    if min_n < 3:
        raise ValueError("min_n must be at least 3 for a rank correlation.")
    if max_points < 10:
        raise ValueError("max_points must be at least 10.")
    require_columns(obs, [touchpoint_col, metric_col, value_col, status_col, tenure_col],
                    "observations")
    keys = [touchpoint_col, metric_col]
    if by_product and product_col in obs.columns:
        keys.append(product_col)
    frame = obs.loc[metric_mask(obs, price_metrics, touchpoint_col, metric_col,
                                "price_metrics")]
    status = normalise_status(frame[status_col]) if len(frame) else np.array([], dtype=object)
    values = numeric_values(frame[value_col])
    tenure = numeric_values(frame[tenure_col], "tenure")
    usable = (status == "existing") & ~np.isnan(values) & ~np.isnan(tenure)
    frame = frame.loc[usable]
    values, tenure = values[usable], tenure[usable]

    rows = []
    for label, positions in frame.groupby(keys, dropna=False, sort=True, observed=True).indices.items():
        x, y = tenure[positions], values[positions]
        n = len(positions)
        row = dict(zip(keys, label), n=n, n_slope=0, subsampled=False,
                   median_value=float(np.median(y)), rho=np.nan, p=np.nan, slope=np.nan,
                   slope_low=np.nan, slope_high=np.nan, status="insufficient_data")
        if n >= min_n and (np.ptp(x) == 0 or np.ptp(y) == 0):
            row["status"] = "constant"
        elif n >= min_n:
            rho, p = stats.spearmanr(x, y)
            if n > max_points:
                rng = stable_seed(seed, *label)
                pick = np.sort(rng.choice(n, size=max_points, replace=False))
                xs, ys = x[pick], y[pick]
            else:
                xs, ys = x, y
            if np.ptp(xs) == 0:  # a subsample can lose all tenure variation
                xs, ys = x, y
            slope, _, low, high = stats.theilslopes(ys, xs, alpha=0.95)
            row.update(n_slope=len(xs), subsampled=len(xs) < n, rho=float(rho), p=float(p),
                       slope=float(slope), slope_low=float(low), slope_high=float(high),
                       status="ok")
        rows.append(row)

    columns = keys + ["n", "n_slope", "subsampled", "median_value", "rho", "p", "p_adjusted",
                      "slope", "slope_low", "slope_high", "slope_rel", "flagged", "status"]
    result = pd.DataFrame(rows, columns=[c for c in columns
                                         if c not in ("p_adjusted", "slope_rel", "flagged")])
    if result.empty:
        return pd.DataFrame(columns=columns).astype({"flagged": bool})
    result["p_adjusted"] = benjamini_hochberg(result["p"].to_numpy()) if adjust \
        else result["p"]
    with np.errstate(divide="ignore", invalid="ignore"):
        result["slope_rel"] = np.where(result["median_value"] != 0,
                                       result["slope"] / result["median_value"].abs(), np.nan)
    result["flagged"] = ((result["status"] == "ok") & (result["p_adjusted"] < alpha)
                         & (result["slope"] > 0)).astype(bool)
    return result[columns]
