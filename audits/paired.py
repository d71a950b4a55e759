"""Paired test calls: the same request made once as a prospect and once as an existing
customer, compared by the differences within each pair.

One estimand per kind of metric, on the scale §3 of the domain brief uses for the unpaired
comparison (positive = worse for the existing customer):

========== ================================================ ============================== ====
kind       effect                                           test, interval                 unit
========== ================================================ ============================== ====
ratio      Hodges–Lehmann shift of the log ratios           Wilcoxon signed-rank; Walsh    %
           existing / new (money, durations), as %          averages' order statistics
mean       Hodges–Lehmann shift of the differences in       as ratio                       points
           points (ratings 1–5)
shift      as mean, in the metric's own unit                as ratio                       units
proportion difference of the paired shares (b − c) / n      McNemar (exact, discordant     pp
           (yes/no)                                         pairs); Newcombe's paired
                                                            score interval
========== ================================================ ============================== ====

The pairs of a touchpoint × metric join the same Benjamini–Hochberg family as the unpaired
comparisons of the audit (:func:`adjust_jointly`), and a paired comparison is flagged by the
same rule: adjusted p < alpha, the interval excludes zero and the effect exceeds the metric's
materiality. Fewer than ``min_n`` pairs: ``'insufficient_data'``, never a flag.

Pure Python + numpy/scipy/pandas: usable from a notebook.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import special, stats

from ._common import benjamini_hochberg, require_columns, severity_of
from .penalty import (
    DEFAULT_SEVERITY,
    EFFECT_UNITS,
    _adjust_and_flag,
    _check_directions,
    _materiality_by_kind,
    _metric_kind,
)

__all__ = ["compare_pairs", "hodges_lehmann_paired", "mcnemar_paired", "adjust_jointly", "PAIRED_COLUMNS"]

#: Above this many pairs the interval's rank comes from the normal approximation of the
#: signed-rank distribution (exact below).
_EXACT_MAX = 300

PAIRED_COLUMNS = [
    "touchpoint", "metric", "direction", "statistic", "effect_unit", "n_pairs", "n_excluded",
    "n_discordant", "median_new", "median_existing", "effect", "ci_low", "ci_high", "effect_value",
    "threshold", "p", "p_adjusted", "flagged", "severity", "status", "test",
]


def _signed_rank_lower_count(n: int, confidence: float) -> int:
    """The rank k of the lower Walsh average bounding the interval: the largest k with
    P(T+ <= k - 1) <= (1 - confidence) / 2 under the null (exact for small n)."""
    tail = (1 - confidence) / 2
    total = n * (n + 1) // 2
    if n <= _EXACT_MAX:
        counts = np.zeros(total + 1)
        counts[0] = 1.0
        for i in range(1, n + 1):
            counts[i:] = counts[i:] + counts[:-i].copy()
        cdf = np.cumsum(counts) / 2.0 ** n
        k = int(np.searchsorted(cdf, tail, side="right"))  # cdf[k-1] <= tail < cdf[k]
        return max(k, 0)
    mean, sd = total / 2, np.sqrt(n * (n + 1) * (2 * n + 1) / 24)
    return max(int(np.floor(mean - special.ndtri(1 - tail) * sd + 0.5)), 0)


def hodges_lehmann_paired(differences, confidence: float = 0.95) -> tuple[float, float, float]:
    """Hodges–Lehmann estimate of the pseudo-median of paired differences (the median of the
    Walsh averages) and its distribution-free interval from the Walsh averages' order
    statistics. Returns (estimate, low, high); the interval is NaN when n is too small to
    reach the confidence (or with no difference at all)."""
    d = np.asarray(differences, dtype="float64")
    d = d[~np.isnan(d)]
    n = len(d)
    if n == 0:
        return np.nan, np.nan, np.nan
    i, j = np.triu_indices(n)
    walsh = np.sort((d[i] + d[j]) / 2)
    estimate = float(np.median(walsh))
    k = _signed_rank_lower_count(n, confidence)
    if k < 1:
        return estimate, np.nan, np.nan
    return estimate, float(walsh[k - 1]), float(walsh[len(walsh) - k])


def _signed_rank_p(differences: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p (scipy); 1 when every difference is zero."""
    if not np.any(differences != 0):
        return 1.0
    return float(stats.wilcoxon(differences, zero_method="wilcox", alternative="two-sided").pvalue)


