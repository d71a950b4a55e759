"""Import of after-sales outcomes (CSV/XLSX): check → preview → confirm.

Reading and cell parsing go through :mod:`tabular` (delimiters,
encodings, German number and date formats, spreadsheet row numbers). This module
adds the outcome rules:

* columns ``customer_id`` (Kundennummer), ``date`` (Datum), ``sale_satisfaction``
  (Zufriedenheit Verkauf), ``after_sales_satisfaction`` (Zufriedenheit After-Sales),
  ``repurchased`` (Wiederkauf) — all required;
* a satisfaction column is read as **yes/no** when its numbers are all 0 or 1
  (or it holds only words such as ja/nein), otherwise as a **1–5 score**; a
  yes/no word in a score column is still accepted for that cell;
* the customer must exist; one outcome per customer and date (a second row for
  the same pair is an error, naming both rows);
* nothing is written while any error remains (all-or-nothing); a re-import of
  the same file changes nothing (fingerprint per row), a changed row updates the
  stored outcome of the same customer and date.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

from app.aftersales.models import DEFAULT_THRESHOLD, Outcome, outcome_fingerprint, satisfied
from app.extensions import db
from app.segments.loaders import match_customer_numbers, number_problems
from app.segments.models import Customer
from app.web.bulk import write_once_more_on_collision
from app.web.i18n import lang
from app.web.import_messages import problem_text as import_problem_text
from app.web.import_preview import FIRST_ROWS, ImportPreview, build_preview
from tabular import (
    MESSAGES,
    ROW_COLUMN,
    Problem,
    TableError,
    has_errors,
    make_problem,
    match_columns,
    parse_booleans,
    parse_dates,
    read_table,
    resolve_columns,
)

COLUMNS = {
    "customer_id": ["Kundennummer", "Kunden-Nr", "Kundennr", "customer_no", "customer number", "Kunde", "customer"],
    "date": ["Datum", "outcome_date", "Kaufdatum", "purchase date", "Kauf"],
    "sale_satisfaction": [
        "Zufriedenheit Verkauf", "Zufriedenheit Kauf", "Verkaufszufriedenheit", "sale", "sale satisfied",
        "satisfied with sale", "Verkauf zufrieden",
    ],
    "after_sales_satisfaction": [
        "Zufriedenheit After-Sales", "Zufriedenheit Service", "After-Sales-Zufriedenheit", "Servicezufriedenheit",
        "after sales", "aftersales", "after-sales satisfied", "satisfied with after-sales", "After-Sales zufrieden",
    ],
    "repurchased": ["Wiederkauf", "Wiederkäufer", "erneut gekauft", "repurchase", "bought again", "Wiederkauf ja/nein"],
}
REQUIRED = tuple(COLUMNS)
RATINGS = ("sale_satisfaction", "after_sales_satisfaction")

# Our own messages, as gettext message ids (the table module's codes are translated by the shell).
OUR_MESSAGES = {
    "aftersales.unknown_customer": _l("customer %(value)s is unknown; import the customer values first"),
    "aftersales.score_range": _l("'%(value)s' is neither yes/no nor a score from 1 to 5"),
    "aftersales.duplicate": _l(
        "customer %(customer)s appears twice for %(date)s (rows %(first_row)s and %(second_row)s)"
    ),
    "aftersales.future_date": _l("the date %(value)s lies in the future"),
    "aftersales.too_long": _l("too long (%(length)s characters; at most %(max)s fit)"),
}


@dataclass
class OutcomeImport:
    """The checked file: the rows to write, the problems, and the preview figures."""

    rows: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    read: ImportPreview | None = None  # the column mapping and the first rows as read

    @property
    def ok(self) -> bool:
        return not has_errors(self.problems) and len(self.rows) > 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def preview(self, threshold: int = DEFAULT_THRESHOLD) -> dict:
        """Counts and shares shown before the user confirms."""
        rows = self.rows
        n = len(rows)
        if not n:
            return {"rows": 0}
        sale = [satisfied(_value(s), _value(y), threshold) for s, y in zip(rows["sale_score"], rows["sale_yes"])]
        after = [
            satisfied(_value(s), _value(y), threshold)
            for s, y in zip(rows["after_sales_score"], rows["after_sales_yes"])
        ]
        return {
            "rows": n, "new": self.new, "changed": self.changed, "unchanged": self.unchanged,
            "customers": int(rows["customer_id"].nunique()),
            "first": rows["outcome_date"].min(), "last": rows["outcome_date"].max(),
            "sale_satisfied": float(sum(sale) / n), "after_sales_satisfied": float(sum(after) / n),
            "repurchased": float(rows["repurchased"].mean()),
        }


def _problem(code: str, row: int | None, column: str | None, **params) -> Problem:
    with force_locale("en"):  # the problem's message is English; problem_text translates it
        text = str(OUR_MESSAGES[code]) % params
    if row is not None:
        text = MESSAGES["location.row_column" if column else "location.row"].format(row=row, column=column, message=text)
    return Problem(row=row, column=column, message=text, code=code, params=params)


def problem_text(problem: Problem) -> str:
    """The problem's message in the user's language (falls back to English)."""
    template = OUR_MESSAGES.get(problem.code)
    if template is None:  # a code of the table module: the shell knows its texts
        return import_problem_text(problem, lang())
    try:
        text = str(template) % problem.params
        if problem.row is not None and problem.column is not None:
            return gettext("Row %(row)s, column %(column)s: %(message)s", row=problem.row, column=problem.column,
                           message=text)
        if problem.row is not None:
            return gettext("Row %(row)s: %(message)s", row=problem.row, message=text)
        if problem.column is not None:
            return gettext("Column %(column)s: %(message)s", column=problem.column, message=text)
        return text
    except (KeyError, IndexError, ValueError):
        return problem.message


def _rating_column(raw: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(score 1–5 or <NA>, yes/no or <NA>, error code or None) per cell."""
    text = raw.fillna("").astype(str).str.strip()
    numbers = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
    numeric = numbers.notna()
    as_flags = bool(numeric.any()) and bool(numbers[numeric].isin([0, 1]).all())
    words, word_errors = parse_booleans(text.where(~numeric, ""))
    score = pd.Series(pd.NA, index=raw.index, dtype="Int64")
    yes = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    errors = pd.Series(None, index=raw.index, dtype=object)
    if as_flags:
        yes[numeric] = numbers[numeric] == 1
    else:
        whole = numeric & (numbers == numbers.round()) & numbers.between(1, 5)
        score[whole] = numbers[whole].astype(int)
        errors[numeric & ~whole] = "aftersales.score_range"
    is_word = ~numeric & (text != "")
    good_word = is_word & word_errors.isna()
    yes[good_word] = words[good_word]
    errors[is_word & word_errors.notna()] = "aftersales.score_range"
    errors[text == ""] = "value.missing"
    return score, yes, errors


