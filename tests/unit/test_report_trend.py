"""Round-over-round verdicts at their boundaries, and the break opportunities for long words."""
from __future__ import annotations

from app.reports.document import breakable, trend_verdict


def row(effect, low, high, status="ok", threshold=1.0):
    return {"effect": effect, "ci_low": low, "ci_high": high, "status": status, "threshold": threshold}


def test_no_previous_or_no_current():
    assert trend_verdict(None, row(5, 4, 6)) == "new"
    assert trend_verdict(row(5, 4, 6), None) == "gone"


def test_insufficient_data_is_not_comparable():
    assert trend_verdict(row(5, 4, 6, status="insufficient_data"), row(1, 0, 2)) == "not_comparable"
    assert trend_verdict(row(5, 4, 6), {"effect": None, "status": "ok"}) == "not_comparable"


def test_effects_in_different_units_are_not_comparable():
    # a round analysed before effects were relative (EUR) against one in %
    assert trend_verdict(row(30, 20, 40), dict(row(2, 0, 4), effect_unit="%")) == "not_comparable"
    assert trend_verdict(dict(row(10, 8, 12), effect_unit="%"),
                         dict(row(2, 0, 4), effect_unit="%")) == "shrank"


def test_shrank_and_grew_need_disjoint_intervals_and_a_material_move():
    assert trend_verdict(row(10, 8, 12), row(2, 0, 4)) == "shrank"
    assert trend_verdict(row(2, 0, 4), row(10, 8, 12)) == "grew"


def test_overlapping_intervals_or_small_moves_stay():
    assert trend_verdict(row(10, 6, 14), row(5, 2, 8)) == "stayed"  # intervals overlap
    assert trend_verdict(row(10, 9.9, 10.1), row(9.2, 9.1, 9.3)) == "stayed"  # below materiality (1.0)
    # exactly touching intervals are not disjoint
    assert trend_verdict(row(10, 8, 12), row(5, 3, 8)) == "stayed"


def test_breakable_escapes_and_inserts_break_opportunities():
    text = "<b>" + "x" * 60
    out = str(breakable(text))
    assert "<b>" not in out and "&lt;b&gt;" in out
    assert out.count("\u200b") == 2
    assert str(breakable("short words stay as they are")) == "short words stay as they are"
    assert str(breakable("abcdef", limit=4)) == "abc…"
