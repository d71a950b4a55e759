"""The dashboard charts (pure functions, reused by the PDF report)."""
from __future__ import annotations

import pandas as pd

from app.touchpoint_audit.charts import cell_colour, heatmap_svg, tenure_chart_svg


def _row(segment_kind, segment, status="ok", effect_rel=0.2, flagged=False, metric="wait"):
    return {"touchpoint": "hotline", "metric": metric, "segment_kind": segment_kind, "segment": segment,
            "status": status, "effect_rel": effect_rel, "effect": 10.0, "flagged": flagged, "n_new": 40,
            "n_existing": 30, "ci_low": 1.0, "ci_high": 20.0, "p_adjusted": 0.01}


def test_heatmap_marks_flagged_and_insufficient_cells():
    rows = [_row("overall", "all"), _row("abc", "C", flagged=True, effect_rel=0.6),
            _row("abc", "A", status="insufficient_data", effect_rel=None), _row("tier", "Z", effect_rel=-0.1)]
    svg = str(heatmap_svg(pd.DataFrame(rows), names={("hotline", "wait"): ("Hotline", "Waiting time", "seconds")},
                          title="Gap"))
    assert svg.startswith("<svg") and 'aria-label="Gap"' in svg
    assert svg.count('class="cell flagged"') == 1 and 'data-segment="abc:C"' in svg
    assert svg.count("insufficient-cell") == 1 and "url(#hm-hatch)" in svg
    assert "Hotline · Waiting time" in svg and "+60 % !" in svg
    # column order: overall, then ABC A before C, then tier
    assert svg.index('data-segment="overall:all"') < svg.index('data-segment="abc:A"') < svg.index(
        'data-segment="abc:C"') < svg.index('data-segment="tier:Z"')


def test_heatmap_scope_limits_segment_columns():
    rows = [_row("overall", "all"), _row("abc", "C"), _row("abc", "A")]
    svg = str(heatmap_svg(rows, scope=["abc:C"]))
    assert 'data-segment="abc:C"' in svg and 'data-segment="abc:A"' not in svg and 'data-segment="overall:all"' in svg


def test_heatmap_without_comparisons_says_so():
    assert "insufficient" in str(heatmap_svg([], empty_text="nothing"))


def test_colours_diverge_from_white():
    assert cell_colour(0.0) == "#ffffff"
    assert cell_colour(0.3) == "#b3261e" and cell_colour(-0.3) == "#1f5fa8" and cell_colour(None) == "#e6e9ee"


def test_tenure_chart():
    series = {"touchpoint": "renewal", "metric": "price", "product_key": "PLUS", "slope": 12.0, "intercept": 700.0,
              "flagged": True, "points": [[1, 710], [3, 740], [8, 800], [12, 850]]}
    svg = str(tenure_chart_svg(series, names={("renewal", "price"): ("Renewal", "Renewal price", "eur")}))
    assert svg.startswith("<svg") and "Renewal · Renewal price (PLUS)" in svg
    assert "insufficient" in str(tenure_chart_svg({"points": [[1, 2]]}))
