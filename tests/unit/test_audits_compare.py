"""Aggregate level: existing vs new per touchpoint × metric × segment."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from audits import (
    DEFAULT_MATERIALITY,
    DEFAULT_SEVERITY,
    benjamini_hochberg,
    bootstrap_median_draws,
    compare_groups,
)

PRICE = ("renewal", "price")
DIRECTIONS = {PRICE: "lower", ("inside_sales", "rating"): "higher",
              ("hotline", "wait_seconds"): "lower", ("after_sales", "resolved"): "higher"}


def observations(new, existing, touchpoint="renewal", metric="price", **columns):
    """New and existing values of one metric; extra columns per existing row."""
    frame = pd.DataFrame({
        "touchpoint": touchpoint, "metric": metric,
        "value": np.concatenate([np.asarray(new, float), np.asarray(existing, float)]),
        "customer_status": ["new"] * len(new) + ["existing"] * len(existing),
    })
    for name, values in columns.items():
        frame[name] = [None] * len(new) + list(values)
    return frame


def spread(centre, n, step=1.0):
    """n distinct values around centre (deterministic)."""
    return centre + step * (np.arange(n) - (n - 1) / 2)


def only(result, **where):
    mask = np.ones(len(result), dtype=bool)
    for column, value in where.items():
        mask &= (result[column] == value).to_numpy()
    assert mask.sum() == 1, result
    return result[mask].iloc[0]


# ------------------------------------------------------------------ minimum n

@pytest.mark.parametrize("n_new, n_existing, compared", [
    (10, 10, True), (9, 10, False), (10, 9, False),
])
def test_min_n_in_each_group(n_new, n_existing, compared):
    # a huge effect: only the sample size decides
    obs = observations(spread(100, n_new), spread(300, n_existing))
    row = compare_groups(obs, DIRECTIONS).iloc[0]
    assert row["status"] == ("ok" if compared else "insufficient_data")
    assert bool(row["flagged"]) is compared
    for column in ("p", "p_adjusted", "ci_low", "ci_high"):
        assert bool(np.isnan(row[column])) is not compared
    assert row["effect"] == pytest.approx(200.0, rel=1e-4)   # +200 %, still shown
    assert row["effect_unit"] == "%"
    assert (row["severity"] is None) is not compared


def test_insufficient_rows_take_no_part_in_the_correction():
    rng = np.random.default_rng(1)
    obs = observations(rng.normal(100, 10, 40), rng.normal(104, 10, 60),
                       tier=["A"] * 30 + ["B"] * 25 + ["C"] * 5)
    result = compare_groups(obs, DIRECTIONS, ["tier"])
    tested = result["status"] == "ok"
    assert only(result, segment="C")["status"] == "insufficient_data"
    np.testing.assert_allclose(result.loc[tested, "p_adjusted"],
                               benjamini_hochberg(result.loc[tested, "p"].to_numpy()))


# --------------------------------------------------------------- effect & sign

def test_money_effect_is_the_hodges_lehmann_shift_of_logs_in_percent():
    new = spread(100, 21, 2.0)
    obs = observations(new, new * 1.12)
    row = compare_groups(obs, DIRECTIONS).iloc[0]
    assert row["statistic"] == "hodges_lehmann_log" and row["effect_unit"] == "%"
    assert row["median_new"] == 100
    assert row["median_existing"] == pytest.approx(112)
    assert row["effect"] == pytest.approx(12.0, abs=1e-4)
    assert row["effect_rel"] == pytest.approx(0.12, abs=1e-6)
    assert row["effect_value"] == pytest.approx(12.0, abs=1e-3)   # EUR at the new median
    assert row["reference_level"] == pytest.approx(100.0)
    assert row["ci_low"] < row["effect"] < row["ci_high"]


def test_hodges_lehmann_is_the_median_of_pairwise_log_differences():
    rng = np.random.default_rng(3)
    new, existing = rng.lognormal(4, 0.3, 25), rng.lognormal(4.1, 0.3, 31)
    row = compare_groups(observations(new, existing), DIRECTIONS).iloc[0]
    pairwise = np.log(existing)[:, None] - np.log(new)[None, :]
    assert row["effect"] == pytest.approx(100 * np.expm1(np.median(pairwise)), abs=1e-3)


def test_interval_and_test_agree():
    # the interval inverts the same rank test: it excludes 0 exactly when p < 0.05
    rng = np.random.default_rng(9)
    for shift in np.linspace(0.0, 0.25, 12):
        new, existing = rng.lognormal(4, 0.4, 40), rng.lognormal(4 + shift, 0.4, 40)
        row = compare_groups(observations(new, existing), DIRECTIONS).iloc[0]
        assert (row["ci_low"] > 0 or row["ci_high"] < 0) == (row["p"] < 0.05)


def test_direction_higher_flips_the_sign():
    new, existing = spread(4.0, 30, 0.02), spread(3.5, 30, 0.02)
    lower = compare_groups(observations(new, existing), {PRICE: "lower"}).iloc[0]
    higher = compare_groups(observations(new, existing), {PRICE: "higher"}).iloc[0]
    assert lower["effect"] == pytest.approx(100 * (3.5 / 4 - 1), abs=0.01)
    assert higher["effect"] == pytest.approx(100 * (4 / 3.5 - 1), abs=0.01)
    assert higher["ci_low"] > 0 > lower["ci_high"]
    assert higher["p"] == lower["p"]
    assert bool(higher["flagged"]) and not lower["flagged"]


def test_materiality_per_kind_in_the_unit_of_the_effect():
    # 4 % worse, very precisely measured: significant but not material at 5 %
    obs = observations(spread(100, 200, 0.01), spread(104, 200, 0.01))
    row = compare_groups(obs, DIRECTIONS).iloc[0]
    assert row["p_adjusted"] < 1e-10 and row["ci_low"] > 0
    assert row["threshold"] == pytest.approx(5.0)   # %
    assert not row["flagged"]
    assert compare_groups(obs, DIRECTIONS, materiality=0.03).iloc[0]["flagged"]
    assert compare_groups(obs, DIRECTIONS, materiality={"ratio": 3.0}).iloc[0]["flagged"]
    absolute = compare_groups(obs, DIRECTIONS, materiality_abs={PRICE: 3.0}).iloc[0]
    assert absolute["threshold"] == 3.0 and absolute["flagged"]
    assert dict(DEFAULT_MATERIALITY) == {"ratio": 5.0, "mean": 0.25, "proportion": 3.0,
                                         "shift": 0.05}


def test_effect_just_at_threshold_is_not_flagged():
    obs = observations(spread(100, 200, 0.01), spread(105, 200, 0.01))
    row = compare_groups(obs, DIRECTIONS).iloc[0]
    assert row["effect"] == pytest.approx(5.0, abs=0.01)
    assert row["ci_low"] > 0 and row["p_adjusted"] < 1e-10
    above = compare_groups(obs, DIRECTIONS, materiality_abs={PRICE: row["effect"]}).iloc[0]
    assert not above["flagged"]
    below = compare_groups(obs, DIRECTIONS, materiality_abs={PRICE: row["effect"] - 1e-6})
    assert below.iloc[0]["flagged"]


def test_no_flag_when_the_interval_reaches_zero():
    # 4 of 10 existing customers pay 40, 6 pay 200: median 200, but a resample's
    # median falls to 40 or 120 in about a third of the draws
    obs = observations(spread(100, 10, 3.0), [40.0] * 4 + [200.0] * 6)
    row = compare_groups(obs, DIRECTIONS, alpha=0.999).iloc[0]
    assert row["p_adjusted"] < 0.999
    assert row["ci_low"] <= 0 and row["effect"] > row["threshold"]
    assert not row["flagged"]


def test_yes_no_metric_compares_shares_in_percentage_points():
    obs = observations([1] * 90 + [0] * 10, [1] * 60 + [0] * 40, "after_sales", "resolved")
    row = compare_groups(obs, DIRECTIONS).iloc[0]
    assert row["statistic"] == "proportion" and row["effect_unit"] == "pp"
    assert row["median_new"] == pytest.approx(0.9)
    assert row["effect"] == pytest.approx(30.0)
    assert row["effect_rel"] == pytest.approx(0.3)
    assert row["threshold"] == 3.0
    assert row["flagged"]


def test_yes_no_verdict_does_not_depend_on_which_answer_is_coded_one():
    resolved = observations([1] * 90 + [0] * 10, [1] * 80 + [0] * 20, "after_sales",
                            "resolved")
    unresolved = resolved.assign(value=1 - resolved["value"], metric="unresolved")
    one = compare_groups(resolved, DIRECTIONS).iloc[0]
    other = compare_groups(unresolved, {("after_sales", "unresolved"): "lower"}).iloc[0]
    for column in ("effect", "ci_low", "ci_high", "p", "flagged"):
        assert one[column] == pytest.approx(other[column], abs=1e-12), column


def test_yes_no_interval_does_not_collapse_at_one_hundred_percent():
    obs = observations([1] * 15, [1] * 300, "after_sales", "resolved")
    row = compare_groups(obs, DIRECTIONS).iloc[0]
    assert row["ci_low"] < 0 < row["ci_high"]
    assert row["ci_high"] - row["ci_low"] > 10     # Wilson at n = 15 is wide


def test_rating_metric_compares_means_in_points():
    new = np.array([5, 4, 4, 3, 5] * 8, float)
    existing = np.array([4, 4, 3, 3, 4] * 8, float)
    obs = observations(new, existing, "inside_sales", "rating")
    row = compare_groups(obs, DIRECTIONS).iloc[0]
    assert row["statistic"] == "mean" and row["effect_unit"] == "points"
    assert row["effect"] == pytest.approx(0.6)
    expected = stats.ttest_ind(new, existing, equal_var=False)
    assert row["p"] == pytest.approx(expected.pvalue, rel=1e-9)
    assert row["threshold"] == 0.25 and row["flagged"]
    assert row["top2_new"] == pytest.approx(0.8) and row["top2_existing"] == pytest.approx(0.6)


def test_one_value_per_customer_before_testing():
    # 10 customers with 10 observations each count 10, not 100
    rng = np.random.default_rng(4)
    existing = np.repeat(rng.lognormal(4, 0.2, 10), 10) * rng.lognormal(0, 0.01, 100)
    obs = observations(rng.lognormal(4, 0.2, 40), existing,
                       customer_id=[f"C{i // 10}" for i in range(100)])
    row = compare_groups(obs, DIRECTIONS).iloc[0]
    assert row["n_existing"] == 10 and row["n_obs_existing"] == 100
    assert row["n_customers"] == 10


def test_price_without_product_keys_is_compared_pooled_with_a_warning():
    rng = np.random.default_rng(5)
    obs = observations(rng.lognormal(4, 0.1, 60), 2 * rng.lognormal(4, 0.1, 60),
                       tier=["Z"] * 60)
    result = compare_groups(obs, DIRECTIONS, ["tier"], price_metrics=[PRICE])
    assert (result["warning"] == "product_mix_not_controlled").all()
    assert (result["status"] == "ok").all() and not result["flagged"].any()
    assert result["effect"].min() > 50               # shown, never flagged
    plain = compare_groups(obs, DIRECTIONS, ["tier"])
    assert plain["warning"].isna().all() and plain["flagged"].all()


def test_severity_from_relative_effect_and_customers():
    obs = observations(spread(100, 60), spread(130, 60), customer_id=[f"C{i % 30}"
                                                                       for i in range(60)])
    row = compare_groups(obs, DIRECTIONS).iloc[0]
    assert row["n_customers"] == 30
    assert row["severity"] == "medium"   # +30 % but only 30 customers (critical needs 100)
    custom = {"critical": {"min_effect_rel": 0.2, "min_customers": 30}, "low": {}}
    assert compare_groups(obs, DIRECTIONS, severity=custom).iloc[0]["severity"] == "critical"
    assert list(DEFAULT_SEVERITY) == ["critical", "high", "medium", "low"]


# -------------------------------------------------------------------- segments

def test_one_row_per_touchpoint_metric_and_segment_against_all_new_customers():
    rng = np.random.default_rng(5)
    prices = observations(rng.normal(100, 5, 50), rng.normal(100, 5, 40),
                          tier=["A", "Z"] * 20, abc=["A"] * 20 + ["B"] * 19 + [None])
    waits = observations(rng.exponential(60, 50), rng.exponential(60, 40),
                         "hotline", "wait_seconds", tier=["A", "Z"] * 20,
                         abc=["A"] * 20 + ["B"] * 20)
    result = compare_groups(pd.concat([prices, waits], ignore_index=True), DIRECTIONS,
                            ["tier", "abc"])
    assert result[["touchpoint", "segment_kind", "segment"]].values.tolist() == [
        ["hotline", "overall", "all"], ["hotline", "tier", "A"], ["hotline", "tier", "Z"],
        ["hotline", "abc", "A"], ["hotline", "abc", "B"],
        ["renewal", "overall", "all"], ["renewal", "tier", "A"], ["renewal", "tier", "Z"],
        ["renewal", "abc", "A"], ["renewal", "abc", "B"],
    ]
    assert (result["n_new"] == 50).all()
    assert only(result, touchpoint="renewal", segment_kind="abc", segment="B")[
        "n_existing"] == 19


def test_results_do_not_depend_on_other_segments_and_are_repeatable():
    rng = np.random.default_rng(7)
    obs = observations(rng.normal(100, 10, 80), rng.normal(105, 10, 80),
                       tier=rng.choice(["A", "Z"], 80), abc=rng.choice(["A", "B"], 80))
    before = obs.copy()
    one = compare_groups(obs, DIRECTIONS, ["tier"], seed=11)
    two = compare_groups(obs, DIRECTIONS, ["abc", "tier"], seed=11)
    pd.testing.assert_frame_equal(obs, before)
    cols = ["effect", "ci_low", "ci_high", "p"]
    pd.testing.assert_frame_equal(one[one.segment_kind == "tier"][cols].reset_index(drop=True),
                                  two[two.segment_kind == "tier"][cols].reset_index(drop=True))
    pd.testing.assert_frame_equal(one, compare_groups(obs, DIRECTIONS, ["tier"], seed=11))


# --------------------------------------------------------------- like for like

def test_product_mix_alone_is_not_a_penalty():
    # segment A buys the dear product; everybody pays the same price per product
    rng = np.random.default_rng(2)
    new_products = ["cheap"] * 60 + ["dear"] * 60
    ex_products = ["cheap"] * 10 + ["dear"] * 50
    level = {"cheap": 100.0, "dear": 400.0}
    new = [level[p] * rng.lognormal(0, 0.05) for p in new_products]
    existing = [level[p] * rng.lognormal(0, 0.05) for p in ex_products]
    obs = observations(new, existing, product_key=ex_products)
    obs.loc[: len(new) - 1, "product_key"] = new_products
    row = compare_groups(obs, DIRECTIONS).iloc[0]
    assert row["median_existing"] > 1.5 * row["median_new"]   # pooled medians mislead
    assert abs(row["effect_rel"]) < 0.03
    assert row["n_strata"] == 2
    assert not row["flagged"]
    pooled = compare_groups(obs, DIRECTIONS, like_for_like=[]).iloc[0]
    assert pooled["flagged"]          # what a pooled comparison would wrongly claim


def test_like_for_like_effect_is_relative_to_the_same_product():
    obs = observations(list(spread(100, 20)) + list(spread(400, 20)),
                       list(spread(110, 20)) + list(spread(440, 20)),
                       product_key=["cheap"] * 20 + ["dear"] * 20)
    obs.loc[:39, "product_key"] = ["cheap"] * 20 + ["dear"] * 20
    row = compare_groups(obs, DIRECTIONS).iloc[0]
    assert row["statistic"] == "hodges_lehmann_log"
    assert row["effect_rel"] == pytest.approx(0.10, abs=0.005)
    assert row["reference_level"] == pytest.approx(250.0)
    assert row["effect_value"] == pytest.approx(25.0, abs=1.5)
    assert row["flagged"]


def test_existing_observations_without_reference_are_counted_as_unmatched():
    obs = observations(spread(100, 30), spread(120, 34),
                       product_key=["P1"] * 30 + ["P2"] * 4)
    obs.loc[:29, "product_key"] = "P1"
    row = compare_groups(obs, DIRECTIONS).iloc[0]
    assert row["n_existing"] == 30
    assert row["n_existing_unmatched"] == 4


def test_strata_with_too_few_new_customers_are_no_reference():
    obs = observations(list(spread(100, 30)) + [100.0] * 4, spread(120, 34),
                       product_key=["P1"] * 30 + ["P2"] * 4)
    obs.loc[:33, "product_key"] = ["P1"] * 30 + ["P2"] * 4
    assert compare_groups(obs, DIRECTIONS).iloc[0]["n_existing_unmatched"] == 4
    assert compare_groups(obs, DIRECTIONS, min_stratum_n=4).iloc[0]["n_existing_unmatched"] == 0


def test_waits_with_zeros_are_still_a_relative_shift_and_negatives_a_shift_in_units():
    obs = observations([0.0] * 10 + list(spread(30, 20)), list(spread(90, 30)),
                       "hotline", "wait_seconds")
    row = compare_groups(obs, DIRECTIONS).iloc[0]
    assert row["statistic"] == "hodges_lehmann_log" and row["flagged"]
    signed = observations(spread(-5, 30), spread(5, 30), "hotline", "wait_seconds")
    row = compare_groups(signed, DIRECTIONS).iloc[0]
    assert row["statistic"] == "hodges_lehmann" and row["effect_unit"] == "units"
    assert row["effect"] == pytest.approx(10.0, abs=1e-4)


# ------------------------------------------------------------------- the test

def test_single_stratum_p_equals_scipy_mann_whitney():
    rng = np.random.default_rng(4)
    new = 10.0 * rng.integers(1, 8, 57)              # prices in steps: many ties
    existing = 10.0 * rng.integers(1, 7, 43)
    row = compare_groups(observations(new, existing), DIRECTIONS).iloc[0]
    expected = stats.mannwhitneyu(existing, new, alternative="two-sided",
                                  method="asymptotic").pvalue
    assert row["p"] == pytest.approx(expected, rel=1e-12)


def van_elteren_p(obs):
    """Textbook van Elteren: per-stratum rank sums weighted by 1/(N_s + 1)."""
    num, var = 0.0, 0.0
    for _, part in obs.groupby("product_key"):
        existing = (part["customer_status"] == "existing").to_numpy()
        n1, n2 = existing.sum(), (~existing).sum()
        if n1 == 0 or n2 == 0:
            continue
        n = n1 + n2
        ranks = stats.rankdata(part["value"])
        _, ties = np.unique(part["value"], return_counts=True)
        u = ranks[existing].sum() - n1 * (n1 + 1) / 2
        v = n1 * n2 / 12 * ((n + 1) - (ties ** 3 - ties).sum() / (n * (n - 1)))
        num += (u - n1 * n2 / 2) / (n + 1)
        var += v / (n + 1) ** 2
    return 2 * stats.norm.sf(abs(num) / np.sqrt(var))


def test_several_strata_p_equals_textbook_van_elteren():
    rng = np.random.default_rng(8)
    products = rng.choice(["P1", "P2", "P3"], 150)
    values = np.round(rng.normal(10, 2, 150)) * np.where(products == "P2", 3, 1)
    status = rng.choice(["new", "existing"], 150)
    obs = pd.DataFrame({"touchpoint": "renewal", "metric": "price", "value": values,
                        "customer_status": status, "product_key": products})
    row = compare_groups(obs, DIRECTIONS, min_stratum_n=1).iloc[0]
    assert row["n_strata"] == 3
    assert row["p"] == pytest.approx(van_elteren_p(obs), rel=1e-10)


def test_all_values_tied_gives_p_one_without_warnings():
    row = compare_groups(observations([5.0] * 12, [5.0] * 12), DIRECTIONS).iloc[0]
    assert row["p"] == 1.0 and row["effect"] == 0 and not row["flagged"]


# ----------------------------------------------------------- Benjamini–Hochberg

def test_benjamini_hochberg_hand_computed():
    p = np.array([0.01, 0.04, 0.03, 0.005, np.nan])
    # sorted 0.005, 0.01, 0.03, 0.04 → ×4/rank: 0.02, 0.02, 0.04, 0.04 (already monotone)
    np.testing.assert_allclose(benjamini_hochberg(p), [0.02, 0.04, 0.04, 0.02, np.nan])


def test_benjamini_hochberg_takes_running_minimum_and_caps_at_one():
    p = np.array([0.02, 0.021, 0.9, 0.5])
    # ×4/rank: 0.08, 0.042, 0.667, 0.9 → running minimum from the top: 0.042, 0.042, ...
    np.testing.assert_allclose(benjamini_hochberg(p), [0.042, 0.042, 0.9, 2 / 3])
    rng = np.random.default_rng(0)
    q = rng.random(50) ** 3
    np.testing.assert_allclose(benjamini_hochberg(q), stats.false_discovery_control(q))



def test_benjamini_hochberg_leaves_untested_comparisons_out_of_the_count():
    rng = np.random.default_rng(1)
    q = rng.random(30) ** 2
    with_gaps = np.insert(q, [0, 10, 30], np.nan)
    adjusted = benjamini_hochberg(with_gaps)
    assert np.isnan(adjusted[[0, 11, 32]]).all()
    np.testing.assert_allclose(adjusted[~np.isnan(with_gaps)], stats.false_discovery_control(q))
    assert np.isnan(benjamini_hochberg(np.array([np.nan, np.nan]))).all()
    assert benjamini_hochberg(np.array([])).shape == (0,)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        benjamini_hochberg(np.array([0.5, 1.2, np.nan]))

# ------------------------------------------------------------------- bootstrap

@pytest.mark.parametrize("n", [10, 11, 24, 25, 101])
def test_closed_form_bootstrap_matches_plain_resampling(n):
    rng = np.random.default_rng(n)
    sample = np.sort(np.round(rng.lognormal(4, 0.4, n), 0))   # rounded: ties as in prices
    draws = 20_000
    plain = np.median(sample[rng.integers(0, n, (draws, n))], axis=1)
    fast = bootstrap_median_draws(sample, draws, rng)
    grid = np.unique(np.concatenate([plain, fast]))
    cdf_plain = np.searchsorted(np.sort(plain), grid, side="right") / draws
    cdf_fast = np.searchsorted(np.sort(fast), grid, side="right") / draws
    assert np.abs(cdf_plain - cdf_fast).max() < 0.02   # two-sample KS distance
    assert fast.std() == pytest.approx(plain.std(), rel=0.05)


def test_bootstrap_is_fast_for_large_samples_and_seeded():
    sample = np.sort(np.random.default_rng(0).normal(size=200_001))
    one = bootstrap_median_draws(sample, 2000, 5)
    assert np.array_equal(one, bootstrap_median_draws(sample, 2000, 5))
    assert abs(one.std() - 1.2533 / np.sqrt(len(sample))) < 0.2 * one.std()


# --------------------------------------------------------------------- errors

@pytest.mark.parametrize("kwargs, message", [
    (dict(directions={}), "no direction"),
    (dict(directions={PRICE: "down"}), "'lower' or 'higher'"),
    (dict(segment_kinds=["tier"]), "tier"),
    (dict(min_n=0), "min_n"),
    (dict(statistic="proportion"), "0/1"),
])
def test_bad_arguments_raise_with_a_hint(kwargs, message):
    obs = observations(spread(100, 12), spread(110, 12))
    arguments = dict(directions=DIRECTIONS) | kwargs
    with pytest.raises(ValueError, match=message):
        compare_groups(obs, **arguments)
