"""to_python: every value the analysis stores as JSON becomes a plain, valid JSON scalar."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from audits import to_python


@pytest.mark.parametrize("value,expected", [
    (np.int64(3), 3), (np.float32(0.5), 0.5), (np.bool_(True), True),
    (float("nan"), None), (np.inf, None), (-np.inf, None), (pd.NaT, None), (None, None),
    (pd.Timestamp("2026-11-23 07:30"), "2026-11-23T07:30:00"), (dt.date(2026, 11, 23), "2026-11-23"),
    ("Z", "Z"),
])
def test_to_python(value, expected):
    result = to_python(value)
    assert result == expected and type(result) is type(expected)
    # PostgreSQL's JSON type refuses NaN and Infinity: the output must be strict JSON.
    json.dumps(result, allow_nan=False)
