"""observations.client_id and client_digest: entries logged on the log page (also offline)
carry an id made on the device, unique per audit, so sending one again stores it once

Revision ID: f17a01c0ffee
Revises: f17c01c0ffee
Create Date: 2026-12-04 20:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f17a01c0ffee"
down_revision = "f17c01c0ffee"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("client_digest", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_observations_audit_client_id", ["audit_id", "client_id"])


def downgrade():
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_constraint("uq_observations_audit_client_id", type_="unique")
        batch_op.drop_column("client_digest")
        batch_op.drop_column("client_id")
