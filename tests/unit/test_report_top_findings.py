"""The summary leads with loyalty-penalty findings, then after-sales gaps."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.reports.document import top_findings


def findings(penalty: int, aftersales: int) -> list:
    return ([SimpleNamespace(kind="aggregate", n=i) for i in range(penalty)]
            + [SimpleNamespace(kind="aftersales", n=i) for i in range(aftersales)])


@pytest.mark.parametrize("penalty,aftersales,expected", [
    (10, 10, (6, 4)),   # both plenty: 3/5 penalty
    (3, 12, (3, 7)),    # few penalty findings: after-sales fill the room
    (12, 2, (8, 2)),    # few after-sales gaps: penalty findings fill the room
    (0, 4, (0, 4)),
    (0, 0, (0, 0)),
])
def test_top_findings_mix(penalty, aftersales, expected):
    top = top_findings(findings(penalty, aftersales))
    kinds = [f.kind for f in top]
    assert (kinds.count("aggregate"), kinds.count("aftersales")) == expected
    # penalty findings first, each list in its given (severity) order
    assert kinds == sorted(kinds, key=lambda k: k == "aftersales")
    assert [f.n for f in top if f.kind == "aggregate"] == list(range(expected[0]))
