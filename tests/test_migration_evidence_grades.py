"""The evidence-grade migration grades the observations already stored: typed in = observed,
from a file import or the HTTP API = system record."""
from __future__ import annotations

import sqlalchemy as sa

from app import create_app
from app.extensions import db
from config import TestConfig
from tests.test_migrations import empty_database_url  # noqa: F401  (the fixture)


def test_stored_observations_get_their_grade(empty_database_url):  # noqa: F811
    from flask_migrate import upgrade

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="e20a01c0ffee")  # the schema before evidence grades
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO touchpoints (id, key, name_de, name_en, description, position, active) "
                                 "VALUES (1, 'hotline', 'Hotline', 'Hotline', '', 0, true)"))
            conn.execute(sa.text("INSERT INTO metrics (id, touchpoint_id, key, name_de, name_en, unit, direction, "
                                 "is_price, needs_product_key, position) "
                                 "VALUES (1, 1, 'wait', 'Wartezeit', 'Wait', 'seconds', 'lower', false, false, 0)"))
            conn.execute(sa.text("INSERT INTO audits (id, title, description, scope_segments, scope_products, status, "
                                 "created_at) VALUES (1, 'Runde', '', '[]', '[]', 'open', '2026-11-01')"))
            conn.execute(sa.text(
                "INSERT INTO observations (id, audit_id, metric_id, value, customer_status, observed_at, note, "
                "created_at, import_fingerprint, external_id) VALUES "
                "(1, 1, 1, 10, 'new', '2026-11-02', '', '2026-11-02', NULL, NULL), "
                "(2, 1, 1, 11, 'new', '2026-11-02', '', '2026-11-02', 'abc', NULL), "
                "(3, 1, 1, 12, 'new', '2026-11-02', '', '2026-11-02', NULL, 'erp-1')"))
        upgrade(revision="f17b01c0ffee")
        with db.engine.connect() as conn:
            grades = dict(conn.execute(sa.text("SELECT id, evidence_grade FROM observations ORDER BY id")).all())
        assert grades == {1: "observed", 2: "system", 3: "system"}
        try:
            with db.engine.begin() as conn:
                conn.execute(sa.text("UPDATE observations SET evidence_grade = 'rumour' WHERE id = 1"))
            refused = False
        except sa.exc.IntegrityError:
            refused = True
        assert refused, "the check constraint refuses an unknown grade"
        db.session.remove()
        db.engine.dispose()
