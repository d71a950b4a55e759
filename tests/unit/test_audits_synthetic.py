"""Synthetic observations: shape, determinism and the planted penalty."""

import pandas as pd
import pytest

from audits.synthetic import (
    DEFAULT_SEGMENTS,
    synthetic_directions,
    synthetic_observations,
    synthetic_price_metrics,
)


def test_frame_has_the_observation_columns_and_is_repeatable():
    obs = synthetic_observations(6000, 12, seed=3)
    assert {"touchpoint", "metric", "value", "customer_status", "customer_id", "product_key",
            "channel", "observed_at", "tenure_years", *DEFAULT_SEGMENTS} <= set(obs.columns)
    assert len(obs) == 6000
    pairs = set(zip(obs["touchpoint"], obs["metric"]))
    assert pairs == set(synthetic_directions(12))
    assert set(synthetic_price_metrics(12)) <= pairs
    new = obs[obs["customer_status"] == "new"]
    assert new["tier"].isna().all() and new["tenure_years"].isna().all()
    assert new["customer_id"].isna().mean() > 0.5
    pd.testing.assert_frame_equal(obs, synthetic_observations(6000, 12, seed=3))


def test_planted_penalty_makes_the_segment_pay_more():
    obs = synthetic_observations(20000, 1, penalty={("tier", "Z"): 0.5}, seed=1,
                                 n_products=1, price_cv=0.05)
    medians = obs.groupby(obs["tier"].astype(object).fillna("new"))["value"].median()
    assert medians["Z"] == pytest.approx(1.5 * medians["new"], rel=0.03)
    assert medians["A"] == pytest.approx(medians["new"], rel=0.03)
    with pytest.raises(ValueError, match="not in segments"):
        synthetic_observations(100, 1, penalty={("tier", "Q"): 0.1})
