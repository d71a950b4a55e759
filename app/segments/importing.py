"""Import of customer values: check → preview → confirmed write.

The parsing and validation is the pure ``segmentation`` package; this module
adds what needs the database:

* the preview: how many customers are new or already known, how many values
  are new, changed or unchanged (:func:`plan_import`: the file compared in
  numpy with one read of its customers and their stored values);
* the write (:func:`write_plan`): one transaction with the effect of an upsert
  by customer number and by customer + period, so importing the same file twice
  changes nothing and a later file with new periods adds them. Only what the
  comparison found is written: new rows inserted in bulk (PostgreSQL: binary
  ``COPY``; SQLite: multi-row ``INSERT``), changed rows updated by id. That is
  several times faster than moving every row through a staging table and an
  ``INSERT … ON CONFLICT`` (measured in ``bench/bench_import.py``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import sqlalchemy as sa

from app.extensions import db
from app.segments import counts
from app.segments.loaders import match_customer_numbers, number_problems
from app.segments.models import Customer, ImportLog
from app.segments.search import search_key
from app.segments.series import merge_import
from app.web.bulk import insert_frame, update_frame
from app.web.import_preview import ImportPreview, build_preview
from app.web.models import utcnow
from segmentation.customer_values import CUSTOMER_VALUE_COLUMNS, amount_headers, parse_customer_values
from tabular import (
    ROW_COLUMN,
    Problem,
    TableError,
    has_errors,
    make_problem,
    parse_period,
    read_table,
    resolve_columns,
)

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
    read: ImportPreview | None = None  # the column mapping and the first rows as read

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
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        raw = read_table(data, filename, sheet=sheet or None, amounts=amount_headers)
    except TableError as error:
        return ImportCheck(filename=filename, sha256=sha256,
                           problems=[Problem(None, None, error.message, code=error.code, params=error.params)])
    return check_table(raw, filename, sha256)


def check_table(raw: pd.DataFrame, filename: str, sha256: str) -> ImportCheck:
    """Validate a read table (text cells, the columns as a file names them, ``__row__``) with the
    import's rules; the file upload and the HTTP API's batch of values both come through here."""
    check = ImportCheck(filename=filename, sha256=sha256)
    parsed = parse_customer_values(raw)
    check.problems = list(parsed.problems) + _formula_names(raw, parsed.frame) + _too_long(raw)
    check.summary = dict(parsed.summary)
    check.frame = parsed.frame
    if check.frame is not None and len(check.frame) and not has_errors(check.problems):
        check.problems += _repair_numbers(check.frame, raw)
    if check.frame is not None:
        check.read = _read_preview(raw, check.frame)
    if check.frame is not None and check.frame.empty and not has_errors(check.problems):
        check.problems.append(make_problem("table.no_rows"))
    return check


_PREVIEW_FIELDS = [("customer_id", "text"), ("name", "text"), ("customer_since", "date"), ("period", "text"),
                   ("revenue", "amount"), ("cost_to_serve", "amount"), ("contribution", "amount"),
                   ("potential", "amount"), ("potential_rating", "number")]


def _read_preview(raw: pd.DataFrame, frame: pd.DataFrame) -> ImportPreview:
    """Your header → our field (a wide file's period columns as revenue of their period) and the first rows."""
    mapping, _ = resolve_columns(raw.columns, CUSTOMER_VALUE_COLUMNS)
    mapping = dict(mapping)
    for header in raw.columns:
        if header == ROW_COLUMN or header in mapping.values() or "period" in mapping:
            continue
        period, problem = parse_period(str(header))
        if period is not None and problem is None:
            mapping[f"revenue {period}"] = header
    return build_preview(mapping, frame, _PREVIEW_FIELDS, ROW_COLUMN, always=("period", "revenue"))


def _repair_numbers(frame: pd.DataFrame, raw: pd.DataFrame) -> list[Problem]:
    """Customer numbers that lost their leading zeros in a spreadsheet (``70001`` for the known
    ``0070001``) become the known number, in place, with one warning; a number whose known form is
    in the file as well stays as written (the two rows would otherwise be one customer's twice)."""
    numbers = frame["customer_id"].astype(str)
    present = set(pd.unique(numbers.to_numpy()))
    repairs = {text: match for text, match in match_customer_numbers(present).items() if match[0] not in present}
    if not repairs:
        return []
    frame["customer_id"] = numbers.map(lambda text: repairs[text][0] if text in repairs else text).to_numpy()
    mapping, _ = resolve_columns(raw.columns, CUSTOMER_VALUE_COLUMNS)
    return number_problems(repairs, mapping.get("customer_id"))


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


# The longest texts the customers table holds; a longer one is refused, never cut.
MAX_LENGTHS = {"customer_id": Customer.__table__.c.customer_no.type.length,
               "name": Customer.__table__.c.name.type.length}


def _too_long(raw: pd.DataFrame) -> list[Problem]:
    """A customer number or name longer than its column, by row (at most 100 per column)."""
    mapping, _ = resolve_columns(raw.columns, CUSTOMER_VALUE_COLUMNS)
    problems = []
    for column, limit in MAX_LENGTHS.items():
        header = mapping.get(column)
        if header is None:
            continue
        # each distinct value measured once; the last entry is for code -1, a missing cell
        codes, values = pd.factorize(raw[header])
        lengths = np.array([len(str(v).strip()) for v in values] + [0])[codes]
        bad = np.flatnonzero(lengths > limit)[:100]
        problems += [
            Problem(int(row), header, f"Row {int(row)}, column {header}: too long ({int(length)} characters; at most "
                                      f"{limit} fit)",
                    code="customer_values.too_long", params={"length": int(length), "max": limit})
            for row, length in zip(raw[ROW_COLUMN].to_numpy()[bad], lengths[bad], strict=True)
        ]
    return problems


def check_upload(data: bytes, filename: str, sheet: str | None = None) -> ImportCheck:
    """Parse, validate and (when clean) compare with the database for the preview."""
    check = parse_upload(data, filename, sheet)
    if check.ok:
        try:
            check.preview = plan_import(check.frame).changes
        finally:
            db.session.rollback()  # only read: end the transaction the comparison opened
        check.preview["previous_import"] = previous_import(check.sha256)
    return check


def previous_import(sha256: str):
    """The latest earlier import of exactly these bytes, if any."""
    return db.session.scalar(
        sa.select(ImportLog).where(ImportLog.sha256 == sha256).order_by(ImportLog.id.desc()).limit(1)
    )


# --- comparing with the database ---------------------------------------------------

#: Values per ``IN (…)`` list when reading the stored rows of the file's customers.
_LOOKUP_CHUNK = 5000


@dataclass
class ImportPlan:
    """What writing a parsed file changes: the preview counts and the rows behind them.

    Worked out in Python from one read of the file's customers and of their
    stored values, so the write touches only what differs: new customers and
    values are inserted, changed ones updated by id, equal ones left alone.
    """

    changes: dict
    customers_new: pd.DataFrame  # customer_no, name, customer_since
    customers_changed: pd.DataFrame  # id, customer_no, name, customer_since
    values_new: pd.DataFrame  # customer_no, period, VALUE_FIELDS
    values_changed: pd.DataFrame  # id, VALUE_FIELDS
    # the file's customers by code: number and stored id (-1: new); each file row's customer
    # code; the file rows of values_new. The write resolves the new customers' ids once and
    # hands every row's id on, so nothing looks customers up by number again.
    customer_numbers: np.ndarray
    customer_ids: np.ndarray
    row_customers: np.ndarray
    new_value_rows: np.ndarray


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _select_in(sql: str, keys) -> list[tuple]:
    """Rows of ``sql`` (one ``{keys}`` placeholder for an IN list) for many keys, in chunks."""
    keys = list(keys)
    raw = db.session.connection().connection.dbapi_connection
    mark = "%s" if _dialect() == "postgresql" else "?"
    rows: list[tuple] = []
    cursor = raw.cursor()
    try:
        for start in range(0, len(keys), _LOOKUP_CHUNK):
            part = keys[start:start + _LOOKUP_CHUNK]
            cursor.execute(sql.format(keys=", ".join([mark] * len(part))), part)
            rows.extend(cursor.fetchall())
    finally:
        cursor.close()
    return rows


def _iso_dates(values) -> np.ndarray:
    """Dates (datetime64, date objects or ISO text, missing as NaT/None) as ISO text or None."""
    codes, uniques = pd.factorize(pd.to_datetime(pd.Series(values, dtype=object)))
    return np.array([*uniques.strftime("%Y-%m-%d"), None], dtype=object)[codes]


def _figures(frame: pd.DataFrame) -> np.ndarray:
    """The value fields as a float matrix, NaN for every missing or non-finite value.

    A non-finite amount is written as NULL (see :func:`app.bulk.python_columns`),
    so it compares as one.
    """
    figures = np.column_stack([
        pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        for name in VALUE_FIELDS
    ]) if len(frame) else np.empty((0, len(VALUE_FIELDS)))
    figures[~np.isfinite(figures)] = np.nan
    return figures


def plan_import(frame: pd.DataFrame) -> ImportPlan:
    """Compare the parsed rows with the stored customers and values (reads only).

    The rules are those of an upsert by customer number and by customer +
    period: a file name or customer-since date replaces the stored one when
    given and different; a value row is new, changed (any field differs, a
    NULL only equals a NULL) or unchanged.
    """
    numbers, periods = frame["customer_id"].astype(str).to_numpy(), frame["period"].astype(str).to_numpy()
    codes, customer_numbers = pd.factorize(numbers)
    first = np.empty(len(customer_numbers), dtype=np.int64)  # each customer's first row
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    # the parser gives every row of a customer the same master data, so its first row speaks for it
    names = frame["name"].to_numpy(dtype=object)[first]
    names = np.where(pd.isna(names), "", names).astype(object)
    since = _iso_dates(frame["customer_since"].to_numpy()[first])

    stored = pd.DataFrame(
        _select_in("SELECT customer_no, id, name, customer_since FROM customers WHERE customer_no IN ({keys})",
                   customer_numbers),
        columns=["customer_no", "id", "name", "customer_since"],
    )
    known = pd.Index(stored["customer_no"]).get_indexer(customer_numbers)
    is_known = known >= 0
    stored = stored.iloc[known[is_known]].reset_index(drop=True)  # in the file's customer order
    stored_since = _iso_dates(stored["customer_since"].to_numpy())
    file_names, file_since = names[is_known], since[is_known]
    new_name = np.where(file_names != "", file_names, stored["name"].to_numpy(dtype=object))
    new_since = np.where(pd.isna(file_since), stored_since, file_since)
    master_changed = (new_name != stored["name"].to_numpy(dtype=object)) | (
        pd.notna(file_since) & (file_since != stored_since))
    customers_changed = pd.DataFrame({"id": stored["id"].to_numpy()[master_changed],
                                      "customer_no": stored["customer_no"].to_numpy()[master_changed],
                                      "name": new_name[master_changed], "customer_since": new_since[master_changed]})
    customers_new = pd.DataFrame({"customer_no": customer_numbers[~is_known], "name": names[~is_known],
                                  "customer_since": since[~is_known]})

    # each file row against the stored row of its customer and period (one int64 key per pair)
    ids = np.full(len(customer_numbers), -1, dtype=np.int64)
    ids[is_known] = stored["id"].to_numpy(dtype=np.int64)
    row_ids = ids[codes]
    values = pd.DataFrame(
        _select_in(f"SELECT id, customer_id, period, {', '.join(VALUE_FIELDS)} FROM customer_values "
                   "WHERE customer_id IN ({keys})", ids[is_known].tolist()),
        columns=["id", "customer_id", "period", *VALUE_FIELDS],
    )
    period_codes, all_periods = pd.factorize(np.concatenate([periods, values["period"].to_numpy(dtype=object)]))
    width = max(len(all_periods), 1)
    stored_keys = values["customer_id"].to_numpy(dtype=np.int64) * width + period_codes[len(periods):]
    match = pd.Index(stored_keys).get_indexer(row_ids * width + period_codes[:len(periods)])
    match[row_ids < 0] = -1  # a new customer has no stored values
    matched = match >= 0
    imported, current = _figures(frame)[matched], _figures(values)[match[matched]]
    differs = ((imported != current) & ~(np.isnan(imported) & np.isnan(current))).any(axis=1)
    changed_rows = np.flatnonzero(matched)[differs]

    new_value_rows = np.flatnonzero(~matched)
    values_new = frame.iloc[new_value_rows][["customer_id", "period", *VALUE_FIELDS]].rename(
        columns={"customer_id": "customer_no"})
    values_changed = frame.iloc[changed_rows][list(VALUE_FIELDS)].reset_index(drop=True)
    values_changed.insert(0, "id", values["id"].to_numpy()[match[changed_rows]])
    existing, changed = int(matched.sum()), len(changed_rows)
    changes = {
        "rows": len(frame),
        "customers": len(customer_numbers),
        "periods": int(len(pd.unique(periods))),
        "total_revenue": float(frame["revenue"].sum()),
        "first_period": periods.min() if len(periods) else None,
        "last_period": periods.max() if len(periods) else None,
        "customers_new": int((~is_known).sum()),
        "customers_known": int(is_known.sum()),
        "values_new": len(frame) - existing,
        "values_changed": changed,
        "values_unchanged": existing - changed,
    }
    return ImportPlan(changes, customers_new, customers_changed, values_new, values_changed,
                      customer_numbers, ids, codes, new_value_rows)


# --- writing -------------------------------------------------------------------------

def _dates_for(dialect: str, iso: np.ndarray) -> pd.Series:
    """ISO dates as the driver takes them: date objects for PostgreSQL, the text itself for SQLite."""
    if dialect == "postgresql":
        iso = np.array([None if d is None else dt.date.fromisoformat(d) for d in iso], dtype=object)
    return pd.Series(iso, dtype=object)


def _search_keys(numbers: pd.Series, names: pd.Series) -> np.ndarray:
    """Each customer's search key (see :mod:`app.segments.search`)."""
    return np.array([search_key(number, name) for number, name in
                     zip(numbers.to_numpy(dtype=object), names.to_numpy(dtype=object))], dtype=object)


def write_plan(plan: ImportPlan) -> np.ndarray:
    """Carry out a plan in the session's transaction: insert what is new, update what changed.

    Returns the customer id of every row of the planned frame.
    """
    dialect = _dialect()
    ids = plan.customer_ids.copy()
    if len(plan.customers_new):
        now = utcnow()
        customers = plan.customers_new.assign(
            customer_since=_dates_for(dialect, plan.customers_new["customer_since"].to_numpy()).to_numpy(),
            created_at=pd.Series([now if dialect == "postgresql" else str(now)] * len(plan.customers_new),
                                 dtype=object).to_numpy(),
            search_key=_search_keys(plan.customers_new["customer_no"], plan.customers_new["name"]),
        )
        insert_frame("customers", customers, ["customer_no", "name", "customer_since", "created_at", "search_key"])
        new = np.flatnonzero(ids < 0)
        inserted = dict(_select_in("SELECT customer_no, id FROM customers WHERE customer_no IN ({keys})",
                                   plan.customer_numbers[new]))
        ids[new] = pd.Series(inserted, dtype=np.int64).reindex(plan.customer_numbers[new]).to_numpy()
    if len(plan.customers_changed):
        changed = plan.customers_changed.assign(
            customer_since=_dates_for(dialect, plan.customers_changed["customer_since"].to_numpy()).to_numpy(),
            search_key=_search_keys(plan.customers_changed["customer_no"], plan.customers_changed["name"]))
        update_frame("customers", changed, ["name", "customer_since", "search_key"])
    row_ids = ids[plan.row_customers]
    if len(plan.values_new):
        rows = plan.values_new.drop(columns="customer_no")
        rows.insert(0, "customer_id", row_ids[plan.new_value_rows])
        # a figure the file leaves empty throughout is not sent at all: the column is NULL anyway
        # (no default), and each bound value costs SQLite's insert about a tenth of a second a million
        given = [name for name in VALUE_FIELDS if rows[name].notna().any()]
        insert_frame("customer_values", rows, ["customer_id", "period", *given])
    if len(plan.values_changed):
        update_frame("customer_values", plan.values_changed, VALUE_FIELDS)
    return row_ids


class ImportConflict(Exception):
    """A concurrent import wrote the same customers or values; nothing of this one was written."""


def import_customer_values(
    check: ImportCheck,
    user_id: int | None = None,
    progress: Callable[[float, str], None] | None = None,
    external_id: str | None = None,
) -> dict:
    """Write a clean check in one transaction and log it; returns the counts.

    The caller's session is committed here: the import is all or nothing.
    When a concurrent import inserted some of the same customers or values
    between the comparison and the write, the unique constraints stop this
    write; it is rolled back and done once more against the new state (which
    is what an upsert would have done). A second collision raises
    :class:`ImportConflict` with a message for the user. ``external_id`` (a batch of the HTTP
    API) is stored on the log, whose unique key makes a second write of the same batch collide.
    """

    if not check.ok:
        raise ValueError("the file has problems; fix them before importing")
    progress = progress or (lambda fraction, message: None)
    # the bulk writes run on the driver's connection, so its own exception class arrives unwrapped
    collisions = (sa.exc.IntegrityError, db.session.get_bind().dialect.loaded_dbapi.IntegrityError)
    for attempt in (1, 2):
        try:
            progress(0.1, "Comparing with the database")
            plan = plan_import(check.frame)
            changes = plan.changes
            progress(0.4, "Writing customers and values")
            row_ids = write_plan(plan)
            if changes["values_new"] or changes["values_changed"]:
                progress(0.85, "Updating the segmentation data")
                merge_import(db.session.connection(), check.frame, row_ids)
            log = ImportLog(
                filename=check.filename[:255], sha256=check.sha256, created_by_id=user_id,
                rows=changes["rows"], customers_new=changes["customers_new"],
                customers_updated=changes["customers_known"], values_new=changes["values_new"],
                values_changed=changes["values_changed"], first_period=changes["first_period"],
                last_period=changes["last_period"], external_id=external_id,
            )
            db.session.add(log)
            if changes["customers_new"]:
                counts.compact()  # the customer count's added rows folded into one
            db.session.commit()
            break
        except collisions as error:
            db.session.rollback()
            if attempt == 2:
                raise ImportConflict(
                    "Another import wrote values for the same customers at the same time; nothing of "
                    "this file was written. Import it again."
                ) from error
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
    "ImportCheck", "ImportConflict", "ImportPlan", "check_table", "check_upload", "import_customer_values", "parse_upload",
    "plan_import", "previous_import", "problem_rows", "write_plan",
]
