"""Bulk import of observations from CSV/XLSX.

Check everything first (problems named by spreadsheet row and column), then write all
rows in one transaction or none. Each row carries a fingerprint of its cells and its
occurrence in the file, so importing the same file again writes nothing.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import pandas as pd
from flask_babel import gettext as _

from app.extensions import db
from app.segments.loaders import match_customer_numbers, number_problems
from app.segments.models import Customer
from app.touchpoint_audit.channels import vocabulary
from app.touchpoint_audit.labels import EVIDENCE_GRADE_LABELS
from app.touchpoint_audit.models import Audit, Metric, Observation, Touchpoint
from app.touchpoint_audit.rules import check_row, status_from_tenure
from app.web.bulk import write_once_more_on_collision
from app.web.i18n import fmt_date, lang
from app.web.import_messages import reason_text
from app.web.import_preview import FIRST_ROWS, ImportPreview, build_preview
from audits import customer_status
from tabular import ROW_COLUMN, Problem, TableError, match_columns, parse_dates, read_table, resolve_columns

COLUMNS = {
    "touchpoint": ["Touchpoint", "Kontaktpunkt", "Berührungspunkt"],
    "metric": ["Metrik", "Kennzahl", "Messgröße"],
    "value": ["Wert"],
    "customer_status": ["status", "Kundenstatus", "Kundentyp", "new_existing"],
    "customer_id": ["customer", "customer_no", "Kundennummer", "Kunden-Nr", "Kundennr"],
    "product_key": ["product", "tariff", "Produkt", "Tarif", "Produktschlüssel", "Tarifschlüssel"],
    "channel": ["Kanal", "Vertriebskanal"],
    "observed_at": ["date", "observed_on", "Datum", "Beobachtet am", "Zeitpunkt"],
    "note": ["Notiz", "Bemerkung", "Kommentar", "comment"],
    "evidence_grade": ["grade", "evidence", "Evidenzgrad", "Nachweisart", "Nachweis", "Beleg", "Belegart"],
}
REQUIRED = ("touchpoint", "metric", "value")
MAX_PROBLEMS = 200


@dataclass
class RowProblem:
    """A problem at a spreadsheet row and column (either may be unknown), in the user's language."""

    row: int | None
    column: str | None
    reason: str
    severity: str = "error"

    def __str__(self) -> str:
        if self.row is not None and self.column:
            return _("Row %(row)d, column %(column)s: %(message)s", row=self.row, column=self.column,
                     message=self.reason)
        if self.row is not None:
            return _("Row %(row)d: %(message)s", row=self.row, message=self.reason)
        return self.reason


@dataclass
class ImportReport:
    """The result of checking a file: problems, or the rows ready to write."""

    audit_id: int
    filename: str
    n_rows: int = 0
    problems: list[RowProblem] = field(default_factory=list)  # errors: nothing is written
    notes: list[RowProblem] = field(default_factory=list)  # warnings: the file can be imported
    rows: list[dict] = field(default_factory=list)
    n_already: int = 0
    per_metric: dict = field(default_factory=dict)
    token: str | None = None
    read: ImportPreview | None = None  # the column mapping and the first rows as read

    @property
    def ok(self) -> bool:
        """True when the file has no problems."""
        return not self.problems

    def add(self, problem: RowProblem) -> None:
        """Record an error or a warning (at most :data:`MAX_PROBLEMS` of each)."""
        listed = self.problems if problem.severity == "error" else self.notes
        if len(listed) < MAX_PROBLEMS:
            listed.append(problem)

    @property
    def n_new(self) -> int:
        """Rows that will be written (not imported before)."""
        return len(self.rows)


def _metric_lookup(audit: Audit) -> dict[tuple[str, str], Metric]:
    """(touchpoint word, metric word) -> metric, for keys and German/English names, case-insensitive."""
    lookup: dict[tuple[str, str], Metric] = {}
    for metric in audit.metrics:
        tp: Touchpoint = metric.touchpoint
        for tword in {tp.key, tp.name_de, tp.name_en}:
            for mword in {metric.key, metric.name_de, metric.name_en}:
                lookup[(tword.strip().casefold(), mword.strip().casefold())] = metric
    return lookup


def _customers_by_number(frame: pd.DataFrame) -> tuple[dict[str, Customer], dict[str, tuple[str, str]]]:
    """The known customers the file names, by the number as the file writes it, and the numbers
    matched only after adding the leading zeros a spreadsheet dropped or removing stray spaces."""
    customer_nos = {str(v).strip() for v in frame.get("customer_id", pd.Series(dtype=object)) if str(v).strip()}
    repairs = match_customer_numbers(customer_nos)
    wanted = list((customer_nos - set(repairs)) | {number for number, _why in repairs.values()})
    by_number = {}
    for start in range(0, len(wanted), 5000):
        for c in db.session.scalars(db.select(Customer).where(Customer.customer_no.in_(wanted[start:start + 5000]))):
            by_number[c.customer_no] = c
    customers = {text: by_number[text] for text in customer_nos if text in by_number}
    customers.update({text: by_number[number] for text, (number, _why) in repairs.items() if number in by_number})
    return customers, repairs


