"""The import problems of ``tabular`` in the user's language (by message code).

The package returns every problem with its code and parameters besides the
English text. Here each code has its English template as a gettext message id
(``%(name)s`` placeholders; the German text is in the shell's catalog), so the
import pages show the problem in the UI language and fall back to the
package's English message for a code they do not know.
"""
from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from tabular import Problem, format_message

#: Message code -> its English template as a gettext message id; each is
#: ``tabular.MESSAGES[code]`` with ``%(name)s`` for ``{name}``. The mixed-periods
#: message names the kind of period left out, so it has one text per kind.
MESSAGE_IDS = {
    "location.row_column": _l("Row %(row)s, column %(column)s: %(message)s"),
    "location.row": _l("Row %(row)s: %(message)s"),
    "location.column": _l("Column %(column)s: %(message)s"),
    "file.empty": _l("The file is empty."),
    "file.too_large": _l("The file has %(size_mb)s MB; the limit is %(limit_mb)s MB."),
    "file.unknown_type": _l("Files of type '%(extension)s' cannot be read; save the table as .csv or .xlsx."),
    "file.legacy_xls": _l("This is an old Excel file (.xls); save it as .xlsx or .csv and upload it again."),
    "file.binary": _l(
        "The file does not contain a text table (it holds binary data); save the table as .csv or .xlsx."
    ),
    "file.xlsx_named_csv": _l("The file is an Excel workbook with a .csv name; rename it to .xlsx or save it as CSV."),
    "file.not_decodable": _l("The file's text encoding is not readable; save it as CSV UTF-8."),
    "file.malformed_csv": _l("The CSV file cannot be read: %(detail)s."),
    "file.mixed_encoding": _l(
        "The file mixes two text encodings, UTF-8 and Windows-1252: row %(row)s is the first in %(encoding)s, "
        "the rarer one here. Save the whole file as CSV UTF-8 and upload it again."
    ),
    "xlsx.invalid": _l("The file is not a valid Excel workbook (.xlsx)."),
    "xlsx.too_many_members": _l("The workbook has %(count)s parts, more than the limit of %(limit)s; it is refused."),
    "xlsx.too_large": _l("The workbook unpacks to %(size_mb)s MB, more than the limit of %(limit_mb)s MB."),
    "xlsx.ratio": _l(
        "The workbook is compressed suspiciously strongly (%(ratio)s:1, limit %(limit)s:1) and is refused as "
        "a possible zip bomb."
    ),
    "xlsx.doctype": _l(
        "The workbook contains an XML document type declaration, which Excel never writes; it is refused as a "
        "possible attack (XML entity expansion)."
    ),
    "xlsx.sheet_not_found": _l("The workbook has no sheet '%(sheet)s' (sheets: %(sheets)s)."),
    "xlsx.no_sheet": _l("The workbook has no worksheet."),
    "table.no_header": _l("The first row holds no column names."),
    "table.header_is_data": _l("The first row looks like data, not column names; add a header row."),
    "table.no_rows": _l("The file has column names but no data rows."),
    "table.too_many_rows": _l("The file has more than %(limit)s data rows."),
    "table.too_many_columns": _l(
        "The file has %(count)s columns, more than the limit of %(limit)s; check the delimiter, "
        "or remove the columns that are not needed."
    ),
    "table.too_many_values": _l(
        "Row %(row)s has %(count)s values but the header has %(columns)s columns; check the delimiter, or put "
        "values that contain it in quotes."
    ),
    "column.missing": _l("Required column '%(name)s' is missing (accepted names: %(aliases)s)."),
    "column.ambiguous": _l("Columns %(headers)s all stand for '%(name)s'; the first one is used."),
    "column.unused": _l("Column '%(header)s' is not used."),
    "value.missing": _l("value is missing"),
    "value.not_number": _l("'%(value)s' is not a number"),
    "value.mixed_number_format": _l(
        "'%(value)s' is written differently from the other numbers in this column (decimal comma vs. decimal "
        "point)"
    ),
    "value.not_integer": _l("'%(value)s' is not a whole number"),
    "value.not_date": _l("'%(value)s' is not a date (write YYYY-MM-DD or DD.MM.YYYY)"),
    "value.ambiguous_date": _l("'%(value)s' is ambiguous (day or month first?); write YYYY-MM-DD or DD.MM.YYYY"),
    "value.two_digit_year": _l("'%(value)s' has a two-digit year; write the year with four digits"),
    "value.not_boolean": _l("'%(value)s' is not yes/no (ja/nein, 1/0, x)"),
    "value.not_period": _l("'%(value)s' is not a period (write 2024-03, 2024-Q1 or a date)"),
    "customer_values.missing_id": _l("the customer id is missing"),
    "customer_values.duplicate": _l(
        "customer %(customer_id)s appears twice for period %(period)s (rows %(first_row)s and %(second_row)s)"
    ),
    "customer_values.negative_revenue": _l("revenue %(value)s is negative; negative revenue is not allowed"),
    "customer_values.rating_range": _l("rating %(value)s is outside 1–5"),
    "customer_values.conflicting_master": _l(
        "customer %(customer_id)s has different values for %(field)s: %(values)s; the value of row "
        "%(first_row)s is used"
    ),
    "customer_values.mixed_periods:quarter": _l(
        "months and quarters are mixed (months: %(months)s, quarters: %(quarters)s rows); the quarter rows "
        "are left out, use one kind of period per file"
    ),
    "customer_values.mixed_periods:month": _l(
        "months and quarters are mixed (months: %(months)s, quarters: %(quarters)s rows); the month rows are "
        "left out, use one kind of period per file"
    ),
    "customer_values.duplicate_period_column": _l(
        "Columns %(headers)s stand for the same period %(period)s; only the first is used."
    ),
    "customer_values.no_values": _l("No period columns were found (e.g. 2024-01, 2024-Q1)."),
    "customer_values.potential_below_revenue": _l(
        "customer %(customer_id)s: the potential a year (%(potential)s, period %(period)s) is below the customer's "
        "own revenue in the year up to that period (%(revenue)s); check the potential"
    ),
    "customer_numbers.zeros": _l(
        "customer numbers matched to known customers after adding the leading zeros the spreadsheet dropped: "
        "%(count)s (e.g. %(examples)s)"
    ),
    "customer_numbers.spaces": _l(
        "customer numbers matched to known customers after removing stray spaces: %(count)s (e.g. %(examples)s)"
    ),
    "problems.truncated": _l("%(count)s more problems are not listed."),
    "customer_values.formula_name": _l("'%(value)s' looks like a spreadsheet formula; enter the name as plain text"),
    "customer_values.too_long": _l("too long (%(length)s characters; at most %(max)s fit)"),
}

