"""Periods, window aggregation and the customer x period matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from segmentation.windows import (
    aggregate_window,
    normalize_period,
    period_end,
    period_range,
    period_start,
    shift_period,
    to_wide,
)


@pytest.fixture
def long_values():
    return pd.DataFrame(
        {
            "customer_id": ["A", "A", "A", "B", "B", "C"],
            "name": ["Alpha", "Alpha", "Alpha", "Beta", None, "Gamma"],
            "customer_since": pd.to_datetime(["2010-01-01"] * 3 + ["2020-05-01", None, None]),
            "period": ["2024-01", "2024-02", "2024-04", "2024-02", "2024-03", "2023-12"],
            "revenue": [10.0, 20.0, 40.0, 5.0, 6.0, 99.0],
            "cost_to_serve": [1.0, 2.0, np.nan, np.nan, np.nan, 1.0],
            "contribution": [9.0, 18.0, np.nan, np.nan, np.nan, 98.0],
            "potential": [100.0, 100.0, 100.0, np.nan, np.nan, np.nan],
            "potential_rating": pd.array([2, 3, None, 5, None, None], dtype="Int64"),
        }
    )


def test_period_arithmetic():
    assert period_range("2023-11", "2024-02") == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert period_range("2023-Q4", "2024-Q1") == ["2023-Q4", "2024-Q1"]
    assert shift_period("2024-01", -1) == "2023-12"
    assert shift_period("2024-Q4", 1) == "2025-Q1"
    assert period_start("2024-Q2") == pd.Timestamp("2024-04-01")
    assert period_end("2024-02") == pd.Timestamp("2024-02-29")
    assert period_end("2024-Q4") == pd.Timestamp("2024-12-31")
    assert normalize_period("März 2024") == "2024-03"


def test_period_range_errors():
    with pytest.raises(ValueError, match="swap"):
        period_range("2024-02", "2024-01")
    with pytest.raises(ValueError, match="different kinds"):
        period_range("2024-01", "2024-Q2")
    with pytest.raises(ValueError, match="period"):
        normalize_period("Frühling")


def test_aggregate_window_sums_per_customer(long_values):
    out = aggregate_window(long_values, "2024-01", "2024-03")
    expected = pd.DataFrame(
        {
            "customer_id": ["A", "B"],
            "name": ["Alpha", "Beta"],
            "customer_since": pd.to_datetime(["2010-01-01", "2020-05-01"]),
            "revenue": [30.0, 11.0],
            "cost_to_serve": [3.0, np.nan],
            "contribution": [27.0, np.nan],
            "potential": [100.0, np.nan],
            "potential_rating": pd.array([3, 5], dtype="Int64"),
            "n_periods": np.array([2, 2], dtype=np.int64),
            "first_period": ["2024-01", "2024-02"],
            "last_period": ["2024-02", "2024-03"],
        }
    ).astype({"customer_id": object, "name": object, "first_period": object, "last_period": object})
    pdt.assert_frame_equal(out, expected)


def test_aggregate_window_bounds_are_inclusive_and_optional(long_values):
    assert aggregate_window(long_values)["customer_id"].tolist() == ["A", "B", "C"]
    assert aggregate_window(long_values, start="2024-04")["revenue"].tolist() == [40.0]
    assert aggregate_window(long_values, end="2023-12")["customer_id"].tolist() == ["C"]
    assert aggregate_window(long_values, "März 2024", "2024-03")["customer_id"].tolist() == ["B"]


def test_aggregate_window_potential_modes(long_values):
    assert aggregate_window(long_values, potential_how="last")["potential"].iloc[0] == 100.0
    assert aggregate_window(long_values, potential_how="max")["potential"].iloc[0] == 100.0
    for how in ("sum", "median"):
        with pytest.raises(ValueError, match="potential_how"):
            aggregate_window(long_values, potential_how=how)


def test_yearly_potential_repeated_on_every_period_row_is_not_added_up():
    """18 monthly rows repeating one yearly Außenumsatz: the latest value counts, once."""
    periods = period_range("2023-01", "2024-06")
    frame = pd.DataFrame({
        "customer_id": ["0070001"] * 18,
        "period": periods,
        "revenue": [122_000.0] * 18,
        "potential": [3_000_000.0] * 17 + [3_400_000.0],  # revised in the last month
    })
    out = aggregate_window(frame, "2023-01", "2024-06")
    assert out["potential"].tolist() == [3_400_000.0]
    assert aggregate_window(frame, "2023-01", "2024-05")["potential"].tolist() == [3_000_000.0]
    # the latest value present: a missing potential in the last month does not blank it
    frame.loc[17, "potential"] = np.nan
    assert aggregate_window(frame)["potential"].tolist() == [3_000_000.0]


def test_aggregate_window_errors(long_values):
    with pytest.raises(ValueError, match="quarter"):
        aggregate_window(long_values, "2024-Q1")
    with pytest.raises(ValueError, match="swap"):
        aggregate_window(long_values, "2024-03", "2024-01")
    with pytest.raises(ValueError, match="missing"):
        aggregate_window(long_values.drop(columns="revenue"))


def test_to_wide_fills_gaps_with_nan_and_completes_periods(long_values):
    wide = to_wide(long_values, "revenue")
    expected = pd.DataFrame(
        [
            [np.nan, 10.0, 20.0, np.nan, 40.0],
            [np.nan, np.nan, 5.0, 6.0, np.nan],
            [99.0, np.nan, np.nan, np.nan, np.nan],
        ],
        index=pd.Index(["A", "B", "C"], name="customer_id"),
        columns=pd.Index(["2023-12", "2024-01", "2024-02", "2024-03", "2024-04"], name="period", dtype=object),
    )
    pdt.assert_frame_equal(wide, expected)


def test_to_wide_with_given_periods_and_duplicates_summed():
    values = pd.DataFrame(
        {"customer_id": ["A", "A"], "period": ["2024-01", "2024-01"], "revenue": [1.0, 2.0]}
    )
    wide = to_wide(values, periods=["2024-01", "2024-02"])
    assert wide.loc["A"].tolist()[0] == 3.0
    assert np.isnan(wide.loc["A", "2024-02"])


def test_to_wide_does_not_change_input(long_values):
    before = long_values.copy()
    to_wide(long_values, "contribution", complete=False)
    pdt.assert_frame_equal(long_values, before)


def test_repeats_finds_a_repeated_id_in_any_order():
    from segmentation.windows import repeats

    assert not repeats(pd.Series([1, 2, 5])) and not repeats(pd.Series([7])) and not repeats(pd.Series([5, 2, 9]))
    assert repeats(pd.Series([1, 1, 2])) and repeats(pd.Series([3, 1, 3]))
    assert repeats(pd.Series(["b", "a", "b"], dtype=object)) and not repeats(pd.Series([1, "a"], dtype=object))
