"""Pages that stay fast at a million customers: each shortcut gives the same rows and
numbers as the straightforward way it replaced."""
from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from app.extensions import db
from tests.integration.test_segments_views import segmented  # noqa: F401  (fixture)


@pytest.fixture
def outcomes_in_two_runs(app):
    """Customers in two runs (the later one differs), most without outcomes; outcomes for some,
    one of them a customer the later run does not hold."""
    from app.aftersales.models import Outcome
    from app.segments.models import Customer, CustomerSegment, SegmentationRun

    with app.app_context():
        customers = [Customer(customer_no=f"{i:06d}", name=f"Kunde {i}") for i in range(40)]
        db.session.add_all(customers)
        runs = [SegmentationRun(window_start="2024-01", window_end="2024-12", status="done", summary={}),
                SegmentationRun(window_start="2025-01", window_end="2025-12", status="done", summary={})]
        db.session.add_all(runs)
        db.session.flush()
        for number, run in enumerate(runs):
            for i, customer in enumerate(customers):
                if number == 1 and i == 3:
                    continue  # not in the latest run
                db.session.add(CustomerSegment(
                    run_id=run.id, customer_id=customer.id, abc_class="ABC"[(i + number) % 3],
                    potential_segment=("star", "focus", "cash_cow", "time_waster")[i % 4],
                    profit_tier="ABCZ"[(i * (number + 1)) % 4]))
        for i in (7, 3, 12, 5, 30):
            db.session.add(Outcome(customer_id=customers[i].id, outcome_date=dt.date(2025, 1, 1 + i % 28),
                                   sale_score=1 + i % 5, after_sales_yes=bool(i % 2), repurchased=i % 3 == 0))
        db.session.commit()
        ids = [run.id for run in runs]
        db.session.remove()
    return ids


def _outcome_frame_the_old_way(threshold, run_id):
    """The outcomes merged with every segment of the run, as the loader did before."""
    from app.aftersales import loaders
    from app.touchpoint_audit.loaders import customer_segments

    frame = loaders.outcome_frame(threshold, run_id=run_id).drop(columns=list(loaders.AUDIT_KINDS))
    merged = frame.merge(customer_segments(run_id), on="customer_pk", how="left")
    for kind in loaders.AUDIT_KINDS:
        merged[kind] = merged[kind].astype(object).where(merged[kind].notna(), None)
    return merged[loaders.COLUMNS]


@pytest.mark.parametrize("which", [0, 1, None])
def test_outcome_frame_reads_only_the_outcomes_segments_and_matches_the_whole_run_merge(
        app, outcomes_in_two_runs, which):
    from app.aftersales.loaders import outcome_frame

    run_id = outcomes_in_two_runs[which] if which is not None else outcomes_in_two_runs[1]
    with app.app_context():
        got = outcome_frame(4, run_id=None if which is None else run_id)
        expected = _outcome_frame_the_old_way(4, run_id)
        db.session.remove()
    pd.testing.assert_frame_equal(got, expected)
    assert got["outcome_id"].is_monotonic_increasing and len(got) == 5
    # the second outcome's customer is in the first run only
    assert (got["abc"].iloc[1] is None) == (which != 0)


def test_outcome_frame_without_a_run_has_empty_segments(app):
    from app.aftersales.loaders import outcome_frame
    from app.aftersales.models import Outcome
    from app.segments.models import Customer

    with app.app_context():
        customer = Customer(customer_no="1", name="Eins")
        db.session.add(customer)
        db.session.flush()
        db.session.add(Outcome(customer_id=customer.id, outcome_date=dt.date(2025, 2, 2), sale_score=5,
                               after_sales_score=2, repurchased=True))
        db.session.commit()
        frame = outcome_frame(4)
        db.session.remove()
    assert len(frame) == 1 and frame[["abc", "potential", "tier"]].iloc[0].tolist() == [None, None, None]


# ------------------------------------------------------------------ the run export, streamed

