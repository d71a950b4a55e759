"""Customer values from the database as the frames ``segmentation`` takes.

Design for scale: a segmentation run reads the customers' values as matrices
from ``series_blocks`` (:func:`load_window`; a thousand customers per row, kept
in step with customer_values) instead of one row per stored value. The
per-customer GROUP BY (:func:`window_totals`), the SQL pivot
(:func:`value_matrix`) and the row-by-row loaders are kept as references: the
tests check that the series give the same figures, and the benchmark measures
all of them. On PostgreSQL result sets stream through ``COPY … TO STDOUT`` into
``pandas.read_csv``; on SQLite through the DB-API cursor.

Customer ids in these frames are the database ids (``customers.id``); the
customer number users know is in ``customer_no`` where it is needed.
"""
from __future__ import annotations

import io
import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import pandas as pd
import sqlalchemy as sa

from app.extensions import db
from app.segments.counts import customer_total
from app.segments.models import Customer, CustomerValue
from app.segments.series import matrices, period_name, period_ordinal
from segmentation.windows import period_range
from tabular import make_problem

_PERIOD = re.compile(r"^\d{4}-(?:0[1-9]|1[0-2]|Q[1-4])$")
VALUE_BASES = ("revenue", "contribution")


def _check_period(period: str) -> str:
    if not isinstance(period, str) or not _PERIOD.match(period):
        raise ValueError(f"{period!r} is not a period (YYYY-MM or YYYY-Qn)")
    return period


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def read_frame(sql: str, params: tuple, columns: list[str], text: tuple[str, ...] = ("customer_since",),
               connection=None) -> pd.DataFrame:
    """Run a raw SELECT (``?`` placeholders) and return its rows as a frame, fast.

    On the session's connection unless another SQLAlchemy connection is given.
    """
    connection = connection if connection is not None else db.session.connection()
    raw = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
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


def customer_count() -> int:
    """How many customers there are: the kept figure (:mod:`app.segments.counts`), not a count."""
    return customer_total()


def available_periods() -> list[str]:
    """The periods from the first to the last with values, of each kind held, sorted.

    From the series blocks' ranges (a few hundred rows for a million
    customers, not a pass over every stored value); a period inside the range
    for which no customer has a value is listed too.
    """

    periods = []
    for kind, low, high in db.session.connection().exec_driver_sql(
            "SELECT kind, MIN(first_ordinal), MAX(last_ordinal) FROM series_blocks GROUP BY kind").all():
        periods.extend(period_name(kind, ordinal) for ordinal in range(low, high + 1))
    return sorted(periods)


def _blocks_meeting(start: str, end: str) -> tuple[str, tuple]:
    """The WHERE condition (driver placeholders) and its parameters for the series blocks that meet a window."""
    kind, low = period_ordinal(_check_period(start))
    _, high = period_ordinal(_check_period(end))
    mark = "%s" if _dialect() == "postgresql" else "?"
    return f"kind = {mark} AND first_ordinal <= {mark} AND last_ordinal >= {mark}", (kind, high, low)


def customers_in_window(start: str, end: str) -> int:
    """About how many customers have values in the window: those of the blocks whose range meets it.

    An upper bound (a block's range is the union of its customers' ranges); the
    run itself reports when nobody has values in the window.
    """
    where, params = _blocks_meeting(start, end)
    return int(db.session.connection().exec_driver_sql(
        f"SELECT COALESCE(SUM(customers), 0) FROM series_blocks WHERE {where}", params).scalar())


def window_has_potential(start: str, end: str) -> bool:
    """Whether any block meeting the window holds potential amounts (else runs use the 1–5 rating).

    Block-level: a block whose potential lies only outside the window answers
    True too; the run then finds no amounts and reads the ratings after all.
    """
    where, params = _blocks_meeting(start, end)
    return db.session.connection().exec_driver_sql(
        f"SELECT 1 FROM series_blocks WHERE {where} AND potential IS NOT NULL LIMIT 1", params).first() is not None


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


