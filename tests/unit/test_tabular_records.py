"""records_table: a batch of records read as read_table reads a file, so the imports' rules apply."""
from __future__ import annotations

import pandas as pd
from pandas.testing import assert_frame_equal

from tabular import ROW_COLUMN, read_table, records_table


def test_records_read_like_the_same_rows_of_a_file():
    records = [{"customer_id": "0070001", "period": "2024-01", "revenue": 12.5, "name": None},
               {"customer_id": "0070002", "period": "2024-02", "revenue": "1.300,00", "flag": True}]
    table = records_table(records, ["customer_id", "period", "revenue", "name"])
    csv = b"customer_id;period;revenue;name\n0070001;2024-01;12.5;\n0070002;2024-02;\"1.300,00\";\n"
    assert_frame_equal(table, read_table(csv, "values.csv")[table.columns.tolist()], check_dtype=False)
    assert table[ROW_COLUMN].tolist() == [2, 3]  # a problem's row minus 2 is the record's index


def test_booleans_become_yes_no_words_and_an_empty_batch_has_the_columns():
    table = records_table([{"repurchased": True}, {"repurchased": False}, {}], ["repurchased"])
    assert table["repurchased"].tolist() == ["yes", "no", ""]
    empty = records_table([], ["a", "b"])
    assert list(empty.columns) == ["a", "b", ROW_COLUMN] and len(empty) == 0
    assert isinstance(empty, pd.DataFrame)
