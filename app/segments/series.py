"""The customers' value series in blocks: what a segmentation run reads instead of every stored value.

Why: a run needs, per customer, the sums over its window and the value series
for the trajectory. Computing them from the stored rows is a pass over
customers × periods rows (24 M for a million customers over two years; 18–30 s
on SQLite, 20 s on PostgreSQL with the ordered series). Reading one row per
customer is still a million rows (3 s on SQLite, mostly the driver's Python
objects). The ``series_blocks`` table holds the customers of an id block
(:data:`BLOCK_SIZE` ids) together as matrices, so a million customers are
about a thousand rows and the run reads them at the speed of copying memory
(``bench/bench_segmentation.py`` measures it).

The blocks are derived data, kept in step with ``customer_values`` inside the
same transaction by every path that writes values:

* the import (:func:`merge_import`: the imported rows laid over the blocks'
  current content, which equals what the upsert leaves in customer_values);
* ORM writes of :class:`~app.models.CustomerValue` (a flush hook,
  :func:`install`, rebuilds the touched blocks from their stored rows);
* the demo data's bulk insert (:func:`refresh_customers`);
* ``flask customers rebuild-series`` and the migration that created the table
  (:func:`rebuild_all`).

Tests compare the blocks with a GROUP BY over customer_values after each of
these paths. A customer deleted with SQL leaves its entry in a block until the
next write to that block; the loader skips ids that are no longer customers.

Layout: see :class:`app.models.SeriesBlock`.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd
import sqlalchemy as sa

from app.segments.models import CustomerValue
from segmentation import windows

BLOCK_SIZE = 1024
FIELDS = ("revenue", "contribution", "cost_to_serve", "potential", "potential_rating")
OPTIONAL = ("cost_to_serve", "potential", "potential_rating")
COLUMNS = ("block", "kind", "first_ordinal", "last_ordinal", "customers", "customer_ids", *FIELDS)
KINDS = ("M", "Q")
_FLOAT = np.dtype("<f8")
_INT = np.dtype("<i8")
_CHUNK = 900  # values per IN list (below SQLite's parameter limit on old versions too)


# --- periods as ordinals ---------------------------------------------------------

_KIND_CODES = {"month": "M", "quarter": "Q"}
_KIND_NAMES = {code: name for name, code in _KIND_CODES.items()}


def period_ordinal(period: str) -> tuple[str, int]:
    """('M', year × 12 + month − 1) for YYYY-MM, ('Q', year × 4 + quarter − 1) for YYYY-Qn."""
    kind, ordinal = windows.period_ordinal(period)
    return _KIND_CODES[kind], ordinal


def period_name(kind: str, ordinal: int) -> str:
    """The period string of an ordinal (inverse of :func:`period_ordinal`)."""
    return windows.period_from_ordinal(_KIND_NAMES[kind], ordinal)


def _ordinals(periods) -> tuple[np.ndarray, np.ndarray]:
    """Kinds (0 = month, 1 = quarter) and ordinals of many period strings (few distinct)."""
    codes, uniques = pd.factorize(np.asarray(periods, dtype=object))
    parsed = [period_ordinal(str(p)) for p in uniques]
    kinds = np.array([KINDS.index(kind) for kind, _ in parsed], dtype=np.int8)
    ordinals = np.array([ordinal for _, ordinal in parsed], dtype=np.int64)
    return kinds[codes], ordinals[codes]


# --- long arrays <-> block rows ------------------------------------------------------

class Long(dict):
    """Long arrays: customer_id, kind (0/1), ordinal and the FIELDS, one entry per stored value."""

    @classmethod
    def empty(cls) -> Long:
        return cls(customer_id=np.array([], dtype=np.int64), kind=np.array([], dtype=np.int8),
                   ordinal=np.array([], dtype=np.int64), **{name: np.array([]) for name in FIELDS})

    @classmethod
    def concat(cls, parts: list[Long]) -> Long:
        parts = [part for part in parts if len(part["customer_id"])]
        if not parts:
            return cls.empty()
        return cls({name: np.concatenate([part[name] for part in parts]) for name in parts[0]})

    def take(self, mask) -> Long:
        return Long({name: values[mask] for name, values in self.items()})


def from_frame(frame: pd.DataFrame, ids=None) -> Long:
    """Long arrays from a frame of stored or imported values (contribution resolved: given, else revenue − cost)."""
    def column(name):
        return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    kinds, ordinals = _ordinals(frame["period"].to_numpy())
    revenue, cost, given = column("revenue"), column("cost_to_serve"), column("contribution")
    return Long(
        customer_id=np.asarray(frame["customer_id"] if ids is None else ids, dtype=np.int64), kind=kinds,
        ordinal=ordinals, revenue=revenue, contribution=np.where(np.isnan(given), revenue - cost, given),
        cost_to_serve=cost, potential=column("potential"), potential_rating=column("potential_rating"),
    )


def block_rows(long: Long) -> Iterator[tuple]:
    """Rows of series_blocks (as in :data:`COLUMNS`) holding exactly these values."""
    if len(long["customer_id"]) == 0:
        return iter(())
    ids, kinds, ordinals = long["customer_id"], long["kind"], long["ordinal"]
    blocks = ids // BLOCK_SIZE
    order = np.lexsort((ordinals, ids, kinds, blocks))
    ids, kinds, ordinals, blocks = ids[order], kinds[order], ordinals[order], blocks[order]
    n = len(ids)
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = (blocks[1:] != blocks[:-1]) | (kinds[1:] != kinds[:-1])
    new_customer = new_group.copy()
    new_customer[1:] |= ids[1:] != ids[:-1]
    starts = np.flatnonzero(new_group)
    group = np.cumsum(new_group) - 1
    customer_number = np.cumsum(new_customer) - 1  # over all groups
    row_in_group = customer_number - customer_number[starts][group]
    first = np.minimum.reduceat(ordinals, starts)
    last = np.maximum.reduceat(ordinals, starts)
    width = last - first + 1
    customers = np.add.reduceat(new_customer.astype(np.int64), starts)
    sizes = customers * width
    offset = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    position = offset[group] + row_in_group * width[group] + (ordinals - first[group])
    flat, present = {}, {}
    for name in FIELDS:
        buffer = np.full(int(sizes.sum()), np.nan)
        buffer[position] = np.asarray(long[name], dtype=float)[order]
        flat[name] = buffer
        present[name] = np.add.reduceat(~np.isnan(buffer), offset) > 0
    customer_ids = ids[new_customer]
    customer_offset = np.concatenate(([0], np.cumsum(customers)[:-1]))

    def generate():
        for g in range(len(starts)):
            begin, end = int(offset[g]), int(offset[g] + sizes[g])
            fields = [flat[name][begin:end].tobytes() if name not in OPTIONAL or present[name][g] else None
                      for name in FIELDS]
            ids_of_block = customer_ids[customer_offset[g]:customer_offset[g] + customers[g]]
            yield (int(blocks[starts[g]]), KINDS[kinds[starts[g]]], int(first[g]), int(last[g]), int(customers[g]),
                   ids_of_block.astype(_INT).tobytes(), *fields)

    return generate()


def matrices(row, fields: Iterable[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A block row (a mapping of column name → value) as its customer ids and figure matrices."""
    ids = np.frombuffer(row["customer_ids"], dtype=_INT)
    shape = (len(ids), row["last_ordinal"] - row["first_ordinal"] + 1)
    out = {}
    for name in fields:
        blob = row[name]
        out[name] = np.full(shape, np.nan) if blob is None else np.frombuffer(blob, dtype=_FLOAT).reshape(shape)
    return ids, out


