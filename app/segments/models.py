"""Customers with their per-period values and series blocks, segmentation runs with
every customer's classes and deciding figures, the customer/patient checklist, and the
log of customer-value imports."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.segments.counts import COUNT_TABLE
from app.segments.counts import DDL as COUNT_DDL
from app.segments.counts import DROP as COUNT_DROP
from app.segments.search import POSTGRESQL_SEARCH_DDL, SQLITE_SEARCH_DDL, SQLITE_SEARCH_DROP, SQLITE_SEARCH_TABLE
from app.segments.search import search_key as folded_key
from app.web.models import utcnow


def _search_key_default(context) -> str:
    """The search key of a row inserted without the ORM (e.g. ``insert(Customer)`` with many rows)."""
    row = context.get_current_parameters()
    return folded_key(row.get("customer_no"), row.get("name"))


class Customer(db.Model):
    __tablename__ = "customers"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # The customer number from the ERP/CRM: text, leading zeros matter.
    customer_no: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True, index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    customer_since: so.Mapped[dt.date | None] = so.mapped_column(sa.Date)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    # Number and name folded for the search (app.segments.search): set by the ORM below, by
    # the default for Core inserts, and by the import's bulk writes.
    search_key: so.Mapped[str] = so.mapped_column(sa.String(600), default=_search_key_default, server_default="")

    # The customer list sorted by name reads a page along this index.
    __table_args__ = (sa.Index("ix_customers_name_customer_no", "name", "customer_no"),)

    values: so.Mapped[list[CustomerValue]] = so.relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerValue.period"
    )

    @so.validates("customer_no", "name")
    def _fold_for_search(self, key: str, value):
        number = value if key == "customer_no" else self.customer_no
        name = value if key == "name" else self.name
        self.search_key = folded_key(number, name)
        return value

    def __repr__(self) -> str:
        return f"<Customer {self.customer_no}>"


# The search's trigram index (app.segments.search): not a model of its own, made with the table
# (and by migration f20a01c0ffee); Alembic's comparison leaves these names alone (app.models).
SEARCH_INDEX_OBJECTS = frozenset({
    "ix_customers_search_key_trgm", SQLITE_SEARCH_TABLE, COUNT_TABLE,
    *(f"{SQLITE_SEARCH_TABLE}_{shadow}" for shadow in ("data", "idx", "docsize", "config", "content")),
})
for _statement in SQLITE_SEARCH_DDL:
    sa.event.listen(Customer.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="sqlite"))
sa.event.listen(Customer.__table__, "before_drop", sa.DDL(SQLITE_SEARCH_DROP).execute_if(dialect="sqlite"))
for _statement in POSTGRESQL_SEARCH_DDL:
    sa.event.listen(Customer.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="postgresql"))
# The kept customer count (app.segments.counts): a table and triggers beside the customers, made with them.
for _dialect, _statements in COUNT_DDL.items():
    for _statement in _statements:
        sa.event.listen(Customer.__table__, "after_create", sa.DDL(_statement).execute_if(dialect=_dialect))
for _dialect, _statements in COUNT_DROP.items():
    for _statement in _statements:
        sa.event.listen(Customer.__table__, "before_drop", sa.DDL(_statement).execute_if(dialect=_dialect))


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


class SegmentationRun(db.Model):
    """One segmentation of all customers over a window of periods."""

    __tablename__ = "segmentation_runs"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # The parameters as given (thresholds, split values, value basis) — enough to repeat the run.
    parameters: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    window_start: so.Mapped[str] = so.mapped_column(sa.String(7))
    window_end: so.Mapped[str] = so.mapped_column(sa.String(7))
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow, index=True)
    # running -> done | failed
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="running")
    # Counts per class, cross-subsidy, medians used as split values, totals.
    summary: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    n_customers: so.Mapped[int] = so.mapped_column(default=0)

    created_by = so.relationship("User")

    def __repr__(self) -> str:
        return f"<SegmentationRun {self.id} {self.window_start}–{self.window_end}>"


LIST_SORT_COLUMNS = ("abc_class", "revenue", "contribution", "untapped", "potential_segment", "profit_tier",
                     "trajectory")


class CustomerSegment(db.Model):
    """A customer's classes in one run, with the figures that decided them."""

    __tablename__ = "customer_segments"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    run_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("segmentation_runs.id", ondelete="CASCADE"))
    customer_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    abc_class: so.Mapped[str | None] = so.mapped_column(sa.String(1))
    potential_segment: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    profit_tier: so.Mapped[str | None] = so.mapped_column(sa.String(1))
    trajectory: so.Mapped[str | None] = so.mapped_column(sa.String(12))
    burr: so.Mapped[bool] = so.mapped_column(default=False)

    # ABC
    revenue: so.Mapped[float | None] = so.mapped_column(sa.Float)
    rank: so.Mapped[int | None]
    revenue_share: so.Mapped[float | None] = so.mapped_column(sa.Float)
    cum_share_before: so.Mapped[float | None] = so.mapped_column(sa.Float)
    # potential matrix
    untapped: so.Mapped[float | None] = so.mapped_column(sa.Float)
    potential_rating: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger)
    # profit tiers
    contribution: so.Mapped[float | None] = so.mapped_column(sa.Float)
    margin: so.Mapped[float | None] = so.mapped_column(sa.Float)
    tier_rank: so.Mapped[int | None]
    tier_cum_share_before: so.Mapped[float | None] = so.mapped_column(sa.Float)
    # trajectory
    n_periods: so.Mapped[int | None]
    slope: so.Mapped[float | None] = so.mapped_column(sa.Float)
    slope_rel: so.Mapped[float | None] = so.mapped_column(sa.Float)
    p_value: so.Mapped[float | None] = so.mapped_column(sa.Float)
    peak_index: so.Mapped[int | None]
    peak_ratio_start: so.Mapped[float | None] = so.mapped_column(sa.Float)
    peak_ratio_end: so.Mapped[float | None] = so.mapped_column(sa.Float)
    seasonal_acf: so.Mapped[float | None] = so.mapped_column(sa.Float)
    cycle_strength: so.Mapped[float | None] = so.mapped_column(sa.Float)
    trajectory_reason: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    # burr
    tenure_years: so.Mapped[float | None] = so.mapped_column(sa.Float)

    run: so.Mapped[SegmentationRun] = so.relationship()
    customer = so.relationship("Customer")

    __table_args__ = (
        sa.UniqueConstraint("run_id", "customer_id", name="uq_customer_segments_run_customer"),
        # One per sort the customer list offers on a run's column: the list reads a page along it,
        # the customer (the tie-break) included, so a page after a cursor is one index range.
        *(sa.Index(f"ix_customer_segments_run_{column}", "run_id", column, "customer_id")
          for column in LIST_SORT_COLUMNS),
    )


