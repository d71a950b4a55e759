"""Accounts, customers with their per-period values, and the touchpoint catalog."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from app.extensions import db

ROLES = ("admin", "manager", "service", "leadership")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True, index=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    role: so.Mapped[str] = so.mapped_column(sa.String(20))
    locale: so.Mapped[str | None] = so.mapped_column(sa.String(5))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    # Bumped on password reset or deactivation: invalidates existing sessions.
    session_version: so.Mapped[int] = so.mapped_column(default=1)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "role IN ('admin', 'manager', 'service', 'leadership')", name="role_known"
        ),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.username} ({self.role})>"


class Customer(db.Model):
    __tablename__ = "customers"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # The customer number from the ERP/CRM: text, leading zeros matter.
    customer_no: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True, index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    customer_since: so.Mapped[dt.date | None] = so.mapped_column(sa.Date)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    values: so.Mapped[list[CustomerValue]] = so.relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerValue.period"
    )

    def __repr__(self) -> str:
        return f"<Customer {self.customer_no}>"


class CustomerValue(db.Model):
    """One customer's figures for one period (`2024-03` or `2024-Q1`)."""

    __tablename__ = "customer_values"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # No index of its own: the unique (customer_id, period) index serves lookups by customer.
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    # No index either: windows are read from the series blocks, and keeping one up to date
    # cost a third of an import's insert on SQLite.
    period: so.Mapped[str] = so.mapped_column(sa.String(7))
    revenue: so.Mapped[float] = so.mapped_column(sa.Float)
    cost_to_serve: so.Mapped[float | None] = so.mapped_column(sa.Float)
    contribution: so.Mapped[float | None] = so.mapped_column(sa.Float)
    potential: so.Mapped[float | None] = so.mapped_column(sa.Float)
    potential_rating: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger)

    customer: so.Mapped[Customer] = so.relationship(back_populates="values")

    __table_args__ = (sa.UniqueConstraint("customer_id", "period", name="uq_customer_values_customer_period"),)


class SeriesBlock(db.Model):
    """The values of a block of customers as arrays: derived from customer_values.

    A segmentation run reads these few rows instead of every stored value (see
    ``app.customer_series``). Block ``b`` holds the customers with ids
    ``b × BLOCK_SIZE`` … ``(b + 1) × BLOCK_SIZE − 1`` that have values of one
    kind of period (``M`` months, ``Q`` quarters): their ids in
    ``customer_ids`` (int64, ascending) and per figure a customers × periods
    matrix over ``first_ordinal`` … ``last_ordinal`` (ordinals: year × 12 +
    month − 1, or year × 4 + quarter − 1), row-major little-endian float64,
    NaN where a customer has no value. ``contribution`` is the given one, else
    revenue − cost. Optional figures are NULL when no customer of the block
    has them.
    """

    __tablename__ = "series_blocks"

    block: so.Mapped[int] = so.mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    kind: so.Mapped[str] = so.mapped_column(sa.String(1), primary_key=True)
    first_ordinal: so.Mapped[int] = so.mapped_column(sa.Integer)
    last_ordinal: so.Mapped[int] = so.mapped_column(sa.Integer)
    customers: so.Mapped[int] = so.mapped_column(sa.Integer)
    customer_ids: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
    revenue: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
    contribution: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
    cost_to_serve: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary)
    potential: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary)
    potential_rating: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary)

    __table_args__ = (
        sa.CheckConstraint("kind IN ('M', 'Q')", name="kind_known"),
        sa.CheckConstraint("last_ordinal >= first_ordinal", name="range_ordered"),
    )


# PostgreSQL would try to compress every array (TOAST) and decompress it on each read:
# measured on 200,000 customers, a window read took 1.1 s compressed and 0.6 s stored plain.
SERIES_STORAGE = [
    f"ALTER TABLE series_blocks ALTER COLUMN {column} SET STORAGE EXTERNAL"
    for column in ("customer_ids", "revenue", "contribution", "cost_to_serve", "potential", "potential_rating")
]
for _statement in SERIES_STORAGE:
    sa.event.listen(SeriesBlock.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="postgresql"))


class Touchpoint(db.Model):
    __tablename__ = "touchpoints"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    name_de: so.Mapped[str] = so.mapped_column(sa.String(120))
    name_en: so.Mapped[str] = so.mapped_column(sa.String(120))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    position: so.Mapped[int] = so.mapped_column(default=0)
    active: so.Mapped[bool] = so.mapped_column(default=True)

    metrics: so.Mapped[list[Metric]] = so.relationship(
        back_populates="touchpoint", cascade="all, delete-orphan", order_by="Metric.position"
    )

    def name(self, locale: str) -> str:
        return self.name_de if locale == "de" else self.name_en


class Metric(db.Model):
    """What is measured at a touchpoint, with its unit and which direction is better."""

    __tablename__ = "metrics"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    touchpoint_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("touchpoints.id", ondelete="CASCADE"), index=True
    )
    key: so.Mapped[str] = so.mapped_column(sa.String(64))
    name_de: so.Mapped[str] = so.mapped_column(sa.String(120))
    name_en: so.Mapped[str] = so.mapped_column(sa.String(120))
    # eur, seconds, hours, rating, percent, boolean
    unit: so.Mapped[str] = so.mapped_column(sa.String(16))
    # 'lower' = a lower value is better for the customer (price, wait).
    direction: so.Mapped[str] = so.mapped_column(sa.String(6))
    min_value: so.Mapped[float | None] = so.mapped_column(sa.Float)
    max_value: so.Mapped[float | None] = so.mapped_column(sa.Float)
    is_price: so.Mapped[bool] = so.mapped_column(default=False)
    needs_product_key: so.Mapped[bool] = so.mapped_column(default=False)
    position: so.Mapped[int] = so.mapped_column(default=0)

    touchpoint: so.Mapped[Touchpoint] = so.relationship(back_populates="metrics")

    __table_args__ = (
        sa.UniqueConstraint("touchpoint_id", "key", name="uq_metrics_touchpoint_key"),
        sa.CheckConstraint("direction IN ('lower', 'higher')", name="direction_known"),
    )

    def name(self, locale: str) -> str:
        return self.name_de if locale == "de" else self.name_en
