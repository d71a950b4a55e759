"""Read the spreadsheets users bring (CSV, XLSX) and parse their cells.

Every import of the product (customer values, observations, after-sales
outcomes) goes through this module:

1. :func:`read_table` turns the uploaded bytes into a frame of raw strings plus
   the column ``__row__``: the row number the user sees in the spreadsheet.
2. :func:`match_columns` (or :func:`resolve_columns`) maps the user's headers to
   canonical names, in English or German.
3. The value parsers (:func:`parse_amounts`, :func:`parse_integers`,
   :func:`parse_dates`, :func:`parse_booleans`, :func:`parse_periods`) turn a
   column of strings into typed values plus a per-row error code.
4. :func:`series_problems` turns those codes into :class:`Problem` objects whose
   messages name the row and column as the user sees them.

Reading rules
-------------
* Formats are chosen by the file name: ``.csv``, ``.txt`` and ``.tsv`` are read
  as delimited text, ``.xlsx`` and ``.xlsm`` as Excel workbooks. Anything else
  (including the old binary ``.xls``) raises :class:`TableError`.
* CSV encoding: UTF-8 with or without BOM; UTF-16 when the file starts with a
  UTF-16 BOM (Excel's "Unicode text"); otherwise Windows-1252. NUL bytes or
  other control characters mean the file is binary and is refused. A file that
  is not UTF-8 as a whole but holds UTF-8-encoded letters mixes the two
  encodings (rows appended from another export) and is refused, naming the
  first row of the rarer encoding: read as Windows-1252 it would import
  "MÃ¼ller".
* A header row of more than ``max_columns`` cells (default 1,000; trailing
  empty cells do not count) is refused before the rows are split.
* CSV delimiter: ``;``, tab or ``,``, whichever splits the header into more
  than one column and gives the most following lines the header's width
  (ties: ``;`` before tab before ``,``).
* Row numbers are spreadsheet rows: every record counts, blank lines included
  (they are skipped, not renumbered); a quoted value that spans several lines
  is one row, as Excel and LibreOffice show it. The header is the first
  non-blank row, normally row 1, so the first data row is normally row 2.
* Cells are strings; an empty cell is ``""``. No type inference happens, so
  leading zeros survive. Blank header cells are named ``(column C)`` by their
  spreadsheet letter (and dropped when the whole column is empty); repeated
  header names get a suffix `` (2)``.
* A row with more non-empty values than the header has columns raises
  :class:`TableError` (the usual cause is a wrong delimiter or an unquoted
  decimal comma); missing trailing values are read as empty.
* XLSX: the zip archive is checked *before* openpyxl sees it: at most
  ``max_members`` members, at most ``max_uncompressed`` bytes declared in
  total, and no member above 1 MiB may declare more than ``max_ratio`` times
  its compressed size (a zip bomb). Python's zip reader never inflates a member
  beyond its declared size, so the declared sizes are a real bound. The
  values (cached formula values) are then read by calamine, several times
  faster than openpyxl. calamine sees no number formats and empties error
  cells, so the cells with a zero-padded format and the error cells are picked
  out of the sheet XML; where that cannot be done with certainty (a styled
  cell without a reference), openpyxl reads the sheet in read-only mode.
* XLSX cell values become strings: whole numbers without ``.0``, other numbers
  with up to 15 significant digits and a decimal point, dates as ``YYYY-MM-DD``
  (``YYYY-MM-DD HH:MM:SS`` when there is a time of day), booleans as
  ``true``/``false``. A whole number shown with a zero-padded format such as
  ``00000`` keeps its leading zeros. An error cell keeps its text (``#DIV/0!``).

Value rules
-----------
* Amounts: ``1234.5``, ``1,234.56``, ``1.234,56``, ``1234,5``, ``-12``,
  ``1 234,56``, ``1'234.50``, ``12,50 €``, ``EUR 12``, a trailing minus as in
  SAP exports (``12,50-``). Whether a column uses a decimal comma is decided
  per column by its unambiguous values (``1.234,5``, ``12,50``, ``1.234.567``
  speak for a comma; ``1,234.5``, ``12.50`` for a point); the majority wins and
  values written the other way are errors. Ambiguous values (one separator
  followed by exactly three digits, e.g. ``1.234`` or ``1,234``) follow the
  column; when the column gives no evidence the single separator is read as
  the decimal separator (``1.234`` = 1.234, ``1,234`` = 1.234). Pass
  ``decimal=","`` or ``decimal="."`` to decide explicitly.
* Integers: an amount that is a whole number.
* Dates: ``2024-03-15``, ``2024/03/15``, ``15.03.2024``, ISO date-times (a time
  zone offset is ignored: the wall-clock time written is kept), German
  date-times ``15.03.2024 10:30``, and Excel serial day numbers with five
  digits (``45366`` = 2024-03-15). ``03/15/2024``-style dates are refused as
  ambiguous and two-digit years are refused.
* Booleans: see :data:`BOOLEAN_WORDS` (yes/no, ja/nein, true/false, wahr/falsch,
  1/0, y/n, j/n, x). An empty cell is missing, or ``False`` with
  ``blank_is_false=True`` (checklists ticked with an ``x``).
* Periods: months ``2024-03``, ``2024/3``, ``03/2024``, ``03.2024``,
  ``202403``, ``März 2024``/``Mar 2024``; quarters ``2024-Q1``, ``2024 Q1``,
  ``Q1 2024``, ``Q1/2024``, ``1. Quartal 2024``; any date (then its month).
  Output: ``YYYY-MM`` or ``YYYY-Qn``.

Speed
-----
A million-row CSV is read and parsed in a few seconds:

* CSV records are split by pandas' C parser, which splits them exactly as the
  csv module does; where it cannot (a row wider than the first rows, an
  unclosed quote) the file is read with the csv module instead. Both feed the
  same rules (blank rows, header, too many values, row numbers).
* The parsers work on the distinct values of a column (``pandas.factorize``)
  and spread the results back, so repeated periods, dates and master data cost
  one parse each.
* Amounts are mostly distinct, so their plain forms (``-1234,5``,
  ``1.234,56``, ``1,234.56``) are read with numpy over all cells at once; only
  the other forms (currency, spaces, trailing minus, errors) go through the
  regular expressions, once per distinct value.

Problems and messages
---------------------
All user-facing texts are templates in :data:`MESSAGES`, keyed by a code. A
:class:`Problem` carries the code and its parameters besides the English
message, so the web layer can translate it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import posixpath
import re
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import PurePath

import numpy as np
import openpyxl
import pandas as pd
import python_calamine
from defusedxml import DefusedXmlException, ElementTree

__all__ = [
    "BOOLEAN_WORDS",
    "MAX_COLUMNS",
    "MESSAGES",
    "MONTH_NAMES",
    "ROW_COLUMN",
    "Problem",
    "TableError",
    "detect_decimal",
    "format_message",
    "has_errors",
    "make_problem",
    "match_columns",
    "normalize_header",
    "parse_amount",
    "parse_amounts",
    "parse_booleans",
    "parse_date",
    "parse_dates",
    "parse_integers",
    "parse_period",
    "parse_periods",
    "period_kind",
    "problems_frame",
    "read_table",
    "records_table",
    "resolve_columns",
    "safe_cell",
    "safe_frame",
    "series_problems",
    "text_values",
]

ROW_COLUMN = "__row__"

MB = 1024 * 1024
MAX_COLUMNS = 1_000  # no export users bring has nearly as many; wider files are refused

#: Every user-facing text of the import, keyed by code. Parameters in braces.
MESSAGES: dict[str, str] = {
    # where a problem sits
    "location.row_column": "Row {row}, column {column}: {message}",
    "location.row": "Row {row}: {message}",
    "location.column": "Column {column}: {message}",
    # the file as a whole (TableError)
    "file.empty": "The file is empty.",
    "file.too_large": "The file has {size_mb} MB; the limit is {limit_mb} MB.",
    "file.unknown_type": (
        "Files of type '{extension}' cannot be read; save the table as .csv or .xlsx."
    ),
    "file.legacy_xls": (
        "This is an old Excel file (.xls); save it as .xlsx or .csv and upload it again."
    ),
    "file.binary": (
        "The file does not contain a text table (it holds binary data); "
        "save the table as .csv or .xlsx."
    ),
    "file.xlsx_named_csv": (
        "The file is an Excel workbook with a .csv name; rename it to .xlsx or save it as CSV."
    ),
    "file.not_decodable": (
        "The file's text encoding is not readable; save it as CSV UTF-8."
    ),
    "file.malformed_csv": "The CSV file cannot be read: {detail}.",
    "file.mixed_encoding": (
        "The file mixes two text encodings, UTF-8 and Windows-1252: row {row} is the first in {encoding}, "
        "the rarer one here. Save the whole file as CSV UTF-8 and upload it again."
    ),
    "xlsx.invalid": "The file is not a valid Excel workbook (.xlsx).",
    "xlsx.too_many_members": (
        "The workbook has {count} parts, more than the limit of {limit}; it is refused."
    ),
    "xlsx.too_large": (
        "The workbook unpacks to {size_mb} MB, more than the limit of {limit_mb} MB."
    ),
    "xlsx.ratio": (
        "The workbook is compressed suspiciously strongly ({ratio}:1, limit {limit}:1) "
        "and is refused as a possible zip bomb."
    ),
    "xlsx.doctype": (
        "The workbook contains an XML document type declaration, which Excel never writes; it is refused "
        "as a possible attack (XML entity expansion)."
    ),
    "xlsx.sheet_not_found": "The workbook has no sheet '{sheet}' (sheets: {sheets}).",
    "xlsx.no_sheet": "The workbook has no worksheet.",
    "table.no_header": "The first row holds no column names.",
    "table.header_is_data": (
        "The first row looks like data, not column names; add a header row."
    ),
    "table.no_rows": "The file has column names but no data rows.",
    "table.too_many_rows": "The file has more than {limit} data rows.",
    "table.too_many_columns": (
        "The file has {count} columns, more than the limit of {limit}; check the delimiter, "
        "or remove the columns that are not needed."
    ),
    "table.too_many_values": (
        "Row {row} has {count} values but the header has {columns} columns; check the "
        "delimiter, or put values that contain it in quotes."
    ),
    # columns
    "column.missing": "Required column '{name}' is missing (accepted names: {aliases}).",
    "column.ambiguous": (
        "Columns {headers} all stand for '{name}'; the first one is used."
    ),
    "column.unused": "Column '{header}' is not used.",
    # single values
    "value.missing": "value is missing",
    "value.not_number": "'{value}' is not a number",
    "value.mixed_number_format": (
        "'{value}' is written differently from the other numbers in this column "
        "(decimal comma vs. decimal point)"
    ),
    "value.not_integer": "'{value}' is not a whole number",
    "value.not_date": "'{value}' is not a date (write YYYY-MM-DD or DD.MM.YYYY)",
    "value.ambiguous_date": (
        "'{value}' is ambiguous (day or month first?); write YYYY-MM-DD or DD.MM.YYYY"
    ),
    "value.two_digit_year": "'{value}' has a two-digit year; write the year with four digits",
    "value.not_boolean": "'{value}' is not yes/no (ja/nein, 1/0, x)",
    "value.not_period": "'{value}' is not a period (write 2024-03, 2024-Q1 or a date)",
    # customer values
    "customer_values.missing_id": "the customer id is missing",
    "customer_values.duplicate": (
        "customer {customer_id} appears twice for period {period} (rows {first_row} and {second_row})"
    ),
    "customer_values.negative_revenue": "revenue {value} is negative; negative revenue is not allowed",
    "customer_values.rating_range": "rating {value} is outside 1–5",
    "customer_values.conflicting_master": (
        "customer {customer_id} has different values for {field}: {values}; "
        "the value of row {first_row} is used"
    ),
    "customer_values.mixed_periods": (
        "months and quarters are mixed (months: {months}, quarters: {quarters} rows); "
        "the {dropped_kind} rows are left out, use one kind of period per file"
    ),
    "customer_values.duplicate_period_column": (
        "Columns {headers} stand for the same period {period}; only the first is used."
    ),
    "customer_values.no_values": "No period columns were found (e.g. 2024-01, 2024-Q1).",
    "customer_values.potential_below_revenue": (
        "customer {customer_id}: the potential a year ({potential}, period {period}) is below the customer's own "
        "revenue in the year up to that period ({revenue}); check the potential"
    ),
    "customer_numbers.zeros": (
        "customer numbers matched to known customers after adding the leading zeros the spreadsheet dropped: "
        "{count} (e.g. {examples})"
    ),
    "customer_numbers.spaces": (
        "customer numbers matched to known customers after removing stray spaces: {count} (e.g. {examples})"
    ),
    "problems.truncated": "{count} more problems are not listed.",
}


def format_message(code: str, **params) -> str:
    """Return the English text for a message code, filled with its parameters."""
    try:
        template = MESSAGES[code]
    except KeyError as exc:
        raise ValueError(f"Unknown message code {code!r}; add it to MESSAGES.") from exc
    return template.format(**params)


class TableError(ValueError):
    """The uploaded file cannot be read as a table; ``str(error)`` is for the user.

    Parameters
    ----------
    message : str
        Human-readable English message.
    code : str, optional
        Key into :data:`MESSAGES` for translation.
    params : mapping, optional
        Parameters of the message template.
    """

    def __init__(self, message: str, code: str = "table.error", params: Mapping | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.params = dict(params or {})

    @classmethod
    def from_code(cls, code: str, **params) -> TableError:
        """Build the error from a message code and its parameters."""
        return cls(format_message(code, **params), code=code, params=params)


@dataclass
class Problem:
    """One problem found in an uploaded file.

    ``row`` is the spreadsheet row the user sees (header = 1) or None for the
    whole file; ``column`` is the user's header text or None. ``message`` is
    English and names both; ``code`` and ``params`` allow translation.
    ``severity`` is ``"error"`` (the row or file cannot be used as is),
    ``"warning"`` (used, but check it) or ``"info"``.
    """

    row: int | None
    column: str | None
    message: str
    code: str = "custom"
    params: dict = field(default_factory=dict)
    severity: str = "error"


_MAX_VALUE_CHARS = 40


def _short(value) -> str:
    text = str(value).strip()
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 1] + "…"
    return text


def make_problem(
    code: str,
    *,
    row: int | None = None,
    column: str | None = None,
    severity: str = "error",
    **params,
) -> Problem:
    """Create a :class:`Problem` from a message code, with the location in its message."""
    if severity not in {"error", "warning", "info"}:
        raise ValueError(f"severity must be 'error', 'warning' or 'info', not {severity!r}.")
    if "value" in params:
        params["value"] = _short(params["value"])
    text = format_message(code, **params)
    if row is not None and column is not None:
        text = format_message("location.row_column", row=row, column=column, message=text)
    elif row is not None:
        text = format_message("location.row", row=row, message=text)
    elif column is not None:
        text = format_message("location.column", column=column, message=text)
    return Problem(row=row, column=column, message=text, code=code, params=params, severity=severity)


def has_errors(problems: Iterable[Problem]) -> bool:
    """Return True when any problem has severity ``"error"``."""
    return any(p.severity == "error" for p in problems)


def problems_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    """Return the problems as a frame (row, column, severity, code, message) for display."""
    rows = [
        {
            "row": p.row,
            "column": p.column,
            "severity": p.severity,
            "code": p.code,
            "message": p.message,
        }
        for p in problems
    ]
    frame = pd.DataFrame(rows, columns=["row", "column", "severity", "code", "message"])
    frame["row"] = frame["row"].astype("Int64")
    return frame


def series_problems(
    errors: pd.Series,
    raw: pd.Series,
    rows: pd.Series | None,
    column: str | None,
    severity: str = "error",
) -> list[Problem]:
    """Turn a per-row error-code series from a value parser into problems.

    Parameters
    ----------
    errors : Series
        Message codes (or None) as returned by the ``parse_*`` functions.
    raw : Series
        The raw cell texts, aligned with ``errors``; shown in the message.
    rows : Series or None
        Spreadsheet row numbers aligned with ``errors`` (usually ``df["__row__"]``);
        None uses the index.
    column : str or None
        The column as the user named it.
    """
    bad = errors.notna()
    if not bad.any():
        return []
    row_values = rows[bad] if rows is not None else pd.Series(errors.index[bad], index=errors.index[bad])
    return [
        make_problem(code, row=int(row), column=column, severity=severity, value=value)
        for code, value, row in zip(errors[bad], raw[bad].fillna(""), row_values, strict=True)
    ]


# ---------------------------------------------------------------------------
# safe export
# ---------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A line break followed by a formula start: a spreadsheet program may begin a new
# cell or row at the break (Excel does at a bare CR), and run what follows it.
_FORMULA_AFTER_BREAK = re.compile(r"([\r\n]+)(?=[=+\-@\t])")
# Writers of CSV exports end lines with CRLF: Python's csv module then quotes every
# field containing CR or LF (with "\n" alone, a field with a bare CR goes out unquoted).
CSV_LINE_TERMINATOR = "\r\n"


def safe_cell(value):
    """Neutralise a value for a spreadsheet export (CSV/XLSX formula injection).

    A string starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets
    a leading apostrophe, so spreadsheet programs show it as text instead of
    running it; so does every line of it that starts with one of these after a
    line break. Numbers, dates, None and other strings are returned unchanged.
    """
    if not isinstance(value, str):
        return value
    if "\r" in value or "\n" in value:
        value = _FORMULA_AFTER_BREAK.sub(r"\1'", value)
    if value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` with :func:`safe_cell` applied to every text column."""
    out = df.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column].dtype):
            out[column] = out[column].map(safe_cell)
    return out


