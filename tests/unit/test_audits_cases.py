"""Case level (ENBP-style): existing customers' prices vs the new-business price."""

import numpy as np
import pandas as pd
import pytest

from audits import (
    CASE_REASONS,
    case_flags,
    compare_groups,
    excess_per_year,
    penalty,
    total_excess,
)

DAY0 = pd.Timestamp("2024-03-01 10:00")
PRICES = [("renewal", "price")]


def observations(rows, **extra):
    """rows: (status, value, day offset, product, channel)."""
    frame = pd.DataFrame([
        {"touchpoint": "renewal", "metric": "price", "customer_status": status,
         "value": value, "observed_at": DAY0 + pd.Timedelta(days=day),
         "product_key": product, "channel": channel}
        for status, value, day, product, channel in rows
    ])
    for name, column in extra.items():
        frame[name] = column
    return frame


def flags(obs, prices, **kwargs):
    """case_flags with one reference allowed, for the window and key mechanics; with one
    reference the spread is 0 and the bound is the reference itself."""
    return case_flags(obs, prices, **{"min_reference_n": 1} | kwargs)


def test_reference_is_median_of_new_prices_and_excess_is_reported():
    obs = observations([
        ("new", 100.0, 0, "P1", "web"),
        ("new", 110.0, -3, "P1", "web"),
        ("new", 120.0, 5, "P1", "web"),
        ("existing", 115.5, 0, "P1", "web"),
    ])
    cases = flags(obs, PRICES)
    assert len(cases) == 1
    case = cases.iloc[0]
    assert case["reference_price"] == 110.0
    assert case["reference_n"] == 3
    assert case["excess"] == pytest.approx(5.5)
    assert case["excess_pct"] == pytest.approx(5.5 / 110)
    # 5 % above a reference whose new prices scatter by ±9 %: within the prediction bound
    assert bool(case["flagged"]) is False
    assert case["limit_price"] > 115.5
    assert case["reason"] is None


def test_even_number_of_references_averages_the_middle_two():
    obs = observations([("new", v, 0, "P1", "web") for v in (100.0, 104.0, 200.0, 90.0)]
                       + [("existing", 101.0, 0, "P1", "web")])
    case = flags(obs, PRICES).iloc[0]
    assert case["reference_price"] == 102.0
    assert not case["flagged"]


@pytest.mark.parametrize("tolerance, value, flagged", [
    (0.0, 100.0, False),     # exactly at the reference
    (0.0, 100.01, True),
    (0.15, 115.0, False),    # exactly at reference × (1 + tolerance), though 1.15 is inexact
    (0.15, 115.01, True),
    (0.1, 110.0, False),
])
def test_value_exactly_at_the_tolerated_price_is_not_flagged(tolerance, value, flagged):
    obs = observations([("new", 100.0, 0, "P1", "web"), ("existing", value, 0, "P1", "web")])
    assert bool(flags(obs, PRICES, tolerance=tolerance)["flagged"].iloc[0]) is flagged


@pytest.mark.parametrize("offset, inside", [(30, True), (-30, True), (31, False), (-31, False)])
def test_window_is_plus_minus_30_days_inclusive(offset, inside):
    obs = observations([("new", 100.0, offset, "P1", "web"),
                        ("existing", 150.0, 0, "P1", "web")])
    case = flags(obs, PRICES).iloc[0]
    assert bool(case["reference_n"] == 1) is inside
    assert bool(case["flagged"]) is inside
    assert case["reason"] == (None if inside else "no_reference")


def test_window_counts_calendar_days_not_hours():
    obs = observations([("existing", 150.0, 0, "P1", "web")])
    late_new = observations([("new", 100.0, 0, "P1", "web")])
    # 30 days earlier at 23:59 is more than 30 × 24 h before 10:00, yet the same calendar day
    late_new["observed_at"] = pd.Timestamp("2024-01-31 23:59")
    case = flags(pd.concat([late_new, obs], ignore_index=True), PRICES).iloc[0]
    assert case["reference_n"] == 1


