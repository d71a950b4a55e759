"""What other areas read of the segmentation: the customers of a run with their classes,
filtered, searched and sorted as the customer list does it, and each customer's reasons.

The customer list (``customers.py``), its export and the HTTP API (``app/api``) all ask here,
so a filter, the search or the money rule for service staff has one owner."""
from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.extensions import db
from app.segments.counts import COMBINATION_COLUMNS, customer_total, held_total
from app.segments.kinds import BY_KEY
from app.segments.models import Customer, CustomerSegment, SegmentationRun
from app.segments.runs import explain, latest_run
from app.segments.search import SQLITE_SEARCH_TABLE, fold, fts_phrase, like_pattern
from app.web.security import has_role

__all__ = ["COUNT_CAP", "FILTERS", "SORTS", "BadCursor", "Listing", "Total", "Window", "class_sizes",
           "customer_listing", "explain", "find_customers", "latest_run", "may_see_money", "run_class_listing",
           "search_filter"]
COUNT_CAP = 1000  # a search or a finding's list is counted up to this, then "more than"
MAX_CURSOR = 1000  # characters of a page link's cursor (a key of at most 600 and a customer number)

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


def search_filter(term: str) -> list[sa.ColumnElement]:
    """The conditions that find ``term`` (folded) in the customers' search keys.

    The ``LIKE`` decides; on SQLite the trigram table narrows the candidates first (PostgreSQL's
    trigram index serves the ``LIKE`` itself). See :mod:`app.segments.search`.
    """
    conditions = [Customer.search_key.like(like_pattern(term), escape="\\")]
    phrase = fts_phrase(term)
    if phrase is not None and db.session.get_bind().dialect.name == "sqlite":
        found = sa.select(sa.column("rowid")).select_from(sa.table(SQLITE_SEARCH_TABLE)).where(
            sa.text(f"{SQLITE_SEARCH_TABLE} MATCH :phrase").bindparams(phrase=phrase))
        conditions.insert(0, Customer.id.in_(found))
    return conditions


def find_customers(text: str, limit: int = 8) -> list[Customer]:
    """The first ``limit`` customers (by number) whose number or name holds ``text``, ignoring case
    and accents, as the list's search finds them (along the trigram index: a pick-list at a
    million customers must not read them all)."""
    term = fold(text)
    if not term:
        return []
    return list(db.session.scalars(sa.select(Customer).where(*search_filter(term)).order_by(Customer.customer_no)
                                   .limit(limit)))


def class_sizes(run: SegmentationRun | None) -> dict[tuple[str, object], int] | None:
    """How many of the run's customers hold each class: {(column, class): n}, read from the
    combinations the run keeps (:mod:`app.segments.counts`); None for a run without them."""
    kept = (run.summary or {}).get("combinations") if run is not None else None
    if kept is None:
        return None
    sizes: dict[tuple[str, object], int] = {}
    for entry in kept:
        for column, value in zip(COMBINATION_COLUMNS, entry[:-1]):
            if value is not None:
                sizes[(column, value)] = sizes.get((column, value), 0) + entry[-1]
    return sizes


class BadCursor(ValueError):
    """A page link whose cursor this list cannot read (edited, truncated, or of another sort)."""


@dataclass(frozen=True)
class Total:
    """How many customers a list holds: ``n``, or more than ``n`` when ``more`` (a capped count)."""

    n: int
    more: bool = False


@dataclass
class Window:
    """One page of the list: its rows, whether rows come before and after it, and the
    cursors of its first and last row (for the Previous and Next links)."""

    rows: list
    has_before: bool
    has_after: bool
    first: str | None
    last: str | None


