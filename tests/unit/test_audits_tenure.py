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
    obs = priced(tenure, 100 + 3 * tenure + rng.normal(0, 2, 80))
    row = tenure_gradient(obs, PRICES).iloc[0]
    assert row["status"] == "ok" and row["flagged"]
    assert row["rho"] > 0.8 and row["p"] < 1e-10
    assert row["slope_low"] < 3 < row["slope_high"]
    assert row["slope"] == pytest.approx(3, abs=0.3)
    assert row["slope_rel"] == pytest.approx(row["slope"] / row["median_value"])
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


def test_groups_per_product_and_only_existing_customers():
    tenure = np.arange(20, dtype=float)
    obs = pd.concat([
        priced(tenure, 100 + tenure, "P1"),
        priced(tenure, 500 - tenure, "P2"),
        priced(tenure, 1000 + 50 * tenure, "P1", status="new"),
    ], ignore_index=True)
    result = tenure_gradient(obs, PRICES)
    assert result["product_key"].tolist() == ["P1", "P2"]
    assert result["n"].tolist() == [20, 20]
    assert result["flagged"].tolist() == [True, False]
    pooled = tenure_gradient(obs, PRICES, by_product=False)
    assert len(pooled) == 1 and "product_key" not in pooled.columns


def test_theil_sen_subsamples_large_groups_deterministically():
    rng = np.random.default_rng(2)
    tenure = rng.uniform(0, 20, 5000)
    obs = priced(tenure, 100 + 2 * tenure + rng.normal(0, 5, 5000))
    one = tenure_gradient(obs, PRICES, max_points=500)
    row = one.iloc[0]
    assert row["n"] == 5000 and row["n_slope"] == 500 and row["subsampled"]
    assert row["slope"] == pytest.approx(2, abs=0.2)
    pd.testing.assert_frame_equal(one, tenure_gradient(obs, PRICES, max_points=500))


def test_flags_use_adjusted_p_across_products_unless_told_otherwise():
    rng = np.random.default_rng(3)
    frames = [priced(rng.uniform(0, 10, 40), rng.normal(100, 5, 40), f"P{i}")
              for i in range(20)]
    result = tenure_gradient(pd.concat(frames, ignore_index=True), PRICES)
    assert (result["p_adjusted"] >= result["p"]).all()
    raw = tenure_gradient(pd.concat(frames, ignore_index=True), PRICES, adjust=False)
    assert (raw["p_adjusted"] == raw["p"]).all()


def test_missing_tenure_column_raises_with_a_hint():
    with pytest.raises(ValueError, match="tenure_years"):
        tenure_gradient(priced([1.0], [1.0]).drop(columns="tenure_years"), PRICES)
