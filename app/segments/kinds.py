"""The segment kinds: how the app names each classification of a customer, the column of
:class:`~app.segments.models.CustomerSegment` that holds it, its heading, and its classes.

This is the one place that lists them. The classes of each kind and their labels come
from :mod:`segmentation.definitions` (the column names are the kinds there and the
columns :data:`segmentation.pipeline.SEGMENT_COLUMNS` produces); audits, after-sales and
reports compare existing customers per class of the kinds marked ``compared``.
Adding a kind is one entry in :data:`KINDS` (plus its definitions in ``segmentation``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from segmentation.definitions import DEFINITIONS, label

__all__ = [
    "AUDIT_KINDS", "BY_COLUMN", "BY_KEY", "CLASS_COLUMNS", "COLUMNS", "KINDS", "SegmentKind", "class_label",
    "value_label",
]


@dataclass(frozen=True)
class SegmentKind:
    """One classification of customers."""

    key: str  # as audits, findings and after-sales name it ("abc"); stored in findings
    column: str  # the CustomerSegment column and the kind in segmentation.definitions ("abc_class")
    label: str  # heading, e.g. "ABC class"
    short_label: str  # the group label under a heat map's columns, e.g. "ABC"
    compared: bool  # audits and after-sales compare customers per class of this kind

    @property
    def values(self) -> tuple[str, ...]:
        """The classes in their defined order (Stars before Fokus …)."""
        return tuple(DEFINITIONS[self.column])


KINDS: tuple[SegmentKind, ...] = (
    SegmentKind("abc", "abc_class", _l("ABC class"), _l("ABC"), compared=True),
    SegmentKind("potential", "potential_segment", _l("Potential segment"), _l("Potential"), compared=True),
    SegmentKind("tier", "profit_tier", _l("Profit tier"), _l("Profit tier"), compared=True),
    SegmentKind("trajectory", "trajectory", _l("Trajectory"), _l("Trajectory"), compared=False),
)
BY_KEY: dict[str, SegmentKind] = {kind.key: kind for kind in KINDS}
BY_COLUMN: dict[str, SegmentKind] = {kind.column: kind for kind in KINDS}
#: The kinds audits and after-sales compare by, as they name them: ("abc", "potential", "tier").
AUDIT_KINDS: tuple[str, ...] = tuple(kind.key for kind in KINDS if kind.compared)
#: Compared kind -> CustomerSegment column.
COLUMNS: dict[str, str] = {kind.key: kind.column for kind in KINDS if kind.compared}
#: Every CustomerSegment column that holds a class (run summaries, transitions, exports).
CLASS_COLUMNS: tuple[str, ...] = tuple(kind.column for kind in KINDS)


def class_label(column: str, value, lang: str) -> str:
    """The UI label of a class (``class_label("potential_segment", "time_waster", "de")`` →
    'Zeitfresser'); '–' for none, the value itself when it has no definition."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    try:
        return label(column, str(value), lang)
    except ValueError:
        return str(value)


def value_label(key: str | None, value, lang: str) -> str | None:
    """The label of a class of the kind named ``key`` (``value_label("potential", "time_waster",
    "de")`` → 'Zeitfresser'); None when the kind or the class is not defined."""
    kind = BY_KEY.get(key) if key is not None else None
    if kind is None:
        return None
    try:
        return label(kind.column, str(value), lang)
    except ValueError:
        return None