def check_file(audit: Audit, data: bytes, filename: str, created_by_id: int | None = None) -> ImportReport:
    """Read and check a file of observations for ``audit``; nothing is written."""
    report = ImportReport(audit_id=audit.id, filename=filename)
    try:
        raw = read_table(data, filename)
    except TableError as exc:
        report.problems.append(_shared(Problem(None, None, exc.message, exc.code, exc.params)))
        return report
    frame, column_problems = match_columns(raw, COLUMNS, REQUIRED)
    report.problems += [_shared(p) for p in column_problems if p.severity == "error"]
    if report.problems:
        return report
    report.n_rows = len(frame)
    header = {canonical: raw_name for canonical, raw_name in zip(frame.columns, _headers(raw, frame))}

    def problem(row: int, column: str, message: str, severity: str = "error") -> None:
        """Record a problem at a spreadsheet row and column (a warning: the row is imported all the same)."""
        report.add(RowProblem(row, header.get(column, column), message, severity))

    lookup = _metric_lookup(audit)
    channels = vocabulary()
    customers, repairs = _customers_by_number(frame)
    report.notes += [_shared(p) for p in number_problems(repairs, header.get("customer_id"))]
    locale = lang()
    dates, date_errors = _dates(frame)
    default_when = dt.datetime.combine(audit.period_end or dt.date.today(), dt.time(12))
    # plain Python lists: a row-by-row .iloc on the series cost more than the whole row's check
    whens = [default_when if pd.isna(when) else when.to_pydatetime() for when in dates]
    date_errors = date_errors.tolist()

    seen: dict[str, int] = {}
    sample: list[dict] = []  # the first rows as read, for the preview
    for i, record in enumerate(frame.to_dict("records")):
        row = int(record[ROW_COLUMN])
        cells = {k: str(record.get(k, "") or "").strip() for k in COLUMNS}
        metric = lookup.get((cells["touchpoint"].casefold(), cells["metric"].casefold()))
        if metric is None:
            problem(row, *_unknown_metric(cells, lookup))
            continue
        # the row's problems in the order of the value, date, customer, status and product
        found: dict[str, str | None] = {"value": None, "observed_at": None, "customer_id": None}
        when = whens[i]
        if date_errors[i]:
            found["observed_at"] = _("“%(value)s” is not a date (write YYYY-MM-DD or DD.MM.YYYY).",
                                     value=cells["observed_at"][:40])
        customer = customers.get(cells["customer_id"]) if cells["customer_id"] else None
        if cells["customer_id"] and customer is None:
            found["customer_id"] = _("There is no customer with the number “%(no)s”.", no=cells["customer_id"][:40])
        checked = check_row(audit, metric, cells, customer, found["customer_id"] is not None, when, channels,
                            default_grade="system")
        found.update(checked.errors)
        for column, message in found.items():
            if message:
                problem(row, column, message)
        for column, message in _row_warnings(audit, cells, customer, when, dated=not pd.isna(dates.iloc[i])):
            problem(row, column, message, "warning")
        content = "\x1f".join([str(metric.id), cells["value"], cells["customer_status"], cells["customer_id"],
                               cells["product_key"], cells["channel"], cells["observed_at"], cells["note"]]
                              # a grade only when given: a file without the column keeps its old fingerprints
                              + ([cells["evidence_grade"]] if cells["evidence_grade"] else []))
        occurrence = seen.get(content, 0)
        seen[content] = occurrence + 1
        fingerprint = hashlib.sha256(f"{content}\x1e{occurrence}".encode()).hexdigest()
        report.rows.append({
            "audit_id": audit.id, "metric_id": metric.id, **checked.values,
            "customer_id": customer.id if customer else None, "observed_at": when,
            "created_by_id": created_by_id, "import_fingerprint": fingerprint,
        })
        if len(sample) < FIRST_ROWS:
            sample.append({**checked.values, ROW_COLUMN: row, "touchpoint": metric.touchpoint.name(locale),
                           "metric": metric.name(locale), "observed_at": when,
                           "customer_id": customer.customer_no if customer else cells["customer_id"] or None,
                           "customer_status": _status_label(checked.values.get("customer_status")),
                           "evidence_grade": _grade_label(checked.values.get("evidence_grade"))})
        label = f"{metric.touchpoint.name(locale)} · {metric.name(locale)}"
        report.per_metric[label] = report.per_metric.get(label, 0) + 1
    report.read = build_preview(header, sample, _PREVIEW_FIELDS, ROW_COLUMN, always=("touchpoint", "metric", "value"))
    if report.problems:
        report.rows = []
        return report
    existing = set(db.session.scalars(db.select(Observation.import_fingerprint).where(
        Observation.audit_id == audit.id, Observation.import_fingerprint.is_not(None))))
    report.rows = [r for r in report.rows if r["import_fingerprint"] not in existing]  # only new ones
    report.n_already = report.n_rows - len(report.rows)
    return report


