"""After-sales outcomes: per customer and date, how satisfied they were with the
sale and with the after-sales service, and whether they bought again.

Satisfaction is stored *as given*: either a 1–5 score (``*_score``) or a yes/no
answer (``*_yes``), exactly one of the two per rating. Whether a score counts as
"satisfied" is decided when the table is computed, with the threshold the user
chooses (default ≥ 4), so changing the threshold never needs a re-import.
"""
from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.segments.models import Customer
from app.web.models import utcnow

DEFAULT_THRESHOLD = 4


class Outcome(db.Model):
    __tablename__ = "aftersales_outcomes"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    outcome_date: so.Mapped[dt.date] = so.mapped_column(sa.Date, index=True)
    sale_score: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger)
    sale_yes: so.Mapped[bool | None]
    after_sales_score: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger)
    after_sales_yes: so.Mapped[bool | None]
    repurchased: so.Mapped[bool]
    # "import" or "form"; the fingerprint of the imported values makes a re-import a no-op.
    source: so.Mapped[str] = so.mapped_column(sa.String(10), default="form")
    fingerprint: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    customer: so.Mapped[Customer] = so.relationship()

    __table_args__ = (
        sa.UniqueConstraint("customer_id", "outcome_date", name="uq_aftersales_outcomes_customer_date"),
        sa.CheckConstraint(
            "(sale_score IS NULL) <> (sale_yes IS NULL)", name="sale_rating_once"
        ),
        sa.CheckConstraint(
            "(after_sales_score IS NULL) <> (after_sales_yes IS NULL)", name="after_sales_rating_once"
        ),
        sa.CheckConstraint("sale_score IS NULL OR sale_score BETWEEN 1 AND 5", name="sale_score_range"),
        sa.CheckConstraint(
            "after_sales_score IS NULL OR after_sales_score BETWEEN 1 AND 5", name="after_sales_score_range"
        ),
    )

    def sale_satisfied(self, threshold: int = DEFAULT_THRESHOLD) -> bool:
        """Satisfied with the sale: the yes/no answer, or the score at the threshold."""
        return satisfied(self.sale_score, self.sale_yes, threshold)

    def after_sales_satisfied(self, threshold: int = DEFAULT_THRESHOLD) -> bool:
        """Satisfied with after-sales: the yes/no answer, or the score at the threshold."""
        return satisfied(self.after_sales_score, self.after_sales_yes, threshold)


def satisfied(score: int | None, yes: bool | None, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """A rating as yes/no: a given yes/no stays, a score counts from ``threshold`` up."""
    if yes is not None:
        return bool(yes)
    return score is not None and score >= threshold


def outcome_fingerprint(customer_no: str, date: dt.date, sale: tuple, after_sales: tuple, repurchased: bool) -> str:
    """SHA-256 of one outcome's values, so an unchanged re-import is recognised."""
    text = "|".join(str(part) for part in (customer_no, date.isoformat(), *sale, *after_sales, bool(repurchased)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
