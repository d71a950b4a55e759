"""After-sales → repurchase for the screens and the report.

The statistics come from the pure :mod:`audits.aftersales` (Wilson intervals per
cell, Newcombe intervals for the after-sales effect); this module loads the
outcomes (:mod:`app.aftersales.loaders`), groups the result per segment kind for
display, draws the grouped-bar chart and turns after-sales gaps into findings
of an audit (kind ``aftersales``, upserted by their stable key).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app.aftersales.loaders import outcome_frame
from app.aftersales.models import DEFAULT_THRESHOLD
from app.segments.kinds import AUDIT_KINDS, KINDS, value_label
from app.touchpoint_audit.models import upsert_findings as upsert_audit_findings
from app.web.charts import PALETTE, figure, insufficient, to_svg
from app.web.figures import cached_figures, frame_digest
from app.web.i18n import fmt_number
from audits import to_python
from audits.aftersales import QUOTED_REFERENCE, aftersales_effect, repurchase_table
from audits.findings import aftersales_findings

DEFAULT_MIN_N = 10
# The heading of each block of tables: all customers, then every compared segment kind.
KIND_LABELS = {"overall": _l("All customers"), **{kind.key: kind.label for kind in KINDS if kind.compared}}
CELLS = ((True, True), (False, True), (True, False), (False, False))
FINDING_SOURCE = "aftersales"


def window_for(audit) -> tuple[dt.date, dt.date]:
    """The after-sales outcomes that belong to an audit: the 12 months up to its period end
    (repurchase needs time to show, so a short audit period alone would hold too few)."""
    end = audit.period_end or dt.date.today()
    return end - dt.timedelta(days=365), end


def segment_label(kind: str, segment, lang: str) -> str:
    """The UI name of a segment value (e.g. potential 'time_waster' → 'Zeitfresser')."""
    if kind in (None, "overall") or segment in (None, "all"):
        return _("All customers")
    found = value_label(kind, segment, lang)
    return found if found is not None else str(segment)


@dataclass
class SegmentBlock:
    """One segment's four cells and two after-sales effects."""

    kind: str
    segment: str
    label: str
    cells: list[dict]
    effects: list[dict]
    n: int

    def cell(self, sale: bool, after: bool) -> dict:
        return next(c for c in self.cells if c["sale_satisfied"] == sale and c["after_sales_satisfied"] == after)

    def effect(self, sale: bool) -> dict:
        return next(e for e in self.effects if e["sale_satisfied"] == sale)


@dataclass
class AftersalesResult:
    """Everything the screen and the report show, per segment kind."""

    threshold: int
    min_n: int
    n_outcomes: int
    kinds: dict[str, list[SegmentBlock]] = field(default_factory=dict)
    first: dt.date | None = None
    last: dt.date | None = None

    @property
    def empty(self) -> bool:
        return self.n_outcomes == 0

    @property
    def overall(self) -> SegmentBlock | None:
        blocks = self.kinds.get("overall") or []
        return blocks[0] if blocks else None

    def flagged_effects(self) -> list[dict]:
        return [e for blocks in self.kinds.values() for b in blocks for e in b.effects if e["flagged"]]


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: to_python(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _tables(frame: pd.DataFrame, threshold: int, min_n: int) -> dict:
    """The cells and effects of every compared kind, as JSON (see :func:`analyse`)."""
    kinds = [k for k in AUDIT_KINDS if frame[k].notna().any()]
    table = repurchase_table(frame, kinds, min_n=min_n, threshold=threshold)
    effects = aftersales_effect(frame, kinds, min_n=min_n, threshold=threshold)
    return {"kinds": kinds, "cells": _records(table), "effects": _records(effects)}


def analyse(
    threshold: int = DEFAULT_THRESHOLD,
    min_n: int = DEFAULT_MIN_N,
    start: dt.date | None = None,
    end: dt.date | None = None,
    lang: str = "en",
    frame: pd.DataFrame | None = None,
    keep: bool = False,
) -> AftersalesResult:
    """The 2×2 tables and after-sales effects per segment kind (from the stored outcomes).

    ``keep``: the tables are kept in the database per state of the outcomes and their segments
    (a digest of the frame) and read from there while nothing changed (for a page; this
    commits, so not inside a transaction that writes)."""
    if frame is None:
        frame = outcome_frame(threshold, start, end)
    result = AftersalesResult(threshold=threshold, min_n=min_n, n_outcomes=len(frame))
    if frame.empty:
        return result
    result.first, result.last = frame["outcome_date"].min(), frame["outcome_date"].max()
    if keep:
        tables = cached_figures("aftersales", frame_digest(frame), (threshold, min_n),
                                lambda: _tables(frame, threshold, min_n))
    else:
        tables = _tables(frame, threshold, min_n)
    kinds, cell_rows, effect_rows = tables["kinds"], tables["cells"], tables["effects"]
    for kind in ["overall", *kinds]:
        segments = []
        for segment in dict.fromkeys(r["segment"] for r in cell_rows if r["segment_kind"] == kind):
            cells = [r for r in cell_rows if r["segment_kind"] == kind and r["segment"] == segment]
            segments.append(SegmentBlock(
                kind=kind, segment=str(segment), label=segment_label(kind, segment, lang), cells=cells,
                effects=[e for e in effect_rows if e["segment_kind"] == kind and e["segment"] == segment],
                n=sum(c["n"] for c in cells),
            ))
        result.kinds[kind] = segments
    return result


def reference_rate(sale: bool, after: bool) -> float:
    """The quoted carmaker figure for a cell (a quoted reference, not our finding)."""
    return QUOTED_REFERENCE["rates"][(sale, after)]


def reference_label(lang: str) -> str:
    """The label that must accompany the quoted reference figures."""
    return QUOTED_REFERENCE["label"]["de" if lang == "de" else "en"]


def cell_label(sale: bool, after: bool) -> str:
    """'Sale ✓ / After-sales ✗' style label of a cell."""
    return _("Sale %(sale)s · after-sales %(after)s",
             sale=_("satisfied") if sale else _("not satisfied"),
             after=_("satisfied") if after else _("not satisfied"))


def chart(blocks: list[SegmentBlock], title: str, with_reference: bool = False) -> Markup:
    """Grouped bars: per segment the four cells' repurchase rates with Wilson intervals."""
    drawable = [b for b in blocks if any(c["rate"] is not None for c in b.cells)]
    if not drawable:
        return insufficient(_("Too few outcomes to draw this chart (fewer than the minimum per cell)."))
    colors = ["#1f5fa8", "#8fb8e6", "#ef6c00", "#b3261e"]
    width = min(7.2, 2.2 + 1.3 * len(drawable))
    with figure(width, 3.0) as (fig, ax):
        bar = 0.8 / 4
        x = np.arange(len(drawable))
        for i, (sale, after) in enumerate(CELLS):
            rates, lows, highs = [], [], []
            for block in drawable:
                c = block.cell(sale, after)
                rate = c["rate"]
                rates.append(np.nan if rate is None else rate * 100)
                lows.append(0 if rate is None else max(0.0, (rate - c["ci_low"]) * 100))
                highs.append(0 if rate is None else max(0.0, (c["ci_high"] - rate) * 100))
            pos = x - 0.4 + bar * (i + 0.5)
            ax.bar(pos, rates, bar * 0.92, color=colors[i], label=cell_label(sale, after), zorder=2)
            ax.errorbar(pos, rates, yerr=[lows, highs], fmt="none", ecolor=PALETTE["ink"], elinewidth=0.8,
                        capsize=2, zorder=3)
            if with_reference:
                ax.scatter(pos, [reference_rate(sale, after) * 100] * len(pos), marker="D", s=14,
                           facecolors="white", edgecolors=PALETTE["ink"], linewidths=0.8, zorder=4,
                           label=_("Quoted reference (carmaker)") if i == 0 else None)
        ax.set_xticks(x, [b.label for b in drawable])
        ax.set_ylim(0, 100)
        ax.set_ylabel(_("Repurchase rate (%)"))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=7)
        return to_svg(fig, title)


