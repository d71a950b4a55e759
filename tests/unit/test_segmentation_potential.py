"""Potential matrix: median split, points on the split, the segment rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from segmentation.definitions import POTENTIAL_SEGMENTS, label
from segmentation.potential import SEGMENT_RULES, potential_matrix


def test_four_quadrants_with_potential_spend():
    values = pd.DataFrame(
        {
            "customer_id": ["star", "focus", "cow", "waster"],
            "revenue": [100.0, 10.0, 100.0, 10.0],
            "potential": [300.0, 210.0, 100.0, 20.0],
        }
    )
    out = potential_matrix(values, potential_col="potential")
    expected = pd.DataFrame(
        {
            "customer_id": ["star", "focus", "cow", "waster"],
            "x": [100.0, 10.0, 100.0, 10.0],
            "y": [200.0, 200.0, 0.0, 10.0],
            "split_x": [55.0] * 4,
            "split_y": [105.0] * 4,
            "high_revenue": pd.array([True, False, True, False], dtype="boolean"),
            "high_potential": pd.array([True, True, False, False], dtype="boolean"),
            "potential_segment": ["star", "focus", "cash_cow", "time_waster"],
        }
    ).astype({"customer_id": object, "potential_segment": object})
    pdt.assert_frame_equal(out, expected)


def test_point_exactly_on_the_median_counts_as_high():
    values = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "revenue": [1.0, 2.0, 3.0], "rating": [1, 3, 5]}
    )
    out = potential_matrix(values, rating_col="rating")
    assert out["split_x"].iloc[0] == 2.0 and out["split_y"].iloc[0] == 3.0
    # b sits exactly on both medians -> high/high
    assert out["potential_segment"].tolist() == ["time_waster", "star", "star"]


def test_given_split_values_and_mixed_given_median():
    values = pd.DataFrame({"customer_id": ["a", "b"], "revenue": [5.0, 50.0], "rating": [4, 2]})
    out = potential_matrix(values, rating_col="rating", split=(50.0, 4))
    assert out["potential_segment"].tolist() == ["focus", "cash_cow"]
    half = potential_matrix(values, rating_col="rating", split=(None, 3))
    assert half["split_x"].iloc[0] == 27.5 and half["split_y"].iloc[0] == 3.0


def test_zero_untapped_potential_is_never_high():
    # most customers use up their potential: the median of y is 0
    values = pd.DataFrame(
        {
            "customer_id": list("abcde"),
            "revenue": [10.0, 20.0, 30.0, 40.0, 50.0],
            "potential": [10.0, 15.0, 30.0, 100.0, 50.0],
        }
    )
    out = potential_matrix(values, potential_col="potential")
    assert out["split_y"].iloc[0] == 0.0
    assert out["high_potential"].tolist() == [False, False, False, True, False]


def test_missing_potential_gets_no_segment():
    values = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "revenue": [1.0, np.nan, 3.0], "potential": [5.0, 5.0, np.nan]}
    )
    out = potential_matrix(values, potential_col="potential")
    assert out["potential_segment"].tolist() == ["star", None, None]
    assert out["high_revenue"].isna().tolist() == [False, True, True]


def test_argument_errors():
    values = pd.DataFrame({"customer_id": ["a"], "revenue": [1.0], "potential": [2.0], "rating": [3]})
    with pytest.raises(ValueError, match="exactly one"):
        potential_matrix(values)
    with pytest.raises(ValueError, match="exactly one"):
        potential_matrix(values, potential_col="potential", rating_col="rating")
    with pytest.raises(ValueError, match="missing"):
        potential_matrix(values, potential_col="nope")
    with pytest.raises(ValueError, match="pair"):
        potential_matrix(values, potential_col="potential", split=(1.0,))


def test_segment_definitions_are_complete():
    assert set(SEGMENT_RULES.values()) == set(POTENTIAL_SEGMENTS)
    assert [label("potential_segment", k) for k in SEGMENT_RULES.values()] == [
        "Stars",
        "Fokus",
        "Cash-Cows",
        "Zeitfresser",
    ]
    for key, entry in POTENTIAL_SEGMENTS.items():
        revenue_high, potential_high = next(k for k, v in SEGMENT_RULES.items() if v == key)
        assert entry["revenue"] == ("high" if revenue_high else "low")
        assert entry["potential"] == ("high" if potential_high else "low")
        assert entry["strategy_de"] and entry["strategy_en"]


def test_untapped_compares_the_yearly_potential_with_revenue_a_year():
    """24 months of revenue are two years of it: the yearly potential is set against half of it."""
    values = pd.DataFrame({"customer_id": ["a", "b"], "revenue": [2_200_000.0, 100.0],
                           "potential": [3_370_000.0, 1_000.0]})
    out = potential_matrix(values, "revenue", "potential", window_years=2.0)
    assert out["y"].tolist() == [3_370_000.0 - 1_100_000.0, 950.0]
    assert out["x"].tolist() == [2_200_000.0, 100.0]  # the x axis stays the window's revenue
    assert potential_matrix(values, "revenue", "potential")["y"].tolist() == [1_170_000.0, 900.0]
    with pytest.raises(ValueError, match="window_years"):
        potential_matrix(values, "revenue", "potential", window_years=0)
