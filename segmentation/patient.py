"""Customer vs "patient": the account manager's checklist, scored.

Each checklist row is one dated assessment of one customer, with one yes/no
column per trait (:data:`segmentation.definitions.CUSTOMER_TRAITS` and
:data:`segmentation.definitions.PATIENT_TRAITS`; keys are the column names).
A trait column may be missing or a cell empty: that trait was not assessed.

Scoring
-------
* ``customer_share`` = ticked customer traits / assessed customer traits;
  ``patient_share`` likewise (0 when none of a list was assessed).
* ``score = (patient_share − customer_share + 1) / 2``, from 0 (only customer
  traits, all of them) through 0.5 (balanced) to 1 (only patient traits, all
  of them). Both lists count, so one ticked patient trait among five customer
  traits still reads "customer".
* Class: ``score ≤ thresholds[0]`` (1/3) → ``customer``; ``score ≥
  thresholds[1]`` (2/3) → ``patient``; between → ``mixed``; nothing ticked at
  all → ``unknown`` (score NaN). Values within 1e-9 of a threshold count as on
  it.
* History: with an id and a date column, each assessment also gets the class
  of the customer's previous assessment and whether it changed;
  :func:`latest_patient_class` keeps the newest assessment per customer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tabular import parse_booleans

from .definitions import CUSTOMER_TRAITS, PATIENT_TRAITS

__all__ = ["latest_patient_class", "patient_score"]

_TOLERANCE = 1e-9


def _flags(column: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(column):
        return column.astype("boolean")
    if pd.api.types.is_numeric_dtype(column):
        numbers = column.astype(float)
        if not numbers.dropna().isin([0.0, 1.0]).all():
            raise ValueError(f"Trait column {column.name!r} must hold yes/no, 1/0 or True/False.")
        return numbers.map({1.0: True, 0.0: False}).astype("boolean")
    values, errors = parse_booleans(column)
    if errors.notna().any():
        bad = column[errors.notna()].iloc[0]
        raise ValueError(f"Trait column {column.name!r} holds {bad!r}; use yes/no, ja/nein, x or 1/0.")
    return values


def _tally(checklist: pd.DataFrame, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    ticked = np.zeros(len(checklist), dtype=np.int64)
    assessed = np.zeros(len(checklist), dtype=np.int64)
    for key in keys:
        if key in checklist.columns:
            flags = _flags(checklist[key])
            ticked += flags.fillna(False).astype(bool).to_numpy()
            assessed += flags.notna().to_numpy()
    return ticked, assessed


def patient_score(
    checklist: pd.DataFrame,
    thresholds: Sequence[float] = (1 / 3, 2 / 3),
    *,
    id_col: str = "customer_id",
    date_col: str = "assessed_at",
) -> pd.DataFrame:
    """Score customer-vs-patient checklists.

    Parameters
    ----------
    checklist : DataFrame
        One row per assessment; trait columns named by the trait keys, holding
        booleans, 1/0 or yes/no texts (empty = not assessed). ``id_col`` and
        ``date_col`` are carried over when present.
    thresholds : (float, float)
        Score limits for customer (≤ first) and patient (≥ second).

    Returns
    -------
    DataFrame
        In input order: ``id_col`` and ``date_col`` (when present),
        ``customer_traits`` and ``patient_traits`` (ticked counts),
        ``customer_share``, ``patient_share``, ``score``, ``patient_class``
        (customer/mixed/patient/unknown); with both id and date also
        ``previous_class`` and ``class_changed``.
    """
    low, high = (float(t) for t in thresholds)
    if not 0 <= low < high <= 1:
        raise ValueError(f"thresholds must satisfy 0 <= customer < patient <= 1, got {thresholds!r}.")
    trait_keys = [*CUSTOMER_TRAITS, *PATIENT_TRAITS]
    if not any(key in checklist.columns for key in trait_keys):
        raise ValueError(f"No trait column found; name the columns by the trait keys: {trait_keys}.")
    customer_ticked, customer_assessed = _tally(checklist, list(CUSTOMER_TRAITS))
    patient_ticked, patient_assessed = _tally(checklist, list(PATIENT_TRAITS))
    with np.errstate(divide="ignore", invalid="ignore"):
        customer_share = np.where(customer_assessed > 0, customer_ticked / customer_assessed, 0.0)
        patient_share = np.where(patient_assessed > 0, patient_ticked / patient_assessed, 0.0)
    nothing = (customer_ticked + patient_ticked) == 0
    score = np.where(nothing, np.nan, (patient_share - customer_share + 1.0) / 2.0)
    patient_class = np.select(
        [nothing, score <= low + _TOLERANCE, score >= high - _TOLERANCE],
        ["unknown", "customer", "patient"],
        default="mixed",
    ).astype(object)
    out = pd.DataFrame(index=checklist.index)
    for column in (id_col, date_col):
        if column in checklist.columns:
            out[column] = checklist[column]
    out["customer_traits"] = customer_ticked
    out["patient_traits"] = patient_ticked
    out["customer_share"] = np.where(customer_assessed > 0, customer_share, np.nan)
    out["patient_share"] = np.where(patient_assessed > 0, patient_share, np.nan)
    out["score"] = score
    out["patient_class"] = patient_class
    if id_col in out.columns and date_col in out.columns:
        dated = out.assign(_date=pd.to_datetime(out[date_col], errors="coerce"))
        ordered = dated.sort_values([id_col, "_date"], kind="mergesort")
        previous = ordered.groupby(id_col, sort=False)["patient_class"].shift(1)
        out["previous_class"] = previous.reindex(out.index).astype(object)
        out["previous_class"] = out["previous_class"].where(out["previous_class"].notna(), None)
        out["class_changed"] = out["previous_class"].notna() & (
            out["previous_class"] != out["patient_class"]
        )
    return out.reset_index(drop=True)


def latest_patient_class(
    scored: pd.DataFrame, *, id_col: str = "customer_id", date_col: str = "assessed_at"
) -> pd.DataFrame:
    """Return the newest assessment per customer from a :func:`patient_score` result."""
    missing = [c for c in (id_col, date_col) if c not in scored.columns]
    if missing:
        raise ValueError(f"Columns {missing} are missing; score dated assessments with patient_score().")
    dated = scored.assign(_date=pd.to_datetime(scored[date_col], errors="coerce"))
    ordered = dated.sort_values([id_col, "_date"], kind="mergesort")
    return ordered.groupby(id_col, sort=True).tail(1).drop(columns="_date").reset_index(drop=True)
