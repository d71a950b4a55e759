"""Customer values from the database as the frames ``segmentation`` takes.

Design for scale: the per-customer sums over the window are computed by the
database (one ``GROUP BY customer_id`` pass), and the customer × period matrix
for the trajectories is pivoted in SQL, so Python never sees one object per
stored row. On PostgreSQL results stream through ``COPY … TO STDOUT`` into
``pandas.read_csv``; on SQLite through the DB-API cursor.

Customer ids in these frames are the database ids (``customers.id``); the
customer number users know is in ``customer_no`` where it is needed.
"""
from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import sqlalchemy as sa

from app.extensions import db
from app.models import CustomerValue
from segmentation.windows import aggregate_window, period_range

_PERIOD = re.compile(r"^\d{4}-(?:0[1-9]|1[0-2]|Q[1-4])$")
VALUE_BASES = ("revenue", "contribution")


def _check_period(period: str) -> str:
    if not isinstance(period, str) or not _PERIOD.match(period):
        raise ValueError(f"{period!r} is not a period (YYYY-MM or YYYY-Qn)")
    return period


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _window_filter() -> str:
    """The window condition; on SQLite ``+`` keeps the planner off the period index,
    which would turn the GROUP BY's sequential scan into random lookups."""
    column = "+v.period" if _dialect() == "sqlite" else "v.period"
    return f"{column} >= ? AND {column} <= ?"


def read_frame(sql: str, params: tuple, columns: list[str], text: tuple[str, ...] = ("customer_since",)) -> pd.DataFrame:
    """Run a raw SELECT (``?`` placeholders) and return its rows as a frame, fast."""
    connection = db.session.connection()
    raw = connection.connection.dbapi_connection
    if _dialect() == "postgresql":
        buffer = io.BytesIO()
        with raw.cursor() as cursor:
            statement = f"COPY ({sql.replace('?', '%s')}) TO STDOUT (FORMAT csv)"
            with cursor.copy(statement, params) as copy:
                for block in copy:
                    buffer.write(block)
        buffer.seek(0)
        if buffer.getbuffer().nbytes == 0:
            return pd.DataFrame(columns=columns)
        return pd.read_csv(buffer, header=None, names=columns, keep_default_na=False,
                           na_values=[""], dtype={name: object for name in text if name in columns})
    cursor = raw.cursor()
    try:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return pd.DataFrame.from_records(rows, columns=columns)


def available_periods() -> list[str]:
    """Every period that has values, sorted."""
    return list(db.session.scalars(sa.select(CustomerValue.period).distinct().order_by(CustomerValue.period)))


def default_window(periods: list[str] | None = None, length: int = 24) -> tuple[str, str] | None:
    """The latest ``length`` periods of the latest kind of period held (None without data)."""
    periods = available_periods() if periods is None else periods
    if not periods:
        return None
    kind_q = "Q" in periods[-1]
    same = [p for p in periods if ("Q" in p) == kind_q]
    end = same[-1]
    full = period_range(same[0], end)
    return full[max(0, len(full) - length)], end


_CONTRIBUTION = "COALESCE(v.contribution, v.revenue - v.cost_to_serve)"


def window_totals(start: str, end: str) -> pd.DataFrame:
    """One row per customer with values in the window: sums computed by the database.

    Columns: customer_id, customer_since, revenue, cost_to_serve, contribution,
    potential (summed like revenue), potential_rating (the latest in the
    window), n_periods.
    """
    _check_period(start), _check_period(end)
    # The latest rating: the maximum of "period:rating" strings is the latest period's.
    sql = (
        "SELECT v.customer_id, MAX(c.customer_since), SUM(v.revenue), SUM(v.cost_to_serve), "
        f"SUM({_CONTRIBUTION}), SUM(v.potential), "
        "MAX(CASE WHEN v.potential_rating IS NOT NULL THEN v.period || ':' || CAST(v.potential_rating AS TEXT) END), "
        "COUNT(*) FROM customer_values v JOIN customers c ON c.id = v.customer_id "
        f"WHERE {_window_filter()} GROUP BY v.customer_id ORDER BY v.customer_id"
    )
    columns = ["customer_id", "customer_since", "revenue", "cost_to_serve", "contribution", "potential",
               "potential_rating", "n_periods"]
    frame = read_frame(sql, (start, end), columns)
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
        f"WHERE {_window_filter()} GROUP BY v.customer_id ORDER BY v.customer_id"
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


def customer_history(customer_id: int) -> pd.DataFrame:
    """One customer's stored values, by period."""
    rows = db.session.execute(
        sa.select(CustomerValue.period, CustomerValue.revenue, CustomerValue.cost_to_serve,
                  sa.func.coalesce(CustomerValue.contribution, CustomerValue.revenue - CustomerValue.cost_to_serve),
                  CustomerValue.potential, CustomerValue.potential_rating)
        .where(CustomerValue.customer_id == customer_id).order_by(CustomerValue.period)
    ).all()
    return pd.DataFrame(rows, columns=["period", "revenue", "cost_to_serve", "contribution", "potential",
                                       "potential_rating"])


def customer_numbers() -> pd.Series:
    """customer id → customer number, for every customer."""
    frame = read_frame("SELECT id, customer_no FROM customers", (), ["id", "customer_no"], text=("customer_no",))
    return pd.Series(frame["customer_no"].astype(str).to_numpy(), index=frame["id"].astype(np.int64).to_numpy())


def _customer_period_index() -> str | None:
    """Name of the SQLite index on customer_values (customer_id, period), if any."""
    connection = db.session.connection()
    for row in connection.exec_driver_sql("PRAGMA index_list('customer_values')").all():
        name = row[1]
        columns = [info[2] for info in connection.exec_driver_sql(f"PRAGMA index_info('{name}')").all()]
        if columns == ["customer_id", "period"]:
            return f'"{name}"'
    return None


