"""The leadership report: the audit's problem-solving chain as managers describe it,
and the rendered PDFs (drafts, and the frozen ones of a published audit)."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.accounts.models import User
from app.extensions import db
from app.web.models import utcnow

# The chain of seed 002, in order: supplier → us → our customer → our customer's customer.
CHAIN_ROLES = ("supplier", "us", "customer", "customers_customer")


class ChainActor(db.Model):
    """One link of an audit's problem-solving chain ("Problemlösekette")."""

    __tablename__ = "chain_actors"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    audit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("audits.id", ondelete="CASCADE"), index=True)
    role: so.Mapped[str] = so.mapped_column(sa.String(20))
    name: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    size: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    importance: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    competitive_position: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    count: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    relationship: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    success_factors: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    known_person: so.Mapped[bool] = so.mapped_column(default=False)
    direct_contact: so.Mapped[bool] = so.mapped_column(default=False)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("audit_id", "role", name="uq_chain_actors_audit_role"),
        sa.CheckConstraint(
            "role IN ('supplier', 'us', 'customer', 'customers_customer')", name="role_known"
        ),
    )

    @property
    def is_blank(self) -> bool:
        return not any((self.name, self.size, self.importance, self.competitive_position, self.count,
                        self.relationship, self.success_factors))


class ReportDocument(db.Model):
    """A rendered PDF of an audit. ``kind='published'`` rows are written once, when the
    audit is published, and never change: downloads return exactly these bytes."""

    __tablename__ = "report_documents"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    audit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("audits.id", ondelete="CASCADE"), index=True)
    lang: so.Mapped[str] = so.mapped_column(sa.String(2))
    kind: so.Mapped[str] = so.mapped_column(sa.String(10), default="draft")
    pdf: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary, deferred=True)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    size: so.Mapped[int] = so.mapped_column(default=0)
    pages: so.Mapped[int] = so.mapped_column(default=0)
    snapshot_id: so.Mapped[int | None]
    snapshot_at: so.Mapped[dt.datetime | None]
    generated_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    generated_by: so.Mapped[User | None] = so.relationship()

    __table_args__ = (
        sa.CheckConstraint("kind IN ('draft', 'published')", name="kind_known"),
        sa.CheckConstraint("lang IN ('de', 'en')", name="lang_known"),
        sa.Index("ix_report_documents_audit_kind_lang", "audit_id", "kind", "lang"),
    )
