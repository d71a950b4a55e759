"""Reading uploaded tables, matching columns, parsing values, problems, safe export."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import numpy as np
import openpyxl
import pandas as pd
import pandas.testing as pdt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tabular
from tabular import (
    MESSAGES,
    ROW_COLUMN,
    TableError,
    detect_decimal,
    has_errors,
    make_problem,
    match_columns,
    normalize_header,
    parse_amount,
    parse_amounts,
    parse_booleans,
    parse_date,
    parse_dates,
    parse_integers,
    parse_period,
    parse_periods,
    problems_frame,
    read_table,
    resolve_columns,
    safe_cell,
    safe_frame,
    series_problems,
)


def xlsx_bytes(rows, *, title="Tabelle1", formats=None, extra_sheets=()) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for (row, column), number_format in (formats or {}).items():
        sheet.cell(row=row, column=column).number_format = number_format
    for name, extra_rows in extra_sheets:
        other = workbook.create_sheet(name)
        for row in extra_rows:
            other.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------


def test_german_csv_with_semicolon_bom_and_decimal_comma():
    data = "\ufeffKundennummer;Name;Umsatz\r\n00123;Müller GmbH;1.234,56\r\n00124;Bäcker;12,5\r\n".encode()
    frame = read_table(data, "umsatz.csv")
    expected = pd.DataFrame(
        {
            "Kundennummer": ["00123", "00124"],
            "Name": ["Müller GmbH", "Bäcker"],
            "Umsatz": ["1.234,56", "12,5"],
            ROW_COLUMN: np.array([2, 3], dtype=np.int64),
        }
    ).astype({"Kundennummer": object, "Name": object, "Umsatz": object})
    pdt.assert_frame_equal(frame, expected)


def test_windows_1252_umlauts_and_sharp_s():
    data = "Kundennummer;Name\n1;Jörg Weiß\n2;Öztürk & Söhne\n".encode("cp1252")
    frame = read_table(data, "export.csv")
    assert frame["Name"].tolist() == ["Jörg Weiß", "Öztürk & Söhne"]


def test_utf16_tab_separated_from_excel_unicode_text():
    frame = read_table("Kunde\tUmsatz\n007\t5\n".encode("utf-16"), "export.txt")
    assert frame["Kunde"].tolist() == ["007"]


@pytest.mark.parametrize(
    ("text", "expected_columns"),
    [
        ("a,b,c\n1,2,3\n", ["a", "b", "c"]),
        ("a;b;c\n1,5;2,5;3\n", ["a", "b", "c"]),
        ("a\tb\tc\n1,5\t2\t3\n", ["a", "b", "c"]),
        ('name,amount\n"Meier, Hans","1,5"\n', ["name", "amount"]),
    ],
)
def test_delimiter_is_sniffed(text, expected_columns):
    frame = read_table(text.encode(), "x.csv")
    assert list(frame.columns) == [*expected_columns, ROW_COLUMN]


def test_semicolon_file_with_commas_in_values_keeps_semicolon():
    frame = read_table("Name;Umsatz\nMeier, Hans;1,5\nSchulz;2,5\n".encode(), "x.csv")
    assert frame["Name"].tolist() == ["Meier, Hans", "Schulz"]


def test_row_numbers_count_blank_lines_and_follow_spreadsheet_rows():
    data = 'id;note\n\n1;a\n\n\n2;"two\nlines"\n3;c\n;\n\n'.encode()
    frame = read_table(data, "x.csv")
    # row 1 header, row 2 blank, row 3 -> 1, rows 4-5 blank, row 6 -> 2 (one
    # spreadsheet row although the text spans two lines), row 7 -> 3
    assert frame[ROW_COLUMN].tolist() == [3, 6, 7]
    assert frame["note"].tolist() == ["a", "two\nlines", "c"]


def test_header_after_blank_lines_keeps_true_row_numbers():
    frame = read_table(b"\n\nid;x\n1;2\n", "x.csv")
    assert frame[ROW_COLUMN].tolist() == [4]


def test_leading_zeros_and_no_type_inference():
    frame = read_table(b"id;value;flag\n007;1e5;TRUE\n", "x.csv")
    assert frame.loc[0, "id"] == "007"
    assert frame.loc[0, "value"] == "1e5"
    assert frame["flag"].dtype == object


def test_short_rows_are_padded_and_trailing_delimiters_ignored():
    frame = read_table(b"a;b;c;\n1;2\n4;5;6;\n", "x.csv")
    assert list(frame.columns) == ["a", "b", "c", ROW_COLUMN]
    assert frame["c"].tolist() == ["", "6"]


def test_blank_and_repeated_headers_get_names():
    frame = read_table(b"a;;a\n1;2;3\n", "x.csv")
    assert list(frame.columns) == ["a", "(column B)", "a (2)", ROW_COLUMN]


@pytest.mark.parametrize(
    "data",
    [
        b"a;b\n1;2\n3;4;5\n",  # wider than the first rows: read with the csv module
        b"a;b;\n1;2;\n3;4;5\n",  # as wide as the header record: read by pandas
    ],
)
def test_too_many_values_in_a_row_names_the_row(data):
    with pytest.raises(TableError) as caught:
        read_table(data, "x.csv")
    assert caught.value.code == "table.too_many_values"
    assert "Row 3" in str(caught.value)


def test_a_wide_row_after_the_sample_is_read_with_the_csv_module():
    rows = "".join(f"{i};{i * 2}\n" for i in range(10_000))
    text = "a;b\n" + rows + "\n7;8;\n"  # an empty extra value, far beyond the first rows
    assert tabular._read_csv_fast(text, text.encode(), ";", 1_000_000) is None
    frame = read_table(text.encode(), "x.csv")
    assert len(frame) == 10_001
    assert frame.iloc[-1].tolist() == ["7", "8", 10_003]


def test_an_ordinary_file_is_read_by_pandas():
    text = "Kundennummer;Name;Umsatz\n00123;\"Müller; Söhne\";1.234,56\n\n00124;Bäcker;12,5\n"
    frame = tabular._read_csv_fast(text, text.encode(), ";", 1_000_000)
    assert frame is not None
    pdt.assert_frame_equal(frame, read_table(text.encode(), "x.csv"))
    assert frame[ROW_COLUMN].tolist() == [2, 4]


_CSV_PIECES = [*'a1 ;,\t"\n\rü.-\u2028', "ab", "12", "Kunde"]


def _csv_cells():
    raw = st.lists(st.sampled_from(_CSV_PIECES), max_size=4).map("".join)
    quoted = raw.map(lambda text: '"' + text.replace('"', '""') + '"')
    return st.one_of(raw, quoted, st.sampled_from(["", " ", "Kunde", "1.234,5"]))


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.lists(_csv_cells(), max_size=5), min_size=1, max_size=8),
    delimiter=st.sampled_from([";", ",", "\t"]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    max_rows=st.integers(min_value=1, max_value=6),
)
def test_reading_with_pandas_agrees_with_the_csv_module(rows, delimiter, newline, max_rows):
    text = newline.join(delimiter.join(row) for row in rows) + newline

    def outcome(read):
        try:
            return read()
        except TableError as error:
            return error.code, error.params

    fast = outcome(lambda: tabular._read_csv_fast(text, text.encode(), delimiter, max_rows))
    if fast is None:  # pandas cannot split it as the csv module does; read_table uses the latter
        return
    reference = outcome(lambda: tabular._records_to_frame(tabular._csv_records(text, delimiter), max_rows))
    assert type(fast) is type(reference)
    if isinstance(fast, pd.DataFrame):
        pdt.assert_frame_equal(fast, reference)
    else:
        assert fast == reference


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (b"", "x.csv", "file.empty"),
        (b"  \r\n\r\n ", "x.csv", "file.empty"),
        (b";;;\n;;\n", "x.csv", "file.empty"),
        (b"\x00\x01\x02binary\x00junk", "x.csv", "file.binary"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "bild.csv", "file.binary"),
        (b"abc\x01def\n", "x.csv", "file.binary"),
        (b"\x81\x8d\x8f", "x.csv", "file.not_decodable"),
        (b"1;2;3\n4;5;6\n", "x.csv", "table.header_is_data"),
        (b"Kunde;Umsatz\n", "x.csv", "table.no_rows"),
        (b"hello", "report.pdf", "file.unknown_type"),
        (b"hello", "noextension", "file.unknown_type"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "alt.xls", "file.legacy_xls"),
    ],
)
def test_bad_files_raise_table_error_with_code(data, filename, code):
    with pytest.raises(TableError) as caught:
        read_table(data, filename)
    assert caught.value.code == code
    assert str(caught.value) == MESSAGES[code].format(**caught.value.params)
    assert isinstance(caught.value, ValueError)


def test_xlsx_renamed_to_csv_is_recognised():
    with pytest.raises(TableError) as caught:
        read_table(xlsx_bytes([["a"], [1]]), "tabelle.csv")
    assert caught.value.code == "file.xlsx_named_csv"


def test_too_many_rows():
    with pytest.raises(TableError) as caught:
        read_table(b"a\n1\n2\n3\n", "x.csv", max_rows=2)
    assert caught.value.code == "table.too_many_rows"
    assert read_table(b"a\n1\n2\n", "x.csv", max_rows=2).shape == (2, 2)


def test_file_size_limit():
    with pytest.raises(TableError) as caught:
        read_table(b"a\n" + b"1\n" * 1000, "x.csv", max_bytes=100)
    assert caught.value.code == "file.too_large"


def test_data_must_be_bytes():
    with pytest.raises(ValueError, match="binary mode"):
        read_table("a;b\n1;2\n", "x.csv")


# ---------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------


def test_xlsx_values_become_careful_strings():
    data = xlsx_bytes(
        [
            ["Kundennummer", "Kunde seit", "Umsatz", "Aktiv", "Zeit"],
            [123, dt.datetime(2015, 3, 1), 1234.5600000000002, True, dt.datetime(2024, 3, 15, 10, 30)],
            ["00124", dt.date(2020, 12, 31), 7.0, False, None],
            [None, None, None, None, None],
            ["00125", None, 0.00001, None, None],
        ],
        formats={(2, 1): "00000"},
    )
    frame = read_table(data, "kunden.xlsx")
    expected = pd.DataFrame(
        {
            "Kundennummer": ["00123", "00124", "00125"],
            "Kunde seit": ["2015-03-01", "2020-12-31", ""],
            "Umsatz": ["1234.56", "7", "0.00001"],
            "Aktiv": ["true", "false", ""],
            "Zeit": ["2024-03-15 10:30:00", "", ""],
            ROW_COLUMN: np.array([2, 3, 5], dtype=np.int64),
        },
        dtype=object,
    ).astype({ROW_COLUMN: np.int64})
    pdt.assert_frame_equal(frame, expected)


def test_xlsx_named_sheet_and_missing_sheet():
    data = xlsx_bytes([["a"], [1]], extra_sheets=[("Werte", [["b"], [2]])])
    assert read_table(data, "x.xlsx", sheet="Werte")["b"].tolist() == ["2"]
    assert read_table(data, "x.xlsx")["a"].tolist() == ["1"]
    with pytest.raises(TableError) as caught:
        read_table(data, "x.xlsx", sheet="Fehlt")
    assert caught.value.code == "xlsx.sheet_not_found"
    assert "Werte" in str(caught.value)


def test_xlsx_empty_workbook_is_empty_file():
    with pytest.raises(TableError) as caught:
        read_table(xlsx_bytes([]), "x.xlsx")
    assert caught.value.code == "file.empty"


@pytest.mark.parametrize(
    "data",
    [
        b"this is not a zip",
        b"PK\x03\x04 broken zip",
        zip_bytes({"hello.txt": b"not a workbook"}),
        zip_bytes({"[Content_Types].xml": b"<broken", "xl/workbook.xml": b"<broken"}),
    ],
)
def test_invalid_xlsx(data):
    with pytest.raises(TableError) as caught:
        read_table(data, "x.xlsx")
    assert caught.value.code == "xlsx.invalid"


def test_zip_bomb_is_refused_before_openpyxl_opens_it(monkeypatch):
    bomb = zip_bytes(
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/workbook.xml": b"<workbook/>",
            "xl/worksheets/sheet1.xml": b"\0" * (20 * 1024 * 1024),
        }
    )
    assert len(bomb) < 100_000  # small on disk, 20 MB declared inside

    def must_not_be_called(*args, **kwargs):
        raise AssertionError("openpyxl must not see a zip bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", must_not_be_called)
    with pytest.raises(TableError) as caught:
        read_table(bomb, "bomb.xlsx")
    assert caught.value.code == "xlsx.ratio"
    assert "zip bomb" in str(caught.value)


def test_declared_uncompressed_size_limit():
    archive = zip_bytes(
        {"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": bytes(range(256)) * 8192}
    )
    with pytest.raises(TableError) as caught:
        read_table(archive, "x.xlsx", max_uncompressed=1024 * 1024)
    assert caught.value.code == "xlsx.too_large"


def test_too_many_zip_members():
    archive = zip_bytes({f"part{i}.xml": b"x" for i in range(5)})
    with pytest.raises(TableError) as caught:
        read_table(archive, "x.xlsx", max_members=3)
    assert caught.value.code == "xlsx.too_many_members"


def test_normal_xlsx_passes_the_zip_checks():
    rows = [["id", "text"]] + [[i, "gleich" * 20] for i in range(2000)]
    assert len(read_table(xlsx_bytes(rows), "x.xlsx")) == 2000


# ---------------------------------------------------------------------------
# column matching
# ---------------------------------------------------------------------------

SPEC = {
    "customer_id": ["Kundennummer", "Kunden-Nr"],
    "revenue": ["Umsatz"],
    "customer_since": ["Kunde seit"],
    "potential": ["Außenumsatz"],
}


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("Kundennummer", "customer_id"),
        ("  KUNDENNUMMER ", "customer_id"),
        ("Kunden-Nr.", "customer_id"),
        ("kunden_nr", "customer_id"),
        ("Customer ID", "customer_id"),
        ("customer-id", "customer_id"),
        ("Umsatz (EUR)", "revenue"),
        ("Umsatz in €", "revenue"),
        ("kunde_seit", "customer_since"),
        ("Aussenumsatz", "potential"),
        ("AUSSENUMSATZ", "potential"),
    ],
)
def test_headers_match_loosely(header, canonical):
    mapping, _ = resolve_columns([header], SPEC)
    assert mapping == {canonical: header}


def test_normalize_header():
    assert normalize_header(" Außen-Umsatz (EUR) ") == "aussenumsatz"
    assert normalize_header("Kunde_seit") == normalize_header("kunde seit") == "kundeseit"
    assert normalize_header("(EUR)") == "(eur)"


def test_match_columns_renames_and_reports():
    raw = pd.DataFrame(
        {"Kunden-Nr": ["1"], "Bemerkung": ["x"], "Umsatz": ["5"], "umsatz": ["6"], ROW_COLUMN: [2]}
    )
    frame, problems = match_columns(raw, SPEC, required=["customer_id", "revenue", "customer_since"])
    expected = pd.DataFrame({"customer_id": ["1"], "revenue": ["5"], ROW_COLUMN: [2]})
    pdt.assert_frame_equal(frame, expected)
    by_code = {p.code: p for p in problems}
    assert by_code["column.missing"].severity == "error"
    assert by_code["column.missing"].message == (
        "Required column 'customer_since' is missing (accepted names: customer_since, Kunde seit)."
    )
    assert by_code["column.ambiguous"].severity == "warning"
    assert by_code["column.unused"].severity == "info"
    assert by_code["column.unused"].params == {"header": "Bemerkung"}
    assert has_errors(problems)


def test_spec_errors_are_value_errors():
    with pytest.raises(ValueError, match="list of names"):
        resolve_columns(["a"], {"a": "alias"})
    with pytest.raises(ValueError, match="both"):
        resolve_columns(["a"], {"a": ["x"], "b": ["X"]})
    with pytest.raises(ValueError, match="not in the spec"):
        resolve_columns(["a"], {"a": []}, required=["b"])


# ---------------------------------------------------------------------------
# amounts
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,56", 1234.56),
        ("1,234.56", 1234.56),
        ("1234,5", 1234.5),
        ("1234.5", 1234.5),
        ("-12", -12.0),
        ("+12", 12.0),
        ("−7,5", -7.5),
        ("12,50 €", 12.5),
        ("12,50€", 12.5),
        ("€ 12,50", 12.5),
        ("EUR 1.000,00", 1000.0),
        ("-1.000,00 EUR", -1000.0),
        ("1.234,56-", -1234.56),
        ("1 234,56", 1234.56),
        ("1\u00a0234,56", 1234.56),
        ("1'234.50", 1234.5),
        ("1.234.567", 1234567.0),
        ("1,234,567", 1234567.0),
        (",5", 0.5),
        ("0", 0.0),
        ("  42  ", 42.0),
    ],
)
def test_parse_amount_forms(text, expected):
    value, error = parse_amount(text)
    assert error is None
    assert value == pytest.approx(expected)


@pytest.mark.parametrize("text", ["12,3,4", "abc", "1.2.3,4,5", "12.", "--5", "-5-", "1 23", "1e5", "5 %"])
def test_parse_amount_rejects(text):
    value, error = parse_amount(text)
    assert value is None
    assert error == f"'{text}' is not a number"


def test_empty_amount_is_missing_not_error():
    assert parse_amount("") == (None, None)
    assert parse_amount("   ") == (None, None)
    assert parse_amount(None) == (None, None)


@pytest.mark.parametrize(
    ("values", "decimal", "expected"),
    [
        # a lone ambiguous value: the single separator is the decimal separator
        (["1.234"], None, [1.234]),
        (["1,234"], None, [1.234]),
        # the column decides: comma decimals elsewhere make '1.234' a thousand
        (["1.234", "5,50"], ",", [1234.0, 5.5]),
        (["1,234", "5.50"], ".", [1234.0, 5.5]),
        (["1.234", "1.234.567"], ",", [1234.0, 1234567.0]),
        (["1.234", "12"], None, [1.234, 12.0]),
    ],
)
def test_ambiguous_values_follow_the_column(values, decimal, expected):
    series = pd.Series(values, dtype=object)
    assert detect_decimal(series) == decimal
    parsed, errors = parse_amounts(series)
    assert parsed.tolist() == pytest.approx(expected)
    assert errors.isna().all()


def test_mixed_number_formats_in_one_column_are_errors():
    series = pd.Series(["1.234,50", "7,25", "3.5", ""], dtype=object)
    values, errors = parse_amounts(series)
    assert values.tolist()[:2] == [1234.5, 7.25]
    assert np.isnan(values[2]) and np.isnan(values[3])
    assert errors.tolist() == [None, None, "value.mixed_number_format", None]


def test_explicit_decimal_overrides_detection():
    values, errors = parse_amounts(pd.Series(["1.234"], dtype=object), decimal=",")
    assert values.tolist() == [1234.0]
    with pytest.raises(ValueError, match="decimal"):
        parse_amounts(pd.Series(["1"]), decimal=";")


def test_numeric_series_pass_through():
    values, errors = parse_amounts(pd.Series([1, 2.5, None]))
    assert values.tolist()[:2] == [1.0, 2.5]
    assert errors.isna().all()


def _format_amount(value: Decimal, style: str, grouped: bool) -> str:
    text = f"{value:,.2f}" if grouped else f"{value:.2f}"
    if style == "de":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text


@settings(max_examples=300, deadline=None)
@given(
    value=st.decimals(min_value=-(10**10), max_value=10**10, places=2, allow_nan=False, allow_infinity=False),
    style=st.sampled_from(["de", "en"]),
    grouped=st.booleans(),
    euro=st.booleans(),
)
def test_amount_round_trip(value, style, grouped, euro):
    text = _format_amount(value, style, grouped) + (" €" if euro else "")
    parsed, error = parse_amount(text)
    assert error is None, text
    assert parsed == pytest.approx(float(value), abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.integers(min_value=-(10**9), max_value=10**9), min_size=1, max_size=8),
    style=st.sampled_from(["de", "en"]),
)
def test_grouped_whole_numbers_round_trip_with_known_decimal(values, style):
    texts = [f"{v:,}" if style == "en" else f"{v:,}".replace(",", ".") for v in values]
    parsed, errors = parse_amounts(pd.Series(texts, dtype=object), decimal="," if style == "de" else ".")
    assert errors.isna().all()
    assert parsed.tolist() == [float(v) for v in values]


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(
        st.decimals(min_value=-(10**7), max_value=10**7, places=2, allow_nan=False, allow_infinity=False),
        min_size=1,
        max_size=10,
    ),
)
def test_german_column_round_trip_with_detection(values):
    texts = [_format_amount(v, "de", True) for v in values]
    parsed, errors = parse_amounts(pd.Series(texts, dtype=object))
    assert errors.isna().all()
    assert parsed.tolist() == pytest.approx([float(v) for v in values], abs=1e-6)


@settings(max_examples=300, deadline=None)
@given(
    text=st.from_regex(r"-?[0-9]{1,7}([.,][0-9]{1,4})?|-?[0-9]{1,3}([.,][0-9]{3}){1,3}[.,][0-9]{1,4}", fullmatch=True),
)
def test_fast_amount_path_agrees_with_the_full_reader(text):
    fast = tabular._read_amount(text)
    full = tabular._read_amount_full(text)
    assert fast[0] == full[0] and fast[3] == full[3]
    np.testing.assert_equal(fast[1:3], full[1:3])


_AMOUNT_CELLS = st.one_of(
    st.from_regex(r"-?[0-9]{1,3}([.,][0-9]{3}){0,5}([.,][0-9]{1,6})?", fullmatch=True),
    st.from_regex(r"-?[0-9]{1,18}([.,][0-9]{1,18})?", fullmatch=True),
    st.text(st.sampled_from(list("0123456789.,-+ €eü\u00a0")), max_size=26),
    st.none(),
    st.just(float("nan")),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(),
)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(_AMOUNT_CELLS, max_size=12))
def test_vectorised_amounts_agree_with_the_regular_expressions(values):
    cells = np.empty(len(values), dtype=object)
    cells[:] = values
    kinds, de_values, en_values, commas = tabular._read_amounts(cells)
    codes, texts = tabular._distinct(pd.Series(cells, dtype=object))
    for i, code in enumerate(codes):
        expected = tabular._read_amount(texts[code]) if code >= 0 else tabular._read_amount("")
        assert (kinds[i], commas[i]) == (expected[0], expected[3]), values[i]
        # bit for bit: NaN equals NaN, -0.0 differs from 0.0
        assert np.float64(de_values[i]).tobytes() == np.float64(expected[1]).tobytes(), values[i]
        assert np.float64(en_values[i]).tobytes() == np.float64(expected[2]).tobytes(), values[i]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123456789012345", 123456789012345.0),  # 15 digits: read with numpy
        ("1234567890123456,7", 1234567890123456.7),  # more: read by the regular expressions
        ("-0,0000001", -1e-7),
        ("9.007.199.254.740,993", 9007199254740.993),
    ],
)
def test_long_amounts_are_correctly_rounded(text, expected):
    values, errors = parse_amounts(pd.Series([text], dtype=object), decimal=",")
    assert errors.isna().all()
    assert values[0] == expected


# ---------------------------------------------------------------------------
# integers, dates, booleans, periods
# ---------------------------------------------------------------------------


def test_parse_integers():
    values, errors = parse_integers(pd.Series(["3", "3,5", "x", "", "4"], dtype=object))
    pdt.assert_series_equal(values, pd.Series([3, None, None, None, 4], dtype="Int64"))
    assert errors.tolist() == [None, "value.not_integer", "value.not_number", None, None]
    whole, errors = parse_integers(pd.Series(["4.0", "2"], dtype=object))
    assert whole.tolist() == [4, 2] and errors.isna().all()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-15", "2024-03-15 00:00:00"),
        ("2024/03/15", "2024-03-15 00:00:00"),
        ("2024-3-5", "2024-03-05 00:00:00"),
        ("15.03.2024", "2024-03-15 00:00:00"),
        ("5.3.2024", "2024-03-05 00:00:00"),
        ("2024-03-15T10:30:00", "2024-03-15 10:30:00"),
        ("2024-03-15T10:30:00Z", "2024-03-15 10:30:00"),
        ("2024-03-15 10:30:00+02:00", "2024-03-15 10:30:00"),
        ("2024-03-15T10:30:00.123", "2024-03-15 10:30:00"),
        ("15.03.2024 10:30", "2024-03-15 10:30:00"),
        ("15.03.2024, 10:30:15", "2024-03-15 10:30:15"),
        ("45366", "2024-03-15 00:00:00"),
        ("29.02.2024", "2024-02-29 00:00:00"),
    ],
)
def test_parse_date_forms(text, expected):
    value, error = parse_date(text)
    assert error is None
    assert value == pd.Timestamp(expected)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("31.02.2024", "value.not_date"),
        ("29.02.2023", "value.not_date"),
        ("2024-13-01", "value.not_date"),
        ("gestern", "value.not_date"),
        ("03/15/2024", "value.ambiguous_date"),
        ("15/03/2024", "value.ambiguous_date"),
        ("15.03.24", "value.two_digit_year"),
        ("2024", "value.not_date"),
    ],
)
def test_parse_date_rejects(text, code):
    values, errors = parse_dates(pd.Series([text], dtype=object))
    assert pd.isna(values[0])
    assert errors[0] == code


def test_excel_serials_can_be_switched_off():
    assert parse_date("45366", excel_serials=False)[1] is not None


def test_datetime_series_pass_through():
    series = pd.Series(pd.to_datetime(["2024-01-01", None]))
    values, errors = parse_dates(series)
    pdt.assert_series_equal(values, series)
    assert errors.isna().all()


def test_parse_booleans():
    raw = pd.Series(["ja", "Nein", "x", "", "1", "0", "TRUE", "falsch", "J", "n", "y", "vielleicht"], dtype=object)
    values, errors = parse_booleans(raw)
    assert values.dtype == "boolean"
    expected = [True, False, True, None, True, False, True, False, True, False, True, None]
    pdt.assert_series_equal(values, pd.Series(expected, dtype="boolean"))
    assert errors.tolist() == [None] * 11 + ["value.not_boolean"]
    ticked, _ = parse_booleans(pd.Series(["x", ""], dtype=object), blank_is_false=True)
    assert ticked.tolist() == [True, False]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03", "2024-03"),
        ("2024-3", "2024-03"),
        ("2024/03", "2024-03"),
        ("03/2024", "2024-03"),
        ("3.2024", "2024-03"),
        ("202403", "2024-03"),
        ("März 2024", "2024-03"),
        ("Mrz 2024", "2024-03"),
        ("Dez. 2023", "2023-12"),
        ("March 2024", "2024-03"),
        ("2024-Q1", "2024-Q1"),
        ("2024 q4", "2024-Q4"),
        ("2024Q2", "2024-Q2"),
        ("Q1 2024", "2024-Q1"),
        ("Q3/2024", "2024-Q3"),
        ("1. Quartal 2024", "2024-Q1"),
        ("2024-03-15", "2024-03"),
        ("15.03.2024", "2024-03"),
        ("2024-03-15T08:00:00", "2024-03"),
    ],
)
def test_parse_period_forms(text, expected):
    assert parse_period(text) == (expected, None)


@pytest.mark.parametrize("text", ["2024-13", "2024-Q5", "Q0 2024", "2024", "Frühjahr 2024", "13/2024"])
def test_parse_period_rejects(text):
    values, errors = parse_periods(pd.Series([text], dtype=object))
    assert values[0] is None
    assert errors[0] == "value.not_period"


# ---------------------------------------------------------------------------
# problems and messages
# ---------------------------------------------------------------------------


def test_problem_message_names_row_and_column():
    problem = make_problem("value.not_number", row=7, column="Umsatz", value="12,3,4")
    assert problem.message == "Row 7, column Umsatz: '12,3,4' is not a number"
    assert problem.code == "value.not_number"
    assert problem.params == {"value": "12,3,4"}
    assert problem.severity == "error"


def test_long_values_are_shortened_in_messages():
    problem = make_problem("value.not_number", row=2, column="X", value="y" * 100)
    assert len(problem.params["value"]) == 40
    assert problem.params["value"].endswith("…")


def test_series_problems_use_spreadsheet_rows():
    raw = pd.Series(["5", "x", "", "1,2,3"], dtype=object, index=[10, 11, 12, 13])
    rows = pd.Series([2, 3, 5, 8], index=raw.index)
    _, errors = parse_amounts(raw)
    problems = series_problems(errors, raw, rows, "Umsatz")
    assert [p.message for p in problems] == [
        "Row 3, column Umsatz: 'x' is not a number",
        "Row 8, column Umsatz: '1,2,3' is not a number",
    ]


def test_problems_frame_and_unknown_code():
    frame = problems_frame([make_problem("file.empty"), make_problem("value.missing", row=3, column="A")])
    assert list(frame.columns) == ["row", "column", "severity", "code", "message"]
    pdt.assert_series_equal(frame["row"], pd.Series([None, 3], dtype="Int64", name="row"))
    with pytest.raises(ValueError, match="MESSAGES"):
        make_problem("no.such.code")
    with pytest.raises(ValueError, match="severity"):
        make_problem("file.empty", severity="fatal")


def test_every_message_template_formats():
    # all templates use only named fields, so translators see every parameter
    import string

    for code, template in MESSAGES.items():
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name]
        assert all(name.isidentifier() for name in fields), code


# ---------------------------------------------------------------------------
# safe export
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+49 30 1234", "'+49 30 1234"),
        ("-12", "'-12"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Müller GmbH", "Müller GmbH"),
        ("", ""),
        (-12, -12),
        (3.5, 3.5),
        (Decimal("-1"), Decimal("-1")),
        (None, None),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_safe_frame_neutralises_text_columns_only():
    frame = pd.DataFrame({"name": ["=1+1", "ok"], "revenue": [-5.0, 3.0]})
    out = safe_frame(frame)
    assert out["name"].tolist() == ["'=1+1", "ok"]
    assert out["revenue"].tolist() == [-5.0, 3.0]
    assert frame["name"].tolist() == ["=1+1", "ok"]  # input unchanged


# --- amounts read as numbers (read_table's ``amounts``) -----------------------------

def _amounts(names):
    return [name for name in names if name in ("Umsatz", "Kosten")]


@pytest.mark.parametrize("text, typed", [
    ("Kunde;Umsatz;Kosten\n007;1.234,50;12\n008;;3,5\n", {"Umsatz", "Kosten"}),
    ("Kunde;Umsatz;Kosten\r\n007;1.234,50;12\r\n008;7;3,5", {"Umsatz", "Kosten"}),
    ("Kunde;Umsatz;Kosten\n007;-4;12\n008;5;1.5\n", {"Kosten"}),  # negative: quoted as written
    ("Kunde;Umsatz;Kosten\n007;12,50 €;12\n", {"Kosten"}),  # not a plain amount
    ("Kunde;Umsatz;Kosten\n007;12,50;1.5\n008;1,5;2,5\n", {"Umsatz"}),  # mixed decimal separators: an error
    ('Kunde;Umsatz;Kosten\n"007";12;1\n', set()),  # quotes: the general reader
    ("Kunde;Umsatz;Kosten\n007;12;1\n\n008;3;4\n", set()),  # a blank line: the general reader
    ("Kunde;Umsatz;Kosten\n007;12;1;\n", set()),  # a row wider than the header
])
def test_amount_columns_are_numbers_only_when_that_changes_nothing(text, typed):
    from segmentation.customer_values import amount_headers, parse_customer_values

    data = text.encode("cp1252")
    as_text = read_table(data, "werte.csv")
    fast = read_table(data, "werte.csv", amounts=_amounts)
    assert {c for c in fast.columns if fast[c].dtype == float} == typed
    assert fast[ROW_COLUMN].tolist() == as_text[ROW_COLUMN].tolist()
    for column in ("Umsatz", "Kosten"):
        expected, _ = parse_amounts(as_text[column])
        got, _ = parse_amounts(fast[column])
        assert got.to_numpy().tobytes() == expected.to_numpy().tobytes()  # bit for bit
    with_periods = text.replace("Kunde;", "Kunde;Periode;", 1)
    # the customer-values parser gives the same frame and problems either way
    rows = with_periods.split("\n")
    data = "\n".join([rows[0], *(r.replace(";", ";2024-01;", 1) if r.strip() else r for r in rows[1:])])
    data = data.encode("cp1252")
    plain = parse_customer_values(read_table(data, "werte.csv"))
    quick = parse_customer_values(read_table(data, "werte.csv", amounts=amount_headers))
    pd.testing.assert_frame_equal(quick.frame, plain.frame)
    assert [p.message for p in quick.problems] == [p.message for p in plain.problems]


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8", "utf-8-sig"])
def test_the_fast_reader_gives_windows_1252_and_utf8_files_the_same_frame(encoding):
    """A Windows-1252 file is read from its bytes as they are (not transcoded): same texts, same numbers."""
    text = ("Kunde;Name;Umsatz;Kosten\n" + "".join(
        f"{i:04d};Müller & Söhne „Straße“ {i % 3} €;{i},5{i % 10};1.{i:03d},25\n" for i in range(1, 200)))
    expected = read_table(text.encode("utf-8"), "werte.csv")  # the general reader, as text
    fast = read_table(text.encode(encoding), "werte.csv", amounts=_amounts)
    assert {c for c in fast.columns if fast[c].dtype == float} == {"Umsatz", "Kosten"}
    pd.testing.assert_frame_equal(fast[["Kunde", "Name", ROW_COLUMN]], expected[["Kunde", "Name", ROW_COLUMN]])
    assert fast["Name"].iloc[0] == "Müller & Söhne „Straße“ 1 €"
    for column in ("Umsatz", "Kosten"):
        assert fast[column].to_numpy().tobytes() == parse_amounts(expected[column])[0].to_numpy().tobytes()


def test_a_windows_1252_file_with_an_unassigned_byte_is_refused_as_undecodable():
    with pytest.raises(TableError) as raised:
        read_table("Kunde;Umsatz\n007;12\n".encode("cp1252") + b"008;\x81\n", "werte.csv", amounts=_amounts)
    assert raised.value.code == "file.not_decodable"
    with pytest.raises(TableError) as raised:
        read_table("Kunde;Umsatz\nMüller;12\n".encode("cp1252") + b"008;\x01\n", "werte.csv", amounts=_amounts)
    assert raised.value.code == "file.binary"


# ---------------------------------------------------------------------------
# XLSX: calamine reads the values, the XML tells what it cannot see
# ---------------------------------------------------------------------------


def rewrite_member(data: bytes, name: str, change) -> bytes:
    """The workbook with one zip member's bytes changed by ``change``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            target.writestr(info.filename, change(content) if info.filename == name else content)
    return buffer.getvalue()


