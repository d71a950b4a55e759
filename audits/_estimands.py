"""The aggregate comparison's estimands, one per kind of metric, each with its test and interval.

Private module: :func:`audits.compare_groups` is the public face. Every function takes the
existing and the new customers' values (one value per customer and stratum) with their
stratum codes ``0 … k-1`` (only strata that hold both groups) and returns the difference
existing − new on the raw scale, its interval and the two-sided p-value of a test of the
same estimand, so that estimate, interval and test cannot tell different stories.

* :func:`shift_by_rank_inversion` — Hodges–Lehmann shift (pass log values for money and
  durations: a relative shift), estimated and bounded by inverting the stratified
  Mann–Whitney (van Elteren) statistic; both groups' sampling error enters, the new
  customers' references are never treated as fixed.
* :func:`mean_difference` — difference of means, directly standardised to the existing
  customers' strata, Welch–Satterthwaite t.
* :func:`share_difference` — difference of shares, directly standardised; Cochran–
  Mantel–Haenszel test; Newcombe's square-and-add interval from stratified Wilson limits.
  Both are unchanged when 0 and 1 swap meaning (only the sign turns).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import special, stats

from ._common import wilson_interval


class Estimate(NamedTuple):
    """Existing − new on the raw (or log) scale, its interval and the test's p-value."""

    effect: float
    low: float
    high: float
    p: float


def _normal_quantile(confidence: float) -> float:
    return float(special.ndtri(0.5 + confidence / 2))