def test_window_days_is_a_parameter():
    obs = observations([("new", 100.0, 10, "P1", "web"), ("existing", 150.0, 0, "P1", "web")])
    assert flags(obs, PRICES, window_days=10)["reference_n"].iloc[0] == 1
    assert flags(obs, PRICES, window_days=9)["reference_n"].iloc[0] == 0


def test_like_for_like_on_product_and_channel():
    obs = observations([
        ("new", 100.0, 0, "P1", "web"),
        ("new", 300.0, 0, "P2", "web"),
        ("new", 50.0, 0, "P1", "branch"),
        ("existing", 120.0, 0, "P1", "web"),
        ("existing", 120.0, 0, "P3", "web"),
    ])
    cases = flags(obs, PRICES)
    assert cases["reference_price"].tolist()[0] == 100.0
    assert cases["reason"].tolist() == [None, "no_reference"]


def test_missing_channel_matches_only_missing_channel():
    obs = observations([
        ("new", 100.0, 0, "P1", None),
        ("new", 50.0, 0, "P1", "web"),
        ("existing", 120.0, 0, "P1", None),
    ])
    case = flags(obs, PRICES).iloc[0]
    assert case["reference_price"] == 100.0
    strict = flags(obs, PRICES, match_missing=False).iloc[0]
    assert strict["reason"] == "missing_key"
    assert not strict["flagged"]
    assert np.isnan(strict["reference_price"])


def test_without_product_and_channel_columns_the_key_is_touchpoint_and_metric():
    obs = observations([("new", 100.0, 0, "P1", "web"), ("existing", 130.0, 0, "P2", "shop")])
    obs = obs.drop(columns=["product_key", "channel"])
    assert flags(obs, PRICES)["reference_price"].iloc[0] == 100.0


@pytest.mark.parametrize("min_reference_n, reason", [(2, None), (3, "too_few_references")])
def test_min_reference_n(min_reference_n, reason):
    obs = observations([("new", 100.0, 0, "P1", "web"), ("new", 102.0, 1, "P1", "web"),
                        ("existing", 150.0, 0, "P1", "web")])
    case = flags(obs, PRICES, min_reference_n=min_reference_n).iloc[0]
    assert case["reference_n"] == 2
    assert case["reason"] == reason
    assert bool(case["flagged"]) is (reason is None)


def test_missing_value_and_date_give_reasons_not_verdicts():
    obs = observations([("new", 100.0, 0, "P1", "web"), ("existing", np.nan, 0, "P1", "web"),
                        ("existing", 150.0, 0, "P1", "web")])
    obs.loc[2, "observed_at"] = pd.NaT
    cases = flags(obs, PRICES)
    assert cases["reason"].tolist() == ["missing_value", "missing_date"]
    assert not cases["flagged"].any()
    assert set(cases["reason"]) <= set(CASE_REASONS)


def test_only_existing_price_observations_are_returned_with_their_index():
    obs = observations([("new", 100.0, 0, "P1", "web"), ("existing", 150.0, 0, "P1", "web")])
    wait = obs.assign(touchpoint="hotline", metric="wait_seconds")
    obs = pd.concat([obs, wait], ignore_index=True)
    obs.index = [10, 11, 12, 13]
    before = obs.copy()
    cases = flags(obs, PRICES)
    assert cases.index.tolist() == [11]
    pd.testing.assert_frame_equal(obs, before)


def test_bare_metric_name_and_german_status_words():
    obs = observations([("Neukunde", 100.0, 0, "P1", "web"),
                        ("Bestandskunde", 150.0, 0, "P1", "web")])
    case = flags(obs, ["price"]).iloc[0]
    assert case["reference_price"] == 100.0


