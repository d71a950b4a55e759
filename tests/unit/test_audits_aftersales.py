"""After-sales → repurchase: satisfaction, the 2×2 table, the after-sales effect."""

import numpy as np
import pandas as pd
import pytest

from audits import (
    QUOTED_REFERENCE,
    aftersales_effect,
    newcombe_interval,
    quoted_reference_table,
    repurchase_table,
    satisfied,
    wilson_interval,
)
from tabular import BOOLEAN_WORDS

# --------------------------------------------------------------- satisfied()


@pytest.mark.parametrize("values, expected", [
    (["yes", "No", " ja ", "NEIN", "j", "n"], [True, False, True, False, True, False]),
    ([True, False], [True, False]),
    ([1, 0, 1], [True, False, True]),
    ([5, 4, 3, 1], [True, True, False, False]),
    (["5", "4", "3"], [True, True, False]),
    (["4,0", "3,5"], [True, False]),
])
def test_satisfied_reads_words_flags_and_scores(values, expected):
    result = satisfied(pd.Series(values))
    assert result.dtype == "boolean"
    assert result.tolist() == expected


def test_satisfied_reads_every_yes_no_word_of_tabular_and_a_digit_as_a_number():
    words = [word for flag, spelled in BOOLEAN_WORDS.items() for word in spelled if not word.isdigit()]
    flags = [flag for flag, spelled in BOOLEAN_WORDS.items() for word in spelled if not word.isdigit()]
    assert satisfied(pd.Series([w.upper() for w in words])).tolist() == flags
    assert satisfied(pd.Series(["1", "3", "5"])).tolist() == [False, False, True]  # a score, not "yes"


def test_score_threshold_boundary_and_missing_values():
    result = satisfied(pd.Series([3.0, 4.0, np.nan, 5.0]), threshold=4)
    assert result.tolist()[:2] == [False, True]
    assert result.isna().tolist() == [False, False, True, False]
    assert satisfied(pd.Series([3, 5]), threshold=3).tolist() == [True, True]


@pytest.mark.parametrize("values, kwargs, message", [
    ([1, 1, 1], {}, "scale="),
    ([0, 2], {}, "0 or 1"),
    ([6, 2], {}, "between 1 and 5"),
    (["maybe", "yes"], {}, "maybe"),
    ([3, 4], {"threshold": 7}, "threshold"),
])
def test_satisfied_refuses_what_it_cannot_read(values, kwargs, message):
    with pytest.raises(ValueError, match=message):
        satisfied(pd.Series(values), **kwargs)


def test_only_ones_are_read_as_told():
    assert satisfied(pd.Series([1, 1]), scale="binary").tolist() == [True, True]
    assert satisfied(pd.Series([1, 1]), scale="score").tolist() == [False, False]


# ----------------------------------------------------------- Wilson, Newcombe