def padded_customer_numbers() -> bytes:
    return xlsx_bytes(
        [["Kundennummer", "Umsatz"], [70001, 12.5], [70002.0, -3], [-5, 1], ["00815", 2], [1.5, 3]],
        formats={(row, 1): "0000000" for row in range(2, 7)},
    )


def test_xlsx_customer_numbers_shown_zero_padded_keep_their_zeros():
    frame = read_table(padded_customer_numbers(), "kunden.xlsx")
    assert frame["Kundennummer"].tolist() == ["0070001", "0070002", "-5", "00815", "1.5"]
    assert frame["Umsatz"].tolist() == ["12.5", "-3", "1", "2", "3"]


def test_xlsx_cell_styles_are_found_in_any_attribute_order_and_quoting():
    data = rewrite_member(
        padded_customer_numbers(), "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b'<c r="A2" s="1" t="n">', b"<c  s = '1' t='n' r='A2'>"),
    )
    assert read_table(data, "kunden.xlsx")["Kundennummer"].tolist()[:2] == ["0070001", "0070002"]


def test_xlsx_padded_cell_without_reference_is_read_by_openpyxl(monkeypatch):
    data = rewrite_member(
        padded_customer_numbers(), "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b'<c r="A2" s="1" t="n">', b'<c s="1" t="n">'),
    )
    calls = []
    original = tabular._read_xlsx_openpyxl
    monkeypatch.setattr(tabular, "_read_xlsx_openpyxl", lambda *args: calls.append(args) or original(*args))
    assert read_table(data, "kunden.xlsx")["Kundennummer"].tolist()[:2] == ["0070001", "0070002"]
    assert len(calls) == 1


