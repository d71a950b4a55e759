"""Value trajectories on noisy synthetic series, the rules at their boundaries, the burr flag."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from segmentation.definitions import TRAJECTORIES, TRAJECTORY_REASONS
from segmentation.trajectory import TRAJECTORY_KEYS, value_trajectories

MONTHS = [f"{2023 + i // 12}-{i % 12 + 1:02d}" for i in range(36)]


def synthetic(kind: str, rng: np.random.Generator, count: int, n: int = 24, noise: float = 0.1,
              period: int = 12) -> np.ndarray:
    """Noisy series of one shape, each at its own level (multiplicative shape, additive noise)."""
    t = np.arange(n)
    level = rng.uniform(50, 5000, size=(count, 1))
    if kind == "stable":
        shape = np.ones((count, n))
    elif kind == "growth":
        shape = 1 + rng.uniform(0.5, 1.0, (count, 1)) * t / (n - 1)
    elif kind == "shrinking":
        shape = 1 - rng.uniform(0.4, 0.7, (count, 1)) * t / (n - 1)
    elif kind == "bell":
        centre = rng.uniform(0.35, 0.65, (count, 1)) * (n - 1)
        width = rng.uniform(0.1, 0.16, (count, 1)) * n
        shape = 0.2 + np.exp(-((t - centre) ** 2) / (2 * width**2))
    elif kind == "cyclic":
        phase = rng.uniform(0, 2 * np.pi, (count, 1))
        shape = 1 + rng.uniform(0.4, 0.6, (count, 1)) * np.sin(2 * np.pi * t / period + phase)
    else:
        raise ValueError(kind)
    return level * (shape + noise * rng.standard_normal((count, n)))


def matrix(values, columns=None) -> pd.DataFrame:
    values = np.atleast_2d(np.asarray(values, dtype=float))
    columns = columns or MONTHS[: values.shape[1]]
    index = pd.Index([f"K{i:04d}" for i in range(values.shape[0])], name="customer_id")
    return pd.DataFrame(values, index=index, columns=columns)


@pytest.mark.parametrize("kind", ["growth", "shrinking", "bell", "cyclic", "stable"])
def test_noisy_monthly_series_are_recognised(kind):
    rng = np.random.default_rng({"growth": 1, "shrinking": 2, "bell": 3, "cyclic": 4, "stable": 5}[kind])
    result = value_trajectories(matrix(synthetic(kind, rng, 200)))
    assert (result["trajectory"] == kind).mean() >= 0.9


@pytest.mark.parametrize("kind", ["growth", "shrinking", "bell", "cyclic", "stable"])
def test_noisy_quarterly_series_are_recognised(kind):
    rng = np.random.default_rng(10 + len(kind))
    quarters = [f"{2021 + i // 4}-Q{i % 4 + 1}" for i in range(20)]
    values = synthetic(kind, rng, 200, n=20, period=4)
    result = value_trajectories(matrix(values, quarters), periods_per_year=4)
    assert (result["trajectory"] == kind).mean() >= 0.9


@pytest.mark.parametrize("kind", ["growth", "shrinking", "bell", "stable"])
def test_short_series_are_too_short_to_tell_unless_overwhelming(kind):
    # 16 quarters: below 18 values a shape needs p < 0.001; never a wrong shape
    rng = np.random.default_rng(10 + len(kind))
    quarters = [f"{2021 + i // 4}-Q{i % 4 + 1}" for i in range(16)]
    values = synthetic(kind, rng, 200, n=16, period=4)
    result = value_trajectories(matrix(values, quarters), periods_per_year=4)
    short = result["reason"] == "too_short_to_tell"
    assert (result.loc[short, "trajectory"] == "unknown").all()
    assert (short | (result["trajectory"] == kind)).all()
    if kind == "stable":
        assert short.all()          # a short flat series is no evidence of stability
    else:
        assert (result["trajectory"] == kind).mean() >= 0.4


def test_missing_values_do_not_break_recognition():
    rng = np.random.default_rng(7)
    for kind in ("growth", "bell", "cyclic"):
        values = synthetic(kind, rng, 200)
        values[rng.random(values.shape) < 0.1] = np.nan
        result = value_trajectories(matrix(values))
        assert (result["trajectory"] == kind).mean() >= 0.9, kind


@pytest.mark.parametrize("alpha", [0.05, 0.01])
def test_stable_noise_is_rarely_called_a_trend(alpha):
    rng = np.random.default_rng(11)
    result = value_trajectories(matrix(synthetic("stable", rng, 2000)), alpha=alpha, min_slope_rel=0.0)
    false_trend = result["trajectory"].isin(["growth", "shrinking"]).mean()
    # the t-test holds its level on white noise: at most alpha plus sampling slack
    assert false_trend <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / 2000)


def test_lumpy_noise_is_rarely_a_bell():
    # very noisy flat series (coefficient of variation ~0.58) often show a random
    # inner peak with lower ends; the curvature test keeps them out of "bell"
    rng = np.random.default_rng(12)
    result = value_trajectories(matrix(rng.uniform(10, 100_000, (2000, 24))))
    shape_only = (
        (result["peak_ratio_start"] < 0.7) & (result["peak_ratio_end"] < 0.7)
    ).mean()
    assert shape_only > 0.2  # the shape rule alone would fire often
    assert (result["trajectory"] == "bell").mean() <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 2000)


def test_exactly_min_periods_is_enough_one_less_is_not():
    six = [10.0, 11.0, 13.0, 14.0, 16.0, 17.0] + [np.nan] * 6
    five = [10.0, 11.0, 13.0, 14.0, 16.0] + [np.nan] * 7
    result = value_trajectories(matrix([six, five]), min_periods=6)
    assert result["n_periods"].tolist() == [6, 5]
    assert result["trajectory"].tolist() == ["growth", "unknown"]   # short, but overwhelming
    assert result["reason"].tolist() == ["significant_rise", "insufficient_data"]


def test_edge_cases_constant_line_and_empty():
    rows = [
        [100.0] * 12,  # constant: no trend
        [float(10 + i) for i in range(12)],  # a perfect line
        [np.nan] * 12,  # nothing
        [0.0] * 12,  # zero throughout
    ]
    result = value_trajectories(matrix(rows), min_trend_periods=12)
    assert result["trajectory"].tolist() == ["stable", "growth", "unknown", "stable"]
    short = value_trajectories(matrix(rows))
    assert short["reason"].tolist() == ["too_short_to_tell", "significant_rise",
                                        "insufficient_data", "too_short_to_tell"]
    assert result["p_value"].tolist()[:2] == [1.0, 0.0]
    assert result["slope"].tolist()[:2] == [0.0, pytest.approx(1.0)]
    assert result["peak_index"].tolist()[2] == -1
    assert np.isnan(result["slope_rel"].iloc[3])


def test_output_columns_figures_and_order():
    result = value_trajectories(matrix([[float(10 + 2 * i) for i in range(12)]]))
    assert list(result.columns) == [
        "customer_id", "trajectory", "reason", "n_periods", "slope", "slope_rel", "p_value",
        "peak_index", "peak_ratio_start", "peak_ratio_end", "seasonal_acf", "cycle_strength",
        "curvature_p", "autocorrelation", "burr", "tenure_years", "margin",
    ]
    row = result.iloc[0]
    assert row["customer_id"] == "K0000"
    assert row["slope"] == pytest.approx(2.0)
    # mean 21, 2 per month -> 24 per year -> 114 % of the mean
    assert row["slope_rel"] == pytest.approx(24 / 21)
    assert row["peak_index"] == 11
    assert np.isnan(row["seasonal_acf"])  # one year only: no seasonal test


def test_bell_takes_precedence_over_the_falling_trend():
    # rises to month 6, then falls far below: the linear fit is significantly negative
    values = [20, 60, 90, 100, 100, 98, 90, 75, 60, 45, 35, 25, 20, 15, 12, 10, 8, 7]
    result = value_trajectories(matrix([values]))
    assert result["slope"].iloc[0] < 0
    assert result["trajectory"].iloc[0] == "bell"
    assert result["reason"].iloc[0] == "inner_peak"


def test_bell_end_ratio_boundary():
    rise = [10.0, 10, 10, 10, 30, 60, 90, 100, 100, 90]
    clearly_below = value_trajectories(matrix([rise + [60, 50, 40, 40, 40, 40, 40, 40]]))
    assert clearly_below["trajectory"].iloc[0] == "bell"
    # ending at 75 % of the peak is not "well below" with the default 0.7
    not_below = value_trajectories(matrix([rise + [80, 78, 76, 75, 75, 75, 75, 75]]))
    assert not_below["peak_ratio_end"].iloc[0] >= 0.7
    assert not_below["trajectory"].iloc[0] != "bell"
    assert value_trajectories(
        matrix([rise + [80, 78, 76, 75, 75, 75, 75, 75]]), bell_end_ratio=0.8
    )["trajectory"].iloc[0] == "bell"


def test_peak_at_the_edge_is_not_a_bell():
    falling = [100.0, 95, 92, 86, 83, 78, 74, 70, 66, 61, 58, 54, 50, 45, 42, 38, 33, 30]
    result = value_trajectories(matrix([falling]))
    assert result["trajectory"].iloc[0] == "shrinking"


def test_cyclic_needs_two_years_and_a_strong_swing():
    t = np.arange(24)
    strong = 100 * (1 + 0.5 * np.sin(2 * np.pi * t / 12))
    weak = 100 * (1 + 0.05 * np.sin(2 * np.pi * t / 12))
    result = value_trajectories(matrix([strong, weak]))
    assert result["seasonal_acf"].tolist() == pytest.approx([1.0, 1.0])
    assert result["trajectory"].tolist() == ["cyclic", "stable"]
    one_year = value_trajectories(matrix([strong[:12]]))
    assert np.isnan(one_year["seasonal_acf"].iloc[0])
    assert one_year["trajectory"].iloc[0] != "cyclic"


def test_small_real_trend_is_stable_below_min_slope_rel():
    values = [100 + 0.1 * i for i in range(24)]  # significant, but 1.2 % per year
    result = value_trajectories(matrix([values]))
    assert result["p_value"].iloc[0] < 0.05
    assert result["trajectory"].iloc[0] == "stable"
    assert value_trajectories(matrix([values]), min_slope_rel=0.0)["trajectory"].iloc[0] == "growth"


def test_chunking_does_not_change_the_result():
    rng = np.random.default_rng(3)
    values = np.vstack([synthetic(k, rng, 20) for k in ("growth", "bell", "cyclic", "stable")])
    values[rng.random(values.shape) < 0.05] = np.nan
    whole = value_trajectories(matrix(values))
    pieces = value_trajectories(matrix(values), chunk_size=7)
    pdt.assert_frame_equal(whole, pieces)


def test_non_float_columns_are_accepted():
    frame = matrix([[1.0] * 6]).astype("Float64")
    frame.iloc[0, 2] = pd.NA
    result = value_trajectories(frame)
    assert result["n_periods"].iloc[0] == 5


def test_burr_flag_at_its_boundaries():
    values = matrix([[100.0] * 12] * 6)
    ids = values.index
    as_of = pd.Timestamp("2024-12-31")
    since = pd.Series(
        [
            pd.Timestamp("2019-12-31"),  # fifth anniversary on as_of
            pd.Timestamp("2020-01-01"),  # one day short
            pd.Timestamp("2000-01-01"),
            pd.Timestamp("2000-01-01"),
            pd.NaT,
            pd.Timestamp("2000-01-01"),
        ],
        index=ids,
    )
    revenue = pd.Series([1000.0] * 6, index=ids)
    contribution = pd.Series([20.0, 0.0, 20.01, -50.0, 0.0, np.nan], index=ids)
    result = value_trajectories(
        values, customer_since=since, as_of=as_of, contribution=contribution, revenue=revenue
    )
    expected = pd.array([True, False, False, True, None, None], dtype="boolean")
    pdt.assert_extension_array_equal(result["burr"].array, expected)
    assert result["tenure_years"].tolist()[:2] == [5.0, 59 / 12]
    assert result["margin"].tolist()[:4] == pytest.approx([0.02, 0.0, 0.02001, -0.05])


def test_burr_with_zero_revenue_and_default_as_of():
    values = matrix([[0.0] * 12, [0.0] * 12], columns=MONTHS[:12])  # 2023-01 .. 2023-12
    since = pd.Series(pd.to_datetime(["2018-12-31", "2019-01-02"]), index=values.index)
    contribution = pd.Series([0.0, 0.0], index=values.index)
    revenue = pd.Series([0.0, 0.0], index=values.index)
    result = value_trajectories(values, customer_since=since, contribution=contribution, revenue=revenue)
    # as_of = end of 2023-12: the first reaches 5 years that day, the second two days later
    assert result["tenure_years"].tolist() == [5.0, 59 / 12]
    assert result["burr"].tolist() == [True, False]


def test_burr_is_unknown_without_inputs_and_needs_as_of_for_plain_columns():
    plain = pd.DataFrame([[1.0] * 6], columns=list("abcdef"))
    assert value_trajectories(plain)["burr"].isna().all()
    with pytest.raises(ValueError, match="as_of"):
        value_trajectories(plain, customer_since=pd.Series([pd.Timestamp("2000-01-01")]))


@pytest.mark.parametrize(
    "kwargs",
    [{"alpha": 0}, {"min_periods": 2}, {"edge_fraction": 0.5}, {"chunk_size": 0}, {"periods_per_year": 0}],
)
def test_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        value_trajectories(matrix([[1.0] * 6]), **kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match="to_wide"):
        value_trajectories(np.ones((2, 6)))
    with pytest.raises(ValueError, match="numbers"):
        value_trajectories(pd.DataFrame([["a"] * 6]))
    with pytest.raises(ValueError, match="duplicate"):
        value_trajectories(
            matrix([[1.0] * 6]),
            customer_since=pd.Series(pd.to_datetime(["2000-01-01"] * 2), index=["K0000", "K0000"]),
        )


def test_every_class_and_reason_has_labels():
    for key, reason in TRAJECTORY_KEYS:
        assert TRAJECTORIES[key]["label_de"] and TRAJECTORIES[key]["label_en"]
        assert TRAJECTORY_REASONS[reason]["label_de"] and TRAJECTORY_REASONS[reason]["label_en"]


@pytest.mark.parametrize("periods,per_year", [(24, 12), (13, 12), (8, 4), (3, 12), (1, 12)])
def test_rows_without_gaps_give_the_same_figures_on_both_paths(periods, per_year):
    """The fast path for complete rows computes exactly what the general path does."""
    from segmentation.trajectory import _complete_figures, _gappy_figures

    rng = np.random.default_rng(periods)
    t = np.arange(periods)
    values = np.vstack([
        rng.lognormal(5, 1, size=(200, periods)),                         # noise
        100 + 5 * t + rng.normal(0, 3, size=(50, periods)),               # growth
        100 + 30 * np.sin(2 * np.pi * t / per_year) + rng.normal(0, 2, size=(50, periods)),  # cycle
        np.full((5, periods), 7.0),                                       # constant
        -(np.arange(periods) - periods / 2) ** 2 + 500.0,                 # a bell, repeated below
    ])
    values = np.vstack([values, np.repeat(values[-1:], 4, axis=0)])
    lag = per_year
    fast = _complete_figures(values, lag, 0.2, per_year)
    general = _gappy_figures(values, lag, 0.2, per_year)
    assert fast.keys() == general.keys()
    for name in fast:
        np.testing.assert_allclose(fast[name], general[name], rtol=1e-9, atol=1e-12, err_msg=name)


def test_a_matrix_mixing_complete_and_gappy_rows_equals_row_by_row():
    rng = np.random.default_rng(3)
    values = rng.lognormal(5, 0.5, size=(300, 24))
    values[rng.random(values.shape) < 0.05] = np.nan
    matrix = pd.DataFrame(values, columns=[f"2024-{m:02d}" for m in range(1, 13)] +
                          [f"2025-{m:02d}" for m in range(1, 13)])
    together = value_trajectories(matrix, chunk_size=64)
    one_by_one = pd.concat([value_trajectories(matrix.iloc[[i]]) for i in range(0, 300, 7)])
    pdt.assert_frame_equal(together.iloc[list(range(0, 300, 7))].reset_index(drop=True),
                           one_by_one.reset_index(drop=True), check_exact=False, rtol=1e-9)
