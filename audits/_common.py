"""Helpers shared by the audit modules: validation, status aliases, small statistics.

Private module: the public API lives in :mod:`audits`.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import special, stats

#: The customer statuses an observation can have: the new customers are the reference.
CUSTOMER_STATUSES: tuple[str, ...] = ("new", "existing")

#: Spellings of the customer status accepted in observations (matched after
#: stripping and lower-casing). German words are the ones the users type.
STATUS_ALIASES: Mapping[str, str] = {
    "new": "new",
    "neu": "new",
    "neukunde": "new",
    "existing": "existing",
    "bestand": "existing",
    "bestandskunde": "existing",
    "stammkunde": "existing",
}

#: How strong an observation's evidence is: seen in a test call or visit, read from a
#: company system, or a customer's own statement.
EVIDENCE_GRADES: tuple[str, ...] = ("observed", "system", "self_reported")

#: Spellings of the evidence grade accepted in observation files (matched after
#: stripping, lower-casing and turning "-" and "_" into spaces), English and German.
EVIDENCE_GRADE_ALIASES: Mapping[str, str] = {
    "observed": "observed",
    "observation": "observed",
    "test call": "observed",
    "visit": "observed",
    "beobachtet": "observed",
    "beobachtung": "observed",
    "testanruf": "observed",
    "besuch": "observed",
    "system": "system",
    "system record": "system",
    "record": "system",
    "systemdaten": "system",
    "systemdatensatz": "system",
    "systemeintrag": "system",
    "self reported": "self_reported",
    "customer statement": "self_reported",
    "selbstauskunft": "self_reported",
    "kundenaussage": "self_reported",
    "kundenangabe": "self_reported",
    "selbst berichtet": "self_reported",
    "selbstberichtet": "self_reported",
}

#: Direction of a metric: which way is better for the customer.
DIRECTIONS = ("lower", "higher")

#: Segment label used for the comparison of all existing customers.
OVERALL = "overall"
ALL_SEGMENTS = "all"


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise ``ValueError`` naming the missing columns of ``frame``."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{what} lacks the column(s) {missing}; present are {list(frame.columns)}. "
            "Pass the actual column names through the *_col / segment_kinds parameters."
        )


def group_codes(frame: pd.DataFrame, columns: Iterable[str]) -> np.ndarray:
    """One int64 code per row for the combination of ``columns``; missing is a value.

    Built column by column with ``pd.factorize`` so that categoricals, missing values
    and mixed types behave the same (``groupby(..., dropna=False)`` on categoricals has
    had its surprises).
    """
    combined = np.zeros(len(frame), dtype="int64")
    for column in columns:
        codes, uniques = pd.factorize(frame[column], use_na_sentinel=True)
        combined = combined * (len(uniques) + 1) + (codes + 1)
        combined = pd.factorize(combined)[0].astype("int64")
    return combined


def customer_status(word) -> str | None:
    """'new' or 'existing' for one spelling of :data:`STATUS_ALIASES` ('Bestandskunde'), else None."""
    return STATUS_ALIASES.get(str(word).strip().lower())


def evidence_grade(word) -> str | None:
    """'observed', 'system' or 'self_reported' for one spelling of :data:`EVIDENCE_GRADE_ALIASES`
    ('Testanruf', 'self-reported'), else None."""
    key = " ".join(str(word).strip().lower().replace("-", " ").replace("_", " ").split())
    return EVIDENCE_GRADE_ALIASES.get(key)


def normalise_status(status: pd.Series) -> np.ndarray:
    """Return a numpy array of 'new' / 'existing' (object) for a status column."""
    codes, uniques = pd.factorize(status, use_na_sentinel=True)
    if (codes < 0).any():
        raise ValueError(
            "customer status is missing in some observations; every observation "
            "needs 'new' or 'existing' (Neukunde / Bestandskunde)."
        )
    mapped = []
    unknown = []
    for raw in uniques:
        found = customer_status(raw)
        if found is not None:
            mapped.append(found)
        else:
            unknown.append(raw)
    if unknown:
        raise ValueError(
            f"unknown customer status value(s) {unknown[:5]}; use one of "
            f"{sorted(STATUS_ALIASES)}."
        )
    return np.asarray(mapped, dtype=object)[codes]


def numeric_values(values: pd.Series, what: str = "value") -> np.ndarray:
    """Return the column as float64, raising a helpful error for text or infinities."""
    if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        raise ValueError(
            f"column {values.name!r} ({what}) must be numeric, got dtype {values.dtype}; "
            "convert it first, e.g. pd.to_numeric(frame[col], errors='coerce')."
        )
    out = values.to_numpy(dtype="float64", na_value=np.nan)
    if np.isinf(out).any():
        raise ValueError(f"column {values.name!r} ({what}) holds infinite values; remove them.")
    return out


def day_numbers(dates: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Return (calendar day number since 1970-01-01 as int64, valid mask).

    Time-zone aware stamps are read in their own local time, so an observation logged
    at 23:30 in Berlin counts for that Berlin day.
    """
    if not pd.api.types.is_datetime64_any_dtype(dates):
        raise ValueError(
            f"column {dates.name!r} must hold datetimes, got dtype {dates.dtype}; "
            "convert it first, e.g. pd.to_datetime(frame[col])."
        )
    if isinstance(dates.dtype, pd.DatetimeTZDtype):
        dates = dates.dt.tz_localize(None)
    valid = dates.notna().to_numpy()
    days = dates.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype("int64")
    return days, valid


