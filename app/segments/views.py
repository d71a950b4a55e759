"""Segmentation: overview with charts and care strategies, runs, history, comparison, export."""
from __future__ import annotations

import numpy as np
import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.segments import charts, loaders
from app.segments.models import CustomerSegment, SegmentationRun
from app.segments.runs import (
    POTENTIAL_SEGMENT_KEYS,
    TRAJECTORY_KEYS,
    class_label,
    export_bytes,
    latest_run,
    run_segmentation,
    transition_matrix,
)
from app.web.args import db_int
from app.web.i18n import lang
from app.web.rendering import htmx_response, render
from app.web.security import allow, any_user, has_role
from segmentation.definitions import POTENTIAL_SEGMENTS, PROFIT_TIERS

bp = Blueprint("segments", __name__, url_prefix="/segments", template_folder="templates")
BACKGROUND_CUSTOMERS = 50_000
DIMENSIONS = ("potential_segment", "abc_class", "profit_tier", "trajectory")


def labels(kind: str, keys) -> dict:
    """key → label in the current language."""
    return {key: class_label(kind, key, lang()) for key in keys}


@bp.route("/")
@any_user
def overview():
    """The latest run: charts and money figures for managers and leadership, care strategies for all."""
    run = latest_run()
    if run is not None and "counts" not in (run.summary or {}):
        run = None  # a run without results (e.g. created by hand) shows as none
    show_money = has_role("manager", "leadership")
    ctx = {"run": run, "show_money": show_money, "language": lang(),
           "segments": POTENTIAL_SEGMENTS, "tiers": PROFIT_TIERS,
           "segment_labels": labels("potential_segment", POTENTIAL_SEGMENT_KEYS),
           "trajectory_labels": labels("trajectory", TRAJECTORY_KEYS)}
    if run is not None and show_money:
        summary = run.summary or {}
        counts = summary.get("counts", {})
        ctx["pareto_svg"] = charts.pareto_chart(summary.get("pareto") or [], tuple(run.parameters.get("abc", (0.8, 0.95))))
        sample = db.session.execute(
            sa.select(CustomerSegment.revenue, CustomerSegment.untapped, CustomerSegment.potential_segment)
            .where(CustomerSegment.run_id == run.id).order_by(CustomerSegment.customer_id).limit(3000)
        ).all()
        if sample:
            x, y, seg = (np.array(column, dtype=object) for column in zip(*sample))
        else:
            x = y = seg = np.array([])
        ctx["matrix_svg"] = charts.matrix_chart(
            x.astype(float), y.astype(float), seg, summary.get("split_revenue"), summary.get("split_potential"),
            counts.get("potential_segment", {}), ctx["segment_labels"],
            rating=summary.get("potential_basis") == "rating")
        ctx["trajectory_svg"] = charts.trajectory_multiples(
            summary.get("typical") or {}, ctx["trajectory_labels"], counts.get("trajectory", {}))
    return render("segments/overview.html", **ctx)


@bp.route("/run", methods=["GET", "POST"])
@allow("manager")
def run():
    """Parameters form; runs inline for small data, as a background job for many customers."""
    from app.segments.forms import RunForm

    form = RunForm()
    periods = loaders.available_periods()
    if request.method == "GET":
        window = loaders.default_window(periods)
        if window:
            form.window_start.data, form.window_end.data = window
    if form.validate_on_submit():
        start, end = form.window_start.data, form.window_end.data
        n_customers = loaders.customers_in_window(start, end)
        if n_customers == 0:
            form.window_end.errors.append(_("No customer has values between %(start)s and %(end)s.",
                                            start=start, end=end))
        elif n_customers > BACKGROUND_CUSTOMERS:
            from app.web.jobs import enqueue

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
    from app.extensions import htmx

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
        matrix = transition_matrix(run_a, run_b, dimension)
        if not matrix.empty:
            total = int(matrix.to_numpy().sum())
            kept = int(sum(matrix.at[key, key] for key in matrix.index))
    kind = dimension
    return render("segments/compare.html", runs=all_runs, run_a=run_a, run_b=run_b, dimension=dimension,
                  dimensions=DIMENSIONS, matrix=matrix, kept=kept, total=total,
                  label=lambda key: class_label(kind, key, lang()) if key != "—" else _("not classified"))


@bp.route("/runs/<int:run_id>/export.<fmt>")
@allow("manager", "leadership")
def export(run_id: int, fmt: str):
    """Per-customer results of a run as CSV, XLSX or JSON (formula-safe)."""
    if fmt not in ("csv", "xlsx", "json"):
        abort(404)
    run = db.get_or_404(SegmentationRun, run_id)
    data, mimetype = export_bytes(run.id, fmt)
    filename = f"segments-run-{run.id}-{run.window_start}-{run.window_end}.{fmt}"
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
