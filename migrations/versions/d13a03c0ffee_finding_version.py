"""findings carry a version and who changed them last

An edit of a finding's action (status, owner, due date, recommended action) is
saved only on the version it was opened on, so a stale form cannot silently
overwrite a newer change; the refusal names who made that change.

Revision ID: d13a03c0ffee
Revises: d16a01c0ffee
Create Date: 2026-12-04 17:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd13a03c0ffee'
down_revision = 'd16a01c0ffee'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('updated_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_findings_updated_by_id_users'), 'users', ['updated_by_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_findings_updated_by_id_users'), type_='foreignkey')
        batch_op.drop_column('updated_by_id')
        batch_op.drop_column('version')
