"""customers.search_key: number and name folded for a search that ignores case and accents

Filled here for the customers already stored, by the same folding as the app
(copied, so that this migration keeps doing what it did when the app's rule moves on).

Revision ID: d16a01c0ffee
Revises: d13a02c0ffee
Create Date: 2026-12-04 17:30:00.000000

"""
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd16a01c0ffee'
down_revision = "d13a02c0ffee"
branch_labels = None
depends_on = None

_LETTERS = str.maketrans({"ß": "ss", "ẞ": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ı": "i"})
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_WRITTEN_UMLAUT = re.compile(r"(?<![aeiouqy])([aou])e")
_BATCH = 5000


def _fold(text):
    if not text:
        return ""
    text = str(text)
    if text.isascii():
        plain = text.lower()
    else:
        plain = _MARKS.sub("", unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS)))
    return " ".join(_WRITTEN_UMLAUT.sub(r"\1", plain).split())


def upgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_key', sa.String(length=600), server_default='', nullable=False))
    connection = op.get_bind()
    customers = sa.table('customers', sa.column('id', sa.Integer), sa.column('customer_no', sa.String),
                         sa.column('name', sa.String), sa.column('search_key', sa.String))
    update = customers.update().where(customers.c.id == sa.bindparam('key')).values(
        search_key=sa.bindparam('folded'))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(customers.c.id, customers.c.customer_no, customers.c.name)
            .where(customers.c.id > last).order_by(customers.c.id).limit(_BATCH)).all()
        if not rows:
            break
        connection.execute(update, [{"key": row.id, "folded": f"{_fold(row.customer_no)} {_fold(row.name)}".strip()}
                                    for row in rows])
        last = rows[-1].id


def downgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('search_key')