def test_xlsx_error_cells_keep_their_error_text():
    data = xlsx_bytes([["Umsatz", "Kosten"], ["#DIV/0!", 1], [2, "#N/A"], [3, "=1/0"]])
    frame = read_table(data, "x.xlsx")
    assert frame["Umsatz"].tolist() == ["#DIV/0!", "2", "3"]
    assert frame["Kosten"].tolist() == ["1", "#N/A", ""]  # a formula never calculated has no value


def test_calamine_and_openpyxl_read_a_workbook_alike():
    data = xlsx_bytes(
        [
            ["Kundennummer", "Kunde seit", "Umsatz", "Aktiv", "Zeit", "Dauer", "Text"],
            [123, dt.datetime(2015, 3, 1), 1234.5600000000002, True, dt.datetime(2024, 3, 15, 10, 30),
             dt.time(10, 30), "  Müller  "],
            ["00124", dt.date(2020, 12, 31), 7.0, False, None, dt.timedelta(hours=5), "=A2"],
            [None, None, None, None, None, None, None],
            [2**40, None, 0.00001, None, -1e20, None, "#REF!"],
        ],
        formats={(2, 1): "00000", (5, 1): "0000000000000000"},
    )
    pdt.assert_frame_equal(read_table(data, "x.xlsx"), tabular._read_xlsx_openpyxl(data, "Tabelle1", 100))


