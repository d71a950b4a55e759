"""Spreadsheet exports in the user's language: the segmentation run's results and the customer list.

CSV: UTF-8 with BOM; German with ``;`` and a decimal comma, English with ``,``
and a decimal point; column titles and class labels in the language ("Cash-Cows",
"ja"/"nein"), numbers without thousands separators so spreadsheets read them as
numbers. XLSX: typed cells with number and date formats, column widths, a frozen
header row and an autofilter. Text cells pass :func:`tabular.safe_cell` in both,
so a customer name that starts like a formula stays text. The JSON export (for
programs) keeps the codes and is made elsewhere.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.extensions import db
from app.segments.kinds import class_label
from app.segments.runs import export_chunks, export_frame
from tabular import CSV_LINE_TERMINATOR, safe_cell

__all__ = ["Column", "CSV_MIMETYPE", "JSON_MIMETYPE", "XLSX_MIMETYPE", "RUN_COLUMNS", "run_csv", "run_export",
           "table_bytes"]

CSV_MIMETYPE = "text/csv; charset=utf-8"
JSON_MIMETYPE = "application/json"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel number formats are stored independent of the language; Excel and LibreOffice show
# them with the reader's separators. Dates are written the way the language writes them.
NUMBER_FORMATS = {"integer": "#,##0", "money": "#,##0.00", "number": "#,##0.00", "share": "0.0%",
                  "decimal": "0.000000"}
DATE_FORMATS = {"de": "DD.MM.YYYY", "en": "YYYY-MM-DD"}
SEPARATORS = {"de": (";", ","), "en": (",", ".")}
XLSX_MAX_ROWS = 1_048_575  # Excel's limit below the header
# A run's or a list's spreadsheet above this many customers is written by a background job.
XLSX_DIRECT_CUSTOMERS = 20_000


@dataclass(frozen=True)
class Column:
    """One exported column: its code (the frame's column), its title and how its cells are written.

    ``kind``: text, integer, money, number, share, decimal, date, yes_no, or ``label:<kind>``
    for a class key shown by its label (``label:potential_segment``).
    """

    code: str
    title: object  # a lazy text, translated at export time
    kind: str = "text"


RUN_COLUMNS = (
    Column("customer_id", _l("Customer no.")),
    Column("name", _l("Name")),
    Column("abc_class", _l("ABC class")),
    Column("potential_segment", _l("Potential segment"), "label:potential_segment"),
    Column("profit_tier", _l("Profit tier")),
    Column("trajectory", _l("Trajectory"), "label:trajectory"),
    Column("burr", _l("Burr (Klette)"), "yes_no"),
    Column("revenue", _l("Revenue (€)"), "money"),
    Column("rank", _l("Rank by revenue"), "integer"),
    Column("cum_share_before", _l("Revenue share of the customers before"), "share"),
    Column("untapped", _l("Untapped potential"), "number"),
    Column("potential_rating", _l("Potential rating (1–5)"), "integer"),
    Column("contribution", _l("Contribution margin (€)"), "money"),
    Column("margin", _l("Margin"), "share"),
    Column("tier_cum_share_before", _l("Contribution share of the customers before"), "share"),
    Column("n_periods", _l("Periods with values"), "integer"),
    Column("slope", _l("Trend slope (per period)"), "number"),
    Column("slope_rel", _l("Trend per year (relative)"), "share"),
    Column("p_value", _l("p-value of the trend"), "decimal"),
    Column("peak_index", _l("Peak period (index)"), "integer"),
    Column("seasonal_acf", _l("Correlation with one year earlier"), "decimal"),
    Column("trajectory_reason", _l("Reason for the trajectory"), "label:trajectory_reason"),
    Column("tenure_years", _l("Customer for (years)"), "number"),
)


def _text(message, language: str) -> str:
    """A (lazy) text in ``language``, in a request or on the command line alike."""
    with force_locale(language):
        return str(message)


def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _yes_no(language: str) -> tuple[str, str]:
    return _text(_l("yes"), language), _text(_l("no"), language)


def _cells(frame: pd.DataFrame, columns, language: str, words: tuple[str, str] | None = None) -> list[list]:
    """The frame's rows as Python values: labels for class keys, yes/no words, None for missing values."""
    yes, no = words or _yes_no(language)
    out = []
    for column in columns:
        values = frame[column.code].astype(object).tolist() if column.code in frame else [None] * len(frame)
        if column.kind.startswith("label:"):
            kind = column.kind.split(":", 1)[1]
            values = [None if _missing(v) else class_label(kind, v, language) for v in values]
        elif column.kind == "yes_no":
            values = [None if _missing(v) else (yes if bool(v) else no) for v in values]
        elif column.kind == "integer":
            values = [None if _missing(v) else int(v) for v in values]
        elif column.kind in NUMBER_FORMATS:
            values = [None if _missing(v) or not math.isfinite(float(v)) else float(v) for v in values]
        elif column.kind == "date":
            values = [None if _missing(v) else pd.Timestamp(v).date() for v in values]
        else:
            values = [None if _missing(v) else safe_cell(str(v)) for v in values]
        out.append(values)
    return [list(row) for row in zip(*out)] if out else []


def _csv_value(value, decimal: str, language: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = repr(round(value, 10))
        if "e" in text:  # tiny or huge values: written out, not as 1e-07
            text = f"{value:.10f}".rstrip("0").rstrip(".")
        if text.endswith(".0"):
            text = text[:-2]
        return text.replace(".", decimal)
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y" if language == "de" else "%Y-%m-%d")
    return str(value)


def _csv_header(columns, language: str) -> bytes:
    """The BOM and the title row."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=SEPARATORS[language][0], lineterminator=CSV_LINE_TERMINATOR).writerow(
        [safe_cell(_text(column.title, language)) for column in columns])
    return buffer.getvalue().encode("utf-8-sig")


def _csv_rows(frame: pd.DataFrame, columns, language: str, words: tuple[str, str]) -> bytes:
    separator, decimal = SEPARATORS[language]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator=CSV_LINE_TERMINATOR)
    for row in _cells(frame, columns, language, words):
        writer.writerow([_csv_value(value, decimal, language) for value in row])
    return buffer.getvalue().encode("utf-8")


def csv_chunks(frames: Iterable[pd.DataFrame], columns, language: str) -> Iterator[bytes]:
    """A CSV file in pieces: the BOM and the header row, then the rows of each frame in turn."""
    words = _yes_no(language)
    yield _csv_header(columns, language)
    for frame in frames:
        yield _csv_rows(frame, columns, language, words)


def _csv(frame: pd.DataFrame, columns, language: str) -> bytes:
    return b"".join(csv_chunks([frame], columns, language))


def _width(title: str, values: list) -> float:
    longest = max([len(title)] + [len(str(v)) for v in values[:1000] if v is not None])
    return min(max(longest + 2, 8), 60)


def _xlsx(frame: pd.DataFrame, columns, language: str, sheet: str) -> bytes:
    buffer = io.BytesIO()
    kept = frame.iloc[:XLSX_MAX_ROWS]
    write_xlsx([kept], columns, language, sheet, buffer, len(kept))
    return buffer.getvalue()


def write_xlsx(frames: Iterable[pd.DataFrame], columns, language: str, sheet: str, target, total: int,
               progress: Callable[[int], None] | None = None) -> int:
    """The frames' ``columns`` as one XLSX sheet in ``language``, written to the file object
    ``target`` with openpyxl's write-only mode: one frame's rows in memory at a time.

    ``total`` is the number of rows the frames hold (the filter's range needs it before the
    first row); rows beyond Excel's limit are left out. ``progress(rows written)`` is called
    after each frame. Returns the number of rows written."""
    book = Workbook(write_only=True)
    sheet_ = book.create_sheet(sheet)
    titles = [_text(column.title, language) for column in columns]
    formats = [DATE_FORMATS[language] if column.kind == "date" else NUMBER_FORMATS.get(column.kind)
               for column in columns]
    written, started = 0, False
    for frame in frames:
        rows = _cells(frame.iloc[:max(0, XLSX_MAX_ROWS - written)], columns, language)
        if not started:  # widths, panes and filter go before the first row in write-only mode
            _xlsx_head(sheet_, columns, titles, rows, min(total, XLSX_MAX_ROWS))
            started = True
        for row in rows:
            cells = []
            for value, number_format in zip(row, formats):
                if number_format is None or value is None:
                    cells.append(value)
                else:
                    cell = WriteOnlyCell(sheet_, value=value)
                    cell.number_format = number_format
                    cells.append(cell)
            sheet_.append(cells)
        written += len(rows)
        if progress is not None:
            progress(written)
    if not started:
        _xlsx_head(sheet_, columns, titles, [], 0)
    book.save(target)
    return written


def _xlsx_head(sheet_, columns, titles: list[str], rows: list[list], total: int) -> None:
    for number, (column, title) in enumerate(zip(columns, titles), start=1):
        sample = [row[number - 1] for row in rows[:1000]]
        if column.kind in NUMBER_FORMATS or column.kind in ("integer", "date"):
            sample = [f"{v:,.2f}" if isinstance(v, float) else v for v in sample]
        sheet_.column_dimensions[get_column_letter(number)].width = _width(title, sample)
    sheet_.freeze_panes = "A2"
    last = get_column_letter(max(len(columns), 1))
    sheet_.auto_filter.ref = f"A1:{last}{total + 1}"
    bold = Font(bold=True)
    header = []
    for title in titles:
        cell = WriteOnlyCell(sheet_, value=safe_cell(title))
        cell.font = bold
        header.append(cell)
    sheet_.append(header)


def table_bytes(frame: pd.DataFrame, columns, fmt: str, language: str, sheet: str = "export") -> tuple[bytes, str]:
    """The frame's ``columns`` as a CSV or XLSX file in ``language`` (de or en) and its MIME type."""
    language = language if language in SEPARATORS else "en"
    if fmt == "csv":
        return _csv(frame, columns, language), CSV_MIMETYPE
    if fmt == "xlsx":
        return _xlsx(frame, columns, language, sheet), XLSX_MIMETYPE
    raise ValueError(f"unknown format {fmt!r}; use csv or xlsx")


def run_export(run_id: int, fmt: str, language: str) -> tuple[bytes, str]:
    """A run's per-customer results as CSV or XLSX in ``language``, or as JSON with the codes (for programs)."""
    frame = export_frame(run_id)
    if fmt == "json":  # data for programs, not a spreadsheet: codes and exact texts
        return frame.to_json(orient="records", force_ascii=False, indent=1).encode(), JSON_MIMETYPE
    return table_bytes(frame, RUN_COLUMNS, fmt, language, sheet="segments")


def run_xlsx(run_id: int, language: str, target, total: int, progress: Callable[[int], None] | None = None) -> int:
    """A run's per-customer results as XLSX in ``language`` (the same sheet as :func:`run_export`'s),
    written to ``target`` ten thousand customers at a time; ``total``: the run's customers."""
    language = language if language in SEPARATORS else "en"
    return write_xlsx(export_chunks(run_id), RUN_COLUMNS, language, "segments", target, total, progress)


def run_csv(run_id: int, language: str) -> Iterator[bytes]:
    """A run's per-customer results as CSV in ``language``, streamed: the same bytes as
    :func:`run_export`'s CSV, read and written ten thousand customers at a time."""
    return streamed_csv(lambda: export_chunks(run_id), RUN_COLUMNS, language)


def streamed_csv(frames: Callable[[], Iterable[pd.DataFrame]], columns, language: str) -> Iterator[bytes]:
    """A CSV file in ``language`` of the frames ``frames()`` gives, streamed: the same bytes as
    :func:`table_bytes` of them all.

    The texts are translated now, in the request; the rows are read while the response is
    sent, in an application context of their own (nothing is opened for a response that is
    never read)."""
    language = language if language in SEPARATORS else "en"
    header, words = _csv_header(columns, language), _yes_no(language)
    app = current_app._get_current_object()

    def body() -> Iterator[bytes]:
        yield header
        with app.app_context():
            for frame in frames():
                yield _csv_rows(frame, columns, language, words)

    return body()


def statement_chunks(statement, names: list[str], rows: int = 10_000) -> Iterator[pd.DataFrame]:
    """The rows of a SELECT as frames of ``rows`` rows with columns ``names``, read through a
    server-side cursor (a million rows never sit in memory at once)."""
    if db.session.get_bind().dialect.name == "postgresql":
        # a cursor is planned for its first rows by default; every row is read here
        db.session.execute(sa.text("SET LOCAL cursor_tuple_fraction = 1.0"))
    result = db.session.execute(statement.execution_options(yield_per=rows))
    for partition in result.partitions():
        yield pd.DataFrame(partition, columns=names)
