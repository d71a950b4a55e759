"""Import of customer values (DOMAIN.md §6): check → preview → confirmed write.

The parsing and validation is the pure ``segmentation`` package; this module
adds what needs the database:

* the preview: how many customers are new or already known, how many values
  are new, changed or unchanged (computed in SQL against a staging table);
* the write: one transaction, upsert by customer number and by customer +
  period, so importing the same file twice changes nothing and a later file
  with new periods adds them. Rows go into a temporary staging table first
  (PostgreSQL: binary ``COPY``; SQLite: multi-row ``INSERT``), then two set-based
  ``INSERT … SELECT … ON CONFLICT DO UPDATE`` statements move them.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import sqlalchemy as sa

from app.bulk import insert_frame
from app.customer_series import merge_import
from app.extensions import db
from app.models.core import utcnow
from segmentation.customer_values import CUSTOMER_VALUE_COLUMNS, parse_customer_values
from segmentation.tabular import (
    ROW_COLUMN,
    Problem,
    TableError,
    has_errors,
    make_problem,
    read_table,
    resolve_columns,
)

STAGING = "staging_customer_values"
VALUE_FIELDS = ("revenue", "cost_to_serve", "contribution", "potential", "potential_rating")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class ImportCheck:
    """Everything the preview page shows about one uploaded file."""

    filename: str
    sha256: str
    problems: list[Problem] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    frame: pd.DataFrame | None = None
    preview: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing stops the import (warnings may remain)."""
        return self.frame is not None and not has_errors(self.problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def notes(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]


def parse_upload(data: bytes, filename: str, sheet: str | None = None) -> ImportCheck:
    """Read and validate a file; never raises for bad input (problems instead)."""
    check = ImportCheck(filename=filename, sha256=hashlib.sha256(data).hexdigest())
    try:
        raw = read_table(data, filename, sheet=sheet or None)
    except TableError as error:
        check.problems = [Problem(None, None, error.message, code=error.code, params=error.params)]
        return check
    parsed = parse_customer_values(raw)
    check.problems = list(parsed.problems) + _formula_names(raw, parsed.frame)
    check.summary = dict(parsed.summary)
    check.frame = parsed.frame
    if check.frame is not None and check.frame.empty and not has_errors(check.problems):
        check.problems.append(make_problem("table.no_rows"))
    return check


def _formula_names(raw: pd.DataFrame, frame: pd.DataFrame) -> list[Problem]:
    """A name cell that starts like a spreadsheet formula is refused, by row.

    Exports neutralise such cells anyway; refusing them at the door keeps a
    pasted ``=HYPERLINK(…)`` out of the customer master altogether.
    """
    mapping, _ = resolve_columns(raw.columns, CUSTOMER_VALUE_COLUMNS)
    header = mapping.get("name")
    if header is None:
        return []
    # each distinct name is looked at once (a customer's name repeats on all its rows);
    # the last entry is for code -1, a missing cell
    codes, names = pd.factorize(raw[header])
    texts = (str(name).lstrip(" ") for name in names)
    formula = np.array([len(t) > 1 and t.startswith(_FORMULA_START) for t in texts] + [False], dtype=bool)
    bad = np.flatnonzero(formula[codes])[:100]
    return [
        Problem(int(row), header,
                f"Row {int(row)}, column {header}: '{value[:40]}' looks like a spreadsheet formula; "
                "enter the name as plain text",
                code="customer_values.formula_name", params={"value": value[:40]})
        for row, value in zip(raw[ROW_COLUMN].to_numpy()[bad], raw[header].to_numpy()[bad])
    ]


def check_upload(data: bytes, filename: str, sheet: str | None = None) -> ImportCheck:
    """Parse, validate and (when clean) compare with the database for the preview."""
    check = parse_upload(data, filename, sheet)
    if check.ok:
        try:
            stage_rows(check.frame)
            check.preview = staged_changes()
        finally:
            db.session.rollback()  # the staging table goes with the transaction
        check.preview["previous_import"] = previous_import(check.sha256)
    return check


def previous_import(sha256: str):
    """The latest earlier import of exactly these bytes, if any."""
    from app.models import ImportLog

    return db.session.scalar(
        sa.select(ImportLog).where(ImportLog.sha256 == sha256).order_by(ImportLog.id.desc()).limit(1)
    )


# --- staging -----------------------------------------------------------------

_COLUMNS = ("customer_no", "name", "customer_since", "period", *VALUE_FIELDS)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _distinct(a: str, b: str) -> str:
    """Null-safe "differs" in the current dialect."""
    return f"({a} IS DISTINCT FROM {b})" if _dialect() == "postgresql" else f"({a} IS NOT {b})"


def _staging_frame(frame: pd.DataFrame, dialect: str) -> pd.DataFrame:
    """The staging rows; customer_since as a date for PostgreSQL, as ISO text for SQLite."""
    # few distinct dates: each is converted once (None for a missing one)
    days, uniques = pd.factorize(pd.to_datetime(frame["customer_since"]))
    dates = uniques.date if dialect == "postgresql" else uniques.strftime("%Y-%m-%d")
    since = np.array([*dates, None], dtype=object)[days]
    out = pd.DataFrame({
        "customer_no": frame["customer_id"].astype(str),
        "name": frame["name"].astype(object),
        "customer_since": pd.Series(since, index=frame.index),
        "period": frame["period"].astype(str),
    })
    for name in VALUE_FIELDS:
        out[name] = frame[name]
    return out


def stage_rows(frame: pd.DataFrame) -> int:
    """Put the parsed rows into a temporary table of this transaction."""
    connection = db.session.connection()
    dialect = _dialect()
    if dialect == "postgresql":
        connection.exec_driver_sql(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGING} (customer_no text, name text, customer_since date, "
            "period text, revenue double precision, cost_to_serve double precision, "
            "contribution double precision, potential double precision, potential_rating smallint) "
            "ON COMMIT DROP"
        )
        connection.exec_driver_sql(f"TRUNCATE {STAGING}")
    else:
        connection.exec_driver_sql(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGING} (customer_no TEXT, name TEXT, customer_since TEXT, "
            "period TEXT, revenue REAL, cost_to_serve REAL, contribution REAL, potential REAL, "
            "potential_rating INTEGER)"
        )
        connection.exec_driver_sql(f"DELETE FROM {STAGING}")
    staged = _staging_frame(frame, dialect)
    insert_frame(STAGING, staged, _COLUMNS)
    return len(staged)


def staged_changes() -> dict:
    """Counts of what writing the staged rows would change."""
    connection = db.session.connection()
    differs = " OR ".join(_distinct(f"v.{f}", f"s.{f}") for f in VALUE_FIELDS)
    totals = connection.exec_driver_sql(
        f"SELECT COUNT(*), COUNT(DISTINCT customer_no), COUNT(DISTINCT period), SUM(revenue), "
        f"MIN(period), MAX(period) FROM {STAGING}"
    ).one()
    customers_known = connection.exec_driver_sql(
        f"SELECT COUNT(*) FROM (SELECT DISTINCT customer_no FROM {STAGING}) s "
        "JOIN customers c ON c.customer_no = s.customer_no"
    ).scalar_one()
    values = connection.exec_driver_sql(
        f"SELECT COUNT(v.id), SUM(CASE WHEN v.id IS NOT NULL AND ({differs}) THEN 1 ELSE 0 END) "
        f"FROM {STAGING} s JOIN customers c ON c.customer_no = s.customer_no "
        "LEFT JOIN customer_values v ON v.customer_id = c.id AND v.period = s.period"
    ).one()
    existing_values, changed = int(values[0] or 0), int(values[1] or 0)
    rows = int(totals[0] or 0)
    return {
        "rows": rows,
        "customers": int(totals[1] or 0),
        "periods": int(totals[2] or 0),
        "total_revenue": float(totals[3] or 0.0),
        "first_period": totals[4],
        "last_period": totals[5],
        "customers_new": int(totals[1] or 0) - int(customers_known or 0),
        "customers_known": int(customers_known or 0),
        "values_new": rows - existing_values,
        "values_changed": changed,
        "values_unchanged": existing_values - changed,
    }


def write_staged() -> None:
    """Move the staged rows into customers and customer_values (upsert, no-op when equal)."""
    connection = db.session.connection()
    now = utcnow()
    name_differs = _distinct("customers.name", "excluded.name")
    since_differs = _distinct("customers.customer_since", "COALESCE(excluded.customer_since, customers.customer_since)")
    since = "CAST(MAX(customer_since) AS DATE)" if _dialect() == "postgresql" else "MAX(customer_since)"
    connection.execute(sa.text(
        f"INSERT INTO customers (customer_no, name, customer_since, created_at) "
        f"SELECT customer_no, COALESCE(MAX(name), ''), {since}, :now FROM {STAGING} WHERE 1 = 1 GROUP BY customer_no "
        "ON CONFLICT (customer_no) DO UPDATE SET "
        "name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE customers.name END, "
        "customer_since = COALESCE(excluded.customer_since, customers.customer_since) "
        f"WHERE (excluded.name <> '' AND {name_differs}) OR {since_differs}"
    ), {"now": now if _dialect() == "postgresql" else str(now)})
    differs = " OR ".join(_distinct(f"customer_values.{f}", f"excluded.{f}") for f in VALUE_FIELDS)
    updates = ", ".join(f"{f} = excluded.{f}" for f in VALUE_FIELDS)
    connection.exec_driver_sql(
        f"INSERT INTO customer_values (customer_id, period, {', '.join(VALUE_FIELDS)}) "
        f"SELECT c.id, s.period, {', '.join('s.' + f for f in VALUE_FIELDS)} FROM {STAGING} s "
        "JOIN customers c ON c.customer_no = s.customer_no WHERE 1 = 1 "
        f"ON CONFLICT (customer_id, period) DO UPDATE SET {updates} WHERE {differs}"
    )
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGING}")


