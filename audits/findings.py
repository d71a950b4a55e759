"""Turn flags into findings: stable key, severity, bilingual title, figures, action.

A finding is what a touchpoint manager reviews and assigns. Its ``key``
depends only on what was found where — never on the figures — so re-running an analysis
updates the existing finding instead of adding a duplicate. Owner, due date and status
belong to the application and are not set here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import pandas as pd

from ._common import ALL_SEGMENTS, OVERALL, require_columns, severity_of, to_python

__all__ = [
    "SEVERITY_ORDER",
    "CASE_SEVERITY",
    "PRICE_WALKING_SEVERITY",
    "AFTERSALES_SEVERITY",
    "TITLE_TEMPLATES",
    "RECOMMENDED_ACTIONS",
    "finding_key",
    "aggregate_findings",
    "case_findings",
    "price_walking_findings",
    "aftersales_findings",
    "build_findings",
    "render_title",
]

SEVERITY_ORDER: tuple[str, ...] = ("critical", "high", "medium", "low")


def _levels(**rules: tuple[float, int]) -> Mapping[str, Mapping[str, float]]:
    return MappingProxyType({
        level: MappingProxyType({"min_effect_rel": effect, "min_customers": customers})
        for level, (effect, customers) in rules.items()
    })


#: Cases: median excess over the new-business price (share) of the flagged cases and
#: distinct customers flagged.
CASE_SEVERITY = _levels(critical=(0.20, 100), high=(0.10, 50), medium=(0.05, 10),
                        low=(0.0, 0))
#: Price walking: slope per year of tenure as a share of the median price, and n.
PRICE_WALKING_SEVERITY = _levels(critical=(0.05, 100), high=(0.03, 50), medium=(0.01, 20),
                                 low=(0.0, 0))
#: After-sales gap: difference in repurchase rate (rate points) and customers
#: dissatisfied with after-sales.
AFTERSALES_SEVERITY = _levels(critical=(0.40, 100), high=(0.25, 50), medium=(0.10, 20),
                              low=(0.0, 0))

#: Title per finding kind; placeholders are filled by :func:`render_title`.
TITLE_TEMPLATES: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "aggregate": MappingProxyType({
        "en": "{segment_label}: existing customers fare worse than new customers on "
              "{metric} at {touchpoint} ({effect_rel} vs new customers)",
        "de": "{segment_label}: Bestandskunden schlechter gestellt als Neukunden bei "
              "{metric} am Touchpoint {touchpoint} ({effect_rel} ggü. Neukunden)",
    }),
    "case": MappingProxyType({
        "en": "{segment_label}: {n_flagged} existing-customer prices above the new-business "
              "price at {touchpoint} / {metric}, {total_excess} paid in excess",
        "de": "{segment_label}: {n_flagged} Bestandskundenpreise über dem Neukundenpreis "
              "bei {touchpoint} / {metric}, {total_excess} zu viel bezahlt",
    }),
    "price_walking": MappingProxyType({
        "en": "Price walking at {touchpoint} / {metric}{product}: prices rise by {slope} "
              "per year of customer tenure",
        "de": "Preis steigt mit der Kundendauer bei {touchpoint} / {metric}{product}: "
              "{slope} mehr je Jahr Kundenbeziehung",
    }),
    "aftersales_gap": MappingProxyType({
        "en": "{segment_label}: customers dissatisfied with after-sales repurchase less "
              "({sale_label}; {difference} rate points, about {lost} repurchases lost)",
        "de": "{segment_label}: Kunden, die mit dem After-Sales unzufrieden sind, kaufen "
              "seltener wieder ({sale_label}; {difference} Prozentpunkte, etwa {lost} "
              "Wiederkäufe verloren)",
    }),
})

_WORDS = MappingProxyType({
    "all_existing": {"en": "All existing customers", "de": "Alle Bestandskunden"},
    "product": {"en": ", product {product}", "de": ", Produkt {product}"},
    "sale_yes": {"en": "satisfied with the sale", "de": "mit dem Kauf zufrieden"},
    "sale_no": {"en": "not satisfied with the sale", "de": "mit dem Kauf unzufrieden"},
})

#: Recommended action per finding kind and topic (a touchpoint or metric name, matched
#: case-insensitively, or "*" as the fallback).
RECOMMENDED_ACTIONS: Mapping[str, Mapping[str, Mapping[str, str]]] = MappingProxyType({
    "aggregate": MappingProxyType({
        "price": {
            "en": "Bring existing customers' prices to the new-business price for the same "
                  "product and channel; review automatic increases at renewal.",
            "de": "Bestandskundenpreise an den Neukundenpreis für dasselbe Produkt und "
                  "denselben Kanal angleichen; automatische Erhöhungen bei Verlängerung "
                  "prüfen.",
        },
        "renewal": {
            "en": "Offer renewing customers at least the new-business terms; stop renewal "
                  "prices above the equivalent new-business price.",
            "de": "Verlängernden Kunden mindestens die Neukundenkonditionen anbieten; "
                  "Verlängerungspreise über dem gleichwertigen Neukundenpreis abstellen.",
        },
        "hotline": {
            "en": "Give existing customers the same queue priority as prospects and set a "
                  "wait-time target per segment.",
            "de": "Bestandskunden in der Warteschleife wie Interessenten behandeln und ein "
                  "Wartezeit-Ziel je Segment festlegen.",
        },
        "inside_sales": {
            "en": "Assign the segment to experienced inside-sales staff and reward "
                  "existing-customer care in the incentive scheme.",
            "de": "Das Segment erfahrenen Innendienst-Mitarbeitern zuordnen und die "
                  "Betreuung von Bestandskunden in der Vergütung honorieren.",
        },
        "promotion": {
            "en": "Extend new-customer promotions to existing customers or add a loyalty "
                  "bonus of equal value.",
            "de": "Neukundenaktionen auch Bestandskunden anbieten oder einen gleichwertigen "
                  "Treuebonus einführen.",
        },
        "after_sales": {
            "en": "Set response and resolution targets for existing customers' service "
                  "requests and follow up after each case.",
            "de": "Reaktions- und Lösungsziele für Serviceanfragen von Bestandskunden "
                  "festlegen und nach jedem Fall nachfassen.",
        },
        "*": {
            "en": "Find out why existing customers fare worse at this touchpoint and set the "
                  "new-customer level as the target.",
            "de": "Ursache klären, warum Bestandskunden an diesem Touchpoint schlechter "
                  "gestellt sind, und das Neukundenniveau als Ziel setzen.",
        },
    }),
    "case": MappingProxyType({
        "*": {
            "en": "Correct or refund the flagged prices and fix the pricing rule that lets "
                  "them exceed the new-business price.",
            "de": "Die markierten Preise korrigieren oder erstatten und die Preisregel "
                  "beheben, die den Neukundenpreis überschreiten lässt.",
        },
    }),
    "price_walking": MappingProxyType({
        "*": {
            "en": "Cap increases for long-standing customers and review their prices against "
                  "the current new-business tariff.",
            "de": "Preiserhöhungen für langjährige Kunden begrenzen und ihre Preise mit dem "
                  "aktuellen Neukundentarif abgleichen.",
        },
    }),
    "aftersales_gap": MappingProxyType({
        "*": {
            "en": "Improve after-sales for this segment and contact dissatisfied customers "
                  "before their next purchase decision.",
            "de": "Den After-Sales-Service für dieses Segment verbessern und unzufriedene "
                  "Kunden vor der nächsten Kaufentscheidung ansprechen.",
        },
    }),
})


def finding_key(kind: str, *parts: object) -> str:
    """Stable key: ``kind:part:part…``; ``%`` and ``:`` in parts are percent-encoded."""
    def encode(part: object) -> str:
        part = ALL_SEGMENTS if to_python(part) is None else str(part)
        return part.replace("%", "%25").replace(":", "%3A")
    return ":".join([kind] + [encode(p) for p in parts])


def _format_number(value, lang: str, digits: int = 2) -> str:
    text = f"{value:,.{digits}f}"
    if lang == "de":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text


def _format_pct(value, lang: str, signed: bool = True) -> str:
    if value is None:
        return "n/a"
    text = _format_number(100 * value, lang, 1)
    return ("+" if signed and value > 0 else "") + text + " %"


def render_title(code: str, params: Mapping[str, object], lang: str) -> str:
    """Fill the template ``code`` in language ``lang`` ('en' or 'de') from ``params``.

    Numbers are formatted for the language (German decimal comma); this is what the
    app can call again with its own translations of segment names.
    """
    if lang not in ("en", "de"):
        raise ValueError("lang must be 'en' or 'de'.")
    p = dict(params)
    kind, segment = p.get("segment_kind"), p.get("segment")
    if p.get("segments_label"):
        p["segment_label"] = p["segments_label"]
    else:
        p["segment_label"] = (_WORDS["all_existing"][lang] if kind in (None, OVERALL)
                              else f"{kind} {segment}")
    for name in ("effect_rel", "slope_rel"):
        if name in p:
            p[name] = _format_pct(p[name], lang)
    if "difference" in p:
        p["difference"] = _format_number(100 * p["difference"], lang, 1)
    if "total_excess" in p:
        p["total_excess"] = _format_number(p["total_excess"], lang, 2)
    if "lost" in p:
        p["lost"] = _format_number(p["lost"], lang, 0)
    if "slope" in p:
        p["slope"] = _format_number(p["slope"], lang, 2)
    if "product" in p:
        p["product"] = (_WORDS["product"][lang].format(product=p["product"])
                        if p["product"] is not None else "")
    if "sale_satisfied" in p:
        p["sale_label"] = _WORDS["sale_yes" if p["sale_satisfied"] else "sale_no"][lang]
    return TITLE_TEMPLATES[code][lang].format(**p)


def _action(kind: str, touchpoint, metric) -> tuple[str, dict]:
    table = RECOMMENDED_ACTIONS[kind]
    for topic in (touchpoint, metric):
        name = str(topic).lower() if topic is not None else None
        if name in table:
            return f"{kind}:{name}", dict(table[name])
        # numbered touchpoints ("hotline_2") share the action of their base name
        base = name.rsplit("_", 1)[0] if name and name.rsplit("_", 1)[-1].isdigit() else None
        if base in table:
            return f"{kind}:{base}", dict(table[base])
    return f"{kind}:*", dict(table["*"])


def _finding(kind, key, severity, touchpoint, metric, segment_kind, segment,
             params, figures) -> dict:
    params = {k: to_python(v) for k, v in params.items()}
    action_code, action = _action(kind, touchpoint, metric)
    return {
        "key": key,
        "kind": kind,
        "severity": severity,
        "touchpoint": to_python(touchpoint),
        "metric": to_python(metric),
        "segment_kind": segment_kind,
        "segment": to_python(segment),
        "title": {lang: render_title(kind, params, lang) for lang in ("en", "de")},
        "title_code": kind,
        "title_params": params,
        "figures": {k: to_python(v) for k, v in figures.items()},
        "action": action,
        "action_code": action_code,
    }


_AGGREGATE_FIGURES = ("n_new", "n_existing", "n_customers", "median_new", "median_existing",
                      "reference_level", "effect", "effect_rel", "effect_value", "effect_unit",
                      "threshold", "ci_low", "ci_high", "p", "p_adjusted", "statistic",
                      "n_strata", "direction", "warning")
_FACET_FIGURES = ("segment_kind", "segment", "n_new", "n_existing", "effect", "ci_low", "ci_high",
                  "p_adjusted", "effect_unit", "effect_rel", "severity")
_EXCESS_FIGURES = ("excess_year", "excess_year_low", "excess_year_high", "volume",
                   "volume_source", "typical_price")


def aggregate_findings(comparisons: pd.DataFrame, excess_year: pd.DataFrame | None = None,
                       cases: pd.DataFrame | None = None) -> list[dict]:
    """One root-cause finding per touchpoint × metric with a flagged comparison.

    ABC class, potential segment and profit tier hold the same customers, so a gap is
    one finding, not one per segment kind. Its headline is the overall comparison when
    that is flagged, else the flagged segment with the largest lower interval bound;
    ``figures['segments']`` names every segment where the gap holds (flagged rows), each
    with its n, effect and interval. The key depends on touchpoint and metric only
    (``aggregate:<touchpoint>:<metric>:overall:all``), so status, owner and comments
    survive a re-analysis whichever segments flag this time.

    Parameters
    ----------
    comparisons : pandas.DataFrame
        Output of :func:`audits.compare_groups`.
    excess_year : pandas.DataFrame, optional
        Output of :func:`audits.excess_per_year`: the yearly excess of the headline row,
        or the sum over the flagged segments of the headline's segment kind (segments of
        one kind do not overlap; of different kinds they do, so those are not added).
    cases : pandas.DataFrame, optional
        Output of :func:`audits.case_flags`: the excess observed of the flagged cases.
    """
    require_columns(comparisons, ["touchpoint", "metric", "segment_kind", "segment",
                                  "flagged", "severity", "effect_rel"], "comparisons")
    rank = {level: i for i, level in enumerate(SEVERITY_ORDER)}
    out = []
    flagged_rows = comparisons[comparisons["flagged"].eq(True)]
    for (tp, metric), group in flagged_rows.groupby(["touchpoint", "metric"], sort=True,
                                                    observed=True):
        rows = group.to_dict("records")
        overall = [r for r in rows if r["segment_kind"] == OVERALL]
        facets = [r for r in rows if r["segment_kind"] != OVERALL]
        lead = overall[0] if overall else max(
            facets, key=lambda r: float("-inf") if pd.isna(r.get("ci_low")) else r["ci_low"])
        severity = min((r["severity"] for r in rows), key=lambda lvl: rank.get(lvl, len(rank)))
        kind, segment = lead["segment_kind"], lead["segment"]
        figures = {k: lead[k] for k in _AGGREGATE_FIGURES if k in lead}
        figures["segments"] = [{k: to_python(f.get(k)) for k in _FACET_FIGURES} for f in facets]
        figures.update(_excess_figures(tp, metric, lead, facets, excess_year, cases))
        label = None if overall else ", ".join(f"{f['segment_kind']} {f['segment']}"
                                               for f in facets)
        out.append(_finding(
            "aggregate", finding_key("aggregate", tp, metric, OVERALL, ALL_SEGMENTS), severity,
            tp, metric, kind, segment,
            dict(touchpoint=tp, metric=metric, segment_kind=kind, segment=segment,
                 segments_label=label, effect_rel=lead["effect_rel"]),
            figures,
        ))
    return out


def _excess_figures(tp, metric, lead, facets, excess_year, cases) -> dict:
    """Excess a year (headline row, or its kind's flagged segments) and excess observed."""
    figures: dict = {}
    if excess_year is not None and len(excess_year):
        mine = excess_year[(excess_year["touchpoint"] == tp) & (excess_year["metric"] == metric)]
        if lead["segment_kind"] == OVERALL:
            mine = mine[mine["segment_kind"] == OVERALL]
        else:
            same_kind = {f["segment"] for f in facets if f["segment_kind"] == lead["segment_kind"]}
            mine = mine[(mine["segment_kind"] == lead["segment_kind"])
                        & mine["segment"].isin(same_kind)]
        if len(mine):
            for column in ("excess_year", "excess_year_low", "excess_year_high", "volume"):
                figures[column] = float(mine[column].sum())
            figures["volume_source"] = ", ".join(sorted(set(mine["volume_source"])))
            figures["typical_price"] = float(mine["typical_price"].median())
    if cases is not None and len(cases):
        mine = cases[(cases["touchpoint"] == tp) & (cases["metric"] == metric)
                     & cases["flagged"].eq(True)]
        figures["excess_observed"] = float(mine["excess"].sum())
        figures["n_cases_flagged"] = int(len(mine))
    return figures


def case_findings(
    cases: pd.DataFrame,
    segment_kind: str | None = None,
    *,
    min_flagged: int = 1,
    severity: Mapping[str, Mapping[str, float]] = CASE_SEVERITY,
    touchpoint_col: str = "touchpoint",
    metric_col: str = "metric",
    customer_col: str = "customer_id",
) -> list[dict]:
    """Aggregate flagged cases of :func:`audits.case_flags` into findings.

    One finding per touchpoint and metric (``segment_kind=None``), or per touchpoint,
    metric and value of ``segment_kind`` — one level per call, so the total excess is
    never counted twice. Groups with fewer than ``min_flagged`` flagged cases give none.
    Severity from the median excess share and the distinct customers flagged (cases
    without customer id count one each), see :data:`CASE_SEVERITY`.
    """
    needed = [touchpoint_col, metric_col, "flagged", "excess", "excess_pct"]
    if segment_kind is not None:
        needed.append(segment_kind)
    require_columns(cases, needed, "cases")
    keys = [touchpoint_col, metric_col] + ([segment_kind] if segment_kind else [])
    out = []
    verdict = cases["excess"].notna()
    for label, group in cases.groupby(keys, sort=True, observed=True, dropna=False):
        label = label if isinstance(label, tuple) else (label,)
        if segment_kind and to_python(label[2]) is None:
            continue  # no segment value (e.g. customer not segmented): overall only
        flagged = group[group["flagged"].eq(True)]
        if len(flagged) < max(min_flagged, 1):
            continue
        tp, metric = label[0], label[1]
        kind = segment_kind or OVERALL
        segment = label[2] if segment_kind else ALL_SEGMENTS
        if customer_col in flagged.columns:
            ids = flagged[customer_col]
            customers = int(ids.nunique(dropna=True) + ids.isna().sum())
        else:
            customers = len(flagged)
        median_pct = float(flagged["excess_pct"].median())
        figures = dict(
            n_cases=int(verdict[group.index].sum()),
            n_flagged=len(flagged),
            share_flagged=len(flagged) / max(int(verdict[group.index].sum()), 1),
            total_excess=float(flagged["excess"].sum()),
            median_excess=float(flagged["excess"].median()),
            median_excess_pct=median_pct,
            n_customers=customers,
        )
        level = severity_of([median_pct], [customers], severity)[0]
        out.append(_finding(
            "case", finding_key("case", tp, metric, kind, segment), level,
            tp, metric, kind, segment,
            dict(touchpoint=tp, metric=metric, segment_kind=kind, segment=segment,
                 n_flagged=len(flagged), total_excess=figures["total_excess"]),
            figures,
        ))
    return out


_WALKING_FIGURES = ("n", "n_slope", "subsampled", "median_value", "rho", "p", "p_adjusted",
                    "slope", "slope_low", "slope_high", "slope_rel")


def price_walking_findings(
    gradients: pd.DataFrame,
    *,
    severity: Mapping[str, Mapping[str, float]] = PRICE_WALKING_SEVERITY,
    product_col: str = "product_key",
) -> list[dict]:
    """One finding per flagged row of :func:`audits.tenure_gradient`."""
    require_columns(gradients, ["touchpoint", "metric", "flagged", "slope", "slope_rel", "n"],
                    "gradients")
    out = []
    for row in gradients[gradients["flagged"].eq(True)].to_dict("records"):
        tp, metric = row["touchpoint"], row["metric"]
        product = to_python(row.get(product_col))
        level = severity_of([row["slope_rel"]], [row["n"]], severity)[0]
        out.append(_finding(
            "price_walking", finding_key("price_walking", tp, metric, product), level,
            tp, metric, OVERALL, ALL_SEGMENTS,
            dict(touchpoint=tp, metric=metric, product=product, slope=row["slope"],
                 slope_rel=row["slope_rel"]),
            dict({k: row[k] for k in _WALKING_FIGURES if k in row}, product_key=product),
        ))
    return out


_AFTERSALES_FIGURES = ("sale_satisfied", "n_satisfied", "n_dissatisfied", "rate_satisfied",
                       "rate_dissatisfied", "difference", "ci_low", "ci_high",
                       "dissatisfied_share", "lost_repurchases", "quoted_difference")


def aftersales_findings(
    effects: pd.DataFrame,
    *,
    severity: Mapping[str, Mapping[str, float]] = AFTERSALES_SEVERITY,
    touchpoint: str = "after_sales",
    metric: str = "repurchase",
) -> list[dict]:
    """One "after-sales gap" finding per flagged row of :func:`audits.aftersales_effect`."""
    require_columns(effects, ["segment_kind", "segment", "sale_satisfied", "flagged",
                              "difference", "n_dissatisfied"], "effects")
    out = []
    for row in effects[effects["flagged"].eq(True)].to_dict("records"):
        kind, segment, sale = row["segment_kind"], row["segment"], bool(row["sale_satisfied"])
        level = severity_of([row["difference"]], [row["n_dissatisfied"]], severity)[0]
        out.append(_finding(
            "aftersales_gap",
            finding_key("aftersales_gap", kind, segment,
                        "sale_satisfied" if sale else "sale_dissatisfied"),
            level, touchpoint, metric, kind, segment,
            dict(segment_kind=kind, segment=segment, sale_satisfied=sale,
                 difference=row["difference"], lost=row.get("lost_repurchases")),
            {k: row[k] for k in _AFTERSALES_FIGURES if k in row},
        ))
    return out


def build_findings(
    comparisons: pd.DataFrame | None = None,
    cases: pd.DataFrame | None = None,
    gradients: pd.DataFrame | None = None,
    aftersales: pd.DataFrame | None = None,
    *,
    case_segment_kind: str | None = None,
    excess_year: pd.DataFrame | None = None,
) -> list[dict]:
    """All findings of an audit run, most severe first, then by key.

    Parameters
    ----------
    comparisons, cases, gradients, aftersales : pandas.DataFrame, optional
        Outputs of :func:`audits.compare_groups`, :func:`audits.case_flags`,
        :func:`audits.tenure_gradient` and :func:`audits.aftersales_effect`.
    case_segment_kind : str, optional
        Aggregate cases per value of this segment column instead of overall.
    excess_year : pandas.DataFrame, optional
        Output of :func:`audits.excess_per_year`, for the root-cause findings' cost.
    """
    found: list[dict] = []
    if comparisons is not None:
        found += aggregate_findings(comparisons, excess_year, cases)
    if cases is not None:
        found += case_findings(cases, case_segment_kind)
    if gradients is not None:
        found += price_walking_findings(gradients)
    if aftersales is not None:
        found += aftersales_findings(aftersales)
    rank = {level: i for i, level in enumerate(SEVERITY_ORDER)}
    keys = [f["key"] for f in found]
    if len(set(keys)) != len(keys):
        raise ValueError("two findings share a key; pass each analysis once.")
    return sorted(found, key=lambda f: (rank.get(f["severity"], len(rank)), f["key"]))

