"""safe_cell: no line of an exported text can start a formula."""
from __future__ import annotations

import pytest

from tabular import safe_cell


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"),
    ("Harmless GmbH\r=cmd|' /C calc'!A0", "Harmless GmbH\r'=cmd|' /C calc'!A0"),
    ("Harmless GmbH\n+1", "Harmless GmbH\n'+1"),
    ("Harmless GmbH\r\n@SUM(A1)", "Harmless GmbH\r\n'@SUM(A1)"),
    ("a\n\r\n-2\n=3", "a\n\r\n'-2\n'=3"),
    ("\r=cmd", "'\r'=cmd"),
    ("a\n\tb", "a\n'\tb"),
])
def test_formulas_after_every_line_break_are_neutralised(value, expected):
    assert safe_cell(value) == expected


@pytest.mark.parametrize("value", ["Müller GmbH", "first line\nsecond line", "a\r\nb", "", 12.5, None, -3])
def test_harmless_values_are_unchanged(value):
    assert safe_cell(value) == value
