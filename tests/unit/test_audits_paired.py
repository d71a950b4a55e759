"""Paired test calls: Hodges–Lehmann with its Walsh interval, Wilcoxon, McNemar, the joint
Benjamini–Hochberg family, and simulations with fixed seeds."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from audits import compare_groups
from audits.paired import adjust_jointly, compare_pairs, hodges_lehmann_paired, mcnemar_paired

DIRECTIONS = {("renewal", "price"): "lower", ("care", "rating"): "higher", ("hotline", "resolved"): "higher"}


def pair_frame(new, existing, touchpoint="renewal", metric="price"):
    return pd.DataFrame({"touchpoint": touchpoint, "metric": metric, "value_new": new, "value_existing": existing})


def test_hodges_lehmann_is_the_median_of_walsh_averages_with_the_textbook_interval():
    d = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    estimate, low, high = hodges_lehmann_paired(d, 0.95)
    walsh = np.sort([(d[i] + d[j]) / 2 for i in range(10) for j in range(i, 10)])
    assert estimate == pytest.approx(np.median(walsh))
    # n = 10: the two-sided 5 % critical value of the signed-rank statistic is 8, so the
    # interval runs from the 9th smallest to the 9th largest Walsh average
    assert (low, high) == (walsh[8], walsh[-9])


def test_hodges_lehmann_interval_is_missing_when_n_cannot_reach_the_confidence():
    estimate, low, high = hodges_lehmann_paired([1.0, 2.0, 3.0], 0.95)
    assert estimate == 2.0 and np.isnan(low) and np.isnan(high)


def test_money_effect_is_the_relative_shift_in_percent_and_uses_wilcoxon():
    rng = np.random.default_rng(1)
    base = np.exp(rng.normal(np.log(400), 0.3, 30))
    existing = base * 1.10 * np.exp(rng.normal(0, 0.01, 30))
    row = compare_pairs(pair_frame(base, existing), DIRECTIONS).iloc[0]
    assert row["statistic"] == "ratio" and row["effect_unit"] == "%"
    assert 8 < row["effect"] < 12 and row["ci_low"] > 5 and row["ci_high"] < 15
    d = np.log(existing) - np.log(base)
    assert row["p"] == pytest.approx(stats.wilcoxon(d).pvalue)
    assert row["flagged"] and row["n_pairs"] == 30


def test_rating_effect_is_in_points_and_direction_makes_worse_positive():
    new = np.array([5, 4, 5, 4, 5, 4, 5, 5, 4, 5, 4, 5] * 2, dtype=float)
    existing = new - 1
    row = compare_pairs(pair_frame(new, existing, "care", "rating"), DIRECTIONS).iloc[0]
    assert row["statistic"] == "mean" and row["effect_unit"] == "points"
    assert row["effect"] == pytest.approx(1.0) and row["flagged"]


def test_yes_no_uses_discordant_pairs_and_mcnemar():
    new = np.array([1] * 20 + [0] * 2 + [1] * 8, dtype=float)
    existing = np.array([0] * 20 + [1] * 2 + [1] * 8, dtype=float)
    row = compare_pairs(pair_frame(new, existing, "hotline", "resolved"), DIRECTIONS).iloc[0]
    assert row["statistic"] == "proportion" and row["n_discordant"] == 22
    assert row["p"] == pytest.approx(stats.binomtest(2, 22, 0.5).pvalue)
    # existing resolved 10/30, new 28/30: 60 percentage points worse
    assert row["effect"] == pytest.approx(60.0)
    assert row["ci_low"] > 30 and row["ci_high"] <= 100 and row["flagged"]


def test_newcombe_paired_interval_contains_the_estimate_and_is_within_bounds():
    result = mcnemar_paired([1, 1, 0, 0, 1, 0, 1, 1], [1, 0, 0, 1, 1, 0, 0, 1])
    assert -1 <= result["low"] <= result["diff"] <= result["high"] <= 1


def test_fewer_pairs_than_min_n_is_insufficient_data_never_a_flag():
    frame = pair_frame([100.0] * 9, [150.0] * 9)
    row = compare_pairs(frame, DIRECTIONS, min_n=10).iloc[0]
    assert row["status"] == "insufficient_data" and not row["flagged"] and np.isnan(row["p"])
    row = compare_pairs(pair_frame([100.0] * 10, [150.0 + i for i in range(10)]), DIRECTIONS, min_n=10).iloc[0]
    assert row["status"] == "ok"


def test_materiality_holds_back_a_small_but_certain_gap():
    new = np.linspace(100, 500, 40)
    row = compare_pairs(pair_frame(new, new * 1.02), DIRECTIONS).iloc[0]
    assert row["ci_low"] > 0 and row["p_adjusted"] < 0.05 and not row["flagged"]
    assert row["threshold"] == 5.0


def test_ratio_pairs_with_a_zero_side_are_excluded_and_counted():
    row = compare_pairs(pair_frame([0.0] + [10.0] * 12, [5.0] + [12.0] * 12), DIRECTIONS).iloc[0]
    assert row["n_excluded"] == 1 and row["n_pairs"] == 12


def test_joint_adjustment_uses_one_family_for_paired_and_unpaired():
    rng = np.random.default_rng(3)
    obs = pd.DataFrame({"touchpoint": "renewal", "metric": "price",
                        "value": np.exp(rng.normal(6, 0.2, 40)),
                        "customer_status": ["new"] * 20 + ["existing"] * 20})
    unpaired = compare_groups(obs, DIRECTIONS)
    new = np.exp(rng.normal(6, 0.2, 15))
    paired = compare_pairs(pair_frame(new, new * np.exp(rng.normal(0.03, 0.05, 15))), DIRECTIONS)
    joint_unpaired, joint_paired = adjust_jointly(unpaired, paired)
    p = np.concatenate([unpaired["p"].to_numpy(), paired["p"].to_numpy()])
    expected = stats.false_discovery_control(p, method="bh")
    assert joint_unpaired["p_adjusted"].iloc[0] == pytest.approx(expected[0])
    assert joint_paired["p_adjusted"].iloc[0] == pytest.approx(expected[1])


def test_unknown_direction_and_bad_settings_are_refused_with_a_hint():
    with pytest.raises(ValueError, match="direction"):
        compare_pairs(pair_frame([1.0], [2.0], "x", "y"), DIRECTIONS)
    with pytest.raises(ValueError, match="min_n"):
        compare_pairs(pair_frame([1.0], [2.0]), DIRECTIONS, min_n=0)


def test_empty_pairs_give_an_empty_frame_with_the_columns():
    result = compare_pairs(pair_frame([], []), DIRECTIONS)
    assert result.empty and "p_adjusted" in result.columns


# ------------------------------------------------------------------ simulations (fixed seeds)

def simulate(rng, n, shift, between=0.3, within=0.05):
    """n scenario calls: a base price varying strongly between calls, the existing side
    ``shift`` (relative) above it, each side with its own small noise."""
    base = np.exp(rng.normal(np.log(300), between, n))
    new = base * np.exp(rng.normal(0, within, n))
    existing = base * (1 + shift) * np.exp(rng.normal(0, within, n))
    return new, existing


def test_null_pairs_flag_at_most_at_the_nominal_rate():
    rng = np.random.default_rng(20261204)
    reps, rejected, covered = 400, 0, 0
    for _ in range(reps):
        new, existing = simulate(rng, 15, 0.0)
        row = compare_pairs(pair_frame(new, existing), DIRECTIONS, materiality={"ratio": 0.0}).iloc[0]
        rejected += row["p"] < 0.05
        covered += row["ci_low"] <= 0 <= row["ci_high"]
    # nominal 5 %: the binomial 99 % upper bound for 400 draws is about 8.5 %
    assert rejected / reps <= 0.085
    assert covered / reps >= 0.92


def test_a_real_effect_is_found_and_paired_beats_unpaired_on_the_same_calls():
    rng = np.random.default_rng(7)
    reps, paired_hits, unpaired_hits = 60, 0, 0
    for _ in range(reps):
        new, existing = simulate(rng, 20, 0.10)
        row = compare_pairs(pair_frame(new, existing), DIRECTIONS).iloc[0]
        paired_hits += bool(row["flagged"])
        obs = pd.DataFrame({"touchpoint": "renewal", "metric": "price", "value": np.concatenate([new, existing]),
                            "customer_status": ["new"] * 20 + ["existing"] * 20})
        unpaired_hits += bool(compare_groups(obs, DIRECTIONS).iloc[0]["flagged"])
    assert paired_hits / reps >= 0.9
    assert unpaired_hits < paired_hits / 2