def cell_customers(kind: str, segment: str, sale: bool, after: bool, threshold: int = DEFAULT_THRESHOLD,
                   start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
    """The outcomes (customers) behind one cell, for the drill-down."""
    frame = outcome_frame(threshold, start, end)
    if frame.empty:
        return frame
    mask = (frame["sale_satisfaction"] == sale) & (frame["after_sales_satisfaction"] == after)
    if kind != "overall":
        if kind not in AUDIT_KINDS:
            raise ValueError(f"unknown segment kind {kind!r}")
        mask &= frame[kind].astype(str) == segment
    return frame[mask].sort_values(["outcome_date", "customer_no"], ascending=[False, True])


# ------------------------------------------------------------------ findings


def finding_specs(result: AftersalesResult) -> list[dict]:
    """One finding (kind 'aftersales') per flagged after-sales effect."""
    rows = [e for e in result.flagged_effects()]
    if not rows:
        return []
    found = aftersales_findings(pd.DataFrame(rows))
    specs = []
    for f in found:
        kind, segment = f["segment_kind"], f["segment"]
        specs.append({
            "key": f["key"], "kind": "aftersales", "severity": f["severity"] or "low",
            "touchpoint_key": f["touchpoint"], "metric_key": f["metric"],
            "segment_kind": kind, "segment": str(segment) if segment is not None else "all",
            "title": f["title"]["en"][:300], "figures": {**f["figures"], "threshold": result.threshold,
                                                          "title_de": f["title"]["de"],
                                                          "action_de": f["action"]["de"]},
            "recommended_action": f["action"]["en"],
        })
    return specs


def upsert_findings(audit, result: AftersalesResult) -> dict:
    """Record after-sales gaps as findings of ``audit`` (by stable key; owner, due date and
    status are kept; gaps no longer found are marked stale). The caller commits."""
    return upsert_audit_findings(audit, FINDING_SOURCE, finding_specs(result))


def finding_title(finding, lang: str) -> str:
    """An after-sales finding's title in the current language, from its stored figures."""
    figures = finding.figures or {}
    difference = figures.get("difference")
    if difference is None:
        return finding.title

    segment = segment_label(finding.segment_kind, finding.segment, lang)
    if figures.get("sale_satisfied"):
        return _("After-sales gap, %(segment)s: customers satisfied with the sale but not with after-sales "
                 "repurchase %(diff)s points less often", segment=segment, diff=fmt_number(difference * 100))
    return _("After-sales gap, %(segment)s: among customers not satisfied with the sale, those also "
             "dissatisfied with after-sales repurchase %(diff)s points less often",
             segment=segment, diff=fmt_number(difference * 100))
