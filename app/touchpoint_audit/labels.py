"""The words the audit pages show for keys: statuses, severities, segments, touchpoints,
finding titles and default recommended actions (German and English via gettext)."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.segments.kinds import KINDS, value_label
from app.touchpoint_audit.models import Metric, Touchpoint
from app.web.i18n import lang
from audits import CUSTOMER_STATUSES

AUDIT_STATUS_LABELS = {"draft": _l("Draft"), "open": _l("Open"), "review": _l("In review"),
                       "published": _l("Published")}
FINDING_STATUS_LABELS = {"open": _l("Open"), "acknowledged": _l("Acknowledged"), "resolved": _l("Resolved"),
                         "wont_fix": _l("Won't fix")}
SEVERITY_LABELS = {"critical": _l("Critical"), "high": _l("High"), "medium": _l("Medium"), "low": _l("Low")}
SEVERITY_BADGE = {"critical": "bad", "high": "bad", "medium": "warn", "low": ""}
KIND_LABELS = {"case": _l("Cases above new-business price"), "aggregate": _l("Existing vs new"),
               "price_walking": _l("Price walking"), "aftersales": _l("After-sales"), "manual": _l("Manual")}
HEATMAP_KIND_LABELS = {"overall": "", **{kind.key: kind.short_label for kind in KINDS if kind.compared}}
SEGMENT_KIND_LABELS = {"overall": _l("All existing customers"),
                       **{kind.key: kind.label for kind in KINDS if kind.compared}, "product": _l("Product")}
CUSTOMER_STATUS_LABELS = dict(zip(CUSTOMER_STATUSES, (_l("New customer"), _l("Existing customer")), strict=True))


def segment_label(kind: str | None, value) -> str:
    """'Cash-Cows', 'A customers', 'All existing customers' …"""
    if kind in (None, "overall") or value in (None, "all"):
        return str(SEGMENT_KIND_LABELS["overall"])
    if kind == "product":
        return _("Product %(key)s", key=value)
    found = value_label(kind, value, lang()) if kind in SEGMENT_KIND_LABELS else None
    return found if found is not None else f"{SEGMENT_KIND_LABELS.get(kind, kind)} {value}"


def metric_names() -> dict[tuple[str, str], tuple[str, str, str]]:
    """(touchpoint key, metric key) -> (touchpoint name, metric name, unit) in the user's language."""
    rows = db.session.execute(
        db.select(Touchpoint.key, Metric.key, Touchpoint.name_de, Touchpoint.name_en, Metric.name_de,
                  Metric.name_en, Metric.unit).join(Metric, Metric.touchpoint_id == Touchpoint.id)
        .order_by(Touchpoint.position, Touchpoint.id, Metric.position, Metric.id)
    ).all()
    de = lang() == "de"
    return {(t, m): (tde if de else ten, mde if de else men, unit) for t, m, tde, ten, mde, men, unit in rows}


def metric_label(names: dict, touchpoint: str | None, metric: str | None) -> str:
    """'Hotline · Waiting time' for a pair of keys."""
    if touchpoint is None:
        return "–"
    found = names.get((touchpoint, metric))
    if found is None:
        return f"{touchpoint} · {metric}" if metric else touchpoint
    return f"{found[0]} · {found[1]}"


def finding_title(finding, names: dict) -> str:
    """A finding's title in the user's language (manual findings keep their own)."""
    if finding.kind == "aftersales":
        from app.aftersales.analysis import finding_title as aftersales_title

        return aftersales_title(finding, lang())
    if finding.kind == "manual" or not finding.touchpoint_key:
        return finding.title
    where = metric_label(names, finding.touchpoint_key, finding.metric_key)
    segment = segment_label(finding.segment_kind, finding.segment)
    if finding.kind == "aggregate":
        return _("Existing customers fare worse than new ones: %(where)s, %(segment)s", where=where, segment=segment)
    if finding.kind == "case":
        return _("Existing customers pay more than the new-business price: %(where)s", where=where)
    if finding.kind == "price_walking":
        product = (finding.figures or {}).get("product_key")
        if product:
            segment = _("Product %(key)s", key=product)
        return _("The price rises with tenure (price walking): %(where)s, %(segment)s", where=where, segment=segment)
    return finding.title


def default_action(finding) -> str:
    """The recommended action for a finding of the analysis, unless a manager wrote one."""
    if finding.recommended_action:
        return finding.recommended_action
    suggested = (finding.figures or {}).get(f"action_{lang()}")
    if suggested:
        return suggested
    if finding.kind == "case":
        return _("Cap renewal and existing-customer prices at the equivalent new-business price for the same "
                 "product and channel; refund or credit the excess where it was paid.")
    if finding.kind == "price_walking":
        return _("Review the price rules that raise prices with tenure; align long-standing customers' prices "
                 "with the new-business price.")
    if finding.kind == "aggregate":
        return _("Give existing customers in this segment at least the treatment new customers get at this "
                 "touchpoint; check the process and measure again in the next audit round.")
    return ""


def template_helpers() -> dict:
    """Helpers for the audit templates (a blueprint context processor)."""
    return {
        "audit_status_labels": AUDIT_STATUS_LABELS, "finding_status_labels": FINDING_STATUS_LABELS,
        "severity_labels": SEVERITY_LABELS, "severity_badge": SEVERITY_BADGE, "kind_labels": KIND_LABELS,
        "segment_kind_labels": SEGMENT_KIND_LABELS, "customer_status_labels": CUSTOMER_STATUS_LABELS,
        "segment_label": segment_label, "metric_label": metric_label, "finding_title": finding_title,
        "default_action": default_action,
    }
