"""Server-rendered charts: matplotlib to an SVG string, the same in the browser
and in the PDF report. Deterministic output (fixed hash salt, no date), so a
published report's bytes do not depend on when it was rendered."""
from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from contextlib import contextmanager

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from markupsafe import Markup  # noqa: E402
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.web.i18n import fmt_number, fmt_percent
from app.web.models import CachedChart

PALETTE = {
    "new": "#1f77b4", "existing": "#d62728", "neutral": "#6b7785", "good": "#2e7d32",
    "bad": "#b3261e", "warn": "#ef6c00", "grid": "#d9dee5", "ink": "#1c2430",
    "A": "#1f5fa8", "B": "#5d9bd6", "C": "#b9d3ee", "Z": "#b3261e",
}
STYLE = {
    "font.family": "DejaVu Sans", "font.size": 9, "axes.edgecolor": "#9aa7b6", "axes.labelcolor": "#1c2430",
    "axes.titlesize": 10, "axes.titleweight": "bold", "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.color": "#e3e8ee", "grid.linewidth": 0.6, "xtick.color": "#44505e",
    "ytick.color": "#44505e", "legend.frameon": False, "svg.fonttype": "none", "svg.hashsalt": "loyalty-audit",
    # Chart texts carry user text (touchpoint, metric and product names): a `$` in them
    # is a character, never the start of a mathtext formula.
    "text.parse_math": False,
}


@contextmanager
def figure(width: float = 6.4, height: float = 3.6, **subplot_kw):
    """A styled figure and axes; closed when the block ends."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(width, height), **subplot_kw)
        try:
            yield fig, ax
        finally:
            plt.close(fig)


def to_svg(fig, title: str = "") -> Markup:
    """The figure as an inline <svg> element that scales to its container."""
    buffer = io.StringIO()
    with plt.rc_context(STYLE):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    # Scale with the container; keep the viewBox for the aspect ratio.
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1', svg, count=1)
    label = Markup.escape(title)
    svg = svg.replace("<svg", f'<svg role="img" aria-label="{label}" preserveAspectRatio="xMidYMid meet"', 1)
    return Markup(svg)


def number_ticks(axis, digits: int = 0) -> None:
    """Tick labels in the UI language's number format (1.400 / 1,400; 0,5 / 0.5)."""
    axis.set_major_formatter(lambda value, _pos: fmt_number(value, digits))


def percent_ticks(axis) -> None:
    """Tick labels of shares as percentages in the UI language's format (80 %)."""
    axis.set_major_formatter(lambda value, _pos: fmt_percent(value, 0))


def insufficient(message: str) -> Markup:
    """What a chart says when there is too little data to draw it honestly."""
    return Markup('<p class="insufficient">{}</p>').format(message)


def cached_svg(scope: str, owner: int, inputs, draw: Callable[[], Markup]) -> Markup:
    """The chart ``draw()`` makes, kept in the database (``chart_cache``) for the next request.

    ``inputs`` must hold everything besides ``scope`` and ``owner`` that the drawing depends
    on (language, labels, parameters), as plain values with a stable ``repr``; the key is
    their hash. ``owner`` is the run or analysis the chart shows: storing a chart of one owner
    drops the scope's charts of every other owner (a new run or analysis replaces them).
    """

    key = hashlib.sha256(repr((scope, owner, inputs)).encode()).hexdigest()
    stored = db.session.scalar(db.select(CachedChart.svg).where(CachedChart.key == key))
    if stored is not None:
        return Markup(stored)
    drawn = draw()
    try:
        db.session.execute(db.delete(CachedChart).where(CachedChart.scope == scope, CachedChart.owner != owner))
        db.session.add(CachedChart(key=key, scope=scope, owner=owner, svg=str(drawn)))
        db.session.commit()
    except IntegrityError:  # another request stored the same chart meanwhile
        db.session.rollback()
    return drawn
