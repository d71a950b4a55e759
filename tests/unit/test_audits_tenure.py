"""Price walking: does the price rise with tenure?"""

import numpy as np
import pandas as pd
import pytest

from audits import tenure_gradient

PRICES = [("renewal", "price")]


def priced(tenure, price, product="P1", status="existing"):
    return pd.DataFrame({"touchpoint": "renewal", "metric": "price",
                         "customer_status": status, "value": np.asarray(price, float),
                         "tenure_years": np.asarray(tenure, float), "product_key": product})


def test_rising_price_is_flagged_with_a_slope_per_year():
    rng = np.random.default_rng(0)
    tenure = rng.uniform(0, 10, 80)
    obs = priced(tenure, 100 * 1.03 ** tenure * rng.lognormal(0, 0.02, 80))
    row = tenure_gradient(obs, PRICES).iloc[0]
    assert row["status"] == "ok" and row["flagged"]
    assert row["rho"] > 0.8 and row["p"] < 1e-10
    assert row["slope_rel_low"] < 0.03 < row["slope_rel_high"]
    assert row["slope_rel"] == pytest.approx(0.03, abs=0.003)
    assert row["slope"] == pytest.approx(row["slope_rel"] * row["median_value"])
    assert not row["subsampled"]


def test_falling_or_flat_price_is_not_flagged():
    tenure = np.arange(30, dtype=float)
    falling = tenure_gradient(priced(tenure, 200 - tenure), PRICES).iloc[0]
    assert falling["p"] < 0.05 and falling["slope"] < 0 and not falling["flagged"]
    rng = np.random.default_rng(1)
    flat = tenure_gradient(priced(tenure, rng.normal(100, 5, 30)), PRICES).iloc[0]
    assert flat["p"] > 0.05 and not flat["flagged"]


@pytest.mark.parametrize("n, status", [(10, "ok"), (9, "insufficient_data")])
def test_min_n(n, status):
    tenure = np.arange(n, dtype=float)
    row = tenure_gradient(priced(tenure, 100 + 10 * tenure), PRICES).iloc[0]
    assert row["status"] == status
    assert bool(row["flagged"]) is (status == "ok")
    assert bool(np.isnan(row["p"])) is (status != "ok")


def test_constant_tenure_is_reported_not_warned():
    row = tenure_gradient(priced([5.0] * 20, np.arange(20)), PRICES).iloc[0]
    assert row["status"] == "constant" and not row["flagged"] and np.isnan(row["rho"])


def test_prices_relative_to_their_product_pooled_and_only_existing_customers():
    # long-standing customers hold the dear product; within a product nobody walks
    rng = np.random.default_rng(4)
    tenure = rng.uniform(0, 10, 60)
    dear = tenure > 5
    obs = pd.concat([
        priced(tenure, np.where(dear, 500, 100) * rng.lognormal(0, 0.03, 60),
               np.where(dear, "P2", "P1")),
        priced(tenure, 1000 + 50 * tenure, "P1", status="new"),
    ], ignore_index=True)
    row = tenure_gradient(obs, PRICES).iloc[0]
    assert row["n"] == 60 and not row["flagged"]
    raw = tenure_gradient(obs, PRICES, by_product=False).iloc[0]
    assert raw["flagged"]                      # what ignoring the product would claim


def test_one_value_per_customer():
    rng = np.random.default_rng(6)
    tenure = np.repeat(rng.uniform(0, 10, 12), 10)
    obs = priced(tenure, 100 * rng.lognormal(0, 0.05, 120))
    obs["customer_id"] = [f"C{i // 10}" for i in range(120)]
    row = tenure_gradient(obs, PRICES).iloc[0]
    assert row["n"] == 12 and row["n_obs"] == 120


def test_flag_needs_the_minimum_slope():
    tenure = np.arange(40, dtype=float) / 4
    obs = priced(tenure, 100 * 1.005 ** tenure)  # +0.5 % a year, perfectly regular
    row = tenure_gradient(obs, PRICES).iloc[0]
    assert row["p"] < 1e-10 and not row["flagged"]
    assert tenure_gradient(obs, PRICES, min_slope=0.004).iloc[0]["flagged"]


def test_theil_sen_subsamples_large_groups_deterministically():
    rng = np.random.default_rng(2)
    tenure = rng.uniform(0, 20, 5000)
    obs = priced(tenure, 100 * 1.02 ** tenure * rng.lognormal(0, 0.05, 5000))
    one = tenure_gradient(obs, PRICES, max_points=500)
    row = one.iloc[0]
    assert row["n"] == 5000 and row["n_slope"] == 500 and row["subsampled"]
    assert row["slope_rel"] == pytest.approx(0.02, abs=0.002)
    pd.testing.assert_frame_equal(one, tenure_gradient(obs, PRICES, max_points=500))


def test_flags_use_adjusted_p_across_metrics_unless_told_otherwise():
    rng = np.random.default_rng(3)
    frames = [priced(rng.uniform(0, 10, 40), rng.normal(100, 5, 40)).assign(metric=f"m{i}")
              for i in range(20)]
    metrics = [f"m{i}" for i in range(20)]
    result = tenure_gradient(pd.concat(frames, ignore_index=True), metrics)
    assert len(result) == 20 and (result["p_adjusted"] >= result["p"]).all()
    raw = tenure_gradient(pd.concat(frames, ignore_index=True), metrics, adjust=False)
    assert (raw["p_adjusted"] == raw["p"]).all()


def test_missing_tenure_column_raises_with_a_hint():
    with pytest.raises(ValueError, match="tenure_years"):
        tenure_gradient(priced([1.0], [1.0]).drop(columns="tenure_years"), PRICES)
