"""Segmentation: overview with charts and care strategies, runs, history, comparison, export."""
from __future__ import annotations

import numpy as np
import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db, htmx
from app.segments import charts, loaders
from app.segments.analysis import Total, run_class_listing
from app.segments.customers import keyset_page
from app.segments.exports import CSV_MIMETYPE, XLSX_DIRECT_CUSTOMERS, run_csv, run_export
from app.segments.forms import RunForm
from app.segments.kinds import BY_COLUMN, BY_KEY, CLASS_COLUMNS, class_label
from app.segments.models import CustomerSegment, SegmentationRun
from app.segments.runs import latest_run, newer_import, parameters_with_defaults, run_segmentation, transition_matrix
from app.web.args import db_int
from app.web.charts import cached_svg
from app.web.i18n import lang
from app.web.jobs import enqueue
from app.web.rendering import htmx_response, render
from app.web.security import allow, any_user, has_role
from segmentation.definitions import DEFINITIONS, POTENTIAL_SEGMENTS, PROFIT_TIERS

bp = Blueprint("segments", __name__, url_prefix="/segments", template_folder="templates")
BACKGROUND_CUSTOMERS = 50_000
# A run's XLSX of more customers is written by a background job (about 2 s per 10,000 rows).
# the classifications the comparison offers, the potential matrix first (the default)
DIMENSIONS = ("potential_segment", *(column for column in CLASS_COLUMNS if column != "potential_segment"))


def labels(kind: str, keys) -> dict:
    """key → label in the current language."""
    return {key: class_label(kind, key, lang()) for key in keys}


def overview_charts(run: SegmentationRun, segment_labels: dict, trajectory_labels: dict) -> dict:
    """The overview's three charts of ``run``, drawn once per run and language (cached in the database)."""
    summary = run.summary or {}
    counts = summary.get("counts", {})
    inputs = (lang(), [(k, str(v)) for k, v in sorted(segment_labels.items())],
              [(k, str(v)) for k, v in sorted(trajectory_labels.items())])

    def matrix():
        sample = db.session.execute(
            sa.select(CustomerSegment.revenue, CustomerSegment.untapped, CustomerSegment.potential_segment)
            .where(CustomerSegment.run_id == run.id).order_by(CustomerSegment.customer_id).limit(3000)
        ).all()
        if sample:
            x, y, seg = (np.array(column, dtype=object) for column in zip(*sample))
        else:
            x = y = seg = np.array([])
        return charts.matrix_chart(
            x.astype(float), y.astype(float), seg, summary.get("split_revenue"), summary.get("split_potential"),
            counts.get("potential_segment", {}), segment_labels, rating=summary.get("potential_basis") == "rating")

    drawings = {
        "pareto_svg": lambda: charts.pareto_chart(summary.get("pareto") or [],
                                                  tuple(run.parameters.get("abc", (0.8, 0.95)))),
        "matrix_svg": matrix,
        "trajectory_svg": lambda: charts.trajectory_multiples(summary.get("typical") or {}, trajectory_labels,
                                                              counts.get("trajectory", {})),
    }
    return {name: cached_svg("segments/overview", run.id, (name, *inputs), draw) for name, draw in drawings.items()}


@bp.route("/")
@any_user
def overview():
    """The latest run: charts and money figures for managers and leadership, care strategies for all."""
    run = latest_run()
    if run is not None and "counts" not in (run.summary or {}):
        run = None  # a run without results (e.g. created by hand) shows as none
    show_money = has_role("manager", "leadership")
    ctx = {"run": run, "stale": newer_import(run), "show_money": show_money, "language": lang(),
           "segments": POTENTIAL_SEGMENTS, "tiers": PROFIT_TIERS, "abc_classes": BY_KEY["abc"].values,
           "segment_labels": labels("potential_segment", BY_KEY["potential"].values),
           "trajectory_labels": labels("trajectory", BY_KEY["trajectory"].values)}
    if run is not None and show_money:
        ctx.update(overview_charts(run, ctx["segment_labels"], ctx["trajectory_labels"]))
    return render("segments/overview.html", **ctx)


@bp.route("/run", methods=["GET", "POST"])
@allow("manager")
def run():
    """Parameters form; runs inline for small data, as a background job for many customers."""
    form = RunForm()
    periods = loaders.available_periods()
    if request.method == "GET":
        window = loaders.default_window(periods)
        if window:
            form.window_start.data, form.window_end.data = window
        again = db.session.get(SegmentationRun, request.args.get("again", type=int) or 0)
        if again is not None:
            form.repeat(again.window_start, again.window_end, parameters_with_defaults(again.parameters))
    if form.validate_on_submit():
        start, end = form.window_start.data, form.window_end.data
        n_customers = loaders.customers_in_window(start, end)
        if n_customers == 0:
            form.window_end.errors.append(_("No customer has values between %(start)s and %(end)s.",
                                            start=start, end=end))
        elif n_customers > BACKGROUND_CUSTOMERS:

            job = enqueue("segmentation_run", created_by_id=current_user.id, window_start=start, window_end=end,
                          parameters=form.parameters(), user_id=current_user.id,
                          redirect=url_for("segments.overview"))
            return _go(url_for("jobs.status", job_id=job.id))
        else:
            try:
                result = run_segmentation(start, end, form.parameters(), user_id=current_user.id)
            except ValueError as error:
                form.window_end.errors.append(str(error))
            else:
                flash(_("Segmentation run %(id)s done: %(n)s customers.", id=result.id, n=result.n_customers),
                      "success")
                return _go(url_for("segments.overview"))
    return render("segments/run.html", form=form, periods=periods, status=422 if form.errors else 200)