def test_total_excess_counts_flagged_cases_only():
    obs = observations([
        ("new", 100.0, 0, "P1", "web"),
        ("existing", 130.0, 0, "P1", "web"),
        ("existing", 90.0, 0, "P1", "web"),     # below: negative excess, not flagged
        ("existing", 110.0, 0, "P1", "web"),
        ("existing", 500.0, 0, "P9", "web"),    # no reference
    ], tier=["", "Z", "Z", "A", "A"])
    cases = flags(obs, PRICES)
    assert total_excess(cases) == pytest.approx(40.0)
    by_tier = total_excess(cases, "tier").set_index("tier")
    assert by_tier.loc["Z", "total_excess"] == pytest.approx(30.0)
    assert by_tier.loc["Z", "n_flagged"] == 1
    assert by_tier.loc["Z", "n_cases"] == 2
    assert by_tier.loc["A", "n_cases"] == 1


@pytest.mark.parametrize("change, message", [
    (lambda f: f.drop(columns="observed_at"), "observed_at"),
    (lambda f: f.assign(observed_at="2024-03-01"), "pd.to_datetime"),
    (lambda f: f.assign(value="12"), "pd.to_numeric"),
    (lambda f: f.assign(customer_status="prospect"), "prospect"),
])
def test_bad_input_raises_with_a_hint(change, message):
    obs = observations([("new", 100.0, 0, "P1", "web"), ("existing", 150.0, 0, "P1", "web")])
    with pytest.raises(ValueError, match=message):
        flags(change(obs), PRICES)


def brute_force_references(obs, window_days):
    """Reference median and count by a plain loop, to check the vectorised version."""
    new = obs[obs["customer_status"] == "new"]
    out = []
    for _, row in obs[obs["customer_status"] == "existing"].iterrows():
        same = new[(new["product_key"] == row["product_key"])
                   & (new["channel"] == row["channel"])]
        gap = (same["observed_at"].dt.normalize() - row["observed_at"].normalize()).dt.days
        inside = same.loc[gap.abs() <= window_days, "value"]
        out.append((inside.median() if len(inside) else np.nan, len(inside)))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_vectorised_windows_match_a_plain_loop(seed, monkeypatch):
    # a tiny chunk budget forces many chunks of the padded window matrix
    monkeypatch.setattr(penalty, "_MAX_CELLS", 7)
    rng = np.random.default_rng(seed)
    n = 300
    obs = pd.DataFrame({
        "touchpoint": "renewal", "metric": "price",
        "customer_status": rng.choice(["new", "existing"], n),
        "value": rng.integers(50, 150, n).astype(float),
        "observed_at": pd.Timestamp("2024-01-01")
        + pd.to_timedelta(rng.integers(0, 200, n), unit="D")
        + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s"),
        "product_key": rng.choice(["P1", "P2", "P3"], n),
        "channel": rng.choice(["web", "shop"], n),
    })
    cases = flags(obs, PRICES, window_days=12)
    expected = brute_force_references(obs, 12)
    np.testing.assert_allclose(cases["reference_price"], [m for m, _ in expected])
    assert cases["reference_n"].tolist() == [k for _, k in expected]


# ------------------------------------------------------------ prediction bound

def test_bound_is_z_s_sqrt_1_plus_pi_over_2k_on_the_log_scale():
    news = [100.0, 95.0, 105.0, 90.0, 110.0]
    logs = np.log(news)
    s = 1.4826 * np.median(np.abs(logs - np.median(logs)))
    limit = 100.0 * np.exp(1.645 * s * np.sqrt(1 + np.pi / 10))
    obs = observations([("new", v, 0, "P1", "web") for v in news]
                       + [("existing", limit - 0.01, 0, "P1", "web"),
                          ("existing", limit + 0.01, 0, "P1", "web")])
    cases = case_flags(obs, PRICES)
    assert cases["reference_spread"].iloc[0] == pytest.approx(s)
    assert cases["limit_price"].iloc[0] == pytest.approx(limit)
    assert cases["flagged"].tolist() == [False, True]
    assert cases["excess"].iloc[1] == pytest.approx(limit + 0.01 - 100.0)


