"""The series blocks stay equal to the stored values after every write path.

The reference is the database's own GROUP BY and pivot over customer_values
(``window_totals`` / ``value_matrix``); the series loader must give the same
frames after imports (new customers, changed values, new periods, quarters),
ORM writes (insert, update, delete) and a full rebuild.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.extensions import db
from bench import reference_loaders

TOTALS = ["customer_id", "customer_since", "revenue", "cost_to_serve", "contribution", "potential", "potential_rating", "n_periods"]


def _import(text: str) -> dict:
    from app.segments.importing import check_upload, import_customer_values

    check = check_upload(text.encode("utf-8"), "werte.csv")
    assert check.ok, [p.message for p in check.problems]
    return import_customer_values(check)


def _assert_series_match_values(start: str, end: str) -> None:
    """Series loader == GROUP BY + pivot over customer_values, for both value bases."""
    from app.segments import loaders

    reference = reference_loaders.window_totals(start, end)
    for value in ("revenue", "contribution"):
        totals, matrix = loaders.load_window(start, end, value)
        pd.testing.assert_frame_equal(totals[TOTALS], reference[TOTALS], check_exact=False, rtol=1e-12)
        pd.testing.assert_frame_equal(matrix, reference_loaders.value_matrix(start, end, value), check_exact=False, rtol=1e-12)


def _stored_series() -> dict:
    """Every stored value as the blocks hold it: (customer id, kind, ordinal) → figures."""
    from app.segments.models import SeriesBlock
    from app.segments.series import FIELDS, expand, read_blocks

    blocks = db.session.scalars(db.select(SeriesBlock.block)).all()
    long = expand(read_blocks(db.session.connection(), blocks))
    keys = zip(long["customer_id"].tolist(), long["kind"].tolist(), long["ordinal"].tolist())
    rows = zip(*(long[name].tolist() for name in FIELDS))
    return {key: tuple("nan" if value != value else value for value in row) for key, row in zip(keys, rows)}


def test_import_then_overlapping_import_keeps_series_equal_to_values(app):
    first = (
        "Kundennummer;Name;Kunde seit;Periode;Umsatz;Betreuungskosten;Deckungsbeitrag;Potenzial;Potenzialbewertung\n"
        "0001;Alpha;01.02.2015;2024-01;100,50;40;;1000;3\n"
        "0001;Alpha;01.02.2015;2024-02;110;45;;;\n"
        "0001;Alpha;01.02.2015;2024-04;90;;70;1000;4\n"   # a gap in March; a given contribution
        "0002;Beta;;2024-02;0;5;;;\n"                      # no revenue, no customer-since
    )
    quarters = (  # quarters live in their own series, even for a customer with months
        "Kundennummer;Periode;Umsatz;Betreuungskosten;Potenzialbewertung\n"
        "0001;2024-Q1;300;100;2\n"
        "0003;2024-Q1;300;100;2\n"
        "0003;2024-Q2;330;100;\n"
    )
    with app.app_context():
        _import(first)
        _import(quarters)
        _assert_series_match_values("2024-01", "2024-04")
        _assert_series_match_values("2023-11", "2024-02")  # a window partly before the data
        _assert_series_match_values("2024-Q1", "2024-Q2")

        # changes one value, blanks a cost, adds new periods before and after, and a new customer
        second = (
            "Kundennummer;Periode;Umsatz;Betreuungskosten\n"
            "0001;2024-02;111;\n"
            "0001;2024-06;120;50\n"
            "0002;2023-12;10;1\n"
            "0004;2024-03;5;1\n"
        )
        counts = _import(second)
        assert counts["values_new"] == 3 and counts["values_changed"] == 1
        for window in (("2023-12", "2024-06"), ("2024-02", "2024-03"), ("2024-05", "2024-06")):
            _assert_series_match_values(*window)
        before = _stored_series()

        # the same file again changes nothing, in the values or the series
        again = _import(second)
        assert again["values_new"] == 0 and again["values_changed"] == 0
        assert _stored_series() == before

        # a rebuild from the stored values gives byte for byte the same series
        from app.segments.series import rebuild_all

        rebuild_all(db.session.connection())
        assert _stored_series() == before
        db.session.commit()
        db.session.remove()


def test_orm_writes_keep_series_in_step(app):
    from app.segments.models import Customer, CustomerValue

    with app.app_context():
        customer = Customer(customer_no="0100", name="Delta")
        customer.values = [CustomerValue(period=f"2024-{m:02d}", revenue=float(m), cost_to_serve=1.0)
                           for m in range(1, 7)]
        db.session.add(customer)
        db.session.commit()
        _assert_series_match_values("2024-01", "2024-06")

        value = db.session.scalar(db.select(CustomerValue).where(CustomerValue.period == "2024-03"))
        value.revenue = 99.0
        db.session.delete(db.session.scalar(db.select(CustomerValue).where(CustomerValue.period == "2024-06")))
        db.session.commit()
        _assert_series_match_values("2024-01", "2024-06")
        totals, matrix = _window("2024-01", "2024-06")
        assert totals.loc[0, "n_periods"] == 5 and matrix.iloc[0, 2] == 99.0 and np.isnan(matrix.iloc[0, 5])

        # the last value gone: no block, the customer drops out of the window
        for row in db.session.scalars(db.select(CustomerValue)).all():
            db.session.delete(row)
        db.session.commit()
        assert _stored_series() == {}
        assert _window("2024-01", "2024-06")[0].empty
        db.session.remove()


def test_a_customer_deleted_by_sql_drops_out_of_the_window(app):
    from app.segments.models import Customer

    with app.app_context():
        _import("Kundennummer;Periode;Umsatz\n0200;2024-01;10\n0201;2024-01;20\n")
        # a bulk delete in SQL (values cascade) leaves the customer in its block: the loader skips it
        db.session.execute(db.delete(Customer).where(Customer.customer_no == "0200"))
        db.session.commit()
        totals, _ = _window("2024-01", "2024-01")
        assert totals["revenue"].tolist() == [20.0]
        _assert_series_match_values("2024-01", "2024-01")
        db.session.remove()


def test_customers_of_many_blocks_and_a_later_import_into_one_of_them(app):
    """Ids across several blocks; an import touching one block leaves the others byte for byte."""
    from app.segments.models import Customer, SeriesBlock
    from app.segments.series import BLOCK_SIZE

    with app.app_context():
        # customers far apart in id, so they sit in different blocks
        for i, customer_id in enumerate((1, BLOCK_SIZE - 1, BLOCK_SIZE, 3 * BLOCK_SIZE + 5)):
            db.session.add(Customer(id=customer_id, customer_no=f"B{i}", name=f"B{i}"))
        db.session.commit()
        _import("Kundennummer;Periode;Umsatz;Betreuungskosten\n"
                "B0;2024-01;1;0\nB1;2024-02;2;0\nB2;2024-01;3;1\nB2;2024-03;4;1\nB3;2024-02;5;\n")
        assert sorted(db.session.scalars(db.select(SeriesBlock.block)).all()) == [0, 1, 3]
        _assert_series_match_values("2024-01", "2024-03")
        untouched = {b.block: b.revenue for b in db.session.scalars(db.select(SeriesBlock)) if b.block != 1}
        _import("Kundennummer;Periode;Umsatz\nB2;2024-02;7\n")
        _assert_series_match_values("2024-01", "2024-03")
        assert {b.block: b.revenue for b in db.session.scalars(db.select(SeriesBlock)) if b.block != 1} == untouched
        from app.segments import loaders

        assert loaders.customers_in_window("2024-01", "2024-03") == 4
        assert loaders.available_periods() == ["2024-01", "2024-02", "2024-03"]
        db.session.remove()


def _window(start, end):
    from app.segments import loaders

    return loaders.load_window(start, end)


@pytest.mark.parametrize("customers", [1, 7])
def test_demo_like_block_of_equal_shapes(app, customers):
    """Many customers with the same first period and length go through one stacked block."""
    lines = ["Kundennummer;Periode;Umsatz;Betreuungskosten;Potenzial"]
    rng = np.random.default_rng(customers)
    for c in range(customers):
        for m in range(1, 13):
            lines.append(f"{c:04d};2024-{m:02d};{rng.uniform(0, 500):.2f};{rng.uniform(0, 100):.2f};5000")
    with app.app_context():
        _import("\n".join(lines) + "\n")
        _assert_series_match_values("2024-01", "2024-12")
        _assert_series_match_values("2024-03", "2024-08")
        db.session.remove()


@pytest.mark.parametrize("potential_outside_window", [False, True])
def test_a_run_without_potential_amounts_uses_the_rating(app, potential_outside_window):
    """No potential amounts in the window: the matrix uses the 1–5 rating, read from the blocks."""
    from app.segments.runs import run_segmentation

    lines = ["Kundennummer;Periode;Umsatz;Potenzial;Potenzialbewertung"]
    for c in range(1, 9):
        for m in range(1, 13):
            lines.append(f"{c:04d};2024-{m:02d};{100 * c + m};;{1 + c % 5}")
        # a potential amount in 2023 only: the blocks hold potential, the window has none
        lines.append(f"{c:04d};2023-12;{100 * c};{5000 if potential_outside_window else ''};{1 + c % 5}")
    with app.app_context():
        _import("\n".join(lines) + "\n")
        run = run_segmentation("2024-01", "2024-12")
        assert run.summary["potential_basis"] == "rating"
        segments = run.summary["counts"]["potential_segment"]
        assert sum(segments.values()) == 8, segments  # every customer placed by its rating
        db.session.remove()


VALUES = (
    "Kundennummer;Name;Kunde seit;Periode;Umsatz;Betreuungskosten;Potenzial\n"
    "0001;Alpha;01.02.2015;2024-01;100;40;1000\n"
    "0001;Alpha;01.02.2015;2024-02;110;45;\n"
    "0002;Beta;15.06.2021;2024-02;50;60;\n"
)


def _customer_with_value(customer_no: str, since: str, revenue: float) -> int:
    """A customer and one value written through the ORM and flushed, not committed."""
    import datetime as dt

    from app.segments.models import Customer, CustomerValue

    customer = Customer(customer_no=customer_no, name=customer_no, customer_since=dt.date.fromisoformat(since))
    db.session.add(customer)
    db.session.flush()
    db.session.add(CustomerValue(customer_id=customer.id, period="2024-02", revenue=revenue))
    db.session.flush()
    return customer.id


def _window_reads_beside_and_sees_uncommitted_rows(reads_beside_when_clean: bool, monkeypatch) -> None:
    from app.segments import loaders
    from app.segments.models import Customer
    from app.segments.series import BLOCK_SIZE

    _import(VALUES)
    # three more customers in further blocks, so that a split read has halves to read
    for number, customer_id in (("0010", 2 * BLOCK_SIZE), ("0011", 3 * BLOCK_SIZE + 1), ("0012", 5 * BLOCK_SIZE)):
        db.session.add(Customer(id=customer_id, customer_no=number, name=number))
    db.session.commit()
    _import("Kundennummer;Periode;Umsatz\n0010;2024-01;5\n0011;2024-02;6\n0012;2024-01;7\n0012;2024-02;8\n")
    monkeypatch.setattr(loaders, "SPLIT_CUSTOMERS", 2)  # PostgreSQL then reads the window in two halves
    halves = loaders._halves(db.session.connection(), *loaders._blocks_meeting("2024-01", "2024-02"))
    assert [count for _, _, count in halves] == [3, 2]
    assert loaders._may_read_beside(db.session.connection()) is reads_beside_when_clean
    _assert_series_match_values("2024-01", "2024-02")
    totals, _ = loaders.load_window("2024-01", "2024-02")
    assert totals["customer_since"].dt.strftime("%Y-%m-%d").tolist()[:2] == ["2015-02-01", "2021-06-15"]
    assert totals["revenue"].tolist() == [210.0, 50.0, 5.0, 6.0, 15.0]

    # this transaction has written: a second connection would not see the new customer
    new_id = _customer_with_value("0003", "2019-03-04", 70.0)
    assert loaders._may_read_beside(db.session.connection()) is False
    totals, matrix = loaders.load_window("2024-01", "2024-02")
    row = totals.set_index("customer_id").loc[new_id]
    assert (row["revenue"], str(row["customer_since"].date())) == (70.0, "2019-03-04")
    assert matrix.loc[new_id, "2024-02"] == 70.0
    db.session.rollback()


def test_window_reads_customers_beside_the_blocks_only_when_that_sees_the_same(app, monkeypatch):
    """PostgreSQL reads the customers on a second connection while no write is pending, and a
    large window's blocks in two halves on two more (here: "large" is 2 customers).

    On the suite's in-memory SQLite each connection has its own database, so
    the window is read on one connection there.
    """
    with app.app_context():
        _window_reads_beside_and_sees_uncommitted_rows(db.engine.dialect.name == "postgresql", monkeypatch)


def test_window_in_a_sqlite_file_reads_customers_beside_the_blocks(tmp_path, monkeypatch):
    from app import create_app
    from config import TestConfig

    file_app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'series.sqlite'}")
    with file_app.app_context():
        db.create_all()
        try:
            _window_reads_beside_and_sees_uncommitted_rows(True, monkeypatch)
        finally:
            db.session.remove()
            db.engine.dispose()


def test_start_page_revenue_of_the_latest_twelve_months_from_the_blocks(app, as_role):
    """The start page sums the latest twelve periods of the latest kind, like SQL over the values;
    quarters held beside the months are not added on top."""
    from app.overview.views import company_overview

    months = [str(p) for p in pd.period_range("2024-01", periods=14, freq="M")]
    lines = ["Kundennummer;Periode;Umsatz"] + [f"{c};{m};{10 * i + c}" for c in (1, 2) for i, m in enumerate(months)]
    with app.app_context():
        _import("\n".join(lines) + "\n")
        _import("Kundennummer;Periode;Umsatz\n1;2025-Q1;5000\n")
        expected = db.session.execute(db.text(
            "SELECT SUM(revenue) FROM customer_values WHERE period >= '2024-03' AND period <= '2025-02'")).scalar()
        overview = company_overview()
        assert overview["periods"] == months[2:] and overview["revenue_12"] == pytest.approx(expected)
        assert company_overview(with_revenue=False)["revenue_12"] == 0.0
        db.session.remove()
    page = as_role("manager").get("/").get_data(as_text=True)
    assert f"€{expected:,.0f}" in page and "(2024-03 – 2025-02)" in page


def test_halves_join_in_one_matrix_without_copying_and_close_gaps():
    """_joined: parts that filled their expected rows are one matrix already (a view, no copy);
    a part with fewer rows (customers without a value in the window) has the next one moved up;
    a part that outgrew its rows is copied together with the rest."""
    from app.segments.loaders import _joined

    def parts_in(shared, expected, filled, own=None):
        places = np.cumsum([0, *expected])
        parts = []
        for number, rows in enumerate(filled):
            view = shared[places[number]:places[number + 1]]
            view[:min(rows, len(view))] = np.arange(rows)[:len(view), None] + 100 * (number + 1)
            matrix = own[number] if own and number in own else view[:rows]
            parts.append(({"customer_id": np.arange(rows) + 100 * (number + 1)}, matrix))
        return parts

    def expected_matrix(filled):
        return np.concatenate([np.arange(rows)[:, None] + 100 * (number + 1) + np.zeros((1, 3))
                               for number, rows in enumerate(filled)])

    shared = np.full((5, 3), np.nan)
    joined, matrix = _joined(parts_in(shared, [3, 2], [3, 2]), shared)
    assert np.shares_memory(matrix, shared) and np.array_equal(matrix, expected_matrix([3, 2]))
    assert joined["customer_id"].tolist() == [100, 101, 102, 200, 201]

    for filled in ([1, 2], [0, 2], [3, 0], [2, 1], [0, 0]):
        shared = np.full((5, 3), np.nan)
        joined, matrix = _joined(parts_in(shared, [3, 2], filled), shared)
        assert np.array_equal(matrix, expected_matrix(filled)), filled
        assert matrix.shape == (sum(filled), 3)

    # the first half outgrew its rows (a block grew between counting and reading)
    shared = np.full((5, 3), np.nan)
    grown = np.arange(4)[:, None] + 100 + np.zeros((1, 3))
    joined, matrix = _joined(parts_in(shared, [3, 2], [3, 2], own={0: grown}), shared)
    assert np.array_equal(matrix, np.concatenate([grown, expected_matrix([3, 2])[3:]]))
    # the second did, after a gap in the first was closed
    shared = np.full((5, 3), np.nan)
    grown = np.arange(3)[:, None] + 200 + np.zeros((1, 3))
    joined, matrix = _joined(parts_in(shared, [3, 2], [1, 2], own={1: grown}), shared)
    assert np.array_equal(matrix, np.concatenate([expected_matrix([1, 2])[:1], grown]))


def test_split_read_with_customers_without_a_value_in_the_window(app, monkeypatch):
    """PostgreSQL's two halves, where the first half's blocks hold customers that have no value in
    the window: the matrix still has one row per customer with values, in id order, equal to SQL's."""
    from app.segments import loaders
    from app.segments.models import Customer
    from app.segments.series import BLOCK_SIZE

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the window is read in halves on PostgreSQL")
        for number, customer_id in (("0001", 1), ("0002", 2), ("0003", 3), ("0010", 2 * BLOCK_SIZE),
                                    ("0011", 3 * BLOCK_SIZE + 1), ("0012", 5 * BLOCK_SIZE)):
            db.session.add(Customer(id=customer_id, customer_no=number, name=number))
        db.session.commit()
        # 0002 and 0003 only before the window: their block counts them, the window has none of theirs
        _import("Kundennummer;Periode;Umsatz\n0001;2024-01;10\n0002;2023-06;20\n0003;2023-07;30\n"
                "0010;2024-01;5\n0011;2024-02;6\n0012;2024-01;7\n0012;2024-02;8\n")
        monkeypatch.setattr(loaders, "SPLIT_CUSTOMERS", 2)
        halves = loaders._halves(db.session.connection(), *loaders._blocks_meeting("2024-01", "2024-02"))
        assert [count for _, _, count in halves] == [3, 3]  # block 0's three customers expected, one has values
        _assert_series_match_values("2024-01", "2024-02")
        totals, matrix = loaders.load_window("2024-01", "2024-02")
        assert totals["customer_id"].tolist() == [1, 2 * BLOCK_SIZE, 3 * BLOCK_SIZE + 1, 5 * BLOCK_SIZE]
        assert np.array_equal(matrix.to_numpy(), np.array([[10, np.nan], [5, np.nan], [np.nan, 6], [7, 8]]),
                              equal_nan=True)
        db.session.remove()