def entity_bomb(prolog: bytes = b"") -> bytes:
    """A workbook whose sheet XML declares entities that expand to a billion 'ha's."""
    entities = b'<!ENTITY a0 "ha">' + b"".join(
        b'<!ENTITY a%d "%s">' % (i, b"&a%d;" % (i - 1) * 10) for i in range(1, 10)
    )
    return rewrite_member(
        xlsx_bytes([["Name", "Umsatz"], ["BOMB", 1]]), "xl/worksheets/sheet1.xml",
        lambda xml: prolog + xml.replace(b"<worksheet", b"<!DOCTYPE worksheet [" + entities + b"]><worksheet", 1)
        .replace(b"<t>BOMB</t>", b"<t>&a9;</t>"),
    )


@pytest.mark.parametrize(
    "prolog",
    [b"", b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n', b"<!-- " + b"x" * 100_000 + b" -->\n"],
)
def test_xlsx_with_an_entity_expansion_bomb_is_refused_with_a_clear_message(prolog):
    with pytest.raises(TableError) as caught:
        read_table(entity_bomb(prolog), "bomb.xlsx")
    assert caught.value.code == "xlsx.doctype"
    assert "entity expansion" in str(caught.value)


def test_openpyxl_refuses_the_entity_bomb_through_defusedxml():
    # the fallback reader, should a bomb ever get past the declaration check
    with pytest.raises(TableError) as caught:
        tabular._read_xlsx_openpyxl(entity_bomb(), "Tabelle1", 10)
    assert caught.value.code == "xlsx.invalid"
    chain, error = [], caught.value
    while error is not None:
        chain.append(type(error).__module__)
        error = error.__cause__ or error.__context__
    assert any(module.startswith("defusedxml") for module in chain), chain


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False) | st.decimals(places=4, allow_nan=False,
       allow_infinity=False).map(float))