@dataclass
class Listing:
    """The customers a list request asks for, in the list's order, and pages of them.

    The order is the sort key (empty keys last), then a tie-break in the same direction:
    the customer's id for a run's column, the customer number for the customer's own
    columns. A page is read by *keyset*: the rows after (or before) a cursor, i.e. the key
    and tie-break of a row, along the index of the sort (``ix_customer_segments_run_<key>``
    on (run, key, customer), ``ix_customers_name_customer_no``, the customer number's
    unique index), so page 20,000 costs what page 1 costs. Rows whose key is empty (a
    customer the run does not hold, or a figure the run left empty) form the list's tail,
    ordered by customer id.
    """

    query: sa.Select  # every row in the list's order (the export reads it)
    run: SegmentationRun | None
    active: dict
    q: str
    sort: str
    direction: str
    show_money: bool
    column: sa.ColumnElement  # the sort key
    base: sa.Select  # the rows, unordered
    classes: dict = field(default_factory=dict)  # the class filters: CustomerSegment column -> class
    searched: bool = False  # a search term narrows the list
    limited_by_condition: bool = False  # ``limited_to`` narrows it (e.g. to a finding's customers)
    limited_by: object | None = None  # the record ``limited_to`` came from (e.g. a finding), for the page

    @property
    def filtered(self) -> bool:
        """A class filter is set: customers outside the run cannot match."""
        return bool(self.classes)

    def total(self) -> Total:
        """How many customers the list holds.

        Without a search or a finding, from kept figures (:mod:`app.segments.counts`): the
        customer count and the run's counts per combination of classes, never a count over the
        table. A search or a finding's customers are counted up to :data:`COUNT_CAP` and beyond
        that said to be more (a search that matches a tenth of a million customers would
        otherwise count all of them on every keystroke)."""
        if not self.searched and not self.limited_by_condition:
            kept = self._kept_total()
            if kept is not None:
                return Total(kept)
            counting = sa.select(sa.func.count()).select_from(self.base.subquery())  # a run without its figures
            return Total(db.session.scalar(counting) or 0)
        found = db.session.scalar(sa.select(sa.func.count()).select_from(self.base.limit(COUNT_CAP + 1).subquery()))
        return Total(min(found or 0, COUNT_CAP), more=(found or 0) > COUNT_CAP)

    def _kept_total(self) -> int | None:
        """The list's count from the kept figures (None: the run keeps no combinations)."""
        if self.run is None:
            return 0 if self.classes else customer_total()
        held = held_total(self.run.summary, self.classes)
        if held is None or self.classes:
            return held
        return held + self._outside_count()

    def _outside_count(self) -> int:
        """How many customers the run does not hold (imported after it, or without values in its window)."""
        return max(0, customer_total() - (self.run.n_customers or 0)) if self.run is not None else customer_total()

    # ---------------------------------------------------------------- the order's parts

    @property
    def _of_run(self) -> bool:
        return self.column.class_ is CustomerSegment

    @property
    def _tie(self) -> sa.ColumnElement:
        return CustomerSegment.customer_id if self._of_run else Customer.customer_no

    def _keyed(self, cursor, forward: bool, limit: int) -> list:
        """Rows with a key, after (forward) or before the cursor's (value, tie), nearest first."""
        query = self.base.where(self.column.is_not(None)) if self._of_run else self.base
        ascending = (self.direction == "asc") == forward
        if cursor is not None:
            row, bound = sa.tuple_(self.column, self._tie), sa.tuple_(sa.literal(cursor[0]), sa.literal(cursor[1]))
            query = query.where(row > bound if ascending else row < bound)
        order = (self.column.asc(), self._tie.asc()) if ascending else (self.column.desc(), self._tie.desc())
        return db.session.execute(query.order_by(*order).limit(limit)).all()

    def _unkeyed(self, after_id, forward: bool, limit: int) -> list:
        """Rows without a key (a run's column only), after or before customer ``after_id``, nearest first.

        Two index-served parts merged by id: the run's rows whose figure is empty, and the
        customers the run does not hold (only looked for when there can be any)."""
        if not self._of_run:
            return []
        ascending = (self.direction == "asc") == forward

        def part(query, number):
            seek = [] if after_id is None else [number > after_id if ascending else number < after_id]
            ordered = query.where(*seek).order_by(number.asc() if ascending else number.desc())
            return db.session.execute(ordered.limit(limit)).all()

        rows = part(self.base.where(CustomerSegment.customer_id.is_not(None), self.column.is_(None)),
                    CustomerSegment.customer_id)
        if self.run is None or (not self.filtered and self._outside_count() > 0):
            rows += part(self.base.where(CustomerSegment.customer_id.is_(None)), Customer.id)
            rows.sort(key=lambda row: row[0].id, reverse=not ascending)
        return rows[:limit]

    def _cursor(self, row) -> str:
        """The cursor of ``row``: where a page after or before it starts."""
        customer, segment = row[0], row[1]  # (further columns: e.g. the later run's row of a transition)
        if self._of_run:
            value = None if segment is None else getattr(segment, self.column.key)
        else:
            value = getattr(customer, self.column.key)
        if value is None:
            return encode_cursor([self.sort, self.direction, "u", None, customer.id])
        tie = segment.customer_id if self._of_run else customer.customer_no
        return encode_cursor([self.sort, self.direction, "k", value, tie])

    def _read(self, token: str) -> tuple[str, object, object]:
        """``(part, value, tie)`` of a cursor made by :meth:`_cursor` for this sort, else :class:`BadCursor`."""
        parts = decode_cursor(token)
        if len(parts) != 5 or parts[:2] != [self.sort, self.direction] or parts[2] not in ("k", "u"):
            raise BadCursor(token)
        part, value, tie = parts[2:]
        if part == "u":
            if value is not None or not self._of_run or not _is_id(tie):
                raise BadCursor(token)
            return part, None, tie
        if isinstance(self.column.type, sa.Float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            value = float(value) if ok else None
        else:
            ok = isinstance(value, str) and len(value) <= 600
        tie_ok = _is_id(tie) if self._of_run else isinstance(tie, str) and len(tie) <= 64
        if not ok or not tie_ok:
            raise BadCursor(token)
        return part, value, tie

    # ---------------------------------------------------------------- pages

    def window(self, size: int, after: str | None = None, before: str | None = None, last: bool = False) -> Window:
        """The page of ``size`` rows after the cursor ``after``, before the cursor ``before``,
        the last page (``last``), or else the first; :class:`BadCursor` for a cursor it cannot read."""
        forward = before is None and not last
        token = after if forward else before
        if db.session.get_bind().dialect.name == "postgresql":
            # A page is a walk along one index that stops after size + 1 rows: parallel workers
            # only add their start-up (a search at a million customers: 69 ms with two, 22 without).
            db.session.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))
        part, value, tie = self._read(token) if token else (None, None, None)
        want = size + 1  # one more tells whether there is a further page
        if forward:
            rows = [] if part == "u" else self._keyed(None if part is None else (value, tie), True, want)
            if len(rows) < want:
                rows += self._unkeyed(tie if part == "u" else None, True, want - len(rows))
        else:
            rows = self._unkeyed(tie, False, want) if part in (None, "u") else []
            if len(rows) < want:
                rows += self._keyed(None if part in (None, "u") else (value, tie), False, want - len(rows))
        further = len(rows) > size
        rows = rows[:size]
        if not forward:
            rows.reverse()
        has_before, has_after = (bool(token), further) if forward else (further, bool(token))
        return Window(rows, has_before, has_after, self._cursor(rows[0]) if rows else None,
                      self._cursor(rows[-1]) if rows else None)

    @property
    def params(self) -> dict:
        """The request arguments that reproduce this list (for pages, sort links and the export)."""
        return {**self.active, **({"q": self.q} if self.q else {}), "sort": self.sort, "dir": self.direction}


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


