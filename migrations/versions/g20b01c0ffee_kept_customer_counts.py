"""The kept customer count (a table kept by triggers on customers) and each run's counts per
combination of classes in its summary (issue 20: no count over a million rows per request)

Revision ID: g20b01c0ffee
Revises: f20a01c0ffee
Create Date: 2026-12-04 23:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "g20b01c0ffee"
down_revision = "f20a01c0ffee"
branch_labels = None
depends_on = None

# As app.segments.counts has them today (a migration keeps its own copy).
POSTGRESQL_COUNT_DDL = (
    "CREATE TABLE IF NOT EXISTS customer_count (n bigint NOT NULL)",
    "CREATE OR REPLACE FUNCTION customer_count_add() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO customer_count (n) SELECT count(*) FROM customer_count_new HAVING count(*) > 0; "
    "RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION customer_count_remove() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO customer_count (n) SELECT -count(*) FROM customer_count_old HAVING count(*) > 0; "
    "RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION customer_count_clear() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "DELETE FROM customer_count; RETURN NULL; END $$",
    "DROP TRIGGER IF EXISTS customer_count_insert ON customers",
    "CREATE TRIGGER customer_count_insert AFTER INSERT ON customers REFERENCING NEW TABLE AS customer_count_new "
    "FOR EACH STATEMENT EXECUTE FUNCTION customer_count_add()",
    "DROP TRIGGER IF EXISTS customer_count_delete ON customers",
    "CREATE TRIGGER customer_count_delete AFTER DELETE ON customers REFERENCING OLD TABLE AS customer_count_old "
    "FOR EACH STATEMENT EXECUTE FUNCTION customer_count_remove()",
    "DROP TRIGGER IF EXISTS customer_count_truncate ON customers",
    "CREATE TRIGGER customer_count_truncate AFTER TRUNCATE ON customers "
    "FOR EACH STATEMENT EXECUTE FUNCTION customer_count_clear()",
    "DELETE FROM customer_count",
    "INSERT INTO customer_count (n) SELECT count(*) FROM customers",
)
POSTGRESQL_COUNT_DROP = (
    "DROP TRIGGER IF EXISTS customer_count_insert ON customers",
    "DROP TRIGGER IF EXISTS customer_count_delete ON customers",
    "DROP TRIGGER IF EXISTS customer_count_truncate ON customers",
    "DROP FUNCTION IF EXISTS customer_count_add()",
    "DROP FUNCTION IF EXISTS customer_count_remove()",
    "DROP FUNCTION IF EXISTS customer_count_clear()",
    "DROP TABLE IF EXISTS customer_count",
)
SQLITE_COUNT_DDL = (
    "CREATE TABLE IF NOT EXISTS customer_count (n INTEGER NOT NULL)",
    "CREATE TRIGGER IF NOT EXISTS customer_count_insert AFTER INSERT ON customers BEGIN "
    "UPDATE customer_count SET n = n + 1; END",
    "CREATE TRIGGER IF NOT EXISTS customer_count_delete AFTER DELETE ON customers BEGIN "
    "UPDATE customer_count SET n = n - 1; END",
    "DELETE FROM customer_count",
    "INSERT INTO customer_count (n) SELECT count(*) FROM customers",
)
SQLITE_COUNT_DROP = (
    "DROP TRIGGER IF EXISTS customer_count_insert",
    "DROP TRIGGER IF EXISTS customer_count_delete",
    "DROP TABLE IF EXISTS customer_count",
)
COMBINATION_COLUMNS = ("abc_class", "potential_segment", "profit_tier", "trajectory", "burr")

runs = sa.table("segmentation_runs", sa.column("id", sa.Integer), sa.column("summary", sa.JSON))
segments = sa.table("customer_segments", sa.column("run_id", sa.Integer),
                    *(sa.column(name, sa.Boolean if name == "burr" else sa.String) for name in COMBINATION_COLUMNS))


def upgrade():
    conn = op.get_bind()
    for statement in {"sqlite": SQLITE_COUNT_DDL, "postgresql": POSTGRESQL_COUNT_DDL}.get(conn.dialect.name, ()):
        op.execute(sa.text(statement))
    # the runs already stored: their combinations counted once from their rows
    columns = [segments.c[name] for name in COMBINATION_COLUMNS]
    for run_id, summary in conn.execute(sa.select(runs.c.id, runs.c.summary)).all():
        rows = conn.execute(sa.select(*columns, sa.func.count()).where(segments.c.run_id == run_id)
                            .group_by(*columns)).all()
        kept = [[*row[:-2], None if row[-2] is None else bool(row[-2]), int(row[-1])] for row in rows]
        conn.execute(runs.update().where(runs.c.id == run_id).values(summary={**(summary or {}), "combinations": kept}))


def downgrade():
    conn = op.get_bind()
    for statement in {"sqlite": SQLITE_COUNT_DROP, "postgresql": POSTGRESQL_COUNT_DROP}.get(conn.dialect.name, ()):
        op.execute(sa.text(statement))
    for run_id, summary in conn.execute(sa.select(runs.c.id, runs.c.summary)).all():
        if summary and "combinations" in summary:
            conn.execute(runs.update().where(runs.c.id == run_id).values(
                summary={key: value for key, value in summary.items() if key != "combinations"}))