def test_xlsx_numbers_become_text_with_at_most_15_significant_digits(value):
    text = tabular._value_text(value)
    if value.is_integer() and abs(value) < 2**53:
        assert text == str(int(value))
    else:
        assert text == np.format_float_positional(value, precision=15, unique=True, fractional=False, trim="-")


# ---------------------------------------------------------------------------
# files refused fast: too many columns, two text encodings
# ---------------------------------------------------------------------------


def test_a_million_columns_are_refused_before_the_rows_are_split(monkeypatch):
    header = ";".join(f"c{i}" for i in range(1_000_000))
    data = (header + "\n" + ";".join("1" for _ in range(1_000_000)) + "\n").encode()

    def must_not_split(*args, **kwargs):
        raise AssertionError("the rows must not be split")

    monkeypatch.setattr(pd, "read_csv", must_not_split)
    monkeypatch.setattr(tabular, "_csv_records", must_not_split)
    for amounts in (None, lambda names: ["c1"]):
        with pytest.raises(TableError) as caught:
            read_table(data, "breit.csv", amounts=amounts)
        assert caught.value.code == "table.too_many_columns"
        assert caught.value.params == {"count": 1_000_000, "limit": tabular.MAX_COLUMNS}
        assert "1000000 columns" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("a;b;c\n1;2;3\n", False),  # exactly at the limit
        ("a;b;c;d\n1;2;3;4\n", True),
        ("\n\n a;b;c;d\n1;2;3;4\n", True),  # the header after blank lines
        ("a;b;c;;;;\n1;2;3;;;;\n", False),  # trailing empty header cells do not count
        ('"a;1";"b;2";c\n1;2;3\n', False),  # delimiters inside quotes do not count
        ('"a\nx;y;z";b;c\n1;2;3\n', False),  # nor inside a quoted line break
        ('"a";"b";c;d\n1;2;3;4\n', True),
    ],
)
def test_column_limit_at_its_boundary(text, refused):
    if refused:
        with pytest.raises(TableError) as caught:
            read_table(text.encode(), "x.csv", max_columns=3)
        assert caught.value.code == "table.too_many_columns"
        assert caught.value.params["count"] == 4
    else:
        assert len(read_table(text.encode(), "x.csv", max_columns=3).columns) == 4  # three and __row__


