"""All methods joined per customer; the package's public surface and purity."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import segmentation
from segmentation import SEGMENT_COLUMNS, label, parse_customer_values, segment_customers, segment_window
from segmentation.definitions import DEFINITIONS
from tabular import read_table


def long_values(periods: int = 24) -> pd.DataFrame:
    months = [f"{2023 + i // 12}-{i % 12 + 1:02d}" for i in range(periods)]
    t = np.arange(periods)
    shapes = {
        "001": 1000 + 60 * t,  # growth, biggest
        "002": 800 * (1 + 0.5 * np.sin(2 * np.pi * t / 12)),  # cyclic
        "003": 600 - 20 * t,  # shrinking
        "004": 50 + 0 * t,  # small and flat, long tenure, no margin -> burr
    }
    rows = []
    for customer_id, series in shapes.items():
        for period, revenue in zip(months, series):
            rows.append(
                {
                    "customer_id": customer_id,
                    "name": f"Kunde {customer_id}",
                    "customer_since": pd.Timestamp("2010-01-01" if customer_id == "004" else "2022-06-01"),
                    "period": period,
                    "revenue": float(revenue),
                    "cost_to_serve": float(revenue) * (1.0 if customer_id == "004" else 0.3),
                    "potential": {"001": 2000.0, "002": 800.0, "003": 900.0, "004": 60.0}[customer_id],
                }
            )
    frame = pd.DataFrame(rows)
    frame["contribution"] = frame["revenue"] - frame["cost_to_serve"]
    return frame


def test_segment_window_joins_every_method():
    out = segment_window(long_values(), "2023-01", "2024-12")
    expected_columns = [c for group in SEGMENT_COLUMNS.values() for c in group]
    assert set(expected_columns) <= set(out.columns)
    assert out["customer_id"].tolist() == ["001", "002", "003", "004"]  # by abc_rank
    assert out["abc_rank"].tolist() == [1, 2, 3, 4]
    by_id = out.set_index("customer_id")
    assert by_id.loc["001", "trajectory"] == "growth"
    assert by_id.loc["002", "trajectory"] == "cyclic"
    assert by_id.loc["003", "trajectory"] == "shrinking"
    assert by_id.loc["004", "trajectory"] == "stable"
    # only 004 is a burr: long tenure, zero contribution; the others are new customers
    assert out["burr"].tolist() == [False, False, False, True]
    assert by_id.loc["004", "profit_tier"] == "C"  # contribution exactly 0
    assert by_id.loc["004", "service_level"] == "basic"
    assert set(out["potential_segment"]) <= {"star", "focus", "cash_cow", "time_waster"}
    assert out["trajectory_n_periods"].tolist() == [24] * 4


def test_segment_customers_without_optional_data_keeps_all_columns():
    aggregates = pd.DataFrame({"customer_id": ["a", "b"], "revenue": [10.0, 1.0]})
    out = segment_customers(aggregates)
    for group in SEGMENT_COLUMNS.values():
        assert set(group) <= set(out.columns)
    assert out["abc_class"].tolist() == ["A", "B"]
    assert out["potential_segment"].tolist() == [None, None]
    assert out["profit_tier"].tolist() == [None, None]
    assert out["trajectory"].tolist() == [None, None]
    assert out["burr"].isna().all()


def test_rating_is_used_when_no_potential_spend():
    aggregates = pd.DataFrame(
        {"customer_id": ["a", "b"], "revenue": [10.0, 5.0], "potential": [np.nan, np.nan], "potential_rating": [1, 5]}
    )
    out = segment_customers(aggregates).set_index("customer_id")
    assert out.loc["a", "potential_segment"] == "cash_cow"
    assert out.loc["b", "potential_segment"] == "focus"


def test_quarterly_columns_use_four_periods_per_year():
    rows = []
    for i in range(12):
        period = f"{2022 + i // 4}-Q{i % 4 + 1}"
        rows.append({"customer_id": "q", "period": period, "revenue": 100 * (1 + 0.6 * np.sin(np.pi * i / 2))})
    out = segment_window(pd.DataFrame(rows))
    assert out["trajectory"].iloc[0] == "cyclic"


def test_from_csv_to_segments():
    lines = ["Kundennummer;Name;Kunde seit;Periode;Umsatz;Betreuungskosten"]
    for month in range(1, 13):
        lines.append(f"0001;Alpha;01.01.2010;2024-{month:02d};{1000 + 100 * month},00;100")
        lines.append(f"0002;Beta;01.01.2023;2024-{month:02d};{200},50;250")
    values, problems, _ = parse_customer_values(read_table("\n".join(lines).encode("cp1252"), "x.csv"))
    assert problems == []
    out = segment_window(values).set_index("customer_id")
    assert out.loc["0001", "abc_class"] == "A"
    assert out.loc["0002", "profit_tier"] == "Z"
    assert out.loc["0001", "trajectory"] == "growth"
    assert out["burr"].tolist() == [False, False]  # 0001 earns well; 0002 loses money but is new


def test_duplicate_aggregates_are_rejected():
    with pytest.raises(ValueError, match="aggregate_window"):
        segment_customers(pd.DataFrame({"customer_id": ["a", "a"], "revenue": [1.0, 2.0]}))


def test_labels():
    assert label("potential_segment", "time_waster") == "Zeitfresser"
    assert label("potential_segment", "time_waster", "en") == "Time wasters"
    assert label("profit_tier", "C", field="description").endswith("Innendienst.")
    assert label("trajectory", "bell") == "Glockenkunde"
    with pytest.raises(ValueError, match="kinds"):
        label("nope", "x")
    with pytest.raises(ValueError, match="lang"):
        label("trajectory", "bell", "fr")
    for kind, entries in DEFINITIONS.items():
        for key in entries:
            assert label(kind, key, "de") and label(kind, key, "en")


def test_public_api_is_listed():
    for name in segmentation.__all__:
        assert hasattr(segmentation, name), name


def test_package_imports_no_web_layer():
    code = (
        "import sys, segmentation\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy', 'app')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