def check_outcomes(data: bytes, filename: str, today: dt.date | None = None) -> OutcomeImport:
    """Read and validate an outcome file; nothing is written."""
    try:
        raw = read_table(data, filename)
    except TableError as exc:
        return OutcomeImport(rows=_empty(), problems=[Problem(None, None, exc.message, exc.code, exc.params)])
    return check_outcome_table(raw, today)


def check_outcome_table(raw: pd.DataFrame, today: dt.date | None = None) -> OutcomeImport:
    """Validate a read table (text cells, the columns as a file names them, ``__row__``) with the
    outcome rules; the file upload and the HTTP API's batch of outcomes both come through here."""
    today = today or dt.date.today()
    frame, problems = match_columns(raw, COLUMNS, REQUIRED)
    if has_errors(problems):
        return OutcomeImport(rows=_empty(), problems=problems)
    header = {name: col for name, col in zip(COLUMNS, _headers(raw, frame))}
    rows = frame[ROW_COLUMN].astype(int)
    errors: list[Problem] = []

    def add(codes: pd.Series, column: str) -> None:
        for index in codes.index[codes.notna()]:
            code = codes[index]
            value = str(frame.at[index, column])[:40]
            if code in OUR_MESSAGES:
                errors.append(_problem(code, int(rows[index]), header[column], value=value))
            else:

                errors.append(make_problem(code, row=int(rows[index]), column=header[column], value=value))

    customer_no = frame["customer_id"].fillna("").astype(str).str.strip()
    add(pd.Series(["value.missing" if not c else None for c in customer_no], index=frame.index), "customer_id")
    # numbers a spreadsheet stripped of their leading zeros, or with stray spaces: the known customer, with a warning
    repairs = match_customer_numbers(customer_no.unique())
    if repairs:
        customer_no = customer_no.map(lambda text: repairs[text][0] if text in repairs else text)
        problems = problems + number_problems(repairs, header["customer_id"])
    # Longer than any stored customer number: named as too long, never looked up or cut.
    limit = Customer.__table__.c.customer_no.type.length
    too_long = customer_no.str.len() > limit
    errors += [_problem("aftersales.too_long", int(rows[index]), header["customer_id"],
                        length=len(customer_no[index]), max=limit) for index in customer_no.index[too_long]]
    known = dict(
        db.session.execute(
            db.select(Customer.customer_no, Customer.id).where(Customer.customer_no.in_(set(customer_no) - {""}))
        ).all()
    ) if len(customer_no) else {}
    unknown = customer_no.ne("") & ~too_long & ~customer_no.isin(list(known))
    add(pd.Series(["aftersales.unknown_customer" if u else None for u in unknown], index=frame.index), "customer_id")

    dates, date_errors = parse_dates(frame["date"])
    date_errors = date_errors.where(~(frame["date"].fillna("").astype(str).str.strip() == ""), "value.missing")
    add(date_errors, "date")
    # compared as timestamps: a column without one valid date has no .dt.date objects to compare
    future = dates.notna() & (dates.dt.normalize() > pd.Timestamp(today))
    add(pd.Series(["aftersales.future_date" if f else None for f in future], index=frame.index), "date")

    ratings = {}
    for column in RATINGS:
        score, yes, codes = _rating_column(frame[column])
        add(codes, column)
        ratings[column] = (score, yes)

    repurchased, rep_errors = parse_booleans(frame["repurchased"])
    rep_errors = rep_errors.where(repurchased.notna() | rep_errors.notna(), "value.missing")
    add(rep_errors, "repurchased")

    out = pd.DataFrame({
        ROW_COLUMN: rows,
        "customer_no": customer_no,
        "customer_id": customer_no.map(known),
        "outcome_date": dates.dt.date,
        "sale_score": ratings["sale_satisfaction"][0],
        "sale_yes": ratings["sale_satisfaction"][1],
        "after_sales_score": ratings["after_sales_satisfaction"][0],
        "after_sales_yes": ratings["after_sales_satisfaction"][1],
        "repurchased": repurchased,
    })
    seen: dict[tuple, int] = {}
    for index, key in zip(out.index, zip(out["customer_no"], out["outcome_date"])):
        if not key[0] or pd.isna(key[1]):
            continue
        if key in seen:
            errors.append(_problem(
                "aftersales.duplicate", int(rows[index]), None, customer=key[0], date=key[1].isoformat(),
                first_row=seen[key], second_row=int(rows[index]),
            ))
        else:
            seen[key] = int(rows[index])
    errors.sort(key=lambda p: (p.row or 0, p.column or ""))
    result = OutcomeImport(rows=out if not errors else _empty(), problems=problems + errors,
                           read=_read_preview({n: h for n, h in header.items() if h in raw.columns}, out))
    if not errors:
        _compare_with_stored(result)
    return result