def test_a_wide_row_under_a_narrow_header_is_still_named():
    data = ("a;b\n1;2\n" + ";".join("9" for _ in range(100_000)) + "\n").encode()
    with pytest.raises(TableError) as caught:
        read_table(data, "x.csv")
    assert caught.value.code == "table.too_many_values" and caught.value.params["row"] == 3


def test_xlsx_column_limit():
    data = xlsx_bytes([["a", "b", "c", "d", None], [1, 2, 3, 4, None]])
    assert list(read_table(data, "x.xlsx", max_columns=4).columns) == ["a", "b", "c", "d", ROW_COLUMN]
    with pytest.raises(TableError) as caught:
        read_table(data, "x.xlsx", max_columns=3)
    assert caught.value.code == "table.too_many_columns" and caught.value.params["count"] == 4


UTF8_ROWS = "Müller GmbH;1\nGröße & Söhne;2\n"
CP1252_ROWS = "Jäger KG;3\nWeiß AG;4\nÖztürk;5\n"


@pytest.mark.parametrize(
    ("data", "row", "encoding"),
    [
        # a UTF-8 export with rows appended from a Windows-1252 one: the first of those
        (("Name;Umsatz\n" + UTF8_ROWS + UTF8_ROWS).encode() + CP1252_ROWS[:9].encode("cp1252"), 6, "Windows-1252"),
        # the other way round: the one UTF-8 row
        ("Name;Umsatz\n".encode() + CP1252_ROWS.encode("cp1252") + "Müller GmbH;1\n".encode(), 5, "UTF-8"),
        # with a byte order mark, and € and a dash in UTF-8
        (b"\xef\xbb\xbfName;Umsatz\n" + "Preis – 5 €;1\nMüller;2\n".encode() + "Jäger;3\n".encode("cp1252"),
         4, "Windows-1252"),
        # a quoted value over two lines is one spreadsheet row
        ('Name;Umsatz\n"Müller\nHaustechnik";1\nGröße;2\n'.encode() + "Jäger;3\n".encode("cp1252"), 4,
         "Windows-1252"),
    ],
)
def test_a_file_mixing_utf8_and_windows_1252_is_refused_naming_the_row(data, row, encoding):
    with pytest.raises(TableError) as caught:
        read_table(data, "gemischt.csv")
    assert caught.value.code == "file.mixed_encoding"
    assert caught.value.params == {"row": row, "encoding": encoding}
    assert f"row {row} is the first in {encoding}" in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "Name;Umsatz\n„Weiße“ Ware;1\nÄ–Klasse;2\nStraße 5 €;3\nÖl „Ä“;4\n",
        "Name;Umsatz\nAÃO Lda;1\nÅngström;2\n",  # Ã and Å before ASCII letters
    ],
)
def test_windows_1252_text_that_resembles_utf8_bytes_is_read(text):
    frame = read_table(text.encode("cp1252"), "x.csv")
    assert frame["Name"].tolist() == [line.split(";")[0] for line in text.splitlines()[1:]]


