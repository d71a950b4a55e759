"""The touchpoint catalog: touchpoints and their metrics (managers edit, everyone reads)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _

from app.extensions import db
from app.touchpoint_audit.catalog import seed_catalog
from app.touchpoint_audit.forms import UNIT_NAMES, MetricForm, TouchpointForm
from app.touchpoint_audit.models import Metric, Touchpoint
from app.web.rendering import render
from app.web.security import allow, any_user

bp = Blueprint("touchpoints", __name__, url_prefix="/touchpoints", template_folder="templates")


@bp.route("/")
@any_user
def index():
    """The catalog: touchpoints and their metrics."""
    touchpoints = db.session.scalars(db.select(Touchpoint).order_by(Touchpoint.position, Touchpoint.id)).all()
    return render("touchpoints/index.html", touchpoints=touchpoints, unit_names=UNIT_NAMES)


@bp.route("/seed", methods=["POST"])
@allow("manager")
def seed():
    """Add the default catalog's missing touchpoints and metrics (what `flask touchpoints seed` does)."""

    added = seed_catalog()
    db.session.commit()
    flash(_("%(n)d metrics of the default catalog added.", n=added) if added
          else _("The default catalog is complete: nothing added."), "success")
    return redirect(url_for("touchpoints.index"), code=303)


def _key_taken(key: str, touchpoint_id: int | None = None) -> bool:
    query = db.select(Touchpoint.id).where(Touchpoint.key == key)
    if touchpoint_id:
        query = query.where(Touchpoint.id != touchpoint_id)
    return db.session.scalar(query) is not None


@bp.route("/new", methods=["GET", "POST"])
@allow("manager")
def create():
    """A new touchpoint."""
    form = TouchpointForm()
    if form.validate_on_submit():
        if _key_taken(form.key.data):
            form.key.errors.append(_("This key is taken."))
        else:
            position = (db.session.scalar(db.select(db.func.max(Touchpoint.position))) or 0) + 1
            touchpoint = Touchpoint(position=position)
            form.populate_obj(touchpoint)
            db.session.add(touchpoint)
            db.session.commit()
            flash(_("Touchpoint created. Add its metrics now."), "success")
            return redirect(url_for("touchpoints.create_metric", touchpoint_id=touchpoint.id), code=303)
    return render("touchpoints/form.html", form=form, touchpoint=None, status=422 if form.errors else 200)


@bp.route("/<int:touchpoint_id>", methods=["GET", "POST"])
@allow("manager")
def edit(touchpoint_id: int):
    """Change a touchpoint."""
    touchpoint = db.get_or_404(Touchpoint, touchpoint_id)
    form = TouchpointForm(obj=touchpoint)
    if form.validate_on_submit():
        if _key_taken(form.key.data, touchpoint.id):
            form.key.errors.append(_("This key is taken."))
        else:
            form.populate_obj(touchpoint)
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("touchpoints.index"), code=303)
    return render("touchpoints/form.html", form=form, touchpoint=touchpoint, status=422 if form.errors else 200)


@bp.route("/<int:touchpoint_id>/active", methods=["POST"])
@allow("manager")
def toggle(touchpoint_id: int):
    """Deactivate or activate a touchpoint (its observations stay)."""
    touchpoint = db.get_or_404(Touchpoint, touchpoint_id)
    touchpoint.active = not touchpoint.active
    db.session.commit()
    flash(_("Touchpoint activated.") if touchpoint.active else _("Touchpoint deactivated: it is no longer offered "
                                                                  "for logging; its observations stay."), "success")
    return redirect(url_for("touchpoints.index"), code=303)


def _save_metric(form: MetricForm, touchpoint: Touchpoint, metric: Metric | None):
    taken = any(m.key == form.key.data and (metric is None or m.id != metric.id) for m in touchpoint.metrics)
    if taken:
        form.key.errors.append(_("This touchpoint has a metric with this key already."))
        return None
    if metric is None:
        metric = Metric(touchpoint=touchpoint, position=len(touchpoint.metrics))
        db.session.add(metric)
    form.populate_obj(metric)
    db.session.commit()
    flash(_("Metric saved."), "success")
    return redirect(url_for("touchpoints.index"), code=303)


@bp.route("/<int:touchpoint_id>/metrics/new", methods=["GET", "POST"])
@allow("manager")
def create_metric(touchpoint_id: int):
    """A new metric of a touchpoint."""
    touchpoint = db.get_or_404(Touchpoint, touchpoint_id)
    form = MetricForm()
    if form.validate_on_submit() and (done := _save_metric(form, touchpoint, None)) is not None:
        return done
    return render("touchpoints/metric_form.html", form=form, touchpoint=touchpoint, metric=None,
                  status=422 if form.errors else 200)


@bp.route("/metrics/<int:metric_id>", methods=["GET", "POST"])
@allow("manager")
def edit_metric(metric_id: int):
    """Change a metric."""
    metric = db.get_or_404(Metric, metric_id)
    form = MetricForm(obj=metric)
    if form.validate_on_submit() and (done := _save_metric(form, metric.touchpoint, metric)) is not None:
        return done
    return render("touchpoints/metric_form.html", form=form, touchpoint=metric.touchpoint, metric=metric,
                  status=422 if form.errors else 200)
