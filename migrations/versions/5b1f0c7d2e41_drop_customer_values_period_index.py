"""drop the index on customer_values.period

Its last reader, the start page's revenue of the latest twelve months, reads
the series blocks now; what still filters customer_values by period alone are
the reference queries of the tests and benchmarks, which scan anyway (a window
is most of the table). Keeping it up to date was about a third of inserting a
large import's values on SQLite (bench/bench_import.py).

Revision ID: 5b1f0c7d2e41
Revises: c954670999b2
Create Date: 2026-12-01 16:05:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5b1f0c7d2e41'
down_revision = 'c954670999b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customer_values', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_values_period'))


def downgrade():
    with op.batch_alter_table('customer_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_values_period'), ['period'], unique=False)