class ChecklistEntry(db.Model):
    """One dated customer-vs-"patient" assessment of a customer by an account manager."""

    __tablename__ = "checklist_entries"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    customer_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    # trait key -> ticked (bool)
    answers: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    score: so.Mapped[float | None] = so.mapped_column(sa.Float)
    patient_class: so.Mapped[str] = so.mapped_column(sa.String(10))
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")

    created_by = so.relationship("User")


class ImportLog(db.Model):
    """Who imported which file or API batch when, and what it changed (``kind``: customer_values or
    aftersales)."""

    __tablename__ = "import_logs"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(20), default="customer_values")
    filename: so.Mapped[str] = so.mapped_column(sa.String(255))
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    rows: so.Mapped[int] = so.mapped_column(default=0)
    customers_new: so.Mapped[int] = so.mapped_column(default=0)
    customers_updated: so.Mapped[int] = so.mapped_column(default=0)
    values_new: so.Mapped[int] = so.mapped_column(default=0)
    values_changed: so.Mapped[int] = so.mapped_column(default=0)
    first_period: so.Mapped[str | None] = so.mapped_column(sa.String(7))
    last_period: so.Mapped[str | None] = so.mapped_column(sa.String(7))
    # A batch of the HTTP API: the sender's id, unique per kind (sha256 is then the batch's content).
    external_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))

    __table_args__ = (sa.UniqueConstraint("kind", "external_id", name="uq_import_logs_kind_external_id"),)