def metric_pairs(pairs: Iterable, what: str) -> tuple[set[tuple[str, str]], set[str]]:
    """Split ``(touchpoint, metric)`` tuples from bare metric names."""
    if isinstance(pairs, str):
        pairs = [pairs]
    tuples: set[tuple[str, str]] = set()
    names: set[str] = set()
    for item in pairs:
        if isinstance(item, tuple) and len(item) == 2:
            tuples.add(item)
        elif isinstance(item, str):
            names.add(item)
        else:
            raise ValueError(
                f"{what} entries must be (touchpoint, metric) tuples or metric names, got {item!r}."
            )
    if not tuples and not names:
        raise ValueError(f"{what} is empty; name at least one (touchpoint, metric) pair.")
    return tuples, names


def metric_mask(frame: pd.DataFrame, pairs: Iterable, touchpoint_col: str, metric_col: str,
                what: str) -> np.ndarray:
    """Boolean mask of the rows whose (touchpoint, metric) is listed in ``pairs``."""
    tuples, names = metric_pairs(pairs, what)
    mask = frame[metric_col].isin(list(names)).to_numpy()
    if tuples:
        keys = pd.MultiIndex.from_frame(frame[[touchpoint_col, metric_col]])
        mask |= keys.isin(list(tuples))
    return mask


def stable_seed(seed: int | None, *parts: object) -> np.random.Generator:
    """A generator that depends on ``seed`` and the labels, not on call order.

    zlib.crc32 is used because Python's ``hash`` of strings is salted per process.
    """
    label = "|".join(str(p) for p in parts).encode("utf-8")
    base = 0 if seed is None else int(seed)
    return np.random.default_rng(np.random.SeedSequence([base, zlib.crc32(label)]))


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (step-up, FDR); NaN stays NaN.

    scipy's ``false_discovery_control`` over the non-NaN p-values only: m counts
    them alone, so comparisons without a test take no part in the correction.
    """
    p = np.asarray(p_values, dtype="float64")
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if not ok.any():
        return out
    if ((p[ok] < 0) | (p[ok] > 1)).any():
        raise ValueError("p-values must lie in [0, 1].")
    out[ok] = stats.false_discovery_control(p[ok], method="bh")
    return out


def wilson_interval(successes, n, confidence: float = 0.95):
    """Wilson score interval for a proportion (arrays allowed); NaN where n == 0."""
    successes = np.asarray(successes, dtype="float64")
    n = np.asarray(n, dtype="float64")
    z = special.ndtri(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = successes / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
        low = np.where(n > 0, centre - half, np.nan)
        high = np.where(n > 0, centre + half, np.nan)
    return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)


def severity_of(effect_rel, customers, thresholds: Mapping[str, Mapping[str, float]]):
    """Severity label per row: the first level (most severe first) whose minima are met.

    ``thresholds`` maps a level to ``{"min_effect_rel": x, "min_customers": k}`` and is
    read in its insertion order; a NaN relative effect counts as 0.
    """
    effect_rel = np.nan_to_num(np.asarray(effect_rel, dtype="float64"), nan=0.0)
    customers = np.asarray(customers, dtype="float64")
    out = np.full(effect_rel.shape, None, dtype=object)
    undecided = np.ones(effect_rel.shape, dtype=bool)
    for level, rule in thresholds.items():
        hit = (undecided & (effect_rel >= rule.get("min_effect_rel", 0.0))
               & (customers >= rule.get("min_customers", 0)))
        out[hit] = level
        undecided &= ~hit
    return out


def to_python(value):
    """Plain JSON-safe Python scalar: numpy numbers unwrapped, NaN/NaT/±inf → None,
    timestamps and dates as ISO text."""
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return None if pd.isna(value) else value.isoformat()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value