def mcnemar_paired(new, existing, confidence: float = 0.95) -> dict:
    """Paired yes/no: the difference of shares existing − new, Newcombe's hybrid score
    interval for paired proportions (his method 10) and McNemar's exact test on the
    discordant pairs. Values are 0/1; returns diff, low, high, p, b (existing 1, new 0),
    c (existing 0, new 1), n."""
    x_new = np.asarray(new, dtype="float64")
    x_ex = np.asarray(existing, dtype="float64")
    n = len(x_new)
    a = int(np.sum((x_ex == 1) & (x_new == 1)))
    b = int(np.sum((x_ex == 1) & (x_new == 0)))
    c = int(np.sum((x_ex == 0) & (x_new == 1)))
    d = n - a - b - c
    if n == 0:
        return {"diff": np.nan, "low": np.nan, "high": np.nan, "p": np.nan, "b": 0, "c": 0, "n": 0}
    p1, p2 = (a + b) / n, (a + c) / n
    diff = p1 - p2
    z = special.ndtri(0.5 + confidence / 2)

    def wilson(x: int) -> tuple[float, float]:
        p = x / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return centre - half, centre + half

    l1, u1 = wilson(a + b)
    l2, u2 = wilson(a + c)
    # phi: the correlation of the two margins (0 when a margin is empty or full)
    denom = (a + b) * (c + d) * (a + c) * (b + d)
    num = a * d - b * c
    if denom == 0:
        phi = 0.0
    else:
        phi = (max(num - n / 2, 0.0) if num > 0 else num) / np.sqrt(denom)
    dl2 = (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2
    du2 = (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2
    low, high = diff - np.sqrt(max(dl2, 0.0)), diff + np.sqrt(max(du2, 0.0))
    p = 1.0 if b + c == 0 else float(stats.binomtest(b, b + c, 0.5).pvalue)
    return {"diff": diff, "low": max(low, -1.0), "high": min(high, 1.0), "p": p, "b": b, "c": c, "n": n}


def compare_pairs(
    pairs: pd.DataFrame,
    directions: Mapping[tuple[str, str], str],
    *,
    min_n: int = 10,
    alpha: float = 0.05,
    confidence: float = 0.95,
    materiality: float | Mapping[str, float] | None = None,
    materiality_abs: Mapping[tuple[str, str], float] | None = None,
    statistic: str | Mapping[tuple[str, str], str] = "auto",
    severity: Mapping[str, Mapping[str, float]] = DEFAULT_SEVERITY,
    touchpoint_col: str = "touchpoint",
    metric_col: str = "metric",
    new_col: str = "value_new",
    existing_col: str = "value_existing",
) -> pd.DataFrame:
    """Compare paired test calls per touchpoint × metric by their within-pair differences.

    Parameters
    ----------
    pairs : pandas.DataFrame
        One row per pair: touchpoint, metric, the prospect's value (``new_col``) and the
        existing customer's value (``existing_col``) for the same request.
    directions : mapping
        ``{(touchpoint, metric): 'lower' | 'higher'}``, which way is better for the customer.
    min_n : int, default 10
        Fewest pairs for a test; below it the status is ``'insufficient_data'``.
    alpha, confidence : float
        Level of the Benjamini–Hochberg adjusted p and of the interval.
    materiality, materiality_abs, statistic, severity
        As in :func:`audits.penalty.compare_groups` (same kinds, same defaults, same units).

    Returns
    -------
    pandas.DataFrame
        One row per touchpoint × metric with the columns of :data:`PAIRED_COLUMNS`:
        ``n_pairs`` (pairs compared), ``n_excluded`` (ratio kind: pairs with a side ≤ 0,
        whose log ratio does not exist), ``n_discordant`` (yes/no), the medians (means for
        ratings and yes/no) of either side, ``effect, ci_low, ci_high, threshold`` in the
        effect's unit, ``effect_value`` (ratio kind: the shift in the metric's unit at the
        prospects' median), ``p`` (Wilcoxon signed-rank, or McNemar exact for yes/no),
        ``p_adjusted`` (Benjamini–Hochberg over these rows alone; :func:`adjust_jointly`
        puts them into the audit's family), ``flagged, severity, status, test``.
    """
    if min_n < 1:
        raise ValueError("min_n must be at least 1.")
    if not 0 < confidence < 1 or not 0 < alpha < 1:
        raise ValueError("alpha and confidence must lie between 0 and 1, e.g. 0.05 and 0.95.")
    require_columns(pairs, [touchpoint_col, metric_col, new_col, existing_col], "pairs")
    _check_directions(directions)
    by_kind = _materiality_by_kind(materiality)
    absolute = dict(materiality_abs or {})
    rows = []
    for (touchpoint, metric), group in pairs.groupby([touchpoint_col, metric_col], sort=True, observed=True):
        if (touchpoint, metric) not in directions:
            raise ValueError(f"no direction for {(touchpoint, metric)}; add it to directions.")
        new = pd.to_numeric(group[new_col], errors="coerce").to_numpy(dtype="float64")
        existing = pd.to_numeric(group[existing_col], errors="coerce").to_numpy(dtype="float64")
        both = ~np.isnan(new) & ~np.isnan(existing)
        new, existing = new[both], existing[both]
        direction = directions[(touchpoint, metric)]
        sign = 1.0 if direction == "lower" else -1.0
        kind = _metric_kind(statistic, "auto", touchpoint, metric, np.concatenate([new, existing]))
        row = _pair_row(kind, new, existing, sign, min_n, confidence)
        row.update(touchpoint=touchpoint, metric=metric, direction=direction, statistic=kind,
                   effect_unit=EFFECT_UNITS[kind],
                   threshold=_pair_threshold(kind, by_kind, absolute.get((touchpoint, metric)),
                                             row["median_new"]))
        rows.append(row)
    result = pd.DataFrame(rows, columns=[c for c in PAIRED_COLUMNS if c not in ("p_adjusted", "flagged",
                                                                                "severity")])
    return _flag(result, benjamini_hochberg(_tested_p(result)), alpha, severity)


def _pair_threshold(kind, by_kind, absolute, level) -> float:
    if absolute is not None:
        return float(absolute)
    if kind == "shift":
        return by_kind["shift"] * abs(level) if np.isfinite(level) else np.nan
    return by_kind[kind]


def _pair_row(kind: str, new: np.ndarray, existing: np.ndarray, sign: float, min_n: int,
              confidence: float) -> dict:
    """The figures of one touchpoint × metric's pairs."""
    row = {"n_excluded": 0, "n_discordant": None, "effect_value": np.nan, "test": None,
           "effect": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan}
    if kind == "ratio":
        positive = (new > 0) & (existing > 0)
        row["n_excluded"] = int((~positive).sum())
        new, existing = new[positive], existing[positive]
    average = np.mean if kind in ("mean", "proportion") else np.median
    n = len(new)
    row.update(n_pairs=n, median_new=float(average(new)) if n else np.nan,
               median_existing=float(average(existing)) if n else np.nan)
    if kind == "proportion":
        result = mcnemar_paired(new, existing, confidence)
        row["n_discordant"] = result["b"] + result["c"]
        estimate = (sign * 100 * result["diff"], sign * 100 * result["low"], sign * 100 * result["high"])
        p, row["test"] = result["p"], "mcnemar_exact"
    else:
        d = sign * (np.log(existing) - np.log(new) if kind == "ratio" else existing - new)
        estimate = hodges_lehmann_paired(d, confidence) if n else (np.nan, np.nan, np.nan)
        p, row["test"] = (_signed_rank_p(d) if n else np.nan), "wilcoxon_signed_rank"
        if kind == "ratio":
            estimate = tuple(100 * np.expm1(v) for v in estimate)
    effect, low, high = estimate
    row["effect"] = float(effect)
    if kind == "ratio" and n:
        row["effect_value"] = float(effect / 100 * np.median(new))
    if n < min_n:
        row["status"] = "insufficient_data"
        return row
    row.update(status="ok", ci_low=float(min(low, high)), ci_high=float(max(low, high)), p=float(p))
    return row


def _tested_p(result: pd.DataFrame) -> np.ndarray:
    if result.empty:
        return np.array([], dtype="float64")
    return np.where(result["status"] == "ok", result["p"].to_numpy(dtype="float64"), np.nan)


def _flag(result: pd.DataFrame, p_adjusted: np.ndarray, alpha: float, severity) -> pd.DataFrame:
    """The same flag rule as the unpaired comparisons, with the given adjusted p."""
    result = result.copy()
    if result.empty:
        for column in ("p_adjusted", "flagged", "severity"):
            result[column] = pd.Series(dtype=bool if column == "flagged" else object)
        return result[PAIRED_COLUMNS]
    tested = (result["status"] == "ok").to_numpy()
    with np.errstate(invalid="ignore"):
        flagged = (tested & (p_adjusted < alpha)
                   & (result["ci_low"].to_numpy(dtype=float) > 0)
                   & (result["effect"].to_numpy(dtype=float) > result["threshold"].to_numpy(dtype=float)))
    effect = result["effect"].to_numpy(dtype=float)
    level = np.abs(result["median_new"].to_numpy(dtype=float))
    with np.errstate(invalid="ignore", divide="ignore"):
        # as the unpaired comparisons' effect_rel: a share of the prospects' level (yes/no: of 1)
        relative = np.where(result["statistic"].isin(["ratio", "proportion"]), effect / 100, effect / level)
    levels = severity_of(relative, result["n_pairs"].to_numpy(dtype=float), severity)
    result["p_adjusted"] = p_adjusted
    result["flagged"] = flagged
    result["severity"] = np.where(flagged, levels, None)
    return result[PAIRED_COLUMNS]


def adjust_jointly(comparisons: pd.DataFrame, paired: pd.DataFrame, alpha: float = 0.05,
                   severity: Mapping[str, Mapping[str, float]] = DEFAULT_SEVERITY
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Put the paired comparisons into the audit's family of tests: one Benjamini–Hochberg
    adjustment over the tested rows of both frames, then the flag rule of each again.

    Returns new frames (``comparisons`` as :func:`compare_groups` returns it, ``paired`` as
    :func:`compare_pairs`); either may be empty."""
    if paired is None or paired.empty:
        return comparisons, paired
    p_unpaired = (np.where(comparisons["status"] == "ok", comparisons["p"].to_numpy(dtype=float), np.nan)
                  if comparisons is not None and len(comparisons) else np.array([], dtype="float64"))
    p_all = benjamini_hochberg(np.concatenate([p_unpaired, _tested_p(paired)]))
    k = len(p_unpaired)
    if k:
        comparisons = _adjust_and_flag(comparisons.copy(), alpha, severity, p_adjusted=p_all[:k])
    return comparisons, _flag(paired, p_all[k:], alpha, severity)