def _read_preview(mapping: dict[str, str], out: pd.DataFrame) -> ImportPreview:
    """Your header → our field and the first rows as read (a score as its number, else yes/no)."""
    def rating(score, yes):
        return score if _value(score) is not None else yes

    records = [{
        ROW_COLUMN: row[ROW_COLUMN], "customer_id": row["customer_no"] or None, "date": row["outcome_date"],
        "sale_satisfaction": rating(row["sale_score"], row["sale_yes"]),
        "after_sales_satisfaction": rating(row["after_sales_score"], row["after_sales_yes"]),
        "repurchased": row["repurchased"],
    } for row in out.head(FIRST_ROWS).to_dict("records")]
    for record in records:
        for name in ("sale_satisfaction", "after_sales_satisfaction"):
            value = record[name]
            if isinstance(value, (bool, np.bool_)):
                record[name] = gettext("yes") if value else gettext("no")
    fields = [("customer_id", "text"), ("date", "date"), ("sale_satisfaction", "number"),
              ("after_sales_satisfaction", "number"), ("repurchased", "yes_no")]
    return build_preview(mapping, records, fields, ROW_COLUMN, always=tuple(name for name, _kind in fields))


def _headers(raw: pd.DataFrame, frame: pd.DataFrame) -> list[str]:
    mapping, _ = resolve_columns(raw.columns, COLUMNS, REQUIRED)
    return [mapping[name] for name in COLUMNS]


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=[ROW_COLUMN, "customer_no", "customer_id", "outcome_date", "sale_score", "sale_yes",
                                 "after_sales_score", "after_sales_yes", "repurchased"])


