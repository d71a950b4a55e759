"""The report's small SVG charts: hand-drawn, not matplotlib, because a long report draws
dozens of them. Python lays them out; the markup is in ``reports/charts/*.svg``."""
from __future__ import annotations

from typing import Callable

from flask import render_template
from flask_babel import gettext as _
from markupsafe import Markup

from app.web.i18n import fmt_number

NEW, EXISTING = "#1f77b4", "#d62728"


def comparison_chart(rows: list[dict], segment_label: Callable, unit_label: str, title: str) -> Markup:
    """Horizontal bars per segment: the new customers' median vs the existing customers' median."""
    rows = [r for r in rows if r.get("median_new") is not None and r.get("median_existing") is not None]
    if not rows:
        return Markup('<p class="insufficient">{}</p>').format(_("No medians to draw."))
    top = max(max(abs(r["median_new"]), abs(r["median_existing"])) for r in rows) or 1.0
    label_w, bar_w, row_h = 150, 300, 26
    laid_out = []
    for i, r in enumerate(rows):
        y = 26 + i * row_h
        bars = [{"y": y + 2 + j * 10, "w": max(0.5, bar_w * abs(r[key]) / top), "colour": colour,
                 "value": fmt_number(r[key], 2)}
                for j, (key, colour) in enumerate((("median_new", NEW), ("median_existing", EXISTING)))]
        laid_out.append({"y": y, "text": segment_label(r["segment_kind"], r["segment"])[:28], "bars": bars})
    return Markup(render_template(
        "reports/charts/comparison.svg", rows=laid_out, title=title, unit_label=unit_label,
        label_w=label_w, bar_w=bar_w, height=30 + row_h * len(rows) + 18, colours=(NEW, EXISTING),
    ).strip())


def segment_count_chart(counts: dict[str, int], label: Callable, title: str) -> Markup:
    """Vertical bars: customers per segment value."""
    if not counts:
        return Markup('<p class="insufficient">{}</p>').format(_("No segmentation yet."))
    top = max(counts.values()) or 1
    bar_w, gap, h = 48, 18, 120
    bars = [{"x": 10 + i * (bar_w + gap), "h": h * n / top, "count": fmt_number(n), "text": label(key)[:14]}
            for i, (key, n) in enumerate(counts.items())]
    return Markup(render_template(
        "reports/charts/segment_counts.svg", bars=bars, title=title, h=h, bar_w=bar_w,
        width=20 + (bar_w + gap) * len(counts),
    ).strip())
