"""Customers: the list with filters and active search, the customer page with its
classes, reasons and checklist, and the customer-value import."""
from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable, Iterator
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
from app.segments.analysis import FILTERS, BadCursor, Listing, Total, Window, customer_listing, may_see_money
from app.segments.exports import (
    CSV_MIMETYPE,
    XLSX_DIRECT_CUSTOMERS,
    Column,
    statement_chunks,
    streamed_csv,
    table_bytes,
)
from app.segments.forms import ChecklistForm, ImportForm
from app.segments.importing import ImportConflict, check_upload, import_customer_values, parse_upload, problem_rows
from app.segments.kinds import class_label
from app.segments.models import ChecklistEntry, Customer, CustomerSegment
from app.segments.runs import checklist_score, explain, latest_run, newer_import
from app.touchpoint_audit.labels import finding_title, metric_names, trajectory_risk, trajectory_risk_definition
from app.touchpoint_audit.loaders import PENALISED_KINDS, penalised_condition
from app.touchpoint_audit.models import Finding
from app.touchpoint_audit.rules import may_see_finding
from app.web import uploads
from app.web.args import optional_id
from app.web.charts import cached_svg
from app.web.i18n import fmt_number, lang
from app.web.import_messages import reason_text
from app.web.jobs import enqueue
from app.web.rendering import htmx_response, render
from app.web.security import allow, any_user, require
from segmentation.definitions import CUSTOMER_TRAITS, PATIENT_TRAITS, POTENTIAL_SEGMENTS, PROFIT_TIERS, TRAJECTORIES

bp = Blueprint("customers", __name__, url_prefix="/customers", template_folder="templates")
PAGE_SIZE = 50
MAX_PAGE_LABEL = 10**9  # the largest page number a link carries when the list was not counted
UPLOAD_KIND = "customer_values"
BACKGROUND_BYTES = 1_000_000  # about 20,000 rows of a typical export
def _options(kind: str, keys) -> list[tuple[str, str]]:
    return [(key, class_label(kind, key, lang())) for key in keys]


def finding_filter(args, checked: bool = False) -> Finding | None:
    """The finding named by ``?finding=`` whose penalised customers the list shows (None: no such filter).

    404 for anything that names no finding with penalised customers (not a number, unknown, too
    large, another kind), 403 for a finding the user may not see: never the list instead."""
    raw = args.get("finding", "")
    if raw == "":
        return None
    finding_id = optional_id(raw)
    finding = db.session.get(Finding, finding_id) if finding_id is not None else None
    if finding is None or finding.kind not in PENALISED_KINDS:
        abort(404)
    if not checked:  # (a job's list was checked in the request that made the job)
        require(may_see_finding(finding))
    return finding


def listing_of(args, show_money: bool | None = None, checked: bool = False) -> Listing:
    """The customer list a request asks for, limited to a finding's penalised customers when
    ``?finding=`` names one (as the list's run places them: its segment row is the one joined).
    A job passes the rights its request had (``show_money``, ``checked``): it has no user."""
    finding = finding_filter(args, checked)
    limited = None if finding is None else ("finding", str(finding.id), penalised_condition(finding))
    listing = customer_listing(args, limited_to=limited, show_money=show_money)
    listing.limited_by = finding
    return listing


def _page_label(value, pages: int) -> int | None:
    """The page number a link carries (a label only: the cursor says where the page is); None
    when it carries none (a page reached from the end of a list that was not counted)."""
    if value in (None, ""):
        return None
    try:
        return min(max(1, int(value)), pages)
    except (TypeError, ValueError, OverflowError):
        return None


@dataclass
class KeysetPage:
    """A page of a keyset list as a page shows it: its rows, the page number it is labelled with
    (None where it is not known), the number of pages (None: not counted), the links, and
    whether the link it came from could not be read."""

    window: Window
    page: int | None
    pages: int | None
    links: dict
    bad_link: bool


