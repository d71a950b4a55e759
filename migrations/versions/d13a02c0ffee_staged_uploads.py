"""staged uploads live in the database

A file checked on one app server is confirmed later, possibly on another app
server or written by a background worker elsewhere: the staged bytes move from
the local instance folder into this table, with an expiry (24 hours).
Files staged in the old folder before this upgrade are not carried over; their
users upload them again.

Revision ID: d13a02c0ffee
Revises: d13a01c0ffee
Create Date: 2026-12-04 17:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd13a02c0ffee'
down_revision = "d13a01c0ffee"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staged_uploads',
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_staged_uploads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_staged_uploads'))
    )
    with op.batch_alter_table('staged_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staged_uploads_expires'), ['expires'], unique=False)
        batch_op.create_index(batch_op.f('ix_staged_uploads_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('staged_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staged_uploads_user_id'))
        batch_op.drop_index(batch_op.f('ix_staged_uploads_expires'))

    op.drop_table('staged_uploads')
