"""Bulk insert of a frame (binary COPY on PostgreSQL, multi-row INSERT on SQLite): values arrive unchanged."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from app.extensions import db
from app.web.bulk import insert_frame, python_columns


def test_python_columns_are_plain_values_with_none_for_missing():
    frame = pd.DataFrame({
        "f": [1.5, np.nan, np.inf],
        "i": np.array([1, 2, 3], dtype=np.int64),
        "n": pd.array([4, None, 6], dtype="Int64"),
        "b": [True, False, True],
        "t": ["x", None, np.nan],
        "d": pd.to_datetime(["2024-01-02", None, "2024-03-04"]),
    })
    columns = python_columns(frame, frame.columns)
    assert [c.tolist() for c in columns[:5]] == [
        [1.5, None, None], [1, 2, 3], [4, None, 6], [True, False, True], ["x", None, None],
    ]
    assert columns[5].tolist() == [pd.Timestamp("2024-01-02"), None, pd.Timestamp("2024-03-04")]
    for column in columns[:5]:
        assert all(v is None or type(v) in (float, int, bool, str) for v in column)


@pytest.mark.parametrize("rows", [1, 6553, 7000])  # SQLite: 6553 rows of 5 per statement; a rest, or both
def test_insert_frame_round_trip(app, rows):
    frame = pd.DataFrame({
        "k": np.arange(rows, dtype=np.int64),
        "t": [None if i % 7 == 0 else f"Kunde {i}\t\\\n'\"ü" for i in range(rows)],
        "f": [math.nan if i % 5 == 0 else i / 3 for i in range(rows)],
        "n": pd.array([None if i % 3 == 0 else i for i in range(rows)], dtype="Int64"),
        "b": [i % 2 == 0 for i in range(rows)],
    })
    with app.app_context():
        try:
            db.session.connection().exec_driver_sql(
                "CREATE TEMP TABLE bulk_probe (k integer, t text, f double precision, n smallint, b boolean)"
            )
            insert_frame("bulk_probe", frame, ["k", "t", "f", "n", "b"])
            stored = db.session.connection().exec_driver_sql(
                "SELECT k, t, f, n, b FROM bulk_probe ORDER BY k"
            ).all()
        finally:
            db.session.rollback()
            db.session.connection().exec_driver_sql("DROP TABLE IF EXISTS bulk_probe")
            db.session.commit()
    expected = [
        (k, t, None if math.isnan(f) else f, None if pd.isna(n) else int(n), b)
        for k, t, f, n, b in frame.itertuples(index=False)
    ]
    assert [(k, t, f, n, bool(b)) for k, t, f, n, b in stored] == expected