def test_xlsx_padded_style_also_on_a_row_is_found_cell_by_cell():
    # the row carries the style too, so the attribute is counted more often than the usual cells hold it
    data = rewrite_member(
        padded_customer_numbers(), "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b'<row r="2">', b'<row r="2" s="1" customFormat="1">'),
    )
    assert read_table(data, "kunden.xlsx")["Kundennummer"].tolist()[:2] == ["0070001", "0070002"]


def test_calamine_and_openpyxl_agree_on_dates_and_number_formats():
    formats = ['"Kd-Nr. "0', "0.00%", '#,##0.00 "€"', "[$-407]mmmm yyyy", "dd.mm.yyyy", "[h]:mm", "@", "General",
               "0000000;@", '"d"0', "0.0E+00", "mm:ss", "d", '#"m"']
    rows = [["Format", "Wert", "Betrag"]] + [[f, 45366.4375, 12.5] for f in formats]
    data = xlsx_bytes(rows, formats={(i + 2, c): f for i, f in enumerate(formats) for c in (2, 3)})
    frame = read_table(data, "x.xlsx")
    pdt.assert_frame_equal(frame, tabular._read_xlsx_openpyxl(data, "Tabelle1", 100))
    assert frame.loc[frame["Format"] == "dd.mm.yyyy", "Wert"].item() == "2024-03-15 10:30:00"
    assert frame.loc[frame["Format"] == '"Kd-Nr. "0', "Wert"].item() == "45366.4375"


