"""observation evidence (photos and files in the database), evidence grade of an observation,
the comparisons by grade of an analysis

Observations typed in are graded "observed"; those that came from a file import or the HTTP
API (they carry an import fingerprint or an external id) are "system" records.

Revision ID: f17b01c0ffee
Revises: f19a01c0ffee
Create Date: 2026-12-04 20:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f17b01c0ffee"
down_revision = "f19a01c0ffee"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evidence_grade", sa.String(length=14), server_default="observed",
                                      nullable=False))
        batch_op.create_check_constraint(
            op.f("ck_observations_evidence_grade_known"), "evidence_grade IN ('observed', 'system', 'self_reported')")
    op.execute("UPDATE observations SET evidence_grade = 'system' "
               "WHERE import_fingerprint IS NOT NULL OR external_id IS NOT NULL")
    op.create_table(
        "observation_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("thumbnail", sa.LargeBinary(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["observation_id"], ["observations.id"],
                                name=op.f("fk_observation_evidence_observation_id_observations"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_observation_evidence_created_by_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation_evidence")),
    )
    with op.batch_alter_table("observation_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_observation_evidence_observation_id"), ["observation_id"], unique=False)
    with op.batch_alter_table("analysis_snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("by_grade", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("analysis_snapshots", schema=None) as batch_op:
        batch_op.drop_column("by_grade")
    with op.batch_alter_table("observation_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observation_evidence_observation_id"))
    op.drop_table("observation_evidence")
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_observations_evidence_grade_known"), type_="check")
        batch_op.drop_column("evidence_grade")
