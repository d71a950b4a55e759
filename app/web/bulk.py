"""Bulk writes of a DataFrame: binary ``COPY … FROM STDIN`` on PostgreSQL, multi-row ``INSERT`` on SQLite;
updates by key (:func:`update_frame`).

Both run on the session's own connection, inside its transaction, so a bulk
write is part of the caller's all-or-nothing unit.
"""
from __future__ import annotations

import sqlite3
from typing import Any, Callable

import numpy as np
import pandas as pd
from sqlalchemy.exc import IntegrityError

from app.extensions import db


class ImportCollision(Exception):
    """Another import wrote the same rows while this one was being written, twice in a row;
    nothing of this one was written (the other import's rows stand)."""


def write_once_more_on_collision(check: Callable[[], Any], ok: Callable[[Any], bool],
                                 write: Callable[[Any], Any]) -> tuple[Any, Any]:
    """Check, then write and commit (all or nothing); returns ``(checked, written)``, with
    ``written`` None when the check found problems.

    A unique constraint met while writing means another import wrote the same rows meanwhile:
    the transaction is rolled back, the data checked again (those rows now count as stored)
    and written once more; a second collision raises :class:`ImportCollision`."""
    for _attempt in range(2):
        checked = check()
        if not ok(checked):
            return checked, None
        try:
            written = write(checked)
            db.session.commit()
            return checked, written
        except IntegrityError:
            db.session.rollback()
    raise ImportCollision()


#: Bound parameters per INSERT on SQLite (the default limit since SQLite 3.32; more gain nothing).
_SQLITE_PARAMETERS = 32766

def python_columns(frame: pd.DataFrame, columns) -> list[np.ndarray]:
    """The columns as object arrays of plain Python values.

    None stands for every kind of missing value (NaN, ±inf, NA, NaT); there are
    no numpy scalars, which the database drivers would refuse. Whole columns are
    converted at once (numpy's ``astype(object)`` yields Python floats, ints and
    bools).
    """
    arrays = []
    for name in columns:
        series = frame[name]
        if series.dtype.kind == "f":
            numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
            values = numbers.astype(object)
            values[~np.isfinite(numbers)] = None
        elif isinstance(series.dtype, pd.api.extensions.ExtensionDtype) and series.dtype.kind in "iub":
            values = series.to_numpy(dtype=object, na_value=None)  # nullable Int64, boolean
        elif series.dtype.kind in "iub":
            values = series.to_numpy().astype(object)
        else:
            values = series.to_numpy(dtype=object).copy()
            values[pd.isna(values)] = None
        arrays.append(values)
    return arrays


def insert_frame(table: str, frame: pd.DataFrame, columns) -> None:
    """Insert every row of ``frame`` into ``table`` (the given columns, in order)."""
    columns = list(columns)
    connection = db.session.connection()
    raw = connection.connection.dbapi_connection
    arrays = python_columns(frame, columns)
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor:
            # Binary COPY: psycopg packs numbers in C, several times faster than
            # formatting them as text. It needs the columns' types (from the
            # catalog) and Python values of those types (a date for a date column).
            types = dict(cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped", (table,),
            ).fetchall())
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([types[name] for name in columns])
                # rows made one at a time: a million row objects alive at once
                # would keep the garbage collector busy
                for row in zip(*(values.tolist() for values in arrays)):
                    copy.write_row(row)
        return
    # Many rows per INSERT: sqlite3 pays its per-statement overhead once per batch
    # instead of once per row, which makes it more than twice as fast.
    values = np.empty((len(frame), len(columns)), dtype=object)
    for j, column in enumerate(arrays):
        values[:, j] = column
    parameters = min(_SQLITE_PARAMETERS, raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    batch = max(1, parameters // len(columns))
    row_marks = f"({', '.join('?' * len(columns))})"
    full = len(values) // batch * batch
    cursor = raw.cursor()
    try:
        if full:
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([row_marks] * batch)}",
                values[:full].reshape(-1, batch * len(columns)).tolist(),
            )
        if full < len(values):
            rest = len(values) - full
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([row_marks] * rest)}",
                values[full:].reshape(-1).tolist(),
            )
    finally:
        cursor.close()


def update_frame(table: str, frame: pd.DataFrame, columns, key: str = "id") -> None:
    """Set ``columns`` of the rows of ``table`` whose ``key`` is in ``frame`` to the frame's values.

    SQLite: one ``UPDATE … WHERE key = ?`` per row through ``executemany``
    (a prepared statement, a few microseconds a row). PostgreSQL: the rows go
    into a temporary table by binary COPY and one ``UPDATE … FROM`` joins it,
    because a statement per row would cost a round trip each.
    """
    columns = list(columns)
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        scratch = f"update_{table}"
        connection.exec_driver_sql(
            f"CREATE TEMP TABLE {scratch} ON COMMIT DROP AS "
            f"SELECT {key}, {', '.join(columns)} FROM {table} WITH NO DATA"
        )
        insert_frame(scratch, frame, [key, *columns])
        connection.exec_driver_sql(
            f"UPDATE {table} SET {', '.join(f'{c} = s.{c}' for c in columns)} "
            f"FROM {scratch} s WHERE {table}.{key} = s.{key}"
        )
        connection.exec_driver_sql(f"DROP TABLE {scratch}")
        return
    arrays = python_columns(frame, [*columns, key])
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.executemany(
            f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in columns)} WHERE {key} = ?",
            zip(*(values.tolist() for values in arrays)),
        )
    finally:
        cursor.close()
