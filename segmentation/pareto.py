"""ABC classes by revenue and A/B/C/Z profit tiers by contribution (Pareto rule).

Both methods take one row per customer (e.g. from
:func:`segmentation.windows.aggregate_window`) and return one row per customer,
sorted by rank, with the class and the figures that decided it.

Pareto rule (shared)
--------------------
Customers are sorted by value, descending; ties are broken by ``customer_id``
ascending so the order is deterministic; missing values come last. For a
customer with a positive value, ``cum_share_before`` is the share of the total
*positive* value held by all customers ranked before it:

* ``cum_share_before < thresholds[0]`` (default 0.80) → A
* ``cum_share_before < thresholds[1]`` (default 0.95) → B
* otherwise → C

A customer exactly at a threshold falls into the lower class (80 % before it →
B); values within 1e-9 of a threshold count as exactly on it, so floating-point
noise cannot move a customer across. The largest customer is always A.

* ABC: zero, negative or missing revenue → C (share 0, cum_share_before 1).
* Profit tiers: contribution = the given contribution, else revenue −
  cost-to-serve; negative contribution → Z, zero contribution → C, missing →
  no tier (None); A/B/C among the positive contributions by the rule above.
  Each tier has a service level (:data:`segmentation.definitions.PROFIT_TIERS`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .definitions import PROFIT_TIERS

__all__ = ["abc_classes", "cross_subsidy", "pareto_curve", "profit_tiers"]

_TOLERANCE = 1e-9


def _check_thresholds(thresholds: Sequence[float]) -> tuple[float, float]:
    try:
        first, second = (float(t) for t in thresholds)
    except (TypeError, ValueError) as exc:
        raise ValueError("thresholds must be two shares, e.g. (0.8, 0.95).") from exc
    if not 0 < first <= second <= 1:
        raise ValueError(
            f"thresholds must satisfy 0 < A-limit <= B-limit <= 1, got {thresholds!r}; e.g. (0.8, 0.95)."
        )
    return first, second


def _per_customer(values: pd.DataFrame, id_col: str, columns: Sequence[str]) -> pd.DataFrame:
    missing = [c for c in [id_col, *columns] if c not in values.columns]
    if missing:
        raise ValueError(
            f"Columns {missing} are missing; pass one row per customer, e.g. from aggregate_window()."
        )
    if values[id_col].duplicated().any():
        raise ValueError(
            f"{id_col} repeats; aggregate to one row per customer first (aggregate_window())."
        )
    return values[[id_col, *columns]].copy()


def _pareto(frame: pd.DataFrame, id_col: str, value_col: str, thresholds) -> pd.DataFrame:
    """Sort by value and add rank, share, cum_share_before and the A/B/C class."""
    first, second = thresholds
    value = pd.to_numeric(frame[value_col], errors="coerce").astype(float)
    ordered = frame.assign(_value=value, _missing=value.isna()).sort_values(
        ["_missing", "_value", id_col], ascending=[True, False, True], kind="mergesort"
    )
    positive_values = ordered["_value"].where(ordered["_value"] > 0, 0.0).to_numpy()
    total = positive_values.sum()
    cumulative_before = np.concatenate(([0.0], np.cumsum(positive_values)[:-1]))
    positive = positive_values > 0
    if total > 0:
        share = positive_values / total
        cum_before = np.where(positive, cumulative_before / total, 1.0)
    else:
        share = np.zeros(len(ordered))
        cum_before = np.full(len(ordered), np.nan)
    classes = np.where(
        ~positive,
        "C",
        np.where(
            cum_before < first - _TOLERANCE,
            "A",
            np.where(cum_before < second - _TOLERANCE, "B", "C"),
        ),
    )
    out = ordered.drop(columns=["_value", "_missing"]).reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1, dtype=np.int64)
    out["share"] = share
    out["cum_share_before"] = cum_before
    out["_class"] = classes.astype(object)
    return out


def abc_classes(
    values: pd.DataFrame,
    value_col: str = "revenue",
    thresholds: Sequence[float] = (0.8, 0.95),
    *,
    id_col: str = "customer_id",
) -> pd.DataFrame:
    """Classify customers A/B/C by their share of revenue (Pareto).

    Parameters
    ----------
    values : DataFrame
        One row per customer.
    value_col : str
        The value to rank by (revenue in the window).
    thresholds : (float, float)
        Cumulative-share limits for A and B (see the module docstring).

    Returns
    -------
    DataFrame
        Sorted by rank: ``id_col``, ``value_col``, ``rank`` (1 = largest),
        ``share`` (of the total positive value), ``cum_share_before``,
        ``abc_class``.
    """
    limits = _check_thresholds(thresholds)
    frame = _per_customer(values, id_col, [value_col])
    out = _pareto(frame, id_col, value_col, limits)
    return out.rename(columns={"_class": "abc_class"})


def pareto_curve(abc: pd.DataFrame) -> pd.DataFrame:
    """Return the points of the Pareto (Lorenz-type) curve for an :func:`abc_classes` result.

    Columns: ``customer_share`` (share of customers up to this rank),
    ``cum_share`` (share of the value they hold), ``abc_class``; the first
    point is the origin (0, 0) with class None.
    """
    required = ["rank", "share", "abc_class"]
    missing = [c for c in required if c not in abc.columns]
    if missing:
        raise ValueError(f"Columns {missing} are missing; pass the result of abc_classes().")
    ordered = abc.sort_values("rank", kind="mergesort")
    n = len(ordered)
    customer_share = np.arange(0, n + 1, dtype=float) / max(n, 1)
    cum_share = np.concatenate(([0.0], np.cumsum(ordered["share"].to_numpy(dtype=float))))
    classes = [None, *ordered["abc_class"].tolist()]
    return pd.DataFrame(
        {"customer_share": customer_share, "cum_share": cum_share, "abc_class": classes}
    )


def profit_tiers(
    values: pd.DataFrame,
    revenue_col: str = "revenue",
    cost_col: str | None = None,
    contribution_col: str | None = None,
    thresholds: Sequence[float] = (0.8, 0.95),
    *,
    id_col: str = "customer_id",
) -> pd.DataFrame:
    """Assign profit tiers A/B/C/Z and their service levels.

    Parameters
    ----------
    values : DataFrame
        One row per customer.
    revenue_col : str
        Revenue (for the margin and, with ``cost_col``, the contribution).
    cost_col : str, optional
        Cost-to-serve; contribution = revenue − cost where no contribution is given.
    contribution_col : str, optional
        Given contribution margin (takes precedence where present).
    thresholds : (float, float)
        Cumulative-share limits for A and B on positive contribution.

    Returns
    -------
    DataFrame
        Sorted by rank: ``id_col``, ``revenue``, ``contribution``, ``margin``
        (contribution / revenue, NaN unless revenue > 0), ``rank``, ``share``
        (of the total positive contribution), ``cum_share_before``,
        ``profit_tier`` (A/B/C/Z or None) and ``service_level``
        (exclusive/standard/basic/review or None).
    """
    if cost_col is None and contribution_col is None:
        raise ValueError(
            "Give cost_col (contribution = revenue - cost) or contribution_col (a given margin)."
        )
    limits = _check_thresholds(thresholds)
    columns = [c for c in dict.fromkeys([revenue_col, cost_col, contribution_col]) if c is not None]
    frame = _per_customer(values, id_col, columns)
    revenue = pd.to_numeric(frame[revenue_col], errors="coerce").astype(float)
    contribution = pd.Series(np.nan, index=frame.index)
    if contribution_col is not None:
        contribution = pd.to_numeric(frame[contribution_col], errors="coerce").astype(float)
    if cost_col is not None:
        cost = pd.to_numeric(frame[cost_col], errors="coerce").astype(float)
        contribution = contribution.where(contribution.notna(), revenue - cost)
    base = pd.DataFrame(
        {id_col: frame[id_col], "revenue": revenue, "contribution": contribution}
    )
    margin = np.divide(
        contribution.to_numpy(),
        revenue.to_numpy(),
        out=np.full(len(base), np.nan),
        where=(revenue > 0).to_numpy() & contribution.notna().to_numpy(),
    )
    base["margin"] = margin
    out = _pareto(base, id_col, "contribution", limits)
    tier = out.pop("_class")
    tier = tier.where(~(out["contribution"] < 0), "Z")
    tier = tier.where(out["contribution"].notna(), None)
    out["profit_tier"] = tier.astype(object)
    levels = {key: entry["service_level"] for key, entry in PROFIT_TIERS.items()}
    out["service_level"] = out["profit_tier"].map(levels).astype(object)
    out["service_level"] = out["service_level"].where(out["profit_tier"].notna(), None)
    return out


def cross_subsidy(
    tiers: pd.DataFrame,
    *,
    tier_col: str = "profit_tier",
    contribution_col: str = "contribution",
) -> dict:
    """Sum up how much the loss-making Z customers cost the profitable rest.

    Parameters
    ----------
    tiers : DataFrame
        The result of :func:`profit_tiers`.

    Returns
    -------
    dict
        ``z_loss`` (total loss of Z customers, a positive number),
        ``rest_profit`` (total contribution of the A/B/C customers),
        ``share_eaten`` (z_loss / rest_profit; None when rest_profit is 0),
        ``net_contribution`` (rest_profit − z_loss), ``z_customers``,
        ``rest_customers``, ``customers_by_tier`` (counts for A, B, C, Z) and
        ``unknown_customers`` (no contribution).
    """
    missing = [c for c in (tier_col, contribution_col) if c not in tiers.columns]
    if missing:
        raise ValueError(f"Columns {missing} are missing; pass the result of profit_tiers().")
    tier = tiers[tier_col]
    contribution = pd.to_numeric(tiers[contribution_col], errors="coerce").astype(float)
    is_z = tier == "Z"
    is_rest = tier.isin(["A", "B", "C"])
    z_loss = abs(float(contribution[is_z].sum()))
    rest_profit = float(contribution[is_rest].sum())
    return {
        "z_loss": z_loss,
        "rest_profit": rest_profit,
        "share_eaten": (z_loss / rest_profit) if rest_profit > 0 else None,
        "net_contribution": rest_profit - z_loss,
        "z_customers": int(is_z.sum()),
        "rest_customers": int(is_rest.sum()),
        "customers_by_tier": {key: int((tier == key).sum()) for key in PROFIT_TIERS},
        "unknown_customers": int(tier.isna().sum()),
    }