def shift_by_rank_inversion(ex, ex_s, new, new_s, k: int, confidence: float,
                            p: float | None = None) -> Estimate:
    """Stratified Hodges–Lehmann shift with the interval that inverts the van Elteren test.

    T(d) = Σ_s w_s (U_s(d) − n_s m_s / 2) with w_s = 1 / (N_s + 1) and U_s(d) the
    Mann–Whitney count of (existing − d) above new within stratum s. The estimate is the
    root of T; the interval holds the shifts d at which |T(d)| / sd(T) stays below the
    normal quantile. ``p`` (the tie-corrected test at d = 0) is passed through when the
    caller has it. Values of −inf (log of 0) are placed one unit below the smallest finite
    value, so they stay below every other value for any shift the data allow.
    """
    ex, new = np.asarray(ex, float), np.asarray(new, float)
    both = np.concatenate([ex, new])
    finite = both[np.isfinite(both)]
    floor = (finite.min() - 1.0) if len(finite) else 0.0
    ex, new = np.where(np.isfinite(ex), ex, floor), np.where(np.isfinite(new), new, floor)
    lowest = min(ex.min(), new.min())
    width = max(ex.max(), new.max()) - lowest
    block = 3.0 * (width + 1.0)
    # one sortable key per value: strata a block apart, values shifted by up to ±(width+½)
    # never leave their block
    new_keys = np.sort(new_s * block + (width + 1.0) + (new - lowest))
    ex_keys = np.sort(ex_s * block + (width + 1.0) + (ex - lowest))
    ex_strata = (ex_keys // block).astype("int64")
    starts = np.searchsorted(new_keys, np.arange(k) * block)
    n = np.bincount(ex_s, minlength=k).astype(float)
    m = np.bincount(new_s, minlength=k).astype(float)
    weight = 1.0 / (n + m + 1.0)
    centre = float(np.sum(weight * n * m / 2))
    sd = float(np.sqrt(np.sum(weight ** 2 * n * m * (n + m + 1) / 12)))

    def statistic(d: float) -> float:
        shifted = ex_keys - d
        left = np.searchsorted(new_keys, shifted, side="left")
        right = np.searchsorted(new_keys, shifted, side="right")
        u = np.bincount(ex_strata, (left - starts[ex_strata]) + 0.5 * (right - left),
                        minlength=k)
        return float(weight @ u) - centre

    reach = width + 0.5
    z = _normal_quantile(confidence)
    guess, spread = _rough_shift(ex, ex_s, new, new_s, k)

    def root(level: float) -> float:
        # a bracket of ±8 rough standard errors around a rough estimate holds the root
        # almost always and saves most evaluations; else the whole reach is searched
        low, high = max(guess - 8 * spread, -reach), min(guess + 8 * spread, reach)
        f_low, f_high = statistic(low) - level, statistic(high) - level
        if not f_low > 0 > f_high:
            low, high = -reach, reach
            f_low, f_high = statistic(low) - level, statistic(high) - level
            if f_low <= 0:
                return -np.inf
            if f_high >= 0:
                return np.inf
        return _falling_root(lambda d: statistic(d) - level, low, high, f_low, f_high,
                             ftol=1e-3 * sd)

    effect = root(0.0)
    low, high = root(z * sd), root(-z * sd)
    if p is None:
        p = float(min(1.0, 2 * special.ndtr(-abs(statistic(0.0)) / sd))) if sd > 0 else 1.0
    return Estimate(effect, low, high, p)


def _falling_root(f, low: float, high: float, f_low: float, f_high: float,
                  xtol: float = 1e-6, ftol: float = 0.0) -> float:
    """Where the decreasing step function ``f`` crosses zero between low and high.

    Regula falsi with the Illinois modification (the stale end's value is halved), which
    converges in a few evaluations on the nearly linear rank statistic, falling back to
    bisection steps when the secant stalls; f(low) > 0 > f(high). Stops when the bracket
    is narrower than ``xtol`` or ``|f|`` is at most ``ftol`` (for the rank statistic a
    thousandth of its standard deviation: the z-score is then exact to 0.001).
    """
    stale = 0
    for _ in range(100):
        if high - low <= xtol:
            break
        guess = (low * f_high - high * f_low) / (f_high - f_low)
        if not low < guess < high or (high - low) < 4 * xtol:
            guess = 0.5 * (low + high)
        value = f(guess)
        if abs(value) <= ftol:
            return guess
        if value > 0:
            low, f_low = guess, value
            f_high = f_high / 2 if stale == 1 else f_high
            stale = 1
        elif value < 0:
            high, f_high = guess, value
            f_low = f_low / 2 if stale == -1 else f_low
            stale = -1
        else:
            return guess
    return 0.5 * (low + high)


def _rough_shift(ex, ex_s, new, new_s, k) -> tuple[float, float]:
    """A quick shift estimate and its rough standard error, to bracket the exact roots.

    Values are centred on their stratum's new-customer median; the estimate is the
    difference of the centred medians, the error 1.25 · spread · sqrt(1/n + 1/m) with the
    spread from the centred values' median absolute deviation.
    """
    centre = np.zeros(k)
    order = np.lexsort((new, new_s))
    counts = np.bincount(new_s, minlength=k)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    has = counts > 0
    ordered = new[order]
    centre[has] = 0.5 * (ordered[starts[has] + (counts[has] - 1) // 2]
                         + ordered[starts[has] + counts[has] // 2])
    x, y = ex - centre[ex_s], new - centre[new_s]
    guess = float(np.median(x) - np.median(y))
    both = np.concatenate([x - guess, y])
    mad = 1.4826 * float(np.median(np.abs(both - np.median(both))))
    if not mad > 0:
        mad = float(np.std(both)) or 1.0
    return guess, 1.25 * mad * float(np.sqrt(1 / len(ex) + 1 / len(new)))


def _pooled_within_variance(values, strata, k) -> float:
    """Variance of ``values`` around their stratum means (ddof = number of strata)."""
    counts = np.bincount(strata, minlength=k).astype(float)
    sums = np.bincount(strata, values, minlength=k)
    means = np.divide(sums, counts, out=np.zeros(k), where=counts > 0)
    residual = values - means[strata]
    dof = len(values) - np.count_nonzero(counts)
    return float(residual @ residual / dof) if dof > 0 else 0.0


def mean_difference(ex, ex_s, new, new_s, k: int, confidence: float) -> Estimate:
    """Difference of means, standardised to the existing customers' strata; Welch t.

    Each group's variance is pooled within strata, so a stratum holding one customer
    still contributes.
    """
    n = np.bincount(ex_s, minlength=k).astype(float)
    m = np.bincount(new_s, minlength=k).astype(float)
    weight = n / n.sum()
    mean_ex = np.bincount(ex_s, ex, minlength=k) / n
    mean_new = np.bincount(new_s, new, minlength=k) / m
    effect = float(weight @ (mean_ex - mean_new))
    a = _pooled_within_variance(ex, ex_s, k) * float(np.sum(weight ** 2 / n))
    b = _pooled_within_variance(new, new_s, k) * float(np.sum(weight ** 2 / m))
    se = np.sqrt(a + b)
    if se == 0:
        return Estimate(effect, effect, effect, 1.0 if effect == 0 else 0.0)
    dof_ex, dof_new = max(len(ex) - k, 1), max(len(new) - k, 1)
    dof = (a + b) ** 2 / (a ** 2 / dof_ex + b ** 2 / dof_new)
    quantile = float(stats.t.ppf(0.5 + confidence / 2, dof))
    p = float(2 * stats.t.sf(abs(effect) / se, dof))
    return Estimate(effect, effect - quantile * se, effect + quantile * se, p)


def share_difference(ex, ex_s, new, new_s, k: int, confidence: float) -> Estimate:
    """Difference of shares of 1 (existing − new), standardised to the existing strata.

    Interval: Newcombe's square-and-add (MOVER) from each group's Wilson limits at its
    effective sample size 1 / Σ w_s² / n_s — it does not collapse at 0 % or 100 %.
    Test: Cochran–Mantel–Haenszel over strata (no continuity correction). Values may be
    a customer's share of yes answers; the hypergeometric variance is then conservative.
    """
    n = np.bincount(ex_s, minlength=k).astype(float)
    m = np.bincount(new_s, minlength=k).astype(float)
    yes_ex = np.bincount(ex_s, ex, minlength=k)
    yes_new = np.bincount(new_s, new, minlength=k)
    weight = n / n.sum()
    share_ex, share_new = float(weight @ (yes_ex / n)), float(weight @ (yes_new / m))
    eff_ex, eff_new = 1 / float(np.sum(weight ** 2 / n)), 1 / float(np.sum(weight ** 2 / m))
    low_ex, high_ex = wilson_interval(share_ex * eff_ex, eff_ex, confidence)
    low_new, high_new = wilson_interval(share_new * eff_new, eff_new, confidence)
    diff = share_ex - share_new
    low = diff - np.sqrt((share_ex - low_ex) ** 2 + (high_new - share_new) ** 2)
    high = diff + np.sqrt((high_ex - share_ex) ** 2 + (share_new - low_new) ** 2)
    total = n + m
    yes = yes_ex + yes_new
    expected = n * yes / total
    variance = float(np.sum(n * m * yes * (total - yes) / (total ** 2 * np.maximum(total - 1, 1))))
    deviation = float(np.sum(yes_ex - expected))
    p = float(min(1.0, 2 * special.ndtr(-abs(deviation) / np.sqrt(variance)))) \
        if variance > 0 else 1.0
    return Estimate(diff, float(low), float(high), p)
