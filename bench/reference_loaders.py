"""Reference loaders: the same window sums and value matrices as app.segments.loaders,
computed the plain way (a GROUP BY in SQL, a pivot in SQL, every row into pandas). The
product reads series blocks; these exist so tests can check the blocks against them and
the benchmarks can time the blocks against them. Not used by the app."""
from __future__ import annotations

import numpy as np
import pandas as pd

from app.segments.loaders import VALUE_BASES, _check_period, _dialect, read_frame
from segmentation.windows import aggregate_window, period_range

_CONTRIBUTION = "COALESCE(v.contribution, v.revenue - v.cost_to_serve)"


def window_totals(start: str, end: str) -> pd.DataFrame:
    """One row per customer with values in the window: sums computed by the database.

    Columns: customer_id, customer_since, revenue, cost_to_serve, contribution,
    potential (a year: the latest in the window), potential_rating (the
    latest in the window), n_periods.
    """
    _check_period(start), _check_period(end)
    # The latest rating: the maximum of "period:rating" strings is the latest period's.
    sql = (
        "SELECT v.customer_id, MAX(c.customer_since), SUM(v.revenue), SUM(v.cost_to_serve), "
        f"SUM({_CONTRIBUTION}), (SELECT p.potential FROM customer_values p WHERE p.customer_id = v.customer_id "
        "AND p.period >= ? AND p.period <= ? AND p.potential IS NOT NULL ORDER BY p.period DESC LIMIT 1), "
        "MAX(CASE WHEN v.potential_rating IS NOT NULL THEN v.period || ':' || CAST(v.potential_rating AS TEXT) END), "
        "COUNT(*) FROM customer_values v JOIN customers c ON c.id = v.customer_id "
        "WHERE v.period >= ? AND v.period <= ? GROUP BY v.customer_id ORDER BY v.customer_id"
    )
    columns = ["customer_id", "customer_since", "revenue", "cost_to_serve", "contribution", "potential",
               "potential_rating", "n_periods"]
    frame = read_frame(sql, (start, end, start, end), columns)
    return _typed_totals(frame)


def _typed_totals(frame: pd.DataFrame) -> pd.DataFrame:
    frame["customer_id"] = frame["customer_id"].astype(np.int64)
    frame["customer_since"] = pd.to_datetime(frame["customer_since"], errors="coerce")
    for column in ("revenue", "cost_to_serve", "contribution", "potential"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    rating = frame["potential_rating"].astype(object).where(frame["potential_rating"].notna(), None)
    frame["potential_rating"] = pd.to_numeric(
        rating.map(lambda text: text.rsplit(":", 1)[1] if isinstance(text, str) else None), errors="coerce"
    ).astype("Int64") if rating.notna().any() else pd.array([pd.NA] * len(frame), dtype="Int64")
    frame["n_periods"] = frame["n_periods"].astype(np.int64)
    return frame


def window_rows(start: str, end: str) -> pd.DataFrame:
    """Every stored row of the window (the slow alternative to :func:`window_totals`)."""
    _check_period(start), _check_period(end)
    sql = (
        "SELECT v.customer_id, c.customer_since, v.period, v.revenue, v.cost_to_serve, "
        f"{_CONTRIBUTION}, v.potential, v.potential_rating FROM customer_values v "
        "JOIN customers c ON c.id = v.customer_id WHERE v.period >= ? AND v.period <= ?"
    )
    columns = ["customer_id", "customer_since", "period", "revenue", "cost_to_serve", "contribution",
               "potential", "potential_rating"]
    return read_frame(sql, (start, end), columns)


def window_totals_in_pandas(start: str, end: str) -> pd.DataFrame:
    """The same sums as :func:`window_totals`, by loading every row (for comparison)."""
    rows = window_rows(start, end)
    totals = aggregate_window(rows, start, end)
    return totals


def value_matrix(start: str, end: str, value: str = "revenue") -> pd.DataFrame:
    """Customer × period matrix of revenue or contribution, pivoted in SQL (NaN = no value)."""
    if value not in VALUE_BASES:
        raise ValueError(f"value must be one of {VALUE_BASES}")
    periods = period_range(_check_period(start), _check_period(end))
    expression = "v.revenue" if value == "revenue" else _CONTRIBUTION
    cells = ", ".join(f"SUM(CASE WHEN v.period = '{p}' THEN {expression} END)" for p in periods)
    sql = (
        f"SELECT v.customer_id, {cells} FROM customer_values v "
        "WHERE v.period >= ? AND v.period <= ? GROUP BY v.customer_id ORDER BY v.customer_id"
    )
    frame = read_frame(sql, (start, end), ["customer_id", *periods])
    matrix = frame.set_index("customer_id")
    matrix.index = matrix.index.astype(np.int64)
    matrix = matrix.apply(pd.to_numeric, errors="coerce").astype(float) if _dialect() != "postgresql" else \
        matrix.astype(float)
    matrix.columns = pd.Index(periods, name="period", dtype=object)
    return matrix


def value_matrix_from_rows(start: str, end: str, value: str = "revenue") -> pd.DataFrame:
    """The same matrix built in numpy from every stored row (for comparison)."""
    periods = period_range(_check_period(start), _check_period(end))
    expression = "v.revenue" if value == "revenue" else _CONTRIBUTION
    rows = read_frame(
        f"SELECT v.customer_id, v.period, {expression} FROM customer_values v WHERE v.period >= ? AND v.period <= ?",
        (start, end), ["customer_id", "period", "value"],
    )
    ids, id_index = np.unique(rows["customer_id"].to_numpy(dtype=np.int64), return_inverse=True)
    column = pd.Index(periods).get_indexer(rows["period"])
    matrix = np.full((len(ids), len(periods)), np.nan)
    matrix[id_index, column] = pd.to_numeric(rows["value"], errors="coerce").to_numpy(dtype=float)
    return pd.DataFrame(matrix, index=pd.Index(ids, name="customer_id"),
                        columns=pd.Index(periods, name="period", dtype=object))
