"""The migrations produce exactly the models' schema (no drift)."""
from __future__ import annotations

import os
import uuid

import numpy as np
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app import create_app
from app.extensions import db
from app.models import in_models
from config import TestConfig


@pytest.fixture
def empty_database_url(tmp_path):
    """A fresh, empty database of the kind the suite runs on."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
        return
    base = base.replace("postgresql://", "postgresql+psycopg://", 1) if base.startswith("postgresql://") else base
    name = f"mig_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(base).set(database=name)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_match_models(empty_database_url):
    from flask_migrate import downgrade, upgrade

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": in_models})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ; run `make schema` or add a migration: {diff}"
        # And the way back works too.
        downgrade(revision="base")
        with db.engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
        assert tables == set()
        db.session.remove()
        db.engine.dispose()


def test_the_search_index_is_made_by_the_migration(empty_database_url):
    """The trigram index exists after upgrade (on PostgreSQL where pg_trgm can be created), and
    the SQLite one follows inserts, renames and deletes (create_all makes it too: the search tests)."""
    from flask_migrate import upgrade

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                has_trgm = conn.scalar(sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'"))
                indexes = {i["name"] for i in sa.inspect(conn).get_indexes("customers")}
                assert ("ix_customers_search_key_trgm" in indexes) == bool(has_trgm)
            else:
                conn.execute(sa.text("INSERT INTO customers (id, customer_no, name, created_at, search_key) VALUES "
                                     "(1, '01', 'A', '2026-01-01', '01 muller'), (2, '02', 'B', '2026-01-01', "
                                     "'02 schmidt')"))
                conn.execute(sa.text("UPDATE customers SET search_key = '02 weiss' WHERE id = 2"))
                conn.execute(sa.text("DELETE FROM customers WHERE id = 1"))
                found = conn.scalars(sa.text("SELECT rowid FROM customers_search WHERE customers_search MATCH :q"),
                                     {"q": '"weiss"'}).all()
                assert found == [2]
                assert conn.scalars(sa.text("SELECT rowid FROM customers_search WHERE customers_search MATCH "
                                            "'\"muller\"'")).all() == []
                assert conn.scalars(sa.text("SELECT rowid FROM customers_search WHERE customers_search MATCH "
                                            "'\"schmidt\"'")).all() == []
        db.session.remove()
        db.engine.dispose()


def test_the_series_migration_builds_series_from_stored_values(empty_database_url):
    """Values stored before the customer_series table existed get their series on upgrade."""
    from flask_migrate import upgrade

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="e553df45310d")  # the schema before the series
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO customers (id, customer_no, name, created_at) "
                                 "VALUES (1, '0001', 'A', '2026-01-01'), (2, '0002', 'B', '2026-01-01')"))
            conn.execute(sa.text(
                "INSERT INTO customer_values (customer_id, period, revenue, cost_to_serve) VALUES "
                "(1, '2024-01', 10, 4), (1, '2024-03', 30, NULL), (2, '2024-Q2', 7, 1)"))
        upgrade()
        from app.segments import loaders

        totals, matrix = loaders.load_window("2024-01", "2024-03")
        assert totals["customer_id"].tolist() == [1] and totals["revenue"].tolist() == [40.0]
        assert totals["contribution"].tolist() == [6.0]  # 10 - 4; the unknown cost leaves March out
        assert np.isnan(matrix.iloc[0, 1])
        assert loaders.load_window("2024-Q1", "2024-Q2")[0]["revenue"].tolist() == [7.0]
        assert loaders.available_periods() == ["2024-01", "2024-02", "2024-03", "2024-Q2"]
        db.session.remove()
        db.engine.dispose()


def test_the_search_key_migration_folds_the_stored_customers(empty_database_url):
    """Customers stored before the search key existed are found by it after the upgrade."""
    from flask_migrate import upgrade

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="5b1f0c7d2e41")  # the schema before the search key
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO customers (id, customer_no, name, created_at) VALUES "
                                 "(1, '0001', 'Müller Straßenbau', '2026-01-01'), (2, 'B-07', '', '2026-01-01')"))
        upgrade()
        with db.engine.connect() as conn:
            keys = dict(conn.execute(sa.text("SELECT id, search_key FROM customers ORDER BY id")).all())
        assert keys == {1: "0001 muller strassenbau", 2: "b-07"}
        db.session.remove()
        db.engine.dispose()


def test_the_count_migration_counts_the_stored_customers_and_runs(empty_database_url):
    """Customers and runs stored before the kept counts existed: the count starts at their number and
    follows later writes; each run gets its combinations of classes, summing to its rows."""
    from flask_migrate import downgrade, upgrade

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="f20a01c0ffee")  # the schema before the kept counts
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO customers (id, customer_no, name, created_at, search_key) VALUES "
                                 "(1, '01', 'A', '2026-01-01', '01 a'), (2, '02', 'B', '2026-01-01', '02 b'), "
                                 "(3, '03', 'C', '2026-01-01', '03 c')"))
            conn.execute(sa.text("INSERT INTO segmentation_runs (id, created_at, window_start, window_end, parameters, "
                                 "summary, n_customers, status) VALUES (1, '2026-01-01', '2025-01', '2025-12', '{}', "
                                 "'{\"counts\": {}}', 2, 'done')"))
            conn.execute(sa.text("INSERT INTO customer_segments (run_id, customer_id, abc_class, potential_segment, "
                                 "burr) VALUES (1, 1, 'A', 'star', true), (1, 2, 'A', 'star', false)"))
        upgrade()
        from app.segments.counts import customer_total
        from app.segments.models import SegmentationRun

        assert customer_total() == 3
        summary = db.session.get(SegmentationRun, 1).summary
        assert summary["counts"] == {}  # the rest of the summary kept
        assert sorted(summary["combinations"], key=str) == [["A", "star", None, None, False, 1],
                                                            ["A", "star", None, None, True, 1]]
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO customers (id, customer_no, name, created_at, search_key) VALUES "
                                 "(4, '04', 'D', '2026-01-01', '04 d'), (5, '05', 'E', '2026-01-01', '05 e')"))
            conn.execute(sa.text("DELETE FROM customers WHERE id = 1"))
        assert customer_total() == 4
        db.session.remove()
        downgrade(revision="f20a01c0ffee")
        with db.engine.connect() as conn:
            assert "customer_count" not in sa.inspect(conn).get_table_names()
            assert "combinations" not in db.session.get(SegmentationRun, 1).summary
        db.session.remove()
        db.engine.dispose()
