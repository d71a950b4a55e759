"""Customers: the list with filters and active search, the customer page with its
classes, reasons and checklist, and the customer-value import."""
from __future__ import annotations

import base64
import datetime as dt
import json
import math
import zlib
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from app.extensions import db, htmx
from app.segments import charts, loaders
from app.segments.exports import Column, table_bytes
from app.segments.forms import ChecklistForm, ImportForm
from app.segments.importing import ImportConflict, check_upload, import_customer_values, parse_upload, problem_rows
from app.segments.kinds import BY_KEY, class_label
from app.segments.models import ChecklistEntry, Customer, CustomerSegment, SegmentationRun
from app.segments.runs import checklist_score, explain, latest_run, newer_import
from app.segments.search import SQLITE_SEARCH_TABLE, fold, fts_phrase, like_pattern
from app.web import uploads
from app.web.charts import cached_svg
from app.web.i18n import fmt_number, lang
from app.web.import_messages import reason_text
from app.web.jobs import enqueue
from app.web.rendering import htmx_response, render
from app.web.security import allow, any_user, has_role
from segmentation.definitions import CUSTOMER_TRAITS, PATIENT_TRAITS, POTENTIAL_SEGMENTS, PROFIT_TIERS, TRAJECTORIES

bp = Blueprint("customers", __name__, url_prefix="/customers", template_folder="templates")
PAGE_SIZE = 50
UPLOAD_KIND = "customer_values"
BACKGROUND_BYTES = 1_000_000  # about 20,000 rows of a typical export
MAX_CURSOR = 1000  # characters of a page link's cursor (a key of at most 600 and a customer number)
# query parameter -> (CustomerSegment column, its classes)
FILTERS = {
    name: (BY_KEY[kind].column, BY_KEY[kind].values)
    for name, kind in (("abc", "abc"), ("segment", "potential"), ("tier", "tier"), ("trajectory", "trajectory"))
}
# sort key -> (column, needs money rights)
SORTS = {
    "customer_no": (Customer.customer_no, False), "name": (Customer.name, False),
    "abc": (CustomerSegment.abc_class, False), "segment": (CustomerSegment.potential_segment, False),
    "tier": (CustomerSegment.profit_tier, False), "trajectory": (CustomerSegment.trajectory, False),
    "revenue": (CustomerSegment.revenue, True), "contribution": (CustomerSegment.contribution, True),
    "untapped": (CustomerSegment.untapped, True),
}


def _options(kind: str, keys) -> list[tuple[str, str]]:
    return [(key, class_label(kind, key, lang())) for key in keys]


def search_filter(term: str) -> list[sa.ColumnElement]:
    """The conditions that find ``term`` (folded) in the customers' search keys.

    The ``LIKE`` decides; on SQLite the trigram table narrows the candidates first (PostgreSQL's
    trigram index serves the ``LIKE`` itself). See :mod:`app.segments.search`.
    """
    conditions = [Customer.search_key.like(like_pattern(term), escape="\\")]
    phrase = fts_phrase(term)
    if phrase is not None and db.session.get_bind().dialect.name == "sqlite":
        found = sa.select(sa.column("rowid")).select_from(sa.table(SQLITE_SEARCH_TABLE)).where(
            sa.text(f"{SQLITE_SEARCH_TABLE} MATCH :phrase").bindparams(phrase=phrase))
        conditions.insert(0, Customer.id.in_(found))
    return conditions


class BadCursor(ValueError):
    """A page link whose cursor this list cannot read (edited, truncated, or of another sort)."""


@dataclass
class Window:
    """One page of the list: its rows, whether rows come before and after it, and the
    cursors of its first and last row (for the Previous and Next links)."""

    rows: list
    has_before: bool
    has_after: bool
    first: str | None
    last: str | None


