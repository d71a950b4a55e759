"""jobs: a heartbeat (a job whose process died is marked failed), an error code, the
job's language and the page it was started from

Revision ID: d13a01c0ffee
Revises: 5b1f0c7d2e41
Create Date: 2026-12-04 17:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd13a01c0ffee'
down_revision = '5b1f0c7d2e41'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_code', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('lang', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('return_to', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_jobs_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_status'))
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('return_to')
        batch_op.drop_column('lang')
        batch_op.drop_column('error_code')
