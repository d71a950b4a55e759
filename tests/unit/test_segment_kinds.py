"""The one segment-kind vocabulary agrees with the segmentation it names."""
from __future__ import annotations

import pytest

from app.segments import kinds
from app.segments.models import CustomerSegment
from segmentation import SEGMENT_COLUMNS
from segmentation.definitions import ABC_CLASSES, DEFINITIONS, POTENTIAL_SEGMENTS, PROFIT_TIERS, TRAJECTORIES

PRODUCED = {column for group in SEGMENT_COLUMNS.values() for column in group}


@pytest.mark.parametrize("kind", kinds.KINDS, ids=lambda kind: kind.key)
def test_every_kind_is_a_defined_column_the_pipeline_produces_and_a_segment_stores(kind):
    assert kind.column in DEFINITIONS
    assert kind.column in PRODUCED
    assert hasattr(CustomerSegment, kind.column)
    assert kind.values == tuple(DEFINITIONS[kind.column])


def test_the_audit_kinds_and_their_classes_in_order():
    assert kinds.AUDIT_KINDS == ("abc", "potential", "tier")
    assert kinds.COLUMNS == {"abc": "abc_class", "potential": "potential_segment", "tier": "profit_tier"}
    assert kinds.CLASS_COLUMNS == ("abc_class", "potential_segment", "profit_tier", "trajectory")
    assert kinds.BY_KEY["abc"].values == tuple(ABC_CLASSES) == ("A", "B", "C")
    assert kinds.BY_KEY["potential"].values == tuple(POTENTIAL_SEGMENTS) == ("star", "focus", "cash_cow", "time_waster")
    assert kinds.BY_KEY["tier"].values == tuple(PROFIT_TIERS) == ("A", "B", "C", "Z")
    assert kinds.BY_COLUMN["trajectory"].values == tuple(TRAJECTORIES)


def test_labels_of_classes():
    assert kinds.value_label("potential", "time_waster", "de") == "Zeitfresser"
    assert kinds.value_label("potential", "nonsense", "de") is None
    assert kinds.value_label("product", "X1", "de") is None
    assert kinds.value_label(None, "A", "en") is None
    assert kinds.class_label("potential_segment", "cash_cow", "en") == "Cash cows"
    assert kinds.class_label("potential_segment", None, "en") == "–"
    assert kinds.class_label("potential_segment", float("nan"), "en") == "–"
    assert kinds.class_label("abc_class", "Q", "en") == "Q"
