"""Synthetic touchpoint observations for simulations, demos and benchmarks.

Realistic enough to exercise the statistics: prices log-normal per product, hotline
waits exponential, care ratings 1–5, discounts gamma-distributed, "resolved" yes/no. A
planted penalty makes existing customers' values worse by a given share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from segmentation.definitions import POTENTIAL_SEGMENTS, PROFIT_TIERS

__all__ = [
    "METRIC_CATALOGUE",
    "DEFAULT_SEGMENTS",
    "synthetic_metrics",
    "synthetic_directions",
    "synthetic_price_metrics",
    "synthetic_observations",
]

#: (touchpoint, metric, direction, generator) cycled through to make n metrics.
METRIC_CATALOGUE: tuple[tuple[str, str, str, str], ...] = (
    ("offer", "price", "lower", "price"),
    ("hotline", "wait_seconds", "lower", "wait"),
    ("inside_sales", "care_rating", "higher", "rating"),
    ("promotion", "discount_pct", "higher", "discount"),
    ("after_sales", "resolved", "higher", "binary"),
    ("renewal", "price", "lower", "price"),
)

#: 3 segment kinds × 4 values = 12 segments.
DEFAULT_SEGMENTS: Mapping[str, tuple[str, ...]] = {
    "tier": tuple(PROFIT_TIERS),
    "potential": tuple(POTENTIAL_SEGMENTS),
    "trajectory": ("growth", "stable", "shrinking", "bell"),
}


def synthetic_metrics(n_metrics: int) -> list[tuple[str, str, str, str]]:
    """The first ``n_metrics`` (touchpoint, metric, direction, generator) entries.

    The catalogue is cycled; later rounds get numbered touchpoints (``hotline_2``).
    """
    if n_metrics < 1:
        raise ValueError("n_metrics must be at least 1.")
    out = []
    for i in range(n_metrics):
        touchpoint, metric, direction, kind = METRIC_CATALOGUE[i % len(METRIC_CATALOGUE)]
        rnd = i // len(METRIC_CATALOGUE)
        out.append((touchpoint if rnd == 0 else f"{touchpoint}_{rnd + 1}", metric,
                    direction, kind))
    return out


def synthetic_directions(n_metrics: int) -> dict[tuple[str, str], str]:
    """``{(touchpoint, metric): direction}`` matching :func:`synthetic_observations`."""
    return {(t, m): d for t, m, d, _ in synthetic_metrics(n_metrics)}


def synthetic_price_metrics(n_metrics: int) -> list[tuple[str, str]]:
    """The (touchpoint, metric) pairs that are prices."""
    return [(t, m) for t, m, _, k in synthetic_metrics(n_metrics) if k == "price"]


def synthetic_observations(
    n: int,
    n_metrics: int = 20,
    segments: Mapping[str, Sequence[str]] | None = None,
    penalty: float | Mapping[tuple[str, str], float] = 0.0,
    seed: int = 0,
    *,
    new_share: float = 0.5,
    n_products: int = 20,
    channels: Sequence[str] = ("online", "branch", "phone"),
    price_cv: float = 0.10,
    tenure_walk: float = 0.0,
    new_id_share: float = 0.3,
    start: str = "2024-01-01",
    days: int = 365,
) -> pd.DataFrame:
    """Generate ``n`` observations spread evenly over ``n_metrics`` touchpoint-metrics.

    Parameters
    ----------
    n : int
        Number of observations.
    n_metrics : int, default 20
        Touchpoint-metric pairs, see :func:`synthetic_metrics`.
    segments : mapping, optional
        ``{kind: values}``; existing customers get one value per kind uniformly at
        random, new customers none. Default :data:`DEFAULT_SEGMENTS`.
    penalty : float or mapping, default 0.0
        Share by which existing customers' values are worse (0.1 = 10 % more expensive,
        10 % longer waits, 10 % lower rating/discount/resolution chance). A mapping
        ``{(kind, value): share}`` applies it to those segments only (shares add up).
    seed : int
        Seed; the same arguments give the same frame.
    new_share : float, default 0.5
        Share of observations from new customers.
    n_products : int, default 20
        Product keys for prices and discounts; each product has its own price level.
    price_cv : float, default 0.10
        Coefficient of variation of a product's price (log-normal).
    tenure_walk : float, default 0.0
        Relative price increase per year of tenure for existing customers.
    new_id_share : float, default 0.3
        Share of new customers' observations that carry a customer id.

    Returns
    -------
    pandas.DataFrame
        Columns touchpoint, metric, value, customer_status, customer_id, product_key,
        channel, observed_at, tenure_years and one per segment kind; text columns are
        categoricals to keep a million rows small.
    """
    if n < 1:
        raise ValueError("n must be at least 1.")
    segments = dict(DEFAULT_SEGMENTS if segments is None else segments)
    rng = np.random.default_rng(seed)
    metrics = synthetic_metrics(n_metrics)

    metric_idx = np.arange(n) % n_metrics
    rng.shuffle(metric_idx)
    is_new = rng.random(n) < new_share
    n_existing = int((~is_new).sum())

    # existing customers: ~5 observations each, with segments and tenure
    n_customers = max(1, n_existing // 5)
    customer_of = rng.integers(0, n_customers, size=n)
    cust_segment = {kind: rng.integers(0, len(vals), size=n_customers)
                    for kind, vals in segments.items()}
    cust_tenure = np.clip(rng.exponential(5.0, size=n_customers), 0.1, 30.0)

    worse = np.zeros(n)
    if isinstance(penalty, Mapping):
        for (kind, value), share in penalty.items():
            if kind not in segments or value not in segments[kind]:
                raise ValueError(f"penalty names segment {(kind, value)!r}, which is not in "
                                 f"segments {segments}.")
            code = list(segments[kind]).index(value)
            worse += np.where(cust_segment[kind][customer_of] == code, share, 0.0)
    else:
        worse += float(penalty)
    worse[is_new] = 0.0

    product = rng.integers(0, n_products, size=n)
    level = np.exp(rng.uniform(np.log(50), np.log(2000), size=(n_metrics, n_products)))
    sigma = np.sqrt(np.log1p(price_cv ** 2))
    tenure = np.where(is_new, np.nan, cust_tenure[customer_of])

    value = np.empty(n)
    has_product = np.zeros(n, dtype=bool)
    for i, (_, _, _, kind) in enumerate(metrics):
        rows = np.flatnonzero(metric_idx == i)
        w = worse[rows]
        if kind == "price":
            base = level[i, product[rows]] * rng.lognormal(-sigma ** 2 / 2, sigma, len(rows))
            walk = 1 + tenure_walk * np.nan_to_num(tenure[rows])
            value[rows] = np.round(base * (1 + w) * walk, 2)
            has_product[rows] = True
        elif kind == "wait":
            value[rows] = np.round(rng.exponential(120.0, len(rows)) * (1 + w))
        elif kind == "rating":
            latent = rng.normal(3.8, 0.9, len(rows)) * (1 - w)
            value[rows] = np.clip(np.round(latent), 1, 5)
        elif kind == "discount":
            value[rows] = np.round(rng.gamma(4.0, 2.5, len(rows)) * (1 - w), 1)
            has_product[rows] = True
        else:  # binary
            value[rows] = (rng.random(len(rows)) < 0.8 * (1 - w)).astype(float)

    tp_names = list(dict.fromkeys(t for t, _, _, _ in metrics))
    tp_codes = np.array([tp_names.index(t) for t, _, _, _ in metrics])
    metric_names = list(dict.fromkeys(m for _, m, _, _ in metrics))
    metric_codes = np.array([metric_names.index(m) for _, m, _, _ in metrics])

    # existing customers keep their id; some new customers carry one, most do not
    carries_id = is_new & (rng.random(n) < new_id_share)
    id_codes = np.where(is_new, -1, customer_of)
    id_codes[carries_id] = n_customers + np.arange(int(carries_id.sum()))
    id_names = ([f"C{i:07d}" for i in range(n_customers)]
                + [f"N{i:07d}" for i in range(int(carries_id.sum()))])

    observed = (pd.Timestamp(start).value
                + rng.integers(0, days, size=n) * 86_400_000_000_000
                + rng.integers(8 * 3600, 18 * 3600, size=n) * 1_000_000_000)
    frame = pd.DataFrame({
        "touchpoint": pd.Categorical.from_codes(tp_codes[metric_idx], categories=tp_names),
        "metric": pd.Categorical.from_codes(metric_codes[metric_idx], categories=metric_names),
        "value": value,
        "customer_status": pd.Categorical.from_codes(is_new.astype(int),
                                                     categories=["existing", "new"]),
        "customer_id": pd.Categorical.from_codes(id_codes, categories=id_names),
        "product_key": pd.Categorical.from_codes(np.where(has_product, product, -1),
                                                 categories=[f"P{i:02d}"
                                                             for i in range(n_products)]),
        "channel": pd.Categorical.from_codes(rng.integers(0, len(channels), size=n),
                                             categories=list(channels)),
        "observed_at": pd.to_datetime(observed, unit="ns"),
        "tenure_years": np.round(tenure, 2),
    })
    for kind, vals in segments.items():
        frame[kind] = pd.Categorical.from_codes(
            np.where(is_new, -1, cust_segment[kind][customer_of]), categories=list(vals))
    return frame
