"""finding activity log, owner reminders, users.email

The activity log records who changed a finding's status, owner or due date, when,
from what to what. A reminder row per finding, kind ('assigned', 'due') and day makes
`flask findings remind` idempotent. Users get an optional e-mail address for reminders.

Revision ID: d15a01c0ffee
Revises: d13a03c0ffee
Create Date: 2026-12-04 17:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd15a01c0ffee'
down_revision = 'd13a03c0ffee'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'finding_activity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('finding_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('field', sa.String(length=16), nullable=False),
        sa.Column('old_value', sa.String(length=64), nullable=True),
        sa.Column('new_value', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("field IN ('status', 'owner', 'due_date')", name=op.f('ck_finding_activity_field_known')),
        sa.ForeignKeyConstraint(['finding_id'], ['findings.id'], name=op.f('fk_finding_activity_finding_id_findings'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_finding_activity_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_finding_activity')),
    )
    with op.batch_alter_table('finding_activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_activity_finding_id'), ['finding_id'], unique=False)
    op.create_table(
        'finding_reminders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('finding_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('assigned', 'due')", name=op.f('ck_finding_reminders_kind_known')),
        sa.ForeignKeyConstraint(['finding_id'], ['findings.id'], name=op.f('fk_finding_reminders_finding_id_findings'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_finding_reminders_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_finding_reminders')),
        sa.UniqueConstraint('finding_id', 'kind', 'day', name='uq_finding_reminders_finding_kind_day'),
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email')
    op.drop_table('finding_reminders')
    with op.batch_alter_table('finding_activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_activity_finding_id'))
    op.drop_table('finding_activity')
