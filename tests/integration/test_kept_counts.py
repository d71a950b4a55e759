"""The kept counts (app.segments.counts) equal what counting the rows gives, after every kind of
write, and the customer list says "more than" where it stops counting (issue 20)."""
from __future__ import annotations

import itertools
import re

import sqlalchemy as sa

from app.extensions import db
from tests.integration.test_segments_views import segmented  # noqa: F401  (fixture)


def _counted() -> int:
    return db.session.scalar(sa.text("SELECT count(*) FROM customers"))


def test_the_customer_count_follows_every_write(app):
    """ORM inserts, a Core insert of many rows, the customer-value import (COPY on PostgreSQL), a
    rollback, deletes of one and of many rows: the kept figure equals count(*) after each, and
    compacting keeps the sum."""
    from app.segments import counts
    from app.segments.importing import check_upload, import_customer_values
    from app.segments.models import Customer

    with app.app_context():
        assert counts.customer_total() == _counted() == 0
        db.session.add_all([Customer(customer_no=f"A{i}", name=f"A {i}") for i in range(3)])
        db.session.commit()
        assert counts.customer_total() == _counted() == 3
        db.session.execute(sa.insert(Customer), [{"customer_no": f"B{i}", "name": "B"} for i in range(5)])
        db.session.commit()
        assert counts.customer_total() == _counted() == 8
        db.session.execute(sa.insert(Customer), [{"customer_no": "C1", "name": "C"}])
        db.session.rollback()
        assert counts.customer_total() == _counted() == 8
        rows = "\n".join(f"N{i};Neu {i};2025-01;100,00" for i in range(40))
        check = check_upload(f"customer_id;name;period;revenue\n{rows}\n".encode(), "values.csv")
        assert check.ok, check.problems
        import_customer_values(check)
        assert counts.customer_total() == _counted() == 48
        db.session.delete(db.session.scalar(sa.select(Customer).where(Customer.customer_no == "A1")))
        db.session.commit()
        db.session.execute(sa.delete(Customer).where(Customer.customer_no.like("B%")))
        db.session.commit()
        assert counts.customer_total() == _counted() == 42
        counts.compact()
        db.session.commit()
        assert counts.customer_total() == _counted() == 42
        assert db.session.scalar(sa.text("SELECT count(*) FROM customer_count")) == 1
        db.session.remove()


def test_a_run_keeps_its_combinations_and_they_count_every_filter(app, users, segmented):  # noqa: F811
    """A run made by the product keeps its class combinations; for every single filter and pair of
    filters the list's total from them equals counting the rows, and equals the old count when the
    run keeps none."""
    from flask_login import login_user

    from app.accounts.models import User
    from app.segments.analysis import FILTERS, customer_listing
    from app.segments.runs import latest_run

    with app.test_request_context("/customers/"):
        login_user(db.session.get(User, users["manager"].id))
        run = latest_run()
        kept = run.summary["combinations"]
        assert sum(entry[-1] for entry in kept) == run.n_customers == 300
        choices = [(name, key) for name, (_column, keys) in FILTERS.items() for key in keys] + [("burr", "1")]
        asked = [dict([one]) for one in choices] + [dict(pair) for pair in itertools.combinations(choices, 2)
                                                    if pair[0][0] != pair[1][0]]
        seen = set()
        for args in [{}, *asked]:
            listing = customer_listing(args)
            counted = db.session.scalar(sa.select(sa.func.count()).select_from(listing.base.subquery()))
            total = listing.total()
            assert (total.n, total.more) == (counted, False), args
            seen.add(counted)
        assert len(seen) > 10  # the filters really differ
        run.summary = {key: value for key, value in run.summary.items() if key != "combinations"}
        db.session.commit()
        for args in [{}, {"abc": "A"}, {"segment": "star", "burr": "1"}]:
            listing = customer_listing(args)
            assert listing.total().n == db.session.scalar(
                sa.select(sa.func.count()).select_from(listing.base.subquery()))
        db.session.remove()


def test_customers_outside_the_run_are_added_to_the_kept_total(app, users, segmented):  # noqa: F811
    from flask_login import login_user

    from app.accounts.models import User
    from app.segments.analysis import customer_listing
    from app.segments.models import Customer

    with app.test_request_context("/customers/"):
        login_user(db.session.get(User, users["manager"].id))
        db.session.add_all([Customer(customer_no=f"NEW{i}", name="Neu") for i in range(4)])
        db.session.commit()
        assert customer_listing({}).total().n == 304 == _counted()
        assert customer_listing({"abc": "A"}).total().n == db.session.scalar(
            sa.select(sa.func.count()).select_from(customer_listing({"abc": "A"}).base.subquery()))
        db.session.remove()


def test_a_search_past_the_cap_says_more_and_pages_without_a_last_number(app, as_role, segmented, monkeypatch):  # noqa: F811
    """Counted up to the cap, then "more than"; the pages still walk every match once, the page
    numbers count up from the first page, and the last page says it is the last."""
    from app.segments import analysis, customers

    monkeypatch.setattr(analysis, "COUNT_CAP", 20)
    monkeypatch.setattr(customers, "PAGE_SIZE", 10)
    client = as_role("manager")
    with app.app_context():
        matches = db.session.scalar(sa.text("SELECT count(*) FROM customers WHERE search_key LIKE '%gmbh%'"))
        few = db.session.scalar(sa.text("SELECT count(*) FROM customers WHERE search_key LIKE '%kanzlei%'"))
    assert matches > 40 and few <= 20
    html = client.get("/customers/?q=gmbh", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "More than 20 customers" in html and "Page 1</span>" in html and " of " not in _pager(html)
    seen, url, labels = [], "/customers/?q=gmbh", []
    while url:
        html = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
        seen += re.findall(r'href="/customers/(\d+)"', html)
        labels.append(re.search(r"<span>(Page \d+|Last page)</span>", _pager(html)).group(1))
        link = re.search(r'href="([^"]+)"[^>]*rel="next"', html)
        url = link.group(1).replace("&amp;", "&") if link else None
        assert len(labels) < 100
    assert len(seen) == len(set(seen)) == matches
    assert labels[:-1] == [f"Page {n}" for n in range(1, len(labels))]
    assert labels[-1] in ("Last page", f"Page {len(labels)}")
    last = client.get("/customers/?q=gmbh&last=1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Last page" in _pager(last) and "More than 20 customers" in last
    html = client.get("/customers/?q=kanzlei", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f"{few} customers" in html and "More than" not in html
    german = client.get("/customers/?q=gmbh", headers={"HX-Request": "true", "Accept-Language": "de"})
    assert "Mehr als 20 Kunden" in german.get_data(as_text=True)


def _pager(html: str) -> str:
    found = re.search(r'<nav class="pager".*?</nav>', html, re.S)
    return found.group(0) if found else ""


def test_the_start_page_shows_the_kept_count(app, as_role, segmented):  # noqa: F811
    from app.segments import counts

    with app.app_context():
        assert counts.customer_total() == 300
    html = as_role("manager").get("/").get_data(as_text=True)
    assert re.search(r"\b300\b", html)
