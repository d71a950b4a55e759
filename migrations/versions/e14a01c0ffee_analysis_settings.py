"""analysis settings: materiality per metric in the catalog, settings per audit round

Revision ID: e14a01c0ffee
Revises: e19a01c0ffee
Create Date: 2026-12-04 18:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = "e14a01c0ffee"
down_revision = "e19a01c0ffee"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("metrics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("materiality", sa.Float(), nullable=True))
    with op.batch_alter_table("audits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("settings", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("audits", schema=None) as batch_op:
        batch_op.drop_column("settings")
    with op.batch_alter_table("metrics", schema=None) as batch_op:
        batch_op.drop_column("materiality")