def test_tolerance_only_raises_the_bar():
    news = [100.0, 95.0, 105.0, 90.0, 110.0]
    obs = observations([("new", v, 0, "P1", "web") for v in news]
                       + [("existing", 120.0, 0, "P1", "web")])
    bound = case_flags(obs, PRICES)["limit_price"].iloc[0]
    assert case_flags(obs, PRICES, tolerance=0.01)["limit_price"].iloc[0] == bound
    assert case_flags(obs, PRICES, tolerance=0.5)["limit_price"].iloc[0] == pytest.approx(150.0)


def test_default_needs_three_references():
    obs = observations([("new", 100.0, 0, "P1", "web"), ("new", 101.0, 0, "P1", "web"),
                        ("existing", 300.0, 0, "P1", "web")])
    case = case_flags(obs, PRICES).iloc[0]
    assert case["reason"] == "too_few_references" and not case["flagged"]


def gated_audit(seed=1, penalty_z=0.15):
    """60 new and 60 existing customers' prices; segment Z (15 customers) pays more, A not."""
    rng = np.random.default_rng(seed)
    rows = [("new", 100 * rng.lognormal(0, 0.03), int(rng.integers(0, 20)), "P1", "web")
            for _ in range(60)]
    tiers = ["A"] * 45 + ["Z"] * 15
    rows += [("existing", 100 * rng.lognormal(0, 0.03) * (1 + penalty_z * (t == "Z")),
              int(rng.integers(0, 20)), "P1", "web") for t in tiers]
    obs = observations(rows, tier=[None] * 60 + tiers)
    obs["customer_id"] = [None] * 60 + [f"C{i}" for i in range(60)]
    return obs


def test_cases_only_under_a_flagged_comparison_overall_or_in_the_segment():
    obs = gated_audit()
    comparisons = compare_groups(obs, {("renewal", "price"): "lower"}, ["tier"],
                                 price_metrics=PRICES)
    flagged = comparisons[comparisons["flagged"]]
    assert flagged[["segment_kind", "segment"]].values.tolist() == [["tier", "Z"]]
    cases = case_flags(obs, PRICES, comparisons=comparisons)
    assert cases.loc[cases["tier"] == "A", "flagged"].sum() == 0
    assert cases.loc[cases["tier"] == "A", "comparison_flagged"].sum() == 0
    assert cases.loc[cases["tier"] == "Z", "flagged"].mean() > 0.8
    quiet = comparisons.assign(flagged=False)
    assert not case_flags(obs, PRICES, comparisons=quiet)["flagged"].any()


def test_excess_a_year_from_the_gap_the_typical_price_and_the_volume():
    obs = gated_audit()
    comparisons = compare_groups(obs, {("renewal", "price"): "lower"}, ["tier"],
                                 price_metrics=PRICES)
    z_row = comparisons[comparisons["segment"] == "Z"].iloc[0]
    year = excess_per_year(comparisons, PRICES, segment_sizes={("tier", "Z"): 400})
    assert len(year) == 1
    row = year.iloc[0]
    gap = z_row["effect"] / 100
    assert row["volume"] == 400 and row["volume_source"] == "segmentation"
    assert row["excess_year"] == pytest.approx(z_row["median_existing"] * gap / (1 + gap) * 400)
    assert row["excess_year_low"] < row["excess_year"] < row["excess_year_high"]
    assert excess_per_year(comparisons, PRICES).iloc[0]["volume_source"] == "sample"
    set_volume = excess_per_year(comparisons, PRICES,
                                 volumes={("renewal", "price", "tier", "Z"): 1000}).iloc[0]
    assert set_volume["volume"] == 1000 and set_volume["volume_source"] == "set"
