"""chart_cache: drawn charts per run or analysis, so pages do not run matplotlib on every request;
indexes for the customer list's sorts (a page is read along them)

Revision ID: e20a01c0ffee
Revises: e16a01c0ffee
Create Date: 2026-12-04 18:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e20a01c0ffee"
down_revision = 'e16a01c0ffee'
branch_labels = None
depends_on = None


LIST_SORT_COLUMNS = ("revenue", "contribution", "untapped", "potential_segment", "profit_tier", "trajectory")


def upgrade():
    for column in LIST_SORT_COLUMNS:
        op.create_index(f"ix_customer_segments_run_{column}", "customer_segments", ["run_id", column], unique=False)
    op.create_index("ix_customers_name_customer_no", "customers", ["name", "customer_no"], unique=False)
    op.create_table(
        "chart_cache",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("owner", sa.Integer(), nullable=False),
        sa.Column("svg", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_chart_cache")),
    )
    with op.batch_alter_table("chart_cache", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chart_cache_scope"), ["scope"], unique=False)


def downgrade():
    with op.batch_alter_table("chart_cache", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chart_cache_scope"))
    op.drop_table("chart_cache")
    op.drop_index("ix_customers_name_customer_no", table_name="customers")
    for column in LIST_SORT_COLUMNS:
        op.drop_index(f"ix_customer_segments_run_{column}", table_name="customer_segments")