def _go(target: str):
    if htmx:
        return htmx_response("", redirect=target)
    return redirect(target, code=303)


@bp.route("/runs")
@allow("manager", "leadership")
def runs():
    """History of segmentation runs with their exports."""
    rows = db.session.scalars(sa.select(SegmentationRun).order_by(SegmentationRun.id.desc()).limit(200)).all()
    return render("segments/runs.html", runs=rows)


@bp.route("/compare")
@allow("manager", "leadership")
def compare():
    """Transition matrix between two runs for one classification."""
    all_runs = db.session.scalars(sa.select(SegmentationRun).where(SegmentationRun.status == "done")
                                  .order_by(SegmentationRun.id.desc()).limit(200)).all()
    run_a = request.args.get("a", type=db_int) or (all_runs[1].id if len(all_runs) > 1 else None)
    run_b = request.args.get("b", type=db_int) or (all_runs[0].id if all_runs else None)
    dimension = request.args.get("dimension", "potential_segment")
    if dimension not in DIMENSIONS:
        dimension = "potential_segment"
    matrix = None
    kept = total = 0
    if run_a and run_b:
        matrix = transition_matrix(run_a, run_b, dimension, keep=True)
        if not matrix.empty:
            total = int(matrix.to_numpy().sum())
            kept = int(sum(matrix.at[key, key] for key in matrix.index))
    kind = dimension
    return render("segments/compare.html", runs=all_runs, run_a=run_a, run_b=run_b, dimension=dimension,
                  dimensions={d: BY_COLUMN[d].label for d in DIMENSIONS}, matrix=matrix, kept=kept, total=total,
                  label=lambda key: class_label(kind, key, lang()) if key != "—" else _("not classified"))


DIMENSION_TITLES = {"potential_segment": _l("Potential segment"), "abc_class": _l("ABC class"),
                    "profit_tier": _l("Profit tier"), "trajectory": _l("Trajectory")}
PAGE_SIZE = 50
UNCLASSIFIED = "—"  # the transition matrix's row and column of customers without a class


@bp.route("/runs/<int:run_id>")
@allow("manager", "leadership")
def run_detail(run_id: int):
    """One run: who ran it when, its window and thresholds, its counts per class and its totals."""
    run = db.get_or_404(SegmentationRun, run_id)
    summary = run.summary or {}
    counts = summary.get("counts") or {}
    classes = {dimension: [(key, class_label(dimension, key, lang()), (counts.get(dimension) or {}).get(key, 0))
                           for key in DEFINITIONS[dimension]] for dimension in DIMENSIONS}
    return render("segments/run_detail.html", run=run, summary=summary, parameters=parameters_with_defaults(
        run.parameters), classes=classes, titles=DIMENSION_TITLES, stale=newer_import(run))


@bp.route("/runs/<int:run_id>/customers")
@allow("manager", "leadership")
def run_customers(run_id: int):
    """The customers of one class in a run; with ``then`` and ``to``: those who moved to class ``to`` in run ``then``."""
    run = db.get_or_404(SegmentationRun, run_id)
    dimension = request.args.get("dimension", "")
    key = request.args.get("key", "")
    if dimension not in DIMENSIONS or key not in (*DEFINITIONS[dimension], UNCLASSIFIED):
        abort(404)
    then_id = request.args.get("then", type=db_int)  # (a number beyond a database integer names no run)
    to = request.args.get("to", "")
    then = None
    if then_id is not None:
        then = db.get_or_404(SegmentationRun, then_id)
        if to not in (*DEFINITIONS[dimension], UNCLASSIFIED):
            abort(404)
    params = {"dimension": dimension, "key": key, **({"then": then.id, "to": to} if then else {})}
    listing = run_class_listing(run, dimension, None if key == UNCLASSIFIED else key, params, then,
                                None if to == UNCLASSIFIED else to)
    # a transition's count is the compare page's cell: counted exactly (a class of one run is kept)
    total = Total(db.session.scalar(sa.select(sa.func.count()).select_from(listing.base.subquery())) or 0) \
        if then else listing.total()
    paged = keyset_page(listing, request.args, PAGE_SIZE, total)
    label = lambda k: class_label(dimension, k, lang()) if k != UNCLASSIFIED else _("not classified")  # noqa: E731
    return render("segments/run_customers.html", run=run, then=then, dimension=dimension, key=key, to=to,
                  rows=paged.window.rows, total=total.n, page=paged.page, pages=paged.pages, links=paged.links,
                  bad_link=paged.bad_link, label=label, title=DIMENSION_TITLES[dimension])


@bp.route("/runs/<int:run_id>/export.<fmt>")
@allow("manager", "leadership")
def export(run_id: int, fmt: str):
    """Per-customer results of a run as CSV or XLSX in the user's language (formula-safe), or JSON with codes."""
    if fmt not in ("csv", "xlsx", "json"):
        abort(404)
    run = db.get_or_404(SegmentationRun, run_id)
    filename = f"segments-run-{run.id}-{run.window_start}-{run.window_end}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "csv":  # streamed: the first bytes leave at once, a million rows never sit in memory
        return Response(run_csv(run.id, lang()), mimetype=CSV_MIMETYPE, headers=headers)
    if fmt == "xlsx" and run.n_customers > XLSX_DIRECT_CUSTOMERS:
        # A large spreadsheet takes a while (zipped XML): a background job writes it, its page
        # shows the progress and then the download.
        job = enqueue("run_xlsx_export", created_by_id=current_user.id, run_id=run.id, language=lang(),
                      filename=filename)
        return redirect(url_for("jobs.status", job_id=job.id), code=303)
    data, mimetype = run_export(run.id, fmt, lang())
    return Response(data, mimetype=mimetype, headers=headers)
