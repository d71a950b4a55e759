"""channel vocabulary

The company's channels (phone, e-mail, online, branch, field sales, chat) with their
German and English names and the other words people use for them; observations keep
storing the channel's key. The defaults are added here and by `flask touchpoints seed`.

Revision ID: e16a01c0ffee
Revises: e14a01c0ffee
Create Date: 2026-12-04 18:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e16a01c0ffee'
down_revision = 'e14a01c0ffee'
branch_labels = None
depends_on = None

# the defaults as they were when this migration was written (app code may change later)
DEFAULTS = [
    ("phone", "Phone", "Telefon", ["Tel.", "Hotline", "Anruf", "Telephone", "Call", "Callcenter"]),
    ("email", "E-mail", "E-Mail", ["Mail", "Brief per Mail"]),
    ("online", "Online", "Online", ["Web", "Internet", "Website", "Webseite", "Onlineshop", "Portal", "App"]),
    ("branch", "Branch", "Filiale", ["Geschäftsstelle", "Niederlassung", "Store", "Laden"]),
    ("field", "Field sales", "Außendienst", ["Aussendienst", "Vor Ort", "On site", "Field"]),
    ("chat", "Chat", "Chat", ["Live-Chat", "Messenger", "WhatsApp"]),
]


def upgrade():
    channels = op.create_table(
        'channels',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=32), nullable=False),
        sa.Column('name_de', sa.String(length=80), nullable=False),
        sa.Column('name_en', sa.String(length=80), nullable=False),
        sa.Column('aliases', sa.Text(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_channels')),
        sa.UniqueConstraint('key', name=op.f('uq_channels_key')),
    )
    op.bulk_insert(channels, [
        {"key": key, "name_en": name_en, "name_de": name_de, "aliases": "\n".join(aliases), "position": position,
         "active": True}
        for position, (key, name_en, name_de, aliases) in enumerate(DEFAULTS)
    ])


def downgrade():
    op.drop_table('channels')
