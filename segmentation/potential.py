"""Potential matrix: own revenue against untapped potential.

x = the customer's revenue with us; y = the untapped potential, either
``max(potential − revenue a year, 0)`` where the potential is the customer's
total spend in our category a year (Außenumsatz), or the account manager's
1–5 rating. With ``window_years`` (the window's length in years) the
window's revenue is turned into revenue a year before it is subtracted, so a
24-month window does not count two years of revenue against one year of
potential.

Rules
-----
* Split: by default at the median of x and of y over the customers that have
  both; or at given values (``split=(x, y)``, either may be None = median).
* A value **at or above** the split counts as high; a value of zero or less is
  always low (so a median of 0 - most customers fully tapped - cannot turn
  every customer into "high potential").
* Segments, from :data:`SEGMENT_RULES`: high/high → ``star``, low revenue /
  high potential → ``focus``, high revenue / low potential → ``cash_cow``,
  low/low → ``time_waster``. German labels and care strategies are in
  :data:`segmentation.definitions.POTENTIAL_SEGMENTS`.
* A customer without revenue or without potential gets no segment (None).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .windows import repeats

__all__ = ["SEGMENT_RULES", "potential_matrix"]

#: (high revenue, high potential) -> segment key.
SEGMENT_RULES: dict[tuple[bool, bool], str] = {
    (True, True): "star",
    (False, True): "focus",
    (True, False): "cash_cow",
    (False, False): "time_waster",
}


def _split_value(given, values: np.ndarray) -> float:
    if given is not None:
        return float(given)
    if values.size == 0:
        return float("nan")
    return float(np.median(values))


def potential_matrix(
    values: pd.DataFrame,
    revenue_col: str = "revenue",
    potential_col: str | None = None,
    rating_col: str | None = None,
    split: tuple[float | None, float | None] | None = None,
    *,
    id_col: str = "customer_id",
    window_years: float | None = None,
) -> pd.DataFrame:
    """Place customers in the potential matrix (Stars, Fokus, Cash-Cows, Zeitfresser).

    Parameters
    ----------
    values : DataFrame
        One row per customer.
    revenue_col : str
        Own revenue (x axis).
    potential_col : str, optional
        Total category spend a year; y = max(potential − revenue a year, 0).
    rating_col : str, optional
        1–5 potential rating; y = the rating. Give exactly one of the two.
    split : (x, y), optional
        Split values; None (or a None element) = the median.
    window_years : float, optional
        The length of the window ``revenue_col`` was summed over, in years
        (24 months = 2.0); revenue / window_years is the revenue a year that
        the yearly potential is compared with. None: the revenue is taken as
        a year's.

    Returns
    -------
    DataFrame
        In input order: ``id_col``, ``x``, ``y``, ``split_x``, ``split_y``,
        ``high_revenue``, ``high_potential`` (nullable booleans),
        ``potential_segment`` (star/focus/cash_cow/time_waster or None).
    """
    if (potential_col is None) == (rating_col is None):
        raise ValueError(
            "Give exactly one of potential_col (total category spend) or rating_col (1-5 rating)."
        )
    y_col = potential_col if potential_col is not None else rating_col
    missing = [c for c in (id_col, revenue_col, y_col) if c not in values.columns]
    if missing:
        raise ValueError(f"Columns {missing} are missing; pass one row per customer.")
    if repeats(values[id_col]):
        raise ValueError(f"{id_col} repeats; aggregate to one row per customer first (aggregate_window()).")
    if split is not None and len(split) != 2:
        raise ValueError("split must be a pair (x, y); use None for a median.")
    x = pd.to_numeric(values[revenue_col], errors="coerce").astype(float).to_numpy()
    raw_y = pd.to_numeric(values[y_col], errors="coerce").astype(float).to_numpy()
    if window_years is not None and not window_years > 0:
        raise ValueError(f"window_years must be positive, not {window_years!r}.")
    if potential_col is not None:
        per_year = x / window_years if window_years else x
        y = np.maximum(raw_y - per_year, 0.0)  # NaN stays NaN
    else:
        y = raw_y
    known = ~np.isnan(x) & ~np.isnan(y)
    split_x = _split_value(None if split is None else split[0], x[known])
    split_y = _split_value(None if split is None else split[1], y[known])
    with np.errstate(invalid="ignore"):
        high_x = (x >= split_x) & (x > 0)
        high_y = (y >= split_y) & (y > 0)
    known &= not np.isnan(split_x) and not np.isnan(split_y)
    segment = np.full(len(x), None, dtype=object)
    for (rev_high, pot_high), key in SEGMENT_RULES.items():
        segment[known & (high_x == rev_high) & (high_y == pot_high)] = key
    out = pd.DataFrame(
        {
            id_col: values[id_col].to_numpy(),
            "x": x,
            "y": y,
            "split_x": split_x,
            "split_y": split_y,
            "high_revenue": pd.array(np.where(known, high_x, False), dtype="boolean"),
            "high_potential": pd.array(np.where(known, high_y, False), dtype="boolean"),
            "potential_segment": segment,
        }
    )
    out.loc[~known, ["high_revenue", "high_potential"]] = pd.NA
    return out