_PREVIEW_FIELDS = [("touchpoint", "text"), ("metric", "text"), ("value", "number"), ("customer_status", "text"),
                   ("customer_id", "text"), ("product_key", "text"), ("channel", "text"), ("observed_at", "date"),
                   ("note", "text"), ("evidence_grade", "text")]


def _status_label(status: str | None) -> str | None:
    """A customer status in the user's language."""
    return {"new": _("new customer"), "existing": _("existing customer")}.get(status or "", status)


def _grade_label(grade: str | None) -> str | None:
    """An evidence grade in the user's language."""
    return str(EVIDENCE_GRADE_LABELS[grade]) if grade in EVIDENCE_GRADE_LABELS else grade


def _unknown_metric(cells: dict, lookup: dict) -> tuple[str, str]:
    """The column and message for a row whose touchpoint or metric the audit does not have."""
    if not any(t == cells["touchpoint"].casefold() for t, _m in lookup):
        return "touchpoint", _("“%(value)s” is not a touchpoint of this audit.", value=cells["touchpoint"][:40])
    return "metric", _("“%(value)s” is not a metric of touchpoint “%(tp)s” in this audit.",
                       value=cells["metric"][:40], tp=cells["touchpoint"][:40])


def _dates(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The observed dates (NaT where none) and the error code of each cell that is not a date."""
    if "observed_at" in frame.columns:
        return parse_dates(frame["observed_at"])
    return (pd.Series(pd.NaT, index=frame.index),
            pd.Series([None] * len(frame), index=frame.index, dtype=object))


def _shared(problem) -> RowProblem:
    """A problem of the shared table reader, in the user's language."""
    return RowProblem(problem.row, problem.column, reason_text(problem, lang()), problem.severity)


def _row_warnings(audit: Audit, cells: dict, customer: Customer | None, when: dt.datetime,
                  dated: bool) -> list[tuple[str, str]]:
    """What is allowed but likely a mistake: a date outside the audit's period, a customer status the
    customer's tenure contradicts. (column, message) pairs."""
    out = []
    day = when.date() if isinstance(when, dt.datetime) else when
    start, end = audit.period_start, audit.period_end
    if dated and ((start is not None and day < start) or (end is not None and day > end)):
        out.append(("observed_at", _("%(date)s lies outside the audit's period (%(start)s – %(end)s).",
                                     date=fmt_date(day), start=fmt_date(start) if start else "…",
                                     end=fmt_date(end) if end else "…")))
    word = cells.get("customer_status", "")
    given = customer_status(word) if word else None
    tenure = status_from_tenure(customer, when) if given else None
    if given == "new" and tenure == "existing":
        out.append(("customer_status", _("recorded as a new customer, but customer %(no)s has been one since "
                                         "%(since)s.", no=customer.customer_no, since=fmt_date(customer.customer_since))))
    elif given == "existing" and tenure == "new":
        out.append(("customer_status", _("recorded as an existing customer, but customer %(no)s only became one on "
                                         "%(since)s.", no=customer.customer_no, since=fmt_date(customer.customer_since))))
    return out


def _headers(raw: pd.DataFrame, frame: pd.DataFrame) -> list[str]:
    """The user's header for each canonical column of ``frame`` (for messages)."""
    mapping, _problems = resolve_columns(raw.columns, COLUMNS)
    return [mapping.get(c, c) for c in frame.columns]


def write_observations(report: ImportReport, progress=None) -> int:
    """Insert the checked rows (the caller commits: all or nothing); returns how many."""
    if not report.ok:
        raise ValueError("the file has problems; nothing may be written")
    rows = report.rows
    for start in range(0, len(rows), 5000):
        db.session.execute(db.insert(Observation), rows[start:start + 5000])
        if progress:
            progress(min(1.0, (start + 5000) / max(1, len(rows))), "Writing observations")
    return len(rows)


def import_observations(audit: Audit, data: bytes, filename: str, user_id: int | None,
                        progress=None) -> tuple[ImportReport, int]:
    """Check ``data`` and write its new rows (all or nothing, committed); returns the report and
    how many rows were written.

    Two imports of the same file at the same moment: the one that writes second meets the
    first one's rows (their fingerprints are unique per audit), is rolled back, checked again
    (now those rows count as already there) and written once more; should it collide again,
    :class:`~app.web.bulk.ImportCollision` is raised and nothing of it is written."""
    report, written = write_once_more_on_collision(
        lambda: check_file(audit, data, filename, created_by_id=user_id), lambda report: report.ok,
        lambda report: write_observations(report, progress))
    return report, written or 0
