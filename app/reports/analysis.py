"""The reports area's public face for other pages: the last published round on the
same scope and the round-over-round trend of an audit's comparisons (the rules live
in :mod:`app.reports.document`, which the PDF uses)."""
from __future__ import annotations

from app.reports.document import TrendRow, previous_round, round_trend, trend_verdict

__all__ = ["TrendRow", "previous_round", "round_trend", "trend_verdict"]