@pytest.mark.parametrize("language", ["en", "de"])
def test_run_csv_in_pieces_equals_the_file_built_in_memory(app, segmented, language):  # noqa: F811
    """Pieces of 7 rows (300 customers: many pieces, the last one short) give the old file's bytes."""
    from app.segments.exports import RUN_COLUMNS, csv_chunks, table_bytes
    from app.segments.runs import export_chunks, export_frame

    with app.app_context(), app.test_request_context():
        whole, _mimetype = table_bytes(export_frame(segmented["run_id"]), RUN_COLUMNS, "csv", language)
        pieces = list(csv_chunks(export_chunks(segmented["run_id"], rows=7), RUN_COLUMNS, language))
        db.session.remove()
    assert len(pieces) == 1 + -(-segmented["customers"] // 7)
    assert pieces[0].startswith(b"\xef\xbb\xbf") and pieces[0].count(b"\n") == 1  # BOM and header first
    assert b"".join(pieces) == whole


@pytest.mark.parametrize("language", ["en", "de"])
def test_run_export_csv_is_streamed_with_the_old_content(app, as_role, segmented, language):  # noqa: F811
    from app.segments.exports import RUN_COLUMNS, table_bytes
    from app.segments.runs import export_frame

    client = as_role("manager")
    if language == "de":
        client.post("/language", data={"lang": "de", "next": "/"})
    response = client.get(f"/segments/runs/{segmented['run_id']}/export.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    with app.app_context(), app.test_request_context():
        whole, _mimetype = table_bytes(export_frame(segmented["run_id"]), RUN_COLUMNS, "csv", language)
        db.session.remove()
    assert response.get_data() == whole
    assert whole.count(b"\n") == segmented["customers"] + 1


def test_run_export_csv_of_an_empty_run_is_the_header(app, as_role, users):
    from app.segments.models import SegmentationRun

    with app.app_context():
        run = SegmentationRun(window_start="2024-01", window_end="2024-12", status="done", summary={})
        db.session.add(run)
        db.session.commit()
        run_id = run.id
        db.session.remove()
    data = as_role("leadership").get(f"/segments/runs/{run_id}/export.csv").get_data()
    assert data.startswith(b"\xef\xbb\xbfCustomer no.,Name,") and data.count(b"\n") == 1


# ------------------------------------------------------------------ charts drawn once per run / analysis

def _svgs(response) -> list[str]:
    return re.findall(r"<svg.*?</svg>", response.get_data(as_text=True), re.S)


def _cached(app):
    from app.web.models import CachedChart

    with app.app_context():
        rows = sorted((c.scope, c.owner) for c in db.session.scalars(db.select(CachedChart)))
        db.session.remove()
    return rows


def _empty_cache(app):
    from app.web.models import CachedChart

    with app.app_context():
        db.session.execute(db.delete(CachedChart))
        db.session.commit()
        db.session.remove()


def _refuse_drawing(monkeypatch, module, *names):
    def refuse(*args, **kwargs):
        raise AssertionError("drawn again although the chart is stored")

    for name in names:
        monkeypatch.setattr(module, name, refuse)


def test_segments_overview_charts_are_stored_per_run_and_replaced_by_a_new_run(
        app, as_role, users, segmented, monkeypatch):  # noqa: F811
    from app.segments import charts
    from app.segments.runs import run_segmentation

    client = as_role("manager")
    first = _svgs(client.get("/segments/"))
    assert len(first) >= 3
    assert _cached(app) == [("segments/overview", segmented["run_id"])] * 3
    with monkeypatch.context() as patched:
        _refuse_drawing(patched, charts, "pareto_chart", "matrix_chart", "trajectory_multiples")
        assert _svgs(client.get("/segments/")) == first
    german = client.get("/segments/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Umsatz" in german and len(_cached(app)) == 6  # another language: drawn and stored beside
    _empty_cache(app)
    assert _svgs(client.get("/segments/")) == first  # the stored charts are the drawn ones

    with app.app_context(), app.test_request_context():
        second = run_segmentation(window_start="2025-01", window_end="2025-06", user_id=users["manager"].id).id
        db.session.remove()
    newer = _svgs(client.get("/segments/"))
    assert _cached(app) == [("segments/overview", second)] * 3
    assert newer != first and len(newer) >= 3


def test_dashboard_charts_are_stored_per_analysis_and_replaced_by_a_new_one(app, as_role, users, monkeypatch):
    import numpy as np

    from app.touchpoint_audit import charts
    from tests.integration.audit_fixtures import add_observations, build_world
    from tests.integration.test_audits_analysis import _planted_rows

    world = build_world(app, users)
    add_observations(app, world, _planted_rows(world, np.random.default_rng(7)))
    client = as_role("manager")
    assert client.post(f"/audits/{world.audit_id}/analyze").status_code == 303
    url = f"/audits/{world.audit_id}/dashboard"
    first = _svgs(client.get(url))
    assert first
    stored = _cached(app)
    assert stored and {scope for scope, _owner in stored} == {f"audits/{world.audit_id}/dashboard"}
    with monkeypatch.context() as patched:
        _refuse_drawing(patched, charts, "heatmap_svg", "tenure_chart_svg")
        assert _svgs(client.get(url)) == first
    _empty_cache(app)
    assert _svgs(client.get(url)) == first

    assert client.post(f"/audits/{world.audit_id}/analyze").status_code == 303
    drawn = []
    original = charts.heatmap_svg
    monkeypatch.setattr(charts, "heatmap_svg", lambda *a, **k: drawn.append(1) or original(*a, **k))
    client.get(url)
    assert drawn == [1]  # a new analysis: drawn again
    (owner,) = {owner for _scope, owner in _cached(app)}
    assert owner != stored[0][1]


def test_a_customers_history_chart_is_stored_per_version_of_its_values(app, as_role, monkeypatch):
    from app.segments import charts
    from app.segments.models import Customer

    _values(app, {"0001": [100.0] * 12, "0002": [50.0] * 12})
    with app.app_context():
        ids = {c.customer_no: c.id for c in db.session.scalars(db.select(Customer))}
        db.session.remove()
    client = as_role("manager")
    first = _svgs(client.get(f"/customers/{ids['0001']}"))
    assert len(first) == 1
    other = _svgs(client.get(f"/customers/{ids['0002']}"))
    assert other != first
    assert [scope for scope, _owner in _cached(app)] == [f"customers/history/{ids['0001']}",
                                                         f"customers/history/{ids['0002']}"]
    with monkeypatch.context() as patched:
        _refuse_drawing(patched, charts, "history_chart")
        assert _svgs(client.get(f"/customers/{ids['0001']}")) == first
    german = client.get(f"/customers/{ids['0001']}", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Umsatz" in german and len(_cached(app)) == 3  # another language: drawn and stored beside
    _empty_cache(app)
    assert _svgs(client.get(f"/customers/{ids['0001']}")) == first  # the stored chart is the drawn one

    _values(app, {"0001": [100.0] * 11 + [900.0]})  # new values: a new version replaces the old ones
    changed = _svgs(client.get(f"/customers/{ids['0001']}"))
    assert changed != first
    assert len([scope for scope, _owner in _cached(app) if scope.endswith(f"/{ids['0001']}")]) == 1
    assert not _svgs(as_role("service").get(f"/customers/{ids['0001']}"))  # no money figures for service


# ------------------------------------------------------------------ the start page's revenue

def _values(app, rows):
    """Customers with monthly revenue through the ORM (the series blocks follow in the same transaction)."""
    from app.segments.models import Customer, CustomerValue

    with app.app_context():
        for number, revenues in rows.items():
            customer = db.session.scalar(db.select(Customer).where(Customer.customer_no == number))
            if customer is None:
                customer = Customer(customer_no=number, name=f"Kunde {number}")
                db.session.add(customer)
            for month, revenue in enumerate(revenues, start=1):
                value = db.session.scalar(db.select(CustomerValue).where(
                    CustomerValue.customer == customer, CustomerValue.period == f"2025-{month:02d}"))
                if value is None:
                    customer.values.append(CustomerValue(period=f"2025-{month:02d}", revenue=revenue))
                else:
                    value.revenue = revenue
        db.session.commit()
        db.session.remove()


def _revenue_tile(client) -> str:
    html = client.get("/").get_data(as_text=True)
    return re.search(r'data-figure="revenue">([^<]+)<', html).group(1)


def test_start_page_revenue_follows_every_write_of_the_values(app, as_role, users):
    from app.segments import loaders

    _values(app, {"1": [100.0] * 12, "2": [50.0] * 12})
    client = as_role("manager")
    assert _revenue_tile(client) == "€1,800"
    assert _revenue_tile(client) == "€1,800"
    _values(app, {"2": [50.0] * 11 + [1050.0]})  # one value changed: the sum is made again
    assert _revenue_tile(client) == "€2,800"
    _values(app, {"3": [1.0] * 12})  # a new customer
    assert _revenue_tile(client) == "€2,812"
    with app.app_context():
        assert loaders.window_revenue("2025-01", "2025-12") == loaders._summed_revenue("2025-01", "2025-12") == 2812
        db.session.remove()


def test_start_page_revenue_is_summed_once_per_state_of_the_blocks_on_postgresql(app, as_role, users, monkeypatch):
    from app.segments import loaders

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the sum is kept on PostgreSQL only (by the blocks' transaction ids)")
    _values(app, {"1": [100.0] * 12})
    client = as_role("manager")
    assert _revenue_tile(client) == "€1,200"
    summed = []
    original = loaders._summed_revenue
    monkeypatch.setattr(loaders, "_summed_revenue", lambda *args: summed.append(args) or original(*args))
    assert _revenue_tile(client) == "€1,200" and summed == []
    _values(app, {"1": [100.0] * 11 + [200.0]})
    assert _revenue_tile(client) == "€1,300" and len(summed) == 1


# ------------------------------------------------------------------ the customer list read along an index

@pytest.fixture
def listed(app):
    """37 customers: 30 in the latest run (ties in revenue, some keys empty), 7 without a segment."""
    import sqlalchemy as sa

    from app.segments import counts
    from app.segments.models import Customer, CustomerSegment, SegmentationRun

    with app.app_context():
        customers = [Customer(customer_no=f"{(i * 17) % 41:04d}", name=f"Kunde {i % 5}") for i in range(37)]
        db.session.add_all(customers)
        run = SegmentationRun(window_start="2025-01", window_end="2025-12", status="done", summary={})
        db.session.add(run)
        db.session.flush()
        for i, customer in enumerate(customers[:30]):
            db.session.add(CustomerSegment(
                run_id=run.id, customer_id=customer.id, abc_class="ABC"[i % 3],
                potential_segment=None if i % 7 == 0 else ("star", "focus", "cash_cow", "time_waster")[i % 4],
                profit_tier="ABCZ"[i % 4], trajectory=None if i % 5 == 0 else "stable",
                revenue=None if i % 9 == 0 else float(100 * (i % 6)), contribution=float(i % 4) - 1,
                untapped=None if i % 2 else float(i), burr=i % 4 == 0))
        db.session.flush()
        # the counts a run made by the product keeps (app.segments.counts): the list's totals read them
        frame = pd.read_sql(sa.select(*(getattr(CustomerSegment, c) for c in counts.COMBINATION_COLUMNS))
                            .where(CustomerSegment.run_id == run.id), db.session.connection())
        run.summary, run.n_customers = {"combinations": counts.combinations(frame)}, 30
        db.session.commit()
        db.session.remove()


SORTS = ("customer_no", "name", "abc", "segment", "tier", "trajectory", "revenue", "contribution", "untapped")


def _walk(listing, size):
    """Every page forward from the first (Next) and backward from the last (Previous), as row tuples."""
    forward, window, pages = [], listing.window(size), 0
    assert not window.has_before
    while True:
        forward.append([tuple(row) for row in window.rows])
        pages += 1
        assert pages < 100
        if not window.has_after:
            break
        window = listing.window(size, after=window.last)
        assert window.has_before
    backward, window = [], listing.window(size, last=True)
    assert not window.has_after
    while True:
        backward.insert(0, [tuple(row) for row in window.rows])
        if not window.has_before:
            break
        window = listing.window(size, before=window.first)
        assert window.has_after
    return forward, backward


@pytest.mark.parametrize("extra", [
    {}, {"abc": "B"}, {"burr": "1"}, {"q": "kunde 3"}, {"segment": "star", "tier": "A"}, {"q": "kunde 3", "abc": "A"},
])
@pytest.mark.parametrize("size", [4, 50])
def test_customer_list_keyset_pages_walk_every_row_once_in_order(app, users, listed, extra, size):
    """Forward by Next and backward from Last by Previous, for every offered sort in both
    directions (ties, empty keys, customers outside the run): every row exactly once, in the order
    of the whole query; full pages except the last one forward and the first one backward."""
    from app.segments.analysis import customer_listing

    with app.test_request_context("/customers/"):
        from flask_login import login_user

        from app.accounts.models import User

        login_user(db.session.get(User, users["manager"].id))
        for sort in SORTS:
            for direction in ("asc", "desc"):
                listing = customer_listing({**extra, "sort": sort, "dir": direction})
                everything = [tuple(row) for row in db.session.execute(listing.query).all()]
                forward, backward = _walk(listing, size)
                case = (sort, direction, extra)
                assert [row for page in forward for row in page] == everything, case
                assert [row for page in backward for row in page] == everything, case
                assert all(len(page) == size for page in forward[:-1]), case
                assert all(len(page) == size for page in backward[1:]), case
                assert len({row[0].id for row in everything}) == len(everything) == listing.total().n, case
        db.session.remove()


def test_customer_list_keyset_pages_on_the_page_follow_their_links(as_role, listed, monkeypatch):
    from app.segments import customers

    monkeypatch.setattr(customers, "PAGE_SIZE", 10)
    client = as_role("manager")

    def follow(url, rel):
        seen, labels = [], []
        while url:
            html = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
            page = re.findall(r'href="/customers/(\d+)"', html)
            seen = seen + page if rel == "next" else page + seen
            label = re.search(r"Page (\d+) of (\d+)", html)
            labels.append(label.groups() if label else ("1", "1"))  # one page: no pager
            link = re.search(rf'href="([^"]+)"[^>]*rel="{rel}"', html)
            url = link.group(1).replace("&amp;", "&") if link else None
            assert len(labels) < 10
        return seen, labels

    for sort in ("untapped", "revenue&dir=asc", "name", "segment&abc=A"):
        forward, labels = follow(f"/customers/?sort={sort}", "next")
        assert labels == [(str(n), str(len(labels))) for n in range(1, len(labels) + 1)]
        html = client.get(f"/customers/?sort={sort}", headers={"HX-Request": "true"}).get_data(as_text=True)
        last = re.search(r'href="([^"]+)"[^>]*rel="last"', html)
        backward, back_labels = follow(last.group(1).replace("&amp;", "&"), "prev") if last else (forward, labels)
        assert len(forward) == len(set(forward)) and backward == forward
        assert back_labels == list(reversed(labels))
        if "abc" not in sort:
            assert len(forward) == 37  # every customer once, across four pages of ten


@pytest.mark.parametrize("cursor", [
    "nan", "x", "%%%", "A" * 5000, "bnVsbA", "WzFd", "e30", "WyJyZXZlbnVlIiwiZGVzYyIsImsiLCJ4IiwxXQ",
    "WyJuYW1lIiwiYXNjIiwiayIsIkEiLDFd", "WyJyZXZlbnVlIiwiZGVzYyIsImsiLDFlOTk5LDFd",
    "WyJyZXZlbnVlIiwiZGVzYyIsInUiLG51bGwsLTFd", "WyJyZXZlbnVlIiwiZGVzYyIsImsiLDEsMTAwMDAwMDAwMDAwMDAwMDAwMDAwMF0",
    "\u00e4\u00f6", "W10=",
])
@pytest.mark.parametrize("which", ["after", "before"])
def test_a_malformed_page_cursor_gives_the_first_page_and_says_so(as_role, listed, cursor, which, monkeypatch):
    """Edited, cut-off or foreign cursors (wrong sort, wrong types, huge numbers, not base64, not
    JSON) give the first page with a notice, never a 500."""
    from app.segments import customers

    monkeypatch.setattr(customers, "PAGE_SIZE", 10)
    client = as_role("manager")
    first = client.get("/customers/", headers={"HX-Request": "true"}).get_data(as_text=True)
    response = client.get("/customers/", query_string={which: cursor, "page": "99999999999999999999"},
                          headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "That page link could not be read" in html
    assert re.findall(r'href="/customers/(\d+)"', html) == re.findall(r'href="/customers/(\d+)"', first)
    assert "Page 1 of" in html


def test_a_cursor_of_a_deleted_row_still_finds_its_neighbours(app, as_role, listed, monkeypatch):
    """A cursor is a key, not a row: the row it names may be gone, the next page is still right."""
    from app.segments import customers
    from app.segments.models import Customer

    monkeypatch.setattr(customers, "PAGE_SIZE", 10)
    client = as_role("manager")
    html = client.get("/customers/?sort=name", headers={"HX-Request": "true"}).get_data(as_text=True)
    following = re.search(r'href="([^"]+)"[^>]*rel="next"', html).group(1).replace("&amp;", "&")
    before = re.findall(r'href="/customers/(\d+)"', client.get(following, headers={"HX-Request": "true"})
                        .get_data(as_text=True))
    last_id = int(re.findall(r'href="/customers/(\d+)"', html)[-1])
    with app.app_context():
        db.session.delete(db.session.get(Customer, last_id))
        db.session.commit()
        db.session.remove()
    after = re.findall(r'href="/customers/(\d+)"', client.get(following, headers={"HX-Request": "true"})
                       .get_data(as_text=True))
    assert after[:len(before)] == before


def test_customer_list_total_without_a_run(app, users):
    from flask_login import login_user

    from app.accounts.models import User
    from app.segments.analysis import customer_listing
    from app.segments.models import Customer

    with app.test_request_context("/customers/"):
        db.session.add_all([Customer(customer_no=str(i), name=f"Kunde {i}") for i in range(3)])
        db.session.commit()
        login_user(db.session.get(User, users["manager"].id))
        assert customer_listing({}).total().n == 3
        assert customer_listing({"abc": "A"}).total().n == 0
        assert customer_listing({"q": "kunde 1"}).total().n == 1
        db.session.remove()
