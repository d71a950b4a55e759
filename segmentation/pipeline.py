"""Run all segmentation methods and join them into one frame per customer.

:func:`segment_customers` takes per-customer aggregates (from
:func:`segmentation.windows.aggregate_window`) and, optionally, the customer x
period matrix (from :func:`segmentation.windows.to_wide`);
:func:`segment_window` does both steps from the long frame of
:func:`segmentation.customer_values.parse_customer_values`.

Columns are chosen automatically (``"auto"``) where the data allow: the
potential matrix uses ``potential`` when any customer has one, else
``potential_rating``; the profit tiers use ``contribution`` where given and
``cost_to_serve`` otherwise. A method without its data leaves its columns
empty (None/NaN), so the frame always has the same columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from tabular import period_kind

from .pareto import abc_classes, profit_tiers
from .potential import potential_matrix
from .trajectory import value_trajectories
from .windows import aggregate_window, period_range, to_wide

__all__ = ["SEGMENT_COLUMNS", "segment_customers", "segment_window"]

#: Columns added by :func:`segment_customers`, by method.
SEGMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "abc": ("abc_rank", "abc_share", "abc_cum_share_before", "abc_class"),
    "potential": (
        "potential_untapped",
        "potential_split_x",
        "potential_split_y",
        "potential_segment",
    ),
    "profit": (
        "profit_contribution",
        "margin",
        "profit_rank",
        "profit_share",
        "profit_cum_share_before",
        "profit_tier",
        "service_level",
    ),
    "trajectory": (
        "trajectory",
        "trajectory_reason",
        "trajectory_n_periods",
        "trajectory_slope",
        "trajectory_slope_rel",
        "trajectory_p_value",
        "trajectory_peak_index",
        "trajectory_peak_ratio_start",
        "trajectory_peak_ratio_end",
        "trajectory_seasonal_acf",
        "trajectory_cycle_strength",
        "trajectory_curvature_p",
        "burr",
        "tenure_years",
    ),
}

_TEXT_COLUMNS = {
    "abc_class", "potential_segment", "profit_tier", "service_level", "trajectory", "trajectory_reason",
}


def _has_values(frame: pd.DataFrame, column: str) -> bool:
    return column in frame.columns and frame[column].notna().any()


def _empty(index: pd.Index, columns: Sequence[str]) -> pd.DataFrame:
    out = pd.DataFrame(index=index)
    for column in columns:
        if column in _TEXT_COLUMNS:
            out[column] = pd.Series([None] * len(index), index=index, dtype=object)
        elif column == "burr":
            out[column] = pd.array([pd.NA] * len(index), dtype="boolean")
        elif column in ("abc_rank", "profit_rank", "trajectory_n_periods", "trajectory_peak_index"):
            out[column] = pd.array([pd.NA] * len(index), dtype="Int64")
        else:
            out[column] = np.nan
    return out


def _periods_per_year(columns: pd.Index) -> int:
    try:
        kinds = {period_kind(str(c)) for c in columns}
    except ValueError:
        return 12
    return 4 if kinds == {"quarter"} else 12


def segment_customers(
    aggregates: pd.DataFrame,
    wide: pd.DataFrame | None = None,
    *,
    id_col: str = "customer_id",
    revenue_col: str = "revenue",
    potential_col: str | None = "auto",
    rating_col: str | None = "auto",
    cost_col: str | None = "auto",
    contribution_col: str | None = "auto",
    abc_thresholds: Sequence[float] = (0.8, 0.95),
    profit_thresholds: Sequence[float] = (0.8, 0.95),
    split: tuple[float | None, float | None] | None = None,
    as_of=None,
    trajectory_options: Mapping | None = None,
    window_years: float | None = None,
) -> pd.DataFrame:
    """Run ABC, potential matrix, profit tiers and trajectories; one row per customer.

    Parameters
    ----------
    aggregates : DataFrame
        One row per customer (e.g. :func:`aggregate_window`).
    wide : DataFrame, optional
        Customer x period matrix for the trajectories (:func:`to_wide`);
        without it the trajectory columns stay empty.
    potential_col, rating_col, cost_col, contribution_col : str, "auto" or None
        Columns for the methods; ``"auto"`` picks them as the module docstring
        says, None leaves them out.
    abc_thresholds, profit_thresholds, split :
        Passed to :func:`abc_classes`, :func:`profit_tiers`, :func:`potential_matrix`.
    as_of : date, optional
        Date for the tenure (burr flag); default the end of the last period.
    trajectory_options : mapping, optional
        More keyword arguments for :func:`value_trajectories` (e.g. ``alpha``);
        ``periods_per_year`` defaults to 4 for quarter columns, else 12.
    window_years : float, optional
        The window's length in years, for the untapped potential (yearly
        potential − revenue a year); default: from ``wide``'s columns.

    Returns
    -------
    DataFrame
        The aggregates' columns plus :data:`SEGMENT_COLUMNS`, sorted by
        ``abc_rank``.
    """
    if id_col not in aggregates.columns or revenue_col not in aggregates.columns:
        raise ValueError(f"aggregates needs {id_col!r} and {revenue_col!r}; build it with aggregate_window().")
    base = aggregates.copy()
    index = pd.Index(base[id_col], name=id_col)
    if index.has_duplicates:
        raise ValueError(f"{id_col} repeats; aggregate to one row per customer first (aggregate_window()).")

    abc = abc_classes(base, revenue_col, abc_thresholds, id_col=id_col).set_index(id_col)
    abc_part = abc[["rank", "share", "cum_share_before", "abc_class"]].rename(
        columns={"rank": "abc_rank", "share": "abc_share", "cum_share_before": "abc_cum_share_before"}
    )

    if potential_col == "auto":
        potential_col = "potential" if _has_values(base, "potential") else None
    if rating_col == "auto":
        rating_col = (
            "potential_rating" if potential_col is None and _has_values(base, "potential_rating") else None
        )
    if potential_col is None and rating_col is None:
        potential_part = _empty(index, SEGMENT_COLUMNS["potential"])
    else:
        if window_years is None and wide is not None and len(wide.columns):
            window_years = len(wide.columns) / _periods_per_year(wide.columns)
        matrix = potential_matrix(
            base, revenue_col, potential_col, rating_col, split, id_col=id_col, window_years=window_years
        ).set_index(id_col)
        potential_part = matrix[["y", "split_x", "split_y", "potential_segment"]].rename(
            columns={"y": "potential_untapped", "split_x": "potential_split_x", "split_y": "potential_split_y"}
        )

    if contribution_col == "auto":
        contribution_col = "contribution" if _has_values(base, "contribution") else None
    if cost_col == "auto":
        cost_col = "cost_to_serve" if _has_values(base, "cost_to_serve") else None
    if contribution_col is None and cost_col is None:
        profit_part = _empty(index, SEGMENT_COLUMNS["profit"])
        contribution = None
    else:
        tiers = profit_tiers(
            base, revenue_col, cost_col, contribution_col, profit_thresholds, id_col=id_col
        ).set_index(id_col)
        profit_part = tiers[
            ["contribution", "margin", "rank", "share", "cum_share_before", "profit_tier", "service_level"]
        ].rename(
            columns={
                "contribution": "profit_contribution",
                "rank": "profit_rank",
                "share": "profit_share",
                "cum_share_before": "profit_cum_share_before",
            }
        )
        contribution = tiers["contribution"]

    if wide is None:
        trajectory_part = _empty(index, SEGMENT_COLUMNS["trajectory"])
    else:
        options = dict(trajectory_options or {})
        options.setdefault("periods_per_year", _periods_per_year(wide.columns))
        since = base.set_index(id_col)["customer_since"] if "customer_since" in base.columns else None
        trajectories = value_trajectories(
            wide,
            customer_since=since,
            as_of=as_of,
            contribution=contribution,
            revenue=base.set_index(id_col)[revenue_col],
            **options,
        )
        trajectories = trajectories.set_index(trajectories.columns[0])
        renamed = {
            name: f"trajectory_{name}"
            for name in trajectories.columns
            if name not in ("trajectory", "burr", "tenure_years", "margin")
        }
        trajectory_part = trajectories.rename(columns=renamed)[list(SEGMENT_COLUMNS["trajectory"])]
        trajectory_part = trajectory_part.reindex(index)
        trajectory_part["trajectory_n_periods"] = trajectory_part["trajectory_n_periods"].astype("Int64")
        trajectory_part["trajectory_peak_index"] = trajectory_part["trajectory_peak_index"].astype("Int64")
        for column in ("trajectory", "trajectory_reason"):
            trajectory_part[column] = trajectory_part[column].astype(object).where(
                trajectory_part[column].notna(), None
            )

    joined = (
        base.set_index(id_col)
        .join(abc_part)
        .join(potential_part.reindex(index))
        .join(profit_part.reindex(index))
        .join(trajectory_part)
    )
    joined = joined.sort_values("abc_rank", kind="mergesort").reset_index()
    joined["abc_rank"] = joined["abc_rank"].astype("Int64")
    joined["profit_rank"] = joined["profit_rank"].astype("Int64")
    return joined


def segment_window(
    long_values: pd.DataFrame,
    start: str | None = None,
    end: str | None = None,
    *,
    trajectory_value: str = "revenue",
    potential_how: str = "last",
    **options,
) -> pd.DataFrame:
    """Aggregate a long frame over a window and segment it (:func:`segment_customers`).

    ``trajectory_value`` is the value whose shape over time is classified
    (``"revenue"`` or ``"contribution"``); the matrix spans every period of the
    window. Other keyword arguments go to :func:`segment_customers`.
    """
    aggregates = aggregate_window(long_values, start, end, potential_how=potential_how)
    if aggregates.empty:
        return segment_customers(aggregates, None, **options)
    first = start if start is not None else aggregates["first_period"].min()
    last = end if end is not None else aggregates["last_period"].max()
    periods = period_range(first, last)
    window = long_values[long_values["period"].isin(periods)]
    wide = to_wide(window, trajectory_value, periods=periods)
    return segment_customers(aggregates, wide, **options)