def import_customer_values(
    check: ImportCheck,
    user_id: int | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> dict:
    """Write a clean check in one transaction and log it; returns the counts.

    The caller's session is committed here: the import is all or nothing.
    """
    from app.models import ImportLog

    if not check.ok:
        raise ValueError("the file has problems; fix them before importing")
    progress = progress or (lambda fraction, message: None)
    try:
        progress(0.1, "Staging rows")
        stage_rows(check.frame)
        progress(0.4, "Comparing with the database")
        changes = staged_changes()
        progress(0.6, "Writing customers and values")
        write_staged()
        if changes["values_new"] or changes["values_changed"]:
            progress(0.85, "Updating the segmentation data")
            merge_import(db.session.connection(), check.frame)
        log = ImportLog(
            filename=check.filename[:255], sha256=check.sha256, created_by_id=user_id,
            rows=changes["rows"], customers_new=changes["customers_new"],
            customers_updated=changes["customers_known"], values_new=changes["values_new"],
            values_changed=changes["values_changed"], first_period=changes["first_period"],
            last_period=changes["last_period"],
        )
        db.session.add(log)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    progress(1.0, "Done")
    changes["import_id"] = log.id
    return changes


def problem_rows(problems: list[Problem], limit: int = 500) -> list[Problem]:
    """The problems to list on the page, errors first, then warnings and notes."""
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(problems, key=lambda p: (order.get(p.severity, 3), p.row or 0))[:limit]


__all__ = [
    "ImportCheck", "check_upload", "import_customer_values", "parse_upload",
    "previous_import", "problem_rows", "stage_rows", "staged_changes", "write_staged",
]
