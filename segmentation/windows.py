"""Periods, time windows and the customer x period matrix.

Periods are strings ``YYYY-MM`` (months) or ``YYYY-Qn`` (quarters), as produced
by :func:`segmentation.customer_values.parse_customer_values`; within one kind
they sort correctly as text.

* :func:`aggregate_window` sums a long frame per customer over a window of
  periods (start and end inclusive) - the input of ABC, the potential matrix
  and the profit tiers. The potential is a yearly figure repeated on the
  period rows: the latest value in the window counts, never their sum.
* :func:`to_wide` pivots a long frame into a customer x period matrix (missing
  = NaN, not 0) - the input of :func:`segmentation.trajectory.value_trajectories`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tabular import parse_period, period_kind

__all__ = [
    "aggregate_window",
    "normalize_period",
    "period_end",
    "period_from_ordinal",
    "period_ordinal",
    "period_range",
    "period_start",
    "shift_period",
    "to_wide",
]


def normalize_period(period) -> str:
    """Return ``period`` as ``YYYY-MM`` or ``YYYY-Qn`` (accepts every form of :func:`parse_period`)."""
    text = str(period).strip()
    try:
        period_kind(text)
        return text
    except ValueError:
        pass
    value, message = parse_period(text)
    if value is None:
        raise ValueError(message or f"{period!r} is not a period; write YYYY-MM or YYYY-Qn.")
    return value


def period_ordinal(period: str) -> tuple[str, int]:
    """("month", year × 12 + month − 1) for YYYY-MM, ("quarter", year × 4 + quarter − 1) for YYYY-Qn."""
    kind = period_kind(period)
    year = int(period[:4])
    if kind == "month":
        return kind, year * 12 + int(period[5:7]) - 1
    return kind, year * 4 + int(period[-1]) - 1


def period_from_ordinal(kind: str, ordinal: int) -> str:
    """The period of an ordinal (inverse of :func:`period_ordinal`)."""
    if kind == "month":
        year, month = divmod(ordinal, 12)
        return f"{year:04d}-{month + 1:02d}"
    year, quarter = divmod(ordinal, 4)
    return f"{year:04d}-Q{quarter + 1}"


def shift_period(period: str, steps: int) -> str:
    """Return the period ``steps`` periods after ``period`` (negative: before)."""
    kind, ordinal = period_ordinal(normalize_period(period))
    return period_from_ordinal(kind, ordinal + int(steps))


def period_range(start: str, end: str) -> list[str]:
    """Return all periods from ``start`` to ``end`` inclusive (same kind)."""
    start_kind, first = period_ordinal(normalize_period(start))
    end_kind, last = period_ordinal(normalize_period(end))
    if start_kind != end_kind:
        raise ValueError(f"{start!r} and {end!r} are different kinds of period; use months or quarters.")
    if last < first:
        raise ValueError(f"The window ends ({end}) before it starts ({start}); swap them.")
    return [period_from_ordinal(start_kind, i) for i in range(first, last + 1)]


def period_start(period: str) -> pd.Timestamp:
    """Return the first day of a period."""
    kind, ordinal = period_ordinal(normalize_period(period))
    if kind == "month":
        year, month = divmod(ordinal, 12)
        return pd.Timestamp(year=year, month=month + 1, day=1)
    year, quarter = divmod(ordinal, 4)
    return pd.Timestamp(year=year, month=3 * quarter + 1, day=1)


def period_end(period: str) -> pd.Timestamp:
    """Return the last day of a period (midnight)."""
    following = shift_period(period, 1)
    return period_start(following) - pd.Timedelta(days=1)


def repeats(ids: pd.Series) -> bool:
    """Whether a customer id occurs twice; ids in strictly ascending order (as the loaders give them)
    are answered by one comparison instead of a hash of every id."""
    values = ids.to_numpy()
    try:
        if len(values) < 2 or bool((values[1:] > values[:-1]).all()):
            return False
    except TypeError:  # ids that do not compare: the hash decides
        pass
    return bool(ids.duplicated().any())


def _require(frame: pd.DataFrame, columns: Sequence[str], hint: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"Columns {missing} are missing; {hint}.")


def _data_kind(periods: pd.Series) -> str | None:
    unique = pd.unique(periods.dropna())
    kinds = {period_kind(p) for p in unique}
    if len(kinds) > 1:
        raise ValueError("The frame mixes months and quarters; use one kind of period.")
    return kinds.pop() if kinds else None


def to_wide(
    long_values: pd.DataFrame,
    value_col: str = "revenue",
    *,
    id_col: str = "customer_id",
    period_col: str = "period",
    periods: Sequence[str] | None = None,
    complete: bool = True,
) -> pd.DataFrame:
    """Pivot a long frame into a customer x period matrix of one value.

    Parameters
    ----------
    long_values : DataFrame
        One row per customer and period (several rows are summed).
    value_col : str
        The value to spread, e.g. ``"revenue"`` or ``"contribution"``.
    periods : sequence of str, optional
        Exactly these columns, in this order (others are dropped, absent ones
        are all NaN).
    complete : bool
        Without ``periods``: insert periods between the first and the last one
        that no customer has, so the columns are equally spaced in time.

    Returns
    -------
    DataFrame
        Index ``id_col``, columns the periods (named ``period_col``), float
        values, NaN where a customer has no value.
    """
    _require(long_values, [id_col, period_col, value_col], "pass the parsed customer values")
    data = long_values[[id_col, period_col, value_col]].copy()
    data[value_col] = pd.to_numeric(data[value_col], errors="coerce").astype(float)
    grouped = data.groupby([id_col, period_col], sort=True)[value_col].sum(min_count=1)
    wide = grouped.unstack(period_col)
    if periods is not None:
        columns = [normalize_period(p) for p in periods]
    else:
        columns = sorted(wide.columns)
        kind = _data_kind(pd.Series(columns, dtype=object))
        if complete and kind is not None and columns:
            columns = period_range(columns[0], columns[-1])
    wide = wide.reindex(columns=columns).astype(float)
    wide.columns = pd.Index(columns, name=period_col, dtype=object)
    wide.index.name = id_col
    return wide


def aggregate_window(
    long_values: pd.DataFrame,
    start: str | None = None,
    end: str | None = None,
    *,
    id_col: str = "customer_id",
    period_col: str = "period",
    potential_how: str = "last",
) -> pd.DataFrame:
    """Sum a long frame per customer over a window of periods.

    Parameters
    ----------
    long_values : DataFrame
        Parsed customer values (one row per customer and period).
    start, end : str, optional
        First and last period of the window, inclusive; None = open end.
    potential_how : {"last", "mean", "max"}
        How the per-period potential is combined. The potential is the
        customer's spend in our category **a year**, which exports repeat on
        every period row: ``"last"`` (default) takes the latest value in the
        window. It is never summed (18 monthly rows of one yearly figure are not
        18 years of spend).

    Returns
    -------
    DataFrame
        One row per customer with a row in the window, sorted by ``id_col``:
        ``id_col``, ``name``, ``customer_since`` (first non-empty, when present),
        ``revenue``, ``cost_to_serve``, ``contribution`` (sums; NaN when no row
        had a value), ``potential`` (a year: the latest in the window unless
        ``potential_how`` says otherwise), ``potential_rating`` (the latest in
        the window), ``n_periods``, ``first_period``, ``last_period``.
    """
    if potential_how not in {"mean", "max", "last"}:
        raise ValueError(
            f"potential_how must be 'last', 'mean' or 'max', not {potential_how!r}; the potential is a yearly "
            "figure and is never summed over periods."
        )
    _require(long_values, [id_col, period_col, "revenue"], "pass the parsed customer values")
    data = long_values.copy()
    kind = _data_kind(data[period_col])
    mask = pd.Series(True, index=data.index)
    for bound, compare in ((start, "ge"), (end, "le")):
        if bound is None:
            continue
        bound = normalize_period(bound)
        if kind is not None and period_kind(bound) != kind:
            raise ValueError(
                f"The window bound {bound!r} is a {period_kind(bound)} but the data has {kind}s."
            )
        mask &= getattr(data[period_col], compare)(bound)
    if start is not None and end is not None and normalize_period(end) < normalize_period(start):
        raise ValueError(f"The window ends ({end}) before it starts ({start}); swap them.")
    data = data[mask].sort_values([id_col, period_col], kind="mergesort")
    grouped = data.groupby(id_col, sort=True)
    out = pd.DataFrame(index=pd.Index(sorted(data[id_col].unique()), name=id_col, dtype=object))
    for field in ("name", "customer_since"):
        if field in data.columns:
            out[field] = grouped[field].first()
    for field in ("revenue", "cost_to_serve", "contribution"):
        if field in data.columns:
            out[field] = grouped[field].sum(min_count=1).astype(float)
    if "potential" in data.columns:
        potential = pd.to_numeric(data["potential"], errors="coerce").astype(float).groupby(data[id_col], sort=True)
        out["potential"] = getattr(potential, potential_how)().astype(float)
    if "potential_rating" in data.columns:
        out["potential_rating"] = grouped["potential_rating"].last()
    out["n_periods"] = grouped[period_col].nunique().astype(np.int64)
    out["first_period"] = grouped[period_col].min()
    out["last_period"] = grouped[period_col].max()
    return out.reset_index()