# (database, stamp of the series blocks, start, end) -> revenue; see window_revenue.
_REVENUE_SUMS: dict[tuple, float] = {}
_REVENUE_SUMS_KEPT = 32


def series_stamp() -> tuple | None:
    """A stamp that changes whenever a series block is written, from the blocks' row headers only.

    PostgreSQL gives every written row version the writing transaction's id (``xmin``),
    so a rewritten, added or removed block changes the count, the sum or the maximum; the
    figures themselves (stored out of line) are not read. None on other databases: there the
    figures are summed on every call.
    """
    if _dialect() != "postgresql":
        return None
    return tuple(db.session.connection().exec_driver_sql(
        "SELECT count(*), coalesce(sum(xmin::text::bigint), 0), coalesce(max(xmin::text::bigint), 0) "
        "FROM series_blocks").one())


def window_revenue(start: str, end: str) -> float:
    """All customers' revenue in a window, summed from the series blocks (revenue only).

    For the start page: a GROUP BY over customer_values read about 12 M rows
    for the latest twelve months of a million customers (16 s on SQLite). Summing
    the blocks still reads every block's revenue matrix (0.5 s for a million
    customers), so on PostgreSQL the sum is kept in this process until a block is
    written (:func:`series_stamp`).
    """
    stamp = series_stamp()
    key = (str(db.engine.url), stamp, start, end)
    if stamp is not None and key in _REVENUE_SUMS:
        return _REVENUE_SUMS[key]
    total = _summed_revenue(start, end)
    if stamp is not None:
        if len(_REVENUE_SUMS) >= _REVENUE_SUMS_KEPT:
            _REVENUE_SUMS.clear()
        _REVENUE_SUMS[key] = total
    return total


def _summed_revenue(start: str, end: str) -> float:
    _, low = period_ordinal(_check_period(start))
    _, high = period_ordinal(_check_period(end))
    where, params = _blocks_meeting(start, end)
    columns = ["first_ordinal", "last_ordinal", "customer_ids", "revenue"]
    total = 0.0
    connection = db.session.connection()
    for row in _window_blocks(connection, f"SELECT {', '.join(columns)} FROM series_blocks WHERE {where}",
                              params, columns):
        _, figures = matrices(row, ["revenue"])
        first = row["first_ordinal"]
        overlap = slice(max(first, low) - first, min(row["last_ordinal"], high) - first + 1)
        total += float(np.nansum(figures["revenue"][:, overlap]))
    return total


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


_NO_DATE = -2**31  # int4's minimum: no date in PostgreSQL's range lies that far before 1970


def _since_days(connection) -> tuple[np.ndarray, np.ndarray]:
    """Every customer's id and customer_since as days since 1970-01-01 (NaN when unknown)."""
    if connection.dialect.name == "postgresql":
        # one bytea of big-endian (int8 id, int4 days) pairs, built by the server: nothing
        # per row on the client (a CSV of a million lines cost a third of a second to parse)
        packed = connection.exec_driver_sql(
            "SELECT string_agg(int8send(id) || int4send(COALESCE(customer_since - DATE '1970-01-01', "
            f"{_NO_DATE})), ''::bytea) FROM customers").scalar()
        pairs = np.frombuffer(packed or b"", dtype=[("id", ">i8"), ("days", ">i4")])
        days = pairs["days"].astype(float)
        days[pairs["days"] == _NO_DATE] = np.nan
        return pairs["id"].astype(np.int64), days
    # SQLite: one CSV text of "id,days" lines, parsed by pandas' C reader, beats a million result rows
    text = connection.exec_driver_sql(
        "SELECT group_concat(id || ',' || IFNULL(CAST(julianday(customer_since) - 2440587.5 AS INTEGER), ''), "
        "char(10)) FROM customers").scalar()
    if not text:
        return np.empty(0, dtype=np.int64), np.empty(0)
    pairs = pd.read_csv(io.StringIO(text), header=None, names=["id", "days"], dtype={"id": np.int64, "days": float})
    return pairs["id"].to_numpy(), pairs["days"].to_numpy()