def encode_cursor(parts: list) -> str:
    """A cursor for the URL: the JSON of its parts, base64url without padding."""
    return base64.urlsafe_b64encode(json.dumps(parts, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(token: str) -> list:
    """The parts of a cursor made by :func:`encode_cursor`; :class:`BadCursor` for anything else."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_CURSOR:
        raise BadCursor(token)
    try:
        parts = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    except (ValueError, UnicodeDecodeError) as error:  # binascii.Error is a ValueError
        raise BadCursor(token) from error
    if not isinstance(parts, list):
        raise BadCursor(token)
    return parts



def may_see_money() -> bool:
    """Revenue, contribution and potential are for managers and leadership; service staff see classes only."""
    return has_role("manager", "leadership")


def customer_listing(args, run: SegmentationRun | None = None,
                     limited_to: tuple[str, str, sa.ColumnElement] | None = None,
                     show_money: bool | None = None) -> Listing:
    """The filtered, searched and sorted customers of ``run`` (default: the latest), as the list,
    its export and the HTTP API show them. ``limited_to`` = (argument, value, condition on
    ``Customer``/``CustomerSegment``) narrows the list further, e.g. to a finding's penalised customers.
    ``show_money``: whether the money columns are shown (default: the signed-in user's right)."""
    show_money = may_see_money() if show_money is None else show_money
    run = run if run is not None else latest_run()
    query = sa.select(Customer, CustomerSegment)
    if run is not None:
        query = query.outerjoin(CustomerSegment, sa.and_(CustomerSegment.customer_id == Customer.id,
                                                         CustomerSegment.run_id == run.id))
    else:
        query = query.outerjoin(CustomerSegment, sa.false())
    active, classes = {}, {}
    for name, (column, keys) in FILTERS.items():
        value = args.get(name, "")
        if value in keys:
            classes[column] = value
            active[name] = value
    if args.get("burr") in ("1", "yes"):
        classes["burr"] = True
        active["burr"] = "1"
    query = query.where(*(getattr(CustomerSegment, column).is_(True) if value is True
                          else getattr(CustomerSegment, column) == value for column, value in classes.items()))
    if limited_to is not None:
        name, value, condition = limited_to
        query = query.where(condition)
        active[name] = value
    q = (args.get("q") or "").strip()[:100]
    term = fold(q)
    if term:
        query = query.where(*search_filter(term))
    sort = args.get("sort", "revenue" if show_money else "customer_no")
    if sort not in SORTS or (SORTS[sort][1] and not show_money):
        sort = "customer_no"
    direction = "asc" if args.get("dir") == "asc" else "desc" if args.get("dir") == "desc" else (
        "desc" if SORTS[sort][1] else "asc")
    column = SORTS[sort][0]
    # The whole list in the order its pages have (see Listing): key, then the tie-break.
    if column.class_ is Customer:
        order = (column, Customer.customer_no)
        ordered = query.order_by(*(c.desc() if direction == "desc" else c.asc() for c in order))
    else:
        ordered = query.order_by((column.desc() if direction == "desc" else column.asc()).nulls_last(),
                                 Customer.id.desc() if direction == "desc" else Customer.id.asc())
    return Listing(ordered, run, active, q, sort, direction, show_money, column, query, classes, bool(term),
                   limited_to is not None)


def run_class_listing(run: SegmentationRun, column: str, key: str | None, params: dict,
                      then: SegmentationRun | None = None, to: object = "") -> Listing:
    """The customers of run ``run`` whose ``column`` holds ``key`` (None: no class), by revenue,
    highest first, in keyset pages; with ``then``: those whose class in run ``then`` is ``to``
    (None: none), each row carrying that run's segment too. ``params``: the request arguments
    that name this list (for its page links). Counted from the run's kept class counts (a
    transition: up to :data:`COUNT_CAP`; its page counts it exactly)."""
    def holds(attribute, value):
        return attribute.is_(None) if value is None else attribute == value

    query = sa.select(Customer, CustomerSegment).join(CustomerSegment, sa.and_(
        CustomerSegment.customer_id == Customer.id, CustomerSegment.run_id == run.id)).where(
        holds(getattr(CustomerSegment, column), key))
    if then is not None:
        later = sa.orm.aliased(CustomerSegment)
        query = query.add_columns(later).join(later, sa.and_(later.customer_id == Customer.id,
                                                             later.run_id == then.id)).where(
            holds(getattr(later, column), to))
    else:
        query = query.add_columns(sa.null())
    ordered = query.order_by(CustomerSegment.revenue.desc().nulls_last(), CustomerSegment.customer_id.desc())
    return Listing(ordered, run, dict(params), "", "revenue", "desc", True, CustomerSegment.revenue, query,
                   classes={column: key}, limited_by_condition=then is not None)
