"""import_logs.external_id: the HTTP API's batches of customer values and after-sales outcomes,
idempotent by the sender's id (unique per kind)

Revision ID: f19a01c0ffee
Revises: e20a01c0ffee
Create Date: 2026-12-04 20:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f19a01c0ffee"
down_revision = "e20a01c0ffee"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("import_logs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_import_logs_kind_external_id", ["kind", "external_id"])


def downgrade():
    with op.batch_alter_table("import_logs", schema=None) as batch_op:
        batch_op.drop_constraint("uq_import_logs_kind_external_id", type_="unique")
        batch_op.drop_column("external_id")