def load_window(start: str, end: str, value: str = "revenue", with_rating: bool = True
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-customer totals and the customer × period matrix in ONE pass over the rows.

    The database streams the window's rows in (customer, period) order and
    returns one row per customer: the sums plus the series as one text
    (``group_concat`` / ``string_agg``), which numpy parses in C. Customers
    with a gap in the window (fewer values than periods) get their matrix
    rows from the SQL pivot of :func:`value_matrix`, so gaps stay NaN.
    ``with_rating=False`` skips the latest potential rating (NA), which only
    the rating-based potential matrix needs.
    """
    if value not in VALUE_BASES:
        raise ValueError(f"value must be one of {VALUE_BASES}")
    periods = period_range(_check_period(start), _check_period(end))
    expression = "v.revenue" if value == "revenue" else _CONTRIBUTION
    postgres = _dialect() == "postgresql"
    if postgres:
        series = f"string_agg(CAST({expression} AS TEXT), ',' ORDER BY v.period)"
        rating = "string_agg(CAST(v.potential_rating AS TEXT), ',' ORDER BY v.period)" if with_rating else "NULL"
        source = "customer_values v WHERE v.period >= ? AND v.period <= ?"
    else:
        series = f"group_concat({expression})"
        rating = "group_concat(v.potential_rating)" if with_rating else "NULL"
        # Scanning the (customer, period) unique index feeds the GROUP BY in order
        # (no temporary B-tree), and each customer's rows arrive by period, so the
        # concatenation follows the periods.
        index = _customer_period_index()
        hint = f" INDEXED BY {index}" if index else ""
        source = f"customer_values v{hint} WHERE +v.period >= ? AND +v.period <= ?"
    sql = (
        f"SELECT v.customer_id, SUM(v.revenue), SUM(v.cost_to_serve), SUM({_CONTRIBUTION}), SUM(v.potential), "
        f"COUNT(*), COUNT({expression}), {rating}, {series} FROM {source} GROUP BY v.customer_id "
        "ORDER BY v.customer_id"
    )
    columns = ["customer_id", "revenue", "cost_to_serve", "contribution", "potential", "n_periods", "n_values",
               "potential_rating", "series"]
    frame = read_frame(sql, (start, end), columns, text=("potential_rating", "series"))
    frame["customer_id"] = frame["customer_id"].astype(np.int64)
    since = read_frame("SELECT id, customer_since FROM customers", (), ["id", "customer_since"])
    since_by_id = pd.Series(pd.to_datetime(since["customer_since"], errors="coerce").to_numpy(),
                            index=since["id"].astype(np.int64).to_numpy())
    totals = pd.DataFrame({
        "customer_id": frame["customer_id"],
        "customer_since": since_by_id.reindex(frame["customer_id"].to_numpy()).to_numpy(),
    })
    for column in ("revenue", "cost_to_serve", "contribution", "potential"):
        totals[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    ratings = frame["potential_rating"].astype(object)
    totals["potential_rating"] = pd.to_numeric(
        ratings.map(lambda text: text.rsplit(",", 1)[-1] if isinstance(text, str) and text else None),
        errors="coerce").astype("Int64")
    totals["n_periods"] = frame["n_periods"].astype(np.int64)

    n = len(periods)
    matrix = np.full((len(frame), n), np.nan)
    complete = (frame["n_values"].to_numpy(dtype=np.int64) == n) & frame["series"].notna().to_numpy()
    if complete.any():
        text = ",".join(frame["series"].to_numpy()[complete])
        values = np.fromstring(text, sep=",")
        if values.size != complete.sum() * n:  # defensive: fall back to the pivot for everyone
            complete[:] = False
        else:
            matrix[complete] = values.reshape(-1, n)
    if (~complete).any():
        gaps = value_matrix_for(frame["customer_id"].to_numpy()[~complete], start, end, value)
        matrix[~complete] = gaps.reindex(frame["customer_id"].to_numpy()[~complete]).to_numpy(dtype=float)
    wide = pd.DataFrame(matrix, index=pd.Index(frame["customer_id"].to_numpy(), name="customer_id"),
                        columns=pd.Index(periods, name="period", dtype=object))
    return totals, wide


def value_matrix_for(ids, start: str, end: str, value: str = "revenue") -> pd.DataFrame:
    """The SQL-pivot matrix for some customers only (those with gaps)."""
    ids = [int(i) for i in ids]
    if len(ids) > 5000:
        return value_matrix(start, end, value)  # one pass beats many IN lists
    periods = period_range(start, end)
    expression = "v.revenue" if value == "revenue" else _CONTRIBUTION
    cells = ", ".join(f"SUM(CASE WHEN v.period = '{p}' THEN {expression} END)" for p in periods)
    frames = []
    for chunk in range(0, len(ids), 500):
        part = ids[chunk:chunk + 500]
        marks = ", ".join("?" * len(part))
        frames.append(read_frame(
            f"SELECT v.customer_id, {cells} FROM customer_values v WHERE v.customer_id IN ({marks}) "
            f"AND v.period >= ? AND v.period <= ? GROUP BY v.customer_id", (*part, start, end),
            ["customer_id", *periods]))
    frame = pd.concat(frames) if frames else pd.DataFrame(columns=["customer_id", *periods])
    matrix = frame.set_index("customer_id").apply(pd.to_numeric, errors="coerce").astype(float)
    matrix.index = matrix.index.astype(np.int64)
    matrix.columns = pd.Index(periods, name="period", dtype=object)
    return matrix
