"""Customers: the list with filters and active search, the customer page with its
classes, reasons and checklist, and the customer-value import."""
from __future__ import annotations

import datetime as dt
import math
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


@dataclass
class Listing:
    """The customers a list request asks for: its query (sorted), the run it shows and its settings."""

    query: sa.Select
    run: SegmentationRun | None
    active: dict
    q: str
    sort: str
    direction: str
    show_money: bool
    # The same rows as ``query`` up to where the sort key is empty (None: no such shortcut).
    ranked: sa.Select | None = None
    column: sa.ColumnElement | None = None  # the sort key
    counted: sa.Select | None = None  # a cheaper count of the same rows, where there is one

    def total(self) -> int:
        """How many customers the list holds."""
        counting = self.counted if self.counted is not None else sa.select(sa.func.count()).select_from(
            self.query.order_by(None).subquery())
        return db.session.scalar(counting) or 0

    def _seekable(self) -> sa.Select | None:
        """The query a page can be sought in by its sort key (a key that is never empty)."""
        if self.ranked is not None:
            return self.ranked
        return self.query if self.column is not None and self.column.class_ is Customer else None

    def after(self, row) -> dict:
        """Arguments that let the next page start right after ``row`` (a seek, not an offset)."""
        customer, segment = row
        source = customer if self.column.class_ is Customer else segment
        value = None if source is None else getattr(source, self.column.key)
        if value is None or self._seekable() is None:
            return {}
        return {"after": repr(float(value)) if isinstance(value, float) else str(value),
                "after_no": customer.customer_no}

    def _beyond(self, args) -> sa.ColumnElement | None:
        value, number = args.get("after"), args.get("after_no")
        if value is None or number is None or len(value) > 600 or len(number) > 64:
            return None
        if isinstance(self.column.type, sa.Float):
            try:
                value = float(value)
            except ValueError:
                return None
            if not math.isfinite(value):
                return None
        beyond = self.column < value if self.direction == "desc" else self.column > value
        return sa.or_(beyond, sa.and_(self.column == value, Customer.customer_no > number))

    def page(self, number: int, size: int, args=None) -> list:
        """The rows of page ``number`` (from 1) of ``query``; ``args`` with ``after``/``after_no``
        (from :meth:`after` of the previous page's last row) seek instead of skipping rows."""
        offset = (number - 1) * size
        seekable = self._seekable()
        if seekable is not None:
            beyond = self._beyond(args or {}) if number > 1 else None
            page = seekable.where(beyond) if beyond is not None else seekable.offset(offset)
            rows = db.session.execute(page.limit(size)).all()
            # a full page before the empty keys is the whole query's page; so is any page by customer
            if len(rows) == size or seekable is self.query:
                return rows
        return db.session.execute(self.query.limit(size).offset(offset)).all()

    @property
    def params(self) -> dict:
        """The request arguments that reproduce this list (for pages, sort links and the export)."""
        return {**self.active, **({"q": self.q} if self.q else {}), "sort": self.sort, "dir": self.direction}


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
    order = column.desc() if direction == "desc" else column.asc()
    ranked = None
    if run is not None and column.class_ is CustomerSegment and not term:
        # The customers whose sort key is set come first (nulls last), in the order of the
        # run's own rows: this part is read from customer_segments along an index
        # (ix_customer_segments_run_<key>) instead of sorting the join of every customer.
        # Not for a search: the few customers it finds are found first, then sorted.
        ranked = (query.where(column.is_not(None)).order_by(None)
                  .order_by(order, Customer.customer_no))
    # A customer's number and name are never empty: no NULLS LAST, so a backward index scan serves "desc".
    query = query.order_by(order if column.class_ is Customer else order.nulls_last(), Customer.customer_no)
    # How many: without a search, counted from one table (each run's row has its customer).
    counted = None
    if not term and not classes:
        counted = sa.select(sa.func.count()).select_from(Customer)
    elif not term and run is not None:
        counted = sa.select(sa.func.count()).select_from(CustomerSegment).where(
            CustomerSegment.run_id == run.id, *classes)
    return Listing(query, run, active, q, sort, direction, show_money, ranked, column, counted)


@bp.route("/")
@any_user
def index():
    """Customer list: filters by every class, sorting, active search, pages; htmx gets the results block."""
    listing = customer_listing(request.args)
    total = listing.total()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages)
    rows = listing.page(page, PAGE_SIZE, request.args)
    next_params = dict(listing.params, page=page + 1, **(listing.after(rows[-1]) if rows else {}))
    return render(
        "customers/index.html", block="results" if htmx and not htmx.boosted else "content",
        rows=rows, run=listing.run, stale=newer_import(listing.run), total=total, page=page, pages=pages,
        params=listing.params, next_params=next_params, q=listing.q,
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
        history_svg = charts.history_chart(list(history["period"]), history["revenue"].to_numpy(dtype=float),
                                           history["contribution"].to_numpy(dtype=float))
    entries = db.session.scalars(sa.select(ChecklistEntry).where(ChecklistEntry.customer_id == customer.id)
                                 .order_by(ChecklistEntry.created_at.desc(), ChecklistEntry.id.desc())).all()

    form = ChecklistForm()
    return render("customers/detail.html", **_detail_context(customer, run, segment, reasons, show_money,
                                                             history_svg, history, entries, form))


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
