"""What every import's preview shows before anything is written: which of the user's columns
was read as which of our fields, and the first rows as read, in the user's number and date format."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
from flask_babel import gettext

from app.web.i18n import fmt_date, fmt_number

#: Rows shown as read.
FIRST_ROWS = 5


@dataclass
class ImportPreview:
    """The column mapping (your header → our field) and the first rows as read, formatted."""

    mapping: list[tuple[str, str]] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)


def _cell(value, kind: str) -> str:
    """One value as the user reads it: amounts with two decimals, counts without, dates as dates."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "–"
    if kind in ("amount", "number") and isinstance(value, str):
        return value
    if kind == "amount":
        return fmt_number(float(value), 2)
    if kind == "number":
        number = float(value)
        return fmt_number(number, 0 if number.is_integer() else 2)
    if kind == "yes_no":
        return gettext("yes") if bool(value) else gettext("no")
    if kind == "date":
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
        if isinstance(value, dt.datetime) and value.time() == dt.time(0):
            value = value.date()
        return fmt_date(value)
    return str(value)


def build_preview(mapping: dict[str, str], rows: pd.DataFrame | list[dict], fields: list[tuple[str, str]],
                  row_column: str | None = None, always: tuple[str, ...] = ()) -> ImportPreview:
    """The preview of an import.

    ``mapping`` is our field → the user's header (as ``tabular.resolve_columns``
    gives it), ``rows`` the parsed rows (a frame or dicts), ``fields`` the
    (field, kind) pairs to show, kind one of amount, number, date, text;
    ``row_column`` the column holding each row's spreadsheet row number;
    a field is shown when the file has its column or it is in ``always``.
    """
    records = rows.head(FIRST_ROWS).to_dict("records") if isinstance(rows, pd.DataFrame) else list(rows)[:FIRST_ROWS]
    shown = [(name, kind) for name, kind in fields if name in mapping or name in always]
    return ImportPreview(
        mapping=[(header, name) for name, header in mapping.items() if name != row_column and header != row_column],
        fields=[name for name, _kind in shown],
        rows=[[_cell(record.get(name), kind) for name, kind in shown] for record in records],
        row_numbers=[int(record[row_column]) for record in records] if row_column else [],
    )
