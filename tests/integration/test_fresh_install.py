"""A fresh install without demo data: `flask db upgrade`, `flask touchpoints seed`, and
empty pages that say what to do next (with the link for the roles that may do it)."""
from __future__ import annotations

import os
import re
import uuid

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from config import TestConfig


@pytest.fixture
def empty_database_url(tmp_path):
    """A fresh, empty database of the kind the suite runs on."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'fresh.sqlite'}"
        return
    base = base.replace("postgresql://", "postgresql+psycopg://", 1) if base.startswith("postgresql://") else base
    name = f"fresh_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_seed_after_upgrade_adds_the_default_catalog_once(empty_database_url):
    from app.touchpoint_audit.catalog import DEFAULT_CATALOG

    fresh = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=empty_database_url)
    runner = fresh.test_cli_runner()
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    n_metrics = sum(len(tp["metrics"]) for tp in DEFAULT_CATALOG)

    first = runner.invoke(args=["touchpoints", "seed"])
    assert first.exit_code == 0, first.output
    assert f"Added {len(DEFAULT_CATALOG)} touchpoints and {n_metrics} metrics." in first.output
    assert "  renewal.price  (new touchpoint)" in first.output
    listed = runner.invoke(args=["touchpoints", "list"]).output
    assert all(tp["key"] in listed for tp in DEFAULT_CATALOG)

    again = runner.invoke(args=["touchpoints", "seed"])
    assert again.exit_code == 0 and "nothing added" in again.output
    from app.touchpoint_audit.models import Metric

    with fresh.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Metric.id))) == n_metrics
        # a metric deleted by hand comes back, and only it
        db.session.execute(sa.delete(Metric).where(Metric.key == "wait"))
        db.session.commit()
        db.session.remove()
    repaired = runner.invoke(args=["touchpoints", "seed"])
    assert "hotline.wait\n" in repaired.output and "Added 0 touchpoints and 1 metrics." in repaired.output
    with fresh.app_context():
        db.session.remove()
        db.engine.dispose()


def steps(html: str) -> dict[str, str]:
    """data-step name -> the item's HTML, from the start page's getting-started list."""
    return dict(re.findall(r'<li data-step="(\w+)">(.*?)</li>', html, flags=re.S))


def test_start_page_of_an_empty_database_names_the_next_steps(app, users, as_role):
    manager = steps(as_role("manager").get("/").get_data(as_text=True))
    assert list(manager) == ["catalog", "customers"]
    assert 'href="/touchpoints/"' in manager["catalog"]
    assert 'href="/customers/import"' in manager["customers"]
    for role in ("leadership", "service"):
        others = steps(as_role(role).get("/").get_data(as_text=True))
        assert list(others) == ["catalog", "customers", "who"], role
        assert "href" not in "".join(others.values()), role
        assert "A touchpoint manager sets these up." in others["who"]


def test_start_page_moves_on_as_the_install_fills_up(app, users, as_role):
    from app.segments.models import Customer
    from app.touchpoint_audit.catalog import seed_catalog

    with app.app_context():
        seed_catalog()
        db.session.add(Customer(customer_no="0001", name="Erste GmbH"))
        db.session.commit()
        db.session.remove()
    manager = steps(as_role("manager").get("/").get_data(as_text=True))
    assert list(manager) == ["segmentation", "audit"]
    assert 'href="/segments/run"' in manager["segmentation"] and 'href="/audits/new"' in manager["audit"]


def test_the_start_page_speaks_german(app, users, as_role):
    client = as_role("manager")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    html = client.get("/").get_data(as_text=True)
    assert "Erste Schritte" in html and "Kundenwerte importieren" in html


def test_the_default_catalog_from_the_empty_touchpoints_page(app, users, as_role):
    from app.touchpoint_audit.catalog import DEFAULT_CATALOG

    manager = as_role("manager")
    empty = manager.get("/touchpoints/").get_data(as_text=True)
    assert 'data-empty-state="touchpoints"' in empty and 'action="/touchpoints/seed"' in empty
    seeded = manager.post("/touchpoints/seed")
    assert seeded.status_code == 303
    page = manager.get("/touchpoints/").get_data(as_text=True)
    assert 'data-empty-state="touchpoints"' not in page
    assert all(f'data-touchpoint="{tp["key"]}"' in page for tp in DEFAULT_CATALOG)
    manager.post("/touchpoints/seed")
    assert "nothing added" in manager.get("/touchpoints/").get_data(as_text=True)
    leadership = as_role("leadership").get("/touchpoints/").get_data(as_text=True)
    assert "seed" not in leadership


@pytest.mark.parametrize("path,marker,manager_links", [
    ("/segments/", 'data-empty-state="segments"', ["/customers/import", "/segments/run"]),
    ("/customers/", 'data-empty-state="customers"', ["/customers/import"]),
    ("/audits/", 'data-empty-state="audits"', ["/touchpoints/"]),
    ("/after-sales/", 'data-empty-state="aftersales"', ["/after-sales/import", "/after-sales/log"]),
])
def test_empty_pages_say_what_to_do_next(app, users, as_role, path, marker, manager_links):
    def empty_state(role: str) -> str:
        page = as_role(role).get(path)
        assert page.status_code == 200, (role, page.status_code)
        html = page.get_data(as_text=True)
        assert marker in html, role
        return html[html.index(marker):][:1200].split("</p>")[0].split("</td>")[0]

    manager = empty_state("manager")
    for link in manager_links:
        assert f'href="{link}"' in manager, link
    leadership = empty_state("leadership")
    assert "href" not in leadership


def test_the_audit_list_offers_a_round_once_the_catalog_exists(app, users, as_role):
    from app.touchpoint_audit.catalog import seed_catalog

    with app.app_context():
        seed_catalog()
        db.session.commit()
        db.session.remove()
    html = as_role("manager").get("/audits/").get_data(as_text=True)
    assert 'data-empty-state="audits"' in html and 'href="/audits/new">Create an audit round</a>' in html


def test_a_filter_that_matches_nobody_is_not_an_empty_database(app, users, as_role):
    from app.segments.models import Customer

    with app.app_context():
        db.session.add(Customer(customer_no="0001", name="Erste GmbH"))
        db.session.commit()
        db.session.remove()
    html = as_role("manager").get("/customers/?q=zzz").get_data(as_text=True)
    assert "No customers match." in html and 'data-empty-state="customers"' not in html
