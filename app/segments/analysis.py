"""What other areas read of the segmentation: the customers of a run with their classes,
filtered, searched and sorted as the customer list does it, and each customer's reasons.

The customer list (``customers.py``), its export and the HTTP API (``app/api``) all ask here,
so a filter, the search or the money rule for service staff has one owner."""
from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.segments.kinds import BY_KEY
from app.segments.models import Customer, CustomerSegment, SegmentationRun
from app.segments.runs import explain, latest_run
from app.segments.search import fold
from app.web.security import has_role

__all__ = ["FILTERS", "SORTS", "Listing", "customer_listing", "explain", "latest_run", "may_see_money"]

# query parameter -> (CustomerSegment column, its classes)
FILTERS = {
    name: (BY_KEY[kind].column, BY_KEY[kind].values)
    for name, kind in (("abc", "abc"), ("segment", "potential"), ("tier", "tier"), ("trajectory", "trajectory"))
}
# sort key -> (column, needs money rights)
SORTS = {
    "customer_no": (Customer.customer_no, False), "name": (Customer.name, False),
    "abc": (CustomerSegment.abc_class, False), "segment": (CustomerSegment.potential_segment, False),
    "tier": (CustomerSegment.profit_tier, False), "trajectory": (CustomerSegment.trajectory, False),
    "revenue": (CustomerSegment.revenue, True), "contribution": (CustomerSegment.contribution, True),
    "untapped": (CustomerSegment.untapped, True),
}


@dataclass
class Listing:
    """The customers a list request asks for: its query (sorted), the run it shows and its settings."""

    query: sa.Select
    run: SegmentationRun | None
    active: dict
    q: str
    sort: str
    direction: str
    show_money: bool
    # The same rows as ``query`` up to where the sort key is empty (None: no such shortcut).
    ranked: sa.Select | None = None
    column: sa.ColumnElement | None = None  # the sort key
    counted: sa.Select | None = None  # a cheaper count of the same rows, where there is one
    limited_by: object | None = None  # the record ``limited_to`` came from (e.g. a finding), for the page

    def total(self) -> int:
        """How many customers the list holds."""
        counting = self.counted if self.counted is not None else sa.select(sa.func.count()).select_from(
            self.query.order_by(None).subquery())
        return db.session.scalar(counting) or 0

    def _seekable(self) -> sa.Select | None:
        """The query a page can be sought in by its sort key (a key that is never empty)."""
        if self.ranked is not None:
            return self.ranked
        return self.query if self.column is not None and self.column.class_ is Customer else None

    def after(self, row) -> dict:
        """Arguments that let the next page start right after ``row`` (a seek, not an offset)."""
        customer, segment = row
        source = customer if self.column.class_ is Customer else segment
        value = None if source is None else getattr(source, self.column.key)
        if value is None or self._seekable() is None:
            return {}
        return {"after": repr(float(value)) if isinstance(value, float) else str(value),
                "after_no": customer.customer_no}

    def _beyond(self, args) -> sa.ColumnElement | None:
        value, number = args.get("after"), args.get("after_no")
        if value is None or number is None or len(value) > 600 or len(number) > 64:
            return None
        if isinstance(self.column.type, sa.Float):
            try:
                value = float(value)
            except ValueError:
                return None
            if not math.isfinite(value):
                return None
        beyond = self.column < value if self.direction == "desc" else self.column > value
        return sa.or_(beyond, sa.and_(self.column == value, Customer.customer_no > number))

    def page(self, number: int, size: int, args=None) -> list:
        """The rows of page ``number`` (from 1) of ``query``; ``args`` with ``after``/``after_no``
        (from :meth:`after` of the previous page's last row) seek instead of skipping rows."""
        offset = (number - 1) * size
        seekable = self._seekable()
        if seekable is not None:
            beyond = self._beyond(args or {}) if number > 1 else None
            page = seekable.where(beyond) if beyond is not None else seekable.offset(offset)
            rows = db.session.execute(page.limit(size)).all()
            # a full page before the empty keys is the whole query's page; so is any page by customer
            if len(rows) == size or seekable is self.query:
                return rows
        return db.session.execute(self.query.limit(size).offset(offset)).all()

    @property
    def params(self) -> dict:
        """The request arguments that reproduce this list (for pages, sort links and the export)."""
        return {**self.active, **({"q": self.q} if self.q else {}), "sort": self.sort, "dir": self.direction}


def may_see_money() -> bool:
    """Revenue, contribution and potential are for managers and leadership; service staff see classes only."""
    return has_role("manager", "leadership")


def customer_listing(args, run: SegmentationRun | None = None,
                     limited_to: tuple[str, str, sa.ColumnElement] | None = None) -> Listing:
    """The filtered, searched and sorted customers of ``run`` (default: the latest), as the list,
    its export and the HTTP API show them. ``limited_to`` = (argument, value, condition on
    ``Customer``/``CustomerSegment``) narrows the list further, e.g. to a finding's penalised customers."""
    show_money = may_see_money()
    run = run if run is not None else latest_run()
    query = sa.select(Customer, CustomerSegment)
    if run is not None:
        query = query.outerjoin(CustomerSegment, sa.and_(CustomerSegment.customer_id == Customer.id,
                                                         CustomerSegment.run_id == run.id))
    else:
        query = query.outerjoin(CustomerSegment, sa.false())
    active, classes = {}, []
    for name, (column, keys) in FILTERS.items():
        value = args.get(name, "")
        if value in keys:
            classes.append(getattr(CustomerSegment, column) == value)
            active[name] = value
    if args.get("burr") in ("1", "yes"):
        classes.append(CustomerSegment.burr.is_(True))
        active["burr"] = "1"
    query = query.where(*classes)
    if limited_to is not None:
        name, value, condition = limited_to
        query = query.where(condition)
        active[name] = value
    q = (args.get("q") or "").strip()[:100]
    term = fold(q)
    if term:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(Customer.search_key.like(pattern, escape="\\"))
    sort = args.get("sort", "revenue" if show_money else "customer_no")
    if sort not in SORTS or (SORTS[sort][1] and not show_money):
        sort = "customer_no"
    direction = "asc" if args.get("dir") == "asc" else "desc" if args.get("dir") == "desc" else (
        "desc" if SORTS[sort][1] else "asc")
    column = SORTS[sort][0]
    order = column.desc() if direction == "desc" else column.asc()
    ranked = None
    if run is not None and column.class_ is CustomerSegment and not term:
        # The customers whose sort key is set come first (nulls last), in the order of the
        # run's own rows: this part is read from customer_segments along an index
        # (ix_customer_segments_run_<key>) instead of sorting the join of every customer.
        # Not for a search: the few customers it finds are found first, then sorted.
        ranked = (query.where(column.is_not(None)).order_by(None)
                  .order_by(order, Customer.customer_no))
    # A customer's number and name are never empty: no NULLS LAST, so a backward index scan serves "desc".
    query = query.order_by(order if column.class_ is Customer else order.nulls_last(), Customer.customer_no)
    # How many: without a search, counted from one table (each run's row has its customer).
    # (A limited list is counted over the filtered query itself.)
    counted = None
    if not term and not classes and limited_to is None:
        counted = sa.select(sa.func.count()).select_from(Customer)
    elif not term and run is not None and limited_to is None:
        counted = sa.select(sa.func.count()).select_from(CustomerSegment).where(
            CustomerSegment.run_id == run.id, *classes)
    return Listing(query, run, active, q, sort, direction, show_money, ranked, column, counted)
