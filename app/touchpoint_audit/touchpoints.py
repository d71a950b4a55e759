"""The touchpoint catalog: touchpoints and their metrics (managers edit, everyone reads)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _

from app.extensions import db
from app.touchpoint_audit.catalog import seed_catalog
from app.touchpoint_audit.channels import alias_owner
from app.touchpoint_audit.forms import UNIT_NAMES, ChannelEditForm, ChannelForm, MetricForm, TouchpointForm
from app.touchpoint_audit.models import Channel, Metric, Touchpoint
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


# --- the channel vocabulary ----------------------------------------------------------

def _channel_page(new_form: ChannelForm, edited: ChannelEditForm | None = None, edited_id: int | None = None,
                  status: int = 200):
    channels = db.session.scalars(db.select(Channel).order_by(Channel.position, Channel.id)).all()
    forms = {}
    for channel in channels:
        if channel.id == edited_id and edited is not None:
            forms[channel.id] = edited
        else:
            form = ChannelEditForm(obj=channel, prefix=f"c{channel.id}", formdata=None)
            form.aliases.data = "\n".join(channel.alias_list)
            forms[channel.id] = form
    return render("touchpoints/channels.html", channels=channels, forms=forms, new_form=new_form, status=status)


def _aliases_taken(form: ChannelEditForm, channel_id: int | None, key: str | None = None) -> bool:
    """Refuse a name or alias that already stands for another channel (it would be ambiguous)."""
    words = [form.name_de.data, form.name_en.data, *(form.aliases.data or "").splitlines()]
    if key:
        words.append(key)
    for word in (w.strip() for w in words if w and w.strip()):
        owner = alias_owner(word, channel_id)
        if owner is not None:
            form.aliases.errors = [*form.aliases.errors, _("“%(word)s” already stands for the channel “%(channel)s”.",
                                                           word=word[:40], channel=owner.key)]
            return True
    return False


def _clean_aliases(text: str | None) -> str:
    seen, out = set(), []
    for word in (text or "").splitlines():
        word = word.strip()
        if word and word.casefold() not in seen:
            seen.add(word.casefold())
            out.append(word)
    return "\n".join(out)


@bp.route("/channels", methods=["GET", "POST"])
@allow("manager")
def channels():
    """The company's channel vocabulary: each channel's names and the other words for it; a new channel."""
    form = ChannelForm(prefix="new")
    if form.validate_on_submit():
        if db.session.scalar(db.select(Channel.id).where(Channel.key == form.key.data)) is not None:
            form.key.errors.append(_("This key is taken."))
        elif not _aliases_taken(form, None, form.key.data):
            position = (db.session.scalar(db.select(db.func.max(Channel.position))) or 0) + 1
            db.session.add(Channel(key=form.key.data, name_de=form.name_de.data.strip(),
                                   name_en=form.name_en.data.strip(), aliases=_clean_aliases(form.aliases.data),
                                   active=form.active.data, position=position))
            db.session.commit()
            flash(_("Channel added."), "success")
            return redirect(url_for("touchpoints.channels"), code=303)
    return _channel_page(form, status=422 if form.errors else 200)


@bp.route("/channels/<int:channel_id>", methods=["POST"])
@allow("manager")
def edit_channel(channel_id: int):
    """Change a channel's names, aliases or whether it is offered."""
    channel = db.get_or_404(Channel, channel_id)
    form = ChannelEditForm(prefix=f"c{channel.id}")
    if form.validate_on_submit() and not _aliases_taken(form, channel.id):
        channel.name_de, channel.name_en = form.name_de.data.strip(), form.name_en.data.strip()
        channel.aliases, channel.active = _clean_aliases(form.aliases.data), form.active.data
        db.session.commit()
        flash(_("Changes saved."), "success")
        return redirect(url_for("touchpoints.channels"), code=303)
    return _channel_page(ChannelForm(prefix="new", formdata=None), form, channel.id, status=422)
