"""Customer vs patient checklist: score, class thresholds, history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from segmentation.definitions import CUSTOMER_TRAITS, PATIENT_CLASSES, PATIENT_TRAITS
from segmentation.patient import latest_patient_class, patient_score

CUSTOMER = list(CUSTOMER_TRAITS)
PATIENT = list(PATIENT_TRAITS)


def checklist(customer_ticks: int, patient_ticks: int) -> dict:
    row = {key: i < customer_ticks for i, key in enumerate(CUSTOMER)}
    row.update({key: i < patient_ticks for i, key in enumerate(PATIENT)})
    return row


@pytest.mark.parametrize(
    ("customer_ticks", "patient_ticks", "score", "expected"),
    [
        (6, 0, 0.0, "customer"),
        (2, 0, 1 / 3, "customer"),  # exactly on the customer threshold
        (1, 0, 5 / 12, "mixed"),
        (3, 3, 0.5, "mixed"),
        (0, 1, 7 / 12, "mixed"),
        (0, 2, 2 / 3, "patient"),  # exactly on the patient threshold
        (1, 4, 0.75, "patient"),
        (0, 6, 1.0, "patient"),
    ],
)
def test_score_and_class(customer_ticks, patient_ticks, score, expected):
    out = patient_score(pd.DataFrame([checklist(customer_ticks, patient_ticks)]))
    assert out["score"].iloc[0] == pytest.approx(score)
    assert out["patient_class"].iloc[0] == expected


def test_nothing_ticked_is_unknown():
    out = patient_score(pd.DataFrame([checklist(0, 0)]))
    assert np.isnan(out["score"].iloc[0])
    assert out["patient_class"].iloc[0] == "unknown"


def test_output_frame_with_text_answers_and_unassessed_traits():
    frame = pd.DataFrame(
        {
            "customer_id": ["007"],
            "wants_solution": ["ja"],
            "talks_as_equal": [""],  # not assessed
            "chronically_dissatisfied": ["nein"],
            "seeks_confirmation": ["x"],
        }
    )
    expected = pd.DataFrame(
        {
            "customer_id": ["007"],
            "customer_traits": np.array([1], dtype=np.int64),
            "patient_traits": np.array([1], dtype=np.int64),
            "customer_share": [1.0],
            "patient_share": [0.5],
            "score": [0.25],
            "patient_class": ["customer"],
        }
    ).astype({"patient_class": object})
    pdt.assert_frame_equal(patient_score(frame), expected)


def test_numeric_and_boolean_answers():
    frame = pd.DataFrame({"wants_solution": [1, 0], "deflects_responsibility": [False, True]})
    out = patient_score(frame)
    assert out["patient_class"].tolist() == ["customer", "patient"]


def test_custom_thresholds():
    out = patient_score(pd.DataFrame([checklist(1, 0)]), thresholds=(0.45, 0.9))
    assert out["patient_class"].iloc[0] == "customer"


def test_history_marks_changes():
    frame = pd.DataFrame(
        [
            {"customer_id": "A", "assessed_at": "2024-06-01", **checklist(0, 4)},
            {"customer_id": "A", "assessed_at": "2024-01-01", **checklist(5, 0)},
            {"customer_id": "B", "assessed_at": "2024-03-01", **checklist(5, 0)},
            {"customer_id": "A", "assessed_at": "2024-09-01", **checklist(0, 5)},
        ]
    )
    out = patient_score(frame)
    assert out["patient_class"].tolist() == ["patient", "customer", "customer", "patient"]
    assert out["previous_class"].tolist() == ["customer", None, None, "patient"]
    assert out["class_changed"].tolist() == [True, False, False, False]
    latest = latest_patient_class(out)
    assert latest[["customer_id", "assessed_at", "patient_class"]].values.tolist() == [
        ["A", "2024-09-01", "patient"],
        ["B", "2024-03-01", "customer"],
    ]


def test_errors():
    with pytest.raises(ValueError, match="trait"):
        patient_score(pd.DataFrame({"customer_id": ["a"]}))
    with pytest.raises(ValueError, match="wants_solution"):
        patient_score(pd.DataFrame({"wants_solution": ["vielleicht"]}))
    with pytest.raises(ValueError, match="yes/no"):
        patient_score(pd.DataFrame({"wants_solution": [2]}))
    with pytest.raises(ValueError, match="thresholds"):
        patient_score(pd.DataFrame([checklist(1, 0)]), thresholds=(0.7, 0.3))
    with pytest.raises(ValueError, match="assessed_at"):
        latest_patient_class(pd.DataFrame({"customer_id": ["a"]}))


def test_traits_and_classes_have_both_languages():
    assert len(CUSTOMER_TRAITS) == 6 and len(PATIENT_TRAITS) == 6
    for entry in [*CUSTOMER_TRAITS.values(), *PATIENT_TRAITS.values(), *PATIENT_CLASSES.values()]:
        assert entry["label_de"] and entry["label_en"]
