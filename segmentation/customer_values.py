"""Parse the customer-values import into a clean long frame.

Input is the raw frame of :func:`tabular.read_table`. Two layouts
are accepted:

* **long**: one row per customer and period with the columns of
  :data:`CUSTOMER_VALUE_COLUMNS` (``customer_id``, ``period`` and ``revenue``
  required);
* **wide**: no period or revenue column, but one column per period (headers
  such as ``2024-01``, ``Jan 2024`` or ``2024-Q1``) holding revenue. An empty
  cell means "no value for that period" (no row), not 0.

Rules
-----
* A row with an error in ``customer_id``, ``period`` or ``revenue`` is left
  out of the frame; an error in an optional column blanks that cell and keeps
  the row. Every error becomes a :class:`~tabular.Problem` naming
  the spreadsheet row and the user's column header.
* ``customer_id`` is text: stripped, leading zeros kept, case kept.
* Negative revenue is an error unless ``allow_negative_revenue=True``.
* ``potential_rating`` must be a whole number from 1 to 5.
* ``contribution`` is the given value, else ``revenue - cost_to_serve`` when
  both are there, else missing.
* A file must use one kind of period. With months and quarters mixed, the rows
  of the rarer kind are left out (months win a tie) and one error says so.
* The same customer and period twice is an error naming both rows; the first
  row is kept.
* Different names or customer-since dates for one customer are a warning; the
  first non-empty value (in file order) is used for all of the customer's rows.
* A name that looks like a spreadsheet formula (``=HYPERLINK(...)``) is kept as
  text; exports neutralise it with :func:`tabular.safe_cell`.
* ``potential`` is the customer's spend in our category **a year**, which
  exports repeat on every period row: the latest value per customer counts
  (:func:`potential_check`), never the sum; a potential below the customer's
  own revenue in the year up to that period is a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from tabular import (
    ROW_COLUMN,
    Problem,
    detect_decimal,
    make_problem,
    parse_amounts,
    parse_dates,
    parse_integers,
    parse_periods,
    resolve_columns,
    series_problems,
    text_values,
)

from .windows import period_ordinal

__all__ = [
    "CUSTOMER_VALUE_COLUMNS",
    "CUSTOMER_VALUE_OUTPUT",
    "REQUIRED_COLUMNS",
    "CustomerValues",
    "amount_headers",
    "potential_check",
    "parse_customer_values",
]

#: Canonical column -> accepted headers (English and German, matched loosely).
CUSTOMER_VALUE_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "Kundennummer", "Kunden-Nr", "Kundennr", "Kunden-ID", "KdNr", "Kd-Nr",
        "Debitor", "Debitorennummer", "Kunde", "customer", "customer number",
        "customer no", "client id",
    ),
    "name": ("Name", "Kundenname", "Firma", "Firmenname", "customer name", "company"),
    "customer_since": (
        "Kunde seit", "Kundenbeginn", "Kundenbeziehung seit", "Beginn", "since",
        "customer start", "first order",
    ),
    "period": ("Periode", "Zeitraum", "Monat", "Quartal", "month", "quarter"),
    "revenue": ("Umsatz", "Nettoumsatz", "Umsatz netto", "sales", "turnover", "net sales"),
    "cost_to_serve": (
        "Betreuungskosten", "Kosten", "Servicekosten", "Kosten Betreuung",
        "cost", "costs", "service cost",
    ),
    "contribution": (
        "Deckungsbeitrag", "DB", "contribution margin", "margin", "Marge",
    ),
    "potential": (
        "Potenzial", "Potential", "Außenumsatz", "Kundenpotenzial", "wallet",
        "category spend",
    ),
    "potential_rating": (
        "Potenzialbewertung", "Potentialbewertung", "Potenzialrating", "Bewertung",
        "potential score", "rating",
    ),
}

#: Columns a long-format file must have.
REQUIRED_COLUMNS: tuple[str, ...] = ("customer_id", "period", "revenue")

#: Columns of the parsed frame, in order.
CUSTOMER_VALUE_OUTPUT: tuple[str, ...] = (
    "customer_id",
    "name",
    "customer_since",
    "period",
    "revenue",
    "cost_to_serve",
    "contribution",
    "potential",
    "potential_rating",
    ROW_COLUMN,
)

_AMOUNT_COLUMNS = ("cost_to_serve", "contribution", "potential")


class CustomerValues(NamedTuple):
    """Result of :func:`parse_customer_values`: the frame, its problems and a summary."""

    frame: pd.DataFrame
    problems: list[Problem]
    summary: dict


def _empty_output() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series(dtype=object),
            "name": pd.Series(dtype=object),
            "customer_since": pd.Series(dtype="datetime64[ns]"),
            "period": pd.Series(dtype=object),
            "revenue": pd.Series(dtype=float),
            "cost_to_serve": pd.Series(dtype=float),
            "contribution": pd.Series(dtype=float),
            "potential": pd.Series(dtype=float),
            "potential_rating": pd.Series(dtype="Int64"),
            ROW_COLUMN: pd.Series(dtype=np.int64),
        }
    )


def parse_customer_values(
    df_raw: pd.DataFrame,
    *,
    allow_negative_revenue: bool = False,
    decimal: str | None = None,
    max_problems: int = 1000,
) -> CustomerValues:
    """Parse customer values (long or wide layout) into a clean long frame.

    Parameters
    ----------
    df_raw : DataFrame
        Raw strings as returned by :func:`tabular.read_table`
        (``__row__`` is used for row numbers; without it row = index + 2).
    allow_negative_revenue : bool
        Accept negative revenue (credit notes) instead of reporting it.
    decimal : {None, ",", "."}
        Decimal separator of the amounts; None detects it per column.
    max_problems : int
        Most problems listed; the rest are counted in one last problem.

    Returns
    -------
    CustomerValues
        ``frame`` with the columns :data:`CUSTOMER_VALUE_OUTPUT`
        (customer_id str, name str or None, customer_since datetime64 or NaT,
        period ``YYYY-MM``/``YYYY-Qn``, revenue, cost_to_serve, contribution,
        potential float, potential_rating Int64, ``__row__``);
        ``problems``, a list of :class:`~tabular.Problem`;
        ``summary``, a dict with ``layout`` ("long"/"wide"), ``rows_read``,
        ``rows``, ``customers``, ``periods``, ``period_kind``,
        ``first_period``, ``last_period``, ``total_revenue``, ``errors``,
        ``warnings``.
    """
    if not isinstance(df_raw, pd.DataFrame):
        raise ValueError("df_raw must be a DataFrame; read the file with read_table() first.")
    raw = df_raw  # only read: no copy of a million-row frame
    if ROW_COLUMN not in raw.columns:
        raw = raw.assign(**{ROW_COLUMN: np.arange(2, len(raw) + 2, dtype=np.int64)})
    mapping, column_problems = resolve_columns(raw.columns, CUSTOMER_VALUE_COLUMNS)

    layout = "long"
    period_columns: dict[str, str] = {}
    if "period" not in mapping and "revenue" not in mapping:
        period_columns, wide_problems, used = _period_columns(raw.columns, mapping)
        if period_columns:
            layout = "wide"
            column_problems = [
                p for p in column_problems
                if not (p.code == "column.unused" and p.params.get("header") in used)
            ]
            column_problems += wide_problems
    required = REQUIRED_COLUMNS if layout == "long" else ("customer_id",)
    _, missing = resolve_columns(raw.columns, CUSTOMER_VALUE_COLUMNS, required)
    column_problems = [p for p in missing if p.code == "column.missing"] + column_problems
    if any(p.code == "column.missing" for p in column_problems):
        if layout == "long" and "period" not in mapping and "revenue" not in mapping:
            column_problems.append(make_problem("customer_values.no_values", severity="info"))
        return _result(_empty_output(), column_problems, layout, len(raw), max_problems)

    long, source = _long_frame(raw, mapping, period_columns)
    problems = list(column_problems)
    frame, row_problems = _parse_rows(long, source, mapping, allow_negative_revenue, decimal)
    problems += row_problems
    potential = potential_check(frame, column=mapping.get("potential"))
    problems += potential.problems
    result = _result(frame, problems, layout, len(raw), max_problems)
    result.summary.update(potential.summary)
    return result


class PotentialCheck(NamedTuple):
    """The potential of a file: per-customer figures, warnings and the preview's totals."""

    customers: pd.DataFrame
    problems: list[Problem]
    summary: dict