@pytest.mark.parametrize("x, n, low, high", [   # Newcombe (1998), Stat Med 17:857, table I
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_interval_known_values(x, n, low, high):
    lo, hi = wilson_interval(x, n)
    assert float(lo) == pytest.approx(low, abs=5e-5)
    assert float(hi) == pytest.approx(high, abs=5e-5)


@pytest.mark.parametrize("a, b, low, high", [   # Newcombe (1998), Stat Med 17:873, method 10
    ((56, 70), (48, 80), 0.0524, 0.3339),
    ((9, 10), (3, 10), 0.1705, 0.8090),
    ((5, 56), (0, 29), -0.0381, 0.1926),
    ((0, 10), (0, 20), -0.1611, 0.2775),
    ((10, 10), (0, 20), 0.6791, 1.0),
])
def test_newcombe_interval_known_values(a, b, low, high):
    lo, hi = newcombe_interval(a[0], a[1], b[0], b[1])
    assert float(lo) == pytest.approx(low, abs=5e-5)
    assert float(hi) == pytest.approx(high, abs=5e-5)


# ------------------------------------------------------------ repurchase table

def outcomes(cells, **segment):
    """cells: {(sale, after): (n, repurchased)}."""
    rows = []
    for (sale, after), (n, bought) in cells.items():
        for i in range(n):
            rows.append({"sale_satisfaction": 5 if sale else 2,
                         "after_sales_satisfaction": "ja" if after else "nein",
                         "repurchased": "yes" if i < bought else "no"})
    frame = pd.DataFrame(rows)
    for name, value in segment.items():
        frame[name] = value
    return frame


def test_table_has_four_cells_with_wilson_intervals_and_the_quoted_reference():
    data = outcomes({(True, True): (20, 18), (False, True): (10, 5),
                     (True, False): (9, 1), (False, False): (0, 0)})
    table = repurchase_table(data)
    assert table[["sale_satisfied", "after_sales_satisfied"]].values.tolist() == [
        [True, True], [False, True], [True, False], [False, False]]
    assert table["n"].tolist() == [20, 10, 9, 0]
    assert table["repurchased"].tolist() == [18, 5, 1, 0]
    assert table["status"].tolist() == ["ok", "ok", "insufficient_data", "insufficient_data"]
    assert table["rate"].iloc[0] == pytest.approx(0.9)
    assert table["rate"].iloc[1] == pytest.approx(0.5)          # n exactly at min_n
    assert table["rate"].iloc[2:].isna().all()                  # no rate claim below
    lo, hi = wilson_interval(18, 20)
    assert table["ci_low"].iloc[0] == pytest.approx(float(lo))
    assert table["ci_high"].iloc[0] == pytest.approx(float(hi))
    assert table["quoted_reference"].tolist() == [0.93, 0.45, 0.14, 0.03]


def test_table_per_segment_and_rows_with_missing_answers_left_out():
    data = pd.concat([
        outcomes({(True, True): (12, 10)}, tier="A"),
        outcomes({(True, True): (3, 1), (False, False): (11, 1)}, tier="Z"),
    ], ignore_index=True)
    data.loc[0, "repurchased"] = None
    table = repurchase_table(data, ["tier"])
    assert table["segment_kind"].unique().tolist() == ["overall", "tier"]
    cell = table[(table["segment"] == "A") & table["sale_satisfied"]
                 & table["after_sales_satisfied"]].iloc[0]
    assert cell["n"] == 11 and cell["repurchased"] == 9
    overall = table[(table["segment_kind"] == "overall") & table["sale_satisfied"]
                    & table["after_sales_satisfied"]].iloc[0]
    assert overall["n"] == 14


def test_quoted_reference_is_labelled_as_such():
    assert QUOTED_REFERENCE["kind"] == "quoted_reference"
    assert dict(QUOTED_REFERENCE["rates"]) == {(True, True): 0.93, (False, True): 0.45,
                                               (True, False): 0.14, (False, False): 0.03}
    assert "quoted" in QUOTED_REFERENCE["label"]["en"].lower()
    assert "zitiert" in QUOTED_REFERENCE["label"]["de"].lower()
    assert quoted_reference_table()["rate"].tolist() == [0.93, 0.45, 0.14, 0.03]


# ---------------------------------------------------------- after-sales effect

def test_effect_within_each_sale_stratum_with_newcombe_interval():
    data = outcomes({(True, True): (50, 45), (True, False): (30, 6),
                     (False, True): (20, 9), (False, False): (20, 1)})
    effect = aftersales_effect(data).set_index("sale_satisfied")
    sale_yes = effect.loc[True]
    assert sale_yes["difference"] == pytest.approx(45 / 50 - 6 / 30)
    lo, hi = newcombe_interval(45, 50, 6, 30)
    assert sale_yes["ci_low"] == pytest.approx(float(lo))
    assert sale_yes["ci_high"] == pytest.approx(float(hi))
    assert sale_yes["dissatisfied_share"] == pytest.approx(30 / 80)
    assert sale_yes["lost_repurchases"] == pytest.approx(30 * (0.9 - 0.2))
    assert sale_yes["quoted_difference"] == pytest.approx(0.79)
    assert sale_yes["flagged"] and effect.loc[False, "flagged"]


@pytest.mark.parametrize("dissatisfied, flagged", [(20, True), (19, False)])
def test_gap_needs_enough_dissatisfied_customers(dissatisfied, flagged):
    # share of dissatisfied: 20/100 exactly at the 0.2 default → flagged; 19/99 → not
    data = outcomes({(True, True): (80, 76), (True, False): (dissatisfied, 2)})
    row = aftersales_effect(data).set_index("sale_satisfied").loc[True]
    assert row["ci_low"] > 0
    assert bool(row["flagged"]) is flagged


def test_no_gap_when_interval_includes_zero_or_too_few_customers():
    close = outcomes({(True, True): (30, 20), (True, False): (30, 17)})
    row = aftersales_effect(close).set_index("sale_satisfied").loc[True]
    assert row["ci_low"] < 0 and not row["flagged"]
    small = outcomes({(True, True): (30, 30), (True, False): (9, 0)})
    row = aftersales_effect(small).set_index("sale_satisfied").loc[True]
    assert row["status"] == "insufficient_data" and not row["flagged"]
    assert np.isnan(row["difference"])
