"""figure_cache: computed figures (JSON) kept between requests, e.g. the after-sales tables per
state of the outcomes; the observations' (audit, metric, status) index carries the customer, so
quota counts and a finding's observed customers are index-only (issue 20)

Revision ID: g20c01c0ffee
Revises: g20b01c0ffee
Create Date: 2026-12-05 00:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "g20c01c0ffee"
down_revision = "g20b01c0ffee"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "figure_cache",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_figure_cache")),
    )
    with op.batch_alter_table("figure_cache", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_figure_cache_scope"), ["scope"], unique=False)
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_index("ix_observations_audit_metric_status")
        batch_op.create_index("ix_observations_audit_metric_status",
                              ["audit_id", "metric_id", "customer_status", "customer_id"], unique=False)


def downgrade():
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_index("ix_observations_audit_metric_status")
        batch_op.create_index("ix_observations_audit_metric_status", ["audit_id", "metric_id", "customer_status"],
                              unique=False)
    with op.batch_alter_table("figure_cache", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_figure_cache_scope"))
    op.drop_table("figure_cache")