_NO_PLACE = {"table.too_many_values"}  # its text is about the row itself


def _template(problem: Problem):
    """The gettext message of a problem's code, or None for a code this module does not know."""
    if problem.code == "customer_values.mixed_periods":
        return MESSAGE_IDS.get(f"{problem.code}:{problem.params.get('dropped_kind')}")
    return MESSAGE_IDS.get(problem.code)


def _reason(problem: Problem) -> str | None:
    """The problem's own text in the current language, without its place; None when unknown."""
    template = _template(problem)
    if template is None:
        return None
    try:
        return str(template) % problem.params
    except (KeyError, TypeError, ValueError):
        return None


def problem_text(problem: Problem, lang: str) -> str:
    """The problem's message in ``lang`` (by code; else the package's English), with its row and column."""
    with force_locale(lang):
        text = _reason(problem)
        if text is None:
            return problem.message
        if problem.code in _NO_PLACE:
            return text
        place = {"row": problem.row, "column": problem.column, "message": text}
        if problem.row is not None and problem.column is not None:
            return str(MESSAGE_IDS["location.row_column"]) % place
        if problem.row is not None:
            return str(MESSAGE_IDS["location.row"]) % place
        if problem.column is not None:
            return str(MESSAGE_IDS["location.column"]) % place
        return text


def reason_text(problem: Problem, lang: str) -> str:
    """The reason alone, for a table that shows the problem's row and column beside it."""
    if problem.code in _NO_PLACE:
        return problem_text(problem, lang)
    with force_locale(lang):
        text = _reason(problem)
    if text is not None:
        return text
    # an English text composed elsewhere: drop the place it starts with, as make_problem writes it
    if problem.row is not None and problem.column is not None:
        start = format_message("location.row_column", row=problem.row, column=problem.column, message="")
    elif problem.row is not None:
        start = format_message("location.row", row=problem.row, message="")
    elif problem.column is not None:
        start = format_message("location.column", column=problem.column, message="")
    else:
        start = ""
    message = problem.message
    return message[len(start):] if start and message.startswith(start) else message
