"""After-sales → repurchase.

From outcome records (customer, satisfaction with the sale, satisfaction with
after-sales, repurchased yes/no) per segment: the 2×2 table sale × after-sales with the
repurchase rate and its Wilson interval per cell, and the after-sales effect within each
sale stratum with a Newcombe interval. A carmaker's figures quoted in the seed article
sit beside it as :data:`QUOTED_REFERENCE` — a quoted reference, not our finding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

import numpy as np
import pandas as pd

from tabular import BOOLEAN_WORDS

from ._common import ALL_SEGMENTS, OVERALL, require_columns, wilson_interval

__all__ = [
    "QUOTED_REFERENCE",
    "YES_NO",
    "satisfied",
    "quoted_reference_table",
    "repurchase_table",
    "aftersales_effect",
    "newcombe_interval",
]

#: Repurchase at the same dealer for a German premium carmaker, as quoted in seed 004.
#: No primary source is given there: show it as a quoted reference, never as a finding.
QUOTED_REFERENCE: Mapping = MappingProxyType({
    "kind": "quoted_reference",
    "label": MappingProxyType({
        "en": "Quoted reference: German premium carmaker, repurchase at the same dealer "
              "(figures quoted in a trade article, no primary source given)",
        "de": "Zitierte Referenz: deutscher Premium-Autohersteller, Wiederkauf beim selben "
              "Händler (in einem Fachartikel zitierte Zahlen, ohne Primärquelle)",
    }),
    "measure": "repurchase_rate",
    # (satisfied with the sale, satisfied with after-sales) -> repurchase rate
    "rates": MappingProxyType({
        (True, True): 0.93,
        (False, True): 0.45,
        (True, False): 0.14,
        (False, False): 0.03,
    }),
})

#: Yes/no spellings accepted for satisfaction and repurchase (after strip + lower): the
#: yes/no words of :data:`tabular.BOOLEAN_WORDS` except the digits (numbers are read as
#: 0/1 or as scores), and the words for (not) satisfied.
YES_NO: Mapping[str, bool] = MappingProxyType({
    **{word: flag for flag, words in BOOLEAN_WORDS.items() for word in words if not word.isdigit()},
    "satisfied": True, "zufrieden": True,
    "dissatisfied": False, "unzufrieden": False, "not satisfied": False,
    "nicht zufrieden": False,
})

# cell order of the table, as (satisfied with the sale, satisfied with after-sales):
# both, only after-sales, only the sale, neither
_CELLS = ((True, True), (False, True), (True, False), (False, False))


def satisfied(series: pd.Series, threshold: float = 4, *, scale: str = "auto") -> pd.Series:
    """Turn yes/no answers or 1–5 scores into a nullable boolean series.

    Parameters
    ----------
    series : pandas.Series
        Booleans, yes/no words (English or German, see :data:`YES_NO`), 0/1, or scores
        1–5 (also as text). Missing values stay missing (``pd.NA``).
    threshold : float, default 4
        A score counts as satisfied when ``score >= threshold``.
    scale : {'auto', 'binary', 'score'}
        How numbers are read. ``'auto'``: 0/1 when a 0 occurs, a 1–5 score when a value
        above 1 occurs; a column of only 1s is ambiguous and raises.

    Returns
    -------
    pandas.Series
        dtype ``boolean``, same index and name.
    """
    if scale not in ("auto", "binary", "score"):
        raise ValueError("scale must be 'auto', 'binary' or 'score'.")
    if not 1 <= threshold <= 5:
        raise ValueError("threshold must lie on the 1–5 scale, e.g. 4.")
    if pd.api.types.is_bool_dtype(series):
        return series.astype("boolean")
    missing = series.isna()
    out = pd.Series(pd.NA, index=series.index, name=series.name, dtype="boolean")
    if pd.api.types.is_numeric_dtype(series):
        numbers = series.astype("float64")
        words = pd.Series(False, index=series.index)
    else:
        text = series.astype("string").str.strip().str.lower()
        word_value = text.map(YES_NO)
        words = word_value.notna() & ~missing
        out[words] = word_value[words].astype(bool)
        rest = ~words & ~missing
        numbers = pd.to_numeric(text.where(rest).str.replace(",", ".", regex=False),
                                errors="coerce")
        bad = rest & numbers.isna()
        if bad.any():
            raise ValueError(
                f"cannot read {list(series[bad].unique()[:5])} as satisfied or not; use "
                "yes/no (ja/nein), 0/1 or a score 1–5."
            )
    numeric = ~words & ~missing
    if numeric.any():
        values = numbers[numeric]
        kind = scale
        if kind == "auto":
            if (values == 0).any():
                kind = "binary"
            elif (values > 1).any():
                kind = "score"
            else:
                raise ValueError(
                    f"column {series.name!r} holds only 1s: pass scale='binary' (1 = yes) "
                    "or scale='score' (1 = very dissatisfied)."
                )
        if kind == "binary":
            if not values.isin([0, 1]).all():
                raise ValueError(f"column {series.name!r}: yes/no coded as numbers must be 0 "
                                 "or 1; for scores pass scale='score'.")
            out[numeric] = values == 1
        else:
            if ((values < 1) | (values > 5)).any():
                raise ValueError(f"column {series.name!r}: scores must lie between 1 and 5.")
            out[numeric] = values >= threshold
    return out


def quoted_reference_table() -> pd.DataFrame:
    """The quoted carmaker figures as a frame (sale, after-sales, rate, label)."""
    return pd.DataFrame([
        {"sale_satisfied": sale, "after_sales_satisfied": after,
         "rate": QUOTED_REFERENCE["rates"][(sale, after)],
         "kind": QUOTED_REFERENCE["kind"]}
        for sale, after in _CELLS
    ])


def _outcome_flags(outcomes, sale_col, aftersales_col, repurchased_col, threshold,
                   segment_cols):
    require_columns(outcomes, [sale_col, aftersales_col, repurchased_col] + segment_cols,
                    "outcomes")
    work = outcomes[segment_cols].copy()
    work["_sale"] = satisfied(outcomes[sale_col], threshold)
    work["_after"] = satisfied(outcomes[aftersales_col], threshold)
    work["_rep"] = satisfied(outcomes[repurchased_col], scale="binary")
    return work.dropna(subset=["_sale", "_after", "_rep"]).astype(
        {"_sale": bool, "_after": bool, "_rep": bool})


def _segments(work: pd.DataFrame, segment_cols: Sequence[str]):
    """Yield (kind, segment, rows) for overall and every value of every kind."""
    yield OVERALL, ALL_SEGMENTS, work
    for kind in segment_cols:
        for segment, rows in work.groupby(kind, sort=True, observed=True, dropna=True):
            yield kind, segment, rows


def repurchase_table(
    outcomes: pd.DataFrame,
    segment_cols: Sequence[str] = (),
    *,
    min_n: int = 10,
    threshold: float = 4,
    confidence: float = 0.95,
    sale_col: str = "sale_satisfaction",
    aftersales_col: str = "after_sales_satisfaction",
    repurchased_col: str = "repurchased",
) -> pd.DataFrame:
    """Repurchase rate per segment and cell of sale × after-sales satisfaction.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        One row per customer outcome; rows missing any of the three answers are left
        out.
    segment_cols : sequence of str
        Segment columns; each value gets its own four cells, besides ``'overall'``.
    min_n : int, default 10
        Fewest customers in a cell for a rate; smaller cells show n and repurchases but
        no rate or interval (status ``'insufficient_data'``).
    threshold : float, default 4
        Score from which a 1–5 answer counts as satisfied.
    confidence : float, default 0.95
        Level of the Wilson score interval.

    Returns
    -------
    pandas.DataFrame
        Four rows per segment: ``segment_kind, segment, sale_satisfied,
        after_sales_satisfied, n, repurchased, rate, ci_low, ci_high, status`` and
        ``quoted_reference`` (the carmaker's rate for that cell, see
        :data:`QUOTED_REFERENCE`).
    """
    if min_n < 1:
        raise ValueError("min_n must be at least 1.")
    segment_cols = [segment_cols] if isinstance(segment_cols, str) else list(segment_cols)
    work = _outcome_flags(outcomes, sale_col, aftersales_col, repurchased_col, threshold,
                          segment_cols)
    rows = []
    for kind, segment, part in _segments(work, segment_cols):
        for sale, after in _CELLS:
            cell = part.loc[(part["_sale"] == sale) & (part["_after"] == after), "_rep"]
            rows.append({"segment_kind": kind, "segment": segment, "sale_satisfied": sale,
                         "after_sales_satisfied": after, "n": int(len(cell)),
                         "repurchased": int(cell.sum())})
    table = pd.DataFrame(rows, columns=["segment_kind", "segment", "sale_satisfied",
                                        "after_sales_satisfied", "n", "repurchased"])
    enough = table["n"].to_numpy() >= min_n
    low, high = wilson_interval(table["repurchased"], table["n"], confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = table["repurchased"].to_numpy() / table["n"].to_numpy()
    table["rate"] = np.where(enough, rate, np.nan)
    table["ci_low"] = np.where(enough, low, np.nan)
    table["ci_high"] = np.where(enough, high, np.nan)
    table["status"] = np.where(enough, "ok", "insufficient_data")
    table["quoted_reference"] = [QUOTED_REFERENCE["rates"][(s, a)] for s, a in
                                 zip(table["sale_satisfied"], table["after_sales_satisfied"])]
    return table


def newcombe_interval(x1, n1, x2, n2, confidence: float = 0.95):
    """Newcombe's hybrid score interval for p1 − p2 (method 10, from Wilson intervals).

    Arrays allowed; NaN where a group is empty.
    """
    x1, n1, x2, n2 = (np.asarray(v, dtype="float64") for v in (x1, n1, x2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    diff = p1 - p2
    low = diff - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = diff + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return low, high


def aftersales_effect(
    outcomes: pd.DataFrame,
    segment_cols: Sequence[str] = (),
    *,
    min_n: int = 10,
    min_dissatisfied_share: float = 0.2,
    threshold: float = 4,
    confidence: float = 0.95,
    sale_col: str = "sale_satisfaction",
    aftersales_col: str = "after_sales_satisfaction",
    repurchased_col: str = "repurchased",
) -> pd.DataFrame:
    """After-sales effect on repurchase within each sale stratum, per segment.

    Within customers satisfied with the sale, and separately within those who were not:
    repurchase rate of customers satisfied with after-sales minus the rate of those
    dissatisfied with it, with Newcombe's 95 % interval.

    Parameters
    ----------
    outcomes, segment_cols, threshold, confidence, *_col
        As in :func:`repurchase_table`.
    min_n : int, default 10
        Fewest customers in each of the two compared cells; below: status
        ``'insufficient_data'``, no difference, never a flag.
    min_dissatisfied_share : float, default 0.2
        An "after-sales gap" is flagged only when at least this share of the stratum is
        dissatisfied with after-sales (a strong effect on a handful of customers is not
        worth an action).

    Returns
    -------
    pandas.DataFrame
        Two rows per segment (``sale_satisfied`` True / False): ``segment_kind,
        segment, sale_satisfied, n_satisfied, n_dissatisfied`` (customers by
        after-sales satisfaction), ``rate_satisfied, rate_dissatisfied, difference,
        ci_low, ci_high, dissatisfied_share, lost_repurchases`` (n_dissatisfied ×
        difference: repurchases that would have followed at the satisfied rate),
        ``quoted_difference`` (the carmaker's figure), ``flagged`` (CI entirely above
        0 and dissatisfied share ≥ ``min_dissatisfied_share``) and ``status``.
    """
    if not 0 <= min_dissatisfied_share <= 1:
        raise ValueError("min_dissatisfied_share must lie between 0 and 1.")
    table = repurchase_table(outcomes, segment_cols, min_n=1, threshold=threshold,
                             confidence=confidence, sale_col=sale_col,
                             aftersales_col=aftersales_col, repurchased_col=repurchased_col)
    keys = ["segment_kind", "segment", "sale_satisfied"]
    sat = table[table["after_sales_satisfied"]].set_index(keys, drop=False)
    dis = table[~table["after_sales_satisfied"]].set_index(keys)
    dis = dis.reindex(sat.index)
    n1, x1 = sat["n"].to_numpy(), sat["repurchased"].to_numpy()
    n0, x0 = dis["n"].to_numpy(), dis["repurchased"].to_numpy()
    enough = (n1 >= min_n) & (n0 >= min_n)
    low, high = newcombe_interval(x1, n1, x0, n0, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        r1, r0 = x1 / n1, x0 / n0
        share = n0 / (n0 + n1)
    difference = np.where(enough, r1 - r0, np.nan)
    reference = QUOTED_REFERENCE["rates"]
    out = pd.DataFrame({
        "segment_kind": sat["segment_kind"].to_numpy(),
        "segment": sat["segment"].to_numpy(),
        "sale_satisfied": sat["sale_satisfied"].to_numpy(),
        "n_satisfied": n1,
        "n_dissatisfied": n0,
        "rate_satisfied": np.where(enough, r1, np.nan),
        "rate_dissatisfied": np.where(enough, r0, np.nan),
        "difference": difference,
        "ci_low": np.where(enough, low, np.nan),
        "ci_high": np.where(enough, high, np.nan),
        "dissatisfied_share": share,
        "lost_repurchases": n0 * difference,
        "quoted_difference": [reference[(s, True)] - reference[(s, False)]
                              for s in sat["sale_satisfied"]],
    })
    out["flagged"] = (enough & (out["ci_low"] > 0)
                      & (out["dissatisfied_share"] >= min_dissatisfied_share)).astype(bool)
    out["status"] = np.where(enough, "ok", "insufficient_data")
    return out.reset_index(drop=True)
