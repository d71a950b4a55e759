"""A trigram index for the customer search (pg_trgm GIN on PostgreSQL, an FTS5 trigram table
kept by triggers on SQLite); indexes that serve the start page's observation counts

Revision ID: f20a01c0ffee
Revises: f17a01c0ffee
Create Date: 2026-12-04 20:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f20a01c0ffee"
down_revision = "f17a01c0ffee"
branch_labels = None
depends_on = None

# As app.segments.search has them today (a migration keeps its own copy).
SQLITE_SEARCH_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS customers_search USING fts5(search_key, content='customers', "
    "content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS customers_search_insert AFTER INSERT ON customers BEGIN "
    "INSERT INTO customers_search (rowid, search_key) VALUES (new.id, new.search_key); END",
    "CREATE TRIGGER IF NOT EXISTS customers_search_delete AFTER DELETE ON customers BEGIN "
    "INSERT INTO customers_search (customers_search, rowid, search_key) VALUES ('delete', old.id, old.search_key); "
    "END",
    "CREATE TRIGGER IF NOT EXISTS customers_search_update AFTER UPDATE OF id, search_key ON customers BEGIN "
    "INSERT INTO customers_search (customers_search, rowid, search_key) VALUES ('delete', old.id, old.search_key); "
    "INSERT INTO customers_search (rowid, search_key) VALUES (new.id, new.search_key); END",
    "INSERT INTO customers_search (customers_search) VALUES ('rebuild')",
)
POSTGRESQL_SEARCH_DDL = (
    "DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm; "
    "EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'pg_trgm unavailable: the customer search reads the table'; END $$",
    "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN "
    "CREATE INDEX IF NOT EXISTS ix_customers_search_key_trgm ON customers USING gin (search_key gin_trgm_ops); "
    "END IF; END $$",
)


# The customer list's sorts on a run's column: (run, key) became (run, key, customer), the
# keyset pages' tie-break, so a page after a cursor is one index range.
LIST_SORT_COLUMNS = ("abc_class", "revenue", "contribution", "untapped", "potential_segment", "profit_tier",
                     "trajectory")


def _old_name(column: str) -> str:
    return "ix_customer_segments_run_abc" if column == "abc_class" else f"ix_customer_segments_run_{column}"


def upgrade():
    op.create_table(
        "job_files",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("mimetype", sa.String(length=100), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_job_files_job_id_jobs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_files")),
    )
    with op.batch_alter_table("job_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_files_created_at"), ["created_at"], unique=False)
    for column in LIST_SORT_COLUMNS:
        op.drop_index(_old_name(column), table_name="customer_segments")
        op.create_index(f"ix_customer_segments_run_{column}", "customer_segments", ["run_id", column, "customer_id"],
                        unique=False)
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_SEARCH_DDL, "postgresql": POSTGRESQL_SEARCH_DDL}.get(dialect, ()):
        op.execute(sa.text(statement))
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.create_index("ix_observations_audit_metric_status", ["audit_id", "metric_id", "customer_status"],
                              unique=False)
        batch_op.create_index("ix_observations_audit_created", ["audit_id", "created_at"], unique=False)
        batch_op.drop_index("ix_observations_audit_metric")  # the one above begins with its columns


def downgrade():
    for column in LIST_SORT_COLUMNS:
        op.drop_index(f"ix_customer_segments_run_{column}", table_name="customer_segments")
        op.create_index(_old_name(column), "customer_segments", ["run_id", column], unique=False)
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.create_index("ix_observations_audit_metric", ["audit_id", "metric_id"], unique=False)
        batch_op.drop_index("ix_observations_audit_created")
        batch_op.drop_index("ix_observations_audit_metric_status")
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(sa.text(f"DROP TRIGGER IF EXISTS customers_search_{name}"))
        op.execute(sa.text("DROP TABLE IF EXISTS customers_search"))
    elif dialect == "postgresql":
        op.execute(sa.text("DROP INDEX IF EXISTS ix_customers_search_key_trgm"))
    with op.batch_alter_table("job_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_files_created_at"))
    op.drop_table("job_files")
