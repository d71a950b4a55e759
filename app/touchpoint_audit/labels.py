"""The words the audit pages show for keys: statuses, severities, segments, touchpoints,
finding titles and default recommended actions (German and English via gettext)."""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.aftersales.analysis import finding_title as aftersales_title
from app.extensions import db
from app.segments.kinds import KINDS, value_label
from app.touchpoint_audit.models import AnalysisSnapshot, Metric, Touchpoint
from app.web.i18n import fmt_date, fmt_money, fmt_number, fmt_percent, lang
from audits import CUSTOMER_STATUSES, EVIDENCE_GRADES

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
EVIDENCE_GRADE_LABELS = dict(zip(EVIDENCE_GRADES, (_l("observed"), _l("system record"), _l("self-reported")),
                                 strict=True))
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


# ------------------------------------------------------------------ effects as shown

# How an effect reads by the metric's unit: relative for money and durations (skewed,
# positive), points for ratings and percentages, percentage points for yes/no shares.
_RELATIVE_UNITS = ("eur", "seconds", "hours")


@dataclass(frozen=True)
class Effect:
    """A finding's or comparison's effect as the pages show it.

    ``kind``: 'relative' (share of the new customers' level), 'points' (rating or
    percent points), 'share' (difference of yes/no shares), 'excess' (EUR over the
    new-business price, summed over the cases in this sample), 'slope' (price rise a
    year with tenure, relative). ``value``/``low``/``high`` are in that kind's scale;
    ``units`` is the effect in the metric's own unit beside a relative one."""

    kind: str
    value: float | None
    low: float | None = None
    high: float | None = None
    unit: str = ""
    units: float | None = None
    n_new: int | None = None
    n_existing: int | None = None
    n: int | None = None

    @property
    def rank(self) -> float:
        """A size to order effects of one kind by (larger = worse)."""
        return -math.inf if _missing(self.value) else float(self.value)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _num(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def comparison_effect(row: dict, unit: str) -> Effect:
    """The effect of one comparison row (a stored snapshot row or an aggregate finding's
    figures): the one place that reads the stored effect fields."""
    effect, low, high = _num(row.get("effect")), _num(row.get("ci_low")), _num(row.get("ci_high"))
    n_new, n_existing = row.get("n_new"), row.get("n_existing")
    # The analysis states the unit of effect and interval: '%' (relative shift of money and
    # durations) and 'pp' (shares) are hundredths of the scale the pages show.
    stated = row.get("effect_unit")
    if stated in ("%", "pp"):
        scaled = [v / 100 if v is not None else None for v in (effect, low, high)]
        if stated == "pp":
            return Effect("share", *scaled, unit=unit, n_new=n_new, n_existing=n_existing)
        return Effect("relative", *scaled, unit=unit, units=_num(row.get("effect_value")),
                      n_new=n_new, n_existing=n_existing)
    if unit in _RELATIVE_UNITS:
        level = _num(row.get("reference_level"))
        rel = _num(row.get("effect_rel"))
        if not level and effect is not None and rel:
            level = effect / rel  # findings of older analyses kept no reference level
        scale = abs(level) if level else None
        return Effect("relative", rel if rel is not None else (effect / scale if scale and effect is not None else None),
                      low / scale if scale and low is not None else None,
                      high / scale if scale and high is not None else None,
                      unit=unit, units=effect, n_new=n_new, n_existing=n_existing)
    if unit == "boolean":
        return Effect("share", effect, low, high, unit=unit, n_new=n_new, n_existing=n_existing)
    return Effect("points", effect, low, high, unit=unit, n_new=n_new, n_existing=n_existing)


def finding_effect(finding, names: dict) -> Effect | None:
    """The effect of a finding, read from its stored figures (None for manual notes)."""
    figures = finding.figures or {}
    unit = (names.get((finding.touchpoint_key, finding.metric_key)) or ("", "", ""))[2]
    if finding.kind == "aggregate":
        return comparison_effect(figures, unit)
    if finding.kind == "case":
        return Effect("excess", _num(figures.get("total_excess")), unit="eur",
                      n=figures.get("n_flagged"), n_existing=figures.get("n_cases"))
    if finding.kind == "price_walking":
        median = _num(figures.get("median_value"))
        slope, low, high = (_num(figures.get(k)) for k in ("slope", "slope_low", "slope_high"))
        rel = _num(figures.get("slope_rel"))
        if median:
            return Effect("slope", rel if rel is not None else (slope / median if slope is not None else None),
                          low / median if low is not None else None, high / median if high is not None else None,
                          unit=unit, units=slope, n=figures.get("n"))
        return Effect("slope", rel, unit=unit, units=slope, n=figures.get("n"))
    if finding.kind == "aftersales":
        n = sum(int(figures.get(k) or 0) for k in ("n_satisfied", "n_dissatisfied")) or None
        return Effect("share", _num(figures.get("difference")), _num(figures.get("ci_low")),
                      _num(figures.get("ci_high")), unit="boolean", n=n)
    return None


def _signed(value: float | None, kind: str) -> str:
    if value is None:
        return "–"
    if kind in ("relative", "slope"):
        return fmt_percent(value, 1)
    if kind == "share":
        return _("%(value)s pp", value=fmt_number(value * 100, 1))
    if kind == "excess":
        return fmt_money(value, 0)
    return fmt_number(value, 2)


def effect_value(effect: Effect | None) -> str:
    """'+14.0 %' · '0.40 points' · '6.0 pp' · '€1,235 in this sample' · '3.0 % a year'."""
    if effect is None or effect.value is None:
        return "–"
    text = _signed(effect.value, effect.kind)
    if effect.kind == "points" and effect.unit == "rating":
        return _("%(value)s points", value=text)
    if effect.kind == "points" and effect.unit == "percent":
        return _("%(value)s pp", value=text)
    if effect.kind == "excess":
        return _("%(amount)s paid above the new-business price, in this sample", amount=text)
    if effect.kind == "slope":
        return _("%(value)s a year of tenure", value=text)
    return text


def effect_interval(effect: Effect | None) -> str:
    """'95 % interval 9.0 % to 19.0 %', or a plain 'no interval' for a sum over cases."""
    if effect is None:
        return ""
    if effect.low is None or effect.high is None:
        return _("no interval") if effect.kind != "excess" else _("sum over the cases, no interval")
    return _("95%% interval %(low)s to %(high)s", low=_signed(effect.low, effect.kind),
             high=_signed(effect.high, effect.kind))


def effect_n(effect: Effect | None) -> str:
    """'n = 61 existing / 48 new' (observations compared), or the cases counted."""
    if effect is None:
        return ""
    if effect.kind == "excess":
        return _("%(flagged)s of %(n)s prices above the new-business price",
                 flagged=fmt_number(effect.n), n=fmt_number(effect.n_existing))
    if effect.n_new is not None or effect.n_existing is not None:
        return _("n = %(existing)s existing / %(new)s new", existing=fmt_number(effect.n_existing),
                 new=fmt_number(effect.n_new))
    if effect.n is not None:
        return _("n = %(n)s", n=fmt_number(effect.n))
    return ""


def unit_amount(value, unit: str) -> str:
    """A value in a metric's own unit: '€12.40', '95 s', '1.5 h', '0.40 points', '6.0 pp'."""
    value = _num(value)
    if value is None:
        return "–"
    if abs(value) < 0.005:  # no "-0.00"
        value = 0.0
    if unit == "eur":
        return fmt_money(value, 2)
    if unit == "seconds":
        return _("%(n)s s", n=fmt_number(value, 0))
    if unit == "hours":
        return _("%(n)s h", n=fmt_number(value, 1))
    if unit == "rating":
        return _("%(value)s points", value=fmt_number(value, 2))
    if unit == "boolean":
        return _("%(value)s pp", value=fmt_number(value * 100, 1))
    if unit == "percent":
        return _("%(value)s pp", value=fmt_number(value, 1))
    return fmt_number(value, 2)


def effect_units(effect: Effect | None) -> str:
    """The relative effect in the metric's unit: '≈ €12.40' or '≈ 95 s' (empty otherwise)."""
    if effect is None or effect.units is None or effect.kind not in ("relative", "slope"):
        return ""
    amount = unit_amount(effect.units, effect.unit)
    return _("≈ %(amount)s a year of tenure", amount=amount) if effect.kind == "slope" else _("≈ %(amount)s", amount=amount)


# ------------------------------------------------------------------ penalised customers on a shrinking trajectory

def trajectory_risk(finding) -> dict | None:
    """A finding's stored trajectory context (how many of its penalised customers shrink, the
    contribution a year at risk, the segmentation run), or None when it has none."""
    risk = (finding.figures or {}).get("trajectory") if finding is not None else None
    return risk if isinstance(risk, dict) and risk.get("penalised") is not None else None


def _run_words(risk: dict) -> str:
    try:
        date = fmt_date(dt.date.fromisoformat(str(risk.get("run_date"))))
    except ValueError:
        date = "–"
    return _("segmentation run %(id)s of %(date)s", id=risk.get("run_id"), date=date)


def trajectory_risk_text(finding, show_money: bool) -> str:
    """'12 of the 48 penalised customers are shrinking; €84,000 contribution a year at risk
    (segmentation run 3 of 02.11.2026).' — the money only for roles that may see it."""
    risk = trajectory_risk(finding)
    if risk is None:
        return ""
    n, shrinking, run = fmt_number(risk["penalised"]), risk["shrinking"], _run_words(risk)
    if not risk["penalised"]:
        return _("No penalised customer of this finding is in %(run)s.", run=run)
    if not shrinking:
        return _("None of the %(n)s penalised customers is shrinking (%(run)s).", n=n, run=run)
    amount = risk.get("contribution_year")
    if show_money and amount is not None:
        return ngettext("%(count)s of the %(n)s penalised customers is shrinking; %(amount)s contribution a year at "
                        "risk (%(run)s).",
                        "%(count)s of the %(n)s penalised customers are shrinking; %(amount)s contribution a year at "
                        "risk (%(run)s).", shrinking, count=fmt_number(shrinking), n=n, amount=fmt_money(amount, 0),
                        run=run)
    return ngettext("%(count)s of the %(n)s penalised customers is shrinking (%(run)s).",
                    "%(count)s of the %(n)s penalised customers are shrinking (%(run)s).", shrinking,
                    count=fmt_number(shrinking), n=n, run=run)


def trajectory_risk_short(finding, show_money: bool) -> str:
    """The compact form for lists: '5 of 65 penalised customers shrinking · €18,741 contribution a
    year at risk'; empty when none of them shrinks."""
    risk = trajectory_risk(finding)
    if risk is None or not risk["shrinking"]:
        return ""
    text = _("%(num)s of %(n)s penalised customers shrinking", num=fmt_number(risk["shrinking"]),
             n=fmt_number(risk["penalised"]))
    if show_money and risk.get("contribution_year") is not None:
        text += " · " + _("%(amount)s contribution a year at risk", amount=fmt_money(risk["contribution_year"], 0))
    return text


def trajectory_risk_definition(finding, show_money: bool) -> str:
    """What the figure counts, in words: who is penalised, in which run, and what the money is."""
    risk = trajectory_risk(finding)
    if risk is None:
        return ""
    run = _run_words(risk)
    if risk.get("basis") == "segments":
        segments = ", ".join(segment_label(kind, value) for kind, value in risk.get("segments") or [])
        text = _("Penalised customers: the existing customers observed at this touchpoint and metric in this round "
                 "who belong to a segment in which the gap holds (%(segments)s) in %(run)s.", segments=segments,
                 run=run)
    else:
        text = _("Penalised customers: every existing customer observed at this touchpoint and metric in this round "
                 "(the gap holds for all existing customers), with the trajectory of %(run)s.", run=run)
    text += " " + _("Shrinking: a significant falling trend of the customer's value in that run.")
    if show_money:
        start, end = (risk.get("window") or [None, None])[:2]
        text += " " + _("Contribution a year: their contribution margin in the run's window %(start)s – %(end)s, "
                        "divided by its %(years)s years.", start=start, end=end,
                        years=fmt_number(risk.get("window_years"), 1))
    return text


# ------------------------------------------------------------------ the answer

SENTENCE_SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
ANSWER_SENTENCES = 4


def unit_of(names: dict, touchpoint: str, metric: str) -> str:
    """The unit of a touchpoint × metric ('eur', 'seconds', …; empty when unknown)."""
    return (names.get((touchpoint, metric)) or ("", "", ""))[2]


def _who(kind: str | None, segment) -> str:
    if kind in (None, "overall") or segment in (None, "all"):
        return _("Existing customers")
    return _("Existing customers (%(segment)s)", segment=segment_label(kind, segment))


def _sentence(row: dict, effect: Effect, names: dict, also: list[str]) -> str:
    where = metric_label(names, row.get("touchpoint"), row.get("metric"))
    params = dict(who=_who(row.get("segment_kind"), row.get("segment")), where=where,
                  effect=effect_value(effect), interval=effect_interval(effect), n=effect_n(effect))
    if effect.unit == "eur":
        text = _("%(who)s pay %(effect)s more than new customers at %(where)s (%(interval)s; %(n)s).", **params)
    elif effect.unit in ("seconds", "hours"):
        text = _("%(who)s wait %(effect)s longer than new customers at %(where)s (%(interval)s; %(n)s).",
                 **params)
    else:
        text = _("%(who)s fare worse than new customers at %(where)s by %(effect)s (%(interval)s; %(n)s).",
                 **params)
    if also:
        text += " " + _("The gap also holds for: %(segments)s.", segments=", ".join(also))
    return text


def answer_sentences(snapshot: AnalysisSnapshot | None, names: dict,
                     limit: int = ANSWER_SENTENCES) -> list[str]:
    """One sentence per touchpoint × metric with a flagged comparison (fair ones are not
    mentioned): the segment with the largest gap leads, the others are named after it."""
    groups: dict[tuple, list[dict]] = {}
    for row in (snapshot.comparisons if snapshot else None) or []:
        if row.get("flagged") is True:
            groups.setdefault((row.get("touchpoint"), row.get("metric")), []).append(row)
    ranked = []
    for (touchpoint, metric), rows in groups.items():
        unit = unit_of(names, touchpoint, metric)
        scored = sorted(((comparison_effect(r, unit), r) for r in rows),
                        key=lambda er: (SENTENCE_SEVERITY_RANK.get(er[1].get("severity"), 9), -er[0].rank))
        effect, lead = scored[0]
        also = [segment_label(r.get("segment_kind"), r.get("segment")) for _e, r in scored[1:]]
        ranked.append(((SENTENCE_SEVERITY_RANK.get(lead.get("severity"), 9), -effect.rank), lead, effect, also))
    ranked.sort(key=lambda item: item[0])
    sentences = [_sentence(lead, effect, names, also) for _key, lead, effect, also in ranked[:limit]]
    # Paired test calls are evidence of their own (the same request made twice): a flag among
    # them is part of the answer, after the unpaired ones.
    for row in (getattr(snapshot, "paired", None) or []) if snapshot else []:
        if row.get("flagged") is True and len(sentences) < limit:
            sentences.append(_paired_sentence(row, names))
    return sentences


def _paired_sentence(row: dict, names: dict) -> str:
    """'In paired test calls … existing customers fare worse … by 6 % (interval; n = 24 pairs).'"""
    effect = comparison_effect(row, unit_of(names, row.get("touchpoint"), row.get("metric")))
    return _("In paired test calls (the same request made as a prospect and as an existing customer), existing "
             "customers fare worse at %(where)s by %(effect)s (%(interval)s; n = %(n)s pairs).",
             where=metric_label(names, row.get("touchpoint"), row.get("metric")), effect=effect_value(effect),
             interval=effect_interval(effect), n=fmt_number(row.get("n_pairs")))


def template_helpers() -> dict:
    """Helpers for the audit templates (a blueprint context processor)."""
    return {
        "audit_status_labels": AUDIT_STATUS_LABELS, "finding_status_labels": FINDING_STATUS_LABELS,
        "severity_labels": SEVERITY_LABELS, "severity_badge": SEVERITY_BADGE, "kind_labels": KIND_LABELS,
        "segment_kind_labels": SEGMENT_KIND_LABELS, "customer_status_labels": CUSTOMER_STATUS_LABELS,
        "evidence_grade_labels": EVIDENCE_GRADE_LABELS,
        "segment_label": segment_label, "metric_label": metric_label, "finding_title": finding_title,
        "default_action": default_action, "finding_effect": finding_effect, "effect_value": effect_value,
        "effect_interval": effect_interval, "effect_n": effect_n, "effect_units": effect_units,
        "unit_amount": unit_amount, "comparison_effect": comparison_effect, "unit_of": unit_of,
        "trajectory_risk": trajectory_risk, "trajectory_risk_text": trajectory_risk_text,
        "trajectory_risk_short": trajectory_risk_short, "trajectory_risk_definition": trajectory_risk_definition,
    }