# ---------------------------------------------------------------------------
# reading files
# ---------------------------------------------------------------------------

_CSV_EXTENSIONS = {".csv", ".txt", ".tsv"}
_XLSX_EXTENSIONS = {".xlsx", ".xlsm"}
_DELIMITERS = (";", "\t", ",")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_RATIO_FLOOR = MB


def records_table(records: Sequence[Mapping], columns: Sequence[str]) -> pd.DataFrame:
    """Records (a batch sent by another system) as :func:`read_table` reads a file: one text
    column per name of ``columns``, ``""`` for a missing or null value, numbers as written by
    Python, and ``__row__`` = position + 2, so a problem's row minus 2 is the record's index.

    Parameters
    ----------
    records : sequence of mappings
        The records, each with some of ``columns``.
    columns : sequence of str
        The column names, as a file would head them.
    """
    def text(value) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value)

    frame = pd.DataFrame({name: pd.Series([text(record.get(name)) for record in records], dtype=object)
                          for name in columns})
    frame[ROW_COLUMN] = np.arange(2, len(records) + 2, dtype=np.int64)
    return frame


def read_table(
    data: bytes,
    filename: str,
    sheet: str | None = None,
    *,
    amounts: Callable[[list[str]], Iterable[str]] | None = None,
    max_rows: int = 1_000_000,
    max_columns: int = MAX_COLUMNS,
    max_bytes: int = 200 * MB,
    max_uncompressed: int = 200 * MB,
    max_ratio: float = 100.0,
    max_members: int = 10_000,
) -> pd.DataFrame:
    """Read an uploaded CSV or XLSX file into a frame of raw strings.

    Parameters
    ----------
    data : bytes
        The uploaded file.
    filename : str
        The file's name; its extension chooses the format.
    sheet : str, optional
        Worksheet to read from an XLSX file; default the first one.
    amounts : callable, optional
        Given the column names (as in the returned frame), returns those that
        hold amounts. In a simple CSV file (see :func:`_read_csv_typed`) such a
        column whose every cell is empty or an unsigned plain amount that
        :func:`parse_amounts` reads without an error (decimal separator
        detected) comes back as float, NaN for an empty cell: the same numbers,
        several times faster. Any other cell keeps the column as text, so the
        caller's problems quote the cells as written.
    max_rows : int
        Most data rows accepted.
    max_columns : int
        Most columns accepted in the header; a wider file is refused before
        its rows are split (a file of a million columns would otherwise keep
        the worker busy for minutes).
    max_bytes : int
        Largest upload accepted.
    max_uncompressed, max_ratio, max_members :
        Zip-bomb limits for XLSX files, checked before the workbook is opened.

    Returns
    -------
    DataFrame
        One column per header cell (object dtype, strings, empty cells ``""``;
        float for the ``amounts`` read as numbers) plus ``__row__`` (int64), the
        spreadsheet row number of each data row.

    Raises
    ------
    TableError
        When the file cannot be read as a table; the message is for the user.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError("data must be the file's bytes; open the file in binary mode ('rb').")
    data = bytes(data)
    extension = PurePath(filename or "").suffix.lower()
    if extension == ".xls":
        raise TableError.from_code("file.legacy_xls")
    if extension not in _CSV_EXTENSIONS | _XLSX_EXTENSIONS:
        raise TableError.from_code("file.unknown_type", extension=extension or filename or "")
    if not data.strip():
        raise TableError.from_code("file.empty")
    if len(data) > max_bytes:
        raise TableError.from_code(
            "file.too_large", size_mb=math.ceil(len(data) / MB), limit_mb=max_bytes // MB
        )
    if extension in _CSV_EXTENSIONS:
        text, body, encoding = _decode_text(data)
        # a Windows-1252 file is decoded only where the fast reader cannot take it as it is
        # (one byte per character: its first _SAMPLE_CHARS bytes are the sniffer's sample)
        sample = text if text is not None else body[:_SAMPLE_CHARS].decode(encoding)
        delimiter = "\t" if extension == ".tsv" else _sniff_delimiter(sample)
        _check_columns(body if isinstance(body, bytes) else data, delimiter, encoding, max_columns)
        frame = None if amounts is None else _read_csv_typed(
            body, delimiter, max_rows, amounts, encoding, max_columns
        )
        if frame is None and text is None:
            text = body.decode(encoding)
            body = text.encode("utf-8")
        if frame is None:
            frame = _read_csv_fast(text, body, delimiter, max_rows, max_columns)
        if frame is None:
            frame = _records_to_frame(_csv_records(text, delimiter), max_rows, max_columns)
        return frame
    _check_zip(data, max_uncompressed, max_ratio, max_members)
    return _read_xlsx(data, sheet, max_rows, max_columns)


#: Bytes that Python's Windows-1252 codec refuses (no character is assigned to them).
_CP1252_UNASSIGNED = b"\x81\x8d\x8f\x90\x9d"


def _decode_text(data: bytes) -> tuple[str | None, bytes | memoryview, str]:
    """The file's text, its bytes without a BOM, and their encoding ('utf-8' or 'cp1252').

    A UTF-16 file comes back re-encoded as UTF-8. A Windows-1252 file is only
    checked, not decoded (the text is None): the fast reader takes its bytes as
    they are, and decoding a large file twice costs a tenth of a second.
    """
    if data.startswith(b"PK\x03\x04"):
        raise TableError.from_code("file.xlsx_named_csv")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise TableError.from_code("file.legacy_xls")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise TableError.from_code("file.not_decodable") from exc
        if _CONTROL_CHARS.search(text):
            raise TableError.from_code("file.binary")
        return text, text.encode("utf-8"), "utf-8"
    if b"\x00" in data:
        raise TableError.from_code("file.binary")
    try:
        text = data.decode("utf-8-sig")
        body, encoding = (memoryview(data)[3:] if data.startswith(b"\xef\xbb\xbf") else data), "utf-8"
        refused = _CONTROL_BYTES
    except UnicodeDecodeError:
        # Windows-1252 has a character for every other byte, but not when the file is partly UTF-8
        _refuse_mixed_encodings(data)
        text, body, encoding = None, data, "cp1252"
        refused = _CONTROL_BYTES + _CP1252_UNASSIGNED
    # In UTF-8 and Windows-1252 a control character is its own byte, so the bytes
    # are checked (deleting them is much faster than a regex over the text); one
    # pass for both checks, the message told apart only when one fails
    if len(data.translate(None, refused)) != len(data):
        if text is None and len(data.translate(None, _CP1252_UNASSIGNED)) != len(data):
            raise TableError.from_code("file.not_decodable")
        raise TableError.from_code("file.binary")
    return text, body, encoding


_LINE_END = re.compile(rb"[\r\n]")


def _check_columns(data: bytes, delimiter: str, encoding: str, max_columns: int) -> None:
    """Refuse a file whose header row has more than ``max_columns`` cells, before anything is split.

    The delimiters of the first non-blank line are counted; only when they are
    too many and a quote might hide some is that one record read by the csv module.
    """
    start = 0
    while start < len(data):
        end = _LINE_END.search(data, start)
        stop = end.start() if end else len(data)
        if data[start:stop].strip():
            break
        start = stop + 1
    else:
        return
    line = data[start:stop].rstrip(delimiter.encode() + b" \t")  # trailing empty header cells do not count
    count = line.count(delimiter.encode()) + 1
    if count > max_columns and b'"' in line:
        stream = io.TextIOWrapper(io.BytesIO(data[start:]), encoding=encoding, errors="replace", newline="")
        try:
            cells = next(csv.reader(stream, delimiter=delimiter))
            count = len(cells)
            while count and not cells[count - 1].strip():
                count -= 1
        except (csv.Error, StopIteration):
            return  # the readers report the broken quote
    if count > max_columns:
        raise TableError.from_code("table.too_many_columns", count=count, limit=max_columns)


_UTF8_LEADS = (b"\xc2", b"\xc3", b"\xc5", b"\xe2")


def _refuse_mixed_encodings(data: bytes) -> None:
    """Refuse a file that is not UTF-8 as a whole but holds UTF-8-encoded letters.

    Such a file was pieced together from two sources (rows appended from
    another export); read as Windows-1252 its UTF-8 rows would show "MÃ¼ller".
    A UTF-8 letter here is one of U+00A0–U+00FF (lead byte C2 or C3: ä, ö, ü,
    ß, é, °, §, no-break space) or U+0140–U+017F (C5: Ł, ő, Š, Ž, Œ), or the
    three-byte € and the dashes and quotes of U+2010–U+203A. In a real
    Windows-1252 file those bytes would read "Â", "Ã" or "Å" followed by a
    symbol such as "¼" or "–", or "â€": text does not hold them. (C4 is left
    out: as Windows-1252 it is "Ä", which may well stand before "–" or "“".)
    The row named is the first one of the rarer kind.
    """
    if all(data.find(lead) < 0 for lead in _UTF8_LEADS):
        return  # no byte that starts such a letter (memchr: the usual Windows-1252 file costs milliseconds)
    chars = np.frombuffer(data + bytes(3), dtype=np.uint8)
    high = np.flatnonzero(chars[: len(data)] >= 0x80)
    if data.startswith(b"\xef\xbb\xbf"):
        high = high[3:]  # the byte order mark of a UTF-8 file
    lead, second, third = chars[high], chars[high + 1], chars[high + 2]
    continuation = (second >= 0x80) & (second <= 0xBF)
    two = (((lead == 0xC2) & (second >= 0xA0)) | (lead == 0xC3) | (lead == 0xC5)) & continuation
    three = (lead == 0xE2) & (
        ((second == 0x80) & (third >= 0x90) & (third <= 0xBA)) | ((second == 0x82) & (third == 0xAC))
    )
    if not (two.any() or three.any()):
        return
    in_utf8 = np.zeros(len(data) + 3, dtype=bool)
    starts = high[two | three]
    in_utf8[starts] = in_utf8[starts + 1] = True
    in_utf8[high[three] + 2] = True
    lone = high[~in_utf8[high]]
    if not len(lone):
        return  # every high byte belongs to a UTF-8 letter: the decoder failed elsewhere (not our case)
    line_ends = np.flatnonzero(chars[: len(data)] == ord("\n"))
    utf8_lines = np.unique(np.searchsorted(line_ends, starts))
    other_lines = np.unique(np.searchsorted(line_ends, lone))
    odd, encoding = (utf8_lines, "UTF-8") if len(utf8_lines) < len(other_lines) else (other_lines, "Windows-1252")
    row = _row_of_line(chars[: len(data)], line_ends, int(odd[0]))
    raise TableError.from_code("file.mixed_encoding", row=row, encoding=encoding)


def _row_of_line(chars: np.ndarray, line_ends: np.ndarray, line: int) -> int:
    """The spreadsheet row of a line (from 0): line breaks inside quoted values do not start a row."""
    breaks = line_ends[:line]
    if not len(breaks):
        return 1
    quotes = np.flatnonzero(chars[: breaks[-1]] == ord('"'))
    inside = np.searchsorted(quotes, breaks) % 2 == 1  # an odd number of quotes before it: inside a value
    return int(np.count_nonzero(~inside)) + 1


def _sniff_delimiter(text: str, sample_lines: int = 50) -> str:
    lines = text[:65536].splitlines()[: sample_lines + 20]
    sample = "\n".join(line for line in lines if line.strip())
    best, best_score = ",", None
    for rank, delimiter in enumerate(_DELIMITERS):
        try:
            records = [r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r]
        except csv.Error:
            continue
        if not records:
            continue
        width = len(records[0])
        if width < 2:
            continue
        consistent = sum(1 for r in records[1 : sample_lines + 1] if len(r) == width)
        score = (consistent, width, -rank)
        if best_score is None or score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise TableError.from_code("file.malformed_csv", detail=str(exc)) from exc


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _records_to_frame(
    records: Iterable[tuple[int, list[str]]], max_rows: int, max_columns: int = MAX_COLUMNS
) -> pd.DataFrame:
    """The frame of :func:`read_table` from numbered records (csv module, openpyxl).

    :func:`_read_csv_fast` applies the same rules to a whole frame at once.
    """
    iterator = iter(records)
    header = None
    for _, cells in iterator:
        if any(c.strip() for c in cells):
            header = _header(cells, max_columns)
            break
    if header is None:
        raise TableError.from_code("file.empty")

    width = len(header)
    rows: list[list[str]] = []
    row_numbers: list[int] = []
    append_row, append_number = rows.append, row_numbers.append
    for number, cells in iterator:
        if not "".join(cells).strip():
            continue
        if len(cells) != width:
            if len(cells) > width:
                if "".join(cells[width:]).strip():
                    count = len(cells)
                    while count > width and not cells[count - 1].strip():
                        count -= 1
                    raise TableError.from_code(
                        "table.too_many_values", row=number, count=count, columns=width
                    )
                cells = cells[:width]
            else:
                cells = list(cells) + [""] * (width - len(cells))
        if len(rows) >= max_rows:
            raise TableError.from_code("table.too_many_rows", limit=max_rows)
        append_row(cells)
        append_number(number)
    if not rows:
        raise TableError.from_code("table.no_rows")
    return _finish_frame(pd.DataFrame(rows, dtype=object), header, row_numbers)


def _header(cells: Sequence[str], max_columns: int) -> list[str]:
    """The header cells, stripped, without trailing empty ones; refuses a missing or too wide header."""
    count = len(cells)
    while count and not cells[count - 1].strip():
        count -= 1
    if count > max_columns:
        raise TableError.from_code("table.too_many_columns", count=count, limit=max_columns)
    header = [c.strip() for c in cells[:count]]
    if not any(header):
        raise TableError.from_code("table.no_header")
    filled = [h for h in header if h]
    if all(_looks_like_value(h) for h in filled):
        raise TableError.from_code("table.header_is_data")
    return header


def _finish_frame(frame: pd.DataFrame, header: list[str], row_numbers) -> pd.DataFrame:
    """Name the data cells (a new frame, one column per header cell) and add the row numbers."""
    names = _header_names(header)
    frame.columns = names
    empty_unnamed = [
        name for name, h in zip(names, header, strict=True) if not h and not frame[name].str.strip().astype(bool).any()
    ]
    if empty_unnamed:
        frame = frame.drop(columns=empty_unnamed)
    frame[ROW_COLUMN] = np.asarray(row_numbers, dtype=np.int64)
    return frame


_SAMPLE_CHARS = 65536


def _read_csv_fast(
    text: str, utf8: bytes | memoryview, delimiter: str, max_rows: int, max_columns: int = MAX_COLUMNS
) -> pd.DataFrame | None:
    """:func:`_records_to_frame` over the csv module's records, read by pandas' C parser.

    Several times faster. pandas splits records exactly as the csv module does
    (same quoting, every record a row, blank lines included, short rows padded),
    but it stops at a row wider than the first rows or at an unclosed quote,
    where the csv module goes on; then None is returned and the caller reads
    the file with the csv module.
    """
    width = _sample_width(text, delimiter)
    if width is None:
        return None
    try:
        cells = pd.read_csv(
            io.BytesIO(utf8), sep=delimiter, header=None, names=range(width), index_col=False,
            dtype=object, na_filter=False, skip_blank_lines=False, quotechar='"',
            doublequote=True, escapechar=None, encoding="utf-8", engine="c",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    blank = _blank_rows(cells)
    filled = np.flatnonzero(~blank)  # record number - 1
    if not len(filled):
        raise TableError.from_code("file.empty")
    header = _header(cells.iloc[filled[0]].tolist(), max_columns)
    data_rows = filled[1:]

    # the errors the record loop would raise first: a row with values beyond the
    # header, or the row after max_rows data rows
    wide = np.zeros(len(cells), dtype=bool)
    for column in range(len(header), width):
        wide |= ~_blank_cells(cells[column].to_numpy())
    wide_rows = data_rows[wide[data_rows]]
    over_limit = data_rows[max_rows] if len(data_rows) > max_rows else None
    if len(wide_rows) and (over_limit is None or wide_rows[0] <= over_limit):
        row = cells.iloc[wide_rows[0]].tolist()
        count = max(i for i, cell in enumerate(row) if cell.strip()) + 1
        raise TableError.from_code(
            "table.too_many_values", row=int(wide_rows[0]) + 1, count=count, columns=len(header)
        )
    if over_limit is not None:
        raise TableError.from_code("table.too_many_rows", limit=max_rows)
    if not len(data_rows):
        raise TableError.from_code("table.no_rows")
    if data_rows[-1] - data_rows[0] + 1 == len(data_rows):  # no blank row among them: a slice
        data = cells.iloc[data_rows[0] : data_rows[-1] + 1, : len(header)]
    else:
        data = cells.iloc[data_rows, : len(header)]
    return _finish_frame(data.reset_index(drop=True), header, data_rows + 1)


def _read_csv_typed(
    body: bytes | memoryview, delimiter: str, max_rows: int, amounts: Callable[[list[str]], Iterable[str]],
    encoding: str = "utf-8", max_columns: int = MAX_COLUMNS,
) -> pd.DataFrame | None:
    """:func:`_read_csv_fast` of a simple file, with its amount columns read as numbers from the bytes.

    Why: pandas makes a Python string of every cell, and the amounts are
    nearly all distinct, so their strings, and parsing them again, cost more
    than the rest of an import's reading together.

    Simple: no quote character anywhere, lines ending in ``\n`` or ``\r\n``,
    a header in the first line whose last cell is not empty, and every further
    line with exactly the header's number of cells, at least one of them
    starting with something other than a space. Then a line is a record (no
    blank ones, none too wide) and a cell is what lies between two delimiters,
    so one numpy pass finds every cell's bytes. The ``amounts`` columns are
    read there by the plain-amount reader of :func:`parse_amounts`; one that
    holds only empty cells and unsigned plain amounts read without an error
    becomes float. pandas reads the other columns as text, exactly as
    :func:`_read_csv_fast` would. None for any other file: the caller reads it
    the general way. ``encoding`` is the bytes' (UTF-8 or Windows-1252: in
    both, the delimiters, line ends and the characters of a plain amount are
    single ASCII bytes, and every other character's bytes are not ASCII).
    """
    data = bytes(body)
    if b'"' in data:
        return None
    if b"\r" in data:
        if data.count(b"\r") != data.count(b"\r\n"):
            return None
        data = data.replace(b"\r\n", b"\n")
    if not data.endswith(b"\n"):
        data += b"\n"
    header_end = data.index(b"\n")
    cells = data[:header_end].decode(encoding).split(delimiter)
    if not cells[-1].strip():
        return None
    header = _header(cells, max_columns)
    width = len(header)
    names = _header_names(header)
    wanted = set(amounts(names))
    numeric = [j for j, name in enumerate(names) if name in wanted and header[j]]
    # pandas' tokenizer leaves the GIL while it splits the file: the text columns are
    # read on another core while numpy finds the cells and reads the amounts here (for a
    # file that then turns out not to be simple, that reading is waited for and wasted)
    with ThreadPoolExecutor(max_workers=1) as pool:
        texts = pool.submit(_text_columns, data, encoding, delimiter, width,
                            [j for j in range(width) if j not in numeric])
        found = _plain_cells(data, header_end, delimiter, width, max_rows)
        if found is None:
            return None
        chars, starts, lengths = found
        columns: dict[int, np.ndarray] = {}
        for j in numeric:
            values = _unsigned_amounts(chars, starts[:, j] + header_end + 1, lengths[:, j])
            if values is not None:
                columns[j] = values
        read = texts.result()
    rows = len(starts)
    if read is None or len(read) != rows:
        return None
    columns.update({j: read[j].to_numpy() for j in read.columns})
    rest = [j for j in numeric if j not in columns]  # amount columns with a cell to quote as written
    if rest:
        read = _text_columns(data, encoding, delimiter, width, rest)
        if read is None or len(read) != rows:
            return None
        columns.update({j: read[j].to_numpy() for j in rest})
    frame = pd.DataFrame({j: columns[j] for j in range(width)})
    return _finish_frame(frame, header, np.arange(2, rows + 2))


def _plain_cells(data: bytes, header_end: int, delimiter: str, width: int, max_rows: int):
    """The bytes after the header as a padded array and each data cell's start and length there
    (rows × ``width``), when every line is a record of exactly ``width`` cells that is surely not
    blank (see :func:`_read_csv_typed`); else None."""
    chars = np.frombuffer(data + bytes(_PLAIN_MAX_CHARS), dtype=np.uint8)  # padded for the amount reader
    body = chars[header_end + 1 : len(data)]
    ends = np.flatnonzero((body == ord(delimiter)) | (body == ord("\n")))
    rows = len(ends) // width
    if rows == 0 or len(ends) != rows * width:
        return None
    ends = ends.reshape(rows, width)
    if not (body[ends[:, -1]] == ord("\n")).all() or not (body[ends[:, :-1]] == ord(delimiter)).all():
        return None
    starts = np.empty_like(ends)
    starts[:, 1:] = ends[:, :-1] + 1
    starts[0, 0] = 0
    starts[1:, 0] = ends[:-1, -1] + 1
    lengths = ends - starts
    # a row is surely not blank when one of its cells starts with a printable character
    doubt = np.ones(rows, dtype=bool)
    for j in range(width):
        first = body[np.minimum(starts[:, j], len(body) - 1)]
        doubt &= ~((lengths[:, j] > 0) & (first > ord(" ")) & (first < 127) & (first != ord(delimiter)))
    if doubt.any():
        return None
    if rows > max_rows:
        raise TableError.from_code("table.too_many_rows", limit=max_rows)
    return chars, starts, lengths


def _text_columns(data: bytes, encoding: str, delimiter: str, width: int, columns: list[int]) -> pd.DataFrame | None:
    """The given columns of a simple file's data lines as text, read by pandas (None when it cannot)."""
    if not columns:
        return pd.DataFrame(index=pd.RangeIndex(data.count(b"\n") - 1))
    try:
        return pd.read_csv(
            io.BytesIO(data), sep=delimiter, header=None, skiprows=1, names=range(width),
            usecols=columns, index_col=False, dtype=object, na_filter=False,
            skip_blank_lines=False, quoting=csv.QUOTE_NONE, encoding=encoding, engine="c",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        return None


def _unsigned_amounts(chars: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray | None:
    """The values of a column of amounts in a byte buffer, when all are empty or unsigned plain amounts.

    They are what :func:`parse_amounts` gives for the cells' texts with the
    decimal separator detected; None when any cell is something else or would
    be an error (a negative amount, too, so that a caller refusing it can
    quote the cell as written).
    """
    empty = lengths == 0
    filled = np.flatnonzero(~empty)
    if (lengths[filled] > _PLAIN_MAX_CHARS).any() or (chars[starts[filled]] == _MINUS).any():
        return None
    kinds = np.full(len(lengths), _EMPTY, dtype=np.int8)
    de_values, en_values = np.full(len(lengths), np.nan), np.full(len(lengths), np.nan)
    commas = np.zeros(len(lengths), dtype=bool)
    if not _read_plain_cells(chars, starts, lengths, filled, kinds, de_values, en_values, commas).all():
        return None
    values, errors = _amount_values(kinds, de_values, en_values, commas, None)
    return values if pd.isna(errors).all() else None


def _sample_width(text: str, delimiter: str) -> int | None:
    """Most cells of a record at the start of the file (None: no complete record there)."""
    sample = text[:_SAMPLE_CHARS]
    try:
        records = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))
    except csv.Error:
        return None
    if len(sample) < len(text):
        records = records[:-1]  # it may be cut off
    return max((len(r) for r in records), default=0) or None


