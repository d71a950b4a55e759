"""Server-rendered SVG charts of a segmentation run (also usable in the PDF report)."""
from __future__ import annotations

import numpy as np
from flask_babel import gettext as _
from markupsafe import Markup

from app.web.charts import PALETTE, figure, insufficient, number_ticks, percent_ticks, to_svg

SEGMENT_COLORS = {"star": "#1f5fa8", "focus": "#2e7d32", "cash_cow": "#ef6c00", "time_waster": "#8a6d3b"}
TRAJECTORY_COLORS = {"growth": "#2e7d32", "shrinking": "#b3261e", "bell": "#7b1fa2", "cyclic": "#ef6c00",
                     "stable": "#6b7785"}


def pareto_chart(points: list, thresholds: tuple[float, float]) -> Markup:
    """Cumulative revenue share over the share of customers, with the A/B/C bands."""
    if len(points) < 3:
        return insufficient(_("Too few customers with revenue for a Pareto curve."))
    data = np.asarray(points, dtype=float)
    with figure(6.4, 3.6) as (fig, ax):
        first, second = thresholds
        ax.axhspan(0, first, color=PALETTE["A"], alpha=0.12, lw=0)
        ax.axhspan(first, second, color=PALETTE["B"], alpha=0.12, lw=0)
        ax.axhspan(second, 1, color=PALETTE["C"], alpha=0.25, lw=0)
        ax.plot(data[:, 0], data[:, 1], color=PALETTE["ink"], lw=1.6)
        for label, low, high in (("A", 0, first), ("B", first, second), ("C", second, 1)):
            ax.text(0.98, (low + high) / 2, label, ha="right", va="center", fontsize=10, fontweight="bold",
                    color=PALETTE["ink"], transform=ax.get_yaxis_transform())
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.set_xlabel(_("Share of customers (by revenue, largest first)"))
        ax.set_ylabel(_("Cumulative share of revenue"))
        percent_ticks(ax.xaxis)
        percent_ticks(ax.yaxis)
        return to_svg(fig, _("Pareto curve with the A, B and C bands"))


def matrix_chart(x, y, segments, split_x: float | None, split_y: float | None, counts: dict, labels: dict,
                 rating: bool = False) -> Markup:
    """Revenue against untapped potential, coloured by segment, with the split lines and counts."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    segments = np.asarray(segments, dtype=object)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0)
    if ok.sum() < 4 or split_x is None or split_y is None:
        return insufficient(_("Too few customers with revenue and potential for the matrix."))
    with figure(6.4, 4.2) as (fig, ax):
        log_y = not rating
        y_plot = np.where(y > 0, y, np.nan) if log_y else y
        positive = y[ok & (y > 0)]  # none: every untapped potential is zero (no all-NaN minimum, no warning)
        floor = positive.min() / 2 if log_y and positive.size else 0.5
        y_plot = np.where(np.isnan(y_plot), floor, y_plot) if log_y else y_plot
        for key, color in SEGMENT_COLORS.items():
            mask = ok & (segments == key)
            ax.scatter(x[mask], y_plot[mask], s=7, color=color, alpha=0.55, lw=0,
                       label=f"{labels.get(key, key)} ({counts.get(key, 0)})")
        ax.set_xscale("log")
        number_ticks(ax.xaxis)
        if log_y:
            ax.set_yscale("log")
            number_ticks(ax.yaxis)
        ax.axvline(split_x, color=PALETTE["ink"], lw=0.9, ls="--")
        ax.axhline(max(split_y, floor) if log_y else split_y, color=PALETTE["ink"], lw=0.9, ls="--")
        ax.set_xlabel(_("Revenue in the window (€, log scale)"))
        ax.set_ylabel(_("Potential rating (1–5)") if rating else _("Untapped potential (€, log scale)"))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=4, fontsize=8, markerscale=2)
        return to_svg(fig, _("Potential matrix"))


def trajectory_multiples(typical: dict, labels: dict, counts: dict) -> Markup:
    """Small multiples: the median shape and a few example customers per trajectory type."""
    keys = [k for k in TRAJECTORY_COLORS if k in typical]
    if not keys:
        return insufficient(_("Too few periods for trajectories."))
    with figure(1.9 * len(keys), 1.9, ncols=len(keys), sharey=True) as (fig, axes):
        axes = np.atleast_1d(axes)
        for ax, key in zip(axes, keys):
            for example in typical[key]["examples"]:
                ax.plot([np.nan if v is None else v for v in example], color=TRAJECTORY_COLORS[key],
                        lw=0.6 if key != "cyclic" else 1.0, alpha=0.35 if key != "cyclic" else 0.7)
            if key != "cyclic":  # cycles differ in phase: their median would be flat
                ax.plot([np.nan if v is None else v for v in typical[key]["median"]],
                        color=TRAJECTORY_COLORS[key], lw=2)
            ax.set_title(f"{labels.get(key, key)}\n({counts.get(key, 0)})", fontsize=8)
            ax.set_xticks([])
            ax.tick_params(labelsize=7)
        number_ticks(axes[0].yaxis, 1)
        axes[0].set_ylabel(_("value / customer mean"), fontsize=7)
        return to_svg(fig, _("Typical value series per trajectory type"))


def history_chart(periods: list[str], revenue, contribution) -> Markup:
    """One customer's revenue and contribution per period."""
    if len(periods) == 0:
        return insufficient(_("No values stored for this customer."))
    with figure(9.0, 3.0) as (fig, ax):
        positions = np.arange(len(periods))
        ax.bar(positions, revenue, color=PALETTE["A"], alpha=0.75, label=_("Revenue"))
        contribution = np.asarray(contribution, dtype=float)
        if np.isfinite(contribution).any():
            ax.plot(positions, contribution, color=PALETTE["warn"], lw=1.6, marker="o", ms=2.5,
                    label=_("Contribution margin"))
        ax.axhline(0, color=PALETTE["ink"], lw=0.6)
        step = max(1, len(periods) // 8)
        ax.set_xticks(positions[::step])
        ax.set_xticklabels(periods[::step], fontsize=7)
        number_ticks(ax.yaxis)
        ax.set_ylabel("€")
        ax.legend(fontsize=8, loc="upper left")
        return to_svg(fig, _("Value history"))
