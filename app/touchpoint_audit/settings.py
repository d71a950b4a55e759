"""An audit round's analysis settings: alpha, minimum n, the case tolerance and the
materiality of each metric in scope (in the unit of its effect). They apply to the next
analysis and are stored with it as used."""
from __future__ import annotations

import math

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.touchpoint_audit.analysis import DEFAULT_PARAMS, SETTING_BOUNDS
from app.touchpoint_audit.labels import template_helpers
from app.touchpoint_audit.models import Audit
from app.touchpoint_audit.rules import may_see
from app.web.i18n import fmt_number
from app.web.rendering import render
from app.web.security import allow, require
from audits import DEFAULT_MATERIALITY

bp = Blueprint("audit_settings", __name__, url_prefix="/audits", template_folder="templates")
bp.context_processor(template_helpers)

# The unit a metric's effect is measured in, by the unit of its values, and the kind whose
# default materiality applies (money and durations: a relative shift in %).
EFFECT_OF_UNIT = {"eur": ("%", "ratio"), "seconds": ("%", "ratio"), "hours": ("%", "ratio"),
                  "rating": ("points", "mean"), "boolean": ("pp", "proportion"), "percent": ("%", "ratio")}
EFFECT_UNIT_LABELS = {"%": _l("%"), "points": _l("points"), "pp": _l("percentage points")}
# Decimal places each setting is shown with (in the user's number format).
DIGITS = {"alpha": 3, "min_n": 0, "tolerance": 2}
LABELS = {"alpha": _l("Significance level (alpha, after Benjamini–Hochberg)"),
          "min_n": _l("Minimum customers per group"),
          "tolerance": _l("Case tolerance above the prediction bound (share, e.g. 0.02 = 2 %)")}


def _number(text: str, integer: bool = False) -> float | None:
    """A number typed with a point or a German comma; None when empty; ValueError otherwise."""
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    value = int(text) if integer else float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _rows(audit: Audit) -> list[dict]:
    """One row per metric in scope: its effect unit, the default and catalog materiality."""
    overrides = {int(k): v for k, v in ((audit.settings or {}).get("materiality") or {}).items()}
    rows = []
    for metric in sorted(audit.metrics, key=lambda m: (m.touchpoint.position, m.position)):
        unit, kind = EFFECT_OF_UNIT.get(metric.unit, ("%", "ratio"))
        default = DEFAULT_MATERIALITY.get(kind)
        rows.append({"metric": metric, "unit": EFFECT_UNIT_LABELS[unit], "default": default,
                     "catalog": metric.materiality, "value": overrides.get(metric.id)})
    return rows


@bp.route("/<int:audit_id>/settings")
@allow("manager", "leadership")
def settings(audit_id: int):
    """Show the round's analysis settings (a manager changes them before the next analysis)."""
    audit = db.get_or_404(Audit, audit_id)
    require(may_see(audit))
    return _page(audit, audit.settings or {}, {}, {})


@bp.route("/<int:audit_id>/settings", methods=["POST"])
@allow("manager")
def save(audit_id: int):
    """Store the round's settings; every value is checked, nothing is stored while one is wrong."""
    audit = db.get_or_404(Audit, audit_id)
    require(may_see(audit) and audit.status != "published")
    errors: dict[str, str] = {}
    new: dict = {"materiality": {}}
    for key, (low, high) in SETTING_BOUNDS.items():
        try:
            value = _number(request.form.get(key, ""), integer=key == "min_n")
        except ValueError:
            errors[key] = _("Enter a number.")
            continue
        if value is not None and not low <= value <= high:
            errors[key] = _("Between %(low)s and %(high)s.", low=fmt_number(low, DIGITS[key]),
                            high=fmt_number(high, DIGITS[key]))
        elif value is not None:
            new[key] = value
    for metric in audit.metrics:
        field = f"materiality-{metric.id}"
        try:
            value = _number(request.form.get(field, ""))
        except ValueError:
            errors[field] = _("Enter a number.")
            continue
        if value is not None and value < 0:
            errors[field] = _("The materiality cannot be negative.")
        elif value is not None:
            new["materiality"][str(metric.id)] = value
    if errors:
        return _page(audit, audit.settings or {}, errors, request.form, 422)
    audit.settings = new
    db.session.commit()
    flash(_("Settings saved; they apply to the next analysis of this round."), "success")
    return redirect(url_for("audit_settings.settings", audit_id=audit.id), code=303)


def _page(audit: Audit, current: dict, errors: dict, form_values, status: int = 200):
    return render("audits/settings.html", audit=audit, rows=_rows(audit), current=current, errors=errors,
                  defaults=DEFAULT_PARAMS, labels=LABELS, bounds=SETTING_BOUNDS, form_values=form_values, digits=DIGITS,
                  status=status)