def _may_read_beside(connection) -> bool:
    """Whether a second connection would see what this one sees.

    Not for an in-memory SQLite database (each connection has its own), and
    not once this transaction has written anything (another connection would
    miss the uncommitted rows). A transaction that has written has a
    transaction id on PostgreSQL and is open on SQLite.
    """
    if connection.dialect.name == "postgresql":
        return bool(connection.exec_driver_sql("SELECT pg_current_xact_id_if_assigned() IS NULL").scalar())
    database = connection.engine.url.database
    if connection.dialect.name != "sqlite" or database in (None, "", ":memory:") or "mode=memory" in database:
        return False
    return not connection.connection.dbapi_connection.in_transaction


#: PostgreSQL reads windows of at least this many customers in two halves on two further connections.
SPLIT_CUSTOMERS = 100_000
_SNAPSHOT = re.compile(r"^[0-9A-Fa-f-]+$")


def _beside(connection):
    """A function that opens another connection seeing what ``connection`` sees, or None where none can.

    On PostgreSQL the other connections take this transaction's snapshot
    (``pg_export_snapshot``), so every part of a window is read as of one moment.
    """
    if not _may_read_beside(connection):
        return None
    engine = connection.engine
    snapshot = None
    if connection.dialect.name == "postgresql":
        snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
        if not _SNAPSHOT.match(snapshot or ""):
            return None

    @contextmanager
    def other():
        with engine.connect() as beside:
            if snapshot:
                beside.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                beside.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            yield beside

    return other


def _on(beside, function, *args):
    """``function(connection, *args)`` on a connection opened by ``beside``."""
    with beside() as connection:
        return function(connection, *args)