def test_xlsx_table_away_from_a1_keeps_its_rows_and_columns():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for reference, value in {"C3": "Kundennummer", "E3": "Umsatz", "C4": 70001, "E4": "#DIV/0!", "D6": 5,
                             "C7": 70002}.items():
        sheet[reference] = value
    sheet["C4"].number_format = sheet["C7"].number_format = "0000000"
    buffer = io.BytesIO()
    workbook.save(buffer)
    frame = read_table(buffer.getvalue(), "x.xlsx")
    pdt.assert_frame_equal(frame, tabular._read_xlsx_openpyxl(buffer.getvalue(), "Sheet", 100))
    assert frame.to_dict("list") == {
        "Kundennummer": ["0070001", "", "0070002"], "(column D)": ["", "5", ""], "Umsatz": ["#DIV/0!", "", ""],
        ROW_COLUMN: [4, 6, 7],
    }


@pytest.mark.parametrize(
    ("far_cell", "expected"),
    [
        ('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>', ("table.too_many_values", 1048576)),
        ('<row r="5"><c r="Z5" s="0"/></row><row r="1048576"><c r="B1048576"><v>7</v></c></row>',
         (["1", "7"], [2, 1048576])),
        ('<row r="100000"><c r="ZZ100000" t="inlineStr"><is><t></t></is></c></row>', (["1"], [2])),
    ],
)
def test_a_sparse_sheet_spanning_millions_of_cells_is_read_row_by_row(monkeypatch, far_cell, expected):
    # calamine would hold A1 to the far cell as one block (XFD1048576: some 500 GB); openpyxl skips the gaps
    data = rewrite_member(
        xlsx_bytes([["h", "x"], [None, 1]]), "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"</sheetData>", far_cell.encode() + b"</sheetData>"),
    )
    assert len(data) < 10_000
    calls = []
    original = tabular._read_xlsx_openpyxl
    monkeypatch.setattr(tabular, "_read_xlsx_openpyxl", lambda *args: calls.append(args) or original(*args))
    if expected[0] == "table.too_many_values":
        with pytest.raises(TableError) as caught:
            read_table(data, "x.xlsx")
        assert (caught.value.code, caught.value.params["row"]) == expected
    else:
        frame = read_table(data, "x.xlsx")
        assert (frame["x"].tolist(), frame[ROW_COLUMN].tolist()) == expected
    assert len(calls) == 1


def test_the_cell_extent_of_a_sheet():
    assert tabular._dense_cells(b'<row r="7"><c r="C7" s="1"><v>1</v></c></row><row r="8"><c r="AB12"/></row>') == 12 * 28
    assert tabular._dense_cells(b'<row r="1"><c r="A1"/><c r="XFD1048576"/></row>') == 16384 * 1048576
    assert tabular._dense_cells(b"<sheetData/>") == 0
    for unusual in (b'<row r="1"><c><v>1</v></c></row>', b"<row r='1'><c r='A1'/></row>", b'<x:c r="A1"/>'):
        assert tabular._dense_cells(unusual) == float("inf")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_xlsx_doctype_in_a_utf16_part_is_refused_too(encoding):
    bom = "\ufeff".encode(encoding)
    data = rewrite_member(
        xlsx_bytes([["a"], [1]]), "xl/workbook.xml",
        lambda xml: bom + xml.decode().replace("<workbook", '<!DOCTYPE workbook [<!ENTITY a "b">]><workbook', 1)
        .encode(encoding),
    )
    with pytest.raises(TableError) as caught:
        read_table(data, "x.xlsx")
    assert caught.value.code == "xlsx.doctype"


@pytest.mark.parametrize("text", ["150", "-3", "1.5", "1,5", "1.50", "1,50", "1.234", "1,234", "1.234,56",
                                  "1,234.56", "12.3456", "0,1", "+7", "007", "1e3", " 42 ", "4.", "", "x", "1 000"])
def test_the_log_rules_fast_number_path_reads_like_parse_amount(text):
    """The observation rule's shortcut for plain numbers gives what tabular.parse_amount gives."""
    from app.touchpoint_audit.rules import parse_number

    value, problem = parse_amount(text)
    assert parse_number(text) == (None if problem else value)
