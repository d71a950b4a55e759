"""The customer-values import: long and wide layouts, every problem with its row."""

from __future__ import annotations

import io

import numpy as np
import openpyxl
import pandas as pd
import pandas.testing as pdt
import pytest

from segmentation.customer_values import CUSTOMER_VALUE_OUTPUT, parse_customer_values
from tabular import ROW_COLUMN, has_errors, read_table, safe_cell


def parse_csv(text: str, encoding: str = "utf-8", **kwargs):
    return parse_customer_values(read_table(text.encode(encoding), "werte.csv"), **kwargs)


def codes(problems):
    return [(p.row, p.code) for p in problems if p.severity != "info"]


GERMAN_CSV = (
    "\ufeffKundennummer;Name;Kunde seit;Periode;Umsatz;Betreuungskosten;Deckungsbeitrag;"
    "Außenumsatz;Potenzialbewertung\n"
    "00123;Müller GmbH;01.02.2015;2024-01;1.234,56;100,00;;5.000,00;4\n"
    "00123;Müller GmbH;01.02.2015;2024-02;1.000,00;100,00;950,00;5.000,00;4\n"
    "0042;Weiß & Söhne;2020-06-30;03/2024;12,5;;;;\n"
)


def test_german_long_file_parses_to_typed_frame():
    frame, problems, summary = parse_csv(GERMAN_CSV)
    expected = pd.DataFrame(
        {
            "customer_id": ["00123", "00123", "0042"],
            "name": ["Müller GmbH", "Müller GmbH", "Weiß & Söhne"],
            "customer_since": pd.to_datetime(["2015-02-01", "2015-02-01", "2020-06-30"]),
            "period": ["2024-01", "2024-02", "2024-03"],
            "revenue": [1234.56, 1000.0, 12.5],
            "cost_to_serve": [100.0, 100.0, np.nan],
            "contribution": [1134.56, 950.0, np.nan],
            "potential": [5000.0, 5000.0, np.nan],
            "potential_rating": pd.array([4, 4, None], dtype="Int64"),
            ROW_COLUMN: np.array([2, 3, 4], dtype=np.int64),
        }
    ).astype({"customer_id": object, "name": object, "period": object})
    pdt.assert_frame_equal(frame, expected)
    assert list(frame.columns) == list(CUSTOMER_VALUE_OUTPUT)
    assert problems == []
    assert summary == {
        "layout": "long",
        "rows_read": 3,
        "rows": 3,
        "customers": 2,
        "periods": 3,
        "period_kind": "month",
        "first_period": "2024-01",
        "last_period": "2024-03",
        "total_revenue": pytest.approx(2247.06),
        "errors": 0,
        "warnings": 0,
        # the yearly potential repeated on both of 00123's rows counts once
        "potential_total": 5000.0,
        "potential_customers": 1,
        "potential_below_revenue": 0,
    }


def test_potential_is_the_latest_value_a_year_and_a_warning_where_below_revenue():
    """An annual Außenumsatz repeated on 18 monthly rows is one year's figure, not 18."""
    rows = ["Kundennummer;Periode;Umsatz;Außenumsatz"]
    months = [f"{2023 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}" for m in range(1, 19)]  # 2023-01 … 2024-06
    rows += [f"0070001;{month};122.000,00;3.370.000,00" for month in months]
    # 0070002 buys more from us in its last year than its stated potential
    rows += [f"0070002;{month};20.000,00;100.000,00" for month in months]
    frame, problems, summary = parse_csv("\n".join(rows) + "\n")
    assert summary["potential_total"] == pytest.approx(3_470_000.0)
    assert summary["potential_customers"] == 2
    assert summary["potential_below_revenue"] == 1
    warnings = [p for p in problems if p.code == "customer_values.potential_below_revenue"]
    assert [(p.row, p.severity, p.column) for p in warnings] == [(37, "warning", "Außenumsatz")]
    assert warnings[0].params["customer_id"] == "0070002"
    assert warnings[0].params["revenue"] == "240000.00"  # 12 months up to 2024-06, not 18
    assert warnings[0].params["period"] == "2024-06"


def test_windows_1252_file_keeps_umlauts():
    text = "Kundennummer;Name;Periode;Umsatz\n1;Jörg Weiß;2024-01;5\n"
    frame, problems, _ = parse_csv(text, encoding="cp1252")
    assert frame["name"].tolist() == ["Jörg Weiß"]
    assert problems == []


def test_english_headers_and_comma_delimiter():
    text = 'customer_id,name,period,revenue\n7,"Smith, Jones",2024-Q1,"1,200.50"\n'
    frame, problems, summary = parse_csv(text)
    assert frame["revenue"].tolist() == [1200.5]
    assert frame["period"].tolist() == ["2024-Q1"]
    assert summary["period_kind"] == "quarter"
    assert problems == []


