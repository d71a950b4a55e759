"""Bulk writes of a DataFrame: ``COPY … FROM STDIN`` on PostgreSQL, ``executemany`` on SQLite.

Both run on the session's own connection, inside its transaction, so a bulk
write is part of the caller's all-or-nothing unit.
"""
from __future__ import annotations

import math

import pandas as pd

from app.extensions import db


def python_rows(frame: pd.DataFrame, columns) -> zip:
    """Rows of plain Python values (None for every kind of missing; no numpy scalars)."""
    arrays = []
    for name in columns:
        series = frame[name]
        values = series.to_numpy(dtype=object)
        if series.dtype.kind == "f":
            values = [None if v is None or not math.isfinite(v) else float(v) for v in values]
        else:
            values = [None if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))
                      else v for v in values]
            if series.dtype.kind in "iu" or str(series.dtype) in ("Int64", "Int32", "Int16"):
                values = [None if v is None else int(v) for v in values]
            elif series.dtype.kind == "b" or str(series.dtype) == "boolean":
                values = [None if v is None else bool(v) for v in values]
        arrays.append(values)
    return zip(*arrays)


def insert_frame(table: str, frame: pd.DataFrame, columns) -> None:
    """Insert every row of ``frame`` into ``table`` (the given columns, in order)."""
    columns = list(columns)
    connection = db.session.connection()
    raw = connection.connection.dbapi_connection
    rows = python_rows(frame, columns)
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    cursor = raw.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})", rows)
    finally:
        cursor.close()