def potential_check(frame: pd.DataFrame, column: str | None = None, max_warnings: int = 100) -> PotentialCheck:
    """Each customer's potential a year (its latest value) against its own revenue in that year.

    Parameters
    ----------
    frame : DataFrame
        Parsed customer values (``customer_id``, ``period``, ``revenue``,
        ``potential``, ``__row__``).
    column : str, optional
        The user's header of the potential, for the warnings.

    Returns
    -------
    PotentialCheck
        ``customers``: one row per customer with a potential (customer_id,
        period and row of its latest potential, potential, revenue_a_year =
        its revenue in the twelve months or four quarters up to that period);
        ``problems``: a warning for each customer whose potential is below that
        revenue (at most ``max_warnings``, then a count); ``summary``:
        ``potential_total`` (the latest potentials summed: a year),
        ``potential_customers`` and ``potential_below_revenue``.
    """
    empty = PotentialCheck(pd.DataFrame(columns=["customer_id", "period", "row", "potential", "revenue_a_year"]),
                           [], {"potential_total": None, "potential_customers": 0, "potential_below_revenue": 0})
    if frame.empty or "potential" not in frame.columns or not frame["potential"].notna().any():
        return empty
    # customers and periods as integer codes (a million customers' two years are 24 M rows)
    customer, customer_ids = pd.factorize(frame["customer_id"].to_numpy(dtype=object))
    period_codes, periods = pd.factorize(frame["period"].to_numpy(dtype=object))
    parsed = [period_ordinal(p) for p in periods]
    per_year = 4 if any(kind == "quarter" for kind, _ in parsed) else 12
    ordinal = np.array([number for _, number in parsed], dtype=np.int64)[period_codes]
    potential = pd.to_numeric(frame["potential"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    revenue = pd.to_numeric(frame["revenue"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    rows = frame[ROW_COLUMN].to_numpy() if ROW_COLUMN in frame.columns else np.arange(2, len(frame) + 2)
    # each customer's row with its latest potential (one row per customer and period after parsing)
    has = np.flatnonzero(~np.isnan(potential))
    order = has[np.lexsort((ordinal[has], customer[has]))]
    last_of_customer = np.ones(len(order), dtype=bool)
    last_of_customer[:-1] = customer[order][1:] != customer[order][:-1]
    latest_row = order[last_of_customer]  # sorted by customer code
    latest = np.full(len(customer_ids), np.iinfo(np.int64).min // 2, dtype=np.int64)
    latest[customer[latest_row]] = ordinal[latest_row]
    in_year = (ordinal <= latest[customer]) & (ordinal > latest[customer] - per_year)
    year_revenue = np.bincount(customer[in_year], weights=np.nan_to_num(revenue[in_year]), minlength=len(customer_ids))
    customers = pd.DataFrame({
        "customer_id": customer_ids[customer[latest_row]],
        "period": frame["period"].to_numpy(dtype=object)[latest_row],
        "row": rows[latest_row],
        "potential": potential[latest_row],
        "revenue_a_year": year_revenue[customer[latest_row]],
    })
    below = customers[customers["potential"] < customers["revenue_a_year"]].sort_values("row", kind="mergesort")
    problems = [
        make_problem(
            "customer_values.potential_below_revenue", row=int(item.row), column=column, severity="warning",
            customer_id=item.customer_id, potential=f"{item.potential:.2f}", revenue=f"{item.revenue_a_year:.2f}",
            period=item.period,
        )
        for item in below.head(max_warnings).itertuples()
    ]
    if len(below) > max_warnings:
        problems.append(make_problem("problems.truncated", severity="warning", count=len(below) - max_warnings))
    summary = {"potential_total": float(customers["potential"].sum()), "potential_customers": int(len(customers)),
               "potential_below_revenue": int(len(below))}
    return PotentialCheck(customers, problems, summary)


def amount_headers(headers) -> list[str]:
    """The headers among ``headers`` of the amount columns (revenue, cost to serve, contribution, potential).

    For :func:`~tabular.read_table`'s ``amounts``: a file read
    with it is parsed to the same frame and problems, faster.
    """
    mapping, _ = resolve_columns(headers, CUSTOMER_VALUE_COLUMNS)
    return [mapping[name] for name in ("revenue", *_AMOUNT_COLUMNS) if name in mapping]


def _period_columns(columns, mapping) -> tuple[dict[str, str], list[Problem], set[str]]:
    """Headers that are periods (wide layout): header -> period, problems, all period headers."""
    used = set(mapping.values()) | {ROW_COLUMN}
    candidates = [c for c in columns if c not in used]
    if not candidates:
        return {}, [], set()
    periods, errors = parse_periods(pd.Series(candidates, dtype=object), excel_serials=False)
    found: dict[str, str] = {}
    first_header: dict[str, str] = {}
    problems: list[Problem] = []
    for header, period in zip(candidates, periods):
        if period is None:
            continue
        if period in first_header:
            problems.append(
                make_problem(
                    "customer_values.duplicate_period_column",
                    severity="warning",
                    headers=f"'{first_header[period]}', '{header}'",
                    period=period,
                )
            )
            continue
        first_header[period] = header
        found[header] = period
    return found, problems, set(candidates[i] for i, p in enumerate(periods) if p is not None)


def _long_frame(raw, mapping, period_columns) -> tuple[Mapping[str, pd.Series], pd.Series]:
    """The columns in long layout (canonical name -> Series) plus, per row, the
    header the revenue came from."""
    master = {name: raw[header] for name, header in mapping.items()}
    if not period_columns:
        long = {**master, ROW_COLUMN: raw[ROW_COLUMN]}  # the long layout is the file's: no copy
        source = pd.Series(mapping["revenue"], index=raw.index, dtype=object)
        return long, source
    pieces = []
    for header, period in period_columns.items():
        cells = raw[header]
        keep = text_values(cells) != ""
        piece = pd.DataFrame({name: values[keep] for name, values in master.items()})
        piece["period"] = period
        piece["revenue"] = cells[keep]
        piece[ROW_COLUMN] = raw.loc[keep, ROW_COLUMN]
        piece["_source"] = header
        pieces.append(piece)
    long = pd.concat(pieces, ignore_index=True)
    source = long.pop("_source")
    return long, source


def _file_decimal(long: pd.DataFrame) -> str | None:
    """The decimal separator the file's amount columns agree on, or None.

    A file writes all its amounts one way: a potential column holding only ``50.000``
    gives no evidence of its own, but beside revenue written ``1.234,56`` it means
    fifty thousand, not fifty. The columns that decide vote; a tie decides nothing
    (each column then follows its own values, as :func:`tabular.parse_amounts` does).
    """
    votes = [detect_decimal(long[name]) for name in ("revenue", *_AMOUNT_COLUMNS) if name in long]
    commas, points = votes.count(","), votes.count(".")
    if commas == points:
        return None
    return "," if commas > points else "."


def _parse_rows(long, source, mapping, allow_negative_revenue, decimal):
    """Parse and check the long rows; the frame of the rows kept and every problem.

    Works on whole columns: the per-row loops below only visit rows with a problem.
    """
    problems: list[Problem] = []
    rows = long[ROW_COLUMN]
    index = rows.index
    if decimal is None:
        decimal = _file_decimal(long)
    header = {name: mapping.get(name, name) for name in CUSTOMER_VALUE_COLUMNS}
    out: dict[str, pd.Series] = {}

    ids = text_values(long["customer_id"])
    missing_id = ~ids.to_numpy().astype(bool)  # "" is the only false string
    problems += [
        make_problem("customer_values.missing_id", row=int(r), column=header["customer_id"])
        for r in rows[missing_id]
    ]
    keep = ~missing_id
    out["customer_id"] = ids

    if "name" in long:
        names = text_values(long["name"])
        out["name"] = names.where(names.to_numpy().astype(bool), None)
    else:
        out["name"] = pd.Series([None] * len(index), index=index, dtype=object)

    if "customer_since" in long:
        since, errors = parse_dates(long["customer_since"])
        problems += series_problems(errors, long["customer_since"], rows, header["customer_since"])
        out["customer_since"] = since.dt.normalize()
    else:
        out["customer_since"] = pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")

    periods, errors = parse_periods(long["period"])
    period_header = mapping.get("period")  # None in the wide layout: periods are headers
    problems += series_problems(errors, long["period"], rows, period_header)
    has_period = periods.notna().to_numpy()
    missing_period = ~has_period & errors.isna().to_numpy()
    problems += [
        make_problem("value.missing", row=int(r), column=period_header)
        for r in rows[missing_period & keep]
    ]
    keep &= has_period
    out["period"] = periods

    revenue, errors = parse_amounts(long["revenue"], decimal=decimal)
    bad = errors.notna().to_numpy()
    for code, value, row, column in zip(errors[bad], long["revenue"][bad], rows[bad], source[bad]):
        problems.append(make_problem(code, row=int(row), column=column, value=value))
    missing_revenue = (revenue.isna() & errors.isna()).to_numpy()
    for row, column in zip(rows[missing_revenue & keep], source[missing_revenue & keep]):
        problems.append(make_problem("value.missing", row=int(row), column=column))
    keep &= revenue.notna().to_numpy()
    if not allow_negative_revenue:
        negative = (revenue < 0).to_numpy()
        for row, column, value in zip(rows[negative], source[negative], long["revenue"][negative]):
            problems.append(
                make_problem("customer_values.negative_revenue", row=int(row), column=column, value=value)
            )
        keep &= ~negative
    out["revenue"] = revenue

    for name in _AMOUNT_COLUMNS:
        if name in long:
            values, errors = parse_amounts(long[name], decimal=decimal)
            problems += series_problems(errors, long[name], rows, header[name])
            out[name] = values
        else:
            out[name] = pd.Series(np.nan, index=index)
    given = out["contribution"]
    out["contribution"] = given.where(given.notna(), out["revenue"] - out["cost_to_serve"])

    if "potential_rating" in long:
        rating, errors = parse_integers(long["potential_rating"], decimal=decimal)
        problems += series_problems(errors, long["potential_rating"], rows, header["potential_rating"])
        outside = rating.notna() & ~rating.between(1, 5).fillna(False).astype(bool)
        problems += [
            make_problem(
                "customer_values.rating_range",
                row=int(r),
                column=header["potential_rating"],
                value=str(v),
            )
            for r, v in zip(rows[outside], rating[outside])
        ]
        out["potential_rating"] = rating.mask(outside)
    else:
        unrated = pd.arrays.IntegerArray(
            np.zeros(len(index), dtype=np.int64), np.ones(len(index), dtype=bool)  # all masked: NA
        )
        out["potential_rating"] = pd.Series(unrated, index=index)
    out[ROW_COLUMN] = rows.astype(np.int64)

    # customers and periods as integer codes: master data and duplicates are found on those
    customers = pd.factorize(ids)[0]
    master, master_problems = _master_values(out, customers, ~missing_id, header)
    problems += master_problems
    for field, values in master.items():
        out[field] = pd.Series(values, index=index).astype(out[field].dtype)
    kept = np.flatnonzero(keep)
    period_codes, period_values = pd.factorize(periods.to_numpy()[kept])
    stay, kind_problems = _one_period_kind(kept, period_codes, period_values, out, period_header)
    problems += kind_problems
    kept, period_codes = kept[stay], period_codes[stay]
    pairs = customers[kept].astype(np.int64) * len(period_values) + period_codes
    stay, duplicate_problems = _drop_duplicates(kept, pairs, out, period_header, source)
    problems += duplicate_problems
    kept = kept[stay]
    every = len(kept) == len(index)  # a clean file keeps every row: then no taking (a copy of each column)
    frame = pd.DataFrame(
        {name: (out[name] if every else out[name].iloc[kept]).array for name in CUSTOMER_VALUE_OUTPUT}
    )
    return frame, problems


def _one_period_kind(kept, period_codes, period_values, out, period_header):
    """Which kept rows stay when months and quarters are mixed (the rarer kind goes)."""
    quarter = np.array(["Q" in p for p in period_values], dtype=bool)[period_codes]
    quarters = int(quarter.sum())
    months = len(kept) - quarters
    if quarters == 0 or months == 0:
        return np.ones(len(kept), dtype=bool), []
    drop = quarter if months >= quarters else ~quarter
    dropped_kind = "quarter" if months >= quarters else "month"
    first_row = int(out[ROW_COLUMN].to_numpy()[kept[drop]].min())
    problem = make_problem(
        "customer_values.mixed_periods",
        row=first_row,
        column=period_header,
        months=months,
        quarters=quarters,
        dropped=int(drop.sum()),
        dropped_kind=dropped_kind,
    )
    return ~drop, [problem]


def _drop_duplicates(kept, pairs, out, period_header, source):
    """Which kept rows stay: the first per customer and period (``pairs``, one code each).

    Every later row of a pair is an error naming both rows.
    """
    codes, uniques = pd.factorize(pairs)
    first = np.empty(len(uniques), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]  # the last write wins: each pair's first row
    first_of_row = first[codes]
    duplicate = first_of_row != np.arange(len(codes))
    if not duplicate.any():
        return ~duplicate, []
    row_numbers = out[ROW_COLUMN].to_numpy()
    ids, periods, sources = out["customer_id"].to_numpy(), out["period"].to_numpy(), source.to_numpy()
    problems = []
    for position in np.flatnonzero(duplicate):
        index = kept[position]
        row = int(row_numbers[index])
        problems.append(
            make_problem(
                "customer_values.duplicate",
                row=row,
                column=period_header or sources[index],
                customer_id=ids[index],
                period=periods[index],
                first_row=int(row_numbers[kept[first_of_row[position]]]),
                second_row=row,
            )
        )
    return ~duplicate, problems


def _master_values(out, customers, has_id, header):
    """First non-empty name and customer-since per customer, and warnings on conflicts.

    Returns, per field with any value, the value for every row (the first one of
    its customer in file order; NaN or NaT when the customer has none) and the
    warnings for customers with different values.
    """
    problems = []
    master = {}
    row_numbers = out[ROW_COLUMN].to_numpy()
    for field in ("name", "customer_since"):
        values = out[field].to_numpy()
        present = np.flatnonzero(has_id & out[field].notna().to_numpy())
        if not len(present):
            continue
        value_codes = pd.factorize(values[present])[0]
        # the first row of each (customer, value) pair, in file order
        first = np.unique(
            customers[present].astype(np.int64) * (value_codes.max() + 1) + value_codes,
            return_index=True,
        )[1]
        pair_rows = present[np.sort(first)]
        pair_customers = customers[pair_rows]
        conflicting = np.bincount(pair_customers)[pair_customers] > 1
        by_customer: dict[int, list[int]] = {}  # in the order the customers first appear
        for index, customer in zip(pair_rows[conflicting], pair_customers[conflicting]):
            by_customer.setdefault(customer, []).append(index)
        for positions in by_customer.values():
            shown = ", ".join(
                f"'{_show(out[field].iat[i])}' (row {int(row_numbers[i])})" for i in positions
            )
            problems.append(
                make_problem(
                    "customer_values.conflicting_master",
                    row=int(row_numbers[positions[1]]),
                    column=header[field],
                    severity="warning",
                    customer_id=out["customer_id"].iat[positions[0]],
                    field=header[field],
                    values=shown,
                    first_row=int(row_numbers[positions[0]]),
                )
            )
        # the customer's first value on each of its rows
        first_row = np.full(customers.max() + 1, -1, dtype=np.int64)
        first_row[customers[present][::-1]] = present[::-1]
        per_row = first_row[customers]
        missing = np.nan if values.dtype == object else np.datetime64("NaT")
        master[field] = np.where(per_row >= 0, values[np.maximum(per_row, 0)], missing)
    return master, problems


def _show(value) -> str:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


def _result(frame, problems, layout, rows_read, max_problems) -> CustomerValues:
    problems = sorted(problems, key=lambda p: (p.row is not None, p.row or 0))
    if max_problems is not None and len(problems) > max_problems:
        rest = problems[max_problems:]
        severity = "error" if any(p.severity == "error" for p in rest) else "warning"
        problems = problems[:max_problems] + [
            make_problem("problems.truncated", severity=severity, count=len(rest))
        ]
    periods = sorted(frame["period"].unique()) if len(frame) else []
    kind = None
    if periods:
        kind = "quarter" if "Q" in periods[0] else "month"
    summary = {
        "layout": layout,
        "rows_read": int(rows_read),
        "rows": int(len(frame)),
        "customers": int(frame["customer_id"].nunique()),
        "periods": len(periods),
        "period_kind": kind,
        "first_period": periods[0] if periods else None,
        "last_period": periods[-1] if periods else None,
        "total_revenue": float(frame["revenue"].sum()),
        "errors": sum(p.severity == "error" for p in problems),
        "warnings": sum(p.severity == "warning" for p in problems),
    }
    return CustomerValues(frame, problems, summary)