def expand(rows: list[dict]) -> Long:
    """Block rows back to long arrays (only the periods with a value)."""
    parts = []
    for row in rows:
        ids, figures = matrices(row, FIELDS)
        has_value = ~np.isnan(figures["revenue"])
        customer_row, column = np.nonzero(has_value)
        parts.append(Long(
            customer_id=ids[customer_row].astype(np.int64),
            kind=np.full(len(column), KINDS.index(row["kind"]), dtype=np.int8),
            ordinal=row["first_ordinal"] + column.astype(np.int64),
            **{name: figures[name][has_value] for name in FIELDS},
        ))
    return Long.concat(parts)


# --- reading and writing -----------------------------------------------------------

def _raw(connection):
    return connection.connection.dbapi_connection


def _marks(connection, count: int) -> str:
    return ", ".join(["%s" if connection.dialect.name == "postgresql" else "?"] * count)


def _in_chunks(values: list) -> Iterator[list]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def read_blocks(connection, blocks: Iterable[int], lock: bool = False) -> list[dict]:
    """The stored rows of some blocks (both kinds), as dicts.

    ``lock=True`` (before rewriting them) makes a concurrent import of the same
    blocks wait on PostgreSQL; SQLite has one writer at a time anyway.
    """
    out = []
    for_update = " FOR UPDATE" if lock and connection.dialect.name == "postgresql" else ""
    cursor = _raw(connection).cursor()
    try:
        for part in _in_chunks(sorted({int(b) for b in blocks})):
            cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM series_blocks "
                           f"WHERE block IN ({_marks(connection, len(part))}) ORDER BY block, kind{for_update}",
                           part)
            out.extend(dict(zip(COLUMNS, row)) for row in cursor.fetchall())
    finally:
        cursor.close()
    return out


def _replace(connection, blocks: Iterable[int], long: Long) -> int:
    """Delete these blocks and insert the rows that hold ``long`` (which covers exactly them)."""
    cursor = _raw(connection).cursor()
    try:
        for part in _in_chunks(sorted({int(b) for b in blocks})):
            cursor.execute(f"DELETE FROM series_blocks WHERE block IN ({_marks(connection, len(part))})", part)
    finally:
        cursor.close()
    return _insert(connection, block_rows(long))