def keyset_page(listing: Listing, args, size: int, total: Total) -> KeysetPage:
    """The page ``args`` asks for (``after``, ``before``, ``last``; ``page`` is a label only) and
    its First / Previous / Next / Last links; a link it cannot read gives the first page."""
    pages = None if total.more else max(1, -(-total.n // size))  # None: more than COUNT_CAP, not counted
    after, before = args.get("after"), args.get("before")
    last = args.get("last") == "1"
    bad_link = False
    try:
        window = listing.window(size, after=after or None, before=before or None, last=last)
    except BadCursor:
        bad_link = True
        window = listing.window(size)
    if not window.rows and (after or before):  # past either end (rows deleted meanwhile): the end's page
        window = listing.window(size, last=bool(after))
    if bad_link or not window.has_before:
        page = 1
    elif not window.has_after:
        page = pages  # the last page (its number unknown when the list was not counted to its end)
    else:
        page = _page_label(args.get("page"), pages or MAX_PAGE_LABEL)
    base = listing.params
    links = {}
    if window.has_before:
        links["first"] = base
        links["prev"] = dict(base, before=window.first, **({"page": max(1, page - 1)} if page else {}))
    if window.has_after:
        links["next"] = dict(base, after=window.last, **({"page": min(pages or MAX_PAGE_LABEL, page + 1)}
                                                         if page else {}))
        links["last"] = dict(base, last=1, **({"page": pages} if pages else {}))
    return KeysetPage(window, page, pages, links, bad_link)


@bp.route("/")
@any_user
def index():
    """Customer list: filters by every class, sorting, active search, pages (First, Previous,
    Next, Last by keyset cursors); htmx gets the results block."""
    listing = listing_of(request.args)
    total = listing.total()
    paged = keyset_page(listing, request.args, PAGE_SIZE, total)
    return render(
        "customers/index.html", block="results" if htmx and not htmx.boosted else "content",
        rows=paged.window.rows, run=listing.run, stale=newer_import(listing.run), total=total, page=paged.page,
        pages=paged.pages, params=listing.params, links=paged.links, bad_link=paged.bad_link, q=listing.q,
        sort=listing.sort, direction=listing.direction, active=listing.active, show_money=listing.show_money,
        filter_options={name: _options(column, keys) for name, (column, keys) in FILTERS.items()},
        label=lambda kind, key: class_label(kind, key, lang()), **_finding_context(listing),
    )


def _finding_context(listing: Listing) -> dict:
    """What the list says about a finding it is limited to: its title, what "penalised" means,
    the run its figure was counted in, and the list without that filter."""
    finding = listing.limited_by
    if finding is None:
        return {"finding": None}
    risk = trajectory_risk(finding)
    return {
        "finding": finding, "finding_title": finding_title(finding, metric_names()),
        "finding_definition": trajectory_risk_definition(finding, listing.show_money),
        "finding_run_id": risk["run_id"] if risk else None,
        "without_finding": {k: v for k, v in listing.params.items() if k != "finding"},
    }


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


LIST_FIELDS = (Customer.customer_no, Customer.name, Customer.customer_since, CustomerSegment.abc_class,
               CustomerSegment.potential_segment, CustomerSegment.profit_tier, CustomerSegment.trajectory,
               CustomerSegment.burr, CustomerSegment.revenue, CustomerSegment.contribution, CustomerSegment.untapped)


def list_columns(listing: Listing) -> tuple[Column, ...]:
    """The export's columns: the money ones only for managers and leadership."""
    return LIST_COLUMNS + (MONEY_COLUMNS if listing.show_money else ())


def list_frames(listing: Listing) -> Callable[[], Iterator[pd.DataFrame]]:
    """The list's rows (all pages, in its order) as frames of ten thousand, read when called (in a
    streamed response's own context or a job): the statement is made now, in the request."""
    statement = listing.query.with_only_columns(*LIST_FIELDS)
    rating = listing.run is not None and (listing.run.summary or {}).get("potential_basis") == "rating"
    money = listing.show_money

    def frames() -> Iterator[pd.DataFrame]:
        for frame in statement_chunks(statement, [field.key for field in LIST_FIELDS]):
            if rating:
                frame["untapped"] = None  # a rating gap, not money: the list leaves it out as well
            yield frame if money else frame.drop(columns=[column.code for column in MONEY_COLUMNS])

    return frames


@bp.route("/export.<fmt>")
@any_user
def export(fmt: str):
    """The customers the list shows with its current filters, search and sort (all pages): CSV
    streamed as it is read; XLSX at once up to 20,000 customers, above that written by a job
    (its page shows the progress, then the download)."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    listing = listing_of(request.args)
    columns = list_columns(listing)
    filename = f"customers-{dt.date.today().isoformat()}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "csv":
        return Response(streamed_csv(list_frames(listing), columns, lang()), mimetype=CSV_MIMETYPE, headers=headers)
    # counted up to one more than the limit: a search of a million customers is not counted whole
    up_to = db.session.scalar(sa.select(sa.func.count()).select_from(
        listing.base.limit(XLSX_DIRECT_CUSTOMERS + 1).subquery())) or 0
    if up_to > XLSX_DIRECT_CUSTOMERS:
        job = enqueue("customer_list_xlsx_export", created_by_id=current_user.id, args=_export_args(request.args),
                      show_money=listing.show_money, language=lang(), filename=filename)
        return redirect(url_for("jobs.status", job_id=job.id), code=303)
    frame = pd.concat(list(list_frames(listing)()) or [pd.DataFrame(columns=[c.code for c in columns])],
                      ignore_index=True)
    data, mimetype = table_bytes(frame, columns, fmt, lang(), sheet="customers")
    return Response(data, mimetype=mimetype, headers=headers)


def _export_args(args) -> dict:
    """The request arguments that choose the list (filters, search, sort, finding), for a job."""
    return {name: args.get(name) for name in (*FILTERS, "burr", "q", "sort", "dir", "finding") if args.get(name)}


@bp.route("/<int:customer_id>")
@any_user
def detail(customer_id: int):
    """A customer: classes with reasons, value history (money roles), checklist and its history."""
    customer = db.get_or_404(Customer, customer_id)
    show_money = may_see_money()
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