def _blank_cells(values: np.ndarray) -> np.ndarray:
    """True per cell that is empty or only whitespace."""
    return np.fromiter((not v or v.isspace() for v in values), dtype=bool, count=len(values))


def _blank_rows(cells: pd.DataFrame) -> np.ndarray:
    """True per row whose cells are all blank; a column is only looked at where still in doubt."""
    blank = np.ones(len(cells), dtype=bool)
    for column in cells.columns:
        doubt = np.flatnonzero(blank)
        if not len(doubt):
            break
        blank[doubt] = _blank_cells(cells[column].to_numpy()[doubt])
    return blank


def _header_names(header: list[str]) -> list[str]:
    names: list[str] = []
    seen: dict[str, int] = {}
    for index, text in enumerate(header):
        name = text or f"(column {_column_letter(index)})"
        if name == ROW_COLUMN:
            name = f"{name} (file)"
        key = name.casefold()
        if key in seen:
            seen[key] += 1
            name = f"{name} ({seen[key]})"
        else:
            seen[key] = 1
        names.append(name)
    return names


def _looks_like_value(text: str) -> bool:
    value, error = parse_amount(text)
    if error is None and value is not None:
        return True
    value, error = parse_date(text)
    return error is None and value is not None


def _check_zip(data: bytes, max_uncompressed: int, max_ratio: float, max_members: int) -> None:
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise TableError.from_code("file.legacy_xls")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise TableError.from_code("xlsx.invalid") from exc
    if len(infos) > max_members:
        raise TableError.from_code("xlsx.too_many_members", count=len(infos), limit=max_members)
    total = sum(info.file_size for info in infos)
    if total > max_uncompressed:
        raise TableError.from_code(
            "xlsx.too_large", size_mb=math.ceil(total / MB), limit_mb=max_uncompressed // MB
        )
    for info in infos:
        if info.file_size > _RATIO_FLOOR:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > max_ratio:
                raise TableError.from_code(
                    "xlsx.ratio", ratio=int(ratio), limit=int(max_ratio)
                )
    names = {info.filename for info in infos}
    if "xl/workbook.xml" not in names and "[Content_Types].xml" not in names:
        raise TableError.from_code("xlsx.invalid")
    _check_declarations(data, infos)