def test_xlsx_built_in_memory():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Kundennummer", "Kunde seit", "Periode", "Umsatz"])
    sheet.append(["000815", pd.Timestamp("2018-04-01").to_pydatetime(), "2024-01", 1500.25])
    sheet.append([4711, None, pd.Timestamp("2024-02-01").to_pydatetime(), 99])
    buffer = io.BytesIO()
    workbook.save(buffer)
    frame, problems, _ = parse_customer_values(read_table(buffer.getvalue(), "werte.xlsx"))
    assert problems == []
    assert frame["customer_id"].tolist() == ["000815", "4711"]
    assert frame["period"].tolist() == ["2024-01", "2024-02"]
    assert frame["revenue"].tolist() == [1500.25, 99.0]
    assert frame["customer_since"].iloc[0] == pd.Timestamp("2018-04-01")


def test_wide_layout_is_detected_and_melted():
    text = (
        "Kundennummer;Name;2024-01;2024-02;März 2024\n"
        "001;Alpha;1.000,50;2.000;\n"
        "002;Beta;;5;6\n"
    )
    frame, problems, summary = parse_csv(text)
    assert summary["layout"] == "wide"
    assert problems == []
    expected = pd.DataFrame(
        {
            "customer_id": ["001", "001", "002", "002"],
            "period": ["2024-01", "2024-02", "2024-02", "2024-03"],
            "revenue": [1000.5, 2000.0, 5.0, 6.0],
            ROW_COLUMN: np.array([2, 2, 3, 3], dtype=np.int64),
        }
    ).astype({"customer_id": object, "period": object})
    got = frame.sort_values(["customer_id", "period"]).reset_index(drop=True)
    pdt.assert_frame_equal(got[["customer_id", "period", "revenue", ROW_COLUMN]], expected)


def test_wide_layout_bad_cell_names_the_period_column():
    text = "Kundennummer;2024-Q1;2024-Q2\nA;10;zehn\n"
    frame, problems, _ = parse_csv(text)
    assert [p.message for p in problems] == ["Row 2, column 2024-Q2: 'zehn' is not a number"]
    assert frame["period"].tolist() == ["2024-Q1"]


def test_wide_layout_repeated_period_column_is_a_warning():
    text = "Kundennummer;2024-01;Jan 2024\nA;1;2\n"
    frame, problems, _ = parse_csv(text)
    assert [(p.code, p.severity) for p in problems] == [
        ("customer_values.duplicate_period_column", "warning")
    ]
    assert frame["revenue"].tolist() == [1.0]


def test_wide_layout_without_id_column():
    frame, problems, summary = parse_csv("Name;2024-01;2024-02\nAlpha;1;2\n")
    assert frame.empty and summary["layout"] == "wide"
    assert [p.code for p in problems if p.severity == "error"] == ["column.missing"]
    assert "Kundennummer" in problems[0].message


def test_missing_required_columns_name_the_german_alias():
    frame, problems, summary = parse_csv("Kundennummer;Monat\n1;2024-01\n")
    assert frame.empty
    assert list(frame.columns) == list(CUSTOMER_VALUE_OUTPUT)
    missing = [p for p in problems if p.code == "column.missing"]
    assert len(missing) == 1
    assert "'revenue'" in missing[0].message and "Umsatz" in missing[0].message
    assert summary["rows"] == 0


def test_every_bad_row_is_reported_with_its_spreadsheet_row():
    text = (
        "Kundennummer;Name;Periode;Umsatz;Potenzialbewertung\n"  # row 1
        "1;A;2024-01;10;3\n"  # 2 ok
        ";B;2024-01;10;\n"  # 3 missing id
        "\n"  # 4 blank
        "2;C;2024-13;10;\n"  # 5 bad period
        "3;D;2024-01;12,3,4;\n"  # 6 bad number
        "4;E;2024-01;-5;\n"  # 7 negative revenue
        "5;F;2024-01;10;6\n"  # 8 rating outside 1-5 (row kept)
        "1;A;2024-01;11;3\n"  # 9 duplicate of row 2
        "6;G;;10;\n"  # 10 missing period
        "7;H;2024-02;;\n"  # 11 missing revenue
    )
    frame, problems, summary = parse_csv(text)
    assert codes(problems) == [
        (3, "customer_values.missing_id"),
        (5, "value.not_period"),
        (6, "value.not_number"),
        (7, "customer_values.negative_revenue"),
        (8, "customer_values.rating_range"),
        (9, "customer_values.duplicate"),
        (10, "value.missing"),
        (11, "value.missing"),
    ]
    messages = {p.row: p.message for p in problems}
    assert messages[6] == "Row 6, column Umsatz: '12,3,4' is not a number"
    assert messages[9] == (
        "Row 9, column Periode: customer 1 appears twice for period 2024-01 (rows 2 and 9)"
    )
    assert frame[ROW_COLUMN].tolist() == [2, 8]
    assert frame["potential_rating"].isna().tolist() == [False, True]
    assert summary["errors"] == 8
    assert has_errors(problems)


