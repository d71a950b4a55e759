"""scenarios and paired test calls, repeating rounds with quotas, the paired comparisons of an analysis

Revision ID: f17c01c0ffee
Revises: f17b01c0ffee
Create Date: 2026-12-04 20:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f17c01c0ffee"
down_revision = "f17b01c0ffee"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "scenarios",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("product_key", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("script", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["audit_id"], ["audits.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["metric_id"], ["metrics.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_scenarios_audit_id", "scenarios", ["audit_id"], unique=False)
    op.create_table(
        "observation_pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("new_observation_id", sa.Integer(), nullable=False),
        sa.Column("existing_observation_id", sa.Integer(), nullable=False),
        sa.Column("form_token", sa.String(length=64), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("new_observation_id <> existing_observation_id", name="two_sides"),
        sa.ForeignKeyConstraint(["audit_id"], ["audits.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["new_observation_id"], ["observations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["existing_observation_id"], ["observations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("new_observation_id"),
        sa.UniqueConstraint("existing_observation_id"),
        sa.UniqueConstraint("audit_id", "form_token", name="uq_observation_pairs_audit_form_token"),
    )
    op.create_index("ix_observation_pairs_audit_id", "observation_pairs", ["audit_id"], unique=False)
    op.create_index("ix_observation_pairs_scenario_id", "observation_pairs", ["scenario_id"], unique=False)
    op.create_table(
        "round_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_audit_id", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.String(length=10), nullable=False),
        sa.Column("quota_observations", sa.Integer(), nullable=False),
        sa.Column("quota_pairs", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("frequency IN ('monthly', 'quarterly')", name="frequency_known"),
        sa.CheckConstraint("quota_observations >= 0 AND quota_pairs >= 0", name="quota_not_negative"),
        sa.ForeignKeyConstraint(["template_audit_id"], ["audits.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("template_audit_id"),
    )
    op.create_table(
        "scheduled_rounds",
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("quota_observations", sa.Integer(), nullable=False),
        sa.Column("quota_pairs", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["schedule_id"], ["round_schedules.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["audit_id"], ["audits.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("schedule_id", "period"),
        sa.UniqueConstraint("audit_id"),
    )
    with op.batch_alter_table("analysis_snapshots") as batch:
        batch.add_column(sa.Column("paired", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("analysis_snapshots") as batch:
        batch.drop_column("paired")
    op.drop_table("scheduled_rounds")
    op.drop_table("round_schedules")
    op.drop_index("ix_observation_pairs_scenario_id", table_name="observation_pairs")
    op.drop_index("ix_observation_pairs_audit_id", table_name="observation_pairs")
    op.drop_table("observation_pairs")
    op.drop_index("ix_scenarios_audit_id", table_name="scenarios")
    op.drop_table("scenarios")