def load_window(start: str, end: str, value: str = "revenue", with_rating: bool = True,
                with_cost: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-customer totals and the customer × period matrix of a window.

    Read from ``series_blocks`` (the customers' values as matrices, a
    thousand customers per row, kept in step with customer_values; see
    ``app.customer_series``): the window's columns are sliced out in numpy. The
    results equal the GROUP BY of :func:`window_totals` and the pivot of
    :func:`value_matrix` (the tests compare them). ``with_rating=False`` skips
    the latest potential rating (NA) and ``with_cost=False`` the cost-to-serve
    sum (column absent), which the segmentation does not need.

    Totals columns: customer_id, customer_since, revenue, [cost_to_serve],
    contribution (sums), potential (a year: the latest in the window),
    potential_rating (the latest), n_periods; only customers with
    at least one value in the window, by customer id.
    """

    if value not in VALUE_BASES:
        raise ValueError(f"value must be one of {VALUE_BASES}")
    periods = period_range(_check_period(start), _check_period(end))
    _, low = period_ordinal(periods[0])
    high = low + len(periods) - 1
    fields = ["revenue", "contribution", "potential"] + (["cost_to_serve"] if with_cost else []) + \
        (["potential_rating"] if with_rating else [])
    columns = ["first_ordinal", "last_ordinal", "customer_ids", *fields]
    where, params = _blocks_meeting(start, end)
    sql_head = f"SELECT {', '.join(columns)} FROM series_blocks WHERE {where}"
    connection = db.session.connection()
    beside = _beside(connection)
    # PostgreSQL only: there the server's work on the blocks (TOAST) is what two halves share;
    # SQLite in this process measured slower in halves (0.95 s instead of 0.55 s)
    halves = _halves(connection, where, params) if beside and connection.dialect.name == "postgresql" else []
    with ThreadPoolExecutor(max_workers=3) as pool:
        # the customers' start dates take about as long to read as the blocks: a thread reads
        # them meanwhile (both drivers leave the GIL while the database works)
        days = pool.submit(_on, beside, _since_days) if beside else None
        if halves:
            # both halves fill one matrix, the second below the first's expected rows
            shared = np.empty((sum(expected for _, _, expected in halves), high - low + 1))
            places = np.cumsum([0] + [expected for _, _, expected in halves])
            parts = [pool.submit(_on, beside, _read_window, f"{sql_head} AND {condition} ORDER BY block",
                                 params + extra, columns, fields, value, (low, high), expected,
                                 shared[places[number]:places[number + 1]])
                     for number, (condition, extra, expected) in enumerate(halves)]
            joined, matrix = _joined([part.result() for part in parts], shared)
        else:
            joined, matrix = _read_window(connection, f"{sql_head} ORDER BY block", params, columns, fields, value,
                                          (low, high), customers_in_window(start, end))
        customer_ids, customer_days = days.result() if days else _since_days(connection)
    ids = joined["customer_id"]
    days_of = np.full(max(int(customer_ids.max(initial=0)), int(ids.max(initial=0))) + 1, np.nan)
    exists = np.zeros(len(days_of), dtype=bool)
    days_of[customer_ids], exists[customer_ids] = customer_days, True
    keep = exists[ids]  # an id deleted by SQL since its block was written is skipped
    if not keep.all():
        ids, matrix = ids[keep], matrix[keep]
        joined = {name: array[keep] for name, array in joined.items()}
    days = days_of[ids]
    since_dates = np.where(np.isnan(days), 0, days).astype(np.int64).astype("datetime64[D]").astype("datetime64[ns]")
    since_dates[np.isnan(days)] = np.datetime64("NaT")
    totals = {"customer_id": ids, "customer_since": since_dates, "revenue": joined["revenue"]}
    if with_cost:
        totals["cost_to_serve"] = joined["cost_to_serve"]
    totals["contribution"] = joined["contribution"]
    totals["potential"] = joined["potential"]
    if with_rating:
        ratings = joined["potential_rating"]
        rated = ~np.isnan(ratings)
        totals["potential_rating"] = pd.arrays.IntegerArray(np.where(rated, ratings, 0).astype(np.int64), ~rated)
    else:
        totals["potential_rating"] = pd.arrays.IntegerArray(np.zeros(len(ids), dtype=np.int64),
                                                            np.ones(len(ids), dtype=bool))  # all NA
    totals["n_periods"] = joined["n_periods"].astype(np.int64)
    # copy=False: the columns stay as they are instead of being copied into 2-D blocks
    frame = pd.DataFrame(totals, copy=False)
    wide = pd.DataFrame(matrix, index=pd.Index(ids, name="customer_id"),
                        columns=pd.Index(periods, name="period", dtype=object), copy=False)
    return frame, wide


def _read_window(connection, sql: str, params: tuple, columns: list[str], fields: list[str], value: str,
                 window_ordinals: tuple[int, int], expected: int,
                 matrix: np.ndarray | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The blocks' customers with a value in the window: per-customer figures and the ``value`` matrix.

    Only that matrix is assembled for all customers; every other figure is
    reduced to its window total (the potential a year and the rating: their
    latest value) block by block,
    while the block is still in the CPU cache. ``expected`` is the number of
    rows to allocate (:func:`customers_in_window`).
    """

    low, high = window_ordinals
    width = high - low + 1
    parts: dict[str, list[np.ndarray]] = {name: [] for name in ["customer_id", "n_periods", *fields]}
    # filled in place from np.empty: a block that covers the window (the usual case) writes each cell once
    matrix = np.empty((expected, width)) if matrix is None else matrix
    filled = 0
    for row in _window_blocks(connection, sql, params, columns):
        block_ids, figures = matrices(row, fields)
        first = row["first_ordinal"]
        lo, hi = max(first, low), min(row["last_ordinal"], high)  # the block's overlap with the window
        window = {name: figures[name][:, lo - first:hi - first + 1] for name in fields}
        present = ~np.isnan(window["revenue"])
        has = present.any(axis=1)
        if not has.all():  # customers of the block without a value in the window
            block_ids, present = block_ids[has], present[has]
            window = {name: cells[has] for name, cells in window.items()}
        count = len(block_ids)
        if filled + count > len(matrix):  # an import committed between the two statements
            matrix = np.concatenate([matrix, np.empty((filled + count - len(matrix), width))])
        target = matrix[filled:filled + count]
        if lo > low or hi < high:
            target[:] = np.nan
        target[:, lo - low:hi - low + 1] = window[value]
        filled += count
        parts["customer_id"].append(block_ids)
        parts["n_periods"].append(present.sum(axis=1))
        for name in fields:
            # the potential (a year) and the rating are the latest value in the window, never a sum
            latest = name in ("potential", "potential_rating")
            parts[name].append(_latest(window[name]) if latest else _window_sum(window[name]))
    joined = {name: np.concatenate(arrays) if arrays else np.empty(0) for name, arrays in parts.items()}
    joined["customer_id"] = joined["customer_id"].astype(np.int64, copy=False)
    return joined, matrix[:filled]


def _halves(connection, where: str, params: tuple) -> list[tuple[str, tuple, int]]:
    """For a window of at least :data:`SPLIT_CUSTOMERS` customers: two conditions on the block
    number that split its blocks into halves of about equal customers, with their parameters
    and customer counts; else none."""
    blocks = connection.exec_driver_sql(
        f"SELECT block, customers FROM series_blocks WHERE {where} ORDER BY block", params).all()
    counts = np.array([customers for _, customers in blocks], dtype=np.int64)
    if len(blocks) < 2 or counts.sum() < SPLIT_CUSTOMERS:
        return []
    cut = int(np.clip(np.searchsorted(np.cumsum(counts), counts.sum() / 2), 0, len(blocks) - 2))
    mark = "%s" if connection.dialect.name == "postgresql" else "?"
    last = blocks[cut][0]
    return [(f"block <= {mark}", (last,), int(counts[:cut + 1].sum())),
            (f"block > {mark}", (last,), int(counts[cut + 1:].sum()))]


def _joined(parts: list[tuple[dict[str, np.ndarray], np.ndarray]],
            shared: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The results of :func:`_read_window` for consecutive block ranges, as one.

    Their matrices are views of ``shared``, each at its expected rows: where
    every part filled all of them, they already form one matrix; else
    (customers of a block without a value in the window) the later parts move
    up. A part that outgrew its rows holds a matrix of its own; it and the
    parts after it are then copied.
    """
    joined = {name: np.concatenate([figures[name] for figures, _ in parts]) for name in parts[0][0]}
    filled = 0
    for number, (_, matrix) in enumerate(parts):
        if not len(matrix):
            continue
        if not np.shares_memory(matrix, shared):
            return joined, np.concatenate([shared[:filled], *(rest for _, rest in parts[number:])])
        if matrix.ctypes.data != shared[filled:].ctypes.data:
            shared[filled:filled + len(matrix)] = matrix  # up into the gap (numpy copes with the overlap)
        filled += len(matrix)
    return joined, shared[:filled]


def _window_blocks(connection, sql: str, params: tuple, columns: list[str]):
    """The rows of a series-block query as mappings, one at a time (memory for one block only).

    PostgreSQL: a server-side cursor streams them in binary (bytea as bytes, not hex text).
    """
    raw = connection.connection.dbapi_connection
    postgres = connection.dialect.name == "postgresql"
    cursor = raw.cursor(name="series_blocks_window") if postgres else raw.cursor()
    try:
        if postgres:
            cursor.itersize = 16
            cursor.execute(sql, params, binary=True)
        else:
            cursor.execute(sql, params)
        for row in iter(cursor.fetchone, None):
            yield dict(zip(columns, row))
    finally:
        cursor.close()


def _window_sum(cells: np.ndarray) -> np.ndarray:
    """Row sums over the values present, like SQL's SUM: NaN for a row without any."""
    sums = cells.sum(axis=1)  # right for every row without a gap; the rest are NaN and summed again
    gappy = np.isnan(sums)
    if gappy.any():
        rows = cells[gappy]
        present = ~np.isnan(rows)
        sums[gappy] = np.where(present.any(axis=1), np.sum(rows, axis=1, where=present), np.nan)
    return sums


def _latest(cells: np.ndarray) -> np.ndarray:
    """Each row's last value present (NaN for a row without any)."""
    present = ~np.isnan(cells)
    if not len(cells) or not cells.shape[1]:
        return np.full(len(cells), np.nan)
    last = cells.shape[1] - 1 - np.argmax(present[:, ::-1], axis=1)
    return np.where(present.any(axis=1), cells[np.arange(len(cells)), last], np.nan)


# --- customer numbers as spreadsheets mangle them ------------------------------------------

_SPACES = re.compile(r"\s+")


def _stored_numbers(numbers) -> set[str]:
    """Which of these texts are stored customer numbers."""
    numbers = sorted({str(n) for n in numbers})
    found: set[str] = set()
    for start in range(0, len(numbers), 5000):
        found.update(db.session.scalars(sa.select(Customer.customer_no).where(
            Customer.customer_no.in_(numbers[start:start + 5000]))))
    return found


def match_customer_numbers(numbers) -> dict[str, tuple[str, str]]:
    """The stored customer number each of these file texts stands for, where it is not written as stored.

    A spreadsheet turns ``0070001`` into the number ``70001``, and exports carry
    stray spaces (``0070 001``, a trailing non-breaking space). For each text
    that is not itself a stored customer number: the stored number it matches
    after removing white space (reason ``"spaces"``) or, for digits, after
    adding leading zeros to the length of stored numbers that start with a zero
    (reason ``"zeros"``; only when exactly one stored number fits). Texts that
    match nothing are left out: they are new or unknown customers.

    Only texts that could be mangled are looked up: ones with white space, and
    digits without a leading zero when stored numbers with one exist.
    """
    texts = {str(n) for n in numbers if n is not None and str(n) != "" and str(n) == str(n)}
    spaced = {text: _SPACES.sub("", text) for text in texts if _SPACES.search(text)}
    lengths = sorted(length for (length,) in db.session.execute(
        sa.select(sa.func.length(Customer.customer_no)).where(Customer.customer_no.like("0%")).distinct()))
    cleaned = {text: spaced.get(text, text) for text in texts}
    unpadded = {text: clean for text, clean in cleaned.items()
                if lengths and clean.isdigit() and not clean.startswith("0") and len(clean) < lengths[-1]}
    if not spaced and not unpadded:
        return {}
    exact = _stored_numbers(set(spaced) | set(unpadded))
    out: dict[str, tuple[str, str]] = {}
    found = _stored_numbers(clean for text, clean in spaced.items() if text not in exact and clean)
    for text, clean in spaced.items():
        if text not in exact and clean in found:
            out[text] = (clean, "spaces")
    candidates = {text: [clean.zfill(length) for length in lengths if length > len(clean)]
                  for text, clean in unpadded.items() if text not in exact and text not in out}
    found = _stored_numbers(number for padded in candidates.values() for number in padded)
    for text, padded in candidates.items():
        matches = [number for number in padded if number in found]
        if len(matches) == 1:
            out[text] = (matches[0], "zeros")
    return out


def number_problems(repairs: dict[str, tuple[str, str]], column: str | None = None) -> list:
    """One warning per reason for the numbers :func:`match_customer_numbers` repaired, with examples."""
    problems = []
    for reason in ("zeros", "spaces"):
        pairs = sorted((text, number) for text, (number, why) in repairs.items() if why == reason)
        if pairs:
            examples = ", ".join(f"{text.strip()} → {number}" for text, number in pairs[:3])
            problems.append(make_problem(f"customer_numbers.{reason}", column=column, severity="warning",
                                         count=len(pairs), examples=examples))
    return problems