def test_a_yearly_potential_repeated_on_18_period_rows_counts_once(app):
    """An annual Außenumsatz on each of 18 monthly rows: untapped = potential a year − revenue a year."""
    from app.segments import loaders
    from app.segments.models import CustomerSegment
    from app.segments.runs import run_segmentation

    months = [f"{2023 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}" for m in range(1, 19)]  # 2023-01 … 2024-06
    lines = ["Kundennummer;Periode;Umsatz;Außenumsatz"]
    for c, (monthly, potential) in enumerate([(122_000, 3_370_000), (1_000, 50_000), (2_000, 20_000)], start=1):
        lines += [f"{c:07d};{month};{monthly};{potential}" for month in months]
    with app.app_context():
        _import("\n".join(lines) + "\n")
        totals, _ = loaders.load_window("2023-01", "2024-06")
        assert totals["potential"].tolist() == [3_370_000.0, 50_000.0, 20_000.0]
        _assert_series_match_values("2023-01", "2024-06")
        run = run_segmentation("2023-01", "2024-06")
        untapped = dict(db.session.execute(
            db.select(CustomerSegment.customer_id, CustomerSegment.untapped).where(CustomerSegment.run_id == run.id)
        ).all())
        # 18 months = 1.5 years: revenue a year = 12 × the monthly revenue
        assert sorted(untapped.values()) == pytest.approx([0.0, 38_000.0, 3_370_000 - 12 * 122_000])
        assert run.summary["potential_rule"] == "latest_a_year"
        db.session.remove()
