"""After-sales writes a second way in (the HTTP API) makes exactly as the import page does: a
batch of outcomes is read as the rows of a file, checked with the import's rules
(:func:`app.aftersales.importing.check_outcome_table`) and written by the import, all or nothing,
with an import log under the sender's id in the same transaction."""
from __future__ import annotations

import datetime as dt

from app.aftersales.importing import COLUMNS, OutcomeImport, check_outcome_table, write_outcomes
from app.extensions import db
from app.segments.models import ImportLog
from app.web.bulk import ImportCollision, write_once_more_on_collision
from tabular import records_table

__all__ = ["BATCH_KIND", "OUTCOME_COLUMNS", "ImportCollision", "OutcomeImport", "check_outcome_batch",
           "store_outcome_batch"]

BATCH_KIND = "aftersales"
OUTCOME_COLUMNS = tuple(COLUMNS)  # customer_id, date, sale_satisfaction, after_sales_satisfaction, repurchased


def check_outcome_batch(records: list[dict], today: dt.date | None = None) -> OutcomeImport:
    """The batch's records (keys of :data:`OUTCOME_COLUMNS`) checked as the rows of an uploaded
    file; a problem's row minus 2 is the record's index. Reads only."""
    checked = check_outcome_table(records_table(records, OUTCOME_COLUMNS), today)
    db.session.rollback()  # only read: end the transaction the comparison opened
    return checked


def store_outcome_batch(records: list[dict], user_id: int | None, external_id: str,
                        sha256: str) -> tuple[OutcomeImport, dict | None]:
    """Check the batch again and write it with its import log, committed (all or nothing); the
    counts, or None when it has problems. :class:`ImportCollision` after two collisions."""
    table = records_table(records, OUTCOME_COLUMNS)

    def write(checked: OutcomeImport) -> dict:
        counts = write_outcomes(checked, user_id)
        dates = checked.rows["outcome_date"]
        db.session.add(ImportLog(kind=BATCH_KIND, filename=f"api:{external_id}", sha256=sha256,
                                 created_by_id=user_id, rows=len(checked.rows), values_new=counts["new"],
                                 values_changed=counts["changed"], external_id=external_id,
                                 first_period=dates.min().strftime("%Y-%m"), last_period=dates.max().strftime("%Y-%m")))
        return counts

    return write_once_more_on_collision(lambda: check_outcome_table(table), lambda checked: checked.ok, write)