def _value(v):
    return None if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)) else v


def _fingerprints(rows: pd.DataFrame) -> list[str]:
    return [
        outcome_fingerprint(
            no, date, (_value(ss), _value(sy)), (_value(a_s), _value(ay)), bool(rep)
        )
        for no, date, ss, sy, a_s, ay, rep in zip(
            rows["customer_no"], rows["outcome_date"], rows["sale_score"], rows["sale_yes"],
            rows["after_sales_score"], rows["after_sales_yes"], rows["repurchased"],
        )
    ]


def _compare_with_stored(result: OutcomeImport) -> None:
    rows = result.rows
    rows["fingerprint"] = _fingerprints(rows)
    stored = _stored(rows)
    status = [
        "new" if (cid, d) not in stored else ("unchanged" if stored[(cid, d)][1] == fp else "changed")
        for cid, d, fp in zip(rows["customer_id"], rows["outcome_date"], rows["fingerprint"])
    ]
    rows["status"] = status
    result.new, result.changed, result.unchanged = (status.count(s) for s in ("new", "changed", "unchanged"))


def _stored(rows: pd.DataFrame) -> dict[tuple[int, dt.date], tuple[int, str]]:
    ids = [int(i) for i in rows["customer_id"].unique()]
    stored: dict = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        for oid, cid, date, fp in db.session.execute(
            db.select(Outcome.id, Outcome.customer_id, Outcome.outcome_date, Outcome.fingerprint)
            .where(Outcome.customer_id.in_(chunk))
        ):
            stored[(cid, date)] = (oid, fp)
    return stored


def write_outcomes(result: OutcomeImport, user_id: int | None = None) -> dict:
    """Write a checked import in the caller's transaction (all rows or none)."""
    if not result.ok:
        raise ValueError("the import has errors; fix them before writing")
    rows = result.rows
    stored = _stored(rows)
    inserts, updates = [], []
    for rec in rows.to_dict("records"):
        values = {
            "customer_id": int(rec["customer_id"]), "outcome_date": rec["outcome_date"],
            "sale_score": None if _value(rec["sale_score"]) is None else int(rec["sale_score"]),
            "sale_yes": None if _value(rec["sale_yes"]) is None else bool(rec["sale_yes"]),
            "after_sales_score": None if _value(rec["after_sales_score"]) is None else int(rec["after_sales_score"]),
            "after_sales_yes": None if _value(rec["after_sales_yes"]) is None else bool(rec["after_sales_yes"]),
            "repurchased": bool(rec["repurchased"]), "fingerprint": rec["fingerprint"], "source": "import",
        }
        key = (values["customer_id"], values["outcome_date"])
        if key not in stored:
            inserts.append({**values, "created_by_id": user_id})
        elif stored[key][1] != values["fingerprint"]:
            updates.append({"id": stored[key][0], **values})
    for start in range(0, len(inserts), 5000):
        db.session.execute(db.insert(Outcome), inserts[start:start + 5000])
    if updates:
        db.session.execute(db.update(Outcome), updates)
    return {"new": len(inserts), "changed": len(updates), "unchanged": len(rows) - len(inserts) - len(updates)}


def import_outcomes(data: bytes, filename: str, user_id: int | None) -> tuple[OutcomeImport, dict | None]:
    """Check ``data`` and write it (all or nothing, committed); returns the check and the counts
    (None when the file has problems).

    Two imports of the same outcomes at the same moment: the one that writes second meets the
    first one's rows (one outcome per customer and day), is rolled back, checked again against
    what is stored now and written once more; should it collide again,
    :class:`~app.web.bulk.ImportCollision` is raised and nothing of it is written."""
    return write_once_more_on_collision(lambda: check_outcomes(data, filename), lambda checked: checked.ok,
                                        lambda checked: write_outcomes(checked, user_id))