def _insert(connection, rows: Iterable[tuple]) -> int:
    names = ", ".join(COLUMNS)
    rows = list(rows)
    if not rows:
        return 0
    raw = _raw(connection)
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY series_blocks ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return len(rows)
    cursor = raw.cursor()
    try:
        cursor.executemany(f"INSERT INTO series_blocks ({names}) VALUES ({_marks(connection, len(COLUMNS))})", rows)
    finally:
        cursor.close()
    return len(rows)


_VALUE_COLUMNS = ["customer_id", "period", "revenue", "cost_to_serve", "contribution", "potential",
                  "potential_rating"]


def _stored_values(connection, low: int, high: int) -> pd.DataFrame:
    """customer_values rows of the customers with ids low … high − 1, as a long frame."""
    mark = _marks(connection, 1)
    cursor = _raw(connection).cursor()
    try:
        cursor.execute(f"SELECT {', '.join(_VALUE_COLUMNS)} FROM customer_values "
                       f"WHERE customer_id >= {mark} AND customer_id < {mark}", (low, high))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return pd.DataFrame.from_records(rows, columns=_VALUE_COLUMNS)


def refresh_customers(connection, ids: Iterable[int]) -> int:
    """Rebuild the blocks of these customers from the stored values (ORM writes, bulk inserts)."""
    blocks = sorted({int(i) // BLOCK_SIZE for i in ids})
    written = 0
    for run in _consecutive(blocks):
        frame = _stored_values(connection, run[0] * BLOCK_SIZE, (run[-1] + 1) * BLOCK_SIZE)
        written += _replace(connection, run, from_frame(frame))
    return written


def _consecutive(blocks: list[int], longest: int = 64) -> Iterator[list[int]]:
    """Sorted block numbers as runs of consecutive ones (one id-range read each)."""
    run: list[int] = []
    for block in blocks:
        if run and (block != run[-1] + 1 or len(run) == longest):
            yield run
            run = []
        run.append(block)
    if run:
        yield run


def rebuild_all(connection) -> int:
    """Rebuild every block from customer_values (migration, CLI)."""
    connection.exec_driver_sql("DELETE FROM series_blocks")
    bounds = connection.exec_driver_sql("SELECT MIN(customer_id), MAX(customer_id) FROM customer_values").one()
    if bounds[0] is None:
        return 0
    blocks = list(range(bounds[0] // BLOCK_SIZE, bounds[1] // BLOCK_SIZE + 1))
    return sum(_insert(connection, block_rows(from_frame(
        _stored_values(connection, run[0] * BLOCK_SIZE, (run[-1] + 1) * BLOCK_SIZE)))) for run in _consecutive(blocks))


def merge_import(connection, frame: pd.DataFrame, ids: np.ndarray) -> int:
    """Lay an import's rows over the blocks of the imported customers (after the upsert).

    ``frame`` is the parsed import (customer number in ``customer_id``),
    ``ids`` each row's customer id (the write knows them). Each imported
    (customer, period) row replaces all of that period's figures, exactly as
    the upsert into customer_values does; every other value stays. So the
    result equals a rebuild from the stored rows, without reading them.
    """
    if frame.empty:
        return 0
    new = from_frame(frame, ids=ids)
    blocks = np.unique(new["customer_id"] // BLOCK_SIZE).tolist()
    old = expand(read_blocks(connection, blocks, lock=True))
    if len(old["customer_id"]):
        # the old values the import does not touch stay; the imported rows win
        keys = pd.MultiIndex.from_arrays
        keep = ~keys([old["customer_id"], old["kind"], old["ordinal"]]).isin(
            keys([new["customer_id"], new["kind"], new["ordinal"]]))
        new = Long.concat([new, old.take(keep)])
    return _replace(connection, blocks, new)


# --- keeping ORM writes in step -----------------------------------------------------

def _before_flush(session, flush_context, instances) -> None:
    """Note the customers whose values this flush changes (new, changed or deleted rows)."""
    touched = session.info.setdefault("series_touched", set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(obj, CustomerValue):
            continue
        # a row moved to another customer changes the old customer's series too
        touched.update(i for i in sa.inspect(obj).attrs.customer_id.history.deleted if i is not None)
        touched.add(obj.customer if obj.customer_id is None else obj.customer_id)  # id known after the flush


def _after_flush(session, flush_context) -> None:
    """Rebuild the noted customers' blocks from their rows, inside the flush's transaction."""
    touched = session.info.pop("series_touched", set())
    ids = {item if isinstance(item, int) or item is None else item.id for item in touched}
    ids.discard(None)
    if ids:
        refresh_customers(session.connection(), ids)


def install(session_class) -> None:
    """Keep the blocks in step with ORM writes of customer values (called once by the app factory).

    Bulk SQL statements (``session.execute(insert(CustomerValue), rows)``)
    bypass this; their callers call :func:`refresh_customers`, the import
    keeps the blocks itself (:func:`merge_import`), and ``flask customers
    rebuild-series`` repairs anything else.
    """
    if not sa.event.contains(session_class, "before_flush", _before_flush):
        sa.event.listen(session_class, "before_flush", _before_flush)
        sa.event.listen(session_class, "after_flush", _after_flush)