@dataclass
class Listing:
    """The customers a list request asks for, in the list's order, and pages of them.

    The order is the sort key (empty keys last), then a tie-break in the same direction:
    the customer's id for a run's column, the customer number for the customer's own
    columns. A page is read by *keyset*: the rows after (or before) a cursor, i.e. the key
    and tie-break of a row, along the index of the sort (``ix_customer_segments_run_<key>``
    on (run, key, customer), ``ix_customers_name_customer_no``, the customer number's
    unique index), so page 20,000 costs what page 1 costs. Rows whose key is empty (a
    customer the run does not hold, or a figure the run left empty) form the list's tail,
    ordered by customer id.
    """

    query: sa.Select  # every row in the list's order (the export reads it)
    run: SegmentationRun | None
    active: dict
    q: str
    sort: str
    direction: str
    show_money: bool
    column: sa.ColumnElement  # the sort key
    base: sa.Select  # the rows, unordered
    counted: sa.Select | None = None  # a cheaper count of the same rows, where there is one
    filtered: bool = False  # a class filter is set: customers outside the run cannot match

    def total(self) -> int:
        """How many customers the list holds."""
        counting = self.counted if self.counted is not None else sa.select(sa.func.count()).select_from(
            self.base.subquery())
        return db.session.scalar(counting) or 0

    # ---------------------------------------------------------------- the order's parts

    @property
    def _of_run(self) -> bool:
        return self.column.class_ is CustomerSegment

    @property
    def _tie(self) -> sa.ColumnElement:
        return CustomerSegment.customer_id if self._of_run else Customer.customer_no

    def _keyed(self, cursor, forward: bool, limit: int) -> list:
        """Rows with a key, after (forward) or before the cursor's (value, tie), nearest first."""
        query = self.base.where(self.column.is_not(None)) if self._of_run else self.base
        ascending = (self.direction == "asc") == forward
        if cursor is not None:
            row, bound = sa.tuple_(self.column, self._tie), sa.tuple_(sa.literal(cursor[0]), sa.literal(cursor[1]))
            query = query.where(row > bound if ascending else row < bound)
        order = (self.column.asc(), self._tie.asc()) if ascending else (self.column.desc(), self._tie.desc())
        return db.session.execute(query.order_by(*order).limit(limit)).all()

    def _unkeyed(self, after_id, forward: bool, limit: int) -> list:
        """Rows without a key (a run's column only), after or before customer ``after_id``, nearest first.

        Two index-served parts merged by id: the run's rows whose figure is empty, and the
        customers the run does not hold (only looked for when there can be any)."""
        if not self._of_run:
            return []
        ascending = (self.direction == "asc") == forward

        def part(query, number):
            seek = [] if after_id is None else [number > after_id if ascending else number < after_id]
            ordered = query.where(*seek).order_by(number.asc() if ascending else number.desc())
            return db.session.execute(ordered.limit(limit)).all()

        rows = part(self.base.where(CustomerSegment.customer_id.is_not(None), self.column.is_(None)),
                    CustomerSegment.customer_id)
        if self.run is None or (not self.filtered and self._outside_run()):
            rows += part(self.base.where(CustomerSegment.customer_id.is_(None)), Customer.id)
            rows.sort(key=lambda row: row[0].id, reverse=not ascending)
        return rows[:limit]

    def _outside_run(self) -> bool:
        """Whether some customer has no row in the run (customers imported after it)."""
        if self.run is None:
            return True
        held = db.session.scalar(sa.select(sa.func.count()).select_from(CustomerSegment).where(
            CustomerSegment.run_id == self.run.id)) or 0
        return (db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) or 0) > held

    def _cursor(self, row) -> str:
        """The cursor of ``row``: where a page after or before it starts."""
        customer, segment = row
        if self._of_run:
            value = None if segment is None else getattr(segment, self.column.key)
        else:
            value = getattr(customer, self.column.key)
        if value is None:
            return encode_cursor([self.sort, self.direction, "u", None, customer.id])
        tie = segment.customer_id if self._of_run else customer.customer_no
        return encode_cursor([self.sort, self.direction, "k", value, tie])

    def _read(self, token: str) -> tuple[str, object, object]:
        """``(part, value, tie)`` of a cursor made by :meth:`_cursor` for this sort, else :class:`BadCursor`."""
        parts = decode_cursor(token)
        if len(parts) != 5 or parts[:2] != [self.sort, self.direction] or parts[2] not in ("k", "u"):
            raise BadCursor(token)
        part, value, tie = parts[2:]
        if part == "u":
            if value is not None or not self._of_run or not _is_id(tie):
                raise BadCursor(token)
            return part, None, tie
        if isinstance(self.column.type, sa.Float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            value = float(value) if ok else None
        else:
            ok = isinstance(value, str) and len(value) <= 600
        tie_ok = _is_id(tie) if self._of_run else isinstance(tie, str) and len(tie) <= 64
        if not ok or not tie_ok:
            raise BadCursor(token)
        return part, value, tie

    # ---------------------------------------------------------------- pages

    def window(self, size: int, after: str | None = None, before: str | None = None, last: bool = False) -> Window:
        """The page of ``size`` rows after the cursor ``after``, before the cursor ``before``,
        the last page (``last``), or else the first; :class:`BadCursor` for a cursor it cannot read."""
        forward = before is None and not last
        token = after if forward else before
        part, value, tie = self._read(token) if token else (None, None, None)
        want = size + 1  # one more tells whether there is a further page
        if forward:
            rows = [] if part == "u" else self._keyed(None if part is None else (value, tie), True, want)
            if len(rows) < want:
                rows += self._unkeyed(tie if part == "u" else None, True, want - len(rows))
        else:
            rows = self._unkeyed(tie, False, want) if part in (None, "u") else []
            if len(rows) < want:
                rows += self._keyed(None if part in (None, "u") else (value, tie), False, want - len(rows))
        further = len(rows) > size
        rows = rows[:size]
        if not forward:
            rows.reverse()
        has_before, has_after = (bool(token), further) if forward else (further, bool(token))
        return Window(rows, has_before, has_after, self._cursor(rows[0]) if rows else None,
                      self._cursor(rows[-1]) if rows else None)

    @property
    def params(self) -> dict:
        """The request arguments that reproduce this list (for pages, sort links and the export)."""
        return {**self.active, **({"q": self.q} if self.q else {}), "sort": self.sort, "dir": self.direction}


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


def encode_cursor(parts: list) -> str:
    """A cursor for the URL: the JSON of its parts, base64url without padding."""
    return base64.urlsafe_b64encode(json.dumps(parts, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(token: str) -> list:
    """The parts of a cursor made by :func:`encode_cursor`; :class:`BadCursor` for anything else."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_CURSOR:
        raise BadCursor(token)
    try:
        parts = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    except (ValueError, UnicodeDecodeError) as error:  # binascii.Error is a ValueError
        raise BadCursor(token) from error
    if not isinstance(parts, list):
        raise BadCursor(token)
    return parts


def customer_listing(args) -> Listing:
    """The filtered, searched and sorted customers of the latest run, as the list and its export show them."""
    show_money = has_role("manager", "leadership")
    run = latest_run()
    query = sa.select(Customer, CustomerSegment)
    if run is not None:
        query = query.outerjoin(CustomerSegment, sa.and_(CustomerSegment.customer_id == Customer.id,
                                                         CustomerSegment.run_id == run.id))
    else:
        query = query.outerjoin(CustomerSegment, sa.false())
    active, classes = {}, []
    for name, (column, keys) in FILTERS.items():
        value = args.get(name, "")
        if value in keys:
            classes.append(getattr(CustomerSegment, column) == value)
            active[name] = value
    if args.get("burr") in ("1", "yes"):
        classes.append(CustomerSegment.burr.is_(True))
        active["burr"] = "1"
    query = query.where(*classes)
    q = (args.get("q") or "").strip()[:100]
    term = fold(q)
    if term:
        query = query.where(*search_filter(term))
    sort = args.get("sort", "revenue" if show_money else "customer_no")
    if sort not in SORTS or (SORTS[sort][1] and not show_money):
        sort = "customer_no"
    direction = "asc" if args.get("dir") == "asc" else "desc" if args.get("dir") == "desc" else (
        "desc" if SORTS[sort][1] else "asc")
    column = SORTS[sort][0]
    # The whole list in the order its pages have (see Listing): key, then the tie-break.
    if column.class_ is Customer:
        order = (column, Customer.customer_no)
        ordered = query.order_by(*(c.desc() if direction == "desc" else c.asc() for c in order))
    else:
        ordered = query.order_by((column.desc() if direction == "desc" else column.asc()).nulls_last(),
                                 Customer.id.desc() if direction == "desc" else Customer.id.asc())
    # How many: without a search, counted from one table (each run's row has its customer).
    counted = None
    if not term and not classes:
        counted = sa.select(sa.func.count()).select_from(Customer)
    elif not term and run is not None:
        counted = sa.select(sa.func.count()).select_from(CustomerSegment).where(
            CustomerSegment.run_id == run.id, *classes)
    return Listing(ordered, run, active, q, sort, direction, show_money, column, query, counted, bool(classes))


def _page_label(value, pages: int) -> int:
    """The page number a link carries (a label only: the cursor says where the page is)."""
    try:
        return min(max(1, int(value or 1)), pages)
    except (TypeError, ValueError, OverflowError):
        return 1


@bp.route("/")
@any_user
def index():
    """Customer list: filters by every class, sorting, active search, pages (First, Previous,
    Next, Last by keyset cursors); htmx gets the results block."""
    listing = customer_listing(request.args)
    total = listing.total()
    pages = max(1, -(-total // PAGE_SIZE))
    after, before = request.args.get("after"), request.args.get("before")
    last = request.args.get("last") == "1"
    bad_link = False
    try:
        window = listing.window(PAGE_SIZE, after=after or None, before=before or None, last=last)
    except BadCursor:
        bad_link = True
        window = listing.window(PAGE_SIZE)
    if not window.rows and (after or before):  # past either end (rows deleted meanwhile): the end's page
        window = listing.window(PAGE_SIZE, last=bool(after))
    page = 1 if bad_link or not window.has_before else pages if not window.has_after else _page_label(
        request.args.get("page"), pages)
    base = listing.params
    links = {}
    if window.has_before:
        links["first"] = base
        links["prev"] = dict(base, before=window.first, page=max(1, page - 1))
    if window.has_after:
        links["next"] = dict(base, after=window.last, page=min(pages, page + 1))
        links["last"] = dict(base, last=1, page=pages)
    return render(
        "customers/index.html", block="results" if htmx and not htmx.boosted else "content",
        rows=window.rows, run=listing.run, stale=newer_import(listing.run), total=total, page=page, pages=pages,
        params=base, links=links, bad_link=bad_link, q=listing.q,
        sort=listing.sort, direction=listing.direction, active=listing.active, show_money=listing.show_money,
        filter_options={name: _options(column, keys) for name, (column, keys) in FILTERS.items()},
        label=lambda kind, key: class_label(kind, key, lang()),
    )


LIST_COLUMNS = (
    Column("customer_no", _l("Customer no.")),
    Column("name", _l("Name")),
    Column("customer_since", _l("Customer since"), "date"),
    Column("abc_class", _l("ABC class")),
    Column("potential_segment", _l("Potential segment"), "label:potential_segment"),
    Column("profit_tier", _l("Profit tier")),
    Column("trajectory", _l("Trajectory"), "label:trajectory"),
    Column("burr", _l("Burr (Klette)"), "yes_no"),
)
MONEY_COLUMNS = (
    Column("revenue", _l("Revenue (€)"), "money"),
    Column("contribution", _l("Contribution margin (€)"), "money"),
    Column("untapped", _l("Untapped potential"), "number"),
)


@bp.route("/export.<fmt>")
@any_user
def export(fmt: str):
    """The customers the list shows with its current filters, search and sort (all pages), as CSV or XLSX."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    listing = customer_listing(request.args)
    columns = LIST_COLUMNS + (MONEY_COLUMNS if listing.show_money else ())
    fields = [Customer.customer_no, Customer.name, Customer.customer_since, CustomerSegment.abc_class,
              CustomerSegment.potential_segment, CustomerSegment.profit_tier, CustomerSegment.trajectory,
              CustomerSegment.burr, CustomerSegment.revenue, CustomerSegment.contribution, CustomerSegment.untapped]
    rows = db.session.execute(listing.query.with_only_columns(*fields)).all()
    frame = pd.DataFrame(rows, columns=[field.key for field in fields])
    if listing.run is not None and (listing.run.summary or {}).get("potential_basis") == "rating":
        frame["untapped"] = None  # a rating gap, not money: the list leaves it out as well
    if not listing.show_money:
        frame = frame.drop(columns=[column.code for column in MONEY_COLUMNS])
    data, mimetype = table_bytes(frame, columns, fmt, lang(), sheet="customers")
    filename = f"customers-{dt.date.today().isoformat()}.{fmt}"
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/<int:customer_id>")
@any_user
def detail(customer_id: int):
    """A customer: classes with reasons, value history (money roles), checklist and its history."""
    customer = db.get_or_404(Customer, customer_id)
    show_money = has_role("manager", "leadership")
    run = latest_run()
    segment = None
    if run is not None:
        segment = db.session.scalar(sa.select(CustomerSegment).where(
            CustomerSegment.run_id == run.id, CustomerSegment.customer_id == customer.id))
    reasons = explain(segment, run, lang(), show_money) if segment is not None else {}
    history_svg = None
    history = None
    if show_money:
        history = loaders.customer_history(customer.id)
        history_svg = history_chart(customer.id, history)
    entries = db.session.scalars(sa.select(ChecklistEntry).where(ChecklistEntry.customer_id == customer.id)
                                 .order_by(ChecklistEntry.created_at.desc(), ChecklistEntry.id.desc())).all()

    form = ChecklistForm()
    return render("customers/detail.html", **_detail_context(customer, run, segment, reasons, show_money,
                                                             history_svg, history, entries, form))


def history_chart(customer_id: int, history: pd.DataFrame):
    """The customer's value-history chart, drawn once per version of its values and language.

    Kept in the chart cache (scope per customer, owner = a checksum of the values): new values
    give a new version, and storing it drops the customer's older ones."""
    periods = [str(period) for period in history["period"]]
    revenue = history["revenue"].to_numpy(dtype=float)
    contribution = history["contribution"].to_numpy(dtype=float)
    values = (tuple(periods), tuple(revenue.tolist()), tuple(contribution.tolist()))
    version = zlib.crc32(repr(values).encode()) & 0x7FFFFFFF
    return cached_svg(f"customers/history/{customer_id}", version, ("history", lang(), values),
                      lambda: charts.history_chart(periods, revenue, contribution))


def _detail_context(customer, run, segment, reasons, show_money, history_svg, history, entries, form) -> dict:
    language = lang()
    return {
        "customer": customer, "run": run, "stale": newer_import(run), "segment": segment, "reasons": reasons,
        "show_money": show_money,
        "history_svg": history_svg, "history": history, "entries": entries, "form": form,
        "language": language, "segments": POTENTIAL_SEGMENTS, "tiers": PROFIT_TIERS, "trajectories": TRAJECTORIES,
        "customer_traits": CUSTOMER_TRAITS, "patient_traits": PATIENT_TRAITS,
        "label": lambda kind, key: class_label(kind, key, language),
    }


@bp.route("/<int:customer_id>/checklist", methods=["POST"])
@allow("manager")
def checklist(customer_id: int):
    """Save a dated customer-vs-patient assessment."""
    customer = db.get_or_404(Customer, customer_id)
    form = ChecklistForm()
    if form.validate_on_submit():
        answers = {key: bool(getattr(form, f"trait_{key}").data) for key in (*CUSTOMER_TRAITS, *PATIENT_TRAITS)}
        score, patient_class = checklist_score(answers)
        db.session.add(ChecklistEntry(customer_id=customer.id, created_by_id=current_user.id, answers=answers,
                                      score=score, patient_class=patient_class, note=form.note.data or ""))
        db.session.commit()
        flash(_("Checklist saved."), "success")
        target = url_for("customers.detail", customer_id=customer.id) + "#checklist"
        return htmx_response("", redirect=target) if htmx else redirect(target, code=303)
    # Only the note can be invalid (too long): say so and keep nothing half-saved.
    problems = "; ".join(str(e) for errors in form.errors.values() for e in errors)
    flash(_("The checklist was not saved: %(problems)s", problems=problems), "error")
    target = url_for("customers.detail", customer_id=customer.id) + "#checklist"
    return htmx_response("", redirect=target) if htmx else redirect(target, code=303)


@bp.route("/import", methods=["GET", "POST"])
@allow("manager")
def import_upload():
    """Upload and check a file: the problem report, or the preview with a confirm button."""
    form = ImportForm()
    check = None
    token = None
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        filename = upload.filename or "upload.csv"
        check = check_upload(data, filename, form.sheet.data)
        if check.ok:
            token = uploads.stage(data, filename, UPLOAD_KIND, current_user.id)
    status = 422 if form.errors or (check is not None and not check.ok) else 200

    return render("customers/import.html", form=form, check=check, reason_text=reason_text, language=lang(),
                  token=token, sheet=form.sheet.data or "",
                  problems=problem_rows(check.problems) if check else [],
                  background=check is not None and check.ok and len(data) > BACKGROUND_BYTES,
                  status=status)


@bp.route("/import/<token>", methods=["POST"])
@allow("manager")
def import_confirm(token: str):
    """Write the previewed file (all or nothing); large files through a background job."""
    staged = uploads.load(token, UPLOAD_KIND, current_user.id)
    sheet = (request.form.get("sheet") or "")[:100] or None
    if len(staged.data) > BACKGROUND_BYTES:
        # Large files (roughly > 20,000 rows) are parsed again and written by a job with progress.

        job = enqueue("customer_import", created_by_id=current_user.id, token=token, user_id=current_user.id,
                      sheet=sheet, redirect=url_for("customers.index"))
        return redirect(url_for("jobs.status", job_id=job.id), code=303)
    check = parse_upload(staged.data, staged.filename, sheet)
    if not check.ok:
        flash(_("The file has problems; upload it again to see them."), "error")
        return redirect(url_for("customers.import_upload"), code=303)
    try:
        counts = import_customer_values(check, user_id=current_user.id)
    except ImportConflict as conflict:  # rolled back: the file can simply be imported again
        flash(_(str(conflict)), "error")
        return redirect(url_for("customers.import_upload"), code=303)
    uploads.discard(token)
    message = " ".join((
        ngettext("Imported %(n)s row:", "Imported %(n)s rows:", counts["rows"], n=fmt_number(counts["rows"])),
        ngettext("%(n)s new customer,", "%(n)s new customers,", counts["customers_new"],
                 n=fmt_number(counts["customers_new"])),
        _("%(values_new)s new and %(changed)s changed values.", values_new=fmt_number(counts["values_new"]),
          changed=fmt_number(counts["values_changed"])),
    ))
    run = latest_run()
    if newer_import(run) is not None:
        message += " " + _("Segmentation run %(id)s was made before these values and no longer matches the data; "
                           "run it again.", id=run.id)
    flash(message, "success")
    return redirect(url_for("customers.index"), code=303)
