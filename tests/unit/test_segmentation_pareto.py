"""ABC classes, profit tiers and the cross-subsidy, at their boundaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from segmentation.definitions import PROFIT_TIERS
from segmentation.pareto import abc_classes, cross_subsidy, pareto_curve, profit_tiers


def customers(**columns):
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"customer_id": [f"K{i:02d}" for i in range(n)], **columns})


def test_abc_output_frame():
    values = customers(revenue=[10.0, 50.0, 30.0, 10.0])
    expected = pd.DataFrame(
        {
            "customer_id": ["K01", "K02", "K00", "K03"],
            "revenue": [50.0, 30.0, 10.0, 10.0],
            "rank": np.array([1, 2, 3, 4], dtype=np.int64),
            "share": [0.5, 0.3, 0.1, 0.1],
            "cum_share_before": [0.0, 0.5, 0.8, 0.9],
            "abc_class": ["A", "A", "B", "B"],
        }
    ).astype({"abc_class": object})
    pdt.assert_frame_equal(abc_classes(values), expected)


def test_customer_exactly_at_80_percent_before_is_b():
    out = abc_classes(customers(revenue=[50.0, 30.0, 15.0, 5.0]))
    assert out["cum_share_before"].tolist() == pytest.approx([0.0, 0.5, 0.8, 0.95])
    # 80 % before it -> B; 95 % before it -> C
    assert out["abc_class"].tolist() == ["A", "A", "B", "C"]


def test_just_below_the_threshold_is_still_a():
    out = abc_classes(customers(revenue=[79.9, 20.0, 0.1]))
    assert out["abc_class"].tolist() == ["A", "A", "C"]


def test_floating_point_noise_does_not_cross_the_threshold():
    # 0.1 + 0.7 = 0.7999999999999999 in binary floating point
    out = abc_classes(customers(revenue=[0.7, 0.1, 0.15, 0.05]))
    assert out["abc_class"].tolist() == ["A", "A", "B", "C"]


def test_zero_negative_and_missing_revenue_are_c():
    out = abc_classes(customers(revenue=[100.0, 0.0, -5.0, np.nan]))
    assert out["customer_id"].tolist() == ["K00", "K01", "K02", "K03"]
    assert out["abc_class"].tolist() == ["A", "C", "C", "C"]
    assert out["share"].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert out["cum_share_before"].tolist() == [0.0, 1.0, 1.0, 1.0]


def test_ties_are_broken_by_customer_id():
    values = pd.DataFrame({"customer_id": ["b", "c", "a"], "revenue": [10.0, 10.0, 10.0]})
    out = abc_classes(values)
    assert out["customer_id"].tolist() == ["a", "b", "c"]
    assert out["rank"].tolist() == [1, 2, 3]


def test_no_revenue_at_all():
    out = abc_classes(customers(revenue=[0.0, 0.0]))
    assert out["abc_class"].tolist() == ["C", "C"]
    assert out["cum_share_before"].isna().all()


def test_custom_thresholds_and_column():
    out = abc_classes(customers(value=[60.0, 25.0, 15.0]), value_col="value", thresholds=(0.5, 0.7))
    assert out["abc_class"].tolist() == ["A", "B", "C"]


@pytest.mark.parametrize("thresholds", [(0.95, 0.8), (0, 0.9), (0.8, 1.2), (0.8,), "ab"])
def test_bad_thresholds(thresholds):
    with pytest.raises(ValueError, match="thresholds"):
        abc_classes(customers(revenue=[1.0]), thresholds=thresholds)


def test_duplicate_customers_need_aggregation():
    values = pd.DataFrame({"customer_id": ["a", "a"], "revenue": [1.0, 2.0]})
    with pytest.raises(ValueError, match="aggregate_window"):
        abc_classes(values)


def test_pareto_curve():
    curve = pareto_curve(abc_classes(customers(revenue=[50.0, 30.0, 20.0])))
    expected = pd.DataFrame(
        {
            "customer_share": [0.0, 1 / 3, 2 / 3, 1.0],
            "cum_share": [0.0, 0.5, 0.8, 1.0],
            "abc_class": [None, "A", "A", "B"],
        }
    )
    pdt.assert_frame_equal(curve, expected)


def test_profit_tiers_from_cost():
    values = customers(
        revenue=[1000.0, 500.0, 300.0, 200.0, 100.0],
        cost=[200.0, 100.0, 300.0, 250.0, 80.0],
    )
    out = profit_tiers(values, cost_col="cost")
    assert out["customer_id"].tolist() == ["K00", "K01", "K04", "K02", "K03"]
    assert out["contribution"].tolist() == [800.0, 400.0, 20.0, 0.0, -50.0]
    # positive total 1220: K00 before 0 -> A, K01 before 0.656 -> A, K04 before 0.984 -> C
    assert out["profit_tier"].tolist() == ["A", "A", "C", "C", "Z"]
    assert out["service_level"].tolist() == ["exclusive", "exclusive", "basic", "basic", "review"]
    assert out["margin"].tolist() == pytest.approx([0.8, 0.8, 0.2, 0.0, -0.25])


def test_contribution_exactly_zero_is_c_not_z():
    out = profit_tiers(customers(revenue=[10.0, 10.0], contribution=[10.0, 0.0]), contribution_col="contribution")
    assert out["profit_tier"].tolist() == ["A", "C"]


def test_profit_tier_b_at_exactly_80_percent():
    values = customers(revenue=[100.0] * 3, contribution=[80.0, 15.0, 5.0])
    out = profit_tiers(values, contribution_col="contribution")
    assert out["profit_tier"].tolist() == ["A", "B", "C"]


def test_given_contribution_wins_and_cost_fills_gaps():
    values = customers(revenue=[100.0, 100.0, 100.0], cost=[10.0, 10.0, np.nan], db=[50.0, np.nan, np.nan])
    out = profit_tiers(values, cost_col="cost", contribution_col="db").set_index("customer_id")
    assert out.loc["K00", "contribution"] == 50.0
    assert out.loc["K01", "contribution"] == 90.0
    assert np.isnan(out.loc["K02", "contribution"])
    assert out.loc["K02", "profit_tier"] is None
    assert out.loc["K02", "service_level"] is None


def test_profit_tiers_needs_cost_or_contribution():
    with pytest.raises(ValueError, match="cost_col"):
        profit_tiers(customers(revenue=[1.0]))


def test_service_levels_come_from_the_definitions():
    out = profit_tiers(customers(revenue=[10.0, 10.0], contribution=[5.0, -1.0]), contribution_col="contribution")
    for tier, level in zip(out["profit_tier"], out["service_level"]):
        assert PROFIT_TIERS[tier]["service_level"] == level


def test_cross_subsidy():
    values = customers(
        revenue=[1000.0, 500.0, 100.0, 100.0, 50.0],
        contribution=[600.0, 150.0, 50.0, -120.0, -80.0],
    )
    result = cross_subsidy(profit_tiers(values, contribution_col="contribution"))
    assert result == {
        "z_loss": 200.0,
        "rest_profit": 800.0,
        "share_eaten": 0.25,
        "net_contribution": 600.0,
        "z_customers": 2,
        "rest_customers": 3,
        "customers_by_tier": {"A": 2, "B": 1, "C": 0, "Z": 2},  # 750/800 before the third: B
        "unknown_customers": 0,
    }


def test_cross_subsidy_without_losses_or_profit():
    no_loss = cross_subsidy(profit_tiers(customers(revenue=[1.0], contribution=[1.0]), contribution_col="contribution"))
    assert no_loss["z_loss"] == 0.0 and no_loss["share_eaten"] == 0.0
    only_loss = cross_subsidy(
        profit_tiers(customers(revenue=[1.0], contribution=[-1.0]), contribution_col="contribution")
    )
    assert only_loss["share_eaten"] is None
    with pytest.raises(ValueError, match="profit_tiers"):
        cross_subsidy(pd.DataFrame({"x": [1]}))


def test_inputs_are_not_changed():
    values = customers(revenue=[3.0, 1.0], cost=[1.0, 2.0])
    before = values.copy()
    abc_classes(values)
    profit_tiers(values, cost_col="cost")
    pdt.assert_frame_equal(values, before)


def test_input_order_gives_the_same_rows_as_rank_order():
    from segmentation.pareto import abc_classes, profit_tiers

    rng = np.random.default_rng(5)
    values = pd.DataFrame({
        "customer_id": rng.permutation(200),  # not sorted: ties broken by id all the same
        "revenue": np.round(rng.choice([0.0, 10.0, 50.0, np.nan, -5.0, 100.0], 200), 2),
        "cost": rng.uniform(0, 80, 200),
    })
    for function, kwargs in ((abc_classes, {}), (profit_tiers, {"cost_col": "cost"})):
        by_rank = function(values, **kwargs).set_index("customer_id")
        as_given = function(values, order_by="input", **kwargs)
        assert as_given["customer_id"].tolist() == values["customer_id"].tolist()
        pd.testing.assert_frame_equal(as_given.set_index("customer_id"), by_rank.loc[values["customer_id"]])