def test_negative_revenue_can_be_allowed():
    text = "Kundennummer;Periode;Umsatz\n1;2024-01;-5\n"
    frame, problems, _ = parse_csv(text, allow_negative_revenue=True)
    assert problems == []
    assert frame["revenue"].tolist() == [-5.0]


def test_mixed_months_and_quarters_drop_the_rarer_kind():
    text = "Kundennummer;Periode;Umsatz\n1;2024-01;1\n1;2024-02;1\n2;2024-Q1;1\n"
    frame, problems, _ = parse_csv(text)
    assert codes(problems) == [(4, "customer_values.mixed_periods")]
    assert "months: 2, quarters: 1" in problems[0].message
    assert frame["period"].tolist() == ["2024-01", "2024-02"]


def test_conflicting_master_data_is_a_warning_and_first_value_wins():
    text = (
        "Kundennummer;Name;Kunde seit;Periode;Umsatz\n"
        "1;Alpha GmbH;2010-01-01;2024-01;1\n"
        "1;Alpha AG;2010-01-01;2024-02;1\n"
        "1;;2012-05-05;2024-03;1\n"
    )
    frame, problems, _ = parse_csv(text)
    assert [(p.row, p.column, p.severity) for p in problems] == [
        (3, "Name", "warning"),
        (4, "Kunde seit", "warning"),
    ]
    assert "'Alpha GmbH' (row 2), 'Alpha AG' (row 3)" in problems[0].message
    assert frame["name"].tolist() == ["Alpha GmbH"] * 3
    assert frame["customer_since"].tolist() == [pd.Timestamp("2010-01-01")] * 3
    assert not has_errors(problems)


def test_formula_looking_name_is_kept_as_text():
    text = 'Kundennummer;Name;Periode;Umsatz\n1;=HYPERLINK("http://evil");2024-01;1\n2;+49 30 123;2024-01;1\n'
    frame, problems, _ = parse_csv(text)
    assert problems == []
    assert frame["name"].tolist() == ['=HYPERLINK("http://evil")', "+49 30 123"]
    assert safe_cell(frame["name"][0]) == '\'=HYPERLINK("http://evil")'


def test_contribution_given_wins_over_revenue_minus_cost():
    text = "Kundennummer;Periode;Umsatz;Betreuungskosten;DB\n1;2024-01;100;30;50\n2;2024-01;100;30;\n3;2024-01;100;;\n"
    frame, _, _ = parse_csv(text)
    assert frame["contribution"].tolist()[:2] == [50.0, 70.0]
    assert np.isnan(frame["contribution"][2])


def test_ids_keep_leading_zeros_and_are_stripped():
    frame, _, _ = parse_csv("Kundennummer;Periode;Umsatz\n  000123 ;2024-01;1\n")
    assert frame["customer_id"].tolist() == ["000123"]


def test_dates_as_periods_become_months():
    frame, problems, _ = parse_csv("Kundennummer;Periode;Umsatz\n1;15.03.2024;1\n2;2024-04-30;1\n")
    assert problems == []
    assert frame["period"].tolist() == ["2024-03", "2024-04"]


def test_problem_list_is_truncated_but_keeps_severity():
    rows = "".join(";2024-01;1\n" for _ in range(30))
    _, problems, _ = parse_csv("Kundennummer;Periode;Umsatz\n" + rows, max_problems=10)
    assert len(problems) == 11
    assert problems[-1].code == "problems.truncated"
    assert problems[-1].params == {"count": 20}
    assert problems[-1].severity == "error"


def test_input_frame_is_not_changed():
    raw = read_table(GERMAN_CSV.encode(), "x.csv")
    before = raw.copy()
    parse_customer_values(raw)
    pdt.assert_frame_equal(raw, before)


def test_rows_default_to_index_plus_two_without_row_column():
    raw = pd.DataFrame({"Kundennummer": ["1", ""], "Periode": ["2024-01", "2024-01"], "Umsatz": ["1", "2"]})
    _, problems, _ = parse_customer_values(raw)
    assert [p.row for p in problems] == [3]


def test_not_a_frame_is_a_value_error():
    with pytest.raises(ValueError, match="read_table"):
        parse_customer_values("Kundennummer;Umsatz")


def test_a_column_without_evidence_follows_the_files_decimal_comma():
    # "50.000" alone could be fifty; beside revenue written 1.234,56 it is fifty thousand
    text = ("Kundennummer;Periode;Umsatz;Außenumsatz\n"
            "1;2024-01;1.234,56;50.000\n"
            "2;2024-01;980,00;120.000\n")
    frame, problems, _ = parse_csv(text)
    assert list(frame["potential"]) == [50000.0, 120000.0]
    assert list(frame["revenue"]) == [1234.56, 980.0]
    assert codes(problems) == []


def test_a_column_without_evidence_follows_the_files_decimal_point():
    text = ("customer_id,period,revenue,potential\n"
            "1,2024-01,1234.56,\"50,000\"\n"
            "2,2024-01,980.00,\"7,500\"\n")
    frame, _, _ = parse_csv(text)
    assert list(frame["potential"]) == [50000.0, 7500.0]
