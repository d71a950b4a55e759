"""Charts of the audit dashboard, shared with the PDF report: pure functions that take
the stored analysis (records or DataFrames) and return inline SVG markup
(the heatmap's markup is the template ``audits/charts/heatmap.svg``).

* :func:`heatmap_svg` — touchpoint·metric × segment, coloured by the relative gap
  existing vs new (red: worse for existing customers), hatched grey where the data are
  insufficient, a heavy frame and "!" where the comparison is flagged.
* :func:`tenure_chart_svg` — price vs tenure of existing customers with the Theil–Sen line.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import jinja2
import pandas as pd
from flask_babel import gettext as _
from markupsafe import Markup
from matplotlib.ticker import FuncFormatter

from app.segments.kinds import KINDS
from app.touchpoint_audit.labels import comparison_effect, effect_interval, effect_n, effect_units, effect_value
from app.web.charts import PALETTE, figure, insufficient, to_svg
from app.web.i18n import fmt_number

# the heat map's columns: all existing customers, then every compared kind's classes in their order
SEGMENT_ORDER = {"overall": ["all"], **{kind.key: list(kind.values) for kind in KINDS if kind.compared}}
CLIP = 0.30  # |relative effect| at which the colour saturates
# The chart templates need no request, user or translation: a plain environment renders them,
# so the charts work wherever their data are (a page, the PDF, a notebook).
SVG_TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                                   autoescape=True, undefined=jinja2.StrictUndefined)


def _frame(rows) -> pd.DataFrame:
    return rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows or []))


def _pct(value: float) -> str:
    return f"{value * 100:+.0f} %"


def cell_colour(effect_rel: float | None) -> str:
    """Diverging colour: white at 0, red when existing customers fare worse, blue when better."""
    if effect_rel is None or pd.isna(effect_rel):
        return "#e6e9ee"
    t = max(-1.0, min(1.0, float(effect_rel) / CLIP))
    worse, better = (179, 38, 30), (31, 95, 168)
    target = worse if t > 0 else better
    a = abs(t)
    r, g, b = (round(255 + (c - 255) * a) for c in target)
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap_svg(
    comparisons,
    names: dict | None = None,
    segment_label: Callable[[str, str], str] | None = None,
    scope: Iterable[str] | None = None,
    title: str = "",
    insufficient_text: str = "n < min",
    fmt_pct: Callable[[float], str] = _pct,
    empty_text: str = "No comparisons yet.",
    kind_label: Callable[[str], str] | None = None,
    tooltip: Callable[[dict, str, str], str] | None = None,
    link: Callable[[dict], str | None] | None = None,
) -> Markup:
    """The existing-vs-new gap per touchpoint·metric (rows) × segment (columns) as SVG.

    ``comparisons`` are the rows of :func:`audits.penalty.compare_groups` (records or a
    frame); ``names`` maps (touchpoint, metric) to (touchpoint name, metric name, unit);
    ``scope`` limits the segment columns to "kind:value" entries (the overall column stays);
    ``tooltip(row, where, segment)`` words a cell's tooltip (:func:`comparison_tooltip` on a
    page) and ``link(row)`` gives the URL a click on the cell opens.
    """
    frame = _frame(comparisons)
    if frame.empty:
        return insufficient(empty_text)
    names = names or {}
    kind_label = kind_label or (lambda kind: "" if kind == "overall" else kind)
    segment_label = segment_label or (lambda kind, value: "all" if kind == "overall" else f"{kind} {value}")
    frame["segment"] = frame["segment"].astype(str)
    present = set(zip(frame["segment_kind"], frame["segment"]))
    allowed = set(scope) if scope else None
    columns = []
    for kind, values in SEGMENT_ORDER.items():
        extra = sorted(v for k, v in present if k == kind and v not in values)
        for value in [*values, *extra]:
            if (kind, value) not in present:
                continue
            if allowed is not None and kind != "overall" and f"{kind}:{value}" not in allowed:
                continue
            columns.append((kind, value))
    rows = list(dict.fromkeys(zip(frame["touchpoint"], frame["metric"])))
    order = {key: i for i, key in enumerate(names)}  # catalog order when the names carry it
    rows.sort(key=lambda key: order.get(key, len(order)))
    lookup = {(r["touchpoint"], r["metric"], r["segment_kind"], r["segment"]): r for r in frame.to_dict("records")}

    def row_label(key):
        """'Touchpoint · metric' for a row."""
        found = names.get(key)
        return f"{found[0]} · {found[1]}" if found else f"{key[0]} · {key[1]}"

    label_w = min(380, max(120, int(6.3 * max(len(row_label(r)) for r in rows)) + 14))
    cell_w, cell_h, head_h = 64, 30, 92
    heads = [{"x": f"{label_w + j * cell_w + cell_w / 2:.0f}", "y": head_h - 8, "text": segment_label(kind, value)}
             for j, (kind, value) in enumerate(columns)]
    laid_out = []
    for i, key in enumerate(rows):
        y, text = head_h + i * cell_h, row_label(key)
        cells = [_heatmap_cell(lookup.get((*key, kind, value)), text, segment_label(kind, value), kind, value,
                               label_w + j * cell_w, y, cell_w, cell_h, fmt_pct, tooltip, link)
                 for j, (kind, value) in enumerate(columns)]
        laid_out.append({"x": label_w - 8, "y": f"{y + cell_h / 2 + 4:.0f}", "text": text,
                         "cells": [cell for cell in cells if cell is not None]})
    return Markup(SVG_TEMPLATES.get_template("audits/charts/heatmap.svg").render(
        title=title, ink=PALETTE["ink"], heads=heads, rows=laid_out,
        groups=_column_groups(columns, label_w, cell_w, kind_label), insufficient_text=insufficient_text,
        width=label_w + cell_w * len(columns) + 10, height=head_h + cell_h * len(rows) + 26,
        cell_w=cell_w, cell_h=cell_h, head_h=head_h, bottom=head_h + cell_h * len(rows),
    ).strip())


def _plain_tooltip(row: dict, text: str, segment: str) -> str:
    """A cell's tooltip with rounded figures where no page words it in the reader's language."""
    def fig(value, digits):
        return "–" if value is None or pd.isna(value) else f"{value:.{digits}f}"

    return (f"{text} – {segment}: n new {row.get('n_new')}, n existing {row.get('n_existing')}, "
            f"effect {fig(row.get('effect'), 2)}, 95 % CI {fig(row.get('ci_low'), 2)} … {fig(row.get('ci_high'), 2)}, "
            f"p adj. {fig(row.get('p_adjusted'), 4)}")


def comparison_tooltip(row: dict, where: str, segment: str, unit: str) -> str:
    """A heat-map cell's tooltip in the user's language: whether it is flagged, the effect
    with its unit, the 95 % interval, n, and the adjusted p (numbers in the user's locale)."""

    head = f"{where} – {segment}"
    if row.get("status") != "ok":
        return _("%(head)s: insufficient data, no flag (%(n)s).", head=head,
                 n=effect_n(comparison_effect(row, unit)))
    effect = comparison_effect(row, unit)
    verdict = _("flagged") if row.get("flagged") else _("not flagged")
    value = effect_value(effect)
    if effect_units(effect):
        value = f"{value} ({effect_units(effect)})"
    p = row.get("p_adjusted")
    return _("%(head)s: %(verdict)s. Gap %(effect)s; %(interval)s; %(n)s; adjusted p %(p)s.", head=head,
             verdict=verdict, effect=value, interval=effect_interval(effect), n=effect_n(effect),
             p=fmt_number(p, 3) if p is not None else "–")


def _heatmap_cell(row, text, segment, kind, value, x, y, cell_w, cell_h, fmt_pct, tooltip=None,
                  link=None) -> dict | None:
    """One cell of the heatmap: colour, frame, label and tooltip of a comparison (None: not measured)."""
    if row is None:
        return None
    ok = row.get("status") == "ok"
    effect_rel = row.get("effect_rel")
    flagged = bool(row.get("flagged"))
    measured = ok and effect_rel is not None and not pd.isna(effect_rel)
    return {
        "x": x, "y": y, "cx": f"{x + cell_w / 2:.0f}", "cy": f"{y + cell_h / 2 + 4:.0f}",
        "cls": "cell flagged" if flagged else ("cell" if ok else "cell insufficient-cell"),
        "segment": f"{kind}:{value}", "metric": f"{row['touchpoint']}.{row['metric']}",
        "tip": (tooltip or _plain_tooltip)(row, text, segment),
        "href": link(row) if link else None,
        "fill": cell_colour(effect_rel) if ok else "url(#hm-hatch)",
        "flagged": flagged, "insufficient": not ok,
        "label": fmt_pct(float(effect_rel)) + (" !" if flagged else "") if measured else None,
        "dark": measured and abs(float(effect_rel)) > CLIP * 0.55,
    }


def _column_groups(columns, label_w, cell_w, kind_label) -> list[dict]:
    """The group labels under the columns (ABC, potential, profit tier), with a separator after each group."""
    groups, start = [], 0
    for j in range(1, len(columns) + 1):
        if j == len(columns) or columns[j][0] != columns[start][0]:
            x0, x1 = label_w + start * cell_w, label_w + j * cell_w
            groups.append({"x": f"{(x0 + x1) / 2:.0f}", "text": kind_label(columns[start][0]),
                           "separator": x1 if j < len(columns) else None})
            start = j
    return groups


def tenure_chart_svg(series: dict, names: dict | None = None, title: str | None = None,
                     x_label: str = "Tenure (years)", y_label: str = "Price (€)",
                     empty_text: str = "Too few points for a chart.",
                     fmt_tick: Callable[[float], str] | None = None) -> Markup:
    """Scatter of price vs tenure (existing customers) with the Theil–Sen line.

    ``series`` is one entry of ``AnalysisSnapshot.gradient["series"]``: touchpoint, metric,
    product_key, slope, intercept, points [[tenure, price], …], flagged. ``fmt_tick`` writes the
    axes' numbers in the reader's language (2,5 and 1.200 in German).
    """
    points = pd.DataFrame(series.get("points") or [], columns=["tenure", "price"])
    if len(points) < 3:
        return insufficient(empty_text)
    names = names or {}
    found = names.get((series.get("touchpoint"), series.get("metric")))
    label = f"{found[0]} · {found[1]}" if found else f"{series.get('touchpoint')} · {series.get('metric')}"
    if series.get("product_key"):
        label += f" ({series['product_key']})"
    title = title or label
    with figure(6.0, 3.2) as (fig, ax):
        ax.scatter(points["tenure"], points["price"], s=9, alpha=0.45, color=PALETTE["existing"], linewidths=0)
        slope, intercept = series.get("slope"), series.get("intercept")
        if slope is not None and intercept is not None:
            xs = [float(points["tenure"].min()), float(points["tenure"].max())]
            ax.plot(xs, [intercept + slope * x for x in xs], color=PALETTE["ink"],
                    linewidth=2 if series.get("flagged") else 1.2,
                    linestyle="-" if series.get("flagged") else "--", label="Theil–Sen")
            # Above the plot, under the title: inside the axes it would cover the points it explains.
            ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), borderaxespad=0.2, frameon=False, fontsize="small")
        if fmt_tick is not None:

            for axis in (ax.xaxis, ax.yaxis):
                axis.set_major_formatter(FuncFormatter(lambda value, _position: fmt_tick(value)))
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.set_title(label, loc="left", pad=22)
        return to_svg(fig, title)