_PROLOG_LIMIT = MB  # an XML part's prolog (declaration, comments) longer than this is refused


def _check_declarations(data: bytes, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse a workbook with a document type declaration in any XML part.

    Excel never writes one; it is how an entity-expansion bomb ("billion
    laughs") or an external entity gets into a file. defusedxml stops them in
    openpyxl and calamine does not expand them, but both would only call the
    file broken: the user is told what is wrong instead. Only the prolog of
    each part is read (up to its root element), so this costs little.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in infos:
                if not info.is_dir():
                    with archive.open(info) as member:
                        if _declares_doctype(member):
                            raise TableError.from_code("xlsx.doctype")
    except TableError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, RuntimeError,
            NotImplementedError, zlib.error) as exc:  # broken, encrypted or of an unknown compression
        raise TableError.from_code("xlsx.invalid") from exc


_PROLOG_ITEM = re.compile(r"\s+|<\?.*?\?>|<!--.*?-->", re.S)


def _declares_doctype(member) -> bool:
    """Whether an XML part's prolog holds ``<!DOCTYPE`` (False for a part that is not XML)."""
    head = b""
    while True:
        chunk = member.read(65536)
        head += chunk
        if head.startswith((b"\xff\xfe", b"<\x00")):
            encoding = "utf-16-le"
        elif head.startswith((b"\xfe\xff", b"\x00<")):
            encoding = "utf-16-be"
        else:
            encoding = "utf-8"
        text = head.decode(encoding, errors="replace").lstrip("\ufeff")
        position = 0
        while (item := _PROLOG_ITEM.match(text, position)) is not None:
            position = item.end()
        rest = text[position:]
        if rest.upper().startswith("<!DOCTYPE"):
            return True
        complete = not rest.startswith(("<?", "<!--", "<!")) or not chunk
        if complete and (len(rest) >= 9 or not chunk):
            return False
        if len(head) > _PROLOG_LIMIT:
            raise TableError.from_code("xlsx.invalid")


def _read_xlsx(data: bytes, sheet: str | None, max_rows: int, max_columns: int) -> pd.DataFrame:
    """The frame of an XLSX worksheet: values read by calamine, zero-padded numbers and errors from the XML.

    calamine reads values several times faster than openpyxl but sees no number
    formats and turns error cells (``#DIV/0!``) into empty ones; both are
    looked up in the workbook's XML first (:func:`_cell_marks`; the sheet's XML
    is let go before calamine holds the cells). Where that lookup cannot be
    sure, openpyxl reads the sheet as before.
    """
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises several types for broken files
        raise TableError.from_code("xlsx.invalid") from exc
    with workbook:
        name = _choose_sheet(
            [m.name for m in workbook.sheets_metadata if m.typ == python_calamine.SheetTypeEnum.WorkSheet], sheet
        )
        marks = _cell_marks(data, name)
        if marks is not None:
            try:
                worksheet = workbook.get_sheet_by_name(name)
                rows = worksheet.iter_rows()
            except Exception as exc:  # a corrupt sheet XML surfaces while reading
                raise TableError.from_code("xlsx.invalid") from exc
            # iter_rows gives every row from the first but the columns from the first used one
            first_column = worksheet.start[1] if worksheet.start else 0
            return _records_to_frame(_sheet_records(rows, first_column, *marks), max_rows, max_columns)
    return _read_xlsx_openpyxl(data, name, max_rows, max_columns)


def _sheet_records(
    rows: Iterable[list], first_column: int, padded: list[tuple[int, int, int]], errors: dict[tuple[int, int], str]
) -> Iterator[tuple[int, list[str]]]:
    """Numbered rows of cell texts from calamine's rows of values, with the zero-padded and error cells."""
    padded_by_row: dict[int, list[tuple[int, int]]] = {}
    for row, column, width in padded:
        padded_by_row.setdefault(row, []).append((column - first_column, width))
    errors_by_row: dict[int, list[tuple[int, str]]] = {}
    for (row, column), text in errors.items():
        errors_by_row.setdefault(row, []).append((column - first_column, text))
    lead = [""] * first_column
    text_of_type = _TEXT_OF_TYPE
    for index, values in enumerate(rows):
        texts = [value if type(value) is str else text_of_type.get(type(value), _value_text)(value) for value in values]
        for column, width in padded_by_row.get(index, ()):
            if 0 <= column < len(values) and type(values[column]) in (int, float):
                texts[column] = _pad(texts[column], width)
        for column, text in errors_by_row.get(index, ()):
            if 0 <= column < len(values):
                texts[column] = text
        yield index + 1, lead + texts if first_column else texts


def _choose_sheet(names: list[str], sheet: str | None) -> str:
    """The worksheet to read: the named one, else the first; refuses a missing one."""
    if sheet is None:
        if not names:
            raise TableError.from_code("xlsx.no_sheet")
        return names[0]
    if sheet not in names:
        raise TableError.from_code("xlsx.sheet_not_found", sheet=sheet, sheets=", ".join(names))
    return sheet


def _read_xlsx_openpyxl(data: bytes, sheet: str, max_rows: int, max_columns: int = MAX_COLUMNS) -> pd.DataFrame:
    """:func:`_read_xlsx` by openpyxl, which sees every cell's number format (slower)."""
    # openpyxl warns about workbook features it drops (data validation, default
    # styles); they do not affect the values, so they must not reach the user.
    # catch_warnings changes the process-wide filters, so with concurrent threads
    # a warning raised elsewhere may be hidden; only warnings, never values.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for broken files
            raise TableError.from_code("xlsx.invalid") from exc
        try:
            worksheet = workbook[_choose_sheet([ws.title for ws in workbook.worksheets], sheet)]
            if hasattr(worksheet, "reset_dimensions"):
                # the stored dimension is often wrong in files written by other tools
                worksheet.reset_dimensions()
            records = (
                (number, [_cell_text(cell) for cell in row])
                for number, row in enumerate(worksheet.iter_rows(), start=1)
            )
            try:
                return _records_to_frame(records, max_rows, max_columns)
            except TableError:
                raise
            except Exception as exc:  # a corrupt sheet XML surfaces while iterating
                raise TableError.from_code("xlsx.invalid") from exc
        finally:
            workbook.close()


_ZERO_PADDED = re.compile(r"^0+$")
_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_ATTRIBUTE = re.compile(rb"""([\w:.-]+)\s*=\s*(["'])(.*?)\2""", re.S)
_CELL_REFERENCE = re.compile(r"([A-Z]{1,3})([1-9]\d*)")
_ERROR_VALUE = re.compile(rb"(?:(?!</(?:[\w.-]+:)?c>).)*?<(?:[\w.-]+:)?v>([^<]*)</", re.S)


def _local(tag: str) -> str:
    """An XML tag or attribute name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def _cell_marks(data: bytes, sheet: str) -> tuple[list[tuple[int, int, int]], dict[tuple[int, int], str]] | None:
    """What calamine cannot see in a worksheet: the zero-padded cells and the error cells.

    Returns ``(padded, errors)``: ``(row, column, width)`` from 0 for each cell
    styled with a zero-padded number format such as ``0000000`` (a customer
    number 70001 shown as 0070001), and the text of each error cell
    (``#DIV/0!``) by ``(row, column)``. None when the workbook's parts cannot
    be followed or such a cell has no reference: openpyxl must read the sheet.
    Only those cells are picked out of the sheet XML, by regular expressions,
    so a sheet without them costs a scan in C.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = _workbook_parts(archive)
            if parts is None or sheet not in parts["sheets"]:
                return None
            padded_styles = _zero_padded_styles(archive.read(parts["styles"])) if parts["styles"] else {}
            xml = archive.read(parts["sheets"][sheet])
    except (KeyError, zipfile.BadZipFile, ValueError, OSError, ElementTree.ParseError, DefusedXmlException):
        return None
    if _dense_cells(xml) > _CALAMINE_MAX_CELLS:
        return None
    columns: dict[str, int] = {}
    padded: list[tuple[int, int, int]] = []
    if padded_styles:
        styles = b"|".join(str(index).encode() for index in padded_styles)
        # the usual form (Excel, openpyxl, LibreOffice write r first, then s) in one pass in C
        found = re.findall(rb'<c r="([A-Z]{1,3})([1-9][0-9]*)" s="(' + styles + rb')"[\s/>]', xml)
        # all of them, when the attribute occurs as often in that spelling and in no other (counting is memchr-fast)
        usual = sum(xml.count(b' s="%d"' % index) for index in padded_styles) == len(found) and not any(
            spelling in xml for spelling in (b"s='", b"s =", b"\ts=", b"\ns=", b"\rs=")
        )
        anywhere = re.compile(rb"<(?:[\w.-]+:)?c\s(?=[^>]*\bs\s*=\s*[\"'](?:" + styles + rb")[\"'])([^>]*)>")
        if usual:
            for letters, row, style in found:
                column = columns.get(letters)
                if column is None:
                    column = columns[letters] = _column_index(letters.decode())
                padded.append((int(row) - 1, column, padded_styles[int(style)]))
        else:  # other spellings: each such cell's attributes one by one
            for match in anywhere.finditer(xml):
                attributes = _attributes(match[1])
                place = _cell_place(attributes)
                if place is None:
                    return None
                style = attributes.get("s", "")
                if style.isdigit() and int(style) in padded_styles:
                    padded.append((*place, padded_styles[int(style)]))
    errors: dict[tuple[int, int], str] = {}
    if b'"e"' not in xml and b"'e'" not in xml:
        return padded, errors  # no cell of type "e" (error)
    for match in re.finditer(rb"""<(?:[\w.-]+:)?c\s(?=[^>]*\bt\s*=\s*["']e["'])([^>]*)>""", xml):
        attributes = _attributes(match[1])
        place = _cell_place(attributes)
        if place is None:
            return None
        if attributes.get("t") == "e" and not match[1].endswith(b"/"):
            value = _ERROR_VALUE.match(xml, match.end())
            errors[place] = value[1].decode().strip() if value else ""
    return padded, errors


#: calamine holds a sheet as one dense block of cells (some 32 bytes each) from A1 to the last
#: cell with a value: a 5 kB file with values in A1 and XFD1048576 would ask for 500 GB. A sheet
#: spanning more cells is read by openpyxl, which goes row by row and skips the gaps.
_CALAMINE_MAX_CELLS = 20_000_000
_REFERENCE_WIDTH = 3 + 7  # column letters and row digits of a cell reference (XFD1048576)


def _dense_cells(xml: bytes) -> float:
    """How many cells calamine would hold for a sheet: last row × last column of its cell references.

    Every ``r="..."`` attribute (cells: ``B7``, rows: ``7``) is read with numpy,
    a few MB of the XML at a time (so the memory this takes stays small).
    Infinite when the sheet writes references in a way not looked for here
    (other quotes or spacing, cells without a reference): then openpyxl reads it.
    """
    if b"<c>" in xml or any(spelling in xml for spelling in (b"\tr=", b"\nr=", b"\rr=", b"r='", b"r =", b"r= ")):
        return math.inf
    chars = np.frombuffer(xml, dtype=np.uint8)
    last_row = last_column = cells = 0
    for start in range(1, len(chars), _SCAN_BLOCK):
        candidates = np.flatnonzero(chars[start : start + _SCAN_BLOCK] == ord("r")) + start
        candidates = candidates[candidates + 2 < len(chars)]
        found = candidates[
            (chars[candidates - 1] == ord(" ")) & (chars[candidates + 1] == ord("="))
            & (chars[candidates + 2] == ord('"'))
        ]
        references = _references(chars, found + 3)
        if references is None:
            return math.inf
        rows, columns = references
        last_row, last_column = max(last_row, int(rows.max(initial=0))), max(last_column, int(columns.max(initial=0)))
        cells += int(np.count_nonzero(columns))
    if cells != xml.count(b"<c "):
        return math.inf  # a cell without a reference (or with a namespace prefix)
    return float(last_row) * float(max(last_column, 1))


_SCAN_BLOCK = MB


def _references(chars: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Row and column (0 for a row's own reference) of the references at ``starts``, each closed by a quote.

    None when one is not a reference: letters (at most 3) then digits (1 to 7) then ``"``.
    """
    letters, digits = np.zeros(len(starts), dtype=np.int64), np.zeros(len(starts), dtype=np.int64)
    row, column = np.zeros(len(starts), dtype=np.int64), np.zeros(len(starts), dtype=np.int64)
    closed = np.zeros(len(starts), dtype=bool)
    for position in range(_REFERENCE_WIDTH + 1):
        index = starts + position
        byte = chars[np.minimum(index, len(chars) - 1)].astype(np.int64)
        byte[index >= len(chars)] = 0
        at_end = letters + digits == position  # every byte so far was part of the reference
        is_letter = at_end & (digits == 0) & (byte >= ord("A")) & (byte <= ord("Z"))
        is_digit = at_end & ~is_letter & (byte >= ord("0")) & (byte <= ord("9"))
        closed |= at_end & (byte == ord('"'))
        column = np.where(is_letter, column * 26 + byte - ord("A") + 1, column)
        row = np.where(is_digit, row * 10 + byte - ord("0"), row)
        letters += is_letter
        digits += is_digit
    if not closed.all() or (letters > 3).any() or (digits > 7).any() or (digits == 0).any():
        return None
    return row, column


def _attributes(tag: bytes) -> dict[str, str]:
    """A tag's attributes by local name."""
    return {_local(key.decode()): value.decode() for key, _, value in _ATTRIBUTE.findall(tag)}


def _cell_place(attributes: dict[str, str]) -> tuple[int, int] | None:
    """(row, column) from 0 of a cell by its reference ``r``; None without one."""
    reference = _CELL_REFERENCE.fullmatch(attributes.get("r", ""))
    if reference is None:
        return None
    return int(reference[2]) - 1, _column_index(reference[1])


def _column_index(letters: str) -> int:
    """The column index from 0 of spreadsheet column letters (A = 0)."""
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _workbook_parts(archive: zipfile.ZipFile) -> dict | None:
    """The zip member of each worksheet (by name) and of the styles; None when not to be found."""
    workbook_part = "xl/workbook.xml"
    root_rels = ElementTree.fromstring(archive.read("_rels/.rels"))
    for relation in root_rels:
        if relation.get("Type", "").endswith("/officeDocument"):
            workbook_part = relation.get("Target", workbook_part).lstrip("/")
    folder = posixpath.dirname(workbook_part)
    rels_part = posixpath.join(folder, "_rels", posixpath.basename(workbook_part) + ".rels")
    targets, styles = {}, None
    for relation in ElementTree.fromstring(archive.read(rels_part)):
        target = relation.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        targets[relation.get("Id")] = target
        if relation.get("Type", "").endswith("/styles"):
            styles = target
    sheets = {}
    for element in ElementTree.fromstring(archive.read(workbook_part)).iter():
        if _local(element.tag) == "sheet":
            relation_id = next((value for key, value in element.attrib.items() if _local(key) == "id"), None)
            if relation_id not in targets:
                return None
            sheets[element.get("name")] = targets[relation_id]
    return {"sheets": sheets, "styles": styles}


def _zero_padded_styles(styles_xml: bytes) -> dict[int, int]:
    """Cell style index -> width, for the styles whose number format is zero-padded (``00000``)."""
    root = ElementTree.fromstring(styles_xml)
    padded_formats = {
        element.get("numFmtId"): len(element.get("formatCode", ""))
        for element in root.iter()
        if _local(element.tag) == "numFmt" and _ZERO_PADDED.match(element.get("formatCode", ""))
    }
    cell_styles = next((element for element in root.iter() if _local(element.tag) == "cellXfs"), None)
    if cell_styles is None or not padded_formats:
        return {}
    return {
        index: padded_formats[xf.get("numFmtId")]
        for index, xf in enumerate(element for element in cell_styles if _local(element.tag) == "xf")
        if xf.get("numFmtId") in padded_formats and padded_formats[xf.get("numFmtId")] > 1
    }


def _cell_text(cell) -> str:
    """An openpyxl cell's value as text, zero-padded as its number format shows it."""
    value = getattr(cell, "value", None)
    text = _value_text(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and text.isdigit():
        number_format = getattr(cell, "number_format", None) or ""
        if _ZERO_PADDED.match(number_format):
            return _pad(text, len(number_format))
    return text


def _value_text(value) -> str:
    """A cell value as text: whole numbers without ``.0``, dates ISO, booleans true/false."""
    convert = _TEXT_OF_TYPE.get(type(value))
    if convert is not None:
        return convert(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return _bool_text(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return _datetime_text(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _float_text(value: float) -> str:
    """A number as text: whole ones without ``.0``, others with up to 15 significant digits, no exponent."""
    if value.is_integer() and -(2**53) < value < 2**53:
        return str(int(value))
    if not math.isfinite(value):
        return ""
    text = repr(value)  # the shortest text that reads back as the value
    if "e" not in text and len(text.lstrip("-").replace(".", "").lstrip("0")) <= 15:
        return text  # as format_float_positional below gives it, ten times faster
    return np.format_float_positional(value, precision=15, unique=True, fractional=False, trim="-")


def _datetime_text(value: dt.datetime) -> str:
    """``YYYY-MM-DD`` at midnight, else ``YYYY-MM-DD HH:MM:SS`` (wall-clock time, no zone)."""
    if value.tzinfo is None and not (value.hour or value.minute or value.second or value.microsecond):
        return value.date().isoformat()
    return value.replace(tzinfo=None, microsecond=0).isoformat(sep=" ")


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


#: The conversion of each exact type a reader gives (the subclasses take the slower way).
_TEXT_OF_TYPE: dict[type, Callable[[object], str]] = {
    str: str, float: _float_text, int: str, bool: _bool_text, dt.datetime: _datetime_text,
    dt.date: dt.date.isoformat, dt.time: dt.time.isoformat, dt.timedelta: str,
}


def _pad(text: str, width: int) -> str:
    """A whole non-negative number's digits zero-padded to ``width``; any other text unchanged."""
    return text.zfill(width) if text.isdigit() else text


# ---------------------------------------------------------------------------
# column matching
# ---------------------------------------------------------------------------

_UNIT_SUFFIX = re.compile(r"\s*(?:[\(\[][^\)\]]*[\)\]]|(?:in\s+)?(?:eur|euro|€))\s*$")
_SEPARATORS = re.compile(r"[\s_\-./:#]+")


def normalize_header(text) -> str:
    """Return the form of a header used for matching.

    Case-insensitive, trimmed; spaces, ``_``, ``-``, ``.`` and ``/`` ignored;
    ``ä ö ü`` equal ``ae oe ue`` and ``ß`` equals ``ss``; a trailing unit such as
    ``(EUR)``, ``[€]`` or ``in EUR`` is ignored.
    """
    base = unicodedata.normalize("NFKC", str(text)).strip().casefold()
    base = base.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    stripped = _UNIT_SUFFIX.sub("", base)
    if _SEPARATORS.sub("", stripped):
        base = stripped
    return _SEPARATORS.sub("", base)


def resolve_columns(
    columns: Iterable[str],
    spec: Mapping[str, Sequence[str]],
    required: Iterable[str] = (),
) -> tuple[dict[str, str], list[Problem]]:
    """Map canonical column names to the user's headers.

    Parameters
    ----------
    columns : iterable of str
        The headers of the file (``__row__`` is ignored).
    spec : mapping
        Canonical name -> aliases (English and German). The canonical name is
        always accepted as well.
    required : iterable of str
        Canonical names that must be present.

    Returns
    -------
    mapping : dict
        Canonical name -> header found in the file.
    problems : list of Problem
        ``column.missing`` (error) per missing required column,
        ``column.ambiguous`` (warning) when several headers match one name,
        ``column.unused`` (info) per header that matches nothing.
    """
    required = list(required)
    unknown = [name for name in required if name not in spec]
    if unknown:
        raise ValueError(f"Required columns {unknown} are not in the spec; add them to it.")
    lookup: dict[str, str] = {}
    for canonical, aliases in spec.items():
        if isinstance(aliases, str):
            raise ValueError(
                f"Aliases of {canonical!r} must be a list of names, not one string."
            )
        for alias in (canonical, *aliases):
            key = normalize_header(alias)
            other = lookup.setdefault(key, canonical)
            if other != canonical:
                raise ValueError(
                    f"Alias {alias!r} stands for both {other!r} and {canonical!r}; "
                    "make the spec unambiguous."
                )
    found: dict[str, list[str]] = {}
    unused: list[str] = []
    for header in columns:
        if header == ROW_COLUMN:
            continue
        canonical = lookup.get(normalize_header(header))
        if canonical is None:
            unused.append(header)
        else:
            found.setdefault(canonical, []).append(header)
    mapping = {canonical: headers[0] for canonical, headers in found.items()}
    problems: list[Problem] = []
    for canonical in required:
        if canonical not in mapping:
            aliases = ", ".join([canonical, *spec[canonical]])
            problems.append(make_problem("column.missing", name=canonical, aliases=aliases))
    for canonical, headers in found.items():
        if len(headers) > 1:
            problems.append(
                make_problem(
                    "column.ambiguous",
                    severity="warning",
                    headers=", ".join(f"'{h}'" for h in headers),
                    name=canonical,
                )
            )
    for header in unused:
        problems.append(make_problem("column.unused", severity="info", header=header))
    return mapping, problems


def match_columns(
    df: pd.DataFrame,
    spec: Mapping[str, Sequence[str]],
    required: Iterable[str] = (),
) -> tuple[pd.DataFrame, list[Problem]]:
    """Rename the user's columns to canonical names.

    Returns a new frame holding only the matched columns (renamed) and
    ``__row__`` when present, plus the problems of :func:`resolve_columns`.
    """
    mapping, problems = resolve_columns(df.columns, spec, required)
    keep = list(mapping.values())
    if ROW_COLUMN in df.columns:
        keep.append(ROW_COLUMN)
    renamed = df[keep].copy()
    renamed.columns = [*mapping.keys(), *([ROW_COLUMN] if ROW_COLUMN in df.columns else [])]
    return renamed, problems


# ---------------------------------------------------------------------------
# value parsers
# ---------------------------------------------------------------------------


def _no_errors(index: pd.Index) -> pd.Series:
    # from an array: a list of a million Nones costs pandas 60 ms to convert
    return pd.Series(np.full(len(index), None, dtype=object), index=index, dtype=object)


_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})


def _clean(value) -> str:
    """A cell as trimmed text ('' for missing); NBSP and thin spaces as spaces."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    text = value if isinstance(value, str) else str(value)
    if not text.isascii() and ("\u00a0" in text or "\u202f" in text or "\u2009" in text):
        text = text.translate(_SPACES)
    return text.strip()


def _distinct(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes per row and the distinct cleaned texts: parsers run once per distinct value.

    Imports repeat values heavily (periods, dates, master data), so this keeps
    the Python-level work proportional to the distinct values, not the rows.
    """
    codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
    return codes, [_clean(value) for value in uniques]


def _spread(codes: np.ndarray, per_unique: list, index: pd.Index, missing=None) -> pd.Series:
    """Per-row object series from per-distinct-value results (code -1 = missing)."""
    table = np.empty(len(per_unique) + 1, dtype=object)
    table[: len(per_unique)] = per_unique
    table[-1] = missing
    return pd.Series(table[codes], index=index, dtype=object)


def text_values(series: pd.Series) -> pd.Series:
    """Return the cells as trimmed strings, ``""`` for missing ones (object dtype)."""
    codes, texts = _distinct(series)
    return _spread(codes, texts, series.index, missing="")


_AMOUNT = re.compile(
    r"(?P<lead>[+\-\u2212]?)\s*(?:€|eur|euro)?\s*(?P<lead2>[+\-\u2212]?)\s*"
    r"(?P<body>\d(?:[\d.,' ’]*\d)?|[.,]\d+)\s*(?P<trail>-?)\s*(?:€|eur|euro)?",
    re.IGNORECASE,
)
_GROUPS = re.compile(r"(?<=\d)[ '’](?=\d{3}(?!\d))")
_DE_NUMBER = re.compile(r"(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?|,\d+")
_EN_NUMBER = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+")

# kinds of amount text
_EMPTY, _INVALID, _DE_ONLY, _EN_ONLY, _BOTH = range(5)


_SIMPLE_AMOUNT = re.compile(r"(-?)(\d+)(?:([.,])(\d+))?")
_GROUPED_AMOUNT = re.compile(r"(-?)(\d{1,3}([.,])\d{3}(?:\3\d{3})*)([.,])(\d+)")


def _read_amount(text: str) -> tuple[int, float, float, bool]:
    """Kind of one amount text and its value read with a decimal comma / point.

    Returns ``(kind, value with decimal comma, value with decimal point,
    whether the text holds a comma)``.
    """
    if not text:
        return _EMPTY, math.nan, math.nan, False
    simple = _SIMPLE_AMOUNT.fullmatch(text)
    if simple is not None:  # fast path for the usual '-1234', '1234,5', '12.50', '1.234'
        sign, whole, separator, fraction = simple.groups()
        if separator is None:
            value = float(text)
            return _BOTH, value, value, False
        as_decimal = float(f"{sign}{whole}.{fraction}")
        if len(fraction) == 3 and len(whole) <= 3:
            as_thousands = float(f"{sign}{whole}{fraction}")
            if separator == ",":
                return _BOTH, as_decimal, as_thousands, True
            return _BOTH, as_thousands, as_decimal, False
        if separator == ",":
            return _DE_ONLY, as_decimal, math.nan, True
        return _EN_ONLY, math.nan, as_decimal, False
    grouped = _GROUPED_AMOUNT.fullmatch(text)
    if grouped is not None:  # fast path for '1.234,56' and '1,234.56'
        sign, whole, group, decimal, fraction = grouped.groups()
        if group != decimal:
            value = float(f"{sign}{whole.replace(group, '')}.{fraction}")
            if decimal == ",":
                return _DE_ONLY, value, math.nan, True
            return _EN_ONLY, math.nan, value, False
    return _read_amount_full(text)


def _read_amount_full(text: str) -> tuple[int, float, float, bool]:
    """:func:`_read_amount` for every accepted form (currency, groups, signs)."""
    if not text:
        return _EMPTY, math.nan, math.nan, False
    match = _AMOUNT.fullmatch(text)
    if match is None:
        return _INVALID, math.nan, math.nan, False
    lead, lead2, trail = match["lead"], match["lead2"], match["trail"]
    if bool(lead) + bool(lead2) + bool(trail) > 1:
        return _INVALID, math.nan, math.nan, False
    body = match["body"]
    if " " in body or "'" in body or "’" in body:
        body = _GROUPS.sub("", body)
    sign = -1.0 if (lead in ("-", "\u2212") or lead2 in ("-", "\u2212") or trail) else 1.0
    de_value = (
        sign * float(body.replace(".", "").replace(",", ".")) if _DE_NUMBER.fullmatch(body) else math.nan
    )
    en_value = sign * float(body.replace(",", "")) if _EN_NUMBER.fullmatch(body) else math.nan
    de_ok, en_ok = not math.isnan(de_value), not math.isnan(en_value)
    if de_ok and en_ok:
        return _BOTH, de_value, en_value, "," in body
    if de_ok:
        return _DE_ONLY, de_value, en_value, True
    if en_ok:
        return _EN_ONLY, de_value, en_value, False
    return _INVALID, math.nan, math.nan, False


_PLAIN_MAX_CHARS = 24  # longest text :func:`_read_plain_amounts` looks at
_PLAIN_MAX_DIGITS = 15  # a mantissa below 2**53, so float(mantissa) is exact
_POWERS = 10 ** np.arange(_PLAIN_MAX_DIGITS + 1, dtype=np.int64)
_CHUNK = 65536  # rows per block of the character matrix (bounds its memory)
_MINUS, _ZERO = ord("-"), ord("0")
# the kind of each byte in a plain amount
_OTHER, _DIGIT, _COMMA_KIND, _POINT_KIND = range(4)
_CHARACTER_KIND = np.full(256, _OTHER, dtype=np.uint8)
_CHARACTER_KIND[ord("0") : ord("9") + 1] = _DIGIT
_CHARACTER_KIND[ord(",")] = _COMMA_KIND
_CHARACTER_KIND[ord(".")] = _POINT_KIND


def _read_amounts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_read_amount` of every cell: arrays of kind, comma value, point value, comma.

    The plain forms (``-1234``, ``1234,5``, ``1.234``, ``1.234,56``, ``1,234.56``)
    are read by :func:`_read_plain_amounts` with numpy; every other cell (currency
    signs, spaces, trailing minus, errors, non-strings) by :func:`_read_amount`,
    once per distinct value.
    """
    kinds = np.full(len(values), _INVALID, dtype=np.int8)
    de_values = np.full(len(values), np.nan)
    en_values = np.full(len(values), np.nan)
    commas = np.zeros(len(values), dtype=bool)
    rest = np.flatnonzero(~_read_plain_amounts(values, kinds, de_values, en_values, commas))
    if len(rest):
        codes, texts = _distinct(pd.Series(values[rest], dtype=object))
        read = [_read_amount(text) for text in texts] + [(_EMPTY, math.nan, math.nan, False)]
        kinds[rest] = np.array([r[0] for r in read], dtype=np.int8)[codes]
        de_values[rest] = np.array([r[1] for r in read])[codes]
        en_values[rest] = np.array([r[2] for r in read])[codes]
        commas[rest] = np.array([r[3] for r in read], dtype=bool)[codes]
    return kinds, de_values, en_values, commas


def _read_plain_amounts(values, kinds, de_values, en_values, commas) -> np.ndarray:
    """Fill in the cells that are a plain amount; return which ones were.

    A plain amount is an empty string or what :func:`_read_amount`'s two regexes
    take, with at most :data:`_PLAIN_MAX_DIGITS` digits: ``-?\\d+([.,]\\d+)?``, or
    digit groups of three after one to three digits with one separator and a
    fraction after the other one. The texts go into a matrix of character codes
    (one column per cell) where the form is checked and the digits are read as
    one whole number; that mantissa is exact, so ``mantissa / 10**fraction_digits``
    is the correctly rounded value, as ``float(text)``.
    """
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        strings, usable = values, np.ones(len(values), dtype=bool)
    else:
        usable = np.fromiter((type(v) is str for v in values), dtype=bool, count=len(values))
        strings = np.where(usable, values, "")
    lengths = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
    empty = usable & (lengths == 0)
    kinds[empty] = _EMPTY
    candidates = np.flatnonzero(usable & (lengths > 0) & (lengths <= _PLAIN_MAX_CHARS))
    done = empty
    if not len(candidates):
        return done
    # every cell's characters one after the other, a byte each (characters beyond
    # Latin-1 become '?', which no plain amount holds); a cell starts where the
    # lengths before it add up to. The padding keeps a block's matrix inside.
    chars = np.frombuffer(
        "".join(strings).encode("latin-1", "replace") + bytes(_PLAIN_MAX_CHARS), dtype=np.uint8
    )
    starts = np.cumsum(lengths) - lengths
    done[candidates] = _read_plain_cells(chars, starts, lengths, candidates, kinds, de_values, en_values, commas)
    return done


def _read_plain_cells(chars, starts, lengths, candidates, kinds, de_values, en_values, commas) -> np.ndarray:
    """:func:`_read_plain_amounts` of the ``candidates`` (1 to 24 bytes each) in a byte buffer.

    ``chars`` holds the cells' bytes, cell i at ``starts[i]`` with ``lengths[i]``
    bytes, and :data:`_PLAIN_MAX_CHARS` bytes of padding at the end. Returns,
    per candidate, whether it is a plain amount (then its results are filled in).
    """
    plain = np.zeros(len(candidates), dtype=bool)
    for block in range(0, len(candidates), _CHUNK):
        rows = candidates[block : block + _CHUNK]
        plain[block : block + _CHUNK] = _read_plain_block(
            chars, starts[rows], lengths[rows], rows, kinds, de_values, en_values, commas
        )
    return plain


def _read_plain_block(chars, starts, lengths, rows, kinds, de_values, en_values, commas) -> np.ndarray:
    """:func:`_read_plain_amounts` for one block of cells (1 to 24 characters each)."""
    width = int(lengths.max())
    cells = np.arange(len(rows))
    position = np.arange(width)[:, None]
    matrix = chars[starts + position]  # one column per cell: row j holds each cell's j-th character
    negative = matrix[0] == _MINUS
    body_start = negative.astype(np.int64)
    body = (position < lengths) & (position >= body_start)  # the characters after the sign
    character = np.where(body, _CHARACTER_KIND[matrix], _OTHER)
    digit = character == _DIGIT
    separator = (character == _COMMA_KIND) | (character == _POINT_KIND)

    # position by position: the digits as one whole number (exact below 2**53),
    # and where the last separator is
    whole = np.zeros(len(rows))
    last = np.zeros(len(rows), dtype=np.int64)
    for j in range(width):
        whole = np.where(digit[j], whole * 10 + (matrix[j] - _ZERO), whole)
        last[separator[j]] = j
    digit_count = digit.sum(axis=0)
    separator_count = separator.sum(axis=0)
    plain = (
        (digit_count + separator_count == lengths - body_start)  # nothing else after the sign
        & (digit_count <= _PLAIN_MAX_DIGITS)
        & digit[np.minimum(body_start, width - 1), cells]  # starts with a digit
        & digit[lengths - 1, cells]  # ends with a digit
    )
    decimal_comma = (separator_count > 0) & (character[last, cells] == _COMMA_KIND)
    several = np.flatnonzero(plain & (separator_count >= 2))
    plain[separator_count >= 2] = False
    if len(several):
        # grouped: the separators before the last one are the other character,
        # every fourth position back from the last one, after 1 to 3 leading digits
        sub_separator, sub_last = separator[:, several], last[several]
        first = np.argmax(sub_separator, axis=0)
        leading = first - body_start[several]
        like_last = sub_separator & (character[:, several] == character[sub_last, several])
        plain[several] = (
            (like_last.sum(axis=0) == 1)
            & (~sub_separator | ((sub_last - position) % 4 == 0)).all(axis=0)
            & (sub_last - first == 4 * (separator_count[several] - 1))
            & (leading >= 1)
            & (leading <= 3)
        )

    fraction_digits = np.where(separator_count > 0, lengths - 1 - last, 0)
    whole_digits = np.where(separator_count > 0, last - body_start, digit_count)
    # the last separator read as the decimal one (mantissa and power of ten are exact)
    as_decimal = whole / _POWERS[np.minimum(fraction_digits, _PLAIN_MAX_DIGITS)]
    sign = np.where(negative, -1.0, 1.0)
    whole, as_decimal = sign * whole, sign * as_decimal

    # one separator followed by three digits after at most three: ambiguous
    ambiguous = (separator_count == 1) & (fraction_digits == 3) & (whole_digits <= 3)
    no_separator = separator_count == 0
    # read with the other separator as the decimal one: a thousands separator (ambiguous) or wrong
    other = np.where(ambiguous, whole, np.nan)
    de_value = np.where(no_separator, whole, np.where(decimal_comma, as_decimal, other))
    en_value = np.where(no_separator, whole, np.where(decimal_comma, other, as_decimal))
    kind = np.where(no_separator | ambiguous, _BOTH, np.where(decimal_comma, _DE_ONLY, _EN_ONLY))
    target = rows[plain]
    kinds[target] = kind[plain]
    de_values[target] = de_value[plain]
    en_values[target] = en_value[plain]
    commas[target] = decimal_comma[plain]
    return plain


def _decide_decimal(kinds: np.ndarray) -> str | None:
    """The decimal separator of a column from the kind of each of its cells."""
    de_only = int(np.count_nonzero(kinds == _DE_ONLY))
    en_only = int(np.count_nonzero(kinds == _EN_ONLY))
    if de_only == 0 and en_only == 0:
        return None
    return "," if de_only >= en_only else "."


def detect_decimal(series: pd.Series) -> str | None:
    """Return the decimal separator a column of amounts uses: ``","``, ``"."`` or None.

    Counts the cells that can only be read one way (``1.234,5`` or ``12,50``
    for a comma; ``1,234.5`` or ``12.50`` for a point); the majority wins, a
    tie between non-zero counts means comma. None when no cell decides.
    """
    return _decide_decimal(_read_amounts(series.to_numpy(dtype=object))[0])


def parse_amounts(series: pd.Series, decimal: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Parse a column of currency amounts.

    Parameters
    ----------
    series : Series
        Raw cell texts (numbers pass through unchanged).
    decimal : {None, ",", "."}
        Decimal separator; None detects it per column (see the module docstring).

    Returns
    -------
    values : Series of float
        NaN for empty cells and for errors.
    errors : Series of object
        A :data:`MESSAGES` code per row (``value.not_number``,
        ``value.mixed_number_format``) or None.
    """
    if decimal not in (None, ",", "."):
        raise ValueError(f"decimal must be None, ',' or '.', not {decimal!r}.")
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype(float), _no_errors(series.index)
    values, errors = _amount_values(*_read_amounts(series.to_numpy(dtype=object)), decimal)
    return (
        pd.Series(values, index=series.index, dtype=float),
        pd.Series(errors, index=series.index, dtype=object),
    )


def _amount_values(kinds, de_values, en_values, commas, decimal) -> tuple[np.ndarray, np.ndarray]:
    """Values and error codes of a column of amounts from each cell's reading (:func:`_read_amounts`)."""
    if decimal is None:
        decimal = _decide_decimal(kinds)
    errors = np.full(len(kinds), None, dtype=object)
    errors[kinds == _INVALID] = "value.not_number"
    if decimal == ",":
        errors[kinds == _EN_ONLY] = "value.mixed_number_format"
        values = np.where((kinds == _DE_ONLY) | (kinds == _BOTH), de_values, np.nan)
    elif decimal == ".":
        errors[kinds == _DE_ONLY] = "value.mixed_number_format"
        values = np.where((kinds == _EN_ONLY) | (kinds == _BOTH), en_values, np.nan)
    else:
        # no evidence: every valid value is plain or has one separator followed
        # by three digits; that single separator is read as the decimal separator
        values = np.where(commas, de_values, en_values)
    return values, errors


def _scalar(parser, text, **kwargs):
    values, errors = parser(pd.Series([text], dtype=object), **kwargs)
    code = errors.iloc[0]
    if isinstance(code, str):
        return None, format_message(code, value=_short(text))
    value = values.iloc[0]
    if pd.isna(value):
        return None, None
    return value, None


def parse_amount(text, decimal: str | None = None) -> tuple[float | None, str | None]:
    """Parse one amount; return ``(value, None)``, ``(None, None)`` for empty or ``(None, message)``."""
    value, message = _scalar(parse_amounts, text, decimal=decimal)
    return (None if value is None else float(value)), message


def parse_integers(series: pd.Series, decimal: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Parse a column of whole numbers; returns nullable ``Int64`` values and error codes."""
    values, errors = parse_amounts(series, decimal=decimal)
    fractional = values.notna() & (values != np.round(values.fillna(0)))
    errors = errors.where(~fractional, "value.not_integer")
    whole = values.where(~fractional)
    return whole.round().astype("Int64"), errors


_ISO_DATE = re.compile(
    r"(?P<year>\d{4})[-/](?P<month>\d{1,2})[-/](?P<day>\d{1,2})"
    r"(?:[T ](?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_DE_DATE = re.compile(
    r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})"
    r"(?:,?\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?"
)
_SHORT_YEAR = re.compile(r"\d{1,2}\.\d{1,2}\.\d{2}(?:\s.*)?")
_SLASH_DATE = re.compile(r"\d{1,2}/\d{1,2}/\d{2,4}(?:\s.*)?")
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_YEARS = range(1678, 2262)  # what datetime64[ns] can hold


def _read_date(text: str, excel_serials: bool) -> tuple[dt.datetime | None, str | None]:
    """One date text -> (datetime, None), (None, None) for empty or (None, error code)."""
    if not text:
        return None, None
    match = _ISO_DATE.fullmatch(text) or _DE_DATE.fullmatch(text)
    if match is not None:
        try:
            year = int(match["year"])
            if year not in _YEARS:
                return None, "value.not_date"
            return (
                dt.datetime(
                    year,
                    int(match["month"]),
                    int(match["day"]),
                    int(match["hour"] or 0),
                    int(match["minute"] or 0),
                    int(match["second"] or 0),
                ),
                None,
            )
        except ValueError:
            return None, "value.not_date"
    if excel_serials and _SERIAL.fullmatch(text):
        return _EXCEL_EPOCH + dt.timedelta(seconds=round(float(text) * 86400)), None
    if _SLASH_DATE.fullmatch(text):
        return None, "value.ambiguous_date"
    if _SHORT_YEAR.fullmatch(text):
        return None, "value.two_digit_year"
    return None, "value.not_date"


def parse_dates(series: pd.Series, excel_serials: bool = True) -> tuple[pd.Series, pd.Series]:
    """Parse a column of dates or date-times.

    Returns ``datetime64[ns]`` values (NaT for empty cells and errors) and error
    codes (``value.not_date``, ``value.ambiguous_date``, ``value.two_digit_year``).
    See the module docstring for the accepted forms.
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        values = series
        if getattr(series.dt, "tz", None) is not None:
            values = series.dt.tz_localize(None)
        return values.astype("datetime64[ns]"), _no_errors(series.index)
    codes, texts = _distinct(series)
    read = [_read_date(text, excel_serials) for text in texts]
    stamps = pd.DatetimeIndex([value for value, _ in read] + [None]).astype("datetime64[ns]")
    values = pd.Series(stamps.take(codes), index=series.index)
    return values, _spread(codes, [code for _, code in read], series.index)


def parse_date(text, excel_serials: bool = True) -> tuple[pd.Timestamp | None, str | None]:
    """Parse one date; return ``(Timestamp, None)``, ``(None, None)`` for empty or ``(None, message)``."""
    return _scalar(parse_dates, text, excel_serials=excel_serials)


#: Accepted words for yes/no cells (compared case-insensitively, trimmed).
BOOLEAN_WORDS: dict[bool, tuple[str, ...]] = {
    True: ("yes", "y", "ja", "j", "true", "wahr", "1", "x", "✓", "✔"),
    False: ("no", "n", "nein", "false", "falsch", "0"),
}
_BOOLEAN_LOOKUP = {word: flag for flag, words in BOOLEAN_WORDS.items() for word in words}


def _read_boolean(text: str) -> tuple[bool | None, str | None]:
    if not text:
        return None, None
    word = re.sub(r"^([01])\.0*$", r"\1", text.casefold())
    flag = _BOOLEAN_LOOKUP.get(word)
    return (flag, None) if flag is not None else (None, "value.not_boolean")


def parse_booleans(series: pd.Series, blank_is_false: bool = False) -> tuple[pd.Series, pd.Series]:
    """Parse a column of yes/no cells into nullable ``boolean`` values and error codes.

    Words: :data:`BOOLEAN_WORDS`. An empty cell is missing (``<NA>``), or
    ``False`` when ``blank_is_false`` is set (a checklist ticked with ``x``).
    """
    if pd.api.types.is_bool_dtype(series):
        return series.astype("boolean"), _no_errors(series.index)
    codes, texts = _distinct(series)
    read = [_read_boolean(text) for text in texts]
    blank = False if blank_is_false else None
    flags = [blank if (value is None and code is None) else value for value, code in read]
    values = _spread(codes, flags, series.index, missing=blank)
    return values.astype("boolean"), _spread(codes, [code for _, code in read], series.index)


#: Month names accepted in periods (German and English, full and short).
MONTH_NAMES: dict[str, int] = {
    **{name: i for i, name in enumerate(
        ["januar", "februar", "maerz", "april", "mai", "juni", "juli", "august",
         "september", "oktober", "november", "dezember"], start=1)},
    **{name: i for i, name in enumerate(
        ["january", "february", "march", "april", "may", "june", "july", "august",
         "september", "october", "november", "december"], start=1)},
    **{name: i for i, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1)},
    "mrz": 3, "maer": 3, "okt": 10, "dez": 12, "sept": 9, "jaen": 1, "jaenner": 1,
}

_PERIOD_PATTERNS: tuple[tuple[str, re.Pattern], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("month", r"(?P<year>\d{4})\s*[-/.]\s*(?P<month>\d{1,2})"),
        ("month", r"(?P<month>\d{1,2})\s*[-/.]\s*(?P<year>\d{4})"),
        ("month", r"(?P<year>\d{4})(?P<month>\d{2})"),
        ("quarter", r"(?P<year>\d{4})\s*[-/]?\s*q(?P<quarter>[1-4])"),
        ("quarter", r"q(?P<quarter>[1-4])\s*[-/]?\s*(?P<year>\d{4})"),
        ("quarter", r"(?P<quarter>[1-4])\s*\.?\s*(?:q|quartal|quarter)\s*[-/]?\s*(?P<year>\d{4})"),
        ("name", r"(?P<name>[a-z]+)\.?\s*[-/ ]?\s*(?P<year>\d{4})"),
    )
)


def period_kind(period: str) -> str:
    """Return ``"quarter"`` for ``YYYY-Qn`` and ``"month"`` for ``YYYY-MM``."""
    if re.fullmatch(r"\d{4}-Q[1-4]", period):
        return "quarter"
    if re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        return "month"
    raise ValueError(f"{period!r} is not a normalised period; write YYYY-MM or YYYY-Qn.")


def _read_period(text: str, excel_serials: bool) -> tuple[str | None, str | None]:
    if not text:
        return None, None
    lowered = text.casefold().replace("ä", "ae")
    for kind, pattern in _PERIOD_PATTERNS:
        match = pattern.fullmatch(lowered)
        if match is None:
            continue
        year = int(match["year"])
        if kind == "quarter":
            return f"{year:04d}-Q{match['quarter']}", None
        month = MONTH_NAMES.get(match["name"]) if kind == "name" else int(match["month"])
        if month is not None and 1 <= month <= 12:
            return f"{year:04d}-{month:02d}", None
    date, _ = _read_date(text, excel_serials)
    if date is not None:
        return f"{date.year:04d}-{date.month:02d}", None
    return None, "value.not_period"


def parse_periods(series: pd.Series, excel_serials: bool = True) -> tuple[pd.Series, pd.Series]:
    """Parse a column of periods into ``YYYY-MM`` / ``YYYY-Qn`` strings and error codes.

    A date stands for its month. Error code: ``value.not_period``.
    """
    codes, texts = _distinct(series)
    read = [_read_period(text, excel_serials) for text in texts]
    return (
        _spread(codes, [value for value, _ in read], series.index),
        _spread(codes, [code for _, code in read], series.index),
    )


def parse_period(text) -> tuple[str | None, str | None]:
    """Parse one period; return ``(period, None)``, ``(None, None)`` for empty or ``(None, message)``."""
    return _scalar(parse_periods, text)
